"""Event retention and stickiness: hand-built cohorts (period edges, a return before the
start, start = back, predicates), the plain-Python oracle on generated logs for every
period, stickiness by hand, and degenerate input (docs/paths.md)."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses import event_retention
from growthlens.analyses.event_retention import EVENT_RETENTION
from tests.oracle import paths as oracle


def _ds(
    rows: list[tuple[Any, str, str]], window: tuple[str, str], **extra: list[Any]
) -> gl.Dataset:
    """Rows of (user, timestamp, event)."""
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": pd.to_datetime([t for _, t, _ in rows]),
            "event": [e for _, _, e in rows],
            **extra,
        }
    )
    return gl.load(events=frame, window=window)


def _cells(result: gl.Result) -> dict[tuple[date, int], tuple[int, int, int, bool]]:
    t = result.table
    return {
        (c.date(), int(a)): (int(u), int(n), int(b), bool(x))
        for c, a, u, n, b, x in zip(
            t["cohort"],
            t["age"],
            t["users"],
            t["active_users"],
            t["back_same_period"],
            t["complete"],
            strict=True,
        )
    }


def test_weekly_cohorts_by_hand() -> None:
    """Window Wed 3 Jan – Sun 28 Jan 2024 (ISO weeks from Mon 1, 8, 15, 22 Jan).

    u1 signs up Wed 3 Jan 10:00, buys at 09:00 that day (before signing up: not a return), Thu 4 Jan
    (same week, after: back_same_period) and Mon 15 Jan (age 2). u2 signs up Sun 7 Jan
    23:59 and buys Mon 8 Jan 00:00 (the next week: age 1). u3 signs up twice: the first,
    Tue 9 Jan, sets the cohort; buys Mon 22 Jan (age 2). u4 only buys: no cohort."""
    rows = [
        (1, "2024-01-03 10:00", "signup"),
        (1, "2024-01-03 09:00", "buy"),
        (1, "2024-01-04 12:00", "buy"),
        (1, "2024-01-15 08:00", "buy"),
        (2, "2024-01-07 23:59", "signup"),
        (2, "2024-01-08 00:00", "buy"),
        (3, "2024-01-09 10:00", "signup"),
        (3, "2024-01-16 10:00", "signup"),
        (3, "2024-01-22 10:00", "buy"),
        (4, "2024-01-10 10:00", "buy"),
    ]
    r = event_retention(_ds(rows, ("2024-01-03", "2024-01-28")), start="signup", back="buy")
    w1, w2 = date(2024, 1, 1), date(2024, 1, 8)
    assert _cells(r) == {
        (w1, 0): (2, 2, 1, False),  # week of 1 Jan starts before the window: partial
        (w1, 1): (2, 1, 0, True),
        (w1, 2): (2, 1, 0, True),
        (w1, 3): (2, 0, 0, True),
        (w2, 0): (1, 1, 0, True),
        (w2, 1): (1, 0, 0, True),
        (w2, 2): (1, 1, 0, True),
    }
    assert r.summary["users"].value == 3 and r.summary["cohorts"].value == 2
    assert r.summary["back_same_period"].value == 1 / 3
    # Age 1: cohorts 1 Jan (1/2) and 8 Jan (0/1), both complete → mean 0.25.
    assert r.summary["retention_1"].value == 0.25 and r.summary["cells_1"].value == 2
    assert r.summary["retention_2"].value == 0.75
    assert r.tables["curve"]["retention"].tolist()[0] == 1.0
    for i in range(3):
        r.figure(i)


def test_stickiness_by_hand() -> None:
    """buy on: u1 Mon 8, Tue 9 (twice), Wed 10 Jan; u2 Tue 9 Jan and Mon 15 Jan. Window 8–21
    Jan: 14 days, 2 ISO weeks, 1 month (January, partial).

    Daily users: 1, 2, 1, then 1 on the 15th → DAU = 5/14; WAU = (2 + 1)/2; MAU = 2.
    Days per user-week: u1 3 days, u2 1 day, u2 1 day."""
    rows = [
        (1, "2024-01-08 10:00", "buy"),
        (1, "2024-01-09 10:00", "buy"),
        (1, "2024-01-09 11:00", "buy"),
        (1, "2024-01-10 10:00", "buy"),
        (2, "2024-01-09 10:00", "buy"),
        (2, "2024-01-15 10:00", "buy"),
    ]
    r = event_retention(_ds(rows, ("2024-01-08", "2024-01-21")), start="buy", back="buy")
    s = r.summary.values_dict()
    assert s["dau"] == 5 / 14 and s["wau"] == 1.5 and s["mau"] == 2.0
    assert s["sticky_wau"] == (5 / 14) / 1.5 and s["sticky_mau"] == (5 / 14) / 2
    days = r.tables["days_per_week"].set_index("days")["user_weeks"].to_dict()
    assert days == {1: 2, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0}
    assert s["days_per_week"] == 5 / 3
    # start = back: every cohort member did the event in its start period.
    assert s["back_same_period"] == 1.0


def test_predicates_and_monthly_cohorts() -> None:
    """start = page_view on /pricing; back = purchase; monthly: u1 January, back in March
    (age 2); u2's page_view on / is not a start."""
    rows = [
        (1, "2024-01-31 23:00", "page_view"),
        (1, "2024-03-01 00:00", "purchase"),
        (2, "2024-01-10 00:00", "page_view"),
        (2, "2024-02-10 00:00", "purchase"),
    ]
    ds = _ds(rows, ("2024-01-01", "2024-03-31"), page=["/pricing", None, "/", None])
    r = event_retention(
        ds, start={"event": "page_view", "page": "/pricing"}, back="purchase", period="month"
    )
    jan = date(2024, 1, 1)
    assert _cells(r) == {
        (jan, 0): (1, 1, 0, True),
        (jan, 1): (1, 0, 0, True),
        (jan, 2): (1, 1, 0, True),
    }
    assert r.name == "event_retention_month"
    assert r.params == {"start": "page_view (page=/pricing)", "back": "purchase", "period": "month"}


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_matches_the_plain_python_oracle(period: str) -> None:
    rng = random.Random({"day": 11, "week": 12, "month": 13}[period])
    window = (date(2024, 1, 3), date(2024, 4, 17))
    rows: list[dict[str, Any]] = []
    for user in range(200):
        t = datetime(2024, 1, 3) + timedelta(hours=rng.randint(0, 24 * 90))
        for _ in range(rng.randint(1, 8)):
            rows.append(
                {
                    "user_id": user,
                    "ts": t,
                    "event": rng.choice(["signup", "view", "buy", "buy"]),
                    "plan": rng.choice(["pro", "free", None]),
                }
            )
            # Returns days or weeks later, sometimes in the same second.
            t += timedelta(hours=rng.choice([0, 1, 20, 24 * 6, 24 * 20]))
    rows = [r for r in rows if r["ts"].date() <= window[1]]
    ds = gl.load(events=pd.DataFrame(rows), window=(str(window[0]), str(window[1])))
    start = {"event": "signup", "plan": "pro"}

    def is_start(row: dict[str, Any]) -> bool:
        return bool(row["event"] == "signup" and row["plan"] == "pro")

    def is_back(row: dict[str, Any]) -> bool:
        return bool(row["event"] == "buy")

    r = event_retention(ds, start=start, back="buy", period=period)  # type: ignore[arg-type]
    want = oracle.event_retention(rows, is_start, is_back, period=period, window=window)
    assert _cells(r) == want
    means, days = oracle.back_activity(rows, is_back, window=window)
    s = r.summary.values_dict()
    assert (s["dau"], s["wau"], s["mau"]) == (means["day"], means["week"], means["month"])
    got_days = r.tables["days_per_week"].set_index("days")["user_weeks"].to_dict()
    assert {k: v for k, v in got_days.items() if v} == days


def test_degenerate_input_is_a_status_or_a_clear_error() -> None:
    ds = _ds([(1, "2024-01-02", "view")], ("2024-01-01", "2024-01-31"))
    r = event_retention(ds, start="signup", back="view")
    assert r.status == "not_enough_data" and "signup" in r.status_reason
    assert r.table.empty and math.isnan(r.summary["retention_1"].value)  # type: ignore[arg-type]
    with pytest.raises(gl.ConfigError, match="period"):
        event_retention(ds, start="view", back="view", period="year")  # type: ignore[arg-type]
    with pytest.raises(gl.ConfigError, match="'plan'"):
        event_retention(ds, start={"event": "view", "plan": "pro"}, back="view")


def test_plan_prefers_repeat_purchases() -> None:
    shop = _ds(
        [(1, "2024-01-02", "page_view"), (1, "2024-01-03", "purchase")],
        ("2024-01-01", "2024-01-31"),
    )
    assert EVENT_RETENTION.plan(shop).runs == ({"start": "purchase", "back": "purchase"},)
    app = _ds(
        [(1, "2024-01-02", "open"), (2, "2024-01-03", "open"), (2, "2024-01-04", "edit")],
        ("2024-01-01", "2024-01-31"),
    )
    assert EVENT_RETENTION.plan(app).runs == ({"start": "open", "back": "open"},)
