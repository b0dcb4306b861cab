"""Budget recommendation on constructed data whose answer is obvious (docs/metrics.md).

Fixture ``market`` (window 2021-01-01 – 2021-04-30, month cohorts, margin 1, horizon 2 so the
figure is ROMI at age 1; cohorts Jan, Feb, Mar are complete at age 1, Apr is not). Every
month each source gets its buyers, each with one order in that month (age 0) and a session
an hour before; costs are one row per source on the 1st of each month:

    good   40 buyers/month, revenue alternating 90 / 110 (LTV 100), cost 800 (CAC 20)
           → ROMI = 100 / 20 − 1 = +4 in every cohort: grow
    bad    40 buyers/month, revenue 4 / 6 (LTV 5), cost 800 (CAC 20) → −0.75: cut
    meh    40 buyers/month, revenue 0 / 40 (LTV 20), cost 800 (CAC 20) → 0; the bootstrap
           interval straddles 0: hold
    tiny   5 buyers/month, revenue 100, cost 100 → 3 cohorts × 5 = 15 buyers < 30: too little data
    seo    10 buyers/month, no cost rows: organic
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.errors import ConfigError
from growthlens.report.build import section
from growthlens.stats.budget import Interval, bootstrap_romi, decide

PLAN = {
    "good": (40, (90.0, 110.0), 800.0),
    "bad": (40, (4.0, 6.0), 800.0),
    "meh": (40, (0.0, 40.0), 800.0),
    "tiny": (5, (100.0, 100.0), 100.0),
    "seo": (10, (10.0, 10.0), None),
}
MONTHS = ("2021-01", "2021-02", "2021-03", "2021-04")


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    sessions, orders, costs = [], [], []
    uid = 0
    for source, (n, revenues, cost) in PLAN.items():
        for month in MONTHS:
            for i in range(n):
                uid += 1
                ts = pd.Timestamp(f"{month}-{2 + i % 25:02d} 12:00")
                sessions.append(
                    {"user_id": uid, "start_ts": ts - pd.Timedelta(hours=1), "source": source}
                )
                orders.append({"user_id": uid, "ts": ts, "revenue": revenues[i % 2]})
            if cost is not None:
                costs.append({"date": f"{month}-01", "source": source, "cost": cost})
    return pd.DataFrame(sessions), pd.DataFrame(orders), pd.DataFrame(costs)


@pytest.fixture(scope="module")
def market() -> gl.Dataset:
    sessions, orders, costs = _frames()
    return gl.load(
        sessions=sessions, orders=orders, costs=costs, window=("2021-01-01", "2021-04-30")
    )


@pytest.fixture(scope="module")
def advice(market: gl.Dataset) -> gl.Result:
    return gl.recommend_budget(market, horizon=2, resamples=500)


def _row(frame: pd.DataFrame, source: str) -> pd.Series:
    rows = frame[frame["source"] == source]
    assert len(rows) == 1
    return rows.iloc[0]


def test_obvious_actions(advice: gl.Result) -> None:
    t = advice.table
    assert _row(t, "good")["action"] == "grow"
    assert _row(t, "bad")["action"] == "cut"
    assert _row(t, "meh")["action"] == "hold"
    assert _row(t, "tiny")["action"] == "too little data"
    assert _row(t, "seo")["action"] == "organic"
    assert t["source"].tolist()[:4] == ["good", "tiny", "meh", "bad"]  # ranked by 2-month ROMI
    assert (
        advice.summary["grow"].value,
        advice.summary["cut"].value,
        advice.summary["hold"].value,
    ) == (1, 1, 1)


def test_figures_behind_the_actions(advice: gl.Result) -> None:
    """good: ROMI(c, 1) = 100 / 20 − 1 = 4 in Jan, Feb, Mar → 4; 120 buyers, 3 cohorts.
    bad: 5 / 20 − 1 = −0.75. meh: 20 / 20 − 1 = 0, interval around 0."""
    good, bad, meh = (_row(advice.table, s) for s in ("good", "bad", "meh"))
    assert good["romi_n"] == pytest.approx(4.0)
    assert (good["buyers_used"], good["cohorts_used"]) == (120, 3)
    assert 0 < good["romi_n_low"] <= 4.0 <= good["romi_n_high"]
    assert bad["romi_n"] == pytest.approx(-0.75) and bad["romi_n_high"] < 0
    assert meh["romi_n"] == pytest.approx(0.0, abs=1e-12)
    assert meh["romi_n_low"] < 0 < meh["romi_n_high"]
    assert good["ltv_n"] == pytest.approx(100.0) and good["cac"] == pytest.approx(20.0)
    assert good["payback"] == "age 0"
    assert (
        "2-month ROMI 400.0% (95% CI" in good["reason"]
        and "120 buyers in 3 complete cohorts" in good["reason"]
    )
    # Payback on the balanced curve over the 2-month horizon (ages 0 and 1), not on Jan
    # alone at age 3 as the each-age mean did.
    assert bad["payback"] == "not yet (ROMI −75.0% at age 1)"


def test_too_little_data_reasons(advice: gl.Result, market: gl.Dataset) -> None:
    """tiny: 3 complete cohorts × 5 buyers = 15 < 30. With horizon 4 only January is
    complete at age 3 (April), so every source has 1 < 2 cohorts: nothing is recommended."""
    tiny = _row(advice.table, "tiny")
    assert tiny["reason"].startswith(
        "Too little data: 15 buyers in cohorts complete at the 2-month horizon (need 30)"
    )
    assert math.isnan(tiny["romi_n_low"])
    late = gl.recommend_budget(market, horizon=4, resamples=200)
    paid = late.table[late.table["source"] != "seo"]
    assert (paid["action"] == "too little data").all()
    assert "1 complete cohort at age 3 (need 2)" in _row(late.table, "good")["reason"]
    assert late.tables["moves"].empty


def test_move_arithmetic(advice: gl.Result) -> None:
    """10% of bad's spend over the window: 0.1 × 4 × 800 = 320 moved to good.
    Constant CAC: gained buyers = 320 / CAC(good) = 320 / (3,200 / 160) = 16, worth
    16 × LTV_2(good) = 16 × 100 = 1,600; lost buyers = 320 / 20 = 16, worth 16 × 5 = 80;
    net 1,520."""
    moves = advice.tables["moves"]
    assert len(moves) == 1
    move = moves.iloc[0]
    assert (move["from_source"], move["to_source"]) == ("bad", "good")
    assert move["moved_cost"] == pytest.approx(320.0)
    assert move["gained_buyers"] == pytest.approx(16.0)
    assert move["gained_profit"] == pytest.approx(1600.0)
    assert move["lost_buyers"] == pytest.approx(16.0)
    assert move["lost_profit"] == pytest.approx(80.0)
    assert move["net_profit"] == pytest.approx(1520.0)
    assert "constant" in move["assumption"]
    sentence = next(f for f in advice.sentences if f.startswith("Moving 10% of source bad"))
    assert (
        "$1,600" in sentence
        and "net $1,520" in sentence
        and "assuming CAC per source stays constant" in sentence
    )


def test_deterministic_by_seed(market: gl.Dataset, advice: gl.Result) -> None:
    """Same data and seed → the same table; another seed moves the interval bounds only."""
    again = gl.recommend_budget(market, horizon=2, resamples=500)
    pd.testing.assert_frame_equal(again.table, advice.table)
    other = gl.recommend_budget(market, horizon=2, resamples=500, seed=7)
    assert other.table["action"].tolist() == advice.table["action"].tolist()
    assert other.table["romi_n"].equals(advice.table["romi_n"])
    values = np.random.default_rng(0).lognormal(size=(2, 50))
    groups = [(values[0], 2.0), (values[1], 1.5)]

    def interval(seed: int) -> tuple[float, float]:
        iv = bootstrap_romi(groups, resamples=400, confidence=0.95, rng=np.random.default_rng(seed))
        return iv.low, iv.high

    assert interval(1) == interval(1)
    assert interval(1) != interval(2)


def test_bootstrap_of_constant_values_is_exact() -> None:
    """Every buyer worth 30 in a cohort with CAC 20 and every buyer worth 10 with CAC 20:
    ROMI = ((30 / 20 − 1) + (10 / 20 − 1)) / 2 = (0.5 − 0.5) / 2 = 0 whatever is resampled."""
    groups = [(np.full(7, 30.0), 20.0), (np.full(4, 10.0), 20.0)]
    iv = bootstrap_romi(groups, resamples=300, confidence=0.9, rng=np.random.default_rng(3))
    assert (iv.estimate, iv.low, iv.high) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_decision_rule_edges() -> None:
    """Bounds exactly at 0 are not decisive: low = 0 → hold, high = 0 → hold."""
    kwargs = {"buyers": 100, "cohorts": 3, "min_buyers": 30, "min_cohorts": 2}
    assert decide(Interval(0.2, 0.0, 0.4, 100), **kwargs) == "hold"
    assert decide(Interval(-0.2, -0.4, 0.0, 100), **kwargs) == "hold"
    assert decide(Interval(-0.2, -0.4, -0.01, 100), **kwargs) == "cut"
    assert decide(
        Interval(0.2, 0.01, 0.4, 100), buyers=100, cohorts=1, min_buyers=30, min_cohorts=2
    ) == ("too little data")


def test_rejects_bad_options(market: gl.Dataset) -> None:
    with pytest.raises(ConfigError, match="confidence"):
        gl.recommend_budget(market, horizon=2, confidence=1.5)


def test_without_sessions_nothing_is_recommended() -> None:
    _, orders, costs = _frames()
    ds = gl.load(orders=orders, costs=costs, window=("2021-01-01", "2021-04-30"))
    advice = gl.recommend_budget(ds, horizon=2, resamples=200)
    assert advice.summary["attributed"].value is False
    assert advice.tables["moves"].empty
    assert not advice.table["action"].isin(["grow", "hold", "cut"]).any()
    assert advice.sentences == (
        "No budget move is recommended, because the dataset has no sessions to match buyers to a "
        "source; ROMI per source cannot be computed.",
    )


def test_no_buyer_in_the_window_nothing_is_recommended() -> None:
    """A window after every order: no buyer, so an empty table, not a KeyError."""
    sessions, orders, costs = _frames()
    ds = gl.load(sessions=sessions, orders=orders, costs=costs, window=("2022-01-01", "2022-02-01"))
    advice = gl.recommend_budget(ds, horizon=2, resamples=200)
    assert advice.table.empty and "action" in advice.table.columns
    assert advice.sentences == (
        "No budget move is recommended, because no order lies in the data window, so there is "
        "no buyer; ROMI per source cannot be computed.",
    )


def test_recommendation_section(market: gl.Dataset) -> None:
    built = section(
        dataclasses.replace(market, settings=market.settings.model_copy(update={"horizon": 2})),
        "recommendation",
    )
    assert built is not None and built.skipped == ()
    (result,) = built.results
    assert _row(result.table, "good")["action"] == "grow"
    assert not result.tables["moves"].empty


def test_recommendation_section_without_sources_or_costs() -> None:
    sessions, orders, costs = _frames()
    ds = gl.load(orders=orders, costs=costs, window=("2021-01-01", "2021-04-30"))
    built = section(ds, "recommendation")
    assert built is not None and built.results == ()
    assert built.skipped == (
        "Budget recommendation per source: nothing is recommended, because the dataset has no "
        "sessions to match buyers to a source; ROMI per source cannot be computed.",
    )
    assert section(gl.load(sessions=sessions, orders=orders), "recommendation") is None


@pytest.mark.spark
def test_same_recommendation_on_pyspark(advice: gl.Result) -> None:
    """The per-buyer frame and every aggregate come out the same on PySpark."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install 'growthlens[spark]')"
    )
    sessions, orders, costs = _frames()
    spark = gl.load(
        sessions=sessions,
        orders=orders,
        costs=costs,
        window=("2021-01-01", "2021-04-30"),
        backend="pyspark",
    )
    again = gl.recommend_budget(spark, horizon=2, resamples=500)
    pd.testing.assert_frame_equal(again.table, advice.table, check_dtype=False, rtol=1e-9)
    pd.testing.assert_frame_equal(
        again.tables["moves"], advice.tables["moves"], check_dtype=False, rtol=1e-9
    )
