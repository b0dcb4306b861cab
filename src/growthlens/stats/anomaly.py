"""Spikes and drops in a daily count series against a robust weekday baseline.

Method (docs/tracking.md, "Spikes and drops"), for one series of consecutive daily counts:

- **Scale.** Counts are compared on the Anscombe scale ``a(x) = √(x + 3/8)``, where Poisson
  noise has a standard deviation of about ½ whatever the level, so one threshold serves
  5 purchases a day and 50,000 page views.
- **Baseline.** The expected count of day ``t`` is the median of the same weekday in the
  previous ``weeks`` weeks, leaving out days already found suspect (so a gap does not drag
  its own baseline down). Where fewer than ``min_weeks`` clean weeks are available:
  near the start of the data (fewer than ``weeks`` earlier weeks exist) the following
  ``weeks`` weeks serve instead, so the first weeks are checked too; later, the previous
  weeks are used whatever their flags, so a lasting change of level becomes the new
  normal after about ``weeks − min_weeks + 1`` weeks instead of being flagged forever.
- **Spread and bias.** Three passes. Pass 1 takes the spread from the reference values
  around their weekday medians (pooled over the last seven days, widened ×1.3, never
  below ½, the Poisson level); passes 2 and 3 take, for each day, the residuals
  (observed − reference median) of the clean days within ±28 days: their median is the
  bias (what a weekday median lags behind a trend), their root mean square around it the
  spread (corrected for the suspect days left out), never below the Poisson level.
- **Score** ``z = (a(x) − a(expected)) / spread``, with ``expected`` = reference median +
  bias. A day is flagged when ``|z|`` reaches ``threshold``; so is every day of a run of
  consecutive days each beyond ``bar`` on the same side whose combined score
  (Stouffer: Σz / √days) reaches ``threshold`` — a sustained shift too small for one day
  alone. Days with ``|z| ≥ 2.5`` are *suspect*: left out of later baselines and spreads.
- **Level shifts** (:func:`level_shifts`), for long, low-signal changes the daily rule
  misses (a 40% under-recording at 40 a day, at the very start of the data, during a
  ramp-up). The counts are divided by weekday factors (medians of each weekday's ratio
  to the centred 7-day mean) on the Anscombe scale; every run of 7–35 days that holds no
  day already flagged is tested by a least-squares fit over the run and up to 42 days on
  each side: a line plus a step on the run. ``z`` = step ÷ its standard error (noise
  from the fit's residuals, never below the Poisson level). A run is a level shift when
  ``|z|`` reaches ``shift_threshold``, its ratio to the line is ≤ 0.8 or ≥ 1.25 (a real
  ramp-up bends away from a line by less than that), and its mean differs in the same
  direction from the mean of each neighbouring side by at least 2.5 standard errors
  (a side within 14 days of the data's edge is not required, so the first and last
  weeks are checked against one side). The best run is taken, its days left out, and the
  scan repeated. Its expected counts are the line's.

The false-positive rate and the power were measured by simulation on logs with weekly
seasonality, trend and overdispersed noise (tests/stats/test_anomaly.py; the figures are in
docs/tracking.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

PERIOD = 7
"""Days in the seasonal cycle (a week)."""
POISSON_SD = 0.5
"""Standard deviation of √(X + 3/8) for Poisson X (the floor of the spread)."""
MAD_TO_SD = 1.4826
"""Median absolute deviation → standard deviation of a normal distribution."""
SPREAD_DAYS = 28
"""Residuals from this many days on either side set a day's spread (pass 2)."""
MIN_RESIDUALS = 14
"""Fewest residuals for the pass-2 spread; below, the pass-1 spread stands."""
PASS1_WIDEN = 1.3
"""Pass 1 widens its spread: the deviations of a few values from their own median
understate the noise (by ~20% at 6 weeks), and an understated pass-1 spread would leave
too many ordinary days out of the residuals that set the pass-2 spread."""
SUSPECT = 2.5
"""``|z|`` from which a day is left out of later baselines and of the spreads."""
TRUNCATED_SD = math.sqrt(
    1
    - 2
    * SUSPECT
    * math.exp(-(SUSPECT**2) / 2)
    / math.sqrt(2 * math.pi)
    / math.erf(SUSPECT / math.sqrt(2))
)
"""Standard deviation of a standard normal cut at ±SUSPECT (0.955): the residuals that
set a spread have their suspect days left out, so their spread is that much too small."""
SHIFT_THRESHOLD = 6.0
"""``|z|`` of a level shift: about 1 clean six-month log of five events in 30 has one
(docs/tracking.md, "Calibration"); the scan tests ~5,000 overlapping runs per series."""
SHIFT_DAYS = (7, 35)
"""Shortest and longest run tested for a level shift (shorter: the daily rules' domain;
longer: a lasting change, the new normal)."""
SHIFT_SIDE = 42
"""Days on each side of a run that set its line."""
SHIFT_EDGE_DAYS = 14
"""Shortest run tested against one side only (at the data's edge)."""
SHIFT_MIN_SIDE = 14
"""Fewest unflagged days a side needs to be compared (and the run to be fitted)."""
SHIFT_SIDE_BAR = 2.5
"""The run's mean must differ from each side's mean by this many standard errors, in the
direction of the step: a bend in a trend moves the run away from one side only."""
SHIFT_MIN_RATIO = 1.25
"""A level shift changes the level by at least this factor (≤ 0.8 or ≥ 1.25 of the line):
a smooth ramp-up departs from a line by less, and a tracking fault by more."""


@dataclass(frozen=True)
class SeasonalCheck:
    """Per day: the baseline, the band, the score and the verdict.

    Attributes:
        expected: the baseline count (NaN where the day could not be tested).
        low, high: the counts at ``−threshold`` and ``+threshold`` (NaN where untested).
        score: ``z`` on the Anscombe scale (NaN where untested).
        flag: the day is anomalous (single-day or sustained rule).
        suspect: ``|z| ≥ run_threshold`` (left out of later baselines).
        tested: a baseline existed (at least ``min_weeks`` reference weeks).
        direction: per flagged day, +1 (above the expected) or −1 (below), 0 elsewhere:
            the sign of the score, or of the step for a level shift.
    """

    expected: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    score: NDArray[np.float64]
    flag: NDArray[np.bool_]
    suspect: NDArray[np.bool_]
    tested: NDArray[np.bool_]
    direction: NDArray[np.int8]


@dataclass(frozen=True)
class Shift:
    """A level shift on positions ``start`` … ``end`` (inclusive).

    ``score``: the step's ``z``; ``expected``: the counts of the line without the step,
    one per day of the run.
    """

    start: int
    end: int
    direction: int
    score: float
    expected: NDArray[np.float64]


@dataclass(frozen=True)
class Run:
    """Consecutive flagged days on one side: positions ``start`` … ``end`` (inclusive)."""

    start: int
    end: int
    direction: int  # +1 spike, −1 drop


def anscombe(x: ArrayLike) -> NDArray[np.float64]:
    """√(x + 3/8): Poisson counts with a standard deviation of about ½."""
    return np.sqrt(np.asarray(x, dtype=float) + 0.375)


def inverse_anscombe(y: ArrayLike) -> NDArray[np.float64]:
    """The count whose Anscombe value is ``y`` (0 below the value of zero)."""
    v = np.asarray(y, dtype=float)
    return np.where(v > math.sqrt(0.375), v * v - 0.375, 0.0)


def seasonal_check(
    counts: ArrayLike,
    *,
    weeks: int = 6,
    min_weeks: int = 3,
    threshold: float = 5.5,
    bar: float = 2.0,
    shift_threshold: float | None = SHIFT_THRESHOLD,
) -> SeasonalCheck:
    """Check each day of a daily count series against its weekday baseline.

    Args:
        counts: counts of consecutive days (missing days must be given as 0).
        weeks: reference weeks before (or, at the start, after) each day.
        min_weeks: fewest reference weeks for a day to be tested.
        threshold: ``|z|`` that flags a day, and the combined score that flags a run.
        bar: ``|z|`` every day of a sustained run must reach (same side).
        shift_threshold: ``|z|`` of a level shift (:func:`level_shifts`) over the days the
            daily rules left unflagged; ``None``: no level-shift scan.

    Example:
        >>> steady = [100, 100, 100, 100, 100, 100, 100] * 4
        >>> check = seasonal_check(steady[:-1] + [20])
        >>> bool(check.flag[-1]), bool(check.flag[:-1].any()), round(float(check.expected[-1]), 6)
        (True, False, 100.0)
    """
    if not 1 <= min_weeks <= weeks:
        raise ValueError(f"need 1 ≤ min_weeks ≤ weeks; got min_weeks={min_weeks}, weeks={weeks}")
    if not 0 < bar <= threshold:
        raise ValueError(f"need 0 < bar ≤ threshold; got bar={bar}, threshold={threshold}")
    x = np.asarray(counts, dtype=float)
    a = anscombe(x)
    # Pass 1: the spread of each day's reference values; pass 2: the spread of the
    # residuals themselves (observed − baseline) over the days around it, which holds the
    # baseline's own error and any trend the weekday median lags behind.
    # Pass 1 spreads from the reference values; passes 2 and 3 from the residuals of the
    # pass before (which also knows the suspect days the start-up look-ahead must avoid).
    first = _pass(a, None, None, weeks=weeks, min_weeks=min_weeks)
    second = _pass(a, _local(a, first), first[4], weeks=weeks, min_weeks=min_weeks)
    _, centre, spread, score, suspect = _pass(
        a, _local(a, second), second[4], weeks=weeks, min_weeks=min_weeks
    )
    expected = inverse_anscombe(centre)
    low = inverse_anscombe(centre - threshold * spread)
    high = inverse_anscombe(centre + threshold * spread)
    tested = ~np.isnan(score)
    flag = np.zeros(len(x), dtype=bool)
    flag[tested] = np.abs(score[tested]) >= threshold
    # Sustained shifts: each run of consecutive days beyond ``bar`` on one side, combined
    # by Stouffer's rule (Σz / √days, standard normal under no change for a fixed run).
    for side in (1, -1):
        beyond = tested & (side * np.nan_to_num(score) >= bar)
        for start, end in _true_runs(beyond):
            days = end - start + 1
            if side * float(score[start : end + 1].sum()) / math.sqrt(days) >= threshold:
                flag[start : end + 1] = True
    direction = np.where(flag, np.sign(np.nan_to_num(score)), 0).astype(np.int8)
    if shift_threshold is not None:
        for shift in level_shifts(x, flag, threshold=shift_threshold):
            run = slice(shift.start, shift.end + 1)
            flag[run], direction[run] = True, shift.direction
            expected[run] = shift.expected
    return SeasonalCheck(expected, low, high, score, flag, suspect, tested, direction)


_Pass = tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
]


def _pass(
    a: NDArray[np.float64],
    local: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
    earlier: NDArray[np.bool_] | None,
    *,
    weeks: int,
    min_weeks: int,
) -> _Pass:
    """One sequential pass: reference median, centre, spread, score and suspect per day.

    ``local`` given (pass 2): each day's bias and spread from the residuals around it;
    else (pass 1) no bias and the pooled deviations of the reference values around
    their medians as the spread.
    """
    n = len(a)
    median, centre, spread, score = (np.full(n, np.nan) for _ in range(4))
    suspect = np.zeros(n, dtype=bool)
    deviations: list[NDArray[np.float64]] = [np.empty(0)] * n
    for t in range(n):
        ref = _reference(t, n, suspect, earlier, weeks=weeks, min_weeks=min_weeks)
        if len(ref) < min_weeks:
            continue
        values = a[ref]
        median[t] = float(np.median(values))
        k = len(ref)
        inflate = math.sqrt(1 + math.pi / (2 * k))
        if local is not None and not math.isnan(local[1][t]):
            centre[t] = median[t] + local[0][t]
            spread[t] = max(float(local[1][t]), POISSON_SD * inflate)
        else:
            centre[t] = median[t]
            deviations[t] = values - median[t]
            pooled = np.concatenate(deviations[max(0, t - PERIOD + 1) : t + 1])
            within = MAD_TO_SD * float(np.median(np.abs(pooled))) * math.sqrt(k / (k - 1))
            spread[t] = max(within * PASS1_WIDEN, POISSON_SD) * inflate
        score[t] = (a[t] - centre[t]) / spread[t]
        suspect[t] = abs(score[t]) >= SUSPECT
    return median, centre, spread, score, suspect


def _local(a: NDArray[np.float64], first: _Pass) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per day: the bias and spread of the residuals of the clean days around it.

    Residuals: observed − reference median, over the clean days within ±``SPREAD_DAYS``
    (the day itself left out); NaN with fewer than ``MIN_RESIDUALS`` of them.

    The bias is their median: what the weekday median lags behind a trend. The spread is
    their root mean square around it: suspect days are already out, so the plain
    (efficient) estimate is safe from the anomalies; a robust MAD of ~50 values would
    make the score's tails heavy.
    """
    median, _, _, score, suspect = first
    residual = a - median
    usable = ~np.isnan(score) & ~suspect
    n = len(a)
    bias, spread = np.full(n, np.nan), np.full(n, np.nan)
    for t in range(n):
        lo, hi = max(0, t - SPREAD_DAYS), min(n, t + SPREAD_DAYS + 1)
        window = usable[lo:hi].copy()
        window[t - lo] = False
        if window.sum() >= MIN_RESIDUALS:
            near = residual[lo:hi][window]
            bias[t] = float(np.median(near))
            spread[t] = math.sqrt(float(np.mean((near - bias[t]) ** 2))) / TRUNCATED_SD
    return bias, spread


def _reference(
    t: int,
    n: int,
    suspect: NDArray[np.bool_],
    earlier: NDArray[np.bool_] | None,
    *,
    weeks: int,
    min_weeks: int,
) -> list[int]:
    """Positions of the reference days of day ``t`` (see the module docstring).

    ``earlier``: the suspect days of the previous pass, which rule out following days at
    the start of the data (this pass has not reached them yet).
    """
    before = [t - PERIOD * k for k in range(1, weeks + 1) if t - PERIOD * k >= 0]
    clean = [d for d in before if not suspect[d]]
    if len(clean) >= min_weeks:
        return clean
    if len(before) < weeks:  # the start of the data: look ahead instead
        after = [t + PERIOD * k for k in range(1, weeks + 1) if t + PERIOD * k < n]
        kept = [d for d in after if earlier is None or not earlier[d]]
        if len(kept) >= min_weeks:
            return kept
        return after if len(after) >= min_weeks else clean
    return before  # a lasting change: it becomes the new normal


def weekday_factors(counts: ArrayLike) -> NDArray[np.float64]:
    """Per day, its weekday's factor (mean 1).

    The median ratio of that weekday's counts to the centred 7-day mean (days 0, 7, 14, …
    share a weekday): medians over the weeks, so a gap or a spike of a few weeks barely
    moves them.
    """
    x = np.asarray(counts, dtype=float)
    n = len(x)
    factor = np.ones(PERIOD)
    if n >= 2 * PERIOD:
        mean = np.convolve(x, np.ones(PERIOD) / PERIOD, mode="same")
        inner = np.zeros(n, dtype=bool)
        inner[PERIOD // 2 : n - PERIOD // 2] = True  # the mean holds a whole week
        inner &= mean > 0
        ratio = np.full(n, np.nan)
        ratio[inner] = x[inner] / mean[inner]
        for day in range(PERIOD):
            values = ratio[day::PERIOD]
            values = values[~np.isnan(values)]
            if len(values):
                factor[day] = float(np.median(values))
        factor = np.clip(factor, 0.05, None)
        factor /= factor.mean()
    return factor[np.arange(n) % PERIOD]


def level_shifts(
    counts: ArrayLike,
    exclude: ArrayLike | None = None,
    *,
    threshold: float = SHIFT_THRESHOLD,
    max_shifts: int = 10,
) -> list[Shift]:
    """Runs of 7–35 days whose level departs from the line through the days around them.

    Method in the module docstring. ``exclude``: days already flagged (left out of every
    fit; a run may not contain one). Shifts are found best first, each one's days left
    out of the later fits, up to ``max_shifts``.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> counts = rng.poisson(np.linspace(60, 100, 140)).astype(float)
        >>> counts[:21] = np.round(counts[:21] * 0.6)  # under-recorded from the start
        >>> [(s.start, s.end, s.direction) for s in level_shifts(counts)]
        [(0, 20, -1)]
    """
    x = np.asarray(counts, dtype=float)
    n = len(x)
    seasonal = np.sqrt(weekday_factors(x))
    y = anscombe(x) / seasonal
    keep = np.ones(n) if exclude is None else (~np.asarray(exclude, dtype=bool)).astype(float)
    shifts: list[Shift] = []
    for _ in range(max_shifts):
        best = _best_shift(y, keep, threshold)
        if best is None:
            break
        score, start, end, line = best
        days = np.arange(start, end + 1)
        expected = inverse_anscombe((line[0] + line[1] * days) * seasonal[days])
        shifts.append(Shift(start, end, 1 if score > 0 else -1, score, expected))
        keep[start : end + 1] = 0.0
    return shifts


def _best_shift(
    y: NDArray[np.float64], keep: NDArray[np.float64], threshold: float
) -> tuple[float, int, int, tuple[float, float]] | None:
    """The run with the largest qualifying ``|z|`` ≥ ``threshold``: (z, start, end, line)."""
    n = len(y)
    t = np.arange(n, dtype=float)
    # Prefix sums of the kept days: any window's normal equations in O(1).
    sums = {
        k: np.concatenate([[0.0], np.cumsum(v)])
        for k, v in {
            "n": keep, "t": keep * t, "tt": keep * t * t,
            "y": keep * y, "ty": keep * t * y, "yy": keep * y * y,
        }.items()
    }  # fmt: skip
    left_out = np.concatenate([[0], np.cumsum(keep == 0)])
    best: tuple[float, int, int, tuple[float, float]] | None = None
    low, high = SHIFT_DAYS
    for length in range(low, min(high, n) + 1):
        st = np.arange(0, n - length + 1)
        en = st + length
        lo, hi = np.maximum(0, st - SHIFT_SIDE), np.minimum(n, en + SHIFT_SIDE)

        def total(key: str, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
            diff: NDArray[np.float64] = sums[key][b] - sums[key][a]
            return diff

        w, tw, ttw = total("n", lo, hi), total("t", lo, hi), total("tt", lo, hi)
        yw, tyw, yyw = total("y", lo, hi), total("ty", lo, hi), total("yy", lo, hi)
        wr, tr, yr = total("n", st, en), total("t", st, en), total("y", st, en)
        wl, yl = total("n", lo, st), total("y", lo, st)
        wa, ya = total("n", en, hi), total("y", en, hi)
        fit = (left_out[en] == left_out[st]) & (w - wr >= SHIFT_MIN_SIDE) & (wr >= 3)
        idx = np.flatnonzero(fit)
        if not len(idx):
            continue
        # Normal equations of y = α + β·t + δ·[t in run] over the window.
        m = np.stack(
            [
                np.stack([w[idx], tw[idx], wr[idx]], -1),
                np.stack([tw[idx], ttw[idx], tr[idx]], -1),
                np.stack([wr[idx], tr[idx], wr[idx]], -1),
            ],
            -2,
        )
        v = np.stack([yw[idx], tyw[idx], yr[idx]], -1)
        regular = np.abs(np.linalg.det(m)) > 1e-9
        idx, m, v = idx[regular], m[regular], v[regular]
        if not len(idx):
            continue
        inv = np.linalg.inv(m)
        coef = np.einsum("kij,kj->ki", inv, v)
        rss = yyw[idx] - np.einsum("ki,ki->k", coef, v)
        sd = np.sqrt(np.maximum(rss / np.maximum(w[idx] - 3, 1), POISSON_SD**2))
        z = coef[:, 2] / (sd * np.sqrt(inv[:, 2, 2]))
        side = np.sign(z)
        # The run's mean against each side's mean, in the step's direction; a side
        # within SHIFT_MIN_SIDE days of the data's edge is not required.
        mean_run = yr[idx] / wr[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            z_left = (mean_run - yl[idx] / wl[idx]) / (sd * np.sqrt(1 / wr[idx] + 1 / wl[idx]))
            z_right = (mean_run - ya[idx] / wa[idx]) / (sd * np.sqrt(1 / wr[idx] + 1 / wa[idx]))
            base = coef[:, 0] + coef[:, 1] * (st[idx] + en[idx] - 1) / 2
            ratio = ((base + coef[:, 2]) / base) ** 2
        left_ok = (st[idx] < SHIFT_MIN_SIDE) | (
            (wl[idx] >= SHIFT_MIN_SIDE) & (side * z_left >= SHIFT_SIDE_BAR)
        )
        right_ok = (n - en[idx] < SHIFT_MIN_SIDE) | (
            (wa[idx] >= SHIFT_MIN_SIDE) & (side * z_right >= SHIFT_SIDE_BAR)
        )
        large = (base > 0) & ((ratio <= 1 / SHIFT_MIN_RATIO) | (ratio >= SHIFT_MIN_RATIO))
        # Against one side only (the data's edge), a short run cannot be told from the
        # bend of a ramp-up: it needs two weeks.
        one_sided = (st[idx] < SHIFT_MIN_SIDE) | (n - en[idx] < SHIFT_MIN_SIDE)
        large &= ~one_sided | (length >= SHIFT_EDGE_DAYS)
        strength = np.where(left_ok & right_ok & large, np.abs(z), 0.0)
        i = int(np.argmax(strength))
        if strength[i] >= threshold and (best is None or strength[i] > abs(best[0])):
            k = idx[i]
            best = (float(z[i]), int(st[k]), int(en[k] - 1), (float(coef[i, 0]), float(coef[i, 1])))
    return best


def _true_runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) of each run of True values."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, v in enumerate(mask):
        if v and start is None:
            start = i
        elif not v and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def flagged_runs(check: SeasonalCheck) -> list[Run]:
    """Consecutive flagged days merged into runs, split where the side changes."""
    runs: list[Run] = []
    for start, end in _true_runs(check.flag):
        side = check.direction[start : end + 1]
        first = start
        for i in range(start + 1, end + 1):
            if side[i - start] != side[i - 1 - start]:
                runs.append(Run(first, i - 1, int(side[i - 1 - start])))
                first = i
        runs.append(Run(first, end, int(side[end - start])))
    return runs


__all__ = [
    "PERIOD",
    "SHIFT_THRESHOLD",
    "Run",
    "SeasonalCheck",
    "Shift",
    "anscombe",
    "flagged_runs",
    "inverse_anscombe",
    "level_shifts",
    "seasonal_check",
    "weekday_factors",
]
