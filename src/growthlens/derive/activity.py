"""Activity profiles: each distinct set of active days (or weeks, months) and its users.

Derived tables declared here: ``activity_profiles`` (day masks [× a session dimension]),
``period_profiles`` (the same over weeks or months), ``session_lengths`` (sessions per
exact length), ``session_users`` (distinct users per session value and period) and
``sessions_per_day``. The load builds the plain profiles, the length
counts and the per-day counts for its own checks, and they are reused as they are.

Week and month masks are derived from the day masks arithmetically, per profile, and
equal profiles merged again (growthlens.data.profile has the mask layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data import lengths, profile
from growthlens.data.dataset import Dataset
from growthlens.data.profile import BITS, USERS, mask_columns, one
from growthlens.data.validate import SESSIONS_PER_DAY
from growthlens.derive.acquisition import first_touch as first_sessions
from growthlens.derive.periods import Period, dates, dimension, period_start, window_periods
from growthlens.derive.registry import declare
from growthlens.errors import ConfigError


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
    if by is None:
        return ds.derived(PROFILES())
    return ds.derived(PROFILES(by=by, first_touch=first_touch))


def _profiles(ds: Dataset, by: str | None = None, first_touch: bool = False) -> ir.Table:
    window = _window(ds)
    sessions = ds.table("sessions")
    if by is None:
        return profile.build(sessions, window, ds.backend)
    masks = profile.day_masks(sessions, window, ds.backend)
    if not first_touch:
        keyed = sessions.mutate(**{by: dimension(sessions[by])})
        per_user = keyed.group_by(["user_id", by]).aggregate(**masks)
    else:
        first = first_sessions(ds)
        first = first.select("user_id", **{by: dimension(first[by])})
        per_user = sessions.group_by("user_id").aggregate(**masks).inner_join(first, "user_id")
    return per_user.group_by([by, *masks]).aggregate(**{USERS: per_user.count()})


def _period_profiles(ds: Dataset, period: Period, by: str | None, first_touch: bool) -> ir.Table:
    window = _window(ds)
    table = profiles(ds, by=by, first_touch=first_touch)
    calendar = Calendar(window, period)
    keys = [by] if by is not None else []
    days = mask_columns("d", (window[1] - window[0]).days + 1)
    out_masks, terms = _period_terms(table, days, calendar)
    merged = table.select(*keys, USERS, **terms)
    return merged.group_by([*keys, *out_masks]).aggregate(**{USERS: merged[USERS].sum()})


def _period_terms(
    table: ir.Table, days: list[str], calendar: Calendar
) -> tuple[list[str], dict[str, ir.IntegerValue]]:
    """Period masks as expressions over a profile's day masks."""
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
    return out_masks, terms


def period_profiles(
    ds: Dataset, period: Period, *, by: str | None = None, first_touch: bool = False
) -> tuple[ir.Table, list[str], Calendar]:
    """Profiles with masks over ``period`` (``p0``, ``p1``, …) instead of days.

    A user is active in a week or month when any of its days has a bit set; profiles that
    become equal are merged.
    """
    window = _window(ds)
    calendar = Calendar(window, period)
    if period == "day":
        days = mask_columns("d", (window[1] - window[0]).days + 1)
        return profiles(ds, by=by, first_touch=first_touch), days, calendar
    out_masks = mask_columns("p", len(calendar.starts))
    grouped = ds.derived(
        PERIOD_PROFILES(period=period, by=by, first_touch=first_touch and by is not None)
    )
    return grouped, out_masks, calendar


def session_length_counts(ds: Dataset, by: str | None = None) -> ir.Table:
    """Sessions per exact length in microseconds [× ``by``] (growthlens.data.lengths)."""
    if by is None:
        return ds.derived(SESSION_LENGTHS())
    return ds.derived(SESSION_LENGTHS(by=by))


def _session_lengths(ds: Dataset, by: str | None = None) -> ir.Table:
    sessions = ds.table("sessions")
    if by is None:
        return lengths.length_counts(sessions)
    return lengths.length_counts(sessions.mutate(**{by: dimension(sessions[by])}), [by])


def session_users(
    ds: Dataset, column: str | None, keys: tuple[str, ...], period: Period | None = None
) -> ir.Table:
    """Distinct users with sessions per value of session ``column`` [× period start].

    ``keys`` names the grouping: ``"value"`` (the column as a dimension, DESIGN §4's
    ``(unknown)`` for missing values) and/or ``"period"`` (the session start's ``period``);
    ``()`` gives one row, the users of the whole window. Columns: the keys and ``users``.
    Stored once per Dataset: the channel tables of the whole window and per period, and
    the KPI table, ask for the same counts.
    """
    if "value" in keys and column is None:
        raise ValueError("session_users: keys with 'value' need a column")
    if "period" in keys and period is None:
        raise ValueError("session_users: keys with 'period' need a period")
    return ds.derived(
        SESSION_USERS(
            column=column if "value" in keys else None,
            keys=keys,
            period=period if "period" in keys else None,
        )
    )


def _session_users(
    ds: Dataset, column: str | None, keys: tuple[str, ...], period: Period | None
) -> ir.Table:
    sessions = ds.table("sessions")
    named: dict[str, ir.Value] = {}
    if column is not None:
        named["value"] = dimension(sessions[column])
    if period is not None:
        named["period"] = period_start(sessions.start_ts, period)
    users = sessions.user_id.nunique()
    if not named:
        return sessions.aggregate(users=users)
    return sessions.group_by(**named).aggregate(users=users)


def sessions_per_day(ds: Dataset) -> ir.Table | None:
    """The load's sessions per (day, every session dimension), or None when it made none."""
    return ds.byproduct(SESSIONS_PER_DAY)


PROFILES = declare(
    profile.KEY,  # the load files its own under this name
    "Distinct day masks (d0, d1, …: bit i = active on window day i) [× a session "
    "dimension] and how many users have each (users).",
    needs=("sessions",),
    builder=_profiles,
)
PERIOD_PROFILES = declare(
    "period_profiles",
    "Profiles over weeks or months (p0, p1, …) instead of days, equal ones merged.",
    needs=("sessions",),
    builder=_period_profiles,
)
SESSION_USERS = declare(
    "session_users",
    "Distinct users with sessions [per value of a session column] [× period start]: users.",
    needs=("sessions",),
    builder=_session_users,
)
SESSION_LENGTHS = declare(
    lengths.KEY,  # the load files its own under this name
    "Sessions per exact length (length_us, null without an end) [× a session dimension]: n.",
    needs=("sessions",),
    builder=_session_lengths,
)
