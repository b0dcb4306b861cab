"""Plain-Python channel economics (docs/channels.md), written from the definitions.

Row-level loops over dicts, no engine and nothing from the package: journeys (linear and
first-touch credit) are rebuilt here from the sessions and orders by the rule of DESIGN §4,
so the engine's attribution and aggregation are both checked. Also a generator of random
sessions, orders and costs with campaigns and markets.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd

UNKNOWN, NO_TOUCH, NO_SESSIONS = "(unknown)", "(no touch)", "(no sessions)"
START = pd.Timestamp("2023-03-01")
DAYS = 75


def random_frames(seed: int, users: int = 300) -> dict[str, pd.DataFrame]:
    """Sessions (ids, sources, campaigns, markets), orders with ids and daily campaign costs.

    Planted: null sources, campaigns, markets; a campaign spread over two sources; users
    with no session; cost rows without campaign, with zero clicks or zero cost, for
    campaigns no session has, and days missing from a campaign's series.
    """
    rng = np.random.default_rng(seed)
    campaigns = {"ads": ["a1", "a2", "x1"], "search": ["s1", "x1"], "social": ["m1"]}
    sources = ["ads", "search", "social", "organic", "direct", None]
    rows: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    sid = 0
    for u in range(users):
        user = f"u{u:04d}"
        n = int(rng.integers(0, 6))  # 0: a buyer without sessions, possibly
        for _ in range(n):
            sid += 1
            source = sources[int(rng.integers(0, len(sources)))]
            pool = campaigns.get(source or "", [])
            campaign = (
                pool[int(rng.integers(0, len(pool)))] if pool and rng.random() < 0.8 else None
            )
            rows.append(
                {
                    "session_id": f"s{sid:05d}",
                    "user_id": user,
                    "start_ts": START + pd.Timedelta(seconds=int(rng.integers(0, DAYS * 86400))),
                    "source": source,
                    "campaign": campaign,
                    "market": ["de", "fr", "us", None][int(rng.integers(0, 4))],
                }
            )
        for k in range(int(rng.integers(0, 3)) if n or rng.random() < 0.3 else 0):
            orders.append(
                {
                    "order_id": f"o{u:04d}-{k}",
                    "user_id": user,
                    # Seconds, never midnight: journeys compare times (not days).
                    "ts": START + pd.Timedelta(seconds=int(rng.integers(1, DAYS * 86400 - 1))),
                    "revenue": float(rng.choice([0.0, 10.0, 25.5, 99.0, 140.25])),
                }
            )
    costs: list[dict[str, Any]] = []
    for day in range(DAYS):
        date = START + pd.Timedelta(days=day)
        for source, names in campaigns.items():
            for name in names + ["z9"] * (source == "ads"):
                if rng.random() < 0.15:
                    continue  # a gap
                clicks = int(rng.integers(0, 30))
                costs.append(
                    {
                        "date": date,
                        "source": source,
                        "campaign": name,
                        "cost": float(rng.choice([0.0, 3.0, 12.5, 40.0])),
                        "clicks": clicks,
                        "impressions": clicks * int(rng.integers(0, 40)),
                    }
                )
        if rng.random() < 0.5:
            costs.append(
                {
                    "date": date,
                    "source": "tv",
                    "campaign": None,
                    "cost": 20.0,
                    "clicks": 0,
                    "impressions": 0,
                }
            )
    return {
        "sessions": pd.DataFrame(rows),
        "orders": pd.DataFrame(orders),
        "costs": pd.DataFrame(costs),
    }


def _period(ts: pd.Timestamp, period: str | None) -> pd.Timestamp | None:
    if period is None:
        return None
    day = pd.Timestamp(ts).normalize()
    if period == "day":
        return day
    if period == "week":
        return day - pd.Timedelta(days=day.day_of_week)
    return day.replace(day=1)


def _value(x: Any) -> str:
    return UNKNOWN if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def credit_rows(
    sessions: pd.DataFrame, orders: pd.DataFrame, model: str, lookback_s: int
) -> list[dict[str, Any]]:
    """Per touch: the session (None for a conversion without touches), conversion time,
    credit and revenue credit. A session belongs to the user's first conversion at or
    after its start (by time, then id), if it started at most ``lookback_s`` before it."""
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in orders.to_dict("records"):
        by_user[o["user_id"]].append(o)
    journeys: dict[str, list[dict[str, Any]]] = {
        o["order_id"]: [] for o in orders.to_dict("records")
    }
    for s in sessions.to_dict("records"):
        later = sorted(
            (o for o in by_user.get(s["user_id"], []) if o["ts"] >= s["start_ts"]),
            key=lambda o: (o["ts"], o["order_id"]),
        )
        if later and (later[0]["ts"] - s["start_ts"]).total_seconds() <= lookback_s:
            journeys[later[0]["order_id"]].append(s)
    out = []
    for o in orders.to_dict("records"):
        touches = sorted(journeys[o["order_id"]], key=lambda s: (s["start_ts"], s["session_id"]))
        if not touches:
            out.append(
                {"session": None, "conv_ts": o["ts"], "credit": 1.0, "revenue": o["revenue"]}
            )
            continue
        for i, s in enumerate(touches):
            credit = 1 / len(touches) if model == "linear" else float(i == 0)
            out.append(
                {
                    "session": s,
                    "conv_ts": o["ts"],
                    "credit": credit,
                    "revenue": credit * o["revenue"],
                }
            )
    return out


def campaign_channel(sessions: pd.DataFrame) -> dict[str, str]:
    """Campaign → its sessions' most frequent source (known first; ties: smallest text)."""
    counts: dict[str, Counter[Any]] = defaultdict(Counter)
    for s in sessions.to_dict("records"):
        if s["campaign"] is not None and not (
            isinstance(s["campaign"], float) and math.isnan(s["campaign"])
        ):
            counts[str(s["campaign"])][_value(s["source"])] += 1
    out = {}
    for campaign, c in counts.items():
        known = {k: v for k, v in c.items() if k != UNKNOWN} or dict(c)
        out[campaign] = min(known, key=lambda k: (-known[k], k))
    return out


def economics(
    frames: dict[str, pd.DataFrame],
    *,
    by: str,
    period: str | None,
    model: str = "linear",
    others: tuple[str, ...] = (),
    lookback_s: int = 30 * 86400,
) -> tuple[dict[tuple[Any, str], dict[str, float]], dict[str, float]]:
    """Per (period, value): the measures and ratios; and the totals (same keys)."""
    sessions, orders, costs = frames["sessions"], frames["orders"], frames["costs"]
    column = "source" if by == "channel" else by
    cells: dict[tuple[Any, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    users: dict[tuple[Any, str], set[str]] = defaultdict(set)
    first: dict[str, dict[str, Any]] = {}
    for s in sessions.to_dict("records"):
        key = (_period(s["start_ts"], period), _value(s[column]))
        cells[key]["sessions"] += 1
        users[key].add(s["user_id"])
        best = first.get(s["user_id"])
        if best is None or (s["start_ts"], s["session_id"]) < (
            best["start_ts"],
            best["session_id"],
        ):
            first[s["user_id"]] = s
    for s in first.values():
        cells[(_period(s["start_ts"], period), _value(s[column]))]["new_users"] += 1
    for name in (model, *others):
        for r in credit_rows(sessions, orders, name, lookback_s):
            s = r["session"]
            value = NO_TOUCH if s is None else _value(s[column])
            cell = cells[(_period(r["conv_ts"], period), value)]
            if name == model:
                cell["conversions"] += r["credit"]
                cell["revenue"] += r["revenue"]
            else:
                cell[f"revenue_{name}"] += r["revenue"]
    channel_of = campaign_channel(sessions)
    paid: set[str] = set()
    unsplit: dict[str, float] = defaultdict(float)
    for c in costs.to_dict("records"):
        if by != "channel" and column not in c:
            for m in ("cost", "clicks", "impressions"):  # no row can take it: totals only
                unsplit[m] += float(c[m])
            continue
        campaign = c["campaign"]
        has_campaign = campaign is not None and not (
            isinstance(campaign, float) and math.isnan(campaign)
        )
        if by == "channel":
            value = (
                channel_of.get(str(campaign), NO_SESSIONS) if has_campaign else _value(c["source"])
            )
        else:
            value = _value(c[column])
        cell = cells[(_period(c["date"], period), value)]
        paid.add(value)
        for m in ("cost", "clicks", "impressions"):
            cell[m] += float(c[m])
    total: dict[str, float] = defaultdict(float)
    for key, cell in cells.items():
        cell["users"] = len(users[key])
        for m, v in cell.items():
            if m != "users":
                total[m] += v
    for m, v in unsplit.items():
        total[m] += v
    total["users"] = len({s for us in users.values() for s in us})
    for key, cell in cells.items():
        _ratios(cell, others, unpaid=key[1] not in paid)
    _ratios(total, others, unpaid=False)
    return dict(cells), dict(total)


def _div(a: float, b: float) -> float:
    return a / b if b != 0 else math.nan


def _ratios(cell: dict[str, float], others: tuple[str, ...], *, unpaid: bool) -> None:
    g = lambda m: cell.get(m, 0.0)  # noqa: E731
    cell["cpc"] = _div(g("cost"), g("clicks"))
    cell["cpm"] = _div(g("cost"), g("impressions")) * 1000
    cell["ctr"] = _div(g("clicks"), g("impressions"))
    cell["cpa"] = math.nan if unpaid else _div(g("cost"), g("conversions"))
    cell["roas"] = _div(g("revenue"), g("cost"))
    for m in others:
        cell[f"roas_{m}"] = _div(g(f"revenue_{m}"), g("cost"))
