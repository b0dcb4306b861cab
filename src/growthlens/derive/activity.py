"""Activity profiles: each distinct set of active days (or weeks, months) and its users.

Derived tables declared here: ``activity_profiles`` (day masks [× a session dimension]),
``first_touch_profiles`` (day masks × the first session's splits, from which each
first-touch profile is summed), ``period_profiles`` (the same over weeks or months),
``session_lengths`` (sessions per exact length), ``session_users`` (distinct users per
session value and period) and ``sessions_per_day``. The load builds the plain profiles,
the length counts and the per-day counts for its own checks, and they are reused as
they are.

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
from growthlens.engine import capabilities
from growthlens.errors import ConfigError

SPLITS = ("device", "source")
"""The session dimensions the report splits activity and retention by.

Retention by first device and by first source read one per-user build of the masks
(``first_touch_profiles`` over the splits the sessions have) and sum it per split.
"""


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
        return per_user.group_by([by, *masks]).aggregate(**{USERS: per_user.count()})
    # Summed from the joint table: one pass over the sessions serves every split.
    dims = tuple(d for d in SPLITS if d in sessions.columns) if by in SPLITS else (by,)
    joint = ds.derived(FIRST_TOUCH_PROFILES(dims=dims))
    return joint.group_by([by, *masks]).aggregate(**{USERS: joint[USERS].sum()})


def _first_touch_profiles(ds: Dataset, dims: tuple[str, ...]) -> ir.Table:
    sessions = ds.table("sessions")
    masks = profile.day_masks(sessions, _window(ds), ds.backend)
    first = first_sessions(ds)
    first = first.select("user_id", **{d: dimension(first[d]) for d in dims})
    per_user = sessions.group_by("user_id").aggregate(**masks).inner_join(first, "user_id")
    return per_user.group_by([*dims, *masks]).aggregate(**{USERS: per_user.count()})


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


def _bits() -> ir.Table:
    return ibis.memtable(pd.DataFrame({"_bit": pd.Series(range(BITS), dtype="int64")}))


def expand_bits(table: ir.Table, masks: list[str], keep: list[str]) -> ir.Table:
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


def marginal_users(table: ir.Table, masks: list[str], keys: list[str]) -> ir.Table:
    """Users with a bit in each period [× ``keys``]: ``keys``, ``index`` and ``users``.

    Only the marginal per period is needed, so each mask is counted on its own first:
    far fewer distinct values than whole profiles.
    """
    parts = []
    for j, mask in enumerate(masks):
        part = table.group_by([*keys, mask]).aggregate(**{USERS: table[USERS].sum()})
        expanded = expand_bits(part, [mask], keys)
        if j:
            expanded = expanded.mutate(index=expanded["index"] + j * BITS)
        parts.append(expanded)
    every = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return every.group_by([*keys, "index"]).aggregate(**{USERS: every[USERS].sum()})


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
    the KPI table, ask for the same counts. Without a value (all users, or per period:
    the active users) they are summed from the activity profiles, not counted again.
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
    if _from_profiles(ds, column, period):
        return _profile_users(ds, column, period)
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


def _from_profiles(ds: Dataset, column: str | None, period: Period | None) -> bool:
    """Whether :func:`_profile_users` can answer instead of a distinct count of sessions.

    Users without a value always can (the load built the profiles); per value only when
    that value's profiles are stored already (activity by that column built them), since
    building them costs more than the count. Per period the answer joins small frames
    the engine registers per query; a lazy cache (Spark) would read them after they are
    gone, so there the sessions are counted.
    """
    if ds.window is None:
        return False
    if period is not None and not capabilities(ds.backend).eager_cache:
        return False
    return column is None or ds.stored(PROFILES(by=column, first_touch=False)) is not None


def _profile_users(ds: Dataset, column: str | None, period: Period | None) -> ir.Table:
    """Users with a session [per value of ``column``] [per period], from the profiles.

    The same numbers as a distinct count of the sessions' users (every accepted session
    lies in the window, a user is active in a period when a session starts in it, and a
    profile by ``column`` counts a user once per value), read from the profile table, a
    fraction of the sessions' size.
    """
    keys = [] if column is None else [column]
    if period is None:
        table = profiles(ds, by=column)
        users = table[USERS].sum().fill_null(0).cast("int64")
        counts = (
            table.group_by(keys).aggregate(users=users) if keys else table.aggregate(users=users)
        )
        named: dict[str, ir.Value] = {"value": counts[column]} if column is not None else {}
        return counts.select(**named, users=counts.users)
    table, masks, calendar = period_profiles(ds, period, by=column)
    marginal = marginal_users(table, masks, keys)
    starts = ibis.memtable(
        pd.DataFrame(
            {
                "_index": pd.Series(range(len(calendar.starts)), dtype="int64"),
                "period": calendar.starts,
            }
        ),
        schema={"_index": "int64", "period": "date"},
    )
    joined = marginal.inner_join(starts, marginal["index"] == starts._index)
    named = {"value": joined[column]} if column is not None else {}
    return joined.select(**named, period=joined.period, users=joined[USERS].cast("int64"))


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
FIRST_TOUCH_PROFILES = declare(
    "first_touch_profiles",
    "Distinct day masks × the values of ``dims`` in each user's first session, and how "
    "many users have each (users); the first-touch profiles of any one of them are sums.",
    needs=("sessions",),
    builder=_first_touch_profiles,
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
