"""Tracking anomalies (docs/tracking.md): hand-built logs for an impossible relation, an
orphan purchase, a planted drop and a clean log; the plain-Python oracle on a generated
log; degenerate input and options."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.tracking import tracking
from growthlens.errors import ConfigError
from tests.oracle import tracking as oracle

D0 = datetime(2024, 1, 1)


def _load(rows: list[tuple[Any, datetime, str]], **settings: Any) -> gl.Dataset:
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [t for _, t, _ in rows],
            "event": [e for _, _, e in rows],
        }
    )
    return gl.load(events=frame, **settings)


def _at(day: int, hour: float = 10) -> datetime:
    return D0 + timedelta(days=day, hours=hour)


def test_a_day_with_more_purchasers_than_page_viewers_is_an_impossible_relation() -> None:
    """Day 0: 3 viewers, 1 buyer. Day 1: 1 viewer (u1 twice), 2 buyers → broken, although
    u1's two page views make the events equal (2 and 2): users decide."""
    rows = [(1, _at(0), "page_view"), (2, _at(0), "page_view"), (3, _at(0), "page_view")]
    rows += [(1, _at(0, 11), "purchase")]
    rows += [(1, _at(1), "page_view"), (1, _at(1, 10.5), "page_view")]
    rows += [(1, _at(1, 11), "purchase"), (2, _at(1, 12), "purchase")]
    r = tracking(_load(rows))
    rel = r.tables["relations"].set_index("date")
    assert rel["violation"].tolist() == [False, True]
    day2 = rel.loc[date(2024, 1, 2)]
    assert [day2["earlier_users"], day2["later_users"]] == [1, 2]
    assert [day2["earlier_events"], day2["later_events"]] == [2, 2]
    anomalies = r.tables["anomalies"]
    assert anomalies[["kind", "event", "start", "end", "observed", "expected"]].to_dict(
        "records"
    ) == [
        {
            "kind": "relation",
            "event": "purchase > page_view",
            "start": date(2024, 1, 2),
            "end": date(2024, 1, 2),
            "observed": 2.0,
            "expected": 1.0,
        }
    ]
    finding = next(f for f in r.findings if f.code == "impossible_relation")
    assert finding.severity == "error"
    assert finding.text.startswith(
        "More users had purchase than page_view on 2024-01-02 (2 against 1)"
    )
    # A tolerance of 100% lets twice as many through.
    assert not tracking(_load(rows), tolerance=1.0).tables["relations"]["violation"].any()


def test_a_cart_kept_overnight_breaks_no_relation() -> None:
    """u1 adds to cart on day 1 and checks out on day 2 (page views both days): on day 2
    more users begin checkout (1) than add to cart (0) — legitimate, so only the first
    step is compared per day, and the user-level order (orphans) holds."""
    rows = [
        (1, _at(1), "page_view"),
        (1, _at(1, 11), "add_to_cart"),
        (1, _at(2), "page_view"),
        (1, _at(2, 11), "begin_checkout"),
    ]
    r = tracking(_load(rows))
    rel = r.tables["relations"]
    assert sorted(set(zip(rel["earlier"], rel["later"], strict=True))) == [
        ("page_view", "add_to_cart"),
        ("page_view", "begin_checkout"),
    ]
    assert not rel["violation"].any()
    assert r.tables["orphans"]["orphans"].sum() == 0
    assert [f.code for f in r.findings] == ["not_enough_data"]


def test_orphan_purchase_counted_with_examples() -> None:
    """u1: view then buy (fine). u2: buys with no view ever (orphan, never). u3: buys, views
    later (orphan, not never). u4: buys on the first day only (left out: its view may lie
    before the data). u5: view on the first day, buy on day 3 (fine: earlier days count)."""
    rows = [
        (1, _at(1), "page_view"),
        (1, _at(1, 11), "purchase"),
        (2, _at(2), "purchase"),
        (3, _at(2), "purchase"),
        (3, _at(2, 11), "page_view"),
        (4, _at(0, 1), "purchase"),
        (5, _at(0), "page_view"),
        (5, _at(3), "purchase"),
    ]
    r = tracking(_load(rows))
    pairs = r.tables["orphans"]
    assert pairs[["earlier", "later", "later_users", "orphans", "never", "examples"]].to_dict(
        "records"
    ) == [
        {
            "earlier": "page_view",
            "later": "purchase",
            "later_users": 4,
            "orphans": 2,
            "never": 1,
            "examples": "2, 3",
        }
    ]
    assert pairs["share"].tolist() == [0.5]
    finding = next(f for f in r.findings if f.code == "orphan_steps")
    assert finding.numbers["orphans"] == 2 and "e.g. 2, 3" in finding.text


def _poisson_log(
    weeks: int, seed: int, *, drop: tuple[int, int] | None = None
) -> list[tuple[Any, datetime, str]]:
    """page_view ~400 a day, add_to_cart ~60, purchase ~20 (one user each, always with a
    page view before); weekends lower; ``drop``: page views under-recorded by 40% on
    those days (first, last)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, datetime, str]] = []
    user = 0
    for day in range(weeks * 7):
        factor = 0.7 if day % 7 in (5, 6) else 1.0
        for _ in range(int(rng.poisson(20 * factor))):
            user += 1
            rows += [(user, _at(day, 9), "page_view"), (user, _at(day, 9.1), "add_to_cart")]
            rows += [(user, _at(day, 9.2), "purchase")]
        for _ in range(int(rng.poisson(40 * factor))):
            user += 1
            rows += [(user, _at(day, 12), "page_view"), (user, _at(day, 12.1), "add_to_cart")]
        for _ in range(int(rng.poisson(340 * factor))):
            user += 1
            rows.append((user, _at(day, 15), "page_view"))
    if drop is not None:
        first, last = drop
        keep = rng.random(len(rows)) >= 0.4
        rows = [
            row
            for row, k in zip(rows, keep, strict=True)
            if k or row[2] != "page_view" or not first <= (row[1] - D0).days <= last
        ]
    return rows


def test_a_planted_drop_is_found_with_its_dates() -> None:
    rows = _poisson_log(12, seed=1, drop=(28, 48))
    r = tracking(_load(rows))
    drops = r.table[r.table["kind"] == "drop"]
    assert drops[["event", "start", "end", "days"]].to_dict("records") == [
        {"event": "page_view", "start": date(2024, 1, 29), "end": date(2024, 2, 18), "days": 21}
    ]
    assert 0.55 < float(drops["ratio"].iloc[0]) < 0.65
    assert (r.table["kind"] == "spike").sum() == 0
    text = next(f.text for f in r.findings if f.code == "tracking_drop")
    assert text == (
        "page_view fell to 59% of its usual level from 2024-01-29 to 2024-02-18 "
        "(expected ~360 a day, saw ~213)."
    )
    # Purchasers outnumber page viewers on no day; but with the page views lost, some
    # carts and purchases have none before them: orphans, all within the gap.
    assert r.summary["relation_days"].value == 0
    orphan_dates = r.tables["orphan_days"]["date"]
    assert len(orphan_dates) and orphan_dates.between(date(2024, 1, 29), date(2024, 2, 18)).all()
    orphan_text = next(f.text for f in r.findings if f.code == "orphan_steps")
    assert "of them from 2024-0" in orphan_text
    daily = r.tables["daily"]
    assert set(daily.columns) >= {"date", "event", "count", "expected", "low", "high", "flag"}
    assert len(daily) == 3 * 12 * 7
    assert daily["flag"].sum() == 21


def test_a_clean_log_flags_nothing() -> None:
    r = tracking(_load(_poisson_log(12, seed=2)))
    assert r.status == "ok"
    assert len(r.table) == 0
    assert [f.code for f in r.findings] == ["tracking_ok"]
    assert r.summary["anomalies"].value == 0 and r.summary["orphan_users"].value == 0
    assert r.tables["orphans"]["orphans"].sum() == 0
    fig = r.figure()
    assert len(fig.data) == 3  # one line per event


def test_daily_counts_and_orphans_match_the_oracle() -> None:
    """A random log with sloppy tracking (events in any order, repeats, ties, midnight)."""
    rnd = random.Random(11)
    names = ["page_view", "view_item", "add_to_cart", "purchase", "scroll"]
    rows = [
        (
            rnd.randint(1, 40),
            D0
            + timedelta(
                days=rnd.randint(0, 9), seconds=rnd.choice([0, 1, 86399, 3600 * rnd.randint(0, 23)])
            ),
            rnd.choice(names),
        )
        for _ in range(600)
    ]
    r = tracking(_load(rows))
    daily = r.tables["daily"]
    got = {
        (d, e): int(c)
        for d, e, c in zip(daily["date"], daily["event"], daily["count"], strict=True)
    }
    expected = oracle.daily(rows)
    assert {k: v for k, v in got.items() if v} == {k: v[0] for k, v in expected.items()}
    rel = r.tables["relations"]
    steps = ["page_view", "view_item", "add_to_cart", "purchase"]
    for _, row in rel.iterrows():
        for side in ("earlier", "later"):
            want = expected.get((row["date"], row[side]), (0, 0))
            assert (row[f"{side}_events"], row[f"{side}_users"]) == want
    want_pairs = oracle.orphans(rows, steps, date(2024, 1, 1))
    pairs = r.tables["orphans"]
    got_pairs = {
        (steps.index(e) + 1, steps.index(x) + 1): (n, o, v)
        for e, x, n, o, v in zip(
            pairs["earlier"],
            pairs["later"],
            pairs["later_users"],
            pairs["orphans"],
            pairs["never"],
            strict=True,
        )
    }
    assert got_pairs == want_pairs
    by_day = r.tables["orphan_days"]
    got_days = {
        (steps.index(e) + 1, d): int(n)
        for e, d, n in zip(by_day["earlier"], by_day["date"], by_day["orphans"], strict=True)
    }
    assert got_days == oracle.orphan_days(rows, steps, date(2024, 1, 1))
    assert any(o for _, o, _ in want_pairs.values())  # the check can fail


def test_steps_may_be_predicates_and_options_are_checked() -> None:
    rows = [(1, _at(1), "page_view"), (2, _at(1), "purchase")]
    frame = pd.DataFrame(
        {
            "user_id": [1, 2],
            "ts": [_at(1), _at(1)],
            "event": ["page_view", "purchase"],
            "page": ["/", "/"],
        }
    )
    ds = gl.load(events=frame)
    r = tracking(ds, steps=[{"event": "page_view", "page": "/"}, "purchase"])
    assert r.tables["orphans"]["earlier"].tolist() == ["page_view (page=/)"]
    with pytest.raises(ConfigError, match="weeks"):
        tracking(_load(rows), weeks=2)
    with pytest.raises(ConfigError, match="threshold"):
        tracking(_load(rows), threshold=1)
    with pytest.raises(ConfigError, match="'nope'"):
        tracking(ds, steps=[{"event": "page_view", "nope": 1}, "purchase"])
    with pytest.raises(ConfigError, match="at least two"):
        tracking(ds, steps=["purchase"])


def test_degenerate_logs_give_a_status_not_an_exception() -> None:
    short = tracking(_load([(1, _at(0), "page_view"), (2, _at(5), "page_view")]))
    assert short.status == "not_enough_data" and "3 weeks" in short.status_reason
    assert any("two or more funnel steps" in n for n in short.notes)
    one_event = tracking(_load([(u, _at(d), "page_view") for d in range(28) for u in range(50)]))
    assert one_event.status == "ok"
    assert [f.code for f in one_event.findings] == ["tracking_ok"]
    assert len(one_event.tables["relations"]) == 0 and len(one_event.tables["orphans"]) == 0


def test_a_planted_spike_is_found_with_its_dates_and_a_multiple() -> None:
    """Page views of 2024-03-01 and 03-02 recorded three times (a duplicated tag)."""
    rows = _poisson_log(12, seed=3)
    doubled = [r for r in rows if r[2] == "page_view" and 60 <= (r[1] - D0).days <= 61]
    r = tracking(_load(rows + doubled + doubled))
    spikes = r.table[r.table["kind"] == "spike"]
    assert spikes[["event", "start", "end"]].to_dict("records") == [
        {"event": "page_view", "start": date(2024, 3, 1), "end": date(2024, 3, 2)}
    ]
    text = next(f.text for f in r.findings if f.code == "tracking_spike")
    assert text == (
        "page_view rose to 2.9× its usual level from 2024-03-01 to 2024-03-02 "
        "(expected ~337 a day, saw ~987)."
    )
    assert (r.table["kind"] == "drop").sum() == 0


def test_the_demo_page_view_gap_is_found_as_a_drop() -> None:
    """The demo's planted gap (page views under-recorded from the first day, for three
    weeks, at ~35 a day while the user base ramps up) is one drop with the truth's dates
    (within 3 days) and about the truth's share kept. December's real surge may show as
    spikes; no other drop of page_view."""
    ds = gl.demo(users=30000, seed=0)
    assert ds.truth is not None
    gap = ds.truth["events_tracking_gap"]
    first, last = date.fromisoformat(gap["first"]), date.fromisoformat(gap["last"])
    r = tracking(ds)
    drops = r.table[(r.table["kind"] == "drop") & (r.table["event"] == gap["event"])]
    assert len(drops) == 1
    row = drops.iloc[0]
    assert abs((row["start"] - first).days) <= 3 and abs((row["end"] - last).days) <= 3
    assert abs(float(row["ratio"]) - (1 - gap["drop_share"])) < 0.1
    text = next(f.text for f in r.findings if f.code == "tracking_drop")
    assert text.startswith(f"{gap['event']} fell to ") and f"from {row['start']}" in text
