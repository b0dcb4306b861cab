"""Model imputation of a missing categorical attribute, with its cross-validated accuracy.

Pure statistics on a per-customer pandas frame (one row per customer, one column per
feature) and the attribute (one value per customer, missing where unknown, e.g. the gender
of the profiles recovered from a file without it). What :func:`fit_imputation` does:

- **Model.** The classifier and feature handling of :mod:`growthlens.stats.propensity`
  (``prepare``, ``model_frame``, ``estimator``): ``"gbm"`` (histogram gradient boosting,
  its settings ``GBM``) or ``"logistic"`` (L2 logistic regression on standardised numbers
  and one-hot categories), both multiclass. Features constant over the customers whose
  attribute is known are dropped (listed in ``params["dropped_constant"]``).
- **Cross-validated accuracy.** The customers whose attribute is known are split in
  ``folds`` stratified folds (shuffled with ``seed``); each is predicted by a model fitted
  on the others (above ``train_rows`` training customers, on a seeded simple random sample
  of that many). The predicted class is the most probable one (ties: the first class in
  sorted order). Accuracy = share of known customers whose out-of-fold prediction equals
  their value, with a Wilson interval: it treats the out-of-fold predictions as given
  (customer sampling variation, not the variation of refitting), as propensity does.
- **Baseline.** The accuracy of guessing the most common known value for everyone: its
  share among the known (ties: the first class). Beside it the exact one-sided McNemar
  test of the model against that guess on the same customers: with ``b`` customers the
  model gets right and the guess wrong and ``c`` the reverse, ``p = P(Binomial(b + c, ½) ≥
  b)`` (1 when ``b + c = 0``: the two never disagree).
- **Per class**: precision (of the known customers predicted this class, the share who
  are) and recall (of those who are, the share predicted so); the confusion matrix
  (actual × predicted, every pair, zeros included).
- **Imputation.** A final model fitted on every known customer (same sample rule) predicts
  the customers whose value is missing: the most probable class and its probability.
  Assumption (stated, not testable here): the attribute is missing at random given the
  features — the customers without it resemble those with it who look the same. The mean
  probability of the predicted class is reported for the known (out of fold) and for the
  imputed customers; a clear gap says the imputed customers look unlike the known ones.
- **Degenerate input** gives a status and NaN figures, never an exception: no customers
  or nobody with a known value (``"not_enough_data"``), nothing missing
  (``"nothing_to_impute"``), one known value only (``"one_class"``), a value known for
  fewer than 2 · ``folds`` customers (``"not_enough_data"``: every fold must hold it, and
  every training part twice as many), no feature that varies (``"no_features"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from growthlens.stats.propensity import (
    MODELS,
    check_count,
    check_options,
    cross_fits,
    estimator,
    is_constant,
    model_frame,
    prepare,
    subsample,
)
from growthlens.stats.proportions import wilson

Status = Literal["ok", "not_enough_data", "one_class", "no_features", "nothing_to_impute"]
NAN = math.nan
CONFUSION_COLUMNS = ("actual", "predicted", "customers", "share_of_actual")
CLASS_COLUMNS = ("value", "known", "share", "precision", "recall", "imputed", "mean_probability")
PREDICTION_COLUMNS = ("predicted", "probability")
__all__ = ["MODELS", "Imputation", "fit_imputation", "mcnemar_greater"]


@dataclass(frozen=True)
class Imputation:
    """A cross-validated imputation of one categorical attribute.

    Attributes:
        status: ``"ok"``, ``"not_enough_data"``, ``"one_class"``, ``"no_features"`` or
            ``"nothing_to_impute"``.
        reason: why, when the status is not ``"ok"``; else ``""``.
        known, missing: customers with and without a value.
        classes: the known values, sorted.
        accuracy, accuracy_low, accuracy_high: out-of-fold accuracy, Wilson interval.
        baseline: accuracy of guessing ``baseline_class`` (the most common known value).
        baseline_class: that value (None without known values).
        p_value: exact one-sided McNemar test, model better than the guess.
        probability_known: mean out-of-fold probability of the predicted class (known).
        probability_missing: the same for the imputed customers.
        confusion: columns :data:`CONFUSION_COLUMNS` (``share_of_actual`` = customers ÷
            customers with that actual value); empty unless ``"ok"``.
        per_class: columns :data:`CLASS_COLUMNS`, one row per class: known customers, their
            share, precision, recall, imputed customers predicted this value and their mean
            probability; with a status other than ``"ok"``, the known counts only.
        predictions: the customers whose value is missing (the features' index):
            ``predicted``, ``probability``; empty unless ``"ok"``.
        out_of_fold: the known customers: ``actual``, ``predicted``, ``probability``;
            empty unless ``"ok"``.
        params: what it ran with (model, folds, seed, confidence, features, categorical,
            dropped_constant).
    """

    status: Status
    reason: str
    known: int
    missing: int
    classes: tuple[Any, ...]
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    baseline: float
    baseline_class: Any
    p_value: float
    probability_known: float
    probability_missing: float
    confusion: pd.DataFrame
    per_class: pd.DataFrame
    predictions: pd.DataFrame
    out_of_fold: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the model was fitted (status ``"ok"``)."""
        return self.status == "ok"


def mcnemar_greater(model_right: ArrayLike, baseline_right: ArrayLike) -> float:
    """Exact one-sided McNemar p-value that the model is right more often than the baseline.

    ``b`` = pairs where only the model is right, ``c`` = only the baseline:
    ``P(Binomial(b + c, ½) ≥ b)``; 1 when they never disagree.

    >>> round(mcnemar_greater([1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1]), 4)  # b = 4, c = 1
    0.1875
    """
    m = np.asarray(model_right, dtype=bool)
    g = np.asarray(baseline_right, dtype=bool)
    b, c = int((m & ~g).sum()), int((~m & g).sum())
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue)


def _sorted_classes(values: np.ndarray) -> list[Any]:
    unique = list(pd.unique(values))
    try:
        return sorted(unique)
    except TypeError:  # mixed types: sort by their text
        return sorted(unique, key=str)


def _empty(
    status: Status,
    reason: str,
    index: pd.Index,
    known_mask: np.ndarray,
    values: np.ndarray,
    params: dict[str, Any],
    classes: list[Any],
) -> Imputation:
    counts = pd.Series(values[known_mask]).value_counts()
    known = int(known_mask.sum())
    per_class = pd.DataFrame(
        {
            "value": classes,
            "known": [int(counts.get(c, 0)) for c in classes],
            "share": [counts.get(c, 0) / known if known else NAN for c in classes],
        }
    )
    for name in CLASS_COLUMNS[3:]:
        per_class[name] = NAN
    base_class = classes[int(np.argmax(per_class["known"]))] if classes else None
    return Imputation(
        status=status,
        reason=reason,
        known=known,
        missing=len(values) - known,
        classes=tuple(classes),
        accuracy=NAN,
        accuracy_low=NAN,
        accuracy_high=NAN,
        baseline=float(per_class["share"].max()) if classes else NAN,
        baseline_class=base_class,
        p_value=NAN,
        probability_known=NAN,
        probability_missing=NAN,
        confusion=pd.DataFrame(columns=list(CONFUSION_COLUMNS)),
        per_class=per_class[list(CLASS_COLUMNS)],
        predictions=pd.DataFrame(columns=list(PREDICTION_COLUMNS), index=index[:0]),
        out_of_fold=pd.DataFrame(columns=["actual", *PREDICTION_COLUMNS], index=index[:0]),
        params=params,
    )


def _probabilities(fitted: Any, frame: pd.DataFrame, k: int) -> np.ndarray:
    """``predict_proba`` as rows × all ``k`` classes (a class the fit never saw gets 0)."""
    out = np.zeros((len(frame), k))
    out[:, np.asarray(fitted.classes_, dtype=int)] = fitted.predict_proba(frame)
    return out


def fit_imputation(
    features: pd.DataFrame,
    target: ArrayLike,
    *,
    model: str = "gbm",
    folds: int = 5,
    seed: int = 0,
    confidence: float = 0.95,
    train_rows: int = 200_000,
) -> Imputation:
    """Cross-validate a classifier of ``target`` and predict its missing values (module doc).

    Args:
        features: one row per customer, one column per feature (numbers, booleans,
            categories; missing allowed); its index labels the predictions.
        target: the attribute per customer (same length and order as ``features``);
            None / NaN / NA where unknown. Any hashable values (codes or text).
        model: ``"gbm"`` (histogram gradient boosting) or ``"logistic"``.
        folds: stratified cross-validation folds (≥ 2).
        seed: seeds the folds, the models and the training samples.
        confidence: level of the accuracy's Wilson interval.
        train_rows: each model is trained on at most this many customers (a seeded simple
            random sample above it); every customer is still predicted.

    Raises:
        ValueError: bad options, a target of the wrong length, or unsupported dtypes.

    Example:
        >>> x = pd.DataFrame({"a": np.tile(np.arange(10.0), 4)})
        >>> y = pd.Series(np.where(x["a"] < 5, "f", "m"), dtype=object)
        >>> y[[0, 15]] = None
        >>> r = fit_imputation(x, y, model="logistic", folds=2)
        >>> r.status, r.known, r.missing, r.accuracy, r.baseline
        ('ok', 38, 2, 1.0, 0.5)
        >>> r.predictions["predicted"].tolist()
        ['f', 'm']
    """
    check_options(str(model), folds, confidence)
    check_count("train_rows", train_rows, 2)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: expected an integer, found {seed!r}")
    prepared, categorical = prepare(features)
    values = pd.Series(target).to_numpy(dtype=object)
    if values.ndim != 1 or len(values) != len(prepared):
        raise ValueError(
            f"target: expected {len(prepared)} values (one per customer), found shape "
            f"{values.shape}"
        )
    known_mask = ~pd.isna(values)
    try:
        classes = _sorted_classes(values[known_mask])
    except TypeError:
        raise ValueError("target: expected hashable values (codes or text)") from None
    params: dict[str, Any] = {
        "model": str(model),
        "folds": folds,
        "seed": seed,
        "confidence": confidence,
        "customers": len(values),
        "features": list(prepared.columns),
        "categorical": categorical,
    }
    index = prepared.index
    known, missing = int(known_mask.sum()), int((~known_mask).sum())

    def empty(status: Status, reason: str) -> Imputation:
        return _empty(status, reason, index, known_mask, values, params, classes)

    if len(values) == 0:
        return empty("not_enough_data", "no customers")
    if known == 0:
        return empty("not_enough_data", "the value is known for nobody: nothing to learn from")
    if missing == 0:
        return empty("nothing_to_impute", "the value is known for every customer")
    if len(classes) == 1:
        return empty(
            "one_class", f"every known customer has the same value ({classes[0]!r}): no model"
        )
    counts = pd.Series(values[known_mask]).value_counts()
    rare = [c for c in classes if counts[c] < 2 * folds]
    if rare:
        named = ", ".join(f"{c!r} ({counts[c]})" for c in rare)
        return empty(
            "not_enough_data",
            f"value(s) {named} known for fewer than {2 * folds} customers "
            f"(2 × {folds} folds): too few to learn and test",
        )
    rows = np.flatnonzero(known_mask)
    usable = [c for c in prepared.columns if not is_constant(prepared[c].iloc[rows])]
    params["dropped_constant"] = [c for c in prepared.columns if c not in usable]
    if not usable:
        return empty("no_features", "every feature is constant: nothing to learn from")
    cats = [c for c in categorical if c in usable]
    frame = model_frame(prepared[usable], str(model), cats)
    code = {c: i for i, c in enumerate(classes)}
    y = np.array([code[v] for v in values[known_mask]], dtype=np.int64)
    k = len(classes)

    rng = np.random.default_rng(seed)
    known_frame = frame.iloc[rows]
    oof = np.full((known, k), NAN)
    fits = cross_fits(known_frame, y, str(model), folds, seed, cats, train_rows, rng)
    for fitted, test in fits:
        oof[test] = _probabilities(fitted, known_frame.iloc[test], k)
    predicted = oof.argmax(axis=1)
    right = predicted == y
    accuracy = float(right.mean())
    low, high = wilson([int(right.sum())], [known], confidence=confidence)
    counts_arr = np.bincount(y, minlength=k)
    base = int(counts_arr.argmax())
    p_value = mcnemar_greater(right, y == base)

    train = subsample(np.arange(known), train_rows, rng)
    numeric = [c for c in usable if c not in cats]
    final = estimator(str(model), cats, numeric, seed).fit(known_frame.iloc[train], y[train])
    missing_rows = np.flatnonzero(~known_mask)
    proba = _probabilities(final, frame.iloc[missing_rows], k)
    imputed = proba.argmax(axis=1)

    pairs = pd.crosstab(
        pd.Categorical(y, categories=range(k)),
        pd.Categorical(predicted, categories=range(k)),
        dropna=False,
    ).to_numpy()
    confusion = pd.DataFrame(
        [
            {
                "actual": classes[a],
                "predicted": classes[p],
                "customers": int(pairs[a, p]),
                "share_of_actual": pairs[a, p] / counts_arr[a],
            }
            for a in range(k)
            for p in range(k)
        ]
    )
    column_sums = pairs.sum(axis=0)
    imputed_counts = np.bincount(imputed, minlength=k)
    top = proba.max(axis=1)
    per_class = pd.DataFrame(
        {
            "value": classes,
            "known": counts_arr.astype(int),
            "share": counts_arr / known,
            "precision": [
                pairs[i, i] / column_sums[i] if column_sums[i] else NAN for i in range(k)
            ],
            "recall": [pairs[i, i] / counts_arr[i] for i in range(k)],
            "imputed": imputed_counts.astype(int),
            "mean_probability": [
                float(top[imputed == i].mean()) if imputed_counts[i] else NAN for i in range(k)
            ],
        }
    )
    label = np.array(classes, dtype=object)
    return Imputation(
        status="ok",
        reason="",
        known=known,
        missing=missing,
        classes=tuple(classes),
        accuracy=accuracy,
        accuracy_low=float(low[0]),
        accuracy_high=float(high[0]),
        baseline=float(counts_arr[base] / known),
        baseline_class=classes[base],
        p_value=p_value,
        probability_known=float(oof.max(axis=1).mean()),
        probability_missing=float(top.mean()),
        confusion=confusion[list(CONFUSION_COLUMNS)],
        per_class=per_class[list(CLASS_COLUMNS)],
        predictions=pd.DataFrame(
            {"predicted": label[imputed], "probability": top}, index=index[missing_rows]
        ),
        out_of_fold=pd.DataFrame(
            {"actual": label[y], "predicted": label[predicted], "probability": oof.max(axis=1)},
            index=index[rows],
        ),
        params=params,
    )
