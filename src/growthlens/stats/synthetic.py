"""Synthetic control: the treated units against a weighted mix of comparison units.

Panel, ``treated`` and ``campaign_days`` as in :mod:`growthlens.stats.did`. Method:

1. Index each series to its mean over the non-campaign ("other") days: x_jt = y_jt ÷ ȳ_j,O
   for every comparison unit (units with no activity on the other days cannot be indexed
   and are left out), and the same for the treated series (the treated units' mean per
   unit). Cities of very different size thus compete on the *shape* of their series (trend,
   weekday cycle), and a treated city larger than every comparison city can still be
   matched — convex weights on raw levels could not reach it.
2. Weights w ≥ 0 with Σw = 1 minimise Σ_{t ∈ O} (x_T,t − Σ_j w_j x_jt)², by non-negative
   least squares (scipy.optimize.nnls) with the sum constraint as a heavily weighted extra
   row, then rescaled to sum to exactly 1.
3. The synthetic treated series is ȳ_T,O · Σ_j w_j x_jt (back in the treated units' scale);
   ``effect`` = mean over campaign days of (treated − synthetic), per treated unit-day;
   ``ratio`` = Σ_C treated ÷ Σ_C synthetic; ``pre_rmspe`` = root mean squared gap on the
   other days (the fit's quality, in the metric's unit).

Inference by placebo in space (Abadie, Diamond & Hainmueller 2010): every comparison unit in
turn is treated as if it had the campaign, with the remaining comparison units as donors
(the real treated units left out). Its standardised effect z_j = (ratio_j − 1) ÷ (its
pre-RMSPE ÷ its other-day mean) — the relative effect in units of the fit's relative noise,
comparable across units of different size. ``p_value`` = (1 + #{|z_j| ≥ |z_T|}) ÷ (1 + J),
the rank of the treated unit among all. The interval comes from the placebo gaps: the
relative effect ratio − 1 minus s_T × the (α/2, 1 − α/2) quantiles of z_j, s_T the treated
relative pre-RMSPE (assumption: the treated unit's standardised error is drawn like the
comparison units'); ``low``/``high`` are that interval times the synthetic campaign-day
mean. With fewer than 2/(1 − confidence) − 1 placebos (39 at 95%) the quantiles do not
exist: NaN bounds, status ``not_enough_data``, the p-value still given.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from growthlens.stats.did import placebo_quantiles, to_grid
from growthlens.stats.testing import check_confidence

NAN = math.nan
_SUM_WEIGHT = 1e3  # weight of the Σw = 1 row in the least squares


@dataclass(frozen=True)
class Synthetic:
    """A synthetic-control estimate of a campaign (module docstring: definitions).

    Attributes:
        effect: treated − synthetic per treated unit-day on campaign days.
        ratio: treated ÷ synthetic over the campaign days.
        low, high: interval of ``effect`` from the placebo gaps.
        p_value: rank p-value among the placebo-in-space units.
        weights: comparison unit → weight (non-negative, sum 1).
        pre_rmspe: root mean squared gap on the other days (the fit), metric units.
        method: the method in words.
        status, reason: "ok", "empty_arm", "not_enough_data" or "all_zero", and words.
        ratio_low, ratio_high: interval of ``ratio``.
        placebos: placebo units used.
    """

    effect: float
    ratio: float
    low: float
    high: float
    p_value: float
    weights: pd.Series
    pre_rmspe: float
    method: str
    status: str
    reason: str
    ratio_low: float = NAN
    ratio_high: float = NAN
    placebos: int = 0


@dataclass(frozen=True)
class _Fit:
    effect: float
    ratio: float
    pre_rmspe: float
    relative_rmspe: float
    campaign_synthetic: float  # synthetic mean per treated unit-day on campaign days
    weights: np.ndarray


def _fit(target: np.ndarray, donors: np.ndarray, campaign: np.ndarray) -> _Fit:
    """Fit indexed ``donors`` (units × days, each with a positive other-day mean) to ``target``."""
    other = ~campaign
    level = target[other].mean()
    x_t = target / level
    x_d = donors / donors[:, other].mean(axis=1, keepdims=True)
    rows = np.vstack([x_d[:, other].T, np.full((1, len(donors)), _SUM_WEIGHT)])
    weights, _ = nnls(rows, np.append(x_t[other], _SUM_WEIGHT))
    total = weights.sum()
    weights = weights / total if total > 0 else np.full(len(donors), 1 / len(donors))
    synthetic = level * (weights @ x_d)
    gap = target - synthetic
    pre_rmspe = float(np.sqrt(np.mean(gap[other] ** 2)))
    campaign_synthetic = float(synthetic[campaign].mean())
    ratio = (
        float(target[campaign].sum() / synthetic[campaign].sum()) if campaign_synthetic > 0 else NAN
    )
    return _Fit(
        effect=float(gap[campaign].mean()),
        ratio=ratio,
        pre_rmspe=pre_rmspe,
        relative_rmspe=pre_rmspe / level,
        campaign_synthetic=campaign_synthetic,
        weights=weights,
    )


def _method(confidence: float) -> str:
    return (
        "synthetic control on series indexed to their other-day mean (weights ≥ 0 summing "
        "to 1, non-negative least squares on the other days); p-value = rank of the "
        "standardised effect (relative effect ÷ relative pre-period RMSPE) among the "
        "placebo-in-space units; "
        f"{confidence:.0%} interval = relative effect − treated relative RMSPE × quantiles "
        "of the placebo standardised effects"
    )


def synthetic_control(
    panel: pd.DataFrame,
    *,
    treated: Collection[Hashable],
    campaign_days: Collection[int],
    confidence: float = 0.95,
) -> Synthetic:
    """Synthetic-control estimate of a campaign with placebo-in-space inference.

    Args:
        panel: columns ``unit``, ``day`` (int), ``value``; every unit × day present.
        treated: the treated units (their mean per unit is the treated series).
        campaign_days: the campaign days; every other day is used for the fit.
        confidence: two-sided confidence level of the interval.

    Returns:
        A :class:`Synthetic`; degenerate input gives a status and NaN numbers.
    """
    check_confidence(confidence)
    grid = to_grid(panel, treated, campaign_days)
    method = _method(confidence)
    empty = pd.Series(dtype=float, name="weight")

    def degenerate(status: str, reason: str) -> Synthetic:
        return Synthetic(NAN, NAN, NAN, NAN, NAN, empty, NAN, method, status, reason)

    campaign = grid.campaign
    if not grid.treated.any():
        return degenerate("empty_arm", "no treated unit in the panel")
    if not campaign.any() or campaign.all():
        return degenerate(
            "not_enough_data", "no campaign day in the panel" if not campaign.any()
            else "no other (non-campaign) day to fit the weights on",
        )  # fmt: skip
    if (grid.values < 0).any():
        return degenerate("negative_values", "indexing needs non-negative values")
    target = grid.values[grid.treated].mean(axis=0)
    if target[~campaign].sum() <= 0:
        return degenerate("all_zero", "the treated units have no activity on the other days")
    comparison = grid.values[~grid.treated]
    usable = comparison[:, ~campaign].sum(axis=1) > 0
    donors = comparison[usable]
    names = [u for u, t in zip(grid.units, grid.treated, strict=True) if not t]
    names = [u for u, ok in zip(names, usable, strict=True) if ok]
    if len(donors) == 0:
        return degenerate("empty_arm", "no comparison unit with activity on the other days")
    fit = _fit(target, donors, campaign)
    weights = pd.Series(fit.weights, index=pd.Index(names, name="unit"), name="weight")
    z_placebo = []
    for j in range(len(donors)) if len(donors) >= 2 else ():
        placebo = _fit(donors[j], np.delete(donors, j, axis=0), campaign)
        if placebo.relative_rmspe > 0 and placebo.ratio >= 0:
            # no activity on the campaign days: ratio 0, the most extreme negative effect
            log_ratio = math.log(placebo.ratio) if placebo.ratio > 0 else -math.inf
            z_placebo.append(log_ratio / placebo.relative_rmspe)
    z = np.asarray(z_placebo)
    status, reason = "ok", ""
    p_value = low = high = ratio_low = ratio_high = NAN
    observed = (
        math.log(fit.ratio) / fit.relative_rmspe
        if fit.relative_rmspe > 0 and fit.ratio > 0
        else NAN
    )
    if len(z) and math.isfinite(observed):
        p_value = (1 + int((np.abs(z) >= abs(observed) - 1e-12).sum())) / (1 + len(z))
    alpha = 1 - confidence
    needed = math.ceil(2 / alpha - 1e-9) - 1
    if len(z) >= needed and math.isfinite(observed):
        q_low, q_high = placebo_quantiles(z, confidence)
        ratio_low = fit.ratio * math.exp(-fit.relative_rmspe * q_high)
        ratio_high = fit.ratio * math.exp(-fit.relative_rmspe * q_low)
        low = fit.campaign_synthetic * (ratio_low - 1)
        high = fit.campaign_synthetic * (ratio_high - 1)
    else:
        status, reason = (
            "not_enough_data",
            (
                f"{len(z)} placebo units; a {confidence:.0%} placebo interval needs at least "
                f"{needed} (the p-value is still given, its smallest value 1/{len(z) + 1})"
            ),
        )
    return Synthetic(
        effect=fit.effect,
        ratio=fit.ratio,
        low=low,
        high=high,
        p_value=p_value,
        weights=weights,
        pre_rmspe=fit.pre_rmspe,
        method=method,
        status=status,
        reason=reason,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        placebos=len(z),
    )
