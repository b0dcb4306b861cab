"""RFM inputs and customer features (growthlens.metrics.customers) vs a plain-pandas oracle.

The oracle reads the shop demo's raw files (SQLite), cleans them as the case describes
(exact duplicate lines once, negative prices out), and computes every column with pandas
alone, products keyed and grouped by its own code.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from growthlens.demo.shop import write_shop
from growthlens.derive.products import DEFAULT_GROUPS, UNMAPPED
from growthlens.metrics.customers import FEATURE_COLUMNS, customer_features, rfm_inputs
from growthlens.stats.rfm import ABSENT, rfm_scores, segment_movement

DAY_ZERO = date(2023, 1, 1)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, pd.DataFrame]:
    folder: Path = tmp_path_factory.mktemp("shop")
    write_shop(folder, customers=2000, seed=11)
    ds = gl.load(folder)
    with sqlite3.connect(folder / "shop_database.db") as con:
        raw = pd.read_sql_query("SELECT * FROM purchases", con)
    clean = raw[~raw.duplicated(keep="first")]
    clean = clean[clean.cost >= 0].copy()
    return ds, clean


def _key(text: object) -> str | None:
    if not isinstance(text, str) or not text.split():
        return None
    return " ".join(text.lower().split()).replace("ё", "е")


def _group(key: str | None) -> str:
    if key is None:
        return UNMAPPED
    words = key.split(" ")
    for n in range(len(words), 0, -1):  # longest leading phrase first
        phrase = " ".join(words[:n])
        if phrase in DEFAULT_GROUPS:
            return DEFAULT_GROUPS[phrase]
    return UNMAPPED


def _favourite(lines: pd.DataFrame, column: str) -> pd.Series:
    counts = lines.dropna(subset=[column]).groupby(["id", column]).size().rename("n").reset_index()
    counts = counts.sort_values(["id", "n", column], ascending=[True, False, True])
    return counts.drop_duplicates("id").set_index("id")[column]


def _oracle_features(clean: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    lines = clean[(clean.dt >= first) & (clean.dt <= last)].copy()
    lines["group"] = lines["product"].map(_key).map(_group)
    lines["primary"] = lines["colour"].map(lambda c: _key(c.split("/")[0]) if c else None)
    per = lines.groupby("id").agg(
        spend=("cost", "sum"),
        lines=("cost", "size"),
        orders=("dt", "nunique"),
        discount_share=("base_sale", lambda s: float((s.fillna(0) != 0).mean())),
        first_day=("dt", "min"),
        last_day=("dt", "max"),
    )
    per["favourite_group"] = _favourite(lines, "group")
    per["favourite_colour"] = _favourite(lines, "primary")
    return per


def _oracle_rfm(clean: pd.DataFrame, first: int, last: int, at: int) -> pd.DataFrame:
    lines = clean[(clean.dt >= first) & (clean.dt <= last)]
    orders = lines.groupby(["id", "dt"]).cost.sum().reset_index()
    per = orders.groupby("id").agg(
        frequency=("dt", "size"), monetary=("cost", "sum"), last=("dt", "max"), first=("dt", "min")
    )
    per["recency"] = at - per["last"]
    return per


@pytest.mark.parametrize(("window", "at"), [(None, None), ((10, 40), 45)])
def test_rfm_inputs_match_the_oracle(
    shop: tuple[Dataset, pd.DataFrame], window: tuple[int, int] | None, at: int | None
) -> None:
    ds, clean = shop
    got = rfm_inputs(ds, window=window, at=at).set_index("user_id")
    first, last = window or (0, 58)
    want = _oracle_rfm(clean, first, last, 58 if at is None else at)
    assert len(got) == len(want) > 500
    assert sorted(got.index.astype("int64")) == sorted(want.index)
    want = want.loc[got.index.astype("int64")]
    np.testing.assert_array_equal(got.recency.to_numpy(), want.recency.to_numpy())
    np.testing.assert_array_equal(got.frequency.to_numpy(), want.frequency.to_numpy())
    np.testing.assert_allclose(got.monetary.to_numpy(), want.monetary.to_numpy())
    days = [(d - DAY_ZERO).days for d in got.last_order]
    np.testing.assert_array_equal(days, want["last"].to_numpy())
    assert got.recency.min() == (0 if at is None else at - last)


def test_rfm_inputs_rejects_at_before_the_window_end(shop: tuple[Dataset, pd.DataFrame]) -> None:
    ds, _ = shop
    with pytest.raises(ValueError, match="on or after the window's last day"):
        rfm_inputs(ds, window=(0, 30), at=20)
    empty = rfm_inputs(ds, window=(100, 120))
    assert empty.empty and list(empty.columns)[:4] == [
        "user_id",
        "recency",
        "frequency",
        "monetary",
    ]


@pytest.mark.parametrize("history", [None, (10, 40)])
def test_customer_features_match_the_oracle(
    shop: tuple[Dataset, pd.DataFrame], history: tuple[int, int] | None
) -> None:
    ds, clean = shop
    got = customer_features(ds, history=history).set_index("user_id")
    got.index = got.index.astype("int64")
    first, last = history or (0, 58)
    want = _oracle_features(clean, first, last)
    customers = ds.table("customers").to_pandas().set_index("user_id")
    customers.index = customers.index.astype("int64")
    # rows: every profile plus buyers without one
    assert set(got.index) == set(customers.index) | set(want.index)
    assert got.index.is_monotonic_increasing
    assert list(got.columns[: len(FEATURE_COLUMNS) - 1]) == list(FEATURE_COLUMNS[1:])
    assert got.has_profile.sum() == len(customers)
    assert set(got.index[~got.has_profile]) == set(want.index) - set(customers.index)
    buyers = got.loc[want.index]
    np.testing.assert_allclose(buyers.spend, want.spend)
    for col in ("lines", "orders", "first_day", "last_day"):
        np.testing.assert_array_equal(buyers[col].astype("int64"), want[col], err_msg=col)
    np.testing.assert_allclose(buyers.discount_share, want.discount_share)
    assert buyers.favourite_group.tolist() == want.favourite_group.tolist()
    assert buyers.favourite_colour.tolist() == want.favourite_colour.tolist()
    assert UNMAPPED not in set(buyers.favourite_group)
    rest = got.drop(index=want.index)
    assert (rest.spend == 0).all() and (rest.lines == 0).all() and (rest.orders == 0).all()
    assert rest.favourite_group.isna().all() and rest.discount_share.isna().all()
    assert rest.last_day.isna().all()
    # profile attributes carried unchanged
    shared = customers.index
    for col in customers.columns:
        pd.testing.assert_series_equal(
            got.loc[shared, col], customers[col], check_names=False, check_dtype=False
        )
    assert got.first_purchase.dropna().min() >= DAY_ZERO + timedelta(days=first)


def test_buyers_only_and_orders_as_spend(shop: tuple[Dataset, pd.DataFrame]) -> None:
    ds, _ = shop
    feats = customer_features(ds, buyers_only=True)
    rfm = rfm_inputs(ds)
    assert len(feats) == len(rfm) and (feats.lines > 0).all()
    merged = feats.merge(rfm, on="user_id")
    np.testing.assert_allclose(merged.spend, merged.monetary)
    np.testing.assert_array_equal(merged.orders, merged.frequency)


def test_movement_between_two_cumulative_periods(shop: tuple[Dataset, pd.DataFrame]) -> None:
    ds, _ = shop
    a = rfm_scores(rfm_inputs(ds, window=(0, 29)))
    b = rfm_scores(rfm_inputs(ds, window=(0, 58)))
    assert a.status == b.status == "ok"
    move = segment_movement(a.table, b.table)
    # cumulative windows: nobody scored in A is absent from B; B's newcomers come from absent
    assert move[(move.after == ABSENT)].customers.sum() == 0
    newcomers = move[move.before == ABSENT].customers.sum()
    assert newcomers == len(b.table) - len(a.table)
    assert move.customers.sum() == len(b.table)
    assert b.segments.revenue.sum() == pytest.approx(b.table.monetary.sum())


def test_orders_without_lines_or_profiles_hand_computed() -> None:
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 2],
            "ts": pd.to_datetime(["2023-01-01", "2023-01-03", "2023-01-02"]),
            "revenue": [10.0, 0.0, 5.0],
        }
    )
    ds = gl.load(orders=orders)
    f = customer_features(ds).set_index("user_id")
    assert f.spend.tolist() == [10.0, 5.0] and f.orders.tolist() == [2, 1]
    assert f.lines.tolist() == [2, 1]  # without lines each order is a row
    assert f.first_day.tolist() == [0, 1] and f.last_day.tolist() == [2, 1]
    assert not f.has_profile.any() and f.favourite_group.isna().all()
    assert f.discount_share.isna().all()
    r = rfm_inputs(ds, at=date(2023, 1, 10)).set_index("user_id")
    assert r.recency.tolist() == [7, 8] and r.frequency.tolist() == [2, 1]
    assert r.monetary.tolist() == [10.0, 5.0]


def test_money_sums_do_not_depend_on_the_order_of_addition() -> None:
    """0.1 + 0.2 is 0.30000000000000004 in floats: a buyer of 0.1 and 0.2 and a buyer of 0.3
    spent the same, and every per-customer money column says so (MONEY_DECIMALS), so
    quantile ties and distinct counts do not turn on the order an engine adds rows in."""
    from growthlens.metrics.customers import MONEY_DECIMALS, clv_inputs

    assert 0.1 + 0.2 != 0.3 and MONEY_DECIMALS == 6
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3, 3, 3],
            "ts": pd.to_datetime(
                ["2023-01-01", "2023-01-02", "2023-01-01", "2023-01-01", "2023-01-03", "2023-01-03"]
            ),
            # Buyer 3's later day holds 0.1 + 0.2 in two orders: its day revenue is 0.3.
            "revenue": [0.1, 0.2, 0.3, 0.3, 0.1, 0.2],
        }
    )
    ds = gl.load(orders=orders, window=("2023-01-01", "2023-01-10"))
    spend = customer_features(ds).set_index("user_id").spend
    assert spend.loc[1] == spend.loc[2] == 0.3 and spend.loc[3] == 0.6
    monetary = rfm_inputs(ds).set_index("user_id").monetary
    assert monetary.loc[1] == monetary.loc[2] == 0.3 and monetary.nunique() == 2
    clv = clv_inputs(ds).set_index("user_id")
    # Mean revenue of the purchase days after the first: 0.2 for buyer 1, 0.3 for buyer 3.
    assert clv.monetary.loc[1] == 0.2 and clv.monetary.loc[3] == 0.3
    # A sum with more decimals than money has keeps six of them.
    fine = gl.load(orders=orders.assign(revenue=[1.0000016, 1.0, 2.0, 1.0, 1.0, 1.0]))
    assert customer_features(fine).set_index("user_id").spend.loc[1] == 2.000002
