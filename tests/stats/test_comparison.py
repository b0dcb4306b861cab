"""compare_proportions / compare_means / compare_ratio: fixed inputs against scipy and
statsmodels computed in the test, hand formulas, and every degenerate status."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from growthlens.stats.comparison import compare_means, compare_proportions, compare_ratio

TIGHT = {"rel": 1e-9, "abs": 1e-12}


@pytest.mark.parametrize(
    ("k_t", "n_t", "k_c", "n_c", "confidence"),
    [(56, 70, 48, 80, 0.95), (130, 2400, 100, 2500, 0.9), (3, 40, 9, 35, 0.99)],
)
def test_proportions_match_scipy_and_statsmodels(
    k_t: int, n_t: int, k_c: int, n_c: int, confidence: float
) -> None:
    c = compare_proportions(k_t, n_t, k_c, n_c, confidence=confidence)
    assert c.status == "ok" and c.reason == ""
    table = np.array([[k_t, n_t - k_t], [k_c, n_c - k_c]])
    chi2 = stats.chi2_contingency(table, correction=False)
    assert c.p_value == pytest.approx(chi2.pvalue, **TIGHT)
    _, p_z = proportions_ztest([k_t, k_c], [n_t, n_c])
    assert c.p_value == pytest.approx(p_z, **TIGHT)
    assert c.difference == pytest.approx(k_t / n_t - k_c / n_c, **TIGHT)
    alpha = 1 - confidence
    low, high = confint_proportions_2indep(
        k_t, n_t, k_c, n_c, method="newcomb", compare="diff", alpha=alpha
    )
    assert (c.low, c.high) == pytest.approx((low, high), **TIGHT)
    r_low, r_high = confint_proportions_2indep(
        k_t, n_t, k_c, n_c, method="log", compare="ratio", alpha=alpha
    )
    assert c.relative == pytest.approx((k_t / n_t) / (k_c / n_c) - 1, **TIGHT)
    assert (c.rel_low, c.rel_high) == pytest.approx((r_low - 1, r_high - 1), **TIGHT)
    for arm, k, n in ((c.treatment, k_t, n_t), (c.control, k_c, n_c)):
        w_low, w_high = proportion_confint(k, n, alpha=alpha, method="wilson")
        assert (arm.n, arm.value, arm.low, arm.high) == pytest.approx(
            (n, k / n, w_low, w_high), **TIGHT
        )


def test_proportions_degenerate() -> None:
    empty = compare_proportions(0, 0, 5, 100)
    assert empty.status == "empty_arm" and math.isnan(empty.p_value) and empty.reason
    assert math.isnan(empty.difference) and math.isnan(empty.low)
    one = compare_proportions(1, 1, 5, 100)
    assert one.status == "not_enough_data" and math.isnan(one.p_value) and one.reason
    none = compare_proportions(0, 500, 0, 400)
    assert none.status == "zero_variance" and math.isnan(none.p_value)
    assert none.difference == 0 and math.isnan(none.relative) and "0" in none.reason
    zero_control = compare_proportions(5, 500, 0, 400)
    assert zero_control.status == "ok" and math.isnan(zero_control.relative)
    assert "control" in zero_control.reason and zero_control.p_value < 0.1
    no_treated = compare_proportions(0, 500, 6, 400)
    assert no_treated.relative == -1 and math.isnan(no_treated.rel_low) and no_treated.reason
    with pytest.raises(ValueError, match="successes"):
        compare_proportions(11, 10, 1, 10)
    with pytest.raises(ValueError, match="confidence"):
        compare_proportions(1, 10, 1, 10, confidence=1.5)


def test_means_match_scipy_welch() -> None:
    x_t = np.array([0.0, 0.0, 12.5, 3.0, 0.0, 40.0, 7.25, 0.0])
    x_c = np.array([5.0, 0.0, 0.0, 1.0, 2.5, 0.0])
    for confidence in (0.95, 0.8):
        c = compare_means(x_t, x_c, confidence=confidence)
        ref = stats.ttest_ind(x_t, x_c, equal_var=False)
        assert c.status == "ok"
        assert c.p_value == pytest.approx(ref.pvalue, **TIGHT)
        ci = ref.confidence_interval(confidence)
        assert (c.low, c.high) == pytest.approx((ci.low, ci.high), **TIGHT)
        assert c.difference == pytest.approx(x_t.mean() - x_c.mean(), **TIGHT)
        for arm, x in ((c.treatment, x_t), (c.control, x_c)):
            t_low, t_high = stats.t.interval(confidence, len(x) - 1, x.mean(), stats.sem(x))
            assert (arm.n, arm.value, arm.low, arm.high) == pytest.approx(
                (len(x), x.mean(), t_low, t_high), **TIGHT
            )
        # Delta method by hand, both means positive: Var(log(m_t/m_c)) ≈ v_t/m_t² + v_c/m_c².
        m_t, m_c = x_t.mean(), x_c.mean()
        v_t, v_c = x_t.var(ddof=1) / len(x_t), x_c.var(ddof=1) / len(x_c)
        se = math.sqrt(v_t / m_t**2 + v_c / m_c**2)
        z = stats.norm.ppf(0.5 + confidence / 2)
        r = m_t / m_c
        assert (c.relative, c.rel_low, c.rel_high) == pytest.approx(
            (r - 1, r * math.exp(-z * se) - 1, r * math.exp(z * se) - 1), **TIGHT
        )
    # A negative mean: the linear delta method, Var(m_t/m_c) ≈ v_t/m_c² + m_t²·v_c/m_c⁴.
    y_t, y_c = x_t - 10, x_c + 1
    c = compare_means(y_t, y_c)
    m_t, m_c = y_t.mean(), y_c.mean()
    v_t, v_c = y_t.var(ddof=1) / len(y_t), y_c.var(ddof=1) / len(y_c)
    se = math.sqrt(v_t / m_c**2 + m_t**2 * v_c / m_c**4)
    half = stats.norm.ppf(0.975) * se
    assert (c.rel_low, c.rel_high) == pytest.approx(
        (m_t / m_c - 1 - half, m_t / m_c - 1 + half), **TIGHT
    )


def test_means_far_from_zero_keep_their_precision() -> None:
    # Σx² − n·mean² would lose every digit here; the two-pass variance does not.
    x_t = 1e9 + np.array([1.0, 2.0, 3.0, 4.0])
    x_c = 1e9 + np.array([0.0, 1.0, 1.0, 2.0])
    ref = stats.ttest_ind(x_t, x_c, equal_var=False)
    assert compare_means(x_t, x_c).p_value == pytest.approx(ref.pvalue, rel=1e-6)


def test_means_degenerate() -> None:
    empty = compare_means([], [1.0, 2.0])
    assert empty.status == "empty_arm" and math.isnan(empty.difference) and empty.reason
    one = compare_means([3.0], [1.0, 2.0])
    assert one.status == "not_enough_data" and math.isnan(one.p_value)
    same = compare_means([2.0, 2.0, 2.0], [2.0, 2.0])
    assert same.status == "zero_variance" and same.difference == 0
    assert math.isnan(same.p_value) and math.isnan(same.low) and same.reason
    tenths = compare_means([0.1, 0.1, 0.1], [0.7] * 7)  # rounding in the mean is no spread
    assert tenths.status == "zero_variance" and math.isnan(tenths.p_value)
    apart = compare_means([3.0, 3.0], [2.0, 2.0])
    assert apart.status == "zero_variance" and apart.difference == 1 and math.isnan(apart.p_value)
    one_sided = compare_means([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])  # one arm constant: fine
    assert one_sided.status == "ok" and one_sided.p_value == pytest.approx(
        stats.ttest_ind([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], equal_var=False).pvalue, **TIGHT
    )
    zero_control = compare_means([1.0, 0.0, 2.0], [0.0, 1.0, -1.0])
    assert zero_control.status == "ok" and math.isnan(zero_control.relative)
    assert math.isnan(zero_control.rel_low) and "control" in zero_control.reason
    with pytest.raises(ValueError, match="finite"):
        compare_means([1.0, float("nan")], [1.0, 2.0])


def test_ratio_delta_method_by_hand_and_fieller() -> None:
    rng = np.random.default_rng(3)
    orders_t, orders_c = rng.poisson(1.2, 300), rng.poisson(1.0, 280)
    revenue_t = orders_t * rng.gamma(2.0, 30.0, 300)
    revenue_c = orders_c * rng.gamma(2.0, 28.0, 280)
    c = compare_ratio(revenue_t, orders_t, revenue_c, orders_c)
    assert c.status == "ok"
    z = stats.norm.ppf(0.975)
    parts = []
    for num, den, arm in ((revenue_t, orders_t, c.treatment), (revenue_c, orders_c, c.control)):
        cov = np.cov(num, den)  # ddof 1
        r = num.sum() / den.sum()
        var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (len(num) * den.mean() ** 2)
        assert (arm.value, arm.low, arm.high) == pytest.approx(
            (r, r - z * math.sqrt(var), r + z * math.sqrt(var)), **TIGHT
        )
        parts.append((r, var))
    (r_t, v_t), (r_c, v_c) = parts
    se = math.sqrt(v_t + v_c)
    assert c.p_value == pytest.approx(2 * stats.norm.sf(abs(r_t - r_c) / se), **TIGHT)
    assert (c.low, c.high) == pytest.approx((r_t - r_c - z * se, r_t - r_c + z * se), **TIGHT)
    # Fieller's bounds θ solve (r_t − θ·r_c)² = z²(v_t + θ²·v_c).
    for bound in (c.rel_low, c.rel_high):
        theta = bound + 1
        assert (r_t - theta * r_c) ** 2 == pytest.approx(z * z * (v_t + theta**2 * v_c), rel=1e-9)
    assert c.rel_low < c.relative < c.rel_high


def test_ratio_with_unit_denominators_is_a_mean() -> None:
    x_t, x_c = np.array([1.0, 4.0, 2.0, 8.0]), np.array([2.0, 1.0, 3.0, 0.0, 1.0])
    c = compare_ratio(x_t, np.ones(4), x_c, np.ones(5))
    v = x_t.var(ddof=1) / 4 + x_c.var(ddof=1) / 5
    assert c.p_value == pytest.approx(
        2 * stats.norm.sf(abs(x_t.mean() - x_c.mean()) / math.sqrt(v))
    )


def test_ratio_degenerate_and_unbounded_fieller() -> None:
    empty = compare_ratio([], [], [1.0, 2.0], [1.0, 1.0])
    assert empty.status == "empty_arm"
    no_orders = compare_ratio([0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [1.0, 1.0])
    assert no_orders.status == "not_enough_data" and "denominator" in no_orders.reason
    flat = compare_ratio([10.0, 20.0], [1.0, 2.0], [10.0, 30.0], [1.0, 3.0])
    assert flat.status == "zero_variance" and flat.difference == 0 and math.isnan(flat.p_value)
    # A control ratio indistinguishable from 0: Fieller's set is unbounded.
    wide = compare_ratio([5.0, 6.0, 7.0], [1.0, 1.0, 1.0], [3.0, -2.0, 0.5], [1.0, 1.0, 1.0])
    assert wide.status == "ok" and math.isnan(wide.rel_low) and "unbounded" in wide.reason
    assert not math.isnan(wide.relative)
    with pytest.raises(ValueError, match="one value per unit"):
        compare_ratio([1.0, 2.0], [1.0], [1.0], [1.0])


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@example([0.0, 0.0], [0.0, 2.8645387504168276e-154])  # variances that underflow when squared
@example([0.0, 1.0], [0.0, 1.8050710477402656e-252])  # a mean that underflows when squared
@given(st.lists(finite, min_size=0, max_size=30), st.lists(finite, min_size=0, max_size=30))
def test_means_swapping_arms_negates_and_keeps_the_test(x_t: list[float], x_c: list[float]) -> None:
    a, b = compare_means(x_t, x_c), compare_means(x_c, x_t)
    assert a.status == b.status
    if a.status == "ok":
        assert a.difference == pytest.approx(-b.difference, abs=1e-9)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-9, abs=1e-300)
        assert a.low <= a.difference <= a.high
        assert 0 <= a.p_value <= 1
    else:
        assert math.isnan(a.p_value) and a.reason


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_proportions_never_raise_and_stay_consistent(a: int, b: int, c: int, d: int) -> None:
    k_t, n_t, k_c, n_c = min(a, b), max(a, b), min(c, d), max(c, d)
    r = compare_proportions(k_t, n_t, k_c, n_c)
    if r.status == "ok":
        assert r.low <= r.difference <= r.high and 0 <= r.p_value <= 1
        swapped = compare_proportions(k_c, n_c, k_t, n_t)
        assert r.p_value == pytest.approx(swapped.p_value, rel=1e-9)
        assert (r.low, r.high) == pytest.approx((-swapped.high, -swapped.low), abs=1e-12)
    else:
        assert r.reason and math.isnan(r.p_value)
