"""session_users: distinct users per session value and period, built once per Dataset."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.derive import activity
from growthlens.derive.activity import session_users
from growthlens.metrics.channels import economics
from growthlens.metrics.kpis import flows
from tests.oracle.random_data import random_sessions

SESSIONS = pd.DataFrame(
    {
        "user_id": [1, 1, 1, 2, 2, 3, 4],
        "session_id": [10, 11, 12, 20, 21, 30, 40],
        "start_ts": pd.to_datetime(
            [
                "2024-01-03 10:00",
                "2024-01-20 09:00",
                "2024-02-02 08:00",
                "2024-01-31 23:59",
                "2024-02-01 00:00",
                "2024-02-10 12:00",
                "2024-02-11 12:00",
            ]
        ),
        "source": ["ads", "ads", "mail", "ads", "ads", None, "mail"],
    }
)


def _frame(ds: gl.Dataset, keys: tuple[str, ...], period: str | None = None) -> list[tuple]:
    table = session_users(ds, "source", keys, period)  # type: ignore[arg-type]
    frame = table.to_pandas()
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d")
    return sorted(frame[[*keys, "users"]].itertuples(index=False, name=None))


def test_distinct_users_per_value_period_and_in_all() -> None:
    ds = gl.load(sessions=SESSIONS)
    assert _frame(ds, ()) == [(4,)]
    # User 1 counts once for ads (two sessions), once for mail; a missing source is unknown.
    assert _frame(ds, ("value",)) == [("(unknown)", 1), ("ads", 2), ("mail", 2)]
    assert _frame(ds, ("period",), "month") == [("2024-01-01", 2), ("2024-02-01", 4)]
    assert _frame(ds, ("value", "period"), "month") == [
        ("(unknown)", "2024-02-01", 1),
        ("ads", "2024-01-01", 2),
        ("ads", "2024-02-01", 1),
        ("mail", "2024-02-01", 2),
    ]
    with pytest.raises(ValueError, match="need a period"):
        session_users(ds, "source", ("period",))
    with pytest.raises(ValueError, match="need a column"):
        session_users(ds, None, ("value",))
    # The column names no key here: one stored table whichever column is passed.
    assert session_users(ds, "source", ("period",), "month") is session_users(
        ds, None, ("period",), "month"
    )


def test_channel_and_kpi_tables_share_the_counts() -> None:
    ds = gl.load(sessions=SESSIONS)
    kpis = flows(ds, period="month", window=(date(2024, 1, 1), date(2024, 2, 29)))
    assert kpis.window["users"] == 4
    assert kpis.periods["users"].tolist() == [2, 4]
    whole = economics(ds, by="channel", period=None, model="last_touch")
    stored = len(ds.store)
    monthly = economics(ds, by="channel", period="month", model="last_touch")
    # The per-month run adds the (value, period) counts only; the KPIs stored the rest.
    assert len(ds.store) == stored + 1
    assert whole.total["users"].tolist() == monthly.total["users"].tolist() == [4]
    assert dict(zip(whole.values["channel"], whole.values["users"], strict=True)) == {
        "ads": 2,
        "mail": 2,
        "(unknown)": 1,
    }
    per_month = monthly.periods.set_index("period")["users"]
    assert per_month.tolist() == [2, 4]


def test_overview_reads_the_stored_user_count() -> None:
    """The overview's users with a session are the stored count, not a second one."""
    ds = gl.load(sessions=SESSIONS)
    result = gl.overview(ds)
    assert int(result.table.set_index("table").loc["sessions", "users"]) == 4
    columns = result.tables["columns"].set_index(["table", "column"])
    assert int(columns.loc[("sessions", "user_id"), "distinct"]) == 4
    assert int(columns.loc[("sessions", "session_id"), "distinct"]) == 7  # still counted
    stored = len(ds.store)
    assert session_users(ds, None, ()).to_pandas()["users"].tolist() == [4]
    assert len(ds.store) == stored  # the overview stored it


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_users_without_a_value_are_summed_from_the_profiles(period: str) -> None:
    """All users and users per period come from the profile table, equal to a plain count."""
    # A Monday, two days before a month ends; 80 days of seconds.
    frame = random_sessions(7, 400, users=60, start="2024-01-29", steps=80 * 86_400, unit="s")
    ds = gl.load(sessions=frame, window=("2024-01-29", "2024-04-17"))
    starts = frame.start_ts.dt.to_period({"day": "D", "week": "W-SUN", "month": "M"}[period])
    expected = frame.assign(p=starts.dt.start_time.dt.date).groupby("p").user_id.nunique()
    got = session_users(ds, None, ("period",), period).to_pandas()  # type: ignore[arg-type]
    got = got.assign(period=pd.to_datetime(got["period"]).dt.date).set_index("period")["users"]
    assert got.sort_index().to_dict() == expected.to_dict()
    total = session_users(ds, None, ()).to_pandas()["users"].tolist()
    assert total == [frame.user_id.nunique()]


@pytest.mark.parametrize("period", [None, "week", "month"])
def test_users_per_value_read_stored_profiles(period: str | None, monkeypatch: Any) -> None:
    """Per value the count reads the value's profiles when activity built them, else counts."""
    sources = ("ads", "mail", None)
    frame = random_sessions(
        11, 300, users=50, start="2024-01-29", steps=70 * 86_400, unit="s", sources=sources
    )
    keys = ("value",) if period is None else ("value", "period")
    frame["value"] = frame.source.fillna("(unknown)")
    group = ["value"]
    if period is not None:
        starts = frame.start_ts.dt.to_period({"week": "W-SUN", "month": "M"}[period])
        frame["period"] = starts.dt.start_time.dt.date
        group.append("period")
    expected = sorted(frame.groupby(group).user_id.nunique().reset_index().itertuples(index=False))
    calls: list[str | None] = []
    original = activity._profile_users

    def counting(ds: gl.Dataset, column: str | None, p: Any) -> Any:
        calls.append(column)
        return original(ds, column, p)

    monkeypatch.setattr(activity, "_profile_users", counting)
    for built in (False, True):
        ds = gl.load(sessions=frame.drop(columns=[*group]), window=("2024-01-29", "2024-04-07"))
        if built:
            activity.profiles(ds, by="source")  # as activity by source does
        got = session_users(ds, "source", keys, period).to_pandas()  # type: ignore[arg-type]
        if period is not None:
            got["period"] = pd.to_datetime(got["period"]).dt.date
        assert sorted(got[[*keys, "users"]].itertuples(index=False)) == expected
        assert calls == (["source"] if built else [])


@pytest.mark.parametrize("policy", ["first", "keep"])
def test_overview_counts_a_key_the_load_left_unique(policy: str) -> None:
    """After ``first`` the session ids are distinct (counted, not hashed); ``keep`` counts."""
    repeated = pd.concat([SESSIONS, SESSIONS.iloc[[0]].assign(source="mail")], ignore_index=True)
    repeated.loc[len(repeated)] = [5, None, pd.Timestamp("2024-02-12 08:00"), "ads"]
    repeated.loc[len(repeated)] = [6, None, pd.Timestamp("2024-02-13 08:00"), "ads"]
    ds = gl.load(sessions={"sources": [repeated], "duplicates": policy})
    counts = ds.quality.table_counts("sessions")
    assert counts.unique == (("session_id",) if policy == "first" else ())
    columns = gl.overview(ds).tables["columns"].set_index(["table", "column"])
    # 7 ids, one repeated by the extra row and two rows without an id, either way.
    assert int(columns.loc[("sessions", "session_id"), "distinct"]) == 7
    assert int(columns.loc[("sessions", "session_id"), "nulls"]) == 2
    assert counts.accepted == (9 if policy == "first" else 10)
