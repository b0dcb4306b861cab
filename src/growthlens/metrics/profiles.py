"""Active users and retention from the activity profiles (docs/metrics.md, "Product").

The profiles (growthlens.data.profile) hold each distinct set of active days as day
masks with its number of users. Everything here works on them, never on sessions:

- active users per day / week / month = users of the profiles with a bit in that period;
- retention = the same per cohort, a profile's first active period.

Week and month masks are derived from the day masks arithmetically, per profile, and
equal profiles merged again; bits are then expanded to rows with a 62-row bit table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data import profile
from growthlens.data.dataset import Dataset
from growthlens.data.profile import BITS, USERS, mask_columns, one
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import dates, fetch
from growthlens.metrics.periods import Period, dimension, window_periods
from growthlens.metrics.shared import derived


@dataclass(frozen=True)
class Calendar:
    """The periods of one kind that intersect the window, indexed from 0."""

    window: tuple[date, date]
    period: Period

    @cached_property
    def _periods(self) -> pd.DataFrame:
        return window_periods(self.window, self.period)

    @property
    def starts(self) -> list[date]:
        """Start date of each period (the first may begin before the window)."""
        return list(self._periods["period"])

    def day_span(self, k: int) -> tuple[int, int]:
        """First and last window-day index of period ``k``, clipped to the window."""
        start, last = self._periods["period"].iloc[k], self._periods["end"].iloc[k]
        days = (self.window[1] - self.window[0]).days
        return max((start - self.window[0]).days, 0), min((last - self.window[0]).days, days)

    def start_of(self, index: pd.Series) -> pd.Series:
        """Period start dates for a column of period indices."""
        starts = pd.Series(pd.to_datetime(self.starts))
        return dates(starts.iloc[index.astype("int64").to_numpy()].reset_index(drop=True))


def _window(ds: Dataset) -> tuple[date, date]:
    if ds.window is None:
        raise ConfigError("this analysis needs a data window; set window = [start, end]")
    return ds.window


def profiles(ds: Dataset, *, by: str | None = None, first_touch: bool = False) -> ir.Table:
    """Distinct day masks and how many users have them, stored once per Dataset.

    Columns: ``by`` (if given), ``d0``, ``d1``, … (day masks) and ``users``.

    Args:
        ds: the dataset (sessions required).
        by: a session dimension. By default a user active on two values of it counts
            once for each (activity by device); with ``first_touch`` the user is put
            under the value of their first session (retention by first-session source).
        first_touch: see ``by``.
    """
    key = profile.KEY if by is None else (profile.KEY, by, first_touch)
    return derived(ds, key, lambda: _profiles(ds, by, first_touch))


def _profiles(ds: Dataset, by: str | None, first_touch: bool) -> ir.Table:
    window = _window(ds)
    sessions = ds.table("sessions")
    if by is None:
        return profile.build(sessions, window, ds.backend)
    masks = profile.day_masks(sessions, window, ds.backend)
    if not first_touch:
        keyed = sessions.mutate(**{by: dimension(sessions[by])})
        per_user = keyed.group_by(["user_id", by]).aggregate(**masks)
    else:
        from growthlens.metrics.acquisition import first_touch as first_sessions

        first = first_sessions(ds)
        first = first.select("user_id", **{by: dimension(first[by])})
        per_user = sessions.group_by("user_id").aggregate(**masks).inner_join(first, "user_id")
    return per_user.group_by([by, *masks]).aggregate(**{USERS: per_user.count()})


def period_profiles(
    ds: Dataset, period: Period, *, by: str | None = None, first_touch: bool = False
) -> tuple[ir.Table, list[str], Calendar]:
    """Profiles with masks over ``period`` (``p0``, ``p1``, …) instead of days.

    A user is active in a week or month when any of its days has a bit set; profiles that
    become equal are merged.
    """
    window = _window(ds)
    table = profiles(ds, by=by, first_touch=first_touch)
    calendar = Calendar(window, period)
    keys = [by] if by is not None else []
    days = mask_columns("d", (window[1] - window[0]).days + 1)
    if period == "day":
        return table, days, calendar
    unit = one()
    n = len(calendar.starts)
    out_masks = mask_columns("p", n)
    terms: dict[str, ir.IntegerValue] = {m: ibis.literal(0, type="int64") for m in out_masks}
    for k in range(n):
        first, last = calendar.day_span(k)
        active: ir.BooleanValue = ibis.literal(False)
        for j in range(first // BITS, last // BITS + 1):
            lo, hi = max(first, j * BITS) - j * BITS, min(last, j * BITS + BITS - 1) - j * BITS
            span = ((1 << (hi - lo + 1)) - 1) << lo
            active = active | ((table[days[j]] & ibis.literal(span, type="int64")) != 0)
        name = out_masks[k // BITS]
        terms[name] = terms[name] + ibis.ifelse(active, unit << (k % BITS), 0)
    derived_masks = table.select(*keys, USERS, **terms)
    grouped = derived(
        ds,
        ("period_profiles", period, by, first_touch and by is not None),
        lambda: derived_masks.group_by([*keys, *out_masks]).aggregate(
            **{USERS: derived_masks[USERS].sum()}
        ),
    )
    return grouped, out_masks, calendar


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
