"""Plain-Python attribution, written straight from docs/attribution.md.

Per conversion, by loops over dict rows: which sessions belong to it (the user's first
conversion at or after each session, within the lookback), then each rule model's credit
per touch. Slow and obvious; for small generated data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

Row = dict[str, object]
DIRECT = ("direct", "(direct)", "(none)")


def _day(ts: datetime) -> datetime:
    return datetime(ts.year, ts.month, ts.day)


def journeys(
    sessions: Sequence[Row], orders: Sequence[Row], lookback: timedelta
) -> dict[str, list[Row]]:
    """conversion id → its sessions in touch order (ts, then session id as text).

    ``orders`` rows have ``order_id``, ``user_id``, ``ts``, ``revenue`` (one row per id).
    """
    by_day = all(o["ts"] == _day(o["ts"]) for o in orders)  # type: ignore[arg-type]
    key = _day if by_day else (lambda t: t)
    by_user: dict[object, list[Row]] = defaultdict(list)
    for o in orders:
        by_user[o["user_id"]].append(o)
    out: dict[str, list[Row]] = {str(o["order_id"]): [] for o in orders}
    for s in sessions:
        start = key(s["start_ts"])  # type: ignore[arg-type]
        later = [
            o
            for o in by_user.get(s["user_id"], [])
            if o["ts"] >= start  # type: ignore[operator]
        ]
        if not later:
            continue
        first = min(later, key=lambda o: (o["ts"], str(o["order_id"])))
        if start >= first["ts"] - lookback:  # type: ignore[operator]
            out[str(first["order_id"])].append(s)
    for touches in out.values():
        touches.sort(key=lambda s: (s["start_ts"], str(s["session_id"])))
    return out


def credit(
    model: str,
    touches: Sequence[Row],
    conv_ts: datetime,
    *,
    half_life_s: float = 7 * 86400,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> list[float]:
    """The credit of each touch (in order) under a rule model (or shapley)."""
    n = len(touches)
    if n == 0:
        return []
    channels = [str(t["source"]) for t in touches]
    if model == "first_touch":
        return [1.0 if i == 0 else 0.0 for i in range(n)]
    if model == "last_touch":
        return [1.0 if i == n - 1 else 0.0 for i in range(n)]
    if model == "last_non_direct":
        keep = [i for i, c in enumerate(channels) if c.strip().lower() not in DIRECT]
        pick = keep[-1] if keep else n - 1
        return [1.0 if i == pick else 0.0 for i in range(n)]
    if model == "linear":
        return [1.0 / n] * n
    if model == "time_decay":
        ages = [(conv_ts - t["start_ts"]).total_seconds() for t in touches]  # type: ignore[operator]
        w = [2.0 ** (-a / half_life_s) for a in ages]
        return [x / sum(w) for x in w]
    if model == "position_based":
        first, mid, last = position
        if n == 1:
            return [1.0]
        if n == 2:
            return [first / (first + last), last / (first + last)]
        return [first] + [mid / (n - 2)] * (n - 2) + [last]
    if model == "shapley":
        distinct = set(channels)
        return [1.0 / len(distinct) / channels.count(c) for c in channels]
    raise ValueError(model)


def channel_credit(
    model: str,
    sessions: Sequence[Row],
    orders: Sequence[Row],
    *,
    lookback: timedelta = timedelta(days=30),
    half_life_s: float = 7 * 86400,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> dict[str, tuple[float, float]]:
    """channel → (conversions, revenue) credited; ``(no touch)`` for conversions without."""
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    paths = journeys(sessions, orders, lookback)
    for o in orders:
        touches = paths[str(o["order_id"])]
        revenue = float(o["revenue"])  # type: ignore[arg-type]
        if not touches:
            out["(no touch)"][0] += 1.0
            out["(no touch)"][1] += revenue
            continue
        c = credit(model, touches, o["ts"], half_life_s=half_life_s, position=position)  # type: ignore[arg-type]
        for t, x in zip(touches, c, strict=True):
            out[str(t["source"])][0] += x
            out[str(t["source"])][1] += x * revenue
    return {k: (v[0], v[1]) for k, v in out.items()}
