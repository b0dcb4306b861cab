"""Conversion lag: days from a buyer's first visit to their first order (docs/metrics.md, Sales)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyers, session_dimensions
from growthlens.derive.periods import UNKNOWN, Period, check_period, dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
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

BUCKETS = ("negative", "0d", "1d", "2–7d", "8–30d", "30d+", "(no session)")


def bucket(lag: float) -> str:
    """The lag bucket of a lag in days (NaN = the buyer has no session).

    >>> [bucket(x) for x in (-2, 0, 1, 7, 8, 30, 31, float("nan"))]
    ['negative', '0d', '1d', '2–7d', '8–30d', '8–30d', '30d+', '(no session)']
    """
    if lag is None or (isinstance(lag, float) and math.isnan(lag)):
        return "(no session)"
    if lag < 0:
        return "negative"
    if lag == 0:
        return "0d"
    if lag == 1:
        return "1d"
    if lag <= 7:
        return "2–7d"
    if lag <= 30:
        return "8–30d"
    return "30d+"


SUMMARY: SummarySpec = {
    "buyers": ("count", "Buyers"),
    "share_0d": ("share", "Buy on the day of the first visit"),
    "share_30d_plus": ("share", "Take more than 30 days"),
    "median_lag_days": ("days", "Median conversion lag"),
    "mean_lag_days": ("days", "Mean conversion lag"),
    "buyers_without_session": ("count", "Buyers without a session"),
    "negative_lag_buyers": ("count", "Buyers who ordered before their first visit"),
}


def conversion_lag(ds: Dataset, *, by: str | None = None, period: Period | None = None) -> Result:
    """Conversion lag in days = date of first order − date of first visit, per buyer.

    Shares are over all buyers; buyers without a session form the ``(no session)`` bucket
    (they have no lag), so bucket shares add up to 1. ``by`` (default ``source`` when the
    sessions have one) splits buyers by their acquiring session's dimension.

    Raises:
        MissingTableError: the dataset has no sessions (or no orders).
    """
    ds.require("sessions", "orders")
    period = check_period(period or ds.settings.period)
    dims = session_dimensions(ds)
    if by is None and "source" in dims:
        by = "source"
    if by is not None and by not in dims:
        raise ConfigError(
            f"cannot break down by {by!r}: not a session dimension (dimensions: {', '.join(dims)})"
        )
    keys = [by] if by else []
    b = buyers(ds, period=period)
    lag = b.first_order_ts.date().delta(b.first_visit_ts.date(), unit="day")
    cells = fetch(
        b.group_by([b.cohort, *[b[k] for k in keys], lag.name("lag_days")]).aggregate(
            buyers=b.count()
        )
    )
    cells["cohort"] = dates(cells["cohort"])
    cells["lag_days"] = cells["lag_days"].astype("float64")
    # Typed text even when empty (no buyer): an empty list would make a float column.
    cells["bucket"] = pd.Series(
        [bucket(v) for v in cells["lag_days"]], index=cells.index, dtype="str"
    )
    total = int(cells["buyers"].sum())

    dist = cells.dropna(subset=["lag_days"]).groupby("lag_days")["buyers"].sum().reset_index()
    dist["lag_days"] = dist["lag_days"].astype("int64")
    dist["share"] = dist["buyers"] / total
    dist = dist.sort_values("lag_days").reset_index(drop=True)

    buckets = _bucket_table(cells, [], total)
    by_cohort = _bucket_table(cells, ["cohort"], None)
    tables: dict[str, pd.DataFrame] = {"buckets": buckets, "by_cohort": by_cohort}
    if keys:
        tables["by_" + by] = _bucket_table(cells, keys, None)  # type: ignore[operator]

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
        per = tables["by_" + by]
        zero = per[(per["bucket"] == "0d") & (per[by] != UNKNOWN)].dropna(subset=["share"])
        if zero["share"].nunique() > 1:  # a spread to speak of, not one value everywhere
            ranked = zero.sort_values("share")
            fast, slow = ranked.iloc[-1], ranked.iloc[0]
            findings.append(
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
            )
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
    if keys:
        figures.append(
            FigureSpec(
                kind="stacked_bar",
                x=by,  # type: ignore[arg-type]
                y="share",
                color="bucket",
                table="by_" + by,  # type: ignore[operator]
                title=f"Conversion lag by {by}",
                labels={by: by.capitalize(), "share": "Share of buyers", "bucket": "Lag"},  # type: ignore[union-attr,dict-item]
                value_format=".1%",
            )
        )
    return Result(
        name="conversion_lag",
        title="Conversion lag",
        table=dist,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        params={"by": by, "period": period},
        status=status,
        status_reason=reason,
        figures=tuple(figures),
        notes=(
            "Lag = calendar date of the first order − calendar date of the first visit "
            "(0d = same day). Shares are over all buyers; buyers without a session are "
            "'(no session)'.",
        ),
    )


def _bucket_table(cells: pd.DataFrame, keys: list[str], total: int | None) -> pd.DataFrame:
    """Buyers and share per bucket (every bucket present, in order) per ``keys`` group."""
    counts = cells.groupby([*keys, "bucket"], as_index=False)["buyers"].sum()
    if keys:
        groups = counts[keys].drop_duplicates()
        grid = groups.merge(pd.DataFrame({"bucket": BUCKETS}), how="cross")
    else:
        grid = pd.DataFrame({"bucket": BUCKETS})
    out = grid.merge(counts, on=[*keys, "bucket"], how="left")
    out["buyers"] = out["buyers"].fillna(0).astype("int64")
    denominator = (
        out.groupby(keys)["buyers"].transform("sum")
        if keys
        else pd.Series(total or out["buyers"].sum(), index=out.index)
    )
    out["share"] = out["buyers"] / denominator.where(denominator > 0)
    order = {name: i for i, name in enumerate(BUCKETS)}
    out["_order"] = out["bucket"].map(order)
    ordered: pd.DataFrame = out.sort_values([*keys, "_order"]).drop(columns="_order")
    return ordered.reset_index(drop=True)


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
