"""The journeys domain: touchpoints of the sales orders and a reference copy of the orders.

:func:`write_journeys` writes ``touchpoints`` (``conversion_id`` = the orders' ``Order
Id``, ``session_id`` = the visits' ``Session Id``, ``weight``: IHC-like shares) and
``conversions_reference`` (a second system's copy of the orders, in the orders' layout,
with planted discrepancies from :mod:`growthlens.demo.discrepancies`). The sales files
stay as they are; the planted truths are the ``journeys_`` keys of ``truth.json``.

A journey is the user's sessions starting in the 30 days up to the order (inclusive),
after the user's previous order (DESIGN §4 "Attribution"), so building journeys from the
sessions gives back the touchpoints, except the planted later sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from growthlens.demo.discrepancies import (
    Outage,
    Rows,
    day_label,
    discrepancy_targets,
    merge,
    plant_discrepancies,
    summarise,
)
from growthlens.demo.sales import ORDERS_SCHEMA, SalesBlock, block_groups
from growthlens.demo.world import DAY_SECONDS, Calendar, Stream, TruthSection, World
from growthlens.demo.writer import Format, TableWriter

LOOKBACK_S = 30 * DAY_SECONDS
EDGE_SHAPE = 2.0  # Gamma shape of the first and last touch's share (1 between)
OUTAGE_DAYS = 3
OUTAGE_SHARE = 0.8
WEIGHTS_OFF_SCALE = ((0.6, 0.9), (1.1, 1.4))  # a planted journey's shares × one of these

_TOUCHPOINTS_SCHEMA = pa.schema(
    [("conversion_id", pa.int64()), ("session_id", pa.int64()), ("weight", pa.float64())]
)
_SHIFT = np.int64(2**32)  # composite sort key: owner × 2**32 + seconds since the window


@dataclass(frozen=True)
class JourneysTruth(TruthSection):
    """The planted values of the touchpoints and the reference conversions.

    Attributes:
        journeys_lookback_s: the journeys' lookback (30 days).
        journeys_totals: ``conversions`` (order rows), ``journeys`` (orders with a
            touch), ``touchpoints`` (rows), ``without_touch`` (orders with none).
        journeys_weights_off: journeys whose weights do not sum to 1 (``journeys``) and
            ``gained``: Σ(weight sum − 1) over them.
        journeys_after_conversion: journeys holding a session that starts after the
            order (``journeys``, ``sessions``).
        journeys_reconciliation: orders vs conversions_reference, every class's exact
            count and revenue effect in the files (docs/demo.md, "Reconciliation
            classes"), and ``out_of_window_matched``: matched keys after the window,
            which the load excludes from both sides.
        journeys_outage: the outage run: ``first``, ``last``, ``days``, ``share``.
    """

    journeys_lookback_s: int
    journeys_totals: Mapping[str, int]
    journeys_weights_off: Mapping[str, Any]
    journeys_after_conversion: Mapping[str, int]
    journeys_reconciliation: Mapping[str, Any]
    journeys_outage: Mapping[str, Any]


def outage_first_day(cal: Calendar) -> int:
    """Day offset of the outage's first day: the 10th of the month at 8/12 of the window.

    2018-02-10 .. 2018-02-12 for 12 months.
    """
    month = min(cal.months - 1, max(1, round(cal.months * 8 / 12)))
    return min(int(cal.month_first_day[month]) + 9, cal.n_days - OUTAGE_DAYS - 3)


@dataclass(frozen=True)
class _Journeys:
    order: NDArray[np.int64]  # order index in the block, per touch
    session: NDArray[np.int64]  # session index in the block, per touch
    weight: NDArray[np.float64]
    touches: NDArray[np.int64]  # touches per order
    off: int
    gained: float
    after: int


def _journeys(
    blk: SalesBlock,
    cal: Calendar,
    rng: np.random.Generator,
    *,
    candidate: NDArray[np.bool_],
    weights_off: int,
    after: int,
) -> _Journeys:
    """One block's journeys, with planted problems on ``candidate`` orders."""
    s_key = blk.s_owner * _SHIFT + (blk.s_start - cal.base)
    s_sorted = np.argsort(s_key, kind="stable")
    s_key = s_key[s_sorted]
    n = len(blk.o_ts)
    o_sorted = np.lexsort((np.arange(n), blk.o_ts, blk.o_owner))
    owner, ts = blk.o_owner[o_sorted], blk.o_ts[o_sorted]
    same_user = np.r_[False, owner[1:] == owner[:-1]]
    prev = np.where(same_user, np.r_[0, ts[:-1]], np.iinfo(np.int64).min // 2)
    base = owner * _SHIFT - cal.base
    lo = np.searchsorted(s_key, base + np.maximum(ts - LOOKBACK_S, prev + 1), side="left")
    hi = np.searchsorted(s_key, base + ts, side="right")
    count = np.maximum(hi - lo, 0)
    order = np.repeat(o_sorted, count)
    first = np.repeat(lo, count)
    within = np.arange(len(order)) - np.repeat(np.cumsum(count) - count, count)
    session = s_sorted[first + within]

    # Planted: a later session joins the journey (the user's first session after the
    # order, when no journey holds it), and journeys whose shares are scaled off 1.
    in_journey = np.zeros(len(blk.s_start), dtype=bool)
    in_journey[session] = True
    nxt = np.minimum(hi, len(s_key) - 1)
    later = s_sorted[nxt]
    ok = (hi < len(s_key)) & (blk.s_owner[later] == owner) & ~in_journey[later]
    ok &= candidate[o_sorted] & (count > 0)
    pool = rng.permutation(np.flatnonzero(ok))
    _, first_use = np.unique(later[pool], return_index=True)
    pool = pool[np.sort(first_use)][:after]  # one session joins one journey at most
    order = np.concatenate([order, o_sorted[pool]])
    session = np.concatenate([session, later[pool]])
    touches = np.bincount(order, minlength=n)

    rest = np.flatnonzero(candidate & (touches > 0) & ~np.isin(np.arange(n), o_sorted[pool]))
    off = rng.permutation(rest)[:weights_off]
    # Shares: Gamma draws over their journey's sum (shape 2 for the first and last touch).
    by = np.lexsort((session, blk.s_start[session], order))
    order, session = order[by], session[by]
    starts = np.r_[True, order[1:] != order[:-1]]
    ends = np.r_[order[1:] != order[:-1], True]
    draw = rng.gamma(np.where(starts | ends, EDGE_SHAPE, 1.0))
    group = np.cumsum(starts) - 1
    weight = draw / np.bincount(group, weights=draw)[group]
    scale = np.ones(n)
    low, high = WEIGHTS_OFF_SCALE
    pick = rng.random(len(off)) < 0.5
    scale[off] = np.where(pick, rng.uniform(*low, len(off)), rng.uniform(*high, len(off)))
    weight = weight * scale[order]
    sums = np.bincount(order, weights=weight, minlength=n)
    return _Journeys(
        order, session, weight, touches, len(off), float((sums[off] - 1).sum()), len(pool)
    )


def write_journeys(
    world: World, folder: Path, *, format: Format, chunk_users: int, orders: int
) -> tuple[dict[str, Path], JourneysTruth]:
    """Write touchpoints and conversions_reference into ``folder``; return their truths.

    Args:
        world: the seed, users and calendar.
        folder: an existing folder (the sales files are not touched).
        format: ``"csv"`` or ``"parquet"``.
        chunk_users: users held in memory per write (rounded up to whole seeding blocks).
        orders: order rows of the sales domain (new reference-only rows get ids after
            them).

    Returns:
        ``{"touchpoints": …, "conversions_reference": …}`` paths, and the truth.
    """
    cal = world.calendar
    sizes = world.block_sizes
    targets = discrepancy_targets(orders, markets=False, order_duplicates=False)
    targets["weights_off"] = max(3, orders // 500)
    targets["after_conversion"] = max(3, orders // 500)
    share = np.asarray(sizes) / world.users
    quota_rng = world.rng(Stream.JOURNEYS_QUOTAS)
    quotas = {name: quota_rng.multinomial(count, share) for name, count in targets.items()}
    day0 = cal.base // DAY_SECONDS
    first = outage_first_day(cal)
    outage = Outage(day0 + first, OUTAGE_DAYS, OUTAGE_SHARE)

    paths = {name: folder / f"{name}.{format}" for name in ("touchpoints", "conversions_reference")}
    touch_writer = TableWriter(paths["touchpoints"], _TOUCHPOINTS_SCHEMA, format)
    ref_writer = TableWriter(paths["conversions_reference"], ORDERS_SCHEMA, format)
    parts: list[dict[str, Any]] = []
    totals = {"conversions": 0, "journeys": 0, "touchpoints": 0, "without_touch": 0}
    off = after = out_of_window = 0
    gained = 0.0
    session_offset = order_offset = 0
    next_key = orders + 1
    b = 0
    try:
        for blocks in block_groups(world, chunk_users):
            touch_tables, ref_tables = [], []
            for blk in blocks:
                rng = world.rng(Stream.JOURNEYS_BLOCKS, b)
                quota = {name: int(q[b]) for name, q in quotas.items()}
                n = len(blk.o_ts)
                key = order_offset + 1 + np.arange(n, dtype=np.int64)
                base = Rows(key, blk.uid[blk.o_owner], blk.o_ts, blk.o_revenue)
                day = cal.day_of(blk.o_ts)
                eligible = (blk.o_revenue > 0) & (day >= 1) & (day <= cal.n_days - 1)
                planted = plant_discrepancies(
                    rng,
                    base,
                    quota,
                    eligible=eligible,
                    outage=outage,
                    day_range=(day0 + 1, day0 + cal.n_days - 1),
                    orders_fixed=True,
                    next_key=next_key,
                )
                next_key = planted.next_key
                parts.append(summarise(planted, base, outage))
                planted_rows = np.zeros(n, dtype=bool)
                for at in planted.positions.values():
                    planted_rows[at] = True
                candidate = (day >= 0) & (day <= cal.n_days - 1) & ~planted_rows
                j = _journeys(
                    blk,
                    cal,
                    rng,
                    candidate=candidate,
                    weights_off=quota["weights_off"],
                    after=quota["after_conversion"],
                )
                off, after, gained = off + j.off, after + j.after, gained + j.gained
                out_of_window += int(np.sum(day > cal.n_days - 1))
                totals["conversions"] += n
                totals["journeys"] += int(np.sum(j.touches > 0))
                totals["touchpoints"] += len(j.order)
                totals["without_touch"] += int(np.sum(j.touches == 0))
                touch_tables.append(
                    pa.Table.from_arrays(
                        [
                            pa.array(key[j.order]),
                            pa.array(session_offset + 1 + j.session),
                            pa.array(j.weight),
                        ],
                        schema=_TOUCHPOINTS_SCHEMA,
                    )
                )
                ref = planted.reference
                ref_tables.append(
                    pa.Table.from_arrays(
                        [
                            pa.array(ref.ts.astype("datetime64[s]"), type=pa.timestamp("s")),
                            pa.array(ref.revenue),
                            pa.array(ref.user, type=pa.uint64()),
                            pa.array(ref.key),
                        ],
                        schema=ORDERS_SCHEMA,
                    )
                )
                session_offset += len(blk.s_start)
                order_offset += n
                b += 1
            touch_writer.write(pa.concat_tables(touch_tables))
            ref_writer.write(pa.concat_tables(ref_tables))
    finally:
        touch_writer.close()
        ref_writer.close()

    reconciliation = merge(parts)
    # Orders after the window (the lone late order) are clean matches in the files; the
    # load excludes them from both sides.
    reconciliation["out_of_window_matched"] = out_of_window
    return paths, JourneysTruth(
        journeys_lookback_s=LOOKBACK_S,
        journeys_totals=totals,
        journeys_weights_off={"journeys": off, "gained": gained},
        journeys_after_conversion={"journeys": after, "sessions": after},
        journeys_reconciliation=reconciliation,
        journeys_outage={
            "first": day_label(day0 + first),
            "last": day_label(day0 + first + OUTAGE_DAYS - 1),
            "days": OUTAGE_DAYS,
            "share": OUTAGE_SHARE,
        },
    )
