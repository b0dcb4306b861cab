"""Visitor → buyer conversion: a hand-worked fixture, statsmodels checks, a plain-Python oracle
on the demo's raw CSV files, and segments adding up to the total.

Fixture (window 2021-01-01 – 2021-03-31, months, horizon 2):

    sessions  v1 01-02 a/d (and 02-01 b/m: not the first);  v2 01-05 a/m;  v3 01-20 b/d
              v4 02-03 a/d;  v5 02-10 b/m;  v6 03-03 (no source)/d;  v7 01-10 a/d
    orders    v1 01-03 10;  v2 01-04 7 (before its first visit), 01-06 3;  v3 02-01 5, 02-05 5
              v4 03-01 20;  v7 01-08 8 (only before its first visit);  u9 02-02 30 (no session)

Visitors v1..v7 (7), buyers v1 v2 v3 v4 v7 (5): 5/7. Ordered before the first visit: v2, v7
(2; v7 only before). u9 is no visitor: 1 user, 1 order, 30 of 88 revenue.
Cohorts (first session's month): Jan {v1 v2 v3 v7} 4/4, Feb {v4 v5} 1/2, Mar {v6} 0/1;
complete (age 1 inside the window): Jan, Feb yes, Mar no.
Source (first session's): a {v1 v2 v4 v7} 4/4, b {v3 v5} 1/2, (unknown) {v6} 0/1.
Device: d {v1 v3 v4 v6 v7} 4/5, m {v2 v5} 1/2.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

import growthlens as gl
from growthlens.analyses.conversion import conversion
from growthlens.demo import write_demo
from growthlens.errors import ConfigError
from tests.oracle.random_data import random_frames

WINDOW = ("2021-01-01", "2021-03-31")


def _sessions() -> pd.DataFrame:
    rows = [
        ("v1", "2021-01-02 10:00", "a", "d"),
        ("v1", "2021-02-01 10:00", "b", "m"),
        ("v2", "2021-01-05 10:00", "a", "m"),
        ("v3", "2021-01-20 10:00", "b", "d"),
        ("v4", "2021-02-03 10:00", "a", "d"),
        ("v5", "2021-02-10 10:00", "b", "m"),
        ("v6", "2021-03-03 10:00", None, "d"),
        ("v7", "2021-01-10 10:00", "a", "d"),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "start_ts", "source", "device"])
    frame["start_ts"] = pd.to_datetime(frame["start_ts"])
    return frame


def _orders() -> pd.DataFrame:
    rows = [
        ("v1", "2021-01-03 10:00", 10.0),
        ("v2", "2021-01-04 10:00", 7.0),
        ("v2", "2021-01-06 10:00", 3.0),
        ("v3", "2021-02-01 10:00", 5.0),
        ("v3", "2021-02-05 10:00", 5.0),
        ("v4", "2021-03-01 10:00", 20.0),
        ("v7", "2021-01-08 10:00", 8.0),
        ("u9", "2021-02-02 10:00", 30.0),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


@pytest.fixture(scope="module")
def hand() -> gl.Result:
    ds = gl.load(sessions=_sessions(), orders=_orders(), window=WINDOW, horizon=2)
    return conversion(ds, period="month")


def test_hand_worked_counts(hand: gl.Result) -> None:
    s = hand.summary
    assert (s["users"].value, s["buyers"].value) == (7, 5)
    assert s["conversion"].value == pytest.approx(5 / 7)
    assert s["ordered_before_visit"].value == 2 and s["buyers_without_session"].value == 1
    t = hand.table
    assert t["cohort"].dt.strftime("%Y-%m").tolist() == ["2021-01", "2021-02", "2021-03"]
    assert t["users"].tolist() == [4, 2, 1] and t["buyers"].tolist() == [4, 1, 0]
    assert t["conversion"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert t["complete"].tolist() == [True, True, False]
    src = hand.tables["by_source"].set_index("source")
    assert src["users"].to_dict() == {"a": 4, "b": 2, "(unknown)": 1}
    assert src["buyers"].to_dict() == {"a": 4, "b": 1, "(unknown)": 0}
    dev = hand.tables["by_device"].set_index("device")
    assert dev["users"].to_dict() == {"d": 5, "m": 2}
    assert dev["buyers"].to_dict() == {"d": 4, "m": 1}
    assert dev["share_of_users"].to_dict() == pytest.approx({"d": 5 / 7, "m": 2 / 7})
    codes = {f.code: f for f in hand.findings}
    assert codes["ordered_before_visit"].numbers == {"buyers": 2, "only_before": 1}
    lonely = codes["buyers_without_session"].numbers
    assert lonely["buyers"] == 1 and lonely["orders"] == 1
    assert lonely["revenue_share"] == pytest.approx(30 / 88)
    assert "young_cohorts" in codes and "2021-03" in codes["young_cohorts"].text


def test_intervals_and_tests_match_statsmodels(hand: gl.Result) -> None:
    """Wilson intervals = statsmodels' (5/7 overall: 0.3589 – 0.9178); segment vs rest =
    statsmodels' pooled z test, Holm-adjusted with multipletests."""
    entry = hand.summary["conversion"]
    low, high = proportion_confint(5, 7, alpha=0.05, method="wilson")
    assert (entry.low, entry.high) == pytest.approx((low, high))
    assert (round(low, 4), round(high, 4)) == (0.3589, 0.9178)
    for frame in (hand.table, *hand.tables.values()):
        for _, row in frame.iterrows():
            lo, hi = proportion_confint(row["buyers"], row["users"], alpha=0.05, method="wilson")
            assert (row["conversion_low"], row["conversion_high"]) == pytest.approx((lo, hi))
    seg = hand.tables["by_source"]
    raw = []
    for _, row in seg.iterrows():
        rest_b, rest_u = 5 - row["buyers"], 7 - row["users"]
        _, p = proportions_ztest([row["buyers"], rest_b], [row["users"], rest_u])
        raw.append(p)
    expected = multipletests(raw, method="holm")[1]
    assert seg["p_value"].tolist() == pytest.approx(list(expected))
    assert set(seg["vs_rest"]) <= {"higher", "lower", "no difference"}


def test_segments_add_up(hand: gl.Result) -> None:
    for frame in (hand.table, *hand.tables.values()):
        assert frame["users"].sum() == 7 and frame["buyers"].sum() == 5


def test_default_by_skips_absent_dimensions_and_explicit_by_is_checked() -> None:
    sessions = _sessions().drop(columns="device")
    ds = gl.load(sessions=sessions, orders=_orders(), window=WINDOW)
    r = conversion(ds)
    assert list(r.tables) == ["by_source"]
    assert any("device" in n for n in r.notes)
    with pytest.raises(ConfigError, match="device"):
        conversion(ds, by=("device",))
    assert conversion(ds, by=()).tables == {}


def test_no_buyer_gives_zero_with_an_interval() -> None:
    orders = _orders()[_orders()["user_id"] == "u9"]
    ds = gl.load(sessions=_sessions(), orders=orders, window=WINDOW)
    r = conversion(ds)
    assert r.summary["conversion"].value == 0.0
    assert r.summary["conversion"].low == pytest.approx(0.0, abs=1e-12)
    assert r.summary["conversion"].high == pytest.approx(
        proportion_confint(0, 7, method="wilson")[1]
    )
    assert r.status == "ok"


# ------------------------------------------------------------ plain-Python oracle on the demo


@pytest.fixture(scope="module")
def demo_files() -> dict[str, Path]:
    folder = tempfile.mkdtemp(prefix="growthlens-conversion-")
    return write_demo(folder, users=2000, seed=5, format="csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _oracle(files: dict[str, Path]) -> dict[str, dict[str, list[int]]]:
    """{grouping: {value: [users, buyers]}} from the raw CSVs, by the written definitions."""
    start, end = json.loads(files["truth"].read_text())["window"]
    inside = lambda ts: start <= ts[:10] <= end  # noqa: E731
    first: dict[str, tuple[str, int, str, str]] = {}
    for r in _rows(files["visits"]):
        if not inside(r["Start Ts"]):
            continue
        key = (r["Start Ts"], int(r["Session Id"]), r["Source Id"], r["Device"])
        if r["Uid"] not in first or key < first[r["Uid"]]:
            first[r["Uid"]] = key
    buyers = {r["Uid"] for r in _rows(files["orders"]) if inside(r["Buy Ts"])}
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for user, (ts, _, source, device) in first.items():
        for grouping, value in (
            ("cohort", ts[:7]),
            ("source", source or "(unknown)"),
            ("device", device or "(unknown)"),
            ("all", "all"),
        ):
            out[grouping][value][0] += 1
            out[grouping][value][1] += user in buyers
    return out


def test_demo_matches_plain_python_oracle(demo_files: dict[str, Path]) -> None:
    expected = _oracle(demo_files)
    ds = gl.load(sessions=demo_files["visits"], orders=demo_files["orders"])
    r = conversion(ds, period="month")
    assert [r.summary["users"].value, r.summary["buyers"].value] == expected["all"]["all"]
    ours = {
        c.strftime("%Y-%m"): [u, b] for c, u, b in r.table[["cohort", "users", "buyers"]].values
    }
    assert ours == dict(expected["cohort"])
    for name in ("source", "device"):
        table = r.tables[f"by_{name}"]
        assert {v: [u, b] for v, u, b in table[[name, "users", "buyers"]].values} == dict(
            expected[name]
        )
        assert table["users"].sum() == r.summary["users"].value
        assert table["buyers"].sum() == r.summary["buyers"].value
        rates = table["buyers"] / table["users"]
        assert np.allclose(table["conversion"], rates)
    assert r.table["users"].sum() == r.summary["users"].value
    assert not math.isnan(r.summary["conversion"].low or math.nan)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), period=st.sampled_from(["day", "week", "month"]))
def test_segments_and_cohorts_add_up_on_random_data(seed: int, period: str) -> None:
    """Ties, null dimensions, buyers without sessions: every split adds up to the total, and
    visitors who bought plus users without a session are all the buyers."""
    f = random_frames(seed, users=80, days=40)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    r = conversion(ds, period=period)  # type: ignore[arg-type]
    users, buyers = r.summary["users"].value, r.summary["buyers"].value
    for frame in (r.table, *r.tables.values()):
        assert frame["users"].sum() == users and frame["buyers"].sum() == buyers
        assert (
            (frame["conversion_low"] <= frame["conversion"] + 1e-12) | frame["users"].eq(0)
        ).all()
    all_buyers = ds.table("orders").user_id.nunique().execute()
    assert buyers + r.summary["buyers_without_session"].value == all_buyers
