"""An always-valid (anytime) confidence sequence for a difference of means.

Looking at a fixed-horizon test every day and stopping when p < 0.05 inflates the
false-positive rate far above 5% (with 50 looks, to about 25–30%). A confidence
sequence holds its coverage *simultaneously at every look*, so the test can be monitored
continuously and stopped at any time.

Method: the two-sided normal-mixture boundary (Robbins 1970; Howard, Ramdas, McAuliffe &
Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", eq. 14)
in its asymptotic form for estimated variances (Waudby-Smith, Arbour, Sinha, Kennedy &
Ramdas 2021, "Time-uniform central limit theory and asymptotic confidence sequences"),
the construction GrowthBook uses. With N = n_t + n_c units so far, d the difference of
means and V = s²_t/n_t + s²_c/n_c its variance, let σ² = N·V (the variance per unit)
and ρ the mixture's tuning parameter. The sequence is

    d ± σ·√( 2(Nρ² + 1) / (N²ρ²) · log(√(Nρ² + 1) / α) ),

and the always-valid p-value is 1/M ∧ 1 with the mixture martingale
M = exp(N²ρ²·d² / (2σ²(Nρ² + 1))) / √(Nρ² + 1), so p < α exactly when the sequence
excludes 0. ρ makes the sequence narrowest at N = ``tuning_n`` (the expected number of
units in the test, both arms together): ρ² = (−2 log α + log(−2 log α + 1)) / tuning_n.
Away from ``tuning_n`` the sequence stays valid, only wider.

Assumptions: units independent, arms' values with finite variance; the guarantee is
asymptotic (the variance is estimated), so the first looks should hold a few hundred
units per arm. It works as well on 0/1 values (conversion). At a single look the
sequence is wider than the fixed-horizon Welch interval: that is the price of peeking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from growthlens.stats.comparison import Status, sample_variance, values
from growthlens.stats.testing import check_confidence


@dataclass(frozen=True)
class Sequential:
    """An always-valid interval and p-value of treatment − control (means).

    Attributes:
        difference: mean_t − mean_c.
        low, high: the confidence sequence at the current sample.
        p_value: the always-valid p-value.
        method: the method in words.
        status: ``"ok"``, ``"empty_arm"``, ``"not_enough_data"`` or ``"zero_variance"``.
        reason: why, when the status is not ``"ok"``; else ``""``.
    """

    difference: float
    low: float
    high: float
    p_value: float
    method: str
    status: Status
    reason: str


def tuning_rho2(alpha: float, tuning_n: float) -> float:
    """ρ² that makes the normal-mixture sequence narrowest at ``tuning_n`` units."""
    log_term = -2 * math.log(alpha)
    return (log_term + math.log(log_term + 1)) / tuning_n


def confidence_sequence(
    difference: ArrayLike,
    variance: ArrayLike,
    n: ArrayLike,
    *,
    alpha: float,
    tuning_n: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Half-widths and always-valid p-values of the sequence, elementwise.

    ``difference``: the estimates; ``variance``: their variances (V); ``n``: units so
    far, both arms together. Used by :func:`sequential_means` and the calibration, which
    evaluates many looks at once.
    """
    d = np.asarray(difference, dtype=float)
    v = np.asarray(variance, dtype=float)
    total = np.asarray(n, dtype=float)
    rho2 = tuning_rho2(alpha, tuning_n)
    sigma2 = total * v
    grow = total * rho2 + 1
    half = np.sqrt(sigma2 * 2 * grow / (total**2 * rho2) * np.log(np.sqrt(grow) / alpha))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_m = total**2 * rho2 * d**2 / (2 * sigma2 * grow) - 0.5 * np.log(grow)
        p = np.minimum(1.0, np.exp(-log_m))
    return half, p


def sequential_means(
    x_t: ArrayLike, x_c: ArrayLike, *, confidence: float = 0.95, tuning_n: int = 5000
) -> Sequential:
    """Always-valid confidence sequence of mean(x_t) − mean(x_c) at the current sample.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> s = sequential_means(rng.normal(0.1, 1, 4000), rng.normal(0, 1, 4000))
        >>> round(s.difference, 3), round(s.low, 3), round(s.high, 3), round(s.p_value, 3)
        (0.069, 0.0, 0.137, 0.048)
    """
    alpha = 1 - check_confidence(confidence)
    if tuning_n <= 0:
        raise ValueError(f"tuning_n must be a positive number of units; got {tuning_n}")
    t, c = values(x_t, "x_t"), values(x_c, "x_c")
    method = (
        "always-valid confidence sequence (normal mixture, Howard et al. 2021; "
        f"asymptotic, Waudby-Smith et al. 2021), tuned for {tuning_n:,} units"
    )
    nan = math.nan
    n_t, n_c = len(t), len(c)
    if n_t == 0 or n_c == 0:
        return Sequential(nan, nan, nan, nan, method, "empty_arm", "an arm has no units")
    diff = float(t.mean() - c.mean())
    if n_t < 2 or n_c < 2:
        return Sequential(
            diff, nan, nan, nan, method, "not_enough_data",
            f"fewer than 2 units in an arm (treatment {n_t}, control {n_c})",
        )  # fmt: skip
    variance = sample_variance(t) / n_t + sample_variance(c) / n_c
    if variance <= 0:
        return Sequential(
            diff, nan, nan, nan, method, "zero_variance",
            "every unit has the same value within each arm: no interval",
        )  # fmt: skip
    half, p = confidence_sequence(diff, variance, n_t + n_c, alpha=alpha, tuning_n=tuning_n)
    h = float(half)
    return Sequential(diff, diff - h, diff + h, float(p), method, "ok", "")


__all__ = ["Sequential", "confidence_sequence", "sequential_means", "tuning_rho2"]
