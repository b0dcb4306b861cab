"""Plain-pandas implementation of the unit-economics set, the benchmark's baseline.

Written the way an analyst's notebook would (vectorised pandas, no engine), following
docs/metrics.md: activity (DAU/WAU/MAU, sticky, sessions per user per day, session
length), monthly retention, conversion lag, monthly LTV, CAC and ROMI by source.
Reads the Afisha-layout Parquet files of the demo or of benchmarks/shapes.py (user ids as
uint64 or strings, any number of sources and months). Returns headline numbers so the
benchmark can check both implementations agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _month(ts: pd.Series) -> pd.Series:
    # Integer month code (year*12 + month): vectorised ages without Period objects.
    month: pd.Series = ts.dt.year * 12 + ts.dt.month
    return month


def run(folder: Path, *, horizon: int = 6) -> dict[str, Any]:
    visits = pd.read_parquet(folder / "visits.parquet")
    orders = pd.read_parquet(folder / "orders.parquet")
    costs = pd.read_parquet(folder / "costs.parquet")
    visits = visits.rename(
        columns={
            "Uid": "user_id",
            "Device": "device",
            "Start Ts": "start_ts",
            "End Ts": "end_ts",
            "Source Id": "source",
            "Session Id": "session_id",
        }
    )
    orders = orders.rename(
        columns={"Buy Ts": "ts", "Revenue": "revenue", "Uid": "user_id", "Order Id": "order_id"}
    )
    costs = costs.rename(columns={"source_id": "source", "dt": "date", "costs": "cost"})
    visits["source"] = visits["source"].astype(str)
    costs["source"] = costs["source"].astype(str)
    costs["date"] = pd.to_datetime(costs["date"])

    # Data window: latest first date .. earliest last date.
    start = max(visits.start_ts.min().normalize(), orders.ts.min().normalize(), costs.date.min())
    end = min(visits.start_ts.max().normalize(), orders.ts.max().normalize(), costs.date.max())
    visits = visits[
        (visits.start_ts.dt.normalize() >= start) & (visits.start_ts.dt.normalize() <= end)
    ]
    orders = orders[
        (orders.ts.dt.normalize() >= start)
        & (orders.ts.dt.normalize() <= end)
        & (orders.revenue >= 0)
    ]
    costs = costs[(costs.date >= start) & (costs.date <= end)]

    out: dict[str, Any] = {}
    # Activity
    day = visits.start_ts.dt.normalize()
    days = pd.date_range(start, end, freq="D")
    dau = visits.assign(day=day).groupby("day").user_id.nunique().reindex(days, fill_value=0)
    week = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    wau = visits.assign(week=week).groupby("week").user_id.nunique()
    weeks = pd.date_range(start - pd.Timedelta(days=start.weekday()), end, freq="7D")
    wau = wau.reindex(weeks, fill_value=0)
    month = _month(visits.start_ts)
    mau = visits.assign(month=month).groupby("month").user_id.nunique()
    months = [y * 12 + m for y, m in sorted({(d.year, d.month) for d in days})]
    mau = mau.reindex(months, fill_value=0)
    out["dau"], out["wau"], out["mau"] = dau.mean(), wau.mean(), mau.mean()
    out["sticky_wau"], out["sticky_mau"] = out["dau"] / out["wau"], out["dau"] / out["mau"]
    per_day = (
        visits.assign(day=day)
        .groupby("day")
        .agg(sessions=("user_id", "size"), users=("user_id", "nunique"))
    )
    out["sessions_per_user_per_day"] = (per_day.sessions / per_day.users).mean()
    length = (visits.end_ts - visits.start_ts).dt.total_seconds()
    length = length[length >= 0]
    out["session_length_mean_s"] = length.mean()
    out["session_length_median_s"] = length.median()
    floored = np.floor(length)
    counts = floored.value_counts()
    out["session_length_mode_s"] = counts[counts == counts.max()].index.min()

    # Retention (monthly cohorts of first session)
    # Ties in "first" break by the session (order) id when the export has one (metrics.md).
    tie = ["session_id"] if "session_id" in visits else []
    first = visits.sort_values(["user_id", "start_ts", *tie], kind="stable").drop_duplicates(
        "user_id"
    )
    cohort = _month(first.set_index("user_id").start_ts)
    act = pd.DataFrame(
        {"user_id": visits.user_id.to_numpy(), "month": month.to_numpy()}
    ).drop_duplicates()
    act["cohort"] = act.user_id.map(cohort)
    act["age"] = act.month - act.cohort
    sizes = cohort.value_counts()
    retention = (
        act.groupby(["cohort", "age"]).user_id.nunique()
        / sizes.reindex(act.groupby(["cohort", "age"]).size().index.get_level_values(0)).to_numpy()
    )
    out["retention_cells"] = int(retention.size)
    out["retention_age1_mean"] = float(retention.xs(1, level="age").mean())

    # Conversion lag
    first_order = (
        orders.sort_values(["user_id", "ts", *(["order_id"] if "order_id" in orders else [])])
        .drop_duplicates("user_id")
        .set_index("user_id")
    )
    visit = first.set_index("user_id")
    lag = (
        first_order.ts.dt.normalize() - visit.start_ts.reindex(first_order.index).dt.normalize()
    ).dt.days
    out["lag_share_0d"] = float((lag == 0).sum() / len(lag))

    # LTV by monthly buyer cohort
    buyer_cohort = _month(first_order.ts)
    o = orders.assign(cohort=orders.user_id.map(buyer_cohort), month=_month(orders.ts))
    o["age"] = o.month - o.cohort
    gp = o.groupby(["cohort", "age"]).revenue.sum().unstack(fill_value=0.0).cumsum(axis=1)
    buyers_n = buyer_cohort.value_counts()
    ltv = gp.div(buyers_n.reindex(gp.index), axis=0)
    out["ltv_cells"] = int(ltv.size)

    # CAC and ROMI by acquisition (first-touch) source
    source = visit.source
    b = pd.DataFrame(
        {"cohort": buyer_cohort, "source": source.reindex(buyer_cohort.index).fillna("(unknown)")}
    )
    buyers_by_source = b.groupby("source").size()
    cost_by_source = costs.groupby("source").cost.sum()
    cac = cost_by_source / buyers_by_source.reindex(cost_by_source.index)
    out["cac"] = {k: float(v) for k, v in cac.items()}
    o["source"] = o.user_id.map(b.source)
    gp_src = o.groupby(["source", "cohort", "age"]).revenue.sum()
    cum = gp_src.groupby(level=[0, 1]).cumsum()
    nb = b.groupby(["source", "cohort"]).size()
    cost_cohort = costs.assign(cohort=_month(costs.date)).groupby(["source", "cohort"]).cost.sum()
    cac_c = cost_cohort / nb.reindex(cost_cohort.index)
    ltv_src = cum / nb.reindex(cum.index.droplevel(2)).to_numpy()
    romi = ltv_src / cac_c.reindex(ltv_src.index.droplevel(2)).to_numpy() - 1
    out["romi_cells"] = int(romi.notna().sum())
    out["romi_window"] = {
        s: float(o[o.source == s].revenue.sum() / c - 1) for s, c in cost_by_source.items() if c > 0
    }
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(Path(sys.argv[1])), default=str, indent=1))
