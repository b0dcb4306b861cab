"""Customer journeys: the touches that led to each conversion (DESIGN §4, Attribution).

Derived tables declared here: ``conversions``, ``journeys`` and ``null_journeys``.

A conversion is one ``order_id`` of the orders table (its rows summed: order lines), or,
without order ids, one order row, whose id is derived deterministically from the user,
the time and the row's rank among identical (user, time) rows. Its user is the smallest
user id among its rows (one, on clean data), its time the earliest.

A journey is read from the ``touchpoints`` table when one is loaded, used as given: the
touch time and channel are the touchpoint's own ``ts`` and ``channel`` where given, else
those of the session it names; touches after the conversion stay in (flagged
``after_conversion``, a finding of the analyses). Without touchpoints, journeys are built
from each user's sessions: a session belongs to the user's first conversion at or after
its start, if it started at most ``lookback_s`` seconds before that conversion (the edge
counts). So a session is credited to one conversion at most, never to an earlier one, and
a later conversion never reuses the sessions of an earlier one. When every conversion
time is a midnight (orders with dates only), times are compared by day: a session on the
conversion's day counts, and the lookback starts at midnight ``lookback_s`` before it.

Touches are ordered by time, then session id (as text). A conversion with no touch has
one row with channel ``(no touch)`` and no session, so per-conversion credit always
exists. A touch with no known channel is ``(unknown)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.registry import declare

NO_TOUCH = "(no touch)"
"""Channel of the one row of a conversion without touches."""
UNKNOWN = "(unknown)"
"""Channel of a touch whose session has no source (or names no known session)."""

JOURNEY_COLUMNS = (
    "conversion_id",
    "user_id",
    "conv_ts",
    "revenue",
    "session_id",
    "ts",
    "channel",
    "campaign",
    "market",
    "weight",
    "touched",
    "after_conversion",
    "pos",
    "n",
    "channel_touches",
    "channels",
)


def _untouched(conversions: ir.Table) -> ir.Table:
    """Conversions as one touch row each: channel ``(no touch)``, no session or time."""
    return conversions.mutate(
        session_id=ibis.null("string"),
        ts=ibis.null("timestamp"),
        channel=ibis.literal(NO_TOUCH),
        campaign=ibis.null("string"),
        market=ibis.null("string"),
        weight=ibis.null("float64"),
        touched=ibis.literal(False),
    )


def _text(value: ir.Value) -> ir.StringValue:
    return value.cast("string")  # type: ignore[return-value]


def _conversions(ds: Dataset) -> ir.Table:
    orders = ds.table("orders")
    if "order_id" in orders.columns:
        rows = orders.mutate(conversion_id=_text(orders.order_id))
    else:
        # Identical (user, ts) rows are told apart by their rank; which is which does not
        # matter when every other column is the same, and revenue orders the rest.
        rank = ibis.row_number().over(
            ibis.window(group_by=["user_id", "ts"], order_by=[orders.revenue])
        )
        rows = orders.mutate(
            conversion_id=_text(orders.user_id) + "|" + _text(orders.ts) + "|" + _text(rank + 1)
        )
    return rows.group_by("conversion_id").aggregate(
        user_id=rows.user_id.min(),
        conv_ts=rows.ts.min(),
        revenue=rows.revenue.sum().cast("float64"),
        order_rows=rows.count(),
    )


CONVERSIONS = declare(
    "conversions",
    "One row per conversion: conversion_id (order_id as text, or derived), user_id, "
    "conv_ts (earliest row), revenue (sum of its rows), order_rows.",
    needs=("orders",),
    builder=_conversions,
)


def dates_only(ds: Dataset) -> bool:
    """Whether every order time is a midnight (orders carry dates only)."""

    def compute() -> bool:
        orders = ds.table("orders")
        off = orders.filter(orders.ts != orders.ts.truncate("D")).count()
        return int(off.execute()) == 0

    return ds.remember(("orders_dates_only",), compute)


def _session_touches(ds: Dataset) -> ir.Table:
    """Sessions as touches: user_id, session_id (stored or derived), ts, channel etc."""
    s = ds.table("sessions")
    if "session_id" in s.columns:
        sid = s.session_id  # as text only for the touches kept (a cast of every row costs)
    else:
        # A stable id for sessions without one: user, start and rank among equal starts.
        rank = ibis.row_number().over(
            ibis.window(
                group_by=["user_id", "start_ts"],
                order_by=[_text(s[c]) for c in ("source", "campaign") if c in s.columns],
            )
        )
        sid = _text(s.user_id) + "@" + _text(s.start_ts) + "#" + _text(rank + 1)
    return s.select(
        user_id=s.user_id,
        session_id=sid,
        ts=s.start_ts,
        channel=_text(s.source).fill_null(UNKNOWN) if "source" in s.columns else UNKNOWN,
        campaign=_text(s.campaign) if "campaign" in s.columns else ibis.null("string"),
        market=_text(s.market) if "market" in s.columns else ibis.null("string"),
    )


def _day_epoch(ts: ir.TimestampValue, by_day: bool) -> ir.IntegerValue:
    return (ts.truncate("D") if by_day else ts).epoch_seconds()  # type: ignore[return-value]


def data_end_s(ds: Dataset) -> int | None:
    """The end of the data (midnight after the window's last day) in epoch seconds."""
    if ds.window is not None:
        end = datetime.combine(ds.window[1] + timedelta(days=1), datetime.min.time())
        return int((end - datetime(1970, 1, 1)).total_seconds())
    if not ds.has("sessions"):
        return None
    last = ds.table("sessions").start_ts.max().epoch_seconds().execute()
    return None if last is None or pd.isna(last) else int(last)


def _links(ds: Dataset, lookback_s: int, end_s: int) -> ir.Table:
    """The sessions that matter to attribution, in one pass over the sessions table.

    Columns: the session's (user_id, session_id as stored, ts, channel, campaign,
    market) and ``conversion_id``: the conversion it belongs to (see the module
    docstring), or null for a session of a user who never converted that started at most
    ``lookback_s`` before ``end_s`` (a non-converting journey). Other sessions are left out.
    """
    by_day = dates_only(ds)
    conv = ds.derived(CONVERSIONS())
    touches = _session_touches(ds)
    ses = touches.mutate(key=_day_epoch(touches.ts, by_day))
    heads = conv.select(
        c_user=conv.user_id,
        conversion_id=conv.conversion_id,
        c_key=_day_epoch(conv.conv_ts, by_day),
    )
    buyers = conv.select(b_user=conv.user_id).distinct()
    # One pass over the sessions: each meets the user's conversions at or after it within
    # the lookback (a hash join on the user, the times as a residual filter), and the
    # set of users who converted at all (for the non-converting journeys).
    pairs = ses.left_join(
        heads,
        [
            ses.user_id == heads.c_user,
            heads.c_key >= ses.key,
            heads.c_key - lookback_s <= ses.key,
        ],
    )
    pairs = pairs.left_join(buyers, pairs.user_id == buyers.b_user)
    never = pairs.b_user.isnull() & (pairs.ts.epoch_seconds() >= end_s - lookback_s)
    pairs = pairs.filter(pairs.conversion_id.notnull() | never)
    # A session meeting several conversions belongs to the first (time, then id); one
    # window over every kept row (splitting the two kinds would scan the sessions twice).
    first = ibis.row_number().over(
        ibis.window(group_by=["user_id", "session_id"], order_by=["c_key", "conversion_id"])
    )
    pairs = pairs.mutate(_first=first)
    pairs = pairs.filter(pairs._first == 0)
    return pairs.select(
        "user_id", "session_id", "ts", "channel", "campaign", "market", "conversion_id"
    )


LINKS = declare(
    "journey_links",
    "Sessions that matter to attribution (one pass): the user's, session's and the "
    "conversion_id it belongs to within lookback_s, or null for a non-converting user's "
    "session in the lookback_s before end_s.",
    needs=("orders", "sessions"),
    builder=_links,
)


def _built(ds: Dataset, lookback_s: int) -> ir.Table:
    """Touches of each conversion from the user's sessions (see the module docstring)."""
    end = data_end_s(ds)
    links = ds.derived(LINKS(lookback_s=lookback_s, end_s=0 if end is None else end))
    pairs = links.filter(links.conversion_id.notnull())
    return pairs.select(
        "conversion_id",
        session_id=_text(pairs.session_id),
        ts=pairs.ts,
        channel=pairs.channel,
        campaign=pairs.campaign,
        market=pairs.market,
        weight=ibis.null("float64"),
    )


def _given(ds: Dataset) -> ir.Table:
    """Touches of each conversion from the touchpoints table, used as given."""
    tp = ds.table("touchpoints")
    rows = tp.select(
        conversion_id=_text(tp.conversion_id),
        session_id=_text(tp.session_id),
        weight=tp.weight.cast("float64") if "weight" in tp.columns else ibis.null("float64"),
        tp_ts=tp.ts if "ts" in tp.columns else ibis.null("timestamp"),
        tp_channel=_text(tp.channel) if "channel" in tp.columns else ibis.null("string"),
    )
    if ds.has("sessions"):
        s = _session_touches(ds)
        # One session row per id (the earliest), so a touch is never repeated by the join.
        s = s.mutate(
            _r=ibis.row_number().over(
                ibis.window(group_by="session_id", order_by=["ts", "channel"])
            )
        )
        s = s.filter(s._r == 0).select(
            session_id=_text(s.session_id),
            s_ts=s.ts,
            s_channel=s.channel,
            campaign=s.campaign,
            market=s.market,
        )
        rows = rows.left_join(s, "session_id").drop("session_id_right")
    else:
        rows = rows.mutate(
            s_ts=ibis.null("timestamp"),
            s_channel=ibis.null("string"),
            campaign=ibis.null("string"),
            market=ibis.null("string"),
        )
    return rows.select(
        "conversion_id",
        "session_id",
        ts=rows.tp_ts.fill_null(rows.s_ts),
        channel=rows.tp_channel.fill_null(rows.s_channel).fill_null(UNKNOWN),
        campaign=rows.campaign,
        market=rows.market,
        weight=rows.weight,
    )


def given_touchpoints(ds: Dataset) -> bool:
    """Whether journeys come from a loaded touchpoints table (else from sessions)."""
    return ds.has("touchpoints")


def _journeys(ds: Dataset, lookback_s: int) -> ir.Table:
    conv = ds.derived(CONVERSIONS())
    if given_touchpoints(ds):
        touches = _given(ds)
    elif ds.has("sessions"):
        touches = _built(ds, lookback_s)
    else:
        touches = None
    by_day = dates_only(ds)
    if touches is None:
        joined = _untouched(conv)
    else:
        touches = touches.mutate(touched=ibis.literal(True))
        # Touchpoints naming no conversion have no time or revenue: they are left out
        # here (and counted by the analyses).
        matched = conv.inner_join(touches, "conversion_id")
        untouched = _untouched(conv.anti_join(touches, "conversion_id"))
        schema = matched.schema()
        joined = matched.union(
            untouched.select(**{c: untouched[c].cast(schema[c]) for c in matched.columns})
        )
    touch_time = joined.ts.truncate("D") if by_day else joined.ts
    after = touch_time > joined.conv_ts
    joined = joined.mutate(after_conversion=after.fill_null(False))
    order = ibis.window(group_by="conversion_id", order_by=["ts", "session_id"])
    joined = joined.mutate(
        pos=ibis.row_number().over(order),
        n=joined.count().over(ibis.window(group_by="conversion_id")),
        channel_touches=joined.count().over(ibis.window(group_by=["conversion_id", "channel"])),
    )
    # Distinct channels = Σ 1/(touches of the row's channel): no sort, exact once rounded.
    joined = joined.mutate(
        channels=(1.0 / joined.channel_touches.cast("float64"))
        .sum()
        .over(ibis.window(group_by="conversion_id"))
        .round()
        .cast("int64")
    )
    return joined.select(*JOURNEY_COLUMNS)


JOURNEYS = declare(
    "journeys",
    "One row per touch of every conversion: conversion_id, user_id, conv_ts, revenue, "
    "session_id, ts, channel, campaign, market, weight, touched, after_conversion, pos "
    "(0-based in touch order), n (rows of the conversion), channel_touches (its rows with "
    "this channel), channels (distinct channels of the conversion).",
    needs=("orders",),
    builder=_journeys,
)


def _null_journeys(ds: Dataset, lookback_s: int, end_s: int) -> ir.Table:
    """Sessions of users who never converted, within lookback before the data's end."""
    links = ds.derived(LINKS(lookback_s=lookback_s, end_s=end_s))
    touches = links.filter(links.conversion_id.isnull())
    touches = touches.select(
        journey_id=_text(touches.user_id),
        session_id=_text(touches.session_id),
        ts=touches.ts,
        channel=touches.channel,
    )
    order = ibis.window(group_by="journey_id", order_by=["ts", "session_id"])
    touches = touches.mutate(pos=ibis.row_number().over(order))
    return touches.select("journey_id", "session_id", "ts", "channel", "pos")


NULL_JOURNEYS = declare(
    "null_journeys",
    "One row per session of a user who never converted, starting at most lookback_s "
    "seconds before end_s (epoch seconds): journey_id (the user), session_id, ts, channel, "
    "pos (0-based).",
    needs=("orders", "sessions"),
    builder=_null_journeys,
)

__all__ = [
    "CONVERSIONS",
    "JOURNEYS",
    "JOURNEY_COLUMNS",
    "LINKS",
    "NO_TOUCH",
    "NULL_JOURNEYS",
    "UNKNOWN",
    "data_end_s",
    "dates_only",
    "given_touchpoints",
]
