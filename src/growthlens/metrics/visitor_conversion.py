"""Visitor → buyer conversion: visitors and buyers per acquisition cohort and segment.

Definitions (docs/metrics.md, "Sales" → "Visitor conversion"):

- a **visitor** is a user with at least one session in the data window;
- a visitor is a **buyer** when they have at least one order in the window, whenever it
  lies: an order before the first session still counts (the user did buy; the conversion
  lag calls it a negative lag), and the counts of such buyers come back beside the rates
  so the analysis can state them (``ordered_before_visit``: first order before the first
  session; ``only_before_visit``: every order before it);
- users with orders but no session are not visitors: they are outside both counts and are
  counted apart (:func:`buyers_without_session`);
- the **segment** of a visitor (``source``, ``device`` …) is the value on their first
  session (earliest start, ties as DESIGN §4 says: growthlens.derive.acquisition's
  first touch, the session CAC attributes a buyer to by default), ``(unknown)`` when null,
  so segments add up to all visitors;
- the **cohort** of a visitor is the period of their first session.

Engine → small frames only: one aggregate per grouping (cohort, or one dimension).
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyer_visits, first_touch
from growthlens.derive.periods import Period, dates, dimension, period_start
from growthlens.metrics.fetch import fetch

COUNTS = ("users", "buyers", "ordered_before_visit", "only_before_visit")


def _per_user_orders(ds: Dataset) -> ir.Table:
    """One row per user with an order: first and last order time, orders and revenue."""
    orders = ds.table("orders")
    return orders.group_by("user_id").aggregate(
        first_order_ts=orders.ts.min(),
        last_order_ts=orders.ts.max(),
        orders=orders.count(),
        revenue=orders.revenue.sum(),
    )


def _visitors(ds: Dataset) -> ir.Table:
    """One row per visitor: their first session's columns with their orders (null: none)."""
    first = first_touch(ds)
    per_user = _per_user_orders(ds)
    joined = first.left_join(per_user, first.user_id == per_user.user_id)
    return joined.select(
        *[first[c] for c in first.columns],
        per_user.first_order_ts,
        per_user.last_order_ts,
    )


def visitor_counts(ds: Dataset, *, period: Period, group: str | None) -> pd.DataFrame:
    """Visitors and buyers per value of ``group``: ``cohort`` or a session dimension.

    Args:
        ds: a Dataset with sessions and orders.
        period: the cohort period (used when ``group`` is ``"cohort"``).
        group: ``"cohort"`` (period of the first session), a session dimension (its value
            on the first session, ``(unknown)`` when null), or ``None`` for one row.

    Returns:
        ``group`` (absent for ``None``), ``users``, ``buyers``, ``ordered_before_visit``
        (buyers whose first order precedes their first session), ``only_before_visit``
        (buyers with no order at or after their first session); every count an int64.
    """
    v = _visitors(ds)
    bought = v.first_order_ts.notnull()
    measures = {
        "users": v.count(),
        "buyers": bought.sum(),
        "ordered_before_visit": (bought & (v.first_order_ts < v.start_ts)).sum(),
        "only_before_visit": (bought & (v.last_order_ts < v.start_ts)).sum(),
    }
    if group is None:
        frame = fetch(v.aggregate(**measures))
    elif group == "cohort":
        frame = fetch(v.group_by(cohort=period_start(v.start_ts, period)).aggregate(**measures))
        frame["cohort"] = dates(frame["cohort"])
        frame = frame.sort_values("cohort").reset_index(drop=True)
    else:
        frame = fetch(v.group_by(**{group: dimension(v[group])}).aggregate(**measures))
    for column in COUNTS:
        # An empty sessions table sums to null; no visitor is 0 of each count.
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def buyers_without_session(ds: Dataset) -> pd.DataFrame:
    """Users with an order but no session: one row of ``buyers``, ``orders``, ``revenue``.

    They cannot enter a visitor conversion (no visit), so the analysis states how many
    there are and what share of orders and revenue they hold; ``total_orders`` and
    ``total_revenue`` are over all orders, for those shares.
    """
    per_user = _per_user_orders(ds)
    # The buyers' first visits (one row per buyer, kept since the load) mark a buyer
    # without a session with a null start: no distinct count of every session's user.
    visits = buyer_visits(ds)
    sessionless = visits.filter(visits.start_ts.isnull()).select("user_id")
    lonely = per_user.semi_join(sessionless, "user_id")
    frame = fetch(
        lonely.aggregate(
            buyers=lonely.count(), orders=lonely.orders.sum(), revenue=lonely.revenue.sum()
        ).cross_join(
            per_user.aggregate(
                total_orders=per_user.orders.sum(), total_revenue=per_user.revenue.sum()
            )
        )
    )
    for column in ("buyers", "orders", "total_orders"):
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ("revenue", "total_revenue"):
        frame[column] = frame[column].fillna(0.0).astype(float)
    return frame


__all__ = ["COUNTS", "buyers_without_session", "visitor_counts"]
