r"""RFM scores, named segments, segment sizes and movement between two periods (pure).

Input: one row per customer with ``recency`` (days since the last purchase), ``frequency``
(orders) and ``monetary`` (revenue), as :func:`growthlens.metrics.customers.rfm_inputs`
returns.

**Scores** (1 … ``bins``, higher = better; recency is reversed: recent = high):

- ``method="quantile"`` (default): rank-based with ties kept together. A customer's score
  is ``1 + floor(bins · s)``, where ``s`` is the share of scored customers strictly worse
  than them (smaller frequency or monetary; larger recency). Tied customers share one
  score (the one where their tie group starts), so the lowest value always scores 1 and
  heavy ties (most customers with one order) leave some scores unused instead of
  splitting equal customers arbitrarily.
- ``method="fixed"``: given ascending cut points, ``bins − 1`` per measure.
  Frequency and monetary: ``score = 1 + #{cuts ≤ value}``; recency: ``score = bins −
  #{cuts ≤ value}`` (``cuts = (7, 30, 60, 90)``: recency 0–6 days scores 5, 90 or more
  scores 1).

``fm = ceil((f + m) / 2)``, the mean of the frequency and monetary scores rounded half up.

**Segments** from ``(r, fm)`` with five bins (:data:`SEGMENT_GRID`, rows ``r`` = 5 … 1,
columns ``fm`` = 1 … 5)::

    r\fm  1                2                    3                    4           5
    5     new              potential loyalist   potential loyalist   champions   champions
    4     promising        potential loyalist   potential loyalist   loyal       champions
    3     about to sleep   about to sleep       need attention       loyal       loyal
    2     hibernating      hibernating          at risk              at risk     can't lose
    1     lost             lost                 at risk              at risk     can't lose

Other bin counts need a caller's ``segments`` map covering every ``(r, fm)`` cell.

**Degenerate input** gives a status and a reason, never a confident number: no customers
(``empty``), fewer scored customers than bins (``not_enough_data``), a measure with one
value for everyone under quantile scoring (``constant_measure``: ranks say nothing).
Customers with a missing or negative measure are not scored (segment null) and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

MEASURES = ("recency", "frequency", "monetary")
SEGMENTS = (
    "champions",
    "loyal",
    "potential loyalist",
    "new",
    "promising",
    "need attention",
    "about to sleep",
    "at risk",
    "can't lose",
    "hibernating",
    "lost",
)
"""The default segments, best first (the order of every segment table)."""

_ROWS = {
    5: ("new", "potential loyalist", "potential loyalist", "champions", "champions"),
    4: ("promising", "potential loyalist", "potential loyalist", "loyal", "champions"),
    3: ("about to sleep", "about to sleep", "need attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at risk", "at risk", "can't lose"),
    1: ("lost", "lost", "at risk", "at risk", "can't lose"),
}
SEGMENT_GRID: Mapping[tuple[int, int], str] = {
    (r, fm): name for r, row in _ROWS.items() for fm, name in enumerate(row, start=1)
}
"""``(r, fm)`` → segment for five bins (the table in the module doc)."""

ABSENT = "(absent)"
"""Movement label of a customer not scored in one of the two periods."""

Method = Literal["quantile", "fixed"]


def quantile_scores(
    values: ArrayLike, *, bins: int = 5, higher_is_better: bool = True
) -> NDArray[np.int64]:
    """Rank-based scores 1 … ``bins`` with ties kept together (module doc).

    ``score = 1 + floor(bins · (customers strictly worse) / n)``.

    >>> quantile_scores([1, 1, 1, 2, 3, 4, 5, 6, 8, 9]).tolist()
    [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    >>> quantile_scores([0, 3, 3, 10], bins=4, higher_is_better=False).tolist()
    [4, 2, 2, 1]
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = x if higher_is_better else -x
    # strictly worse = customers before the value's tie group in sorted order
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    worse = (np.cumsum(counts) - counts)[inverse.reshape(-1)]
    return (1 + np.floor(bins * worse / n)).astype(np.int64)


def fixed_scores(
    values: ArrayLike, cuts: Sequence[float], *, higher_is_better: bool = True
) -> NDArray[np.int64]:
    """Scores from ascending cut points: ``len(cuts) + 1`` bins (module doc).

    >>> fixed_scores([1, 2, 5, 12], [2, 5, 10]).tolist()
    [1, 2, 3, 4]
    >>> fixed_scores([0, 7, 29, 30, 400], [7, 30, 60, 90], higher_is_better=False).tolist()
    [5, 4, 4, 3, 1]
    """
    edges = np.asarray(cuts, dtype=np.float64)
    if edges.ndim != 1 or edges.size == 0 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"cuts: expected strictly ascending cut points; found {list(cuts)}")
    x = np.asarray(values, dtype=np.float64)
    above = np.searchsorted(edges, x, side="right")
    bins = edges.size + 1
    score = 1 + above if higher_is_better else bins - above
    return np.asarray(score, dtype=np.int64)


@dataclass(frozen=True)
class RFMResult:
    """Scores and segments of one period.

    Attributes:
        status: ``ok``, ``empty``, ``not_enough_data`` or ``constant_measure``.
        reason: why not ``ok`` (empty when ok).
        table: the input rows with ``r``, ``f``, ``m``, ``fm`` (nullable ints), ``rfm``
            (``"545"``) and ``segment`` (null when not scored).
        segments: one row per segment (every segment of the map, in its order, zeros
            included): ``segment``, ``customers``, ``customer_share``, ``revenue``,
            ``revenue_share``, mean ``recency``, ``frequency``, ``monetary``.
        unscored: customers with a missing or negative measure (not scored).
        params: method, bins and the cut points used (for quantiles: the value at which
            each score starts, per measure).
    """

    status: str
    reason: str
    table: pd.DataFrame
    segments: pd.DataFrame
    unscored: int
    params: Mapping[str, object] = field(default_factory=dict)


def _nullable(values: NDArray[np.int64], ok: NDArray[np.bool_]) -> pd.arrays.IntegerArray:
    """Nullable integers: ``values`` where ``ok``, missing elsewhere (``ok`` empty: all)."""
    mask = np.ones(values.size, dtype=bool) if ok.size == 0 else ~ok
    return pd.arrays.IntegerArray(values, mask)


def _check_segments(
    segments: Mapping[tuple[int, int], str] | None, bins: int
) -> dict[tuple[int, int], str]:
    if segments is None:
        if bins != 5:
            raise ValueError(
                f"rfm: the default segment map is for 5 bins; found bins={bins}: pass "
                "segments={(r, fm): name} covering every cell"
            )
        return dict(SEGMENT_GRID)
    cells = {(r, fm) for r in range(1, bins + 1) for fm in range(1, bins + 1)}
    missing = sorted(cells - set(segments))
    if missing:
        raise ValueError(
            f"rfm: expected segments for every (r, fm) cell in 1..{bins}; missing {missing}"
        )
    return {cell: str(segments[cell]) for cell in cells}


def _segment_order(grid: Mapping[tuple[int, int], str]) -> list[str]:
    names = set(grid.values())
    known = [s for s in SEGMENTS if s in names]
    return known + sorted(names - set(known))


def segment_sizes(
    table: pd.DataFrame, order: Sequence[str] = SEGMENTS, *, revenue: str = "monetary"
) -> pd.DataFrame:
    """Customers and revenue per segment, with shares of the scored total.

    >>> t = pd.DataFrame({"segment": ["lost", "champions", "champions"],
    ...                   "recency": [90, 1, 3], "frequency": [1, 5, 7],
    ...                   "monetary": [10.0, 50.0, 40.0]})
    >>> s = segment_sizes(t, ["champions", "lost"])
    >>> s[["segment", "customers", "revenue_share"]].values.tolist()
    [['champions', 2, 0.9], ['lost', 1, 0.1]]
    """
    scored = table[table["segment"].notna()]
    grouped = scored.groupby("segment", sort=False)
    counts = grouped.size()
    money = grouped[revenue].sum()
    means = {m: grouped[m].mean().to_dict() for m in MEASURES if m in scored.columns}
    total_n = float(counts.sum())
    total_r = float(money.sum())
    rows = []
    for name in order:
        n = int(counts.get(name, 0))
        r = float(money.get(name, 0.0))
        row: dict[str, object] = {
            "segment": name,
            "customers": n,
            "customer_share": n / total_n if total_n else np.nan,
            "revenue": r,
            "revenue_share": r / total_r if total_r else np.nan,
        }
        for m in MEASURES:
            value = means.get(m, {}).get(name) if n else None
            row[m] = float(value) if value is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _starts(values: NDArray[np.float64], scores: NDArray[np.int64], bins: int) -> list[float]:
    """The smallest value with each score (NaN for an unused score)."""
    return [float(values[scores == s].min()) if np.any(scores == s) else np.nan
            for s in range(1, bins + 1)]  # fmt: skip


def rfm_scores(
    frame: pd.DataFrame,
    *,
    method: Method = "quantile",
    bins: int = 5,
    cuts: Mapping[str, Sequence[float]] | None = None,
    segments: Mapping[tuple[int, int], str] | None = None,
) -> RFMResult:
    """Score recency, frequency and monetary value and name each customer's segment.

    Args:
        frame: one row per customer with ``recency``, ``frequency``, ``monetary``
            (other columns are kept).
        method: ``"quantile"`` (rank-based, ties together) or ``"fixed"`` (``cuts``).
        bins: scores per measure (2 … 10); with ``method="fixed"`` it is
            ``len(cuts[m]) + 1`` and must agree.
        cuts: ``method="fixed"`` only: measure → ascending cut points.
        segments: ``(r, fm)`` → segment name for every cell; default :data:`SEGMENT_GRID`
            (five bins only).

    Returns:
        :class:`RFMResult`. Method and criteria: module doc.

    Raises:
        ValueError: a missing column, an unknown method, bins out of range, cuts missing
            or inconsistent, a segment map with gaps.

    >>> f = pd.DataFrame({"recency": [1, 2, 30, 60, 90], "frequency": [9, 5, 3, 2, 1],
    ...                   "monetary": [900.0, 400.0, 300.0, 100.0, 50.0]})
    >>> res = rfm_scores(f)
    >>> res.status, res.table["rfm"].tolist(), res.table["segment"].tolist()
    ('ok', ['555', '444', '333', '222', '111'], ['champions', 'loyal', 'need attention', 'hibernating', 'lost'])
    """  # noqa: E501
    missing = [c for c in MEASURES if c not in frame.columns]
    if missing:
        raise ValueError(
            f"rfm: expected columns {', '.join(MEASURES)}; missing {', '.join(missing)} "
            f"(found {', '.join(map(str, frame.columns))})"
        )
    if method not in ("quantile", "fixed"):
        raise ValueError(f"rfm: expected method 'quantile' or 'fixed'; found {method!r}")
    if method == "fixed":
        if cuts is None or any(m not in cuts for m in MEASURES):
            raise ValueError(
                "rfm: method='fixed' expects cuts for recency, frequency and monetary; "
                f"found {sorted(cuts) if cuts else None}"
            )
        sizes = {len(cuts[m]) + 1 for m in MEASURES}
        if len(sizes) != 1:
            raise ValueError(
                f"rfm: expected the same number of cuts per measure; found "
                f"{ {m: len(cuts[m]) for m in MEASURES} }"
            )
        bins = sizes.pop()
        for m in MEASURES:
            if np.any(np.diff(np.asarray(cuts[m], dtype=np.float64)) <= 0):
                raise ValueError(
                    f"rfm: expected strictly ascending cuts for {m}; found {list(cuts[m])}"
                )
    elif cuts is not None:
        raise ValueError("rfm: cuts are for method='fixed'; found cuts with method='quantile'")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 10:
        raise ValueError(f"rfm: expected bins between 2 and 10; found {bins!r}")
    grid = _check_segments(segments, bins)
    order = _segment_order(grid)

    table = frame.copy().reset_index(drop=True)
    values = {m: pd.to_numeric(table[m], errors="coerce").to_numpy(np.float64) for m in MEASURES}
    ok = np.ones(len(table), dtype=bool)
    for m in MEASURES:
        ok &= np.isfinite(values[m]) & (values[m] >= 0)
    unscored = int((~ok).sum())
    n = int(ok.sum())
    params: dict[str, object] = {"method": method, "bins": bins, "customers": n}

    def empty_scores(status: str, reason: str) -> RFMResult:
        for col in ("r", "f", "m", "fm"):
            table[col] = _nullable(np.zeros(len(table), dtype=np.int64), np.zeros(0, bool))
        table["rfm"] = pd.Series([None] * len(table), dtype="object")
        table["segment"] = pd.Series([None] * len(table), dtype="object")
        sizes = segment_sizes(table, order)
        return RFMResult(status, reason, table, sizes, unscored, params)

    if n == 0:
        return empty_scores("empty", "no customers with recency, frequency and monetary value")
    if n < bins:
        return empty_scores(
            "not_enough_data", f"{n} scored customers for {bins} bins: quantiles say nothing"
        )
    scores: dict[str, NDArray[np.int64]] = {}
    for m, col in zip(MEASURES, ("r", "f", "m"), strict=True):
        v = values[m][ok]
        better = m != "recency"
        if method == "quantile":
            if np.ptp(v) == 0:
                return empty_scores(
                    "constant_measure",
                    f"every scored customer has the same {m} ({v[0]:g}): rank-based "
                    "scores cannot tell them apart; use fixed cuts",
                )
            s = quantile_scores(v, bins=bins, higher_is_better=better)
            params[f"{m}_starts"] = _starts(v, s, bins)
        else:
            assert cuts is not None
            s = fixed_scores(v, cuts[m], higher_is_better=better)
            params[f"{m}_cuts"] = [float(c) for c in cuts[m]]
        scores[col] = s
    fm = np.ceil((scores["f"] + scores["m"]) / 2).astype(np.int64)
    for col, s in (*scores.items(), ("fm", fm)):
        full = np.zeros(len(table), dtype=np.int64)
        full[ok] = s
        table[col] = _nullable(full, ok)
    # Lookups by cell index instead of per-row Python: one array of names, one of codes.
    names = np.empty((bins + 1) * (bins + 1), dtype=object)
    for (r, c), label in grid.items():
        names[r * (bins + 1) + c] = label
    labels = names[scores["r"] * (bins + 1) + fm]
    width = bins + 1
    cell = (scores["r"] * width + scores["f"]) * width + scores["m"]
    unique, inverse = np.unique(cell, return_inverse=True)
    spelled = np.array(
        [f"{u // width // width}{u // width % width}{u % width}" for u in unique], dtype=object
    )
    codes = spelled[inverse]
    rfm = np.full(len(table), None, dtype=object)
    rfm[ok] = codes
    seg = np.full(len(table), None, dtype=object)
    seg[ok] = labels
    table["rfm"] = rfm
    table["segment"] = seg
    return RFMResult("ok", "", table, segment_sizes(table, order), unscored, params)


def segment_movement(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    id_column: str = "user_id",
    order: Sequence[str] = SEGMENTS,
) -> pd.DataFrame:
    """Customers moving between segments from one period to the next.

    Customers are matched by ``id_column``; one missing (or unscored) in a period is in
    :data:`ABSENT` there (a new buyer: ``(absent) → new``; one who stopped buying and
    dropped out of the later window: ``… → (absent)``).

    Returns:
        Tidy, one row per ``(before, after)`` pair in ``order`` then :data:`ABSENT` (every
        pair, zeros included, except absent → absent): ``before``, ``after``,
        ``customers``, ``share_of_before`` (of the customers in ``before``'s segment).

    Raises:
        ValueError: a frame without ``id_column`` or ``segment``, or with repeated ids.

    >>> a = pd.DataFrame({"user_id": [1, 2, 3], "segment": ["new", "new", "lost"]})
    >>> b = pd.DataFrame({"user_id": [1, 2, 4], "segment": ["loyal", "new", "new"]})
    >>> m = segment_movement(a, b, order=["loyal", "new", "lost"])
    >>> m[m.customers > 0].values.tolist()
    [['new', 'loyal', 1, 0.5], ['new', 'new', 1, 0.5], ['lost', '(absent)', 1, 1.0], ['(absent)', 'new', 1, nan]]
    """  # noqa: E501
    for name, f in (("before", before), ("after", after)):
        for col in (id_column, "segment"):
            if col not in f.columns:
                raise ValueError(
                    f"segment_movement: expected a {col!r} column in {name}; found "
                    f"{', '.join(map(str, f.columns))}"
                )
        if f[id_column].duplicated().any():
            raise ValueError(f"segment_movement: expected one row per {id_column} in {name}")
    a = before.loc[before["segment"].notna(), [id_column, "segment"]]
    b = after.loc[after["segment"].notna(), [id_column, "segment"]]
    both = a.merge(b, on=id_column, how="outer", suffixes=("_a", "_b"))
    both = both.fillna({"segment_a": ABSENT, "segment_b": ABSENT})
    counts = both.groupby(["segment_a", "segment_b"]).size()
    seen = set(both["segment_a"].unique()) | set(both["segment_b"].unique())
    labels = [*order, *sorted(seen - set(order) - {ABSENT}), ABSENT]
    from_totals = both.groupby("segment_a").size()
    rows = []
    for x in labels:
        for y in labels:
            if x == ABSENT and y == ABSENT:
                continue
            n = int(counts.get((x, y), 0))
            total = int(from_totals.get(x, 0))
            share = n / total if total and x != ABSENT else np.nan
            rows.append({"before": x, "after": y, "customers": n, "share_of_before": share})
    return pd.DataFrame(rows)


__all__ = [
    "ABSENT",
    "MEASURES",
    "SEGMENTS",
    "SEGMENT_GRID",
    "RFMResult",
    "fixed_scores",
    "quantile_scores",
    "rfm_scores",
    "segment_movement",
    "segment_sizes",
]
