"""A distribution-free interval for a median (times to convert, which are skewed).

:func:`median_interval` uses order statistics: for ``n`` values, the number below the true
median is Binomial(n, ½), so the values at ranks ``l`` and ``u`` (1-based) with
P(l ≤ B < u) ≥ the confidence bound it whatever the distribution (continuous data; with
ties the coverage is at least as high). The interval is conservative: its coverage is the
binomial probability, at least the level asked for — except with too few values for the
level (5 or fewer at 95%), where it is the whole range and covers 1 − 2^(1−n) (94% at
n = 5). Fewer than 2 values give NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.testing import check_confidence


def median_interval(values: ArrayLike, *, confidence: float = 0.95) -> tuple[float, float]:
    """Order-statistic interval of the median of ``values``.

    Example:
        >>> median_interval(range(1, 21))  # 1 … 20: ranks 6 and 15
        (6.0, 15.0)
    """
    check_confidence(confidence)
    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    # l = the smallest rank with P(B ≤ l) ≥ α/2, so P(B < l) < α/2; u = n + 1 − l by symmetry.
    low_rank = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    if low_rank < 1:  # too few values for this level: the whole range (see the module note)
        return float(x[0]), float(x[-1])
    return float(x[low_rank - 1]), float(x[n - low_rank])
