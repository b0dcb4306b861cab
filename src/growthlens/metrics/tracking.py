"""Daily counts and orphan users for the tracking checks, in the engine (docs/tracking.md).

- :func:`event_days`: events and distinct users per day and event name;
- :func:`step_days`: events and distinct users per day and funnel step (a step is an
  event name or a predicate on properties, :class:`~growthlens.metrics.funnel.StepRule`);
- :func:`orphans`: per pair of steps (earlier, later), the users whose first later-step
  event after the first day of data has no earlier-step event at or before it, with a few
  example ids.

Only per-day or per-pair frames come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import StepRule

EXAMPLES = 5
"""Example user ids kept per step pair (the first in text order)."""


def event_days(ds: Dataset) -> pd.DataFrame:
    """One row per (date, event) with events: ``date``, ``event``, ``events``, ``users``."""
    events = ds.table("events")
    rows = events.filter(events.ts.notnull()).mutate(date=events.ts.date())
    out = rows.group_by("date", event=rows.event.cast("string")).aggregate(
        events=rows.count(), users=rows.user_id.nunique()
    )
    return fetch(out.order_by(["date", "event"]))


def step_days(ds: Dataset, steps: Sequence[StepRule]) -> pd.DataFrame:
    """Events and distinct users per day and step.

    One row per (date, step) with any event: ``date``, ``step`` (1-based), ``events``,
    ``users``.
    """
    events = ds.table("events")
    rows = events.filter(events.ts.notnull())
    flags = {f"h{j}": steps[j - 1].matches(rows) for j in range(1, len(steps) + 1)}
    rows = rows.select("user_id", date=rows.ts.date(), **flags)
    rows = rows.filter(ibis.or_(*[rows[f"h{j}"] for j in range(1, len(steps) + 1)]))
    wide = fetch(
        rows.group_by("date").aggregate(
            **{f"e{j}": rows[f"h{j}"].cast("int64").sum() for j in range(1, len(steps) + 1)},
            **{
                f"u{j}": rows.user_id.nunique(where=rows[f"h{j}"]) for j in range(1, len(steps) + 1)
            },
        )
    )
    long = [
        pd.DataFrame(
            {
                "date": wide["date"],
                "step": j,
                "events": wide[f"e{j}"].fillna(0).astype("int64"),
                "users": wide[f"u{j}"].fillna(0).astype("int64"),
            }
        )
        for j in range(1, len(steps) + 1)
    ]
    frame = pd.concat(long, ignore_index=True) if long else pd.DataFrame()
    return frame.sort_values(["step", "date"], kind="stable").reset_index(drop=True)


def orphans(ds: Dataset, steps: Sequence[StepRule], *, first_day: date) -> pd.DataFrame:
    """Orphan users per pair of steps.

    Per pair of steps i < j: users with a step-j event after ``first_day``, and those of
    them whose first such event has no step-i event at or before it.

    Columns: ``earlier``, ``later`` (1-based steps), ``later_users``, ``orphans``,
    ``never`` (orphans with no earlier-step event at all), ``examples`` (the first
    orphan ids in text order). Events on ``first_day`` still count as earlier steps; as later
    steps they are left out, since the earlier step may lie just before the data starts.
    """
    k = len(steps)
    per_user = _per_user(ds, steps, first_day=first_day)
    pairs = [(i, j) for i in range(1, k) for j in range(i + 1, k + 1)]

    def orphan(i: int, j: int) -> ir.BooleanValue:
        later, earlier = per_user[f"late_{j}"], per_user[f"first_{i}"]
        return later.notnull() & (earlier.isnull() | (earlier > later))

    counts = per_user.aggregate(
        **{f"n{j}": per_user[f"late_{j}"].notnull().cast("int64").sum() for j in range(2, k + 1)},
        **{f"o{i}_{j}": orphan(i, j).cast("int64").sum() for i, j in pairs},
        **{
            f"v{i}_{j}": (orphan(i, j) & per_user[f"first_{i}"].isnull()).cast("int64").sum()
            for i, j in pairs
        },
    )
    totals = counts.to_pyarrow().to_pylist()[0]
    # The smallest orphan ids of every pair, in one query.
    tagged = [
        per_user.filter(orphan(i, j)).select(
            pair=ibis.literal(f"{i}_{j}"), user_id=per_user.user_id.cast("string")
        )
        for i, j in pairs
    ]
    examples: dict[str, list[str]] = {f"{i}_{j}": [] for i, j in pairs}
    if tagged:
        union = ibis.union(*tagged) if len(tagged) > 1 else tagged[0]
        ranked = union.mutate(
            _rank=ibis.row_number().over(group_by=union.pair, order_by=union.user_id)
        )
        picked = fetch(ranked.filter(ranked._rank < EXAMPLES).select("pair", "user_id"))
        for pair, user in zip(picked["pair"], picked["user_id"], strict=True):
            examples[str(pair)].append(str(user))
    return pd.DataFrame(
        [
            {
                "earlier": i,
                "later": j,
                "later_users": int(totals[f"n{j}"] or 0),
                "orphans": int(totals[f"o{i}_{j}"] or 0),
                "never": int(totals[f"v{i}_{j}"] or 0),
                "examples": sorted(examples[f"{i}_{j}"], key=_id_key),
            }
            for i, j in pairs
        ],
        columns=["earlier", "later", "later_users", "orphans", "never", "examples"],
    )


def orphan_days(ds: Dataset, steps: Sequence[StepRule], *, first_day: date) -> pd.DataFrame:
    """Orphans of each consecutive step pair by the date of their first later-step event.

    Columns: ``earlier``, ``later`` (1-based, ``later = earlier + 1``), ``date``,
    ``orphans``; only (pair, date) cells with orphans. Same definition as :func:`orphans`.
    """
    per_user = _per_user(ds, steps, first_day=first_day)
    parts = []
    for j in range(2, len(steps) + 1):
        later, earlier = per_user[f"late_{j}"], per_user[f"first_{j - 1}"]
        hit = per_user.filter(later.notnull() & (earlier.isnull() | (earlier > later)))
        parts.append(
            hit.group_by(date=hit[f"late_{j}"].date()).aggregate(
                earlier=ibis.literal(j - 1), later=ibis.literal(j), orphans=hit.count()
            )
        )
    union = ibis.union(*parts) if len(parts) > 1 else parts[0]
    frame = fetch(union.select("earlier", "later", "date", "orphans"))
    return frame.sort_values(["earlier", "date"], kind="stable").reset_index(drop=True)


def _per_user(ds: Dataset, steps: Sequence[StepRule], *, first_day: date) -> ir.Table:
    """Per user: the first time of each step, and the first after ``first_day``.

    Columns ``first_<i>`` (steps but the last) and ``late_<j>`` (steps but the first).
    """
    events = ds.table("events")
    rows = events.filter(events.ts.notnull())
    k = len(steps)
    flags = {f"h{j}": steps[j - 1].matches(rows) for j in range(1, k + 1)}
    rows = rows.select("user_id", "ts", **flags)
    rows = rows.filter(ibis.or_(*[rows[f"h{j}"] for j in range(1, k + 1)]))
    late = rows.ts.date() > first_day
    null_ts = ibis.null("timestamp")
    return rows.group_by("user_id").aggregate(
        **{f"first_{j}": ibis.ifelse(rows[f"h{j}"], rows.ts, null_ts).min() for j in range(1, k)},
        **{
            f"late_{j}": ibis.ifelse(rows[f"h{j}"] & late, rows.ts, null_ts).min()
            for j in range(2, k + 1)
        },
    )


def _id_key(value: str) -> tuple[int, int | str]:
    # Numeric ids in numeric order (the engine sorted them as text).
    return (0, int(value)) if value.isdigit() else (1, value)


__all__ = ["EXAMPLES", "event_days", "orphan_days", "orphans", "step_days"]
