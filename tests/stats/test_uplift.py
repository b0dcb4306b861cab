"""Uplift: planted age-group uplifts recovered, Qini by hand, target list, statuses."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from growthlens.stats.propensity import LeakageError
from growthlens.stats.uplift import (
    Uplift,
    fit_uplift,
    qini_coefficient,
    qini_curve,
    segment_uplift,
    target_list,
    uplift_by_decile,
)

PLANTED = {"<30": 0.10, "30-49": 0.0, "50+": -0.05}


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


def planted(
    n: int = 20_000, seed: int = 11
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Randomised 50/50 campaign; the base rate rises with age, the uplift falls with it.

    P(buy | control) = 0.10 + 0.003·(age − 18) + 0.05·x, x ~ U(−1, 1), in [0.05, 0.41]; the
    treated add +10 points under 30, 0 at 30–49, −5 points at 50+ (no clipping needed).
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 71, n)
    x = rng.uniform(-1, 1, n)
    city = rng.choice(["Moscow", "Kazan", "Omsk"], n)
    t = rng.integers(0, 2, n)
    group = np.where(age < 30, "<30", np.where(age < 50, "30-49", "50+"))
    effect = pd.Series(group).map(PLANTED).to_numpy()
    p0 = 0.10 + 0.003 * (age - 18) + 0.05 * x
    y = (rng.random(n) < p0 + t * effect).astype(int)
    return pd.DataFrame({"age": age, "x": x, "city": city}), y, t, group


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, Uplift]:
    with threadpool_limits(1):
        x, y, t, group = planted()
        return x, y, t, group, fit_uplift(x, y, t)


def test_planted_age_group_uplifts_within_intervals(fitted: tuple) -> None:  # type: ignore[type-arg]
    _, y, t, group, result = fitted
    for learner in ("t_learner", "x_learner"):
        table = segment_uplift(y, t, group, scores=result.scores[learner]).set_index("segment")
        for name, truth in PLANTED.items():
            row = table.loc[name]
            assert row["low"] <= truth <= row["high"], (name, row.to_dict())
            # the model's mean predicted uplift in the group is near the planted value
            assert abs(row["predicted"] - truth) < 0.03, (learner, name, row["predicted"])
    assert table["customers"].sum() == len(y)


def test_uplift_qini_beats_propensity_ranking(fitted: tuple) -> None:  # type: ignore[type-arg]
    *_, result = fitted
    qini = result.qini.set_index("ranking")["qini_normalised"]
    assert result.status == "ok"
    assert qini["t_learner"] > qini["propensity"] + 0.03
    assert qini["x_learner"] > qini["propensity"] + 0.03
    assert qini["propensity"] < 0.02  # it targets the old, whom the campaign puts off
    assert result.best() in ("t_learner", "x_learner")


def test_deciles_and_average_effect(fitted: tuple) -> None:  # type: ignore[type-arg]
    _, y, _, group, result = fitted
    truth = float(pd.Series(group).map(PLANTED).mean())
    assert result.effect_low <= truth <= result.effect_high
    deciles = result.deciles[result.best()]
    assert deciles["customers"].sum() == len(y)
    assert deciles["uplift"].iloc[0] > 0.05 > deciles["uplift"].iloc[-1]
    assert deciles["predicted"].is_monotonic_decreasing
    curve = result.curves["t_learner"]
    assert curve["targeted"].iloc[-1] == len(y)


def test_target_list_favours_the_young(fitted: tuple) -> None:  # type: ignore[type-arg]
    _, y, t, group, result = fitted
    young = float(np.mean(group == "<30"))
    best = target_list(result.scores[result.best()], y, t, value=10.0, cost=0.5)
    assert abs(best.share - young) < 0.1 and best.gain > 0
    assert best.gain == pytest.approx(10 * best.incremental - 0.5 * best.size)
    assert best.gain == pytest.approx(best.curve["gain"].max())
    # when a contact costs more than any uplift can return, contact nobody
    none = target_list(result.scores[result.best()], y, t, value=1.0, cost=0.5)
    assert none.size == 0 and none.gain == 0.0


def test_supplied_baseline_is_used() -> None:
    x, y, t, _ = planted(n=3000, seed=2)
    result = fit_uplift(x, y, t, model="logistic", baseline=x["age"].to_numpy(float))
    assert result.scores["propensity"].tolist() == x["age"].astype(float).tolist()


def reference_qini(
    scores: np.ndarray, y: np.ndarray, t: np.ndarray
) -> tuple[list[int], list[float]]:
    """Straight from the definition, one threshold at a time (ties targeted together)."""
    xs, qs = [0], [0.0]
    for threshold in sorted(set(scores), reverse=True):
        top = scores >= threshold
        n_t, n_c = (top & (t == 1)).sum(), (top & (t == 0)).sum()
        y_t, y_c = (top & (t == 1) & (y == 1)).sum(), (top & (t == 0) & (y == 1)).sum()
        xs.append(int(top.sum()))
        qs.append(float(y_t - y_c * n_t / n_c) if n_c else float(y_t))
    return xs, qs


def test_qini_curve_against_definition_with_ties() -> None:
    rng = np.random.default_rng(4)
    s = rng.integers(0, 8, 200).astype(float)
    y, t = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    curve = qini_curve(s, y, t)
    xs, qs = reference_qini(s, y, t)
    assert curve["targeted"].tolist() == xs
    assert curve["incremental"].tolist() == pytest.approx(qs)


def test_qini_coefficient_by_hand() -> None:
    # order by score: (t1 y1) (t0 y0) (t1 y0) (t0 y1):
    # Q = 0, 1 (no control yet), 1 − 0·1/1 = 1, 1 − 0·2/1 = 1, 1 − 1·2/2 = 0
    y, t = [1, 0, 0, 1], [1, 0, 1, 0]
    curve = qini_curve([0.9, 0.8, 0.7, 0.6], y, t)
    assert curve["incremental"].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    # trapezoids 0.5 + 1 + 1 + 0.5 = 3; random line ends at 0; this is the perfect order
    assert qini_coefficient([0.9, 0.8, 0.7, 0.6], y, t) == (3.0, 1.0)
    # reversed: Q = 0, 0, −1, −0.5, 0 → area −1.5 → normalised −1.5 / 3
    assert qini_coefficient([0.6, 0.7, 0.8, 0.9], y, t) == (-1.5, -0.5)
    # all tied: one point (4, 0); the curve is the random line
    assert qini_coefficient([1, 1, 1, 1], y, t) == (0.0, 0.0)


def test_qini_of_random_scores_is_near_zero() -> None:
    _, y, t, _ = planted(n=20_000, seed=5)
    noise = np.random.default_rng(0).random(len(y))
    assert abs(qini_coefficient(noise, y, t)[1]) < 0.05


def test_uplift_by_decile_by_hand() -> None:
    scores = [6, 5, 4, 3, 2, 1]
    y = [1, 0, 1, 1, 0, 1]
    t = [1, 0, 1, 0, 1, 0]
    d = uplift_by_decile(scores, y, t, bins=2)
    # top: treated 2/2, control 0/1 → +1; bottom: treated 0/1, control 2/2 → −1
    assert d["treated"].tolist() == [2, 1] and d["control"].tolist() == [1, 2]
    assert d["uplift"].tolist() == [1.0, -1.0]
    assert d["predicted"].tolist() == [5.0, 2.0]


def test_segment_with_an_empty_arm_is_nan() -> None:
    table = segment_uplift([1, 0, 1], [1, 1, 0], ["a", "a", "b"])
    assert table["segment"].tolist() == ["a", "b"]
    assert table["uplift"].isna().all()


def test_target_list_by_hand() -> None:
    # uplift curve U(k) = 0, 0, 2, 1.5, 0 (see qini_curve's example): value 1, cost 0.2
    tl = target_list([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1], [1, 0, 1, 0], value=1, cost=0.2, points=4)
    assert tl.curve["gain"].tolist() == pytest.approx([0.0, -0.2, 1.6, 0.9, -0.8])
    assert (tl.size, tl.share, tl.incremental) == (2, 0.5, 2.0)


def test_leak_guard_applies() -> None:
    x, y, t, _ = planted(n=2000, seed=3)
    with pytest.raises(LeakageError, match="window_orders"):
        fit_uplift(x.assign(window_orders=y * 2), y, t, model="logistic")
    ok = fit_uplift(x.assign(window_orders=y * 2), y, t, model="logistic", allow=["window_orders"])
    assert ok.status == "ok"


def test_degenerate_inputs_give_a_status() -> None:
    x, y, t, _ = planted(n=400, seed=1)
    empty = fit_uplift(x, y, np.ones(len(y), int))
    assert empty.status == "empty_arm" and "no control" in empty.reason
    assert empty.scores.empty and math.isnan(empty.effect)
    few = y.copy()
    few[t == 1] = 0
    few[np.flatnonzero(t == 1)[:2]] = 1
    scarce = fit_uplift(x, few, t)
    assert scarce.status == "not_enough_data" and "2 buyers among treated" in scarce.reason
    flat = fit_uplift(pd.DataFrame({"a": np.zeros(len(y))}), y, t)
    assert flat.status == "no_features" and not flat.ok


def test_bad_options() -> None:
    x, y, t, _ = planted(n=100)
    with pytest.raises(ValueError, match="model: expected one of gbm, logistic"):
        fit_uplift(x, y, t, model="causal_forest")
    with pytest.raises(ValueError, match="treatment: expected 0/1 values"):
        fit_uplift(x, y, np.where(t == 1, "email", "none"))
    with pytest.raises(ValueError, match="baseline: expected 100 scores"):
        fit_uplift(x, y, t, baseline=[1.0, 2.0])
    with pytest.raises(ValueError, match="cost: expected a number ≥ 0"):
        target_list(np.zeros(100), y, t, value=1.0, cost=-1.0)
    with pytest.raises(ValueError, match="bins: expected an integer ≥ 1"):
        uplift_by_decile(np.zeros(100), y, t, bins=0)
