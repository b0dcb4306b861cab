"""power / mde / sample_size against statsmodels' NormalIndPower (and, at large n, the t
test's tt_ind_solve_power)."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power

from growthlens.stats.power import mde, power, sample_size


@pytest.mark.parametrize(("n_t", "n_c", "alpha"), [(1000, 1000, 0.05), (500, 1500, 0.01)])
def test_power_and_mde_match_statsmodels(n_t: int, n_c: int, alpha: float) -> None:
    ref = NormalIndPower()
    sd = 2.5
    for effect in (0.05, 0.2, -0.3):
        expected = ref.power(abs(effect) / sd, n_t, alpha, ratio=n_c / n_t)
        assert power(effect, sd, sd, n_t, n_c, alpha=alpha) == pytest.approx(expected, rel=1e-9)
    for target in (0.8, 0.9):
        m = mde(sd, sd, n_t, n_c, alpha=alpha, power=target)
        assert power(m, sd, sd, n_t, n_c, alpha=alpha) == pytest.approx(target, rel=1e-12)
        # statsmodels solves to a looser tolerance than ours.
        d = ref.solve_power(None, n_t, alpha, target, ratio=n_c / n_t)
        assert m == pytest.approx(d * sd, rel=1e-5)


def test_unequal_spreads_use_the_sum_of_variances() -> None:
    se = math.sqrt(3.0**2 / 800 + 1.0**2 / 1200)
    assert mde(3.0, 1.0, 800, 1200) == pytest.approx(mde(1.0, 1.0, 1, 1) * se / math.sqrt(2))


@pytest.mark.parametrize(("effect", "ratio"), [(0.1, 1.0), (0.1, 2.5), (0.02, 1.0)])
def test_sample_size_matches_statsmodels(effect: float, ratio: float) -> None:
    n_t, n_c = sample_size(effect, 1.0, 1.0, ratio=ratio)
    nobs1 = NormalIndPower().solve_power(effect, None, 0.05, 0.8, ratio=ratio)
    assert n_t == math.ceil(nobs1) and n_c == math.ceil(ratio * n_t - 1e-9)
    fewer = n_t - 1, math.ceil(ratio * (n_t - 1) - 1e-9)
    assert power(effect, 1.0, 1.0, n_t, n_c) >= 0.8 > power(effect, 1.0, 1.0, *fewer)
    if effect == 0.02:  # large n: the t test needs the same (to a unit or so)
        assert n_t == pytest.approx(tt_ind_solve_power(effect, None, 0.05, 0.8, ratio), abs=2)


def test_conversion_example_and_bad_input() -> None:
    p = 0.05
    n_t, _ = sample_size(0.005, math.sqrt(p * (1 - p)), math.sqrt(0.055 * 0.945))
    assert 31_000 < n_t < 32_500
    assert math.isnan(mde(1.0, 1.0, 0, 10))
    assert math.isnan(power(0.1, 0.0, 0.0, 10, 10))
    with pytest.raises(ValueError, match="power"):
        mde(1.0, 1.0, 10, 10, power=0.01)
    with pytest.raises(ValueError, match="effect"):
        sample_size(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        power(0.1, 1.0, 1.0, 10, 10, alpha=0.0)
