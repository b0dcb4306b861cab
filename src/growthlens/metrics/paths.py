"""Event paths in the engine: the events before or after an anchor (docs/paths.md).

Each unit's (user's, or user and session's) events are put in one deterministic order —
by timestamp, then event name, then rows matching the anchor first — and numbered. The
anchor is the unit's first row matching the anchor rule (or its first row of all, when
there is no rule). With ``collapse``, an event equal to the one before it in the path
(walking away from the anchor, the anchor included) is dropped, so ``cart, cart, buy``
reads ``cart, buy``.

Only aggregates leave the engine: units per (step, event, next event) (:func:`transitions`,
summed per step by :func:`step_counts`), units per (step, event) (:func:`step_events`) and
the number of anchored units (:func:`anchored_units`). A unit whose path is shorter than
the depth asked for is not in those counts past its last event; the analyses add it as
``(end)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.events import EVENT_USERS
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import StepRule

Direction = Literal["next", "previous"]


def path_steps(
    ds: Dataset,
    *,
    anchor: StepRule | None,
    direction: Direction,
    depth: int,
    keys: Sequence[str],
    collapse: bool,
    include_anchor: bool,
    events: ir.Table | None = None,
) -> ir.Table:
    """One row per unit and path step: ``keys``, ``step`` (1-based) and ``event``.

    Args:
        ds: a Dataset with an ``events`` table.
        anchor: the rule whose first matching row anchors each unit's path; ``None``
            anchors at the unit's first event (units with no match are left out).
        direction: ``next`` (events after the anchor) or ``previous`` (before it, step 1
            the closest).
        depth: the last step kept.
        keys: the unit's columns.
        collapse: drop an event equal to the previous one of the path.
        include_anchor: step 1 is the anchor itself (the step matrix), not the first event
            after (or before) it.
        events: the events to read (e.g. with derived session ids); the dataset's if None.
    """
    if events is None:
        events = ds.table("events")
    events = events.filter(events.ts.notnull() & events.event.notnull())
    matches = anchor.matches(events).fill_null(False) if anchor else ibis.literal(False)
    rows = events.select(*keys, ts=events.ts, event=events.event.cast("string"), _m=matches)
    order = ibis.window(
        group_by=list(keys), order_by=[rows.ts.asc(), rows.event.asc(), rows._m.desc()]
    )
    # One sort per unit. Rows tied on every ordering column have the same event, so the
    # neighbours' events do not depend on how the engine orders such ties.
    rows = rows.mutate(
        _rn=ibis.row_number().over(order),
        _prev=rows.event.lag().over(order),
        _next=rows.event.lead().over(order),
    )
    anchor_rn = (
        ibis.ifelse(rows._m, rows._rn, ibis.null("int64")).min().over(group_by=list(keys))
        if anchor
        else ibis.literal(0, type="int64")
    )
    rows = rows.mutate(_a=anchor_rn)
    rows = rows.filter(rows._a.notnull())
    if direction == "next":
        side = (rows._rn >= rows._a) if include_anchor else (rows._rn > rows._a)
        kept = (rows._rn == rows._a) | (rows.event != rows._prev)
    else:
        side = (rows._rn <= rows._a) if include_anchor else (rows._rn < rows._a)
        kept = (rows._rn == rows._a) | (rows.event != rows._next)
    rows = rows.filter(side & kept) if collapse else rows.filter(side)
    toward = rows._rn.asc() if direction == "next" else rows._rn.desc()
    rows = rows.mutate(
        step=(ibis.row_number().over(ibis.window(group_by=list(keys), order_by=toward)) + 1)
    )
    rows = rows.filter(rows.step <= depth)
    return rows.select(*keys, step=rows.step.cast("int64"), event=rows.event)


def anchored_units(
    ds: Dataset,
    *,
    anchor: StepRule | None,
    keys: Sequence[str],
    events: ir.Table | None = None,
) -> int:
    """Units with an anchor row (every unit with an event when ``anchor`` is None)."""
    if events is None:
        events = ds.table("events")
    events = events.filter(events.ts.notnull() & events.event.notnull())
    if anchor is not None:
        events = events.filter(anchor.matches(events).fill_null(False))
    units = events.select(*keys).distinct()
    return int(units.count().to_pyarrow().as_py())


def event_users(ds: Dataset) -> pd.DataFrame:
    """Distinct users per event name, most first (ties by name): ``event``, ``users``."""
    # One derived table: the report's plans all ask, and it is built once per dataset.
    frame = fetch(ds.derived(EVENT_USERS()))
    frame["users"] = frame["users"].astype("int64")
    return frame.sort_values(["users", "event"], ascending=[False, True]).reset_index(drop=True)


def transitions(steps: ir.Table, keys: Sequence[str]) -> pd.DataFrame:
    """Units per (step, event, next event), in one pass over the path steps.

    Columns ``step``, ``event``, ``target`` (the unit's event at ``step + 1``; null where
    its path ends or at the last step asked for) and ``users``. Units per (step, event)
    are the sums over ``target``; the flows are the rows before the last step.
    """
    following = steps.event.lead().over(ibis.window(group_by=list(keys), order_by=steps.step))
    pairs = steps.mutate(target=following)
    counts = pairs.group_by("step", "event", "target").aggregate(users=pairs.count())
    frame = fetch(counts)
    frame["step"] = frame["step"].astype("int64")
    frame["users"] = frame["users"].astype("int64")
    return frame.sort_values(["step", "event", "target"], kind="stable").reset_index(drop=True)


def step_events(steps: ir.Table) -> pd.DataFrame:
    """Units per (step, event) straight from the path steps: ``step``, ``event``, ``users``."""
    counts = steps.group_by("step", "event").aggregate(users=steps.count())
    frame = fetch(counts)
    frame = frame.astype({"step": "int64", "users": "int64"})
    return frame.sort_values(["step", "event"], kind="stable").reset_index(drop=True)


def step_counts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Units per (step, event) from :func:`transitions`: ``step``, ``event``, ``users``."""
    counts: pd.DataFrame = pairs.groupby(["step", "event"], as_index=False).agg(
        users=("users", "sum")
    )
    counts["users"] = counts["users"].astype("int64")
    return counts.sort_values(["step", "event"], kind="stable").reset_index(drop=True)


END = "(end)"
"""Label of a path that has no further event (the unit's data ends)."""
OTHER = "(other)"
"""Label of the events grouped outside the top ones (in parentheses, like ``(unknown)``, so
it cannot be mistaken for an event called ``other``)."""


def top_events(counts: pd.DataFrame, top: int) -> list[str]:
    """The ``top`` events with the most units in ``counts`` (ties: by name)."""
    totals: pd.DataFrame = counts.groupby("event", as_index=False).agg(users=("users", "sum"))
    totals = totals.sort_values(["users", "event"], ascending=[False, True], kind="stable")
    return [str(e) for e in totals["event"].head(top)]


def grouped(events: pd.Series, kept: Sequence[str]) -> pd.Series:
    """Events outside ``kept`` as :data:`OTHER`; a missing event (the path ended) as :data:`END`."""
    labels = events.astype("object").where(events.isin(list(kept)), OTHER)
    return labels.where(events.notna(), END)


__all__ = [
    "END",
    "OTHER",
    "Direction",
    "anchored_units",
    "event_users",
    "grouped",
    "path_steps",
    "step_counts",
    "step_events",
    "top_events",
    "transitions",
]
