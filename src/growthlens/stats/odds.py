"""Odds ratios of 2 × 2 tables: estimate, Woolf interval and a test of association.

A feature (an event done, a property value) splits units into those *with* and *without*
it; the outcome (converting) splits them into successes and failures::

                 success  failure
    with            a        b
    without         c        d

- odds ratio OR = (a / b) ÷ (c / d) = a·d / (b·c): how many times the odds of success
  with the feature exceed those without (1 = no association). When a cell is 0 the
  Haldane–Anscombe correction adds 0.5 to all four cells, so the estimate and its interval
  stay finite.
- Woolf's (logit) interval: log OR ± z · √(1/a + 1/b + 1/c + 1/d), on the same (corrected)
  cells. It rests on the log odds ratio being close to normal, which holds when every
  cell has a few units; ``tests/stats/test_odds.py`` measures its coverage.
- p-value of no association (two-sided): Fisher's exact test (conditional on the margins;
  the "sum of probabilities no larger than the observed" rule of ``scipy.stats.fisher_exact``)
  when an expected cell count is below ``min_expected`` (5, Cochran's rule), otherwise
  Pearson's chi-square test with one degree of freedom and no continuity correction
  (Fisher's test is conservative, which costs power where the approximation is good).

A table with an empty row or column (nobody with the feature, or no failure at all) has
no odds ratio: everything is NaN and the test is ``""``, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.testing import check_confidence

FISHER = "fisher"
CHI_SQUARE = "chi_square"


@dataclass(frozen=True)
class OddsRatios:
    """Odds ratios of 2 × 2 tables, elementwise (one entry per table).

    Attributes:
        odds_ratio: a·d / (b·c), Haldane–Anscombe corrected when a cell is 0.
        low: lower end of Woolf's interval.
        high: upper end of Woolf's interval.
        p_value: two-sided p-value of no association.
        test: ``"fisher"`` or ``"chi_square"`` (the test behind the p-value), ``""`` when
            undefined.
        corrected: whether 0.5 was added to the cells.
    """

    odds_ratio: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray
    test: np.ndarray
    corrected: np.ndarray


def odds_ratios(
    with_success: ArrayLike,
    with_failure: ArrayLike,
    without_success: ArrayLike,
    without_failure: ArrayLike,
    *,
    confidence: float = 0.95,
    min_expected: float = 5.0,
) -> OddsRatios:
    """Odds ratio, Woolf interval and p-value of each 2 × 2 table (see the module docstring).

    Args:
        with_success: a, units with the feature that succeeded.
        with_failure: b, units with the feature that failed.
        without_success: c, units without the feature that succeeded.
        without_failure: d, units without the feature that failed.
        confidence: two-sided level of the interval, in (0, 1).
        min_expected: below this smallest expected count the p-value is Fisher's exact.

    Example:
        >>> r = odds_ratios([30], [10], [20], [40])
        >>> round(float(r.odds_ratio[0]), 2), round(float(r.low[0]), 2), round(float(r.high[0]), 2)
        (6.0, 2.45, 14.68)
        >>> str(r.test[0]), bool(r.p_value[0] < 0.001)
        ('chi_square', True)
        >>> r = odds_ratios([3], [0], [10], [10])  # a zero cell: 3.5·10.5 / (0.5·10.5)
        >>> round(float(r.odds_ratio[0]), 2), bool(r.corrected[0]), str(r.test[0])
        (7.0, True, 'fisher')
    """
    check_confidence(confidence)
    cells = [np.asarray(x, dtype=float).reshape(-1) for x in (with_success, with_failure)]
    cells += [np.asarray(x, dtype=float).reshape(-1) for x in (without_success, without_failure)]
    a, b, c, d = np.broadcast_arrays(*cells)
    if any((x < 0).any() for x in (a, b, c, d)):
        raise ValueError("cell counts must not be negative")
    defined = (a + b > 0) & (c + d > 0) & (a + c > 0) & (b + d > 0)
    corrected = defined & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    shift = np.where(corrected, 0.5, 0.0)
    ca, cb, cc, cd = a + shift, b + shift, c + shift, d + shift
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_or = np.log(ca) + np.log(cd) - np.log(cb) - np.log(cc)
        se = np.sqrt(1 / ca + 1 / cb + 1 / cc + 1 / cd)
    nan = np.full(a.shape, np.nan)
    odds_ratio = np.where(defined, np.exp(log_or), nan)
    low = np.where(defined, np.exp(log_or - z * se), nan)
    high = np.where(defined, np.exp(log_or + z * se), nan)
    p_value, test = _association(a, b, c, d, defined, min_expected)
    return OddsRatios(odds_ratio, low, high, p_value, test, corrected)


def _association(
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    defined: np.ndarray,
    min_expected: float,
) -> tuple[np.ndarray, np.ndarray]:
    n = a + b + c + d
    rows = (a + b, c + d)
    columns = (a + c, b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        # The smallest expected count sits where the smaller row meets the smaller column.
        smallest = np.minimum(rows[0], rows[1]) * np.minimum(columns[0], columns[1]) / n
        statistic = n * (a * d - b * c) ** 2 / (rows[0] * rows[1] * columns[0] * columns[1])
    p_value = np.where(defined, stats.chi2.sf(statistic, 1), np.nan)
    test = np.where(defined, CHI_SQUARE, "").astype(object)
    small = defined & (smallest < min_expected)
    for i in np.flatnonzero(small):
        table = [[int(a[i]), int(b[i])], [int(c[i]), int(d[i])]]
        p_value[i] = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
        test[i] = FISHER
    return p_value, test


__all__ = ["CHI_SQUARE", "FISHER", "OddsRatios", "odds_ratios"]
