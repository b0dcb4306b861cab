"""Intervals and tests for means (revenue per user), from sums only.

The engine returns per group ``n`` (users), ``total`` (Σ x) and ``total_sq`` (Σ x²), so no
per-user data leaves it. From these:

- :func:`mean_interval`: the Student t interval of the mean, mean ± t(n−1) · s / √n, with
  the sample variance s² = (Σx² − n·mean²) / (n − 1). It rests on the central limit theorem:
  revenue per user is skewed (most users pay nothing, a few pay a lot), so the interval
  keeps its coverage only with enough users; ``tests/stats/test_means.py`` measures it on
  zero-inflated lognormal revenue (docs/metrics.md states the sizes).
- :func:`welch`: Welch's two-sample t test of equal means (unequal variances, the
  Welch–Satterthwaite degrees of freedom).

Undefined cases (fewer than two users; no variance in either group) give NaN, never a
confident number.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.testing import TestResult, check_confidence


def _variance(total: np.ndarray, total_sq: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        # Rounding can make a zero variance slightly negative: it is zero.
        return np.where(n > 1, np.maximum(total_sq - n * mean**2, 0.0) / (n - 1), np.nan)


def mean_interval(
    total: ArrayLike, total_sq: ArrayLike, n: ArrayLike, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Student t interval of the mean of each group, elementwise, from its sums.

    Args:
        total: Σ x per group.
        total_sq: Σ x² per group.
        n: observations per group; fewer than 2 give a NaN interval.
        confidence: two-sided confidence level in (0, 1).

    Returns:
        Lower and upper bounds, as float arrays.

    Example:
        >>> low, high = mean_interval([10.0], [24.0], [5])  # x = 3, 3, 2, 1, 1
        >>> round(float(low[0]), 3), round(float(high[0]), 3)
        (0.758, 3.242)
    """
    check_confidence(confidence)
    t_sum = np.asarray(total, dtype=float)
    t_sq = np.asarray(total_sq, dtype=float)
    count = np.asarray(n, dtype=float)
    variance = _variance(t_sum, t_sq, count)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, t_sum / count, np.nan)
        quantile = stats.t.ppf(0.5 + confidence / 2, np.where(count > 1, count - 1, np.nan))
        half = quantile * np.sqrt(variance / count)
    return mean - half, mean + half


class Welch(TestResult):
    """Welch's t test of two means: statistic, degrees of freedom, two-sided p-value.

    Undefined with fewer than two observations in a group, or no variance in both.
    """


def welch(a: tuple[float, float, int], b: tuple[float, float, int]) -> Welch:
    """Welch's t test that groups ``a`` and ``b`` (each ``(Σx, Σx², n)``) share one mean.

    Example:
        >>> test = welch((10.0, 24.0, 5), (30.0, 186.0, 5))  # 3,3,2,1,1 against 8,6,6,5,5
        >>> round(test.statistic, 3), round(test.dof, 2), round(test.p_value, 4)
        (-5.657, 7.69, 0.0006)
    """
    (sum_a, sq_a, n_a), (sum_b, sq_b, n_b) = a, b
    if n_a < 2 or n_b < 2:
        return Welch(math.nan, math.nan, math.nan)
    var_a = float(_variance(np.array([sum_a]), np.array([sq_a]), np.array([n_a]))[0])
    var_b = float(_variance(np.array([sum_b]), np.array([sq_b]), np.array([n_b]))[0])
    return welch_from_moments((sum_a / n_a, var_a, n_a), (sum_b / n_b, var_b, n_b))


def welch_from_moments(a: tuple[float, float, int], b: tuple[float, float, int]) -> Welch:
    """Welch's t test of ``a`` against ``b``, each ``(mean, sample variance, n)``.

    The statistic is (mean_a − mean_b) / √(var_a/n_a + var_b/n_b); its degrees of freedom
    are Welch–Satterthwaite's. Undefined (NaN) with fewer than two observations in a group
    or no variance in both. Callers holding the values pass a two-pass variance (exact
    even when the values sit far from 0, unlike Σx² − n·mean²).

    Example:
        >>> test = welch_from_moments((2.0, 0.8, 5), (6.0, 1.5, 5))
        >>> round(test.statistic, 3), round(test.dof, 2), round(test.p_value, 4)
        (-5.898, 7.32, 0.0005)
    """
    (mean_a, var_a, n_a), (mean_b, var_b, n_b) = a, b
    nan = Welch(math.nan, math.nan, math.nan)
    if n_a < 2 or n_b < 2:
        return nan
    se_a, se_b = var_a / n_a, var_b / n_b
    if not se_a + se_b > 0:
        return nan
    statistic = (mean_a - mean_b) / math.sqrt(se_a + se_b)
    # Shares of the total, so that tiny variances cannot underflow when squared.
    share_a, share_b = se_a / (se_a + se_b), se_b / (se_a + se_b)
    dof = 1 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
    p = 2 * float(stats.t.sf(abs(statistic), dof))
    return Welch(float(statistic), float(dof), p)


__all__ = ["Welch", "mean_interval", "welch", "welch_from_moments"]
