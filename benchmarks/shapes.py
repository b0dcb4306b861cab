"""Data shapes for the unit-economics benchmark, drawn independently of the demo.

A speed-up measured on the demo's data alone may come from its shape, so this module draws
Afisha-layout visits, orders and costs from its own model (numpy, vectorised, in blocks of
users so 50M sessions fit in a few GB) with named parameter sets (:data:`SHAPES`):

- ``loyal``: many returning users (mean 6.5 sessions per user over a long life), 10
  sources, 24 months, user ids as strings (``u`` + 16 hex digits).
- ``oneshot``: few returning users (mean 1.1 sessions per user), 500 sources, 3 months,
  user ids as unsigned 64-bit integers spread over the whole range (about half above 2**63).

What is drawn, per user (users = target sessions ÷ mean sessions per user):

- first visit: a day of the window (arrivals grow linearly by ``growth`` from the first to
  the last day, weighted by weekday), an hour by a daily profile, a second uniformly;
  its source from Zipf-like shares (rank ** -``source_skew``), its device from ``devices``.
- sessions: 1 + a negative binomial number of returning sessions (mean
  ``sessions_per_user`` − 1, shape ``sessions_dispersion``); each returns after a number
  of days that is exponential with mean ``lifetime_days``, truncated at the window's end
  (so every drawn session lies in the window and none is dropped), and never before the
  first visit. A returning session keeps the first source with probability
  ``source_stickiness`` (else draws one afresh) and the device with probability 0.9.
- session length: 0 s with probability ``bounce_share``, else a log-normal number of whole
  seconds (median ``length_median_s``, sigma ``length_sigma``); end = start + length.
- buyers: a share ``buyer_share`` of users. The first order falls in the first visit's
  hour with probability ``same_session_share``, else after a truncated exponential delay
  (mean ``lag_days``); a share ``ordered_before_visit`` orders up to 3 days before the first
  visit instead (a negative lag, kept and flagged by the load). Further orders: negative
  binomial (mean ``orders_per_buyer`` − 1), each after a truncated exponential delay (mean
  ``lifetime_days``); revenue log-normal (median ``revenue_median``, sigma
  ``revenue_sigma``) in cents, positive. A share ``buyers_without_session`` of extra buyers
  orders without any session (their ids are never users').
- costs: one row per source and day, every day of the window: target CAC × expected
  first-order buyers of the source per day × weekday weight × log-normal noise (sigma 0.25),
  in cents; a share ``zero_cost_sources`` of the sources has zero-cost days (probability
  ``zero_cost_day_share`` each).

Every row is valid input (end ≥ start, revenue > 0, times inside the window), so the load
accepts all rows; the only flagged rows are the planted negative lags and sessionless
buyers. Files, in ``--out``: visits.parquet (``Uid, Device, Start Ts, End Ts, Source Id,
Session Id``), orders.parquet (``Buy Ts, Revenue, Uid, Order Id``), costs.parquet
(``source_id, dt, costs``), the demo's names and types except ``Uid`` (string or uint64),
and facts.json (rows, users, buyers, generation time, parameters). Rows are in time order
within each block of users (the demo writes them user by user). The same shape, sessions
and seed give the same files; existing files with matching facts are reused.

    python benchmarks/shapes.py --shape loyal --sessions 1000000 --out benchmarks/data/x
"""

from __future__ import annotations

import argparse
import calendar
import dataclasses
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

DAY = 86_400
# Sessions per block: bounds memory (a 1M-session block peaks near 500 MB of RSS).
BLOCK_SESSIONS = 2_000_000
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.05, 1.1, 0.85, 0.8])  # Monday .. Sunday
HOURS = np.array(
    [0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.5, 2.5, 3.2, 3.6, 3.8,
     4.0, 4.0, 3.9, 3.8, 3.9, 4.2, 4.6, 4.8, 4.5, 3.6, 2.4, 1.3]
)  # fmt: skip
HOURS = HOURS / HOURS.sum()
DEVICE_STICKINESS = 0.9

VISITS_SCHEMA = {
    "string": pa.schema(
        [
            ("Uid", pa.string()),
            ("Device", pa.string()),
            ("Start Ts", pa.timestamp("s")),
            ("End Ts", pa.timestamp("s")),
            ("Source Id", pa.int64()),
            ("Session Id", pa.int64()),
        ]
    ),
    "uint64": pa.schema(
        [
            ("Uid", pa.uint64()),
            ("Device", pa.string()),
            ("Start Ts", pa.timestamp("s")),
            ("End Ts", pa.timestamp("s")),
            ("Source Id", pa.int64()),
            ("Session Id", pa.int64()),
        ]
    ),
}
ORDERS_SCHEMA = {
    ids: pa.schema(
        [
            ("Buy Ts", pa.timestamp("s")),
            ("Revenue", pa.float64()),
            ("Uid", VISITS_SCHEMA[ids].field("Uid").type),
            ("Order Id", pa.int64()),
        ]
    )
    for ids in ("string", "uint64")
}
COSTS_SCHEMA = pa.schema([("source_id", pa.int64()), ("dt", pa.date32()), ("costs", pa.float64())])


@dataclass(frozen=True)
class Shape:
    """The parameters of one data shape (module docstring: what each one draws)."""

    name: str
    start: date
    months: int
    sources: int
    source_skew: float
    source_stickiness: float
    ids: Literal["string", "uint64"]
    sessions_per_user: float
    sessions_dispersion: float
    lifetime_days: float
    devices: tuple[tuple[str, float], ...]
    length_median_s: float
    length_sigma: float
    bounce_share: float
    buyer_share: float
    same_session_share: float
    lag_days: float
    ordered_before_visit: float
    buyers_without_session: float
    orders_per_buyer: float
    revenue_median: float
    revenue_sigma: float
    cac: float
    zero_cost_sources: float
    zero_cost_day_share: float
    growth: float
    seed: int

    @property
    def days(self) -> int:
        """Days in the window: ``months`` calendar months from ``start``."""
        y, m = divmod(self.start.month - 1 + self.months, 12)
        end = date(self.start.year + y, m + 1, 1)
        return (end - self.start).days

    def params(self) -> dict[str, Any]:
        """The parameters as JSON values."""
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out["devices"] = dict(self.devices)
        return out


SHAPES: dict[str, Shape] = {
    "loyal": Shape(
        name="loyal",
        start=date(2023, 1, 1),
        months=24,
        sources=10,
        source_skew=0.8,
        source_stickiness=0.6,
        ids="string",
        sessions_per_user=6.5,
        sessions_dispersion=0.8,
        lifetime_days=150.0,
        devices=(("desktop", 0.55), ("touch", 0.4), ("tablet", 0.05)),
        length_median_s=240.0,
        length_sigma=1.1,
        bounce_share=0.08,
        buyer_share=0.3,
        same_session_share=0.25,
        lag_days=40.0,
        ordered_before_visit=0.001,
        buyers_without_session=0.002,
        orders_per_buyer=3.0,
        revenue_median=12.0,
        revenue_sigma=0.9,
        cac=25.0,
        zero_cost_sources=0.2,
        zero_cost_day_share=0.1,
        growth=0.5,
        seed=1,
    ),
    "oneshot": Shape(
        name="oneshot",
        start=date(2024, 3, 1),
        months=3,
        sources=500,
        source_skew=1.0,
        source_stickiness=0.3,
        ids="uint64",
        sessions_per_user=1.1,
        sessions_dispersion=0.3,
        lifetime_days=10.0,
        devices=(("desktop", 0.35), ("touch", 0.65)),
        length_median_s=45.0,
        length_sigma=1.4,
        bounce_share=0.3,
        buyer_share=0.03,
        same_session_share=0.7,
        lag_days=3.0,
        ordered_before_visit=0.002,
        buyers_without_session=0.001,
        orders_per_buyer=1.05,
        revenue_median=30.0,
        revenue_sigma=0.6,
        cac=9.0,
        zero_cost_sources=0.3,
        zero_cost_day_share=0.2,
        growth=0.0,
        seed=2,
    ),
}


# ---- ids -----------------------------------------------------------------------------
def uint64_ids(index: NDArray[np.uint64], seed: int) -> NDArray[np.uint64]:
    """Distinct ids spread over all of uint64: splitmix64's finaliser is a bijection."""
    with np.errstate(over="ignore"):
        x = index + np.uint64((0x9E3779B97F4A7C15 * (seed + 1)) % 2**64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def string_ids(values: NDArray[np.uint64]) -> pa.Array:
    """``u`` + 16 hex digits per value, built as one Arrow buffer (no Python strings)."""
    n = len(values)
    nibbles = (values[:, None] >> (np.uint64(4) * np.arange(15, -1, -1, dtype=np.uint64))) & 15
    chars = np.empty((n, 17), dtype=np.uint8)
    chars[:, 0] = ord("u")
    chars[:, 1:] = _HEX[nibbles.astype(np.intp)]
    offsets = np.arange(0, 17 * (n + 1), 17, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _id_column(index: NDArray[np.int64], shape: Shape) -> pa.Array:
    values = uint64_ids(index.astype(np.uint64), shape.seed)
    return pa.array(values, type=pa.uint64()) if shape.ids == "uint64" else string_ids(values)


# ---- draws ---------------------------------------------------------------------------
def _extra_counts(rng: np.random.Generator, mean: float, shape_k: float, n: int) -> NDArray[Any]:
    # Negative binomial with the given mean: overdispersed like real visit and order counts.
    if mean <= 0:
        return np.zeros(n, dtype=np.int64)
    return rng.negative_binomial(shape_k, shape_k / (shape_k + mean), n)


def _truncated_exp(
    rng: np.random.Generator, mean: float, limit: NDArray[np.float64]
) -> NDArray[np.float64]:
    # Inverse CDF of an exponential truncated to [0, limit]: nothing falls past the window.
    u = rng.random(len(limit))
    return -mean * np.log1p(-u * -np.expm1(-limit / mean))


def _time_of_day(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    hour = rng.choice(24, n, p=HOURS)
    return hour * 3600 + rng.integers(0, 3600, n)


def source_shares(shape: Shape) -> NDArray[np.float64]:
    """Each source's share of new users (rank ** -skew, normalised)."""
    w = np.arange(1, shape.sources + 1, dtype=np.float64) ** -shape.source_skew
    return np.asarray(w / w.sum(), dtype=np.float64)


def _arrival_shares(shape: Shape) -> NDArray[np.float64]:
    d = np.arange(shape.days)
    weekday = (shape.start.weekday() + d) % 7
    w = (1 + shape.growth * d / max(1, shape.days - 1)) * WEEKDAY[weekday]
    return np.asarray(w / w.sum(), dtype=np.float64)


@dataclass
class Block:
    """One block of users' visits and orders, as Arrow tables."""

    visits: pa.Table
    orders: pa.Table
    users: int
    buyers: int


def draw_block(
    shape: Shape, first_user: int, users: int, first_session: int, first_order: int, block: int
) -> Block:
    """Users ``first_user`` .. ``first_user + users − 1``; ids of rows count on from the args."""
    rng = np.random.default_rng([shape.seed, block])
    n_days, end = shape.days, shape.days * DAY - 1
    shares = source_shares(shape)
    device_names = np.array([d for d, _ in shape.devices])
    device_p = np.array([p for _, p in shape.devices])
    device_p = device_p / device_p.sum()

    # Users: first visit, its source and device, and how many sessions.
    first_day = rng.choice(n_days, users, p=_arrival_shares(shape))
    first_ts = first_day * DAY + _time_of_day(rng, users)
    first_src = rng.choice(shape.sources, users, p=shares)
    first_dev = rng.choice(len(device_names), users, p=device_p)
    count = 1 + _extra_counts(rng, shape.sessions_per_user - 1, shape.sessions_dispersion, users)

    # Sessions: rank 0 is the first visit, the rest return later inside the window.
    owner = np.repeat(np.arange(users), count)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    later = rank > 0
    o = owner[later]
    left_days = (n_days - 1 - first_day[o]).astype(np.float64)
    back = np.floor(_truncated_exp(rng, shape.lifetime_days, left_days + 1)).astype(np.int64)
    back = np.minimum(back, left_days.astype(np.int64))
    start = first_ts[owner]
    ret = (first_day[o] + back) * DAY + _time_of_day(rng, len(o))
    # A return on the first day before the first visit moves after it (within the window).
    early = ret <= first_ts[o]
    ret[early] = np.minimum(
        first_ts[o][early] + 1 + rng.exponential(3 * 3600, int(early.sum())).astype(np.int64),
        end,
    )
    start[later] = ret
    source = first_src[owner]
    fresh = later & (rng.random(len(owner)) >= shape.source_stickiness)
    source[fresh] = rng.choice(shape.sources, int(fresh.sum()), p=shares)
    device = first_dev[owner]
    switch = later & (rng.random(len(owner)) >= DEVICE_STICKINESS)
    device[switch] = rng.choice(len(device_names), int(switch.sum()), p=device_p)
    length = np.ceil(
        rng.lognormal(math.log(shape.length_median_s), shape.length_sigma, len(owner))
    ).astype(np.int64)
    length[rng.random(len(owner)) < shape.bounce_share] = 0

    order_rows = np.argsort(start, kind="stable")
    n_sessions = len(owner)
    visits = pa.Table.from_arrays(
        [
            _id_column(first_user + owner[order_rows], shape),
            pa.DictionaryArray.from_arrays(
                pa.array(device[order_rows].astype(np.int32)), pa.array(device_names)
            ).cast(pa.string()),
            _timestamps(shape, start[order_rows]),
            _timestamps(shape, start[order_rows] + length[order_rows]),
            pa.array(source[order_rows] + 1),
            pa.array(np.arange(first_session, first_session + n_sessions, dtype=np.int64)),
        ],
        schema=VISITS_SCHEMA[shape.ids],
    )

    # Buyers: the first order after the first visit (rarely before), then repeat orders.
    buyer = np.flatnonzero(rng.random(users) < shape.buyer_share)
    b_first = first_ts[buyer]
    nb = len(buyer)
    same = rng.random(nb) < shape.same_session_share
    lag = np.where(
        same,
        rng.integers(60, 3600, nb),
        np.floor(_truncated_exp(rng, shape.lag_days * DAY, (end - b_first).astype(np.float64))),
    ).astype(np.int64)
    first_order_ts = np.minimum(b_first + lag, end)
    before = rng.random(nb) < shape.ordered_before_visit
    first_order_ts[before] = np.maximum(
        b_first[before] - rng.integers(600, 3 * DAY, before.sum()), 0
    )
    # Buyers without a session: user numbers past every block's, so never a visitor's id.
    lone = rng.binomial(nb, shape.buyers_without_session)
    lone_user = np.arange(lone) + (1 << 40) + first_user
    lone_ts = rng.integers(0, end + 1, lone)
    all_user = np.concatenate([first_user + buyer, lone_user])
    all_first = np.concatenate([first_order_ts, lone_ts])
    n_orders = 1 + _extra_counts(rng, shape.orders_per_buyer - 1, 1.0, len(all_user))
    o_owner = np.repeat(np.arange(len(all_user)), n_orders)
    o_rank = np.arange(len(o_owner)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    o_ts = all_first[o_owner]
    repeat = o_rank > 0
    o_ts[repeat] += np.floor(
        _truncated_exp(rng, shape.lifetime_days * DAY, (end - o_ts[repeat]).astype(np.float64))
    ).astype(np.int64)
    log_median = math.log(shape.revenue_median * 100)
    cents = np.maximum(1, np.round(rng.lognormal(log_median, shape.revenue_sigma, len(o_owner))))
    by_time = np.argsort(o_ts, kind="stable")
    orders = pa.Table.from_arrays(
        [
            _timestamps(shape, o_ts[by_time]),
            pa.array(cents[by_time] / 100),
            _id_column(all_user[o_owner][by_time], shape),
            pa.array(np.arange(first_order, first_order + len(o_owner), dtype=np.int64)),
        ],
        schema=ORDERS_SCHEMA[shape.ids],
    )
    return Block(visits, orders, users, nb + lone)


def _timestamps(shape: Shape, seconds: NDArray[np.int64]) -> pa.Array:
    base = calendar.timegm(shape.start.timetuple())
    return pa.array(seconds + base, type=pa.int64()).view(pa.timestamp("s"))


def costs_table(shape: Shape, users: int) -> pa.Table:
    """One row per source and day: spend ≈ target CAC × the source's expected new buyers."""
    rng = np.random.default_rng([shape.seed, 1 << 30])
    n_days, n_src = shape.days, shape.sources
    day = np.tile(np.arange(n_days), n_src)
    src = np.repeat(np.arange(n_src), n_days)
    daily_buyers = users * shape.buyer_share * source_shares(shape) / n_days
    weekday = WEEKDAY[(shape.start.weekday() + day) % 7]
    cents = np.round(
        shape.cac * 100 * daily_buyers[src] * weekday * rng.lognormal(0.0, 0.25, len(day))
    )
    gappy = rng.random(n_src) < shape.zero_cost_sources
    cents[gappy[src] & (rng.random(len(day)) < shape.zero_cost_day_share)] = 0
    dates = np.datetime64(shape.start.isoformat(), "D") + day
    return pa.Table.from_arrays(
        [pa.array(src + 1), pa.array(dates, type=pa.date32()), pa.array(cents / 100)],
        schema=COSTS_SCHEMA,
    )


def blocks(shape: Shape, sessions: int) -> Iterator[Block]:
    """The shape's users for about ``sessions`` sessions, block by block."""
    users = max(1, round(sessions / shape.sessions_per_user))
    per_block = max(1, int(BLOCK_SESSIONS / shape.sessions_per_user))
    first_session = first_order = 0
    for number, first in enumerate(range(0, users, per_block)):
        blk = draw_block(
            shape, first, min(per_block, users - first), first_session, first_order, number
        )
        first_session += blk.visits.num_rows
        first_order += blk.orders.num_rows
        yield blk


def write(shape: Shape, sessions: int, out: Path) -> dict[str, Any]:
    """Write visits, orders and costs for ``shape`` into ``out`` (reused if already there)."""
    facts_path = out / "facts.json"
    if facts_path.exists() and all((out / f"{t}.parquet").exists() for t in TABLES):
        facts: dict[str, Any] = json.loads(facts_path.read_text())
        if facts.get("parameters") == shape.params() and facts.get("target_sessions") == sessions:
            return {**facts, "reused": True}
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    visits = pq.ParquetWriter(out / "visits.parquet", VISITS_SCHEMA[shape.ids], compression="zstd")
    orders = pq.ParquetWriter(out / "orders.parquet", ORDERS_SCHEMA[shape.ids], compression="zstd")
    counts = {"sessions": 0, "orders": 0, "users": 0, "buyers": 0}
    try:
        for blk in blocks(shape, sessions):
            visits.write_table(blk.visits)
            orders.write_table(blk.orders)
            counts["sessions"] += blk.visits.num_rows
            counts["orders"] += blk.orders.num_rows
            counts["users"] += blk.users
            counts["buyers"] += blk.buyers
    finally:
        visits.close()
        orders.close()
    costs = costs_table(shape, counts["users"])
    pq.write_table(costs, out / "costs.parquet", compression="zstd")
    facts = {
        "shape": shape.name,
        "target_sessions": sessions,
        "rows": {"visits": counts["sessions"], "orders": counts["orders"], "costs": costs.num_rows},
        "users": counts["users"],
        "buyers": counts["buyers"],
        "sessions_per_user": counts["sessions"] / counts["users"],
        "generation_s": round(time.perf_counter() - t0, 2),
        "parameters": shape.params(),
    }
    facts_path.write_text(json.dumps(facts, indent=1))
    return {**facts, "reused": False}


TABLES = ("visits", "orders", "costs")


def main() -> None:
    """Command line: write one shape's files and print their facts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), required=True)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="target session count")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, help="override the shape's seed")
    args = parser.parse_args()
    shape = SHAPES[args.shape]
    if args.seed is not None:
        shape = dataclasses.replace(shape, seed=args.seed)
    facts = write(shape, args.sessions, args.out)
    print(json.dumps({k: v for k, v in facts.items() if k != "parameters"}))


if __name__ == "__main__":
    main()
