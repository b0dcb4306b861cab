"""Product activity: DAU/WAU/MAU, sticky factor, sessions per user, session length.

Definitions in docs/metrics.md, "Product". The engine's per-period counts and
session-length statistics come from growthlens.metrics.activity; this module averages,
words and draws them, and plans the report's runs (overall, then by device and source).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.analyses.splits import session_splits
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import check_dimension
from growthlens.derive.periods import PERIODS, Period
from growthlens.errors import ConfigError
from growthlens.metrics.activity import (
    HISTOGRAM_BINS,
    SessionLengths,
    active_users,
    session_length,
)
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize

SUMMARY: SummarySpec = {
    "dau": ("number", "Daily active users (mean)"),
    "wau": ("number", "Weekly active users (mean)"),
    "mau": ("number", "Monthly active users (mean)"),
    "sticky_wau": ("share", "Sticky factor DAU ÷ WAU"),
    "sticky_mau": ("share", "Sticky factor DAU ÷ MAU"),
    "sessions_per_user_per_day": ("ratio", "Sessions per user per day"),
    "days": ("count", "Days in the window"),
    "weeks": ("count", "Weeks averaged"),
    "months": ("count", "Months averaged"),
    "complete_periods": ("flag", "Complete periods only"),
    "session_length_mean_s": ("seconds", "Session length, mean"),
    "session_length_median_s": ("seconds", "Session length, median"),
    "session_length_mode_s": ("seconds", "Session length, mode"),
    "session_length_p90_s": ("seconds", "Session length, 90th percentile"),
    "zero_length_share": ("share", "Sessions of zero length"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the session dimension to split by and whether partial periods count."""

    by: str | None
    complete_periods: bool


@dataclass(frozen=True)
class Frames:
    """What the engine returned: active users per period and session lengths, overall and by ``by``.

    ``lengths`` is ``None`` when the sessions have no ``end_ts``; ``by_users`` and
    ``by_lengths`` are ``None`` without ``by`` (and ``by_lengths`` without ``end_ts``).
    """

    users: dict[Period, pd.DataFrame]
    lengths: SessionLengths | None
    by_users: dict[Period, pd.DataFrame] | None
    by_lengths: SessionLengths | None


def activity(ds: Dataset, *, by: str | None = None, complete_periods: bool | None = None) -> Result:
    """DAU, WAU, MAU, sticky factor, sessions per user per day and session length.

    DAU/WAU/MAU = mean over every period intersecting the window (0 for a period with no
    activity) of distinct users with ≥1 session starting in it; ``complete_periods=True``
    drops partial first/last weeks and months. With ``by`` (a session dimension), a user
    active on e.g. a device in a period counts for that device (so one user can count for
    two devices). See docs/metrics.md, "Product".
    """
    return ACTIVITY.run(ds, by=by, complete_periods=complete_periods)


def _params(ds: Dataset, *, by: str | None, complete_periods: bool | None) -> Params:
    check_dimension(ds, by)
    complete_only = ds.settings.complete_periods if complete_periods is None else complete_periods
    return Params(by=by, complete_periods=complete_only)


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("activity needs a data window; set window = [start, end]")
    users = active_users(ds, window=window)
    lengths = session_length(ds)
    if p.by is None:
        return Frames(users, lengths, None, None)
    by_users = active_users(ds, by=p.by, window=window)
    by_lengths = session_length(ds, by=p.by) if lengths is not None else None
    return Frames(users, lengths, by_users, by_lengths)


def _explain(frames: Frames, p: Params) -> Result:
    by, complete_only, tables, length = p.by, p.complete_periods, frames.users, frames.lengths
    means = _means(tables, complete_only, [])
    mean = dict(zip(means["period"], means["mean_users"], strict=True))
    spud = float(means.loc[means["period"] == "day", "sessions_per_user"].iloc[0])
    summary: dict[str, SummaryValue] = {
        "dau": mean["day"],
        "wau": mean["week"],
        "mau": mean["month"],
        "sticky_wau": mean["day"] / mean["week"] if mean["week"] else math.nan,
        "sticky_mau": mean["day"] / mean["month"] if mean["month"] else math.nan,
        "sessions_per_user_per_day": spud,
        "days": int(means.loc[means["period"] == "day", "periods"].iloc[0]),
        "weeks": int(means.loc[means["period"] == "week", "periods"].iloc[0]),
        "months": int(means.loc[means["period"] == "month", "periods"].iloc[0]),
        "complete_periods": complete_only,
    }
    extra: dict[str, pd.DataFrame] = {}
    notes = [
        "DAU/WAU/MAU = mean over all days/weeks/months of the window (0 when nobody was active) "
        "of distinct users with ≥1 session starting in the period. "
        + (
            "Partial first/last weeks and months are left out (complete_periods)."
            if complete_only
            else "Partial first/last weeks and months are included and flagged (complete = false)."
        ),
        "Sticky factor = DAU ÷ WAU and DAU ÷ MAU.",
    ]
    if length is None:
        summary.update(
            session_length_mean_s=math.nan,
            session_length_median_s=math.nan,
            session_length_mode_s=math.nan,
            session_length_p90_s=math.nan,
            zero_length_share=math.nan,
        )
        notes.append("Session length is unavailable: the sessions have no end_ts.")
    else:
        stats = length.stats
        row = stats.iloc[0] if len(stats) else pd.Series(dtype=float)
        summary.update(
            session_length_mean_s=float(row.get("mean_s", math.nan)),
            session_length_median_s=float(row.get("median_s", math.nan)),
            session_length_mode_s=float(row.get("mode_s", math.nan)),
            session_length_p90_s=float(row.get("p90_s", math.nan)),
            zero_length_share=float(row.get("zero_length_share", math.nan)),
        )
        extra["session_length"] = _histogram(length)
        notes.append(
            "Session length = end_ts − start_ts over sessions with a non-negative length; mode on "
            "whole seconds (ties → the smallest); p90 by linear interpolation."
        )
    if by is not None and frames.by_users is not None:
        by_tables = frames.by_users
        per = _means(by_tables, complete_only, [by]).pivot(
            index=by, columns="period", values="mean_users"
        )
        # A period kind with no (complete) period in the window has no column: NaN, not absent.
        per = per.reindex(columns=list(PERIODS)).rename(
            columns={"day": "dau", "week": "wau", "month": "mau"}
        )
        per = per.reset_index()
        per["sticky_mau"] = per["dau"] / per["mau"].where(per["mau"] > 0)
        spu = _means(by_tables, complete_only, [by])
        spu = spu[spu["period"] == "day"][[by, "sessions_per_user"]].rename(
            columns={"sessions_per_user": "sessions_per_user_per_day"}
        )
        per = per.merge(spu, on=by, how="left")
        if frames.by_lengths is not None:
            per = per.merge(
                frames.by_lengths.stats[[by, "mean_s", "median_s", "mode_s"]].rename(
                    columns={
                        "mean_s": "session_length_mean_s",
                        "median_s": "session_length_median_s",
                        "mode_s": "session_length_mode_s",
                    }
                ),
                on=by,
                how="left",
            )
        extra["by"] = per.sort_values("dau", ascending=False).reset_index(drop=True)
    main = pd.concat(tables.values(), ignore_index=True)
    findings = _findings(summary, extra.get("by"), by)
    figures = [
        FigureSpec(
            kind="line",
            x="start",
            y="users",
            color="period",
            title="Active users per day, week and month",
            labels={"start": "Period start", "users": "Active users", "period": "Period"},
            value_format=",.0f",
        )
    ]
    if "session_length" in extra and len(extra["session_length"]):
        figures.append(
            FigureSpec(
                kind="histogram",
                x="bin",
                y="sessions",
                table="session_length",
                title="Session length distribution",
                labels={"bin": "Session length", "sessions": "Sessions"},
                value_format=",.0f",
            )
        )
    if by is not None:
        figures.append(
            FigureSpec(
                kind="bar",
                x=by,
                y="dau",
                table="by",
                title=f"DAU by {by}",
                labels={by: by.capitalize(), "dau": "Daily active users (mean)"},
                value_format=",.1f",
                rank="dau",
            )
        )
    return Result(
        name="activity" if by is None else f"activity_by_{by}",
        title="Product activity" if by is None else f"Product activity by {by}",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=extra,
        figures=tuple(figures),
        notes=tuple(notes),
        params=params_dict(p),
    )


def _means(
    tables: dict[Period, pd.DataFrame], complete_only: bool, keys: list[str]
) -> pd.DataFrame:
    rows = []
    for period, table in tables.items():
        used = table[table["complete"]] if complete_only and period != "day" else table
        grouped = used.groupby(keys) if keys else [((), used)]
        for key, part in grouped:
            key = key if isinstance(key, tuple) else (key,)
            active = part[part["users"] > 0]
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "period": period,
                    "mean_users": float(part["users"].mean()) if len(part) else math.nan,
                    "periods": len(part),
                    "sessions_per_user": float((active["sessions"] / active["users"]).mean())
                    if len(active)
                    else math.nan,
                }
            )
    return pd.DataFrame(
        rows, columns=[*keys, "period", "mean_users", "periods", "sessions_per_user"]
    )


def _histogram(length: SessionLengths) -> pd.DataFrame:
    """The histogram's counts with each bin's label (``1 min–2 min``, ``≥ 40 min``)."""
    if not len(length.histogram):
        return pd.DataFrame(columns=["bin_start_s", "bin", "sessions"])
    histogram, width = length.histogram.copy(), length.width
    last = HISTOGRAM_BINS * width
    histogram["bin"] = [
        f"≥ {_duration(s)}" if s >= last else f"{_duration(s)}–{_duration(s + width)}"
        for s in histogram["bin_start_s"]
    ]
    out: pd.DataFrame = histogram[["bin_start_s", "bin", "sessions"]]
    return out


def _findings(
    summary: dict[str, SummaryValue], per: pd.DataFrame | None, by: str | None
) -> list[Finding]:
    dau, wau, mau = (float(summary[k]) for k in ("dau", "wau", "mau"))  # type: ignore[arg-type]
    sticky = {k: float(summary[f"sticky_{k}"]) for k in ("wau", "mau")}  # type: ignore[arg-type]
    if math.isnan(dau) or dau == 0:
        return [
            Finding(
                "no_activity",
                "No session lies in the data window, so nobody is counted as active.",
                "warning",
            )
        ]

    # Means of counts: whole numbers, except below 10 where a decimal says more.
    def users(n: float) -> str:
        return f"{n:,.0f}" if n >= 10 else f"{n:.1f}".removesuffix(".0")

    spans = [
        f"on an average day {users(dau)} {'person uses' if dau == 1 else 'people use'} the product"
    ]
    spans += [
        f"{users(n)} in a {unit}"
        for n, unit in ((wau, "week"), (mau, "month"))
        if not math.isnan(n)
    ]
    ratios = [
        f"{sticky[k]:.1%} of {unit}ly users"
        for k, unit in (("wau", "week"), ("mau", "month"))
        if not math.isnan(sticky[k])
    ]
    text = ", ".join(spans[:-1]) + f" and {spans[-1]}" if len(spans) > 1 else spans[0]
    text = text[0].upper() + text[1:]
    if ratios:
        text += f"; sticky factor: {' and '.join(ratios)} come on a given day"
    missing = [unit for n, unit in ((wau, "week"), (mau, "month")) if math.isnan(n)]
    if missing:
        text += f" (no complete {' or '.join(missing)} lies in the window)"
    out = [
        Finding(
            "active_users",
            text + ".",
            numbers={
                "dau": dau,
                "wau": wau,
                "mau": mau,
                **{f"sticky_{k}": v for k, v in sticky.items()},
            },
        )
    ]
    mean = summary.get("session_length_mean_s")
    if isinstance(mean, float) and not math.isnan(mean):
        lengths = {
            k: float(summary[k])  # type: ignore[arg-type]
            for k in ("session_length_median_s", "session_length_mode_s", "zero_length_share")
        }
        out.append(
            Finding(
                "session_length",
                f"A session lasts {_duration(mean)} on average "
                f"(median {_duration(lengths['session_length_median_s'])}, "
                f"most often {_duration(lengths['session_length_mode_s'])}); "
                f"{lengths['zero_length_share']:.1%} of sessions have zero length.",
                numbers={"session_length_mean_s": mean, **lengths},
            )
        )
    if per is not None and by is not None and len(per) > 1:
        top = per.iloc[0]
        share = top["dau"] / per["dau"].sum() if per["dau"].sum() else math.nan
        out.append(
            Finding(
                "top_segment",
                f"{by.capitalize()} {top[by]} has the most daily users ({top['dau']:,.0f}, "
                f"{share:.0%} of the daily user-{by} pairs).",
                numbers={by: str(top[by]), "dau": float(top["dau"]), "share": float(share)},
            )
        )
    return out


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60} min"


def _plan(ds: Dataset) -> Plan:
    """Once overall, then once by each of device and source the sessions have."""
    splits, missing = session_splits(ds)
    return Plan(runs=({}, *({"by": d} for d in splits)), skipped=missing)


ACTIVITY = register(
    Analysis(
        name="activity",
        title="Product activity",
        group="product",
        needs=("sessions",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    activity,
)
