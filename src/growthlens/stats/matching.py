"""A control group drawn from non-participants, matched stratum by stratum (pure).

When a campaign has no control list, non-participants who looked like the participants
before it are the next best comparison: each participant's stratum (e.g. orders and
revenue band in the pre-period) gets as many non-participants of the same stratum, drawn
at random without replacement (coarsened exact matching with a one-to-one draw). It
balances what the strata measure and nothing else: the comparison is not randomised.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Matched:
    """The drawn control.

    Attributes:
        chosen: positions (into the pool) of the non-participants drawn.
        strata: per stratum: ``stratum``, ``participants``, ``available`` (pool size),
            ``drawn``.
        matched_share: the share of participants whose stratum got a full draw (a stratum
            with fewer non-participants than participants is drawn whole).
    """

    chosen: np.ndarray
    strata: pd.DataFrame
    matched_share: float


def match_strata(
    participants: Sequence[Hashable], pool: Sequence[Hashable], *, seed: int = 0
) -> Matched:
    """Draw, per stratum, as many pool members as there are participants in it.

    Args:
        participants: each participant's stratum label.
        pool: each non-participant's stratum label.
        seed: the draw's seed (the control is a function of the data and the seed).

    Example:
        >>> m = match_strata(["a", "a", "b"], ["a", "b", "b", "b", "c"], seed=1)
        >>> sorted(m.strata["drawn"].tolist()), round(m.matched_share, 3)
        ([1, 1], 0.333)
    """
    rng = np.random.default_rng(seed)
    want = pd.Series(list(participants), dtype=object).value_counts()
    pool_labels = pd.Series(list(pool), dtype=object)
    chosen: list[np.ndarray] = []
    rows = []
    full = 0
    for stratum, n in sorted(want.items(), key=lambda kv: str(kv[0])):
        members = np.flatnonzero((pool_labels == stratum).to_numpy())
        take = min(int(n), len(members))
        if take:
            chosen.append(rng.choice(members, take, replace=False))
        if take == n:
            full += int(n)
        rows.append(
            {"stratum": stratum, "participants": int(n), "available": len(members), "drawn": take}
        )
    total = int(want.sum())
    picked = np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)
    return Matched(picked, pd.DataFrame(rows), full / total if total else float("nan"))


__all__ = ["Matched", "match_strata"]
