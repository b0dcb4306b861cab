"""k-prototypes clusters: planted recovery, choice of k, stability, sample-then-assign, profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from growthlens.stats.clusters import (
    UNKNOWN,
    Prototypes,
    choose_k,
    cluster_customers,
    default_gamma,
    describe,
    dissimilarities,
    fit_kprototypes,
    kneedle,
    prepare_features,
    profile_clusters,
    suggest_action,
)

NUMERIC = ["spend", "rows", "age"]
CATEGORICAL = ["city", "group"]


def planted(n: int, k: int, seed: int, purity: float = 0.8) -> tuple[pd.DataFrame, np.ndarray]:
    """``k`` clusters: numeric centres at least 5 noise sds apart, own city and group (80%)."""
    rng = np.random.default_rng(seed)
    while True:
        centres = rng.uniform(-6.0, 6.0, (k, 3))
        gap = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1)) + np.eye(k) * 99
        if gap.min() >= 5:
            break
    truth = rng.integers(0, k, n)
    z = centres[truth] + rng.normal(size=(n, 3))
    frame = pd.DataFrame(
        {"spend": 500 + 100 * z[:, 0], "rows": 20 + 3 * z[:, 1], "age": 40 + 4 * z[:, 2]}
    )
    for name in CATEGORICAL:
        own = np.array([f"{name}{i}" for i in range(k)])
        frame[name] = np.where(rng.random(n) < purity, own[truth], own[rng.integers(0, k, n)])
    return frame, truth


@pytest.mark.parametrize(("k", "seed"), [(2, 0), (3, 1), (4, 2), (5, 3)])
def test_planted_clusters_are_recovered_with_their_k(k: int, seed: int) -> None:
    frame, truth = planted(2000, k, seed)
    fit = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=seed)
    assert fit.status == "ok", fit.reason
    assert fit.k == k
    assert adjusted_rand_score(truth, fit.labels) >= 0.8
    row = fit.selection.set_index("k").loc[k]
    assert row["chosen"] and row["stability"] >= 0.8
    # numbered by size: cluster 1 is the largest
    sizes = fit.labels.value_counts().sort_index().to_numpy()
    assert list(sizes) == sorted(sizes, reverse=True)


def test_same_seed_same_result_and_other_seeds_agree() -> None:
    frame, _ = planted(1500, 4, 7)
    a = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=1)
    b = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=1)
    pd.testing.assert_series_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.selection, b.selection)
    for seed in (2, 3):
        c = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=seed)
        assert c.k == a.k == 4
        assert adjusted_rand_score(a.labels, c.labels) >= 0.95


@pytest.mark.parametrize("engine", ["numpy", "kmodes"])
def test_k_on_threads_give_the_loop_result(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each k is seeded by itself, so fitting the k's side by side changes nothing."""
    from growthlens.stats import clusters

    frame, _ = planted(1500, 3, 11)
    kwargs = {"numeric": NUMERIC, "categorical": CATEGORICAL, "seed": 5, "engine": engine}
    threaded = cluster_customers(frame, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(clusters, "thread_map", lambda job, items: [job(x) for x in items])
    looped = cluster_customers(frame, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_series_equal(threaded.labels, looped.labels)
    pd.testing.assert_frame_equal(threaded.selection, looped.selection)
    assert threaded.k == looped.k == 3


def test_no_structure_is_not_stable_at_high_k() -> None:
    # one Gaussian blob, categories independent: splits of it vary with the seed at k = 6..8
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(1500, 3)), columns=NUMERIC)
    for name in CATEGORICAL:
        frame[name] = rng.choice(["a", "b", "c"], 1500)
    fit = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    stability = fit.selection.set_index("k")["stability"]
    assert stability.loc[[6, 7, 8]].min() < 0.8


def test_sample_then_assign_matches_the_full_fit() -> None:
    frame, truth = planted(12_000, 4, 11)
    full = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, k=4, sample=12_000)
    part = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, k=4, sample=2_000)
    assert full.sample == 12_000 and part.sample == 2_000 and part.customers == 12_000
    assert adjusted_rand_score(full.labels, part.labels) >= 0.95
    assert adjusted_rand_score(truth, part.labels) >= 0.95


def test_numpy_engine_agrees_with_kmodes() -> None:
    frame, _ = planted(600, 3, 5)
    feats = prepare_features(frame, numeric=NUMERIC, categorical=CATEGORICAL)
    gamma = default_gamma(feats.numeric)
    ours = fit_kprototypes(feats.numeric, feats.categorical, 3, gamma=gamma, seed=0)
    ref = fit_kprototypes(
        feats.numeric, feats.categorical, 3, gamma=gamma, seed=0, n_init=2, engine="kmodes"
    )
    assert adjusted_rand_score(ours.labels, ref.labels) >= 0.95
    assert ours.cost <= ref.cost * 1.001
    # the cost is the kmodes dissimilarity: squared distance + gamma * mismatches
    d = dissimilarities(feats.numeric, feats.categorical, ref.prototypes, gamma)
    assert d.min(axis=1).sum() == pytest.approx(ref.cost)


def test_dissimilarity_by_hand() -> None:
    protos = Prototypes(np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[0, 1], [1, 1]]))
    d = dissimilarities(np.array([[1.0, 1.0]]), np.array([[1, 0]]), protos, 0.3)
    # to 0: 1 + 1 + 0.3 * 2 mismatches; to 1: 0 + 1 + 0.3 * 1
    np.testing.assert_allclose(d, [[2.6, 1.3]])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 30),
    k=st.integers(1, 5),
    p=st.integers(0, 3),
    q=st.integers(0, 3),
    gamma=st.floats(0.0, 3.0),
)
def test_dissimilarities_match_a_plain_loop(
    seed: int, n: int, k: int, p: int, q: int, gamma: float
) -> None:
    rng = np.random.default_rng(seed)
    num, cat = rng.normal(size=(n, p)), rng.integers(0, 4, (n, q))
    protos = Prototypes(rng.normal(size=(k, p)), rng.integers(0, 4, (k, q)))
    got = dissimilarities(num, cat, protos, gamma)
    want = [
        [
            sum((num[i, j] - protos.numeric[c, j]) ** 2 for j in range(p))
            + gamma * sum(cat[i, j] != protos.categorical[c, j] for j in range(q))
            for c in range(k)
        ]
        for i in range(n)
    ]
    np.testing.assert_allclose(got, np.asarray(want, dtype=float).reshape(n, k), atol=1e-9)


def test_features_scaling_missing_and_dropped_columns() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, np.inf, 100.0],
            "flat": [5.0] * 6,
            "c": ["a", None, "b", "b", "a", "a"],
            "one": ["z"] * 6,
        }
    )
    feats = prepare_features(frame, numeric=["x", "flat"], categorical=["c", "one"], clip=4.0)
    assert feats.numeric_names == ["x"] and feats.categorical_names == ["c"]
    # median 3, quartiles 2 and 4 → scale 2 / 1.349; the missing value becomes the median
    z = feats.numeric[:, 0]
    np.testing.assert_allclose(z[:4], (np.array([1, 2, 3, 4]) - 3) / (2 / 1.349))
    assert z[4] == 0.0 and z[5] == 4.0  # clipped
    assert feats.categories["c"] == ["(unknown)", "a", "b"] and UNKNOWN == "(unknown)"
    table = feats.table.set_index("feature")
    assert table.loc["x", "missing"] == 1 and not table.loc["flat", "kept"]
    assert not table.loc["one", "kept"] and table.loc["c", "missing"] == 1
    assert len(feats.notes) == 2


def test_default_gamma_is_kmodes_default() -> None:
    x = np.random.default_rng(0).normal(size=(50, 3)) * [1.0, 2.0, 3.0]
    assert default_gamma(x) == pytest.approx(0.5 * np.mean(x.std(axis=0)))


@pytest.mark.parametrize(
    ("frame", "kwargs", "status"),
    [
        (pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}), {}, "not_enough_data"),
        (pd.DataFrame({"x": np.arange(40.0), "c": ["a", "b"] * 20}), {"k": 9}, "not_enough_data"),
        (pd.DataFrame({"x": [2.0] * 40, "c": ["a"] * 40}), {}, "no_variation"),
        (pd.DataFrame({"x": [1.0, 2.0] * 20, "c": ["a", "b"] * 20}), {"k": 3}, "not_enough_data"),
        (pd.DataFrame({"x": [], "c": []}), {}, "no_variation"),
    ],
)
def test_degenerate_input_gives_a_status(
    frame: pd.DataFrame, kwargs: dict[str, int], status: str
) -> None:
    fit = cluster_customers(frame, numeric=["x"], categorical=["c"], **kwargs)  # type: ignore[arg-type]
    assert fit.status == status and fit.reason and fit.k == 0
    assert (fit.labels == 0).all() and len(fit.labels) == len(frame)


def test_only_numeric_or_only_categorical_features_work() -> None:
    frame, truth = planted(800, 3, 4, purity=1.0)
    num = cluster_customers(frame, numeric=NUMERIC, categorical=[], k=3)
    cat = cluster_customers(frame, numeric=[], categorical=CATEGORICAL, k=3, engine="kmodes")
    assert adjusted_rand_score(truth, num.labels) >= 0.95
    assert adjusted_rand_score(truth, cat.labels) == pytest.approx(1.0)
    assert cat.notes  # kmodes needs both kinds: numpy ran


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numeric": ["nope"], "categorical": []}, "unknown"),
        ({"numeric": "spend", "categorical": []}, "string"),
        ({"numeric": ["spend"], "categorical": ["spend"]}, "both"),
        ({"numeric": ["spend"], "categorical": [], "k_range": (5, 2)}, "k_range"),
        ({"numeric": ["spend"], "categorical": [], "engine": "x"}, "engine"),
        ({"numeric": ["spend"], "categorical": [], "scale": "minmax"}, "scale"),
        ({"numeric": ["spend"], "categorical": [], "stability_runs": 1}, "stability_runs"),
        ({"numeric": ["spend"], "categorical": [], "k": 0}, "k:"),
    ],
)
def test_bad_options_raise(kwargs: dict[str, object], message: str) -> None:
    frame, _ = planted(50, 2, 0)
    with pytest.raises(ValueError, match=message):
        cluster_customers(frame, **kwargs)  # type: ignore[arg-type]


def test_kneedle_and_rule_by_hand() -> None:
    costs = {1: 1000.0, 2: 500.0, 3: 100.0, 4: 90.0, 5: 80.0}
    elbow, score = kneedle(costs, [2, 3, 4, 5])
    # log scale: y(3) = (ln 100 − ln 80) / (ln 1000 − ln 80), x(3) = 0.5
    expected = 1 - (np.log(100) - np.log(80)) / (np.log(1000) - np.log(80)) - 0.5
    assert elbow == 3 and score[3] == pytest.approx(expected)
    assert choose_k(3, {2: 0.9, 3: 0.95, 4: 0.99}) == (3, True)
    assert choose_k(3, {2: 0.9, 3: 0.5, 4: 0.99}) == (2, True)
    assert choose_k(3, {2: 0.7, 3: 0.5, 4: 0.99}) == (4, True)
    assert choose_k(3, {2: 0.7, 3: 0.5, 4: 0.6, 6: 1.0}) == (3, False)


# ------------------------------------------------------------------ profiles


def tiny() -> tuple[pd.DataFrame, np.ndarray]:
    """10 customers: cluster 1 (6) mostly Omsk, cluster 2 (4) all Tula; hand-checked below."""
    frame = pd.DataFrame(
        {
            "spend": [10.0, 20, 30, 40, 50, 60, 200, 300, 400, 500],
            "age": [20.0, 22, 24, 26, 28, np.nan, 50, 52, 54, 56],
            "city": ["Omsk"] * 5 + ["Tula"] + ["Tula"] * 4,
        }
    )
    return frame, np.array([1] * 6 + [2] * 4)


def test_profile_lift_and_shares_by_hand() -> None:
    frame, labels = tiny()
    prof = profile_clusters(
        frame, labels, numeric=["spend", "age"], categorical=["city"], value="spend",
        min_members=2, min_lift=1.25,
    )  # fmt: skip
    rows = prof.clusters.set_index("cluster")
    assert rows.loc[1, "customers"] == 6 and rows.loc[2, "share"] == pytest.approx(0.4)
    assert rows.loc[1, "revenue_share"] == pytest.approx(210 / 1610)
    assert rows.loc[2, "revenue"] == pytest.approx(1400)
    cats = prof.categories.set_index(["cluster", "category"])
    # Omsk: 5 of 6 in cluster 1, 5 of 10 overall → lift (5/6) / 0.5 = 5/3
    assert cats.loc[(1, "Omsk"), "lift"] == pytest.approx(5 / 3)
    assert cats.loc[(1, "Omsk"), "count"] == 5 and cats.loc[(1, "Omsk"), "overall_count"] == 5
    # Tula in cluster 2: 4 of 4, 5 of 10 overall → lift 2
    assert cats.loc[(2, "Tula"), "lift"] == pytest.approx(2.0)
    assert (1, "Tula") not in cats.index  # 1/6 ÷ 1/2 < 1.25
    num = prof.numeric.set_index(["cluster", "feature"])
    # age: missing left out; cluster 1 mean 24, overall mean of 9 observed
    observed = np.array([20.0, 22, 24, 26, 28, 50, 52, 54, 56])
    assert num.loc[(1, "age"), "mean"] == pytest.approx(24.0)
    assert num.loc[(1, "age"), "d"] == pytest.approx((24 - observed.mean()) / observed.std())


def test_min_members_hides_small_categories() -> None:
    frame, labels = tiny()
    prof = profile_clusters(frame, labels, numeric=[], categorical=["city"], min_members=5)
    assert set(prof.categories["category"]) == {"Omsk"}


def test_description_and_action_on_a_fixture() -> None:
    frame, labels = tiny()
    prof = profile_clusters(
        frame, labels, numeric=["spend", "age"], categorical=["city"], value="spend",
        min_members=2, words={"age": ("younger", "older")}, templates={"city": "lives in {value}"},
        roles={"monetary": "spend"},
    )  # fmt: skip
    rows = prof.clusters.set_index("cluster")
    # cluster 2: d(spend) = (350 − 161) / 170.26 = 1.110 > d(age) = (53 − 39.11) / 12.62 = 1.101
    # cluster 1: d(age) = −0.880 beats d(spend) = −0.740
    assert rows.loc[2, "description"] == "higher spend, older, lives in Tula"
    assert rows.loc[1, "description"] == "younger, lower spend, lives in Omsk"
    assert rows.loc[2, "rule"] == "vip" and rows.loc[1, "rule"] == "develop"


def test_describe_with_nothing_distinctive() -> None:
    empty = pd.DataFrame({"feature": [], "category": [], "lift": []})
    assert describe({"x": 0.1}, empty) == "close to the average customer"
    unknown = pd.DataFrame({"feature": ["c"], "category": [UNKNOWN], "lift": [3.0]})
    assert describe({}, unknown) == "close to the average customer"


def test_action_rules_in_order() -> None:
    assert suggest_action({"recency": 0.6, "monetary": 0.6})[1] == "win-back-valuable"
    assert suggest_action({"recency": 0.6, "monetary": -1.0})[1] == "win-back"
    assert suggest_action({"monetary": 0.6, "discount": 2.0})[1] == "vip"
    assert suggest_action({"discount": 0.5, "frequency": 2.0})[1] == "promotions"
    assert suggest_action({"frequency": 0.5})[1] == "loyalty"
    assert suggest_action({"monetary": -0.5})[1] == "develop"
    assert suggest_action({"monetary": 0.49})[1] == "nurture"


def test_profile_bad_options() -> None:
    frame, labels = tiny()
    with pytest.raises(ValueError, match="roles"):
        profile_clusters(frame, labels, numeric=["spend"], categorical=[], roles={"vip": "spend"})
    with pytest.raises(ValueError, match="labels"):
        profile_clusters(frame, labels[:3], numeric=["spend"], categorical=[])
