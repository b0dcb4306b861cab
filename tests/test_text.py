"""The wording helpers' examples (their docstrings) hold, and the edge cases read right."""

from __future__ import annotations

import doctest
import math

import pandas as pd

from growthlens import text as wording


def test_docstring_examples() -> None:
    result = doctest.testmod(wording)
    assert result.attempted >= 4
    assert result.failed == 0


def test_money_signs_and_units() -> None:
    assert wording.money(-1234.4, "USD") == "−$1,234"
    assert wording.money(99.999, "RUB") == "100.00 RUB"
    assert wording.money(math.inf, "USD") == "n/a"


def test_listing_and_units() -> None:
    values = [str(i) for i in range(8)]
    assert wording.listing(values) == "0, 1, 2, 3, 4 … and 3 more"
    assert wording.listing(values[:2]) == "0, 1"
    assert wording.age_unit("month", 1) == "month"
    assert wording.age_unit("week", 3) == "weeks"
    assert wording.period_label(pd.Timestamp("2018-03-01"), "month") == "2018-03"
    assert wording.period_label(pd.Timestamp("2018-03-05"), "week") == "2018-03-05"


def test_sort_key_natural_for_text_only() -> None:
    frame = pd.DataFrame({"source": ["10", "2", "ads"], "n": [3, 1, 2]})
    assert frame.sort_values("source", key=wording.sort_key)["source"].tolist() == [
        "2",
        "10",
        "ads",
    ]
    assert frame.sort_values("n", key=wording.sort_key)["n"].tolist() == [1, 2, 3]


def test_money_without_a_symbol_or_code_has_no_trailing_space() -> None:
    assert wording.money(12.5, "") == "12.50"
    assert wording.money(-0.001, "XYZ") == "0.00 XYZ"
