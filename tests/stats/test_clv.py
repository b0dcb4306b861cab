"""BG/NBD and Gamma-Gamma: log-likelihoods against hand-written formulas, parameters recovered
from data simulated with known parameters, predictions against Monte-Carlo simulations of the
model, known limits of P(alive), the hold-out check, CLV arithmetic and degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from growthlens.stats import clv as clv_module
from growthlens.stats.clv import (
    BGNBD_NAMES,
    GG_NAMES,
    bgnbd_log_likelihood,
    clv,
    expected_purchases,
    expected_purchases_new,
    expected_value,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    holdout,
    p_alive,
)

BG = (0.25, 4.0, 0.8, 2.5)  # r, α (days), a, b
GG = (6.0, 4.0, 15.0)  # p, q, γ (money)


def simulate_bgnbd(
    n: int,
    params: tuple[float, float, float, float],
    seed: int,
    *,
    t_min: float = 30.0,
    t_max: float = 365.0,
    hold: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The BG/NBD generative process: (x, t_x, T, purchases in (T, T + hold])."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(t_min, t_max, n)
    end = T + hold
    now, x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t_next = now[idx] + rng.exponential(1 / lam[idx])
        over = t_next > end[idx]
        active[idx[over]] = False
        go, t_go = idx[~over], t_next[~over]
        now[go] = t_go
        cal = t_go <= T[go]
        x[go[cal]] += 1
        t_x[go[cal]] = t_go[cal]
        later[go[~cal]] += 1
        active[go[rng.random(len(go)) < p[go]]] = False  # drops out right after a purchase
    return x, t_x, T, later


def simulate_values(x: np.ndarray, params: tuple[float, float, float], seed: int) -> np.ndarray:
    """Gamma-Gamma: ν ~ Gamma(q, rate γ), each purchase ~ Gamma(p, rate ν); mean of x of them."""
    p, q, gamma = params
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1 / gamma, len(x))
    total = rng.gamma(p * np.maximum(x, 1), 1 / nu)  # a sum of x Gamma(p, ν) is Gamma(px, ν)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)


# ----------------------------------------------------------------------------- likelihoods


def _bgnbd_by_hand(r: float, al: float, a: float, b: float, x: int, t: float, T: float) -> float:
    def beta(u: float, v: float) -> float:
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    base = math.gamma(r + x) * al**r / math.gamma(r)
    value = beta(a, b + x) / beta(a, b) * base / (al + T) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * base / (al + t) ** (r + x)
    return math.log(value)


def test_bgnbd_log_likelihood_by_hand() -> None:
    customers = [(0, 0.0, 30.0), (1, 5.0, 30.0), (2, 10.0, 30.0), (5, 25.5, 40.0), (3, 40.0, 40.0)]
    x, t, T = (list(c) for c in zip(*customers, strict=True))
    got = bgnbd_log_likelihood(BG, x, t, T)
    want = [_bgnbd_by_hand(*BG, *c) for c in customers]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[0] == pytest.approx(-0.5350165408740677, rel=1e-12)
    # another parameter point, so a swapped parameter cannot pass by symmetry
    other = (1.3, 12.0, 2.2, 0.7)
    np.testing.assert_allclose(
        bgnbd_log_likelihood(other, x, t, T),
        [_bgnbd_by_hand(*other, *c) for c in customers],
        rtol=1e-12,
    )


def test_gamma_gamma_log_likelihood_by_hand_and_by_integration() -> None:
    p, q, g = GG
    data = [(1, 20.0), (2, 40.0), (7, 12.5)]
    got = gamma_gamma_log_likelihood(GG, [d[0] for d in data], [d[1] for d in data])
    for value, (x, m) in zip(got, data, strict=True):
        by_hand = (
            math.lgamma(p * x + q)
            - math.lgamma(p * x)
            - math.lgamma(q)
            + q * math.log(g)
            + (p * x - 1) * math.log(m)
            + p * x * math.log(x)
            - (p * x + q) * math.log(g + m * x)
        )
        assert value == pytest.approx(by_hand, rel=1e-12)
        # independent: the mean of x Gamma(p, ν) values is Gamma(px, rate xν); integrate ν out
        density, _ = integrate.quad(
            lambda nu, x=x, m=m: (
                stats.gamma.pdf(m, p * x, scale=1 / (x * nu)) * stats.gamma.pdf(nu, q, scale=1 / g)
            ),
            0,
            np.inf,
        )
        assert value == pytest.approx(math.log(density), rel=1e-6)


def test_bgnbd_likelihood_sums_to_one_over_outcomes() -> None:
    # For a fixed T, L is the density of the x purchase times (mass at x = 0); the x − 1
    # earlier times integrate out to t_x^(x−1)/(x−1)!, so Σ_x ∫ L t^(x−1)/(x−1)! dt = 1 (a
    # property of the formula that a consistent mis-transcription would not keep).
    T = 20.0
    total = math.exp(float(bgnbd_log_likelihood(BG, [0], [0.0], [T])[0]))
    for x in range(1, 80):
        part, _ = integrate.quad(
            lambda t, x=x: math.exp(
                float(bgnbd_log_likelihood(BG, [x], [t], [T])[0])
                + (x - 1) * math.log(max(t, 1e-300))
                - math.lgamma(x)
            ),
            0,
            T,
        )
        total += part
    assert total == pytest.approx(1.0, abs=1e-3)


def test_analytic_gradients_match_numerical() -> None:
    x, t, T, _ = simulate_bgnbd(300, BG, seed=3)
    rows = clv_module._rows(x, t, T)
    theta = np.log(np.array([0.4, 6.0, 1.3, 2.0]))
    err = optimize.check_grad(
        lambda th: clv_module._bgnbd_value_grad(th, rows)[0],
        lambda th: clv_module._bgnbd_value_grad(th, rows)[1],
        theta,
    )
    assert err < 1e-3 * np.linalg.norm(clv_module._bgnbd_value_grad(theta, rows)[1]) + 1e-4
    value = clv_module._bgnbd_value_grad(theta, rows)[0]
    assert value == pytest.approx(float(np.sum(bgnbd_log_likelihood(np.exp(theta), x, t, T))))
    m = simulate_values(x, GG, seed=4)
    keep = x > 0
    th = np.log(np.array([3.0, 2.5, 20.0]))
    err = optimize.check_grad(
        lambda v: clv_module._gg_value_grad(v, x[keep], m[keep])[0],
        lambda v: clv_module._gg_value_grad(v, x[keep], m[keep])[1],
        th,
    )
    assert err < 1e-4 * np.linalg.norm(clv_module._gg_value_grad(th, x[keep], m[keep])[1]) + 1e-4


# ----------------------------------------------------------------------------- recovery


@pytest.mark.parametrize(("params", "seed"), [(BG, 1), ((0.8, 10.0, 2.5, 6.0), 2)])
def test_bgnbd_parameters_recovered_within_three_standard_errors(
    params: tuple[float, float, float, float], seed: int
) -> None:
    x, t, T, _ = simulate_bgnbd(5000, params, seed)
    fit = fit_bgnbd(x, t, T)
    assert fit.status == "ok", fit.reason
    assert fit.customers == 5000 and fit.repeat_buyers == int(np.sum(x > 0))
    for name, true in zip(BGNBD_NAMES, params, strict=True):
        est, se = getattr(fit, name), fit.se[name]
        assert 0 < se < 0.5 * true
        assert abs(est - true) < 3 * se, (name, est, true, se)
    table = fit.table()
    assert list(table["parameter"]) == list(BGNBD_NAMES)
    assert np.all(table["low"] < table["estimate"]) and np.all(table["estimate"] < table["high"])
    # the maximum: the log-likelihood at the truth is not higher
    assert fit.log_likelihood >= float(np.sum(bgnbd_log_likelihood(params, x, t, T)))


def test_bgnbd_fit_is_invariant_to_aggregation_and_order() -> None:
    x, t, T, _ = simulate_bgnbd(800, BG, seed=5)
    t, T = np.round(t), np.ceil(T)  # whole days: many customers share (x, t_x, T)
    t = np.minimum(t, T)
    fit = fit_bgnbd(x, t, T)
    assert fit.rows < 800
    order = np.random.default_rng(0).permutation(800)
    again = fit_bgnbd(x[order], t[order], T[order])
    np.testing.assert_allclose(fit.params, again.params, rtol=1e-6)
    assert fit.log_likelihood == pytest.approx(
        float(np.sum(bgnbd_log_likelihood(fit.params, x, t, T))), rel=1e-10
    )


def test_gamma_gamma_parameters_recovered_within_three_standard_errors() -> None:
    x = np.random.default_rng(6).poisson(3.0, 5000).astype(float)
    m = simulate_values(x, GG, seed=7)
    fit = fit_gamma_gamma(x, m)
    assert fit.status == "ok", fit.reason
    assert fit.customers == int(np.sum(x > 0))
    for name, true in zip(GG_NAMES, GG, strict=True):
        est, se = getattr(fit, name), fit.se[name]
        assert abs(est - true) < 3 * se, (name, est, true, se)
    assert abs(fit.correlation) < 0.1
    assert fit.mean_value == pytest.approx(fit.p * fit.gamma / (fit.q - 1))
    # the population mean of a purchase p γ / (q − 1) = 30
    assert fit.mean_value == pytest.approx(30.0, rel=0.1)


def test_gamma_gamma_flags_value_correlated_with_frequency() -> None:
    x = np.random.default_rng(8).poisson(3.0, 2000).astype(float) + 1
    m = simulate_values(x, GG, seed=9) * x  # value grows with frequency
    fit = fit_gamma_gamma(x, m)
    assert fit.status == "frequency_value_correlated"
    assert fit.correlation > 0.3 and "ρ" in fit.reason
    assert math.isfinite(fit.p)  # estimates still given
    assert fit_gamma_gamma(x, m, max_correlation=0.99).status == "ok"


# ----------------------------------------------------------------------------- predictions


def test_new_customer_expectation_against_simulation() -> None:
    for t in (30.0, 200.0):
        _, _, _, later = simulate_bgnbd(200_000, BG, seed=10, t_min=0.0, t_max=0.0, hold=t)
        # a new customer's first purchase is at 0 and not counted; X(t) counts those in (0, t]
        mean, se = later.mean(), later.std() / math.sqrt(len(later))
        assert float(expected_purchases_new(BG, t)[0]) == pytest.approx(mean, abs=4 * se)
    assert float(expected_purchases_new(BG, 0.0)[0]) == 0.0


def _posterior_monte_carlo(
    params: tuple[float, float, float, float], x: int, t_x: float, T: float, t: float
) -> tuple[float, float, float]:
    """Importance sampling from the prior: (P(alive), E[Y(t)], MC standard error of E[Y(t)])."""
    r, alpha, a, b = params
    rng = np.random.default_rng(11)
    n = 400_000
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    alive_part = (1 - p) ** x * lam**x * np.exp(-lam * T)
    dead_part = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0 * lam
    w = alive_part + dead_part
    w = w / w.sum()
    alive_prob = alive_part / (alive_part + dead_part)
    # future purchases of an alive customer by simulation (not the closed form)
    count, now = np.zeros(n), np.zeros(n)
    going = rng.random(n) < alive_prob
    while going.any():
        idx = np.flatnonzero(going)
        now[idx] += rng.exponential(1 / lam[idx])
        inside = now[idx] <= t
        count[idx[inside]] += 1
        going[idx[~inside]] = False
        going[idx[inside][rng.random(int(inside.sum())) < p[idx[inside]]]] = False
    mean = float(np.sum(w * count))
    ess_var = float(np.sum(w**2 * (count - mean) ** 2))
    return float(np.sum(w * alive_prob)), mean, math.sqrt(ess_var)


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 60.0), (2, 50.0, 60.0), (4, 20.0, 100.0), (1, 5.0, 30.0)]
)
def test_conditional_expectation_and_p_alive_against_monte_carlo(
    x: int, t_x: float, T: float
) -> None:
    params = (0.6, 8.0, 1.5, 3.0)
    alive, mean, se = _posterior_monte_carlo(params, x, t_x, T, 90.0)
    got = float(expected_purchases(params, [x], [t_x], [T], 90.0)[0])
    assert got == pytest.approx(mean, abs=4 * se + 1e-3)
    assert float(p_alive(params, [x], [t_x], [T])[0]) == pytest.approx(alive, abs=0.01)


def test_p_alive_known_limits() -> None:
    _, _, a, b = BG
    # no repeat purchase: in BG/NBD dropout happens only right after a purchase
    assert np.all(p_alive(BG, [0, 0], [0.0, 0.0], [1.0, 1e6]) == 1.0)
    # last purchase at T: 1 / (1 + a/(b + x − 1))
    for x in (1, 3, 10):
        want = 1 / (1 + a / (b + x - 1))
        assert float(p_alive(BG, [x], [50.0], [50.0])[0]) == pytest.approx(want, rel=1e-12)
    # long silence → 0, and P(alive) falls as T grows with t_x fixed
    path = p_alive(BG, [3] * 5, [10.0] * 5, [10.0, 30.0, 100.0, 1000.0, 1e6])
    assert np.all(np.diff(path) < 0) and path[-1] < 1e-3
    # more purchases in the same span with the same silence: less likely to have left
    assert float(p_alive(BG, [6], [30.0], [60.0])[0]) < float(p_alive(BG, [6], [55.0], [60.0])[0])


def test_expected_purchases_shape_and_limits() -> None:
    x, t, T = [0, 1, 5], [0.0, 10.0, 30.0], [40.0, 40.0, 40.0]
    assert np.all(expected_purchases(BG, x, t, T, 0.0) == 0.0)
    grid = [expected_purchases(BG, x, t, T, h) for h in (10.0, 50.0, 200.0)]
    assert np.all(np.diff(np.vstack(grid), axis=0) > 0)
    # a new customer observed for T = 0 is the unconditional expectation
    assert float(expected_purchases(BG, [0], [0.0], [0.0], 30.0)[0]) == pytest.approx(
        float(expected_purchases_new(BG, 30.0)[0]), rel=1e-12
    )


def test_expected_value_is_a_weighted_mean() -> None:
    p, q, g = GG
    # E[Z | m, x] = w · population mean + (1 − w) · m with w = (q − 1)/(p x + q − 1)
    for x, m in [(1, 10.0), (4, 55.0), (30, 25.0)]:
        w = (q - 1) / (p * x + q - 1)
        want = w * p * g / (q - 1) + (1 - w) * m
        assert float(expected_value(GG, [x], [m])[0]) == pytest.approx(want, rel=1e-12)
    assert float(expected_value(GG, [0], [np.nan])[0]) == pytest.approx(p * g / (q - 1))
    assert np.isnan(expected_value((2.0, 0.9, 5.0), [1], [3.0])[0])  # q ≤ 1: no mean


# ----------------------------------------------------------------------------- hold-out, CLV


def test_holdout_on_simulated_data() -> None:
    x, t, T, later = simulate_bgnbd(5000, BG, seed=12, hold=180.0)
    frame = pd.DataFrame({"frequency": x, "recency": t, "T": T, "holdout_purchases": later})
    check = holdout(frame, horizon=180.0)
    assert check.status == "ok"
    table = check.table
    assert list(table["group"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 5000
    assert table["actual"].sum() == pytest.approx(later.sum())
    assert table["predicted"].sum() == pytest.approx(check.predicted)
    assert abs(check.total_error) < 0.08
    assert check.group_mae < 0.15
    # the per-group predictions rise with calibration frequency, like the actual means
    assert np.all(np.diff(table["predicted_mean"].to_numpy()) > 0)


def test_clv_on_a_frame() -> None:
    x, t, T, _ = simulate_bgnbd(3000, BG, seed=13)
    m = simulate_values(x, GG, seed=14)
    frame = pd.DataFrame(
        {"frequency": x, "recency": t, "T": T, "monetary": np.where(x > 0, m, np.nan)},
        index=pd.Index([f"c{i}" for i in range(3000)], name="customer"),
    )
    result = clv(frame, horizon=90.0, margin=0.3)
    assert result.status == "ok", result.reason
    table = result.table
    assert table.index.equals(frame.index)
    np.testing.assert_allclose(table["clv"], 0.3 * table["purchases"] * table["value"])
    np.testing.assert_allclose(
        table["purchases"], expected_purchases(result.bgnbd, x, t, T, 90.0), rtol=1e-12
    )
    assert np.all(table.loc[table["frequency"] == 0, "value"] == result.gamma_gamma.mean_value)
    assert result.totals["clv"] == pytest.approx(table["clv"].sum())
    # discounting: a tiny rate telescopes to the undiscounted sum; a real rate lowers every CLV
    small = clv(frame.iloc[:200], horizon=30.5, daily_discount=1e-12)
    plain = clv(frame.iloc[:200], horizon=30.5)
    np.testing.assert_allclose(small.table["clv"], plain.table["clv"], rtol=1e-8)
    dear = clv(frame.iloc[:200], horizon=30.5, daily_discount=0.01)
    assert np.all(dear.table["clv"] < plain.table["clv"])


def test_discounted_clv_by_hand_for_one_customer() -> None:
    x, t, T, _ = simulate_bgnbd(500, BG, seed=15)
    m = simulate_values(x, GG, seed=16)
    frame = pd.DataFrame({"frequency": x, "recency": t, "T": T, "monetary": m})
    result = clv(frame, horizon=5.0, daily_discount=0.02)
    i = int(np.argmax(x))
    ey = [
        float(expected_purchases(result.bgnbd, [x[i]], [t[i]], [T[i]], float(k))[0])
        for k in range(6)
    ]
    want = sum((ey[k] - ey[k - 1]) / 1.02**k for k in range(1, 6)) * result.table["value"].iloc[i]
    assert result.table["clv"].iloc[i] == pytest.approx(want, rel=1e-10)


# ----------------------------------------------------------------------------- degenerate input


def test_degenerate_input_gives_a_status() -> None:
    few = fit_bgnbd([1, 0, 2], [3.0, 0.0, 5.0], [10.0, 10.0, 10.0])
    assert few.status == "not_enough_data" and math.isnan(few.r)
    assert np.all(np.isnan(p_alive(few, [1], [3.0], [10.0])))
    zero = fit_bgnbd([0] * 50, [0.0] * 50, np.linspace(10, 100, 50))
    assert zero.status == "no_repeat_buyers"
    assert np.all(np.isnan(expected_purchases(zero, [0], [0.0], [10.0], 30.0)))
    gg = fit_gamma_gamma([0] * 40 + [1] * 5, [0.0] * 40 + [10.0] * 5)
    assert gg.status == "not_enough_data" and gg.customers == 5
    same = fit_gamma_gamma([1, 2, 3] * 10, [20.0] * 30)  # identical values: q, p unbounded
    assert same.status != "ok"
    frame = pd.DataFrame({"frequency": [0] * 20, "recency": 0.0, "T": 30.0, "monetary": np.nan})
    result = clv(frame, horizon=30.0)
    assert result.status == "no_repeat_buyers" and result.table["clv"].isna().all()
    empty = fit_bgnbd([], [], [])
    assert empty.status == "not_enough_data"


def test_bad_input_and_options_are_value_errors() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        fit_bgnbd([1, 2], [1.0], [2.0, 3.0])
    with pytest.raises(ValueError, match="non-negative integers"):
        fit_bgnbd([1.5], [1.0], [2.0])
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1], [5.0], [2.0])
    with pytest.raises(ValueError, match="frequency 0"):
        fit_bgnbd([0], [1.0], [2.0])
    with pytest.raises(ValueError, match="finite"):
        fit_bgnbd([1], [np.nan], [2.0])
    with pytest.raises(ValueError, match="positive numbers"):
        bgnbd_log_likelihood((0.2, -1.0, 1.0, 1.0), [0], [0.0], [1.0])
    frame = pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0], "monetary": [3.0]})
    with pytest.raises(ValueError, match="horizon"):
        clv(frame, horizon=0)
    with pytest.raises(ValueError, match="margin"):
        clv(frame, horizon=30, margin=1.5)
    with pytest.raises(ValueError, match="daily_discount"):
        clv(frame, horizon=30, daily_discount=-0.1)
    with pytest.raises(ValueError, match="missing"):
        clv(frame.drop(columns="T"), horizon=30)
    with pytest.raises(ValueError, match="max_group"):
        holdout(frame.assign(holdout_purchases=0), horizon=30, max_group=0)
    with pytest.raises(ValueError, match="max_correlation"):
        fit_gamma_gamma([1], [1.0], max_correlation=0)


@pytest.mark.parametrize(
    "params", [(0.25, 4.0, 0.8, 2.5), (2.0, 30.0, 1.0001, 5.0), (0.3, 2.0, 0.2, 20.0)]
)
def test_conditional_expectation_against_numerical_integration(
    params: tuple[float, float, float, float],
) -> None:
    # Given alive, E[Y(t) | λ, p] = (1 − e^(−λ p t))/p; over the posterior λ ~ Gamma(r+x, α+T)
    # E_λ[e^(−λ p t)] = ((α+T)/(α+T+p t))^(r+x), leaving one integral over p ~ Beta(a, b+x).
    # Checks the ₂F₁ route at extremes: a ≈ 1, a < 1, many purchases, long horizons.
    r, alpha, a, b = params
    for x, t_x, T, t in [
        (0, 0, 365, 365),
        (50, 360, 365, 365),
        (200, 364, 365, 1000),
        (1, 1, 1, 3000),
    ]:
        alive = float(p_alive(params, [x], [t_x], [T])[0])
        inner, _ = integrate.quad(
            lambda p, x=x, T=T, t=t: (
                (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x))
                / p
                * stats.beta.pdf(p, a, b + x)
            ),
            0,
            1,
            limit=200,
        )
        got = float(expected_purchases(params, [x], [float(t_x)], [float(T)], float(t))[0])
        assert got == pytest.approx(alive * inner, rel=1e-6, abs=1e-9)


def test_no_dropout_planted_gives_status_and_nbd_predictions() -> None:
    # Poisson purchases with gamma rates (r = 2, α = 20) and nobody leaving: BG/NBD's a/(a+b) → 0
    rng = np.random.default_rng(17)
    n = 3000
    lam = rng.gamma(2.0, 1 / 20.0, n)
    T = rng.uniform(100, 365, n)
    x = rng.poisson(lam * T).astype(float)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), 1), 0.0)  # last of x uniform times
    fit = fit_bgnbd(x, t_x, T)
    assert fit.status == "no_dropout", fit.reason
    assert fit.r == pytest.approx(2.0, rel=0.15) and fit.alpha == pytest.approx(20.0, rel=0.15)
    # the NBD posterior mean: (r + x)/(α + T) purchases per day, everyone alive
    got = expected_purchases(fit, x[:50], t_x[:50], T[:50], 30.0)
    np.testing.assert_allclose(got, (fit.r + x[:50]) / (fit.alpha + T[:50]) * 30.0, rtol=1e-3)
    assert np.all(p_alive(fit, x, t_x, T) > 0.99)


def test_optimiser_stopped_early_gives_not_converged(monkeypatch: pytest.MonkeyPatch) -> None:
    real = optimize.minimize

    def two_steps(*args: object, **kwargs: object) -> optimize.OptimizeResult:
        kwargs["options"] = {"maxiter": 2}
        return real(*args, **kwargs)

    monkeypatch.setattr(optimize, "minimize", two_steps)
    x, t, T, _ = simulate_bgnbd(500, BG, seed=18)
    fit = fit_bgnbd(x, t, T)
    assert fit.status == "not_converged" and "gradient" in fit.reason
