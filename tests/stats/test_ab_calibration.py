"""Monte-Carlo calibration of the A/B statistics (seeded, deterministic).

Each simulation runs the public functions on freshly drawn arms:

- A/A tests (both arms from one distribution): the share of p < 0.05 (or of 95% intervals
  excluding 0) is the false-positive rate; with 2,000 simulations its standard error is
  0.005, so a calibrated test lands in [0.04, 0.06].
- A/B tests with a planted effect: the share of 95% intervals holding the true absolute
  and relative effect is the coverage; it must land in [0.93, 0.97].

Data: conversion at 10% (5,000 per arm); revenue per participant zero-inflated lognormal
(5% pay, lognormal(3, 1) when they do; 5,000 per arm, so ~250 payers); average check as
revenue ÷ orders with Poisson(0.3) orders per participant and Gamma(2, 25) per order
(5,000 per arm); CUPED on normal pairs with correlation ρ (1,000 per arm); the sequential
test on conversion and on normal values, 50 looks of 200 per arm. The bootstrap uses 400
replicates here (2,000 by default). benchmarks/calibration_ab.py runs the same at 10,000
simulations and prints the figures docs/experiments.md records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from growthlens.stats.bayes import bayes_means, bayes_proportions
from growthlens.stats.bootstrap import bootstrap_difference
from growthlens.stats.comparison import (
    Comparison,
    compare_means,
    compare_proportions,
    compare_ratio,
)
from growthlens.stats.cuped import cuped
from growthlens.stats.ranks import mann_whitney
from growthlens.stats.sequential import confidence_sequence, sequential_means

SIMS = 2000
PAYING, MU, SIGMA = 0.05, 3.0, 1.0
ORDERS, SHAPE, SCALE = 0.3, 2.0, 25.0


def revenue(rng: np.random.Generator, n: int, paying: float = PAYING) -> np.ndarray:
    """Zero-inflated lognormal revenue per participant."""
    return np.where(rng.random(n) < paying, rng.lognormal(MU, SIGMA, n), 0.0)


def revenue_mean(paying: float = PAYING) -> float:
    return paying * math.exp(MU + SIGMA**2 / 2)


def orders_and_revenue(
    rng: np.random.Generator, n: int, scale: float = SCALE
) -> tuple[np.ndarray, np.ndarray]:
    """Orders (Poisson) and their revenue (a sum of Gamma(SHAPE, scale) per order)."""
    orders = rng.poisson(ORDERS, n).astype(float)
    spend = np.where(orders > 0, rng.gamma(np.maximum(orders * SHAPE, 1e-12), scale), 0.0)
    return spend, orders


@dataclass
class Tally:
    """Counts of events over simulations, as rates."""

    hits: int = 0
    runs: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.runs += 1

    @property
    def rate(self) -> float:
        return self.hits / self.runs


def covers(c: Comparison, absolute: float, relative: float, tallies: tuple[Tally, Tally]) -> None:
    tallies[0].add(c.low <= absolute <= c.high)
    tallies[1].add(c.rel_low <= relative <= c.rel_high)


def false_positives(sims: int, n: int, seed: int, bootstrap_replicates: int) -> dict[str, float]:
    """A/A false-positive rates at α = 0.05 of every fixed-horizon test, and Bayes' mean."""
    rng = np.random.default_rng(seed)
    names = ("z", "welch", "mann_whitney", "bootstrap", "ratio", "cuped")
    tally = {name: Tally() for name in names}
    beat = []
    for i in range(sims):
        k_t, k_c = rng.binomial(n, 0.1, 2)
        tally["z"].add(compare_proportions(int(k_t), n, int(k_c), n).p_value < 0.05)
        x_t, x_c = revenue(rng, n), revenue(rng, n)
        tally["welch"].add(compare_means(x_t, x_c).p_value < 0.05)
        tally["mann_whitney"].add(mann_whitney(x_t, x_c).p_value < 0.05)
        b = bootstrap_difference(x_t, x_c, replicates=bootstrap_replicates, seed=i)
        tally["bootstrap"].add(not b.low <= 0 <= b.high)
        beat.append(bayes_means(x_t, x_c).prob_beat)
        (s_t, o_t), (s_c, o_c) = orders_and_revenue(rng, n), orders_and_revenue(rng, n)
        tally["ratio"].add(compare_ratio(s_t, o_t, s_c, o_c).p_value < 0.05)
        y_t, x_t2, y_c, x_c2 = cuped_arms(rng, n // 5, 0.7, effect=0.0)
        tally["cuped"].add(cuped(y_t, x_t2, y_c, x_c2).comparison.p_value < 0.05)
    rates = {name: t.rate for name, t in tally.items()}
    rates["bayes_mean_prob_beat"] = float(np.mean(beat))
    return rates


def coverage(sims: int, n: int, seed: int) -> dict[str, float]:
    """Coverage of the 95% intervals of planted effects (absolute and relative)."""
    rng = np.random.default_rng(seed)
    keys = ("proportions", "means", "ratio", "cuped")
    tallies = {k: (Tally(), Tally()) for k in keys}
    p_c, p_t = 0.10, 0.11
    scale_t = SCALE * 1.1
    cuped_estimates, plain_estimates = [], []
    for _ in range(sims):
        k_t, k_c = rng.binomial(n, p_t), rng.binomial(n, p_c)
        covers(compare_proportions(int(k_t), n, int(k_c), n), p_t - p_c, p_t / p_c - 1,
               tallies["proportions"])  # fmt: skip
        x_t, x_c = revenue(rng, n, 0.06), revenue(rng, n)
        true_t, true_c = revenue_mean(0.06), revenue_mean()
        covers(compare_means(x_t, x_c), true_t - true_c, true_t / true_c - 1, tallies["means"])
        (s_t, o_t), (s_c, o_c) = orders_and_revenue(rng, n, scale_t), orders_and_revenue(rng, n)
        r_t, r_c = SHAPE * scale_t, SHAPE * SCALE  # E[revenue] / E[orders]
        covers(compare_ratio(s_t, o_t, s_c, o_c), r_t - r_c, r_t / r_c - 1, tallies["ratio"])
        y_t, x1, y_c, x2 = cuped_arms(rng, n // 5, 0.7, effect=0.1)
        result = cuped(y_t, x1, y_c, x2).comparison
        covers(result, 0.1, 0.1 / CUPED_MEAN, tallies["cuped"])
        cuped_estimates.append(result.difference)
        plain_estimates.append(y_t.mean() - y_c.mean())
    out = {}
    for k, (absolute, relative) in tallies.items():
        out[f"{k}_absolute"] = absolute.rate
        out[f"{k}_relative"] = relative.rate
    # Mean estimate − truth in standard errors of that mean: CUPED's, and for scale the
    # plain difference's on the same simulated data.
    for key, found in (
        ("cuped_bias_in_se", cuped_estimates),
        ("plain_bias_in_se", plain_estimates),
    ):
        est = np.array(found)
        out[key] = float((est.mean() - 0.1) / (est.std(ddof=1) / math.sqrt(sims)))
    return out


CUPED_MEAN = 10.0


def cuped_arms(
    rng: np.random.Generator, n: int, rho: float, effect: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(y_t, x_t, y_c, x_c): pre-period x and metric y with correlation ρ, sd 1."""
    x_t, x_c = rng.normal(CUPED_MEAN, 1, n), rng.normal(CUPED_MEAN, 1, n)
    noise = math.sqrt(1 - rho**2)
    y_t = rho * (x_t - CUPED_MEAN) + noise * rng.normal(0, 1, n) + CUPED_MEAN + effect
    y_c = rho * (x_c - CUPED_MEAN) + noise * rng.normal(0, 1, n) + CUPED_MEAN
    return y_t, x_t, y_c, x_c


def variance_reduction(rhos: tuple[float, ...], n: int, seed: int) -> dict[float, float]:
    """CUPED's variance reduction per planted correlation ρ (expected ≈ ρ²)."""
    rng = np.random.default_rng(seed)
    return {rho: cuped(*cuped_arms(rng, n, rho, 0.05)).variance_reduction for rho in rhos}


def peeking(sims: int, looks: int, batch: int, seed: int) -> dict[str, float]:
    """A/A under continuous monitoring: share of simulations where any look rejects.

    ``sequential``: the always-valid sequence excludes 0 at some look; ``naive``: a
    fixed-horizon Welch test has p < 0.05 at some look. On conversion (10%) and on normal
    values. Looks are evaluated from cumulative sums at once (the same formulas as
    :func:`sequential_means`, checked against it at the last look).
    """
    rng = np.random.default_rng(seed)
    z = stats.norm.ppf(0.975)
    out = {}
    n = batch * np.arange(1, looks + 1)
    for kind in ("conversion", "normal"):
        hits_seq = hits_naive = 0
        for start in range(0, sims, 250):
            block = min(250, sims - start)
            moments = []
            for _ in range(2):
                if kind == "conversion":
                    k = np.cumsum(rng.binomial(batch, 0.1, (block, looks)), axis=1)
                    mean = k / n
                    var = mean * (1 - mean) * n / (n - 1)
                else:
                    raw = rng.normal(0, 1, (block, looks * batch))
                    sums = np.cumsum(raw, axis=1)[:, batch - 1 :: batch]
                    squares = np.cumsum(raw**2, axis=1)[:, batch - 1 :: batch]
                    mean = sums / n
                    var = (squares - n * mean**2) / (n - 1)
                moments.append((mean, var))
            (m_t, v_t), (m_c, v_c) = moments
            d, v = m_t - m_c, v_t / n + v_c / n
            half, _ = confidence_sequence(d, v, 2 * n, alpha=0.05, tuning_n=5000)
            hits_seq += int((np.abs(d) > half).any(axis=1).sum())
            hits_naive += int((np.abs(d) / np.sqrt(v) > z).any(axis=1).sum())
        out[f"{kind}_sequential"] = hits_seq / sims
        out[f"{kind}_naive"] = hits_naive / sims
    return out


def bayes_calibration(sims: int, seed: int) -> dict[str, list[tuple[float, float, int]]]:
    """Per prob_beat bin: (mean prob_beat, share with a truly better treatment, sims).

    True effects drawn from N(0, τ²) with τ three times the standard error, so a flat
    prior is a fair approximation.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[float, float, int]]] = {}
    cases: dict[str, Callable[[], tuple[float, float]]] = {}
    n_means, n_props = 500, 5000

    def means_case() -> tuple[float, float]:
        effect = rng.normal(0, 3 * math.sqrt(2 / n_means))
        b = bayes_means(rng.normal(effect, 1, n_means), rng.normal(0, 1, n_means))
        return b.prob_beat, effect

    def proportions_case() -> tuple[float, float]:
        se = math.sqrt(2 * 0.1 * 0.9 / n_props)
        effect = rng.normal(0, 3 * se)
        k_t, k_c = rng.binomial(n_props, 0.1 + effect), rng.binomial(n_props, 0.1)
        b = bayes_proportions(int(k_t), n_props, int(k_c), n_props, draws=4000, seed=0)
        return b.prob_beat, effect

    cases = {"means": means_case, "proportions": proportions_case}
    edges = np.linspace(0, 1, 6)
    for name, case in cases.items():
        pairs = np.array([case() for _ in range(sims)])
        which = np.clip(np.digitize(pairs[:, 0], edges) - 1, 0, 4)
        rows = []
        for b in range(5):
            inside = which == b
            rows.append((float(pairs[inside, 0].mean()), float((pairs[inside, 1] > 0).mean()),
                         int(inside.sum())))  # fmt: skip
        out[name] = rows
    return out


# ---------------------------------------------------------------------------- the tests


def test_false_positive_rates_under_a_over_a() -> None:
    rates = false_positives(SIMS, 5000, seed=1, bootstrap_replicates=400)
    for name in ("z", "welch", "mann_whitney", "bootstrap", "ratio", "cuped"):
        assert 0.04 <= rates[name] <= 0.06, (name, rates[name])
    assert abs(rates["bayes_mean_prob_beat"] - 0.5) < 0.02


def test_intervals_cover_planted_effects() -> None:
    result = coverage(SIMS, 5000, seed=2)
    for key, rate in result.items():
        if not key.endswith("bias_in_se"):
            assert 0.93 <= rate <= 0.97, (key, rate)
    assert abs(result["cuped_bias_in_se"]) < 3


def test_cuped_variance_reduction_is_about_rho_squared() -> None:
    rhos = (0.0, 0.3, 0.5, 0.7, 0.9)
    for rho, reduction in variance_reduction(rhos, 20_000, seed=3).items():
        assert abs(reduction - rho**2) < 0.02, (rho, reduction)


def test_sequential_holds_under_peeking_and_naive_welch_does_not() -> None:
    result = peeking(SIMS, looks=50, batch=200, seed=4)
    for kind in ("conversion", "normal"):
        assert result[f"{kind}_sequential"] <= 0.05, result
        assert result[f"{kind}_naive"] > 0.15, result
    # The vectorised looks use sequential_means' formula: check one look against it.
    rng = np.random.default_rng(5)
    x_t, x_c = rng.binomial(1, 0.1, 3000).astype(float), rng.binomial(1, 0.1, 3000).astype(float)
    s = sequential_means(x_t, x_c)
    v = x_t.var(ddof=1) / 3000 + x_c.var(ddof=1) / 3000
    half, p = confidence_sequence(s.difference, v, 6000, alpha=0.05, tuning_n=5000)
    assert (s.high - s.difference, s.p_value) == pytest.approx((float(half), float(p)), rel=1e-12)


def test_bayes_probability_to_beat_is_calibrated() -> None:
    for name, rows in bayes_calibration(SIMS, seed=6).items():
        for mean_prob, share, count in rows:
            assert count >= 100, (name, rows)
            assert abs(share - mean_prob) < 0.08, (name, rows)
