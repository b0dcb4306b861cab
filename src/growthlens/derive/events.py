"""Derived tables of the event log: sessions cut by inactivity, and users per event name.

An event export without ``session_id`` still has sessions: a user's events belong to one
session until a gap of more than ``session_timeout`` seconds (setting; 30 minutes by
default) between consecutive events starts the next. Events in the same second are never
split. The derived id is ``<user_id>#<n>`` with n = 1, 2, … in time order.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from growthlens.data.dataset import Dataset
from growthlens.derive.registry import declare


def _sessionised(ds: Dataset, *, timeout_s: int) -> ir.Table:
    events = ds.table("events")
    if "session_id" in events.columns:
        return events
    ordered = ibis.window(group_by="user_id", order_by="ts")
    gap = events.ts.epoch_seconds() - events.ts.lag().over(ordered).epoch_seconds()
    marked = events.mutate(_new=(gap.isnull() | (gap > timeout_s)).cast("int64"))
    # Tied rows follow the first of them in the order, which alone carries the gap: they
    # all share its running count, however the engine orders the ties.
    number = marked._new.sum().over(ibis.window(group_by="user_id", order_by="ts", rows=(None, 0)))
    numbered = marked.mutate(_n=number)
    return numbered.mutate(
        session_id=numbered.user_id.cast("string") + "#" + numbered._n.cast("string")
    ).drop("_new", "_n")


EVENT_SESSIONS = declare(
    "event_sessions",
    "The events with a session_id: as given, or cut by session_timeout seconds of "
    "inactivity (user_id#n).",
    needs=("events",),
    builder=_sessionised,
)


def _event_users(ds: Dataset) -> ir.Table:
    events = ds.table("events")
    pairs = events.select("user_id", event=events.event.cast("string")).distinct()
    return pairs.group_by("event").aggregate(users=pairs.count())


EVENT_USERS = declare(
    "event_users",
    "Distinct users per event name (event, users): what the report's plans choose from.",
    needs=("events",),
    builder=_event_users,
)
