"""Bayesian view: Beta–binomial probability to beat control against its exact sum
(Evan Miller's formula) and the expected losses against numerical integration; the normal
closed forms against quadrature; degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from growthlens.stats.bayes import bayes_means, bayes_proportions


def _exact_prob_beat(a_t: int, b_t: int, a_c: int, b_c: int) -> float:
    """P(p_t > p_c), p ~ Beta(a, b), integer a_t (Miller 2015)."""
    i = np.arange(a_t)
    terms = (
        special.betaln(a_c + i, b_c + b_t)
        - np.log(b_t + i)
        - special.betaln(1 + i, b_t)
        - special.betaln(a_c, b_c)
    )
    return float(np.exp(terms).sum())


def _exact_loss(a_t: float, b_t: float, a_c: float, b_c: float) -> float:
    """E[max(p_c − p_t, 0)] by quadrature: E[max(c − T, 0)] = c·F(c) − E[T]·F⁺(c)."""

    def inner(c: float) -> float:
        mean_t = a_t / (a_t + b_t)
        below = c * stats.beta.cdf(c, a_t, b_t) - mean_t * stats.beta.cdf(c, a_t + 1, b_t)
        return float(stats.beta.pdf(c, a_c, b_c) * below)

    return float(integrate.quad(inner, 0, 1, epsabs=1e-12, limit=200)[0])


@pytest.mark.parametrize(("k_t", "n_t", "k_c", "n_c"), [(12, 100, 8, 100), (40, 500, 52, 480)])
def test_proportions_against_exact_values(k_t: int, n_t: int, k_c: int, n_c: int) -> None:
    b = bayes_proportions(k_t, n_t, k_c, n_c, draws=400_000, seed=3)
    a_t, b_t, a_c, b_c = 1 + k_t, 1 + n_t - k_t, 1 + k_c, 1 + n_c - k_c
    exact = _exact_prob_beat(a_t, b_t, a_c, b_c)
    assert b.prob_beat == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 400_000))
    loss_t = _exact_loss(a_t, b_t, a_c, b_c)
    loss_c = _exact_loss(a_c, b_c, a_t, b_t)
    assert b.expected_loss_treatment == pytest.approx(loss_t, rel=0.03, abs=1e-5)
    assert b.expected_loss_control == pytest.approx(loss_c, rel=0.03, abs=1e-5)
    # E[max(D, 0)] − E[max(−D, 0)] = E[D] exactly.
    mean_diff = a_t / (a_t + b_t) - a_c / (a_c + b_c)
    assert b.expected_loss_control - b.expected_loss_treatment == pytest.approx(mean_diff, abs=3e-4)
    assert b.status == "ok" and b == bayes_proportions(k_t, n_t, k_c, n_c, draws=400_000, seed=3)


def test_means_closed_form_against_quadrature() -> None:
    x_t = np.array([3.0, 0.0, 7.0, 1.0, 0.0, 4.0, 2.0])
    x_c = np.array([1.0, 0.0, 2.0, 0.0, 3.0, 1.0])
    b = bayes_means(x_t, x_c)
    d = x_t.mean() - x_c.mean()
    sd = math.sqrt(x_t.var(ddof=1) / 7 + x_c.var(ddof=1) / 6)
    assert b.prob_beat == pytest.approx(stats.norm.sf(0, d, sd), rel=1e-12)
    loss_t = integrate.quad(lambda v: max(-v, 0) * stats.norm.pdf(v, d, sd), -50, 50, points=[0])[0]
    loss_c = integrate.quad(lambda v: max(v, 0) * stats.norm.pdf(v, d, sd), -50, 50, points=[0])[0]
    assert (b.expected_loss_treatment, b.expected_loss_control) == pytest.approx(
        (loss_t, loss_c), rel=1e-7
    )


def test_degenerate() -> None:
    assert bayes_proportions(0, 0, 3, 10).status == "empty_arm"
    assert bayes_means([], [1.0]).status == "empty_arm"
    assert bayes_means([1.0], [1.0, 2.0]).status == "not_enough_data"
    flat = bayes_means([2.0, 2.0], [2.0, 2.0])
    assert flat.status == "zero_variance" and math.isnan(flat.prob_beat) and flat.reason
    with pytest.raises(ValueError, match="prior"):
        bayes_proportions(1, 10, 1, 10, prior=(0.0, 1.0))
    with pytest.raises(ValueError, match="successes"):
        bayes_proportions(11, 10, 1, 10)
