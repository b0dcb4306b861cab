"""Funnels: hand-built sequences per mode, the brute-force oracle on generated logs,
properties between modes and windows, and degenerate input (DESIGN §4, docs/metrics.md)."""

from __future__ import annotations

import dataclasses
import importlib
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from tests.oracle import funnel as oracle

WINDOW = ("2024-01-01", "2024-03-31")
T0 = datetime(2024, 1, 1, 10, 0, 0)


def _events(rows: list[tuple[Any, float, str]], **extra: list[Any]) -> gl.Dataset:
    """Rows of (user, seconds after T0, event)."""
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [T0 + timedelta(seconds=s) for _, s, _ in rows],
            "event": [e for _, _, e in rows],
            **extra,
        }
    )
    return gl.load(events=frame, window=WINDOW)


def _depths(result: gl.Result) -> dict[Any, int]:
    users = result.tables["users"]
    return dict(zip(users["user_id"], users["depth"], strict=True))


HOUR = 3600

FUNNEL_METRICS = importlib.import_module("growthlens.metrics.funnel")


@pytest.fixture(params=["forward", "windows"])
def ordered_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both plans of an ordered funnel on DuckDB: as-of joins forward (the engine has them,
    and the test checks they ran) and backward windows (the plan of engines without them)."""
    used: list[bool] = []
    if request.param == "windows":
        real = FUNNEL_METRICS.capabilities
        monkeypatch.setattr(
            FUNNEL_METRICS,
            "capabilities",
            lambda con: dataclasses.replace(real(con), asof_joins=False),
        )
    else:
        forward = FUNNEL_METRICS._ordered_forward

        def spy(*args: Any, **kwargs: Any) -> Any:
            out = forward(*args, **kwargs)
            used.append(out is not None)
            return out

        monkeypatch.setattr(FUNNEL_METRICS, "_ordered_forward", spy)
    yield str(request.param)
    params = getattr(request.node, "callspec", None)
    order = params.params.get("order", "ordered") if params is not None else "ordered"
    if request.param == "forward" and order == "ordered":
        assert used and all(used), "the as-of plan did not run"


@pytest.mark.usefixtures("ordered_plan")
@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
def test_window_edge_is_inclusive(order: str) -> None:
    """u1: buy exactly one window after view (counts); u2: one second more (does not)."""
    ds = _events([(1, 0, "view"), (1, HOUR, "buy"), (2, 0, "view"), (2, HOUR + 1, "buy")])
    r = gl.funnel(ds, ["view", "buy"], window="1h", order=order)  # type: ignore[arg-type]
    assert _depths(r) == {1: 2, 2: 1}


@pytest.mark.usefixtures("ordered_plan")
def test_ordered_hand_worked() -> None:
    """u1: buy before view only → depth 1. u2: view, cart, view, buy (repeats) → 3.
    u3: two attempts; the first stalls at cart (window 1 h), the later one finishes → 3,
    times from the later attempt. u4: all three steps in the same second → 3."""
    ds = _events(
        [
            (1, 0, "buy"),
            (1, 10, "view"),
            (2, 0, "view"),
            (2, 5, "cart"),
            (2, 6, "view"),
            (2, 9, "buy"),
            (3, 0, "view"),
            (3, 60, "cart"),
            (3, 2 * HOUR, "view"),
            (3, 2 * HOUR + 30, "cart"),
            (3, 2 * HOUR + 90, "buy"),
            (4, 0, "buy"),
            (4, 0, "cart"),
            (4, 0, "view"),
        ]
    )
    r = gl.funnel(ds, ["view", "cart", "buy"], window="1h")
    assert _depths(r) == {1: 1, 2: 3, 3: 3, 4: 3}
    users = r.tables["users"].set_index("user_id")
    assert users.loc[3, "ts_1"] == pd.Timestamp(T0 + timedelta(hours=2))
    assert users.loc[2, ["ts_1", "ts_2", "ts_3"]].tolist() == [
        pd.Timestamp(T0 + timedelta(seconds=s)) for s in (0, 5, 9)
    ]
    table = r.table.set_index("step")
    assert table["users"].tolist() == [4, 3, 3]
    assert (
        table.loc[2, "conversion_from_previous"] == 0.75
        and table.loc[3, "conversion_from_first"] == 0.75
    )
    assert table.loc[2, "drop_off"] == 1
    # Times from the previous step: u2 5 s, u3 30 s, u4 0 s → median 5; then 4, 60, 0 → 4.
    assert table.loc[2, "median_time_from_previous_s"] == 5.0
    assert table.loc[3, "median_time_from_previous_s"] == 4.0
    # Three times each: too few for a 95% order-statistic interval, so the whole range.
    assert table.loc[
        2, ["median_time_from_previous_low_s", "median_time_from_previous_high_s"]
    ].tolist() == [0.0, 30.0]
    assert table.loc[
        3, ["median_time_from_previous_low_s", "median_time_from_previous_high_s"]
    ].tolist() == [0.0, 60.0]
    assert math.isnan(table.loc[1, "conversion_from_previous"])


def test_strict_is_broken_by_an_event_strictly_between() -> None:
    """u1: view, scroll, cart → strict stops at 1 (ordered reaches 2). u2: view and scroll in
    the same second, then cart → strict 2 (not strictly between). u3: view@0, cart@0,
    cart@1, buy@2 — the chain must move to cart@1 to reach buy: strict 3."""
    ds = _events(
        [
            (1, 0, "view"),
            (1, 1, "scroll"),
            (1, 2, "cart"),
            (2, 0, "view"),
            (2, 0, "scroll"),
            (2, 1, "cart"),
            (3, 0, "view"),
            (3, 0, "cart"),
            (3, 1, "cart"),
            (3, 2, "buy"),
        ]
    )
    strict = gl.funnel(ds, ["view", "cart", "buy"], window="1h", order="strict")
    ordered = gl.funnel(ds, ["view", "cart", "buy"], window="1h")
    assert _depths(strict) == {1: 1, 2: 2, 3: 3}
    assert _depths(ordered) == {1: 2, 2: 2, 3: 3}
    u3 = strict.tables["users"].set_index("user_id").loc[3]
    assert [u3["ts_1"], u3["ts_2"], u3["ts_3"]] == [
        pd.Timestamp(T0 + timedelta(seconds=s)) for s in (0, 1, 2)
    ]


def test_unordered_takes_any_order_within_one_window() -> None:
    """u1: buy, cart, view within 10 minutes → 3. u2: view and cart 2 h apart → 1 (1 h)."""
    ds = _events(
        [(1, 0, "buy"), (1, 300, "cart"), (1, 600, "view"), (2, 0, "view"), (2, 7200, "cart")]
    )
    r = gl.funnel(ds, ["view", "cart", "buy"], window="1h", order="unordered")
    assert _depths(r) == {1: 3, 2: 1}
    assert math.isnan(r.table["median_time_from_previous_s"].iloc[1])


def test_sessions_are_units_of_their_own() -> None:
    """The same user: view in session a, buy in session b → no session converts."""
    ds = _events(
        [(1, 0, "view"), (1, 60, "buy"), (2, 0, "view"), (2, 60, "buy")],
        session_id=["a", "b", "c", "c"],
    )
    r = gl.funnel(ds, ["view", "buy"], window="1h", unit="session")
    units = r.tables["users"].set_index("session_id")["depth"].to_dict()
    assert units == {"a": 1, "c": 2}
    assert r.table["users"].tolist() == [2, 1]


def test_property_predicates_and_incomplete_windows() -> None:
    """Steps with a property; u2 enters 1 h before the data ends (window 1 d): incomplete,
    counted at its step but left out of the rates."""
    end = datetime(2024, 3, 31, 23, 0)
    frame = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2],
            "ts": [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), end],
            "event": ["page_view", "page_view", "purchase", "page_view"],
            "page": ["/", "/checkout", None, "/"],
        }
    )
    ds = gl.load(events=frame, window=WINDOW)
    steps = [
        {"event": "page_view", "page": "/"},
        {"event": "page_view", "page": "/checkout"},
        "purchase",
    ]
    r = gl.funnel(ds, steps, window="1d")
    assert r.table["name"].tolist() == [
        "page_view (page=/)",
        "page_view (page=/checkout)",
        "purchase",
    ]
    assert r.table["users"].tolist() == [2, 1, 1] and r.table["complete"].tolist() == [1, 1, 1]
    assert r.summary["incomplete"].value == 1
    assert r.summary["conversion"].value == 1.0
    assert any(f.code == "incomplete_windows" for f in r.findings)


@pytest.mark.usefixtures("ordered_plan")
@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_the_brute_force_oracle(order: str, seed: int) -> None:
    """Random logs with ties, window edges, repeats and noise: every unit's depth and counted
    chain equal the oracle's enumeration of all chains."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for user in range(60):
        for _ in range(rng.randint(1, 9)):
            seconds = rng.choice([0, 1, 60, 1800, 3600, 3601, 5000]) * rng.randint(0, 3)
            rows.append(
                {
                    "user_id": user,
                    "session_id": f"s{rng.randint(0, 1)}",
                    "ts": T0 + timedelta(seconds=seconds),
                    "event": rng.choice(["a", "b", "c", "x"]),
                }
            )
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    for unit, keys in (("user", ("user_id",)), ("session", ("user_id", "session_id"))):
        r = gl.funnel(ds, ["a", "b", "c"], window="1h", order=order, unit=unit)  # type: ignore[arg-type]
        want = oracle.funnel(
            rows,
            [lambda row, name=name: row["event"] == name for name in "abc"],
            timedelta(hours=1),
            order,
            keys,
        )
        got = {tuple(row[k] for k in keys): row for row in r.tables["users"].to_dict("records")}
        expected = {key: res for key, res in want.items() if res.depth}
        assert set(got) == set(expected)
        for key, res in expected.items():
            row = got[key]
            assert row["depth"] == res.depth, key
            times = [row[f"ts_{j}"] for j in range(1, res.depth + 1)]
            assert times == [pd.Timestamp(t) for t in res.times], key
        reached = [sum(1 for res in expected.values() if res.depth >= j) for j in (1, 2, 3)]
        assert r.table["users"].tolist() == reached


@pytest.mark.usefixtures("ordered_plan")
def test_properties_between_modes_and_windows() -> None:
    """Per user strict ≤ ordered ≤ unordered; counts never increase along the steps; a
    longer window never counts fewer."""
    rng = random.Random(9)
    rows = [
        (u, rng.choice([0, 5, 60, 600, 3600, 7200]) * rng.randint(0, 4), rng.choice("abcdx"))
        for u in range(150)
        for _ in range(rng.randint(1, 10))
    ]
    ds = _events(rows)
    steps = ["a", "b", "c", "d"]
    depth = {
        order: _depths(gl.funnel(ds, steps, window="1h", order=order))  # type: ignore[arg-type]
        for order in ("strict", "ordered", "unordered")
    }
    for user in depth["ordered"]:
        assert depth["strict"][user] <= depth["ordered"][user] <= depth["unordered"][user]
    short = gl.funnel(ds, steps, window="10m")
    long = gl.funnel(ds, steps, window="1d")
    for table in (short.table, long.table):
        assert table["users"].is_monotonic_decreasing
    assert (long.table["users"] >= short.table["users"]).all()


def test_degenerate_input_is_a_status_or_a_clear_error() -> None:
    ds = _events([(1, 0, "view")])
    r = gl.funnel(ds, ["signup", "buy"])
    assert r.status == "not_enough_data" and "signup" in r.status_reason
    with pytest.raises(gl.ConfigError, match="at least two steps"):
        gl.funnel(ds, ["view"])
    with pytest.raises(gl.ConfigError, match="window"):
        gl.funnel(ds, ["view", "buy"], window="7 parsecs")
    with pytest.raises(gl.ConfigError, match="steps 1 and 2 match the same event rows"):
        gl.funnel(ds, ["view", {"event": "view"}])
    with pytest.raises(gl.ConfigError, match="'page'"):
        gl.funnel(ds, [{"event": "view", "page": "/"}, "buy"])
    with pytest.raises(gl.MissingTableError):
        gl.funnel(
            gl.load(orders=pd.DataFrame({"user_id": [1], "ts": [T0], "revenue": [1.0]})), ["a", "b"]
        )


def test_unordered_chain_is_the_earliest_when_windows_share_step_one() -> None:
    """b@0, a@30m, b@50m (1 h): the windows from b@0 and from a@30m both give a@30m for
    step 1; the counted chain takes b@0 for step 2, the earlier of the two."""
    ds = _events([(1, 0, "b"), (1, 1800, "a"), (1, 3000, "b")])
    r = gl.funnel(ds, ["a", "b"], window="1h", order="unordered")
    user = r.tables["users"].iloc[0]
    assert (user["depth"], user["ts_1"], user["ts_2"]) == (
        2,
        pd.Timestamp(T0 + timedelta(seconds=1800)),
        pd.Timestamp(T0),
    )


def test_the_report_runs_the_ecommerce_funnel_or_says_why_not() -> None:
    """The funnels group appears only with events; it runs GA4's e-commerce steps the log
    has (by device and week when it can), and says why it runs nothing otherwise."""
    from growthlens.report.build import section

    sessions = pd.DataFrame({"user_id": [1], "start_ts": [T0]})
    assert section(gl.load(sessions=sessions, window=WINDOW), "funnels") is None
    other = pd.DataFrame({"user_id": [1], "ts": [T0], "event": ["view"]})
    plain = section(gl.load(events=other, window=WINDOW), "funnels")
    assert plain is not None and not any(r.name == "funnel" for r in plain.results)
    assert any(s.startswith("Funnel: the events have no GA4") for s in plain.skipped)
    shop = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "ts": [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0, T0],
            "event": ["page_view", "add_to_cart", "purchase", "page_view", "scroll"],
            "device": ["mobile", "mobile", "mobile", "desktop", "desktop"],
        }
    )
    built = section(gl.load(events=shop, window=WINDOW), "funnels")
    assert built is not None
    (result,) = [r for r in built.results if r.name == "funnel"]
    assert result.params["steps"] == ["page_view", "add_to_cart", "purchase"]
    assert result.params["by"] == "device" and result.params["trend"] == "week"
    assert result.table["users"].tolist() == [2, 1, 1]


def test_exclusion_voids_a_chain_but_not_a_later_valid_one() -> None:
    """Exclude ``remove`` between cart (2) and buy (3).
    u1: view, cart, remove, buy → the only chain has remove between cart and buy → depth 2.
    u2: view, cart, remove, cart, buy → the later cart starts a valid pair → depth 3, with
    the second cart's time (the earliest valid chain).
    u3: view, remove, cart, buy → remove lies between view and cart, not voided → 3.
    u4: view, cart and remove in the same second, then buy: not strictly between → 3.
    u5: the t0..t4 case: a step-2 occurrence must be early for pair 1–2 (remove_12 after
    it) and pair 2–3 has no exclusion → 3 via the first cart."""
    ds = _events(
        [
            (1, 0, "view"),
            (1, 10, "cart"),
            (1, 20, "remove"),
            (1, 30, "buy"),
            (2, 0, "view"),
            (2, 10, "cart"),
            (2, 20, "remove"),
            (2, 25, "cart"),
            (2, 30, "buy"),
            (3, 0, "view"),
            (3, 5, "remove"),
            (3, 10, "cart"),
            (3, 30, "buy"),
            (4, 0, "view"),
            (4, 10, "cart"),
            (4, 10, "remove"),
            (4, 30, "buy"),
            (5, 0, "view"),
            (5, 10, "cart"),
            (5, 20, "leave"),
            (5, 25, "cart"),
            (5, 30, "buy"),
        ]
    )
    exclude = [{"event": "remove", "between": [2, 3]}, {"event": "leave", "between": [1, 2]}]
    r = gl.funnel(ds, ["view", "cart", "buy"], window="1h", exclude=exclude)
    assert _depths(r) == {1: 2, 2: 3, 3: 3, 4: 3, 5: 3}
    users = r.tables["users"].set_index("user_id")
    assert users.loc[2, "ts_2"] == pd.Timestamp(T0 + timedelta(seconds=25))
    assert users.loc[5, "ts_2"] == pd.Timestamp(T0 + timedelta(seconds=10))
    assert r.params["exclude"] == [
        {"event": "remove", "between": [2, 3]},
        {"event": "leave", "between": [1, 2]},
    ]
    # Without exclusions every user buys. "remove" as a plain name voids every pair: u2's
    # second cart now has remove between it and view; u3's remove precedes any cart.
    assert set(_depths(gl.funnel(ds, ["view", "cart", "buy"], window="1h")).values()) == {3}
    everywhere = gl.funnel(ds, ["view", "cart", "buy"], window="1h", exclude=["remove"])
    assert _depths(everywhere) == {1: 2, 2: 2, 3: 1, 4: 3, 5: 3}


def test_exclusion_options_are_checked() -> None:
    ds = _events([(1, 0, "view"), (1, 5, "buy")])
    with pytest.raises(gl.ConfigError, match="between"):
        gl.funnel(ds, ["view", "buy"], exclude=[{"event": "x", "between": [2, 1]}])
    with pytest.raises(gl.ConfigError, match="unordered"):
        gl.funnel(ds, ["view", "buy"], order="unordered", exclude=["x"])


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_exclusions_match_the_brute_force_oracle(seed: int) -> None:
    """Random logs with excluded events on some pairs, ties and window edges: depth and
    counted chain per unit equal the oracle's enumeration of every valid chain."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for user in range(80):
        for _ in range(rng.randint(1, 10)):
            seconds = rng.choice([0, 1, 60, 1800, 3600, 3601, 5000]) * rng.randint(0, 3)
            rows.append(
                {
                    "user_id": user,
                    "session_id": f"s{rng.randint(0, 1)}",
                    "ts": T0 + timedelta(seconds=seconds),
                    "event": rng.choice(["a", "b", "c", "d", "x", "y"]),
                }
            )
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    exclude = [{"event": "x", "between": [1, 3]}, {"event": "y", "between": [3, 4]}]
    oracle_exclude = [
        (lambda row: row["event"] == "x", (1, 2)),
        (lambda row: row["event"] == "y", (3,)),
    ]
    for unit, keys in (("user", ("user_id",)), ("session", ("user_id", "session_id"))):
        r = gl.funnel(ds, ["a", "b", "c", "d"], window="1h", unit=unit, exclude=exclude)  # type: ignore[arg-type]
        want = oracle.funnel(
            rows,
            [lambda row, name=name: row["event"] == name for name in "abcd"],
            timedelta(hours=1),
            "ordered",
            keys,
            exclude=oracle_exclude,
        )
        got = {tuple(row[k] for k in keys): row for row in r.tables["users"].to_dict("records")}
        expected = {key: res for key, res in want.items() if res.depth}
        assert set(got) == set(expected)
        for key, res in expected.items():
            row = got[key]
            assert row["depth"] == res.depth, key
            times = [row[f"ts_{j}"] for j in range(1, res.depth + 1)]
            assert times == [pd.Timestamp(t) for t in res.times], key
        plain = gl.funnel(ds, ["a", "b", "c", "d"], window="1h", unit=unit)  # type: ignore[arg-type]
        assert (r.table["users"] <= plain.table["users"]).all()


def _segment_log(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for user in range(120):
        device = rng.choice(["mobile", "desktop", None])
        for _ in range(rng.randint(1, 8)):
            day = rng.randint(0, 40)
            rows.append(
                {
                    "user_id": user,
                    "ts": T0
                    + timedelta(
                        days=day, seconds=rng.choice([0, 1, 60, 3600, 3601]) * rng.randint(0, 2)
                    ),
                    "event": rng.choice(["a", "b", "c", "x"]),
                    # Mostly the user's device, sometimes another one (a second phone).
                    "device": device
                    if rng.random() < 0.8
                    else rng.choice(["mobile", "tablet", ""]),
                }
            )
    return rows


@pytest.mark.usefixtures("ordered_plan")
@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
@pytest.mark.parametrize("by_step", ["first", "last"])
@pytest.mark.parametrize("seed", [11, 12])
def test_breakdown_matches_the_oracle_and_adds_up(by_step: str, order: str, seed: int) -> None:
    """Per segment, the counts per step equal the oracle's, with the value read on the
    counted chain's step-1 (or last reached step's) event: smallest text among rows of
    that step at that time, blank or null → (unknown). Segments add up to the totals."""
    rows = _segment_log(seed)
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    steps = ["a", "b", "c"]
    r = gl.funnel(ds, steps, window="1h", by="device", by_step=by_step, order=order)  # type: ignore[arg-type]
    want = oracle.funnel(
        rows, [lambda row, n=n: row["event"] == n for n in steps], timedelta(hours=1), order
    )
    expected: dict[str, list[int]] = {}
    for (user,), res in want.items():
        if not res.depth:
            continue
        j = 1 if by_step == "first" else res.depth
        values = {
            str(row["device"])
            for row in rows
            if row["user_id"] == user
            and row["ts"] == res.times[j - 1]
            and row["event"] == steps[j - 1]
            and row["device"] not in (None, "")
        }
        segment = min(values) if values else "(unknown)"
        counts = expected.setdefault(segment, [0, 0, 0])
        for step in range(res.depth):
            counts[step] += 1
    segments = r.tables["segments"]
    got = {
        value: part.sort_values("step")["users"].tolist()
        for value, part in segments.groupby("device")
    }
    assert got == expected
    totals = segments.groupby("step")[["users", "complete"]].sum().reset_index()
    assert totals["users"].tolist() == r.table["users"].tolist()
    assert totals["complete"].tolist() == r.table["complete"].tolist()
    assert set(r.tables["users"]["device"]) == set(expected)


@pytest.mark.usefixtures("ordered_plan")
@pytest.mark.parametrize("order", ["ordered", "strict", "unordered"])
def test_breakdown_value_of_step_one_rows_in_one_second(order: str) -> None:
    """Several step-1 rows in the counted chain's first second: the smallest value as
    text, null and blank last. The value is the counted chain's, not an earlier start's."""
    H = HOUR
    rows = [
        (1, 0, "a", "tablet"),  # u1: depth 1; desktop < tablet, null ignored
        (1, 0, "a", "desktop"),
        (1, 0, "a", None),
        (2, 0, "a", None),  # u2: only null and blank → (unknown)
        (2, 0, "a", ""),
        (3, 0, "a", "mobile"),  # u3: an earlier start that goes nowhere …
        (3, 2 * H, "a", "tablet"),  # … and the counted one, two values in its second
        (3, 2 * H, "a", "desktop"),
        (3, 2 * H + 10, "b", "mobile"),
        (4, 0, "a", None),  # u4: null ranks after a value
        (4, 0, "a", "tablet"),
        (4, 10, "b", None),
        (5, 0, "a", "mobile"),  # u5: the counted chain's second has no value
        (5, 5 * H, "a", None),
        (5, 5 * H + 1, "b", "mobile"),
        (6, 0, "a", "mobile"),  # u6: an earlier start reaching step 2, a later one step 3
        (6, 10, "b", "mobile"),
        (6, 2 * H, "a", "tablet"),
        (6, 2 * H + 10, "b", "tablet"),
        (6, 2 * H + 20, "c", "tablet"),
    ]
    ds = _events([r[:3] for r in rows], device=[r[3] for r in rows])
    r = gl.funnel(ds, ["a", "b", "c"], window="1h", by="device", order=order)  # type: ignore[arg-type]
    users = r.tables["users"].set_index("user_id")
    assert users["device"].to_dict() == {
        1: "desktop",
        2: "(unknown)",
        3: "desktop",
        4: "tablet",
        5: "(unknown)",
        6: "tablet",
    }
    assert users["depth"].to_dict() == {1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 3}
    seg = r.tables["segments"].set_index(["device", "step"])["users"].to_dict()
    assert seg == {
        ("(unknown)", 1): 2,
        ("(unknown)", 2): 1,
        ("(unknown)", 3): 0,
        ("desktop", 1): 2,
        ("desktop", 2): 1,
        ("desktop", 3): 0,
        ("tablet", 1): 2,
        ("tablet", 2): 2,
        ("tablet", 3): 1,
    }


def test_breakdown_flags_a_planted_gap_and_not_equal_segments() -> None:
    """Mobile converts view → buy at 30%, desktop and tablet at 60% (2,000 users each):
    mobile's gap is significant with an interval around −30 points; desktop and tablet,
    equal to each other, are not flagged against each other (tested without mobile)."""
    rng = random.Random(5)
    rows = []
    for user in range(6000):
        device = ("mobile", "desktop", "tablet")[user % 3]
        rows.append((user, 0, "view", device))
        if rng.random() < (0.3 if device == "mobile" else 0.6):
            rows.append((user, 60, "buy", device))
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _, _ in rows],
            "ts": [T0 + timedelta(seconds=s) for _, s, _, _ in rows],
            "event": [e for _, _, e, _ in rows],
            "device": [d for _, _, _, d in rows],
        }
    )
    r = gl.funnel(gl.load(events=frame, window=WINDOW), ["view", "buy"], window="1d", by="device")
    seg = r.tables["segments"].set_index(["device", "step"])
    mobile = seg.loc[("mobile", 2)]
    # Against the rest (desktop and tablet at 60%): a gap near −30 points, away from 0.
    assert bool(mobile["significant"]) and abs(mobile["gap"] + 0.3) < 0.05
    assert mobile["gap_low"] < mobile["gap"] < mobile["gap_high"] < 0
    assert mobile["p_across_segments"] < 1e-6
    assert any(f.code == "segment_gap" and "mobile" in f.text for f in r.findings)
    even = frame[frame["device"] != "mobile"]
    r2 = gl.funnel(gl.load(events=even, window=WINDOW), ["view", "buy"], window="1d", by="device")
    assert not r2.tables["segments"]["significant"].any()


def test_breakdown_by_a_customer_attribute() -> None:
    events = pd.DataFrame(
        {
            "user_id": ["1", "1", "2", "3", "3"],
            "ts": [T0, T0 + timedelta(minutes=5), T0, T0, T0 + timedelta(minutes=1)],
            "event": ["view", "buy", "view", "view", "buy"],
        }
    )
    customers = pd.DataFrame({"user_id": ["1", "2"], "city": ["Oslo", "Rome"]})
    ds = gl.load(events=events, customers=customers, window=WINDOW)
    r = gl.funnel(ds, ["view", "buy"], window="1h", by="city")
    seg = r.tables["segments"].set_index(["city", "step"])["users"].to_dict()
    assert seg == {
        ("(unknown)", 1): 1,
        ("(unknown)", 2): 1,
        ("Oslo", 1): 1,
        ("Oslo", 2): 1,
        ("Rome", 1): 1,
        ("Rome", 2): 0,
    }
    with pytest.raises(gl.ConfigError, match="neither a column"):
        gl.funnel(ds, ["view", "buy"], by="nope")


def test_trend_and_comparison_by_period_of_entry() -> None:
    """Trend rows per week add up to the totals; the comparison holds both periods' rates
    and a gap whose sign follows them."""
    rows = _segment_log(12)
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    r = gl.funnel(
        ds,
        ["a", "b"],
        window="1h",
        trend="week",
        compare=[("2024-01-01", "2024-01-14"), ("2024-01-15", "2024-02-10")],
    )
    trend = r.tables["trend"]
    assert (pd.to_datetime(trend["period"]).dt.day_of_week == 0).all()
    assert trend["step"].tolist() == [2] * len(trend)  # step 1 is the `entered` column
    assert trend["users"].sum() == r.table["users"].iloc[1]
    assert trend["entered"].sum() == r.table["complete"].iloc[0]
    users = r.tables["users"]
    week = users["ts_1"].dt.to_period("W-SUN").dt.start_time.dt.date
    first = trend[trend["period"] == min(week)].iloc[0]
    mine = users[(week == min(week)) & ~users["incomplete"]]
    assert first["entered"] == len(mine)
    assert first["conversion_from_first"] == pytest.approx((mine["depth"] >= 2).mean())
    comparison = r.tables["comparison"].set_index("step")
    day = users["ts_1"].dt.date
    a = users[
        (day >= pd.Timestamp("2024-01-01").date())
        & (day <= pd.Timestamp("2024-01-14").date())
        & ~users["incomplete"]
    ]
    assert comparison.loc[1, "entered_a"] == len(a)
    assert comparison.loc[2, "conversion_a"] == pytest.approx((a["depth"] >= 2).mean())
    diff = comparison.loc[2, "conversion_b"] - comparison.loc[2, "conversion_a"]
    assert comparison.loc[2, "difference"] == pytest.approx(diff)
    assert comparison.loc[2, "difference_low"] <= diff <= comparison.loc[2, "difference_high"]
    assert any(f.code == "period_comparison" for f in r.findings)


def test_sessions_are_cut_by_inactivity_without_a_session_id() -> None:
    """No session_id: 30 minutes without an event end a session (exactly 30 minutes does
    not; ties never split). u1: view, buy 30 min later → one session, converts. u2: view,
    buy 30 min 1 s later → two sessions, neither converts. u3: view, then view and buy in
    one second an hour later → two sessions, the second converts. ``session_timeout``
    moves the cut."""
    rows = [
        (1, 0, "view"),
        (1, 1800, "buy"),
        (2, 0, "view"),
        (2, 1801, "buy"),
        (3, 0, "view"),
        (3, 3600, "buy"),
        (3, 3600, "view"),
    ]
    ds = _events(rows)
    r = gl.funnel(ds, ["view", "buy"], window="1d", unit="session")
    units = r.tables["users"]
    assert sorted(units["session_id"]) == ["1#1", "2#1", "3#1", "3#2"]
    depth = units.set_index("session_id")["depth"].to_dict()
    assert depth == {"1#1": 2, "2#1": 1, "3#1": 1, "3#2": 2}
    assert r.table["users"].tolist() == [4, 2]
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [T0 + timedelta(seconds=t) for _, t, _ in rows],
            "event": [e for _, _, e in rows],
        }
    )
    longer = gl.load(events=frame, window=WINDOW, session_timeout=7200)
    r = gl.funnel(longer, ["view", "buy"], window="1d", unit="session")
    assert r.table["users"].tolist() == [3, 3]


def test_time_to_convert_distribution() -> None:
    """u1: view → cart 30 s → buy 1 h later (total 1 h 30 s); u2: view → cart exactly 5 min
    (the bound falls in the lower bin), no buy. Bins count units per span."""
    ds = _events(
        [(1, 0, "view"), (1, 30, "cart"), (1, 3630, "buy"), (2, 0, "view"), (2, 300, "cart")]
    )
    r = gl.funnel(ds, ["view", "cart", "buy"], window="1d")
    times = r.tables["time_to_convert"]
    got = {(row.span, row.bin): row.units for row in times.itertuples() if row.units}
    assert got == {
        ("view → cart", "under 1 min"): 1,
        ("view → cart", "1–5 min"): 1,
        ("cart → buy", "30 min–2 h"): 1,
        ("view → buy (total)", "30 min–2 h"): 1,
    }
    assert times.groupby("span")["units"].sum().to_dict() == {
        "view → cart": 2,
        "cart → buy": 1,
        "view → buy (total)": 1,
    }
