"""The order-statistic interval of a median: known ranks, edges, coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growthlens.stats.quantiles import median_interval


def test_known_ranks_and_edges() -> None:
    # n = 20 at 95%: ranks 6 and 15 (P(6 ≤ B ≤ 14) = 1 − 2 · 0.0207 = 0.959).
    assert median_interval(range(1, 21)) == (6.0, 15.0)
    # n = 20 at 80%: P(B ≤ 6) = 0.0577 < 0.1 ≤ P(B ≤ 7) = 0.1316 → ranks 7 and 14.
    assert median_interval(range(1, 21), confidence=0.8) == (7.0, 14.0)
    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0)  # too few: the whole range
    assert all(math.isnan(v) for v in median_interval([4.0]))
    assert median_interval([7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0]) == (7.0, 7.0)
    with pytest.raises(ValueError):
        median_interval([1.0, 2.0], confidence=0.0)


@pytest.mark.parametrize("n", [10, 30, 300])
def test_coverage_is_at_least_nominal_on_skewed_times(n: int) -> None:
    """Exponential times (median ln 2): 95% intervals cover 95–99% of 4,000 samples."""
    rng = np.random.default_rng(n)
    hits = [
        lo <= math.log(2) <= hi
        for lo, hi in (median_interval(rng.exponential(1.0, n)) for _ in range(4_000))
    ]
    assert 0.945 <= np.mean(hits) <= 0.99
