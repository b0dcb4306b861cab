"""Budget recommendation statistics: the ROMI bootstrap, the decision rule, priced moves.

Definitions and the decision rule: docs/metrics.md, "Budget recommendation". In short:

- the figure is the N-period ROMI of the source (N = ``horizon``): the unweighted mean over
  its complete cohorts of ROMI(c, N−1) = LTV(c, N−1) ÷ CAC(c) − 1, as :func:`growthlens.romi`;
- its uncertainty is a stratified bootstrap over buyers: within each cohort, resample the
  cohort's buyers (their gross profit over ages 0..N−1) with replacement, recompute the
  cohort's LTV, keep its spend and buyer count (so CAC) fixed, and average ROMI over the
  cohorts again; the percentile interval of the resampled figures is the CI (seeded,
  deterministic);
- grow when the CI's lower bound is above 0, cut when its upper bound is below 0, hold
  otherwise; "too little data" (no action) with fewer than ``min_buyers`` buyers or fewer than
  ``min_cohorts`` complete cohorts behind the figure;
- a suggested move of ``move_share`` of a cut source's spend to the best grow source is
  priced under the stated assumption that CAC per source stays constant.

Pure statistics on small frames (the ROMI tables and one row per buyer); the analysis
(growthlens.analyses.budget) fetches them and words the decisions.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Numbers = Sequence[float] | np.ndarray[Any, np.dtype[np.float64]]
Action = Literal["grow", "hold", "cut", "too little data", "organic", "unattributed"]
BY = "source"
# Recent cohorts used for the trend of first-period ROMI, and the fewest that give one.
TREND_COHORTS = 6
TREND_MIN_COHORTS = 3
# Resampled buyers drawn per block: bounds memory to ~16 MB of indices whatever the size.
_BLOCK_DRAWS = 2_000_000
MOVE_COLUMNS: tuple[str, ...] = (
    "from_source",
    "to_source",
    "moved_cost",
    "lost_buyers",
    "lost_profit",
    "gained_buyers",
    "gained_profit",
    "net_profit",
)
"""The columns of :func:`price_moves` (the analysis adds the ``assumption`` in words)."""


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval of the N-period ROMI.

    Attributes:
        estimate: the figure on the original buyers.
        low: lower bound.
        high: upper bound.
        resamples: number of bootstrap resamples.
    """

    estimate: float
    low: float
    high: float
    resamples: int


def bootstrap_romi(
    cohorts: list[tuple[np.ndarray[Any, np.dtype[np.float64]], float]],
    *,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> Interval:
    """Stratified bootstrap CI of mean-over-cohorts ROMI.

    Args:
        cohorts: per cohort, the buyers' gross profit over the horizon and the cohort's CAC
            (> 0). The statistic is ``mean over cohorts of (mean(gross profit) ÷ CAC − 1)``.
        resamples: bootstrap resamples.
        confidence: interval coverage, e.g. 0.95.
        rng: the random generator (seeded by the caller).

    Returns:
        The estimate and the percentile interval.

    Example:
        >>> import numpy as np
        >>> groups = [(np.array([10.0, 30.0]), 10.0), (np.array([5.0, 5.0]), 10.0)]
        >>> iv = bootstrap_romi(groups, resamples=200, confidence=0.9, rng=np.random.default_rng(0))
        >>> iv.estimate, iv.low <= iv.estimate <= iv.high
        (0.25, True)
    """
    if not cohorts:
        return Interval(math.nan, math.nan, math.nan, resamples)
    estimate = float(np.mean([values.mean() / cac - 1.0 for values, cac in cohorts]))
    totals = np.zeros(resamples)
    for values, cac in cohorts:
        n = len(values)
        block = max(1, _BLOCK_DRAWS // n)
        start = 0
        while start < resamples:
            size = min(block, resamples - start)
            picks = rng.integers(0, n, size=(size, n))
            totals[start : start + size] += values[picks].mean(axis=1) / cac - 1.0
            start += size
    stats = totals / len(cohorts)
    alpha = 1.0 - confidence
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(low), float(high), resamples)


def decide(
    interval: Interval, *, buyers: int, cohorts: int, min_buyers: int, min_cohorts: int
) -> Action:
    """The decision rule: grow if CI low > 0, cut if CI high < 0, else hold; too little data first.

    >>> iv = Interval(0.4, 0.1, 0.7, 1000)
    >>> decide(iv, buyers=120, cohorts=3, min_buyers=30, min_cohorts=2)
    'grow'
    >>> decide(iv, buyers=12, cohorts=3, min_buyers=30, min_cohorts=2)
    'too little data'
    """
    if buyers < min_buyers or cohorts < min_cohorts or not math.isfinite(interval.estimate):
        return "too little data"
    if interval.low > 0:
        return "grow"
    if interval.high < 0:
        return "cut"
    return "hold"


def source_seed(seed: int, source: str) -> np.random.SeedSequence:
    """The seed of ``source``'s bootstrap: its own stream, derived from ``seed`` and its name.

    Adding a source never changes another's interval.
    """
    return np.random.SeedSequence([seed, zlib.crc32(source.encode("utf-8"))])


def slope(x: Numbers, y: Numbers) -> float:
    """Least-squares slope of ``y`` over ``x``; NaN with fewer than 3 points.

    >>> round(slope([0, 1, 2], [1.0, 0.5, 0.0]), 9), slope([0, 1], [1.0, 0.5])
    (-0.5, nan)
    """
    if len(x) < TREND_MIN_COHORTS:
        return math.nan
    return float(np.polyfit(np.array(x, dtype=float), np.asarray(y, dtype=float), 1)[0])


def price_moves(table: pd.DataFrame, *, move_share: float) -> pd.DataFrame:
    """Price moving ``move_share`` of each cut source's spend to the most certain grow source.

    Assumes CAC per source stays constant: the moved money loses ``moved ÷ CAC`` buyers of
    the cut source, each worth its ``ltv_n``, and buys ``moved ÷ CAC`` buyers of the target,
    each worth the target's ``ltv_n``. The target is the grow source with the highest lower
    bound of its interval.

    Args:
        table: one row per source: ``source``, ``action``, ``cost``, ``cac``, ``ltv_n``,
            ``romi_n_low``.
        move_share: share of a cut source's spend that moves.

    Returns:
        One row per cut source: ``from_source``, ``to_source``, ``moved_cost``,
        ``lost_buyers``, ``lost_profit``, ``gained_buyers``, ``gained_profit``,
        ``net_profit`` (no row without a grow and a cut source).
    """
    columns = list(MOVE_COLUMNS)
    grow = table[(table["action"] == "grow") & (table["cac"] > 0) & table["ltv_n"].notna()]
    cut = table[(table["action"] == "cut") & (table["cac"] > 0) & table["ltv_n"].notna()]
    if grow.empty or cut.empty:
        return pd.DataFrame(columns=columns)
    # The most certain winner takes the money: highest lower bound of its interval.
    target = grow.sort_values(["romi_n_low", BY], ascending=[False, True], kind="stable").iloc[0]
    rows = []
    for _, source in cut.iterrows():
        moved = move_share * float(source["cost"])
        lost_buyers = moved / float(source["cac"])
        gained_buyers = moved / float(target["cac"])
        lost = lost_buyers * float(source["ltv_n"])
        gained = gained_buyers * float(target["ltv_n"])
        rows.append(
            {
                "from_source": source[BY],
                "to_source": target[BY],
                "moved_cost": moved,
                "lost_buyers": lost_buyers,
                "lost_profit": lost,
                "gained_buyers": gained_buyers,
                "gained_profit": gained,
                "net_profit": gained - lost,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def assert_consistent(table: pd.DataFrame, check: pd.Series) -> None:
    """Refuse to rank on a bootstrap whose figure on the original buyers is not ``romi_n``.

    ``check`` holds, per row of ``table``, the bootstrap's estimate on the original buyers.
    """
    # If the per-buyer frame and the cohort tables ever disagree, say so instead of
    # ranking on it.
    both = table["romi_n"].notna() & check.notna()
    gap = (table.loc[both, "romi_n"] - check[both]).abs()
    if len(gap) and float(gap.max()) > 1e-9 * max(
        1.0, float(table.loc[both, "romi_n"].abs().max())
    ):
        raise AssertionError(
            f"per-buyer ROMI disagrees with the cohort table by {float(gap.max()):.3g}"
        )
