"""Difference in differences for campaigns that were not randomised (a city, some days).

The input is a balanced panel: one row per ``unit`` (a city) and ``day`` with the metric's
``value`` on that day (0 when nothing happened). ``treated`` units received the campaign on
``campaign_days``; every other unit is a comparison unit and every other day of the panel
an "other day". Write T/K for the treated/comparison units, C/O for campaign/other days and

    c_T = Σ_{T×C} y ÷ (n_T · n_C)   (treated rate per unit-day on campaign days)
    o_T = Σ_{T×O} y ÷ (n_T · n_O),  c_K, o_K the same for the comparison units.

Estimands (per treated unit-day):

- ``ratio`` R = (c_T ÷ o_T) ÷ (c_K ÷ o_K): the ratio of ratios, ``naive_ratio`` (c_T ÷ o_T,
  the before/after ratio of the treated) divided by ``comparison_ratio`` (c_K ÷ o_K, the part
  of it that trend, weekday and every other common change explain). It is exp(β) of a Poisson
  GLM with unit fixed effects, a campaign-period effect and β on treated × campaign on the
  table of unit × (campaign, other) sums (the test fits it with statsmodels), and it
  estimates the same R as a Poisson GLM with unit *and day* fixed effects: every unit is seen
  on every day, so under y_it = a_i · g_t · R^{treated × campaign} the day factors g_t enter
  both groups' ratios identically and cancel. Assumption: parallel trends *in proportions*
  (without the campaign the treated rate would have moved by the same factor as the
  comparison rate).
- ``additive`` (``parallel="proportional"``, the default) = c_T − o_T · (c_K ÷ o_K) =
  c_T · (1 − 1/R): the treated campaign-day rate minus its counterfactual, the treated
  other-day rate moved by the comparison's factor. Same assumption as the ratio, so the two
  always agree in sign.
- ``additive`` (``parallel="levels"``) = the coefficient of treated × campaign day in an OLS
  regression with unit and day fixed effects; in this balanced panel it equals the 2×2
  difference of means (c_T − o_T) − (c_K − o_K). Assumption: parallel trends *in levels*
  (the same number of extra orders everywhere on a busy day). With units of very different
  size and common multiplicative day effects (a weekday cycle of +10% everywhere) this
  assumption fails and the levels coefficient is biased by (a_T − a_K) · (ḡ_C − ḡ_O); hence
  the proportional default.

Intervals (``interval_method`` says which was used):

- cluster-robust by unit when there are at least ``MANY_UNITS`` (10) treated and 10
  comparison units: for ``levels`` the statsmodels OLS fit with ``cov_type="cluster"``
  (groups = units, t with G − 1 degrees of freedom); for the proportional estimates the
  same sandwich by the delta method on the unit sums (:func:`_cluster_proportional`: each
  unit's residual from its group's common ratio, so differences in size between units are
  not taken for noise; scaled by n/(n − 1); the ratio on the log scale), t with the
  effective degrees of freedom of units of unequal size (Satterthwaite, at most G − 1).
- placebo in time otherwise (few treated units: cluster-robust intervals then under-cover
  badly, Conley & Taber 2011, MacKinnon & Webb 2017). Every set of n_C other days (all
  sets, or ``MAX_PLACEBO_SETS`` drawn with seed 0) is taken as fake campaign days on the
  panel without the real campaign days; the fake estimates (true effect 0) estimate the
  distribution of the estimator's error. Errors are studentised by :func:`noise_scale`
  (√(treated target-day sum + 1): variance ∝ mean, as for counts and revenue), so busy
  and quiet days compare. Interval = estimate − scale × the conformal order statistics of
  the fake errors (:func:`placebo_quantiles`), the ratio on the log scale. Assumption:
  the treated-versus-comparison noise is exchangeable across days (a long contiguous
  campaign with autocorrelated noise would need contiguous fake blocks). The p-value is
  (1 + #{|fake| ≥ |estimate|}) ÷ (1 + sets) on the studentised scale. Fewer than
  2/(1 − confidence) − 1 sets give NaN bounds (status ``not_enough_data``).

Degenerate input (no treated or no comparison unit, no campaign or no other day, treated
units with no activity, negative values for a ratio) gives a status and NaN, never an
exception; malformed input (missing columns, duplicate or missing unit-days, non-finite
values) is a ValueError.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Hashable, Iterable
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.testing import check_confidence

Parallel = Literal["proportional", "levels"]
PARALLEL: tuple[str, ...] = ("proportional", "levels")
MANY_UNITS = 10  # treated and comparison units needed for cluster-robust intervals
MAX_PLACEBO_SETS = 5000  # fake campaign-day sets beyond which they are sampled
NAN = math.nan


@dataclass(frozen=True)
class DiD:
    """A campaign's difference-in-differences estimate (module docstring: definitions).

    Attributes:
        additive, additive_low, additive_high, additive_p: extra metric per treated
            unit-day on campaign days, its interval and two-sided p-value.
        ratio, ratio_low, ratio_high, ratio_p: the ratio of ratios R, its interval, p-value.
        naive_ratio: treated campaign-day rate ÷ treated other-day rate (before/after).
        comparison_ratio: the same ratio on the comparison units; R = naive ÷ comparison.
        interval_method: how the intervals and p-values were obtained.
        method: the estimator and its assumption in words.
        treated_units, comparison_units, campaign_days, other_days: what was used.
        status: "ok", "empty_arm", "not_enough_data", "all_zero" or "negative_values".
        reason: words when status is not "ok", else "".
    """

    additive: float
    additive_low: float
    additive_high: float
    additive_p: float
    ratio: float
    ratio_low: float
    ratio_high: float
    ratio_p: float
    naive_ratio: float
    comparison_ratio: float
    interval_method: str
    method: str
    treated_units: int
    comparison_units: int
    campaign_days: int
    other_days: int
    status: str
    reason: str


@dataclass(frozen=True)
class Pretrend:
    """A differential linear trend of treated against comparison units (see :func:`pretrend`).

    Attributes:
        slope, low, high: the trend per day and its interval.
        p_value: two-sided p-value of no differential trend.
        days: days the trend was fitted on.
        method: the model in words.
        status, reason: as in :class:`DiD`.
    """

    slope: float
    low: float
    high: float
    p_value: float
    days: int
    method: str
    status: str
    reason: str


@dataclass(frozen=True)
class Grid:
    """A validated panel as a units × days matrix with the treated and campaign masks."""

    values: np.ndarray  # units × days, float
    units: list[Hashable]
    days: np.ndarray  # int, sorted
    treated: np.ndarray  # bool per unit
    campaign: np.ndarray  # bool per day


def to_grid(
    panel: pd.DataFrame, treated: Collection[Hashable], campaign_days: Collection[int]
) -> Grid:
    """Check the panel (columns, one value per unit-day, finite) and pivot it to a matrix.

    Treated units or campaign days absent from the panel are ignored (the callers report
    what was used). Raises ValueError on malformed input.
    """
    if isinstance(treated, str | bytes) or not isinstance(treated, Iterable):
        raise ValueError(f"treated must be a collection of units; got {treated!r}")
    if isinstance(campaign_days, str | bytes) or not isinstance(campaign_days, Iterable):
        raise ValueError(f"campaign_days must be a collection of days; got {campaign_days!r}")
    missing = [c for c in ("unit", "day", "value") if c not in panel.columns]
    if missing:
        raise ValueError(
            f"panel needs columns unit, day, value; missing {missing} in {list(panel.columns)}"
        )
    if len(panel) and not pd.api.types.is_integer_dtype(panel["day"]):
        raise ValueError(f"panel day must hold integers (day numbers); got {panel['day'].dtype}")
    value = pd.to_numeric(panel["value"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(value).all():
        raise ValueError(
            f"panel value must be finite numbers; {int((~np.isfinite(value)).sum())} are not"
        )
    if panel["unit"].isna().any() or panel["day"].isna().any():
        raise ValueError("panel unit and day must not be missing")
    if panel.duplicated(["unit", "day"]).any():
        dup = panel.loc[panel.duplicated(["unit", "day"]), ["unit", "day"]].iloc[0].tolist()
        raise ValueError(f"panel must hold one row per unit and day; {dup} repeats")
    unit_codes, units = pd.factorize(panel["unit"], sort=True)
    day_codes, days = pd.factorize(panel["day"], sort=True)
    matrix = np.full((len(units), len(days)), np.nan)
    matrix[unit_codes, day_codes] = value
    if np.isnan(matrix).any():
        raise ValueError(
            f"panel must hold every unit × day (0 where nothing happened); "
            f"{int(np.isnan(matrix).sum())} of {matrix.size} are missing"
        )
    wanted_units = set(treated)
    wanted_days = {int(d) for d in campaign_days}
    return Grid(
        values=matrix,
        units=list(units),
        days=np.asarray(days, dtype=int),
        treated=np.array([u in wanted_units for u in units], dtype=bool),
        campaign=np.isin(np.asarray(days, dtype=int), list(wanted_days)),
    )


def check_parallel(parallel: str) -> None:
    """``parallel`` is "proportional" or "levels", or a ValueError."""
    if parallel not in PARALLEL:
        raise ValueError(f"parallel must be one of {PARALLEL}; got {parallel!r}")


def effects(
    td: ArrayLike,
    tb: ArrayLike,
    kd: ArrayLike,
    kb: ArrayLike,
    n_t: int,
    n_k: int,
    n_d: int,
    n_b: int,
    parallel: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Additive effect and ratio of ratios from the four group sums (elementwise).

    ``td``/``tb``: treated sums over the target (campaign) and baseline (other) days;
    ``kd``/``kb`` the same for the comparison units; ``n_*`` the counts. A zero baseline
    or comparison rate gives NaN (the ratio is then undefined).
    """
    td_, tb_, kd_, kb_ = (np.asarray(a, dtype=float) for a in (td, tb, kd, kb))
    c_t, o_t = td_ / (n_t * n_d), tb_ / (n_t * n_b)
    c_k, o_k = kd_ / (n_k * n_d), kb_ / (n_k * n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        comparison = np.where((o_k > 0) & (c_k > 0), c_k / o_k, np.nan)
        ratio = np.where(o_t > 0, (c_t / o_t) / comparison, np.nan)
        additive = c_t - o_t - (c_k - o_k) if parallel == "levels" else c_t - o_t * comparison
    return additive, ratio


@dataclass(frozen=True)
class _Estimate:
    additive: float
    additive_low: float
    additive_high: float
    additive_p: float
    ratio: float
    ratio_low: float
    ratio_high: float
    ratio_p: float
    naive_ratio: float
    comparison_ratio: float
    interval_method: str
    status: str
    reason: str


def _fake_sets(baseline: np.ndarray, size: int) -> np.ndarray:
    """Index sets of ``size`` baseline days: all of them, or MAX_PLACEBO_SETS drawn (seed 0)."""
    m = len(baseline)
    if size < 1 or m - size < 1:
        return np.empty((0, max(size, 0)), dtype=int)
    if math.comb(m, size) <= MAX_PLACEBO_SETS:
        every: np.ndarray = baseline[np.array(list(combinations(range(m), size)), dtype=int)]
        return every
    rng = np.random.default_rng(0)
    picks = np.argsort(rng.random((MAX_PLACEBO_SETS, m)), axis=1)[:, :size]
    drawn: np.ndarray = baseline[picks]
    return drawn


def placebo_p_value(placebo: ArrayLike, observed: float, *, log: bool = False) -> float:
    """Two-sided p-value of an estimate among placebo estimates (true effect 0).

    p = (1 + #{|placebo| ≥ |observed|}) ÷ (1 + number of placebos); with ``log=True`` the
    values are ratios compared on the log scale (|log r|). NaN placebos are dropped (±inf
    are extremes and stay); none
    left, or a NaN observed value, gives NaN.

    Example:
        >>> placebo_p_value([0.1, -0.4, 0.3, -0.2], 0.35)
        0.4
    """
    values = np.asarray(placebo, dtype=float)
    values = values[~np.isnan(values)]  # ±inf are legitimate extremes
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.log(values[values > 0])
            observed = math.log(observed) if observed > 0 else NAN
    if not len(values) or not math.isfinite(observed):
        return NAN
    extreme = int((np.abs(values) >= abs(observed) - 1e-12).sum())
    return (1 + extreme) / (1 + len(values))


def noise_scale(td: ArrayLike) -> np.ndarray:
    """√(treated target-day sum + 1): the noise scale of an estimate when variance ∝ mean.

    Counts (Poisson, or over-dispersed by a constant factor) and sums of order values
    (compound Poisson) have variance proportional to their mean, and the target-day sum
    of the treated units dominates the error of an effect on a few days; dividing fake
    and real errors by this scale makes them comparable although the days differ in level
    (weekday, trend, the campaign's own lift). The + 1 keeps a set with no treated
    activity finite.
    """
    scale: np.ndarray = np.sqrt(np.maximum(np.asarray(td, dtype=float), 0.0) + 1.0)
    return scale


def placebo_quantiles(errors: ArrayLike, confidence: float) -> tuple[float, float]:
    """Order statistics bounding the central ``confidence`` share of placebo errors.

    With n placebo errors and k = ⌊(1 − confidence)/2 · (n + 1)⌋ the k-th smallest and
    k-th largest: a new error exchangeable with the placebos falls between them with
    probability at least (n + 1 − 2k)/(n + 1) ≥ confidence (a conformal bound; interpolated
    quantiles would under-cover with few placebos). NaN values are dropped, ±inf kept
    (an unbounded side). NaN when k < 1, i.e. fewer than
    2/(1 − confidence) − 1 placebos.

    Example:
        >>> placebo_quantiles(range(1, 40), 0.95)
        (1.0, 39.0)
    """
    values = np.sort(np.asarray(errors, dtype=float))
    values = values[~np.isnan(values)]  # ±inf are legitimate extremes
    k = math.floor((1 - confidence) / 2 * (len(values) + 1) + 1e-9)
    if k < 1:
        return NAN, NAN
    return float(values[k - 1]), float(values[len(values) - k])


def _placebo_in_time(
    t_day: np.ndarray,
    k_day: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    n_t: int,
    n_k: int,
    parallel: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fake effects (additive, ratio), their noise scales and the day sets.

    Every set of len(target) baseline days is taken as the campaign against the remaining
    baseline days.
    """
    sets = _fake_sets(np.flatnonzero(baseline), int(target.sum()))
    if not len(sets):
        return np.empty(0), np.empty(0), np.empty(0), sets
    td, kd = t_day[sets].sum(axis=1), k_day[sets].sum(axis=1)
    tb, kb = t_day[baseline].sum() - td, k_day[baseline].sum() - kd
    n_d = sets.shape[1]
    n_b = int(baseline.sum()) - n_d
    additive, ratio = effects(td, tb, kd, kb, n_t, n_k, n_d, n_b, parallel)
    return additive, ratio, noise_scale(td), sets


def _cluster_proportional(
    values: np.ndarray, treated: np.ndarray, target: np.ndarray, baseline: np.ndarray
) -> tuple[float, float, float, float]:
    """Cluster-robust (by unit) standard errors of the proportional additive and of log R.

    Delta method on the unit sums D_i (target days) and B_i (baseline days). log R =
    log ΣD_T − log ΣB_T − log ΣD_K + log ΣB_K, so a unit's influence is D_i/ΣD − B_i/ΣB
    of its group (sign − for comparison units); these are residuals from the group's common
    ratio, so differences in size between units are not taken for noise. Each group's
    part is Σ influence² · n/(n − 1): V_T and V_K, and Var(log R) = V_T + V_K. The additive
    effect c_T − counterfactual moves with log c_T and −log(counterfactual) one for one, so
    Var(additive) = c_T² · V_T + counterfactual² · V_K. The estimand is the treated units'
    own effect (their sample average).

    Degrees of freedom: units of very different size are not equally informative — a few
    big cities carry most of the variance, so there are effectively fewer clusters
    (Carter, Schnepel & Steigerwald 2017). Each group's part is a sum of independent
    squared influences with variances w_i ∝ D_i/ΣD² + B_i/ΣB² (variance ∝ mean), so its
    Satterthwaite degrees of freedom are (Σw)²/Σw² · (n − 1)/n (n − 1 for equal units);
    the two parts combine by Welch–Satterthwaite, capped at G − 1.
    Returns the additive and log-ratio standard errors and their degrees of freedom.
    """
    d_sum, b_sum = values[:, target].sum(axis=1), values[:, baseline].sum(axis=1)
    n_t, n_k = int(treated.sum()), int((~treated).sum())
    n_d, n_b = int(target.sum()), int(baseline.sum())
    s_td, s_tb = d_sum[treated].sum(), b_sum[treated].sum()
    s_kd, s_kb = d_sum[~treated].sum(), b_sum[~treated].sum()
    cap = float(n_t + n_k - 1)
    if min(s_td, s_tb, s_kd, s_kb) <= 0:
        return NAN, NAN, cap, cap
    parts, dofs = [], []
    for group, (s_d, s_b), n in (
        (treated, (s_td, s_tb), n_t),
        (~treated, (s_kd, s_kb), n_k),
    ):
        influence = d_sum[group] / s_d - b_sum[group] / s_b
        parts.append(n / (n - 1) * float((influence**2).sum()))
        w = d_sum[group] / s_d**2 + b_sum[group] / s_b**2
        dofs.append(float(w.sum() ** 2 / (w**2).sum()) * (n - 1) / n)

    def combined(a: float, b: float) -> float:
        if a + b <= 0:
            return cap
        return min(cap, (a + b) ** 2 / (a**2 / dofs[0] + b**2 / dofs[1]))

    c_t = s_td / (n_t * n_d)
    counterfactual = s_tb / (n_t * n_b) * (s_kd / n_d) / (s_kb / n_b)
    add_t, add_k = c_t**2 * parts[0], counterfactual**2 * parts[1]
    return (
        math.sqrt(add_t + add_k),
        math.sqrt(parts[0] + parts[1]),
        combined(add_t, add_k),
        combined(parts[0], parts[1]),
    )


def _cluster_levels(
    values: np.ndarray, treated: np.ndarray, target: np.ndarray, baseline: np.ndarray
) -> tuple[float, float, int]:
    """OLS with unit and day fixed effects (statsmodels), cluster-robust by unit.

    The fixed effects are swept out exactly (Frisch–Waugh–Lovell: in a balanced panel the
    two-way within transform x − x̄_unit − x̄_day + x̄ removes them), statsmodels fits the
    one-regressor OLS with ``cov_type="cluster"`` by unit, and the standard error is
    rescaled by √((N − 1)/(N − K)) for the K = units + days − 1 swept parameters, so it
    equals the fit with every dummy (tests/stats/test_did.py checks it) at a fraction of
    the cost. Returns the coefficient, its standard error and the t degrees of freedom G − 1.
    """
    import statsmodels.api as sm

    keep = target | baseline
    sub = values[:, keep]
    n_units, n_days = sub.shape
    dummy = (treated[:, None] & target[keep][None, :]).astype(float)

    def within(x: np.ndarray) -> np.ndarray:
        swept: np.ndarray = (
            x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + x.mean()
        )
        return swept

    unit = np.repeat(np.arange(n_units), n_days)
    fit = sm.OLS(within(sub).ravel(), within(dummy).ravel()).fit(
        cov_type="cluster", cov_kwds={"groups": unit}, use_t=True
    )
    n_obs, swept = sub.size, n_units + n_days - 1
    # statsmodels scales by (N − 1)/(N − K) with K = 1 here; the dummy fit has K = 1 + swept.
    correction = math.sqrt((n_obs - 1) / (n_obs - 1 - swept)) if n_obs > 1 + swept else NAN
    return float(fit.params[0]), float(fit.bse[0]) * correction, int(fit.df_resid_inference)


def _estimate(
    grid: Grid, target: np.ndarray, baseline: np.ndarray, parallel: str, confidence: float
) -> _Estimate:
    """Effects on the ``target`` days against the ``baseline`` days, with intervals."""
    values, treated = grid.values, grid.treated
    n_t, n_k = int(treated.sum()), int((~treated).sum())
    n_d, n_b = int(target.sum()), int(baseline.sum())
    t_day, k_day = values[treated].sum(axis=0), values[~treated].sum(axis=0)
    sums = (t_day[target].sum(), t_day[baseline].sum(), k_day[target].sum(), k_day[baseline].sum())
    add_arr, ratio_arr = effects(*sums, n_t, n_k, n_d, n_b, parallel)
    additive, ratio = float(add_arr), float(ratio_arr)
    naive = float(sums[0] / n_d / (sums[1] / n_b)) if sums[1] > 0 else NAN
    comparison = float(sums[2] / n_d / (sums[3] / n_b)) if sums[3] > 0 and sums[2] > 0 else NAN
    status, reason = "ok", ""
    negative = bool((values[:, target | baseline] < 0).any())
    if sums[0] + sums[1] == 0:
        status, reason = "all_zero", "the treated units have no activity (every value is 0)"
        additive = ratio = NAN
    elif negative:
        ratio = NAN
        status, reason = (
            "negative_values",
            (
                "a ratio needs non-negative values and some are negative: the ratio is undefined"
                + ("" if parallel == "levels" else " (parallel='levels' gives an additive effect)")
            ),
        )
        if parallel == "proportional":
            additive = NAN
    elif math.isnan(ratio) and parallel == "proportional":
        status, reason = (
            "not_enough_data",
            ("a group has no activity on the campaign or the other days: the ratio is undefined"),
        )
    alpha = 1 - confidence
    add_low = add_high = add_p = ratio_low = ratio_high = ratio_p = NAN
    if n_t >= MANY_UNITS and n_k >= MANY_UNITS:
        add_se, log_se, add_dof, log_dof = _cluster_proportional(values, treated, target, baseline)
        if parallel == "levels":
            coef, add_se, levels_dof = _cluster_levels(values, treated, target, baseline)
            add_dof = float(levels_dof)
            interval = (
                "cluster-robust by unit (statsmodels OLS with unit and day fixed effects, "
                f"cov_type='cluster', t with {levels_dof} df); ratio: delta method on the "
                f"unit sums, t with {log_dof:.1f} effective df"
            )
            additive = coef if status != "all_zero" else NAN
        else:
            interval = (
                "cluster-robust by unit (delta method on the unit sums, each group's "
                f"influences scaled by n/(n − 1); t with {add_dof:.1f} (additive) and "
                f"{log_dof:.1f} (ratio) effective df for units of unequal size)"
            )
        if math.isfinite(additive) and add_se > 0:
            quantile = float(stats.t.ppf(1 - alpha / 2, add_dof))
            add_low, add_high = additive - quantile * add_se, additive + quantile * add_se
            add_p = float(2 * stats.t.sf(abs(additive) / add_se, add_dof))
        if math.isfinite(ratio) and ratio > 0 and log_se > 0:
            quantile = float(stats.t.ppf(1 - alpha / 2, log_dof))
            ratio_low = ratio * math.exp(-quantile * log_se)
            ratio_high = ratio * math.exp(quantile * log_se)
            ratio_p = float(2 * stats.t.sf(abs(math.log(ratio)) / log_se, log_dof))
    else:
        fake_add, fake_ratio, fake_scale, sets = _placebo_in_time(
            t_day, k_day, target, baseline, n_t, n_k, parallel
        )
        interval = (
            f"placebo in time ({len(sets)} sets of {n_d} fake campaign days from the {n_b} "
            "other days; errors studentised by √(treated level), variance ∝ mean; interval = "
            "estimate − scale × conformal order statistics of the fake errors, the ratio on "
            "the log scale; "
            f"{n_t} treated unit(s) < {MANY_UNITS}, so not cluster-robust)"
        )
        scale = float(noise_scale(sums[0]))
        with np.errstate(divide="ignore", invalid="ignore"):
            z_add = fake_add / fake_scale
            # the log ratio's error is the relative error: scale ÷ level, level ∝ scale²
            # a fake ratio of 0 (no treated activity on the fake days) is the most extreme
            # negative error, −inf, and stays in; only undefined ratios (NaN) drop out
            z_log = np.log(np.where(fake_ratio >= 0, fake_ratio, np.nan)) * fake_scale
        z_add, z_log = z_add[np.isfinite(z_add)], z_log[~np.isnan(z_log)]
        needed = math.ceil(2 / alpha - 1 - 1e-9)
        if len(z_add) >= needed and math.isfinite(additive) and math.isfinite(scale):
            q_low, q_high = placebo_quantiles(z_add, confidence)
            add_low, add_high = additive - scale * float(q_high), additive - scale * float(q_low)
            add_p = placebo_p_value(z_add, additive / scale)
        if len(z_log) >= needed and math.isfinite(ratio) and ratio > 0 and math.isfinite(scale):
            q_low, q_high = placebo_quantiles(z_log, confidence)
            ratio_low = ratio * math.exp(-float(q_high) / scale)
            ratio_high = ratio * math.exp(-float(q_low) / scale)
            ratio_p = placebo_p_value(z_log, math.log(ratio) * scale)
        if len(z_add) < needed and status == "ok":
            status, reason = (
                "not_enough_data",
                (
                    f"{len(z_add)} fake campaign-day sets from {n_b} other days; a "
                    f"{confidence:.0%} placebo interval needs at least {needed}"
                ),
            )
    return _Estimate(
        additive=additive,
        additive_low=add_low,
        additive_high=add_high,
        additive_p=add_p,
        ratio=ratio,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        ratio_p=ratio_p,
        naive_ratio=naive,
        comparison_ratio=comparison,
        interval_method=interval,
        status=status,
        reason=reason,
    )


def _method(parallel: str) -> str:
    if parallel == "levels":
        return (
            "difference in differences under parallel trends in levels: additive = OLS "
            "coefficient of treated × campaign day with unit and day fixed effects (= the 2×2 "
            "difference of means); ratio = (treated campaign/other rate) ÷ (comparison "
            "campaign/other rate)"
        )
    return (
        "difference in differences under parallel trends in proportions: ratio = (treated "
        "campaign/other rate) ÷ (comparison campaign/other rate) (exp β of a Poisson model "
        "with unit and day effects); additive = treated campaign-day rate − treated other-day "
        "rate × comparison campaign/other ratio"
    )


def _empty_reason(grid: Grid, target: np.ndarray, baseline: np.ndarray) -> tuple[str, str]:
    n_t, n_k = int(grid.treated.sum()), int((~grid.treated).sum())
    if n_t == 0:
        return "empty_arm", "no treated unit in the panel"
    if n_k == 0:
        return "empty_arm", "no comparison unit in the panel (every unit is treated)"
    if not target.any():
        return "not_enough_data", "no campaign day in the panel"
    if not baseline.any():
        return "not_enough_data", "no other (non-campaign) day in the panel"
    return "ok", ""


def did(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    confidence: float = 0.95,
    parallel: Parallel = "proportional",
) -> DiD:
    """Difference in differences of a campaign on some units and days (module docstring).

    Args:
        panel: columns ``unit``, ``day`` (int), ``value``; every unit × day present.
        treated: the treated units (absent ones are ignored).
        campaign_days: the campaign days (absent ones are ignored).
        confidence: two-sided confidence level of the intervals.
        parallel: "proportional" (default) or "levels": which parallel-trends assumption
            defines ``additive`` (the ratio always assumes proportional trends).

    Returns:
        A :class:`DiD`; degenerate input gives a status and NaN numbers.

    Example:
        >>> panel = pd.DataFrame({"unit": [1, 1, 2, 2], "day": [0, 1, 0, 1],
        ...                       "value": [10.0, 30.0, 20.0, 40.0]})
        >>> result = did(panel, treated=[1], campaign_days=[1])
        >>> result.ratio, result.additive, result.naive_ratio, result.comparison_ratio
        (1.5, 10.0, 3.0, 2.0)
    """
    check_confidence(confidence)
    check_parallel(parallel)
    grid = to_grid(panel, treated, campaign_days)
    target, baseline = grid.campaign, ~grid.campaign
    n_t, n_k = int(grid.treated.sum()), int((~grid.treated).sum())
    counts = {
        "treated_units": n_t,
        "comparison_units": n_k,
        "campaign_days": int(target.sum()),
        "other_days": int(baseline.sum()),
    }
    status, reason = _empty_reason(grid, target, baseline)
    if status != "ok":
        return DiD(
            NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
            interval_method="", method=_method(parallel), status=status, reason=reason,
            **counts,
        )  # fmt: skip
    est = _estimate(grid, target, baseline, parallel, confidence)
    fields: dict[str, Any] = {**asdict(est), **counts, "method": _method(parallel)}
    return DiD(**fields)


def pretrend(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    confidence: float = 0.95,
    days: Literal["before", "all"] = "before",
    parallel: Parallel = "proportional",
) -> Pretrend:
    """Test for a differential linear trend of the treated against the comparison units.

    Uses the days before the first campaign day (``days="before"``), or every non-campaign
    day (``days="all"``: with campaign days spread over the period this asks whether the
    treated units drift against the comparison over the whole period, apart from the
    campaign days). Needs at least 3 such days.

    - ``parallel="proportional"``: the treated share of each day's total, T_t ÷ (T_t + K_t),
      in a quasi-binomial GLM (statsmodels, logit link, dispersion from Pearson χ²) on the
      centred day; ``slope`` is the change per day of log(T_t ÷ K_t), i.e. about the
      relative drift per day of the treated against the comparison units.
    - ``parallel="levels"``: OLS of the daily gap (treated mean − comparison mean) on the
      day; ``slope`` is the change of the gap per day, in the metric's unit.

    A slope whose interval excludes 0 says the groups were not moving in parallel, so the
    difference in differences carries that trend into the effect.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    check_confidence(confidence)
    check_parallel(parallel)
    if days not in ("before", "all"):
        raise ValueError(f"days must be 'before' or 'all'; got {days!r}")
    grid = to_grid(panel, treated, campaign_days)
    method = (
        "quasi-binomial GLM of the treated share of each day's total on the day (logit); "
        "slope = change of log(treated ÷ comparison) per day"
        if parallel == "proportional"
        else "OLS of the daily gap (treated mean − comparison mean) on the day; slope per day"
    )

    def undefined(status: str, reason: str, n: int, slope: float = NAN) -> Pretrend:
        return Pretrend(slope, NAN, NAN, NAN, n, method, status, reason)

    status, reason = _empty_reason(grid, grid.campaign, ~grid.campaign)
    if status != "ok":
        return undefined(status, reason, 0)
    first = grid.days[grid.campaign].min()
    use = ~grid.campaign & (grid.days < first if days == "before" else True)
    t_day = grid.values[grid.treated][:, use].sum(axis=0)
    k_day = grid.values[~grid.treated][:, use].sum(axis=0)
    x = grid.days[use].astype(float)
    if parallel == "proportional":
        keep = (t_day + k_day) > 0
        t_day, k_day, x = t_day[keep], k_day[keep], x[keep]
    n = len(x)
    if n < 3:
        where = "before the first campaign day" if days == "before" else "outside the campaign"
        return undefined("not_enough_data", f"{n} day(s) {where}; a trend needs at least 3", n)
    design = sm.add_constant(x - x.mean())
    if parallel == "proportional":
        if (t_day < 0).any() or (k_day < 0).any():
            return undefined("negative_values", "a share needs non-negative values", n)
        if t_day.sum() == 0 or k_day.sum() == 0:
            return undefined("all_zero", "a group has no activity on these days", n)
        total = t_day + k_day
        family = sm.families.Binomial()
        with warnings.catch_warnings():  # a perfect fit is reported below as zero variance
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            model = sm.GLM(t_day / total, design, family=family, var_weights=total)
            fit = model.fit(scale="X2")
    else:
        gap = t_day / grid.treated.sum() - k_day / (~grid.treated).sum()
        fit = sm.OLS(gap, design).fit()
    dof = n - 2
    slope, se = float(fit.params[1]), float(fit.bse[1])
    if not math.isfinite(se) or se == 0:
        reason = "the daily series is exactly linear: no variance to test against"
        return undefined("zero_variance", reason, n, slope)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, dof))
    p_value = float(2 * stats.t.sf(abs(slope) / se, dof))
    return Pretrend(
        slope, slope - quantile * se, slope + quantile * se, p_value, n, method, "ok", ""
    )


def placebo_days(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    parallel: Parallel = "proportional",
) -> pd.DataFrame:
    """Estimates for fake campaign days: one row per set of non-campaign days.

    Every set of as many other days as there are campaign days (all sets, or
    ``MAX_PLACEBO_SETS`` drawn with seed 0) is taken as the campaign, on the panel without
    the real campaign days. Columns ``days`` (tuple of day numbers), ``additive``,
    ``ratio`` and ``scale`` (:func:`noise_scale` of the fake days). The campaign had no
    effect on these days, so the rows show the estimator's noise; :func:`placebo_p_value`
    places the real estimate among them (raw). :func:`did`'s p-values and intervals use the
    studentised errors additive ÷ scale and log(ratio) × scale instead, which allow for
    days of different level. Empty when the panel has no treated or comparison unit or
    too few other days.
    """
    check_parallel(parallel)
    grid = to_grid(panel, treated, campaign_days)
    columns = ["days", "additive", "ratio", "scale"]
    status, _ = _empty_reason(grid, grid.campaign, ~grid.campaign)
    if status != "ok":
        return pd.DataFrame(columns=columns)
    t_day = grid.values[grid.treated].sum(axis=0)
    k_day = grid.values[~grid.treated].sum(axis=0)
    additive, ratio, scale, sets = _placebo_in_time(
        t_day, k_day, grid.campaign, ~grid.campaign,
        int(grid.treated.sum()), int((~grid.treated).sum()), parallel,
    )  # fmt: skip
    return pd.DataFrame(
        {
            "days": [tuple(int(d) for d in grid.days[s]) for s in sets],
            "additive": additive,
            "ratio": ratio,
            "scale": scale,
        },
        columns=columns,
    )


def placebo_units(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    parallel: Parallel = "proportional",
) -> pd.DataFrame:
    """Estimates with each comparison unit taken as the treated one (placebo in space).

    The real treated units are left out; each comparison unit in turn is "treated" on the
    campaign days against the remaining comparison units. Columns ``unit``, ``additive``,
    ``ratio``. Comparison units got no campaign, so the rows show how large an estimate
    arises without one (for units of very different size, compare ratios rather than
    additive effects). Empty with fewer than 2 comparison units or no campaign/other day.
    """
    check_parallel(parallel)
    grid = to_grid(panel, treated, campaign_days)
    columns = ["unit", "additive", "ratio"]
    comparison = ~grid.treated
    target, baseline = grid.campaign, ~grid.campaign
    if comparison.sum() < 2 or not target.any() or not baseline.any():
        return pd.DataFrame(columns=columns)
    values = grid.values[comparison]
    d_sum, b_sum = values[:, target].sum(axis=1), values[:, baseline].sum(axis=1)
    additive, ratio = effects(
        d_sum, b_sum, d_sum.sum() - d_sum, b_sum.sum() - b_sum,
        1, len(values) - 1, int(target.sum()), int(baseline.sum()), parallel,
    )  # fmt: skip
    units = [u for u, c in zip(grid.units, comparison, strict=True) if c]
    return pd.DataFrame({"unit": units, "additive": additive, "ratio": ratio}, columns=columns)


def event_days(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    span: int = 3,
    confidence: float = 0.95,
    parallel: Parallel = "proportional",
) -> pd.DataFrame:
    """The effect on the days around the campaign days (an event study).

    For each relative day r in −span..span the target days are {c + r} over the campaign
    days c (those inside the panel), and the baseline is every day farther than ``span``
    from all campaign days; the effect of the target against the baseline is estimated as
    in :func:`did` (same estimator and interval method). r = 0 is the campaign itself;
    r ≠ 0 should show no effect unless the campaign pulled orders forward or pushed them
    back. Columns ``relative_day``, ``estimate``, ``low``, ``high`` (the additive effect
    per treated unit-day), ``ratio``, ``ratio_low``, ``ratio_high``, ``days`` (target days
    used); NaN where a relative day has no target day or the baseline is empty.
    """
    check_confidence(confidence)
    check_parallel(parallel)
    if isinstance(span, bool) or not isinstance(span, int) or span < 0:
        raise ValueError(f"span must be a non-negative integer; got {span!r}")
    grid = to_grid(panel, treated, campaign_days)
    campaign = grid.days[grid.campaign]
    near = np.zeros(len(grid.days), dtype=bool)
    for c in campaign:
        near |= np.abs(grid.days - c) <= span
    baseline = ~near
    rows = []
    for r in range(-span, span + 1):
        target = np.isin(grid.days, campaign + r)
        status, _ = _empty_reason(grid, target, baseline)
        row: dict[str, float] = {"relative_day": r, "days": int(target.sum())}
        if status == "ok":
            est = _estimate(grid, target, baseline, parallel, confidence)
            row.update(
                estimate=est.additive, low=est.additive_low, high=est.additive_high,
                ratio=est.ratio, ratio_low=est.ratio_low, ratio_high=est.ratio_high,
            )  # fmt: skip
        rows.append(row)
    columns = [
        "relative_day",
        "estimate",
        "low",
        "high",
        "ratio",
        "ratio_low",
        "ratio_high",
        "days",
    ]
    return pd.DataFrame(rows, columns=columns).astype({"relative_day": int, "days": int})
