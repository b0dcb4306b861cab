"""Plain-Python paths, step matrix and event retention, straight from docs/paths.md.

Per unit: sort its rows (timestamp, event name, anchor rows first), find the anchor, walk
away from it collapsing repeats, pad with "(end)"; then count. Event retention: per user
the first start, the periods of its return events, the observed grid of ages. Slow and
obvious, for small logs; no growthlens code is used.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

Row = dict[str, object]
Match = Callable[[Row], bool]
END = "(end)"
OTHER = "(other)"


def _units(events: list[Row], keys: Sequence[str]) -> dict[tuple[object, ...], list[Row]]:
    units: dict[tuple[object, ...], list[Row]] = defaultdict(list)
    for row in events:
        units[tuple(row[k] for k in keys)].append(row)
    return units


def unit_path(
    rows: list[Row],
    anchor: Match | None,
    *,
    direction: str,
    depth: int,
    collapse: bool,
    include_anchor: bool,
) -> list[str] | None:
    """The unit's path of ``depth`` labels (padded with "(end)"), or None without an anchor."""
    ordered = sorted(
        rows,
        key=lambda r: (r["ts"], str(r["event"]), 0 if anchor is not None and anchor(r) else 1),
    )
    if anchor is None:
        at = 0
    else:
        hits = [i for i, r in enumerate(ordered) if anchor(r)]
        if not hits:
            return None
        at = hits[0]
    names = [str(r["event"]) for r in ordered]
    walk = names[at:] if direction == "next" else list(reversed(names[: at + 1]))
    # walk[0] is the anchor; collapsing compares each event with the one kept before it
    # in the raw order, i.e. with its raw neighbour towards the anchor.
    path: list[str] = []
    for i in range(1, len(walk)):
        if collapse and walk[i] == walk[i - 1]:
            continue
        path.append(walk[i])
    if include_anchor:
        path = [walk[0], *path]
    path = path[:depth]
    return path + [END] * (depth - len(path))


def all_paths(
    events: list[Row],
    anchor: Match | None,
    *,
    direction: str = "next",
    depth: int,
    keys: Sequence[str] = ("user_id",),
    collapse: bool = True,
    include_anchor: bool = False,
) -> dict[tuple[object, ...], list[str]]:
    out = {}
    for key, rows in _units(events, keys).items():
        path = unit_path(
            rows,
            anchor,
            direction=direction,
            depth=depth,
            collapse=collapse,
            include_anchor=include_anchor,
        )
        if path is not None:
            out[key] = path
    return out


def _rank(counter: Counter[str]) -> list[str]:
    return sorted(counter, key=lambda e: (-counter[e], e))


def paths_tables(
    paths: dict[tuple[object, ...], list[str]], *, depth: int, top: int, anchor_label: str
) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, str, int]]]:
    """(step, event, users) rows of the paths table and (step, source, target, users) flows."""
    n = len(paths)
    table: list[tuple[int, str, int]] = []
    kept: dict[int, set[str]] = {}
    for step in range(1, depth + 1):
        counter = Counter(p[step - 1] for p in paths.values() if p[step - 1] != END)
        ranked = _rank(counter)
        kept[step] = set(ranked[:top])
        table += [(step, e, counter[e]) for e in ranked[:top]]
        other = sum(counter[e] for e in ranked[top:])
        if other:
            table.append((step, OTHER, other))
        ended = n - sum(counter.values())
        if ended:
            table.append((step, END, ended))

    def label(step: int, event: str) -> str:
        return event if event == END or event in kept[step] else OTHER

    flows: Counter[tuple[int, str, str]] = Counter()
    for path in paths.values():
        source = anchor_label
        for step in range(1, depth + 1):
            if step > 1 and path[step - 2] == END:
                break
            target = label(step, path[step - 1])
            flows[(step, source, target)] += 1
            source = target
    return table, [(s, a, b, v) for (s, a, b), v in flows.items()]


def step_matrix(
    paths: dict[tuple[object, ...], list[str]], *, steps: int, top: int
) -> dict[tuple[int, str], int]:
    """(step, row) → users for every cell of the matrix (zeros included)."""
    totals: Counter[str] = Counter(e for p in paths.values() for e in p if e != END)
    ranked = _rank(totals)
    kept = ranked[:top]
    rows = [*kept, *([OTHER] if len(ranked) > top else []), END]
    cells = {}
    for step in range(1, steps + 1):
        labels = [p[step - 1] for p in paths.values()]
        for row in rows:
            if row == OTHER:
                cells[(step, row)] = sum(1 for e in labels if e != END and e not in kept)
            else:
                cells[(step, row)] = sum(1 for e in labels if e == row)
    return cells


def period_start(day: date, period: str) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def event_retention(
    events: list[Row], start: Match, back: Match, *, period: str, window: tuple[date, date]
) -> dict[tuple[date, int], tuple[int, int, int, bool]]:
    """(cohort, age) → (users, active_users, back_same_period, complete) for observed cells."""
    firsts: dict[object, datetime] = {}
    for row in events:
        if start(row):
            ts = row["ts"]
            assert isinstance(ts, datetime)
            user = row["user_id"]
            if user not in firsts or ts < firsts[user]:
                firsts[user] = ts
    cohorts: dict[date, set[object]] = defaultdict(set)
    for user, ts in firsts.items():
        cohorts[period_start(ts.date(), period)].add(user)
    returned: dict[tuple[date, date], set[object]] = defaultdict(set)
    for row in events:
        user, ts = row["user_id"], row["ts"]
        assert isinstance(ts, datetime)
        if back(row) and user in firsts:
            cohort = period_start(firsts[user].date(), period)
            at = period_start(ts.date(), period)
            if at > cohort or (at == cohort and ts >= firsts[user]):
                returned[(cohort, at)].add(user)
    out = {}
    for cohort, users in cohorts.items():
        at, k = cohort, 0
        while at <= window[1]:
            end = next_period(at, period) - timedelta(days=1)
            complete = at >= window[0] and end <= window[1]
            back_users = len(returned[(cohort, at)])
            active = len(users) if k == 0 else back_users
            out[(cohort, k)] = (len(users), active, back_users if k == 0 else 0, complete)
            at, k = next_period(at, period), k + 1
    return out


def back_activity(
    events: list[Row], back: Match, *, window: tuple[date, date]
) -> tuple[dict[str, float], dict[int, int]]:
    """Mean distinct back-users per day / week / month over the window's periods, and
    user-weeks by number of days with a back event (complete weeks only)."""
    days: set[tuple[object, date]] = set()
    for row in events:
        ts = row["ts"]
        assert isinstance(ts, datetime)
        if back(row):
            days.add((row["user_id"], ts.date()))
    means = {}
    for period in ("day", "week", "month"):
        starts = []
        at = period_start(window[0], period)
        while at <= window[1]:
            starts.append(at)
            at = next_period(at, period)
        users = {s: {u for u, d in days if period_start(d, period) == s} for s in starts}
        means[period] = sum(len(v) for v in users.values()) / len(starts)
    per_week: Counter[tuple[object, date]] = Counter()
    for user, day in days:
        week = period_start(day, "week")
        if week >= window[0] and week + timedelta(days=6) <= window[1]:
            per_week[(user, week)] += 1
    return means, dict(Counter(per_week.values()))


__all__ = [
    "END",
    "OTHER",
    "all_paths",
    "back_activity",
    "event_retention",
    "paths_tables",
    "step_matrix",
    "unit_path",
]
