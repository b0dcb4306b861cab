"""Shapley-value attribution of conversions to channels, exact for any number of channels.

Input: distinct journeys (``paths``, channel sequences) and how many of each converted.

- **Game**: the channels are the players; the worth of a coalition S is
  ``v(S)`` = the number of conversions whose journey's set of channels is a subset of S
  (journeys with no touch, empty paths, are left out: no coalition can claim them, and
  v(∅) = 0 as a game needs). Order and repeats within a journey do not matter.
- **Shapley value** φ_c = Σ over coalitions S ∌ c of |S|! (n − |S| − 1)! / n! ·
  (v(S ∪ {c}) − v(S)), n = number of channels. For this game it equals
  Σ over converting journeys of conversions ÷ |channel set| for each c in the set (Zhao et
  al. 2018, "Shapley value methods for attribution modeling in online advertising"): each
  journey is a unanimity game on its set, whose value splits equally. So
  :func:`shapley_attribution` is exact for any n at the cost of one pass over the paths
  (``method = "identity"``); :func:`shapley_by_coalitions` enumerates all 2^n coalitions
  with the weights above (``method = "coalitions"``, n ≤ 12) and exists to prove the
  identity in the tests. Σ φ_c = total conversions of journeys with a touch.
- **Path credit**: 1 / |set| for each distinct channel of the path (summing to 1), ``{}``
  for an empty path — the share of each of that path's conversions.
- **Status**: ``"empty"`` with no path, ``"no_conversions"`` when no journey with a touch
  converted (every value is then exactly 0), otherwise ``"ok"``.

Example:
    >>> r = shapley_attribution([("a", "b", "a"), ("b",)], [2, 1])
    >>> r.value, r.path_credit
    ({'a': 1.0, 'b': 2.0}, [{'a': 0.5, 'b': 0.5}, {'b': 1.0}])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from growthlens.errors import ConfigError

COALITIONS_MAX_CHANNELS = 12
"""The most channels :func:`shapley_by_coalitions` enumerates (2^12 coalitions)."""

ShapleyStatus = Literal["ok", "empty", "no_conversions"]
ShapleyMethod = Literal["identity", "coalitions"]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values of the channels (see the module docstring).

    Attributes:
        channels: the channels, sorted.
        value: channel → conversions credited (φ_c).
        path_credit: per input path, channel → 1 / |channel set| (``{}`` if empty).
        method: ``"identity"`` (per-journey split) or ``"coalitions"`` (enumeration).
        status: ``"ok"``, ``"empty"`` or ``"no_conversions"``.
        status_reason: the reason in words when ``status`` is not ``"ok"``.
    """

    channels: tuple[str, ...]
    value: dict[str, float]
    path_credit: list[dict[str, float]]
    method: ShapleyMethod
    status: ShapleyStatus = "ok"
    status_reason: str = ""


def shapley_attribution(paths: Sequence[Sequence[str]], conversions: ArrayLike) -> ShapleyResult:
    """Exact Shapley values through the per-journey identity (any number of channels).

    Raises:
        ValueError: counts negative, not finite, or not one per path.
    """
    sets, channels, conv = _prepare(paths, conversions)
    credit = [dict.fromkeys(s, 1.0 / len(s)) if s else {} for s in sets]
    index = {c: i for i, c in enumerate(channels)}
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    flat = np.fromiter((index[c] for s in sets for c in s), dtype=np.int64, count=sizes.sum())
    per_touch = np.repeat(conv / np.maximum(sizes, 1), sizes)  # each journey split equally
    totals = np.bincount(flat, weights=per_touch, minlength=len(channels))
    value = {c: float(totals[i]) for i, c in enumerate(channels)}
    return _result(channels, value, credit, "identity", conv, sets)


def shapley_by_coalitions(paths: Sequence[Sequence[str]], conversions: ArrayLike) -> ShapleyResult:
    """Exact Shapley values by enumerating every coalition (at most 12 channels).

    Raises:
        ConfigError: more than :data:`COALITIONS_MAX_CHANNELS` channels.
        ValueError: counts negative, not finite, or not one per path.
    """
    sets, channels, conv = _prepare(paths, conversions)
    n = len(channels)
    if n > COALITIONS_MAX_CHANNELS:
        raise ConfigError(
            f"shapley_by_coalitions enumerates 2^n coalitions: expected at most "
            f"{COALITIONS_MAX_CHANNELS} channels; got {n} (use shapley_attribution)"
        )
    bit = {c: 1 << i for i, c in enumerate(channels)}
    masks = np.arange(1 << n)
    # v(S): conversions of the journeys whose channel mask is a subset of S (zeta transform).
    worth = np.zeros(1 << n)
    for s, k in zip(sets, conv, strict=True):
        if s:
            worth[sum(bit[c] for c in s)] += k
    for i in range(n):
        has = (masks >> i) & 1 == 1
        worth[has] += worth[masks[has] ^ (1 << i)]
    sizes = np.array([int(m).bit_count() for m in masks])
    weight = np.array([math.factorial(k) * math.factorial(n - k - 1) for k in range(n)], float)
    weight /= math.factorial(n)
    value: dict[str, float] = {}
    for i, c in enumerate(channels):
        without = masks[(masks >> i) & 1 == 0]
        gain = worth[without | (1 << i)] - worth[without]
        value[c] = float(np.sum(weight[sizes[without]] * gain))
    credit = [dict.fromkeys(s, 1.0 / len(s)) if s else {} for s in sets]
    return _result(channels, value, credit, "coalitions", conv, sets)


def _prepare(
    paths: Sequence[Sequence[str]], conversions: ArrayLike
) -> tuple[list[tuple[str, ...]], tuple[str, ...], FloatArray]:
    """Each path's distinct channels (in first-touch order), all channels sorted, counts."""
    sets = [tuple(dict.fromkeys(str(c) for c in p)) for p in paths]
    channels = tuple(sorted(set(chain.from_iterable(sets))))
    conv = np.asarray(conversions, dtype=float).reshape(-1)
    if len(conv) != len(sets):
        raise ValueError(f"conversions: expected one count per path ({len(sets)}); got {len(conv)}")
    if not np.isfinite(conv).all() or (conv < 0).any():
        raise ValueError("conversions: counts must be finite and ≥ 0")
    return sets, channels, conv


def _result(
    channels: tuple[str, ...],
    value: dict[str, float],
    credit: list[dict[str, float]],
    method: ShapleyMethod,
    conv: FloatArray,
    sets: list[tuple[str, ...]],
) -> ShapleyResult:
    if not sets:
        return ShapleyResult(channels, value, credit, method, "empty", "no journey to credit")
    if not any(k > 0 and s for s, k in zip(sets, conv, strict=True)):
        reason = "no journey with a touch converted"
        return ShapleyResult(channels, value, credit, method, "no_conversions", reason)
    return ShapleyResult(channels, value, credit, method)
