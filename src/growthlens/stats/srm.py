"""Sample-ratio mismatch: did the arms get the share of units the design promised?

A test meant to split 50/50 that ends 52/48 at 100,000 units did not assign at random (a
broken redirect, a filter applied to one arm, bots): its comparison is then biased in an
unknown direction, whatever its p-value. The check is Pearson's chi-square goodness-of-fit
test of the observed counts per arm against the expected shares (equal by default), with
k − 1 degrees of freedom; it is flagged when p < ``threshold``. The default threshold is
strict (0.001, as GrowthBook and most platforms use) because the check runs on every test
and a false alarm discards a sound test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from growthlens.stats.comparison import Status


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio check.

    Attributes:
        statistic: Pearson's chi-square (NaN without units).
        p_value: its p-value (k − 1 degrees of freedom).
        flagged: p < threshold: the split is not what the design promised.
        observed: each arm's share of the units.
        expected: each arm's expected share (normalised to sum to 1).
        threshold: the p-value below which the split is flagged.
        status: ``"ok"`` or ``"not_enough_data"`` (no units at all).
        reason: why, when the status is not ``"ok"``; else ``""``.
    """

    statistic: float
    p_value: float
    flagged: bool
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    threshold: float
    status: Status
    reason: str


def sample_ratio(
    counts: Sequence[int],
    expected: Sequence[float] | None = None,
    *,
    threshold: float = 0.001,
) -> SampleRatio:
    """Chi-square goodness of fit of the units per arm to the ``expected`` shares.

    Example:
        >>> s = sample_ratio([52_000, 48_000])
        >>> round(s.statistic, 1), s.flagged, s.observed
        (160.0, True, (0.52, 0.48))
    """
    observed = np.asarray(counts, dtype=float).reshape(-1)
    if len(observed) < 2:
        raise ValueError(f"counts needs at least two arms; got {len(observed)}")
    if (observed < 0).any() or not np.isfinite(observed).all():
        raise ValueError(f"counts must be non-negative numbers; got {list(counts)}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie in (0, 1); got {threshold}")
    if expected is None:
        shares = np.full(len(observed), 1 / len(observed))
    else:
        weights = np.asarray(expected, dtype=float).reshape(-1)
        if len(weights) != len(observed):
            raise ValueError(
                f"expected needs one share per arm ({len(observed)}); got {len(weights)}"
            )
        if not np.isfinite(weights).all() or (weights <= 0).any():
            raise ValueError(f"expected shares must be positive; got {list(expected)}")
        shares = weights / weights.sum()
    total = float(observed.sum())
    shares_t = tuple(float(s) for s in shares)
    if total == 0:
        return SampleRatio(
            math.nan, math.nan, False, tuple(math.nan for _ in observed), shares_t,
            threshold, "not_enough_data", "no units in any arm",
        )  # fmt: skip
    wanted = total * shares
    statistic = float(((observed - wanted) ** 2 / wanted).sum())
    p_value = float(stats.chi2.sf(statistic, len(observed) - 1))
    return SampleRatio(
        statistic, p_value, p_value < threshold, tuple(float(v) for v in observed / total),
        shares_t, threshold, "ok", "",
    )  # fmt: skip


__all__ = ["SampleRatio", "sample_ratio"]
