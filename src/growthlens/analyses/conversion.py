"""Visitor → buyer conversion: overall, by segment and by cohort (docs/metrics.md, Sales).

The engine's visitors and buyers per cohort and per segment come from
growthlens.metrics.visitor_conversion; this module adds the intervals and tests, words and
draws them. Options, the stages and the report plan are registered once at the bottom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import check_dimension, session_dimensions
from growthlens.derive.periods import UNKNOWN, Period, cell_complete, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.visitor_conversion import buyers_without_session, visitor_counts
from growthlens.result import (
    Entry,
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.stats.multiple import holm
from growthlens.stats.proportions import difference, wilson
from growthlens.text import count_of, listing, period_label, share_text

DEFAULT_BY: tuple[str, ...] = ("source", "device")
MIN_USERS = 30
"""Fewest visitors a segment needs to be named best or worst (smaller ones are noise)."""
ALPHA = 0.05
METHOD = "Wilson 95%"
SUMMARY: SummarySpec = {
    "users": ("count", "Visitors"),
    "buyers": ("count", "Visitors who bought"),
    "conversion": ("share", "Visitor → buyer conversion"),
    "ordered_before_visit": ("count", "Buyers whose first order precedes their first visit"),
    "buyers_without_session": ("count", "Buyers without a session (not visitors)"),
    "horizon": ("count", "Horizon (periods) for a complete cohort"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: cohort period, the dimensions to split by, the horizon N."""

    period: Period
    by: tuple[str, ...]
    horizon: int
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frames:
    """What the engine returned: counts overall, per cohort and per segment.

    Attributes:
        overall: one row of counts (see visitor_counts).
        cohorts: counts per cohort (period of the first session).
        segments: counts per value of each ``by`` dimension.
        lonely: users with orders but no session (see buyers_without_session).
        window: the data window.
    """

    overall: pd.DataFrame
    cohorts: pd.DataFrame
    segments: Mapping[str, pd.DataFrame]
    lonely: pd.DataFrame
    window: tuple[object, object]


def conversion(
    ds: Dataset,
    *,
    period: Period | None = None,
    by: Sequence[str] = DEFAULT_BY,
) -> Result:
    """Visitor → buyer conversion: overall, per segment and per cohort, with intervals.

    Definitions (docs/metrics.md, "Visitor conversion"): a visitor is a user with a
    session in the window; conversion = visitors with at least one order in the window ÷
    visitors. An order before the first session still makes the visitor a buyer (the
    finding ``ordered_before_visit`` counts them); users with orders but no session are
    not visitors and are left out of every rate (finding ``buyers_without_session``). A
    visitor's segment is the value on their first session (``(unknown)`` when null, so
    segments add up to the total), their cohort the period of that session. Every rate
    has a Wilson 95% interval (``conversion_low``, ``conversion_high``).

    Younger cohorts have had less time to buy, so they read lower: a cohort is
    ``complete`` when it has been observed for N whole periods (N = the ``horizon``
    setting: its cell at age N − 1 lies wholly inside the window, as for LTV).

    Each segment is tested against the rest of the visitors (pooled two-proportion z
    test); ``p_value`` is Holm-adjusted over the segments of that dimension and
    ``vs_rest`` says ``higher``, ``lower`` or ``no difference`` at 5%. The best and worst
    segment (among those with at least 30 visitors) are called apart only when their
    intervals do not overlap.

    Args:
        ds: a Dataset with sessions and orders.
        period: cohort period: ``day``, ``week`` or ``month`` (default: the ``period``
            setting).
        by: session dimensions to split by (``()`` for none). With the default
            ``("source", "device")`` the dimensions the sessions lack are skipped (a
            note says so); a dimension named explicitly that the sessions lack is a
            ConfigError.

    Returns:
        Result whose main table is per cohort: ``cohort``, ``users``, ``buyers``,
        ``conversion``, ``conversion_low``, ``conversion_high``, ``complete``; tables
        ``by_<dimension>``: ``<dimension>``, ``users``, ``buyers``, ``conversion``,
        ``conversion_low``, ``conversion_high``, ``share_of_users``, ``p_value``,
        ``vs_rest``. Summary ``conversion`` carries its interval.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> s = pd.DataFrame({"user_id": [1, 2, 3, 4], "source": ["a", "a", "b", "b"],
        ...     "start_ts": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03",
        ...                                 "2020-01-04"])})
        >>> o = pd.DataFrame({"user_id": [1, 3], "revenue": [5.0, 7.0],
        ...     "ts": pd.to_datetime(["2020-01-05", "2020-01-06"])})
        >>> r = conversion(gl.load(sessions=s, orders=o, window=("2020-01-01", "2020-01-31")))
        >>> r.summary["conversion"].value, r.tables["by_source"]["conversion"].tolist()
        (0.5, [0.5, 0.5])
    """
    return CONVERSION.run(ds, period=period, by=by)


def _params(ds: Dataset, *, period: Period | None, by: Sequence[str]) -> Params:
    if isinstance(by, str):
        by = (by,)
    chosen = tuple(dict.fromkeys(by))
    absent: tuple[str, ...] = ()
    if chosen == DEFAULT_BY:
        dims = session_dimensions(ds)
        absent = tuple(d for d in chosen if d not in dims)
        chosen = tuple(d for d in chosen if d in dims)
    for name in chosen:
        if not isinstance(name, str):
            raise ConfigError(f"by must be session column names; got {name!r}")
        check_dimension(ds, name)
    return Params(
        period=check_period(period or ds.settings.period),
        by=chosen,
        horizon=ds.settings.horizon,
        absent=absent,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("conversion needs a data window; set window = [start, end]")
    return Frames(
        overall=visitor_counts(ds, period=p.period, group=None),
        cohorts=visitor_counts(ds, period=p.period, group="cohort"),
        segments={d: visitor_counts(ds, period=p.period, group=d) for d in p.by},
        lonely=buyers_without_session(ds),
        window=window,
    )


def rates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``conversion`` = buyers ÷ users and its Wilson 95% interval.

    >>> rates(pd.DataFrame({"users": [20, 0], "buyers": [8, 0]}))["conversion"].tolist()
    [0.4, nan]
    """
    out = frame.copy()
    users = out["users"].astype(float)
    out["conversion"] = out["buyers"].astype(float).where(users > 0) / users.where(users > 0)
    low, high = wilson(out["buyers"].to_numpy(), out["users"].to_numpy())
    out["conversion_low"], out["conversion_high"] = low, high
    return out


def versus_rest(frame: pd.DataFrame) -> pd.DataFrame:
    """Each segment against all other visitors: Holm-adjusted ``p_value`` and ``vs_rest``.

    The pooled two-proportion z test of segment vs rest, Holm over the segments (those
    whose test is defined). ``vs_rest``: ``higher`` / ``lower`` when the adjusted p-value
    is below 5%, else ``no difference``; ``not tested`` when undefined (no visitor on one
    side, or no buyer or non-buyer at all).

    >>> f = pd.DataFrame({"users": [1000, 1000, 1000], "buyers": [100, 100, 40]})
    >>> versus_rest(f)["vs_rest"].tolist()
    ['higher', 'higher', 'lower']
    """
    out = frame.copy()
    users, buyers = out["users"].to_numpy(float), out["buyers"].to_numpy(float)
    test = difference(buyers, users, buyers.sum() - buyers, users.sum() - users)
    raw = np.asarray(test.p_value, dtype=float)
    adjusted = np.full(len(raw), np.nan)
    defined = np.isfinite(raw)
    if defined.any():
        adjusted[defined] = holm(raw[defined])
    out["p_value"] = adjusted
    out["vs_rest"] = [
        "not tested"
        if not math.isfinite(p)
        else ("no difference" if p >= ALPHA else ("higher" if d > 0 else "lower"))
        for p, d in zip(adjusted, np.asarray(test.difference, dtype=float), strict=True)
    ]
    return out


@dataclass(frozen=True)
class Estimates:
    """Rates with intervals: overall (one row), per cohort and per segment."""

    overall: pd.DataFrame
    cohorts: pd.DataFrame
    segments: Mapping[str, pd.DataFrame]
    lonely: pd.DataFrame


def _infer(frames: Frames, p: Params) -> Estimates:
    window = frames.window
    cohorts = rates(frames.cohorts)
    cohorts["complete"] = [
        cell_complete(pd.Timestamp(c).date(), p.horizon - 1, p.period, window)  # type: ignore[arg-type]
        for c in cohorts["cohort"]
    ]
    cohorts["complete"] = cohorts["complete"].astype(bool)
    total = int(frames.overall["users"].sum())
    segments: dict[str, pd.DataFrame] = {}
    for name, frame in frames.segments.items():
        seg = versus_rest(rates(frame))
        seg["share_of_users"] = seg["users"] / total if total else math.nan
        # Largest segment first; (unknown) last, so the bars read from the main segments.
        seg["_unknown"] = seg[name] == UNKNOWN
        seg = seg.sort_values(["_unknown", "users", name], ascending=[True, False, True])
        segments[name] = seg[
            [
                name,
                "users",
                "buyers",
                "conversion",
                "conversion_low",
                "conversion_high",
                "share_of_users",
                "p_value",
                "vs_rest",
            ]
        ].reset_index(drop=True)
    cohort_columns = [
        "cohort",
        "users",
        "buyers",
        "conversion",
        "conversion_low",
        "conversion_high",
        "complete",
    ]
    return Estimates(
        overall=rates(frames.overall),
        cohorts=cohorts[cohort_columns].reset_index(drop=True),
        segments=segments,
        lonely=frames.lonely,
    )


def _rate(row: pd.Series) -> str:
    """``4.1% (95% CI 3.8–4.4%)``."""
    return (
        f"{_pct(row['conversion'])} (95% CI {_pct(row['conversion_low'])}–"
        f"{_pct(row['conversion_high'])})"
    )


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:.1f}%"


def _explain(est: Estimates, p: Params) -> Result:
    overall = est.overall.iloc[0]
    users, buyers = int(overall["users"]), int(overall["buyers"])
    lonely = est.lonely.iloc[0]
    status: Status = "ok"
    reason = ""
    if not users:
        status = "not_enough_data"
        reason = "No session in the data window, so there is no visitor to convert."
    value = float(overall["conversion"])
    low, high = float(overall["conversion_low"]), float(overall["conversion_high"])
    summary: dict[str, SummaryValue | Entry] = {
        "users": users,
        "buyers": buyers,
        "conversion": Entry(
            value,
            "share",
            "Visitor → buyer conversion",
            low=low if users else None,
            high=high if users else None,
            method=METHOD if users else None,
        ),
        "ordered_before_visit": int(overall["ordered_before_visit"]),
        "buyers_without_session": int(lonely["buyers"]),
        "horizon": p.horizon,
    }
    findings = _findings(est, p, reason)
    tables = {f"by_{name}": frame for name, frame in est.segments.items()}
    figures = [
        FigureSpec(
            kind="line",
            x="cohort",
            y="conversion",
            band=("conversion_low", "conversion_high"),
            title="Visitor → buyer conversion by cohort (first visit)",
            subtitle="Shaded: Wilson 95% interval. Recent cohorts have had less time to buy.",
            labels={
                "cohort": f"Cohort ({p.period} of the first visit)",
                "conversion": "Conversion",
                "users": "Visitors",
            },
            value_format=".1%",
            hover=("users",),
        )
    ]
    for name in est.segments:
        label = name.replace("_", " ")
        figures.append(
            FigureSpec(
                kind="bar",
                x=name,
                y="conversion",
                table=f"by_{name}",
                band=("conversion_low", "conversion_high"),
                title=f"Visitor → buyer conversion by {label} (first visit)",
                subtitle="Error bars: Wilson 95% interval.",
                labels={name: label.capitalize(), "conversion": "Conversion", "users": "Visitors"},
                value_format=".1%",
                hover=("users",),
                rank="users",
            )
        )
    notes = [
        "Conversion = visitors (users with a session in the window) with at least one order "
        "in the window ÷ visitors; intervals are Wilson 95%.",
        "A visitor's segment and cohort come from their first session (source, device … on "
        "it; cohort = its period), as CAC attributes buyers by default.",
        f"Cohorts observed for fewer than {count_of(p.horizon, p.period)} (complete = False) "
        "have had less time to buy, so they read lower than older cohorts.",
        "Orders before the first session count (the visitor did buy); users with orders but "
        "no session are not visitors and are left out of every rate.",
        "Each segment is tested against the rest of the visitors (two-proportion z test, "
        "Holm-adjusted over the segments of its dimension).",
    ]
    if p.absent:
        notes.append(
            f"The sessions have no {listing(list(p.absent))} column, so there is no split by it."
        )
    return Result(
        name="conversion",
        title="Visitor → buyer conversion",
        table=est.cohorts,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        figures=tuple(figures),
        params=params_dict(p),
        status=status,
        status_reason=reason,
        notes=tuple(notes),
    )


def _findings(est: Estimates, p: Params, reason: str) -> list[Finding]:
    if reason:
        return [Finding("no_visitors", reason, "warning")]
    overall = est.overall.iloc[0]
    users, buyers = int(overall["users"]), int(overall["buyers"])
    findings = [
        Finding(
            "conversion",
            f"{count_of(buyers, 'visitor')} of {users:,} bought in the window: conversion "
            f"{_rate(overall)}.",
            numbers={
                "conversion": float(overall["conversion"]),
                "low": float(overall["conversion_low"]),
                "high": float(overall["conversion_high"]),
                "users": users,
                "buyers": buyers,
            },
        )
    ]
    for name, seg in est.segments.items():
        findings.extend(_segment_findings(name, seg))
    findings.extend(_cohort_findings(est.cohorts, p))
    before, only = int(overall["ordered_before_visit"]), int(overall["only_before_visit"])
    if before:
        findings.append(
            Finding(
                "ordered_before_visit",
                f"{count_of(before, 'buyer')} ({share_text(before / buyers)} of buyers) ordered "
                f"before their first session ({only:,} of them only before it): they count as "
                "buyers, though their first order did not follow a visit.",
                "warning",
                numbers={"buyers": before, "only_before": only},
            )
        )
    lonely = est.lonely.iloc[0]
    n = int(lonely["buyers"])
    if n:
        total = float(lonely["total_revenue"])
        share = float(lonely["revenue"]) / total if total > 0 else math.nan
        findings.append(
            Finding(
                "buyers_without_session",
                f"{count_of(n, 'user')} ordered without any session "
                f"({count_of(int(lonely['orders']), 'order')}, {share_text(share)} of revenue): "
                "they are not visitors, so no conversion rate includes them.",
                "warning",
                numbers={"buyers": n, "orders": int(lonely["orders"]), "revenue_share": share},
            )
        )
    return findings


def _segment_findings(name: str, seg: pd.DataFrame) -> list[Finding]:
    label = name.replace("_", " ")
    ranked = seg[(seg["users"] >= MIN_USERS) & (seg[name] != UNKNOWN)].sort_values(
        ["conversion", name], ascending=[False, True]
    )
    out: list[Finding] = []
    if len(ranked) >= 2:
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        apart = float(best["conversion_low"]) > float(worst["conversion_high"])
        verdict = (
            "the intervals do not overlap, so the gap is real"
            if apart
            else "their intervals overlap, so the gap alone is no evidence of a difference"
        )
        out.append(
            Finding(
                f"conversion_by_{name}",
                f"By the first visit's {label}, {label} {best[name]} converts best, "
                f"{_rate(best)}, and {label} {worst[name]} worst, {_rate(worst)}: {verdict}.",
                numbers={
                    "best": str(best[name]),
                    "best_conversion": float(best["conversion"]),
                    "worst": str(worst[name]),
                    "worst_conversion": float(worst["conversion"]),
                    "apart": apart,
                },
            )
        )
    higher = seg[seg["vs_rest"] == "higher"][name].astype(str).tolist()
    lower = seg[seg["vs_rest"] == "lower"][name].astype(str).tolist()
    if higher or lower:
        parts = []
        if higher:
            parts.append(f"above the rest: {label} {listing(higher)}")
        if lower:
            parts.append(f"below the rest: {label} {listing(lower)}")
        out.append(
            Finding(
                f"conversion_{name}_vs_rest",
                f"By {label}, converting significantly {'; '.join(parts)} (each {label} tested "
                "against all other visitors, two-proportion z test, Holm-adjusted, 5%).",
            )
        )
    return out


def _cohort_findings(cohorts: pd.DataFrame, p: Params) -> list[Finding]:
    complete = cohorts[cohorts["complete"] & cohorts["conversion"].notna()]
    young = cohorts[~cohorts["complete"]]
    out: list[Finding] = []
    if len(complete) >= 2:
        values = complete["conversion"].to_numpy(dtype=float)
        low, high = complete.iloc[int(values.argmin())], complete.iloc[int(values.argmax())]
        out.append(
            Finding(
                "conversion_by_cohort",
                f"Cohorts observed for {count_of(p.horizon, p.period)} or more convert between "
                f"{_pct(low['conversion'])} ({period_label(low['cohort'], p.period)}) and "
                f"{_pct(high['conversion'])} ({period_label(high['cohort'], p.period)}).",
            )
        )
    if len(young):
        out.append(
            Finding(
                "young_cohorts",
                f"{count_of(len(young), 'cohort')} "
                f"({listing([period_label(c, p.period) for c in young['cohort']])}) "
                f"{'has' if len(young) == 1 else 'have'} been observed for less than "
                f"{count_of(p.horizon, p.period)}: "
                f"{'its' if len(young) == 1 else 'their'} conversion is still rising and reads "
                "low.",
            )
        )
    return out


CONVERSION = register(
    Analysis(
        name="conversion",
        title="Visitor → buyer conversion",
        group="sales",
        needs=("sessions", "orders"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
    ),
    conversion,
)
