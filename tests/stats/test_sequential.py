"""sequential_means: the normal-mixture boundary by hand, the p-value's duality with the
interval, and degenerate inputs (its calibration under peeking: test_ab_calibration.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growthlens.stats.comparison import compare_means
from growthlens.stats.sequential import sequential_means


def test_boundary_by_hand() -> None:
    rng = np.random.default_rng(4)
    x_t, x_c = rng.normal(0.2, 1.5, 700), rng.normal(0.0, 1.0, 900)
    s = sequential_means(x_t, x_c, confidence=0.9, tuning_n=2000)
    alpha, n = 0.1, 1600
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / 2000
    v = x_t.var(ddof=1) / 700 + x_c.var(ddof=1) / 900
    half = math.sqrt(
        n * v * 2 * (n * rho2 + 1) / (n**2 * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
    )
    d = x_t.mean() - x_c.mean()
    assert (s.difference, s.low, s.high) == pytest.approx((d, d - half, d + half), rel=1e-12)
    # The p-value is below α exactly when the interval excludes 0.
    for seed in range(20):
        r = np.random.default_rng(seed)
        q = sequential_means(r.normal(0.05, 1, 2000), r.normal(0, 1, 2000))
        assert (q.p_value < 0.05) == (q.low > 0 or q.high < 0)
    # p = 1/M ∧ 1, M the normal-mixture martingale at the same ρ.
    log_m = n**2 * rho2 * d**2 / (2 * n * v * (n * rho2 + 1)) - 0.5 * math.log(n * rho2 + 1)
    assert s.p_value == pytest.approx(min(1.0, math.exp(-log_m)), rel=1e-12)


def test_wider_than_the_fixed_horizon_interval() -> None:
    rng = np.random.default_rng(0)
    x_t, x_c = rng.binomial(1, 0.11, 5000).astype(float), rng.binomial(1, 0.10, 5000).astype(float)
    s, w = sequential_means(x_t, x_c), compare_means(x_t, x_c)
    assert s.low < w.low < w.high < s.high
    assert s.p_value >= w.p_value


def test_degenerate() -> None:
    assert sequential_means([], [1.0, 2.0]).status == "empty_arm"
    tiny = sequential_means([1.0], [1.0, 2.0])
    assert tiny.status == "not_enough_data" and math.isnan(tiny.p_value)
    flat = sequential_means([1.0, 1.0], [1.0, 1.0])
    assert flat.status == "zero_variance" and flat.difference == 0 and math.isnan(flat.low)
    with pytest.raises(ValueError, match="tuning_n"):
        sequential_means([1.0, 2.0], [1.0, 2.0], tuning_n=0)
