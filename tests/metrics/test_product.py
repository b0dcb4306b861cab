"""Activity and retention: hand-worked fixtures, the pandas oracle, and invariants."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import growthlens as gl
from tests.oracle import product as oracle
from tests.oracle.random_data import random_frames


def _sessions(rows: list[tuple[object, str, float, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "start_ts", "length_s", "source"])
    frame["start_ts"] = pd.to_datetime(frame["start_ts"])
    frame["end_ts"] = frame["start_ts"] + pd.to_timedelta(frame["length_s"], unit="s")
    return frame.drop(columns="length_s")


ACTIVITY = _sessions(
    [
        ("u1", "2021-01-04 10:00", 60, "a"),
        ("u1", "2021-01-04 12:00", 0, "a"),
        ("u1", "2021-01-11 09:00", 120, "b"),
        ("u2", "2021-01-04 11:00", -30, None),
        ("u2", "2021-01-05 08:00", 60, "a"),
        ("u3", "2021-01-12 10:00", 30.5, "b"),
    ]
)
WINDOW = ("2021-01-04", "2021-01-17")


def test_activity_hand_worked() -> None:
    """Window Mon 2021-01-04 .. Sun 2021-01-17: 14 days, 2 whole ISO weeks, part of January.

    Daily actives: Jan 4 {u1,u2}=2, Jan 5 {u2}=1, Jan 11 {u1}=1, Jan 12 {u3}=1, ten days 0
    → DAU = 5/14. Weeks: {u1,u2}, {u1,u3} → WAU = 2. January {u1,u2,u3} → MAU = 3.
    Sticky = (5/14)/2 = 5/28 and (5/14)/3 = 5/42.
    Sessions per user on active days: 3/2, 1, 1, 1 → mean 1.125.
    Lengths ≥ 0: 60, 0, 120, 60, 30.5 (u2's −30 s is left out) → mean 54.1, median 60,
    mode (whole seconds 60,0,120,60,30) 60, p90 at position 3.6 of [0,30.5,60,60,120] →
    60 + 0.6 × 60 = 96, zero share 1/5.
    """
    ds = gl.load(sessions=ACTIVITY, window=WINDOW)
    s = gl.activity(ds).summary.values_dict()
    assert s["dau"] == pytest.approx(5 / 14, abs=1e-12)
    assert s["wau"] == 2 and s["mau"] == 3
    assert s["sticky_wau"] == pytest.approx(5 / 28, abs=1e-12)
    assert s["sticky_mau"] == pytest.approx(5 / 42, abs=1e-12)
    assert s["sessions_per_user_per_day"] == pytest.approx(1.125, abs=1e-12)
    assert s["session_length_mean_s"] == pytest.approx(54.1, abs=1e-9)
    assert s["session_length_median_s"] == 60
    assert s["session_length_mode_s"] == 60
    assert s["session_length_p90_s"] == pytest.approx(96.0, abs=1e-9)
    assert s["zero_length_share"] == pytest.approx(0.2, abs=1e-12)
    assert (s["days"], s["weeks"], s["months"]) == (14, 2, 1)


def test_activity_complete_periods_drops_partial_month() -> None:
    """January is only partly inside the window: with complete_periods it is dropped,
    leaving no month, so MAU is undefined (NaN, not 0); whole weeks stay."""
    ds = gl.load(sessions=ACTIVITY, window=WINDOW)
    s = gl.activity(ds, complete_periods=True).summary.values_dict()
    assert s["wau"] == 2 and s["months"] == 0 and math.isnan(s["mau"])  # type: ignore[arg-type]


def test_activity_by_source_counts_user_per_value() -> None:
    """By source: u2's null source is '(unknown)'. Daily pairs: Jan 4 a:{u1}, (unknown):{u2};
    Jan 5 a:{u2}; Jan 11 b:{u1}; Jan 12 b:{u3} → DAU a = 2/14, b = 2/14, (unknown) = 1/14."""
    ds = gl.load(sessions=ACTIVITY, window=WINDOW)
    per = gl.activity(ds, by="source").tables["by"].set_index("source")["dau"]
    assert per.to_dict() == pytest.approx({"a": 2 / 14, "b": 2 / 14, "(unknown)": 1 / 14})


def test_retention_hand_worked() -> None:
    """Window 2021-01-01 .. 2021-03-15, months.

    u1 first Jan 5, back Feb 2; u2 first Jan 20 (two sessions at the same instant, sources
    'b' and 'a': the tie breaks on the remaining columns as text → 'a'), back Mar 1;
    u3 first Feb 10; u4 first Mar 3.
    Jan cohort (2): age 0 = 1, age 1 = 1/2 (u1), age 2 = 1/2 (u2, March: not complete).
    Feb cohort (1): age 0 = 1, age 1 = 0 (observed, March incomplete). Mar cohort (1): age 0.
    April does not exist for anyone.
    """
    sessions = _sessions(
        [
            ("u1", "2021-01-05 10:00", 10, None),
            ("u1", "2021-02-02 10:00", 10, "a"),
            ("u2", "2021-01-20 10:00", 10, "b"),
            ("u2", "2021-01-20 10:00", 10, "a"),
            ("u2", "2021-03-01 10:00", 10, "b"),
            ("u3", "2021-02-10 10:00", 10, "b"),
            ("u4", "2021-03-03 10:00", 10, "a"),
        ]
    )
    ds = gl.load(sessions=sessions, window=("2021-01-01", "2021-03-15"))
    t = gl.retention(ds).table
    got = [
        (str(c.date()), a, u, r, k)
        for c, a, u, r, k in t[["cohort", "age", "users", "retention", "complete"]].itertuples(
            index=False
        )
    ]
    assert got == [
        ("2021-01-01", 0, 2, 1.0, True),
        ("2021-01-01", 1, 2, 0.5, True),
        ("2021-01-01", 2, 2, 0.5, False),
        ("2021-02-01", 0, 1, 1.0, True),
        ("2021-02-01", 1, 1, 0.0, False),
        ("2021-03-01", 0, 1, 1.0, False),
    ]
    by = gl.retention(ds, by="source").table
    jan = by[(by["cohort"] == "2021-01-01") & (by["age"] == 0)].set_index("source")["users"]
    assert jan.to_dict() == {"(unknown)": 1, "a": 1}


def test_retention_weeks_cross_year() -> None:
    """ISO weeks: Sun 2021-01-03 belongs to the week of Mon 2020-12-28; Mon 2021-01-04 is age 1."""
    sessions = _sessions([("u1", "2021-01-03 10:00", 1, None), ("u1", "2021-01-04 10:00", 1, None)])
    ds = gl.load(sessions=sessions, window=("2020-12-28", "2021-01-10"))
    t = gl.retention(ds, period="week").table
    assert [str(c.date()) for c in t["cohort"]] == ["2020-12-28"] * 2
    assert t["retention"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_activity_matches_oracle(seed: int) -> None:
    f = random_frames(seed)
    ds = gl.load(sessions=f.sessions)
    ours = gl.activity(ds).summary.values_dict()
    expected = oracle.activity(f.sessions, ds.window)  # type: ignore[arg-type]
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


@pytest.mark.parametrize("by", [None, "source", "device"])
def test_sessions_per_day_from_load_equals_a_scan(by: str | None) -> None:
    """The load's reason scan gives sessions per day [× source]; a fresh scan must agree.

    Random data (null sources and devices) with a window two days shorter at each end,
    so some sessions are excluded: the counts kept by the load are exactly the accepted
    sessions per day.
    """
    from datetime import timedelta

    from growthlens.data.validate import SESSIONS_PER_DAY
    from growthlens.metrics.activity import _sessions_per_day

    f = random_frames(4)
    first, last = gl.load(sessions=f.sessions).window  # type: ignore[misc]
    window = (first + timedelta(days=2), last - timedelta(days=2))
    ds = gl.load(sessions=f.sessions, window=window)
    assert ds.quality.table_counts("sessions").excluded > 0
    assert ds.byproduct(SESSIONS_PER_DAY) is not None
    keys = ["day", *([by] if by else [])]
    kept = _sessions_per_day(ds, by).to_pandas().sort_values(keys).reset_index(drop=True)
    # The same Dataset without the load's tables (as one built by hand): a scan of sessions.
    bare = gl.Dataset(
        tables=ds.tables, backend=ds.backend, settings=ds.settings, quality=ds.quality
    )
    assert bare.byproduct(SESSIONS_PER_DAY) is None
    scanned = _sessions_per_day(bare, by).to_pandas().sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, scanned, check_dtype=False)
    assert kept["sessions"].sum() == ds.quality.table_counts("sessions").accepted


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_retention_matches_oracle(seed: int, period: str) -> None:
    f = random_frames(seed, users=150, days=60)
    ds = gl.load(sessions=f.sessions)
    ours = gl.retention(ds, period=period).table  # type: ignore[arg-type]
    expected = oracle.retention(f.sessions, ds.window, period)  # type: ignore[arg-type]
    assert len(ours) == len(expected)
    assert (ours["cohort"].to_numpy() == expected["cohort"].to_numpy()).all()
    assert ours["age"].tolist() == expected["age"].tolist()
    assert ours["users"].tolist() == expected["users"].tolist()
    assert ours["retention"].to_numpy() == pytest.approx(
        expected["retention"].to_numpy(), abs=1e-12
    )


@pytest.mark.parametrize(("period", "days"), [("day", 150), ("week", 400), ("month", 400)])
def test_long_window_spans_many_masks(period: str, days: int) -> None:
    """400 days = 7 day masks of 62 bits (150 days = 3): bits past 31 and periods
    straddling two masks (a week or month split across masks) must count like the
    oracle's plain groupbys. (The oracle's daily retention is slow, hence 150 days.)"""
    f = random_frames(4, users=120, days=days)
    ds = gl.load(sessions=f.sessions)
    ours = gl.retention(ds, period=period).table  # type: ignore[arg-type]
    expected = oracle.retention(f.sessions, ds.window, period)  # type: ignore[arg-type]
    assert ours["active_users"].sum() > 0
    assert ours["age"].tolist() == expected["age"].tolist()
    assert ours["users"].tolist() == expected["users"].tolist()
    assert ours["retention"].to_numpy() == pytest.approx(
        expected["retention"].to_numpy(), abs=1e-12
    )
    summary = gl.activity(ds).summary.values_dict()
    for key, value in oracle.activity(f.sessions, ds.window).items():  # type: ignore[arg-type]
        assert summary[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_retention_recovers_planted_truth() -> None:
    """The demo plants P(active in month k) per source × device. Per device, the expected
    rate is those probabilities weighted by the users' (source, device) mix of first
    sessions; the observed rate over complete cohorts at ages 1..3 lies within 4.5 binomial
    standard errors of it."""
    from growthlens.data.firsts import first_sessions

    ds = gl.demo(users=20_000, seed=1)
    truth = ds.truth
    assert truth is not None
    first = first_sessions(ds.table("sessions"))
    mix = first.group_by(["source", "device"]).aggregate(n=first.count()).to_pyarrow().to_pylist()
    t = gl.retention(ds, by="device").table
    t = t[t["complete"] & t["age"].between(1, 3)]
    for device in ("desktop", "touch"):
        weights = {r["source"]: r["n"] for r in mix if r["device"] == device}
        for k in (1, 2, 3):
            cells = t[(t["device"] == device) & (t["age"] == k)]
            n = int(cells["users"].sum())
            observed = float(cells["active_users"].sum()) / n
            p = sum(w * truth["retention"][s][device][k - 1] for s, w in weights.items()) / sum(
                weights.values()
            )
            se = math.sqrt(p * (1 - p) / n)
            assert abs(observed - p) < 4.5 * se, (device, k, observed, p)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), period=st.sampled_from(["day", "week", "month"]))
def test_retention_invariants(seed: int, period: str) -> None:
    f = random_frames(seed, users=60, days=40)
    ds = gl.load(sessions=f.sessions)
    t = gl.retention(ds, period=period).table  # type: ignore[arg-type]
    assert (t[t["age"] == 0]["retention"] == 1.0).all()
    assert t["retention"].between(0, 1).all()
    by = gl.retention(ds, period=period, by="device").table  # type: ignore[arg-type]
    total = t[t["age"] == 0].set_index("cohort")["users"]
    split = by[by["age"] == 0].groupby("cohort")["users"].sum()
    assert split.to_dict() == total.to_dict()
