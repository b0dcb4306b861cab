"""Shared wording: money, ratios, shares, counts with their nouns, lists, natural order.

Every sentence of every analysis (findings), the report's tables and the CLI take their
words from here, so a figure reads the same wherever it appears. Formatting a value by
its unit (cards, cells) is :mod:`growthlens.units`, built on these helpers.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

# Listed examples in a sentence before "… and N more".
MAX_LISTED = 5
# Currencies written with a symbol; any other ISO code follows the amount ("1,234 CZK").
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}
# Currencies without a minor unit (ISO 4217): never written with decimals.
WHOLE_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"})


def money(value: float, currency: str, *, whole_from: float = 100, minus: str = "−") -> str:
    """Money for sentences: ``$1,234`` (or ``1,234 RUB``), two decimals below ``whole_from``.

    The report's tables keep cents up to 100,000 and an ASCII minus, like their other
    numbers (``whole_from=100_000, minus="-"``).

    >>> money(1234.4, "USD"), money(2.345, "EUR"), money(50_000, "RUB")
    ('$1,234', '€2.35', '50,000 RUB')
    >>> money(6.94, "JPY"), money(-1234.5, "USD", whole_from=100_000, minus="-")
    ('¥7', '-$1,234.50')
    >>> money(-0.004, "USD"), money(-0.4, "RUB")
    ('$0.00', '−0.40 RUB')
    """
    if not math.isfinite(value):
        return "n/a"
    whole = abs(value) >= whole_from or currency.upper() in WHOLE_CURRENCIES
    text = f"{abs(value):,.0f}" if whole else f"{abs(value):,.2f}"
    # No minus on a shown zero ("-$0.00" for −0.004).
    sign = minus if value < 0 and text.strip("0.,") else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}".rstrip()


def signed(value: float, digits: int = 2) -> str:
    """A ratio with a typographic minus: ``−0.35``, ``0.42``; no minus on a shown zero.

    >>> signed(-0.3549), signed(0.42), signed(float("nan")), signed(-0.001)
    ('−0.35', '0.42', 'n/a', '0.00')
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text.replace("-", "−")


def credit(value: float) -> str:
    """Attributed conversions in words: whole numbers without decimals, shares with one.

    Shown to one decimal, without a trailing ``.0``: a sum of credits that misses a whole
    number by a float's last bit (engines add in another order) reads as the whole number.

    >>> credit(4815.0), credit(611.75), credit(0.04), credit(187.99999999999997)
    ('4,815', '611.8', '0.04', '188')
    """
    if abs(value) < 0.1 and value != 0:
        return f"{value:.2g}"
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def share_text(value: float) -> str:
    """A share as a whole percentage (one decimal below 10%).

    >>> share_text(0.4312), share_text(0.057), share_text(float("nan"))
    ('43%', '5.7%', 'n/a')
    """
    if not math.isfinite(value):
        return "n/a"
    pct = value * 100
    return f"{pct:.1f}%" if abs(pct) < 10 else f"{pct:.0f}%"


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that puts ``"2"`` before ``"10"`` and text after numbers.

    >>> sorted(["10", "2", "ads", "1"], key=natural_key)
    ['1', '2', '10', 'ads']
    """
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def listing(values: list[str], *, limit: int = MAX_LISTED) -> str:
    """``a, b, c`` with at most ``limit`` items, then ``… and N more``."""
    head = ", ".join(values[:limit])
    return head if len(values) <= limit else f"{head} … and {len(values) - limit} more"


def period_label(value: Any, period: str) -> str:
    """A period start as ``2018-03`` (months) or ``2018-03-05`` (days, weeks)."""
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m") if period == "month" else stamp.strftime("%Y-%m-%d")


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun, singular for one.

    >>> count_of(1, "buyer"), count_of(1234, "buyer"), count_of(0, "day")
    ('1 buyer', '1,234 buyers', '0 days')
    >>> count_of(2, "person", "people")
    '2 people'
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def age_unit(period: str, count: float = 2) -> str:
    """``month`` for one, else ``months`` (likewise days and weeks)."""
    return period if count == 1 else f"{period}s"


def money_range(
    frame: pd.DataFrame, value: str, when: str, period: str, currency: str, what: str
) -> str | None:
    """The spread of a money column in words, or None below two rows.

    ``"<what> ranged from $a (2017-06) to $b (2017-12)."``: the lowest and highest ``value``
    of ``frame``'s rows, labelled by their ``when`` period.

    >>> rows = pd.DataFrame({"p": pd.to_datetime(["2020-01-01", "2020-02-01"]), "c": [5.0, 2.5]})
    >>> money_range(rows, "c", "p", "month", "USD", "CAC per cohort")
    'CAC per cohort ranged from $2.50 (2020-02) to $5.00 (2020-01).'
    """
    if len(frame) < 2:
        return None
    values = frame[value].to_numpy(dtype=float)
    low, high = frame.iloc[int(values.argmin())], frame.iloc[int(values.argmax())]
    return (
        f"{what} ranged from {money(float(low[value]), currency)} "
        f"({period_label(low[when], period)}) to {money(float(high[value]), currency)} "
        f"({period_label(high[when], period)})."
    )


def sort_key(column: pd.Series) -> pd.Series:
    """``sort_values`` key: text columns in natural order (see :func:`natural_key`)."""
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        return column.map(natural_key)
    return column


def precise_share(share: float) -> str:
    """A share as a percentage with enough decimals to show it is not zero.

    >>> precise_share(1 / 50_415), precise_share(0.057), precise_share(0.5), precise_share(0.0)
    ('0.002%', '5.7%', '50%', '0%')
    """
    if not share or not math.isfinite(share):
        return "0%" if share == 0 else "n/a"
    pct = share * 100
    decimals = min(6, max(1, -math.floor(math.log10(abs(pct))))) if abs(pct) < 10 else 1
    text = f"{pct:.{decimals}f}"
    if abs(pct) >= 10 and text.endswith(".0"):
        text = text[:-2]
    return f"{text}%"


def romi_text(value: float) -> str:
    """ROMI (or any return) in a sentence: a percentage with one decimal, ``−14.5%``.

    The same figure reads the same in sentences, tables and cards (never ``−0.145``).

    >>> romi_text(-0.1447), romi_text(0.525), romi_text(float("nan")), romi_text(-0.0001)
    ('−14.5%', '52.5%', 'n/a', '0.0%')
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{value * 100:.1f}%"
    return text.removeprefix("-") if float(text[:-1]) == 0 else text.replace("-", "−")


def points_text(value: float) -> str:
    """A change of a share or return in percentage points, signed: ``−2.3 points``.

    >>> points_text(-0.0234), points_text(0.05), points_text(float("nan"))
    ('−2.3 points', '+5.0 points', 'n/a')
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{value * 100:+.1f}"
    if float(text) == 0:
        return "0.0 points"
    return text.replace("-", "−") + " points"
