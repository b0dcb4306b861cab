"""The events domain: a GA4-like e-commerce event log with planted funnel truths.

:func:`write_events` writes one table, ``events`` (``user_id, ts, event, session_id,
device, country, source, page``), for a share of the world's users, and returns its
planted truths (:class:`EventsTruth`). The model (docs/demo.md, "Events", has it in words):

- each user's device, acquisition source and first visit are the ones sales drew
  (:func:`~growthlens.demo.sales.sales_users`); the country is drawn here;
- a user's *depth* (the furthest step of ``page_view → view_item → add_to_cart →
  begin_checkout → add_payment_info → purchase`` reached within 7 days) comes from planted
  step rates: a base rate per step times factors per device, country, the December spike
  and the ``view_reviews`` driver;
- the user reaches that depth in their last attempt; earlier attempts, days before, stop
  earlier; some users do the next step only after the window; a few are pinned exactly at
  the window edge or one second past it;
- other events (``scroll``, ``search``, ``view_reviews``) interleave; some steps share a
  second, some add_to_cart rows are doubled; rows are shuffled;
- page views of the first three weeks are under-recorded (the tracking gap); the session
  id cuts a user's written events at gaps of more than 30 minutes.

Exact truths (users reaching each step, per device, country and month, median times, the
driver's 2×2 table, ties, sessions) are computed here from the rows written, in plain
NumPy (an ordered greedy chain per step-1 time, DESIGN §4), never by growthlens' funnel.
Users are generated per seeding block from ``world.rng(Stream.EVENTS_BLOCKS, block)``
and written block group by block group, so memory stays bounded at any size and the file
does not depend on the write chunk size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from growthlens.demo.sales import DEVICES, SalesUsers, sales_users
from growthlens.demo.world import (
    BLOCK_USERS,
    DAY_SECONDS,
    Calendar,
    Stream,
    TruthSection,
    World,
)
from growthlens.demo.writer import Format, TableWriter

# ---- planted parameters -------------------------------------------------------------
STEPS = (
    "page_view",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_payment_info",
    "purchase",
)
OTHER_EVENTS = ("scroll", "search", "view_reviews")
FUNNELS: dict[str, tuple[str, ...]] = {
    "full": STEPS,
    "no_payment_info": tuple(s for s in STEPS if s != "add_payment_info"),
}
WINDOW_S = 7 * DAY_SECONDS  # the conversion window of the planted depths and exact counts
SESSION_GAP_S = 1800  # more than this between two events of a user starts a new session
COUNTRIES = ("US", "GB", "DE", "IN", "BR")
COUNTRY_SHARE = {"US": 0.35, "GB": 0.15, "DE": 0.15, "IN": 0.20, "BR": 0.15}
# Probability of reaching each step from the previous one (desktop, US, outside the spike,
# no reviews viewed); the factors below multiply it.
STEP_RATE = {
    "view_item": 0.62,
    "add_to_cart": 0.30,
    "begin_checkout": 0.62,
    "add_payment_info": 0.85,
    "purchase": 0.78,
}
DEVICE_FACTOR = {
    "desktop": {},
    # Mobile checkout is where touch users are lost: add_to_cart → purchase ≈ 0.15 vs 0.41.
    "touch": {
        "add_to_cart": 0.95,
        "begin_checkout": 0.60,
        "add_payment_info": 0.90,
        "purchase": 0.70,
    },
}
COUNTRY_FACTOR = {
    "US": {},
    "GB": {"begin_checkout": 1.1},
    "DE": {"purchase": 1.15},
    "IN": {"add_to_cart": 0.75, "purchase": 0.75},
    "BR": {"begin_checkout": 0.80, "add_payment_info": 0.85},
}
SPIKE_MONTH = 6  # the 7th month of the window: December 2017 for the default window
SPIKE_FACTOR = {"add_to_cart": 0.5}  # the promotion's traffic is low-intent
INCLUSION = {"spike": 1.0, "other": 0.4}  # share of users in the event log by arrival
REVIEWS_SHARE = 0.3  # users who read reviews once they view an item
REVIEWS_FACTOR = {"add_to_cart": 1.8}  # the driver: reading reviews raises add_to_cart
# Time from the previous step within an attempt: 0 with probability tie_share, else
# lognormal(median, sigma) rounded to whole seconds (at least 1), clipped at cap_s. The
# caps add up to less than the window, so an attempt's chain always fits in it.
STEP_GAP: dict[str, dict[str, float]] = {
    "view_item": {"median_s": 45.0, "sigma": 1.0, "tie_share": 0.05, "cap_s": 3_600},
    "add_to_cart": {"median_s": 120.0, "sigma": 1.2, "tie_share": 0.0, "cap_s": 21_600},
    "begin_checkout": {"median_s": 600.0, "sigma": 2.0, "tie_share": 0.0, "cap_s": 259_200},
    "add_payment_info": {"median_s": 90.0, "sigma": 0.8, "tie_share": 0.0, "cap_s": 21_600},
    "purchase": {"median_s": 40.0, "sigma": 0.8, "tie_share": 0.10, "cap_s": 21_600},
}
EXTRA_ATTEMPTS = 0.5  # Poisson mean of attempts before the deepest one
ATTEMPT_GAP_DAYS = (1, 10)  # days between attempt starts (uniform, whole seconds)
LATE_SHARE = 0.06  # users at depth 2..5 who do the next step after the window
LATE_AFTER_S = (1, 3 * DAY_SECONDS)  # …this long after the last attempt's window ends
DUPLICATE_SHARE = 0.02  # add_to_cart rows written twice (identical rows)
SCROLLS_PER_ATTEMPT = 1.0  # Poisson mean; each 1-120 s after one of the attempt's steps
SEARCH_SHARE = 0.25  # attempts reaching view_item with a search between page_view and it
LANDING_PAGES = {"/": 0.40, "/catalog": 0.25, "/product": 0.25, "/sale": 0.10}
STEP_PAGES = {
    "view_item": "/product",
    "add_to_cart": "/product",
    "begin_checkout": "/checkout",
    "add_payment_info": "/checkout/payment",
    "purchase": "/checkout/complete",
    "search": "/search",
    "view_reviews": "/product/reviews",
}
TRACKING_GAP_DAYS = 21  # page views of the window's first 3 weeks…
TRACKING_GAP_DROP = 0.6  # …are dropped with this probability
EDGE_USERS = 3  # users pinned exactly at the window edge, and as many one second past

_K = len(STEPS)
_EVENTS = STEPS + OTHER_EVENTS
_CODE = {name: i for i, name in enumerate(_EVENTS)}
_SCROLL, _SEARCH, _REVIEWS = (_CODE[e] for e in OTHER_EVENTS)
_PAGES = tuple(dict.fromkeys((*LANDING_PAGES, *STEP_PAGES.values())))  # distinct
_PAGE = {page: i for i, page in enumerate(_PAGES)}
_STEP_PAGE = np.array([0, *[_PAGE[STEP_PAGES[s]] for s in STEPS[1:]]], dtype=np.int64)
_LANDING_P = np.array(list(LANDING_PAGES.values()))
_COUNTRY_P = np.array([COUNTRY_SHARE[c] for c in COUNTRIES])
_LATER = STEPS[1:]  # the steps that have a rate and a gap
_BASE = np.array([STEP_RATE[s] for s in _LATER])
_DEVICE_F = np.array([[DEVICE_FACTOR[d].get(s, 1.0) for s in _LATER] for d in DEVICES])
_COUNTRY_F = np.array([[COUNTRY_FACTOR[c].get(s, 1.0) for s in _LATER] for c in COUNTRIES])
_SPIKE_F = np.array([SPIKE_FACTOR.get(s, 1.0) for s in _LATER])
_REVIEWS_F = np.array([REVIEWS_FACTOR.get(s, 1.0) for s in _LATER])
_GAP = {key: np.array([STEP_GAP[s][key] for s in _LATER]) for key in STEP_GAP["view_item"]}
_SESSIONS_PER_USER = 1_000  # session_id = global user index × this + session number

_SCHEMA = pa.schema(
    [
        ("user_id", pa.uint64()),
        ("ts", pa.timestamp("s")),
        ("event", pa.string()),
        ("session_id", pa.int64()),
        ("device", pa.string()),
        ("country", pa.string()),
        ("source", pa.string()),
        ("page", pa.string()),
    ]
)

RATE_FORMULA = (
    "step_rate[step] * device_factor[device][step] * country_factor[country][step]"
    " * (spike_factor[step] if the user arrived in the spike month)"
    " * (reviews_factor[step] if the user reads reviews); a missing factor is 1"
)


def step_probability(
    step: str, *, device: str, country: str, spike: bool = False, reviews: bool = False
) -> float:
    """Planted probability of reaching ``step`` (within the window) from the previous step.

    >>> round(step_probability("purchase", device="touch", country="IN"), 4)
    0.4095
    """
    p = STEP_RATE[step] * DEVICE_FACTOR[device].get(step, 1.0)
    p *= COUNTRY_FACTOR[country].get(step, 1.0)
    if spike:
        p *= SPIKE_FACTOR.get(step, 1.0)
    if reviews:
        p *= REVIEWS_FACTOR.get(step, 1.0)
    return p


@dataclass(frozen=True)
class EventsTruth(TruthSection):
    """The planted values of the event log (``truth.json`` keys prefixed ``events_``).

    Parameters of the model are to be recovered within sampling error; the funnel counts,
    medians, the reviews table, the tracking gap's dropped rows, the edge users and the
    totals are exact properties of the written file.

    Attributes:
        events_steps: the funnel steps, in order.
        events_other_events: the events interleaved with the steps.
        events_window_s: the conversion window of the planted depths (7 days, inclusive).
        events_session_gap_s: more than this many seconds between two events of a user
            starts a new ``session_id``.
        events_countries: country values; ``events_country_share`` their probabilities.
        events_country_share: country → probability.
        events_inclusion: probability that a user is in the event log, ``spike`` (arrived
            in the spike month) and ``other``.
        events_spike: ``first``/``last`` ISO dates of the spike month, ``factor`` (step →
            rate factor) and ``inclusion``.
        events_step_rate: step → base rate from the previous step (desktop, US, outside
            the spike, no reviews).
        events_device_factor: device → step → factor (missing: 1).
        events_country_factor: country → step → factor (missing: 1).
        events_reviews: ``share`` of users who read reviews once they view an item and
            ``factor`` (step → rate factor): the drop-off driver.
        events_rate_formula: how the rates and factors combine.
        events_step_gap: step → ``median_s``, ``sigma``, ``tie_share``, ``cap_s`` of the
            time from the previous step within an attempt.
        events_attempts: ``extra_poisson`` (mean attempts before the deepest one) and
            ``gap_days`` (range of days between attempt starts).
        events_late: ``share`` of users at depth 2-5 whose next step comes after the
            window, and ``after_window_s`` (range of seconds past the last attempt's
            window).
        events_duplicate_share: probability that an add_to_cart row is written twice.
        events_tracking_gap: ``event`` (page_view), ``first``/``last`` ISO dates,
            ``drop_share`` and the exact ``dropped_rows``.
        events_window_edge_users: ``exact`` (add_payment_info and purchase exactly 7 days
            after the user's only page_view) and ``past`` (one second later): user ids as
            text.
        events_funnels: funnel name (``full``: the six steps; ``no_payment_info``: without
            add_payment_info) → ``steps``, ``window_s`` and exact counts under DESIGN §4
            (ordered, 7 days, per user): ``users`` and ``complete`` (first step at least
            one window before the data ends) per step, the same ``by_device``,
            ``by_country`` and ``by_month`` (of the counted chain's step 1) as
            ``{value: {"users": [...], "complete": [...]}}``, and
            ``median_time_from_previous_s`` (null at step 1).
        events_reviews_table: users who reached view_item (full funnel), ``all`` and
            ``complete``: ``{"reviews"|"no_reviews": {"purchased", "not_purchased"}}``
            (reviews = any view_reviews row), with ``odds_ratio``.
        events_totals: exact ``rows``, ``users``, ``sessions``, ``tied_groups`` (user and
            second with two or more rows), ``tied_rows`` (rows in them),
            ``duplicate_rows`` (rows identical to an earlier one), ``rows_past_window``
            (generated after the window end, not written), ``users_without_page_view``
            (a step event but no page_view at all).
    """

    events_steps: tuple[str, ...]
    events_other_events: tuple[str, ...]
    events_window_s: int
    events_session_gap_s: int
    events_countries: tuple[str, ...]
    events_country_share: Mapping[str, float]
    events_inclusion: Mapping[str, float]
    events_spike: Mapping[str, Any]
    events_step_rate: Mapping[str, float]
    events_device_factor: Mapping[str, Mapping[str, float]]
    events_country_factor: Mapping[str, Mapping[str, float]]
    events_reviews: Mapping[str, Any]
    events_rate_formula: str
    events_step_gap: Mapping[str, Mapping[str, float]]
    events_attempts: Mapping[str, Any]
    events_late: Mapping[str, Any]
    events_duplicate_share: float
    events_tracking_gap: Mapping[str, Any]
    events_window_edge_users: Mapping[str, list[str]]
    events_funnels: Mapping[str, Mapping[str, Any]]
    events_reviews_table: Mapping[str, Mapping[str, Any]]
    events_totals: Mapping[str, int]


# ---- calendar ------------------------------------------------------------------------
def _spike_days(cal: Calendar) -> tuple[int, int]:
    """First and last day offset of the spike month (the last month in short windows)."""
    month = min(SPIKE_MONTH, cal.months - 1)
    return int(cal.month_first_day[month]), int(cal.month_first_day[month + 1]) - 1


# ---- one block -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    """A block's written rows, sorted by (user, ts): user is the index in the block."""

    user: NDArray[np.int64]
    ts: NDArray[np.int64]
    event: NDArray[np.int64]
    page: NDArray[np.int64]


@dataclass(frozen=True)
class _Block:
    table: pa.Table
    rows: _Rows
    device: NDArray[np.int8]
    country: NDArray[np.int64]
    edge: dict[str, list[str]]
    counts: dict[str, int]


def _segments(owner: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of each element within its run of equal (sorted) owners."""
    n = len(owner)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n, dtype=np.int64) - np.repeat(starts, lengths)


def _block(world: World, block: int, *, spike: tuple[int, int]) -> _Block:
    users = sales_users(world, block)
    rng = world.rng(Stream.EVENTS_BLOCKS, block)
    cal = world.calendar
    n = len(users.uid)
    end = int(cal.day_seconds(np.array([cal.n_days], dtype=np.int64))[0])
    day = cal.day_of(users.first_visit)
    in_spike = (day >= spike[0]) & (day <= spike[1])

    # Per user: country, inclusion, the reviews flag, the planted depth, attempts, late.
    country = rng.choice(len(COUNTRIES), size=n, p=_COUNTRY_P).astype(np.int64)
    included = rng.random(n) < np.where(in_spike, INCLUSION["spike"], INCLUSION["other"])
    # The load's data window is where every table has data: like sales, the log must
    # reach the window's first and last day, so the world's first user (arriving on day
    # 0) and last user (on the last day) are in it and keep all their rows.
    pinned_user = np.zeros(n, dtype=bool)
    if block == 0:
        pinned_user[0] = True
    if block == len(world.block_sizes) - 1:
        pinned_user[-1] = True
    included |= pinned_user
    reviews = rng.random(n) < REVIEWS_SHARE
    rate = _BASE * _DEVICE_F[users.device] * _COUNTRY_F[country]
    rate = rate * np.where(in_spike[:, None], _SPIKE_F, 1.0)
    rate = rate * np.where(reviews[:, None], _REVIEWS_F, 1.0)
    go_on = rng.random((n, _K - 1)) < rate
    depth = 1 + np.cumprod(go_on, axis=1).sum(axis=1).astype(np.int64)
    extra = rng.poisson(EXTRA_ATTEMPTS, n).astype(np.int64)
    late = (depth >= 2) & (depth < _K) & (rng.random(n) < LATE_SHARE)
    late_after = rng.integers(LATE_AFTER_S[0], LATE_AFTER_S[1] + 1, size=n)

    # Window-edge users (block 0 only): one attempt reaching begin_checkout, then
    # add_payment_info and purchase in one second, exactly 7 days after the page view or
    # one second later. After the tracking gap, outside the spike, complete windows.
    edge_kind = np.zeros(n, dtype=np.int64)  # 1: exact, 2: one second past
    if block == 0:
        eligible = np.flatnonzero(
            included
            & ~in_spike
            & (day >= TRACKING_GAP_DAYS)
            & (users.first_visit <= end - WINDOW_S - DAY_SECONDS)
        )
        take = min(2 * EDGE_USERS, len(eligible) // 2 * 2)
        chosen = np.sort(rng.choice(eligible, size=take, replace=False)) if take else eligible[:0]
        edge_kind[chosen[: take // 2]] = 1
        edge_kind[chosen[take // 2 :]] = 2
        edge = edge_kind > 0
        depth[edge], extra[edge], late[edge], reviews[edge] = _K, 0, False, False

    # Attempts: the extra ones first (shallower), the deepest last, days apart.
    keep = np.flatnonzero(included)
    a_user = np.repeat(keep, 1 + extra[keep])
    rank = _segments(a_user)
    is_last = np.r_[a_user[1:] != a_user[:-1], True] if len(a_user) else np.empty(0, bool)
    shallower = rng.integers(1, np.maximum(depth[a_user] - 1, 1) + 1)
    a_depth = np.where(is_last, depth[a_user], shallower)
    gap = rng.integers(
        ATTEMPT_GAP_DAYS[0] * DAY_SECONDS, ATTEMPT_GAP_DAYS[1] * DAY_SECONDS + 1, size=len(a_user)
    )
    gap[rank == 0] = 0
    offset = np.cumsum(gap)
    offset -= np.repeat(offset[rank == 0], 1 + extra[keep])
    a_start = users.first_visit[a_user] + offset

    # Step times within each attempt (column j: step j + 1 after the page view).
    n_att = len(a_user)
    raw = rng.lognormal(np.log(_GAP["median_s"]), _GAP["sigma"], size=(n_att, _K - 1))
    gaps = np.minimum(np.maximum(1, np.rint(raw)), _GAP["cap_s"]).astype(np.int64)
    gaps[rng.random((n_att, _K - 1)) < _GAP["tie_share"]] = 0
    times = a_start[:, None] + np.cumsum(np.c_[np.zeros(n_att, np.int64), gaps], axis=1)
    kind = edge_kind[a_user]
    pinned = kind > 0
    times[pinned, 4] = times[pinned, 5] = a_start[pinned] + WINDOW_S + (kind[pinned] == 2)
    has_step = np.arange(_K)[None, :] < a_depth[:, None]
    step_att, step_j = np.nonzero(has_step)
    step_att, step_j = step_att.astype(np.int64), step_j.astype(np.int64)
    landing = rng.choice(len(LANDING_PAGES), size=n_att, p=_LANDING_P).astype(np.int64)
    step_page = np.where(step_j == 0, landing[step_att], _STEP_PAGE[step_j])
    parts_user = [a_user[step_att]]
    parts_ts = [times[step_att, step_j]]
    parts_event = [step_j]
    parts_page = [step_page]

    def add(owner: NDArray[np.int64], ts: NDArray[np.int64], event: Any, page: Any) -> None:
        parts_user.append(owner)
        parts_ts.append(ts)
        parts_event.append(np.broadcast_to(np.asarray(event, dtype=np.int64), owner.shape))
        parts_page.append(np.broadcast_to(np.asarray(page, dtype=np.int64), owner.shape))

    # Doubled add_to_cart rows (a double click: identical rows).
    cart = np.flatnonzero(step_j == 2)
    dup = cart[rng.random(len(cart)) < DUPLICATE_SHARE]
    add(a_user[step_att[dup]], times[step_att[dup], 2], 2, _STEP_PAGE[2])
    # Late steps: the next step after the last attempt's window, in a session of its own.
    late_att = np.flatnonzero(is_last & late[a_user])
    late_step = a_depth[late_att]
    add(
        a_user[late_att],
        a_start[late_att] + WINDOW_S + late_after[a_user[late_att]],
        late_step,
        _STEP_PAGE[late_step],
    )
    # Scrolls: each 1-120 s after one of the attempt's steps, on that step's page.
    scrolls = rng.poisson(SCROLLS_PER_ATTEMPT, n_att)
    s_att = np.repeat(np.arange(n_att, dtype=np.int64), scrolls)
    s_j = np.floor(rng.random(len(s_att)) * a_depth[s_att]).astype(np.int64)
    s_page = np.where(s_j == 0, landing[s_att], _STEP_PAGE[s_j])
    add(a_user[s_att], times[s_att, s_j] + rng.integers(1, 121, size=len(s_att)), _SCROLL, s_page)
    # Searches: between the page view and view_item (either second included).
    searched = np.flatnonzero((a_depth >= 2) & (rng.random(n_att) < SEARCH_SHARE))
    span = times[searched, 1] - times[searched, 0] + 1
    at = times[searched, 0] + np.floor(rng.random(len(searched)) * span).astype(np.int64)
    add(a_user[searched], at, _SEARCH, _PAGE["/search"])
    # The driver: reading reviews between view_item and add_to_cart in the deepest attempt.
    read = np.flatnonzero(is_last & reviews[a_user] & (a_depth >= 2))
    reach_cart = a_depth[read] >= 3
    span = np.where(reach_cart, times[read, 2] - times[read, 1] + 1, 300)
    at = times[read, 1] + np.where(reach_cart, 0, 1)
    at = at + np.floor(rng.random(len(read)) * span).astype(np.int64)
    add(a_user[read], at, _REVIEWS, _PAGE["/product/reviews"])

    owner = np.concatenate(parts_user)
    ts = np.concatenate(parts_ts)
    event = np.concatenate(parts_event).astype(np.int64)
    page = np.concatenate(parts_page).astype(np.int64)

    # The data ends with the window; page views of the first weeks are under-recorded.
    past = ts >= end
    gap_end = int(cal.day_seconds(np.array([TRACKING_GAP_DAYS], dtype=np.int64))[0])
    dropped = (event == 0) & (ts < gap_end) & (rng.random(len(ts)) < TRACKING_GAP_DROP)
    dropped &= ~pinned_user[owner]
    written = ~past & ~dropped
    owner, ts, event, page = owner[written], ts[written], event[written], page[written]

    # Sort by (user, ts, event, page): ties in a fixed order for the sessions and truths.
    order = np.lexsort((page, event, ts, owner))
    rows = _Rows(owner[order], ts[order], event[order], page[order])
    new_session = np.r_[
        True, (rows.user[1:] != rows.user[:-1]) | (np.diff(rows.ts) > SESSION_GAP_S)
    ]
    number = np.cumsum(new_session)
    number -= np.repeat(
        number[np.r_[True, rows.user[1:] != rows.user[:-1]]] - 1, _run_lengths(rows.user)
    )
    if len(number) and number.max() >= _SESSIONS_PER_USER:
        raise RuntimeError("a demo user has too many sessions for the session-id scheme")
    session = (block * BLOCK_USERS + rows.user) * _SESSIONS_PER_USER + number

    # The file's row order: shuffled, so tied rows come in any order.
    shuffle = rng.permutation(len(rows.ts))
    table = _table(users, rows, session, country, shuffle)
    tied_sizes = _run_lengths(_group_ids(rows.user, rows.ts))
    identical = _group_ids(rows.user, rows.ts, rows.event, rows.page)
    counts = {
        "rows": len(rows.ts),
        "users": len(_run_lengths(rows.user)),
        "sessions": int(new_session.sum()),
        "tied_groups": int(np.sum(tied_sizes >= 2)),
        "tied_rows": int(tied_sizes[tied_sizes >= 2].sum()),
        "duplicate_rows": len(rows.ts) - (int(identical[-1]) if len(identical) else 0),
        "rows_past_window": int(past.sum()),
        "dropped_rows": int(dropped.sum()),
        "users_without_page_view": _users_without_page_view(rows),
    }
    ids = {
        name: [str(u) for u in users.uid[np.flatnonzero(edge_kind == k)]]
        for name, k in (("exact", 1), ("past", 2))
    }
    return _Block(table, rows, users.device, country, ids, counts)


def _run_lengths(sorted_keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Lengths of the runs of equal values."""
    if len(sorted_keys) == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths: NDArray[np.int64] = np.diff(np.r_[starts, len(sorted_keys)]).astype(np.int64)
    return lengths


def _group_ids(*sorted_columns: NDArray[np.int64]) -> NDArray[np.int64]:
    """A run number per row of rows sorted by ``sorted_columns`` (equal rows share it)."""
    n = len(sorted_columns[0])
    if n == 0:
        return np.empty(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for column in sorted_columns:
        change[1:] |= column[1:] != column[:-1]
    return np.cumsum(change).astype(np.int64)


def _users_without_page_view(rows: _Rows) -> int:
    step_users = np.unique(rows.user[(rows.event >= 1) & (rows.event < _K)])
    page_view_users = np.unique(rows.user[rows.event == 0])
    return len(np.setdiff1d(step_users, page_view_users))


def _table(
    users: SalesUsers,
    rows: _Rows,
    session: NDArray[np.int64],
    country: NDArray[np.int64],
    shuffle: NDArray[np.int64],
) -> pa.Table:
    def text(codes: NDArray[Any], values: Sequence[str]) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32)), pa.array(list(values))
        ).cast(pa.string())

    user = rows.user[shuffle]
    sources, source_code = np.unique(users.source, return_inverse=True)
    return pa.Table.from_arrays(
        [
            pa.array(users.uid[user], type=pa.uint64()),
            pa.array(rows.ts[shuffle].astype("datetime64[s]"), type=pa.timestamp("s")),
            text(rows.event[shuffle], _EVENTS),
            pa.array(session[shuffle], type=pa.int64()),
            text(users.device[user], DEVICES),
            text(country[user], COUNTRIES),
            text(source_code[user], [str(s) for s in sources]),
            text(rows.page[shuffle], _PAGES),
        ],
        schema=_SCHEMA,
    )


# ---- exact funnel counts, in plain NumPy ---------------------------------------------
@dataclass(frozen=True)
class _Chains:
    """Per user with a step-1 row: depth and the counted chain's times (−1 past depth)."""

    user: NDArray[np.int64]
    depth: NDArray[np.int64]
    times: NDArray[np.int64]


def _ordered_chains(
    user: NDArray[np.int64],
    ts: NDArray[np.int64],
    event: NDArray[np.int64],
    steps: Sequence[int],
    window_s: int,
) -> _Chains:
    """DESIGN §4's ordered funnel per user, on rows sorted by (user, ts).

    From each distinct step-1 time the chain is greedy: step j + 1 at the first time at
    or after step j's holding a step-(j + 1) row, within the window after step 1 (no row
    is two steps, so a shared second uses different rows). A user counts at the deepest
    start, the earliest such start giving the counted chain.
    """
    k = len(steps)
    if len(ts) == 0:
        empty = np.empty(0, dtype=np.int64)
        return _Chains(empty, empty, np.empty((0, k), dtype=np.int64))
    mark_start = np.flatnonzero(np.r_[True, (user[1:] != user[:-1]) | (ts[1:] != ts[:-1])])
    m_user, m_ts = user[mark_start], ts[mark_start]
    m = len(mark_start)
    flags = [np.maximum.reduceat((event == s).astype(np.int8), mark_start) > 0 for s in steps]
    # Next mark (this one included) holding each step; m where none is left.
    position = np.arange(m, dtype=np.int64)
    nexts = [np.minimum.accumulate(np.where(f, position, m)[::-1])[::-1] for f in flags]
    m_user_x = np.r_[m_user, -1]
    m_ts_x = np.r_[m_ts, 0]
    start = np.flatnonzero(flags[0])
    times = np.full((len(start), k), -1, dtype=np.int64)
    times[:, 0] = m_ts[start]
    depth = np.ones(len(start), dtype=np.int64)
    at = start.copy()
    alive = np.ones(len(start), dtype=bool)
    for j in range(1, k):
        q = nexts[j][at]
        ok = alive & (m_user_x[q] == m_user[start]) & (m_ts_x[q] <= m_ts[start] + window_s)
        times[ok, j] = m_ts_x[q[ok]]
        depth += ok
        at = np.where(ok, q, at)
        alive = ok
    # Per user: the deepest start, then the earliest (starts are in time order).
    order = np.lexsort((m_ts[start], -depth, m_user[start]))
    first = order[np.r_[True, m_user[start][order][1:] != m_user[start][order][:-1]]]
    return _Chains(m_user[start][first], depth[first], times[first])


@dataclass
class _FunnelTally:
    """Counts over blocks for one funnel: per step, overall and per segment."""

    steps: tuple[str, ...]
    months: int
    users: NDArray[np.int64] = field(init=False)
    complete: NDArray[np.int64] = field(init=False)
    device: NDArray[np.int64] = field(init=False)  # (complete?, device, step)
    country: NDArray[np.int64] = field(init=False)
    month: NDArray[np.int64] = field(init=False)
    gaps: list[NDArray[np.int64]] = field(init=False)

    def __post_init__(self) -> None:
        k = len(self.steps)
        self.users = np.zeros(k, dtype=np.int64)
        self.complete = np.zeros(k, dtype=np.int64)
        self.device = np.zeros((2, len(DEVICES), k), dtype=np.int64)
        self.country = np.zeros((2, len(COUNTRIES), k), dtype=np.int64)
        self.month = np.zeros((2, self.months, k), dtype=np.int64)
        self.gaps = [np.zeros(WINDOW_S + 1, dtype=np.int64) for _ in range(k - 1)]

    def add(self, chains: _Chains, blk: _Block, cal: Calendar, end: int) -> None:
        k = len(self.steps)
        reached = chains.depth[:, None] >= np.arange(1, k + 1)[None, :]
        complete = chains.times[:, 0] <= end - WINDOW_S
        done = reached & complete[:, None]
        self.users += reached.sum(axis=0)
        self.complete += done.sum(axis=0)
        month = cal.month_of_day[cal.day_of(chains.times[:, 0])]
        for table, segment in (
            (self.device, blk.device[chains.user].astype(np.int64)),
            (self.country, blk.country[chains.user]),
            (self.month, month),
        ):
            np.add.at(table[0], segment, reached.astype(np.int64))
            np.add.at(table[1], segment, done.astype(np.int64))
        for j in range(1, k):
            on = chains.depth > j
            gap = chains.times[on, j] - chains.times[on, j - 1]
            # Gaps lie in [0, window] (ts_j ≤ ts_1 + window): counted per distinct value.
            values, counts = np.unique(gap, return_counts=True)
            self.gaps[j - 1][values] += counts

    def as_dict(self, cal: Calendar) -> dict[str, Any]:
        def split(table: NDArray[np.int64], names: Sequence[str]) -> dict[str, Any]:
            return {
                name: {"users": table[0, i].tolist(), "complete": table[1, i].tolist()}
                for i, name in enumerate(names)
            }

        months = [cal.date_of(int(cal.month_first_day[m])).isoformat() for m in range(self.months)]
        return {
            "steps": list(self.steps),
            "window_s": WINDOW_S,
            "users": self.users.tolist(),
            "complete": self.complete.tolist(),
            "by_device": split(self.device, DEVICES),
            "by_country": split(self.country, COUNTRIES),
            "by_month": split(self.month, months),
            "median_time_from_previous_s": [None, *[_median(h) for h in self.gaps]],
        }


def _median(histogram: NDArray[np.int64]) -> float | None:
    """The median of the values counted in ``histogram`` (value = index)."""
    n = int(histogram.sum())
    if n == 0:
        return None
    cumulative = np.cumsum(histogram)

    def value(position: int) -> int:
        return int(np.searchsorted(cumulative, position + 1))

    return (value((n - 1) // 2) + value(n // 2)) / 2


# ---- the domain ----------------------------------------------------------------------
def write_events(
    world: World, folder: Path, *, format: Format, chunk_users: int
) -> tuple[dict[str, Path], EventsTruth]:
    """Write the event log into ``folder`` and return its planted truths.

    Args:
        world: the seed, users and calendar (the users' device, source and first visit
            are the sales domain's).
        folder: an existing folder.
        format: ``"csv"`` or ``"parquet"``.
        chunk_users: users held in memory per write (rounded up to whole seeding blocks);
            it changes memory use, not the data.

    Returns:
        ``{"events": …}`` and the events truth.
    """
    cal = world.calendar
    end = int(cal.day_seconds(np.array([cal.n_days], dtype=np.int64))[0])
    spike = _spike_days(cal)
    sizes = world.block_sizes
    path = folder / f"events.{format}"
    writer = TableWriter(path, _SCHEMA, format)
    tallies = {name: _FunnelTally(steps, cal.months) for name, steps in FUNNELS.items()}
    codes = {name: [_CODE[s] for s in steps] for name, steps in FUNNELS.items()}
    reviews = np.zeros((2, 2, 2), dtype=np.int64)  # (complete only?, reviews?, purchased?)
    totals: dict[str, int] = {}
    edge: dict[str, list[str]] = {"exact": [], "past": []}
    per_write = max(1, -(-chunk_users // BLOCK_USERS))
    try:
        for group in range(0, len(sizes), per_write):
            blocks = [
                _block(world, b, spike=spike)
                for b in range(group, min(group + per_write, len(sizes)))
            ]
            writer.write(pa.concat_tables([blk.table for blk in blocks]))
            for blk in blocks:
                rows = blk.rows
                for name, tally in tallies.items():
                    chains = _ordered_chains(rows.user, rows.ts, rows.event, codes[name], WINDOW_S)
                    tally.add(chains, blk, cal, end)
                    if name == "full":
                        _tally_reviews(reviews, chains, rows, end)
                for key, value in blk.counts.items():
                    totals[key] = totals.get(key, 0) + value
                for key, ids in blk.edge.items():
                    edge[key].extend(ids)
            del blocks
    finally:
        writer.close()
    return {"events": path}, _truth(cal, tallies, reviews, totals, edge, spike)


def _tally_reviews(reviews: NDArray[np.int64], chains: _Chains, rows: _Rows, end: int) -> None:
    viewed = chains.depth >= 2
    readers = np.unique(rows.user[rows.event == _REVIEWS])
    read = np.isin(chains.user, readers)
    bought = chains.depth == _K
    complete = chains.times[:, 0] <= end - WINDOW_S
    for c, among in ((0, viewed), (1, viewed & complete)):
        np.add.at(reviews[c], (read[among].astype(np.int64), bought[among].astype(np.int64)), 1)


def _truth(
    cal: Calendar,
    tallies: Mapping[str, _FunnelTally],
    reviews: NDArray[np.int64],
    totals: Mapping[str, int],
    edge: Mapping[str, list[str]],
    spike: tuple[int, int],
) -> EventsTruth:
    def table(counts: NDArray[np.int64]) -> dict[str, Any]:
        # counts[reviews?, purchased?]
        cells = {
            "reviews": {"purchased": int(counts[1, 1]), "not_purchased": int(counts[1, 0])},
            "no_reviews": {"purchased": int(counts[0, 1]), "not_purchased": int(counts[0, 0])},
        }
        denominator = counts[1, 0] * counts[0, 1]
        odds = float(counts[1, 1] * counts[0, 0] / denominator) if denominator else None
        return {**cells, "odds_ratio": odds}

    counts = dict(totals)
    dropped = counts.pop("dropped_rows")
    return EventsTruth(
        events_steps=STEPS,
        events_other_events=OTHER_EVENTS,
        events_window_s=WINDOW_S,
        events_session_gap_s=SESSION_GAP_S,
        events_countries=COUNTRIES,
        events_country_share=dict(COUNTRY_SHARE),
        events_inclusion=dict(INCLUSION),
        events_spike={
            "first": cal.date_of(spike[0]).isoformat(),
            "last": cal.date_of(spike[1]).isoformat(),
            "factor": dict(SPIKE_FACTOR),
            "inclusion": INCLUSION["spike"],
        },
        events_step_rate=dict(STEP_RATE),
        events_device_factor={d: dict(f) for d, f in DEVICE_FACTOR.items()},
        events_country_factor={c: dict(f) for c, f in COUNTRY_FACTOR.items()},
        events_reviews={"share": REVIEWS_SHARE, "factor": dict(REVIEWS_FACTOR)},
        events_rate_formula=RATE_FORMULA,
        events_step_gap={s: dict(g) for s, g in STEP_GAP.items()},
        events_attempts={"extra_poisson": EXTRA_ATTEMPTS, "gap_days": list(ATTEMPT_GAP_DAYS)},
        events_late={"share": LATE_SHARE, "after_window_s": list(LATE_AFTER_S)},
        events_duplicate_share=DUPLICATE_SHARE,
        events_tracking_gap={
            "event": "page_view",
            "first": cal.date_of(0).isoformat(),
            "last": cal.date_of(TRACKING_GAP_DAYS - 1).isoformat(),
            "drop_share": TRACKING_GAP_DROP,
            "dropped_rows": dropped,
        },
        events_window_edge_users={k: list(v) for k, v in edge.items()},
        events_funnels={name: tally.as_dict(cal) for name, tally in tallies.items()},
        events_reviews_table={"all": table(reviews[0]), "complete": table(reviews[1])},
        events_totals=counts,
    )
