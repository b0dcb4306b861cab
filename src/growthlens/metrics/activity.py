"""Product activity: active users per period and session length (docs/metrics.md, "Product").

Distinct users come from the activity profiles (growthlens.metrics.profiles), sessions
from one per-day count; only per-period counts come back. Engine → small frames only;
the analysis (growthlens.analyses.activity) summarises, words and draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data import lengths
from growthlens.data.dataset import Dataset
from growthlens.derive.activity import session_length_counts, sessions_per_day
from growthlens.derive.periods import (
    PERIODS,
    Period,
    dates,
    dimension,
    py_period_start,
    window_periods,
)
from growthlens.metrics.fetch import fetch
from growthlens.metrics.profiles import active_counts

HISTOGRAM_BINS = 40
"""Bins of the session-length histogram; the last one holds every longer session."""


@dataclass(frozen=True)
class SessionLengths:
    """Session-length statistics and the histogram's counts (see :func:`session_length`).

    Attributes:
        stats: one row [per ``by`` value]: ``by`` (when given), ``sessions``, ``mean_s``,
            ``median_s``, ``p90_s``, ``mode_s``, ``zero_length_share``.
        histogram: without ``by``, ``bin_start_s`` and ``sessions`` per bin of ``width``
            seconds, the bin from ``HISTOGRAM_BINS × width`` on holding every longer
            session; empty otherwise.
        width: the bins' width in seconds (0 without a histogram).
    """

    stats: pd.DataFrame
    histogram: pd.DataFrame
    width: int


def active_users(
    ds: Dataset, *, by: str | None = None, window: tuple[date, date]
) -> dict[Period, pd.DataFrame]:
    """Distinct active users (and sessions) per day, week and month [× by].

    Every period intersecting the window is present (0 where nobody was active), with
    ``complete`` (the period lies wholly inside the window).
    """
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


def session_length(ds: Dataset, *, by: str | None = None) -> SessionLengths | None:
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
    histogram, width = pd.DataFrame(columns=["bin_start_s", "sessions"]), 0
    if not keys and len(modes):
        p90 = float(stats["p90_s"].iloc[0])
        width = _nice_width(max(p90 * 2, 1.0) / HISTOGRAM_BINS)
        binned = modes.groupby((modes["second"] // width).clip(upper=HISTOGRAM_BINS))["n"].sum()
        histogram = pd.DataFrame(
            {"bin_start_s": binned.index.astype("int64") * width, "sessions": binned.to_numpy()}
        )
    return SessionLengths(stats, histogram, width)


def _nice_width(raw: float) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if raw <= step:
            return step
    return int(math.ceil(raw / 3600) * 3600)
