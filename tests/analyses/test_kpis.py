"""Headline figures (gl.kpis): a hand-worked fixture, the week fallback, the comparison of
the last complete period with the one before, and a plain-pandas oracle on the demo."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.kpis import kpis

WINDOW = (date(2024, 1, 1), date(2024, 5, 20))  # May is cut: four complete months


def _fixture() -> gl.Dataset:
    # user: month of each session / order (day 10 of the month unless said).
    sessions = [
        ("a", "2024-01-10"), ("a", "2024-02-10"), ("b", "2024-01-12"), ("c", "2024-02-03"),
        ("c", "2024-02-04"), ("d", "2024-03-05"), ("e", "2024-04-07"), ("f", "2024-04-08"),
        ("g", "2024-04-09"), ("h", "2024-05-02"),
    ]  # fmt: skip
    orders = [
        ("a", "2024-01-11", 10.0), ("a", "2024-02-11", 20.0), ("c", "2024-02-05", 5.0),
        ("c", "2024-02-06", 5.0), ("z", "2024-03-01", 7.0), ("e", "2024-04-07", 40.0),
        ("f", "2024-04-20", 60.0), ("h", "2024-05-03", 8.0),
    ]  # fmt: skip
    costs = [
        ("2024-01-01", "ads", 30.0), ("2024-02-01", "ads", 50.0), ("2024-03-01", "ads", 20.0),
        ("2024-04-01", "ads", 80.0), ("2024-05-01", "ads", 10.0),
    ]  # fmt: skip
    return gl.load(
        sessions=pd.DataFrame(
            {
                "user_id": [u for u, _ in sessions],
                "start_ts": [f"{d} 10:00:00" for _, d in sessions],
                "source": "ads",
            }
        ),
        orders=pd.DataFrame(
            {
                "user_id": [u for u, _, _ in orders],
                "ts": [f"{d} 12:00:00" for _, d, _ in orders],
                "revenue": [r for _, _, r in orders],
            }
        ),
        costs=pd.DataFrame(
            {
                "date": [d for d, _, _ in costs],
                "source": [s for _, s, _ in costs],
                "cost": [c for _, _, c in costs],
            }
        ),
        window=WINDOW,
    )


@pytest.fixture(scope="module")
def hand() -> gl.Result:
    return kpis(_fixture())


def test_per_month_by_hand(hand: gl.Result) -> None:
    t = hand.table.set_index(hand.table["period"].dt.strftime("%Y-%m"))
    # Jan: visitors a, b; buyers a; a visited and bought in Jan.
    # Feb: visitors a, c; buyers a, c (3 orders, 30); both visited and bought.
    # Mar: visitor d; buyer z (no session): 0 visitor-buyers; z's first order.
    # Apr: visitors e, f, g; buyers e, f (100); both visited in Apr.
    # May (cut by the window): visitor h, buyer h.
    assert t["users"].tolist() == [2, 2, 1, 3, 1]
    assert t["buyers"].tolist() == [1, 2, 1, 2, 1]
    assert t["visitor_buyers"].tolist() == [1, 2, 0, 2, 1]
    assert t["orders"].tolist() == [1, 3, 1, 2, 1]
    assert t["revenue"].tolist() == [10.0, 30.0, 7.0, 100.0, 8.0]
    assert t["first_orders"].tolist() == [1, 1, 1, 2, 1]  # a, c, z, e+f, h
    assert t["spend"].tolist() == [30.0, 50.0, 20.0, 80.0, 10.0]
    assert t["complete"].tolist() == [True, True, True, True, False]
    assert t["conversion"].tolist() == pytest.approx([0.5, 1.0, 0.0, 2 / 3, 1.0])


def test_window_totals_count_distinct_users_once(hand: gl.Result) -> None:
    s = hand.summary.values_dict()
    assert s["users"] == 8  # a..h, a and c counted once although they came twice
    assert s["buyers"] == 6  # a, c, z, e, f, h
    assert s["orders"] == 8
    assert s["revenue"] == pytest.approx(155.0)
    assert s["spend"] == pytest.approx(190.0)
    # Visitors who bought anywhere in the window: a, c, e, f, h of 8 visitors.
    assert s["conversion"] == pytest.approx(5 / 8)
    assert s["period"] == "month"


def test_last_complete_period_against_the_one_before(hand: gl.Result) -> None:
    # May is cut by the window, so April (the last complete month) is compared with March.
    s = hand.summary.values_dict()
    assert (s["last_period"], s["previous_period"]) == ("2024-04-01", "2024-03-01")
    c = hand.frame("changes").set_index("figure")
    assert c.loc["revenue", "last_value"] == 100.0
    assert c.loc["revenue", "previous_value"] == 7.0
    assert c.loc["revenue", "change"] == pytest.approx(100 / 7 - 1)
    assert c.loc["users", "change"] == pytest.approx(3 / 1 - 1)
    assert c.loc["spend", "change"] == pytest.approx(80 / 20 - 1)
    # From a zero conversion the relative change is undefined, not infinite.
    assert math.isnan(c.loc["conversion", "change"])
    assert c.loc["spend", "better"] == "neutral"
    codes = {f.code: f for f in hand.findings}
    revenue = codes["revenue_change"]
    assert revenue.at_stake is None  # revenue rose by 93: good news, not money at stake
    assert revenue.severity == "info"
    assert "2024-04" in revenue.text and "2024-03" in revenue.text
    assert codes["spend_change"].at_stake is None  # spend is neither good nor bad


def test_a_revenue_drop_puts_the_lost_revenue_at_stake() -> None:
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 5],
            "ts": ["2024-01-02", "2024-02-09", "2024-03-16", "2024-04-23", "2024-04-24"],
            "revenue": [10.0, 10.0, 50.0, 20.0, 10.0],
        }
    )
    r = kpis(gl.load(orders=orders, window=(date(2024, 1, 1), date(2024, 4, 30))))
    drop = next(f for f in r.findings if f.code == "revenue_change")
    assert drop.severity == "warning"
    assert drop.at_stake == pytest.approx(20.0)  # April 30 against March 50
    assert "40.0% below 2024-03" in drop.text


def test_a_short_window_falls_back_to_weeks() -> None:
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 5],
            "ts": ["2024-01-02", "2024-01-09", "2024-01-16", "2024-01-23", "2024-01-30"],
            "revenue": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    r = kpis(gl.load(orders=orders, window=(date(2024, 1, 1), date(2024, 2, 4))))
    assert r.params["period_used"] == "week"
    assert r.table["revenue"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert r.summary["last_period"].value == "2024-01-29"
    assert any("fewer than 4 complete months" in n for n in r.notes)
    assert "users" not in r.table.columns  # no sessions: no visitor figures


def test_one_complete_period_is_a_status_not_a_change() -> None:
    orders = pd.DataFrame({"user_id": [1], "ts": ["2024-01-02"], "revenue": [1.0]})
    r = kpis(gl.load(orders=orders, window=(date(2024, 1, 2), date(2024, 1, 2))))
    assert r.status == "not_enough_data"
    assert r.frame("changes")["change"].isna().all()


def test_matches_a_pandas_oracle_on_the_demo() -> None:
    ds = gl.demo()
    r = kpis(ds)
    sessions = ds.table("sessions").select("user_id", "start_ts").to_pandas()
    orders = ds.table("orders").select("user_id", "ts", "revenue").to_pandas()
    costs = ds.table("costs").select("date", "cost").to_pandas()
    sessions["p"] = sessions["start_ts"].dt.to_period("M")
    orders["p"] = orders["ts"].dt.to_period("M")
    costs["p"] = pd.to_datetime(costs["date"]).dt.to_period("M")
    first = orders.groupby("user_id")["ts"].min().dt.to_period("M")
    visits = set(zip(sessions["user_id"], sessions["p"], strict=True))
    bought = set(zip(orders["user_id"], orders["p"], strict=True))
    for _, row in r.table.iterrows():
        p = pd.Period(row["period"], "M")
        assert row["users"] == sessions.loc[sessions["p"] == p, "user_id"].nunique()
        assert row["buyers"] == orders.loc[orders["p"] == p, "user_id"].nunique()
        assert row["orders"] == int((orders["p"] == p).sum())
        assert row["revenue"] == pytest.approx(orders.loc[orders["p"] == p, "revenue"].sum())
        assert row["spend"] == pytest.approx(costs.loc[costs["p"] == p, "cost"].sum())
        assert row["first_orders"] == int((first == p).sum())
        both = {u for u, q in visits if q == p} & {u for u, q in bought if q == p}
        assert row["visitor_buyers"] == len(both)
    s = r.summary.values_dict()
    visitors = set(sessions["user_id"])
    assert s["users"] == len(visitors)
    assert s["conversion"] == pytest.approx(len(visitors & set(orders["user_id"])) / len(visitors))
    assert s["revenue"] == pytest.approx(orders["revenue"].sum())
    # One definition of the window's visitor → buyer conversion, wherever it is shown.
    assert s["conversion"] == pytest.approx(gl.conversion(ds).summary["conversion"].value)
