"""Bootstrap interval of a difference of means, fast on mostly-zero values.

Method: the nonparametric bootstrap, resampling each arm's units with replacement
(``replicates`` times, independently per arm, seeded), and the **percentile** interval:
the α/2 and 1 − α/2 quantiles (linear interpolation) of the replicated differences
mean*_t − mean*_c, and of the replicated relative differences mean*_t / mean*_c − 1. It
makes no normality assumption about the mean, only that the arm's units are a sample of
independent units, and its coverage is close to nominal once an arm holds a few hundred
units with a non-zero value (docs/experiments.md gives the measured figures); with very
few non-zero values it is as unreliable as any other method.

Speed: a resample is fully described by how many times each *distinct* value is drawn, a
multinomial count vector. Each arm is split into its most frequent value (0 for revenue
per participant) and the rest: the number of draws that land on the rest is
Binomial(n, share of the rest); those draws are then either multinomial counts over the
rest's distinct values, or, when the rest has more distinct values than about a tenth of
the expected draws, uniform draws of the rest's units. Either way the work per replicate
is the number of non-zero draws, not n, so a million participants with 5% buyers cost
little. The resampling distribution is exactly that of drawing n units with replacement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from growthlens.stats.comparison import Status, values
from growthlens.stats.testing import check_confidence

# Entries (replicates × categories, or draws) processed per block: bounds memory.
_BLOCK = 4_000_000
# Multinomial counts cost about this many index draws per distinct value.
_MULTINOMIAL_COST = 10


@dataclass(frozen=True)
class BootstrapInterval:
    """Percentile bootstrap interval of treatment − control (means).

    Attributes:
        difference: mean_t − mean_c on the data.
        low, high: percentile interval of the difference.
        relative: mean_t / mean_c − 1 on the data.
        rel_low, rel_high: percentile interval of the relative difference.
        replicates: bootstrap resamples drawn.
        method: the method in words.
        status: ``"ok"``, ``"empty_arm"``, ``"not_enough_data"`` or ``"zero_variance"``.
        reason: why, when the status is not ``"ok"`` or a figure is NaN; else ``""``.
    """

    difference: float
    low: float
    high: float
    relative: float
    rel_low: float
    rel_high: float
    replicates: int
    method: str
    status: Status
    reason: str


METHOD = "bootstrap percentile interval (units resampled with replacement within each arm)"


def resampled_means(
    x: NDArray[np.float64], replicates: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Means of ``replicates`` resamples (with replacement, size n) of ``x``."""
    n = len(x)
    distinct, counts = np.unique(x, return_counts=True)
    mode = int(np.argmax(counts))
    base = float(distinct[mode])
    rest_values = np.delete(distinct, mode)
    rest_counts = np.delete(counts, mode)
    rest = int(rest_counts.sum())
    # Work in deviations from the mode: the mode's draws add nothing.
    rest_dev = rest_values - base
    drawn = rng.binomial(n, rest / n, size=replicates) if rest else np.zeros(replicates, int)
    sums = np.zeros(replicates)
    if rest == 0:
        return np.full(replicates, base)
    if _MULTINOMIAL_COST * len(rest_values) < rest:
        p = rest_counts / rest
        step = max(1, _BLOCK // len(rest_values))
        for start in range(0, replicates, step):
            block = drawn[start : start + step]
            sums[start : start + step] = rng.multinomial(block, p) @ rest_dev
    else:
        units = np.repeat(rest_dev, rest_counts)
        start = 0
        while start < replicates:
            stop, total = start, 0
            while stop < replicates and (stop == start or total + drawn[stop] <= _BLOCK):
                total += int(drawn[stop])
                stop += 1
            picks = units[rng.integers(0, rest, size=total, dtype=np.int32)]
            edges = np.concatenate([[0], np.cumsum(drawn[start:stop])])
            cumulative = np.concatenate([[0.0], np.cumsum(picks)])
            sums[start:stop] = cumulative[edges[1:]] - cumulative[edges[:-1]]
            start = stop
    means: NDArray[np.float64] = base + sums / n
    return means


def bootstrap_difference(
    x_t: ArrayLike,
    x_c: ArrayLike,
    *,
    replicates: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapInterval:
    """Percentile bootstrap interval of mean(x_t) − mean(x_c) and of the relative difference.

    Example:
        >>> b = bootstrap_difference([0, 0, 0, 10, 20] * 40, [0, 0, 0, 0, 10] * 40)
        >>> b.difference, round(b.low, 1) > 0, round(b.relative, 2)
        (4.0, True, 2.0)
    """
    check_confidence(confidence)
    if replicates < 2:
        raise ValueError(f"replicates must be at least 2; got {replicates}")
    t, c = values(x_t, "x_t"), values(x_c, "x_c")
    nan = math.nan
    n_t, n_c = len(t), len(c)
    if n_t == 0 or n_c == 0:
        return BootstrapInterval(
            nan, nan, nan, nan, nan, nan, replicates, METHOD, "empty_arm", "an arm has no units"
        )
    m_t, m_c = float(t.mean()), float(c.mean())
    diff = m_t - m_c
    relative = m_t / m_c - 1 if m_c != 0 else nan
    if n_t < 2 or n_c < 2:
        return BootstrapInterval(
            diff, nan, nan, relative, nan, nan, replicates, METHOD, "not_enough_data",
            f"fewer than 2 units in an arm (treatment {n_t}, control {n_c})",
        )  # fmt: skip
    if t.min() == t.max() and c.min() == c.max():
        return BootstrapInterval(
            diff, nan, nan, relative, nan, nan, replicates, METHOD, "zero_variance",
            "every unit has the same value within each arm: nothing to resample",
        )  # fmt: skip
    rng = np.random.default_rng(seed)
    boot_t = resampled_means(t, replicates, rng)
    boot_c = resampled_means(c, replicates, rng)
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    low, high = (float(v) for v in np.quantile(boot_t - boot_c, q))
    reason = ""
    if m_c == 0:
        rel_low = rel_high = nan
        reason = "the control's mean is 0: the relative difference is undefined"
    elif (boot_c == 0).any():
        rel_low = rel_high = nan
        reason = "some resamples of the control have a mean of 0: no relative interval"
    else:
        rel_low, rel_high = (float(v) for v in np.quantile(boot_t / boot_c - 1, q))
    return BootstrapInterval(
        diff, low, high, relative, rel_low, rel_high, replicates, METHOD, "ok", reason
    )


__all__ = ["BootstrapInterval", "bootstrap_difference", "resampled_means"]
