"""Clusters of customers described by mixed numeric and categorical features (k-prototypes).

Input: a per-customer pandas frame (one row a customer), the names of its numeric columns
and of its categorical columns. Everything below is pure (no engine) and seeded.

**Features.**

- Numeric: a missing value (also ±inf and text that is not a number) is replaced by the
  column's median (no flag column: a 0/1 flag would be one more dimension in the distance
  and could make "has a missing value" a cluster of its own; the count of missing values
  per column is reported in :attr:`Clustering.features`). Then scaled, by default
  ``scale="robust"``: ``z = (x − median) / s`` with ``s = IQR / 1.349`` (the standard
  deviation of a normal distribution with that inter-quartile range; the standard deviation
  where the IQR is 0), clipped to ``±clip`` (default 4) so that a handful of extreme
  spenders cannot form clusters of their own; ``scale="standard"`` uses the mean and the
  standard deviation instead. Scaling parameters come from all rows. A constant column
  (``s = 0``) is left out, with a note.
- Categorical: values as text; a missing value is the category ``"(unknown)"``. A column with
  a single category is left out, with a note.

**Model (k-prototypes, Huang 1998).** The dissimilarity of a customer ``x`` to a prototype
``c`` (numeric means ``μ``, categorical modes ``m``) is
``d(x, c) = Σ_j (x_j − μ_j)² + γ · #{l : x_l ≠ m_l}``; the cost of a clustering is the sum
of every customer's dissimilarity to its prototype. ``γ`` defaults to the ``kmodes``
package's own default, half the mean standard deviation of the scaled numeric columns
(computed on all rows), so a categorical mismatch weighs like a numeric difference of about
0.7 of a (scaled) standard deviation.

Two engines minimise the same cost from the same features, ``γ`` and data:

- ``engine="numpy"`` (default): a vectorised batch (Lloyd) iteration — assign every
  customer to its nearest prototype, then set each prototype to its members' numeric means
  and categorical modes (ties: the first category in sorted order) — until no assignment
  changes or ``max_iter`` passes. Each pass can only lower the cost. Starts: k-means++
  seeding on the same dissimilarity (the first prototype a random customer, each next one
  a customer drawn with probability proportional to its dissimilarity to the nearest
  prototype so far); the best of ``n_init`` starts (lowest cost) is kept. An emptied cluster
  is re-seeded with the customer farthest from its prototype.
- ``engine="kmodes"``: ``kmodes.kprototypes.KPrototypes`` (init ``"Cao"``, the same ``γ``,
  ``n_init`` and ``random_state``), an incremental per-customer iteration written in plain
  Python: about 20 s for one fit of 20,000 customers at k = 8 (measured), too slow for the
  selection of k at the sizes of issue 17, so it serves as the reference the default engine
  is tested against (tests/stats/test_clusters.py: the same clusters, a cost no higher).
  It needs at least one numeric and one categorical feature; otherwise the numpy engine runs,
  with a note.

**Large inputs.** The model is fitted on a simple random sample of ``sample`` customers
(default 20,000; all when fewer) drawn with the seed; every customer (sampled or not) is then
assigned to the nearest prototype by the same dissimilarity, so labels do not depend on
whether a customer was in the sample.

**Choosing k** (``k=None``), on the fitting sample, for each ``k`` in ``k_range`` (default
2..8; at most the number of distinct feature rows and a fifth of the customers):

1. *Cost curve.* ``cost(k)``: the best of ``n_init`` starts; ``cost(1)`` is the cost of
   one prototype (all means and modes). The curve over ``1..k_max`` is taken on the log
   scale (each k judged by the share of the cost it removes) and normalised to
   ``x = (k − 1) / (k_max − 1)`` and ``y = (log cost(k) − log cost(k_max)) / (log cost(1) −
   log cost(k_max))``; the *elbow* is the ``k`` in the range with the largest ``(1 − y) − x``
   (kneedle: the point of the curve farthest above the straight line between its ends;
   ties: the smaller ``k``). On raw costs the kneedle picked too small a k on planted data
   (a steep first drop hides later bends); on the log scale it does not (figures in
   docs/customers.md). An elbow at ``k_max`` itself cannot be found: the range should
   reach past the plausible k.
2. *Stability.* ``stability_runs`` (default 3) further fits per ``k`` (each the best of
   ``n_init`` starts), each with its own seed drawing both its starts and its own random 80%
   of the sample; each run's prototypes label the whole sample; ``stability(k)`` = the mean
   adjusted Rand index (scikit-learn ``adjusted_rand_score``) over all pairs of runs. 1 = the
   same partition whatever the seed and subsample; near 0 = no more agreement than chance.
3. *Rule.* ``k`` = the elbow if its stability ≥ ``min_stability`` (default 0.8); otherwise
   the smallest ``k`` within one of the elbow whose stability is ≥ ``min_stability``;
   otherwise the elbow, with status ``"unstable"`` (no reproducible structure near the
   elbow: the labels are given but should not be acted on).

With ``k`` given, only that ``k`` is fitted; its stability is still measured, and below
``min_stability`` the status is ``"unstable"``. Clusters are numbered 1..k by decreasing size
(ties: by the prototype's order), so the same seed gives the same numbers.

**Degenerate input** gives a status and a reason, never an exception: fewer than
``5 × k`` customers (``"not_enough_data"``; with ``k=None`` the range is cut to a fifth of the
customers, and to the number of distinct feature rows), no feature that varies
(``"no_variation"``). Unknown columns, a bad range or option raise ``ValueError``.

**Profiles** (:func:`profile_clusters`), on all customers: size and share; revenue and
revenue share (given a value column); numeric means in the original units (missing values
left out) with the standardised difference ``d = (cluster mean − overall mean) / overall
standard deviation``; categories over-represented against the whole base: ``lift = share
in the cluster ÷ share overall``, listed when at least ``min_members`` (default 20) of the
cluster's customers have the category and the lift is ≥ ``min_lift`` (default 1.25).
A one-line *description* joins up to two numeric terms (``|d| ≥ 0.5``, largest first, worded
by ``words`` — ``(low, high)`` per column, default ``"lower <col>"``/``"higher <col>"``) and up
to two categorical terms (the most over-represented category of each column, largest lift
first, ``"(unknown)"`` skipped, worded by ``templates`` — ``"{value}"``-templates per column,
default ``"<col>: <value>"``); nothing distinctive → ``"close to the average customer"``.
A *suggested action* follows the first rule that matches, with columns given ``roles``
(``"monetary"``: spend; ``"frequency"``: purchases; ``"recency"``: days since the last
purchase, higher = longer ago; ``"discount"``: share bought at a discount), ``d`` as above:

1. ``recency`` d ≥ 0.5 and ``monetary`` d ≥ 0.5 → win-back, personal offer;
2. ``recency`` d ≥ 0.5 → win-back, low-cost reactivation;
3. ``monetary`` d ≥ 0.5 → retain as VIP;
4. ``discount`` d ≥ 0.5 → promotions;
5. ``frequency`` d ≥ 0.5 → loyalty and cross-sell;
6. ``monetary`` d ≤ −0.5 → develop (second purchase);
7. otherwise → nurture (standard communication).

A rule whose role is not given does not match.

Example: two groups of customers, clearly apart in spend and city.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> frame = pd.DataFrame({
...     "spend": np.r_[rng.normal(100, 10, 60), rng.normal(300, 10, 40)],
...     "city": ["Omsk"] * 60 + ["Tula"] * 40,
... })
>>> fit = cluster_customers(frame, numeric=["spend"], categorical=["city"], k_range=(2, 4))
>>> fit.status, fit.k, fit.labels.value_counts().sort_index().tolist()
('ok', 2, [60, 40])
>>> prof = profile_clusters(frame, fit.labels, numeric=["spend"], categorical=["city"],
...                         value="spend", words={"spend": ("small spend", "big spend")})
>>> print(prof.clusters[["cluster", "customers", "description"]].to_string(index=False))
 cluster  customers             description
       1         60 small spend, city: Omsk
       2         40   big spend, city: Tula
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import adjusted_rand_score

from growthlens.stats.threads import thread_map

UNKNOWN = "(unknown)"
"""The category of a missing categorical value."""
IQR_TO_SD = 1.349
"""Inter-quartile range of a standard normal distribution."""
MIN_PER_CLUSTER = 5
"""Fewest customers per cluster on average: k needs at least 5 × k customers."""
STABILITY_FRACTION = 0.8
"""Share of the fitting sample each stability run is fitted on."""
DISTINCT = 0.5
"""``|d|`` (standardised difference) from which a numeric feature is distinctive."""
CHUNK = 65_536
"""Rows per block when computing dissimilarities (bounds memory at large inputs)."""
ENGINES = ("numpy", "kmodes")
SCALES = ("robust", "standard")
ROLES = ("monetary", "frequency", "recency", "discount")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Prototypes:
    """Cluster centres in model space: numeric means (scaled) and categorical codes."""

    numeric: FloatArray
    categorical: IntArray


@dataclass(frozen=True)
class Fit:
    """One k-prototypes fit: prototypes, labels 0..k−1 of the rows fitted, its cost."""

    prototypes: Prototypes
    labels: IntArray
    cost: float
    iterations: int


@dataclass(frozen=True)
class Features:
    """Customers in model space (module docstring, "Features").

    Attributes:
        numeric: scaled numeric matrix (n × p).
        categorical: category codes (n × q), codes index ``categories[column]``.
        numeric_names, categorical_names: the columns kept, in order.
        categories: per categorical column, its categories in sorted order.
        center, scale: per numeric column kept, the scaling (original = z · scale + center).
        table: one row per input feature: feature, kind, kept, missing, distinct, center,
            scale, note.
        notes: what was left out and why.
    """

    numeric: FloatArray
    categorical: IntArray
    numeric_names: list[str]
    categorical_names: list[str]
    categories: dict[str, list[str]]
    center: FloatArray
    scale: FloatArray
    table: pd.DataFrame
    notes: list[str]


@dataclass(frozen=True)
class Clustering:
    """The result of :func:`cluster_customers`.

    Attributes:
        labels: cluster 1..k per row of the input frame (index kept); 0 where no clustering
            was possible (status ``not_enough_data`` or ``no_variation``).
        k: clusters chosen or given (0 when none).
        status, reason: ``"ok"``, ``"unstable"``, ``"not_enough_data"`` or
            ``"no_variation"``, and words.
        selection: one row per k tried: k, cost, scaled (y), knee ((1 − y) − x), stability,
            elbow (bool), chosen (bool). ``k = 1`` carries the cost only.
        prototypes: one row per cluster (1..k): the prototype's numeric means (of the scaled,
            clipped features) turned back into original units, and its categorical modes
            (:func:`profile_clusters` gives the plain means).
        features: per input feature, how it entered the model (:class:`Features`).
        gamma: the weight of a categorical mismatch.
        sample: customers the model was fitted on.
        customers: customers in the frame.
        method: the method in words.
        notes: features left out, engine fallbacks.
    """

    labels: pd.Series
    k: int
    status: str
    reason: str
    selection: pd.DataFrame
    prototypes: pd.DataFrame
    features: pd.DataFrame
    gamma: float
    sample: int
    customers: int
    method: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Profiles:
    """The result of :func:`profile_clusters`.

    Attributes:
        clusters: one row per cluster: cluster, customers, share, revenue, revenue_share,
            description, action, rule (which action rule matched).
        numeric: cluster, feature, mean, overall_mean, d (standardised difference).
        categories: over-represented categories: cluster, feature, category, count,
            cluster_share, overall_count, overall_share, lift; largest lift first per
            cluster.
    """

    clusters: pd.DataFrame
    numeric: pd.DataFrame
    categories: pd.DataFrame


# --------------------------------------------------------------------------- features


def _check_columns(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> None:
    if isinstance(numeric, str) or isinstance(categorical, str):
        raise ValueError("numeric and categorical: expected lists of column names, found a string")
    missing = [c for c in [*numeric, *categorical] if c not in frame.columns]
    if missing:
        raise ValueError(
            f"columns: expected columns of the frame, found unknown {missing}; "
            f"the frame has {list(frame.columns)}"
        )
    both = set(numeric) & set(categorical)
    if both:
        raise ValueError(f"columns: expected each column once, found {sorted(both)} in both lists")
    if not numeric and not categorical:
        raise ValueError("columns: expected at least one numeric or categorical column, found none")


def prepare_features(
    frame: pd.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    scale: str = "robust",
    clip: float | None = 4.0,
) -> Features:
    """Impute, scale and encode the features (module docstring, "Features").

    Args:
        frame: one row per customer.
        numeric: numeric columns.
        categorical: categorical columns.
        scale: ``"robust"`` (median and IQR / 1.349) or ``"standard"`` (mean and standard
            deviation).
        clip: scaled values are clipped to ±clip (None: not clipped).

    Raises:
        ValueError: unknown columns or options.
    """
    _check_columns(frame, numeric, categorical)
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {SCALES}, found {scale!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip: expected a positive number or None, found {clip!r}")
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    n = len(frame)
    cols: list[FloatArray] = []
    num_names: list[str] = []
    centers: list[float] = []
    scales: list[float] = []
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, copy=True)
        values[~np.isfinite(values)] = np.nan  # ±inf counts as missing
        missing = int(np.isnan(values).sum())
        observed = values[~np.isnan(values)]
        row: dict[str, Any] = {
            "feature": name,
            "kind": "numeric",
            "missing": missing,
            "distinct": int(np.unique(observed).size),
        }
        if observed.size == 0 or np.ptp(observed) == 0:
            note = f"{name}: constant (or all missing), left out"
            rows.append({**row, "kept": False, "center": math.nan, "scale": math.nan, "note": note})
            notes.append(note)
            continue
        median = float(np.median(observed))
        if scale == "robust":
            q1, q3 = np.quantile(observed, [0.25, 0.75])
            center, spread = median, float(q3 - q1) / IQR_TO_SD
            if spread == 0:
                spread = float(observed.std())
        else:
            center, spread = float(observed.mean()), float(observed.std())
        z = (np.where(np.isnan(values), median, values) - center) / spread
        if clip is not None:
            z = np.clip(z, -clip, clip)
        cols.append(z)
        num_names.append(name)
        centers.append(center)
        scales.append(spread)
        note = f"{missing} missing → median {median:g}" if missing else ""
        rows.append({**row, "kept": True, "center": center, "scale": spread, "note": note})
    codes: list[IntArray] = []
    cat_names: list[str] = []
    categories: dict[str, list[str]] = {}
    for name in categorical:
        raw = frame[name]
        missing = int(raw.isna().sum())
        text = raw.astype("string").fillna(UNKNOWN).astype(str)
        code, uniques = pd.factorize(text, sort=True)
        row = {"feature": name, "kind": "categorical", "missing": missing}
        row["distinct"] = len(uniques)
        if len(uniques) < 2:
            note = f"{name}: a single category, left out"
            rows.append({**row, "kept": False, "center": math.nan, "scale": math.nan, "note": note})
            notes.append(note)
            continue
        codes.append(code.astype(np.int64))
        cat_names.append(name)
        categories[name] = [str(u) for u in uniques]
        note = f'{missing} missing → "{UNKNOWN}"' if missing else ""
        rows.append({**row, "kept": True, "center": math.nan, "scale": math.nan, "note": note})
    num = np.column_stack(cols) if cols else np.zeros((n, 0))
    cat = np.column_stack(codes) if codes else np.zeros((n, 0), dtype=np.int64)
    table = pd.DataFrame(
        rows, columns=["feature", "kind", "kept", "missing", "distinct", "center", "scale", "note"]
    )
    return Features(
        numeric=num.astype(np.float64),
        categorical=cat.astype(np.int64),
        numeric_names=num_names,
        categorical_names=cat_names,
        categories=categories,
        center=np.asarray(centers, dtype=np.float64),
        scale=np.asarray(scales, dtype=np.float64),
        table=table,
        notes=notes,
    )


def default_gamma(numeric: FloatArray) -> float:
    """``kmodes``' default weight of a categorical mismatch: ½ × mean std of the numeric columns.

    With no numeric column the weight is 1 (it then only scales the cost).

    >>> default_gamma(np.array([[0.0, 0.0], [2.0, 4.0]]))
    0.75
    """
    if numeric.shape[1] == 0:
        return 1.0
    return float(0.5 * np.mean(numeric.std(axis=0)))


# --------------------------------------------------------------------------- the algorithm


def dissimilarities(
    numeric: FloatArray, categorical: IntArray, prototypes: Prototypes, gamma: float
) -> FloatArray:
    """``d(x, c)`` of every row to every prototype (n × k): squared distance + γ · mismatches.

    Summed column by column (a numeric column adds ``(x_j − μ_j)²``, a categorical one looks
    up ``γ · [code ≠ mode]`` in a small table), in blocks of :data:`CHUNK` rows.

    >>> p = Prototypes(np.array([[0.0], [3.0]]), np.array([[0], [1]]))
    >>> dissimilarities(np.array([[1.0]]), np.array([[1]]), p, 0.5).tolist()
    [[1.5, 4.0]]
    """
    n, k = numeric.shape[0], prototypes.numeric.shape[0]
    out = np.zeros((n, k), dtype=np.float64)
    tables = []
    for j in range(categorical.shape[1]):
        top = max(int(categorical[:, j].max()) if n else 0, int(prototypes.categorical[:, j].max()))
        levels = np.arange(top + 1)[:, None]
        tables.append(gamma * (levels != prototypes.categorical[None, :, j]).astype(np.float64))
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        block = out[start:stop]
        for j in range(numeric.shape[1]):
            diff = numeric[start:stop, j][:, None] - prototypes.numeric[None, :, j]
            block += diff * diff
        for j, table in enumerate(tables):
            block += table[categorical[start:stop, j]]
    return out


def assign(
    numeric: FloatArray, categorical: IntArray, prototypes: Prototypes, gamma: float
) -> tuple[IntArray, FloatArray]:
    """The nearest prototype of every row (ties: the lower index) and its dissimilarity.

    Works in blocks of :data:`CHUNK` rows, so millions of customers fit in memory.
    """
    labels = np.empty(numeric.shape[0], dtype=np.int64)
    best = np.empty(numeric.shape[0], dtype=np.float64)
    for start in range(0, numeric.shape[0], CHUNK):
        stop = min(start + CHUNK, numeric.shape[0])
        d = dissimilarities(numeric[start:stop], categorical[start:stop], prototypes, gamma)
        labels[start:stop] = d.argmin(axis=1)
        best[start:stop] = d[np.arange(stop - start), labels[start:stop]]
    return labels, best


def _update(
    numeric: FloatArray, categorical: IntArray, labels: IntArray, k: int, levels: list[int]
) -> Prototypes:
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.zeros((k, numeric.shape[1]))
    for j in range(numeric.shape[1]):
        sums[:, j] = np.bincount(labels, weights=numeric[:, j], minlength=k)
    means = sums / np.maximum(counts, 1.0)[:, None]
    modes = np.zeros((k, categorical.shape[1]), dtype=np.int64)
    for j, m in enumerate(levels):
        table = np.bincount(labels * m + categorical[:, j], minlength=k * m).reshape(k, m)
        modes[:, j] = table.argmax(axis=1)
    return Prototypes(means, modes)


def _seed_prototypes(
    numeric: FloatArray, categorical: IntArray, k: int, gamma: float, rng: np.random.Generator
) -> Prototypes:
    n = numeric.shape[0]
    chosen = [int(rng.integers(n))]
    nearest = np.full(n, np.inf)
    for _ in range(1, k):
        last = Prototypes(numeric[chosen[-1:]], categorical[chosen[-1:]])
        nearest = np.minimum(nearest, dissimilarities(numeric, categorical, last, gamma)[:, 0])
        total = nearest.sum()
        # total 0: every row coincides with a chosen one
        pick = int(rng.choice(n, p=nearest / total)) if total > 0 else int(rng.integers(n))
        chosen.append(pick)
    index = np.asarray(chosen)
    return Prototypes(numeric[index].copy(), categorical[index].copy())


def _lloyd(
    numeric: FloatArray,
    categorical: IntArray,
    k: int,
    gamma: float,
    rng: np.random.Generator,
    max_iter: int,
    levels: list[int],
) -> Fit:
    protos = _seed_prototypes(numeric, categorical, k, gamma, rng)
    labels, dist = assign(numeric, categorical, protos, gamma)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        protos = _update(numeric, categorical, labels, k, levels)
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        for c in empty:  # re-seed an emptied cluster with the farthest row
            far = int(dist.argmax())
            protos.numeric[c] = numeric[far]
            protos.categorical[c] = categorical[far]
            dist[far] = 0.0
        new, dist = assign(numeric, categorical, protos, gamma)
        if np.array_equal(new, labels) and empty.size == 0:
            break
        labels = new
    return Fit(protos, labels, float(dist.sum()), iterations)


def _fit_kmodes(
    numeric: FloatArray,
    categorical: IntArray,
    k: int,
    gamma: float,
    seed: int,
    n_init: int,
    max_iter: int,
) -> Fit:
    from kmodes.kprototypes import KPrototypes

    p = numeric.shape[1]
    matrix = np.empty((numeric.shape[0], p + categorical.shape[1]), dtype=object)
    matrix[:, :p] = numeric
    matrix[:, p:] = categorical
    model = KPrototypes(
        n_clusters=k, init="Cao", n_init=n_init, gamma=gamma, random_state=seed, max_iter=max_iter
    )
    model.fit(matrix, categorical=list(range(p, matrix.shape[1])))
    centroids = model.cluster_centroids_
    protos = Prototypes(
        np.asarray(centroids[:, :p], dtype=np.float64),
        np.asarray(centroids[:, p:], dtype=np.int64),
    )
    labels, dist = assign(numeric, categorical, protos, gamma)
    return Fit(protos, labels, float(dist.sum()), int(model.n_iter_))


def fit_kprototypes(
    numeric: FloatArray,
    categorical: IntArray,
    k: int,
    *,
    gamma: float,
    seed: int = 0,
    n_init: int = 4,
    max_iter: int = 100,
    engine: str = "numpy",
) -> Fit:
    """k-prototypes on prepared features: the best of ``n_init`` starts (module docstring).

    Args:
        numeric: scaled numeric matrix (n × p).
        categorical: category codes 0..m−1 (n × q).
        k: clusters, 1 ≤ k ≤ n.
        gamma: weight of a categorical mismatch.
        seed: seeds the starts (numpy: ``np.random.default_rng(seed)``; kmodes:
            ``random_state``).
        n_init: starts (the lowest cost is kept).
        max_iter: passes per start.
        engine: ``"numpy"`` or ``"kmodes"`` (needs p ≥ 1 and q ≥ 1).

    Raises:
        ValueError: bad options.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {ENGINES}, found {engine!r}")
    n = numeric.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k: expected 1 ≤ k ≤ {n} (rows), found {k}")
    if n_init < 1 or max_iter < 1:
        raise ValueError(f"n_init, max_iter: expected ≥ 1, found {n_init}, {max_iter}")
    if engine == "kmodes" and numeric.shape[1] and categorical.shape[1] and k > 1:
        return _fit_kmodes(numeric, categorical, k, gamma, seed, n_init, max_iter)
    levels = [int(categorical[:, j].max()) + 1 for j in range(categorical.shape[1])]
    rng = np.random.default_rng(seed)
    best: Fit | None = None
    for _ in range(n_init):
        fit = _lloyd(numeric, categorical, k, gamma, rng, max_iter, levels)
        if best is None or fit.cost < best.cost - 1e-9 * abs(best.cost):
            best = fit
    assert best is not None
    return best


# --------------------------------------------------------------------------- choosing k


def kneedle(costs: Mapping[int, float], candidates: Sequence[int]) -> tuple[int, dict[int, float]]:
    """The elbow of a decreasing cost curve (log scale): the candidate farthest above the chord.

    ``x = (k − k₀) / (k₁ − k₀)``, ``y = (log cost(k) − log cost(k₁)) / (log cost(k₀) −
    log cost(k₁))`` over the curve's first and last k; score ``(1 − y) − x``; the largest
    score wins (ties: smaller k). On the log scale each k is judged by the *share* of the
    cost it removes, so a steep first drop does not hide later bends. A flat curve scores 0
    everywhere (the smallest candidate is returned); costs ≤ 0 are floored at 1e-12.

    >>> elbow, score = kneedle({1: 100.0, 2: 40.0, 3: 30.0, 4: 25.0}, [2, 3, 4])
    >>> elbow, round(score[2], 3), round(score[3], 3)
    (2, 0.328, 0.202)
    """
    ks = sorted(costs)
    k0, k1 = ks[0], ks[-1]
    logs = {k: math.log(max(costs[k], 1e-12)) for k in ks}
    span = logs[k0] - logs[k1]
    score: dict[int, float] = {}
    for k in ks:
        x = (k - k0) / (k1 - k0) if k1 > k0 else 0.0
        y = (logs[k] - logs[k1]) / span if span > 0 else 1.0 - x
        score[k] = (1.0 - y) - x
    best = min(candidates, key=lambda k: (-round(score[k], 12), k))
    return best, score


def choose_k(
    elbow: int, stability: Mapping[int, float], min_stability: float = 0.8
) -> tuple[int, bool]:
    """The k the rule of the module docstring picks, and whether it is stable.

    The elbow if stable, else the smallest stable k within one of it, else the elbow marked
    unstable.

    >>> choose_k(4, {3: 0.95, 4: 0.7, 5: 0.9})
    (3, True)
    >>> choose_k(4, {3: 0.95, 4: 0.85, 5: 0.9})
    (4, True)
    >>> choose_k(4, {2: 0.99, 3: 0.5, 4: 0.7, 5: 0.6})
    (4, False)
    """
    if stability.get(elbow, 0.0) >= min_stability:
        return elbow, True
    for k in (elbow - 1, elbow + 1):
        if k in stability and stability[k] >= min_stability:
            return k, True
    return elbow, False


def stability_at(
    numeric: FloatArray,
    categorical: IntArray,
    k: int,
    *,
    gamma: float,
    seed: int,
    runs: int = 3,
    n_init: int = 4,
    max_iter: int = 100,
) -> float:
    """Mean adjusted Rand index between ``runs`` fits on subsamples (module docstring, step 2).

    Run ``r`` draws its 80% of the rows and its ``n_init`` starts from
    ``default_rng([seed, k, r])``, keeps its lowest-cost start and labels all rows with its
    prototypes; the index is averaged over all pairs of runs.
    """
    n = numeric.shape[0]
    size = max(k, round(STABILITY_FRACTION * n))
    levels = [int(categorical[:, j].max()) + 1 for j in range(categorical.shape[1])]
    partitions = []
    for r in range(runs):
        rng = np.random.default_rng([seed, k, r])
        rows = np.sort(rng.choice(n, size=size, replace=False))
        best: Fit | None = None
        for _ in range(n_init):
            fit = _lloyd(numeric[rows], categorical[rows], k, gamma, rng, max_iter, levels)
            if best is None or fit.cost < best.cost - 1e-9 * abs(best.cost):
                best = fit
        assert best is not None
        partitions.append(assign(numeric, categorical, best.prototypes, gamma)[0])
    scores = [float(adjusted_rand_score(a, b)) for a, b in combinations(partitions, 2)]
    return float(np.mean(scores)) if scores else math.nan


# --------------------------------------------------------------------------- the entry point


def _distinct_rows(numeric: FloatArray, categorical: IntArray, limit: int) -> int:
    both = np.column_stack([numeric, categorical.astype(np.float64)])
    return int(np.unique(both, axis=0).shape[0]) if both.shape[0] <= 200_000 else limit


def cluster_customers(
    frame: pd.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 0,
    sample: int = 20_000,
    n_init: int = 4,
    stability_runs: int = 3,
    min_stability: float = 0.8,
    scale: str = "robust",
    clip: float | None = 4.0,
    gamma: float | None = None,
    engine: str = "numpy",
    max_iter: int = 100,
) -> Clustering:
    """Cluster customers by k-prototypes, choosing k by elbow and stability (module docstring).

    Args:
        frame: one row per customer.
        numeric: numeric feature columns.
        categorical: categorical feature columns.
        k: the number of clusters; None chooses it in ``k_range``.
        k_range: (lowest, highest) k tried, inclusive.
        seed: seeds the sample, the starts and the stability runs (same seed, same result).
        sample: most customers the model is fitted on; the rest are assigned.
        n_init: starts per fit (the lowest cost is kept).
        stability_runs: single-start fits per k for the stability (≥ 2).
        min_stability: the mean adjusted Rand index a k needs to count as stable.
        scale: ``"robust"`` or ``"standard"`` (:func:`prepare_features`).
        clip: scaled values are clipped to ±clip (None: not clipped).
        gamma: weight of a categorical mismatch; None: ``kmodes``' default.
        engine: ``"numpy"`` or ``"kmodes"`` for the fits on the cost curve and the final fit
            (stability runs always use numpy).
        max_iter: passes per start.

    Returns:
        A :class:`Clustering`; degenerate input gives a status and labels 0.

    Raises:
        ValueError: unknown columns, bad options.
    """
    _check_options(k, k_range, sample, n_init, stability_runs, min_stability, gamma, engine)
    feats = prepare_features(
        frame, numeric=numeric, categorical=categorical, scale=scale, clip=clip
    )
    notes = list(feats.notes)
    n = len(frame)
    empty_labels = pd.Series(np.zeros(n, dtype=np.int64), index=frame.index, name="cluster")
    g = default_gamma(feats.numeric) if gamma is None else float(gamma)
    method = _method(scale, clip, g, gamma is None, engine, n_init, stability_runs, min_stability)

    def degenerate(status: str, reason: str) -> Clustering:
        return Clustering(
            labels=empty_labels, k=0, status=status, reason=reason,
            selection=_selection_frame({}, {}, {}, None, None), prototypes=pd.DataFrame(),
            features=feats.table, gamma=g, sample=0, customers=n, method=method, notes=notes,
        )  # fmt: skip

    if feats.numeric.shape[1] + feats.categorical.shape[1] == 0:
        return degenerate("no_variation", "no feature varies between customers")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=sample, replace=False)) if n > sample else np.arange(n)
    num, cat = feats.numeric[rows], feats.categorical[rows]
    distinct = _distinct_rows(num, cat, len(rows))
    if distinct < 2:
        return degenerate("no_variation", "every customer has the same features")
    k_max_data = min(len(rows) // MIN_PER_CLUSTER, distinct)
    if k is not None:
        if k > k_max_data:
            return degenerate(
                "not_enough_data",
                f"k = {k} needs at least {MIN_PER_CLUSTER * k} customers and {k} distinct "
                f"feature rows; found {len(rows)} customers, {distinct} distinct rows",
            )
        ks = [k]
    else:
        lo, hi = k_range
        hi = min(hi, k_max_data)
        if hi < lo:
            return degenerate(
                "not_enough_data",
                f"k in {lo}..{k_range[1]} needs at least {MIN_PER_CLUSTER * lo} customers and "
                f"{lo} distinct feature rows; found {len(rows)} customers, {distinct} distinct",
            )
        ks = list(range(lo, hi + 1))
    if engine == "kmodes" and not (num.shape[1] and cat.shape[1]):
        notes.append("kmodes needs numeric and categorical features: the numpy engine ran")
        engine = "numpy"
    fits: dict[int, Fit] = {}
    costs: dict[int, float] = {}
    stability: dict[int, float] = {}
    if k is None:
        costs[1] = fit_kprototypes(num, cat, 1, gamma=g, n_init=1).cost

    def at(kk: int) -> tuple[Fit, float]:
        """The fit and the stability at ``kk``: seeded by ``kk``, so k's run side by side."""
        fit = fit_kprototypes(
            num, cat, kk, gamma=g, seed=seed + kk, n_init=n_init, max_iter=max_iter, engine=engine
        )
        stable = stability_at(
            num,
            cat,
            kk,
            gamma=g,
            seed=seed,
            runs=stability_runs,
            n_init=n_init,
            max_iter=max_iter,
        )
        return fit, stable

    for kk, (fit, stable) in zip(ks, thread_map(at, ks), strict=True):
        fits[kk], costs[kk], stability[kk] = fit, fit.cost, stable
    if k is None:
        elbow, knee = kneedle(costs, ks)
        chosen, stable = choose_k(elbow, stability, min_stability)
    else:
        elbow, knee, chosen = k, {}, k
        stable = stability[k] >= min_stability
    status, reason = "ok", ""
    if not stable:
        status = "unstable"
        reason = (
            f"no k near the elbow (k = {elbow}) reaches a stability of {min_stability:g} "
            f"(mean adjusted Rand index between seeds; found {stability[chosen]:.2f} at "
            f"k = {chosen}): the clusters depend on the seed"
        )
    final = fits[chosen]
    labels_all, _ = assign(feats.numeric, feats.categorical, final.prototypes, g)
    order, numbers = _number_by_size(labels_all, chosen)
    labels = pd.Series(numbers[labels_all], index=frame.index, name="cluster")
    return Clustering(
        labels=labels,
        k=chosen,
        status=status,
        reason=reason,
        selection=_selection_frame(costs, knee, stability, elbow if k is None else None, chosen),
        prototypes=_prototype_frame(feats, final.prototypes, order, clip),
        features=feats.table,
        gamma=g,
        sample=len(rows),
        customers=n,
        method=method,
        notes=notes,
    )


def _check_options(
    k: int | None,
    k_range: tuple[int, int],
    sample: int,
    n_init: int,
    stability_runs: int,
    min_stability: float,
    gamma: float | None,
    engine: str,
) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k: expected a positive integer or None, found {k!r}")
    if (
        len(k_range) != 2
        or not all(isinstance(v, int) for v in k_range)
        or not 1 <= k_range[0] <= k_range[1]
    ):
        raise ValueError(f"k_range: expected (low, high) with 1 ≤ low ≤ high, found {k_range!r}")
    if sample < 2:
        raise ValueError(f"sample: expected at least 2 customers, found {sample}")
    if n_init < 1:
        raise ValueError(f"n_init: expected ≥ 1, found {n_init}")
    if stability_runs < 2:
        raise ValueError(f"stability_runs: expected ≥ 2, found {stability_runs}")
    if not 0 < min_stability <= 1:
        raise ValueError(f"min_stability: expected a number in (0, 1], found {min_stability}")
    if gamma is not None and not gamma >= 0:
        raise ValueError(f"gamma: expected a non-negative number or None, found {gamma!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {ENGINES}, found {engine!r}")


def _number_by_size(labels: IntArray, k: int) -> tuple[IntArray, IntArray]:
    sizes = np.bincount(labels, minlength=k)
    order = np.asarray(sorted(range(k), key=lambda c: (-sizes[c], c)), dtype=np.int64)
    numbers = np.empty(k, dtype=np.int64)
    numbers[order] = np.arange(1, k + 1)
    return order, numbers


def _selection_frame(
    costs: Mapping[int, float],
    knee: Mapping[int, float],
    stability: Mapping[int, float],
    elbow: int | None,
    chosen: int | None,
) -> pd.DataFrame:
    ks = sorted(costs)
    logs = {kk: math.log(max(c, 1e-12)) for kk, c in costs.items()}
    hi = logs[ks[-1]] if ks else 0.0
    span = logs[ks[0]] - hi if ks else 0.0
    rows = [
        {
            "k": kk,
            "cost": costs[kk],
            "scaled": (logs[kk] - hi) / span if span > 0 else math.nan,
            "knee": knee.get(kk, math.nan),
            "stability": stability.get(kk, math.nan),
            "elbow": kk == elbow,
            "chosen": kk == chosen,
        }
        for kk in ks
    ]
    return pd.DataFrame(
        rows, columns=["k", "cost", "scaled", "knee", "stability", "elbow", "chosen"]
    )


def _prototype_frame(
    feats: Features, protos: Prototypes, order: IntArray, clip: float | None
) -> pd.DataFrame:
    data: dict[str, Any] = {"cluster": np.arange(1, len(order) + 1)}
    for j, name in enumerate(feats.numeric_names):
        data[name] = protos.numeric[order, j] * feats.scale[j] + feats.center[j]
    for j, name in enumerate(feats.categorical_names):
        cats = feats.categories[name]
        data[name] = [cats[int(c)] for c in protos.categorical[order, j]]
    return pd.DataFrame(data)


def _method(
    scale: str,
    clip: float | None,
    gamma: float,
    default: bool,
    engine: str,
    n_init: int,
    runs: int,
    min_stability: float,
) -> str:
    how = "median and IQR/1.349" if scale == "robust" else "mean and standard deviation"
    clipped = f", clipped to ±{clip:g}" if clip is not None else ""
    weight = "kmodes' default, ½ × mean numeric std" if default else "given"
    return (
        f"k-prototypes ({engine} engine, best of {n_init} starts): numeric features scaled by "
        f"{how}{clipped}, missing → median; categorical missing → {UNKNOWN}; "
        f"γ = {gamma:.3g} ({weight}). k: kneedle elbow of the log cost curve, kept if the mean "
        f"adjusted Rand index of {runs} seeded runs on 80% subsamples is ≥ {min_stability:g}, "
        "else the smallest stable k within one of it."
    )


# --------------------------------------------------------------------------- profiles


def profile_clusters(
    frame: pd.DataFrame,
    labels: pd.Series | Sequence[int] | NDArray[np.int64],
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    value: str | None = None,
    min_members: int = 20,
    min_lift: float = 1.25,
    words: Mapping[str, tuple[str, str]] | None = None,
    templates: Mapping[str, str] | None = None,
    roles: Mapping[str, str] | None = None,
) -> Profiles:
    """Per-cluster size, revenue share, means, over-represented categories, text, action.

    Definitions in the module docstring ("Profiles"). Rows with label 0 (not clustered) are
    left out of the clusters but count in the overall base.

    Args:
        frame: one row per customer.
        labels: cluster per row (same length and order); 0 = not clustered.
        numeric: numeric columns to profile.
        categorical: categorical columns to profile.
        value: column of revenue per customer (None: no revenue columns, NaN).
        min_members: fewest of a cluster's customers a listed category needs.
        min_lift: lowest lift of a listed category.
        words: per numeric column, (word when low, word when high).
        templates: per categorical column, a template with ``{value}``.
        roles: role (monetary, frequency, recency, discount) → numeric column.

    Raises:
        ValueError: unknown columns or roles, labels of the wrong length.
    """
    _check_columns(frame, numeric, categorical)
    words = dict(words or {})
    templates = dict(templates or {})
    roles = dict(roles or {})
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        raise ValueError(f"roles: expected keys among {ROLES}, found {bad_roles}")
    unknown = [c for c in [*roles.values(), *([value] if value else [])] if c not in frame.columns]
    if unknown:
        raise ValueError(f"value/roles: expected columns of the frame, found unknown {unknown}")
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (len(frame),):
        raise ValueError(f"labels: expected {len(frame)} labels (one per row), found {lab.shape}")
    clusters = sorted(int(c) for c in np.unique(lab) if c != 0)
    n = len(frame)
    revenue = None
    if value:
        raw = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=np.float64)
        revenue = np.where(np.isfinite(raw), raw, 0.0)  # missing or ±inf revenue counts as 0
    total_revenue = float(revenue.sum()) if revenue is not None else math.nan
    d_table: dict[tuple[int, str], float] = {}
    numeric_rows: list[dict[str, Any]] = []
    role_cols = [c for c in roles.values() if c not in numeric]
    for name in [*numeric, *role_cols]:
        x = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(x)
        overall = float(x[ok].mean()) if ok.any() else math.nan
        sd = float(x[ok].std()) if ok.any() else math.nan
        for c in clusters:
            member = ok & (lab == c)
            mean = float(x[member].mean()) if member.any() else math.nan
            d = (mean - overall) / sd if sd > 0 else 0.0
            d_table[(c, name)] = d
            if name in numeric:
                numeric_rows.append(
                    {"cluster": c, "feature": name, "mean": mean, "overall_mean": overall, "d": d}
                )
    cat_rows: list[dict[str, Any]] = []
    for name in categorical:
        values = frame[name].astype("string").fillna(UNKNOWN).astype(str)
        codes, uniques = pd.factorize(values, sort=True)
        overall_counts = np.bincount(codes, minlength=len(uniques))
        for c in clusters:
            member = lab == c
            size = int(member.sum())
            counts = np.bincount(codes[member], minlength=len(uniques))
            for code in np.flatnonzero(counts >= max(min_members, 1)):
                share = counts[code] / size
                overall_share = overall_counts[code] / n
                lift = share / overall_share
                if lift >= min_lift:
                    cat_rows.append(
                        {
                            "cluster": c,
                            "feature": name,
                            "category": str(uniques[int(code)]),
                            "count": int(counts[code]),
                            "cluster_share": float(share),
                            "overall_count": int(overall_counts[code]),
                            "overall_share": float(overall_share),
                            "lift": float(lift),
                        }
                    )
    cats = pd.DataFrame(
        cat_rows,
        columns=[
            "cluster", "feature", "category", "count", "cluster_share", "overall_count",
            "overall_share", "lift",
        ],
    )  # fmt: skip
    if len(cats):
        cats = cats.sort_values(["cluster", "lift", "feature", "category"], ascending=[
            True, False, True, True]).reset_index(drop=True)  # fmt: skip
    rows = []
    for c in clusters:
        member = lab == c
        size = int(member.sum())
        rev = float(revenue[member].sum()) if revenue is not None else math.nan
        line = describe(
            {f: d_table[(c, f)] for f in numeric},
            cats[cats["cluster"] == c],
            words=words,
            templates=templates,
        )
        action, rule = suggest_action({r: d_table[(c, col)] for r, col in roles.items()})
        rows.append(
            {
                "cluster": c,
                "customers": size,
                "share": size / n,
                "revenue": rev,
                "revenue_share": rev / total_revenue if total_revenue > 0 else math.nan,
                "description": line,
                "action": action,
                "rule": rule,
            }
        )
    return Profiles(
        clusters=pd.DataFrame(
            rows,
            columns=[
                "cluster",
                "customers",
                "share",
                "revenue",
                "revenue_share",
                "description",
                "action",
                "rule",
            ],
        ),
        numeric=pd.DataFrame(
            numeric_rows, columns=["cluster", "feature", "mean", "overall_mean", "d"]
        ),
        categories=cats,
    )


def describe(
    d: Mapping[str, float],
    categories: pd.DataFrame,
    *,
    words: Mapping[str, tuple[str, str]] | None = None,
    templates: Mapping[str, str] | None = None,
) -> str:
    """One line from a cluster's distinctive features (module docstring, "Profiles").

    Args:
        d: standardised difference per numeric feature.
        categories: the cluster's over-represented categories (columns feature, category,
            lift), as in :attr:`Profiles.categories`.
        words: per numeric column, (word when low, word when high).
        templates: per categorical column, a template with ``{value}``.

    >>> cats = pd.DataFrame({"feature": ["group", "group", "city"],
    ...                      "category": ["обувь", "мячи", "Omsk"], "lift": [2.5, 1.4, 1.3]})
    >>> describe({"age": 0.9, "spend": -0.2, "discount": 1.4}, cats,
    ...          words={"age": ("younger", "older"),
    ...                 "discount": ("rarely at a discount", "mostly at a discount")},
    ...          templates={"group": "buys {value}"})
    'mostly at a discount, older, buys обувь, city: Omsk'
    """
    words = words or {}
    templates = templates or {}
    terms: list[str] = []
    strong = sorted(
        ((f, v) for f, v in d.items() if abs(v) >= DISTINCT), key=lambda fv: (-abs(fv[1]), fv[0])
    )
    for name, v in strong[:2]:
        low, high = words.get(name, (f"lower {name}", f"higher {name}"))
        terms.append(high if v > 0 else low)
    picked = categories[categories["category"] != UNKNOWN]
    picked = picked.sort_values(["lift", "feature"], ascending=[False, True], kind="stable")
    picked = picked.drop_duplicates("feature")
    for _, row in picked.head(2).iterrows():
        template = templates.get(str(row["feature"]), f"{row['feature']}: {{value}}")
        terms.append(template.format(value=row["category"]))
    return ", ".join(terms) if terms else "close to the average customer"


ACTIONS: dict[str, str] = {
    "win-back-valuable": "win back with a personal offer: valuable but lapsed",
    "win-back": "win back with low-cost reactivation, or let go: lapsed",
    "vip": "retain as VIP: early access and service, no blanket discounts",
    "promotions": "reach with promotions: buys mostly at a discount",
    "loyalty": "loyalty programme and cross-sell: buys often",
    "develop": "develop: nudge a second purchase through low-cost channels",
    "nurture": "nurture with standard communication",
}
"""Rule id → the suggested way to work with a cluster (rules in the module docstring)."""


def suggest_action(d: Mapping[str, float]) -> tuple[str, str]:
    """The first rule that matches the cluster's standardised differences per role.

    Returns (action, rule id); rules and thresholds in the module docstring.

    >>> suggest_action({"recency": 1.2, "monetary": 0.8})[1]
    'win-back-valuable'
    >>> suggest_action({"recency": -0.3, "monetary": 0.8, "discount": 1.0})[1]
    'vip'
    >>> suggest_action({"discount": 0.7})[1], suggest_action({})[1]
    ('promotions', 'nurture')
    """

    def high(role: str) -> bool:
        return d.get(role, 0.0) >= DISTINCT

    if high("recency") and high("monetary"):
        rule = "win-back-valuable"
    elif high("recency"):
        rule = "win-back"
    elif high("monetary"):
        rule = "vip"
    elif high("discount"):
        rule = "promotions"
    elif high("frequency"):
        rule = "loyalty"
    elif d.get("monetary", 0.0) <= -DISTINCT:
        rule = "develop"
    else:
        rule = "nurture"
    return ACTIONS[rule], rule
