"""Uplift: whom a randomised campaign changes, with Qini curves and a target-list size.

Pure statistics on a per-customer pandas frame of features, a 0/1 outcome (bought in the
target window) and a 0/1 treatment flag that was **randomised** (the campaign's
experiment). Every estimate below is causal only over those participants; scores for anyone
else are extrapolation, and the caller says so.

- **T-learner** (two models): P(buy | x, treated) and P(buy | x, control) fitted separately
  on each arm; uplift(x) = μ₁(x) − μ₀(x).
- **X-learner** (Künzel, Sekhon, Bickel & Yu 2019): from the same two models, imputed
  effects D = y − μ₀(x) for treated customers and D = μ₁(x) − y for controls; a regression
  of D on x in each arm (τ₁, τ₀), combined as τ(x) = g·τ₀(x) + (1 − g)·τ₁(x) with g the
  share treated (the propensity score, constant because treatment was randomised). It
  borrows strength across arms when they differ in size.
- **Propensity-only ranking** (the usual targeting, for comparison): the marginal buying
  probability under the experiment's mix, g·μ₁(x) + (1 − g)·μ₀(x), or scores the caller
  supplies (``baseline``).
- Models: ``"gbm"`` = scikit-learn's histogram gradient boosting (classifier for μ,
  regressor for τ; settings :data:`growthlens.stats.propensity.GBM`, categories native),
  ``"logistic"`` = logistic regression for μ and ridge regression (α = 1) for τ on the
  same one-hot / standardised features as :mod:`growthlens.stats.propensity`. All scores
  are **out of fold**: k-fold cross-fitting stratified on treatment × outcome (seeded),
  each customer scored by models fitted without them.
- **Qini curve** (Radcliffe 2007): customers sorted by score, highest first; after the top
  k, Q(k) = Y_T(k) − Y_C(k)·N_T(k)/N_C(k) (treated buyers minus control buyers scaled to the
  treated count; Q = Y_T while no control is included): the incremental buyers among the
  targeted treated customers. Points are taken at the end of each run of tied scores, from
  (0, 0).
- **Qini coefficient**: the area (trapezoids, x = customers targeted) between the curve and
  the random-targeting line from (0, 0) to (N, Q(N)). **Normalised**: that area divided by
  the same area of the perfect ranking (treated buyers first, control buyers last, i.e.
  negative effects allowed), so 1 = perfect, 0 = random, < 0 = worse than random; the same
  definition as scikit-uplift's ``qini_auc_score(negative_effect=True)``.
- **Uplift by decile**: customers cut into equal-count score groups (1 = highest, ties in
  input order); per group the two arms' buying rates and their difference with Newcombe's
  hybrid score interval (:func:`growthlens.stats.proportions.difference`).
- **Per-segment uplift** (:func:`segment_uplift`): the same difference of proportions
  within each segment (e.g. age group), model-free, with the mean predicted uplift beside it.
- **Target list** (:func:`target_list`): contacting the top k of a list is worth
  value × U(k) − cost × k, U(k) = (Y_T(k)/N_T(k) − Y_C(k)/N_C(k))·k the incremental buyers if
  all k were contacted (the uplift curve); evaluated at ``points`` evenly spaced list sizes,
  the best one (or nobody, when no size gains) is returned. The gain is estimated on the
  same customers that chose k, so it is optimistic; out-of-fold scores limit, not remove,
  that optimism.
- **Degenerate input** gives a status and NaN figures, never an exception: an empty arm
  (``"empty_arm"``), fewer buyers or non-buyers in an arm than folds (``"not_enough_data"``),
  no usable feature (``"no_features"``). The leak guard of
  :mod:`growthlens.stats.propensity` applies to the features (against the outcome).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from growthlens.stats.propensity import (
    GBM,
    binary,
    check_count,
    check_leaks,
    check_options,
    estimator,
    feature_aucs,
    is_constant,
    linear_features,
    model_frame,
    prepare,
    subsample,
)
from growthlens.stats.proportions import difference

Status = Literal["ok", "empty_arm", "not_enough_data", "no_features"]
RANKINGS: tuple[str, ...] = ("t_learner", "x_learner", "propensity")
NAN = math.nan
DECILE_COLUMNS: tuple[str, ...] = (
    "decile",
    "customers",
    "treated",
    "control",
    "treated_rate",
    "control_rate",
    "uplift",
    "low",
    "high",
    "p_value",
    "predicted",
)
SEGMENT_COLUMNS: tuple[str, ...] = ("segment", *DECILE_COLUMNS[1:])


@dataclass(frozen=True)
class Uplift:
    """Out-of-fold uplift scores, their Qini and uplift by decile.

    Attributes:
        status: ``"ok"``, ``"empty_arm"``, ``"not_enough_data"`` or ``"no_features"``.
        reason: why, when the status is not ``"ok"``; else ``""``.
        scores: per customer (the features' index): ``t_learner``, ``x_learner`` (predicted
            uplift, in probability points) and ``propensity`` (the comparison ranking).
        effect, effect_low, effect_high, effect_p: the average effect (treated rate −
            control rate) with Newcombe's interval and the pooled z test's p-value.
        qini: one row per ranking: ``ranking``, ``qini`` (area above random, buyers ×
            customers), ``qini_normalised``.
        curves: ranking → its :func:`qini_curve` table.
        deciles: ranking → its :func:`uplift_by_decile` table.
        params: what it ran with.
    """

    status: Status
    reason: str
    scores: pd.DataFrame
    effect: float
    effect_low: float
    effect_high: float
    effect_p: float
    qini: pd.DataFrame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    deciles: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the models were fitted (status ``"ok"``)."""
        return self.status == "ok"

    def best(self) -> str:
        """The uplift learner with the higher normalised Qini (``"t_learner"`` on ties)."""
        table = self.qini.set_index("ranking")["qini_normalised"]
        return (
            "x_learner"
            if table.get("x_learner", NAN) > table.get("t_learner", NAN)
            else "t_learner"
        )


@dataclass(frozen=True)
class TargetList:
    """The list size that maximises the expected gain (see :func:`target_list`).

    Attributes:
        size: customers to contact (0: contacting nobody is best).
        share: ``size`` ÷ customers scored.
        incremental: expected incremental buyers from contacting them.
        gain: value × incremental − cost × size.
        curve: the evaluated sizes: ``size``, ``share``, ``incremental``, ``gain``.
    """

    size: int
    share: float
    incremental: float
    gain: float
    curve: pd.DataFrame


# ---------------------------------------------------------------- curves and tables


def _arrays(
    scores: ArrayLike, target: ArrayLike, treatment: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores: expected one value per customer, found shape {s.shape}")
    return s, binary(target, "target", len(s)), binary(treatment, "treatment", len(s))


def qini_curve(scores: ArrayLike, target: ArrayLike, treatment: ArrayLike) -> pd.DataFrame:
    """The Qini curve at the end of each run of tied scores, from (0, 0).

    Columns: ``targeted`` (k), ``share`` (k ÷ N), ``treated``, ``control``,
    ``treated_buyers``, ``control_buyers`` (cumulative counts in the top k), ``incremental``
    (Q(k) = Y_T − Y_C·N_T/N_C; Y_T while N_C = 0) and ``uplift_curve``
    ((Y_T/N_T − Y_C/N_C)·k, 0 while an arm is empty).

    >>> q = qini_curve([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1], [1, 0, 1, 0])
    >>> q[["targeted", "incremental", "uplift_curve"]]
       targeted  incremental  uplift_curve
    0         0          0.0           0.0
    1         1          1.0           0.0
    2         2          1.0           2.0
    3         3          1.0           1.5
    4         4          0.0           0.0
    """
    s, y, t = _arrays(scores, target, treatment)
    order = np.argsort(-s, kind="stable")
    s, y, t = s[order], y[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1] if len(s) else np.array([], int)
    n_t = np.cumsum(t)[last].astype(float)
    n_c = np.cumsum(1 - t)[last].astype(float)
    y_t = np.cumsum(y * t)[last].astype(float)
    y_c = np.cumsum(y * (1 - t))[last].astype(float)
    k = (last + 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / n_c, y_t)
        u = np.where((n_t > 0) & (n_c > 0), (y_t / n_t - y_c / n_c) * k, 0.0)
    frame = pd.DataFrame(
        {
            "targeted": np.r_[0, k].astype(int),
            "share": np.r_[0.0, k / max(len(s), 1)],
            "treated": np.r_[0, n_t].astype(int),
            "control": np.r_[0, n_c].astype(int),
            "treated_buyers": np.r_[0, y_t].astype(int),
            "control_buyers": np.r_[0, y_c].astype(int),
            "incremental": np.r_[0.0, q],
            "uplift_curve": np.r_[0.0, u],
        }
    )
    return frame


def _area(curve: pd.DataFrame) -> float:
    x, q = curve["targeted"].to_numpy(float), curve["incremental"].to_numpy(float)
    above = float(np.sum((x[1:] - x[:-1]) * (q[1:] + q[:-1]) / 2))
    return above - float(x[-1] * q[-1] / 2)


def qini_coefficient(
    scores: ArrayLike, target: ArrayLike, treatment: ArrayLike
) -> tuple[float, float]:
    """Qini coefficient: area between the Qini curve and random targeting, and normalised.

    Returns:
        The area (buyers × customers) and the area ÷ the perfect ranking's area (NaN when
        the perfect area is 0, e.g. no buyers).

    >>> y, t = [1, 0, 0, 1], [1, 0, 1, 0]
    >>> qini_coefficient([0.9, 0.8, 0.7, 0.6], y, t)  # the perfect order here
    (3.0, 1.0)
    >>> qini_coefficient([0.6, 0.7, 0.8, 0.9], y, t)  # reversed: worse than random
    (-1.5, -0.5)
    """
    s, y, t = _arrays(scores, target, treatment)
    if not len(s):
        return NAN, NAN
    area = _area(qini_curve(s, y, t))
    perfect = _area(qini_curve(y * t - y * (1 - t), y, t))
    return area, (area / perfect if perfect > 0 else NAN)


def uplift_by_decile(
    scores: ArrayLike,
    target: ArrayLike,
    treatment: ArrayLike,
    *,
    bins: int = 10,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Observed uplift per score group (1 = highest), Newcombe intervals; see module.

    Columns :data:`DECILE_COLUMNS`; ``predicted`` is the mean score in the group. A group
    with an empty arm has NaN uplift.

    >>> d = uplift_by_decile([4, 3, 2, 1], [1, 0, 0, 0], [1, 0, 1, 0], bins=2)
    >>> d[["decile", "treated_rate", "control_rate", "uplift"]]
       decile  treated_rate  control_rate  uplift
    0       1           1.0           0.0     1.0
    1       2           0.0           0.0     0.0
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins: expected an integer ≥ 1, found {bins!r}")
    s, y, t = _arrays(scores, target, treatment)
    order = np.argsort(-s, kind="stable")
    group = (np.arange(len(s)) * bins) // max(len(s), 1) + 1
    return _by_group(group, s[order], y[order], t[order], "decile", confidence)


def segment_uplift(
    target: ArrayLike,
    treatment: ArrayLike,
    segments: ArrayLike,
    *,
    scores: ArrayLike | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Observed uplift per segment (treated rate − control rate, Newcombe interval).

    Model-free: within each segment the randomised arms are compared directly.
    ``predicted`` is the segment's mean of ``scores`` (NaN without). Missing segment labels
    are left out. Columns :data:`SEGMENT_COLUMNS`, segments in sorted order.

    >>> seg = segment_uplift([1, 1, 0, 0, 1, 0], [1, 1, 0, 0, 1, 0], ["a"] * 4 + ["b"] * 2)
    >>> seg[["segment", "treated", "control", "uplift"]]
      segment  treated  control  uplift
    0       a        2        2     1.0
    1       b        1        1     1.0
    """
    y = np.asarray(target)
    s = np.full(len(y), NAN) if scores is None else np.asarray(scores, dtype=float)
    s, y, t = _arrays(s, y, treatment)
    labels = pd.Series(np.asarray(segments, dtype=object))
    if len(labels) != len(y):
        raise ValueError(f"segments: expected {len(y)} labels, found {len(labels)}")
    keep = labels.notna().to_numpy()
    table = _by_group(labels[keep].to_numpy(), s[keep], y[keep], t[keep], "segment", confidence)
    return table


def _by_group(
    group: np.ndarray, s: np.ndarray, y: np.ndarray, t: np.ndarray, name: str, confidence: float
) -> pd.DataFrame:
    frame = pd.DataFrame({name: group, "s": s, "y": y, "t": t, "yt": y * t, "yc": y * (1 - t)})
    g = frame.groupby(name, sort=True).agg(
        customers=("y", "size"),
        treated=("t", "sum"),
        yt=("yt", "sum"),
        yc=("yc", "sum"),
        predicted=("s", "mean"),
    )
    g["control"] = g["customers"] - g["treated"]
    d = difference(g["yt"], g["treated"], g["yc"], g["control"], confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["treated_rate"] = np.where(g["treated"] > 0, g["yt"] / g["treated"], NAN)
        g["control_rate"] = np.where(g["control"] > 0, g["yc"] / g["control"], NAN)
    g["uplift"], g["low"], g["high"], g["p_value"] = d.difference, d.low, d.high, d.p_value
    columns = [name, *DECILE_COLUMNS[1:]]
    return g.reset_index()[columns].astype({"customers": int, "treated": int, "control": int})


def target_list(
    scores: ArrayLike,
    target: ArrayLike,
    treatment: ArrayLike,
    *,
    value: float,
    cost: float,
    points: int = 100,
) -> TargetList:
    """The list size (top k by score) maximising value × U(k) − cost × k; see module.

    Sizes evaluated: ⌈j·N/points⌉ for j = 1..points (and 0). U(k) is the uplift curve at the
    end of the tie run that contains position k (ties are contacted together).

    >>> tl = target_list([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1], [1, 0, 1, 0], value=1, cost=0.2,
    ...                  points=4)
    >>> tl.size, tl.incremental, round(tl.gain, 2)
    (2, 2.0, 1.6)
    """
    for label, number in (("value", value), ("cost", cost)):
        if not isinstance(number, (int, float)) or math.isnan(number) or number < 0:
            raise ValueError(f"{label}: expected a number ≥ 0, found {number!r}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"points: expected an integer ≥ 1, found {points!r}")
    s, y, t = _arrays(scores, target, treatment)
    n = len(s)
    curve = qini_curve(s, y, t)
    sizes = np.unique(np.r_[0, np.ceil(np.arange(1, points + 1) * n / points)].astype(int))
    # the curve point at or after each size: the end of its tie run
    where = np.searchsorted(curve["targeted"].to_numpy(), sizes, side="left")
    chosen = curve.iloc[where]
    k = chosen["targeted"].to_numpy(float)
    incremental = chosen["uplift_curve"].to_numpy(float)
    gain = value * incremental - cost * k
    table = pd.DataFrame(
        {
            "size": k.astype(int),
            "share": k / max(n, 1),
            "incremental": incremental,
            "gain": gain,
        }
    ).drop_duplicates("size", ignore_index=True)
    best = int(np.argmax(table["gain"].to_numpy())) if len(table) else 0
    row = table.iloc[best]
    return TargetList(
        int(row["size"]), float(row["share"]), float(row["incremental"]), float(row["gain"]), table
    )


# ---------------------------------------------------------------- the models


def _regressor(model: str, categorical: list[str], numeric: list[str], seed: int) -> Any:
    if model == "gbm":
        return HistGradientBoostingRegressor(**GBM, random_state=seed)
    return Pipeline(
        [("features", linear_features(categorical, numeric)), ("model", Ridge(alpha=1.0))]
    )


def _empty(
    status: Status,
    reason: str,
    index: pd.Index,
    params: dict[str, Any],
    effect: tuple[float, float, float, float],
) -> Uplift:
    return Uplift(
        status,
        reason,
        pd.DataFrame(columns=list(RANKINGS), index=index[:0], dtype=float),
        *effect,
        pd.DataFrame(columns=["ranking", "qini", "qini_normalised"]),
        {},
        {},
        params,
    )


def fit_uplift(
    features: pd.DataFrame,
    target: ArrayLike,
    treatment: ArrayLike,
    *,
    model: str = "gbm",
    folds: int = 5,
    seed: int = 0,
    allow: Iterable[str] = (),
    baseline: ArrayLike | None = None,
    bins: int = 10,
    confidence: float = 0.95,
    train_rows: int = 200_000,
) -> Uplift:
    """Cross-fitted T- and X-learner uplift, Qini and uplift by decile; see the module.

    Args:
        features: one row per participant (numbers, booleans, categories).
        target: 0/1 outcome per participant (bought in the window).
        treatment: 0/1 randomised treatment flag per participant.
        model: ``"gbm"`` or ``"logistic"``.
        folds: cross-fitting folds (≥ 2), stratified on treatment × outcome.
        seed: seeds the folds and the models.
        allow: features exempt from the leak guard.
        baseline: scores of the propensity-only ranking to compare with (default: the
            marginal buying probability from the two outcome models).
        bins: groups of the uplift-by-decile tables.
        confidence: level of the intervals.
        train_rows: each fold's models are trained on at most this many of the fold's
            training customers (a seeded simple random sample above it; both arms'
            models then come from it); everyone is still scored out of fold.

    Raises:
        LeakageError: a feature's own ROC-AUC against the outcome exceeds 0.95.
        ValueError: bad options or inputs.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = pd.DataFrame({"a": rng.normal(size=2000)})
        >>> t = rng.integers(0, 2, 2000)
        >>> y = (rng.random(2000) < 0.3 + 0.2 * t * (x["a"] > 0)).astype(int)
        >>> u = fit_uplift(x, y, t, model="logistic")
        >>> u.status, bool(u.qini.set_index("ranking").loc["t_learner", "qini_normalised"] > 0)
        ('ok', True)
    """
    check_options(model, folds, confidence)
    check_count("train_rows", train_rows, 2)
    prepared, categorical = prepare(features)
    n = len(prepared)
    y = binary(target, "target", n)
    t = binary(treatment, "treatment", n)
    base = None if baseline is None else np.asarray(baseline, dtype=float)
    if base is not None and base.shape != (n,):
        raise ValueError(f"baseline: expected {n} scores, found shape {base.shape}")
    params: dict[str, Any] = {
        "model": model,
        "folds": folds,
        "seed": seed,
        "confidence": confidence,
        "customers": n,
        "treated": int(t.sum()),
        "features": list(prepared.columns),
        "categorical": categorical,
        "allow": sorted(map(str, allow)),
        "baseline": "supplied" if base is not None else "marginal probability g·μ₁ + (1 − g)·μ₀",
    }
    d = difference(
        [int((y * t).sum())],
        [int(t.sum())],
        [int((y * (1 - t)).sum())],
        [int((1 - t).sum())],
        confidence=confidence,
    )
    effect = (float(d.difference[0]), float(d.low[0]), float(d.high[0]), float(d.p_value[0]))
    bad = _degenerate(y, t, folds)
    if bad:
        check_leaks(pd.Series(dtype=float), allow, prepared.columns)
        return _empty(*bad, prepared.index, params, effect)
    check_leaks(feature_aucs(prepared, y, folds=folds, seed=seed), allow, prepared.columns)
    usable = [c for c in prepared.columns if not is_constant(prepared[c])]
    if not usable:
        return _empty(
            "no_features",
            "every feature is constant: nothing to learn from",
            prepared.index,
            params,
            effect,
        )
    cats = [c for c in categorical if c in usable]
    frame = model_frame(prepared[usable], model, cats)
    scores = _cross_fit(frame, y, t, model, folds, seed, cats, train_rows)
    if base is not None:
        scores["propensity"] = base
    scores.index = prepared.index
    rows, curves, deciles = [], {}, {}
    for name in RANKINGS:
        s = scores[name].to_numpy()
        area, normalised = qini_coefficient(s, y, t)
        rows.append({"ranking": name, "qini": area, "qini_normalised": normalised})
        curves[name] = qini_curve(s, y, t)
        deciles[name] = uplift_by_decile(s, y, t, bins=bins, confidence=confidence)
    return Uplift("ok", "", scores, *effect, pd.DataFrame(rows), curves, deciles, params)


def _degenerate(y: np.ndarray, t: np.ndarray, folds: int) -> tuple[Status, str] | None:
    if not len(y) or t.sum() == 0 or t.sum() == len(t):
        return "empty_arm", "no treated customers" if t.sum() == 0 else "no control customers"
    for arm, label in ((1, "treated"), (0, "control")):
        inside = y[t == arm]
        pos = int(inside.sum())
        fewest = min(pos, len(inside) - pos)
        if fewest < folds:
            which = "buyers" if pos <= len(inside) - pos else "non-buyers"
            return "not_enough_data", (
                f"{fewest} {which} among {label} customers for {folds} folds: each fold's "
                f"outcome models need both classes in both arms"
            )
    return None


def _cross_fit(
    frame: pd.DataFrame,
    y: np.ndarray,
    t: np.ndarray,
    model: str,
    folds: int,
    seed: int,
    categorical: list[str],
    train_rows: int,
) -> pd.DataFrame:
    numeric = [c for c in frame.columns if c not in categorical]
    out = np.full((len(y), 3), NAN)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rng = np.random.default_rng(seed)
    for train, test in cv.split(np.zeros(len(y)), 2 * t + y):
        train = subsample(train, train_rows, rng)
        treated, control = train[t[train] == 1], train[t[train] == 0]
        g = len(treated) / len(train)
        mu1 = clone(estimator(model, categorical, numeric, seed)).fit(
            frame.iloc[treated], y[treated]
        )
        mu0 = clone(estimator(model, categorical, numeric, seed)).fit(
            frame.iloc[control], y[control]
        )
        x_test = frame.iloc[test]
        p1, p0 = mu1.predict_proba(x_test)[:, 1], mu0.predict_proba(x_test)[:, 1]
        d1 = y[treated] - mu0.predict_proba(frame.iloc[treated])[:, 1]
        d0 = mu1.predict_proba(frame.iloc[control])[:, 1] - y[control]
        tau1 = clone(_regressor(model, categorical, numeric, seed)).fit(frame.iloc[treated], d1)
        tau0 = clone(_regressor(model, categorical, numeric, seed)).fit(frame.iloc[control], d0)
        out[test, 0] = p1 - p0
        out[test, 1] = g * tau0.predict(x_test) + (1 - g) * tau1.predict(x_test)
        out[test, 2] = g * p1 + (1 - g) * p0
    return pd.DataFrame(out, columns=list(RANKINGS))
