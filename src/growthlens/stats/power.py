"""Power, minimum detectable effect and sample size of a two-sided test of two means.

Normal approximation (the large-sample z test, which Welch's t test and the two-proportion
z test become at A/B sizes), with both rejection tails counted exactly as
``statsmodels.stats.power.NormalIndPower`` does. With se = √(sd_t²/n_t + sd_c²/n_c) and
z = Φ⁻¹(1 − α/2):

    power(δ) = Φ(|δ|/se − z) + Φ(−|δ|/se − z)

- :func:`mde`: the absolute difference δ > 0 with power(δ) = ``power`` (solved
  numerically; ≈ (z + Φ⁻¹(power))·se);
- :func:`sample_size`: the smallest whole n_t, with n_c = ⌈ratio·n_t⌉, whose power for
  ``effect`` reaches ``power``.

For a conversion rate pass sd = √(p(1 − p)) (the rate expected in each arm). Different
arm standard deviations are allowed (a treatment that changes the spread). Without units
or without any spread the figures are NaN.
"""

from __future__ import annotations

import math

from scipy import optimize, stats


def _check(alpha: float, sd_t: float, sd_c: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha}")
    if sd_t < 0 or sd_c < 0:
        raise ValueError(f"standard deviations must be ≥ 0; got {sd_t} and {sd_c}")
    return float(stats.norm.ppf(1 - alpha / 2))


def _check_power(power: float, alpha: float) -> None:
    if not alpha < power < 1:
        raise ValueError(f"power must lie in (alpha, 1) = ({alpha}, 1); got {power}")


def _power_at(shift: float, z: float) -> float:
    """Two-sided power when the difference is ``shift`` standard errors."""
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def power(
    effect: float, sd_t: float, sd_c: float, n_t: int, n_c: int, *, alpha: float = 0.05
) -> float:
    """Probability that a two-sided level-``alpha`` test detects a difference ``effect``.

    Example:
        >>> round(power(0.1, 1.0, 1.0, 1000, 1000), 4)
        0.6088
    """
    z = _check(alpha, sd_t, sd_c)
    if n_t < 1 or n_c < 1 or math.isnan(effect):
        return math.nan
    se = math.sqrt(sd_t**2 / n_t + sd_c**2 / n_c)
    if se == 0:
        return math.nan
    return _power_at(abs(effect) / se, z)


def mde(
    sd_t: float, sd_c: float, n_t: int, n_c: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Absolute minimum detectable difference of a two-sided test at ``alpha`` and ``power``.

    Example:
        >>> round(mde(1.0, 1.0, 1000, 1000), 4)
        0.1253
    """
    z = _check(alpha, sd_t, sd_c)
    _check_power(power, alpha)
    if n_t < 1 or n_c < 1:
        return math.nan
    se = math.sqrt(sd_t**2 / n_t + sd_c**2 / n_c)
    if se == 0:
        return math.nan
    # One tail alone gives (z + z_power)·se; the other tail only helps, so the root lies below.
    upper = (z + float(stats.norm.ppf(power))) * 1.0001
    shift = optimize.brentq(lambda s: _power_at(s, z) - power, 0.0, upper, xtol=1e-15, rtol=1e-15)
    return float(shift) * se


def sample_size(
    effect: float,
    sd_t: float,
    sd_c: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> tuple[int, int]:
    """Units per arm (treatment, control) to detect ``effect`` at ``alpha`` and ``power``.

    ``ratio``: control units per treatment unit (n_c = ⌈ratio·n_t⌉).

    Example:
        >>> sample_size(0.1, 1.0, 1.0)
        (1570, 1570)
    """
    z = _check(alpha, sd_t, sd_c)
    _check_power(power, alpha)
    if not ratio > 0 or math.isinf(ratio):
        raise ValueError(f"ratio must be a positive number; got {ratio}")
    if effect == 0 or not math.isfinite(effect):
        raise ValueError(f"effect must be a non-zero number; got {effect}")
    if sd_t == 0 and sd_c == 0:
        raise ValueError("at least one standard deviation must be positive")
    unit = sd_t**2 + sd_c**2 / ratio  # se² = unit / n_t

    def gap(n_t: float) -> float:
        return _power_at(abs(effect) / math.sqrt(unit / n_t), z) - power

    upper = (z + float(stats.norm.ppf(power))) ** 2 * unit / effect**2 * 1.0001
    root = float(optimize.brentq(gap, 1e-12, upper, xtol=1e-12, rtol=1e-15))
    n_t = max(1, math.ceil(root - 1e-9))
    n_c = max(1, math.ceil(ratio * n_t - 1e-9))
    return n_t, n_c


__all__ = ["mde", "power", "sample_size"]
