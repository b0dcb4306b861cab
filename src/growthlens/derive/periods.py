"""Periods, cohort ages, window completeness and dimensions (DESIGN §4).

Shared by every cohort analysis so a "month" or an "age" means the same everywhere:
day = calendar date; week = ISO week (Monday start, year-aware); month = calendar month.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import ibis.expr.types as ir
import pandas as pd

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
UNKNOWN = "(unknown)"
_TRUNC = {"day": "D", "week": "W", "month": "M"}


def check_period(period: str) -> Period:
    """Validate a period name."""
    if period not in PERIODS:
        from growthlens.errors import ConfigError

        raise ConfigError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    return period  # type: ignore[return-value]


def period_start(value: ir.Value, period: Period) -> ir.DateValue:
    """Start date of the period containing a timestamp or date expression."""
    if period == "day":
        return value if value.type().is_date() else value.date()
    truncated = value.truncate(_TRUNC[period])
    # Truncating a date column already gives a date; only timestamps need `.date()`.
    return truncated if truncated.type().is_date() else truncated.date()


def age(cohort: ir.DateValue, activity: ir.DateValue, period: Period) -> ir.IntegerValue:
    """Whole periods between two period-start dates (both already truncated)."""
    if period == "month":
        return (activity.year() - cohort.year()) * 12 + (activity.month() - cohort.month())
    days = activity.delta(cohort, unit="day")
    return days if period == "day" else days // 7


def py_period_start(day: date, period: Period) -> date:
    """Python twin of :func:`period_start` for window bookkeeping."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def py_next_period(start: date, period: Period) -> date:
    """Start of the period after the one starting at ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def py_age(cohort: date, activity: date, period: Period) -> int:
    """Python twin of :func:`age`."""
    if period == "month":
        return (activity.year - cohort.year) * 12 + activity.month - cohort.month
    days = (activity - cohort).days
    return days if period == "day" else days // 7


def window_periods(window: tuple[date, date], period: Period) -> pd.DataFrame:
    """Every period that intersects the window, with whether it lies wholly inside.

    Columns: ``period`` (start date), ``end`` (last date), ``complete`` (bool).
    """
    start, end = window
    rows = []
    current = py_period_start(start, period)
    while current <= end:
        nxt = py_next_period(current, period)
        last = nxt - timedelta(days=1)
        rows.append({"period": current, "end": last, "complete": current >= start and last <= end})
        current = nxt
    return pd.DataFrame(rows, columns=["period", "end", "complete"])


def cell_complete(cohort: date, age_value: int, period: Period, window: tuple[date, date]) -> bool:
    """Whether the activity period ``cohort + age`` lies wholly inside the window."""
    start = cohort
    for _ in range(age_value):
        start = py_next_period(start, period)
    last = py_next_period(start, period) - timedelta(days=1)
    return start >= window[0] and last <= window[1]


def cell_observed(cohort: date, age_value: int, period: Period, window: tuple[date, date]) -> bool:
    """Whether the activity period ``cohort + age`` starts inside the window (is observed)."""
    start = cohort
    for _ in range(age_value):
        start = py_next_period(start, period)
    return start <= window[1]


def dimension(value: ir.Value) -> ir.StringValue:
    """A dimension as text with nulls as ``(unknown)``, so segments add up to the total."""
    return value.cast("string").fill_null(UNKNOWN)


def dates(values: pd.Series) -> pd.Series:
    """Normalise engine dates (datetime64 of any unit, or ``date`` objects) to datetime64[ns].

    One dtype keeps merges between engine frames exact on every backend.
    """
    return pd.to_datetime(values).astype("datetime64[ns]")
