"""Active users and retention from the activity profiles (docs/metrics.md, "Product").

The profiles (growthlens.data.profile) hold each distinct set of active days as day
masks with its number of users. Everything here works on them, never on sessions:

- active users per day / week / month = users of the profiles with a bit in that period;
- retention = the same per cohort, a profile's first active period.

Week and month masks are derived from the day masks arithmetically, per profile, and
equal profiles merged again; bits are then expanded to rows with a 62-row bit table.
"""

from __future__ import annotations

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.profile import USERS
from growthlens.derive.activity import (
    Calendar,
    expand_bits,
    marginal_users,
    period_profiles,
    session_users,
)
from growthlens.derive.periods import Period, dates
from growthlens.metrics.fetch import fetch


def active_counts(ds: Dataset, period: Period, *, by: str | None = None) -> pd.DataFrame:
    """Distinct active users per period [× by]: columns ``start``, ``by``, ``users``.

    Without ``by`` these are the users with a session per period (``session_users``,
    which the KPI and channel tables read too).
    """
    if by is None:
        counts = fetch(session_users(ds, None, ("period",), period))
        return pd.DataFrame({"start": dates(counts["period"]), USERS: counts[USERS]})
    table, masks, calendar = period_profiles(ds, period, by=by)
    counts = fetch(marginal_users(table, masks, [by]))
    counts.insert(0, "start", calendar.start_of(counts.pop("index")))
    return counts


def cohort_cells(
    ds: Dataset, period: Period, *, by: str | None = None
) -> tuple[pd.DataFrame, Calendar]:
    """Users per (cohort, ``by``, age): cohort = first active period, ``by`` of the first session.

    Columns: ``cohort`` (period start), ``by``, ``age``, ``users``. Age 0 holds every
    user of the cohort, so it is the cohort's size.
    """
    table, masks, calendar = period_profiles(ds, period, by=by, first_touch=True)
    keys = [by] if by is not None else []
    expanded = expand_bits(table, masks, [*keys, *masks])
    cohort = expanded["index"].min().over(group_by=[expanded[c] for c in [*keys, *masks]])
    with_cohort = expanded.mutate(cohort=cohort)
    cells = fetch(
        with_cohort.group_by(
            [*keys, "cohort", (with_cohort["index"] - with_cohort.cohort).name("age")]
        ).aggregate(**{USERS: with_cohort[USERS].sum()})
    )
    cohorts = cells["cohort"].astype("int64")
    # Consecutive period indices: the age is their difference.
    cells["age"] = cells["age"].astype("int64")
    cells["cohort"] = calendar.start_of(cohorts)
    return cells[["cohort", *keys, "age", USERS]], calendar
