"""Difference in differences: hand-computed 2×2 means, direct statsmodels fits, the placebo
interval rebuilt independently, the checks (pre-trend, placebos, event days), degenerate
and malformed input."""

from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from growthlens.stats.did import (
    DiD,
    did,
    event_days,
    placebo_days,
    placebo_p_value,
    placebo_quantiles,
    placebo_units,
    pretrend,
)


def _panel(values: np.ndarray, units: list[object] | None = None) -> pd.DataFrame:
    n_units, n_days = values.shape
    names = units if units is not None else list(range(n_units))
    return pd.DataFrame(
        {
            "unit": np.repeat(np.array(names, dtype=object), n_days),
            "day": np.tile(np.arange(n_days), n_units),
            "value": values.ravel().astype(float),
        }
    )


# Unit "A" treated on days 1 and 3; "B" and "C" comparison.
SMALL = np.array(
    [
        [10, 14, 12, 18],  # A: campaign mean (14+18)/2 = 16, other (10+12)/2 = 11
        [5, 6, 5, 8],  # B
        [20, 22, 18, 30],  # C: comparison campaign (6+8+22+30)/4 = 16.5, other 48/4 = 12
    ]
)


def test_small_panel_against_the_2x2_means() -> None:
    panel = _panel(SMALL, ["A", "B", "C"])
    levels = did(panel, treated=["A"], campaign_days=[1, 3], parallel="levels")
    # (16 − 11) − (16.5 − 12) = 0.5
    assert levels.additive == pytest.approx(0.5)
    # (16/11) ÷ (16.5/12) = 192/181.5
    assert levels.ratio == pytest.approx(192 / 181.5)
    assert levels.naive_ratio == pytest.approx(16 / 11)
    assert levels.comparison_ratio == pytest.approx(16.5 / 12)
    proportional = did(panel, treated=["A"], campaign_days=[1, 3])
    # 16 − 11 × 1.375 = 0.875 = c_T (1 − 1/R)
    assert proportional.additive == pytest.approx(0.875)
    assert proportional.ratio == pytest.approx(levels.ratio)
    assert (proportional.treated_units, proportional.comparison_units) == (1, 2)
    assert (proportional.campaign_days, proportional.other_days) == (2, 2)
    # two other days cannot make a 95% placebo interval
    assert proportional.status == "not_enough_data" and math.isnan(proportional.additive_low)


def test_levels_additive_is_the_ols_two_way_fixed_effects_coefficient() -> None:
    unit = np.repeat(np.arange(3), 4)
    day = np.tile(np.arange(4), 3)
    treat = ((unit == 0) & np.isin(day, [1, 3])).astype(float)
    design = np.column_stack(
        [
            treat,
            (unit[:, None] == np.arange(3)).astype(float),
            (day[:, None] == np.arange(1, 4)).astype(float),
        ]
    )
    fit = sm.OLS(SMALL.ravel().astype(float), design).fit()
    assert fit.params[0] == pytest.approx(0.5)


def test_ratio_is_exp_beta_of_poisson_glms() -> None:
    sums_d = SMALL[:, [1, 3]].sum(axis=1)
    sums_b = SMALL[:, [0, 2]].sum(axis=1)
    y = np.concatenate([sums_d, sums_b]).astype(float)
    unit = np.tile(np.arange(3), 2)
    campaign = np.repeat([1.0, 0.0], 3)
    design = np.column_stack(
        [campaign * (unit == 0), campaign, (unit[:, None] == np.arange(3)).astype(float)]
    )
    fit = sm.GLM(y, design, family=sm.families.Poisson()).fit()
    assert math.exp(fit.params[0]) == pytest.approx(192 / 181.5, rel=1e-8)
    # With unit AND day effects: exact on a noise-free multiplicative panel.
    sizes, days = np.array([3.0, 7.0, 20.0, 50.0]), np.array([1.0, 1.3, 0.8, 1.1, 1.6, 0.9])
    treated, cdays = np.array([1, 0, 0, 0], bool), np.array([0, 1, 0, 0, 1, 0], bool)
    values = sizes[:, None] * days[None, :] * np.where(treated[:, None] & cdays, 1.4, 1.0)
    result = did(_panel(values), treated=[0], campaign_days=[1, 4])
    unit = np.repeat(np.arange(4), 6)
    day = np.tile(np.arange(6), 4)
    design = np.column_stack(
        [
            (treated[unit] & cdays[day]).astype(float),
            (unit[:, None] == np.arange(4)).astype(float),
            (day[:, None] == np.arange(1, 6)).astype(float),
        ]
    )
    with warnings.catch_warnings():  # the noise-free panel is fitted exactly
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        fit = sm.GLM(values.ravel(), design, family=sm.families.Poisson()).fit()
    assert result.ratio == pytest.approx(1.4) and math.exp(fit.params[0]) == pytest.approx(1.4)
    # the additive effect is the planted extra per treated unit-day: 3 × mean(1.3, 1.6) × 0.4
    assert result.additive == pytest.approx(3 * (1.3 + 1.6) / 2 * 0.4)


def _random_panel(seed: int, units: int, days: int, treated: int) -> tuple[pd.DataFrame, list[int]]:
    rng = np.random.default_rng(seed)
    size = rng.lognormal(2.0, 1.0, units)
    level = size[:, None] * (1 + 0.2 * np.sin(np.arange(days)))[None, :]
    return _panel(rng.poisson(level).astype(float)), list(range(treated))


def test_cluster_robust_levels_equals_the_full_dummy_fit() -> None:
    panel, treated = _random_panel(1, 24, 12, 12)
    result = did(panel, treated=treated, campaign_days=[3, 8], parallel="levels")
    values = panel["value"].to_numpy()
    unit, day = panel["unit"].to_numpy(dtype=int), panel["day"].to_numpy()
    design = np.column_stack(
        [
            ((unit < 12) & np.isin(day, [3, 8])).astype(float),
            (unit[:, None] == np.arange(24)).astype(float),
            (day[:, None] == np.arange(1, 12)).astype(float),
        ]
    )
    fit = sm.OLS(values, design).fit(cov_type="cluster", cov_kwds={"groups": unit}, use_t=True)
    low, high = fit.conf_int()[0]
    assert "cluster-robust" in result.interval_method
    assert result.additive == pytest.approx(fit.params[0])
    assert (result.additive_low, result.additive_high) == pytest.approx((low, high))
    assert result.additive_p == pytest.approx(fit.pvalues[0])


def test_cluster_robust_ratio_equals_statsmodels_poisson_sandwich() -> None:
    panel, treated = _random_panel(2, 24, 20, 12)
    cdays = [4, 9, 14]
    result = did(panel, treated=treated, campaign_days=cdays)
    grid = panel.pivot(index="unit", columns="day", values="value").to_numpy()
    in_c = np.isin(np.arange(20), cdays)
    y = np.concatenate([grid[:, in_c].sum(axis=1), grid[:, ~in_c].sum(axis=1)])
    unit = np.tile(np.arange(24), 2)
    campaign = np.repeat([1.0, 0.0], 24)
    design = np.column_stack(
        [campaign * (unit < 12), campaign, (unit[:, None] == np.arange(24)).astype(float)]
    )
    fit = sm.GLM(y, design, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": unit, "use_correction": False}
    )
    assert result.ratio == pytest.approx(math.exp(fit.params[0]))
    # ours scales each group's part by n/(n − 1) = 12/11; t with the Satterthwaite df of
    # the two groups, unit weights w = D/ΣD² + B/ΣB² (variance ∝ mean)
    se = fit.bse[0] * math.sqrt(12 / 11)
    d, b = y[:24], y[24:]
    parts, dofs = [], []
    for group in (np.arange(24) < 12, np.arange(24) >= 12):
        u = d[group] / d[group].sum() - b[group] / b[group].sum()
        parts.append(12 / 11 * (u**2).sum())
        w = d[group] / d[group].sum() ** 2 + b[group] / b[group].sum() ** 2
        dofs.append(w.sum() ** 2 / (w**2).sum() * 11 / 12)
    dof = min(23, sum(parts) ** 2 / (parts[0] ** 2 / dofs[0] + parts[1] ** 2 / dofs[1]))
    assert se == pytest.approx(math.sqrt(sum(parts)))
    quantile = stats.t.ppf(0.975, dof)
    assert result.ratio_low == pytest.approx(result.ratio * math.exp(-quantile * se))
    assert result.ratio_high == pytest.approx(result.ratio * math.exp(quantile * se))


def test_placebo_in_time_interval_rebuilt_by_hand() -> None:
    panel, _ = _random_panel(3, 6, 20, 1)
    result = did(panel, treated=[0], campaign_days=[5, 12])
    grid = panel.pivot(index="unit", columns="day", values="value").to_numpy()
    t_day, k_day = grid[0], grid[1:].sum(axis=0)
    other = [d for d in range(20) if d not in (5, 12)]

    def additive(days: list[int], base: list[int]) -> float:
        c_t, o_t = t_day[days].mean(), t_day[base].mean()
        return c_t - o_t * k_day[days].mean() / k_day[base].mean()

    z = []
    for pair in combinations(other, 2):
        base = [d for d in other if d not in pair]
        z.append(additive(list(pair), base) / math.sqrt(t_day[list(pair)].sum() + 1))
    z_sorted = np.sort(z)  # 153 sets: k = ⌊0.025 × 154⌋ = 3
    estimate = additive([5, 12], other)
    scale = math.sqrt(t_day[[5, 12]].sum() + 1)
    assert "placebo in time (153 sets" in result.interval_method
    assert result.additive == pytest.approx(estimate)
    assert result.additive_low == pytest.approx(estimate - scale * z_sorted[-3])
    assert result.additive_high == pytest.approx(estimate - scale * z_sorted[2])
    extreme = sum(abs(v) >= abs(estimate / scale) - 1e-12 for v in z)
    assert result.additive_p == pytest.approx((1 + extreme) / 154)
    fake = placebo_days(panel, treated=[0], campaign_days=[5, 12])
    assert len(fake) == 153 and fake["days"].iloc[0] == (0, 1)
    assert fake["additive"].iloc[0] == pytest.approx(additive([0, 1], other[2:]))
    assert fake["scale"].iloc[0] == pytest.approx(math.sqrt(t_day[[0, 1]].sum() + 1))


def test_interval_method_switches_at_ten_treated_units() -> None:
    panel, _ = _random_panel(4, 30, 30, 0)
    few = did(panel, treated=range(9), campaign_days=[10, 20])
    many = did(panel, treated=range(10), campaign_days=[10, 20])
    assert few.interval_method.startswith("placebo in time")
    assert many.interval_method.startswith("cluster-robust")
    assert few.status == many.status == "ok"


def test_helpers() -> None:
    assert placebo_p_value([0.1, -0.4, 0.3, -0.2], 0.35) == pytest.approx(2 / 5)
    assert placebo_p_value([2.0, 0.5, 1.1], 2.0, log=True) == pytest.approx(3 / 4)
    assert math.isnan(placebo_p_value([], 1.0))
    assert placebo_quantiles(range(1, 40), 0.95) == (1.0, 39.0)
    assert placebo_quantiles(range(1, 80), 0.95) == (2.0, 78.0)
    assert all(math.isnan(v) for v in placebo_quantiles(range(1, 39), 0.95))


def _nan(result: DiD) -> bool:
    return all(math.isnan(v) for v in (result.additive, result.ratio, result.additive_low))


def test_degenerate_inputs_give_a_status_and_nan() -> None:
    panel = _panel(SMALL, ["A", "B", "C"])
    no_comparison = did(panel, treated=["A", "B", "C"], campaign_days=[1])
    assert no_comparison.status == "empty_arm" and _nan(no_comparison)
    no_treated = did(panel, treated=["Z"], campaign_days=[1])
    assert no_treated.status == "empty_arm" and _nan(no_treated)
    no_day = did(panel, treated=["A"], campaign_days=[40])
    assert no_day.status == "not_enough_data" and _nan(no_day)
    all_days = did(panel, treated=["A"], campaign_days=[0, 1, 2, 3])
    assert all_days.status == "not_enough_data" and _nan(all_days)
    zero = SMALL.copy()
    zero[0] = 0
    dead = did(_panel(zero, ["A", "B", "C"]), treated=["A"], campaign_days=[1, 3])
    assert dead.status == "all_zero" and _nan(dead)
    one_day = did(_panel(SMALL[:, :1], ["A", "B", "C"]), treated=["A"], campaign_days=[0])
    assert one_day.status == "not_enough_data" and _nan(one_day)
    empty = did(pd.DataFrame({"unit": [], "day": [], "value": []}).astype({"day": int}),
                treated=["A"], campaign_days=[0])  # fmt: skip
    assert empty.status == "empty_arm"
    negative = SMALL.astype(float).copy()
    negative[1, 0] = -3
    neg = did(_panel(negative, ["A", "B", "C"]), treated=["A"], campaign_days=[1, 3])
    assert neg.status == "negative_values" and math.isnan(neg.ratio) and math.isnan(neg.additive)
    neg_levels = did(
        _panel(negative, ["A", "B", "C"]), treated=["A"], campaign_days=[1, 3], parallel="levels"
    )
    # comparison other days: (−3 + 5 + 20 + 18)/4 = 10, so (16 − 11) − (16.5 − 10) = −1.5
    assert math.isnan(neg_levels.ratio) and neg_levels.additive == pytest.approx(-1.5)
    for function in (pretrend, event_days):
        assert function(panel, treated=["A", "B", "C"], campaign_days=[1]) is not None
    assert placebo_days(panel, treated=["Z"], campaign_days=[1]).empty
    assert placebo_units(panel, treated=["A", "B"], campaign_days=[1]).empty


def test_malformed_input_raises() -> None:
    panel = _panel(SMALL, ["A", "B", "C"])
    with pytest.raises(ValueError, match="columns unit, day, value"):
        did(panel.rename(columns={"value": "orders"}), treated=["A"], campaign_days=[1])
    with pytest.raises(ValueError, match="one row per unit and day"):
        did(pd.concat([panel, panel.head(1)]), treated=["A"], campaign_days=[1])
    with pytest.raises(ValueError, match="every unit × day"):
        did(panel.iloc[1:], treated=["A"], campaign_days=[1])
    with pytest.raises(ValueError, match="finite"):
        did(
            panel.assign(value=panel["value"].where(panel["day"] != 2)),
            treated=["A"],
            campaign_days=[1],
        )
    with pytest.raises(ValueError, match="must not be missing"):
        did(
            panel.assign(unit=panel["unit"].where(panel["day"] != 2)),
            treated=["A"],
            campaign_days=[1],
        )
    with pytest.raises(ValueError, match="confidence"):
        did(panel, treated=["A"], campaign_days=[1], confidence=95)
    with pytest.raises(ValueError, match="parallel"):
        did(panel, treated=["A"], campaign_days=[1], parallel="log")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="collection of units"):
        did(panel, treated="A", campaign_days=[1])
    with pytest.raises(ValueError, match="span"):
        event_days(panel, treated=["A"], campaign_days=[1], span=-1)
    with pytest.raises(ValueError, match="days must be"):
        pretrend(panel, treated=["A"], campaign_days=[1], days="after")  # type: ignore[arg-type]


def test_pretrend_detects_a_planted_drift_and_not_parallel_series() -> None:
    rng = np.random.default_rng(5)
    days = np.arange(40)
    common = 100 * np.exp(0.01 * days)
    drifting = np.vstack([common * np.exp(0.03 * days), common, 2 * common])
    panel = _panel(rng.poisson(drifting).astype(float))
    test = pretrend(panel, treated=[0], campaign_days=[30])
    assert test.status == "ok" and test.days == 30
    assert test.low < 0.03 < test.high and test.p_value < 0.001
    flat = _panel(rng.poisson(np.vstack([common, common, 2 * common])).astype(float))
    assert pretrend(flat, treated=[0], campaign_days=[30]).p_value > 0.01
    # levels: the OLS slope of the daily gap, as numpy's least squares gives it
    levels = pretrend(panel, treated=[0], campaign_days=[30, 35], parallel="levels", days="all")
    grid = panel.pivot(index="unit", columns="day", values="value").to_numpy()
    keep = ~np.isin(days, [30, 35])
    gap = grid[0, keep] - grid[1:, keep].mean(axis=0)
    assert levels.days == 38
    assert levels.slope == pytest.approx(np.polyfit(days[keep], gap, 1)[0])
    short = pretrend(panel, treated=[0], campaign_days=[2])
    assert short.status == "not_enough_data" and math.isnan(short.slope)


def test_placebo_units_and_event_days() -> None:
    panel = _panel(SMALL, ["A", "B", "C"])
    fake = placebo_units(panel, treated=["A"], campaign_days=[1, 3])
    assert list(fake["unit"]) == ["B", "C"]
    # B against C: (7 / 5) ÷ (26 / 19)
    assert fake["ratio"].iloc[0] == pytest.approx((7 / 5) / (26 / 19))
    assert fake["additive"].iloc[0] == pytest.approx(7 - 5 * 26 / 19)
    panel, _ = _random_panel(6, 8, 40, 1)
    study = event_days(panel, treated=[0], campaign_days=[10, 25], span=2)
    assert list(study["relative_day"]) == [-2, -1, 0, 1, 2]
    assert list(study["days"]) == [2] * 5
    # relative day 0 against the days farther than 2 from both campaign days
    near = {8, 9, 10, 11, 12, 23, 24, 25, 26, 27}
    trimmed = panel[~panel["day"].isin(near - {10, 25})]
    direct = did(trimmed, treated=[0], campaign_days=[10, 25])
    row = study.loc[study["relative_day"] == 0].iloc[0]
    assert row["estimate"] == pytest.approx(direct.additive)
    assert (row["low"], row["high"]) == pytest.approx((direct.additive_low, direct.additive_high))
    assert row["ratio"] == pytest.approx(direct.ratio)


STATUSES = {"ok", "empty_arm", "not_enough_data", "all_zero", "negative_values"}


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    units=st.integers(1, 14),
    days=st.integers(1, 9),
    level=st.sampled_from([0.0, 0.3, 4.0]),
)
def test_any_panel_gives_a_status_never_an_exception(
    data: st.DataObject, units: int, days: int, level: float
) -> None:
    seed = data.draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).poisson(level, (units, days)).astype(float)
    treated = data.draw(st.lists(st.integers(0, units), max_size=units, unique=True))
    campaign = data.draw(st.lists(st.integers(-1, days + 1), max_size=4, unique=True))
    panel = _panel(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray numpy/statsmodels warning either
        for parallel in ("proportional", "levels"):
            result = did(panel, treated=treated, campaign_days=campaign, parallel=parallel)
            assert result.status in STATUSES and (result.status == "ok") == (result.reason == "")
            if result.status in {"empty_arm", "all_zero"}:
                assert _nan(result)
            trend = pretrend(panel, treated=treated, campaign_days=campaign, days="all")
            assert trend.status in STATUSES | {"zero_variance"}
            event_days(panel, treated=treated, campaign_days=campaign, span=1, parallel=parallel)
