"""Retention and stickiness on chosen events, in the engine (docs/paths.md).

Cohort = period of a user's first ``start`` event; the user is retained at age k ≥ 1 when a
``back`` event lies in period cohort + k. Age 0 is the cohort itself (retention 1, as
retention(c, 0) of DESIGN §4); whether the user did ``back`` in the start period, at or
after the first ``start``, is counted beside it (``back_same_period``). The cells are laid
on the same observed grid as session retention (growthlens.metrics.cohorts).

Stickiness is measured on the ``back`` event alone: distinct users with a ``back`` event
per day, ISO week and month (every period intersecting the window, 0 where nobody did
it), and per user-week how many distinct days had one.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import PERIODS, Period, age, dates, period_start, window_periods
from growthlens.metrics.cohorts import observed_grid
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import StepRule


def _rows(ds: Dataset, rule: StepRule) -> ir.Table:
    events = ds.table("events")
    events = events.filter(events.ts.notnull())
    return events.filter(rule.matches(events).fill_null(False))


def event_retention_table(
    ds: Dataset,
    *,
    start: StepRule,
    back: StepRule,
    period: Period,
    window: tuple[date, date],
) -> pd.DataFrame:
    """retention(c, k) per observed cell on the chosen events.

    Columns: ``cohort``, ``age``, ``users`` (cohort size), ``active_users`` (users with a
    ``back`` event in period c + k; at age 0 the whole cohort), ``retention``,
    ``back_same_period`` (age 0 only: users with a ``back`` event in the start period at or
    after their first ``start``; 0 at other ages) and ``complete``.
    """
    starts = _rows(ds, start)
    firsts = starts.group_by("user_id").aggregate(first_ts=starts.ts.min())
    firsts = firsts.mutate(cohort=period_start(firsts.first_ts, period))
    sizes = fetch(firsts.group_by("cohort").aggregate(users=firsts.count()))
    backs = _rows(ds, back)
    backs = backs.select(_user=backs.user_id, ts=backs.ts)
    joined = firsts.inner_join(backs, firsts.user_id == backs._user)
    joined = joined.mutate(
        age=age(joined.cohort, period_start(joined.ts, period), period).cast("int64")
    )
    # Age 0 counts only a return at or after the first start (a back event earlier in the
    # same period is not a return).
    returns = joined.filter(
        (joined.age >= 1) | ((joined.age == 0) & (joined.ts >= joined.first_ts))
    )
    per_user = returns.select("user_id", "cohort", "age").distinct()
    cells = fetch(per_user.group_by("cohort", "age").aggregate(returned=per_user.count()))
    sizes["cohort"] = dates(sizes["cohort"])
    sizes["users"] = sizes["users"].astype("int64")
    sizes = sizes.sort_values("cohort").reset_index(drop=True)
    grid = observed_grid(sizes[["cohort", "users"]], window=window, period=period, keys=[])
    cells["cohort"] = dates(cells["cohort"])
    cells["age"] = cells["age"].astype("int64")
    table = grid.merge(cells, on=["cohort", "age"], how="left", validate="one_to_one")
    returned = table["returned"].fillna(0).astype("int64")
    at_start = table["age"] == 0
    table["active_users"] = returned.where(~at_start, table["users"])
    table["back_same_period"] = returned.where(at_start, 0)
    table["retention"] = table["active_users"] / table["users"]
    return table[
        ["cohort", "age", "users", "active_users", "retention", "back_same_period", "complete"]
    ]


def event_active_users(
    ds: Dataset, *, back: StepRule, window: tuple[date, date]
) -> dict[Period, pd.DataFrame]:
    """Distinct users with a ``back`` event per day, week and month.

    Every period intersecting the window is present: columns ``start``, ``users`` and
    ``complete`` (the period lies wholly inside the window).
    """
    backs = _rows(ds, back)
    days = backs.select("user_id", day=backs.ts.date()).distinct()
    out: dict[Period, pd.DataFrame] = {}
    for period in PERIODS:
        starts = days.select("user_id", start=period_start(days.day, period)).distinct()
        counts = fetch(starts.group_by("start").aggregate(users=starts.count()))
        counts["start"] = dates(counts["start"])
        grid = window_periods(window, period).rename(columns={"period": "start"})
        grid["start"] = dates(grid["start"])
        table = grid[["start", "complete"]].merge(counts, on="start", how="left")
        table["users"] = table["users"].fillna(0).astype("int64")
        out[period] = table[["start", "users", "complete"]]
    return out


def days_per_week(ds: Dataset, *, back: StepRule, window: tuple[date, date]) -> pd.DataFrame:
    """Per number of days (1–7): user-weeks with a ``back`` event on that many days.

    Only ISO weeks wholly inside the window count (a partial week would cap the days).
    Columns ``days``, ``user_weeks``.
    """
    backs = _rows(ds, back)
    days = backs.select("user_id", day=backs.ts.date()).distinct()
    days = days.mutate(week=period_start(days.day, "week"))
    grid = window_periods(window, "week")
    complete = [d for d, c in zip(grid["period"], grid["complete"], strict=True) if c]
    if not complete:
        return pd.DataFrame({"days": range(1, 8), "user_weeks": [0] * 7})
    inside = days.filter((days.week >= ibis.literal(complete[0])) & (days.week <= complete[-1]))
    per_week = inside.group_by("user_id", "week").aggregate(days=inside.count())
    counts = fetch(per_week.group_by("days").aggregate(user_weeks=per_week.count()))
    frame = pd.DataFrame({"days": range(1, 8)}).merge(counts.astype("int64"), on="days", how="left")
    frame["user_weeks"] = frame["user_weeks"].fillna(0).astype("int64")
    return frame


__all__ = ["days_per_week", "event_active_users", "event_retention_table"]
