"""CUPED: a pre-period covariate removes part of the metric's variance (Deng et al. 2013).

Each unit's metric ``y`` (in the test window) is adjusted by its pre-period value ``x``
(the same metric before the test, or any covariate the treatment cannot affect):

    y_adj = y − θ·(x − x̄),  θ = Σ_arms Σ (x − x̄_arm)(y − ȳ_arm) / Σ_arms Σ (x − x̄_arm)²

θ is the pooled within-arm regression slope (within-arm centring keeps the treatment
effect out of θ), x̄ the mean of x over both arms. Because x is measured before
assignment, E[x̄_t − x̄_c] = 0 and the adjusted difference estimates the same effect as
the plain one, with variance smaller by the factor 1 − ρ², ρ the within-arm correlation
of x and y. The comparison is Welch's t test on the adjusted values
(:func:`growthlens.stats.comparison.compare_means`); the relative difference is taken
against the control's adjusted mean. Estimating θ from the same data costs one degree of
freedom, negligible at A/B sizes.

``variance_reduction`` = 1 − var(y_adj)/var(y), both pooled within arms. A covariate
without variance (no pre-period activity for anyone) leaves y unadjusted (θ = 0) with a
reason. Units without a pre-period value must be given x = 0 (no activity), not dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from growthlens.stats.comparison import Comparison, Status, compare_means, values


@dataclass(frozen=True)
class Cuped:
    """A CUPED-adjusted comparison of means.

    Attributes:
        comparison: Welch on the adjusted values (its ``method`` says CUPED).
        theta: the adjustment slope θ (NaN when the comparison is degenerate).
        correlation: the pooled within-arm correlation of covariate and metric.
        variance_reduction: 1 − var(adjusted)/var(metric), pooled within arms.
        status: the comparison's status.
        reason: why, when the status is not ``"ok"`` or no adjustment was made; else ``""``.
    """

    comparison: Comparison
    theta: float
    correlation: float
    variance_reduction: float
    status: Status
    reason: str


def _within(t: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """Values centred on their arm's mean, both arms concatenated."""
    return np.concatenate([t - t.mean(), c - c.mean()])


def cuped(
    y_t: ArrayLike, x_t: ArrayLike, y_c: ArrayLike, x_c: ArrayLike, *, confidence: float = 0.95
) -> Cuped:
    """CUPED comparison of ``y`` between treatment and control, covariate ``x``.

    Example:
        >>> y_t, x_t = [5.0, 7.0, 9.0, 12.0], [4.0, 6.0, 8.0, 10.0]
        >>> y_c, x_c = [3.0, 6.0, 7.0, 10.0], [3.0, 6.0, 7.0, 9.0]
        >>> r = cuped(y_t, x_t, y_c, x_c)
        >>> round(r.theta, 3), round(r.variance_reduction, 3), round(r.comparison.difference, 3)
        (1.148, 0.988, 0.889)
    """
    yt, xt, yc, xc = (values(v, name) for v, name in
                      ((y_t, "y_t"), (x_t, "x_t"), (y_c, "y_c"), (x_c, "x_c")))  # fmt: skip
    if len(yt) != len(xt) or len(yc) != len(xc):
        raise ValueError(
            "metric and covariate need one value per unit each; got "
            f"{len(yt)} and {len(xt)} (treatment), {len(yc)} and {len(xc)} (control)"
        )
    nan = math.nan
    if min(len(yt), len(yc)) < 2:
        plain = compare_means(yt, yc, confidence=confidence)
        return Cuped(plain, nan, nan, nan, plain.status, plain.reason)
    dx, dy = _within(xt, xc), _within(yt, yc)
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    if yt.min() == yt.max() and yc.min() == yc.max():
        syy = sxy = 0.0  # constant within arms: what is left is rounding in the means
    if xt.min() == xt.max() and xc.min() == xc.max():
        sxx = sxy = 0.0
    reason = ""
    if sxx == 0:
        theta, correlation = 0.0, nan
        reason = "the covariate has no variance within the arms: no adjustment (θ = 0)"
    else:
        theta = sxy / sxx
        correlation = sxy / math.sqrt(sxx * syy) if syy > 0 else nan
    centre = float(np.concatenate([xt, xc]).mean())
    adj_t, adj_c = yt - theta * (xt - centre), yc - theta * (xc - centre)
    comparison = compare_means(adj_t, adj_c, confidence=confidence)
    comparison = replace(comparison, method="CUPED (pre-period covariate); " + comparison.method)
    da = _within(adj_t, adj_c)
    reduction = 1 - float(da @ da) / syy if syy > 0 else nan
    reason = "; ".join(r for r in (comparison.reason, reason) if r)
    return Cuped(comparison, theta, correlation, reduction, comparison.status, reason)


__all__ = ["Cuped", "cuped"]
