"""Markov-chain attribution of order 1 to 3: removal effects solved exactly on the absorbing chain.

Input: distinct journeys (``paths``, each the channels of its touches in time order) with how
many journeys of that path converted (``conversions``) and did not (``nulls``). Definitions:

- **States** of the chain of order ``k``: ``(start)``; the k-tuples of the last ``k`` channels
  seen (for the first touches of a journey, while fewer than ``k`` have been seen, the tuple
  of what has been seen, as ChannelAttribution does); and two absorbing states,
  ``(conversion)`` and ``(null)``. Repeated channels are kept (``A, A`` is the transition
  ``(A) → (A)`` at order 1; a self-loop changes no absorption probability).
- **Transitions**: each journey ``s1 … sn`` contributes ``start → s1 → … → sn`` and then
  ``sn → conversion`` if it converted or ``sn → null`` if not, weighted by its count. The
  probability of ``a → b`` is its count ÷ the count of all transitions out of ``a``.
  A journey with no touch (an empty path) goes ``start → conversion/null`` directly: its mass
  is in P but no channel can remove it, and it gets no credit.
- **P(conversion)** is the probability of absorption in ``(conversion)`` from ``(start)``,
  solved exactly (no simulation) as the sparse linear system ``(I − Q) x = r`` over the
  transient states (Q: transient → transient probabilities, r: probability of the step into
  conversion), ``P = x[start]``. (P always equals the share of journeys that converted:
  the fitted chain reproduces the observed visit counts. The removals need the solve.)
  Up to :data:`DIRECT_MAX_STATES` states (order 1 up to 1,999 channels, order 2 up to 43)
  through the fundamental matrix ``N = (I − Q)⁻¹``, inverted densely (LAPACK; 32 MB at
  2,000 states): ``x = N r``. Larger chains (order 3: the k-tuples form a de Bruijn-like
  graph whose LU fills in, ~5 s per solve at 20 channels, 100+ s per fit) by GMRES, which
  solves the same linear system to machine precision: the solution is accepted only when
  its residual ``max |(I − Q) x − r|`` is ≤ 1e-13, otherwise the sparse LU solve
  (``scipy.sparse.linalg.spsolve``) is used. All are deterministic; none samples anything.
- **Removal effect** of channel c: ``RE(c) = 1 − P_c / P``, where ``P_c`` is the same
  absorption probability when every state whose tuple contains c sends all its mass to
  ``(null)`` (the same P_c as removing only the states whose last channel is c: the others
  are reached only through those). With N, no new solve is needed: for the removed states
  S, ``P_c = P − N[start, S] · N[S, S]⁻¹ · x[S]``, the conversion mass of the journeys that
  enter S (the Woodbury identity for turning S's rows into steps to ``(null)``); at order
  1, S = {c} and this is P − (probability of ever reaching c) · x[c], with the former
  ``N[start, c] / N[c, c]``. It equals the reduced system's solve to rounding (≈1e-15
  relative) and takes 0.02 s instead of 5.2 s for 500 channels. Above
  :data:`DIRECT_MAX_STATES`, each channel's reduced system is solved as P is. Since
  removal only takes conversion mass away, 0 ≤ RE(c) ≤ 1. A channel whose states never
  lead to a conversion has RE 0; a channel seen only in non-converting journeys can still
  have RE > 0 when its states lead into states shared with converting journeys (order 1:
  ``c → b`` where b often converts). **Share** = RE(c) ÷ Σ RE.
- **Path credit**: for each input path, each distinct channel of the path gets
  RE(c) ÷ Σ RE over the path's distinct channels (summing to 1). If every channel of the
  path has RE 0 (cannot happen for a converting path in exact arithmetic, kept as a guard
  against rounding), the channels share equally. An empty path gets ``{}``.
- **Status** (degenerate input gives a status, never an exception): ``"empty"`` when there
  is no path or every count is 0; ``"no_conversions"`` when no journey with a channel
  converted (P may still be > 0 from journeys with no touch): removal effects and shares are
  NaN and path credits ``{}``; otherwise ``"ok"``.

Bootstrap replicates keep the paths and change the counts: :meth:`MarkovChain.prepare`
builds the path → transition incidence once, :meth:`MarkovChain.fit` then costs one sparse
product and one inverse (above :data:`DIRECT_MAX_STATES`, one solve for P and one per
channel for the removals).

Example:
    >>> r = markov_attribution([("a", "b"), ("b",)], [1, 0], [0, 1])
    >>> r.p_conversion, r.p_without, r.removal_effect
    (0.5, {'a': 0.25, 'b': 0.0}, {'a': 0.5, 'b': 1.0})
    >>> r.path_credit[0]  # RE 0.5 : 1.0 over the path's channels
    {'a': 0.3333333333333333, 'b': 0.6666666666666666}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, pairwise
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.linalg import gmres, spsolve

from growthlens.errors import ConfigError

ORDERS: tuple[int, ...] = (1, 2, 3)
"""The chain orders supported."""

DIRECT_MAX_STATES = 2_000
"""Above this many states the systems are solved by GMRES (see the module docstring)."""
# GMRES stops at a relative residual of 1e-14 and the answer is kept only if
# max |(I − Q) x − r| ≤ 1e-13 (× max r when above 1); otherwise the direct solve is used.
_RTOL = 1e-14
_DENSE_MAX = 4_000_000  # the most entries of a lookup table (~40 MB while indexing)
_ATOL = 1e-13

MarkovStatus = Literal["ok", "empty", "no_conversions"]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects, shares and path credits of a Markov chain (see the module docstring).

    Attributes:
        channels: the channels, sorted.
        order: the order of the chain.
        p_conversion: absorption probability in ``(conversion)`` from ``(start)``.
        p_without: channel → that probability with the channel removed (``P_c``).
        removal_effect: channel → RE = 1 − P_c / P.
        share: channel → RE ÷ Σ RE.
        credit_matrix: paths × channels sparse matrix (CSR) of the path credits, rows in the
            order of the input paths, columns in the order of ``channels``.
        status: ``"ok"``, ``"empty"`` or ``"no_conversions"``.
        status_reason: the reason in words when ``status`` is not ``"ok"``.
    """

    channels: tuple[str, ...]
    order: int
    p_conversion: float
    p_without: dict[str, float]
    removal_effect: dict[str, float]
    share: dict[str, float]
    credit_matrix: Any = field(repr=False)
    status: MarkovStatus = "ok"
    status_reason: str = ""

    @cached_property
    def path_credit(self) -> list[dict[str, float]]:
        """Per input path, channel → credit (sums to 1); ``{}`` for an empty path or status ≠ ok."""
        return _rows_as_dicts(self.credit_matrix, self.channels)


class MarkovChain:
    """The structure of a chain of a given order over fixed paths, to refit with new counts.

    Example:
        >>> chain_ = MarkovChain.prepare([("a",), ("a", "b")], order=2)
        >>> chain_.fit([1, 1], [1, 0]).p_conversion
        0.6666666666666666
    """

    def __init__(
        self,
        *,
        channels: tuple[str, ...],
        order: int,
        n_paths: int,
        n_states: int,
        trans_from: IntArray,
        trans_to: IntArray,
        incidence_t: Any,
        last_state: IntArray,
        contains: Any,
        membership: Any,
        has_channel: np.ndarray[Any, np.dtype[np.bool_]],
    ) -> None:
        self.channels = channels
        self.order = order
        self.n_paths = n_paths
        self.n_states = n_states
        self._trans_from = trans_from
        self._trans_to = trans_to
        self._incidence_t = incidence_t  # transitions × paths, multiplicities
        self._last_state = last_state  # per path, the state before absorption (0 = start)
        self._contains = contains  # states × channels, bool: the state's tuple holds c
        self._membership = membership  # paths × channels CSR, 1 where the path holds c
        self._has_channel = has_channel  # per path: not empty

    @classmethod
    def prepare(cls, paths: Sequence[Sequence[str]], order: int = 1) -> MarkovChain:
        """Index the states and transitions of ``paths`` for a chain of order ``order``."""
        order = check_order(order)
        n_paths = len(paths)
        names = set(chain.from_iterable(paths))
        if not all(isinstance(c, str) for c in names):
            raise ValueError("paths: expected sequences of channel names (str)")
        channels = tuple(sorted(names))
        code_of = {c: i + 1 for i, c in enumerate(channels)}  # 0 = "not seen yet"
        lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=n_paths)
        total = int(lengths.sum())
        flat = np.fromiter(
            map(code_of.__getitem__, chain.from_iterable(paths)), dtype=np.int64, count=total
        )
        path_of = np.repeat(np.arange(n_paths, dtype=np.int64), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if n_paths else lengths
        pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)

        # State of each touch: its last ≤ order channels as base-(C+1) digits, 0 = none.
        base = len(channels) + 1
        if base**order >= 2**62:
            raise ConfigError(
                f"markov_order={order}: expected fewer channels for this order; got "
                f"{len(channels)}, too many states to index"
            )
        code = np.zeros(total, dtype=np.int64)
        for j in range(order):
            back = np.zeros(total, dtype=np.int64)
            ok = pos >= j
            back[ok] = flat[np.flatnonzero(ok) - j]
            code += back * base**j
        state_codes, inverse = _index(code, base**order)
        state = inverse.astype(np.int64) + 1  # 0 is (start)
        n_states = len(state_codes) + 1

        # Transitions between transient states, with the path each one came from.
        prev = np.zeros(total, dtype=np.int64)
        inner = pos > 0
        prev[inner] = state[np.flatnonzero(inner) - 1]
        key = prev * n_states + state
        trans_key, trans_idx = _index(key, n_states * n_states)
        incidence_t = sparse.csr_matrix(
            (np.ones(total), (trans_idx.astype(np.int64), path_of)),
            shape=(len(trans_key), n_paths),
        )
        last_state = np.zeros(n_paths, dtype=np.int64)
        nonempty = lengths > 0
        last_state[nonempty] = state[starts[nonempty] + lengths[nonempty] - 1]

        # Which channels each state's tuple holds (row 0, the start, holds none).
        contains = np.zeros((n_states, len(channels)), dtype=bool)
        rest = state_codes.copy()
        for _ in range(order):
            digit = rest % base
            seen = digit > 0
            contains[np.flatnonzero(seen) + 1, digit[seen] - 1] = True
            rest //= base
        membership = sparse.csr_matrix(
            (np.ones(total), (path_of, flat - 1)), shape=(n_paths, len(channels))
        )
        membership.sum_duplicates()
        membership.data[:] = 1.0
        return cls(
            channels=channels,
            order=order,
            n_paths=n_paths,
            n_states=n_states,
            trans_from=(trans_key // n_states).astype(np.int64),
            trans_to=(trans_key % n_states).astype(np.int64),
            incidence_t=incidence_t,
            last_state=last_state,
            contains=contains,
            membership=membership,
            has_channel=nonempty,
        )

    def fit(self, conversions: ArrayLike, nulls: ArrayLike) -> MarkovResult:
        """Removal effects, shares and path credits for these counts per path."""
        conv = _counts(conversions, self.n_paths, "conversions")
        null = _counts(nulls, self.n_paths, "nulls")
        nan = dict.fromkeys(self.channels, math.nan)
        no_credit = sparse.csr_matrix((self.n_paths, len(self.channels)))
        if self.n_paths == 0 or float(conv.sum() + null.sum()) == 0.0:
            reason = "no journey to build a chain from" if self.n_paths == 0 else "every count is 0"
            return MarkovResult(self.channels, self.order, math.nan, nan, nan, nan, no_credit,
                                "empty", reason)  # fmt: skip
        s = self.n_states
        flow = np.asarray(self._incidence_t @ (conv + null), dtype=float)
        into_conv = np.bincount(self._last_state, weights=conv, minlength=s)
        out = np.bincount(self._trans_from, weights=flow, minlength=s).astype(float)
        out += into_conv + np.bincount(self._last_state, weights=null, minlength=s)
        # A state no journey of this replicate visits has out = 0: it keeps an identity row.
        scale = np.divide(1.0, out, out=np.zeros(s), where=out > 0)
        q = sparse.csr_matrix(
            (flow * scale[self._trans_from], (self._trans_from, self._trans_to)), shape=(s, s)
        )
        system = (sparse.identity(s, format="csr") - q).tocsr()
        r = into_conv * scale
        # Small chains: the fundamental matrix N = (I − Q)⁻¹ answers P and every removal.
        fundamental = np.linalg.inv(system.toarray()) if s <= DIRECT_MAX_STATES else None
        x = fundamental @ r if fundamental is not None else _absorption(system, r)
        p = float(x[0])
        if float(conv[self._has_channel].sum()) == 0.0:
            return MarkovResult(self.channels, self.order, p, nan, nan, nan, no_credit,
                                "no_conversions", "no journey with a touch converted")  # fmt: skip
        p_without = dict(zip(self.channels, self._without(system, r, x, fundamental), strict=True))
        effect = {c: 1.0 - p_without[c] / p for c in self.channels}
        total_effect = sum(effect.values())
        share = {c: effect[c] / total_effect for c in self.channels}
        credit = _credit(self._membership, np.array([effect[c] for c in self.channels]))
        return MarkovResult(self.channels, self.order, p, p_without, effect, share, credit)

    def _without(
        self, system: Any, r: FloatArray, x: FloatArray, fundamental: FloatArray | None
    ) -> list[float]:
        """P_c per channel, in the order of ``channels`` (see the module docstring)."""
        if fundamental is None:  # above DIRECT_MAX_STATES: solve each reduced chain
            out = []
            for j in range(len(self.channels)):
                keep = np.flatnonzero(~self._contains[:, j])  # the start (0) is kept, first
                out.append(float(_absorption(system[keep][:, keep], r[keep], x[keep])[0]))
            return out
        p = float(x[0])
        if self.order == 1:
            # One state per channel: N[S, S] is the number N[c, c], for all channels at once.
            held = np.argmax(self._contains, axis=0)
            lost = fundamental[0, held] * x[held] / fundamental[held, held]
            return [float(v) for v in np.clip(p - lost, 0.0, p)]
        return [
            _removed(fundamental, x, np.flatnonzero(self._contains[:, j]))
            for j in range(len(self.channels))
        ]


def markov_attribution(
    paths: Sequence[Sequence[str]],
    conversions: ArrayLike,
    nulls: ArrayLike,
    *,
    order: int = 1,
) -> MarkovResult:
    """Markov-chain removal effects of the channels of ``paths`` (see the module docstring).

    Args:
        paths: channel sequences in touch order; normally distinct (repeats add up).
        conversions: per path, how many journeys converted (≥ 0; weights allowed).
        nulls: per path, how many journeys did not convert (≥ 0).
        order: order of the chain, 1, 2 or 3.

    Raises:
        ConfigError: ``order`` is not 1, 2 or 3.
        ValueError: counts negative, not finite, or not one per path.
    """
    return MarkovChain.prepare(paths, order).fit(conversions, nulls)


def check_order(order: object) -> int:
    """``order`` as an int, or a ConfigError naming what is allowed."""
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order not in ORDERS:
        raise ConfigError(f"markov_order must be 1, 2 or 3; got {order!r}")
    return int(order)


def _index(codes: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """np.unique(codes, return_inverse=True) for codes in [0, size): a lookup table when small."""
    if size > _DENSE_MAX:
        unique, inverse = np.unique(codes, return_inverse=True)
        return unique.astype(np.int64), inverse.astype(np.int64).reshape(-1)
    present = np.zeros(size, dtype=bool)
    present[codes] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(np.int64), rank[codes].astype(np.int64)


def _counts(values: ArrayLike, n: int, name: str) -> FloatArray:
    x = np.asarray(values, dtype=float).reshape(-1)
    if len(x) != n:
        raise ValueError(f"{name}: expected one count per path ({n}); got {len(x)}")
    if not np.isfinite(x).all() or (x < 0).any():
        raise ValueError(f"{name}: counts must be finite and ≥ 0")
    return x


def _absorption(system: Any, r: FloatArray, x0: FloatArray | None = None) -> FloatArray:
    """Solve (I − Q) x = r: direct sparse LU when small, else GMRES to machine precision."""
    n = system.shape[0]
    if n <= DIRECT_MAX_STATES:
        return np.atleast_1d(np.asarray(spsolve(system.tocsc(), r), dtype=float))
    # Jacobi scaling (dividing by 1 − self-loop) keeps GMRES fast on chains with repeats.
    jacobi = sparse.diags(1.0 / system.diagonal())
    x, info = gmres(system, r, x0=x0, rtol=_RTOL, atol=0.0, restart=50, maxiter=200, M=jacobi)
    x = np.asarray(x, dtype=float)
    scale = max(float(np.abs(r).max()), 1.0)
    if info != 0 or float(np.abs(system @ x - r).max()) > _ATOL * scale:
        return np.asarray(spsolve(system.tocsc(), r), dtype=float)  # exact fallback
    return x


def _removed(fundamental: FloatArray, x: FloatArray, held: IntArray) -> float:
    """P with the states ``held`` removed: P − N[0, S] · N[S, S]⁻¹ · x[S] (module docstring)."""
    if not len(held):
        return float(x[0])
    entered = np.linalg.solve(fundamental[np.ix_(held, held)], x[held])
    # Removal only takes conversion mass away: keep rounding inside [0, P].
    return min(max(float(x[0] - fundamental[0, held] @ entered), 0.0), float(x[0]))


def _credit(membership: Any, effect: FloatArray) -> Any:
    """Per path, RE over the path's channels normalised to 1; equal split if all are 0."""
    rows = np.repeat(np.arange(membership.shape[0]), np.diff(membership.indptr))
    weight = effect[membership.indices]
    sums = np.bincount(rows, weights=weight, minlength=membership.shape[0])
    sizes = np.diff(membership.indptr)
    flat = sums[rows] <= 0  # every channel of the path has RE 0: equal split
    data = np.where(flat, 1.0 / sizes[rows], weight / np.where(flat, 1.0, sums[rows]))
    return sparse.csr_matrix(
        (data, membership.indices.copy(), membership.indptr.copy()), shape=membership.shape
    )


def _rows_as_dicts(matrix: Any, channels: tuple[str, ...]) -> list[dict[str, float]]:
    m = sparse.csr_matrix(matrix)
    indptr, indices, data = m.indptr, m.indices, m.data
    return [
        {channels[int(j)]: float(v) for j, v in zip(indices[a:b], data[a:b], strict=True)}
        for a, b in pairwise(indptr.tolist())
    ]
