"""Product activity: DAU/WAU/MAU, sticky factor, sessions per user, session length.

Definitions in docs/metrics.md, "Product". Distinct users come from the activity
profiles (growthlens.metrics.profiles), sessions from one per-day count; only per-period
counts come back.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data import lengths
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.derive.activity import session_length_counts, sessions_per_day
from growthlens.derive.periods import (
    PERIODS,
    Period,
    dates,
    dimension,
    py_period_start,
    window_periods,
)
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.profiles import active_counts
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize

_LABEL = {"day": "DAU", "week": "WAU", "month": "MAU"}
_HISTOGRAM_BINS = 40


def active_users(ds: Dataset, *, by: str | None = None) -> dict[Period, pd.DataFrame]:
    """Distinct active users (and sessions) per day, week and month [× by].

    Every period intersecting the window is present (0 where nobody was active), with
    ``complete`` (the period lies wholly inside the window).
    """
    window = ds.window
    if window is None:
        raise ConfigError("activity needs a data window; set window = [start, end]")
    keys = [by] if by else []
    per_day = fetch(_sessions_per_day(ds, by))
    per_day["day"] = dates(per_day["day"])
    out: dict[Period, pd.DataFrame] = {}
    columns = ["period", "start", *keys, "users", "sessions", "complete"]
    if keys and per_day.empty:
        # No accepted session: no value of ``by`` to list (and pandas cannot merge on
        # empty Arrow text keys).
        empty = pd.DataFrame({c: pd.Series(dtype=per_day[c].dtype) for c in keys})
        for period in PERIODS:
            out[period] = empty.assign(
                period=pd.Series(dtype="str"),
                start=pd.Series(dtype="datetime64[ns]"),
                users=pd.Series(dtype="int64"),
                sessions=pd.Series(dtype="int64"),
                complete=pd.Series(dtype="bool"),
            )[columns]
        return out
    for period in PERIODS:
        users = active_counts(ds, period, by=by)
        starts = per_day["day"].dt.date.map(lambda d, p=period: py_period_start(d, p))
        in_period = per_day.assign(start=dates(starts))
        sessions_in = in_period.groupby(["start", *keys], as_index=False)["sessions"].sum()
        counts = users.merge(sessions_in, on=["start", *keys], how="outer")
        grid = window_periods(window, period).rename(columns={"period": "start"})[
            ["start", "complete"]
        ]
        grid["start"] = dates(grid["start"])
        if keys:
            values = counts[keys].drop_duplicates()
            grid = grid.merge(values, how="cross")
        table = grid.merge(counts, on=["start", *keys], how="left")
        table["users"] = table["users"].fillna(0).astype("int64")
        table["sessions"] = table["sessions"].fillna(0).astype("int64")
        table.insert(0, "period", period)
        out[period] = table[columns]
    return out


def _sessions_per_day(ds: Dataset, by: str | None) -> ir.Table:
    """Sessions per day [× by]: from the load's reason scan when it has them, else one scan.

    Distinct users come from the activity profiles instead (growthlens.metrics.profiles).
    """
    counted = sessions_per_day(ds)
    if counted is not None and (by is None or by in counted.columns):
        table, day, count = counted, counted.day, counted.sessions.sum()
    else:
        table = ds.table("sessions")
        day, count = table.start_ts.date(), table.count()
    dims = {by: dimension(table[by])} if by else {}
    return table.group_by(day=day, **dims).aggregate(sessions=count)


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


def _length_stats(counts: ir.Table, keys: list[str]) -> ir.Table:
    """Count, mean, median, p90 and zero-length sessions from per-length counts.

    Quantiles interpolate linearly between the order statistics at ranks ⌊h⌋ and ⌊h⌋+1,
    h = (N − 1)·q (as numpy's and DuckDB's continuous quantiles); a rank's value is the
    smallest length whose running count exceeds it.
    """
    running = ibis.window(group_by=keys, order_by="length_s", rows=(None, 0))
    ranked = counts.mutate(
        cum=counts.n.sum().over(running), total=counts.n.sum().over(group_by=keys)
    )
    aggs: dict[str, ir.Value] = {
        "sessions": ranked.n.sum(),
        "mean_s": (ranked.length_s * ranked.n).sum() / ranked.n.sum(),
        "zero": ranked.n.sum(where=ranked.length_s == 0),
    }
    for name, q in (("median_s", 0.5), ("p90_s", 0.9)):
        h = (ranked.total - 1) * q
        low = h.floor()
        aggs[f"{name}_h"] = h.max()
        aggs[f"{name}_low"] = ranked.length_s.min(where=ranked.cum > low)
        aggs[f"{name}_high"] = ranked.length_s.min(where=ranked.cum > low + 1)
    return ranked.group_by(keys).aggregate(**aggs) if keys else ranked.aggregate(**aggs)


def _interpolate(stats: pd.DataFrame) -> pd.DataFrame:
    for name in ("median_s", "p90_s"):
        h, low, high = stats.pop(f"{name}_h"), stats.pop(f"{name}_low"), stats.pop(f"{name}_high")
        fraction = h - np.floor(h)
        stats[name] = np.where(fraction > 0, low + fraction * (high - low), low)
    return stats


def session_length(
    ds: Dataset, *, by: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Session-length statistics and a histogram, over sessions with a non-negative length.

    Returns ``None`` when the sessions have no ``end_ts``.
    """
    sessions = ds.table("sessions")
    if "end_ts" not in sessions.columns:
        return None
    keys = [by] if by else []
    # One scan (the load's, without ``by``): how many sessions have each exact length.
    # Every statistic below, exact quantiles included, is computed from these counts
    # instead of re-reading sessions.
    all_counts = session_length_counts(ds, by)
    length = all_counts[lengths.LENGTH]
    valid = all_counts.filter(length.notnull() & (length >= 0))
    counts = valid.select(*keys, "n", length_s=valid[lengths.LENGTH] / 1_000_000)
    stats = fetch(_length_stats(counts, keys))
    floored = counts.mutate(second=counts.length_s.floor().cast("int64"))
    modes = fetch(floored.group_by([*keys, "second"]).aggregate(n=floored.n.sum()))
    stats = _interpolate(stats)
    # Mode: the most frequent whole second; ties → the smallest.
    modes = modes.sort_values(
        [*keys, "n", "second"], ascending=[*([True] * len(keys)), False, True]
    )
    mode = modes.drop_duplicates(keys or None, keep="first") if keys else modes.head(1)
    mode = mode.rename(columns={"second": "mode_s"})[[*keys, "mode_s"]]
    stats = (
        stats.merge(mode, on=keys, how="left")
        if keys
        else stats.assign(mode_s=mode["mode_s"].iloc[0] if len(mode) else math.nan)
    )
    stats["zero"] = stats["zero"].fillna(0)
    stats["zero_length_share"] = stats["zero"] / stats["sessions"].where(stats["sessions"] > 0)
    stats = stats.drop(columns="zero")
    histogram = pd.DataFrame(columns=["bin_start_s", "bin", "sessions"])
    if not keys and len(modes):
        p90 = float(stats["p90_s"].iloc[0])
        width = _nice_width(max(p90 * 2, 1.0) / _HISTOGRAM_BINS)
        binned = modes.groupby((modes["second"] // width).clip(upper=_HISTOGRAM_BINS))["n"].sum()
        histogram = pd.DataFrame(
            {"bin_start_s": binned.index.astype("int64") * width, "sessions": binned.to_numpy()}
        )
        last = _HISTOGRAM_BINS * width
        histogram["bin"] = [
            f"≥ {_duration(s)}" if s >= last else f"{_duration(s)}–{_duration(s + width)}"
            for s in histogram["bin_start_s"]
        ]
        histogram = histogram[["bin_start_s", "bin", "sessions"]]
    return stats, histogram


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


def activity(ds: Dataset, *, by: str | None = None, complete_periods: bool | None = None) -> Result:
    """DAU, WAU, MAU, sticky factor, sessions per user per day and session length.

    DAU/WAU/MAU = mean over every period intersecting the window (0 for a period with no
    activity) of distinct users with ≥1 session starting in it; ``complete_periods=True``
    drops partial first/last weeks and months. With ``by`` (a session dimension), a user
    active on e.g. a device in a period counts for that device (so one user can count for
    two devices). See docs/metrics.md, "Product".
    """
    ds.require("sessions")
    if by is not None and by not in session_dimensions(ds):
        raise ConfigError(
            f"cannot break down by {by!r}: not a session dimension "
            f"(dimensions: {', '.join(session_dimensions(ds)) or 'none'})"
        )
    complete_only = ds.settings.complete_periods if complete_periods is None else complete_periods
    tables = active_users(ds)
    means = _means(tables, complete_only, [])
    mean = dict(zip(means["period"], means["mean_users"], strict=True))
    spud = float(means.loc[means["period"] == "day", "sessions_per_user"].iloc[0])
    length = session_length(ds)
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
        stats, histogram = length
        row = stats.iloc[0] if len(stats) else pd.Series(dtype=float)
        summary.update(
            session_length_mean_s=float(row.get("mean_s", math.nan)),
            session_length_median_s=float(row.get("median_s", math.nan)),
            session_length_mode_s=float(row.get("mode_s", math.nan)),
            session_length_p90_s=float(row.get("p90_s", math.nan)),
            zero_length_share=float(row.get("zero_length_share", math.nan)),
        )
        extra["session_length"] = histogram
        notes.append(
            "Session length = end_ts − start_ts over sessions with a non-negative length; mode on "
            "whole seconds (ties → the smallest); p90 by linear interpolation."
        )
    if by is not None:
        by_tables = active_users(ds, by=by)
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
        if length is not None:
            stats_by, _ = session_length(ds, by=by) or (pd.DataFrame(), pd.DataFrame())
            per = per.merge(
                stats_by[[by, "mean_s", "median_s", "mode_s"]].rename(
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
        params={"by": by, "complete_periods": complete_only},
    )


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


def _nice_width(raw: float) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if raw <= step:
            return step
    return int(math.ceil(raw / 3600) * 3600)


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
