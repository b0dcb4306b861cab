"""How numbers read in the report: thousands separators, percentages, money, durations.

The kind of a number is read from its name (``retention_1`` is a share, ``ltv_6`` is money,
``session_length_mean_s`` is seconds), so every analysis that follows the naming of
DESIGN §6 is formatted alike without declaring anything. Returns plain strings; escaping
is the template's job.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from growthlens.metrics.wording import count_of, money

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
    }
)
MONEY_TOKENS = frozenset(
    {
        "revenue",
        "cost",
        "costs",
        "ltv",
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


def kind_of(name: str) -> str:
    """The kind of number a name holds: percent, money, seconds, days, plain or number.

    >>> kind_of("retention_1"), kind_of("ltv_6"), kind_of("session_length_mean_s")
    ('percent', 'money', 'seconds')
    >>> kind_of("user_id")
    'plain'
    >>> kind_of("costs_rows"), kind_of("cost")
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
        return "percent"
    if any(t in MONEY_TOKENS for t in tokens):
        return "money"
    if tokens[-1] == "days":
        return "days"
    return "number"


def format_value(name: str, value: Any, *, currency: str = "USD") -> str:
    """Format ``value`` for display according to the kind its ``name`` implies.

    >>> format_value("retention_1", 0.4567), format_value("ltv_6", 1234.5), format_value("n", 1e4)
    ('45.7%', '$1,234.50', '10,000')
    >>> format_value("session_length_mean_s", 605.0), format_value("romi", float("nan"))
    ('10 min 5 s', '—')
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
    kind = kind_of(name)
    if kind == "plain":
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    if kind == "percent":
        return percent(float(value))
    if kind == "money":
        # Cells keep cents up to 100,000 and an ASCII minus, like the other numbers.
        return money(float(value), currency, whole_from=100_000, minus="-")
    if kind == "seconds":
        return duration(float(value))
    if kind == "days":
        if float(value).is_integer():
            return count_of(int(value), "day")
        return f"{value:,.1f} days"
    return number(value)


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
