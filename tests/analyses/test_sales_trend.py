"""Sales trend: a hand-worked fixture, a plain-Python oracle on the demo's raw CSV files, the
first-order rule against LTV's cohorts, and the thin cases.

Fixture (window Fri 2021-01-01 – Sun 2021-01-10, ISO weeks):

    orders  a 01-01 10:00 10 (o1), 01-08 5 (o5)
            b 01-01 12:00 4 (o2) and 6 (o3): same time, o2 first by order id
            c 01-03 20 (o4);  d 01-09 7 (o6), 01-10 3 (o7)
            e 2020-12-30 100 (o0, before the window: not loaded), 01-02 9 (o8)

Daily revenue: 20, 9, 20, 0, 0, 0, 0, 5, 7, 3 (orders 3, 1, 1, 0 … 1, 1, 1).
7-day averages (revenue): NaN × 6, then 49/7 = 7 (01-07), 34/7 (01-08), 32/7 (01-09),
15/7 (01-10). Best stretch 01-01 – 01-07, weakest 01-04 – 01-10.
First orders: a o1 10, b o2 4, c o4 20, e o8 9 (e's first order in the window, as its LTV
cohort), d o6 7. Week of 2020-12-28: 5 orders, 49; first 4 / 43; repeat 1 / 6 (share 6/49).
Week of 2021-01-04: 3 orders, 15; first 1 / 7; repeat 2 / 8 (8/15). Overall repeat 14/64.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import growthlens as gl
from growthlens.analyses.sales_trend import sales_trend
from growthlens.demo import write_demo
from tests.oracle.random_data import random_frames

WINDOW = ("2021-01-01", "2021-01-10")


def _orders() -> pd.DataFrame:
    rows = [
        ("a", "2021-01-01 10:00", 10.0, "o1"),
        ("a", "2021-01-08 10:00", 5.0, "o5"),
        ("b", "2021-01-01 12:00", 6.0, "o3"),
        ("b", "2021-01-01 12:00", 4.0, "o2"),
        ("c", "2021-01-03 10:00", 20.0, "o4"),
        ("d", "2021-01-09 10:00", 7.0, "o6"),
        ("d", "2021-01-10 10:00", 3.0, "o7"),
        ("e", "2020-12-30 10:00", 100.0, "o0"),
        ("e", "2021-01-02 10:00", 9.0, "o8"),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "ts", "revenue", "order_id"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


@pytest.fixture(scope="module")
def hand() -> gl.Result:
    return sales_trend(gl.load(orders=_orders(), window=WINDOW), period="week")


def test_daily_hand_worked(hand: gl.Result) -> None:
    t = hand.table
    assert t["day"].dt.strftime("%m-%d").tolist() == [f"01-{d:02d}" for d in range(1, 11)]
    assert t["revenue"].tolist() == [20.0, 9.0, 20.0, 0, 0, 0, 0, 5.0, 7.0, 3.0]
    assert t["orders"].tolist() == [3, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    assert t["revenue_7d"].iloc[:6].isna().all() and t["orders_7d"].iloc[:6].isna().all()
    assert t["revenue_7d"].iloc[6:].tolist() == pytest.approx([7.0, 34 / 7, 32 / 7, 15 / 7])
    assert t["orders_7d"].iloc[6:].tolist() == pytest.approx([5 / 7, 3 / 7, 3 / 7, 3 / 7])
    week = hand.findings[-1]
    assert week.code == "best_worst_week"
    assert week.numbers["best_end"] == "2021-01-07" and week.numbers["worst_end"] == "2021-01-10"
    assert "2021-01-01 – 2021-01-07" in week.text and "2021-01-04 – 2021-01-10" in week.text


def test_first_and_repeat_hand_worked(hand: gl.Result) -> None:
    p = hand.tables["periods"]
    assert p["period"].dt.strftime("%Y-%m-%d").tolist() == ["2020-12-28", "2021-01-04"]
    assert p["complete"].tolist() == [False, True]
    assert p["orders"].tolist() == [5, 3] and p["revenue"].tolist() == [49.0, 15.0]
    assert p["first_orders"].tolist() == [4, 1] and p["first_revenue"].tolist() == [43.0, 7.0]
    assert p["repeat_orders"].tolist() == [1, 2] and p["repeat_revenue"].tolist() == [6.0, 8.0]
    assert p["repeat_share"].tolist() == pytest.approx([6 / 49, 8 / 15])
    assert hand.summary["repeat_share"].value == pytest.approx(14 / 64)
    assert hand.summary["revenue"].value == 64.0
    chart = hand.tables["split_chart"]
    assert chart["revenue"].sum() == pytest.approx(64.0)


def test_thin_windows() -> None:
    """Fewer than 7 days: no average (a finding says so); no order at all: 0s, not NaN."""
    short = gl.load(orders=_orders(), window=("2021-01-01", "2021-01-05"))
    r = sales_trend(short)
    assert r.table["revenue_7d"].isna().all()
    assert "window_too_short" in [f.code for f in r.findings]
    assert math.isnan(r.summary["best_week_revenue"].value)  # type: ignore[arg-type]
    empty = gl.load(orders=_orders(), window=("2021-01-04", "2021-01-07"))
    r = sales_trend(empty)
    assert r.status == "not_enough_data" and r.table["revenue"].tolist() == [0.0] * 4
    assert math.isnan(r.summary["repeat_share"].value)  # type: ignore[arg-type]


# ------------------------------------------------------------ plain-Python oracle on the demo


@pytest.fixture(scope="module")
def demo() -> tuple[dict[str, Path], gl.Dataset]:
    folder = tempfile.mkdtemp(prefix="growthlens-sales-trend-")
    files = write_demo(folder, users=2000, seed=6, format="csv")
    return files, gl.load(orders=files["orders"], sessions=files["visits"], margin=0.5)


def test_demo_matches_plain_python_oracle(demo: tuple[dict[str, Path], gl.Dataset]) -> None:
    files, ds = demo
    start, end = json.loads(files["truth"].read_text())["window"]
    with open(files["orders"], newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if start <= r["Buy Ts"][:10] <= end]
    daily: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    first: dict[str, tuple[str, int, float]] = {}
    for r in rows:
        daily[r["Buy Ts"][:10]][0] += 1
        daily[r["Buy Ts"][:10]][1] += float(r["Revenue"])
        key = (r["Buy Ts"], int(r["Order Id"]), float(r["Revenue"]))
        if r["Uid"] not in first or key < first[r["Uid"]]:
            first[r["Uid"]] = key
    days = []
    day = date.fromisoformat(start)
    while day <= date.fromisoformat(end):
        days.append(day.isoformat())
        day += timedelta(days=1)
    r = sales_trend(ds, period="month")
    t = r.table
    assert t["day"].dt.strftime("%Y-%m-%d").tolist() == days
    assert t["orders"].tolist() == [daily[d][0] for d in days]
    assert t["revenue"].tolist() == pytest.approx([daily[d][1] for d in days])
    for i in range(6, len(days)):
        week = days[i - 6 : i + 1]
        assert t["revenue_7d"].iloc[i] == pytest.approx(sum(daily[d][1] for d in week) / 7)
        assert t["orders_7d"].iloc[i] == pytest.approx(sum(daily[d][0] for d in week) / 7)
    per: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for r_ in rows:
        per[r_["Buy Ts"][:7]][0] += 1
        per[r_["Buy Ts"][:7]][1] += float(r_["Revenue"])
    for ts, _, revenue in first.values():
        per[ts[:7]][2] += 1
        per[ts[:7]][3] += revenue
    p = r.tables["periods"]
    months = p["period"].dt.strftime("%Y-%m").tolist()
    assert p["orders"].tolist() == [per[m][0] for m in months]
    assert p["first_orders"].tolist() == [per[m][2] for m in months]
    assert p["revenue"].tolist() == pytest.approx([per[m][1] for m in months])
    assert p["first_revenue"].tolist() == pytest.approx([per[m][3] for m in months])
    assert p["repeat_revenue"].tolist() == pytest.approx([per[m][1] - per[m][3] for m in months])
    assert int(p["first_orders"].sum()) == len(first)


def test_first_orders_are_ltv_cohorts(demo: tuple[dict[str, Path], gl.Dataset]) -> None:
    """First orders per month = buyers of that month's LTV cohort (one first-order rule)."""
    _, ds = demo
    p = sales_trend(ds, period="month").tables["periods"]
    ltv = gl.ltv(ds, period="month").table
    cohorts = ltv[ltv["age"] == 0].set_index("cohort")["buyers"]
    firsts = p.set_index("period")["first_orders"]
    assert firsts[firsts > 0].to_dict() == cohorts.to_dict()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), period=st.sampled_from(["day", "week", "month"]))
def test_first_plus_repeat_is_total_on_random_data(seed: int, period: str) -> None:
    """First + repeat = all orders and revenue per period; one first order per buyer; the
    days of the window add up to the periods."""
    f = random_frames(seed, users=80, days=40)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    r = sales_trend(ds, period=period)  # type: ignore[arg-type]
    p = r.tables["periods"]
    assert (p["first_orders"] + p["repeat_orders"] == p["orders"]).all()
    assert (p["repeat_orders"] >= 0).all() and (p["repeat_revenue"] >= -1e-9).all()
    assert int(p["first_orders"].sum()) == ds.table("orders").user_id.nunique().execute()
    assert int(r.table["orders"].sum()) == int(p["orders"].sum())
    assert r.table["revenue"].sum() == pytest.approx(p["revenue"].sum())
    assert len(r.table) == (ds.window[1] - ds.window[0]).days + 1  # type: ignore[index]
