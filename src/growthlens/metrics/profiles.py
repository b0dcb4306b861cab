"""Active users and retention from the activity profiles (docs/metrics.md, "Product").

The profiles (growthlens.data.profile) hold each distinct set of active days as day
masks with its number of users. Everything here works on them, never on sessions:

- active users per day / week / month = users of the profiles with a bit in that period;
- retention = the same per cohort, a profile's first active period.

Week and month masks are derived from the day masks arithmetically, per profile, and
equal profiles merged again; bits are then expanded to rows with a 62-row bit table.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.profile import BITS, USERS, one
from growthlens.derive.activity import Calendar, period_profiles
from growthlens.derive.periods import Period
from growthlens.metrics.fetch import fetch


def _bits() -> ir.Table:
    return ibis.memtable(pd.DataFrame({"_bit": pd.Series(range(BITS), dtype="int64")}))


def _expand(table: ir.Table, masks: list[str], keep: list[str]) -> ir.Table:
    """One row per set bit: ``keep`` columns, ``index`` (period index) and ``users``."""
    bits = _bits()
    parts = []
    unit = one()
    for j, mask in enumerate(masks):
        nonzero = table.filter(table[mask] != 0)
        crossed = nonzero.cross_join(bits)
        crossed = crossed.filter((crossed[mask] & (unit << crossed._bit)) != 0)
        parts.append(crossed.select(*keep, USERS, index=(crossed._bit + j * BITS).cast("int64")))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def active_counts(ds: Dataset, period: Period, *, by: str | None = None) -> pd.DataFrame:
    """Distinct active users per period [× by]: columns ``start``, ``by``, ``users``."""
    table, masks, calendar = period_profiles(ds, period, by=by)
    keys = [by] if by is not None else []
    # Only the marginal per period is needed, so each mask is counted on its own first:
    # far fewer distinct values than whole profiles.
    parts = []
    for j, mask in enumerate(masks):
        part = table.group_by([*keys, mask]).aggregate(**{USERS: table[USERS].sum()})
        expanded_part = _expand(part, [mask], keys)
        if j:
            expanded_part = expanded_part.mutate(index=expanded_part["index"] + j * BITS)
        parts.append(expanded_part)
    expanded = ibis.union(*parts) if len(parts) > 1 else parts[0]
    counts = fetch(expanded.group_by([*keys, "index"]).aggregate(**{USERS: expanded[USERS].sum()}))
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
    expanded = _expand(table, masks, [*keys, *masks])
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
