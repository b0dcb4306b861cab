"""ROMI heatmaps share one diverging colour scale; budget actions are coloured by meaning.

Fixture (window 2021-01-01 – 2021-03-31, month cohorts, margin 1): every month each source
gets 10 buyers, each with one order (age 0) and a session an hour before; costs are one
row per source on the 1st of each month, 500 (CAC 50):

    good   revenue 100 a buyer → ROMI = 100 / 50 − 1 = +1.0 in every cell
    bad    revenue 10 a buyer  → ROMI = 10 / 50 − 1 = −0.8 in every cell

With no repeat order LTV stays flat with age, so every per-source cell is +1.0 or −0.8
and every all-sources cell (100 + 10) / 2 / 50 − 1 = +0.1. The shared range is therefore
(−0.8, 1.0) and white (ROMI 0) sits at 0.8 / 1.8 of the scale, in all three heatmaps.
"""

from __future__ import annotations

import pandas as pd
import pytest

import growthlens as gl
from growthlens.figures import BAD, GOOD, NEUTRAL, render

PLAN = {"good": 100.0, "bad": 10.0}
MONTHS = ("2021-01", "2021-02", "2021-03")


@pytest.fixture(scope="module")
def market() -> gl.Dataset:
    sessions, orders, costs = [], [], []
    uid = 0
    for source, revenue in PLAN.items():
        for month in MONTHS:
            for i in range(10):
                uid += 1
                ts = pd.Timestamp(f"{month}-{2 + i:02d} 12:00")
                sessions.append(
                    {"user_id": uid, "start_ts": ts - pd.Timedelta(hours=1), "source": source}
                )
                orders.append({"user_id": uid, "ts": ts, "revenue": revenue})
            costs.append({"date": f"{month}-01", "source": source, "cost": 500.0})
    return gl.load(
        sessions=pd.DataFrame(sessions),
        orders=pd.DataFrame(orders),
        costs=pd.DataFrame(costs),
        window=("2021-01-01", "2021-03-31"),
    )


def test_romi_heatmaps_share_one_diverging_scale(market: gl.Dataset) -> None:
    r = gl.romi(market, horizon=2)
    heatmaps = [s for s in r.figures if s.kind == "heatmap"]
    assert [s.table for s in heatmaps] == ["cohorts", "heatmap:good", "heatmap:bad"]
    cells = {s.table: sorted(set(r.frame(s.table)["romi"].dropna().round(9))) for s in heatmaps}
    assert cells == {"cohorts": [0.1], "heatmap:good": [1.0], "heatmap:bad": [-0.8]}
    for spec in heatmaps:
        assert spec.zmid == 0.0
        trace = render(spec, r.frame(spec.table)).data[0]
        assert (trace.zmin, trace.zmax) == pytest.approx((-0.8, 1.0))
        assert trace.colorscale[1][0] == pytest.approx(0.8 / 1.8)


def test_romi_without_sources_is_diverging_on_its_own_cells(market: gl.Dataset) -> None:
    r = gl.romi(market, horizon=2, by=None)
    spec = next(s for s in r.figures if s.kind == "heatmap")
    trace = render(spec, r.frame(spec.table)).data[0]
    # All cells +0.1: the range reaches down to the centre, 0 → white, 0.1 → deepest green.
    assert (trace.zmin, trace.zmax) == pytest.approx((0.0, 0.1))


def test_budget_actions_are_coloured_by_meaning(market: gl.Dataset) -> None:
    # Two complete cohorts × 10 buyers: below the default 30, so the threshold is lowered.
    advice = gl.recommend_budget(market, horizon=2, resamples=200, min_buyers=20)
    actions = dict(zip(advice.table["source"], advice.table["action"], strict=True))
    assert actions == {"good": "grow", "bad": "cut"}
    spec = advice.figures[0]
    fig = render(spec, advice.frame(spec.table))
    assert {t.name: t.marker.color for t in fig.data} == {"grow": GOOD, "cut": BAD}
    assert spec.colors["hold"] == NEUTRAL
