"""mann_whitney against scipy.stats.mannwhitneyu (asymptotic, tie- and continuity-corrected)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from growthlens.stats.ranks import mann_whitney


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scipy_on_tied_skewed_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x_t = np.where(rng.random(300) < 0.2, np.round(rng.lognormal(3, 1, 300)), 0.0)
    x_c = np.where(rng.random(250) < 0.15, np.round(rng.lognormal(3, 1, 250)), 0.0)
    r = mann_whitney(x_t, x_c)
    ref = stats.mannwhitneyu(x_t, x_c, method="asymptotic", use_continuity=True)
    assert r.status == "ok"
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # superiority = P(T > C) + ½P(T = C), counted pair by pair.
    diff = x_t[:, None] - x_c[None, :]
    assert r.superiority == pytest.approx(((diff > 0).mean() + 0.5 * (diff == 0).mean()), rel=1e-12)


def test_small_fixture_by_hand() -> None:
    # Pooled ranks: 0×5 → 3; 3 → 6; 4 → 7; 5 → 8; 6 → 9; 7 → 10; 9 → 11; 12 → 12.
    r = mann_whitney([0, 0, 5, 7, 9, 12], [0, 0, 0, 3, 4, 6])
    assert r.statistic == 3 + 3 + 8 + 10 + 11 + 12 - 21
    assert r.superiority == pytest.approx(26 / 36)


def test_degenerate() -> None:
    assert mann_whitney([], [1.0]).status == "empty_arm"
    one = mann_whitney([1.0], [1.0, 2.0])
    assert one.status == "not_enough_data" and math.isnan(one.p_value) and one.reason
    same = mann_whitney([0.0, 0.0, 0.0], [0.0, 0.0])
    assert same.status == "zero_variance" and math.isnan(same.p_value)
    assert same.superiority == 0.5
