"""A generated "Company X" database: the SQLite schema of issue 15, with planted truths.

:func:`write_challenge_db` writes ``conversions``, ``conversions_backend``,
``session_sources``, ``attribution_customer_journey`` and ``api_adwords_costs`` (every
column NOT NULL, conversions keyed by (conv_id, user_id, conv_date), campaign ids as
text, ``''`` for sessions without an AdWords campaign), plain or zipped, and returns a
:class:`ChallengeTruth` with the exact count and revenue effect of every planted
discrepancy (docs/demo.md, "The Company X database").

The data: about 90 days, 8 channels, 4 markets (one recording revenue in cents: a
currency-scale error ×100), 11 AdWords campaign ids on the paid search and display
channels. Buyers' sessions lead to their conversions (the journeys, with IHC-like
shares); non-buyers' sessions lead nowhere.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from growthlens.demo.discrepancies import (
    DAY_SECONDS,
    Outage,
    Rows,
    discrepancy_targets,
    plant_discrepancies,
    summarise,
)
from growthlens.demo.sales import HOUR_WEIGHTS
from growthlens.demo.world import TruthSection
from growthlens.errors import ConfigError

# ---- planted parameters ----------------------------------------------------------------
START = date(2023, 1, 2)
DAYS = 90
LOOKBACK_DAYS = 30
CHANNELS = (
    "Paid Search",
    "Organic Search",
    "Direct",
    "Email",
    "Social Paid",
    "Referral",
    "Display",
    "Affiliate",
)
# Channel mix of journey touches before the last, of the last (converting) touch, and of
# non-buyers' sessions: paid search and email convert, display and social feed non-buyers.
TOUCH_MIX = (0.24, 0.20, 0.12, 0.12, 0.08, 0.08, 0.08, 0.08)
LAST_TOUCH_MIX = (0.28, 0.18, 0.22, 0.14, 0.04, 0.06, 0.02, 0.06)
BROWSE_MIX = (0.18, 0.22, 0.10, 0.04, 0.18, 0.08, 0.16, 0.04)
MARKETS = ("DE", "FR", "IT", "NL")
MARKET_SHARE = (0.40, 0.25, 0.20, 0.15)
REVENUE_MEAN = {"DE": 85.0, "FR": 75.0, "IT": 70.0, "NL": 80.0}
REVENUE_SIGMA = 0.6
CURRENCY_MARKET = "IT"  # its revenue is written in cents: a currency-scale error
CURRENCY_FACTOR = 100
CONVERSIONS_PER_BUYER = ((1, 0.85), (2, 0.12), (3, 0.03))
NON_BUYERS_PER_BUYER = 2.0
EXTRA_TOUCHES = 1.5  # a journey has 1 + Poisson(1.5) sessions
EARLY_SESSION_SHARE = 0.3  # buyers with a session more than 30 days before a conversion
LATE_SESSION_SHARE = 0.2  # buyers with a session after their last conversion
ZERO_REVENUE_SHARE = 1 / 300
OUTAGE_FIRST_DAY = 55  # 2023-02-26 .. 2023-02-28
OUTAGE_DAYS = 3
OUTAGE_SHARE = 0.8


@dataclass(frozen=True)
class Campaign:
    """An AdWords campaign: id (text), name, channel, market ('' = any) and its economics."""

    campaign_id: str
    name: str
    channel: str
    market: str
    cpc: float
    ctr: float
    weight: float  # share of its channel's sessions in its market
    cost: bool = True  # has cost rows
    sessions: bool = True  # has sessions
    last_session_day: int = DAYS - 1  # paused after this day (cost continues a while)


CAMPAIGNS = (
    Campaign("4012345678", "DE | Brand | Exact", "Paid Search", "DE", 0.45, 0.12, 0.55),
    Campaign("4012345679", "DE | Generic | Tickets", "Paid Search", "DE", 1.10, 0.05, 0.45),
    Campaign("4012346001", "FR | Brand", "Paid Search", "FR", 0.40, 0.11, 0.6),
    Campaign("4012346002", "FR | Generic", "Paid Search", "FR", 0.95, 0.045, 0.4),
    Campaign("0045123001", "IT | Brand", "Paid Search", "IT", 0.35, 0.10, 1.0),
    Campaign("4012347003", "NL | Brand", "Paid Search", "NL", 0.42, 0.10, 0.5),
    Campaign("4012347004", "NL | Generic", "Paid Search", "NL", 1.05, 0.04, 0.5),
    Campaign("5098100001", "Display | Remarketing", "Display", "", 0.60, 0.008, 0.5),
    Campaign(
        "5098100002", "Display | Prospecting", "Display", "", 0.30, 0.004, 0.4, last_session_day=59
    ),
    Campaign("5098100003", "Display | Video Test", "Display", "", 0.50, 0.005, 0.1, cost=False),
    Campaign(
        "4012349999", "DE | Generic | Old", "Paid Search", "DE", 0.90, 0.05, 0.0, sessions=False
    ),
)
"""The campaigns: ``0045123001`` keeps its leading zeros, ``5098100002`` is paused after
day 59 with 10 more days of cost, ``5098100003`` has sessions and no cost, and
``4012349999`` has cost (days 0–29) and no session."""
PAUSED_COST_DAYS = 10
SESSIONLESS_COST_DAYS = 30
STRAY_COST_ROWS = 4  # more cost rows on (day, campaign) pairs without a session
CAMPAIGN_NAMES = {"Email": "Newsletter", "Social Paid": "Social | Prospecting"}

_SCHEMA = {
    "conversions": (
        "conv_id TEXT NOT NULL, user_id TEXT NOT NULL, conv_date TEXT NOT NULL, "
        "market TEXT NOT NULL, revenue REAL NOT NULL, PRIMARY KEY (conv_id, user_id, conv_date)"
    ),
    "session_sources": (
        "session_id TEXT NOT NULL, user_id TEXT NOT NULL, event_date TEXT NOT NULL, "
        "event_time TEXT NOT NULL, channel_name TEXT NOT NULL, campaign_name TEXT NOT NULL, "
        "campaign_id TEXT NOT NULL, market TEXT NOT NULL, cpc REAL NOT NULL"
    ),
    "attribution_customer_journey": (
        "conv_id TEXT NOT NULL, session_id TEXT NOT NULL, ihc REAL NOT NULL"
    ),
}


@dataclass(frozen=True)
class ChallengeTruth(TruthSection):
    """The planted values of one generated Company X database.

    Attributes:
        seed: the generator seed.
        conversions: true conversions generated (before planting).
        window: first and last date of the data (ISO strings).
        channels: channel names.
        markets: market codes.
        currency_error: ``market`` (revenue in cents), ``factor``, and
            ``median_revenue``: market → median revenue of its rows in ``conversions``.
        campaigns: ``{campaign_id, name, channel, cost, sessions}`` per campaign.
        tables: rows per table.
        users: ``users``, ``buyers`` (users with a true conversion), ``sessions``.
        sessions_by_channel: sessions per channel.
        cost_by_campaign: total cost per campaign id.
        clicks_by_campaign: total clicks per campaign id.
        reconciliation: conversions (orders) vs conversions_backend (the reference):
            the exact counts and revenue effects of every class (docs/demo.md).
        outage: ``first``, ``last`` (dates), ``days``, ``share``.
        journeys: ``conversions`` (conv_ids with a journey), ``touchpoints``,
            ``weights_off`` (``journeys``, ``gained``: Σ(share sum − 1)),
            ``after_conversion`` (``journeys``, ``sessions``: journeys holding a session
            dated after the conversion date), ``on_conversion_day`` (journeys whose
            latest session is on the conversion date).
        costs: ``rows``, ``cost``, ``clicks``, ``impressions`` (or ``None``), and the
            cost checks: ``cost_without_clicks``, ``impressions_below_clicks``,
            ``campaigns_with_cost_no_session`` (ids, rows, cost),
            ``session_campaigns_without_cost`` (ids, sessions),
            ``rows_without_session_that_day`` (rows, cost: campaigns that have sessions).
    """

    seed: int
    conversions: int
    window: tuple[str, str]
    channels: tuple[str, ...]
    markets: tuple[str, ...]
    currency_error: Mapping[str, Any]
    campaigns: tuple[Mapping[str, Any], ...]
    tables: Mapping[str, int]
    users: Mapping[str, int]
    sessions_by_channel: Mapping[str, int]
    cost_by_campaign: Mapping[str, float]
    clicks_by_campaign: Mapping[str, int]
    reconciliation: Mapping[str, Any]
    outage: Mapping[str, Any]
    journeys: Mapping[str, Any]
    costs: Mapping[str, Any]


# ---- ids and times -------------------------------------------------------------------------
def _hex_ids(index: NDArray[np.int64], seed: int, kind: int) -> NDArray[np.str_]:
    """Distinct 16-hex-digit ids (splitmix64 is a bijection of 64-bit integers).

    Each (seed, kind) gets its own range of 2**36 inputs, so users, conversions and
    sessions never share an id.
    """
    salt = ((seed * 4 + kind) << 36) & 0xFFFFFFFFFFFFFFFF
    z = index.astype(np.uint64) + np.uint64(salt) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.array([f"{int(v):016x}" for v in z], dtype=np.str_)


_HOUR_P = np.asarray(HOUR_WEIGHTS) / np.sum(HOUR_WEIGHTS)
_BASE = (START - date(1970, 1, 1)).days  # epoch day of day 0


def _time_of_day(rng: np.random.Generator, size: int) -> NDArray[np.int64]:
    hour = rng.choice(24, size=size, p=_HOUR_P).astype(np.int64)
    return hour * 3600 + rng.integers(0, 3600, size=size)


def _dates(epoch_seconds: NDArray[np.int64]) -> NDArray[np.str_]:
    return np.datetime_as_string((epoch_seconds // DAY_SECONDS).astype("datetime64[D]"))


def _clock(epoch_seconds: NDArray[np.int64]) -> NDArray[np.str_]:
    s = epoch_seconds % DAY_SECONDS
    return np.array(
        [
            f"{h:02d}:{m:02d}:{x:02d}"
            for h, m, x in zip(s // 3600, s // 60 % 60, s % 60, strict=True)
        ],
        dtype=np.str_,
    )


# ---- the people, their sessions and conversions -------------------------------------------
@dataclass
class _Sessions:
    user: list[NDArray[np.int64]]
    ts: list[NDArray[np.int64]]
    channel: list[NDArray[np.int64]]
    conv: list[NDArray[np.int64]]  # the conversion whose journey holds it, −1: none

    def add(self, user: Any, ts: Any, channel: Any, conv: Any) -> None:
        size = len(np.atleast_1d(ts))
        for part, value in (
            (self.user, user),
            (self.ts, ts),
            (self.channel, channel),
            (self.conv, conv),
        ):
            part.append(np.broadcast_to(np.asarray(value, dtype=np.int64), (size,)).copy())

    def arrays(self) -> tuple[NDArray[np.int64], ...]:
        return tuple(np.concatenate(p) for p in (self.user, self.ts, self.channel, self.conv))


def _people(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], int]:
    """Conversions' buyer and epoch-second time, every user's market, and the buyer count."""
    counts_p = np.array([p for _, p in CONVERSIONS_PER_BUYER])
    draws = rng.choice([c for c, _ in CONVERSIONS_PER_BUYER], size=n, p=counts_p)
    total = np.cumsum(draws)
    buyers = int(np.searchsorted(total, n)) + 1
    per_buyer = draws[:buyers].copy()
    per_buyer[-1] -= int(total[buyers - 1] - n)  # the last buyer takes the remainder
    owner = np.repeat(np.arange(buyers, dtype=np.int64), per_buyer)
    # A buyer's conversions fall on distinct days, in order.
    day = np.empty(n, dtype=np.int64)
    first = np.cumsum(per_buyer) - per_buyer
    for k in np.unique(per_buyer):
        who = np.flatnonzero(per_buyer == k)
        days = np.sort(np.argsort(rng.random((len(who), DAYS)), axis=1)[:, :k], axis=1)
        day[(first[who][:, None] + np.arange(k)).ravel()] = days.ravel()
    tod = np.maximum(600, _time_of_day(rng, n))  # leave room for the converting session
    ts = (_BASE + day) * DAY_SECONDS + tod
    users = buyers + round(buyers * NON_BUYERS_PER_BUYER)
    market = rng.choice(len(MARKETS), size=users, p=np.asarray(MARKET_SHARE)).astype(np.int64)
    return owner, ts, market, buyers


def _journey_sessions(
    rng: np.random.Generator, owner: NDArray[np.int64], ts: NDArray[np.int64], out: _Sessions
) -> None:
    """Each conversion's sessions: after the previous conversion, in the 30 days before it."""
    start = _BASE * DAY_SECONDS
    prev = np.where(np.r_[False, owner[1:] == owner[:-1]], np.r_[0, ts[:-1]], 0)
    lo = np.maximum.reduce([prev, ts - LOOKBACK_DAYS * DAY_SECONDS, np.full_like(ts, start)])
    # The converting session up to 40 minutes before the conversion, the others before it.
    last = np.maximum(lo + 1, ts - rng.integers(60, 2400, len(ts)))
    extra = rng.poisson(EXTRA_TOUCHES, len(ts))
    conv = np.repeat(np.arange(len(ts), dtype=np.int64), extra)
    span = last[conv] - lo[conv] - 1
    early = lo[conv] + 1 + np.floor(rng.random(len(conv)) * np.maximum(span, 0)).astype(np.int64)
    out.add(owner[conv], early, rng.choice(8, size=len(conv), p=np.asarray(TOUCH_MIX)), conv)
    channel = rng.choice(8, size=len(ts), p=np.asarray(LAST_TOUCH_MIX))
    out.add(owner, last, channel, np.arange(len(ts)))


def _other_sessions(
    rng: np.random.Generator,
    owner: NDArray[np.int64],
    ts: NDArray[np.int64],
    users: int,
    buyers: int,
    out: _Sessions,
) -> None:
    """Sessions in no journey: buyers' early and late visits, and non-buyers' browsing."""
    start, end = _BASE * DAY_SECONDS, (_BASE + DAYS) * DAY_SECONDS
    first_conv = np.full(buyers, end)
    np.minimum.at(first_conv, owner, ts)
    last_conv = np.zeros(buyers, dtype=np.int64)
    np.maximum.at(last_conv, owner, ts)
    who = np.flatnonzero(rng.random(buyers) < EARLY_SESSION_SHARE)
    when = first_conv[who] - (LOOKBACK_DAYS + rng.integers(1, 30, len(who))) * DAY_SECONDS
    when = when - rng.integers(0, DAY_SECONDS, len(who))
    keep = when >= start
    out.add(
        who[keep], when[keep], rng.choice(8, size=int(keep.sum()), p=np.asarray(BROWSE_MIX)), -1
    )
    who = np.flatnonzero(rng.random(buyers) < LATE_SESSION_SHARE)
    when = last_conv[who] + rng.integers(3600, 20 * DAY_SECONDS, len(who))
    keep = when < end
    out.add(
        who[keep], when[keep], rng.choice(8, size=int(keep.sum()), p=np.asarray(BROWSE_MIX)), -1
    )
    non_buyers = np.arange(buyers, users, dtype=np.int64)
    per = 1 + rng.poisson(1.0, len(non_buyers))
    who = np.repeat(non_buyers, per)
    when = start + rng.integers(0, DAYS, len(who)) * DAY_SECONDS + _time_of_day(rng, len(who))
    out.add(who, when, rng.choice(8, size=len(who), p=np.asarray(BROWSE_MIX)), -1)


def _campaigns(
    rng: np.random.Generator,
    channel: NDArray[np.int64],
    market: NDArray[np.int64],
    day: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Each session's campaign index into :data:`CAMPAIGNS` (−1: no AdWords campaign).

    Paid search and display sessions get one of their channel's campaigns running that
    day in their market, by weight.
    """
    out = np.full(len(channel), -1, dtype=np.int64)
    for ch in ("Paid Search", "Display"):
        for m, code in enumerate(MARKETS):
            mine = (channel == CHANNELS.index(ch)) & (market == m)
            for d in range(DAYS):
                rows = np.flatnonzero(mine & (day == d))
                options = [
                    i
                    for i, c in enumerate(CAMPAIGNS)
                    if c.channel == ch
                    and c.sessions
                    and c.market in ("", code)
                    and d <= c.last_session_day
                ]
                if len(rows) and options:
                    p = np.array([CAMPAIGNS[i].weight for i in options])
                    pick = rng.choice(len(options), size=len(rows), p=p / p.sum())
                    out[rows] = np.asarray(options)[pick]
    return out


# ---- the writer -----------------------------------------------------------------------------
def write_challenge_db(
    path: Path | str,
    *,
    seed: int = 0,
    conversions: int = 2000,
    zipped: bool = False,
    impressions: bool = True,
) -> ChallengeTruth:
    """Write a Company X database (issue 15's schema) with planted discrepancies.

    Args:
        path: the SQLite file to write (replaced if it exists); with ``zipped``, the zip
            file, holding one ``<stem>.db``.
        seed: the database is a function of (``seed``, ``conversions``, ``impressions``).
        conversions: true conversions (the tables differ from it by the planted classes).
        zipped: write a zip holding the database.
        impressions: give ``api_adwords_costs`` an ``impressions`` column.

    Returns:
        The planted truth (:class:`ChallengeTruth`; docs/demo.md has every definition).

    Raises:
        ConfigError: ``conversions`` < 200.

    Example:
        >>> import sqlite3, tempfile, pathlib
        >>> db = pathlib.Path(tempfile.mkdtemp()) / "challenge.db"
        >>> truth = write_challenge_db(db, conversions=300, seed=1)
        >>> rows = sqlite3.connect(db).execute("select count(*) from conversions").fetchone()[0]
        >>> rows == truth.tables["conversions"]
        True
    """
    if conversions < 200:
        raise ConfigError(
            f"the Company X database needs at least 200 conversions; got conversions={conversions}"
        )
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(15,)))
    n = conversions
    owner, ts, market, buyers = _people(rng, n)
    users = len(market)
    conv_market = market[owner]
    factor = np.where(np.asarray(MARKETS)[conv_market] == CURRENCY_MARKET, CURRENCY_FACTOR, 1)
    mean = np.array([REVENUE_MEAN[m] for m in MARKETS])[conv_market]
    revenue = np.round(
        mean * rng.lognormal(-(REVENUE_SIGMA**2) / 2, REVENUE_SIGMA, n) * factor, 2
    ).clip(min=1.0)
    zero = rng.choice(n, size=max(2, round(n * ZERO_REVENUE_SHARE)), replace=False)
    revenue[zero] = 0.0

    # Sessions: the journeys, then visits in no journey.
    sessions = _Sessions([], [], [], [])
    _journey_sessions(rng, owner, ts, sessions)
    _other_sessions(rng, owner, ts, users, buyers, sessions)

    # Reconciliation: orders (conversions) vs the reference (conversions_backend).
    key = np.arange(n, dtype=np.int64)
    base = Rows(key, owner, ts, revenue, conv_market)
    eligible = np.ones(n, dtype=bool)
    eligible[zero] = False
    outage = Outage(_BASE + OUTAGE_FIRST_DAY, OUTAGE_DAYS, OUTAGE_SHARE)
    plain_markets = np.array([i for i, m in enumerate(MARKETS) if m != CURRENCY_MARKET])
    planted = plant_discrepancies(
        rng,
        base,
        discrepancy_targets(n, markets=True, order_duplicates=True),
        eligible=eligible,
        outage=outage,
        day_range=(_BASE, _BASE + DAYS - 1),
        orders_fixed=False,
        next_key=n,
        markets=plain_markets,
    )
    reconciliation = summarise(planted, base, outage)

    # Journeys of the conversions in the orders table, with planted problems on clean keys.
    s_user, s_ts, s_channel, s_conv = sessions.arrays()
    in_orders = np.isin(key, planted.orders.key)
    clean = in_orders.copy()
    clean[zero] = False
    for at in planted.positions.values():
        clean[at] = False
    journeys = _journeys(rng, owner, ts, in_orders, clean, s_conv, s_ts)
    s_user = np.concatenate([s_user, owner[journeys["after_conv"]]])
    s_ts = np.concatenate([s_ts, journeys["after_ts"]])
    s_channel = np.concatenate(
        [s_channel, rng.choice(8, size=len(journeys["after_ts"]), p=np.asarray(BROWSE_MIX))]
    )
    s_market = market[s_user]
    s_day = s_ts // DAY_SECONDS - _BASE
    s_campaign = _campaigns(rng, s_channel, s_market, s_day)
    # Session ids in time order, so the table reads chronologically.
    order = np.lexsort((s_user, s_ts))
    session_rank = np.empty(len(order), dtype=np.int64)
    session_rank[order] = np.arange(len(order))
    session_id = _hex_ids(session_rank, seed, kind=2)

    costs = _costs(rng, s_campaign, s_day)
    tables = _write(
        path,
        zipped=zipped,
        impressions=impressions,
        user_id=_hex_ids(np.arange(users, dtype=np.int64), seed, kind=0),
        conv_id=_hex_ids(np.arange(planted.next_key, dtype=np.int64), seed, kind=1),
        orders=planted.orders,
        reference=planted.reference,
        sessions=(order, session_id, s_user, s_ts, s_channel, s_campaign, s_market),
        journeys=(journeys["conv"], journeys["session"], journeys["weight"]),
        costs=costs,
    )
    orders_market = np.asarray(MARKETS)[planted.orders.market]
    median = {m: float(np.median(planted.orders.revenue[orders_market == m])) for m in MARKETS}
    campaign_ids = np.array([c.campaign_id for c in CAMPAIGNS])
    return ChallengeTruth(
        seed=seed,
        conversions=n,
        window=(START.isoformat(), (START + timedelta(days=DAYS - 1)).isoformat()),
        channels=CHANNELS,
        markets=MARKETS,
        currency_error={
            "market": CURRENCY_MARKET,
            "factor": CURRENCY_FACTOR,
            "median_revenue": median,
        },
        campaigns=tuple(
            {
                "campaign_id": c.campaign_id,
                "name": c.name,
                "channel": c.channel,
                "cost": c.cost,
                "sessions": c.sessions,
            }
            for c in CAMPAIGNS
        ),
        tables=tables,
        users={"users": users, "buyers": buyers, "sessions": len(s_ts)},
        sessions_by_channel={ch: int(np.sum(s_channel == i)) for i, ch in enumerate(CHANNELS)},
        cost_by_campaign={
            c: round(float(costs["cost"][costs["campaign"] == i].sum()), 2)
            for i, c in enumerate(campaign_ids)
            if CAMPAIGNS[i].cost
        },
        clicks_by_campaign={
            c: int(costs["clicks"][costs["campaign"] == i].sum())
            for i, c in enumerate(campaign_ids)
            if CAMPAIGNS[i].cost
        },
        reconciliation=reconciliation,
        outage={
            "first": (START + timedelta(days=OUTAGE_FIRST_DAY)).isoformat(),
            "last": (START + timedelta(days=OUTAGE_FIRST_DAY + OUTAGE_DAYS - 1)).isoformat(),
            "days": OUTAGE_DAYS,
            "share": OUTAGE_SHARE,
        },
        journeys=journeys["truth"],
        costs=_cost_truth(costs, s_campaign, s_day, impressions),
    )


def _journeys(
    rng: np.random.Generator,
    owner: NDArray[np.int64],
    ts: NDArray[np.int64],
    in_orders: NDArray[np.bool_],
    clean: NDArray[np.bool_],
    s_conv: NDArray[np.int64],
    s_ts: NDArray[np.int64],
) -> dict[str, Any]:
    """The journeys of the conversions in the orders table, with IHC-like shares.

    Shares are Gamma draws (shape 2 for the first and last touch, 1 between) over their
    sum. Planted on clean conversions: journeys whose shares are scaled off 1, and
    journeys of a buyer's last conversion that gain a session 1–5 days after it.
    """
    n = len(ts)
    touch = np.flatnonzero((s_conv >= 0) & in_orders[np.maximum(s_conv, 0)])
    touch = touch[np.lexsort((touch, s_ts[touch], s_conv[touch]))]
    conv = s_conv[touch]
    # Buyers' last conversions with room for a session days later.
    last_of_owner = np.r_[owner[1:] != owner[:-1], True]
    room = ts // DAY_SECONDS + 6 <= _BASE + DAYS - 1
    pool = rng.permutation(np.flatnonzero(clean))
    after = pool[last_of_owner[pool] & room[pool]][: max(3, n // 200)]
    off = pool[~np.isin(pool, after)][: max(3, n // 150)]
    after_ts = (ts[after] // DAY_SECONDS + rng.integers(1, 6, len(after))) * DAY_SECONDS
    after_ts = after_ts + _time_of_day(rng, len(after))
    after_session = len(s_ts) + np.arange(len(after), dtype=np.int64)

    conv = np.concatenate([conv, after])
    session = np.concatenate([touch, after_session])
    when = np.concatenate([s_ts[touch], after_ts])
    order = np.lexsort((session, when, conv))
    conv, session, when = conv[order], session[order], when[order]
    starts = np.r_[True, conv[1:] != conv[:-1]]
    ends = np.r_[conv[1:] != conv[:-1], True]
    shape = np.where(starts | ends, 2.0, 1.0)
    draw = rng.gamma(shape)
    group = np.cumsum(starts) - 1
    weight = draw / np.bincount(group, weights=draw)[group]
    scale = np.ones(n)
    scale[off] = np.where(
        rng.random(len(off)) < 0.5, rng.uniform(0.6, 0.9, len(off)), rng.uniform(1.1, 1.4, len(off))
    )
    weight = weight * scale[conv]
    sums = np.bincount(conv, weights=weight, minlength=n)

    conv_day = ts // DAY_SECONDS
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, conv, when // DAY_SECONDS)
    journeys = np.unique(conv)
    return {
        "conv": conv,
        "session": session,
        "weight": weight,
        "after_conv": after,
        "after_ts": after_ts,
        "truth": {
            "conversions": len(journeys),
            "touchpoints": len(conv),
            "weights_off": {
                "journeys": len(off),
                "gained": float((sums[off] - 1).sum()),
            },
            "after_conversion": {"journeys": len(after), "sessions": len(after)},
            "on_conversion_day": int(np.sum(latest[journeys] == conv_day[journeys])),
        },
    }


def _costs(
    rng: np.random.Generator, s_campaign: NDArray[np.int64], s_day: NDArray[np.int64]
) -> dict[str, Any]:
    """Daily cost rows per campaign: from its sessions, plus the planted oddities."""
    cells, sessions = np.unique(
        s_campaign[s_campaign >= 0] * DAYS + s_day[s_campaign >= 0], return_counts=True
    )
    costed = np.array([c.cost for c in CAMPAIGNS])
    regular = costed[cells // DAYS]
    campaign = [cells[regular] // DAYS]
    day = [cells[regular] % DAYS]
    clicks = [sessions[regular] + rng.poisson(0.25 * sessions[regular])]
    # Cost on days without a session: a paused campaign's last days of spend, a few
    # stray days, and a campaign whose sessions are never tracked.
    seen = set(cells.tolist())
    paused = [i for i, c in enumerate(CAMPAIGNS) if c.last_session_day < DAYS - 1]
    for i in paused:
        first = CAMPAIGNS[i].last_session_day + 1
        campaign.append(np.full(PAUSED_COST_DAYS, i))
        day.append(np.arange(first, first + PAUSED_COST_DAYS))
    active = [i for i, c in enumerate(CAMPAIGNS) if c.cost and c.sessions]
    stray = [
        (i, d)
        for i in active
        for d in range(CAMPAIGNS[i].last_session_day + 1)
        if i * DAYS + d not in seen
    ]
    picked = [stray[j] for j in rng.permutation(len(stray))[:STRAY_COST_ROWS]]
    campaign.append(np.array([i for i, _ in picked], dtype=np.int64))
    day.append(np.array([d for _, d in picked], dtype=np.int64))
    for i in (i for i, c in enumerate(CAMPAIGNS) if c.cost and not c.sessions):
        campaign.append(np.full(SESSIONLESS_COST_DAYS, i))
        day.append(np.arange(SESSIONLESS_COST_DAYS))
    extra = sum(len(d) for d in day[1:])
    clicks.append(1 + rng.poisson(3.0, extra))
    out_campaign = np.concatenate(campaign).astype(np.int64)
    out_day = np.concatenate(day).astype(np.int64)
    out_clicks = np.concatenate(clicks).astype(np.int64)
    cpc = np.array([c.cpc for c in CAMPAIGNS])[out_campaign]
    ctr = np.array([c.ctr for c in CAMPAIGNS])[out_campaign]
    cost = np.maximum(0.01, np.round(out_clicks * cpc * rng.uniform(0.85, 1.15, len(cpc)), 2))
    impressions = np.ceil(out_clicks / np.minimum(1.0, ctr * rng.lognormal(0, 0.2, len(ctr))))
    impressions = impressions.astype(np.int64)
    # Planted on rows with sessions that day: cost without clicks, impressions < clicks.
    rows = rng.permutation(int(regular.sum()))
    k = max(3, len(rows) // 100)
    no_clicks, below = rows[:k], rows[k : 2 * k]
    out_clicks[no_clicks] = 0
    impressions[below] = rng.integers(0, out_clicks[below])
    order = np.lexsort((out_campaign, out_day))
    return {
        "campaign": out_campaign[order],
        "day": out_day[order],
        "cost": cost[order],
        "clicks": out_clicks[order],
        "impressions": impressions[order],
        "no_clicks": len(no_clicks),
        "below": len(below),
        "regular": int(regular.sum()),
    }


def _cost_truth(
    costs: Mapping[str, Any],
    s_campaign: NDArray[np.int64],
    s_day: NDArray[np.int64],
    impressions: bool,
) -> dict[str, Any]:
    campaign, day, cost = costs["campaign"], costs["day"], costs["cost"]
    with_sessions = np.isin(campaign, np.unique(s_campaign[s_campaign >= 0]))
    seen = np.unique(s_campaign[s_campaign >= 0] * DAYS + s_day[s_campaign >= 0])
    no_session_day = with_sessions & ~np.isin(campaign * DAYS + day, seen)
    no_sessions = ~with_sessions
    ids = np.array([c.campaign_id for c in CAMPAIGNS])
    uncosted = [
        i for i, c in enumerate(CAMPAIGNS) if c.sessions and not c.cost and np.any(s_campaign == i)
    ]
    return {
        "rows": len(campaign),
        "cost": round(float(cost.sum()), 2),
        "clicks": int(costs["clicks"].sum()),
        "impressions": int(costs["impressions"].sum()) if impressions else None,
        "cost_without_clicks": costs["no_clicks"],
        "impressions_below_clicks": costs["below"] if impressions else 0,
        "campaigns_with_cost_no_session": {
            "ids": sorted(set(ids[campaign[no_sessions]].tolist())),
            "rows": int(no_sessions.sum()),
            "cost": round(float(cost[no_sessions].sum()), 2),
        },
        "session_campaigns_without_cost": {
            "ids": sorted(ids[uncosted].tolist()),
            "sessions": int(np.isin(s_campaign, uncosted).sum()),
        },
        "rows_without_session_that_day": {
            "rows": int(no_session_day.sum()),
            "cost": round(float(cost[no_session_day].sum()), 2),
        },
    }


def _write(
    path: Path | str,
    *,
    zipped: bool,
    impressions: bool,
    user_id: NDArray[np.str_],
    conv_id: NDArray[np.str_],
    orders: Rows,
    reference: Rows,
    sessions: tuple[Any, ...],
    journeys: tuple[NDArray[Any], ...],
    costs: Mapping[str, Any],
) -> dict[str, int]:
    """Write the five tables; return rows per table."""
    target = Path(path)
    with tempfile.TemporaryDirectory(prefix="growthlens-challenge-") as tmp:
        db = Path(tmp) / f"{target.stem}.db" if zipped else target
        db.unlink(missing_ok=True)
        con = sqlite3.connect(db)
        try:
            counts = _fill(
                con, impressions, user_id, conv_id, orders, reference, sessions, journeys, costs
            )
            con.commit()
        finally:
            con.close()
        if zipped:
            info = zipfile.ZipInfo(db.name, date_time=(2023, 4, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zipfile.ZipFile(target, "w") as archive:
                archive.writestr(info, db.read_bytes())
    return counts


def _fill(
    con: sqlite3.Connection,
    impressions: bool,
    user_id: NDArray[np.str_],
    conv_id: NDArray[np.str_],
    orders: Rows,
    reference: Rows,
    sessions: tuple[Any, ...],
    journeys: tuple[NDArray[Any], ...],
    costs: Mapping[str, Any],
) -> dict[str, int]:
    counts: dict[str, int] = {}

    def insert(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        con.execute(f"CREATE TABLE {table} ({columns})")
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        counts[table] = len(rows)

    markets = np.asarray(MARKETS)
    for table, side in (("conversions", orders), ("conversions_backend", reference)):
        assert side.market is not None
        order = np.lexsort((side.key, side.ts))
        rows: list[tuple[Any, ...]] = list(
            zip(
                conv_id[side.key[order]].tolist(),
                user_id[side.user[order]].tolist(),
                _dates(side.ts[order]).tolist(),
                markets[side.market[order]].tolist(),
                side.revenue[order].tolist(),
                strict=True,
            )
        )
        insert(table, _SCHEMA["conversions"], rows)

    order, session_id, s_user, s_ts, s_channel, s_campaign, s_market = sessions
    channels = np.asarray(CHANNELS)[s_channel]
    names = np.array([c.name for c in CAMPAIGNS] + [""])[s_campaign]
    plain = np.array([CAMPAIGN_NAMES.get(ch, "") for ch in CHANNELS])[s_channel]
    names = np.where(s_campaign >= 0, names, plain)
    ids = np.array([c.campaign_id for c in CAMPAIGNS] + [""])[s_campaign]
    cpc = np.where(s_campaign >= 0, np.array([c.cpc for c in CAMPAIGNS] + [0.0])[s_campaign], 0.0)
    rows = list(
        zip(
            session_id[order].tolist(),
            user_id[s_user[order]].tolist(),
            _dates(s_ts[order]).tolist(),
            _clock(s_ts[order]).tolist(),
            channels[order].tolist(),
            names[order].tolist(),
            ids[order].tolist(),
            markets[s_market[order]].tolist(),
            cpc[order].tolist(),
            strict=True,
        )
    )
    insert("session_sources", _SCHEMA["session_sources"], rows)

    conv, session, weight = journeys
    rows = list(
        zip(conv_id[conv].tolist(), session_id[session].tolist(), weight.tolist(), strict=True)
    )
    insert("attribution_customer_journey", _SCHEMA["attribution_customer_journey"], rows)

    campaign_ids = np.array([c.campaign_id for c in CAMPAIGNS])
    dates = _dates((_BASE + costs["day"]) * DAY_SECONDS)
    columns = [dates, campaign_ids[costs["campaign"]], costs["cost"], costs["clicks"]]
    schema = "event_date TEXT NOT NULL, campaign_id TEXT NOT NULL, cost REAL NOT NULL, "
    schema += "clicks INTEGER NOT NULL"
    if impressions:
        columns.append(costs["impressions"])
        schema += ", impressions INTEGER NOT NULL"
    rows = list(zip(*(c.tolist() for c in columns), strict=True))
    insert("api_adwords_costs", schema, rows)
    return counts
