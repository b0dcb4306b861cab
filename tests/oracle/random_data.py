"""Random canonical frames with the edge cases the definitions care about.

Independent of the demo generator on purpose: oracle tests compare the engine with plain
pandas on data neither was tuned for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Frames:
    sessions: pd.DataFrame
    orders: pd.DataFrame
    costs: pd.DataFrame


def random_frames(
    seed: int,
    *,
    users: int = 400,
    start: str = "2021-01-01",
    days: int = 120,
    sources: tuple[str, ...] = ("ads", "search", "social", "organic"),
    paid: tuple[str, ...] = ("ads", "search", "social"),
) -> Frames:
    """Sessions, orders and costs covering ``days`` days from ``start``.

    Edge cases planted: users with several sessions at the same timestamp (ties), null
    source/device, sessions that end before they start, zero-length sessions, buyers
    without any session, orders before the first visit, zero-revenue orders, an unpaid
    source, gaps in a paid source's cost series, and a last day cut mid-period.
    """
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    horizon = pd.Timedelta(days=days) - pd.Timedelta(seconds=1)
    rows = []
    for uid in range(1, users + 1):
        first = t0 + pd.Timedelta(seconds=int(rng.integers(0, int(horizon.total_seconds()))))
        src = rng.choice([*sources, None], p=[*(np.full(len(sources), 0.95 / len(sources))), 0.05])
        dev = rng.choice(["desktop", "touch", None], p=[0.6, 0.35, 0.05])
        n = int(rng.geometric(0.35))
        for k in range(n):
            ts = (
                first
                if k == 0
                else first + pd.Timedelta(minutes=int(rng.integers(0, days * 24 * 60)))
            )
            if ts > t0 + horizon:
                continue
            length = int(
                rng.choice(
                    [0, rng.integers(1, 3600), -int(rng.integers(1, 600))], p=[0.1, 0.85, 0.05]
                )
            )
            rows.append(
                {
                    "user_id": uid,
                    "start_ts": ts,
                    "end_ts": ts + pd.Timedelta(seconds=length),
                    "source": src if k == 0 else rng.choice([*sources, None]),
                    "device": dev,
                }
            )
        if rng.random() < 0.05:  # a tie: two sessions at the same first timestamp
            rows.append(
                {
                    "user_id": uid,
                    "start_ts": first,
                    "end_ts": first,
                    "source": "social",
                    "device": "touch",
                }
            )
    sessions = pd.DataFrame(rows)
    orders_rows = []
    buyers = rng.choice(np.arange(1, users + 1), size=users // 3, replace=False)
    first_visit = sessions.groupby("user_id").start_ts.min()
    for uid in buyers:
        base = first_visit.get(uid, t0)
        for _ in range(int(rng.geometric(0.5))):
            ts = base + pd.Timedelta(hours=float(rng.exponential(24 * 10)))
            if rng.random() < 0.03:
                ts = base - pd.Timedelta(days=2)  # an order before the first visit
            if t0 <= ts <= t0 + horizon:
                revenue = 0.0 if rng.random() < 0.03 else round(float(rng.lognormal(1.5, 0.8)), 2)
                orders_rows.append({"user_id": int(uid), "ts": ts, "revenue": revenue})
    for extra in range(3):  # buyers with no session at all
        orders_rows.append(
            {"user_id": users + 1 + extra, "ts": t0 + pd.Timedelta(days=3 + extra), "revenue": 5.0}
        )
    orders = pd.DataFrame(orders_rows)
    cost_rows = []
    for src in paid:
        for d in pd.date_range(t0, periods=days, freq="D"):
            if src == paid[-1] and rng.random() < 0.05:
                continue  # a gap in the cost series
            cost_rows.append(
                {"date": d.date(), "source": src, "cost": round(float(rng.uniform(5, 50)), 2)}
            )
    costs = pd.DataFrame(cost_rows)
    return Frames(sessions=sessions, orders=orders, costs=costs)


def random_sessions(
    seed: int,
    rows: int,
    *,
    users: int,
    start: str,
    steps: int,
    unit: str,
    sources: tuple[str | None, ...] = ("ads", "mail"),
) -> pd.DataFrame:
    """``rows`` sessions of ``users`` users, starting at ``start`` + 0 … ``steps``−1 ``unit``s.

    Session ids are distinct; a coarse ``unit`` (hours) gives many users two sessions at
    one instant, a fine one (seconds) almost none.
    """
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, users, rows),
            "session_id": rng.permutation(rows),
            "start_ts": pd.Timestamp(start)
            + pd.to_timedelta(rng.integers(0, steps, rows), unit=unit),  # type: ignore[arg-type]
            "source": rng.choice(np.array(sources, dtype=object), rows),
        }
    )
