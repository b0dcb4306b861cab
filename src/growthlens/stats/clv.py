"""Predicted customer lifetime value: BG/NBD purchases × Gamma-Gamma value per purchase.

Input, one row per customer (time in days; the engine builds these columns):

- ``frequency`` x: repeat purchases in the calibration period (purchase days − 1; the first
  purchase is not counted), a non-negative integer;
- ``recency`` t_x: days from the first to the last purchase (0 when x = 0), 0 ≤ t_x ≤ T;
- ``T``: days from the first purchase to the end of the calibration period;
- ``monetary`` m: mean value of the repeat purchases (used for x > 0 only, must be > 0).

**BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"). While active a
customer buys as a Poisson process with rate λ ~ Gamma(shape r, rate α); after each purchase
they become inactive with probability p ~ Beta(a, b); λ and p are independent across customers
and of each other. The likelihood of one customer (their eq. 6) is

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),

computed on the log scale with ``gammaln``/``betaln`` and ``logaddexp``. The fit maximises
Σ log L over log r, log α, log a, log b (L-BFGS-B with the analytic gradient, log parameters
bounded to ±``LOG_BOUND``; converged when L-BFGS-B reports it or the gradient of the mean
log-likelihood is at most ``GRAD_TOL`` in every log parameter) on the distinct (x, t_x, T)
rows weighted by how many customers share them, so the cost depends on the number of distinct
rows, not customers. Standard errors come
from the inverse of the observed information (the Hessian of −Σ log L, by central differences of
the analytic gradient) on the log scale, carried to the natural scale by the delta method
(se(θ) = θ · se(log θ)); intervals are Wald intervals on the log scale (always positive).

Predictions (same paper, eqs. 7, 9 and 10):

- new customer, purchases in (0, t]: E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r
  ₂F₁(r, b; a+b−1; t/(α+t))];
- P(alive at T | x, t_x, T) = 1 / (1 + [x > 0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). A customer
  with no repeat purchase is alive with probability 1: in BG/NBD a customer can drop out only
  right after a purchase (a known property of the model, not of the data);
- purchases in (T, T+t]: E[Y(t) | x, t_x, T] = the new-customer formula with the posterior
  parameters (r+x, α+T, a, b+x), times P(alive).

The ₂F₁ formulas need a ≠ 1 (a > 1 for a finite expected number of purchases over an infinite
time); they are evaluated with :func:`scipy.special.hyp2f1` (argument z < 1), and a non-finite
value gives NaN.

**Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"; Fader & Hardie
2013 note). The value of each purchase is z ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate γ)
across customers, independent of the purchase process. For the mean m of a customer's x purchases,

    log L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x),

fitted by maximum likelihood on the customers with x > 0 and m > 0 like BG/NBD. The conditional
expected value per purchase is E[Z | m, x] = p (γ + m x) / (p x + q − 1) (a weighted mean of the
population mean p γ/(q−1) and the customer's own m; needs q > 1). The model assumes value does
not depend on frequency: the Pearson correlation of x and m among repeat buyers is reported, and
|ρ| ≥ ``max_correlation`` (0.3 by default, a rule of thumb) gives the status
``frequency_value_correlated`` with the estimates still given.

**CLV** over a horizon of h days = margin × E[Z | m, x] × E[Y(h) | x, t_x, T]; with a daily
discount rate d, each day's expected purchases E[Y(k)] − E[Y(k−1)] (k = 1 … ⌈h⌉, the last day
ending at h) are divided by (1+d)^k. Customers with x = 0 get the population mean value p γ/(q−1).

**Hold-out check** (:func:`holdout`): fit on the calibration period, predict each customer's
purchases in the following ``horizon`` days, and compare predicted and actual sums per
calibration-frequency group (0, 1, …, ``max_group`` −1, ``max_group``+), with the relative error
of the total and the customer-weighted mean absolute error of the per-group means.

Statuses: ``ok``; ``not_enough_data`` (fewer than ``MIN_CUSTOMERS`` customers, or fewer than
``MIN_CUSTOMERS`` repeat buyers for Gamma-Gamma); ``no_repeat_buyers`` (all x = 0: the dropout
process cannot be estimated); ``not_converged`` (the optimiser stopped without convergence);
``boundary`` (a log parameter reached ±``LOG_BOUND``: that parameter is not identified, e.g. no
dropout visible or all values identical); ``no_standard_errors`` (the information matrix is not
positive definite); ``no_dropout`` (BG/NBD: the fitted mean dropout probability per purchase
a/(a+b) is below ``NO_DROPOUT``: nobody visibly leaves, a and b run off along a ridge, and the
model is the NBD, whose predictions stay valid); ``frequency_value_correlated``. Only ``ok``
numbers are confident; the others still carry estimates where they exist. Malformed input
(lengths differ, negative or fractional frequency, t_x outside [0, T], x = 0 with t_x > 0,
non-finite values) is a ValueError.

Example (a fixture small enough to check by hand; see the tests):

>>> from growthlens.stats.clv import bgnbd_log_likelihood
>>> ll = bgnbd_log_likelihood((0.25, 4.0, 0.8, 2.5), [0, 2], [0.0, 10.0], [30.0, 30.0])
>>> [round(float(v), 4) for v in ll]
[-0.535, -8.2475]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

NAN = math.nan
MIN_CUSTOMERS = 10
"""Fewer customers (or repeat buyers, for Gamma-Gamma) than this give ``not_enough_data``."""
GRAD_TOL = 1e-5
"""Converged: the optimiser says so, or |∂ mean log L / ∂ log θ| ≤ this for every parameter."""
LOG_BOUND = 15.0
"""Bound on each log parameter; an estimate on it gives status ``boundary``."""
NO_DROPOUT = 1e-4
"""A fitted mean dropout probability a/(a+b) below this gives status ``no_dropout``."""
MAX_CORRELATION = 0.3
"""Default |ρ(frequency, monetary)| from which Gamma-Gamma's independence assumption is flagged."""

Floats = NDArray[np.float64]
ValueGrad = Callable[[Floats], tuple[float, Floats]]
BGNBD_NAMES = ("r", "alpha", "a", "b")
GG_NAMES = ("p", "q", "gamma")


# ----------------------------------------------------------------------------- validation


def _floats(values: ArrayLike, name: str) -> Floats:
    array = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, found NaN or infinity")
    return array


def _rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Floats, Floats, Floats]:
    x, t_x, t_cal = _floats(frequency, "frequency"), _floats(recency, "recency"), _floats(T, "T")
    if not len(x) == len(t_x) == len(t_cal):
        raise ValueError(
            f"frequency, recency, T: expected equal lengths, found {len(x)}, {len(t_x)}, "
            f"{len(t_cal)}"
        )
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency: expected non-negative integers (repeat purchases)")
    if np.any(t_x < 0) or np.any(t_x > t_cal):
        raise ValueError("recency: expected 0 ≤ recency ≤ T (days), found values outside")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("recency: expected 0 for customers with frequency 0, found > 0")
    return x, t_x, t_cal


def _params(values: Sequence[float] | Floats, names: tuple[str, ...]) -> Floats:
    array = np.asarray(values, dtype=float).ravel()
    if len(array) != len(names) or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"parameters: expected {len(names)} positive numbers {names}, found {list(array)}"
        )
    return array


# ----------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(
    params: Sequence[float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Floats:
    """Log-likelihood of each customer under BG/NBD with params (r, α, a, b) (module docstring)."""
    r, alpha, a, b = _params(params, BGNBD_NAMES)
    x, t_x, t_cal = _rfm(frequency, recency, T)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + t_cal)
    a3 = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    a3[repeat] = (
        special.betaln(a + 1, b + xr - 1)
        - special.betaln(a, b)
        - (r + xr) * np.log(alpha + t_x[repeat])
    )
    result: Floats = a1 + np.logaddexp(a2, a3)
    return result


@dataclass(frozen=True)
class _Rows:
    """Distinct (x, t_x, T) rows with weights, factorised by x, t_x and T for speed."""

    x: Floats
    weight: Floats
    ux: Floats
    ix: NDArray[np.intp]
    ut: Floats
    it: NDArray[np.intp]
    uT: Floats
    iT: NDArray[np.intp]
    repeat: NDArray[np.bool_]


def _rows(x: Floats, t_x: Floats, t_cal: Floats) -> _Rows:
    frame = pd.DataFrame({"x": x, "t": t_x, "T": t_cal})
    counts = frame.value_counts(sort=False).reset_index()
    ux, ix = np.unique(counts["x"].to_numpy(float), return_inverse=True)
    ut, it = np.unique(counts["t"].to_numpy(float), return_inverse=True)
    uT, iT = np.unique(counts["T"].to_numpy(float), return_inverse=True)
    xs = counts["x"].to_numpy(float)
    return _Rows(xs, counts["count"].to_numpy(float), ux, ix, ut, it, uT, iT, xs > 0)


def _bgnbd_value_grad(theta: Floats, rows: _Rows) -> tuple[float, Floats]:
    """Σ weight · log L and its gradient with respect to (log r, log α, log a, log b)."""
    r, alpha, a, b = np.exp(theta)
    ux, x, rep = rows.ux, rows.x, rows.repeat
    dg = special.digamma
    ln_abT = np.log(alpha + rows.uT)[rows.iT]
    ln_abt = np.log(alpha + rows.ut)[rows.it]
    lnb = special.betaln(a, b)
    a1 = (special.gammaln(r + ux) - special.gammaln(r) + r * math.log(alpha))[rows.ix]
    a2 = (special.betaln(a, b + ux) - lnb)[rows.ix] - (r + x) * ln_abT
    a3 = np.full_like(x, -np.inf)
    bx1 = np.where(ux > 0, b + ux - 1, 1.0)
    a3_x = special.betaln(a + 1, bx1) - lnb
    a3[rep] = a3_x[rows.ix][rep] - (r + x[rep]) * ln_abt[rep]
    mix = np.logaddexp(a2, a3)
    w = rows.weight
    value = float(np.sum(w * (a1 + mix)))
    w2 = np.exp(a2 - mix)
    w3 = 1.0 - w2
    # derivatives by parameter (natural scale)
    d1_r = (dg(r + ux) - dg(r) + math.log(alpha))[rows.ix]
    d1_alpha = r / alpha
    d2_r, d3_r = -ln_abT, -ln_abt
    d2_alpha = -(r + x) / (alpha + rows.uT[rows.iT])
    d3_alpha = -(r + x) / (alpha + rows.ut[rows.it])
    dab = dg(a + b)
    d2_a = (dab - dg(a + b + ux))[rows.ix]
    d2_b = (dg(b + ux) - dg(a + b + ux) - dg(b) + dab)[rows.ix]
    d3_a = (dg(a + 1) - dg(a + b + ux) - dg(a) + dab)[rows.ix]
    d3_b = (dg(bx1) - dg(a + b + ux) - dg(b) + dab)[rows.ix]
    w3r = np.where(rep, w3, 0.0)
    grad = np.array(
        [
            np.sum(w * (d1_r + w2 * d2_r + w3r * d3_r)) * r,
            np.sum(w * (d1_alpha + w2 * d2_alpha + w3r * d3_alpha)) * alpha,
            np.sum(w * (w2 * d2_a + w3r * d3_a)) * a,
            np.sum(w * (w2 * d2_b + w3r * d3_b)) * b,
        ]
    )
    return value, grad


def _hessian(grad: Callable[[Floats], Floats], theta: Floats, step: float = 1e-4) -> Floats:
    """Symmetrised central-difference Hessian of a function given its gradient."""
    k = len(theta)
    hess = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * step)
    return np.asarray((hess + hess.T) / 2, dtype=float)


@dataclass(frozen=True)
class _Mle:
    theta: Floats
    log_likelihood: float
    cov_log: Floats
    iterations: int
    status: str
    reason: str


def _maximise(value_grad: ValueGrad, start: Floats, total: float, names: tuple[str, ...]) -> _Mle:
    """Maximise Σ log L on the log scale; covariance from the observed information."""

    def objective(theta: Floats) -> tuple[float, Floats]:
        value, grad = value_grad(theta)
        if not math.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return -value / total, -grad / total

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        found = optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
        )
        theta = np.asarray(found.x, dtype=float)
        value, gradient = value_grad(theta)
        value = float(value)
        steep = float(np.max(np.abs(gradient))) / total
        hess = _hessian(lambda t: -np.asarray(value_grad(t)[1]), theta)
    status, reason = "ok", ""
    cov = np.full((len(theta), len(theta)), NAN)
    at_bound = [n for n, t in zip(names, theta, strict=True) if abs(t) >= LOG_BOUND - 1e-6]
    if not (found.success or steep <= GRAD_TOL) or not math.isfinite(value):
        status = "not_converged"
        reason = f"the optimiser stopped ({found.message}) with gradient {steep:.2g} per customer"
    elif at_bound:
        status = "boundary"
        reason = (
            f"{', '.join(at_bound)} reached the bound exp(±{LOG_BOUND:g}): not identified by "
            "these data"
        )
    if np.all(np.isfinite(hess)):
        eig = np.linalg.eigvalsh(hess)
        if np.all(eig > 1e-10 * max(1.0, float(np.max(np.abs(eig))))):
            cov = np.linalg.inv(hess)
        elif status == "ok":
            status, reason = "no_standard_errors", "the information matrix is not positive definite"
    elif status == "ok":
        status, reason = "no_standard_errors", "the information matrix is not finite"
    return _Mle(theta, value, cov, int(found.nit), status, reason)


def _table(
    names: tuple[str, ...], theta: Floats, cov_log: Floats, confidence: float
) -> pd.DataFrame:
    est = np.exp(theta)
    se_log = np.sqrt(np.diag(cov_log))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return pd.DataFrame(
        {
            "parameter": list(names),
            "estimate": est,
            "se": est * se_log,
            "low": np.exp(theta - z * se_log),
            "high": np.exp(theta + z * se_log),
        }
    )


@dataclass(frozen=True)
class BGNBD:
    """A BG/NBD fit (module docstring: model, method and statuses).

    Attributes:
        r, alpha, a, b: maximum-likelihood estimates (α in days).
        se: standard errors by name, natural scale (delta method); NaN without them.
        covariance: covariance of (log r, log α, log a, log b), the inverse observed information.
        log_likelihood: Σ log L at the estimates.
        customers, repeat_buyers, rows: customers used, those with x > 0, distinct (x, t_x, T).
        iterations: optimiser iterations.
        status, reason: "ok" or why the numbers are not confident, and words.
    """

    r: float
    alpha: float
    a: float
    b: float
    se: dict[str, float]
    covariance: Floats
    log_likelihood: float
    customers: int
    repeat_buyers: int
    rows: int
    iterations: int
    status: str
    reason: str

    @property
    def params(self) -> tuple[float, float, float, float]:
        """(r, α, a, b)."""
        return (self.r, self.alpha, self.a, self.b)

    def table(self, confidence: float = 0.95) -> pd.DataFrame:
        """parameter, estimate, se, low, high (Wald interval on the log scale)."""
        return _table(BGNBD_NAMES, np.log(np.asarray(self.params)), self.covariance, confidence)


def _bgnbd_degenerate(status: str, reason: str, n: int, repeat: int, rows: int) -> BGNBD:
    se = dict.fromkeys(BGNBD_NAMES, NAN)
    cov = np.full((4, 4), NAN)
    return BGNBD(NAN, NAN, NAN, NAN, se, cov, NAN, n, repeat, rows, 0, status, reason)


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBD:
    """Fit BG/NBD by maximum likelihood (module docstring: method, standard errors, statuses).

    Args:
        frequency: repeat purchases x per customer.
        recency: days from first to last purchase t_x.
        T: days from first purchase to the end of the calibration period.

    Returns:
        A :class:`BGNBD`; too few customers or no repeat buyer give a status and NaN.
    """
    x, t_x, t_cal = _rfm(frequency, recency, T)
    n, repeat = len(x), int(np.sum(x > 0))
    if n < MIN_CUSTOMERS:
        return _bgnbd_degenerate(
            "not_enough_data", f"{n} customers, at least {MIN_CUSTOMERS} needed", n, repeat, 0
        )
    if repeat == 0:
        return _bgnbd_degenerate(
            "no_repeat_buyers",
            "no customer bought twice: the repeat-purchase and dropout processes cannot be "
            "estimated",
            n,
            0,
            0,
        )
    rows = _rows(x, t_x, t_cal)
    rate = max(float(x.sum()) / max(float(t_cal.sum()), 1e-9), 1e-6)
    start = np.log(np.array([1.0, 1.0 / rate, 1.0, 3.0]))
    mle = _maximise(lambda t: _bgnbd_value_grad(t, rows), start, float(n), BGNBD_NAMES)
    est = np.exp(mle.theta)
    se_nat = est * np.sqrt(np.diag(mle.cov_log))
    status, reason = mle.status, mle.reason
    dropout = float(est[2] / (est[2] + est[3]))
    if status != "not_converged" and dropout < NO_DROPOUT:
        status = "no_dropout"
        reason = (
            f"the mean dropout probability per purchase a/(a+b) = {dropout:.1g} ≈ 0: the data "
            "show no customer leaving, so a and b are not identified (only a/(a+b) → 0) and "
            "BG/NBD reduces to the NBD model (P(alive) ≈ 1); predicted purchases are the NBD's"
        )
    return BGNBD(
        r=float(est[0]),
        alpha=float(est[1]),
        a=float(est[2]),
        b=float(est[3]),
        se=dict(zip(BGNBD_NAMES, (float(s) for s in se_nat), strict=True)),
        covariance=mle.cov_log,
        log_likelihood=mle.log_likelihood,
        customers=n,
        repeat_buyers=repeat,
        rows=len(rows.x),
        iterations=mle.iterations,
        status=status,
        reason=reason,
    )


def _fit_params(fit: BGNBD | Sequence[float]) -> tuple[float, float, float, float]:
    values = fit.params if isinstance(fit, BGNBD) else tuple(fit)
    if isinstance(fit, BGNBD) and not all(math.isfinite(v) for v in values):
        return (NAN, NAN, NAN, NAN)
    r, alpha, a, b = _params(values, BGNBD_NAMES)
    return float(r), float(alpha), float(a), float(b)


def _new_customer(
    r: float | Floats, alpha: float | Floats, a: float, b: float | Floats, t: float
) -> Floats:
    """(a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))], vectorised over r, α, b."""
    r_, alpha_, b_ = np.asarray(r, float), np.asarray(alpha, float), np.asarray(b, float)
    if t <= 0:
        return np.zeros(np.broadcast(r_, alpha_, b_).shape)
    z = t / (alpha_ + t)
    with np.errstate(all="ignore"):
        hyp = special.hyp2f1(r_, b_, a + b_ - 1, z)
        value = (a + b_ - 1) / (a - 1) * (1 - np.exp(r_ * np.log(alpha_ / (alpha_ + t))) * hyp)
    return np.where(np.isfinite(value), value, NAN)


def expected_purchases_new(fit: BGNBD | Sequence[float], t: float | ArrayLike) -> Floats:
    """Expected purchases of a new customer in (0, t] days, E[X(t)] (eq. 7).

    >>> round(float(expected_purchases_new((0.25, 4.0, 0.8, 2.5), 30.0)[0]), 4)
    1.1036
    """
    r, alpha, a, b = _fit_params(fit)
    ts = np.atleast_1d(np.asarray(t, dtype=float))
    if not math.isfinite(r):
        return np.full(ts.shape, NAN)
    return np.array([float(_new_customer(r, alpha, a, b, float(v))) for v in ts])


def p_alive(
    fit: BGNBD | Sequence[float], frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Floats:
    """P(the customer is still active at T | x, t_x, T); 1 for x = 0 (module docstring)."""
    r, alpha, a, b = _fit_params(fit)
    x, t_x, t_cal = _rfm(frequency, recency, T)
    if not math.isfinite(r):
        return np.full(x.shape, NAN)
    bx1 = np.where(x > 0, b + x - 1, 1.0)
    log_odds = np.log(a / bx1) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
    result: Floats = np.where(x > 0, special.expit(-log_odds), 1.0)
    return result


def _conditional(
    r: float, alpha: float, a: float, b: float, x: Floats, t_x: Floats, t_cal: Floats, t: float
) -> Floats:
    bx1 = np.where(x > 0, b + x - 1, 1.0)
    log_odds = np.log(a / bx1) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
    alive = np.where(x > 0, special.expit(-log_odds), 1.0)
    return alive * _new_customer(r + x, alpha + t_cal, a, b + x, t)


def expected_purchases(
    fit: BGNBD | Sequence[float],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    t: float,
) -> Floats:
    """Expected purchases in (T, T+t] given (x, t_x, T), E[Y(t) | x, t_x, T] (eq. 10).

    >>> [round(float(v), 4) for v in
    ...  expected_purchases((0.25, 4.0, 0.8, 2.5), [0, 2], [0.0, 10.0], [30.0, 30.0], 30.0)]
    [0.1971, 0.62]
    """
    r, alpha, a, b = _fit_params(fit)
    x, t_x, t_cal = _rfm(frequency, recency, T)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"t: expected a non-negative number of days, found {t}")
    if not math.isfinite(r):
        return np.full(x.shape, NAN)
    rows = pd.DataFrame({"x": x, "t": t_x, "T": t_cal})
    keys = rows.drop_duplicates()
    value = _conditional(
        r,
        alpha,
        a,
        b,
        keys["x"].to_numpy(float),
        keys["t"].to_numpy(float),
        keys["T"].to_numpy(float),
        t,
    )
    merged = rows.merge(keys.assign(value=value), on=["x", "t", "T"], how="left", sort=False)
    result: Floats = merged["value"].to_numpy(float)
    return result


# ----------------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    params: Sequence[float], frequency: ArrayLike, monetary: ArrayLike
) -> Floats:
    """Log-likelihood of each repeat buyer's mean value m under Gamma-Gamma (p, q, γ)."""
    p, q, gamma = _params(params, GG_NAMES)
    x, m = _floats(frequency, "frequency"), _floats(monetary, "monetary")
    if len(x) != len(m):
        raise ValueError(f"frequency, monetary: expected equal lengths, found {len(x)}, {len(m)}")
    if np.any(x <= 0) or np.any(m <= 0):
        raise ValueError("frequency, monetary: expected x > 0 and m > 0 (repeat buyers only)")
    px = p * x
    result: Floats = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
    return result


def _gg_value_grad(theta: Floats, x: Floats, m: Floats) -> tuple[float, Floats]:
    p, q, gamma = np.exp(theta)
    px = p * x
    lgm = np.log(gamma + m * x)
    lm, lx = np.log(m), np.log(x)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(gamma)
        + (px - 1) * lm
        + px * lx
        - (px + q) * lgm
    )
    dpq = special.digamma(px + q)
    grad = np.array(
        [
            np.sum(x * (dpq - special.digamma(px) + lm + lx - lgm)) * p,
            np.sum(dpq - special.digamma(q) + math.log(gamma) - lgm) * q,
            np.sum(q / gamma - (px + q) / (gamma + m * x)) * gamma,
        ]
    )
    return float(np.sum(ll)), grad


@dataclass(frozen=True)
class GammaGamma:
    """A Gamma-Gamma fit (module docstring: model, method and statuses).

    Attributes:
        p, q, gamma: maximum-likelihood estimates (γ in money units).
        se: standard errors by name, natural scale; NaN without them.
        covariance: covariance of (log p, log q, log γ).
        log_likelihood: Σ log L at the estimates.
        customers: repeat buyers used (x > 0, m > 0); excluded: x > 0 with m ≤ 0.
        correlation: Pearson ρ of frequency and monetary among those customers.
        mean_value: population mean value per purchase p γ / (q − 1) (NaN when q ≤ 1).
        status, reason: "ok" or why not, and words.
    """

    p: float
    q: float
    gamma: float
    se: dict[str, float]
    covariance: Floats
    log_likelihood: float
    customers: int
    excluded: int
    correlation: float
    mean_value: float
    iterations: int
    status: str
    reason: str

    @property
    def params(self) -> tuple[float, float, float]:
        """(p, q, γ)."""
        return (self.p, self.q, self.gamma)

    def table(self, confidence: float = 0.95) -> pd.DataFrame:
        """parameter, estimate, se, low, high (Wald interval on the log scale)."""
        return _table(GG_NAMES, np.log(np.asarray(self.params)), self.covariance, confidence)


def fit_gamma_gamma(
    frequency: ArrayLike, monetary: ArrayLike, *, max_correlation: float = MAX_CORRELATION
) -> GammaGamma:
    """Fit Gamma-Gamma on the repeat buyers (x > 0, m > 0) by maximum likelihood.

    Customers with x = 0 are ignored (their m is not defined); repeat buyers with m ≤ 0 are
    excluded and counted. Module docstring: method, the correlation check and statuses.
    """
    if not 0 < max_correlation <= 1:
        raise ValueError(f"max_correlation: expected a number in (0, 1], found {max_correlation}")
    x_all = _floats(frequency, "frequency")
    m_all = np.asarray(monetary, dtype=float).ravel()
    if len(x_all) != len(m_all):
        raise ValueError(
            f"frequency, monetary: expected equal lengths, found {len(x_all)}, {len(m_all)}"
        )
    if np.any(x_all < 0) or np.any(x_all != np.round(x_all)):
        raise ValueError("frequency: expected non-negative integers (repeat purchases)")
    repeat = x_all > 0
    if np.any(~np.isfinite(m_all[repeat])):
        raise ValueError("monetary: expected finite values for customers with frequency > 0")
    keep = repeat & (m_all > 0)
    x, m = x_all[keep], m_all[keep]
    n, excluded = len(x), int(np.sum(repeat & ~keep))
    nan3 = dict.fromkeys(GG_NAMES, NAN)
    cov_nan = np.full((3, 3), NAN)
    if n < MIN_CUSTOMERS:
        return GammaGamma(
            NAN,
            NAN,
            NAN,
            nan3,
            cov_nan,
            NAN,
            n,
            excluded,
            NAN,
            NAN,
            0,
            "not_enough_data",
            f"{n} repeat buyers with a positive value, at least {MIN_CUSTOMERS} needed",
        )
    with np.errstate(all="ignore"):
        rho = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else NAN
    mean_m, var_m = float(np.mean(m)), float(np.var(m))
    # start: q = 3, p from the coefficient of variation of m (var ≈ mean²/(p·x̄) for large q)
    p0 = min(max(mean_m**2 / max(var_m * float(np.mean(x)), 1e-12), 0.1), 100.0)
    start = np.log(np.array([p0, 3.0, 2.0 * mean_m / p0]))
    mle = _maximise(lambda t: _gg_value_grad(t, x, m), start, float(n), GG_NAMES)
    p, q, gamma = (float(v) for v in np.exp(mle.theta))
    se_nat = np.exp(mle.theta) * np.sqrt(np.diag(mle.cov_log))
    status, reason = mle.status, mle.reason
    if status == "ok" and math.isfinite(rho) and abs(rho) >= max_correlation:
        status = "frequency_value_correlated"
        reason = (
            f"frequency and value per purchase correlate (ρ = {rho:.2f}, |ρ| ≥ "
            f"{max_correlation:g}): the model assumes they are independent"
        )
    return GammaGamma(
        p=p,
        q=q,
        gamma=gamma,
        se=dict(zip(GG_NAMES, (float(s) for s in se_nat), strict=True)),
        covariance=mle.cov_log,
        log_likelihood=mle.log_likelihood,
        customers=n,
        excluded=excluded,
        correlation=rho,
        mean_value=p * gamma / (q - 1) if q > 1 else NAN,
        iterations=mle.iterations,
        status=status,
        reason=reason,
    )


def expected_value(
    fit: GammaGamma | Sequence[float], frequency: ArrayLike, monetary: ArrayLike
) -> Floats:
    """E[value per purchase | m, x] = p(γ + m x)/(p x + q − 1); p γ/(q − 1) for x = 0 or m ≤ 0.

    NaN when q ≤ 1 (the mean does not exist).

    >>> [round(float(v), 2) for v in expected_value((6.0, 4.0, 15.0), [0, 2], [0.0, 40.0])]
    [30.0, 38.0]
    """
    values = fit.params if isinstance(fit, GammaGamma) else tuple(fit)
    x = _floats(frequency, "frequency")
    m = np.nan_to_num(np.asarray(monetary, dtype=float).ravel(), nan=0.0)
    if len(x) != len(m):
        raise ValueError(f"frequency, monetary: expected equal lengths, found {len(x)}, {len(m)}")
    if not all(math.isfinite(v) for v in values) or values[1] <= 1:
        return np.full(x.shape, NAN)
    p, q, gamma = _params(values, GG_NAMES)
    own = (x > 0) & (m > 0)
    xs, ms = np.where(own, x, 0.0), np.where(own, m, 0.0)
    result: Floats = p * (gamma + ms * xs) / (p * xs + q - 1)
    return result


# ----------------------------------------------------------------------------- CLV


def _check_days(value: float, name: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive number of days, found {value!r}")
    return float(value)


def _columns(frame: pd.DataFrame, names: Sequence[str]) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(
            f"frame: expected columns {list(names)}, found {list(frame.columns)} "
            f"(missing {missing})"
        )


@dataclass(frozen=True)
class CLV:
    """Per-customer predictions over a horizon (module docstring: definitions).

    Attributes:
        table: the input frame's index with frequency, recency, T, monetary, p_alive,
            purchases (expected in the horizon), value (expected per purchase) and clv.
        bgnbd, gamma_gamma: the fits used.
        horizon, margin, daily_discount: the options.
        status, reason: "ok" when both fits are ok; else the first non-ok status and why.
    """

    table: pd.DataFrame
    bgnbd: BGNBD
    gamma_gamma: GammaGamma
    horizon: float
    margin: float
    daily_discount: float
    status: str
    reason: str
    totals: dict[str, float] = field(default_factory=dict)


def _discounted(
    fit: BGNBD, x: Floats, t_x: Floats, t_cal: Floats, horizon: float, d: float
) -> Floats:
    keys = pd.DataFrame({"x": x, "t": t_x, "T": t_cal})
    uniq = keys.drop_duplicates()
    ux, ut, uT = (uniq[c].to_numpy(float) for c in ("x", "t", "T"))
    r, alpha, a, b = fit.params
    grid = np.minimum(np.arange(1, math.ceil(horizon) + 1, dtype=float), horizon)
    total = np.zeros(len(uniq))
    previous = np.zeros(len(uniq))
    for k, day in enumerate(grid, start=1):
        current = _conditional(r, alpha, a, b, ux, ut, uT, float(day))
        total += (current - previous) / (1 + d) ** k
        previous = current
    merged = keys.merge(uniq.assign(value=total), on=["x", "t", "T"], how="left", sort=False)
    result: Floats = merged["value"].to_numpy(float)
    return result


def clv(
    frame: pd.DataFrame,
    *,
    horizon: float,
    margin: float = 1.0,
    daily_discount: float = 0.0,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    monetary: str = "monetary",
    max_correlation: float = MAX_CORRELATION,
) -> CLV:
    """Fit BG/NBD and Gamma-Gamma on a per-customer frame and predict over ``horizon`` days.

    Args:
        frame: one row per customer with the four columns named by the keywords.
        frequency: column of repeat purchases x.
        recency: column of t_x, days from the first to the last purchase.
        T: column of days from the first purchase to the end of the calibration period.
        monetary: column of m, the mean value of the repeat purchases (ignored when x = 0).
        horizon: days after the end of the calibration period.
        margin: share of value kept as profit (1 = revenue), in (0, 1].
        daily_discount: discount rate per day (0 = none), ≥ 0.
        max_correlation: |ρ(frequency, monetary)| flagged (see :func:`fit_gamma_gamma`).

    Returns:
        A :class:`CLV`; its ``totals`` sum purchases and clv over customers.
    """
    horizon = _check_days(horizon, "horizon")
    if not 0 < margin <= 1:
        raise ValueError(f"margin: expected a share in (0, 1], found {margin}")
    if not math.isfinite(daily_discount) or daily_discount < 0:
        raise ValueError(f"daily_discount: expected a rate ≥ 0, found {daily_discount}")
    _columns(frame, [frequency, recency, T, monetary])
    x, t_x, t_cal = _rfm(frame[frequency], frame[recency], frame[T])
    m = frame[monetary].to_numpy(float)
    bg = fit_bgnbd(x, t_x, t_cal)
    gg = fit_gamma_gamma(x, np.where(x > 0, m, 0.0), max_correlation=max_correlation)
    alive = p_alive(bg, x, t_x, t_cal)
    if daily_discount > 0 and math.isfinite(bg.r):
        purchases = _discounted(bg, x, t_x, t_cal, horizon, daily_discount)
    else:
        purchases = expected_purchases(bg, x, t_x, t_cal, horizon)
    value = expected_value(gg, x, np.where(x > 0, m, 0.0))
    table = pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": t_cal,
            "monetary": m,
            "p_alive": alive,
            "purchases": purchases,
            "value": value,
            "clv": margin * value * purchases,
        },
        index=frame.index,
    )
    status, reason = "ok", ""
    for name, st, why in (("BG/NBD", bg.status, bg.reason), ("Gamma-Gamma", gg.status, gg.reason)):
        if st != "ok" and status == "ok":
            status, reason = st, f"{name}: {why}"
    totals = {
        "customers": float(len(table)),
        "purchases": float(table["purchases"].sum(min_count=1)),
        "clv": float(table["clv"].sum(min_count=1)),
    }
    return CLV(table, bg, gg, horizon, margin, daily_discount, status, reason, totals)


# ----------------------------------------------------------------------------- hold-out


@dataclass(frozen=True)
class Holdout:
    """Calibration fit against the hold-out period (module docstring: definitions).

    Attributes:
        table: per frequency group: group ("0", "1", …, "7+"), customers, predicted, actual
            (sums over the group's customers), predicted_mean, actual_mean, error
            (predicted_mean − actual_mean).
        fit: the BG/NBD fit on the calibration period.
        predicted, actual: totals over all customers; total_error = predicted ÷ actual − 1.
        group_mae: Σ_g n_g |predicted_mean_g − actual_mean_g| ÷ Σ n_g.
        customer_mae: mean over customers of |predicted − actual|.
        status, reason: the fit's status, or ``no_holdout_purchases`` when actual is 0.
    """

    table: pd.DataFrame
    fit: BGNBD
    predicted: float
    actual: float
    total_error: float
    group_mae: float
    customer_mae: float
    horizon: float
    status: str
    reason: str


def holdout(
    frame: pd.DataFrame,
    *,
    horizon: float,
    actual: str = "holdout_purchases",
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    max_group: int = 7,
) -> Holdout:
    """Fit BG/NBD on calibration columns and compare predicted and actual hold-out purchases.

    Args:
        frame: one row per customer present in the calibration period, with x, t_x, T of the
            calibration period and ``actual``, the purchases in the ``horizon`` days after it.
        horizon: length of the hold-out period in days.
        actual: column of the purchases in the hold-out period (repeat purchases counted as in
            ``frequency``: purchase days).
        frequency: column of calibration repeat purchases x.
        recency: column of calibration recency t_x (days).
        T: column of calibration T (days).
        max_group: frequencies ≥ this form the last group ("7+").
    """
    horizon = _check_days(horizon, "horizon")
    if not isinstance(max_group, int) or max_group < 1:
        raise ValueError(f"max_group: expected an integer ≥ 1, found {max_group!r}")
    _columns(frame, [frequency, recency, T, actual])
    x, t_x, t_cal = _rfm(frame[frequency], frame[recency], frame[T])
    observed = _floats(frame[actual], actual)
    if np.any(observed < 0):
        raise ValueError(f"{actual}: expected non-negative purchase counts")
    fit = fit_bgnbd(x, t_x, t_cal)
    predicted = expected_purchases(fit, x, t_x, t_cal, horizon)
    group = np.minimum(x, max_group).astype(int)
    work = pd.DataFrame({"g": group, "pred": predicted, "act": observed})
    agg = work.groupby("g", sort=True).agg(
        customers=("pred", "size"), predicted=("pred", "sum"), actual=("act", "sum")
    )
    agg = agg.reindex(range(max_group + 1), fill_value=0)
    table = pd.DataFrame(
        {
            "group": [str(g) if g < max_group else f"{max_group}+" for g in agg.index],
            "customers": agg["customers"].to_numpy(int),
            "predicted": agg["predicted"].to_numpy(float),
            "actual": agg["actual"].to_numpy(float),
        }
    )
    with np.errstate(all="ignore"):
        table["predicted_mean"] = table["predicted"] / table["customers"].replace(0, np.nan)
        table["actual_mean"] = table["actual"] / table["customers"].replace(0, np.nan)
    table["error"] = table["predicted_mean"] - table["actual_mean"]
    pred_total, act_total = float(np.sum(predicted)), float(np.sum(observed))
    n = table["customers"].to_numpy(float)
    used = n > 0
    group_mae = float(np.sum(n[used] * np.abs(table["error"].to_numpy(float)[used])) / n.sum())
    status, reason = fit.status, fit.reason
    total_error = pred_total / act_total - 1 if act_total > 0 else NAN
    if status == "ok" and act_total == 0:
        status, reason = "no_holdout_purchases", "no purchase in the hold-out period"
    return Holdout(
        table=table,
        fit=fit,
        predicted=pred_total,
        actual=act_total,
        total_error=total_error,
        group_mae=group_mae,
        customer_mae=float(np.mean(np.abs(predicted - observed))),
        horizon=horizon,
        status=status,
        reason=reason,
    )


__all__ = [
    "BGNBD",
    "CLV",
    "GammaGamma",
    "Holdout",
    "bgnbd_log_likelihood",
    "clv",
    "expected_purchases",
    "expected_purchases_new",
    "expected_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "holdout",
    "p_alive",
]
