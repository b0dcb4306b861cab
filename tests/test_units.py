"""The number formatter on a table of cases (issue 18, "One number format").

Every row is (value, unit, currency, expected text), written out by hand. The rules the
table pins: no minus on a shown zero, no exponent notation however huge or tiny, ``—`` for
anything missing or infinite, currencies with a symbol before and without one after the
amount, p-values never ``4e-05`` and never ``0.050`` for a p below 0.05, counts whole (half
away from zero: a count is whole by definition, an average of counts declares ``number``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from growthlens.units import UNITS, format_unit, format_value, unit_of

CASES: list[tuple[Any, str, str, str]] = [
    # negative zero: never "-0", "-0%", "-$0.00"
    (-0.0, "money", "USD", "$0.00"),
    (-0.004, "money", "USD", "$0.00"),
    (-0.004, "money", "RUB", "0.00 RUB"),
    (-0.0, "share", "USD", "0%"),
    (-0.0, "percent", "USD", "0%"),
    (-0.0, "count", "USD", "0"),
    (-0.4, "count", "USD", "0"),
    (-0.0, "number", "USD", "0"),
    (-0.0, "ratio", "USD", "0"),
    (-0.0, "times", "USD", "0×"),
    (-0.0, "days", "USD", "0 days"),
    (-0.01, "days", "USD", "0 days"),
    (-0.0, "seconds", "USD", "0 s"),
    (-0.4, "seconds", "USD", "-0.4 s"),
    (-0.0, "plain", "USD", "0"),
    (-1e-12, "share", "USD", "> -0.000001%"),
    (-0.0001, "share", "USD", "-0.01%"),
    # huge: separators, never an exponent
    (1e15, "money", "USD", "$1,000,000,000,000,000"),
    (-1e15, "money", "EUR", "-€1,000,000,000,000,000"),
    (1e15, "count", "USD", "1,000,000,000,000,000"),
    (10**15, "count", "USD", "1,000,000,000,000,000"),
    (1e15, "number", "USD", "1,000,000,000,000,000"),
    (1e15, "times", "USD", "1,000,000,000,000,000×"),
    (12.5e6, "share", "USD", "1,250,000,000.0%"),
    # tiny: fixed point to the first significant digits, a floor below 0.000001
    (1e-9, "share", "USD", "< 0.000001%"),
    (2e-7, "share", "USD", "0.00002%"),
    (0.00002, "share", "USD", "0.002%"),
    (1e-9, "number", "USD", "< 0.000001"),
    (-1e-9, "number", "USD", "> -0.000001"),
    (4e-05, "number", "USD", "0.00004"),
    (0.012345, "number", "USD", "0.0123"),
    (1e-9, "money", "USD", "$0.00"),
    (1e-9, "times", "USD", "< 0.000001×"),
    # missing, whatever the unit
    (math.nan, "money", "USD", "—"),
    (math.inf, "share", "USD", "—"),
    (-math.inf, "count", "USD", "—"),
    (None, "count", "USD", "—"),
    (pd.NA, "money", "USD", "—"),
    (pd.NaT, "date", "USD", "—"),
    (np.float64("nan"), "p_value", "USD", "—"),
    (np.datetime64("NaT"), "date", "USD", "—"),
    (math.nan, "times", "USD", "—"),
    # currencies: a symbol before, an ISO code after, whole-number currencies, any case
    (1234.5, "money", "USD", "$1,234.50"),
    (-1234.5, "money", "USD", "-$1,234.50"),
    (1234.5, "money", "EUR", "€1,234.50"),
    (1234.5, "money", "RUB", "1,234.50 RUB"),
    (-1234.5, "money", "RUB", "-1,234.50 RUB"),
    (1234.5, "money", "XYZ", "1,234.50 XYZ"),
    (1234.5, "money", "usd", "$1,234.50"),
    (1234.4, "money", "JPY", "¥1,234"),
    (123_456.7, "money", "USD", "$123,457"),
    (99_999.994, "money", "USD", "$99,999.99"),
    # p-values: < 0.001 below it, three decimals, four just below 0.05
    (0.00004, "p_value", "USD", "< 0.001"),
    (1e-12, "p_value", "USD", "< 0.001"),
    (0.001, "p_value", "USD", "0.001"),
    (0.00099, "p_value", "USD", "< 0.001"),
    (0.0312, "p_value", "USD", "0.031"),
    (0.0494, "p_value", "USD", "0.049"),
    (0.0496, "p_value", "USD", "0.0496"),
    (0.04999, "p_value", "USD", "0.0499"),
    (0.05, "p_value", "USD", "0.050"),
    (0.0504, "p_value", "USD", "0.050"),
    (1.0, "p_value", "USD", "1.000"),
    # days
    (1, "days", "USD", "1 day"),
    (1.0, "days", "USD", "1 day"),
    (1.04, "days", "USD", "1 day"),
    (2.5, "days", "USD", "2.5 days"),
    (-3, "days", "USD", "-3 days"),
    (12_345, "days", "USD", "12,345 days"),
    # seconds: a rounded minute reads as one
    (45, "seconds", "USD", "45 s"),
    (2.5, "seconds", "USD", "2.5 s"),
    (59.6, "seconds", "USD", "1 min 0 s"),
    (605.0, "seconds", "USD", "10 min 5 s"),
    (-605.0, "seconds", "USD", "-10 min 5 s"),
    (7384, "seconds", "USD", "2 h 3 min"),
    # times: three significant digits, ×
    (2.345, "times", "USD", "2.35×"),
    (2.0, "times", "USD", "2×"),
    (0.8, "times", "USD", "0.8×"),
    (0.0123456, "times", "USD", "0.0123×"),
    (123.4, "times", "USD", "123×"),
    (1234.6, "times", "USD", "1,235×"),
    # counts: whole, half away from zero, separators
    (2.5, "count", "USD", "3"),
    (2.4, "count", "USD", "2"),
    (-2.5, "count", "USD", "-3"),
    (1234.56, "count", "USD", "1,235"),
    (np.int64(1_000_000), "count", "USD", "1,000,000"),
    (np.float32(3.0), "count", "USD", "3"),
    # plain ids and indexes: as they are, exact past 2**53
    (2**63 + 5, "plain", "USD", "9223372036854775813"),
    (np.uint64(2**64 - 1), "plain", "USD", "18446744073709551615"),
    (3.0, "plain", "USD", "3"),
    (1.5, "plain", "USD", "1.5"),
    (0.0000123, "plain", "USD", "0.0000123"),
    # shares and percents
    (0.4567, "share", "USD", "45.7%"),
    (-0.5418, "percent", "USD", "-54.2%"),
    (np.float32(0.25), "share", "USD", "25.0%"),
    # dates and timestamps
    (pd.Timestamp("2018-05-31"), "date", "USD", "2018-05-31"),
    (pd.Timestamp("2018-05-31 12:30"), "date", "USD", "2018-05-31 12:30:00"),
    (pd.Timestamp("2018-05-31", tz="UTC"), "date", "USD", "2018-05-31"),
    (datetime(2018, 5, 31, 8, 0, 1), "date", "USD", "2018-05-31 08:00:01"),
    (date(2018, 5, 31), "date", "USD", "2018-05-31"),
    (np.datetime64("2018-05-31T12:30:00.000000000"), "date", "USD", "2018-05-31 12:30:00"),
    (pd.Period("2018-05", "M"), "date", "USD", "2018-05"),
    # flags and text
    (True, "flag", "USD", "yes"),
    (np.bool_(False), "flag", "USD", "no"),
    (1, "flag", "USD", "yes"),
    (0.0, "flag", "USD", "no"),
    (True, "count", "USD", "yes"),
    ("instagram", "text", "USD", "instagram"),
]


@pytest.mark.parametrize(("value", "unit", "currency", "text"), CASES)
def test_format_unit_table(value: Any, unit: str, currency: str, text: str) -> None:
    assert format_unit(value, unit, currency=currency) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize(
    "value", [-0.0, -1e-300, -0.004, -0.04, -0.4, -1e-9, 1e-300, 1e300, -1e300, 4e-05, 1e15]
)
def test_no_unit_shows_negative_zero_or_an_exponent(value: float, unit: str) -> None:
    text = format_unit(value, unit)  # type: ignore[arg-type]
    digits = [c for c in text if c.isdigit()]
    assert not (text.startswith(("-", "−")) and set(digits) <= {"0"}), text
    assert "e-" not in text and "e+" not in text, text


@pytest.mark.parametrize(
    ("column", "unit"),
    [
        ("odds_ratio", "times"),
        ("ltv_cac_ratio", "times"),  # a multiple, not money
        ("naive_ratio", "times"),
        ("ratio", "times"),
        ("log2_odds_ratio", "number"),  # a logarithm of a multiple is not one
        ("retention_1", "share"),
        ("romi", "share"),
        ("ltv_6", "money"),
        ("user_id", "plain"),
        ("session_length_mean_s", "seconds"),
        ("costs_rows", "number"),
        ("mean_recency_days", "days"),
        ("romi_n", "share"),  # the N-period ROMI, not a count "n"
        ("ltv_n", "money"),
        ("n", "number"),
    ],
)
def test_unit_of_column_names(column: str, unit: str) -> None:
    assert unit_of(column) == unit


def test_format_value_reads_the_column_name() -> None:
    assert format_value("odds_ratio", 2.345) == "2.35×"
    assert format_value("log2_odds_ratio", 1.2) == "1.20"
    assert format_value("romi_n", -0.234) == "-23.4%"
    assert format_value("ltv_6", -0.001, currency="RUB") == "0.00 RUB"


def test_percent_in_sentences_takes_a_typographic_minus() -> None:
    from growthlens.units import percent

    assert percent(-0.1349, minus="−") == "−13.5%"
    assert percent(-0.0004, minus="−") == "−0.04%"
    assert percent(-1e-12, minus="−") == "> −0.000001%"
    assert percent(-0.0, minus="−") == "0%"
