"""Multiple-testing corrections: adjusted p-values for a family of tests.

- :func:`holm`: Holm's step-down procedure (Holm 1979). It controls the family-wise error
  rate — the chance of even one false positive among all the tests — at α under any
  dependence between the tests, and is uniformly more powerful than Bonferroni.
- :func:`benjamini_hochberg`: the Benjamini–Hochberg step-up procedure (1995). It controls
  the false discovery rate — the expected share of false positives among the rejections —
  for independent or positively dependent tests; under the global null that equals the
  family-wise rate.

A test is rejected at level α when its adjusted p-value is ≤ α. Undefined p-values (NaN)
are not part of the family: they neither count towards its size nor get an adjusted value.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-values, in the input's order.

    The i-th smallest of m p-values is multiplied by m − i + 1; running maxima keep the
    adjusted values in the order of the raw ones; nothing exceeds 1.

    Example:
        >>> holm([0.01, 0.04, 0.03, float("nan")]).round(4).tolist()
        [0.03, 0.06, 0.06, nan]
    """
    p, defined = _family(p_values)
    adjusted = np.full(p.shape, np.nan)
    values = p[defined]
    m = len(values)
    if m:
        order = np.argsort(values, kind="stable")
        scaled = values[order] * (m - np.arange(m))
        stepped = np.minimum(np.maximum.accumulate(scaled), 1.0)
        out = np.empty(m)
        out[order] = stepped
        adjusted[defined] = out
    return adjusted


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg-adjusted p-values (q-values), in the input's order.

    The i-th smallest of m p-values is multiplied by m / i; running minima from the largest
    down keep the adjusted values in the order of the raw ones; nothing exceeds 1.

    Example:
        >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
        [0.04, 0.0533, 0.0533, 0.5]
    """
    p, defined = _family(p_values)
    adjusted = np.full(p.shape, np.nan)
    values = p[defined]
    m = len(values)
    if m:
        order = np.argsort(values, kind="stable")
        scaled = values[order] * m / np.arange(1, m + 1)
        stepped = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
        out = np.empty(m)
        out[order] = stepped
        adjusted[defined] = out
    return adjusted


def _family(p_values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float).reshape(-1)
    defined = ~np.isnan(p)
    if ((p[defined] < 0) | (p[defined] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    return p, defined


__all__ = ["benjamini_hochberg", "holm"]
