"""Units of numbers and how each reads as text, in the report, the CLI and notebooks alike.

A summary entry of a :class:`~growthlens.result.Result` names its unit (``money``,
``share``, ``count``, ``p_value`` …) and :func:`format_unit` turns value and unit into
text. Table columns carry no declaration yet: :func:`unit_of` reads a column's unit from
its name (``retention_1`` is a share, ``ltv_6`` money, ``session_length_mean_s``
seconds), so every table that follows the naming of DESIGN §6 reads alike. Returns plain
strings; escaping is the renderer's job.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from growthlens.text import count_of, money

Unit = Literal[
    "money",  # in the dataset's currency
    "share",  # a part of a whole, 0..1, shown as a percentage
    "percent",  # a relative change or return (ROMI, uplift), shown as a percentage
    "count",  # whole things: users, orders, rows
    "days",
    "seconds",
    "ratio",  # a plain quotient (sessions per user, sticky factor as a number)
    "p_value",
    "number",  # any other quantity
    "plain",  # an identifier or index shown as is (id, age, year, seed)
    "date",
    "text",
    "flag",  # yes / no
]
UNITS: tuple[Unit, ...] = get_args(Unit)

MISSING = "—"
PERCENT_TOKENS = frozenset(
    {
        "share",
        "rate",
        "retention",
        "romi",
        "sticky",
        "ctr",
        "margin",
        "churn",
        "pct",
        "percent",
        "uplift",
        "conversion",
        "accuracy",
        "precision",
        "recall",
        "probability",
    }
)
MONEY_TOKENS = frozenset(
    {
        "revenue",
        "cost",
        "costs",
        "ltv",
        "clv",
        "cac",
        "aov",
        "cpc",
        "cpa",
        "cpm",
        "profit",
        "spend",
        "arpu",
        "arppu",
        "budget",
        "check",
        "money",
    }
)
PLAIN_TOKENS = frozenset({"id", "age", "year", "k", "horizon", "seed"})
# A key ending in one of these counts things, whatever precedes it ("costs_rows").
COUNT_TOKENS = frozenset(
    {
        "rows",
        "users",
        "buyers",
        "orders",
        "sessions",
        "count",
        "n",
        "findings",
        "errors",
        "warnings",
        "info",
    }
)


def unit_of(name: str) -> Unit:
    """The unit a table column's name implies (columns declare none; entries do).

    >>> unit_of("retention_1"), unit_of("ltv_6"), unit_of("session_length_mean_s")
    ('share', 'money', 'seconds')
    >>> unit_of("user_id")
    'plain'
    >>> unit_of("costs_rows"), unit_of("cost")
    ('number', 'money')
    """
    tokens = name.lower().split(".")[-1].split("_")
    if tokens[-1] == "s" and len(tokens) > 1:
        return "seconds"
    if tokens[-1] in COUNT_TOKENS:
        return "number"
    if any(t in PLAIN_TOKENS for t in tokens):
        return "plain"
    if any(t in PERCENT_TOKENS for t in tokens):
        return "share"
    if any(t in MONEY_TOKENS for t in tokens):
        return "money"
    if tokens[-1] == "days":
        return "days"
    return "number"


def format_value(name: str, value: Any, *, currency: str = "USD") -> str:
    """Format a table cell by the unit its column ``name`` implies (see :func:`unit_of`).

    >>> format_value("retention_1", 0.4567), format_value("ltv_6", 1234.5), format_value("n", 1e4)
    ('45.7%', '$1,234.50', '10,000')
    >>> format_value("session_length_mean_s", 605.0), format_value("romi", float("nan"))
    ('10 min 5 s', '—')
    """
    return format_unit(value, unit_of(name), currency=currency)


def format_unit(value: Any, unit: Unit, *, currency: str = "USD") -> str:
    """Format ``value`` as text for its ``unit``: cards, cells, CLI lines, notebooks.

    >>> format_unit(0.4567, "share"), format_unit(1234.5, "money"), format_unit(1e4, "count")
    ('45.7%', '$1,234.50', '10,000')
    >>> format_unit(0.00004, "p_value"), format_unit(0.0312, "p_value"), format_unit(2.5, "days")
    ('< 0.001', '0.031', '2.5 days')
    >>> format_unit(-0.5418, "percent"), format_unit(True, "flag"), format_unit(None, "money")
    ('-54.2%', 'yes', '—')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        return (
            stamp.strftime("%Y-%m-%d")
            if stamp == stamp.normalize()
            else stamp.strftime("%Y-%m-%d %H:%M:%S")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return MISSING
    if unit == "plain":
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    if unit in ("share", "percent"):
        return percent(float(value))
    if unit == "p_value":
        return p_value(float(value))
    if unit == "money":
        # Cells keep cents up to 100,000 and an ASCII minus, like the other numbers.
        return money(float(value), currency, whole_from=100_000, minus="-")
    if unit == "seconds":
        return duration(float(value))
    if unit == "days":
        if float(value).is_integer():
            return count_of(int(value), "day")
        return f"{value:,.1f} days"
    return number(value)


def p_value(value: float) -> str:
    """A p-value: three decimals, and ``< 0.001`` below that (never ``4e-05``).

    >>> p_value(0.5), p_value(0.0499), p_value(1e-9)
    ('0.500', '0.050', '< 0.001')
    """
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def p_phrase(value: float) -> str:
    """``p = 0.031`` or ``p < 0.001``.

    >>> p_phrase(0.0312), p_phrase(1e-9)
    ('p = 0.031', 'p < 0.001')
    """
    text = p_value(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def chance(value: float) -> str:
    """A probability in words, never a rounded-up certainty: ``> 99.9%``, ``< 0.1%``.

    >>> chance(0.99997), chance(0.42), chance(0.00002)
    ('> 99.9%', '42.0%', '< 0.1%')
    """
    if value > 0.999:
        return "> 99.9%"
    if value < 0.001:
        return "< 0.1%"
    return percent(value)


def number(value: int | float) -> str:
    """A plain number: integers with separators, floats with sensible precision.

    >>> number(1234567), number(1234.567), number(3.14159), number(0.012345)
    ('1,234,567', '1,235', '3.14', '0.0123')
    """
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return f"{value:,.0f}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    if magnitude == 0:
        return "0"
    return f"{value:.3g}"


def percent(share: float) -> str:
    """A share as a percentage (one decimal, more when needed to show it is not zero).

    >>> percent(0.4567), percent(0.00002), percent(-0.25)
    ('45.7%', '0.002%', '-25.0%')
    """
    pct = share * 100
    if pct == 0:
        return "0%"
    decimals = 1 if abs(pct) >= 0.1 else min(6, -math.floor(math.log10(abs(pct))))
    return f"{pct:,.{decimals}f}%"


def duration(seconds: float) -> str:
    """Seconds in words: ``45 s``, ``10 min 5 s``, ``2 h 3 min``."""
    if abs(seconds) < 60:
        return (
            f"{seconds:.0f} s"
            if float(seconds).is_integer() or abs(seconds) >= 10
            else f"{seconds:.1f} s"
        )
    whole = round(seconds)
    minutes, secs = divmod(abs(whole), 60)
    sign = "-" if whole < 0 else ""
    if minutes < 60:
        return f"{sign}{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours:,} h {minutes} min"


def label(name: str) -> str:
    """A column or key name in words: ``rows_loaded`` → ``Rows loaded``.

    >>> label("session_length_mean_s"), label("overview.window_start")
    ('Session length mean (s)', 'Window start')
    """
    name = name.split(".")[-1]
    if name.endswith("_s"):
        name = name[:-2] + " (s)"
    text = name.replace("_", " ")
    for short in (
        "dau",
        "wau",
        "mau",
        "ltv",
        "clv",
        "cac",
        "aov",
        "romi",
        "cpc",
        "cpa",
        "cpm",
        "ctr",
        "roas",
    ):
        text = " ".join(w.upper() if w == short else w for w in text.split(" "))
    return text[:1].upper() + text[1:]
