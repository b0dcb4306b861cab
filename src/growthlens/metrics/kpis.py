"""Headline flow figures per period and over the window (docs/metrics.md, "Headline figures").

Users, buyers, visitors who bought, orders, revenue, first orders and spend, per period of
the window and over the whole window, each as one engine aggregate. Engine → small frames
only; the analysis (growthlens.analyses.kpis) compares periods, words and draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import first_orders
from growthlens.derive.activity import session_users
from growthlens.derive.periods import Period, dates, period_start, window_periods
from growthlens.metrics.fetch import fetch

FLOWS = ("users", "buyers", "visitor_buyers", "orders", "revenue", "first_orders", "spend")
"""The per-period columns, in order (a column is absent when its table is)."""


@dataclass(frozen=True)
class Flows:
    """Headline flows: one row per period of the window, and the window's totals.

    ``periods`` columns: ``period`` (start date), ``end``, ``complete`` (wholly inside the
    window) and the :data:`FLOWS` the dataset has tables for. ``window``: the same
    figures over the whole window (distinct users are counted over the window, not summed
    over periods).
    """

    periods: pd.DataFrame
    window: dict[str, float]


def flows(ds: Dataset, *, period: Period, window: tuple[date, date]) -> Flows:
    """Count the headline flows per ``period`` and over ``window`` in the engine."""
    grid = window_periods(window, period)
    grid["period"] = dates(grid["period"])
    parts: list[pd.DataFrame] = []
    totals: dict[str, float] = {}
    sessions = ds.table("sessions") if ds.has("sessions") else None
    orders = ds.table("orders") if ds.has("orders") else None
    if sessions is not None:
        parts.append(_per_period(session_users(ds, None, ("period",), period)))
        totals["users"] = _scalar(session_users(ds, None, ()).users.max())
    if orders is not None:
        bought = orders.select("user_id", period=period_start(orders.ts, period)).distinct()
        per = orders.group_by(period=period_start(orders.ts, period)).aggregate(
            orders=orders.count(), revenue=orders.revenue.sum()
        )
        parts.append(_per_period(bought.group_by("period").aggregate(buyers=bought.count())))
        parts.append(_per_period(per))
        firsts = first_orders(ds)
        first = firsts.group_by(period=period_start(firsts.first_order_ts, period)).aggregate(
            first_orders=firsts.count()
        )
        parts.append(_per_period(first))
        row = orders.aggregate(
            buyers=orders.user_id.nunique(), orders=orders.count(), revenue=orders.revenue.sum()
        )
        totals.update(_row(row))
        totals["first_orders"] = _scalar(firsts.count())
        if sessions is not None:
            # A visitor who bought: a user with a session and an order in the same period
            # (over the window: anywhere in the window).
            # Sessions are matched to buyers' periods before they are made distinct: the
            # distinct pairs are then only buyers' (0.9 → 0.4 s at 10M sessions).
            visits = sessions.select("user_id", period=period_start(sessions.start_ts, period))
            both = visits.semi_join(bought, ["user_id", "period"]).distinct()
            parts.append(
                _per_period(both.group_by("period").aggregate(visitor_buyers=both.count()))
            )
            buyers_ids = orders.select("user_id").distinct()
            visitors = sessions.select("user_id").distinct()
            totals["visitor_buyers"] = _scalar(visitors.join(buyers_ids, "user_id").count())
    if ds.has("costs"):
        costs = ds.table("costs")
        spend = costs.group_by(period=period_start(costs.date, period)).aggregate(
            spend=costs.cost.sum()
        )
        parts.append(_per_period(spend))
        totals["spend"] = _scalar(costs.cost.sum())
    table = grid
    for part in parts:
        table = table.merge(part, on="period", how="left")
    present = [c for c in FLOWS if c in table.columns]
    # A period without a row in a table had none of it: zero, not missing.
    table[present] = table[present].fillna(0)
    for column in present:
        if column not in ("revenue", "spend"):
            table[column] = table[column].astype("int64")
    table["end"] = dates(table["end"])
    return Flows(table[["period", "end", "complete", *present]], totals)


def _per_period(expr: ir.Table) -> pd.DataFrame:
    frame = fetch(expr)
    frame["period"] = dates(frame["period"])
    return frame


def _scalar(expr: ir.Scalar) -> float:
    value = expr.to_pyarrow().as_py()
    return float(value) if value is not None else 0.0


def _row(expr: ir.Table) -> dict[str, float]:
    row = expr.to_pyarrow().to_pylist()[0]
    return {k: float(v) if v is not None else 0.0 for k, v in row.items()}


__all__ = ["FLOWS", "Flows", "flows"]
