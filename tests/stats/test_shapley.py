"""Shapley attribution: a hand-worked game, the per-journey identity against coalition
enumeration and against averaging over every ordering of the channels, invariants."""

from __future__ import annotations

import math
import random
from fractions import Fraction as F
from itertools import permutations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growthlens.errors import ConfigError
from growthlens.stats.shapley import shapley_attribution, shapley_by_coalitions

Path = tuple[str, ...]


def _journeys(
    seed: int, *, n: int, channels: str, max_len: int = 5
) -> tuple[list[Path], list[int]]:
    rng = random.Random(seed)
    paths = [tuple(rng.choice(channels) for _ in range(rng.randint(0, max_len))) for _ in range(n)]
    return paths, [rng.choice([0, 1, 1, 2, 7]) for _ in paths]


def _by_orderings(paths: list[Path], conv: list[int]) -> dict[str, F]:
    """φ as the mean marginal contribution over all n! orderings, in exact fractions."""
    channels = sorted({c for p in paths for c in p})

    def worth(members: set[str]) -> int:
        return sum(k for p, k in zip(paths, conv, strict=True) if p and set(p) <= members)

    total = dict.fromkeys(channels, F(0))
    orderings = list(permutations(channels))
    for ordering in orderings:
        members: set[str] = set()
        for c in ordering:
            before = worth(members)
            members.add(c)
            total[c] += worth(members) - before
    return {c: v / len(orderings) for c, v in total.items()}


def test_three_channels_by_hand() -> None:
    paths = [("A", "B"), ("A",), ("B", "C", "B"), ("C", "A", "C")]
    conv = [3, 1, 2, 0]
    # v(∅)=0, v(A)=1, v(B)=0, v(C)=0, v(AB)=4, v(AC)=1, v(BC)=2, v(ABC)=6.
    # Weights for n = 3: |S| = 0 → 1/3, 1 → 1/6, 2 → 1/3.
    phi_a = F(1, 3) * 1 + F(1, 6) * (4 - 0) + F(1, 6) * (1 - 0) + F(1, 3) * (6 - 2)
    phi_b = F(1, 3) * 0 + F(1, 6) * (4 - 1) + F(1, 6) * (2 - 0) + F(1, 3) * (6 - 1)
    phi_c = F(1, 3) * 0 + F(1, 6) * (1 - 1) + F(1, 6) * (2 - 0) + F(1, 3) * (6 - 4)
    assert (phi_a, phi_b, phi_c) == (F(5, 2), F(5, 2), F(1))
    # The identity: (A,B) 3 → 3/2 each; (A) 1 → A; (B,C) 2 → 1 each; (C,A) converts 0 times.
    for result in (shapley_attribution(paths, conv), shapley_by_coalitions(paths, conv)):
        assert result.status == "ok" and result.channels == ("A", "B", "C")
        assert result.value == pytest.approx({"A": 2.5, "B": 2.5, "C": 1.0}, abs=1e-12)
        assert result.path_credit == [
            {"A": 0.5, "B": 0.5},
            {"A": 1.0},
            {"B": 0.5, "C": 0.5},
            {"C": 0.5, "A": 0.5},
        ]
    assert shapley_attribution(paths, conv).method == "identity"
    assert shapley_by_coalitions(paths, conv).method == "coalitions"


@pytest.mark.parametrize("seed", range(5))
def test_identity_equals_coalitions_and_orderings(seed: int) -> None:
    paths, conv = _journeys(seed, n=80, channels="abcdefghij"[: 3 + seed], max_len=6)
    fast = shapley_attribution(paths, conv)
    slow = shapley_by_coalitions(paths, conv)
    assert fast.channels == slow.channels
    assert all(abs(fast.value[c] - slow.value[c]) <= 1e-9 for c in fast.channels)
    if len(fast.channels) <= 6:
        exact = _by_orderings(paths, conv)
        assert all(abs(fast.value[c] - float(exact[c])) <= 1e-9 for c in fast.channels)


def test_coalitions_at_the_limit_and_above() -> None:
    channels = [f"c{i:02d}" for i in range(12)]
    rng = random.Random(3)
    paths = [tuple(rng.sample(channels, rng.randint(1, 5))) for _ in range(200)]
    conv = [rng.randint(0, 3) for _ in paths]
    a, b = shapley_attribution(paths, conv), shapley_by_coalitions(paths, conv)
    assert all(abs(a.value[c] - b.value[c]) <= 1e-9 for c in channels)
    with pytest.raises(ConfigError, match="at most 12 channels; got 13"):
        shapley_by_coalitions([*paths, ("c12",)], [*conv, 1])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_properties(seed: int) -> None:
    paths, conv = _journeys(seed, n=30, channels="abcdef")
    r = shapley_attribution(paths, conv)
    # Efficiency: the values add up to the conversions of journeys with a touch.
    touched = sum(k for p, k in zip(paths, conv, strict=True) if p)
    assert math.fsum(r.value.values()) == pytest.approx(touched, abs=1e-9)
    for path, credit in zip(paths, r.path_credit, strict=True):
        assert set(credit) == set(path)
        if path:
            assert math.fsum(credit.values()) == pytest.approx(1.0, abs=1e-12)
    rename = dict(zip("abcdef", ["q", "r2", "alpha", "b", "zz", "m"], strict=True))
    renamed = shapley_attribution([tuple(rename[c] for c in p) for p in paths], conv)
    assert {rename[c]: v for c, v in r.value.items()} == pytest.approx(renamed.value, abs=1e-9)
    order = list(range(len(paths)))
    random.Random(seed).shuffle(order)
    shuffled = shapley_attribution([paths[i] for i in order], [conv[i] for i in order])
    assert shuffled.value == pytest.approx(r.value, abs=1e-9)
    # Order and repeats within a journey do not matter to this game.
    reversed_ = shapley_attribution([tuple(reversed(p)) + p for p in paths], conv)
    assert reversed_.value == pytest.approx(r.value, abs=1e-9)


def test_degenerate_inputs_give_a_status() -> None:
    empty = shapley_attribution([], [])
    assert empty.status == "empty" and empty.value == {} and empty.status_reason
    none = shapley_by_coalitions([("a",), ("a", "b")], [0, 0])
    assert none.status == "no_conversions" and none.value == {"a": 0.0, "b": 0.0}
    touchless = shapley_attribution([(), ("a",)], [4, 0])
    assert touchless.status == "no_conversions" and touchless.path_credit == [{}, {"a": 1.0}]
    with pytest.raises(ValueError, match="one count per path"):
        shapley_attribution([("a",)], [1, 2])
    with pytest.raises(ValueError, match="≥ 0"):
        shapley_by_coalitions([("a",)], [-1])
