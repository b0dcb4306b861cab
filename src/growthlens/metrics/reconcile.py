"""Reconciliation of orders against conversions_reference, in the engine (docs/reconcile.md).

Both tables are read as the Dataset holds them. Per side, rows with a key are ranked per
key by the tie rule (earliest timestamp, then the remaining columns as text): the first
row per key takes part in the matching, the others are duplicates. Rows without a key
can only be matched without it. The first rows of both sides are joined on the key
(full outer join), and one aggregate query counts every class: matched keys, keys on one
side only, revenue mismatches and near misses, and a mismatch per compared column.

With ``match_without_key``, the rows left over on each side (keys on one side only and
rows without a key) are paired one to one: same user, timestamps at most ``time_s``
seconds apart, revenues at most ``revenue`` apart. Pairs are taken closest in time first,
ties by the key as text (orders' first, then the reference's), by repeatedly matching the
pairs that are each other's best candidate (window functions), which gives the same
pairs as taking them greedily in that order.

Only counts, sums, per-day totals and at most :data:`EXAMPLES` example keys per class
leave the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from growthlens.data.dataset import Dataset
from growthlens.engine import reused
from growthlens.metrics.fetch import fetch

EXAMPLES = 5
"""Example keys kept per class (the first in text order)."""
DECIMALS = 9
"""Revenue differences are rounded to this many decimals before the tolerance is applied,
so that binary noise (100.01 − 100.00 = 0.010000000000005) does not turn a difference of
exactly the tolerance into a mismatch."""
SIDES = ("orders", "reference")
TABLE_OF = {"orders": "orders", "reference": "conversions_reference"}
Precision = Literal["day", "second"]


@dataclass(frozen=True)
class KeylessRule:
    """The key-less match: same user, ``|Δt| ≤ time_s`` seconds, ``|Δrevenue| ≤ revenue``."""

    time_s: int
    revenue: float


@dataclass(frozen=True)
class Reconciliation:
    """What the engine returned for one reconciliation.

    Attributes:
        totals: one row of counts and sums (see :func:`reconcile_frames`).
        mismatches: per compared column: ``column``, ``rows``, ``revenue`` (Σ|difference|
            for revenue, the reference revenue of the rows otherwise).
        examples: ``class``, ``key``, ``orders_value``, ``reference_value``, ``date``
            (at most :data:`EXAMPLES` rows per class; values as text).
        missing_by_day: ``date``, ``missing_in`` (``orders``: reference rows with no
            partner; ``reference``: orders rows with no partner), ``base`` (rows of the
            side that has them, that day), ``missing``, ``revenue``; every day between the
            first and the last date of either side.
        precision: how timestamps were compared (``day`` when either side has no time of
            day, else ``second``).
        columns: the compared columns (canonical names).
    """

    totals: dict[str, Any]
    mismatches: pd.DataFrame
    examples: pd.DataFrame
    missing_by_day: pd.DataFrame
    precision: Precision
    columns: tuple[str, ...]


def shared_columns(ds: Dataset, key: str | None) -> tuple[str, ...]:
    """The columns both tables have, canonical ones first (the default comparison)."""
    o, r = ds.table("orders").columns, ds.table("conversions_reference").columns
    first = ["revenue", "ts", "user_id"]
    extras = [c for c in o if c in r and c not in first and c != key]
    return (*first, *extras)


def has_time_of_day(column: ir.TimestampValue) -> ir.BooleanScalar:
    """Whether any value of a timestamp column has a time of day other than midnight."""
    # Compared with its own midnight, not summed from parts: Ibis cannot extract
    # microseconds on Spark, and this also sees sub-second times on every engine.
    return (column != column.truncate("D")).fill_null(False).any().fill_null(False)


def precision_of(ds: Dataset, tables: Sequence[tuple[str, str]]) -> Precision:
    """``second`` when every (table, timestamp column) has a time of day somewhere, else ``day``.

    A table whose times are all midnight carries dates: its timestamps can only be
    compared with another table's by calendar day.
    """
    for name, column in tables:
        t = ds.table(name)
        if not bool(t.aggregate(_t=has_time_of_day(t[column])).to_pyarrow()["_t"][0].as_py()):
            return "day"
    return "second"


def reconcile_frames(
    ds: Dataset,
    *,
    key: str | None,
    tolerance: float,
    window: tuple[date, date] | None,
    keyless: KeylessRule | None,
    columns: Sequence[str],
) -> Reconciliation:
    """Every class of the reconciliation, counted in the engine.

    ``totals`` holds, for each side ``s`` in (``orders``, ``reference``): ``rows_s``
    (rows compared: first row per key plus rows without a key), ``revenue_s``,
    ``loaded_s`` (all rows in scope), ``dup_keys_s``, ``dup_rows_s`` (rows beyond the
    first of their key), ``dup_revenue_s`` (their revenue), ``no_key_s``, ``zero_keys_s``
    (distinct keys, and rows without a key, with a zero-revenue row), ``missing_s``
    (rows of the other side with no partner, after the key-less match) and
    ``missing_revenue_s``; and ``matched``, ``matched_revenue`` (the reference's),
    ``exact`` (matched with no mismatch in any column), ``revenue_mismatch``,
    ``revenue_at_stake`` (Σ|difference|), ``near_miss``, ``near_miss_revenue``,
    ``keyless``, ``keyless_revenue`` (the reference's), ``join_extra_rows`` (rows a naive
    inner join on the key gives beyond one per matched key).
    """
    sides = {s: ds.table(TABLE_OF[s]) for s in SIDES}
    compared = [c for c in columns if c != "revenue"]
    if window is not None:
        sides = _in_scope(sides, key, window)
    totals: dict[str, Any] = {}
    firsts: dict[str, ir.Table] = {}
    no_keys: dict[str, ir.Table] = {}
    with ExitStack() as stack:
        keep = _keeper(stack, ds.backend)
        side_o = _ranked(sides["orders"], key, "o", keep)
        side_r = _ranked(sides["reference"], key, "r", keep)
        for s, side in (("orders", side_o), ("reference", side_r)):
            p, ranked = s[0], side.ranked
            totals.update(_side_totals(side, p, s))
            firsts[s] = ranked.filter(ranked[f"{p}_k"].notnull() & (ranked._rn == 0))
            no_keys[s] = ranked.filter(ranked[f"{p}_k"].isnull())
        # Timestamps compare to the second only where both sides have a time of day.
        tod = [bool(totals.pop(f"tod_{s}")) for s in SIDES]
        precision: Precision = "second" if all(tod) else "day"
        totals["join_extra_rows"] = _join_extra(side_o, side_r)
        fo, fr = firsts["orders"], firsts["reference"]
        joined = fo.outer_join(fr, fo.o_k == fr.r_k).select(
            *[fo[c] for c in fo.columns if c != "_rn"],
            *[fr[c] for c in fr.columns if c != "_rn"],
        )
        # The flags are stored with the rows: the totals and every example read them.
        j = keep(joined.mutate(**_flag_columns(joined, tolerance, precision, compared)))
        flags = _Flags(
            both=j._both,
            diff=j._diff,
            revenue=j._rev,
            near=j._near,
            columns={c: j[f"_m{i}"] for i, c in enumerate(compared)},
        )
        totals.update(_class_totals(j, flags, compared))
        mismatch_rows = _mismatch_rows(flags, compared, totals)
        left_o = _leftover(j.filter(j.r_k.isnull()), no_keys["orders"], "o")
        left_r = _leftover(j.filter(j.o_k.isnull()), no_keys["reference"], "r")
        pairs: ir.Table | None = None
        if keyless is not None:
            pairs = _keyless_pairs(left_o, left_r, keyless, keep)
            left_o = _without(left_o, pairs, "o")
            left_r = _without(left_r, pairs, "r")
        lo, lr = keep(left_o), keep(left_r)
        totals.update(_missing_totals(lo, lr, pairs))
        examples = _examples(j, flags, compared, lo, lr, pairs, _side_examples(side_o, side_r))
        by_day = _missing_by_day(j, no_keys["reference"], lo, lr)
    return Reconciliation(
        totals=totals,
        mismatches=mismatch_rows,
        examples=examples,
        missing_by_day=by_day,
        precision=precision,
        columns=("revenue", *compared),
    )


def _keeper(stack: ExitStack, con: BaseBackend) -> Callable[[ir.Table], ir.Table]:
    """A function storing a table for the queries that reuse it, until ``stack`` closes."""

    def keep(table: ir.Table) -> ir.Table:
        return stack.enter_context(reused(table, con))

    return keep


def _in_scope(
    sides: dict[str, ir.Table], key: str | None, window: tuple[date, date]
) -> dict[str, ir.Table]:
    """Rows of keys with a row dated in ``window`` on either side; keyless rows by date.

    Scoping by key keeps a row whose date differs across the window's edge a date
    mismatch instead of a missing row.
    """
    start, end = ibis.literal(window[0]), ibis.literal(window[1])

    def inside(t: ir.Table) -> ir.BooleanValue:
        return t.ts.date().between(start, end)

    if key is None:
        return {s: t.filter(inside(t)) for s, t in sides.items()}
    keys = ibis.union(
        *[
            t.filter(inside(t) & t[key].notnull()).select(_scope=t[key].cast("string"))
            for t in sides.values()
        ]
    ).distinct()
    out = {}
    for s, t in sides.items():
        keyed = t.semi_join(keys, t[key].cast("string") == keys._scope)
        out[s] = keyed.union(t.filter(t[key].isnull() & inside(t)))
    return out


@dataclass(frozen=True)
class _Side:
    """One side's rows, ranked.

    ``rows`` (stored), ``multi``: the ranked rows of its duplicated keys (stored, small),
    ``ranked``: every row ranked (a lazy union over the two).
    """

    rows: ir.Table
    multi: ir.Table
    ranked: ir.Table


def _ranked(t: ir.Table, key: str | None, p: str, keep: Callable[[ir.Table], ir.Table]) -> _Side:
    """The side's rows with prefixed columns, ranked per key.

    ``{p}_k``: the key as text (null without a key); ``{p}_nk``: a number for rows
    without a key; ``_rn``: 0 for the first row of its key by the tie rule (null for
    rows without a key). Only the rows of duplicated keys are sorted and stored: the tie
    rule's text casts are costly, and most keys have one row.
    """
    rest = [c for c in t.columns if c != key]
    k = t[key].cast("string") if key is not None else ibis.null("string")
    # Stored once: the ranking reads the rows several times, and the canonical table is
    # a view that may re-read and re-check its source on every scan.
    rows = keep(t.select(**{f"{p}_{c}": t[c] for c in rest}, **{f"{p}_k": k}))

    def order(r: ir.Table) -> list[ir.Value]:
        return [r[f"{p}_ts"], *[r[f"{p}_{c}"].cast("string") for c in rest if c != "ts"]]

    none = ibis.null("int64")
    keyed = rows.filter(rows[f"{p}_k"].notnull())
    counts = keyed.group_by(_dk=keyed[f"{p}_k"]).aggregate(_n=keyed.count())
    dup = keep(counts.filter(counts._n > 1).select("_dk"))
    single = keyed.anti_join(dup, keyed[f"{p}_k"] == dup._dk).mutate(
        _rn=ibis.literal(0, "int64"), **{f"{p}_nk": none}
    )
    multi = keyed.semi_join(dup, keyed[f"{p}_k"] == dup._dk)
    multi = keep(
        multi.mutate(
            _rn=ibis.row_number().over(group_by=multi[f"{p}_k"], order_by=order(multi)),
            **{f"{p}_nk": none},
        )
    )
    loose = rows.filter(rows[f"{p}_k"].isnull())
    loose = loose.mutate(_rn=none, **{f"{p}_nk": ibis.row_number().over(order_by=order(loose))})
    return _Side(rows, multi, ibis.union(single, multi, loose, distinct=False))


def _side_totals(t: _Side, p: str, side: str) -> dict[str, Any]:
    """Counts of one side: from its stored rows, with the duplicates from ``multi``."""
    rows, multi = t.rows, t.multi
    k, rev = rows[f"{p}_k"], rows[f"{p}_revenue"]
    zero = rev == 0
    out = _one_row(
        rows.aggregate(
            _n=rows.count(),
            _rev=rev.sum(),
            _nk=k.isnull().cast("int64").sum(),
            _zn=(zero & k.isnull()).cast("int64").sum(),
            _tod=has_time_of_day(rows[f"{p}_ts"]),
        )
    )
    # Apart, on the few zero-revenue rows: a filtered distinct count in the query above
    # would hash every row (DuckDB's COUNT(DISTINCT) FILTER).
    zk = rows.filter(zero & k.notnull())
    out["_zk"] = _one_row(zk.aggregate(_zk=zk[f"{p}_k"].nunique()))["_zk"]
    extra = multi._rn > 0
    dups = _one_row(
        multi.aggregate(
            keys=(multi._rn == 1).cast("int64").sum(),
            rows=extra.cast("int64").sum(),
            revenue=ibis.ifelse(extra, multi[f"{p}_revenue"], 0.0).sum(),
        )
    )
    return {
        f"loaded_{side}": int(out["_n"]),
        f"rows_{side}": int(out["_n"]) - int(dups["rows"]),
        f"revenue_{side}": float(out["_rev"]) - float(dups["revenue"]),
        f"dup_keys_{side}": int(dups["keys"]),
        f"dup_rows_{side}": int(dups["rows"]),
        f"dup_revenue_{side}": float(dups["revenue"]),
        f"no_key_{side}": int(out["_nk"]),
        f"zero_keys_{side}": int(out["_zk"]) + int(out["_zn"]),
        f"tod_{side}": bool(out["_tod"]),
    }


def _one_row(expr: ir.Table) -> dict[str, Any]:
    """A one-row aggregate as a dict, empty sums as 0."""
    values: dict[str, Any] = expr.to_pyarrow().to_pylist()[0]
    return {k: (0 if v is None else v) for k, v in values.items()}


def _join_extra(side_o: _Side, side_r: _Side) -> int:
    """Rows a naive inner join on the key gives beyond one per key found on both sides."""
    mo, mr = side_o.multi, side_r.multi
    dup = mo.select(k=mo.o_k).union(mr.select(k=mr.r_k)).distinct()
    ro, rr = side_o.rows, side_r.rows
    co = ro.semi_join(dup, ro.o_k == dup.k).group_by(k=ro.o_k).aggregate(no=ibis._.count())
    cr = rr.semi_join(dup, rr.r_k == dup.k).group_by(k=rr.r_k).aggregate(nr=ibis._.count())
    both = co.inner_join(cr, co.k == cr.k)
    total = both.aggregate(x=(both.no * both.nr - 1).sum())
    return int(_one_row(total)["x"])


def _side_examples(side_o: _Side, side_r: _Side) -> list[ir.Table]:
    """Example keys of the duplicated keys and of the zero-revenue rows of each side."""
    parts = []
    for side, t, p in (("orders", side_o, "o"), ("reference", side_r, "r")):
        for name, rows in (
            (f"duplicated_in_{side}", t.multi.filter(t.multi._rn == 1)),
            (f"zero_revenue_{side}", t.rows.filter(t.rows[f"{p}_revenue"] == 0)),
        ):
            # One example per key (a key may have several such rows), dated by its first.
            per_key = rows.group_by(key=rows[f"{p}_k"].fill_null(_no_key(rows, p))).aggregate(
                date=rows[f"{p}_ts"].min().date()
            )
            picked = per_key.select(
                **{"class": ibis.literal(name)},
                key=per_key.key,
                orders_value=ibis.null("string"),
                reference_value=ibis.null("string"),
                date=per_key.date,
            )
            parts.append(picked.order_by(picked.key).limit(EXAMPLES))
    return parts


def _no_key(t: ir.Table, p: str) -> ir.StringValue:
    """How an example names a row without a key: by its user."""
    return "(no key: user " + t[f"{p}_user_id"].cast("string") + ")"


@dataclass(frozen=True)
class _Flags:
    both: ir.BooleanValue
    diff: ir.FloatingValue
    revenue: ir.BooleanValue
    near: ir.BooleanValue
    columns: dict[str, ir.BooleanValue]


def _comparable(j: ir.Table, column: str, precision: Precision) -> tuple[ir.Value, ir.Value]:
    a, b = j[f"o_{column}"], j[f"r_{column}"]
    if column == "ts":
        if precision == "day":
            return a.date(), b.date()
        return a.truncate("s"), b.truncate("s")
    if a.type() != b.type():
        return a.cast("string"), b.cast("string")
    return a, b


def _flag_columns(
    j: ir.Table, tolerance: float, precision: Precision, compared: Sequence[str]
) -> dict[str, ir.Value]:
    """Per joined row: on both sides, the revenue difference, and each class's flag."""
    both = j.o_k.notnull() & j.r_k.notnull()
    diff = (j.o_revenue - j.r_revenue).abs().round(DECIMALS)
    out: dict[str, ir.Value] = {
        "_both": both,
        "_diff": diff,
        "_rev": (both & (diff > tolerance)).fill_null(False),
        "_near": (both & (diff > 0) & (diff <= tolerance)).fill_null(False),
    }
    for i, c in enumerate(compared):
        a, b = _comparable(j, c, precision)
        out[f"_m{i}"] = (both & ~a.identical_to(b)).fill_null(False)
    return out


def _count(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return cond.fill_null(False).cast("int64").sum()


def _sum(cond: ir.BooleanValue, value: ir.NumericValue) -> ir.NumericScalar:
    return ibis.ifelse(cond.fill_null(False), value, 0.0).sum()


def _class_totals(j: ir.Table, f: _Flags, compared: Sequence[str]) -> dict[str, Any]:
    any_mismatch = f.revenue
    for cond in f.columns.values():
        any_mismatch = any_mismatch | cond
    aggs: dict[str, ir.Scalar] = {
        "matched": _count(f.both),
        "matched_revenue": _sum(f.both, j.r_revenue),
        "exact": _count(f.both & ~any_mismatch),
        "revenue_mismatch": _count(f.revenue),
        "revenue_at_stake": _sum(f.revenue, f.diff),
        "near_miss": _count(f.near),
        "near_miss_revenue": _sum(f.near, f.diff),
    }
    for i, c in enumerate(compared):
        aggs[f"_m{i}"] = _count(f.columns[c])
        aggs[f"_mr{i}"] = _sum(f.columns[c], j.r_revenue)
    return _one_row(j.aggregate(**aggs))


def _mismatch_rows(f: _Flags, compared: Sequence[str], totals: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "column": "revenue",
            "rows": int(totals["revenue_mismatch"]),
            "revenue": float(totals["revenue_at_stake"]),
        }
    ]
    for i, c in enumerate(compared):
        rows.append(
            {
                "column": c,
                "rows": int(totals.pop(f"_m{i}")),
                "revenue": float(totals.pop(f"_mr{i}")),
            }
        )
    return pd.DataFrame(rows, columns=["column", "rows", "revenue"])


def _leftover(unmatched: ir.Table, no_key: ir.Table, p: str) -> ir.Table:
    """The side's rows with no partner by key: keys on this side only, rows without a key."""
    cols = [f"{p}_k", f"{p}_nk", f"{p}_user_id", f"{p}_ts", f"{p}_revenue"]
    return unmatched.select(*cols).union(no_key.select(*cols))


def _without(t: ir.Table, pairs: ir.Table, p: str) -> ir.Table:
    """``t`` without the rows of side ``p`` that ``pairs`` holds.

    A row is its key or, without a key, its number: compared null-safe on both parts.
    The ids are renamed first, as ``pairs`` may derive from ``t`` (a self-join).
    """
    ids = pairs.select(_pk=pairs[f"{p}_k"], _pnk=pairs[f"{p}_nk"])
    return t.anti_join(
        ids, [t[f"{p}_k"].identical_to(ids._pk), t[f"{p}_nk"].identical_to(ids._pnk)]
    )


def _keyless_pairs(
    left_o: ir.Table, left_r: ir.Table, rule: KeylessRule, keep: Callable[[ir.Table], ir.Table]
) -> ir.Table:
    """One-to-one pairs of leftover rows: same user, close in time and revenue.

    Candidate pairs are ordered by (|Δt|, orders key as text, reference key as text; rows
    without a key after keyed ones, by their number). Each round keeps the pairs that are
    the best remaining candidate of both their rows, then drops every candidate touching
    a paired row; this repeats until no pair is left. The first pair in that order is
    always mutually best, so each round pairs at least one, and the result equals taking
    candidates greedily in that order.
    """
    o, r = left_o, left_r
    user_o, user_r = o.o_user_id, r.r_user_id
    if user_o.type() != user_r.type():
        user_o, user_r = user_o.cast("string"), user_r.cast("string")
    dt_s = (o.o_ts.epoch_seconds() - r.r_ts.epoch_seconds()).abs()
    edges = o.inner_join(
        r,
        [
            user_o == user_r,
            dt_s <= rule.time_s,
            (o.o_revenue - r.r_revenue).abs().round(DECIMALS) <= rule.revenue,
        ],
    ).select(
        "o_k", "o_nk", "r_k", "r_nk", "o_ts", "r_ts", "o_revenue", "r_revenue",
        _dt=(o.o_ts.epoch_seconds() - r.r_ts.epoch_seconds()).abs(),
    )  # fmt: skip
    order = [
        "_dt",
        ibis._.o_k.isnull(),
        "o_k",
        "o_nk",
        ibis._.r_k.isnull(),
        "r_k",
        "r_nk",
    ]
    picked: list[ir.Table] = []
    current = keep(edges)
    while True:
        ranked = current.mutate(
            _bo=ibis.row_number().over(group_by=["o_k", "o_nk"], order_by=order),
            _br=ibis.row_number().over(group_by=["r_k", "r_nk"], order_by=order),
        )
        mutual = keep(ranked.filter((ranked._bo == 0) & (ranked._br == 0)).drop("_bo", "_br"))
        if int(mutual.count().to_pyarrow().as_py()) == 0:
            break
        picked.append(mutual)
        current = keep(_without(_without(current, mutual, "o"), mutual, "r"))
    if not picked:
        return edges.limit(0)
    return ibis.union(*picked) if len(picked) > 1 else picked[0]


def _missing_totals(lo: ir.Table, lr: ir.Table, pairs: ir.Table | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Missing in orders = reference rows with no partner, and the other way round.
    for side, t, p in (("orders", lr, "r"), ("reference", lo, "o")):
        row = _one_row(
            t.aggregate(n=t.count(), rev=t[f"{p}_revenue"].sum(), nk=t[f"{p}_k"].isnull().sum())
        )
        out[f"missing_{side}"] = int(row["n"])
        out[f"missing_revenue_{side}"] = float(row["rev"])
        out[f"missing_no_key_{side}"] = int(row["nk"])
    if pairs is None:
        out["keyless"], out["keyless_revenue"] = 0, 0.0
    else:
        row = _one_row(pairs.aggregate(n=pairs.count(), rev=pairs.r_revenue.sum()))
        out["keyless"], out["keyless_revenue"] = int(row["n"]), float(row["rev"])
    return out


def _value_text(v: ir.Value) -> ir.StringValue:
    return v.cast("string")


def _examples(
    j: ir.Table,
    f: _Flags,
    compared: Sequence[str],
    lo: ir.Table,
    lr: ir.Table,
    pairs: ir.Table | None,
    dup_examples: list[ir.Table],
) -> pd.DataFrame:
    def part(
        name: str, rows: ir.Table, key: ir.Value, a: ir.Value, b: ir.Value, d: ir.Value
    ) -> ir.Table:
        picked = rows.select(
            **{"class": ibis.literal(name)},
            key=key,
            orders_value=_value_text(a),
            reference_value=_value_text(b),
            date=d,
        )
        return picked.order_by(picked.key).limit(EXAMPLES)

    null = ibis.null("string")
    parts = [
        part("matched", j.filter(f.both), j.r_k, null, null, j.r_ts.date()),
        part(
            "revenue_mismatch", j.filter(f.revenue), j.r_k, j.o_revenue, j.r_revenue, j.r_ts.date()
        ),
        part("near_miss", j.filter(f.near), j.r_k, j.o_revenue, j.r_revenue, j.r_ts.date()),
    ]
    for c in compared:
        rows = j.filter(f.columns[c])
        parts.append(
            part(f"{c}_mismatch", rows, rows.r_k, rows[f"o_{c}"], rows[f"r_{c}"], rows.r_ts.date())
        )
    # Rows with no partner; without a key, the example names the user instead.
    parts.append(
        part(
            "missing_in_orders",
            lr,
            lr.r_k.fill_null(_no_key(lr, "r")),
            null,
            lr.r_revenue,
            lr.r_ts.date(),
        )
    )
    parts.append(
        part(
            "missing_in_reference",
            lo,
            lo.o_k.fill_null(_no_key(lo, "o")),
            lo.o_revenue,
            null,
            lo.o_ts.date(),
        )
    )
    if pairs is not None:
        label = pairs.o_k.fill_null("(no key)") + " ~ " + pairs.r_k.fill_null("(no key)")
        parts.append(
            part("matched_without_key", pairs, label, pairs.o_ts, pairs.r_ts, pairs.r_ts.date())
        )
    parts.extend(dup_examples)
    frame = fetch(ibis.union(*parts))
    return frame.sort_values(["class", "key"], kind="stable", ignore_index=True)


def _missing_by_day(j: ir.Table, no_key_r: ir.Table, lo: ir.Table, lr: ir.Table) -> pd.DataFrame:
    """Per day: conversions seen in either table, and those missing on each side.

    The base of a day counts every conversion once: the reference's rows dated that day
    plus the orders rows with no partner in the reference. Both sides share it, so an
    outage on one side does not shrink the base the other side is judged against.
    """
    ref = j.filter(j.r_k.notnull()).select(d=j.r_ts.date())
    ref = ref.union(no_key_r.select(d=no_key_r.r_ts.date()), distinct=False)
    ref = ref.union(lo.select(d=lo.o_ts.date()), distinct=False)
    base = fetch(ref.group_by("d").aggregate(base=ref.count()))
    frames = []
    for missing_in, p, left in (("orders", "r", lr), ("reference", "o", lo)):
        gone = fetch(
            left.group_by(d=left[f"{p}_ts"].date()).aggregate(
                missing=left.count(), revenue=left[f"{p}_revenue"].sum()
            )
        )
        merged = base.merge(gone, on="d", how="outer")
        merged["missing_in"] = missing_in
        frames.append(merged)
    out = pd.concat(frames, ignore_index=True).rename(columns={"d": "date"})
    columns = ["date", "missing_in", "base", "missing", "revenue"]
    if out.empty or out["date"].isna().all():
        return pd.DataFrame(columns=columns)
    days = pd.date_range(out["date"].min(), out["date"].max(), freq="D").date
    grid = pd.MultiIndex.from_product([list(days), list(SIDES)], names=["date", "missing_in"])
    out = out.groupby(["date", "missing_in"]).sum(min_count=1).reindex(grid).reset_index()
    for c in ("base", "missing"):
        out[c] = out[c].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype(float)
    return out[columns].sort_values(["missing_in", "date"], ignore_index=True)
