"""What explains drop-off: hand-built logs with known 2 × 2 tables, a plain-Python oracle of
the counts on generated logs (every order mode, users and sessions), a planted driver, and
degenerate input (docs/funnel_drivers.md)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

import growthlens as gl
from growthlens.analyses.funnel import parse_steps
from growthlens.analyses.funnel_drivers import funnel_drivers
from growthlens.metrics.funnel_drivers import driver_counts, largest_drop
from tests.oracle import funnel as oracle

WINDOW = ("2024-01-01", "2024-03-31")
T0 = datetime(2024, 1, 1, 10, 0, 0)
UNKNOWN = "(unknown)"


def _frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of (user, seconds after T0, event[, device])."""
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": [T0 + timedelta(seconds=r[1]) for r in rows],
            "event": [r[2] for r in rows],
            "device": [r[3] if len(r) > 3 else None for r in rows],
        }
    )


def _cells(result: gl.Result) -> dict[tuple[str, str, str | None], tuple[int, int, int, int]]:
    return {
        (r["kind"], r["feature"], r["value"]): (
            r["converted_with"],
            r["dropped_with"],
            r["converted_without"],
            r["dropped_without"],
        )
        for r in result.table.to_dict("records")
    }


# view → cart → buy, window 1 h. The step explained by default is cart → buy (3 lost there).
HAND = [
    # u1 converts; reviews before buying.
    (1, 0, "view", "m"), (1, 10, "reviews"), (1, 20, "cart"), (1, 30, "buy"),
    # u2 converts; chat before entering and search in the second it buys: neither counts.
    (2, -10, "chat"), (2, 0, "view", "m"), (2, 10, "cart"), (2, 50, "buy"), (2, 50, "search"),
    # u3 drops; reviews exactly one window after view (inclusive for those who drop).
    (3, 0, "view", "d"), (3, 10, "cart"), (3, 3600, "reviews"),
    # u4 drops; search one second past the window does not count; a repeated step event
    # is no feature; an empty device is unknown.
    (4, 0, "view", ""), (4, 10, "cart"), (4, 100, "view", "x"), (4, 3601, "search"),
    # u5 drops; views in its first second: the smallest device as text ("d" < "t"), the
    # null and blank ones ignored.
    (5, 0, "view", "t"), (5, 0, "view", "d"), (5, 0, "view", " "), (5, 0, "view"),
    (5, 10, "cart"), (5, 20, "search"),
    # u6 never reaches cart: not compared at cart → buy.
    (6, 0, "view"), (6, 30, "reviews"),
    # u8 converts; search in the very second it enters counts (inclusive start).
    (8, 0, "view", "m"), (8, 0, "search"), (8, 5, "cart"), (8, 6, "buy"),
    # u9 converts after reviews.
    (9, 0, "view", "m"), (9, 10, "cart"), (9, 20, "reviews"), (9, 3000, "buy"),
]  # fmt: skip
# u7 enters 30 minutes before the data ends: incomplete, left out.
LATE = [(7, s, e) for s, e in ((0, "view"), (60, "reviews"), (300, "cart"))]
END = datetime(2024, 3, 31, 23, 30)


def _hand_dataset(customers: bool = False) -> gl.Dataset:
    late = pd.DataFrame(
        {
            "user_id": [7, 7, 7],
            "ts": [END + timedelta(seconds=s) for s, _ in ((0, 0), (60, 0), (300, 0))],
            "event": [e for _, _, e in LATE],
            "device": ["m", None, None],
        }
    )
    events = pd.concat([_frame(HAND), late], ignore_index=True)
    tables: dict[str, Any] = {"events": events}
    if customers:
        tables["customers"] = pd.DataFrame(
            {"user_id": [1, 3, 5, 9, 7], "plan": ["pro", "pro", "free", None, "pro"]}
        )
    return gl.load(**tables, window=WINDOW)


def test_hand_built_two_by_two_tables() -> None:
    r = funnel_drivers(
        _hand_dataset(customers=True), ["view", "cart", "buy"], window="1h", min_units=1
    )
    assert r.ok, r.status_reason
    assert r.params["at"] == 3  # the largest drop: 8 → 7 → 4 complete users
    s = r.summary.values_dict()
    assert (s["reached"], s["converted"], s["dropped"]) == (7, 4, 3)
    assert s["step"] == "cart → buy"
    # (converted with, dropped with, converted without, dropped without); converters
    # u1 u2 u8 u9, droppers u3 u4 u5.
    assert _cells(r) == {
        ("event", "reviews", None): (2, 1, 2, 2),  # u1, u9 | u3
        ("event", "search", None): (1, 1, 3, 2),  # u8 | u5
        ("property", "device", "m"): (4, 0, 0, 3),
        ("property", "device", "d"): (0, 2, 4, 1),  # u3, u5
        ("property", "device", UNKNOWN): (0, 1, 4, 2),  # u4
        ("customer", "plan", "pro"): (1, 1, 3, 2),  # u1 | u3
        ("customer", "plan", "free"): (0, 1, 4, 2),  # u5
        ("customer", "plan", UNKNOWN): (3, 1, 1, 2),  # u2 u8 u9 (null or no row) | u4
    }
    assert s["features_tested"] == 8 and s["features_untested"] == 0
    rows = {(x["kind"], x["feature"], x["value"]): x for x in r.table.to_dict("records")}
    row = rows[("event", "reviews", None)]
    assert row["odds_ratio"] == pytest.approx(2 * 2 / (1 * 2))
    assert row["conversion_with"] == pytest.approx(2 / 3)
    assert row["conversion_without"] == pytest.approx(2 / 4)
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(fisher_exact([[2, 1], [2, 2]]).pvalue)
    m = rows[("property", "device", "m")]
    assert m["odds_ratio"] == pytest.approx(4.5 * 3.5 / (0.5 * 0.5))  # Haldane–Anscombe
    assert m["test"] == "fisher" and not m["significant"]
    # Holm over the 8 features: the smallest p-value times 8, then running maxima.
    p = np.sort(r.table["p_value"].to_numpy())
    assert r.table["p_adjusted"].min() == pytest.approx(min(1.0, p[0] * 8))
    assert set(r.tables["chart"].columns) == {
        "label",
        "log2_odds_ratio",
        "odds_ratio",
        "significance",
    }
    assert r.figure().data  # the chart renders


def test_the_step_can_be_chosen_and_events_stop_at_conversion() -> None:
    """At view → cart: converters' events count until cart (u9's reviews come after it,
    u5's search too); u6 is the only one to drop."""
    ds = _hand_dataset()
    for at in (2, "cart"):
        r = funnel_drivers(ds, ["view", "cart", "buy"], window="1h", at=at, min_units=1)
        assert r.params["at"] == 2 and r.summary["step"].value == "view → cart"
        assert (r.summary["converted"].value, r.summary["dropped"].value) == (7, 1)
        cells = _cells(r)
        assert cells[("event", "reviews", None)] == (1, 1, 6, 0)  # u1 | u6
        assert cells[("event", "search", None)] == (1, 0, 6, 1)  # u8
        assert ("event", "chat", None) not in cells  # done before entering only


def test_exclusion_steps_void_chains_as_in_the_funnel() -> None:
    """Excluding reviews between cart and buy voids u9's chain (reviews after its cart):
    u9 now counts as dropped, with its reviews."""
    ds = _hand_dataset()
    exclude = [{"event": "reviews", "between": [2, 3]}]
    r = funnel_drivers(ds, ["view", "cart", "buy"], window="1h", min_units=1, exclude=exclude)
    assert (r.summary["converted"].value, r.summary["dropped"].value) == (3, 4)
    assert _cells(r)[("event", "reviews", None)] == (1, 2, 2, 2)  # u1 | u3, u9
    assert r.params["exclude"] == [{"event": "reviews", "between": [2, 3]}]
    with pytest.raises(gl.ConfigError, match="exclude needs an order"):
        funnel_drivers(ds, ["view", "cart", "buy"], order="unordered", exclude=["reviews"])


def test_min_units_leaves_rare_and_universal_features_out() -> None:
    ds = _hand_dataset(customers=True)
    counts = driver_counts(
        ds,
        parse_steps(ds, ["view", "cart", "buy"]),
        at=3,
        window_s=3600,
        order="ordered",
        keys=("user_id",),
        end=datetime(2024, 4, 1),
        min_units=2,
    )
    # Kept: units with it ∈ [2, 7 − 2]: reviews 3, search 2, device m 4, d 2, plan pro 2,
    # plan unknown 4; left out: device unknown 1, plan free 1.
    got = {
        (k, f, v if isinstance(v, str) else None)
        for k, f, v in counts.features[["kind", "feature", "value"]].itertuples(index=False)
    }
    assert got == {
        ("event", "reviews", None),
        ("event", "search", None),
        ("property", "device", "m"),
        ("property", "device", "d"),
        ("customer", "plan", "pro"),
        ("customer", "plan", UNKNOWN),
    }
    assert counts.untested == 2 and counts.reached == (8, 7, 4)


def test_largest_drop() -> None:
    assert largest_drop([10, 10, 10]) == 2  # no drop at all: the first step after entry
    assert largest_drop([10, 4, 0]) == 2  # a tie: the earlier step
    assert largest_drop([10, 9, 0]) == 3


# --- the oracle ---------------------------------------------------------------------------


def _value(values: list[Any]) -> str:
    """The smallest value as text, null and blank ignored; none left → (unknown)."""
    texts = [str(v) for v in values if v is not None and str(v).strip() != ""]
    return min(texts) if texts else UNKNOWN


def _oracle_counts(
    rows: list[dict[str, Any]],
    customers: dict[Any, Any],
    steps: Sequence[str],
    window: timedelta,
    order: str,
    keys: Sequence[str],
    end: datetime,
    at: int | None,
    min_units: int,
) -> tuple[int, tuple[int, ...], int, int, dict[tuple[str, str, str | None], tuple[int, int]], int]:
    """Straight from the definitions: the funnel oracle's chains, then per unit its period,
    events, step-1 properties and customer attributes, counted per feature."""
    matches = [lambda row, name=name: row["event"] == name for name in steps]
    units = oracle.funnel(rows, matches, window, order, keys)
    complete = {u: r for u, r in units.items() if r.depth and r.times[0] <= end - window}
    reached = tuple(sum(r.depth >= j for r in complete.values()) for j in range(1, len(steps) + 1))
    if at is None:
        drops = [reached[j - 2] - reached[j - 1] for j in range(2, len(steps) + 1)]
        at = 2 + drops.index(max(drops))
    by_unit: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_unit.setdefault(tuple(row[k] for k in keys), []).append(row)
    features: dict[tuple[str, str, str | None], list[int]] = {}
    converted = dropped = 0
    for unit, res in complete.items():
        if res.depth < at - 1:
            continue
        conv = res.depth >= at
        converted += conv
        dropped += not conv
        chosen = res.times[:at] if conv else res.times[: at - 1]
        if order == "unordered":
            start, stop = min(chosen), max(chosen)
        else:
            start, stop = res.times[0], res.times[at - 1] if conv else res.times[0]
        if not conv:
            stop = start + window
        has: set[tuple[str, str, str | None]] = set()
        for row in by_unit[unit]:
            inside = start <= row["ts"] and (row["ts"] < stop if conv else row["ts"] <= stop)
            if inside and row["event"] not in steps:
                has.add(("event", row["event"], None))
        firsts = [r for r in by_unit[unit] if r["event"] == steps[0] and r["ts"] == res.times[0]]
        for column in ("device", "page", "campaign"):
            has.add(("property", column, _value([r[column] for r in firsts])))
        has.add(("customer", "plan", _value([customers.get(unit[0])])))
        for feature in has:
            cell = features.setdefault(feature, [0, 0])
            cell[0] += 1
            cell[1] += conv
    total = converted + dropped
    kept = {f: (n, c) for f, (n, c) in features.items() if min_units <= n <= total - min_units}
    return at, reached, converted, dropped, kept, len(features) - len(kept)


@pytest.mark.parametrize(("order", "seed"), [("ordered", 3), ("strict", 4), ("unordered", 5)])
def test_counts_match_the_plain_python_oracle(order: str, seed: int) -> None:
    """Random logs with ties, window edges (exactly 2 h, 2 h + 2 s), repeats, noise events,
    properties with nulls and empties, sessions, customers and late (incomplete) entries:
    every per-feature count equals the oracle's, for users and sessions, at each step."""
    rng = random.Random(seed)
    day = datetime(2024, 1, 1)
    rows: list[dict[str, Any]] = []
    for user in range(90):
        # Some enter late in the (single) day; every tenth after 22:00, too late to be
        # complete with a 2 h window (all their events stay inside the day).
        base = 22 * 3600 + 600 if user % 10 == 0 else rng.choice([0, 0, 19 * 3600])
        for _ in range(rng.randint(1, 9)):
            gaps = [0, 1, 60, 1800] if user % 10 == 0 else [0, 1, 60, 1800, 3600, 3601, 5000]
            seconds = base + rng.choice(gaps) * rng.randint(0, 3)
            rows.append(
                {
                    "user_id": user,
                    "session_id": f"s{rng.randint(0, 1)}",
                    "ts": day + timedelta(seconds=seconds),
                    "event": rng.choice(["a", "b", "c", "x", "y", "z"]),
                    "device": rng.choice(["m", "d", None, "", " "]),
                    "page": rng.choice(["p1", "p2"]),
                    "campaign": f"c{rng.randint(0, 40)}",  # many rare values: left out
                }
            )
    plans = {u: rng.choice(["pro", "free", None]) for u in range(0, 90, 2)}
    customers = pd.DataFrame({"user_id": list(plans), "plan": list(plans.values())})
    ds = gl.load(
        events=pd.DataFrame(rows), customers=customers, window=("2024-01-01", "2024-01-01")
    )
    steps = ["a", "b", "c"]
    end = datetime(2024, 1, 2)
    users, sessions = ("user_id",), ("user_id", "session_id")
    runs: list[tuple[tuple[str, ...], int | None]] = [(users, None), (users, 2), (users, 3)]
    runs.append((sessions, None))
    left_out = users_reached = 0
    for keys, at in runs:
        got = driver_counts(
            ds,
            parse_steps(ds, steps),
            at=at,
            window_s=7200,
            order=order,
            keys=keys,
            end=end,
            min_units=2,
        )
        want = _oracle_counts(
            rows, plans, steps, timedelta(hours=2), order, keys, end, at, min_units=2
        )
        features = {
            (k, f, v if isinstance(v, str) else None): (int(n), int(c))
            for k, f, v, n, c in got.features.itertuples(index=False)
        }
        assert (got.at, got.reached, got.converted, got.dropped) == want[:4], (keys, at)
        assert features == want[4], (keys, at)
        assert got.untested == want[5], (keys, at)
        # The log exercises what it should: events, properties and customers are tested,
        # some are left out, and some units entered too late to be complete.
        assert {k for k, _, _ in features} == {"event", "property", "customer"}
        assert got.converted > 0 and got.dropped > 0
        left_out += got.untested
        users_reached = got.reached[0] if keys == users else users_reached
    assert left_out > 0
    assert len({row["user_id"] for row in rows if row["event"] == "a"}) > users_reached


# --- a planted driver through the whole pipeline --------------------------------------------


def test_a_planted_driver_is_found() -> None:
    """2,000 users view, 60% add to cart; 40% read reviews between view and cart and then buy
    at twice the odds (25% → 40%); scroll and device are noise. Only the reviews driver is
    significant, with an interval holding 2, and it leads the findings."""
    rng = np.random.default_rng(7)
    rows: list[tuple[Any, ...]] = []
    for user in range(2_000):
        start = int(rng.integers(0, 50 * 86400))
        device = str(rng.choice(["mobile", "desktop"]))
        rows.append((user, start, "view", device))
        if rng.random() < 0.5:
            rows.append((user, start + 120, "scroll"))
        reviews = rng.random() < 0.4
        if reviews:
            rows.append((user, start + 300, "view_reviews"))
        if rng.random() < 0.6:
            rows.append((user, start + 600, "cart"))
            odds = 1 / 3 * (2.0 if reviews else 1.0)
            if rng.random() < odds / (1 + odds):
                rows.append((user, start + 1200, "buy"))
    ds = gl.load(events=_frame(rows), window=WINDOW)
    r = funnel_drivers(ds, ["view", "cart", "buy"], window="1d")
    assert r.ok and r.params["at"] == 3
    significant = r.table[r.table["significant"]]
    assert significant["feature"].tolist() == ["view_reviews"]
    top = significant.iloc[0]
    assert top["odds_ratio_low"] <= 2.0 <= top["odds_ratio_high"]
    assert r.findings[0].code == "driver_raises"
    assert (
        "view_reviews" in r.findings[0].text and "not necessarily the cause" in r.findings[0].text
    )
    assert r.tables["chart"]["label"].iloc[0] == "did view_reviews"
    # BH is the less strict correction: it finds at least what Holm finds.
    bh = funnel_drivers(ds, ["view", "cart", "buy"], window="1d", correction="bh")
    assert set(bh.table.loc[bh.table["significant"], "feature"]) >= {"view_reviews"}
    assert (
        bh.table["p_adjusted"].sort_values().to_numpy()
        <= r.table["p_adjusted"].sort_values().to_numpy() + 1e-12
    ).all()


# --- degenerate input -------------------------------------------------------------------------


def test_degenerate_input_is_a_status() -> None:
    ds = _hand_dataset()
    # Nobody reaches step 1.
    r = funnel_drivers(ds, ["signup", "buy"], window="1h")
    assert r.status == "not_enough_data" and "signup" in r.status_reason and r.table.empty
    # Everyone who reached view converted to cart? No: check a step where nobody drops.
    everyone = gl.load(
        events=_frame([(u, s, e) for u in range(30) for s, e in ((0, "v"), (5, "x"), (9, "b"))]),
        window=WINDOW,
    )
    r = funnel_drivers(everyone, ["v", "b"], window="1h")
    assert r.status == "not_enough_data" and "0 dropped" in r.status_reason
    nobody = gl.load(
        events=_frame([(u, s, e) for u in range(30) for s, e in ((0, "v"), (5, "x"))]),
        window=WINDOW,
    )
    r = funnel_drivers(nobody, ["v", "b"], window="1h")
    assert r.status == "not_enough_data" and "0 went on" in r.status_reason
    # Too few of each for the default min_units (10).
    r = funnel_drivers(ds, ["view", "cart", "buy"], window="1h")
    assert r.status == "not_enough_data" and "min_units" in r.status_reason
    assert r.findings[0].code == "not_enough_data"
    # Enough units but no feature: no other event, no property.
    bare = pd.DataFrame(
        {
            "user_id": list(range(40)) + list(range(20)),
            "ts": [T0] * 40 + [T0 + timedelta(seconds=9)] * 20,
            "event": ["v"] * 40 + ["b"] * 20,
        }
    )
    r = funnel_drivers(gl.load(events=bare, window=WINDOW), ["v", "b"], window="1h")
    assert r.status == "not_enough_data" and "could be tested" in r.status_reason
    assert math.isclose(r.summary["conversion"].value, 0.5)  # type: ignore[arg-type]


def test_bad_options_are_config_errors() -> None:
    ds = _hand_dataset()
    steps = ["view", "cart", "buy"]
    with pytest.raises(gl.ConfigError, match="step after the first"):
        funnel_drivers(ds, steps, at=1)
    with pytest.raises(gl.ConfigError, match="step after the first"):
        funnel_drivers(ds, steps, at=4)
    with pytest.raises(gl.ConfigError, match="name exactly one step"):
        funnel_drivers(ds, steps, at="pay")
    with pytest.raises(gl.ConfigError, match="name exactly one step"):
        funnel_drivers(
            ds, [{"event": "view", "device": "m"}, {"event": "view", "device": "d"}], at="view"
        )
    with pytest.raises(gl.ConfigError, match="min_units"):
        funnel_drivers(ds, steps, min_units=0)
    with pytest.raises(gl.ConfigError, match="correction"):
        funnel_drivers(ds, steps, correction="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(gl.ConfigError, match="at least two steps"):
        funnel_drivers(ds, ["view"])
    with pytest.raises(gl.ConfigError, match="same event rows"):
        funnel_drivers(ds, ["view", {"event": "view"}])


def test_the_report_says_it_needs_the_steps() -> None:
    """Without GA4 e-commerce steps the plan says what to run; with them it runs them."""
    from growthlens.analyses.funnel_drivers import FUNNEL_DRIVERS

    assert FUNNEL_DRIVERS.group == "funnels" and FUNNEL_DRIVERS.needs == ("events",)
    plan = FUNNEL_DRIVERS.plan(_hand_dataset())
    assert plan.runs == () and plan.skipped[0].startswith("What explains drop-off: it needs")
    sessions = pd.DataFrame({"user_id": [1], "start_ts": [T0]})
    assert FUNNEL_DRIVERS.plan(gl.load(sessions=sessions, window=WINDOW)).skipped == ()
    shop = pd.DataFrame({"user_id": [1, 1], "ts": [T0, T0], "event": ["page_view", "purchase"]})
    plan = FUNNEL_DRIVERS.plan(gl.load(events=shop, window=WINDOW))
    assert plan.runs == ({"steps": ["page_view", "purchase"], "window": "7d"},)
