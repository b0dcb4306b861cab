"""Plain-Python Markov-chain removal effects, straight from growthlens.stats.markov's definition.

States are tuples sliced from each journey (``path[max(0, i − k + 1) : i + 1]``), the chain
is a dict of dicts of counts, and absorption probabilities come from Gauss–Seidel value
iteration (x ← Σ p(s → t) x_t, x_conversion = 1, x_null = 0) until no value moves by more
than 1e-15. No sparse matrix, no integer encoding, no linear solve: a different code path
from the module. Slow and obvious, for small inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

START: tuple[str, ...] = ("(start)",)
CONVERSION = "(conversion)"
NULL = "(null)"
State = tuple[str, ...]


def transition_counts(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    nulls: Sequence[float],
    order: int,
) -> dict[State, dict[State | str, float]]:
    """from-state → to-state → count, with journeys ending in CONVERSION or NULL."""
    counts: dict[State, dict[State | str, float]] = defaultdict(lambda: defaultdict(float))
    for path, conv, null in zip(paths, conversions, nulls, strict=True):
        weight = conv + null
        prev: State = START
        for i in range(len(path)):
            state = tuple(path[max(0, i - order + 1) : i + 1])
            counts[prev][state] += weight
            prev = state
        counts[prev][CONVERSION] += conv
        counts[prev][NULL] += null
    return counts


def absorption(counts: dict[State, dict[State | str, float]], removed: str | None = None) -> float:
    """Probability of reaching CONVERSION from START; states holding ``removed`` go to NULL."""
    prob: dict[State, list[tuple[State | str, float]]] = {}
    for state, outs in counts.items():
        total = sum(outs.values())
        if total > 0:
            prob[state] = [(t, n / total) for t, n in outs.items()]
    x: dict[State, float] = dict.fromkeys(prob, 0.0)

    def value(target: State | str) -> float:
        if target == CONVERSION:
            return 1.0
        if target == NULL or (removed is not None and removed in target):
            return 0.0
        assert isinstance(target, tuple)
        return x.get(target, 0.0)

    for _ in range(1_000_000):
        change = 0.0
        for state, outs in prob.items():
            if removed is not None and removed in state:
                continue
            new = sum(p * value(t) for t, p in outs)
            change = max(change, abs(new - x[state]))
            x[state] = new
        if change < 1e-15:
            return x.get(START, 0.0)
    raise RuntimeError("value iteration did not converge")


def removal_effects(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    nulls: Sequence[float],
    order: int,
) -> tuple[float, dict[str, float]]:
    """P(conversion) and channel → 1 − P_c / P."""
    counts = transition_counts(paths, conversions, nulls, order)
    p = absorption(counts)
    channels = sorted({c for path in paths for c in path})
    return p, {c: 1.0 - absorption(counts, c) / p for c in channels}


def path_credit(path: Sequence[str], effect: dict[str, float]) -> dict[str, float]:
    """RE-proportional credit over the path's distinct channels (equal if all are 0)."""
    distinct = sorted(set(path))
    total = sum(effect[c] for c in distinct)
    if total <= 0:
        return {c: 1.0 / len(distinct) for c in distinct}
    return {c: effect[c] / total for c in distinct}
