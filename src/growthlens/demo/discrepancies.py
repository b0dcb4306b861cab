"""Planted reconciliation discrepancies between two systems' copies of the conversions.

Plain NumPy on parallel arrays (key, user, ts, revenue, market), shared by the Company X
database (:mod:`growthlens.demo.challenge`) and the main demo's reference conversions
(:mod:`growthlens.demo.journeys`). The orders side is the base rows (plus, where
allowed, duplicated keys); every other discrepancy is planted in the reference, so the
orders stay consistent with the journeys built on them.

The classes follow DESIGN §4 "Reconciliation" and are disjoint: a key carries one
planted class at most, and rows of the outage days carry none but the outage, so every
count is exact (docs/demo.md, "Reconciliation classes").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DAY_SECONDS = 86_400

FIELD_CLASSES = (
    "revenue_mismatch",
    "near_miss",
    "date_mismatch",
    "user_mismatch",
    "market_mismatch",
)
"""Classes planted by changing one field of the reference's copy of a key."""

CLASSES = (
    "missing_in_orders",
    "missing_in_reference",
    "duplicated_orders",
    "duplicated_reference",
    *FIELD_CLASSES,
)
"""Every planted class except the outage (in planting order)."""

MISMATCH_MIN = 0.05  # a revenue mismatch differs by at least this (well above the 0.01 tolerance)
NEAR_MISS_STEP = 0.001  # a near miss differs by 1..9 of these: strictly inside (0, 0.01)


@dataclass(frozen=True)
class Rows:
    """One system's conversion rows as parallel arrays.

    Attributes:
        key: the conversion id (an integer the caller maps to its id format).
        user: the user (any dtype; compared for equality only).
        ts: naive epoch seconds (the day is ``ts // 86400``).
        revenue: revenue.
        market: market index, or ``None`` when the rows have no market.
    """

    key: NDArray[np.int64]
    user: NDArray[Any]
    ts: NDArray[np.int64]
    revenue: NDArray[np.float64]
    market: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.key)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> Rows:
        """The rows at ``index`` (positions or a mask)."""
        market = None if self.market is None else self.market[index]
        return Rows(self.key[index], self.user[index], self.ts[index], self.revenue[index], market)

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        """The parts one after the other (all with or all without a market)."""
        market = None
        if parts[0].market is not None:
            market = np.concatenate([p.market for p in parts if p.market is not None])
        return Rows(
            np.concatenate([p.key for p in parts]),
            np.concatenate([p.user for p in parts]),
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.revenue for p in parts]),
            market,
        )


@dataclass(frozen=True)
class Outage:
    """A run of consecutive days on which most reference rows are missing in the orders.

    Attributes:
        first_day: epoch day (``ts // 86400``) of the run's first day.
        days: length of the run.
        share: share of the reference rows of each of those days missing in the orders
            (at least this share: counts are rounded up).
    """

    first_day: int
    days: int
    share: float


def discrepancy_targets(rows: int, *, markets: bool, order_duplicates: bool) -> dict[str, int]:
    """Planted keys per class for about ``rows`` conversions (the outage comes on top)."""
    return {
        "missing_in_orders": max(3, rows // 100),
        "missing_in_reference": max(3, rows // 100),
        "duplicated_orders": max(2, rows // 400) if order_duplicates else 0,
        "duplicated_reference": max(2, rows // 400),
        "revenue_mismatch": max(3, rows // 80),
        "near_miss": max(3, rows // 150),
        "date_mismatch": max(2, rows // 200),
        "user_mismatch": max(2, rows // 250),
        "market_mismatch": max(2, rows // 250) if markets else 0,
    }


@dataclass(frozen=True)
class Planted:
    """The two sides after planting, and what each class holds.

    Attributes:
        orders: the orders side: the base rows, minus the rows missing in it, plus
            duplicate rows.
        reference: the reference side: the base rows with the field mismatches, minus
            the rows missing in it, plus the new reference-only rows and duplicate rows.
        changed: the base rows with the reference's fields (one row per base row).
        positions: class → positions in the base rows of its keys (for the classes
            planted on base rows).
        only_in_reference: the reference rows missing in the orders outside the outage.
        outage: the reference rows missing in the orders on the outage days.
        extra_orders: the duplicate rows added to the orders.
        extra_reference: the duplicate rows added to the reference.
        next_key: the first key not used.
    """

    orders: Rows
    reference: Rows
    changed: Rows
    positions: Mapping[str, NDArray[np.int64]]
    only_in_reference: Rows
    outage: Rows
    extra_orders: Rows
    extra_reference: Rows
    next_key: int

    def keys(self, name: str) -> NDArray[np.int64]:
        """The sorted keys of a class (``outage`` too)."""
        if name == "missing_in_orders":
            return np.sort(self.only_in_reference.key)
        if name == "outage":
            return np.sort(self.outage.key)
        if name.startswith("duplicated_"):
            extra = self.extra_orders if name.endswith("orders") else self.extra_reference
            return np.unique(extra.key)
        return np.sort(self.changed.key[self.positions[name]])


def plant_discrepancies(
    rng: np.random.Generator,
    base: Rows,
    targets: Mapping[str, int],
    *,
    eligible: NDArray[np.bool_],
    outage: Outage,
    day_range: tuple[int, int],
    orders_fixed: bool,
    next_key: int,
    markets: NDArray[np.int64] | None = None,
) -> Planted:
    """Plant every class of ``targets`` (as far as there are candidates) between two copies.

    Args:
        rng: the random stream.
        base: the true conversions, one row per key.
        targets: keys per class (:func:`discrepancy_targets`); a class short of
            candidates gets fewer (the result holds what was planted).
        eligible: base rows that may carry a discrepancy (the caller protects, e.g.,
            zero-revenue rows and rows that pin the data window).
        outage: the outage run.
        day_range: first and last epoch day a shifted, duplicated or new row may fall on.
        orders_fixed: the orders must stay the base rows (the main demo's sales orders):
            rows missing in the orders are then new reference rows (keys from
            ``next_key`` on) and ``duplicated_orders`` is not planted. Otherwise they are
            base rows dropped from the orders.
        next_key: the first key free for new rows.
        markets: the market indexes a market mismatch moves between (rows of other
            markets, e.g. one with a currency error, are left alone); ``None``: all.

    Returns:
        The two sides and the planted classes.
    """
    n = len(base)
    day = base.ts // DAY_SECONDS
    lo, hi = day_range
    outage_days = np.arange(outage.first_day, outage.first_day + outage.days, dtype=np.int64)
    on_outage = np.isin(day, outage_days)
    positions: dict[str, NDArray[np.int64]] = {}
    drop_orders = np.zeros(n, dtype=bool)
    drop_reference = np.zeros(n, dtype=bool)
    donors = np.flatnonzero(eligible & ~on_outage)

    def new_rows(days: NDArray[np.int64]) -> Rows:
        # Orders the orders side lost: a donor row's user, time of day and revenue.
        nonlocal next_key
        if len(donors) == 0:
            days = days[:0]
        rows = base.take(rng.choice(donors, size=len(days)) if len(days) else donors[:0])
        key = np.arange(next_key, next_key + len(days), dtype=np.int64)
        next_key += len(days)
        ts = days * DAY_SECONDS + rows.ts % DAY_SECONDS
        return Rows(key, rows.user, ts, rows.revenue, rows.market)

    # The outage: at least `share` of each day's reference rows are missing in the orders.
    if orders_fixed:
        per_day = np.array([np.sum(on_outage & (day == d)) for d in outage_days], dtype=np.int64)
        count = np.ceil(per_day * outage.share / (1 - outage.share)).astype(np.int64)
        lost = new_rows(np.repeat(outage_days, count))
    else:
        picks = []
        for d in outage_days:
            today = np.flatnonzero(on_outage & (day == d))
            droppable = today[eligible[today]]
            size = min(len(droppable), int(np.ceil(len(today) * outage.share)))
            picks.append(rng.choice(droppable, size=size, replace=False))
        lost_at = np.concatenate([np.empty(0, np.int64), *picks]).astype(np.int64)
        drop_orders[lost_at] = True
        lost = base.take(lost_at)

    # Every other class takes its rows from one shuffled pool: the classes are disjoint.
    pool = rng.permutation(np.flatnonzero(eligible & ~on_outage))
    used = np.zeros(n, dtype=bool)

    def take(name: str, ok: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        free = pool[~used[pool]] if ok is None else pool[~used[pool] & ok[pool]]
        chosen: NDArray[np.int64] = free[: targets.get(name, 0)]
        used[chosen] = True
        positions[name] = chosen
        return chosen

    # Missing on one side, scattered over the days outside the outage.
    if orders_fixed:
        open_days = np.setdiff1d(np.arange(lo, hi + 1, dtype=np.int64), outage_days)
        wanted = targets.get("missing_in_orders", 0)
        only_in_reference = new_rows(rng.choice(open_days, size=wanted))
    else:
        at = take("missing_in_orders")
        drop_orders[at] = True
        only_in_reference = base.take(at)
    drop_reference[take("missing_in_reference")] = True

    # Duplicated keys: the same row again 1 (for the first key also 2) days later, so
    # the first row per key (the earliest date) is the original one.
    # (Shifted and repeated rows stay off the outage days, whose rows are the outage's.)
    room = (day + 2 <= hi) & ~np.isin(day + 1, outage_days) & ~np.isin(day + 2, outage_days)
    extras: dict[str, Rows] = {}
    for side in ("orders", "reference"):
        name = f"duplicated_{side}"
        if side == "orders" and orders_fixed:
            chosen = positions[name] = np.empty(0, np.int64)
        else:
            chosen = take(name, room)
        again = np.concatenate([chosen, chosen[:1]])
        later = np.concatenate([np.ones(len(chosen), np.int64), np.full(len(chosen[:1]), 2)])
        rows = base.take(again)
        extras[side] = Rows(
            rows.key, rows.user, rows.ts + later * DAY_SECONDS, rows.revenue, rows.market
        )

    # Field mismatches: the reference's copy of the key differs in one field.
    user, ts, revenue = base.user.copy(), base.ts.copy(), base.revenue.copy()
    market = None if base.market is None else base.market.copy()

    chosen = take("revenue_mismatch")
    r = base.revenue[chosen]
    diff = np.maximum(MISMATCH_MIN, np.round(r * rng.uniform(0.1, 0.5, len(chosen)), 2))
    down = (rng.random(len(chosen)) < 0.5) & (r - diff >= 0.01)
    revenue[chosen] = np.round(np.where(down, r - diff, r + diff), 2)

    chosen = take("near_miss")
    r = base.revenue[chosen]
    step = rng.integers(1, 10, len(chosen)) * NEAR_MISS_STEP
    down = (rng.random(len(chosen)) < 0.5) & (r - step > 0)
    revenue[chosen] = np.round(np.where(down, r - step, r + step), 3)

    shift = rng.choice(np.array([-3, -2, -1, 1, 2, 3], dtype=np.int64), size=n)
    moved = day + shift
    chosen = take("date_mismatch", (moved >= lo) & (moved <= hi) & ~np.isin(moved, outage_days))
    ts[chosen] += shift[chosen] * DAY_SECONDS

    # Another base row's user (a distinct user exists unless every row has the same one).
    distinct = len(np.unique(base.user)) > 1
    chosen = take("user_mismatch", np.full(n, distinct))
    other = base.user[rng.integers(0, n, len(chosen))]
    while len(chosen) and (same := other == base.user[chosen]).any():
        other[same] = base.user[rng.integers(0, n, int(same.sum()))]
    user[chosen] = other

    if market is not None and base.market is not None:
        allowed = np.unique(base.market if markets is None else np.asarray(markets))
        ok = np.isin(base.market, allowed) & (len(allowed) > 1)
        chosen = take("market_mismatch", ok)
        # Another allowed market: a step of 1 .. len − 1 along the allowed list.
        at = np.searchsorted(allowed, base.market[chosen])
        hop = rng.integers(1, max(2, len(allowed)), len(chosen))
        market[chosen] = allowed[(at + hop) % len(allowed)]
    else:
        positions["market_mismatch"] = np.empty(0, np.int64)

    changed = Rows(base.key, user, ts, revenue, market)
    orders = Rows.concat([base.take(~drop_orders), extras["orders"]])
    # Rows dropped from the orders are in the reference already; new ones are added.
    added = [only_in_reference, lost] if orders_fixed else []
    parts = [changed.take(~drop_reference), *added, extras["reference"]]
    return Planted(
        orders=orders,
        reference=Rows.concat(parts),
        changed=changed,
        positions=positions,
        only_in_reference=only_in_reference,
        outage=lost,
        extra_orders=extras["orders"],
        extra_reference=extras["reference"],
        next_key=next_key,
    )


def day_label(day: int) -> str:
    """The ISO date of an epoch day."""
    return str(np.datetime64(int(day), "D"))


def _by_day(rows: Rows) -> dict[str, int]:
    days, counts = np.unique(rows.ts // DAY_SECONDS, return_counts=True)
    return {day_label(int(d)): int(c) for d, c in zip(days, counts, strict=True)}


def summarise(planted: Planted, base: Rows, outage: Outage) -> dict[str, Any]:
    """The planted classes' exact counts and revenue effects (a part of the truth).

    Args:
        planted: what :func:`plant_discrepancies` returned for ``base``.
        base: the base rows it was given.
        outage: the outage it was given.

    Returns:
        A dict of counts and sums (see docs/demo.md, "Reconciliation classes");
        :func:`merge` adds parts up.
    """
    pos = planted.positions
    orders, reference, changed = planted.orders, planted.reference, planted.changed
    missing_ref = base.take(pos["missing_in_reference"])
    diffs = base.revenue[pos["revenue_mismatch"]] - changed.revenue[pos["revenue_mismatch"]]
    near = base.revenue[pos["near_miss"]] - changed.revenue[pos["near_miss"]]
    missing_in_orders = Rows.concat([planted.only_in_reference, planted.outage])
    orders_keys = len(np.unique(orders.key))
    reference_keys = len(np.unique(reference.key))
    matched = orders_keys - len(missing_ref)
    differing = sum(len(pos[name]) for name in FIELD_CLASSES)
    outage_days = outage.first_day + np.arange(outage.days)
    on_outage = np.isin(reference.ts // DAY_SECONDS, outage_days)

    def duplicated(extra: Rows) -> dict[str, Any]:
        return {
            "keys": len(np.unique(extra.key)),
            "extra_rows": len(extra),
            "extra_revenue": float(extra.revenue.sum()),
        }

    def field(name: str) -> dict[str, Any]:
        return {"rows": len(pos[name]), "revenue": float(changed.revenue[pos[name]].sum())}

    return {
        "orders_rows": len(orders),
        "reference_rows": len(reference),
        "orders_keys": orders_keys,
        "reference_keys": reference_keys,
        "matched": matched,
        "clean": matched - differing,
        "missing_in_orders": {
            "rows": len(planted.only_in_reference),
            "revenue": float(planted.only_in_reference.revenue.sum()),
        },
        "outage": {
            "rows": len(planted.outage),
            "revenue": float(planted.outage.revenue.sum()),
            "reference_rows": int(on_outage.sum()),
        },
        "missing_in_reference": {
            "rows": len(missing_ref),
            "revenue": float(missing_ref.revenue.sum()),
        },
        "missing_in_orders_by_day": _by_day(missing_in_orders),
        "missing_in_reference_by_day": _by_day(missing_ref),
        "duplicated_orders": duplicated(planted.extra_orders),
        "duplicated_reference": duplicated(planted.extra_reference),
        "revenue_mismatch": {
            "rows": len(diffs),
            "at_stake": float(np.abs(diffs).sum()),
            "net": float(diffs.sum()),
        },
        "near_miss": {"rows": len(near), "abs_difference": float(np.abs(near).sum())},
        "date_mismatch": field("date_mismatch"),
        "user_mismatch": field("user_mismatch"),
        "market_mismatch": field("market_mismatch"),
        "zero_revenue_orders": len(np.unique(orders.key[orders.revenue == 0])),
        "zero_revenue_reference": len(np.unique(reference.key[reference.revenue == 0])),
        "revenue_orders": float(orders.revenue.sum()),
        "revenue_reference": float(reference.revenue.sum()),
    }


def merge(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up :func:`summarise` parts (e.g. one per seeding block)."""
    out: dict[str, Any] = {}
    for part in parts:
        for name, value in part.items():
            if isinstance(value, Mapping):
                inner = out.setdefault(name, {})
                for field, amount in value.items():
                    inner[field] = inner.get(field, 0) + amount
            else:
                out[name] = out.get(name, 0) + value
    for name in ("missing_in_orders_by_day", "missing_in_reference_by_day"):
        out[name] = dict(sorted(out.get(name, {}).items()))
    return out
