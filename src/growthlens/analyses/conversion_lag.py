"""Conversion lag: days from a buyer's first visit to their first order (docs/metrics.md, Sales).

The engine's buyers per cohort and lag come from growthlens.metrics.conversion; this
module summarises, words and draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import check_dimension, session_dimensions
from growthlens.derive.periods import UNKNOWN, Period, check_period
from growthlens.metrics.conversion import bucket_table, lag_cells, lag_distribution
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of

SUMMARY: SummarySpec = {
    "buyers": ("count", "Buyers"),
    "share_0d": ("share", "Buy on the day of the first visit"),
    "share_30d_plus": ("share", "Take more than 30 days"),
    "median_lag_days": ("days", "Median conversion lag"),
    "mean_lag_days": ("days", "Mean conversion lag"),
    "buyers_without_session": ("count", "Buyers without a session"),
    "negative_lag_buyers": ("count", "Buyers who ordered before their first visit"),
}
NO_SESSIONS = (
    "Conversion lag needs sessions (the first visit); this dataset has orders but no sessions."
)


@dataclass(frozen=True)
class Params:
    """Resolved options: the acquiring session's dimension to split by and the cohort period."""

    by: str | None
    period: Period


@dataclass(frozen=True)
class Frames:
    """What the engine returned, as tables.

    Attributes:
        cells: buyers per cohort [× by] and lag (see growthlens.metrics.conversion).
        distribution: buyers and share per lag in days.
        tables: buyers and share per bucket: ``buckets``, ``by_cohort`` and ``by_<by>``.
    """

    cells: pd.DataFrame
    distribution: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]


def conversion_lag(ds: Dataset, *, by: str | None = None, period: Period | None = None) -> Result:
    """Conversion lag in days = date of first order − date of first visit, per buyer.

    Shares are over all buyers; buyers without a session form the ``(no session)`` bucket
    (they have no lag), so bucket shares add up to 1. ``by`` (default ``source`` when the
    sessions have one) splits buyers by their acquiring session's dimension.

    Raises:
        MissingTableError: the dataset has no sessions (or no orders).
    """
    return CONVERSION_LAG.run(ds, by=by, period=period)


def _params(ds: Dataset, *, by: str | None, period: Period | None) -> Params:
    period = check_period(period or ds.settings.period)
    dims = session_dimensions(ds)
    if by is None and "source" in dims:
        by = "source"
    check_dimension(ds, by)
    return Params(by=by, period=period)


def _compute(ds: Dataset, p: Params) -> Frames:
    keys = [p.by] if p.by else []
    cells = lag_cells(ds, period=p.period, by=p.by)
    total = int(cells["buyers"].sum())
    tables = {
        "buckets": bucket_table(cells, [], total),
        "by_cohort": bucket_table(cells, ["cohort"], None),
    }
    if keys:
        tables["by_" + keys[0]] = bucket_table(cells, keys, None)
    return Frames(cells, lag_distribution(cells, total), tables)


def _explain(frames: Frames, p: Params) -> Result:
    cells, tables, by = frames.cells, dict(frames.tables), p.by
    buckets = tables["buckets"]
    total = int(cells["buyers"].sum())
    with_lag = cells.dropna(subset=["lag_days"])
    n_lag = int(with_lag["buyers"].sum())
    mean = float((with_lag["lag_days"] * with_lag["buyers"]).sum() / n_lag) if n_lag else math.nan
    median = _weighted_median(with_lag["lag_days"].to_numpy(), with_lag["buyers"].to_numpy())
    share = dict(zip(buckets["bucket"], buckets["share"], strict=True))
    count = dict(zip(buckets["bucket"], buckets["buyers"], strict=True))
    summary: dict[str, SummaryValue] = {
        "buyers": total,
        "share_0d": share["0d"],
        "share_30d_plus": share["30d+"],
        "median_lag_days": median,
        "mean_lag_days": mean,
        "buyers_without_session": int(count["(no session)"]),
        "negative_lag_buyers": int(count["negative"]),
    }
    findings: list[Finding] = []
    status: Status = "ok"
    reason = ""
    if not total:
        status, reason = (
            "not_enough_data",
            "No order in the data window, so there is no buyer to measure.",
        )
        findings.append(Finding("no_buyers", reason, "warning"))
    elif not n_lag:
        who = "The only buyer has no" if total == 1 else f"None of the {total:,} buyers has a"
        status = "not_enough_data"
        reason = (
            f"{who} recorded visit, so the time from first visit to first order cannot be measured."
        )
        findings.append(Finding("no_buyer_visits", reason, "warning", {"buyers": total}))
    else:
        findings.append(
            Finding(
                "lag_mix",
                f"{share['0d']:.0%} of buyers buy on the day of their first visit; "
                f"{share['30d+']:.0%} take more than 30 days (median {median:.0f} days, "
                f"mean {mean:.1f} days).",
                numbers={
                    "share_0d": share["0d"],
                    "share_30d_plus": share["30d+"],
                    "median_lag_days": median,
                    "mean_lag_days": mean,
                },
            )
        )
    if count["negative"]:
        findings.append(
            Finding(
                "negative_lag",
                f"{count_of(int(count['negative']), 'buyer')} ordered before their first recorded "
                "visit (negative lag; kept in the distribution, see Data quality).",
                "warning",
                {"buyers": int(count["negative"])},
            )
        )
    if count["(no session)"]:
        findings.append(
            Finding(
                "buyers_without_session",
                f"{count_of(int(count['(no session)']), 'buyer')} without a session, so no "
                f"conversion lag ({share['(no session)']:.1%} of buyers).",
                "warning",
                {"buyers": int(count["(no session)"]), "share": share["(no session)"]},
            )
        )
    if by is not None:
        findings.extend(_spread(tables["by_" + by], by))
    figures = [
        FigureSpec(
            kind="bar",
            x="bucket",
            y="share",
            table="buckets",
            title="Conversion lag: share of buyers",
            labels={"bucket": "Days from first visit to first order", "share": "Share of buyers"},
            value_format=".1%",
        ),
        FigureSpec(
            kind="bar",
            x="lag_days",
            y="buyers",
            title="Conversion lag distribution",
            labels={"lag_days": "Days from first visit to first order", "buyers": "Buyers"},
            value_format=",.0f",
        ),
    ]
    if by is not None:
        figures.append(
            FigureSpec(
                kind="stacked_bar",
                x=by,
                y="share",
                color="bucket",
                table="by_" + by,
                title=f"Conversion lag by {by}",
                labels={
                    by: by.capitalize(),
                    "share": "Share of buyers",
                    "bucket": "Lag",
                    "buyers": "buyers",
                },
                value_format=".1%",
                rank="buyers",
            )
        )
    return Result(
        name="conversion_lag",
        title="Conversion lag",
        table=frames.distribution,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        params=params_dict(p),
        status=status,
        status_reason=reason,
        figures=tuple(figures),
        notes=(
            "Lag = calendar date of the first order − calendar date of the first visit "
            "(0d = same day). Shares are over all buyers; buyers without a session are "
            "'(no session)'.",
        ),
    )


def _spread(per: pd.DataFrame, by: str) -> list[Finding]:
    """Which value of ``by`` buys on the first day most and least, when they differ."""
    zero = per[(per["bucket"] == "0d") & (per[by] != UNKNOWN)].dropna(subset=["share"])
    if zero["share"].nunique() <= 1:  # a spread to speak of, not one value everywhere
        return []
    ranked = zero.sort_values("share")
    fast, slow = ranked.iloc[-1], ranked.iloc[0]
    return [
        Finding(
            "same_day_spread",
            f"Same-day buying is most common for {by} {fast[by]} ({fast['share']:.0%}) "
            f"and least for {by} {slow[by]} ({slow['share']:.0%}).",
            numbers={
                "fastest": str(fast[by]),
                "fastest_share_0d": float(fast["share"]),
                "slowest": str(slow[by]),
                "slowest_share_0d": float(slow["share"]),
            },
        )
    ]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of values repeated ``weights`` times (the mean of the two middle ones if even)."""
    if weights.sum() == 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cum = np.cumsum(weights)
    n = int(cum[-1])
    lo = values[np.searchsorted(cum, (n - 1) // 2 + 1)]
    hi = values[np.searchsorted(cum, n // 2 + 1)]
    return float((lo + hi) / 2)


def _plan(ds: Dataset) -> Plan:
    """Once, by the dataset's period; said why not when there are orders but no sessions."""
    if not ds.has("sessions") and ds.has("orders"):
        return Plan(runs=(), skipped=(NO_SESSIONS,))
    return Plan(runs=({"period": ds.settings.period},))


CONVERSION_LAG = register(
    Analysis(
        name="conversion_lag",
        title="Conversion lag",
        group="sales",
        needs=("sessions", "orders"),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    conversion_lag,
)
