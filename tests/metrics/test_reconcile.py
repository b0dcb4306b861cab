"""The engine part of the reconciliation (growthlens.metrics.reconcile): totals on a
hand-made pair, the time precision, the key-less pairing over several rounds against a
plain greedy pairing, and rows without a key."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.metrics.reconcile import (
    KeylessRule,
    has_time_of_day,
    precision_of,
    reconcile_frames,
    shared_columns,
)
from tests.oracle import reconcile as oracle

D0 = datetime(2024, 1, 1)
WINDOW = ("2024-01-01", "2024-12-31")


def _load(orders: list[tuple[Any, ...]], reference: list[tuple[Any, ...]]) -> gl.Dataset:
    cols = ["order_id", "user_id", "ts", "revenue"]
    return gl.load(
        orders={"sources": [pd.DataFrame(orders, columns=cols)], "duplicates": "keep"},
        conversions_reference={
            "sources": [pd.DataFrame(reference, columns=cols)],
            "duplicates": "keep",
        },
        window=WINDOW,
    )


def _run(ds: gl.Dataset, keyless: KeylessRule | None = None, key: str | None = "order_id"):  # type: ignore[no-untyped-def]
    return reconcile_frames(
        ds,
        key=key,
        tolerance=0.01,
        window=None,
        keyless=keyless,
        columns=shared_columns(ds, key),
    )


def test_totals_of_a_small_pair() -> None:
    orders = [
        ("a", 1, D0, 10.0),
        ("a", 1, D0 + timedelta(hours=1), 10.0),
        ("a", 1, D0 + timedelta(hours=2), 4.0),
        ("b", 2, D0, 0.0),
        (None, 3, D0, 7.0),
    ]
    reference = [("a", 1, D0, 10.0), ("b", 2, D0, 0.0), ("c", 4, D0, 3.0)]
    rec = _run(_load(orders, reference))
    t = rec.totals
    assert (t["loaded_orders"], t["rows_orders"], t["no_key_orders"]) == (5, 3, 1)
    assert (t["dup_keys_orders"], t["dup_rows_orders"], t["dup_revenue_orders"]) == (1, 2, 14.0)
    assert t["join_extra_rows"] == 2  # a: 3 × 1 − 1
    assert (t["matched"], t["exact"], t["matched_revenue"]) == (2, 2, 10.0)
    assert (t["missing_orders"], t["missing_revenue_orders"]) == (1, 3.0)
    # The row without a key has no partner: missing in the reference.
    assert (t["missing_reference"], t["missing_no_key_reference"]) == (1, 1)
    assert (t["zero_keys_orders"], t["zero_keys_reference"]) == (1, 1)
    assert rec.precision == "day"  # every time is midnight
    assert list(rec.mismatches["column"]) == ["revenue", "ts", "user_id"]
    by_day = rec.missing_by_day.set_index("missing_in")
    assert by_day.loc["orders", "missing"] == 1 and by_day.loc["orders", "base"] == 4


def test_precision_is_the_coarser_side() -> None:
    ds = _load([("a", 1, D0 + timedelta(hours=3), 1.0)], [("a", 1, D0, 1.0)])
    assert precision_of(ds, [("orders", "ts")]) == "second"
    assert precision_of(ds, [("orders", "ts"), ("conversions_reference", "ts")]) == "day"
    t = ds.table("orders")
    assert bool(t.aggregate(x=has_time_of_day(t.ts)).to_pyarrow()["x"][0].as_py())


def test_keyless_pairing_takes_several_rounds_and_equals_the_greedy_pairing() -> None:
    """A chain: o1–r1 (1 h) beats o2–r1 (2 h); then o2–r2 (3 h) beats o3–r2 (4 h); then
    o3–r3 (5 h). Each round pairs the mutually best, so three rounds are needed."""
    h = timedelta(hours=1)
    orders = [("o1", 1, D0, 5.0), ("o2", 1, D0 + 3 * h, 5.0), ("o3", 1, D0 + 10 * h, 5.0)]
    reference = [
        ("r1", 1, D0 + h, 5.0),
        ("r2", 1, D0 + 6 * h, 5.0),
        ("r3", 1, D0 + 15 * h, 5.0),
    ]
    rec = _run(_load(orders, reference), KeylessRule(time_s=6 * 3600, revenue=0.0))
    assert rec.totals["keyless"] == 3
    pairs = rec.examples[rec.examples["class"] == "matched_without_key"]["key"].tolist()
    assert pairs == ["o1 ~ r1", "o2 ~ r2", "o3 ~ r3"]


@pytest.mark.parametrize("seed", range(4))
def test_keyless_pairing_agrees_with_the_oracle_on_crowded_users(seed: int) -> None:
    rng = random.Random(seed)
    orders, reference = [], []
    for n in range(40):
        user = rng.randrange(3)  # few users: many competing candidates
        ts = D0 + timedelta(days=1, minutes=rng.randrange(0, 3 * 1440))
        reference.append((f"r{n:02d}", user, ts, 10.0))
        if rng.random() < 0.8:
            orders.append(
                (f"o{n:02d}", user, ts + timedelta(minutes=rng.randrange(-600, 600)), 10.0)
            )
    rule = (86400 // 2, 0.0)
    want = oracle.reconcile(
        [dict(zip(["order_id", "user_id", "ts", "revenue"], r, strict=True)) for r in orders],
        [dict(zip(["order_id", "user_id", "ts", "revenue"], r, strict=True)) for r in reference],
        extras=(),
        keyless=rule,
    )
    rec = _run(_load(orders, reference), KeylessRule(*rule))
    assert rec.totals["keyless"] == want["matched_without_key"][0]
    assert rec.totals["missing_orders"] == want["missing_in_orders"][0]


def test_key_none_pairs_every_row() -> None:
    rows = [(None, 1, D0, 1.0), (None, 1, D0 + timedelta(minutes=5), 1.0)]
    rec = _run(_load(rows, list(rows)), KeylessRule(time_s=60, revenue=0.0), key=None)
    assert rec.totals["keyless"] == 2
    assert rec.totals["matched"] == 0
    assert rec.totals["missing_orders"] == rec.totals["missing_reference"] == 0
