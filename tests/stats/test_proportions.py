"""Wilson intervals and the homogeneity test: known values and calibration by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from growthlens.stats.proportions import homogeneity, mean_of_proportions, wilson


def test_wilson_known_values_and_edges() -> None:
    low, high = wilson([0, 20, 8], [20, 20, 20])
    assert low[0] == 0.0 and high[1] == 1.0  # stays inside [0, 1] at the edges
    assert (round(low[2], 4), round(high[2], 4)) == (0.2188, 0.6134)
    empty_low, empty_high = wilson([0], [0])
    assert math.isnan(empty_low[0]) and math.isnan(empty_high[0])
    with pytest.raises(ValueError):
        wilson([1], [2], confidence=1.0)


def test_homogeneity_equals_scipy_and_is_undefined_without_variation() -> None:
    table = np.array([[12, 88], [30, 170], [5, 95]])
    t = homogeneity(table[:, 0], table.sum(axis=1))
    chi2, p, dof, expected = chi2_contingency(table, correction=False)
    assert (t.statistic, t.p_value, t.dof) == pytest.approx((chi2, p, dof))
    assert t.min_expected == pytest.approx(expected.min())
    assert not homogeneity([0, 0], [10, 10]).defined  # no success at all
    assert not homogeneity([3, 0], [10, 0]).defined  # one group with trials
    assert homogeneity([3, 0], [10, 0]).groups == 1


@pytest.mark.parametrize("n", [30, 300])
def test_wilson_coverage_is_close_to_nominal(n: int) -> None:
    """Averaged over rates 1%–50%, 95% Wilson intervals cover the true rate 93–97% of the time."""
    rng = np.random.default_rng(11)
    coverage = []
    for p in (0.01, 0.03, 0.1, 0.2, 0.35, 0.5):
        k = rng.binomial(n, p, size=20_000)
        low, high = wilson(k, np.full_like(k, n))
        coverage.append(np.mean((low <= p) & (p <= high)))
    assert 0.93 <= np.mean(coverage) <= 0.97
    assert min(coverage) >= 0.85  # no rate is badly under-covered


def test_homogeneity_false_positive_rate_is_nominal() -> None:
    """Seven groups with one true rate: p < 0.05 in 5% ± 1.5% of 4,000 simulated datasets."""
    rng = np.random.default_rng(5)
    trials = np.full(7, 400)
    p_values = [homogeneity(rng.binomial(trials, 0.05), trials).p_value for _ in range(4_000)]
    assert 0.035 <= np.mean(np.array(p_values) < 0.05) <= 0.065


def test_difference_interval_coverage_and_z_test_false_positives() -> None:
    """Simulation: Newcombe's interval covers the true difference near its nominal 95%
    (small and moderate counts, rates near 0 and not), and the pooled z test rejects a
    true null about 5% of the time."""
    from growthlens.stats.proportions import difference

    rng = np.random.default_rng(20261203)
    reps = 4000
    for p1, p2, n1, n2 in ((0.3, 0.2, 60, 80), (0.05, 0.02, 400, 300), (0.5, 0.5, 200, 150)):
        k1 = rng.binomial(n1, p1, reps)
        k2 = rng.binomial(n2, p2, reps)
        d = difference(k1, np.full(reps, n1), k2, np.full(reps, n2))
        covered = np.mean((d.low <= p1 - p2) & (p1 - p2 <= d.high))
        assert 0.93 <= covered <= 0.975, (p1, p2, covered)
        if p1 == p2:
            rejected = np.mean(d.p_value[~np.isnan(d.p_value)] < 0.05)
            assert 0.035 <= rejected <= 0.065, rejected
    empty = difference([0], [0], [1], [2])
    assert np.isnan(empty.difference[0]) and np.isnan(empty.p_value[0])


def test_mean_of_proportions_covers_the_mean_rate() -> None:
    """20 cohorts of 20–400 users with rates 2%–40%: the 95% interval of the unweighted
    mean covers the mean of the true rates 93–97% of the time; all-zero cohorts still get
    an interval of positive width."""
    rng = np.random.default_rng(5)
    hits = 0
    sims = 3000
    for _ in range(sims):
        n = rng.integers(20, 400, size=20)
        p = rng.uniform(0.02, 0.4, size=20)
        mean, low, high = mean_of_proportions(rng.binomial(n, p), n)
        hits += low <= p.mean() <= high
    assert 0.93 <= hits / sims <= 0.97
    mean, low, high = mean_of_proportions([0, 0, 0], [50, 80, 20])
    assert mean == 0 and low == 0 and high > 0.02
    assert all(math.isnan(v) for v in mean_of_proportions([1], [0]))
