"""The demo's journeys domain: touchpoints and reference conversions, every count recovered.

The truths are recomputed from the written CSV files with plain pandas (ids as
integers, never through a float): the journeys by their definition from visits and
orders, the reconciliation classes by DESIGN §4 "Reconciliation".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.demo import write_demo

USERS = 20_000
SEED = 13
LOOKBACK = pd.Timedelta(days=30)


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    files = write_demo(tmp_path_factory.mktemp("journeys"), users=USERS, seed=SEED)
    ids = {"Uid": "uint64", "Order Id": "int64", "Session Id": "int64"}
    return {
        "visits": pd.read_csv(
            files["visits"],
            dtype=ids,
            usecols=["Uid", "Start Ts", "Session Id"],
            parse_dates=["Start Ts"],
        ),
        "orders": pd.read_csv(files["orders"], dtype=ids, parse_dates=["Buy Ts"]),
        "reference": pd.read_csv(files["conversions_reference"], dtype=ids, parse_dates=["Buy Ts"]),
        "touchpoints": pd.read_csv(files["touchpoints"]),
        "costs": pd.read_csv(files["costs"]),
        "truth": json.loads(files["truth"].read_text()),
        "files": files,
    }


# ---- journeys ------------------------------------------------------------------------------
def _journeys_by_definition(visits: pd.DataFrame, orders: pd.DataFrame) -> set[tuple[int, int]]:
    """(order id, session id): sessions starting in the 30 days up to the order, after
    the user's previous order."""
    o = orders.sort_values(["Uid", "Buy Ts", "Order Id"]).copy()
    o["prev"] = o.groupby("Uid")["Buy Ts"].shift()
    pairs = o.merge(visits, on="Uid")
    start = pairs["Start Ts"]
    inside = (start <= pairs["Buy Ts"]) & (start >= pairs["Buy Ts"] - LOOKBACK)
    inside &= pairs["prev"].isna() | (start > pairs["prev"])
    kept = pairs.loc[inside]
    return set(zip(kept["Order Id"], kept["Session Id"], strict=True))


def test_touchpoints_are_the_lookback_journeys_plus_the_planted(frames: dict[str, Any]) -> None:
    truth, t = frames["truth"], frames["touchpoints"]
    visits, orders = frames["visits"], frames["orders"]
    assert list(t.columns) == ["conversion_id", "session_id", "weight"]
    totals = truth["journeys_totals"]
    assert len(t) == totals["touchpoints"] and t["conversion_id"].nunique() == totals["journeys"]
    assert totals["conversions"] == len(orders) == totals["journeys"] + totals["without_touch"]
    assert not t.duplicated(["conversion_id", "session_id"]).any()

    touches = t.merge(orders, left_on="conversion_id", right_on="Order Id", how="left")
    touches = touches.merge(
        visits, left_on="session_id", right_on="Session Id", how="left", suffixes=("", "_session")
    )
    assert touches["Order Id"].notna().all() and touches["Session Id"].notna().all()
    assert (touches["Uid"] == touches["Uid_session"]).all()  # the buyer's own sessions
    later = touches["Start Ts"] > touches["Buy Ts"]
    after = truth["journeys_after_conversion"]
    assert (
        later.sum() == after["sessions"]
        and touches.loc[later, "conversion_id"].nunique() == (after["journeys"])
    )
    assert after["journeys"] >= 3
    # Every other touch is exactly the journey by definition, and vice versa.
    given = set(
        zip(touches.loc[~later, "conversion_id"], touches.loc[~later, "session_id"], strict=True)
    )
    assert given == _journeys_by_definition(visits, orders)
    # A session is in one journey at most (the planted later sessions too).
    assert t["session_id"].is_unique


def test_weights_sum_to_one_except_the_planted(frames: dict[str, Any]) -> None:
    truth, t = frames["truth"], frames["touchpoints"]
    sums = t.groupby("conversion_id")["weight"].sum()
    off = (sums - 1).abs() > 1e-6
    assert off.sum() == truth["journeys_weights_off"]["journeys"] >= 3
    assert (sums[off] - 1).sum() == pytest.approx(truth["journeys_weights_off"]["gained"])
    assert ((sums[off] - 1).abs() >= 0.1 - 1e-9).all()
    assert (t["weight"] > 0).all()
    later = set(
        t.merge(frames["orders"], left_on="conversion_id", right_on="Order Id")
        .merge(frames["visits"], left_on="session_id", right_on="Session Id")
        .query("`Start Ts` > `Buy Ts`")["conversion_id"]
    )
    assert not later & set(sums[off].index)  # the two planted classes are disjoint


# ---- reconciliation ----------------------------------------------------------------------------
def _first_per_key(table: pd.DataFrame) -> pd.DataFrame:
    """The kept row per key: earliest time, then the remaining columns as text."""
    text = table.astype(str)
    order = text.assign(ts=table["Buy Ts"]).sort_values(["Order Id", "ts", "Uid", "Revenue"]).index
    return table.loc[order].drop_duplicates("Order Id").set_index("Order Id")


def test_reconciliation_classes_are_exact(frames: dict[str, Any]) -> None:
    truth = frames["truth"]["journeys_reconciliation"]
    orders, reference = frames["orders"], frames["reference"]
    assert list(reference.columns) == list(orders.columns)
    assert (len(orders), len(reference)) == (truth["orders_rows"], truth["reference_rows"])
    assert orders["Order Id"].is_unique and truth["duplicated_orders"]["keys"] == 0
    repeated = reference["Order Id"].duplicated(keep=False)
    r = _first_per_key(reference)
    o = orders.set_index("Order Id")
    dup = truth["duplicated_reference"]
    assert reference.loc[repeated, "Order Id"].nunique() == dup["keys"] > 0
    assert len(reference) - len(r) == dup["extra_rows"] > dup["keys"]
    assert reference["Revenue"].sum() - r["Revenue"].sum() == pytest.approx(dup["extra_revenue"])
    for side, table in (("orders", orders), ("reference", reference)):
        zero = table.loc[table["Revenue"] == 0, "Order Id"].nunique()
        assert (
            zero
            == truth[f"zero_revenue_{side}"]
            == frames["truth"]["anomalies"]["zero_revenue_orders"]
        )

    only_r, only_o = r.loc[r.index.difference(o.index)], o.loc[o.index.difference(r.index)]
    day_r, day_o = (
        only_r["Buy Ts"].dt.strftime("%Y-%m-%d"),
        only_o["Buy Ts"].dt.strftime("%Y-%m-%d"),
    )
    outage = frames["truth"]["journeys_outage"]
    days = list(pd.date_range(outage["first"], outage["last"]).strftime("%Y-%m-%d"))
    assert days == ["2018-02-10", "2018-02-11", "2018-02-12"]
    on = day_r.isin(days)
    assert on.sum() == truth["outage"]["rows"]
    assert only_r.loc[on, "Revenue"].sum() == pytest.approx(truth["outage"]["revenue"])
    on_days = reference["Buy Ts"].dt.strftime("%Y-%m-%d").isin(days)
    assert on_days.sum() == truth["outage"]["reference_rows"]
    assert truth["outage"]["rows"] >= 0.8 * truth["outage"]["reference_rows"]
    assert (~on).sum() == truth["missing_in_orders"]["rows"] > 0
    assert only_r.loc[~on, "Revenue"].sum() == pytest.approx(truth["missing_in_orders"]["revenue"])
    assert day_r.value_counts().sort_index().to_dict() == truth["missing_in_orders_by_day"]
    assert day_o.value_counts().sort_index().to_dict() == truth["missing_in_reference_by_day"]
    assert len(only_o) == truth["missing_in_reference"]["rows"] > 0
    assert only_o["Revenue"].sum() == pytest.approx(truth["missing_in_reference"]["revenue"])
    daily = day_r.value_counts()
    assert sorted(daily[daily > 5].index) == days  # the outage stands out

    both = o.join(r, how="inner", suffixes=("_o", "_r"))
    assert len(both) == truth["matched"]
    diff = both["Revenue_o"] - both["Revenue_r"]
    mismatch, near = diff.abs() > 0.01, (diff.abs() > 0) & (diff.abs() <= 0.01)
    assert mismatch.sum() == truth["revenue_mismatch"]["rows"] > 0
    assert diff[mismatch].abs().sum() == pytest.approx(truth["revenue_mismatch"]["at_stake"])
    assert diff[mismatch].sum() == pytest.approx(truth["revenue_mismatch"]["net"])
    assert near.sum() == truth["near_miss"]["rows"] > 0
    assert diff[near].abs().sum() == pytest.approx(truth["near_miss"]["abs_difference"])
    moved = both["Buy Ts_o"] != both["Buy Ts_r"]
    assert ((both["Buy Ts_o"] - both["Buy Ts_r"])[moved].abs() >= pd.Timedelta(days=1)).all()
    user = both["Uid_o"] != both["Uid_r"]
    for flag, cls in ((moved, "date_mismatch"), (user, "user_mismatch")):
        assert flag.sum() == truth[cls]["rows"] > 0, cls
        assert both.loc[flag, "Revenue_r"].sum() == pytest.approx(truth[cls]["revenue"]), cls
    flags = pd.DataFrame({"revenue": diff != 0, "date": moved, "user": user})
    assert (flags.sum(axis=1) <= 1).all()
    assert (flags.sum(axis=1) == 0).sum() == truth["clean"]
    assert truth["market_mismatch"]["rows"] == 0  # the sales orders have no market
    # Every reference row lies in the data window, but the lone late order (kept as is).
    end = pd.Timestamp(frames["truth"]["window"][1]) + pd.Timedelta(days=1)
    assert (reference["Buy Ts"] >= pd.Timestamp(frames["truth"]["window"][0])).all()
    assert (reference["Buy Ts"] >= end).sum() == 1


def test_cost_clicks_and_impressions(frames: dict[str, Any]) -> None:
    costs, anomalies = frames["costs"], frames["truth"]["anomalies"]
    no_clicks = (costs["costs"] > 0) & (costs["clicks"] == 0)
    below = costs["impressions"] < costs["clicks"]
    assert no_clicks.sum() == anomalies["cost_without_clicks"] >= 3
    assert below.sum() == anomalies["impressions_below_clicks"] >= 3
    assert not (no_clicks & below).any()
    normal = ~no_clicks & ~below
    assert ((costs.loc[normal, "clicks"] > 0) == (costs.loc[normal, "costs"] > 0)).all()
    ctr = costs["clicks"] / costs["impressions"].replace(0, np.nan)
    assert ctr[normal].dropna().between(0.002, 0.2).mean() > 0.99


# ---- determinism and the loaded demo ---------------------------------------------------
def test_same_seed_same_journeys(tmp_path: Path) -> None:
    a = write_demo(tmp_path / "a", users=3_000, seed=8, format="parquet")
    b = write_demo(tmp_path / "b", users=3_000, seed=8, format="parquet")
    c = write_demo(tmp_path / "c", users=3_000, seed=9, format="parquet")
    for name in ("touchpoints", "conversions_reference"):
        assert a[name].read_bytes() == b[name].read_bytes()
        assert a[name].read_bytes() != c[name].read_bytes()


def test_demo_loads_touchpoints_and_the_reference() -> None:
    ds = gl.demo(users=5_000, seed=2)
    truth = ds.truth
    assert truth is not None
    touchpoints = ds.table("touchpoints")
    assert touchpoints.count().to_pyarrow().as_py() == truth["journeys_totals"]["touchpoints"]
    # The load keeps the duplicated keys (a reconciliation class) and excludes the lone
    # order after the window, as it does from the orders.
    counts = ds.quality.table_counts("conversions_reference")
    recon = truth["journeys_reconciliation"]
    assert recon["out_of_window_matched"] == 1
    assert counts.loaded == recon["reference_rows"]
    assert counts.excluded_by_reason == {"out_of_window": 1}
    rows = ds.table("conversions_reference").count().to_pyarrow().as_py()
    assert rows == counts.accepted == recon["reference_rows"] - 1
    kept = [f for f in ds.quality.findings if f.check == "duplicate_key_kept"]
    assert [f.rows for f in kept] == [recon["duplicated_reference"]["extra_rows"]]
    assert [d.isoformat() for d in ds.window] == truth["window"]
    assert {"order_id", "session_id"} <= set(ds.table("orders").columns) | set(
        ds.table("sessions").columns
    )
