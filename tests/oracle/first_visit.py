"""Plain-pandas first-visit timing, written straight from docs/metrics.md ("First-visit timing")."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tests.oracle.product import in_window
from tests.oracle.sales import orders_in_window


def slots(sessions: pd.DataFrame, orders: pd.DataFrame, window: tuple[date, date]) -> pd.DataFrame:
    s = in_window(sessions, window)
    first = s.groupby("user_id")["start_ts"].min().rename("first").reset_index()
    spent = orders_in_window(orders, window).groupby("user_id")["revenue"].sum().rename("revenue")
    users = first.merge(spent, left_on="user_id", right_index=True, how="left")
    users["weekday"] = users["first"].dt.day_of_week + 1
    users["hour"] = users["first"].dt.hour
    grouped = users.groupby(["weekday", "hour"]).agg(
        users=("user_id", "size"),
        buyers=("revenue", "count"),
        revenue=("revenue", "sum"),
    )
    return grouped.reset_index()


def user_revenue(
    sessions: pd.DataFrame, orders: pd.DataFrame, window: tuple[date, date]
) -> pd.DataFrame:
    """One row per user with a first visit: its weekday and revenue (0 without orders)."""
    s = in_window(sessions, window)
    first = s.groupby("user_id")["start_ts"].min().rename("first").reset_index()
    spent = orders_in_window(orders, window).groupby("user_id")["revenue"].sum().rename("revenue")
    users = first.merge(spent, left_on="user_id", right_index=True, how="left")
    users["revenue"] = users["revenue"].fillna(0.0)
    users["weekday"] = users["first"].dt.day_of_week + 1
    return users[["user_id", "weekday", "revenue"]]
