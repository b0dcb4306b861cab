"""Purchase propensity: planted model recovered, leak guard, hand-computed tables, statuses."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from threadpoolctl import threadpool_limits

from growthlens.stats.propensity import (
    LeakageError,
    average_precision,
    calibration_table,
    delong,
    feature_aucs,
    fit_propensity,
    gains_table,
    out_of_fold,
    roc_auc,
)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


def planted(n: int = 4000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A logistic model with two numbers, a category and a noise column; true p returned."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "city": rng.choice(["Moscow", "Kazan", "Omsk"], n),
            "noise": rng.normal(size=n),
        }
    )
    logit = (
        -1
        + 1.2 * x["x1"]
        - 0.8 * x["x2"]
        + x["city"].map({"Moscow": 0, "Kazan": 0.7, "Omsk": -0.7})
    )
    p = (1 / (1 + np.exp(-logit))).to_numpy()
    y = (rng.random(n) < p).astype(int)
    return x, y, p


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, object]:
    with threadpool_limits(1):
        x, y, p = planted()
        return x, y, p, fit_propensity(x, y)


def test_planted_auc_recovered_within_003(fitted: tuple) -> None:  # type: ignore[type-arg]
    x, y, p, result = fitted
    own = roc_auc(p, y)
    assert result.status == "ok"
    assert abs(result.roc_auc - own) <= 0.03, (result.roc_auc, own)
    assert result.roc_auc_low < result.roc_auc < result.roc_auc_high
    assert result.pr_auc_low < result.pr_auc < result.pr_auc_high
    assert result.scores.index.equals(x.index) and result.scores.notna().all()


def test_logistic_model_matches_planted(fitted: tuple) -> None:  # type: ignore[type-arg]
    x, y, p, _ = fitted
    result = fit_propensity(x, y, model="logistic", repeats=0)
    assert abs(result.roc_auc - roc_auc(p, y)) <= 0.01
    # a correctly specified model is calibrated: observed within 0.05 of predicted per decile
    cal = result.calibration
    assert (abs(cal["observed"] - cal["predicted"]) < 0.05).all()


def test_importance_ranks_planted_features(fitted: tuple) -> None:  # type: ignore[type-arg]
    _, _, _, result = fitted
    imp = result.importance.set_index("feature")["importance"]
    assert list(imp.index[:3]) == ["x1", "x2", "city"]
    assert abs(imp["noise"]) < 0.02 < imp["city"]


def test_tables_are_consistent(fitted: tuple) -> None:  # type: ignore[type-arg]
    _, y, _, result = fitted
    gains = result.gains
    assert gains["customers"].sum() == len(y) and gains["positives"].sum() == y.sum()
    assert gains["gain"].iloc[-1] == pytest.approx(1.0)
    assert gains["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert gains["rate"].iloc[0] > gains["rate"].iloc[-1]
    assert gains["gain"].is_monotonic_increasing
    assert result.calibration["predicted"].is_monotonic_decreasing


def test_reproducible_by_seed() -> None:
    x, y, _ = planted(n=800)
    a = fit_propensity(x, y, repeats=1)
    b = fit_propensity(x, y, repeats=1)
    pd.testing.assert_series_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.importance, b.importance)


def test_planted_leak_refused_and_allowed() -> None:
    x, y, _ = planted(n=1500)
    rng = np.random.default_rng(9)
    leaky = x.assign(bought_in_window=y + rng.normal(0, 0.3, len(y)))
    with pytest.raises(LeakageError, match="bought_in_window") as err:
        fit_propensity(leaky, y, repeats=0)
    assert set(err.value.features) == {"bought_in_window"}
    assert err.value.features["bought_in_window"] > 0.95
    allowed = fit_propensity(leaky, y, repeats=0, allow=["bought_in_window"])
    assert allowed.status == "ok" and allowed.roc_auc > 0.95
    row = allowed.feature_auc.set_index("feature").loc["bought_in_window"]
    assert row["allowed"] and row["auc"] > 0.95


def test_negative_leak_and_categorical_leak_refused_but_id_is_not() -> None:
    x, y, _ = planted(n=1000)
    backwards = x.assign(days_since_window_purchase=-(y * 10.0))
    with pytest.raises(LeakageError, match="days_since_window_purchase"):
        fit_propensity(backwards, y, repeats=0)
    label = x.assign(status=np.where(y == 1, "buyer", "other"))
    with pytest.raises(LeakageError, match="status"):
        fit_propensity(label, y, repeats=0)
    ids = x.assign(customer_id=[f"c{i}" for i in range(len(y))])
    auc = feature_aucs(ids, y)
    assert auc["customer_id"] < 0.6  # unseen categories get the training folds' rate


def test_allow_must_name_features() -> None:
    x, y, _ = planted(n=300)
    with pytest.raises(ValueError, match="allow: expected feature names"):
        fit_propensity(x, y, allow=["nope"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "forest"}, "model: expected one of gbm, logistic, found 'forest'"),
        ({"folds": 1}, "folds: expected an integer ≥ 2, found 1"),
        ({"confidence": 1.5}, "confidence: expected a level in"),
        ({"repeats": -1}, "repeats: expected an integer ≥ 0"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    x, y, _ = planted(n=100)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        fit_propensity(x, y, **kwargs)


def test_bad_inputs() -> None:
    x, y, _ = planted(n=50)
    with pytest.raises(ValueError, match=r"target: expected 0/1 values, found \[2.0\]"):
        fit_propensity(x, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="target: expected 50 values"):
        fit_propensity(x, y[:10])
    with pytest.raises(ValueError, match="expected numbers, booleans or categories"):
        fit_propensity(x.assign(when=pd.Timestamp("2024-01-01")), y)


def test_degenerate_inputs_give_a_status() -> None:
    x, y, _ = planted(n=200)
    one = fit_propensity(x, np.zeros(len(y), int))
    assert one.status == "one_class" and math.isnan(one.roc_auc) and not one.ok
    few = np.zeros(len(y), int)
    few[:3] = 1
    scarce = fit_propensity(x, few, folds=5)
    assert scarce.status == "not_enough_data" and "3 buyers for 5 folds" in scarce.reason
    empty = fit_propensity(x.iloc[:0], np.array([], int))
    assert empty.status == "not_enough_data" and empty.scores.empty
    flat = fit_propensity(pd.DataFrame({"a": np.ones(len(y)), "b": ["x"] * len(y)}), y)
    assert flat.status == "no_features" and math.isnan(flat.roc_auc)


def test_constant_feature_dropped_and_booleans_and_missing_used() -> None:
    x, y, _ = planted(n=1200)
    x = x.assign(const=1.0, flag=x["x1"] > 0)
    x.loc[::7, "x2"] = np.nan
    x.loc[::11, "city"] = None
    result = fit_propensity(x, y, repeats=0)
    assert result.status == "ok" and result.params["dropped_constant"] == ["const"]
    assert result.roc_auc > 0.75


def test_roc_and_pr_auc_match_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    s = np.round(y * 0.5 + rng.normal(size=300), 1)  # ties included
    assert roc_auc(s, y) == pytest.approx(roc_auc_score(y, s))
    assert delong(s, y)[0] == pytest.approx(roc_auc_score(y, s))
    assert average_precision(s, y)[0] == pytest.approx(average_precision_score(y, s))


def test_delong_variance_against_pairwise_definition() -> None:
    # DeLong's components from their O(m·n) definition: ψ(x, z) = 1, ½, 0.
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 60)
    s = np.round(y + rng.normal(size=60), 0)
    x, z = s[y == 1], s[y == 0]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / len(x) + v01.var(ddof=1) / len(z))
    auc, low, high = delong(s, y)
    assert auc == pytest.approx(psi.mean())
    assert (high - low) / 2 == pytest.approx(1.959964 * se, rel=1e-5)


def test_gains_by_hand_with_ties() -> None:
    # 10 customers, 5 groups of 2; ties (0.5, 0.5) keep input order.
    scores = [0.1, 0.5, 0.9, 0.5, 0.3, 0.8, 0.2, 0.7, 0.6, 0.4]
    target = [0, 1, 1, 0, 0, 1, 0, 0, 1, 1]
    # order: 0.9(1) 0.8(1) | 0.7(0) 0.6(1) | 0.5(1) 0.5(0) | 0.4(1) 0.3(0) | 0.2(0) 0.1(0)
    g = gains_table(scores, target, bins=5)
    assert g["positives"].tolist() == [2, 1, 1, 1, 0]
    assert g["rate"].tolist() == [1.0, 0.5, 0.5, 0.5, 0.0]
    assert g["lift"].tolist() == pytest.approx([2.0, 1.0, 1.0, 1.0, 0.0])
    assert g["gain"].tolist() == pytest.approx([0.4, 0.6, 0.8, 1.0, 1.0])
    assert g["cumulative_lift"].tolist() == pytest.approx([2.0, 1.5, 4 / 3, 1.25, 1.0])
    cal = calibration_table(scores, target, bins=5)
    assert cal["predicted"].tolist() == pytest.approx([0.85, 0.65, 0.5, 0.35, 0.15])
    assert cal["observed"].tolist() == [1.0, 0.5, 0.5, 0.5, 0.0]


def test_uneven_groups_cover_everyone() -> None:
    g = gains_table(np.arange(23.0), np.arange(23) % 2)
    assert g["customers"].tolist() == [3, 2, 2, 3, 2, 2, 3, 2, 2, 2]
    assert g["customers"].sum() == 23


def test_out_of_fold_scores_only_from_other_folds() -> None:
    # A model that memorised its training rows would score an identifier perfectly;
    # out of fold, a pure-noise feature gives an AUC near 0.5.
    rng = np.random.default_rng(7)
    x = pd.DataFrame({"noise": rng.normal(size=2000)})
    y = rng.integers(0, 2, 2000)
    assert abs(roc_auc(out_of_fold(x, y), y) - 0.5) < 0.05


def test_all_tie_patterns_of_a_tiny_fixture() -> None:
    for target in itertools.product([0, 1], repeat=4):
        if 0 < sum(target) < 4:
            s = [0.4, 0.3, 0.2, 0.1]
            assert roc_auc(s, target) == pytest.approx(roc_auc_score(target, s))
