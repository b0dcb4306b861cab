"""Plain-pandas re-computation of spend, CAC, LTV and ROMI (DESIGN §4, Marketing).

Written from the definitions, not from the package: row-level pandas, explicit loops where
they read more plainly. Input: raw frames (sessions, orders, costs) and the data window.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

UNKNOWN = "(unknown)"


def start_of(ts: pd.Series, period: str) -> pd.Series:
    days = pd.to_datetime(ts).dt.normalize()
    if period == "day":
        return days
    if period == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days - pd.to_timedelta(days.dt.day - 1, unit="D")


def age_between(cohort: pd.Series, activity: pd.Series, period: str) -> pd.Series:
    if period == "month":
        return (activity.dt.year - cohort.dt.year) * 12 + (activity.dt.month - cohort.dt.month)
    days = (activity - cohort).dt.days
    return days if period == "day" else days // 7


def next_start(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def periods_of(window: tuple[date, date], period: str) -> list[tuple[pd.Timestamp, bool]]:
    """(period start, wholly inside window) for every period meeting the window."""
    first = start_of(pd.Series([pd.Timestamp(window[0])]), period).iloc[0].date()
    out = []
    current = first
    while current <= window[1]:
        last = next_start(current, period) - timedelta(days=1)
        out.append((pd.Timestamp(current), current >= window[0] and last <= window[1]))
        current = next_start(current, period)
    return out


def in_window(
    sessions: pd.DataFrame, orders: pd.DataFrame, costs: pd.DataFrame, window: tuple[date, date]
):
    lo, hi = pd.Timestamp(window[0]), pd.Timestamp(window[1]) + pd.Timedelta(days=1)
    s = sessions[(sessions.start_ts >= lo) & (sessions.start_ts < hi)].copy()
    o = orders[(orders.ts >= lo) & (orders.ts < hi)].copy()
    c = costs.copy()
    c["date"] = pd.to_datetime(c["date"])
    c = c[(c.date >= lo) & (c.date < hi)]
    return s, o, c


def acquired_buyers(sessions: pd.DataFrame, orders: pd.DataFrame, period: str) -> pd.DataFrame:
    """user_id, first_order_ts, cohort, first_visit_ts, source (first touch)."""
    first_order = (
        orders.groupby("user_id", as_index=False).ts.min().rename(columns={"ts": "first_order_ts"})
    )
    s = sessions.copy()
    # first session: earliest start, ties broken by the remaining columns as text (nulls last)
    s["_end"] = s["end_ts"].astype(str)
    s["_src"] = s["source"].where(s["source"].notna(), "\uffff").astype(str)
    s["_dev"] = s["device"].where(s["device"].notna(), "\uffff").astype(str)
    s = s.sort_values(["user_id", "start_ts", "_end", "_src", "_dev"])
    first = s.drop_duplicates("user_id")[["user_id", "start_ts", "source"]]
    first = first.rename(columns={"start_ts": "first_visit_ts"})
    b = first_order.merge(first, on="user_id", how="left")
    b["source"] = b["source"].where(b["source"].notna(), UNKNOWN).astype(str)
    b["cohort"] = start_of(b["first_order_ts"], period)
    return b


def spend_per_period(costs: pd.DataFrame, period: str) -> pd.DataFrame:
    c = costs.copy()
    c["period"] = start_of(c["date"], period)
    return c.groupby(["period", "source"], as_index=False).cost.sum()


def cost_gaps(costs: pd.DataFrame) -> set[tuple[pd.Timestamp, str]]:
    out = set()
    for source, part in costs.groupby("source"):
        days = set(pd.to_datetime(part["date"]))
        for d in pd.date_range(min(days), max(days), freq="D"):
            if d not in days:
                out.add((d, source))
    return out


def cac_tables(sessions, orders, costs, window, period="month", cohort_by="first_order"):
    """by_cohort (cohort, source, cost, buyers, cac), sources, cohorts — all plain loops."""
    s, o, c = in_window(sessions, orders, costs, window)
    b = acquired_buyers(s, o, period)
    if cohort_by == "first_visit":
        # no session → no first visit: the buyer keeps the first-order period
        pairs = zip(b["first_visit_ts"], b["first_order_ts"], strict=True)
        visit = [v if pd.notna(v) else o for v, o in pairs]
        b["cohort"] = start_of(pd.Series(pd.to_datetime(visit), index=b.index), period)
    paid = sorted(c["source"].unique())
    spend = spend_per_period(c, period)
    spend_of = {(r.period, r.source): r.cost for r in spend.itertuples()}
    buyers_of = b.groupby(["cohort", "source"]).size().to_dict()
    rows = []
    all_sources = sorted(set(paid) | set(b["source"]))
    for start, complete in periods_of(window, period):
        for source in all_sources:
            n = int(buyers_of.get((start, source), 0))
            if source not in paid and n == 0:
                continue
            cost = float(spend_of.get((start, source), 0.0))
            cac = (cost / n if n > 0 else np.nan) if source in paid else np.nan
            rows.append(
                {
                    "cohort": start,
                    "source": source,
                    "cost": cost,
                    "buyers": n,
                    "cac": cac,
                    "complete": complete,
                }
            )
    by_cohort = pd.DataFrame(rows)
    src_rows = []
    for source in all_sources:
        cost = float(c.loc[c.source == source, "cost"].sum())
        n = int((b["source"] == source).sum())
        cac = (cost / n if n else np.nan) if source in paid else np.nan
        src_rows.append({"source": source, "cost": cost, "buyers": n, "cac": cac})
    sources = pd.DataFrame(src_rows)
    coh_rows = []
    for start, complete in periods_of(window, period):
        cost = float(sum(v for (p, _), v in spend_of.items() if p == start))
        n = int((b["cohort"] == start).sum())
        coh_rows.append(
            {
                "cohort": start,
                "cost": cost,
                "buyers": n,
                "cac": cost / n if n else np.nan,
                "complete": complete,
            }
        )
    return by_cohort, sources, pd.DataFrame(coh_rows)


def ltv_cells(sessions, orders, window, period="month", margin=1.0, by_source=True):
    """cohort, age, [source,] buyers, ltv, complete for every observed cell."""
    no_costs = pd.DataFrame({"date": pd.to_datetime([]), "source": [], "cost": []})
    s, o, _ = in_window(sessions, orders, no_costs, window)
    b = acquired_buyers(s, o, period)
    o = o.merge(b[["user_id", "cohort", "source"]], on="user_id")
    o["age"] = age_between(o["cohort"], start_of(o["ts"], period), period)
    groups = ["cohort", "source"] if by_source else ["cohort"]
    last_period = start_of(pd.Series([pd.Timestamp(window[1])]), period).iloc[0]
    complete_of = dict(periods_of(window, period))
    rows = []
    for key, members in b.groupby(groups):
        key = key if isinstance(key, tuple) else (key,)
        cohort = key[0]
        size = len(members)
        mine = o[o.user_id.isin(members.user_id)]
        max_age = int(age_between(pd.Series([cohort]), pd.Series([last_period]), period).iloc[0])
        cumulative = 0.0
        for k in range(max_age + 1):
            cumulative += float(mine.loc[mine.age == k, "revenue"].sum()) * margin
            activity = cohort
            for _ in range(k):
                activity = pd.Timestamp(next_start(activity.date(), period))
            row = dict(zip(groups, key, strict=True))
            row.update(
                age=k, buyers=size, ltv=cumulative / size, complete=complete_of.get(activity, False)
            )
            rows.append(row)
    return pd.DataFrame(rows)


def romi_tables(sessions, orders, costs, window, period="month", margin=1.0, horizon=6):
    """Per-source cells with romi, overall cells, window ROMI and N-month ROMI per source."""
    by_cohort, sources, cohorts = cac_tables(sessions, orders, costs, window, period)
    cells = ltv_cells(sessions, orders, window, period, margin, by_source=True)
    cells = cells.merge(by_cohort[["cohort", "source", "cac"]], on=["cohort", "source"], how="left")
    cells["romi"] = [
        (ltv / cac - 1) if (cac == cac and cac > 0) else np.nan
        for ltv, cac in zip(cells.ltv, cells.cac, strict=True)
    ]
    overall = ltv_cells(sessions, orders, window, period, margin, by_source=False)
    overall = overall.merge(cohorts[["cohort", "cac"]], on="cohort", how="left")
    overall["romi"] = [
        (ltv / cac - 1) if (cac == cac and cac > 0) else np.nan
        for ltv, cac in zip(overall.ltv, overall.cac, strict=True)
    ]
    s, o, c = in_window(sessions, orders, costs, window)
    b = acquired_buyers(s, o, period)
    revenue = o.merge(b[["user_id", "source"]], on="user_id").groupby("source").revenue.sum()
    paid = set(c["source"])
    per_source = {}
    for row in sources.itertuples():
        gp = float(revenue.get(row.source, 0.0)) * margin
        window_romi = gp / row.cost - 1 if (row.source in paid and row.cost > 0) else np.nan
        at_n = cells[
            (cells.source == row.source)
            & (cells.age == horizon - 1)
            & cells.complete
            & cells.romi.notna()
        ]
        per_source[row.source] = {
            "gross_profit": gp,
            "romi": window_romi,
            "romi_n": float(at_n.romi.mean()) if len(at_n) else np.nan,
            "cohorts_used": len(at_n),
        }
    return cells, overall, per_source
