"""Marketing spend: cost per period and source, totals, shares and cost gaps.

Definitions: docs/metrics.md, "Marketing" → "Spend". A source is **paid** when it has at
least one cost row in the window, else **organic**. Missing days (or months, for monthly
cost exports) inside a paid source's cost series count as 0 spend and are listed as gaps.
Only period × source aggregates leave the engine; the analysis
(growthlens.analyses.costs) summarises, words and draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, dimension, period_start, window_periods
from growthlens.derive.periods import dates as _dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.text import natural_key, sort_key


def check_by(ds: Dataset, by: str | None) -> None:
    """Refuse a ``by`` that is not a text column of the costs table."""
    if by is None:
        return
    costs = ds.table("costs")
    usable = [c for c, t in costs.schema().items() if t.is_string() and c not in ("date", "cost")]
    if by not in usable:
        raise ConfigError(
            f"by={by!r} is not a text column of the costs table; usable: "
            f"{', '.join(usable) or 'none'}"
        )


def _data_window(ds: Dataset) -> tuple[Any, Any]:
    """The data window (marketing analyses need one)."""
    window = ds.window
    if window is None:  # costs always carry dates, so only a hand-built Dataset lands here
        raise ConfigError("marketing metrics need a data window; set window = [start, end]")
    return window


def period_table(ds: Dataset, period: Period) -> pd.DataFrame:
    """``period`` (start date) and ``complete`` for every period of the window."""
    frame = window_periods(_data_window(ds), period)[["period", "complete"]]
    frame["period"] = _dates(frame["period"])
    return frame


@dataclass(frozen=True)
class Spend:
    """Cost aggregates of one dataset (engine output, small).

    Attributes:
        by: the dimension column (``source``).
        per_period: ``period``, ``<by>``, ``cost`` for every window period × paid source
            (missing combinations filled with 0), plus ``complete``.
        daily: ``date``, ``<by>``, ``cost`` as in the cost rows (one row per day and source).
        paid: paid sources (≥ 1 cost row in the window), in natural order.
        gaps: ``date``, ``<by>``: days (or months) without a cost row inside a paid source's
            series (between its first and last cost date).
        unit: ``day`` or ``month``: the granularity of the cost rows.
    """

    by: str
    per_period: pd.DataFrame
    daily: pd.DataFrame
    paid: tuple[str, ...]
    gaps: pd.DataFrame
    unit: Literal["day", "month"]


def spend(ds: Dataset, *, period: Period, by: str) -> Spend:
    """Cost per period and source, per day and source, and the gaps of each paid series."""
    costs = ds.table("costs")
    key = dimension(costs[by])
    daily: pd.DataFrame = (
        costs.group_by(date=costs.date, **{by: key}).aggregate(cost=costs.cost.sum()).pipe(fetch)
    )
    daily["date"] = _dates(daily["date"])
    per: pd.DataFrame = (
        costs.group_by(period=period_start(costs.date, period), **{by: key})
        .aggregate(cost=costs.cost.sum())
        .pipe(fetch)
    )
    per["period"] = _dates(per["period"])
    paid = tuple(sorted(daily[by].unique().tolist(), key=natural_key))
    # Typed like the engine's column: an empty list would make a float column, and the
    # merge below refuses float against text (no cost row in the window).
    sources = pd.DataFrame({by: pd.Series(list(paid), dtype=per[by].dtype)})
    grid = period_table(ds, period).merge(sources, how="cross")
    per_period = grid.merge(per, on=["period", by], how="left")
    per_period["cost"] = per_period["cost"].fillna(0.0).astype(float)
    per_period = per_period[["period", by, "cost", "complete"]]
    gaps, unit = _gaps(daily, by, paid)
    return Spend(by=by, per_period=per_period, daily=daily, paid=paid, gaps=gaps, unit=unit)


def _gaps(
    daily: pd.DataFrame, by: str, paid: tuple[str, ...]
) -> tuple[pd.DataFrame, Literal["day", "month"]]:
    dates = daily["date"]
    # A monthly cost export (every row on the 1st) has month gaps, not 29 missing days.
    unit: Literal["day", "month"] = (
        "month" if len(dates) and dates.dt.day.eq(1).all() and dates.nunique() > 1 else "day"
    )
    # Every day (or month) from each paid source's first to last cost date, at once, less
    # those with a row: a per-source loop cost ~1.3 ms a source (issue 19).
    series = daily[daily[by].isin(paid)]
    span = series.groupby(by, sort=False)["date"].agg(["min", "max"])
    if unit == "day":
        first = span["min"].to_numpy().astype("datetime64[D]").astype(np.int64)
        last = span["max"].to_numpy().astype("datetime64[D]").astype(np.int64)
    else:
        first = span["min"].to_numpy().astype("datetime64[M]").astype(np.int64)
        last = span["max"].to_numpy().astype("datetime64[M]").astype(np.int64)
    length = last - first + 1
    owner = np.repeat(np.arange(len(span)), length)
    offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    steps = (np.repeat(first, length) + offset).astype(
        "datetime64[D]" if unit == "day" else "datetime64[M]"
    )
    expected = pd.DataFrame(
        {"date": pd.Series(steps.astype("datetime64[ns]")), by: span.index.to_numpy()[owner]}
    )
    have = pd.MultiIndex.from_frame(series[["date", by]])
    rows = expected[~pd.MultiIndex.from_frame(expected).isin(have)]
    # Python values, so the columns are typed by inference as rows of dicts would be.
    gaps = (
        pd.DataFrame({"date": rows["date"].tolist(), by: rows[by].tolist()})
        if len(rows)
        else pd.DataFrame([], columns=["date", by])
    )
    gaps["date"] = _dates(gaps["date"])
    return gaps.sort_values(["date", by], key=sort_key).reset_index(drop=True), unit


def period_shares(sp: Spend) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each paid source's share of its period's spend, and the spend per period.

    Returns:
        ``period``, ``<by>``, ``cost``, ``share`` (NaN when the period has no spend),
        ``complete`` for every window period × paid source; and ``period``, ``cost``,
        ``complete`` per window period.
    """
    by = sp.by
    main = sp.per_period.copy()
    totals = main.groupby("period", as_index=False).agg(
        cost=("cost", "sum"), complete=("complete", "first")
    )
    main = main.merge(totals[["period", "cost"]].rename(columns={"cost": "_total"}), on="period")
    main["share"] = main["cost"].where(main["_total"] > 0) / main["_total"].where(
        main["_total"] > 0
    )
    main = main[["period", by, "cost", "share", "complete"]]
    main = main.sort_values(["period", by], key=sort_key).reset_index(drop=True)
    return main, totals


def source_spend(sp: Spend, total: float) -> pd.DataFrame:
    """Spend per source over the window, largest first.

    Columns: ``<by>``, ``cost``, ``share_of_spend`` (of ``total``), ``first_date``,
    ``last_date``, ``days_with_rows`` (distinct dates with a cost row), ``missing`` (gap
    days or months).
    """
    by = sp.by
    daily = sp.daily
    grouped = daily.groupby(by, as_index=False).agg(
        cost=("cost", "sum"),
        first_date=("date", "min"),
        last_date=("date", "max"),
        days_with_rows=("date", "nunique"),
    )
    missing = sp.gaps.groupby(by).size().rename("missing")
    grouped = grouped.merge(missing, left_on=by, right_index=True, how="left")
    grouped["missing"] = grouped["missing"].fillna(0).astype(int)
    grouped["share_of_spend"] = grouped["cost"] / total if total > 0 else math.nan
    grouped = grouped[
        [by, "cost", "share_of_spend", "first_date", "last_date", "days_with_rows", "missing"]
    ]
    order = sorted(
        range(len(grouped)),
        key=lambda i: (-grouped["cost"].iloc[i], natural_key(grouped[by].iloc[i])),
    )
    return grouped.iloc[order].reset_index(drop=True)
