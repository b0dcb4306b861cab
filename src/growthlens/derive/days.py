"""Days as the analyses take them: calendar dates, or day numbers counted from ``day_zero``.

Data whose time is an integer day number (DESIGN §3, setting ``day_zero``) are stored as
dates ``day_zero + n``; options and labels speak in day numbers again. A day given as an
``int`` is a day number (only with day-number data); a ``date``, ``datetime`` or ISO text
is a calendar date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from growthlens.data.config import as_date, day_number
from growthlens.errors import ConfigError

DayLike = int | date | datetime | str


def to_date(value: DayLike, day_zero: date | None, *, option: str) -> date:
    """The calendar date of ``value`` (a day number needs ``day_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | date | str):
        raise ConfigError(f"{option}: expected a day number or a date; found {value!r}")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ConfigError(
                f"{option}: expected a date as YYYY-MM-DD or a day number; found {value!r}"
            ) from None
    try:
        return as_date(value, day_zero)
    except ConfigError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def day_window(
    value: Sequence[DayLike], day_zero: date | None, *, option: str
) -> tuple[date, date]:
    """An inclusive ``(first, last)`` window of days from two day numbers or dates."""
    if isinstance(value, str | bytes) or len(value) != 2:
        raise ConfigError(f"{option}: expected (first, last); found {value!r}")
    first, last = (to_date(v, day_zero, option=option) for v in value)
    if first > last:
        raise ConfigError(f"{option}: the window starts after it ends ({first} > {last})")
    return first, last


def window_label(window: tuple[date, date], day_zero: date | None) -> str:
    """``days 5–16`` or ``2018-03-05 to 2018-03-16``; one day alone: ``day 5``, ``2018-03-05``.

    >>> window_label((date(2023, 1, 6), date(2023, 1, 17)), date(2023, 1, 1))
    'days 5–16'
    >>> window_label((date(2018, 5, 31), date(2018, 5, 31)), None)
    '2018-05-31'
    """
    first, last = window
    if day_zero is None:
        if first == last:
            return first.isoformat()
        return f"{first.isoformat()} to {last.isoformat()}"
    a, b = (first - day_zero).days, (last - day_zero).days
    return f"day {a}" if a == b else f"days {a}–{b}"


def day_axis(d: date, day_zero: date | None) -> int | date:
    """``d`` on a chart's axis: its day number with day-number data, else the date."""
    return d if day_zero is None else day_number(d, day_zero)


def days_label(days: Sequence[date], day_zero: date | None) -> str:
    """A list of single days in words: ``days 15 and 45``, ``2023-01-16 and 2023-02-15``.

    >>> days_label([date(2023, 1, 16), date(2023, 2, 15)], date(2023, 1, 1))
    'days 15 and 45'
    >>> days_label([date(2023, 1, 16)], date(2023, 1, 1))
    'day 15'
    """
    if day_zero is None:
        items = [d.isoformat() for d in days]
        head = ""
    else:
        items = [str((d - day_zero).days) for d in days]
        head = "day " if len(items) == 1 else "days "
    text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return head + text
