"""gl.rfm (docs/customers.md, "RFM"): hand-worked segments and movement, options,
degenerate input and the shop demo."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.rfm import ACTIONS, RFM, rfm
from growthlens.errors import ConfigError
from growthlens.stats.rfm import SEGMENTS


def _orders(spec: list[tuple[int, int, date, float]]) -> pd.DataFrame:
    """(user, orders, last order day, revenue): the orders on consecutive days up to the
    last, the revenue split evenly."""
    rows = []
    for user, k, last, revenue in spec:
        for i in range(k):
            rows.append(
                {"user_id": user, "ts": pd.Timestamp(last - timedelta(i)), "revenue": revenue / k}
            )
    return pd.DataFrame(rows)


END = date(2024, 3, 31)
# recency 1, 2, 30, 60, 90; orders 9, 5, 3, 2, 1; revenue 900, 400, 300, 100, 50:
# distinct values, so quantile scores are the ranks: 555, 444, 333, 222, 111.
HAND = [
    (1, 9, END - timedelta(1), 900.0),
    (2, 5, END - timedelta(2), 400.0),
    (3, 3, END - timedelta(30), 300.0),
    (4, 2, END - timedelta(60), 100.0),
    (5, 1, END - timedelta(90), 50.0),
]


def _hand() -> gl.Dataset:
    return gl.load(orders=_orders(HAND), window=("2024-01-01", "2024-03-31"))


def test_hand_worked_segments() -> None:
    r = rfm(_hand())
    assert r.status == "ok"
    assert list(r.table["segment"]) == list(SEGMENTS)
    s = r.tables["scores"].set_index("user_id")
    assert list(s["scores"]) == ["555", "444", "333", "222", "111"]
    assert list(s["segment"]) == ["champions", "loyal", "need attention", "hibernating", "lost"]
    assert list(s["recency_days"]) == [1, 2, 30, 60, 90]
    assert list(s["orders"]) == [9, 5, 3, 2, 1]
    champions = r.table.set_index("segment").loc["champions"]
    assert champions["customers"] == 1 and champions["share"] == pytest.approx(0.2)
    assert champions["revenue_share"] == pytest.approx(900 / 1750)
    assert (champions["mean_recency_days"], champions["mean_orders"]) == (1, 9)
    assert champions["mean_revenue"] == 900
    assert r.table.set_index("segment").loc["at risk", "customers"] == 0
    v = r.summary.values_dict()
    assert v["buyers"] == 5 and v["champions_share"] == pytest.approx(0.2)
    assert v["champions_revenue_share"] == pytest.approx(900 / 1750)
    assert v["at_risk_share"] == 0
    texts = {f.code: f.text for f in r.findings}
    assert "Champions are 20% of buyers and bring 51% of revenue" in texts["champions_revenue"]
    # the window is the whole data: no earlier period to compare with, said in words
    assert r.tables["movement"].empty
    assert "No movement between periods" in texts["movement"]
    assert [fig.kind for fig in r.figures] == ["bar"]
    assert r.detail == ("scores", "unscored")
    actions = [f.text for f in r.findings if f.code == "suggested_action"]
    assert f"Champions: {ACTIONS['champions']}." in actions
    json.dumps(r.to_dict())


def test_movement_hand_worked() -> None:
    """Days 1–10 grade users 1…5 best to worst, days 11–20 the reverse."""
    d10, d20 = date(2024, 1, 10), date(2024, 1, 20)
    first = [(u, 6 - u, d10 - timedelta(u - 1), 100.0 * (6 - u)) for u in range(1, 6)]
    second = [(u, u, d20 - timedelta(5 - u), 100.0 * u) for u in range(1, 6)]
    ds = gl.load(orders=_orders(first + second), window=("2024-01-01", "2024-01-20"))
    r = rfm(ds, window=("2024-01-11", "2024-01-20"))
    assert r.status == "ok"
    assert r.params["previous"] == ["2024-01-01", "2024-01-10"]
    m = r.tables["movement"]
    moved = m[m["customers"] > 0]
    pairs = {
        (str(b), str(a)): n
        for b, a, n in zip(moved["before"], moved["after"], moved["customers"], strict=True)
    }
    assert pairs == {
        ("champions", "lost"): 1,
        ("loyal", "hibernating"): 1,
        ("need attention", "need attention"): 1,
        ("hibernating", "loyal"): 1,
        ("lost", "champions"): 1,
    }
    champ = next(f for f in r.findings if f.code == "champions_movement")
    assert champ.numbers == {"champions_before": 1, "stayed": 0, "slipped": 1, "absent": 0}
    assert champ.severity == "warning"
    assert [fig.kind for fig in r.figures] == ["bar", "heatmap"]
    r.figure(1)  # the heatmap draws, rows in segment order
    json.dumps(r.to_dict())
    no = rfm(ds, window=("2024-01-11", "2024-01-20"), compare=False)
    assert no.tables["movement"].empty
    assert not [f for f in no.findings if f.code == "movement"]


def test_fixed_cuts_and_at() -> None:
    cuts = {
        "recency": (7, 30, 60, 90),
        "frequency": (2, 3, 5, 9),
        "monetary": (100, 300, 400, 900),
    }
    r = rfm(_hand(), method="fixed", cuts=cuts)
    s = r.tables["scores"]
    # recency 1, 2 → 5; 30 → 3; 60 → 2; 90 → 1
    assert list(s["r"]) == [5, 5, 3, 2, 1]
    assert list(s["f"]) == [5, 4, 3, 2, 1]
    assert list(s["m"]) == [5, 4, 3, 2, 1]
    later = rfm(_hand(), at="2024-04-30", compare=False)
    assert list(later.tables["scores"]["recency_days"]) == [31, 32, 60, 90, 120]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"method": "kmeans"}, "method must be 'quantile' or 'fixed'; found 'kmeans'"),
        ({"bins": 1}, "bins must be a whole number from 2 to 10; found 1"),
        ({"bins": 4}, "default segment map is for 5 bins"),
        ({"method": "fixed"}, "expects cuts"),
        ({"cuts": {"recency": (1, 2, 3, 4)}}, "cuts are for method='fixed'"),
        ({"at": "2024-03-01"}, "at must be on or after the window's last day"),
        ({"compare": "yes"}, "compare must be True or False"),
        ({"method": "fixed", "cuts": {"recency": ["a"]}}, "cuts must be numbers per measure"),
        ({"window": ("2024-03-01", "2024-02-01")}, "starts after it ends"),
    ],
)
def test_options_checked(options: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        rfm(_hand(), **options)  # type: ignore[arg-type]


def test_degenerate_inputs_give_a_status() -> None:
    few = gl.load(orders=_orders(HAND[:3]), window=("2024-01-01", "2024-03-31"))
    r = rfm(few)
    assert r.status == "not_enough_data" and "3 buyers" in r.status_reason
    assert r.table["customers"].sum() == 0 and not r.figures
    once = [(u, 1, END - timedelta(u), 10.0 * u) for u in range(1, 8)]
    r = rfm(gl.load(orders=_orders(once), window=("2024-01-01", "2024-03-31")))
    assert r.status == "not_applicable" and "same frequency" in r.status_reason
    assert r.tables["scores"].empty and r.tables["unscored"].empty
    empty = rfm(_hand(), window=("2024-03-31", "2024-03-31"), compare=False)
    assert empty.status == "not_enough_data" and "No buyer" in empty.status_reason


def test_shop_demo() -> None:
    ds = gl.demo(case="shop", users=5_000)
    r = rfm(ds)
    assert r.status == "ok"
    assert r.table["customers"].sum() == r.summary["buyers"].value == len(r.tables["scores"])
    assert r.table["share"].sum() == pytest.approx(1)
    assert r.table["revenue_share"].sum() == pytest.approx(1)
    t = {str(row["segment"]): row for row in r.table.to_dict("records")}
    # champions are a minority that brings about twice their share of revenue; lost the reverse
    assert t["champions"]["revenue_share"] > 1.8 * t["champions"]["share"]
    assert t["lost"]["revenue_share"] < 0.5 * t["lost"]["share"]
    assert t["champions"]["mean_recency_days"] < t["lost"]["mean_recency_days"]
    # the report's run: the later half, compared with the earlier half
    (options,) = RFM.plan(ds).runs
    half = rfm(ds, **options)
    m = half.tables["movement"]
    assert m["customers"].sum() > 0 and [f.kind for f in half.figures] == ["bar", "heatmap"]
    codes = [f.code for f in half.findings]
    assert "champions_movement" in codes and "suggested_action" in codes
    json.dumps(half.to_dict())
