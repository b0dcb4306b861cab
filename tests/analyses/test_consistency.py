"""Cross-table checks (gl.consistency): each check on a hand-made case with its exact count,
a clean case with none, the currency rule, and checks whose tables are absent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.consistency import consistency, market_ratios
from growthlens.analyses.registry import REGISTRY
from tests.metrics.test_channels import _campaign_case

WINDOW = ("2024-01-01", "2024-01-31")


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


SESSIONS = pd.DataFrame(
    [
        ("s1", 1, _ts("2024-01-01 10:00"), "ads", "c1"),
        ("s2", 1, _ts("2024-01-02 10:00"), "ads", "c1"),
        ("s3", 2, _ts("2024-01-03 10:00"), "ads", "c2"),
        ("s4", 2, _ts("2024-01-05 10:00"), "ads", None),  # after o2: a late touch
        ("s5", 3, _ts("2024-01-04 09:00"), "ads", "c3"),  # c3 has no cost
    ],
    columns=["session_id", "user_id", "start_ts", "source", "campaign"],
)
ORDERS = pd.DataFrame(
    [
        ("o1", 1, _ts("2024-01-02 12:00"), 50.0),
        ("o2", 2, _ts("2024-01-04 10:00"), 0.0),  # zero revenue
        ("o3", 3, _ts("2024-01-04 12:00"), 60.0),
    ],
    columns=["order_id", "user_id", "ts", "revenue"],
)
TOUCHPOINTS = pd.DataFrame(
    [
        ("o1", "s1", 0.5),
        ("o1", "s2", 0.5),  # sums to 1
        ("o2", "s3", 0.7),
        ("o2", "s4", 0.5),  # 1.2: 0.2 gained
        ("o3", "s5", 0.9),  # 0.9: 0.1 lost
    ],
    columns=["conversion_id", "session_id", "weight"],
)
COSTS = pd.DataFrame(
    [
        ("2024-01-01", "ads", "c1", 10.0, 5, 100),
        ("2024-01-02", "ads", "c1", 10.0, 0, 50),  # cost and 0 clicks
        ("2024-01-03", "ads", "c1", 5.0, 3, 2),  # impressions < clicks; no c1 session
        ("2024-01-03", "ads", "c2", 8.0, 4, 40),
        ("2024-01-02", "ads", "c9", 7.0, 1, 10),  # campaign with no session at all
    ],
    columns=["date", "source", "campaign", "cost", "clicks", "impressions"],
)


def _load(**tables: Any) -> gl.Dataset:
    return gl.load(window=WINDOW, **tables)


def test_each_check_on_a_hand_made_case() -> None:
    r = consistency(_load(sessions=SESSIONS, orders=ORDERS, touchpoints=TOUCHPOINTS, costs=COSTS))
    t = r.table.set_index("check")
    assert t["found"].to_dict() == {
        "journey_weights": 2,
        "touches_after_conversion": 1,
        "cost_without_clicks": 1,
        "impressions_below_clicks": 1,
        "zero_revenue_orders": 1,
        "campaigns_without_sessions": 1,
        "campaigns_without_cost": 1,
        "cost_days_without_sessions": 1,
    }
    assert t.loc["journey_weights", "checked"] == 3
    assert t.loc["journey_weights", "examples"] == "o2 (1.2), o3 (0.9)"
    assert t.loc["touches_after_conversion", "examples"] == "o2"
    assert t.loc["cost_without_clicks", "amount"] == 10.0
    assert t.loc["cost_without_clicks", "examples"] == "2024-01-02 c1"
    assert t.loc["impressions_below_clicks", "amount"] == 1.0
    assert t.loc["campaigns_without_sessions", "examples"] == "c9"
    assert t.loc["campaigns_without_sessions", "amount"] == 7.0
    assert t.loc["campaigns_without_cost", "examples"] == "c3"
    assert t.loc["cost_days_without_sessions", "examples"] == "2024-01-03 c1"
    assert t.loc["cost_days_without_sessions", "amount"] == 5.0
    f = {x.code: x for x in r.findings}
    assert f["journey_weights"].numbers["gained"] == pytest.approx(0.2)
    assert f["journey_weights"].numbers["lost"] == pytest.approx(0.1)
    assert f["touches_after_conversion"].numbers["touches"] == 1
    assert f["impressions_below_clicks"].severity == "error"
    assert f["zero_revenue_orders"].severity == "info"
    assert f["campaigns_without_cost"].numbers["sessions"] == 1
    assert "2 conversions of 3 have touchpoint weights" in f["journey_weights"].text


def test_a_clean_case_has_no_findings() -> None:
    orders = ORDERS.assign(revenue=[50.0, 20.0, 60.0])
    touch = TOUCHPOINTS[TOUCHPOINTS["session_id"] != "s4"].assign(weight=[0.5, 0.5, 1.0, 1.0])
    costs = pd.DataFrame(
        [
            ("2024-01-01", "ads", "c1", 10.0, 5, 100),
            ("2024-01-02", "ads", "c1", 10.0, 2, 50),
            ("2024-01-03", "ads", "c2", 8.0, 4, 40),
            ("2024-01-04", "ads", "c3", 0.5, 1, 40),
        ],
        columns=["date", "source", "campaign", "cost", "clicks", "impressions"],
    )
    r = consistency(_load(sessions=SESSIONS, orders=orders, touchpoints=touch, costs=costs))
    assert r.findings == ()
    assert len(r.table) == 8 and (r.table["found"] == 0).all()


def test_campaign_checks_count_spend_once() -> None:
    """The case of tests/metrics/test_channels.py (numbers there): cost 0 is no spend, and
    a campaign with no session at all is one finding, not also one per cost day."""
    t = consistency(_campaign_case()).table.set_index("check")
    got = t.loc[
        ["campaigns_without_sessions", "campaigns_without_cost", "cost_days_without_sessions"],
        ["found", "checked", "amount", "examples"],
    ]
    assert got.values.tolist() == [
        [1, 3, 5.0, "w"],
        [2, 4, 0.0, "y, z"],
        [3, 5, 11.0, "2024-01-02 a, 2024-01-05 a"],
    ]


def test_touches_compared_by_day_when_conversions_carry_dates() -> None:
    """Orders dated at midnight: a session later that day is not after the conversion."""
    orders = pd.DataFrame(
        [("o1", 1, _ts("2024-01-02"), 50.0)], columns=["order_id", "user_id", "ts", "revenue"]
    )
    touch = pd.DataFrame([("o1", "s2", 1.0)], columns=["conversion_id", "session_id", "weight"])
    r = consistency(_load(sessions=SESSIONS, orders=orders, touchpoints=touch))
    assert r.table.set_index("check").loc["touches_after_conversion", "found"] == 0


def _market_orders(medians: dict[str, float], n: int = 5) -> pd.DataFrame:
    rows = []
    for m, (market, median) in enumerate(medians.items()):
        for i in range(n):
            rows.append((f"{market}{i}", m * 10 + i, _ts("2024-01-02 10:00"), median, market))
    return pd.DataFrame(rows, columns=["order_id", "user_id", "ts", "revenue", "market"])


def test_a_market_far_off_the_rest_is_a_likely_currency_error() -> None:
    orders = _market_orders({"US": 50.0, "DE": 45.0, "FR": 55.0, "JP": 5000.0})
    r = consistency(_load(orders=orders))
    found = [f for f in r.findings if f.code == "market_currency"]
    assert [f.numbers["market"] for f in found] == ["JP"]
    # The reference is the median of the four medians: (50 + 55) / 2 = 52.5.
    assert found[0].numbers["ratio"] == pytest.approx(5000 / 52.5)
    assert r.table.set_index("check").loc["market_currency", "found"] == 1


def test_two_markets_far_apart_give_one_finding_naming_the_pair() -> None:
    r = consistency(_load(orders=_market_orders({"US": 50.0, "JP": 600.0})))
    found = [f for f in r.findings if f.code == "market_currency"]
    assert len(found) == 1
    assert "JP" in found[0].text and "US" in found[0].text


def test_markets_within_the_rule_or_too_small_are_not_flagged() -> None:
    # JP at 9.9× is within the rule; XX is far off but has 4 orders: not judged.
    orders = pd.concat(
        [
            _market_orders({"US": 50.0, "DE": 50.0, "JP": 495.0}),
            _market_orders({"XX": 90000.0}, n=4).assign(user_id=lambda t: t["user_id"] + 99),
        ]
    )
    r = consistency(_load(orders=orders))
    assert [f for f in r.findings if f.code == "market_currency"] == []
    markets = r.tables["markets"].set_index("market")
    assert pd.isna(markets.loc["XX", "ratio"])
    assert markets.loc["JP", "ratio"] == pytest.approx(9.9)


def test_market_ratios_below_two_judged_markets_flag_nothing() -> None:
    m = pd.DataFrame({"market": ["US", "JP"], "orders": [9, 2], "median": [50.0, 9000.0]})
    assert not market_ratios(m)["flag"].any()


def test_checks_whose_tables_are_absent_are_left_out() -> None:
    r = consistency(_load(orders=ORDERS))
    assert list(r.table["check"]) == ["zero_revenue_orders"]
    assert "markets" not in r.tables  # no market column
    costs_only = consistency(_load(costs=COSTS.drop(columns=["campaign", "impressions"])))
    assert list(costs_only.table["check"]) == ["cost_without_clicks"]


def test_registered_in_the_quality_group() -> None:
    analysis = REGISTRY["consistency"]
    assert analysis.group == "quality"
    assert analysis.plan(_load(orders=ORDERS)).runs == ({},)


def test_consistency_runs_on_the_demo_with_sessions_and_touchpoints() -> None:
    """Touches timed through a join with the sessions (a regression: joining that join's
    projection raised IntegrityError); the demo's planted touches after a conversion are
    found."""
    ds = gl.demo(users=300, seed=1)
    r = gl.consistency(ds)
    codes = {f.code for f in r.findings}
    assert r.status == "ok"
    assert any("after" in c for c in codes), codes
