"""The ``orders`` table (purchases, or order lines): declaration and row checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import ibis
import ibis.expr.types as ir

from growthlens.data.tables.declaration import FIRST_VISITS, USER, Column, FlagRule, TableModel


def _is_zero_revenue(o: ir.Table) -> ir.BooleanValue:
    return o.revenue == 0


def _zero_revenue(t: Mapping[str, ir.Table]) -> ir.Table:
    return t["orders"].filter(_is_zero_revenue)


def _with_first_visit(t: Mapping[str, ir.Table]) -> ir.Table:
    """Orders of the buyers in ``FIRST_VISITS``, with their first visit (null: no session)."""
    o, firsts = t["orders"], t[FIRST_VISITS]
    joined = o.inner_join(firsts, o.user_id == firsts.first_user)
    return joined.select(*o.columns, "first_user", "first_visit")


def _is_before_first_visit(o: ir.Table) -> ir.BooleanValue:
    # An order at exactly midnight is read as a date (exports that give orders by day):
    # it is before the first visit only when its day is, not when that visit came later
    # on the same day.
    as_date = o.ts == o.ts.truncate("D")
    earlier = ibis.ifelse(as_date, o.ts.date() < o.first_visit.date(), o.ts < o.first_visit)
    return earlier.fill_null(False)


def _has_no_session(o: ir.Table) -> ir.BooleanValue:
    # start_ts is required, so only a buyer without sessions has no first visit.
    return o.first_visit.isnull()


def _before_first_visit(t: Mapping[str, ir.Table]) -> ir.Table:
    joined = _with_first_visit(t)
    return joined.filter(_is_before_first_visit).drop("first_user")


def _no_session(t: Mapping[str, ir.Table]) -> ir.Table:
    joined = _with_first_visit(t)
    return joined.filter(_has_no_session).drop("first_user", "first_visit")


ORDERS = TableModel(
    name="orders",
    description="One row per order (or order line): who bought (user_id), when (ts) and "
    "for how much (revenue).",
    row="orders",
    row_one="order",
    columns=(
        USER,
        Column(
            "ts",
            "timestamp",
            True,
            ("buy_ts", "order_ts", "purchase_ts", "created_at", "order_date"),
        ),
        Column(
            "revenue",
            "number",
            True,
            ("amount", "order_value", "value", "price"),
            negative="negative_revenue",
        ),
        Column("order_id", "id", False, ("conversion_id", "transaction_id")),
        Column("currency", "text", False, ()),
    ),
    time_column="ts",
    key=("order_id",),
    settings=("timezone", "window", "period", "currency", "margin", "horizon"),
    flags=(
        FlagRule(
            "zero_revenue",
            ("orders",),
            _zero_revenue,
            "have zero revenue",
            "has zero revenue",
            "kept",
            "counted as orders (they lower the average check)",
            _is_zero_revenue,
        ),
        FlagRule(
            "order_before_first_visit",
            ("orders", "sessions"),
            _before_first_visit,
            "are placed before the buyer's first visit",
            "is placed before the buyer's first visit",
            "kept_flagged",
            "kept; they give a negative conversion lag, reported in the lag distribution",
            _is_before_first_visit,
            _with_first_visit,
        ),
        FlagRule(
            "orders_without_session",
            ("orders", "sessions"),
            _no_session,
            "belong to users with no session",
            "belongs to users with no session",
            "kept",
            "their source and device are '(unknown)'; they have no conversion lag",
            _has_no_session,
            _with_first_visit,
        ),
    ),
)

ORDER_LINES = replace(
    ORDERS,
    description="One row per item bought (an order line): who (user_id), when (ts) and for "
    "how much (revenue); lines of one order_id, or of one user and day, are one order.",
    row="order lines",
    row_one="order line",
    # An order's lines share its id: duplicates are exact copies of a whole line.
    key=None,
)
"""The orders table as read with ``order_lines = true``: its checks count lines."""
