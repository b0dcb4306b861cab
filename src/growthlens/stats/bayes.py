"""A Bayesian view of an A/B test: probability to beat control, expected losses.

The expected loss of an arm is what choosing it costs, on average, if the other is better.

- :func:`bayes_proportions` (conversion): each arm's rate has the conjugate posterior
  Beta(a + k, b + n − k) under the prior Beta(a, b) (default uniform, (1, 1)); the arms
  are independent. P(p_t > p_c) and the expected losses are averages over ``draws``
  seeded draws from the two posteriors (Monte-Carlo error about 0.5/√draws, ≈ 0.001 at
  the default 200,000).
- :func:`bayes_means` (revenue per participant, any mean): each arm's mean is normal
  around the sample mean with variance s²/n (flat prior, large-sample approximation;
  it is the frequentist Welch picture read as a posterior). The difference
  D = μ_t − μ_c ~ N(d, σ²), σ² = s²_t/n_t + s²_c/n_c, so in closed form
  P(D > 0) = Φ(d/σ), E[max(−D, 0)] = σφ(d/σ) − dΦ(−d/σ), E[max(D, 0)] = σφ(d/σ) + dΦ(d/σ).

``expected_loss_treatment`` = E[max(control − treatment, 0)]: what is lost, on average,
by rolling out treatment if control is in fact better (in the metric's unit, e.g. a
conversion rate); ``expected_loss_control`` the same for keeping control. Under an A/A
test ``prob_beat`` is uniform on (0, 1) (mean ½), and among tests with prob_beat ≈ q,
treatment is truly better in a share ≈ q of them when the true effects are spread widely
relative to the standard error (docs/experiments.md gives the measured calibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.comparison import Status, sample_variance, values


@dataclass(frozen=True)
class Bayes:
    """Probability to beat control and expected losses.

    Attributes:
        prob_beat: P(treatment > control) under the posterior.
        expected_loss_treatment: E[max(control − treatment, 0)].
        expected_loss_control: E[max(treatment − control, 0)].
        method: the model in words.
        status: ``"ok"``, ``"empty_arm"``, ``"not_enough_data"`` or ``"zero_variance"``.
        reason: why, when the status is not ``"ok"``; else ``""``.
    """

    prob_beat: float
    expected_loss_treatment: float
    expected_loss_control: float
    method: str
    status: Status
    reason: str


def bayes_proportions(
    k_t: int,
    n_t: int,
    k_c: int,
    n_c: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 200_000,
    seed: int = 0,
) -> Bayes:
    """Beta–binomial comparison of conversion ``k_t/n_t`` against ``k_c/n_c``.

    Example:
        >>> b = bayes_proportions(120, 1000, 100, 1000)
        >>> round(b.prob_beat, 2), round(b.expected_loss_treatment, 4)
        (0.92, 0.0005)
    """
    a, b = prior
    if not (a > 0 and b > 0):
        raise ValueError(f"prior needs two positive Beta parameters; got {prior}")
    if draws < 1:
        raise ValueError(f"draws must be positive; got {draws}")
    for name, k, n in (("treatment", k_t, n_t), ("control", k_c, n_c)):
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"{name} needs 0 ≤ successes ≤ trials; got {k} of {n}")
    method = (
        f"Beta–binomial posteriors (prior Beta({a:g}, {b:g}) per arm), {draws:,} Monte-Carlo draws"
    )
    nan = math.nan
    if n_t == 0 or n_c == 0:
        return Bayes(nan, nan, nan, method, "empty_arm", "an arm has no units")
    rng = np.random.default_rng(seed)
    t = rng.beta(a + k_t, b + n_t - k_t, size=draws)
    c = rng.beta(a + k_c, b + n_c - k_c, size=draws)
    diff = t - c
    return Bayes(
        float((diff > 0).mean()),
        float(np.maximum(-diff, 0).mean()),
        float(np.maximum(diff, 0).mean()),
        method,
        "ok",
        "",
    )


def normal_bayes(d: float, sd: float) -> tuple[float, float, float]:
    """(P(D > 0), E[max(−D, 0)], E[max(D, 0)]) for D ~ N(d, sd²), sd > 0."""
    z = d / sd
    density = float(stats.norm.pdf(z))
    return (
        float(stats.norm.cdf(z)),
        sd * density - d * float(stats.norm.cdf(-z)),
        sd * density + d * float(stats.norm.cdf(z)),
    )


def bayes_means(x_t: ArrayLike, x_c: ArrayLike) -> Bayes:
    """Normal-approximation posterior comparison of the means of ``x_t`` and ``x_c``.

    Example:
        >>> b = bayes_means([3, 3, 2, 1, 1], [2, 2, 1, 1, 0])
        >>> round(b.prob_beat, 3), round(b.expected_loss_treatment, 4)
        (0.915, 0.0227)
    """
    t, c = values(x_t, "x_t"), values(x_c, "x_c")
    method = "normal approximation of each arm's mean (flat prior), closed form"
    nan = math.nan
    n_t, n_c = len(t), len(c)
    if n_t == 0 or n_c == 0:
        return Bayes(nan, nan, nan, method, "empty_arm", "an arm has no units")
    if n_t < 2 or n_c < 2:
        return Bayes(
            nan, nan, nan, method, "not_enough_data",
            f"fewer than 2 units in an arm (treatment {n_t}, control {n_c})",
        )  # fmt: skip
    var = sample_variance(t) / n_t + sample_variance(c) / n_c
    if var <= 0:
        return Bayes(
            nan, nan, nan, method, "zero_variance",
            "every unit has the same value within each arm: no posterior spread",
        )  # fmt: skip
    prob, loss_t, loss_c = normal_bayes(float(t.mean() - c.mean()), math.sqrt(var))
    return Bayes(prob, loss_t, loss_c, method, "ok", "")


__all__ = ["Bayes", "bayes_means", "bayes_proportions", "normal_bayes"]
