"""Daily sales with a trailing 7-day average, and first-order vs repeat revenue per period.

Definitions (docs/metrics.md, "Sales" → "Sales trend"):

- **daily**: orders and revenue on every calendar day of the data window, by the date of
  the order's timestamp; a day without orders is 0, not missing. The trailing 7-day
  average of day d is the mean over days d − 6 .. d; it is NaN on the window's first 6
  days, which have fewer than 7 days behind them inside the window.
- **first order** of a buyer: their earliest order in the data (ties as DESIGN §4: by
  timestamp, then order id, then the other columns as text). Orders before the window are
  excluded at load, so a buyer whose real first order predates the window has their first
  in-window order counted as first: the same rule that puts them in that period's buyer
  cohort for LTV (growthlens.metrics.revenue). Every other order is a **repeat** order.
  Repeat share = repeat revenue ÷ revenue (NaN in a period without revenue).

Engine → small frames only: one row per day or per period.
"""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.firsts import first_rows
from growthlens.derive.periods import Period, dates, period_start, window_periods
from growthlens.metrics.fetch import fetch

DAYS = 7
"""Length of the trailing average, in days."""


def _per_period(orders: ir.Table, period: Period) -> pd.DataFrame:
    frame = fetch(
        orders.group_by(period=period_start(orders.ts, period)).aggregate(
            orders=orders.count(), revenue=orders.revenue.sum()
        )
    )
    frame["period"] = dates(frame["period"])
    return frame


def _on_grid(grid: pd.DataFrame, counts: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    out = grid.merge(counts, on="period", how="left")
    out[f"{prefix}orders"] = out[f"{prefix}orders"].fillna(0).astype("int64")
    out[f"{prefix}revenue"] = out[f"{prefix}revenue"].fillna(0.0).astype(float)
    return out


def daily_sales(ds: Dataset, *, window: tuple[date, date]) -> pd.DataFrame:
    """Orders and revenue per day of the window, with their trailing 7-day averages.

    Columns: ``day``, ``orders``, ``revenue``, ``orders_7d``, ``revenue_7d`` (means over
    the 7 days ending that day; NaN for the first 6 days of the window).
    """
    per_day = _per_period(ds.table("orders"), "day")
    grid = window_periods(window, "day")[["period"]]
    grid["period"] = dates(grid["period"])
    table = _on_grid(grid, per_day)
    # The window's own days only: nothing before its first day is counted as 0.
    for column in ("orders", "revenue"):
        table[f"{column}_7d"] = table[column].astype(float).rolling(DAYS, min_periods=DAYS).mean()
    table = table.rename(columns={"period": "day"})
    return table[["day", "orders", "revenue", "orders_7d", "revenue_7d"]]


def first_orders_table(ds: Dataset) -> ir.Table:
    """Each buyer's first order row (the tie rule of DESIGN §4)."""
    orders = ds.table("orders")
    order = ["ts", *(["order_id"] if "order_id" in orders.columns else [])]
    return first_rows(orders, key="user_id", order=order)


def first_repeat(ds: Dataset, *, period: Period, window: tuple[date, date]) -> pd.DataFrame:
    """First-order and repeat orders and revenue per period of the window (0 when none).

    Columns: ``period``, ``orders``, ``revenue``, ``first_orders``, ``first_revenue``,
    ``repeat_orders``, ``repeat_revenue``, ``repeat_share`` (repeat revenue ÷ revenue,
    NaN without revenue), ``complete`` (the period lies wholly inside the window).
    """
    grid = window_periods(window, period)[["period", "complete"]]
    grid["period"] = dates(grid["period"])
    total = _on_grid(grid, _per_period(ds.table("orders"), period))
    first = _per_period(first_orders_table(ds), period).rename(
        columns={"orders": "first_orders", "revenue": "first_revenue"}
    )
    table = _on_grid(total, first, prefix="first_")
    table["repeat_orders"] = table["orders"] - table["first_orders"]
    # A difference of two float sums: exactly 0 when there is no repeat order, not 1e-15.
    table["repeat_revenue"] = (table["revenue"] - table["first_revenue"]).where(
        table["repeat_orders"] > 0, 0.0
    )
    revenue = table["revenue"].where(table["revenue"] > 0)
    table["repeat_share"] = table["repeat_revenue"] / revenue
    return table[
        [
            "period",
            "orders",
            "revenue",
            "first_orders",
            "first_revenue",
            "repeat_orders",
            "repeat_revenue",
            "repeat_share",
            "complete",
        ]
    ]


__all__ = ["DAYS", "daily_sales", "first_orders_table", "first_repeat"]
