"""Plain-Python tracking checks, written straight from docs/tracking.md.

Daily counts per (date, event): rows and distinct users. Orphans per step pair (i, j): the
users whose first step-j event on a day after the first day of data has no step-i event at
or before it. Loops over rows; slow, obviously right, for small logs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

Row = tuple[Any, datetime, str]  # user, ts, event


def daily(rows: list[Row]) -> dict[tuple[date, str], tuple[int, int]]:
    """(date, event) → (events, distinct users)."""
    events: dict[tuple[date, str], int] = defaultdict(int)
    users: dict[tuple[date, str], set[Any]] = defaultdict(set)
    for user, ts, event in rows:
        events[(ts.date(), event)] += 1
        users[(ts.date(), event)].add(user)
    return {k: (events[k], len(users[k])) for k in events}


def orphans(
    rows: list[Row], steps: list[str], first_day: date
) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(i, j) 1-based → (users with a later step after day 1, orphans, never)."""
    out = {}
    for i in range(1, len(steps)):
        for j in range(i + 1, len(steps) + 1):
            later_users = orphan = never = 0
            for user in {u for u, _, _ in rows}:
                mine = [(ts, e) for u, ts, e in rows if u == user]
                late = [ts for ts, e in mine if e == steps[j - 1] and ts.date() > first_day]
                if not late:
                    continue
                later_users += 1
                first_late = min(late)
                earlier = [ts for ts, e in mine if e == steps[i - 1]]
                if not any(ts <= first_late for ts in earlier):
                    orphan += 1
                    never += not earlier
            out[(i, j)] = (later_users, orphan, never)
    return out


def orphan_days(rows: list[Row], steps: list[str], first_day: date) -> dict[tuple[int, date], int]:
    """(earlier step, date of the first later-step event) → orphans, consecutive pairs."""
    out: dict[tuple[int, date], int] = defaultdict(int)
    for i in range(1, len(steps)):
        for user in {u for u, _, _ in rows}:
            mine = [(ts, e) for u, ts, e in rows if u == user]
            late = [ts for ts, e in mine if e == steps[i] and ts.date() > first_day]
            if late and not any(ts <= min(late) for ts, e in mine if e == steps[i - 1]):
                out[(i, min(late).date())] += 1
    return dict(out)
