"""Plain-Python funnel, written straight from DESIGN §4 / docs/metrics.md ("Funnels").

Brute force over every chain of distinct event rows, per unit: slow, obviously right, for
small logs. A unit reaches step i when some chain of steps 1..i satisfies the mode; its
depth is the largest such i; its counted chain is the lexicographically earliest
(ts1, ts2, …) among the chains reaching that depth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Row = dict[str, object]
Match = Callable[[Row], bool]


@dataclass(frozen=True)
class UnitResult:
    depth: int
    times: tuple[datetime, ...]  # the counted chain's step times (length = depth)


Exclude = Sequence[tuple[Match, Sequence[int]]]  # an excluded event, the pairs j it voids


def _chains_ordered(
    rows: list[Row], steps: Sequence[Match], window: timedelta, strict: bool, exclude: Exclude = ()
) -> list[tuple[datetime, ...]]:
    """Every chain (as its times) of distinct rows satisfying the ordered/strict rules.

    An excluded row strictly between steps j and j + 1 (j in its pairs) voids the chain.
    """
    found: list[tuple[datetime, ...]] = []

    def extend(chain: list[int]) -> None:
        times = tuple(rows[i]["ts"] for i in chain)  # type: ignore[misc]
        found.append(times)  # type: ignore[arg-type]
        j = len(chain)
        if j == len(steps):
            return
        last = rows[chain[-1]]["ts"]
        for k, row in enumerate(rows):
            if k in chain or not steps[j](row):
                continue
            ts = row["ts"]
            if ts < last or ts > times[0] + window:  # type: ignore[operator]
                continue
            if strict and any(
                last < other["ts"] < ts  # type: ignore[operator]
                for m, other in enumerate(rows)
                if m not in chain and m != k
            ):
                continue
            if any(
                last < other["ts"] < ts and match(other) and j in pairs  # type: ignore[operator]
                for match, pairs in exclude
                for other in rows
            ):
                continue
            extend([*chain, k])

    for i, row in enumerate(rows):
        if steps[0](row):
            extend([i])
    return found


def _chains_unordered(
    rows: list[Row], steps: Sequence[Match], window: timedelta
) -> list[tuple[datetime, ...]]:
    found: list[tuple[datetime, ...]] = []
    for depth in range(1, len(steps) + 1):
        candidates = [[k for k, r in enumerate(rows) if steps[j](r)] for j in range(depth)]

        def pick(j: int, chosen: list[int], candidates: list[list[int]] = candidates) -> None:
            if j == len(candidates):
                times = [rows[k]["ts"] for k in chosen]
                if max(times) - min(times) <= window:  # type: ignore[operator,type-var]
                    found.append(tuple(times))  # type: ignore[arg-type]
                return
            for k in candidates[j]:
                if k not in chosen:
                    pick(j + 1, [*chosen, k])

        pick(0, [])
    return found


def unit_result(
    rows: list[Row], steps: Sequence[Match], window: timedelta, order: str, exclude: Exclude = ()
) -> UnitResult:
    if order == "unordered":
        chains = _chains_unordered(rows, steps, window)
    else:
        chains = _chains_ordered(rows, steps, window, strict=order == "strict", exclude=exclude)
    if not chains:
        return UnitResult(0, ())
    depth = max(len(c) for c in chains)
    return UnitResult(depth, min(c for c in chains if len(c) == depth))


def funnel(
    events: list[Row],
    steps: Sequence[Match],
    window: timedelta,
    order: str,
    unit: Sequence[str] = ("user_id",),
    exclude: Exclude = (),
) -> dict[tuple[object, ...], UnitResult]:
    """Per unit (``user_id``, or ``user_id`` and ``session_id``): depth and counted chain."""
    by_unit: dict[tuple[object, ...], list[Row]] = {}
    for row in events:
        by_unit.setdefault(tuple(row[k] for k in unit), []).append(row)
    return {key: unit_result(rows, steps, window, order, exclude) for key, rows in by_unit.items()}


__all__ = ["UnitResult", "funnel", "unit_result"]
