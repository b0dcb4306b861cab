"""Plain-Python reconciliation, written straight from docs/reconcile.md.

Rows are dicts with ``order_id`` (or None), ``user_id``, ``ts`` (datetime), ``revenue``
and optional extra columns. Loops and sorts over lists; slow, obviously right, for small
tables.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

Row = dict[str, Any]


def _first_rows(rows: list[Row], extras: list[str]) -> tuple[dict[str, Row], list[Row]]:
    """First row per key by (ts, then the other columns as text); the extra rows."""
    by_key: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row["order_id"] is not None:
            by_key[str(row["order_id"])].append(row)
    firsts, extra = {}, []
    for key, group in by_key.items():
        group = sorted(
            group,
            key=lambda r: (
                r["ts"],
                str(r["user_id"]),
                repr(float(r["revenue"])),
                *[str(r[c]) for c in extras],
            ),
        )
        firsts[key] = group[0]
        extra.extend(group[1:])
    return firsts, extra


def _diff(a: float, b: float) -> float:
    return round(abs(a - b), 9)


def _has_time(rows: list[Row]) -> bool:
    return any(r["ts"] != datetime(r["ts"].year, r["ts"].month, r["ts"].day) for r in rows)


def reconcile(
    orders: list[Row],
    reference: list[Row],
    *,
    tolerance: float = 0.01,
    extras: tuple[str, ...] = ("market",),
    keyless: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """Class → (rows, revenue) plus a few totals, as gl.reconcile defines them."""
    fo, extra_o = _first_rows(orders, list(extras))
    fr, extra_r = _first_rows(reference, list(extras))
    by_day = _has_time(orders) and _has_time(reference)
    out: dict[str, Any] = {}
    both = sorted(set(fo) & set(fr))
    out["matched"] = (len(both), sum(fr[k]["revenue"] for k in both))
    mism: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for k in both:
        a, b = fo[k], fr[k]
        d = _diff(a["revenue"], b["revenue"])
        if d > tolerance:
            mism["revenue_mismatch"].append((1, d))
        elif d > 0:
            mism["near_miss"].append((1, d))
        same_time = a["ts"] == b["ts"] if by_day else a["ts"].date() == b["ts"].date()
        if not same_time:
            mism["date_mismatch"].append((1, b["revenue"]))
        if a["user_id"] != b["user_id"]:
            mism["user_mismatch"].append((1, b["revenue"]))
        for c in extras:
            if a.get(c) != b.get(c):
                mism[f"{c}_mismatch"].append((1, b["revenue"]))
    names = ["revenue_mismatch", "near_miss", "date_mismatch", "user_mismatch"]
    for name in names + [f"{c}_mismatch" for c in extras]:
        out[name] = (len(mism[name]), sum(v for _, v in mism[name]))
    # Rows with no partner by key: keys on one side only, rows without a key.
    left_o = [fo[k] for k in sorted(set(fo) - set(fr))] + [
        r for r in orders if r["order_id"] is None
    ]
    left_r = [fr[k] for k in sorted(set(fr) - set(fo))] + [
        r for r in reference if r["order_id"] is None
    ]
    if keyless is not None:
        pairs = _greedy(left_o, left_r, *keyless)
        out["matched_without_key"] = (len(pairs), sum(left_r[j]["revenue"] for _, j in pairs))
        used_o, used_r = {i for i, _ in pairs}, {j for _, j in pairs}
        left_o = [r for i, r in enumerate(left_o) if i not in used_o]
        left_r = [r for j, r in enumerate(left_r) if j not in used_r]
    out["missing_in_orders"] = (len(left_r), sum(r["revenue"] for r in left_r))
    out["missing_in_reference"] = (len(left_o), sum(r["revenue"] for r in left_o))
    out["duplicated_in_orders"] = (len(extra_o), sum(r["revenue"] for r in extra_o))
    out["duplicated_in_reference"] = (len(extra_r), sum(r["revenue"] for r in extra_r))
    for side, rows in (("orders", orders), ("reference", reference)):
        keys = {str(r["order_id"]) for r in rows if r["revenue"] == 0 and r["order_id"] is not None}
        loose = sum(1 for r in rows if r["revenue"] == 0 and r["order_id"] is None)
        out[f"zero_revenue_{side}"] = (len(keys) + loose, 0.0)
    return out


def _greedy(
    left_o: list[Row], left_r: list[Row], time_s: int, revenue: float
) -> list[tuple[int, int]]:
    """Candidate pairs sorted by (|Δt|, orders key, reference key); taken greedily."""
    cands = []
    for i, a in enumerate(left_o):
        for j, b in enumerate(left_r):
            if a["user_id"] != b["user_id"]:
                continue
            dt = abs((a["ts"] - b["ts"]).total_seconds())
            if dt <= time_s and _diff(a["revenue"], b["revenue"]) <= revenue:
                ko, kr = a["order_id"], b["order_id"]
                cands.append((dt, ko is None, str(ko), i, kr is None, str(kr), j))
    cands.sort()
    used_o: set[int] = set()
    used_r: set[int] = set()
    pairs = []
    for c in cands:
        i, j = c[3], c[6]
        if i not in used_o and j not in used_r:
            used_o.add(i)
            used_r.add(j)
            pairs.append((i, j))
    return pairs
