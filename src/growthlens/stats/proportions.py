"""Intervals and tests for proportions (conversion rates), on counts only.

- :func:`wilson`: the Wilson score interval (Wilson 1927) for one proportion. Unlike the
  normal ("Wald") interval it stays inside [0, 1] and keeps close to its nominal coverage
  for small counts and rates near 0 or 1; with no trials it is undefined (NaN).
- :func:`homogeneity`: Pearson's chi-square test that several groups share one rate
  (a k × 2 contingency table), with the smallest expected count so callers can say when
  the chi-square approximation is doubtful (any expected count below 5).
- :func:`difference`: two independent proportions: the difference with Newcombe's hybrid
  score interval (Newcombe 1998, method 10, built from the two Wilson intervals; good
  coverage for small counts, unlike the Wald interval) and the pooled two-proportion z test.
- :func:`mean_of_proportions`: the unweighted mean of independent groups' rates (e.g. the
  mean retention over cohorts) with a normal interval whose variance adds the groups'
  binomial variances, each with the Agresti–Coull adjusted rate (x + 2) / (n + 4) so
  groups at 0% or 100% do not collapse the interval to a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.testing import TestResult, check_confidence


def wilson(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials``, elementwise.

    Args:
        successes: counts of successes (e.g. buyers).
        trials: counts of trials (e.g. users); 0 gives a NaN interval.
        confidence: two-sided confidence level in (0, 1).

    Returns:
        Lower and upper bounds, as float arrays.

    Example:
        >>> low, high = wilson([8], [20])
        >>> round(float(low[0]), 4), round(float(high[0]), 4)
        (0.2188, 0.6134)
    """
    check_confidence(confidence)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    empty = n <= 0
    low = np.where(empty, np.nan, np.clip(centre - half, 0.0, 1.0))
    high = np.where(empty, np.nan, np.clip(centre + half, 0.0, 1.0))
    return low, high


@dataclass(frozen=True)
class Homogeneity(TestResult):
    """Pearson's chi-square test of equal rates across groups.

    Attributes:
        statistic: the chi-square statistic (NaN when the test is undefined).
        dof: degrees of freedom (groups − 1).
        p_value: probability of a statistic at least this large if all rates are equal.
        min_expected: the smallest expected cell count (the approximation wants ≥ 5).
        groups: groups with at least one trial (the others are left out).
    """

    min_expected: float
    groups: int


def mean_of_proportions(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Unweighted mean of the groups' rates, with its interval (clipped to [0, 1]).

    Groups without trials are left out; with none left the result is NaN.

    >>> mean, low, high = mean_of_proportions([10, 30], [100, 100])
    >>> round(mean, 3), round(low, 3), round(high, 3)
    (0.2, 0.145, 0.255)
    """
    check_confidence(confidence)
    x, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    keep = n > 0
    x, n = x[keep], n[keep]
    if not len(n):
        return math.nan, math.nan, math.nan
    mean = float((x / n).mean())
    adjusted = (x + 2) / (n + 4)
    se = math.sqrt(float((adjusted * (1 - adjusted) / n).sum())) / len(n)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return mean, max(0.0, mean - z * se), min(1.0, mean + z * se)


def homogeneity(successes: ArrayLike, trials: ArrayLike) -> Homogeneity:
    """Test that groups with ``successes`` out of ``trials`` share one rate.

    Groups without trials are left out. With fewer than two groups left, or no success or
    no failure at all, the test is undefined (NaN p-value), never an error.

    Example:
        >>> t = homogeneity([10, 30], [100, 100])
        >>> round(t.statistic, 2), t.dof, t.p_value < 0.001
        (12.5, 1, True)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    groups = int(keep.sum())
    table = np.column_stack([k, n - k])
    if groups < 2 or table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return Homogeneity(math.nan, max(groups - 1, 0), math.nan, math.nan, groups)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    dof = groups - 1
    return Homogeneity(
        statistic, dof, float(stats.chi2.sf(statistic, dof)), float(expected.min()), groups
    )


@dataclass(frozen=True)
class Difference:
    """Differences ``p1 − p2`` of two independent proportions, elementwise.

    Attributes:
        difference: ``k1/n1 − k2/n2`` (NaN when either has no trials).
        low, high: Newcombe's hybrid score interval of the difference.
        p_value: two-sided pooled z test of equal rates (NaN when undefined: no trials, or
            no success or no failure in both groups together).
    """

    difference: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray


def difference(
    k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike, *, confidence: float = 0.95
) -> Difference:
    """Difference of ``k1/n1`` and ``k2/n2`` with its interval and z test, elementwise.

    Example (Newcombe 1998, table II: 56/70 vs 48/80 gives 0.0524 to 0.3339):
        >>> d = difference([56], [70], [48], [80])
        >>> round(float(d.difference[0]), 2), round(float(d.low[0]), 4), round(float(d.high[0]), 4)
        (0.2, 0.0524, 0.3339)
    """
    a, m = np.asarray(k1, dtype=float), np.asarray(n1, dtype=float)
    b, n = np.asarray(k2, dtype=float), np.asarray(n2, dtype=float)
    l1, u1 = wilson(a, m, confidence=confidence)
    l2, u2 = wilson(b, n, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / m, b / n
        d = p1 - p2
        low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        pooled = (a + b) / (m + n)
        se = np.sqrt(pooled * (1 - pooled) * (1 / m + 1 / n))
        z = d / se
    p_value = np.where((m > 0) & (n > 0) & (se > 0), 2 * stats.norm.sf(np.abs(z)), np.nan)
    undefined = (m <= 0) | (n <= 0)
    d, low, high = (np.where(undefined, np.nan, v) for v in (d, low, high))
    return Difference(d, low, high, p_value)
