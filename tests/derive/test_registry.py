"""The derived-table door: declared once, built once, kept across `replace`, never stale."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

import growthlens as gl
from growthlens.derive import DERIVED
from growthlens.derive.acquisition import BUYERS, FIRST_ORDERS_TABLE, buyers, first_orders
from growthlens.derive.registry import declare

ORDERS = pd.DataFrame(
    {
        "user_id": [1, 1, 2],
        "ts": pd.to_datetime(["2020-01-05", "2020-02-03", "2020-01-20"]),
        "revenue": [10.0, 5.0, 4.0],
    }
)


def test_every_table_is_declared_once_with_a_description() -> None:
    assert {
        "first_orders",
        "first_sessions",
        "buyer_visits",
        "buyers",
        "order_cells",
        "buyer_cells",
        "activity_profiles",
        "period_profiles",
        "session_lengths",
    } <= set(DERIVED)
    assert all(t.doc and t.needs for t in DERIVED.values())
    with pytest.raises(ValueError, match="declared twice"):
        declare("buyers", "again", needs=("orders",), builder=lambda ds: ds.table("orders"))


def test_built_once_and_shared() -> None:
    ds = gl.load(orders=ORDERS)
    first = buyers(ds, period="month")
    assert buyers(ds, period="month") is first
    assert buyers(ds, period="week") is not first
    assert len(ds.store) == 3  # first orders (from the load) + two buyers tables


def test_the_loads_byproduct_is_reused_not_rebuilt() -> None:
    ds = gl.load(orders=ORDERS)
    assert first_orders(ds) is ds.byproduct(FIRST_ORDERS_TABLE.name)
    assert first_orders(ds) is not None


def test_survives_replace_but_never_serves_other_tables_or_settings() -> None:
    ds = gl.load(orders=ORDERS)
    table = buyers(ds, period="month")
    same = replace(ds, truth={"note": "copy"})
    assert buyers(same, period="month") is table
    other = replace(ds, settings=ds.settings.model_copy(update={"acquisition": "last_touch"}))
    assert len(other.store) == len(ds.store)
    fewer = replace(ds, tables={"orders": ds.table("orders").filter(lambda t: t.user_id == 1)})
    rebuilt = buyers(fewer, period="month")
    assert rebuilt is not table
    assert rebuilt.count().execute() == 1
    assert buyers(ds, period="month").count().execute() == 2


def test_demo_keeps_its_tables_through_replace() -> None:
    demo = gl.demo(users=2_000, seed=1)
    assert len(demo.store) >= 4  # the load's check tables: profiles, first orders, …
    copy = replace(demo, truth=None)
    assert copy.store is demo.store and len(copy.store) >= 4
    assert copy.byproduct("first_orders") is demo.byproduct("first_orders") is not None


def test_a_table_needs_its_inputs() -> None:
    ds = gl.load(orders=ORDERS)
    with pytest.raises(gl.MissingTableError, match="sessions"):
        ds.derived(DERIVED["first_sessions"]())
    assert BUYERS.needs == ("orders",)
