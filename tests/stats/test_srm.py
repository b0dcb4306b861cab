"""sample_ratio against scipy.stats.chisquare, the planted 52/48 split, and the rate of
false alarms on fair splits over seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from growthlens.stats.srm import sample_ratio


def test_matches_scipy_chisquare() -> None:
    s = sample_ratio([1030, 980, 2010], expected=[1, 1, 2])
    ref = stats.chisquare([1030, 980, 2010], f_exp=np.array([0.25, 0.25, 0.5]) * 4020)
    assert (s.statistic, s.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert s.expected == pytest.approx((0.25, 0.25, 0.5))
    assert s.observed == pytest.approx((1030 / 4020, 980 / 4020, 2010 / 4020))
    assert s.status == "ok" and not s.flagged


def test_flags_a_52_48_split_at_100000_and_not_a_fair_one() -> None:
    rng = np.random.default_rng(0)
    planted = [sample_ratio(list(rng.multinomial(100_000, [0.52, 0.48]))) for _ in range(200)]
    assert all(s.flagged for s in planted)
    fair = [sample_ratio(list(rng.multinomial(100_000, [0.5, 0.5]))) for _ in range(4000)]
    # At the default threshold 0.001, about 4 false alarms in 4,000 fair splits.
    assert sum(s.flagged for s in fair) <= 12
    # The p-values of fair splits are uniform: at 0.05, 5% ± 1% are flagged.
    at_5 = np.mean([s.p_value < 0.05 for s in fair])
    assert 0.04 <= at_5 <= 0.06


def test_degenerate_and_bad_options() -> None:
    none = sample_ratio([0, 0])
    assert none.status == "not_enough_data" and math.isnan(none.p_value) and not none.flagged
    with pytest.raises(ValueError, match="two arms"):
        sample_ratio([10])
    with pytest.raises(ValueError, match="one share per arm"):
        sample_ratio([10, 10], expected=[1, 1, 1])
    with pytest.raises(ValueError, match="positive"):
        sample_ratio([10, 10], expected=[1, 0])
    with pytest.raises(ValueError, match="non-negative"):
        sample_ratio([10, -1])
