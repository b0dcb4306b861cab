"""cuped: θ, correlation and variance reduction by hand and by OLS (statsmodels), the
adjusted comparison equals Welch on the adjusted values, and the degenerate cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from growthlens.stats.cuped import cuped


def test_theta_is_the_pooled_within_arm_slope() -> None:
    rng = np.random.default_rng(0)
    x_t, x_c = rng.gamma(2, 10, 400), rng.gamma(2, 10, 380)
    y_t = 0.8 * x_t + rng.normal(5, 6, 400)
    y_c = 0.8 * x_c + rng.normal(3, 6, 380)
    r = cuped(y_t, x_t, y_c, x_c)
    # OLS of y on x with an arm dummy: the within-arm slope.
    arm = np.r_[np.ones(400), np.zeros(380)]
    design = np.column_stack([np.ones(780), arm, np.r_[x_t, x_c]])
    fit = sm.OLS(np.r_[y_t, y_c], design).fit()
    assert r.theta == pytest.approx(fit.params[2], rel=1e-9)
    centred = [np.r_[a - a.mean(), b - b.mean()] for a, b in ((x_t, x_c), (y_t, y_c))]
    rho = np.corrcoef(*centred)[0, 1]
    assert r.correlation == pytest.approx(rho, rel=1e-9)
    # Pooled within-arm residual variance over total: 1 − ρ².
    assert r.variance_reduction == pytest.approx(rho**2, rel=1e-9)
    centre = np.r_[x_t, x_c].mean()
    adj_t, adj_c = y_t - r.theta * (x_t - centre), y_c - r.theta * (x_c - centre)
    ref = stats.ttest_ind(adj_t, adj_c, equal_var=False)
    assert r.comparison.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.comparison.difference == pytest.approx(fit.params[1], rel=1e-9)  # ANCOVA estimate
    assert r.comparison.method.startswith("CUPED") and r.status == "ok"


def test_degenerate() -> None:
    constant = cuped([1.0, 2.0, 4.0], [0.0, 0.0, 0.0], [1.0, 3.0], [0.0, 0.0])
    assert constant.status == "ok" and constant.theta == 0 and constant.variance_reduction == 0
    assert "no adjustment" in constant.reason
    empty = cuped([], [], [1.0, 2.0], [1.0, 2.0])
    assert empty.status == "empty_arm" and math.isnan(empty.theta)
    tiny = cuped([1.0], [1.0], [1.0, 2.0], [1.0, 2.0])
    assert tiny.status == "not_enough_data"
    flat = cuped([0.1, 0.1, 0.1], [1.0, 3.0, 2.0], [0.7] * 7, [0.0, 5.0, 1, 2, 3, 4, 5])
    assert flat.status == "zero_variance" and math.isnan(flat.comparison.p_value)
    with pytest.raises(ValueError, match="one value per unit"):
        cuped([1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0])
