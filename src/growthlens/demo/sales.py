"""The sales domain: an Afisha-like event-ticket service's visits, orders and ad costs.

:func:`write_sales` writes the three tables in the Yandex.Afisha export layout
(recognised by the loader's ``yandex_afisha`` preset), plus session and order ids (row
numbers) and the cost rows' clicks and impressions as last columns, and returns their
planted truths.
The generative model (docs/demo.md has it in words) plants values an analysis must
recover: monthly retention per (source, device), conversion per source, the
conversion-lag mix, CAC per paid source exactly, and exact counts of anomalies.

Users are generated in the world's seeding blocks, block ``b`` from
``world.rng(Stream.SALES_BLOCKS, b)``, and written block group by block group, so memory
stays bounded at any size and the files do not depend on the write chunk size;
:func:`sales_blocks` replays the blocks for the domains built on them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from growthlens.demo.world import (
    BLOCK_USERS,
    DAY_SECONDS,
    WINDOW_START,
    Calendar,
    Stream,
    TruthSection,
    World,
)
from growthlens.demo.writer import Format, TableWriter

# ---- planted parameters -------------------------------------------------------------
SOURCES = ("1", "2", "3", "4", "5", "6", "7", "9", "10")
PAID_SOURCES = ("1", "2", "3", "4", "5", "9", "10")
ORGANIC_SOURCES = ("7",)
SESSIONLESS_SOURCES = ("6",)  # cost rows, no sessions: a campaign with broken tracking
SESSION_SOURCES = ("1", "2", "3", "4", "5", "7", "9", "10")
DEVICES = ("desktop", "touch")

ACQUISITION_SHARE = {
    "1": 0.10,
    "2": 0.13,
    "3": 0.23,
    "4": 0.27,
    "5": 0.17,
    "7": 0.02,
    "9": 0.045,
    "10": 0.035,
}
TOUCH_SHARE = {
    "1": 0.25,
    "2": 0.30,
    "3": 0.28,
    "4": 0.30,
    "5": 0.27,
    "7": 0.35,
    "9": 0.20,
    "10": 0.35,
}
RETENTION_BASE = {
    "1": 0.10,
    "2": 0.08,
    "3": 0.055,
    "4": 0.06,
    "5": 0.065,
    "7": 0.05,
    "9": 0.075,
    "10": 0.045,
}
DEVICE_FACTOR = {"desktop": 1.0, "touch": 0.75}
RETENTION_DECAY_EXPONENT = 0.4  # decay(k) = k ** -0.4
EXTRA_SESSIONS_FIRST_MONTH = 0.35  # Poisson mean of sessions after the first, same month
EXTRA_SESSIONS_ACTIVE_MONTH = 0.6  # an active later month has 1 + Poisson(0.6) sessions
SESSION_SOURCE_STAY = 0.85  # a later session comes from the acquisition source
SESSION_MEDIAN_S = 300.0
SESSION_SIGMA = 1.2
ZERO_LENGTH_SHARE = 0.09
CONVERSION = {
    "1": 0.24,
    "2": 0.20,
    "3": 0.14,
    "4": 0.15,
    "5": 0.17,
    "7": 0.10,
    "9": 0.11,
    "10": 0.12,
}
LAG_BUCKETS: tuple[tuple[str, int, int, float], ...] = (
    ("0d", 0, 0, 0.55),
    ("1d", 1, 1, 0.06),
    ("2-7d", 2, 7, 0.12),
    ("8-30d", 8, 30, 0.13),
    ("31-120d", 31, 120, 0.14),
)
REPEAT_ORDER_PROBABILITY = 0.5
# With CAC below, sources 1 and 4 pay back, 2 and 5 about break even, 3, 9 and 10 do not.
REVENUE_MEAN = {"1": 9.0, "2": 10.5, "3": 5.0, "4": 5.5, "5": 6.5, "7": 4.5, "9": 4.0, "10": 3.5}
REVENUE_SIGMA = 1.0
CAC = {"1": 7.19, "2": 12.21, "3": 13.52, "4": 5.93, "5": 7.47, "9": 5.07, "10": 4.38}
SESSIONLESS_DAILY_COST = (0.40, 4.00)  # source 6: uniform cents in this range per day
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.05, 1.1, 0.85, 0.8)  # Monday .. Sunday
SEASONAL_AMPLITUDE = 0.3  # arrivals ∝ 1 + 0.3·cos(2π(day − Dec 1)/365.25)
HOUR_WEIGHTS = (
    0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.5, 2.5, 3.2, 3.6, 3.8,
    4.0, 4.0, 3.9, 3.8, 3.9, 4.2, 4.6, 4.8, 4.5, 3.6, 2.4, 1.3,
)  # fmt: skip
OUT_OF_WINDOW_MINUTES = 2  # the lone order at window end + 1 day 00:02, like the real export

# Clicks and impressions of the cost rows: cost per click and click-through rate by source.
CPC = {"1": 0.9, "2": 1.4, "3": 0.6, "4": 0.35, "5": 0.5, "6": 0.25, "9": 0.3, "10": 0.28}
CTR = {"1": 0.04, "2": 0.05, "3": 0.02, "4": 0.015, "5": 0.03, "6": 0.01, "9": 0.012, "10": 0.01}

_VISITS_SCHEMA = pa.schema(
    [
        ("Uid", pa.uint64()),
        ("Device", pa.string()),
        ("Start Ts", pa.timestamp("s")),
        ("End Ts", pa.timestamp("s")),
        ("Source Id", pa.int64()),
        ("Session Id", pa.int64()),
    ]
)
_ORDERS_SCHEMA = pa.schema(
    [
        ("Buy Ts", pa.timestamp("s")),
        ("Revenue", pa.float64()),
        ("Uid", pa.uint64()),
        ("Order Id", pa.int64()),
    ]
)
ORDERS_SCHEMA = _ORDERS_SCHEMA
"""The orders file's layout (the journeys domain writes the reference conversions in it)."""
_COSTS_SCHEMA = pa.schema(
    [
        ("source_id", pa.int64()),
        ("dt", pa.date32()),
        ("costs", pa.float64()),
        ("clicks", pa.int64()),
        ("impressions", pa.int64()),
    ]
)


def anomaly_targets(users: int) -> dict[str, int]:
    """Planted anomaly counts for a demo of ``users`` users (realised counts are in the truth)."""
    return {
        "end_before_start": max(2, users // 5_000),
        "zero_revenue_orders": max(3, users // 1_000),
        "negative_lag_orders": max(2, users // 5_000),
    }


def click_anomaly_targets(cost_rows: int) -> dict[str, int]:
    """Planted cost rows with cost > 0 and no click, and with fewer impressions than clicks."""
    return {
        "cost_without_clicks": max(3, cost_rows // 300),
        "impressions_below_clicks": max(3, cost_rows // 300),
    }


def retention_probability(source: str, device: str, age: int) -> float:
    """Planted probability that a user is active in calendar month ``age`` ≥ 1 after arrival.

    ``r_k(source, device) = base(source) × factor(device) × k ** -0.4``.
    """
    return RETENTION_BASE[source] * DEVICE_FACTOR[device] * math.pow(age, -RETENTION_DECAY_EXPONENT)


@dataclass(frozen=True)
class SalesTruth(TruthSection):
    """The planted values of the sales tables (``truth.json`` keys after the world's).

    Probabilities are the model's parameters (recover them within a confidence
    interval); ``cac``, ``anomalies``, ``totals``, ``buyers_by_source`` and
    ``costs_by_source`` are exact properties of the written files.

    Attributes:
        sources: every source id that appears in sessions or costs.
        paid_sources: sources with cost rows and sessions.
        organic_sources: sources with sessions but no cost rows.
        sessionless_sources: sources with cost rows but no sessions.
        devices: device values.
        acquisition_share: probability of each acquisition (first-session) source.
        touch_share: probability that a user of a source is on ``touch``.
        retention: source → device → ``[r_1, …, r_{months-1}]``, the probability of
            being active in month k after the first-session month.
        retention_model: the parts of ``retention`` (base, device factor, decay exponent).
        extra_sessions: Poisson means of extra sessions (first month, active later month).
        session_source_stay: probability that a later session keeps the acquisition source.
        session_length: lognormal ``median_s`` and ``sigma`` of session lengths, and the
            planted ``zero_share`` of zero-length sessions.
        conversion: probability that a user of a source becomes a buyer.
        lag_buckets: ``[{"name", "min_days", "max_days", "share"}]`` of the first order's
            lag after the first visit (days uniform within a bucket).
        repeat_order_probability: probability of one repeat order in an active month
            after the first order's month.
        revenue_mean: mean revenue per order by acquisition source (lognormal).
        revenue_sigma: lognormal sigma of revenue.
        cac: planted CAC per paid source (cost ÷ first-touch buyers, exact per month too).
        cost_gap_date: the date with no cost rows (its money is on the next day).
        out_of_window_order: timestamp of the lone order after the window end.
        anomalies: realised exact counts: ``end_before_start``, ``zero_length_sessions``,
            ``zero_revenue_orders``, ``negative_lag_orders``, ``out_of_window_orders``,
            ``cost_without_clicks`` (cost rows with cost > 0 and 0 clicks),
            ``impressions_below_clicks`` (cost rows with impressions < clicks).
        totals: ``users`` (every user has at least one session), ``sessions``, ``orders``
            (all rows written), ``orders_in_window``, ``buyers`` (first order inside the
            window), ``cost_rows``.
        buyers_by_source: buyers with a first order inside the window, by acquisition source.
        costs_by_source: total cost per source over the window.
        weekday_weights: relative arrival intensity Monday..Sunday.
    """

    sources: tuple[str, ...]
    paid_sources: tuple[str, ...]
    organic_sources: tuple[str, ...]
    sessionless_sources: tuple[str, ...]
    devices: tuple[str, ...]
    acquisition_share: Mapping[str, float]
    touch_share: Mapping[str, float]
    retention: Mapping[str, Mapping[str, list[float]]]
    retention_model: Mapping[str, Any]
    extra_sessions: Mapping[str, float]
    session_source_stay: float
    session_length: Mapping[str, float]
    conversion: Mapping[str, float]
    lag_buckets: tuple[Mapping[str, Any], ...]
    repeat_order_probability: float
    revenue_mean: Mapping[str, float]
    revenue_sigma: float
    cac: Mapping[str, float]
    cost_gap_date: str
    out_of_window_order: str
    anomalies: Mapping[str, int]
    totals: Mapping[str, int]
    buyers_by_source: Mapping[str, int]
    costs_by_source: Mapping[str, float]
    weekday_weights: tuple[float, ...]


# ---- calendar effects ----------------------------------------------------------------
def _arrival_weights(cal: Calendar) -> NDArray[np.float64]:
    """Probability of each day of being a user's first-visit day."""
    days = np.arange(cal.n_days)
    weekday = (WINDOW_START.weekday() + days) % 7
    peak = (date(2017, 12, 1) - WINDOW_START).days
    season = 1 + SEASONAL_AMPLITUDE * np.cos(2 * np.pi * (days - peak) / 365.25)
    weights = np.asarray(WEEKDAY_WEIGHTS)[weekday] * season
    result: NDArray[np.float64] = weights / weights.sum()
    return result


def _cost_gap_day(cal: Calendar) -> int:
    """The day without cost rows: the first day of a month late in the window.

    2018-04-01 for 12 months, like the real export's missing days.
    """
    gap_month = min(cal.months - 1, max(1, round(cal.months * 10 / 12)))
    return int(cal.month_first_day[gap_month])


# ---- one block of users --------------------------------------------------------------
_N_SRC = len(SESSION_SOURCES)
_ACQ_P = np.array([ACQUISITION_SHARE[s] for s in SESSION_SOURCES])
_TOUCH_P = np.array([TOUCH_SHARE[s] for s in SESSION_SOURCES])
_CONV_P = np.array([CONVERSION[s] for s in SESSION_SOURCES])
_REV_MEAN = np.array([REVENUE_MEAN[s] for s in SESSION_SOURCES])
_SRC_INT = np.array([int(s) for s in SESSION_SOURCES], dtype=np.int64)
_LAG_P = np.array([b[3] for b in LAG_BUCKETS])
_LAG_LO = np.array([b[1] for b in LAG_BUCKETS], dtype=np.int64)
_LAG_HI = np.array([b[2] for b in LAG_BUCKETS], dtype=np.int64)
_HOUR_P = np.asarray(HOUR_WEIGHTS) / np.sum(HOUR_WEIGHTS)


def _retention_array(months: int) -> NDArray[np.float64]:
    """Shape (sources, devices, months − 1): r_k for k = 1 .. months − 1."""
    return np.array(
        [
            [[retention_probability(s, d, k) for k in range(1, months)] for d in DEVICES]
            for s in SESSION_SOURCES
        ]
    )


@dataclass(frozen=True)
class SalesBlock:
    """One seeding block's users, sessions and orders, as written by :func:`write_sales`.

    Session arrays (``s_*``) are in the visits file's row order within the block, order
    arrays (``o_*``) in the orders file's; owners index the block's users (``uid``).
    """

    uid: NDArray[np.uint64]
    s_owner: NDArray[np.int64]
    s_start: NDArray[np.int64]
    s_end: NDArray[np.int64]
    s_source: NDArray[np.int64]
    device: NDArray[np.int8]
    o_owner: NDArray[np.int64]
    o_ts: NDArray[np.int64]
    o_revenue: NDArray[np.float64]
    buyers: NDArray[np.int64]  # (sources, months): first order inside the window
    anomalies: dict[str, int]


def _time_of_day(rng: np.random.Generator, size: int) -> NDArray[np.int64]:
    hour = rng.choice(24, size=size, p=_HOUR_P).astype(np.int64)
    return hour * 3600 + rng.integers(0, 3600, size=size)


def _pick(rng: np.random.Generator, candidates: NDArray[np.int64], quota: int) -> NDArray[np.int64]:
    take = min(quota, len(candidates))
    if take == 0:
        return np.empty(0, dtype=np.int64)
    chosen: NDArray[np.int64] = rng.choice(candidates, size=take, replace=False)
    return chosen


def _arrivals(
    rng: np.random.Generator,
    cal: Calendar,
    n: int,
    *,
    first: bool,
    last: bool,
    arrival: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int8], NDArray[np.int64], NDArray[np.int64]]:
    """A block's first draws: acquisition source, device, first-visit day and time.

    They open the block's stream, so :func:`sales_users` replays them alone.
    """
    src = rng.choice(_N_SRC, size=n, p=_ACQ_P).astype(np.int64)
    device = (rng.random(n) < _TOUCH_P[src]).astype(np.int8)
    day = rng.choice(cal.n_days, size=n, p=arrival).astype(np.int64)
    # Pin the window's edges: user 0 arrives (and, below, buys) on the first day and the
    # last user arrives on the last day, so the data window is the planned one at any size.
    if first:
        day[0] = 0
    if last:
        day[-1] = cal.n_days - 1
    first_start = cal.day_seconds(day) + _time_of_day(rng, n)
    return src, device, day, first_start


@dataclass(frozen=True)
class SalesUsers:
    """What sales draws per user of one seeding block (the other domains build on it).

    Attributes:
        uid: the users' ids.
        source: acquisition (first-session) source, as text (``SESSION_SOURCES``).
        device: index into :data:`DEVICES`.
        first_visit: naive epoch seconds of the first session's start.
    """

    uid: NDArray[np.uint64]
    source: NDArray[np.str_]
    device: NDArray[np.int8]
    first_visit: NDArray[np.int64]


def sales_users(world: World, block: int) -> SalesUsers:
    """The acquisition source, device and first visit of seeding block ``block``'s users.

    The same numbers as the sessions written by :func:`write_sales`: the block's stream
    is replayed up to its arrival draws, so nothing is drawn twice and the sales files
    do not change.
    """
    sizes = world.block_sizes
    n = sizes[block]
    rng = world.rng(Stream.SALES_BLOCKS, block)
    src, device, _, first_start = _arrivals(
        rng,
        world.calendar,
        n,
        first=block == 0,
        last=block == len(sizes) - 1,
        arrival=_arrival_weights(world.calendar),
    )
    source = np.asarray(SESSION_SOURCES)[src]
    return SalesUsers(world.user_ids(block * BLOCK_USERS, n), source, device, first_start)


def _block(
    world: World,
    block: int,
    n: int,
    *,
    last: bool,
    arrival: NDArray[np.float64],
    retention: NDArray[np.float64],
    quotas: Mapping[str, int],
) -> SalesBlock:
    rng = world.rng(Stream.SALES_BLOCKS, block)
    cal = world.calendar
    months = cal.months
    first_user = block * BLOCK_USERS
    uid = world.user_ids(first_user, n)
    src, device, day, first_start = _arrivals(
        rng, cal, n, first=first_user == 0, last=last, arrival=arrival
    )
    m0 = cal.month_of_day[day]
    users = np.arange(n, dtype=np.int64)

    # Extra sessions in the arrival month, strictly after the first session.
    k0 = rng.poisson(EXTRA_SESSIONS_FIRST_MONTH, n)
    owner0 = np.repeat(users, k0)
    lo = first_start[owner0] + 1
    hi = cal.day_seconds(cal.month_first_day[m0[owner0] + 1])
    start0 = lo + np.floor(rng.random(len(owner0)) * (hi - lo)).astype(np.int64)
    keep0 = hi > lo
    owner0, start0 = owner0[keep0], start0[keep0]

    # Later calendar months: active with probability r_k(source, device).
    u = rng.random((n, months - 1))
    ages = np.arange(1, months, dtype=np.int64)
    cell_month_all = m0[:, None] + ages[None, :]
    active = (cell_month_all < months) & (u < retention[src, device])
    cell_user, cell_age = np.nonzero(active)
    cell_user = cell_user.astype(np.int64)
    cell_month = m0[cell_user] + cell_age + 1
    per_cell = 1 + rng.poisson(EXTRA_SESSIONS_ACTIVE_MONTH, len(cell_user))
    owner2 = np.repeat(cell_user, per_cell)
    month2 = np.repeat(cell_month, per_cell)
    month_len = cal.month_first_day[month2 + 1] - cal.month_first_day[month2]
    day2 = cal.month_first_day[month2] + np.floor(rng.random(len(owner2)) * month_len).astype(
        np.int64
    )
    start2 = cal.day_seconds(day2) + _time_of_day(rng, len(owner2))
    cell_first_session = np.cumsum(per_cell) - per_cell

    s_owner = np.concatenate([users, owner0, owner2])
    s_start = np.concatenate([first_start, start0, start2])
    later = len(s_owner) - n
    stay = rng.random(later) < SESSION_SOURCE_STAY
    other = rng.choice(_N_SRC, size=later, p=_ACQ_P).astype(np.int64)
    s_source = np.concatenate([src, np.where(stay, src[s_owner[n:]], other)])

    total = len(s_owner)
    zero = rng.random(total) < ZERO_LENGTH_SHARE
    length = np.maximum(
        1, np.rint(rng.lognormal(np.log(SESSION_MEDIAN_S), SESSION_SIGMA, total))
    ).astype(np.int64)
    length[zero] = 0
    ebs = _pick(rng, np.arange(total, dtype=np.int64), quotas["end_before_start"])
    length[ebs] = -rng.integers(1, 601, size=len(ebs))
    s_end = s_start + length

    # Conversion: the first order's lag after the first visit from the bucket mix.
    buyer = rng.random(n) < _CONV_P[src]
    bucket = rng.choice(len(LAG_BUCKETS), size=n, p=_LAG_P)
    if first_user == 0:
        buyer[0], bucket[0] = True, 0
    if last:
        buyer[-1] = False  # it gets the lone order after the window instead
    lag = rng.integers(_LAG_LO[bucket], _LAG_HI[bucket] + 1)
    order_day = day + lag
    day_end = cal.day_seconds(day) + DAY_SECONDS
    same_day = first_start + np.floor(rng.random(n) * (day_end - first_start)).astype(np.int64)
    other_day = cal.day_seconds(order_day) + _time_of_day(rng, n)
    first_ts = np.where(lag == 0, same_day, other_day)
    converted = buyer & (order_day < cal.n_days)  # later first orders are past the window
    first_month = cal.month_of_day[np.minimum(order_day, cal.n_days - 1)]

    # A few first orders moved to 1-5 days before the first visit (negative lag).
    negative = _pick(
        rng, np.flatnonzero(converted & (day >= 7)).astype(np.int64), quotas["negative_lag_orders"]
    )
    back = rng.integers(1, 6, size=len(negative))
    first_ts[negative] = cal.day_seconds(day[negative] - back) + _time_of_day(rng, len(negative))

    # Repeat orders: in an active month after the first order's month, with probability p,
    # during that month's first generated session (same day).
    repeat = rng.random(len(cell_user)) < REPEAT_ORDER_PROBABILITY
    repeat &= converted[cell_user] & (cell_month > first_month[cell_user])
    r_start = start2[cell_first_session[repeat]]
    r_room = np.minimum(1800, cal.day_seconds(cal.day_of(r_start)) + DAY_SECONDS - r_start)
    r_ts = r_start + np.floor(rng.random(len(r_start)) * r_room).astype(np.int64)

    buyer_idx = np.flatnonzero(converted).astype(np.int64)
    o_owner = np.concatenate([buyer_idx, cell_user[repeat]])
    o_ts = np.concatenate([first_ts[buyer_idx], r_ts])
    factor = rng.lognormal(-(REVENUE_SIGMA**2) / 2, REVENUE_SIGMA, len(o_owner))
    revenue = np.maximum(0.01, np.round(_REV_MEAN[src[o_owner]] * factor, 2))
    zero_rev = _pick(rng, np.arange(len(o_owner), dtype=np.int64), quotas["zero_revenue_orders"])
    revenue[zero_rev] = 0.0
    out_of_window = 0
    if last:
        lone_ts = (
            cal.day_seconds(np.array([cal.n_days], dtype=np.int64)) + OUT_OF_WINDOW_MINUTES * 60
        )
        lone_rev = np.round(
            _REV_MEAN[src[-1:]] * rng.lognormal(-(REVENUE_SIGMA**2) / 2, REVENUE_SIGMA, 1), 2
        )
        o_owner = np.concatenate([o_owner, [n - 1]])
        o_ts = np.concatenate([o_ts, lone_ts])
        revenue = np.concatenate([revenue, np.maximum(0.01, lone_rev)])
        out_of_window = 1

    buyers = np.zeros((_N_SRC, months), dtype=np.int64)
    final_month = cal.month_of_day[cal.day_of(first_ts[buyer_idx])]
    np.add.at(buyers, (src[buyer_idx], final_month), 1)
    anomalies = {
        "end_before_start": len(ebs),
        "zero_length_sessions": int(np.sum(length == 0)),
        "zero_revenue_orders": len(zero_rev),
        "negative_lag_orders": len(negative),
        "out_of_window_orders": out_of_window,
    }
    return SalesBlock(
        uid, s_owner, s_start, s_end, s_source, device, o_owner, o_ts, revenue, buyers, anomalies
    )


# ---- writing -------------------------------------------------------------------------
def _timestamps(seconds: NDArray[np.int64]) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), type=pa.timestamp("s"))


def sales_blocks(world: World) -> Iterator[SalesBlock]:
    """Every seeding block's sessions and orders, in file order (generated block by block).

    The same numbers as the files :func:`write_sales` writes: other domains replay the
    blocks instead of reading the files back.
    """
    cal = world.calendar
    arrival = _arrival_weights(cal)
    retention = _retention_array(cal.months)
    sizes = world.block_sizes
    quota_rng = world.rng(Stream.SALES_ANOMALY_QUOTAS)
    share = np.asarray(sizes) / world.users
    quotas = {
        name: quota_rng.multinomial(count, share)
        for name, count in anomaly_targets(world.users).items()
    }
    for b, n in enumerate(sizes):
        yield _block(
            world,
            b,
            n,
            last=b == len(sizes) - 1,
            arrival=arrival,
            retention=retention,
            quotas={name: int(q[b]) for name, q in quotas.items()},
        )


def block_groups(world: World, chunk_users: int) -> Iterator[list[SalesBlock]]:
    """:func:`sales_blocks` in groups of ``chunk_users`` users (rounded up to whole blocks)."""
    per_write = max(1, -(-chunk_users // BLOCK_USERS))
    group: list[SalesBlock] = []
    for blk in sales_blocks(world):
        group.append(blk)
        if len(group) == per_write:
            yield group
            group = []
    if group:
        yield group


def _ids(first: int, n: int) -> pa.Array:
    """Row numbers ``first + 1 .. first + n``: the session and order ids (1-based, by file row)."""
    return pa.array(np.arange(first + 1, first + n + 1, dtype=np.int64))


def _visits_table(blocks: Sequence[SalesBlock], first_id: int) -> pa.Table:
    uid = np.concatenate([b.uid[b.s_owner] for b in blocks])
    device = np.concatenate([b.device[b.s_owner] for b in blocks])
    devices = pa.DictionaryArray.from_arrays(pa.array(device), pa.array(DEVICES)).cast(pa.string())
    return pa.Table.from_arrays(
        [
            pa.array(uid, type=pa.uint64()),
            devices,
            _timestamps(np.concatenate([b.s_start for b in blocks])),
            _timestamps(np.concatenate([b.s_end for b in blocks])),
            pa.array(_SRC_INT[np.concatenate([b.s_source for b in blocks])]),
            _ids(first_id, len(uid)),
        ],
        schema=_VISITS_SCHEMA,
    )


def _orders_table(blocks: Sequence[SalesBlock], first_id: int) -> pa.Table:
    ts = np.concatenate([b.o_ts for b in blocks])
    return pa.Table.from_arrays(
        [
            _timestamps(ts),
            pa.array(np.concatenate([b.o_revenue for b in blocks])),
            pa.array(np.concatenate([b.uid[b.o_owner] for b in blocks]), type=pa.uint64()),
            _ids(first_id, len(ts)),
        ],
        schema=_ORDERS_SCHEMA,
    )


def _clicks(
    world: World, source: NDArray[np.int64], cents: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], dict[str, int]]:
    """Clicks and impressions per cost row (their own stream: costs stay as they were).

    clicks ≈ cost ÷ CPC (at least 1 when cost > 0), impressions ≈ clicks ÷ CTR (at
    least clicks); planted: rows with cost > 0 and no click, and other rows with
    fewer impressions than clicks (exact counts returned).
    """
    rng = world.rng(Stream.SALES_CLICKS)
    text = np.array([str(s) for s in source])
    cpc = np.array([CPC[s] for s in text]) * rng.lognormal(0, 0.15, len(text))
    ctr = np.array([CTR[s] for s in text]) * rng.lognormal(0, 0.2, len(text))
    clicks = np.where(cents > 0, np.maximum(1, np.rint(cents / 100 / cpc)), 0).astype(np.int64)
    impressions = np.ceil(clicks / np.minimum(ctr, 1.0)).astype(np.int64)
    targets = click_anomaly_targets(len(cents))
    rows = rng.permutation(np.flatnonzero(cents > 0))
    k = targets["cost_without_clicks"]
    no_clicks = rows[:k]
    below = rows[k : k + targets["impressions_below_clicks"]]
    impressions[below] = rng.integers(0, clicks[below])
    clicks[no_clicks] = 0
    return (
        clicks,
        impressions,
        {
            "cost_without_clicks": len(no_clicks),
            "impressions_below_clicks": len(below),
        },
    )


def _costs(
    buyers: NDArray[np.int64], world: World
) -> tuple[pa.Table, dict[str, float], dict[str, int]]:
    """Daily costs whose monthly sums are exactly CAC × first-order buyers, in whole cents."""
    rng = world.rng(Stream.SALES_COSTS)
    cal = world.calendar
    gap = _cost_gap_day(cal)
    src_col: list[NDArray[np.int64]] = []
    day_col: list[NDArray[np.int64]] = []
    cents_col: list[NDArray[np.int64]] = []
    for source in sorted(PAID_SOURCES + SESSIONLESS_SOURCES, key=int):
        cents = np.zeros(cal.n_days, dtype=np.int64)
        if source in CAC:
            cac_cents = round(CAC[source] * 100)
            row = buyers[SESSION_SOURCES.index(source)]
            for m in range(cal.months):
                first, stop = int(cal.month_first_day[m]), int(cal.month_first_day[m + 1])
                month_total = cac_cents * int(row[m])
                # Noisy daily split in whole cents that sums to the month's total exactly:
                # cut points at the rounded cumulative shares, the last one pinned.
                weights = rng.gamma(4.0, size=stop - first)
                cuts = np.floor(month_total * np.cumsum(weights) / weights.sum()).astype(np.int64)
                cuts = np.minimum(cuts, month_total)
                cuts[-1] = month_total
                cents[first:stop] = np.diff(cuts, prepend=0)
        else:
            lo, hi = (round(v * 100) for v in SESSIONLESS_DAILY_COST)
            cents[:] = rng.integers(lo, hi + 1, size=cal.n_days)
        # The gap day's money moves to the next day of the same month: sums stay exact.
        cents[gap + 1] += cents[gap]
        days = np.delete(np.arange(cal.n_days, dtype=np.int64), gap)
        src_col.append(np.full(len(days), int(source), dtype=np.int64))
        day_col.append(days)
        cents_col.append(np.delete(cents, gap))
    all_cents = np.concatenate(cents_col)
    all_src = np.concatenate(src_col)
    dates = (np.datetime64(WINDOW_START, "D") + np.concatenate(day_col)).astype("datetime64[D]")
    clicks, impressions, planted = _clicks(world, all_src, all_cents)
    table = pa.Table.from_arrays(
        [
            pa.array(all_src),
            pa.array(dates, type=pa.date32()),
            pa.array(all_cents / 100.0),
            pa.array(clicks),
            pa.array(impressions),
        ],
        schema=_COSTS_SCHEMA,
    )
    totals = {
        str(s): round(float(all_cents[all_src == s].sum()) / 100.0, 2) for s in np.unique(all_src)
    }
    return table, totals, planted


# ---- the domain ----------------------------------------------------------------------
def write_sales(
    world: World, folder: Path, *, format: Format, chunk_users: int
) -> tuple[dict[str, Path], SalesTruth]:
    """Write visits, orders and costs into ``folder`` and return their planted truths.

    Args:
        world: the seed, users and calendar.
        folder: an existing folder.
        format: ``"csv"`` or ``"parquet"``.
        chunk_users: users held in memory per write (rounded up to whole seeding blocks);
            it changes memory use, not the data.

    Returns:
        ``{"visits": …, "orders": …, "costs": …}`` paths, and the sales truth.
    """
    cal = world.calendar
    paths = {name: folder / f"{name}.{format}" for name in ("visits", "orders", "costs")}
    visits = TableWriter(paths["visits"], _VISITS_SCHEMA, format)
    orders = TableWriter(paths["orders"], _ORDERS_SCHEMA, format)
    buyers = np.zeros((_N_SRC, cal.months), dtype=np.int64)
    anomalies: dict[str, int] = {}
    sessions = order_rows = 0
    try:
        for blocks in block_groups(world, chunk_users):
            visit_table = _visits_table(blocks, sessions)
            order_table = _orders_table(blocks, order_rows)
            visits.write(visit_table)
            orders.write(order_table)
            sessions += visit_table.num_rows
            order_rows += order_table.num_rows
            for blk in blocks:
                buyers += blk.buyers
                for name, count in blk.anomalies.items():
                    anomalies[name] = anomalies.get(name, 0) + count
            del blocks, visit_table, order_table
    finally:
        visits.close()
        orders.close()

    costs, costs_by_source, click_anomalies = _costs(buyers, world)
    anomalies.update(click_anomalies)
    cost_writer = TableWriter(paths["costs"], _COSTS_SCHEMA, format)
    try:
        cost_writer.write(costs)
    finally:
        cost_writer.close()

    totals = {
        "users": world.users,
        "sessions": sessions,
        "orders": order_rows,
        "orders_in_window": order_rows - anomalies["out_of_window_orders"],
        "buyers": int(buyers.sum()),
        "cost_rows": costs.num_rows,
    }
    return paths, _sales_truth(cal, anomalies, totals, buyers, costs_by_source)


def _sales_truth(
    cal: Calendar,
    anomalies: Mapping[str, int],
    totals: Mapping[str, int],
    buyers: NDArray[np.int64],
    costs_by_source: Mapping[str, float],
) -> SalesTruth:
    months = cal.months
    lone = datetime.combine(cal.date_of(cal.n_days), datetime.min.time()) + timedelta(
        minutes=OUT_OF_WINDOW_MINUTES
    )
    return SalesTruth(
        sources=SOURCES,
        paid_sources=PAID_SOURCES,
        organic_sources=ORGANIC_SOURCES,
        sessionless_sources=SESSIONLESS_SOURCES,
        devices=DEVICES,
        acquisition_share=dict(ACQUISITION_SHARE),
        touch_share=dict(TOUCH_SHARE),
        retention={
            s: {d: [retention_probability(s, d, k) for k in range(1, months)] for d in DEVICES}
            for s in SESSION_SOURCES
        },
        retention_model={
            "formula": "base[source] * device_factor[device] * k ** -decay_exponent",
            "base": dict(RETENTION_BASE),
            "device_factor": dict(DEVICE_FACTOR),
            "decay_exponent": RETENTION_DECAY_EXPONENT,
        },
        extra_sessions={
            "first_month": EXTRA_SESSIONS_FIRST_MONTH,
            "active_month": EXTRA_SESSIONS_ACTIVE_MONTH,
        },
        session_source_stay=SESSION_SOURCE_STAY,
        session_length={
            "median_s": SESSION_MEDIAN_S,
            "sigma": SESSION_SIGMA,
            "zero_share": ZERO_LENGTH_SHARE,
        },
        conversion=dict(CONVERSION),
        lag_buckets=tuple(
            {"name": name, "min_days": lo, "max_days": hi, "share": p}
            for name, lo, hi, p in LAG_BUCKETS
        ),
        repeat_order_probability=REPEAT_ORDER_PROBABILITY,
        revenue_mean=dict(REVENUE_MEAN),
        revenue_sigma=REVENUE_SIGMA,
        cac=dict(CAC),
        cost_gap_date=cal.date_of(_cost_gap_day(cal)).isoformat(),
        out_of_window_order=lone.isoformat(sep=" "),
        anomalies=dict(anomalies),
        totals=dict(totals),
        buyers_by_source={s: int(buyers[i].sum()) for i, s in enumerate(SESSION_SOURCES)},
        costs_by_source=dict(costs_by_source),
        weekday_weights=WEEKDAY_WEIGHTS,
    )
