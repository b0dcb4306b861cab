"""growthlens.stats.imputation: accuracy on a deterministic attribute, noise against the
baseline (one fixture and a seeded calibration of the McNemar test), the tables, and every
degenerate status."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint
from threadpoolctl import threadpool_limits

from growthlens.stats.imputation import CLASS_COLUMNS, fit_imputation, mcnemar_greater


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # scikit-learn's OpenMP threads fight over the shared cores: one is many times faster
    with threadpool_limits(1):
        yield


def _deterministic(n: int = 600, seed: int = 1) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """x in 0..29; the attribute is 'a' below 10, 'b' below 20, else 'c'; 10% hidden."""
    rng = np.random.default_rng(seed)
    x = np.tile(np.arange(30), n // 30)
    truth = pd.Series(np.select([x < 10, x < 20], ["a", "b"], "c"), dtype=object)
    features = pd.DataFrame(
        {"x": x.astype(float), "band": [f"k{v // 10}" for v in x], "noise": rng.normal(size=n)},
        index=pd.Index(np.arange(n) + 1000, name="user_id"),
    )
    truth.index = features.index
    target = truth.copy()
    target[rng.random(n) < 0.1] = None
    return features, target, truth


@pytest.mark.parametrize(("model", "columns"), [("gbm", ["x", "noise"]), ("logistic", ["band"])])
def test_deterministic_attribute_is_recovered_exactly(model: str, columns: list[str]) -> None:
    features, target, truth = _deterministic()
    r = fit_imputation(features[columns], target, model=model, folds=5, seed=0)
    assert r.status == "ok", r.reason
    known = int(target.notna().sum())
    assert (r.known, r.missing) == (known, len(target) - known)
    assert r.classes == ("a", "b", "c")
    assert r.accuracy == 1.0
    low, high = proportion_confint(known, known, alpha=0.05, method="wilson")
    assert (r.accuracy_low, r.accuracy_high) == pytest.approx((low, high))
    counts = target.value_counts()
    assert r.baseline == pytest.approx(counts.max() / known)
    assert r.baseline_class == counts.sort_index().idxmax()
    # every prediction of a hidden value equals the truth, with its row label kept
    hidden = target.isna()
    assert list(r.predictions.index) == list(features.index[hidden])
    assert (r.predictions["predicted"] == truth[hidden]).all()
    assert r.predictions["probability"].between(1 / 3, 1).all()
    # tables: a diagonal confusion matrix, precision and recall 1
    c = r.confusion
    assert len(c) == 9 and c["customers"].sum() == known
    off = c.loc[c["actual"] != c["predicted"], "customers"]
    assert (off == 0).all()
    pc = r.per_class.set_index("value")
    assert list(r.per_class.columns) == list(CLASS_COLUMNS)
    assert (pc["precision"] == 1).all() and (pc["recall"] == 1).all()
    assert pc["imputed"].sum() == r.missing
    assert pc["known"].to_dict() == counts.sort_index().to_dict()
    assert r.p_value < 1e-10
    assert (r.out_of_fold["actual"] == r.out_of_fold["predicted"]).all()


def test_noise_is_no_better_than_guessing_and_the_interval_covers_the_guess() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    features = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.exponential(size=n), "c": rng.choice(list("uvw"), n)}
    )
    target = pd.Series((rng.random(n) < 0.6).astype(int), dtype=object)
    target[rng.random(n) < 0.1] = None
    r = fit_imputation(features, target, folds=5, seed=3)
    assert r.status == "ok"
    assert abs(r.accuracy - r.baseline) < 0.03
    assert r.accuracy_low <= r.baseline <= r.accuracy_high
    assert r.p_value > 0.05
    # the probabilities say so too: close to a coin
    assert r.probability_known < 0.6 and r.probability_missing < 0.6


def test_mcnemar_against_scipy_and_statsmodels() -> None:
    model = np.array([1, 1, 1, 1, 1, 0, 1, 0, 1, 1], dtype=bool)
    guess = np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 0], dtype=bool)
    b, c = 6, 1  # only the model right / only the guess right
    p = mcnemar_greater(model, guess)
    assert p == pytest.approx(stats.binom.sf(b - 1, b + c, 0.5))
    assert p == pytest.approx((7 + 1) / 128)  # P(X = 6) + P(X = 7)
    two_sided = mcnemar([[2, c], [b, 1]], exact=True).pvalue
    assert p == pytest.approx(two_sided / 2)
    assert mcnemar_greater([1, 0], [1, 0]) == 1.0  # never disagree: no evidence


def test_calibration_of_beats_guessing_under_noise() -> None:
    """Seeded Monte-Carlo: on pure noise the model is declared better than guessing (p <
    0.05) in at most about 5% of datasets (the test is conservative here: a noisy model is
    worse than the constant guess)."""
    hits = 0
    reps = 100
    for seed in range(reps):
        rng = np.random.default_rng(100 + seed)
        n = 400
        features = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
        target = pd.Series(rng.choice(["f", "m"], n, p=[0.4, 0.6]), dtype=object)
        target[:20] = None
        r = fit_imputation(features, target, model="logistic", folds=4, seed=seed)
        hits += r.p_value < 0.05
    assert hits <= 9  # P(Binomial(100, 0.05) > 9) ≈ 0.03


@pytest.mark.parametrize("model", ["logistic", "gbm"])
def test_multiclass_imbalanced_signal_beats_the_baseline(model: str) -> None:
    rng = np.random.default_rng(11)
    n = 4000
    group = rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1])
    shift = pd.Series(group).map({"x": 0.0, "y": 1.5, "z": 3.0}).to_numpy()
    features = pd.DataFrame({"s": shift + rng.normal(size=n), "t": rng.normal(size=n)})
    target = pd.Series(group, dtype=object)
    target[rng.random(n) < 0.2] = None
    r = fit_imputation(features, target, model=model, folds=5, seed=0)
    assert r.status == "ok"
    assert r.baseline == pytest.approx((target == "x").sum() / target.notna().sum())
    assert r.accuracy > r.baseline + 0.05 and r.p_value < 0.001
    assert r.accuracy_low > r.baseline
    # Bayes accuracy of the planted model, computed by quadrature of the three densities
    grid = np.linspace(-6, 9, 30001)
    dens = np.array([p * stats.norm.pdf(grid - m) for p, m in [(0.6, 0), (0.3, 1.5), (0.1, 3)]])
    bayes = float(np.trapezoid(dens.max(axis=0), grid))
    assert abs(r.accuracy - bayes) < 0.03
    truth = pd.Series(group)[target.isna()]
    hit = (r.predictions["predicted"].to_numpy() == truth.to_numpy()).mean()
    assert abs(hit - bayes) < 0.05


@pytest.mark.parametrize(
    ("target", "features", "status", "words"),
    [
        ([], {"a": []}, "not_enough_data", "no customers"),
        ([None] * 20, {"a": range(20)}, "not_enough_data", "nobody"),
        (["f", "m"] * 20, {"a": range(40)}, "nothing_to_impute", "every customer"),
        (["f"] * 30 + [None] * 5, {"a": range(35)}, "one_class", "same value"),
        (["f"] * 30 + ["m"] * 9 + [None], {"a": range(40)}, "not_enough_data", "'m' (9)"),
        (["f", "m"] * 20 + [None], {"a": [1.0] * 41}, "no_features", "constant"),
        (["f", "m"] * 20 + [None], {}, "no_features", "constant"),
    ],
)
def test_degenerate_input_gives_a_status_and_nan(
    target: list[object], features: dict[str, object], status: str, words: str
) -> None:
    frame = pd.DataFrame(features, index=range(len(target)))
    r = fit_imputation(frame, target, folds=5)
    assert r.status == status and words in r.reason
    assert not r.ok
    assert math.isnan(r.accuracy) and math.isnan(r.accuracy_low) and math.isnan(r.p_value)
    assert r.predictions.empty and r.confusion.empty
    assert r.known + r.missing == len(target)


def test_bad_options_and_input_are_value_errors() -> None:
    frame = pd.DataFrame({"a": range(10)})
    with pytest.raises(ValueError, match="model: expected one of gbm, logistic"):
        fit_imputation(frame, [0, 1] * 5, model="boosting")
    with pytest.raises(ValueError, match="folds: expected an integer ≥ 2"):
        fit_imputation(frame, [0, 1] * 5, folds=1)
    with pytest.raises(ValueError, match="target: expected 10 values"):
        fit_imputation(frame, [0, 1])
    with pytest.raises(ValueError, match="seed: expected an integer"):
        fit_imputation(frame, [0, 1] * 5, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected numbers, booleans or categories"):
        fit_imputation(pd.DataFrame({"d": pd.date_range("2020-01-01", periods=10)}), [0] * 10)
