"""The real Yandex.Afisha exports load through the preset, checked against plain pandas.

The oracle reads ids with dtype=str: pandas' pyarrow CSV engine with a uint64 dtype
silently corrupts ids above 2**63, so no numeric id path is trusted here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl

AFISHA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "yandex_afisha"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not (AFISHA / "orders_log_us.csv").exists(),
        reason=f"real exports not found at {AFISHA} (they live outside the repository)",
    ),
]


@pytest.fixture(scope="module")
def oracle() -> dict[str, pd.DataFrame]:
    return {
        "orders": pd.read_csv(AFISHA / "orders_log_us.csv", dtype=str),
        "costs": pd.read_csv(AFISHA / "costs_us.csv", dtype=str),
    }


@pytest.fixture(scope="module")
def ds() -> gl.Dataset:
    return gl.load(orders=AFISHA / "orders_log_us.csv", costs=AFISHA / "costs_us.csv")


def test_preset_recognised(ds: gl.Dataset) -> None:
    assert ds.quality.table_counts("orders").preset == "yandex_afisha"
    assert ds.quality.table_counts("costs").preset == "yandex_afisha"


def test_ids_above_2_63_intact(ds: gl.Dataset, oracle: dict[str, pd.DataFrame]) -> None:
    expected = oracle["orders"]["Uid"]
    assert (expected.map(int) >= 2**63).sum() > 10_000  # the point of the test
    loaded = pd.Series(
        [str(v) for v in ds.table("orders").user_id.to_pyarrow().to_pylist()], dtype=str
    )
    # One order (2018-06-01) is outside the window; compare the multisets otherwise.
    outside = oracle["orders"]["Buy Ts"] >= "2018-06-01"
    assert sorted(loaded) == sorted(expected[~outside])
    assert ds.table("orders").user_id.type().is_unsigned_integer()


def test_totals_match_pandas(ds: gl.Dataset, oracle: dict[str, pd.DataFrame]) -> None:
    orders, costs = oracle["orders"], oracle["costs"]
    o = ds.quality.table_counts("orders")
    c = ds.quality.table_counts("costs")
    assert o.loaded == len(orders) == 50_415
    assert c.loaded == len(costs) == 2_542
    for counts in (o, c):
        assert counts.loaded == counts.accepted + counts.excluded
    outside = orders["Buy Ts"] >= "2018-06-01"
    assert outside.sum() == 1
    assert o.excluded_by_reason == {"out_of_window": 1}
    assert c.excluded == 0
    assert ds.window == (date(2017, 6, 1), date(2018, 5, 31))
    revenue = ds.table("orders").revenue.sum().to_pyarrow().as_py()
    assert revenue == pytest.approx(orders["Revenue"].astype(float)[~outside].sum(), abs=1e-6)
    cost = ds.table("costs").cost.sum().to_pyarrow().as_py()
    assert cost == pytest.approx(costs["costs"].astype(float).sum(), abs=1e-6)
    zero = next(f for f in ds.quality.findings if f.check == "zero_revenue")
    assert zero.rows == (orders["Revenue"].astype(float)[~outside] == 0).sum() == 51


def test_orders_alone_keep_the_june_order() -> None:
    """Without costs the window ends at the last order, so nothing is out of window."""
    ds = gl.load(orders=AFISHA / "orders_log_us.csv")
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (50_415, 50_415)
    assert counts.last == date(2018, 6, 1)
