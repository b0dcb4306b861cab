"""first_rows: min-then-ties gives exactly what ranking every row gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlens.data.firsts import first_rows
from growthlens.engine import connect
from tests.oracle.random_data import random_sessions


def _rows(frame: pd.DataFrame, *, latest: bool = False) -> pd.DataFrame:
    con = connect("duckdb")
    table = con.create_table("t", frame, overwrite=True)
    out = first_rows(table, key="user_id", order=["ts", "n"], latest=latest)
    return out.to_pyarrow().to_pandas().sort_values("user_id").reset_index(drop=True)


FRAME = pd.DataFrame(
    {
        # u1: one row at its earliest ts (fast path);
        # u2: two rows at the earliest ts and equal n → the tie breaks on tag as text,
        #     "10" < "9", so the row tagged "10" wins;
        # u3: no ts at all → ranked; ascending ts puts nulls last in DuckDB, so the
        #     lower n wins;
        # u4: a single row.
        "user_id": ["u1", "u1", "u2", "u2", "u2", "u3", "u3", "u4"],
        "ts": pd.to_datetime(
            [
                "2020-01-02",
                "2020-01-01",
                "2020-01-01",
                "2020-01-01",
                "2020-01-03",
                None,
                None,
                "2020-02-01",
            ]
        ),
        "n": [1, 2, 5, 5, 1, 7, 3, 1],
        "tag": ["a", "b", "9", "10", "x", "p", "q", "z"],
    }
)


def test_first_rows_fast_path_and_ties() -> None:
    """u1 → its 2020-01-01 row (tag b); u2 → tag "10"; u3 → n 3 (tag q); u4 → tag z."""
    out = _rows(FRAME)
    assert list(out["user_id"]) == ["u1", "u2", "u3", "u4"]
    assert list(out["tag"]) == ["b", "10", "q", "z"]


def test_first_rows_latest() -> None:
    """latest: u1 → 2020-01-02 (a); u2 → 2020-01-03 (x); u3 → highest n, 7 (p); u4 → z."""
    out = _rows(FRAME, latest=True)
    assert list(out["tag"]) == ["a", "x", "p", "z"]


def test_first_rows_matches_full_ranking() -> None:
    """On random data with many ties, the result equals ranking every row."""
    rng = np.random.default_rng(3)
    size = 2_000
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, size).astype(str),
            "ts": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 4, size), "D"),
            "n": rng.integers(0, 3, size),
            "tag": rng.integers(0, 20, size).astype(str),
        }
    )
    ours = _rows(frame)
    expected = (
        frame.assign(_tag=frame["tag"].astype(str))
        .sort_values(["user_id", "ts", "n", "_tag"])
        .drop_duplicates("user_id")
        .drop(columns="_tag")
        .sort_values("user_id")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False)


def test_users_first_sessions_with_the_profiles_ties_list() -> None:
    """The derived first sessions (ties looked for only among the profiles' users with two
    sessions on a day) equal ranking every session, with many ties at the first instant."""
    import growthlens as gl
    from growthlens.data import profile
    from growthlens.derive.acquisition import first_touch

    # Whole hours over 10 days: many users start two sessions at one instant.
    frame = random_sessions(5, 3_000, users=800, start="2024-03-01", steps=240, unit="h")
    ds = gl.load(sessions=frame)
    built = ds.byproduct(profile.KEY)
    assert built is not None  # the path under test: ties looked for among listed users
    listed = built.filter(built.user_id.notnull()).count().to_pyarrow().as_py()
    assert 0 < listed < frame.user_id.nunique()
    ours = first_touch(ds).to_pandas().sort_values("user_id").reset_index(drop=True)
    expected = (
        frame.sort_values(["user_id", "start_ts", "session_id"])
        .drop_duplicates("user_id")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_dtype=False)


def test_first_visit_times_with_and_without_the_first_sessions() -> None:
    """Each user's earliest start, read off the stored first sessions or computed alone."""
    import growthlens as gl
    from growthlens.derive.acquisition import first_touch, first_visit_times

    frame = random_sessions(9, 1_000, users=300, start="2024-03-01", steps=240, unit="h")
    expected = frame.groupby("user_id").start_ts.min().sort_index()
    for built in (False, True):
        ds = gl.load(sessions=frame)
        if built:
            first_touch(ds)
        got = first_visit_times(ds).to_pandas().set_index("user_id").first_visit_ts.sort_index()
        pd.testing.assert_series_equal(
            got, expected, check_names=False, check_dtype=False, check_index_type=False
        )


def test_unique_first_sessions_aggregate_equals_ranking() -> None:
    """Users with at most one session a day: the per-user ordered aggregate picks the same
    row, every column and its type kept, as ranking the rows with a window; nulls in the
    other columns stay nulls, and ``user_id`` keeps its place among the columns."""
    from growthlens.data.firsts import unique_first_sessions

    rng = np.random.default_rng(11)
    users = np.repeat(np.arange(400), 5)
    days = np.concatenate([rng.choice(60, 5, replace=False) for _ in range(400)])
    frame = pd.DataFrame(
        {
            "start_ts": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(days, "D")
            + pd.to_timedelta(rng.integers(0, 86_400_000_000, len(days)), "us"),
            "user_id": [f"user-{u:05d}-with-a-long-id" for u in users],
            "session_id": pd.array(rng.integers(0, 2**63, len(days)), dtype="UInt64"),
            "device": rng.choice(["desktop", "touch", None], len(days)),
            "end_ts": pd.NaT,
        }
    )
    con = connect("duckdb")
    table = con.create_table("s", frame, overwrite=True)
    ranked = unique_first_sessions(table, ordered_aggregates=False)
    aggregated = unique_first_sessions(table, ordered_aggregates=True)
    assert aggregated.schema() == table.schema() == ranked.schema()
    ours, theirs = (
        t.to_pyarrow().to_pandas().sort_values("user_id").reset_index(drop=True)
        for t in (aggregated, ranked)
    )
    expected = frame.sort_values(["user_id", "start_ts"]).drop_duplicates("user_id")
    assert len(ours) == 400 and ours["device"].isna().any()
    pd.testing.assert_frame_equal(ours, theirs)
    pd.testing.assert_frame_equal(ours, expected.reset_index(drop=True), check_dtype=False)


def test_earliest_rows_by_join_equal_the_window() -> None:
    """The first sessions' earliest rows by a per-key minimum joined back equal the
    windowed minimum's rows, ties, null keys and keys without any value included."""
    from growthlens.data.firsts import _at_earliest_joined, _at_extreme

    rng = np.random.default_rng(5)
    size = 3_000
    keys = rng.integers(0, 400, size).astype(str).astype(object)
    keys[rng.random(size) < 0.03] = None
    starts = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 6, size), "h"))
    starts[rng.random(size) < 0.05] = pd.NaT
    starts[keys == "7"] = pd.NaT  # a key whose every value is null keeps all its rows
    frame = pd.DataFrame({"user_id": keys, "start_ts": starts, "n": np.arange(size)})
    con = connect("duckdb")
    table = con.create_table("t", frame, overwrite=True)
    joined, window = (
        f(table, key="user_id", column="start_ts", **extra).to_pyarrow().to_pandas()
        for f, extra in ((_at_earliest_joined, {}), (_at_extreme, {"latest": False}))
    )
    assert joined["user_id"].isna().any() and (joined["user_id"] == "7").sum() > 1
    assert len(joined) > joined["user_id"].nunique(dropna=False)  # ties kept, as the window
    pd.testing.assert_frame_equal(
        joined.sort_values("n").reset_index(drop=True),
        window.sort_values("n").reset_index(drop=True),
    )
