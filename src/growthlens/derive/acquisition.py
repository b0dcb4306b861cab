"""Who a buyer is: first order, cohort and acquisition source (DESIGN §4, Marketing).

Derived tables declared here: ``first_orders``, ``first_sessions``, ``first_visit_times``,
``buyer_visits``, ``buyers``, ``order_cells`` and ``buyer_cells``. One definition shared by
conversion lag, LTV, CAC and ROMI, so "buyers of source 3 in the June cohort" means the
same thing in every table.
"""

from __future__ import annotations

from typing import Literal

import ibis
import ibis.expr.types as ir

from growthlens.data import firsts, profile
from growthlens.data.dataset import Dataset
from growthlens.data.firsts import (
    BUYER_VISITS,
    FIRST_ORDERS,
    buyer_first_sessions,
    first_rows,
    first_sessions,
)
from growthlens.derive.periods import Period, age, dimension, period_start
from growthlens.derive.registry import declare
from growthlens.errors import ConfigError

AcquisitionModel = Literal["first_touch", "last_touch"]
_NOT_DIMENSIONS = ("user_id", "start_ts", "end_ts", "session_id")


def session_dimensions(ds: Dataset) -> tuple[str, ...]:
    """Columns of the sessions table usable as ``by=`` dimensions (source, device, extras)."""
    if not ds.has("sessions"):
        return ()
    return tuple(c for c in ds.table("sessions").columns if c not in _NOT_DIMENSIONS)


FIRST_ORDERS_TABLE = declare(
    FIRST_ORDERS,  # the load files its own under this name
    "One row per buyer: user_id, first_order_ts (the earliest order).",
    needs=("orders",),
    builder=lambda ds: firsts.first_orders(ds.table("orders")),
)


def check_dimension(ds: Dataset, by: str | None) -> str | None:
    """``by`` when it is a session dimension of ``ds`` (or ``None``), else a ConfigError.

    The one message for every ``by=`` of a session dimension (activity, retention,
    conversion lag, LTV, ROMI …): what was asked, and what the dataset has.
    """
    if by is None:
        return None
    dims = session_dimensions(ds)
    if by not in dims:
        raise ConfigError(
            f"cannot break down by {by!r}: it is not a session dimension of this dataset "
            f"(dimensions: {', '.join(dims) or 'none: the dataset has no sessions'})"
        )
    return by


def first_orders(ds: Dataset) -> ir.Table:
    """Each buyer's first order time: ``user_id``, ``first_order_ts``.

    The load builds it for its order checks; see growthlens.data.firsts.first_orders.
    """
    return ds.derived(FIRST_ORDERS_TABLE())


def buyers(
    ds: Dataset, *, period: Period = "month", acquisition: AcquisitionModel | None = None
) -> ir.Table:
    """One row per buyer with cohort and acquisition attributes.

    Columns: ``user_id``, ``first_order_ts``, ``cohort`` (period start of the first
    order), ``first_visit_ts`` (null without sessions) and every session dimension
    (``source``, ``device``, …) of the acquiring session as text, ``(unknown)`` when
    the buyer has no session or the value is null.

    ``acquisition``: ``first_touch`` (default, the user's first session) or
    ``last_touch`` (the last session starting at or before the first order; buyers whose
    sessions all come later fall back to their first session).
    """
    model = acquisition or ds.settings.acquisition
    return ds.derived(BUYERS(period=period, model=model))


def order_cells(ds: Dataset, *, period: Period = "month") -> ir.Table:
    """Buyers' orders and revenue per (cohort, age, every session dimension), stored once.

    LTV, orders per buyer, gross profit and ROMI all roll this small table up instead of
    joining the orders to the buyers again.
    """
    return ds.derived(ORDER_CELLS(period=period))


def _order_cells(ds: Dataset, period: Period) -> ir.Table:
    b = buyers(ds, period=period)
    dims = [d for d in session_dimensions(ds) if d in b.columns]
    orders = ds.table("orders")
    joined = orders.inner_join(b.select("user_id", "cohort", *dims), "user_id")
    cell_age = age(joined.cohort, period_start(joined.ts, period), period)
    return joined.group_by([joined.cohort, cell_age.name("age"), *dims]).aggregate(
        orders=joined.count(), revenue=joined.revenue.sum()
    )


def buyer_cells(ds: Dataset, *, period: Period = "month") -> ir.Table:
    """Buyers per (cohort, first-visit period, every session dimension), stored once.

    ``visit_cohort`` is null for buyers without a session; ``without_session`` counts them.
    """
    return ds.derived(BUYER_CELLS(period=period))


def _buyer_cells(ds: Dataset, period: Period) -> ir.Table:
    b = buyers(ds, period=period)
    dims = [d for d in session_dimensions(ds) if d in b.columns]
    visit = period_start(b.first_visit_ts, period).name("visit_cohort")
    return b.group_by([b.cohort, visit, *dims]).aggregate(
        buyers=b.count(), without_session=b.first_visit_ts.isnull().sum()
    )


def first_touch(ds: Dataset) -> ir.Table:
    """Each user's first session (all its columns), stored once per Dataset."""
    return ds.derived(FIRST_SESSIONS())


def buyer_visits(ds: Dataset) -> ir.Table:
    """Each buyer's first order time and first session (growthlens.data.firsts.buyer_visits).

    Built at load, where the order checks read it, else stored once here.
    """
    return ds.derived(BUYER_VISITS_TABLE())


def buyer_first_touch(ds: Dataset) -> ir.Table:
    """Each buyer's first session (all its columns); buyers without one have no row."""
    visits = buyer_visits(ds)
    columns = ds.table("sessions").columns
    return visits.filter(visits.start_ts.notnull()).select(*columns)


def _buyers(ds: Dataset, period: Period, model: AcquisitionModel) -> ir.Table:
    if not ds.has("sessions"):
        first = first_orders(ds)
        first = first.mutate(cohort=period_start(first.first_order_ts, period))
        return first.mutate(first_visit_ts=ibis.null("timestamp"))
    dims = session_dimensions(ds)
    # Only buyers' sessions matter here: a few buyers among many visitors, so ranking
    # their sessions is far cheaper than ranking everyone's.
    visits = buyer_visits(ds)
    columns = {
        "cohort": period_start(visits.first_order_ts, period),
        "first_visit_ts": visits.start_ts,
    }
    if model == "first_touch":
        # The first visit and its attributes come from one row.
        joined = visits.select(
            "user_id", "first_order_ts", **columns, **{d: visits[d] for d in dims}
        )
        return joined.mutate(**{d: dimension(joined[d]) for d in dims})
    first = visits.select("user_id", "first_order_ts", **columns)
    sessions = ds.table("sessions")
    before = sessions.inner_join(first.select("user_id", "first_order_ts"), "user_id")
    before = before.filter(before.start_ts <= before.first_order_ts).select(*sessions.columns)
    order = ["start_ts"] + (["session_id"] if "session_id" in sessions.columns else [])
    last = first_rows(before, key="user_id", order=order, latest=True)
    touch = buyer_first_touch(ds)
    touch = last.union(touch.anti_join(last, "user_id"))
    joined = first.left_join(touch.select("user_id", *dims), "user_id").select(
        first, *[touch[d] for d in dims]
    )
    return joined.mutate(**{d: dimension(joined[d]) for d in dims})


def _may_tie(ds: Dataset) -> ir.Table | None:
    """Users who may start two sessions at one instant, from the load's activity profiles.

    ``None`` (every user is checked for ties) when the profiles are not the current ones.
    """
    built = ds.byproduct(profile.KEY)
    return None if built is None else profile.repeat_users(built)


FIRST_SESSIONS = declare(
    "first_sessions",
    "One row per user: their first session (every column; ties broken as DESIGN §4 says).",
    needs=("sessions",),
    builder=lambda ds: first_sessions(ds.table("sessions"), may_tie=_may_tie(ds)),
)
BUYER_VISITS_TABLE = declare(
    BUYER_VISITS,  # the load files its own under this name
    "One row per buyer: first_order_ts and the columns of their first session (null without one).",
    needs=("orders", "sessions"),
    builder=lambda ds: firsts.buyer_visits(first_orders(ds), buyer_first_sessions(ds.tables)),
)
BUYERS = declare(
    "buyers",
    "One row per buyer: user_id, first_order_ts, cohort, first_visit_ts and every session "
    "dimension of the acquiring session as text ((unknown) when missing).",
    needs=("orders",),
    builder=_buyers,
)
ORDER_CELLS = declare(
    "order_cells",
    "Buyers' orders and revenue per (cohort, age, every session dimension).",
    needs=("orders",),
    builder=_order_cells,
)
BUYER_CELLS = declare(
    "buyer_cells",
    "Buyers per (cohort, visit_cohort, every session dimension); without_session counts "
    "buyers with no session.",
    needs=("orders",),
    builder=_buyer_cells,
)
FIRST_VISIT_TIMES = declare(
    "first_visit_times",
    "One row per user with a session: user_id, first_visit_ts (the earliest session start).",
    needs=("sessions",),
    builder=lambda ds: _first_visit_times(ds),
)


def _first_visit_times(ds: Dataset) -> ir.Table:
    # A user's first session starts at their earliest start: read off the stored first
    # sessions when an analysis built them, else one minimum per user over the sessions.
    first = ds.stored(FIRST_SESSIONS())
    if first is not None:
        return first.select("user_id", first_visit_ts=first.start_ts)
    sessions = ds.table("sessions")
    return sessions.group_by("user_id").aggregate(first_visit_ts=sessions.start_ts.min())


def first_visit_times(ds: Dataset) -> ir.Table:
    """Each user's first session start: ``user_id``, ``first_visit_ts``."""
    return ds.derived(FIRST_VISIT_TIMES())
