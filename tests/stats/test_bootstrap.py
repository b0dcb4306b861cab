"""bootstrap_difference: the distinct-value resampling equals plain resampling in
distribution, the percentile interval agrees with Welch on large samples, determinism and
degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growthlens.stats.bootstrap import bootstrap_difference, resampled_means
from growthlens.stats.comparison import compare_means


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.0] * 60 + [1, 2, 2, 3, 5, 8, 13] * 4),  # few distinct: multinomial path
        np.concatenate([np.zeros(100), np.linspace(1, 50, 200)]),  # many distinct: index path
        np.array([2.0, 4.0, 4.0, 9.0, 9.0, 9.0]),  # no zeros at all
    ],
)
def test_resampled_means_have_the_bootstrap_distribution(x: np.ndarray) -> None:
    means = resampled_means(x, 40_000, np.random.default_rng(1))
    # Exact moments of the mean of n draws with replacement: mean, and σ²/n with ddof 0.
    assert means.mean() == pytest.approx(x.mean(), abs=4 * x.std() / math.sqrt(len(x) * 40_000))
    assert means.std() == pytest.approx(x.std() / math.sqrt(len(x)), rel=0.02)
    plain = x[np.random.default_rng(2).integers(0, len(x), (40_000, len(x)))].mean(axis=1)
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(means, q) == pytest.approx(np.quantile(plain, q), rel=0.03, abs=0.01)


def test_agrees_with_welch_on_a_large_sample_and_is_deterministic() -> None:
    rng = np.random.default_rng(5)
    x_t = np.where(rng.random(20_000) < 0.06, rng.lognormal(3, 1, 20_000), 0.0)
    x_c = np.where(rng.random(20_000) < 0.05, rng.lognormal(3, 1, 20_000), 0.0)
    b = bootstrap_difference(x_t, x_c, replicates=4000, seed=1)
    w = compare_means(x_t, x_c)
    assert b.status == "ok" and b.replicates == 4000
    assert b.difference == pytest.approx(w.difference)
    half = (w.high - w.low) / 2
    assert b.low == pytest.approx(w.low, abs=0.08 * half)
    assert b.high == pytest.approx(w.high, abs=0.08 * half)
    assert b.rel_low == pytest.approx(w.rel_low, abs=0.1 * (w.rel_high - w.rel_low) / 2)
    assert b == bootstrap_difference(x_t, x_c, replicates=4000, seed=1)
    assert b != bootstrap_difference(x_t, x_c, replicates=4000, seed=2)


def test_degenerate() -> None:
    assert bootstrap_difference([], [1.0, 2.0]).status == "empty_arm"
    assert bootstrap_difference([1.0], [1.0, 2.0]).status == "not_enough_data"
    flat = bootstrap_difference([1.0, 1.0], [1.0, 1.0, 1.0])
    assert flat.status == "zero_variance" and flat.difference == 0 and math.isnan(flat.low)
    zero = bootstrap_difference([0.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0])
    assert zero.status == "ok" and math.isnan(zero.relative) and math.isnan(zero.rel_low)
    assert "control" in zero.reason and zero.low <= zero.difference <= zero.high
    with pytest.raises(ValueError, match="replicates"):
        bootstrap_difference([1.0, 2.0], [1.0, 2.0], replicates=1)
