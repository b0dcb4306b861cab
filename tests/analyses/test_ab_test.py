"""gl.ab_test (docs/experiments.md): a hand-made test worked out by hand and with scipy, a
plain-pandas oracle of the per-participant outcomes on generated data, options and
degenerate input."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import growthlens as gl
from growthlens.analyses.ab_test import ab_test
from growthlens.errors import ConfigError
from growthlens.metrics.experiments import participant_outcomes

D0 = datetime(2024, 3, 1)


def _at(day: int, hour: int = 12) -> datetime:
    return D0 + timedelta(days=day, hours=hour)


# Participants 1–4 treatment, 5–8 control; user 9 bought but is in no arm.
ASSIGN = pd.DataFrame(
    {"user_id": [1, 2, 3, 4, 5, 6, 7, 8], "variant": ["treatment"] * 4 + ["control"] * 4}
)
ORDERS = pd.DataFrame(
    [
        (1, _at(1), 10.0),
        (1, _at(2), 30.0),  # user 1: 2 orders, 40
        (2, _at(3), 20.0),  # user 2: 1 order, 20
        (3, _at(20), 99.0),  # after the window: not counted
        (5, _at(1), 15.0),  # user 5: 1 order, 15
        (6, _at(4), 5.0),
        (6, _at(5), 5.0),  # user 6: 2 orders, 10
        (9, _at(2), 50.0),  # no arm
        (2, _at(-3), 7.0),  # the pre-period
        (5, _at(-2), 3.0),
    ],
    columns=["user_id", "ts", "revenue"],
)
WINDOW = ("2024-03-01", "2024-03-10")


def _ds() -> gl.Dataset:
    return gl.load(orders=ORDERS, assignments=ASSIGN, window=("2024-02-20", "2024-03-31"))


def test_hand_made_test_matches_hand_numbers_and_scipy() -> None:
    r = ab_test(_ds(), window=WINDOW)
    assert r.status == "ok"
    t = r.table.set_index("metric")
    # Revenue per participant: treatment 40, 20, 0, 0 → 15; control 15, 10, 0, 0 → 6.25.
    assert t.loc["revenue", "treatment_value"] == pytest.approx(15.0)
    assert t.loc["revenue", "control_value"] == pytest.approx(6.25)
    assert t.loc["revenue", "difference"] == pytest.approx(8.75)
    welch = stats.ttest_ind([40, 20, 0, 0], [15, 10, 0, 0], equal_var=False)
    assert t.loc["revenue", "p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    # Conversion: 2 of 4 in both arms → difference 0, z test p = 1.
    assert t.loc["conversion", "difference"] == pytest.approx(0.0)
    assert t.loc["conversion", "p_value"] == pytest.approx(1.0)
    # Orders per participant 3/4 vs 3/4; average check 60/3 = 20 vs 25/3.
    assert t.loc["orders", "treatment_value"] == pytest.approx(0.75)
    assert t.loc["average_check", "treatment_value"] == pytest.approx(20.0)
    assert t.loc["average_check", "control_value"] == pytest.approx(25 / 3)
    # Revenue per buyer: buyers only, 30 vs 12.5.
    assert t.loc["revenue_per_buyer", "treatment_value"] == pytest.approx(30.0)
    assert t.loc["revenue_per_buyer", "control_value"] == pytest.approx(12.5)
    # Holm over the five metrics: the adjusted p-values are never below the raw ones.
    assert (r.table["p_adjusted"].fillna(1) >= r.table["p_value"].fillna(1) - 1e-12).all()
    assert r.summary["participants"].value == 8
    # The split is 4/4: no sample-ratio mismatch.
    assert r.summary["srm_p_value"].value == pytest.approx(1.0)


def test_pre_window_gives_cuped_rows() -> None:
    r = ab_test(_ds(), window=WINDOW, pre_window=("2024-02-20", "2024-02-29"), metric="revenue")
    methods = list(r.tables["robustness"]["method"])
    assert any(m.startswith("CUPED") for m in methods)
    assert any(m.startswith("Mann") for m in methods)


def test_oracle_per_participant_outcomes_on_generated_data() -> None:
    rng = np.random.default_rng(3)
    users = np.arange(1, 401)
    assign = pd.DataFrame({"user_id": users, "variant": rng.choice(["a", "control"], 400)})
    n = 3000
    orders = pd.DataFrame(
        {
            "user_id": rng.integers(1, 500, n),
            "ts": [D0 + timedelta(minutes=int(m)) for m in rng.integers(-20 * 1440, 40 * 1440, n)],
            "revenue": rng.gamma(2.0, 10.0, n).round(2),
        }
    )
    ds = gl.load(orders=orders, assignments=assign, window=("2024-02-01", "2024-04-30"))
    window = (date(2024, 3, 5), date(2024, 3, 20))
    pre = (date(2024, 2, 15), date(2024, 3, 4))
    got = participant_outcomes(ds, experiment=None, window=window, pre_window=pre).users
    # Plain pandas: orders inside the inclusive day windows, summed per participant.
    day = orders["ts"].dt.date

    def per_user(lo: date, hi: date) -> pd.DataFrame:
        w = orders[(day >= lo) & (day <= hi)]
        return w.groupby("user_id").agg(orders=("revenue", "size"), revenue=("revenue", "sum"))

    expect = (
        assign.set_index("user_id").join(per_user(*window)).join(per_user(*pre).add_prefix("pre_"))
    )
    expect = expect.fillna(0)
    got_sorted = got.sort_values(["variant", "orders", "revenue", "pre_revenue"], ignore_index=True)
    exp_sorted = expect.sort_values(
        ["variant", "orders", "revenue", "pre_revenue"], ignore_index=True
    )
    for col in ("orders", "revenue", "pre_orders", "pre_revenue"):
        assert np.allclose(got_sorted[col].astype(float), exp_sorted[col].astype(float)), col
    assert (got_sorted["variant"] == exp_sorted["variant"]).all()
    r = ab_test(ds, window=window, metric=["revenue", "orders"], control="control")
    row = r.table.set_index("metric").loc["revenue"]
    arm_a = expect.loc[expect["variant"] == "a", "revenue"]
    arm_c = expect.loc[expect["variant"] == "control", "revenue"]
    assert row["difference"] == pytest.approx(arm_a.mean() - arm_c.mean(), rel=1e-9)
    ref = stats.ttest_ind(arm_a, arm_c, equal_var=False)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-7)


def test_options_are_checked() -> None:
    ds = _ds()
    with pytest.raises(ConfigError, match="metric 'items' needs order lines"):
        ab_test(ds, metric="items")
    with pytest.raises(ConfigError, match="neither a known metric"):
        ab_test(ds, metric="nonsense")
    with pytest.raises(ConfigError, match="day number"):
        ab_test(ds, window=(5, 16))
    with pytest.raises(ConfigError, match="pre_window must end before"):
        ab_test(ds, window=WINDOW, pre_window=("2024-03-01", "2024-03-02"))


def test_missing_control_is_a_status_not_an_exception() -> None:
    assign = ASSIGN.assign(variant=["a"] * 4 + ["b"] * 4)
    ds = gl.load(orders=ORDERS, assignments=assign, window=("2024-02-20", "2024-03-31"))
    r = ab_test(ds, window=WINDOW)
    assert r.status == "empty_arm"
    assert "control" in r.status_reason


def test_zero_variance_is_a_status() -> None:
    # Nobody bought in the window: every value is 0 in both arms.
    orders = ORDERS.assign(ts=[_at(25)] * len(ORDERS))
    ds = gl.load(orders=orders, assignments=ASSIGN, window=("2024-02-20", "2024-03-31"))
    r = ab_test(ds, window=WINDOW, metric="revenue")
    assert r.status != "ok"
    row = r.table.iloc[0]
    assert math.isnan(row["p_value"])


def test_srm_flags_a_broken_split() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    users = np.arange(n)
    variant = np.where(rng.random(n) < 0.53, "treatment", "control")
    assign = pd.DataFrame({"user_id": users, "variant": variant})
    buyers = rng.choice(users, 3000, replace=False)
    orders = pd.DataFrame(
        {
            "user_id": buyers,
            "ts": [_at(int(d)) for d in rng.integers(0, 9, 3000)],
            "revenue": rng.gamma(2.0, 10.0, 3000),
        }
    )
    ds = gl.load(orders=orders, assignments=assign, window=("2024-03-01", "2024-03-31"))
    r = ab_test(ds, window=WINDOW, metric="revenue")
    assert any(f.code == "sample_ratio_mismatch" for f in r.findings)
    assert any(f.code.startswith("verdict_check_split") for f in r.findings)


def test_a_single_list_gets_a_control_matched_on_the_pre_period() -> None:
    # 4,000 customers; the list took 60% of those with at least 2 orders in the 20 days
    # before the test (selection on past purchases, which the matching sees), and each
    # got a planted +1 order in the window. Past buyers also buy more in the window, so
    # comparing with everyone else would overstate the effect.
    rng = np.random.default_rng(7)
    n = 4000
    customers = pd.DataFrame({"user_id": np.arange(n), "city": rng.integers(1, 5, n)})
    rate = rng.gamma(2.0, 0.05, n)
    rows = [
        (u, _at(d), 100.0) for u in range(n) for d in range(-20, 10) if rng.random() < rate[u] / 3
    ]
    orders = pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])
    past = orders[orders["ts"] < D0].groupby("user_id").size()
    eligible = past[past >= 2].index.to_numpy()
    listed = rng.choice(eligible, int(0.6 * len(eligible)), replace=False)
    extra = pd.DataFrame(
        {
            "user_id": listed,
            "ts": [_at(int(d)) for d in rng.integers(0, 10, len(listed))],
            "revenue": 100.0,
        }
    )
    orders = pd.concat([orders, extra], ignore_index=True)
    assign = pd.DataFrame({"user_id": listed, "variant": "treatment"})
    ds = gl.load(orders=orders, assignments=assign, customers=customers)
    r = ab_test(ds, window=WINDOW, metric="orders")
    assert r.params["control"] == "matched control"
    assert any(f.code == "control_matched" for f in r.findings)
    row = r.table.iloc[0]
    assert row["low"] <= 1.0 <= row["high"], (row["low"], row["difference"], row["high"])
    # Against everyone else the difference would be biased upwards.
    window = orders[(orders["ts"] >= D0) & (orders["ts"] < _at(10, 0))]
    per = window.groupby("user_id").size().reindex(np.arange(n), fill_value=0)
    naive = per[listed].mean() - per.drop(listed).mean()
    assert naive > row["high"]
    assert not r.tables["matching"].empty


def test_ratio_mde_does_not_depend_on_the_interval_level_used_to_read_its_spread() -> None:
    # The average check's per-participant spread is read off its delta-method interval;
    # at 90% confidence the interval is narrower, and the spread must come out the same.
    from growthlens.stats.power import mde

    rng = np.random.default_rng(11)
    n = 600
    assign = pd.DataFrame({"user_id": np.arange(n), "variant": ["treatment", "control"] * 300})
    rows = [
        (u, _at(int(d)), float(rng.gamma(2.0, 30.0)))
        for u in range(n)
        for d in rng.integers(0, 9, rng.poisson(1.2))
    ]
    orders = pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])
    ds = gl.load(orders=orders, assignments=assign, window=("2024-02-20", "2024-03-31"))
    wide = ab_test(ds, window=WINDOW, metric="average_check")
    arms = wide.tables["arms"].set_index("variant")
    z95 = stats.norm.ppf(0.975)
    sd = {
        v: (arms.loc[v, "high"] - arms.loc[v, "low"]) / (2 * z95) * math.sqrt(arms.loc[v, "n"])
        for v in ("treatment", "control")
    }
    narrow = ab_test(ds, window=WINDOW, metric="average_check", confidence=0.9)
    row = narrow.table.iloc[0]
    expected = mde(
        sd["treatment"],
        sd["control"],
        int(row["n_treatment"]),
        int(row["n_control"]),
        alpha=0.1,
        power=0.8,
    )
    assert row["mde"] == pytest.approx(expected, rel=1e-9)
