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
    "times",  # a multiple of something (odds ratio, LTV:CAC, lift ×), shown as "2.35×"
    "p_value",
    "number",  # any other quantity
    "plain",  # an identifier or index shown as is (id, age, year, seed)
    "date",
    "text",
    "flag",  # yes / no
]
UNITS: tuple[Unit, ...] = get_args(Unit)

MISSING = "—"
TINY = 1e-6
"""Numbers smaller in size than this read ``< 0.000001`` (shares: ``< 0.000001%``), never
as ``1e-09`` or as a row of zeros."""
SIGNIFICANCE = 0.05
"""A p-value just below this never reads as it (``0.0499``, not ``0.050``)."""
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

    A trailing ``_n`` is the horizon N (``romi_n`` is a ROMI), a lone ``n`` a count. A
    name ending in ``_ratio`` is a multiple (``odds_ratio``, ``ltv_cac_ratio``: ``2.35×``)
    unless it is a logarithm of one (``log2_odds_ratio``: a plain number).

    >>> unit_of("retention_1"), unit_of("ltv_6"), unit_of("session_length_mean_s")
    ('share', 'money', 'seconds')
    >>> unit_of("user_id")
    'plain'
    >>> unit_of("costs_rows"), unit_of("cost")
    ('number', 'money')
    >>> unit_of("odds_ratio"), unit_of("ltv_cac_ratio"), unit_of("log2_odds_ratio")
    ('times', 'times', 'number')
    >>> unit_of("romi_n"), unit_of("ltv_n"), unit_of("n")
    ('share', 'money', 'number')
    """
    tokens = name.lower().split(".")[-1].split("_")
    if tokens[-1] == "n" and len(tokens) > 1:
        # "romi_n", "ltv_n": the figure at horizon N, not a count of things.
        tokens = tokens[:-1]
    if tokens[-1] == "s" and len(tokens) > 1:
        return "seconds"
    if tokens[-1] in COUNT_TOKENS:
        return "number"
    if tokens[-1] == "ratio":
        # Before the money and share words: "ltv_cac_ratio" is a multiple, not money.
        return "number" if any(t.startswith("log") for t in tokens) else "times"
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

    A ``count`` is whole by definition: a fractional value (an average declared as a
    count) is rounded half away from zero, ``2.5`` → ``3``; declare ``number`` to show
    decimals. A number under ``flag`` reads yes for 1 and no for 0.

    >>> format_unit(0.4567, "share"), format_unit(1234.5, "money"), format_unit(1e4, "count")
    ('45.7%', '$1,234.50', '10,000')
    >>> format_unit(0.00004, "p_value"), format_unit(0.0312, "p_value"), format_unit(2.5, "days")
    ('< 0.001', '0.031', '2.5 days')
    >>> format_unit(-0.5418, "percent"), format_unit(True, "flag"), format_unit(None, "money")
    ('-54.2%', 'yes', '—')
    >>> format_unit(2.345, "times"), format_unit(2.5, "count"), format_unit(-0.001, "days")
    ('2.35×', '3', '0 days')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, np.datetime64):
        # .item() of a nanosecond datetime64 is an int: read it as a timestamp instead.
        if np.isnat(value):
            return MISSING
        value = pd.Timestamp(value)
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
    return unsigned_zero(_numeric(value, unit, currency))


def _numeric(value: int | float, unit: Unit, currency: str) -> str:
    if unit == "plain":
        if isinstance(value, int):
            return str(value)  # exact, even past 2**53 (uint64 ids)
        return str(int(value)) if value.is_integer() else significant(value, 6)
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
        rounded = round(float(value), 1)
        if rounded.is_integer():
            return count_of(int(rounded), "day")
        return f"{rounded:,.1f} days"
    if unit == "count":
        return f"{whole(value):,}"
    if unit == "times":
        return times(float(value))
    if unit == "flag" and value in (0, 1):
        return "yes" if value == 1 else "no"
    return number(value)


def unsigned_zero(text: str) -> str:
    """``text`` without its minus when every digit shown is zero (``-0``, ``-0.0%``, ``-0 s``).

    >>> unsigned_zero("-0.0%"), unsigned_zero("−0"), unsigned_zero("-0.5 s"), unsigned_zero("0")
    ('0.0%', '0', '-0.5 s', '0')
    """
    if text[:1] in ("-", "−") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def whole(value: int | float) -> int:
    """``value`` rounded to a whole number, halves away from zero (``2.5`` → 3, ``-2.5`` → −3).

    >>> whole(2.5), whole(2.4), whole(-2.5), whole(-0.4)
    (3, 2, -3, 0)
    """
    if isinstance(value, int):
        return value
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits in fixed point, trailing zeros dropped.

    Never an exponent: from 10**(digits − 1) up whole with separators (``1,235``, not
    ``1,230``), and below :data:`TINY`
    in size ``< 0.000001`` (``> -0.000001`` when negative).

    >>> significant(2.345), significant(0.012345), significant(2.0), significant(123456.7)
    ('2.35', '0.0123', '2', '123,457')
    >>> significant(0.00004), significant(1e-9), significant(-1e-9), significant(9.9996)
    ('0.00004', '< 0.000001', '> -0.000001', '10')
    """
    if value == 0:
        return "0"
    if abs(value) < TINY:
        return f"< {TINY:.6f}" if value > 0 else f"> -{TINY:.6f}"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def times(value: float) -> str:
    """A multiple: three significant digits and ``×`` (``2.35×``, ``0.8×``, ``1,235×``).

    >>> times(2.345), times(0.8), times(1234.6), times(float("nan"))
    ('2.35×', '0.8×', '1,235×', '—')
    """
    if not math.isfinite(value):
        return MISSING
    return unsigned_zero(f"{significant(value, 3)}×")


def p_value(value: float) -> str:
    """A p-value: three decimals, and ``< 0.001`` below that (never ``4e-05``).

    A p just below :data:`SIGNIFICANCE` keeps four decimals, rounded down, so it never
    reads as ``0.050`` (not significant): ``0.0499``.

    >>> p_value(0.5), p_value(0.0499), p_value(0.04999), p_value(0.05), p_value(1e-9)
    ('0.500', '0.0499', '0.0499', '0.050', '< 0.001')
    """
    if value < 0.001:
        return "< 0.001"
    text = f"{value:.3f}"
    if value < SIGNIFICANCE <= float(text):
        text = f"{value:.4f}"
        if float(text) >= SIGNIFICANCE:
            text = f"{SIGNIFICANCE - 0.0001:.4f}"  # [0.04995, 0.05) rounded down
    return text


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
    >>> number(4e-05), number(-1e-9), number(2**63 + 1)
    ('0.00004', '> -0.000001', '9,223,372,036,854,775,809')
    """
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude >= 1000 or (value.is_integer() and magnitude >= 1):
        return unsigned_zero(f"{value:,.0f}")
    if magnitude >= 1:
        return f"{value:,.2f}"
    if magnitude == 0:
        return "0"
    return significant(value, 3)


def percent(share: float, *, minus: str = "-") -> str:
    """A share as a percentage (one decimal, more when needed to show it is not zero).

    Below :data:`TINY` percent in size: ``< 0.000001%`` (``> -0.000001%``). Tables use
    the ASCII minus; sentences pass ``minus="−"`` (ROMI in words: ``ROMI −13.0%``, never a
    bare ``−0.13``).

    >>> percent(0.4567), percent(0.00002), percent(-0.25), percent(1e-11), percent(-0.0)
    ('45.7%', '0.002%', '-25.0%', '< 0.000001%', '0%')
    >>> percent(-0.1349, minus="−"), percent(-0.0000001, minus="−")
    ('−13.5%', '−0.00001%')
    """
    pct = share * 100
    if pct == 0:
        return "0%"
    if abs(pct) < TINY / 2:  # would show as 0.000000%
        return f"< {TINY:.6f}%" if pct > 0 else f"> {minus}{TINY:.6f}%"
    decimals = 1 if abs(pct) >= 0.1 else min(6, -math.floor(math.log10(abs(pct))))
    return unsigned_zero(f"{pct:,.{decimals}f}%").replace("-", minus)


def duration(seconds: float) -> str:
    """Seconds in words: ``45 s``, ``10 min 5 s``, ``2 h 3 min``.

    >>> duration(59.6), duration(-0.2), duration(7384)
    ('1 min 0 s', '-0.2 s', '2 h 3 min')
    """
    if round(abs(seconds)) < 60:
        text = (
            f"{seconds:.0f} s"
            if float(seconds).is_integer() or abs(seconds) >= 10
            else f"{seconds:.1f} s"
        )
        return unsigned_zero(text)
    whole_seconds = round(seconds)
    minutes, secs = divmod(abs(whole_seconds), 60)
    sign = "-" if whole_seconds < 0 else ""
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
