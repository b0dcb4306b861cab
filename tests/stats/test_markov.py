"""Markov-chain attribution (orders 1–3): hand-worked chains, the plain oracle, invariants."""

from __future__ import annotations

import math
import random
from fractions import Fraction as F
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.linalg import spsolve

import growthlens.stats.markov as markov
from growthlens.errors import ConfigError
from growthlens.stats.markov import MarkovChain, markov_attribution
from tests.oracle import markov as oracle

Path = tuple[str, ...]


def _journeys(
    seed: int, *, n: int = 40, channels: str = "abcd", max_len: int = 6
) -> tuple[list[Path], list[int], list[int]]:
    """Distinct random paths (repeats, one-touch paths, some never converting) with counts."""
    rng = random.Random(seed)
    seen: dict[Path, None] = {}
    while len(seen) < n:
        seen[tuple(rng.choice(channels) for _ in range(rng.randint(1, max_len)))] = None
    paths = list(seen)
    conv = [rng.choice([0, 0, 1, 2, 5]) for _ in paths]
    nulls = [rng.choice([0, 1, 3, 10]) for _ in paths]
    conv[0], nulls[0] = 1, 0  # at least one conversion
    return paths, conv, nulls


def _close(a: dict[str, float], b: dict[str, float], tol: float = 1e-12) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= tol for k in a)


def test_first_order_by_hand() -> None:
    # start→A 2, start→B 2; A→B 1, A→null 1; B→conv 2, B→null 1.
    # P(B) = 2/3, P(A) = ½·P(B) = 1/3, P = ½·1/3 + ½·2/3 = 1/2.
    # Without A: ½·2/3 = 1/3, RE(A) = 1 − (1/3)/(1/2) = 1/3. Without B: 0, RE(B) = 1.
    r = markov_attribution([("A", "B"), ("A",), ("B",)], [1, 0, 1], [0, 1, 1])
    assert r.status == "ok" and r.channels == ("A", "B") and r.order == 1
    assert r.p_conversion == pytest.approx(float(F(1, 2)), abs=1e-15)
    assert _close(r.p_without, {"A": float(F(1, 3)), "B": 0.0})
    assert _close(r.removal_effect, {"A": float(F(1, 3)), "B": 1.0})
    assert _close(r.share, {"A": float(F(1, 4)), "B": float(F(3, 4))})
    # Credit ∝ RE over each path's channels: (A, B) → 1/3 : 1 = 1/4 : 3/4.
    assert _close(r.path_credit[0], {"A": 0.25, "B": 0.75})
    assert r.path_credit[1] == {"A": 1.0} and r.path_credit[2] == {"B": 1.0}


def test_orders_one_two_three_by_hand() -> None:
    paths = [("A", "B", "C"), ("C",)]
    conv, nulls = [1, 1], [1, 0]
    # Order 1: one state (C) shared by both paths. start→A 2, start→C 1, A→B 2, B→C 2,
    # C→conv 2, C→null 1: P(C) = P(B) = P(A) = 2/3 = P. Without A (or B): only start→C
    # survives: 1/3·2/3 = 2/9, RE = 1 − (2/9)/(2/3) = 2/3; without C: 0, RE = 1.
    # Shares: (2/3) / (7/3) = 2/7, 2/7 and 3/7.
    r1 = markov_attribution(paths, conv, nulls, order=1)
    assert r1.p_conversion == pytest.approx(2 / 3, abs=1e-15)
    assert _close(r1.removal_effect, {"A": 2 / 3, "B": 2 / 3, "C": 1.0})
    assert _close(r1.share, {"A": 2 / 7, "B": 2 / 7, "C": 3 / 7})
    # Orders 2 and 3: the first path's states are (A), (A,B), (B,C) [or (A,B,C)], none is
    # shared with the second path's (C): P = 2/3·½ + 1/3·1 = 2/3. Without A or B only the
    # (C) journey converts: 1/3, RE = ½; without C: 0, RE = 1. Shares 1/4, 1/4, 1/2.
    for order in (2, 3):
        r = markov_attribution(paths, conv, nulls, order=order)
        assert r.p_conversion == pytest.approx(2 / 3, abs=1e-15)
        assert _close(r.p_without, {"A": 1 / 3, "B": 1 / 3, "C": 0.0})
        assert _close(r.removal_effect, {"A": 0.5, "B": 0.5, "C": 1.0})
        assert _close(r.share, {"A": 0.25, "B": 0.25, "C": 0.5})
        assert _close(r.path_credit[0], {"A": 0.25, "B": 0.25, "C": 0.5})


def test_order_two_loop_by_hand() -> None:
    # (A,B,A,B) converts, (B,A,B) does not. Order 1: start→A 1, start→B 1, A→B 3, B→A 2,
    # B→conv 1, B→null 1: P(B) = ½·P(A) + ¼ with P(A) = P(B), so P = ½. Without A the
    # state (B) keeps B→conv: P(B) = ¼, P_A = ½·¼ = 1/8, RE(A) = 1 − (1/8)/(1/2) = 3/4;
    # without B nothing converts, RE(B) = 1. Shares 3/7, 4/7.
    paths = [("A", "B", "A", "B"), ("B", "A", "B")]
    r = markov_attribution(paths, [1, 0], [0, 1], order=1)
    assert r.p_conversion == pytest.approx(0.5, abs=1e-15)
    assert _close(r.p_without, {"A": 1 / 8, "B": 0.0})
    assert _close(r.share, {"A": 3 / 7, "B": 4 / 7})
    # Order 2 states (A), (A,B), (B,A), (B): (A,B) → (B,A) 1, → conv 1, → null 1 and
    # (B,A) → (A,B) 2, so P(AB) = 1/3 + 1/3·P(AB) = ½ = P. Now (B) only leads to (B,A):
    # every route to a conversion holds A, RE(A) = 1 (and RE(B) = 1).
    r = markov_attribution(paths, [1, 0], [0, 1], order=2)
    assert r.p_conversion == pytest.approx(0.5, abs=1e-15)
    assert _close(r.removal_effect, {"A": 1.0, "B": 1.0})
    # Order 2, a repeat is its own state: (A,A) ≠ (A). (A, A) converts, (A,) does not:
    # start→(A) 2, (A)→(A,A) 1, (A)→null 1, (A,A)→conv 1: P = ½.
    r = markov_attribution([("A", "A"), ("A",)], [1, 0], [0, 1], order=2)
    assert r.p_conversion == pytest.approx(0.5, abs=1e-15)
    assert r.removal_effect == {"A": 1.0}


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_against_the_plain_oracle(seed: int, order: int) -> None:
    paths, conv, nulls = _journeys(seed, n=60 if order < 3 else 40)
    p, effect = oracle.removal_effects(paths, conv, nulls, order)
    r = markov_attribution(paths, conv, nulls, order=order)
    assert r.status == "ok"
    assert r.p_conversion == pytest.approx(p, abs=1e-9)
    assert _close(r.removal_effect, effect, 1e-9)
    for path, credit in zip(paths, r.path_credit, strict=True):
        assert _close(credit, oracle.path_credit(path, effect), 1e-9)


@pytest.mark.parametrize("order", [2, 3])
def test_iterative_solver_matches_the_oracle(order: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Large chains go through GMRES: force it on a small one and check it to 1e-9.
    monkeypatch.setattr(markov, "DIRECT_MAX_STATES", 0)
    paths, conv, nulls = _journeys(7, n=50, channels="abcde")
    p, effect = oracle.removal_effects(paths, conv, nulls, order)
    r = markov_attribution(paths, conv, nulls, order=order)
    assert r.p_conversion == pytest.approx(p, abs=1e-9)
    assert _close(r.removal_effect, effect, 1e-9)


def test_refit_equals_a_fresh_fit() -> None:
    paths, conv, nulls = _journeys(4, n=50)
    chain = MarkovChain.prepare(paths, order=2)
    rng = np.random.default_rng(0)
    for _ in range(3):  # bootstrap-like counts, some paths dropped to 0
        w = rng.poisson(1.0, len(paths))
        c, n = np.array(conv) * w, np.array(nulls) * w
        a, b = chain.fit(c, n), markov_attribution(paths, c, n, order=2)
        assert a.p_conversion == pytest.approx(b.p_conversion, abs=1e-14)
        assert _close(a.removal_effect, b.removal_effect)
        assert a.path_credit == b.path_credit


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), order=st.sampled_from([1, 2, 3]))
def test_properties(seed: int, order: int) -> None:
    paths, conv, nulls = _journeys(seed, n=25, channels="abcde", max_len=5)
    r = markov_attribution(paths, conv, nulls, order=order)
    # Every journey's visits are counted, so P is exactly the share of journeys converting.
    assert r.p_conversion == pytest.approx(sum(conv) / (sum(conv) + sum(nulls)), abs=1e-12)
    assert math.fsum(r.share.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= e <= 1.0 + 1e-12 for e in r.removal_effect.values())
    for path, credit in zip(paths, r.path_credit, strict=True):
        assert set(credit) == set(path)
        assert math.fsum(credit.values()) == pytest.approx(1.0, abs=1e-12)
    # Renaming the channels renames the answer; reordering the paths reorders the credits.
    rename = dict(zip("abcde", ["zeta", "y", "x1", "alpha", "b"], strict=True))
    renamed = markov_attribution(
        [tuple(rename[c] for c in p) for p in paths], conv, nulls, order=order
    )
    assert _close({rename[c]: v for c, v in r.removal_effect.items()}, renamed.removal_effect, 1e-9)
    perm = list(range(len(paths)))
    random.Random(seed).shuffle(perm)
    shuffled = markov_attribution(
        [paths[i] for i in perm], [conv[i] for i in perm], [nulls[i] for i in perm], order=order
    )
    assert _close(r.removal_effect, shuffled.removal_effect, 1e-9)
    assert all(_close(shuffled.path_credit[k], r.path_credit[i], 1e-9) for k, i in enumerate(perm))
    # Deterministic.
    again = markov_attribution(paths, conv, nulls, order=order)
    assert again.removal_effect == r.removal_effect and again.path_credit == r.path_credit


@pytest.mark.parametrize("order", [1, 2, 3])
def test_channel_only_in_non_converting_journeys_has_no_effect(order: int) -> None:
    # zz ends journeys that did not convert, so no state holding zz leads to a conversion.
    # (Were zz followed by b in such a journey, its states would feed b's shared states,
    # which do convert: removing zz would then cost conversions and its RE would be > 0.)
    paths, conv, nulls = _journeys(5, n=30, channels="abc")
    paths += [("zz",), ("a", "zz"), ("b", "zz", "zz")]
    conv += [0, 0, 0]
    nulls += [4, 1, 2]
    r = markov_attribution(paths, conv, nulls, order=order)
    assert r.removal_effect["zz"] == pytest.approx(0.0, abs=1e-12)
    assert r.p_without["zz"] == pytest.approx(r.p_conversion, abs=1e-12)
    # In a path of its own it would get no credit, so it splits equally (RE 0 everywhere).
    assert r.path_credit[-3] == {"zz": 1.0}
    assert r.path_credit[-2]["zz"] == pytest.approx(0.0, abs=1e-12)
    fed = markov_attribution([*paths, ("zz", "a")], [*conv, 0], [*nulls, 1], order=1)
    assert fed.removal_effect["zz"] > 1e-6


def test_degenerate_inputs_give_a_status() -> None:
    empty = markov_attribution([], [], [])
    assert empty.status == "empty" and empty.channels == () and empty.path_credit == []
    zero = markov_attribution([("a",), ("b",)], [0, 0], [0, 0])
    assert zero.status == "empty" and zero.status_reason
    assert math.isnan(zero.p_conversion) and math.isnan(zero.removal_effect["a"])
    none = markov_attribution([("a",), ("a", "b")], [0, 0], [3, 1], order=2)
    assert none.status == "no_conversions" and none.p_conversion == 0.0
    assert math.isnan(none.share["b"]) and none.path_credit == [{}, {}]
    # Only journeys without a touch converted: P > 0 but no channel can take credit.
    touchless = markov_attribution([(), ("a",)], [2, 0], [0, 2])
    assert touchless.status == "no_conversions" and touchless.p_conversion == 0.5
    # An empty path mixed with others goes start → end and gets no credit.
    mixed = markov_attribution([(), ("a",)], [1, 1], [1, 1])
    assert mixed.status == "ok" and mixed.p_conversion == 0.5
    assert mixed.removal_effect == {"a": 0.5} and mixed.path_credit == [{}, {"a": 1.0}]


def test_bad_arguments() -> None:
    for order in (0, 4, "1", True, 1.0):
        with pytest.raises(ConfigError, match="markov_order must be 1, 2 or 3"):
            markov_attribution([("a",)], [1], [0], order=order)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one count per path"):
        markov_attribution([("a",), ("b",)], [1], [0, 0])
    with pytest.raises(ValueError, match="≥ 0"):
        markov_attribution([("a",)], [1], [-1])
    with pytest.raises(ValueError, match="finite"):
        markov_attribution([("a",)], [math.nan], [0])
    with pytest.raises(ValueError, match="channel names"):
        markov_attribution([("a", 3)], [1], [0])  # type: ignore[list-item]


def test_lookup_and_sorting_indexes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    paths, conv, nulls = _journeys(8, n=40)
    dense = markov_attribution(paths, conv, nulls, order=3)
    monkeypatch.setattr(markov, "_DENSE_MAX", 0)
    sorted_ = markov_attribution(paths, conv, nulls, order=3)
    assert dense.removal_effect == sorted_.removal_effect


def test_many_channels_match_the_oracle() -> None:
    # 60 channels, most journeys several touches long: the removals come from the
    # fundamental matrix (one inverse), not from a solve per channel.
    channels = [f"c{i:02d}" for i in range(60)]
    rng = random.Random(11)
    seen: dict[Path, None] = {}
    while len(seen) < 400:
        seen[tuple(rng.choice(channels) for _ in range(rng.randint(1, 4)))] = None
    paths = list(seen)
    conv = [rng.choice([0, 0, 0, 1, 3]) for _ in paths]
    nulls = [rng.choice([1, 2, 8]) for _ in paths]
    for order in (1, 2):
        p, effect = oracle.removal_effects(paths, conv, nulls, order)
        r = markov_attribution(paths, conv, nulls, order=order)
        assert r.p_conversion == pytest.approx(p, abs=1e-9)
        assert _close(r.removal_effect, effect, 1e-9)


def test_removals_equal_the_reduced_systems_solved_directly() -> None:
    # 300 channels at order 1 (the shape that took 5 s per fit with a solve per channel):
    # every P_c equals a sparse LU solve of the chain without the channel's state.
    rng = np.random.default_rng(5)
    channels = [f"s{i:03d}" for i in range(300)]
    paths = sorted({tuple(rng.choice(channels, size=rng.integers(1, 4))) for _ in range(3000)})
    conv = rng.poisson(0.4, len(paths)).astype(float)
    nulls = rng.poisson(3.0, len(paths)).astype(float)
    r = markov_attribution(paths, conv, nulls)
    index = {c: i + 1 for i, c in enumerate(r.channels)}  # order 1: state of c; 0 = start
    n = len(index) + 1
    flow, into_conv, out = np.zeros((n, n)), np.zeros(n), np.zeros(n)
    for path, c, z in zip(paths, conv, nulls, strict=True):
        states = [0, *(index[ch] for ch in path)]
        for a, b in pairwise(states):
            flow[a, b] += c + z
        into_conv[states[-1]] += c
        out[states[-1]] += c + z
    out += flow.sum(axis=1)
    q, conv_step = flow / out[:, None], into_conv / out
    for ch in r.channels[::15]:
        keep = [s for s in range(n) if s != index[ch]]
        system = sparse.csc_matrix(np.eye(n - 1) - q[np.ix_(keep, keep)])
        p_c = float(spsolve(system, conv_step[keep])[0])
        assert r.p_without[ch] == pytest.approx(p_c, rel=1e-12, abs=1e-15)
