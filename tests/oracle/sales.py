"""Plain-pandas sales metrics, written straight from docs/metrics.md ("Sales")."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tests.oracle.product import _all_periods, _period, in_window


def orders_in_window(orders: pd.DataFrame, window: tuple[date, date]) -> pd.DataFrame:
    day = orders["ts"].dt.date
    return orders[(day >= window[0]) & (day <= window[1]) & (orders["revenue"] >= 0)]


def cohort_values(
    orders: pd.DataFrame, window: tuple[date, date], period: str, margin: float
) -> pd.DataFrame:
    o = orders_in_window(orders, window).copy()
    o["p"] = _period(o["ts"], period)
    cohort = o.groupby("user_id")["p"].min().rename("cohort")
    o = o.join(cohort, on="user_id")
    periods = _all_periods(window, period)
    rows = []
    for c, buyers in cohort.value_counts().items():
        mine = o[o["cohort"] == c]
        cum_orders = cum_revenue = 0.0
        for k, p in enumerate(x for x in periods if x >= c):
            now = mine[mine["p"] == p]
            cum_orders += len(now)
            cum_revenue += now["revenue"].sum()
            rows.append(
                {
                    "cohort": c,
                    "age": k,
                    "buyers": int(buyers),
                    "orders_per_buyer": cum_orders / buyers,
                    "ltv": cum_revenue * margin / buyers,
                }
            )
    return pd.DataFrame(rows).sort_values(["cohort", "age"]).reset_index(drop=True)


def lag_distribution(
    sessions: pd.DataFrame, orders: pd.DataFrame, window: tuple[date, date]
) -> pd.Series:
    s = in_window(sessions, window)
    o = orders_in_window(orders, window)
    first_visit = s.groupby("user_id")["start_ts"].min().dt.normalize()
    first_order = o.groupby("user_id")["ts"].min().dt.normalize()
    lag = (first_order - first_visit.reindex(first_order.index)).dt.days.dropna().astype(int)
    return lag.value_counts().sort_index()
