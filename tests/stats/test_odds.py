"""Odds ratios, Woolf intervals, association p-values and multiple-testing corrections:
known values, and calibration by simulation (docs/funnel_drivers.md states the figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency, fisher_exact

from growthlens.stats.multiple import benjamini_hochberg, holm
from growthlens.stats.odds import odds_ratios


def test_known_values_against_hand_computation_and_scipy() -> None:
    # Large cells: OR = 30·40 / (10·20) = 6; Woolf: log 6 ± 1.96·√(1/30 + 1/10 + 1/20 + 1/40).
    r = odds_ratios([30], [10], [20], [40])
    se = math.sqrt(1 / 30 + 1 / 10 + 1 / 20 + 1 / 40)
    assert r.odds_ratio[0] == pytest.approx(6.0)
    assert r.low[0] == pytest.approx(math.exp(math.log(6) - 1.959964 * se), rel=1e-6)
    assert r.high[0] == pytest.approx(math.exp(math.log(6) + 1.959964 * se), rel=1e-6)
    _, p, _, _ = chi2_contingency([[30, 10], [20, 40]], correction=False)
    assert r.test[0] == "chi_square" and r.p_value[0] == pytest.approx(p)
    assert not r.corrected[0]
    # An expected cell below 5 (row 4 × column 13 / 40 = 1.3): Fisher's exact test.
    r = odds_ratios([3], [1], [10], [26])
    assert r.test[0] == "fisher"
    assert r.p_value[0] == pytest.approx(fisher_exact([[3, 1], [10, 26]]).pvalue)
    assert r.odds_ratio[0] == pytest.approx(3 * 26 / 10)


def test_zero_cells_are_corrected_and_empty_margins_undefined() -> None:
    # Haldane–Anscombe: 0.5 added to every cell when one is 0.
    r = odds_ratios([3, 0, 5, 0, 4], [0, 10, 5, 0, 4], [10, 10, 0, 10, 0], [10, 10, 5, 10, 0])
    assert r.odds_ratio[0] == pytest.approx(3.5 * 10.5 / (0.5 * 10.5))
    assert r.odds_ratio[1] == pytest.approx(0.5 * 10.5 / (10.5 * 10.5))
    assert r.corrected[:2].all()
    assert r.low[0] < r.odds_ratio[0] < r.high[0] and math.isfinite(r.high[0])
    assert r.odds_ratio[2] == pytest.approx(5.5 * 5.5 / (5.5 * 0.5))
    # Nobody with the feature (row 4) or no failure at all (row 5): nothing is defined.
    for i in (3, 4):
        assert math.isnan(r.odds_ratio[i]) and math.isnan(r.low[i]) and math.isnan(r.p_value[i])
        assert r.test[i] == "" and not r.corrected[i]
    with pytest.raises(ValueError, match="negative"):
        odds_ratios([-1], [1], [1], [1])
    with pytest.raises(ValueError):
        odds_ratios([1], [1], [1], [1], confidence=1.5)


def test_holm_and_benjamini_hochberg_known_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005, math.nan]
    # Holm, sorted: 0.005·4, 0.01·3, 0.03·2, 0.04·1 → running max 0.02, 0.03, 0.06, 0.06.
    assert holm(p)[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH, sorted: 0.005·4/1, 0.01·4/2, 0.03·4/3, 0.04·4/4 → running min from the top.
    assert benjamini_hochberg(p)[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert math.isnan(holm(p)[4]) and math.isnan(benjamini_hochberg(p)[4])
    assert holm([0.6, 0.9]).tolist() == [1.0, 1.0]  # capped at 1
    assert holm([]).size == 0 and benjamini_hochberg([math.nan]).size == 1
    with pytest.raises(ValueError):
        holm([1.2])


def _null_families(rng: np.random.Generator, families: int) -> np.ndarray:
    """p-values of 20 features per family, each independent of converting (rate 30%),
    with prevalences from 2% (small cells: Fisher) to 50%, 400 units."""
    n, rate = 400, 0.3
    prevalence = np.array(
        [0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5] * 2 + [0.15, 0.25, 0.35, 0.45]
    )
    m = len(prevalence)
    converted = rng.binomial(1, rate, size=(families, 1, n)).astype(bool)
    has = rng.random((families, m, n)) < prevalence[None, :, None]
    a = (has & converted).sum(axis=2)
    b = (has & ~converted).sum(axis=2)
    c = (~has & converted).sum(axis=2)
    d = (~has & ~converted).sum(axis=2)
    r = odds_ratios(a.ravel(), b.ravel(), c.ravel(), d.ravel())
    return r.p_value.reshape(families, m)


def test_family_wise_error_under_the_null_is_at_most_alpha() -> None:
    """2,000 families of 20 null features: Holm rejects anything in ≤ 5% of families (+ two
    Monte Carlo standard errors); the raw p-values reject about 5% of single tests."""
    rng = np.random.default_rng(14)
    p = _null_families(rng, 2_000)
    single = float(np.nanmean(p < 0.05))
    assert 0.035 <= single <= 0.06  # each test is close to its level (Fisher is conservative)
    fwer_holm = float(np.mean([np.nanmin(holm(row)) <= 0.05 for row in p]))
    fwer_bh = float(np.mean([np.nanmin(benjamini_hochberg(row)) <= 0.05 for row in p]))
    se = math.sqrt(0.05 * 0.95 / len(p))
    assert fwer_holm <= 0.05 + 2 * se
    assert fwer_bh <= 0.05 + 2 * se  # under the global null FDR = FWER
    # Uncorrected, at least one of 20 tests is "significant" in most families.
    assert float(np.mean([np.nanmin(row) <= 0.05 for row in p])) > 0.4


@pytest.mark.parametrize(
    ("n_with", "n_without", "rate_without", "true_or"),
    [(200, 600, 0.3, 1.0), (200, 600, 0.3, 2.0), (100, 300, 0.2, 0.5), (60, 200, 0.4, 3.0)],
)
def test_woolf_interval_covers_the_true_odds_ratio(
    n_with: int, n_without: int, rate_without: float, true_or: float
) -> None:
    """Moderate counts: the 95% Woolf interval covers the true odds ratio 93–97.5% of 4,000
    simulated tables."""
    rng = np.random.default_rng(int(true_or * 100) + n_with)
    odds = rate_without / (1 - rate_without) * true_or
    rate_with = odds / (1 + odds)
    a = rng.binomial(n_with, rate_with, size=4_000)
    c = rng.binomial(n_without, rate_without, size=4_000)
    r = odds_ratios(a, n_with - a, c, n_without - c)
    coverage = float(np.mean((r.low <= true_or) & (true_or <= r.high)))
    assert 0.93 <= coverage <= 0.975


def test_a_planted_driver_is_found_with_an_interval_containing_the_truth() -> None:
    """3,000 units; 30% view reviews and convert at twice the odds (30% → 46.2%); ten other
    features are noise. The driver is significant after Holm and its interval holds 2; no
    noise feature is. Over 200 repetitions the driver is found every time and the interval
    covers 2 in about 95% of them."""
    rng = np.random.default_rng(2024)

    def run() -> tuple[np.ndarray, object]:
        n = 3_000
        reviews = rng.random(n) < 0.3
        odds = 0.3 / 0.7 * np.where(reviews, 2.0, 1.0)
        converted = rng.random(n) < odds / (1 + odds)
        noise = rng.random((10, n)) < rng.uniform(0.05, 0.5, size=(10, 1))
        has = np.vstack([reviews, noise])
        r = odds_ratios(
            (has & converted).sum(axis=1),
            (has & ~converted).sum(axis=1),
            (~has & converted).sum(axis=1),
            (~has & ~converted).sum(axis=1),
        )
        return holm(r.p_value), r

    adjusted, r = run()
    assert adjusted[0] <= 0.05 and r.low[0] <= 2.0 <= r.high[0]  # type: ignore[attr-defined]
    assert (adjusted[1:] > 0.05).all()
    found = covered = 0
    for _ in range(200):
        adjusted, r = run()
        found += bool(adjusted[0] <= 0.05)
        covered += bool(r.low[0] <= 2.0 <= r.high[0])  # type: ignore[attr-defined]
    assert found == 200
    assert 0.91 <= covered / 200 <= 0.99
