"""Costs and sessions that do not meet by campaign, computed once in the engine.

The one definition behind the campaign checks of ``gl.channels`` (docs/channels.md,
"Campaign checks") and of ``gl.consistency`` (docs/reconcile.md, "gl.consistency"). It
needs a campaign column in both costs and sessions; rows with a null campaign take no part.

- A **paid** cost row has cost > 0 (the load rejects negative cost; a null or 0 cost is no
  spend), and a **paid campaign** has at least one paid row.
- **Campaigns without sessions**: paid campaigns that no session has. Per campaign its
  paid ``rows`` and their ``cost``. Their spend is one finding per campaign, so their days
  are not counted again below.
- **Campaigns without cost**: campaigns of the sessions without a paid row (no cost row,
  or cost 0 in every row). Per campaign its ``sessions`` and its ``cost_rows`` (all of cost
  0; 0 when it has none: missing from the export rather than unpaid).
- **Idle cost days**: paid rows of campaigns that have sessions, dated on a day on which
  no session of that campaign starts (a session's day is the date of its start). Per
  campaign the ``rows``, distinct ``days``, ``cost``, ``first_date`` and ``last_date``.

One aggregate per campaign is computed in the engine and fetched (a row per campaign);
the three tables and their totals are read from it, and the first idle (date, campaign)
pairs in text order come from a second small query.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import dates
from growthlens.metrics.fetch import fetch
from growthlens.text import natural_key

IDLE = ("campaign", "rows", "days", "cost", "first_date", "last_date")
WITHOUT_SESSIONS = ("campaign", "rows", "cost")
WITHOUT_COST = ("campaign", "sessions", "cost_rows")


@dataclass(frozen=True)
class CampaignCosts:
    """How cost rows and sessions meet by campaign (see the module docstring).

    Attributes:
        available: costs and sessions both have a campaign column (else zeros and empty
            tables: nothing could be checked).
        paid_campaigns: campaigns with a paid cost row.
        session_campaigns: campaigns with a session.
        paid_rows: paid cost rows of campaigns with sessions (those the day check reads).
        idle_rows: those of them on a day with no session of their campaign.
        idle_days: distinct (campaign, date) pairs among the idle rows.
        idle_cost: the cost of the idle rows.
        idle: per campaign: ``campaign``, ``rows``, ``days``, ``cost``, ``first_date``,
            ``last_date`` of its idle rows; largest cost first.
        idle_examples: the first idle pairs as ``"date campaign"``, in text order.
        without_sessions: ``campaign``, ``rows`` (paid), ``cost``; largest cost first.
        without_cost: ``campaign``, ``sessions``, ``cost_rows`` (of cost 0); most
            sessions first.
    """

    available: bool
    paid_campaigns: int
    session_campaigns: int
    paid_rows: int
    idle_rows: int
    idle_days: int
    idle_cost: float
    idle: pd.DataFrame
    idle_examples: tuple[str, ...]
    without_sessions: pd.DataFrame
    without_cost: pd.DataFrame


def campaign_costs(ds: Dataset, *, examples: int = 5) -> CampaignCosts:
    """Costs against sessions by campaign and day (see the module docstring).

    Args:
        ds: a Dataset; without costs and sessions that both have a campaign column
            nothing is checked (``available`` False).
        examples: how many idle (date, campaign) pairs to keep in ``idle_examples``.
    """
    if not _has_campaigns(ds):
        return CampaignCosts(
            available=False,
            paid_campaigns=0,
            session_campaigns=0,
            paid_rows=0,
            idle_rows=0,
            idle_days=0,
            idle_cost=0.0,
            idle=_frame(IDLE),
            idle_examples=(),
            without_sessions=_frame(WITHOUT_SESSIONS),
            without_cost=_frame(WITHOUT_COST),
        )
    c, s = ds.table("costs"), ds.table("sessions")
    costs = c.filter(c.campaign.notnull()).select(
        camp=c.campaign.cast("string"), date=c.date, cost=c.cost.cast("float64")
    )
    sessions = s.filter(s.campaign.notnull()).select(
        camp=s.campaign.cast("string"), date=s.start_ts.date()
    )
    paid = costs.filter(costs.cost > 0)
    seen = sessions.group_by("camp").aggregate(sessions=sessions.count())
    days = sessions.distinct()
    idle = paid.semi_join(seen, "camp").anti_join(days, ["camp", "date"])
    per = _per_campaign(costs, paid, seen, idle)
    has_sessions = per["sessions"] > 0
    is_paid = per["paid_rows"] > 0
    with_idle = per[per["idle_rows"] > 0]
    idle_table = pd.DataFrame(
        {
            "campaign": with_idle["campaign"],
            "rows": with_idle["idle_rows"],
            "days": with_idle["idle_days"],
            "cost": with_idle["idle_cost"],
            "first_date": dates(with_idle["first_date"]),
            "last_date": dates(with_idle["last_date"]),
        },
        columns=list(IDLE),
    )
    lost = per[is_paid & ~has_sessions]
    free = per[has_sessions & ~is_paid]
    picked = idle.select(_x=idle.date.cast("string") + " " + idle.camp).distinct()
    first = (
        tuple(str(v) for v in fetch(picked.order_by("_x").limit(examples))["_x"])
        if examples > 0 and len(with_idle)
        else ()
    )
    return CampaignCosts(
        available=True,
        paid_campaigns=int(is_paid.sum()),
        session_campaigns=int(has_sessions.sum()),
        paid_rows=int(per.loc[has_sessions, "paid_rows"].sum()),
        idle_rows=int(with_idle["idle_rows"].sum()),
        idle_days=int(with_idle["idle_days"].sum()),
        idle_cost=float(with_idle["idle_cost"].sum()),
        idle=_by_size(idle_table, "cost"),
        idle_examples=first,
        without_sessions=_by_size(
            pd.DataFrame(
                {"campaign": lost["campaign"], "rows": lost["paid_rows"], "cost": lost["cost"]},
                columns=list(WITHOUT_SESSIONS),
            ),
            "cost",
        ),
        without_cost=_by_size(
            pd.DataFrame(
                {
                    "campaign": free["campaign"],
                    "sessions": free["sessions"],
                    "cost_rows": free["cost_rows"],
                },
                columns=list(WITHOUT_COST),
            ),
            "sessions",
        ),
    )


def _has_campaigns(ds: Dataset) -> bool:
    return (
        ds.has("costs", "sessions")
        and "campaign" in ds.table("costs").columns
        and "campaign" in ds.table("sessions").columns
    )


def _per_campaign(costs: ir.Table, paid: ir.Table, seen: ir.Table, idle: ir.Table) -> pd.DataFrame:
    """One row per campaign of the costs or the sessions, its counts 0 where it has none."""
    cost_side = costs.group_by("camp").aggregate(
        cost_rows=costs.count(), paid_rows=costs.count(where=costs.cost > 0)
    )
    spend = paid.group_by("camp").aggregate(cost=paid.cost.sum())
    idle_side = idle.group_by("camp").aggregate(
        idle_rows=idle.count(),
        idle_days=idle.date.nunique(),
        idle_cost=idle.cost.sum(),
        first_date=idle.date.min(),
        last_date=idle.date.max(),
    )
    names = cost_side.select("camp").union(seen.select("camp"), distinct=True)
    j = (
        names.left_join(cost_side, names.camp == cost_side.camp)
        .left_join(spend, names.camp == spend.camp)
        .left_join(seen, names.camp == seen.camp)
        .left_join(idle_side, names.camp == idle_side.camp)
    )
    zero = ibis.literal(0)
    counted = j.select(
        campaign=names.camp,
        cost_rows=cost_side.cost_rows.fill_null(zero),
        paid_rows=cost_side.paid_rows.fill_null(zero),
        cost=spend.cost.fill_null(0.0),
        sessions=seen.sessions.fill_null(zero),
        idle_rows=idle_side.idle_rows.fill_null(zero),
        idle_days=idle_side.idle_days.fill_null(zero),
        idle_cost=idle_side.idle_cost.fill_null(0.0),
        first_date=idle_side.first_date,
        last_date=idle_side.last_date,
    )
    per = fetch(counted)
    for col in ("cost_rows", "paid_rows", "sessions", "idle_rows", "idle_days"):
        per[col] = per[col].astype("int64")
    for col in ("cost", "idle_cost"):
        per[col] = per[col].astype("float64")
    return per


def _frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def _by_size(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Largest ``column`` first, then the campaign in natural order."""
    order = sorted(
        range(len(frame)),
        key=lambda i: (-float(frame[column].iloc[i]), natural_key(frame["campaign"].iloc[i])),
    )
    return frame.iloc[order].reset_index(drop=True)
