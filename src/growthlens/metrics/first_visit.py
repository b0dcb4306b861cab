"""Users, buyers and revenue by weekday and hour of the first visit (docs/metrics.md).

Engine → one small frame: 7 weekdays × 24 hours at most, whatever the data size.
"""

from __future__ import annotations

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import first_visit_times
from growthlens.metrics.fetch import fetch

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def first_visit_slots(ds: Dataset) -> pd.DataFrame:
    """Users by the weekday and hour their first session started, with what they bought.

    Columns: ``weekday`` (1 = Monday … 7 = Sunday, ISO), ``day`` (``Mon`` …, an ordered
    categorical), ``hour``
    (0–23), ``users`` (users whose first visit started then), ``buyers`` (of those, users
    with an order in the window), ``revenue`` (their revenue over the window),
    ``revenue_sq`` (the sum over those users of their revenue squared). Every one
    of the 168 slots is present; a slot without users has zeros. Users with orders but no
    session have no first visit and are not counted here.
    """
    first = first_visit_times(ds)
    orders = ds.table("orders")
    spent = orders.group_by("user_id").aggregate(revenue=orders.revenue.sum())
    joined = first.left_join(spent, "user_id")
    slots = joined.group_by(
        weekday=joined.first_visit_ts.day_of_week.index() + 1,
        hour=joined.first_visit_ts.hour(),
    ).aggregate(
        users=joined.count(),
        buyers=joined.revenue.notnull().sum(),
        revenue=joined.revenue.sum(),
        # Σ (revenue per user)², users without orders as 0: the interval of revenue per user.
        revenue_sq=(joined.revenue.fill_null(0.0) ** 2).sum(),
    )
    frame = fetch(slots)
    grid = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"])
    table = (
        frame.astype({"weekday": "int64", "hour": "int64"})
        .set_index(["weekday", "hour"])
        .reindex(grid)
        .reset_index()
    )
    table["users"] = table["users"].fillna(0).astype("int64")
    table["buyers"] = table["buyers"].fillna(0).astype("int64")
    table["revenue"] = table["revenue"].fillna(0.0).astype(float)
    table["revenue_sq"] = table["revenue_sq"].fillna(0.0).astype(float)
    # Ordered, so charts and sorts put Monday first rather than in alphabetical order.
    day = pd.Categorical([DAY_NAMES[w - 1] for w in table["weekday"]], DAY_NAMES, ordered=True)
    table.insert(1, "day", pd.Series(day, index=table.index))
    return table[["weekday", "day", "hour", "users", "buyers", "revenue", "revenue_sq"]]
