"""Config, presets, multi-source unions with their duplicate policy, time zones, windows."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import date, datetime
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot

import growthlens as gl


def test_ibis_create_and_drop_table_with_pinned_sqlglot() -> None:
    """ibis 12.0.0 + sqlglot >= 30.18 emits `DROP VIEW IF EXISTS` without a name."""
    assert ibis.__version__ == "12.0.0"
    assert sqlglot.__version__.startswith("30.17.")
    con = ibis.duckdb.connect()
    table = con.create_table("pinned_pair", pa.table({"a": [1, 2]}))
    assert table.count().to_pyarrow().as_py() == 2
    con.create_table("pinned_pair", pa.table({"a": [3]}), overwrite=True)
    assert con.table("pinned_pair").count().to_pyarrow().as_py() == 1
    con.drop_table("pinned_pair")
    with pytest.raises(Exception, match="pinned_pair"):
        con.table("pinned_pair")


def test_preset_loads_afisha_layout_without_mapping(afisha_files: dict[str, Path]) -> None:
    ds = gl.load(
        sessions=afisha_files["visits"], orders=afisha_files["orders"], costs=afisha_files["costs"]
    )
    for name in ("sessions", "orders", "costs"):
        assert ds.quality.table_counts(name).preset == "yandex_afisha"
    sessions = ds.table("sessions")
    assert set(sessions.columns) == {"user_id", "start_ts", "end_ts", "source", "device"}
    ids = sorted(str(v) for v in sessions.user_id.to_pyarrow().to_pylist())
    assert ids == sorted(["18446744073709551615", "9223372036854775808", "42"])
    checks = {f.check: f for f in ds.quality.findings}
    # Session 2 ends a minute before it starts: kept, flagged, out of length statistics.
    assert checks["end_before_start"].rows == 1
    assert checks["end_before_start"].action == "kept_flagged"
    assert checks["zero_revenue"].rows == 1
    assert ds.window == (date(2017, 6, 1), date(2017, 6, 3))


def test_toml_config_with_mapping_relative_paths_and_settings(tmp_path: Path) -> None:
    data = tmp_path / "exports"
    data.mkdir()
    (data / "visits.csv").write_text(
        "who,when,medium\n1,2020-01-01 10:00:00,ads\n2,2020-01-02 10:00:00,seo\n"
    )
    (data / "buys.csv").write_text(
        "client;paid_at;amount\n1;2020-01-01 11:00:00;10\n2;2020-01-02 12:00:00;30\n"
    )
    config = tmp_path / "conf" / "growthlens.toml"
    config.parent.mkdir()
    config.write_text(
        """
[settings]
timezone = "Europe/Moscow"
currency = "EUR"
margin = 0.5

[sessions]
path = "../exports/visits.csv"
columns = { user_id = "who", start_ts = "when", source = "medium" }

[orders]
path = "../exports/buys.csv"
delimiter = ";"
columns = { user_id = "client", ts = "paid_at", revenue = "amount" }
"""
    )
    ds = gl.load(config)
    assert ds.settings.timezone == "Europe/Moscow"
    assert ds.settings.currency == "EUR"
    assert ds.settings.margin == 0.5
    assert ds.table("orders").revenue.sum().to_pyarrow().as_py() == 40
    assert ds.table("sessions").source.to_pyarrow().to_pylist() in (["ads", "seo"], ["seo", "ads"])
    assert ds.quality.table_counts("orders").mapping == {
        "user_id": "client",
        "ts": "paid_at",
        "revenue": "amount",
    }
    # Keyword settings override the file's.
    assert gl.load(config, margin=0.25).settings.margin == 0.25


def test_tz_aware_timestamps_converted_to_timezone_setting() -> None:
    """10:00 UTC is 13:00 in Moscow (UTC+3, no DST since 2014); naive input is kept as is."""
    aware = pd.DataFrame(
        {
            "user_id": ["a", "b"],
            "start_ts": pd.to_datetime(["2020-01-01 10:00", "2020-06-01 23:30"]).tz_localize("UTC"),
        }
    )
    ds = gl.load(sessions=aware, timezone="Europe/Moscow")
    got = sorted(ds.table("sessions").start_ts.to_pyarrow().to_pylist())
    assert got == [datetime(2020, 1, 1, 13, 0), datetime(2020, 6, 2, 2, 30)]
    naive = aware.assign(start_ts=aware.start_ts.dt.tz_localize(None))
    ds = gl.load(sessions=naive, timezone="Europe/Moscow")
    got = sorted(ds.table("sessions").start_ts.to_pyarrow().to_pylist())
    assert got == [datetime(2020, 1, 1, 10, 0), datetime(2020, 6, 1, 23, 30)]


def test_text_timestamps_with_offsets_are_converted(tmp_path: Path) -> None:
    """`+03:00` and `Z` are honoured; a naive text timestamp stays as written."""
    path = tmp_path / "visits.csv"
    path.write_text(
        "user_id,start_ts\n"
        "1,2020-01-01T10:00:00+03:00\n"
        "2,2020-01-01T10:00:00Z\n"
        "3,2020-01-01 10:00:00\n"
    )
    # Mixed text: the sniffer keeps it as text and the offset rule decides per value.
    ds = gl.load(sessions=path, timezone="Asia/Tokyo")  # UTC+9
    rows = ds.table("sessions").order_by("user_id").to_pyarrow().to_pylist()
    assert [r["start_ts"] for r in rows] == [
        datetime(2020, 1, 1, 16, 0),
        datetime(2020, 1, 1, 19, 0),
        datetime(2020, 1, 1, 10, 0),
    ]


def _orders_db(path: Path, rows: list[tuple[str, str, float, str]]) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE orders (order_id TEXT, ts TEXT, revenue REAL, user_id TEXT)")
    db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()


@pytest.fixture
def two_sources(tmp_path: Path) -> tuple[Path, Path]:
    """A database table and a recovered .csv.gz: o2 is in both (with different revenue).

    database: o1 10.0, o2 20.0, o3 30.0
    recovered: o2 25.0, o4 40.0, o4 40.0 (an exact repeat)
    """
    db = tmp_path / "shop.sqlite"
    _orders_db(
        db,
        [
            ("o1", "2020-01-01 10:00:00", 10.0, "u1"),
            ("o2", "2020-01-02 10:00:00", 20.0, "u2"),
            ("o3", "2020-01-03 10:00:00", 30.0, "u3"),
        ],
    )
    recovered = tmp_path / "recovered.csv.gz"
    recovered.write_bytes(
        gzip.compress(
            b"order_id,ts,revenue,user_id\n"
            b"o2,2020-01-02 10:00:00,25.0,u2\n"
            b"o4,2020-01-04 10:00:00,40.0,u4\n"
            b"o4,2020-01-04 10:00:00,40.0,u4\n"
        )
    )
    return db, recovered


@pytest.mark.parametrize(
    ("policy", "accepted", "revenue", "excluded"),
    [
        # first: o1 10 + o2 20 (database) + o3 30 + o4 40 once; o2 (csv) and one o4 dropped.
        ("first", 4, 100.0, 2),
        # last: o2 25 from the csv wins; o4 still once.
        ("last", 4, 105.0, 2),
        # keep: all six rows, 10+20+30+25+40+40 = 165; two rows share a key (reported, kept).
        ("keep", 6, 165.0, 0),
    ],
)
def test_union_of_sources_with_duplicate_policy(
    two_sources: tuple[Path, Path], policy: str, accepted: int, revenue: float, excluded: int
) -> None:
    db, recovered = two_sources
    ds = gl.load(orders={"sources": [str(db), str(recovered)], "duplicates": policy})
    counts = ds.quality.table_counts("orders")
    assert counts.loaded == 6
    assert counts.accepted == accepted
    assert counts.excluded == excluded
    assert counts.loaded == counts.accepted + counts.excluded
    assert ds.table("orders").revenue.sum().to_pyarrow().as_py() == pytest.approx(revenue)
    assert counts.sources == ("shop.sqlite:orders", "recovered.csv.gz")
    findings = {f.check: f for f in ds.quality.findings}
    if policy == "keep":
        assert findings["duplicate_key_kept"].rows == 2
        assert findings["duplicate_key_kept"].action == "kept"
        assert "duplicate_key" not in counts.excluded_by_reason
    else:
        assert counts.excluded_by_reason == {"duplicate_key": 2}
        assert findings["duplicate_key"].rows == 2
        assert findings["duplicate_key"].action == "excluded"
        assert policy in findings["duplicate_key"].message


def test_duplicate_policy_keeps_the_valid_copy(tmp_path: Path) -> None:
    """If the first copy of a key is invalid (negative revenue), the valid later copy is kept."""
    a = tmp_path / "a.csv"
    a.write_text("order_id,ts,revenue,user_id\no1,2020-01-01 10:00:00,-5,u1\n")
    b = tmp_path / "b.csv"
    b.write_text("order_id,ts,revenue,user_id\no1,2020-01-01 10:00:00,5,u1\n")
    ds = gl.load(orders=[a, b])
    counts = ds.quality.table_counts("orders")
    assert counts.excluded_by_reason == {"negative_revenue": 1}
    assert ds.table("orders").revenue.to_pyarrow().to_pylist() == [5.0]


def test_null_keys_are_not_duplicates_of_each_other(tmp_path: Path) -> None:
    """Orders without an order_id are identified by the whole row, not merged by a null key."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,ts,revenue,user_id\n"
        ",2020-01-01 10:00:00,5,u1\n"
        ",2020-01-01 11:00:00,6,u2\n"
        "o3,2020-01-01 12:00:00,7,u3\n"
    )
    ds = gl.load(orders=path)
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (3, 3)


def test_explicit_window_overrides_and_excludes(afisha_files: dict[str, Path]) -> None:
    """window = (2017-06-02, 2017-06-02): one visit, one order and one cost row remain."""
    ds = gl.load(
        sessions=afisha_files["visits"],
        orders=afisha_files["orders"],
        costs=afisha_files["costs"],
        window=("2017-06-02", "2017-06-02"),
    )
    assert ds.window == (date(2017, 6, 2), date(2017, 6, 2))
    assert ds.quality.window_source == "setting"
    for name in ("sessions", "orders", "costs"):
        counts = ds.quality.table_counts(name)
        assert (counts.loaded, counts.accepted) == (3, 1)
        assert counts.excluded_by_reason == {"out_of_window": 2}
        assert counts.first == counts.last == date(2017, 6, 2)


def test_ids_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    """ "007" and "7" are different users; making them uint64 would merge them."""
    path = tmp_path / "visits.csv"
    path.write_text("user_id,start_ts\n007,2020-01-01 10:00:00\n7,2020-01-01 11:00:00\n")
    ds = gl.load(sessions=path)
    assert ds.table("sessions").user_id.type().is_string()
    assert sorted(ds.table("sessions").user_id.to_pyarrow().to_pylist()) == ["007", "7"]


@pytest.mark.parametrize("numeric", [False, True])
def test_text_ids_are_trimmed_of_whitespace_at_either_end(tmp_path: Path, numeric: bool) -> None:
    """Text ids lose the whitespace at their ends (the one test for it skips texts whose
    ends are above 32), whether they then stay text or all turn out to be numbers."""
    base = ["1", "2", "3", "4", "5", "6"] if numeric else ["u1", "u2", "u3", "é4", "u5", "u6"]
    ids = [f" {base[0]}", f"{base[1]}\t", f"\n{base[2]} ", base[3], f"\r\n{base[4]}\x0b", base[5]]
    frame = pd.DataFrame(
        {"user_id": [*ids, "  ", " NULL "], "start_ts": pd.Timestamp("2020-01-01 10:00")}
    )
    path = tmp_path / "visits.parquet"
    frame.to_parquet(path)
    ds = gl.load(sessions=path)
    table = ds.table("sessions")
    assert table.user_id.type().is_string() is not numeric
    got = sorted(str(v) for v in table.user_id.to_pyarrow().to_pylist())
    assert got == sorted(base)
    assert ds.quality.counts[0].excluded_by_reason == {"missing_user_id": 2}


def test_text_ids_in_one_table_make_all_ids_text(afisha_files: dict[str, Path]) -> None:
    orders = pd.DataFrame(
        {"user_id": ["u1"], "ts": [pd.Timestamp("2017-06-02 10:00")], "revenue": [1.0]}
    )
    ds = gl.load(
        sessions=afisha_files["visits"], orders=orders, window=("2017-06-01", "2017-06-03")
    )
    assert ds.table("sessions").user_id.type().is_string()
    assert ds.table("orders").user_id.type().is_string()
    assert "18446744073709551615" in ds.table("sessions").user_id.to_pyarrow().to_pylist()


def test_customers_attributes_can_be_renamed(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("Uid,Age Years,City\n1,30,Moscow\n")
    ds = gl.load(customers={"path": str(path), "columns": {"age": "Age Years"}})
    assert ds.table("customers").columns == ("user_id", "age", "city")


def test_accounting_identity_in_every_table(afisha_files: dict[str, Path]) -> None:
    ds = gl.load(
        sessions=afisha_files["visits"], orders=afisha_files["orders"], costs=afisha_files["costs"]
    )
    for counts in ds.quality.counts:
        assert counts.loaded == counts.accepted + counts.excluded
        assert counts.accepted == ds.table(counts.table).count().to_pyarrow().as_py()


def test_frames_as_sources_with_policy() -> None:
    """Two frames unioned; o1 is in both, policy "last" keeps the second frame's 7.0."""
    first = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "ts": ["2020-01-01", "2020-01-02"],
            "revenue": [5.0, 1.0],
            "user_id": ["1", "2"],
        }
    )
    second = first.iloc[:1].assign(revenue=7.0)
    ds = gl.load(orders={"sources": [first, second], "duplicates": "last"})
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted, counts.excluded) == (3, 2, 1)
    assert ds.table("orders").revenue.sum().to_pyarrow().as_py() == 8.0


def _repeated_sessions() -> pd.DataFrame:
    """User 1 repeats one session 3× (2 extra) on a day it also has another session;
    user 2 repeats one twice (1 extra) on days 1 and 70 of the window (second mask);
    user 3 has two different sessions on one day (a candidate, no duplicate); user 4 has
    sessions on two days (not a candidate). Extra copies: 2 + 1 = 3.
    """
    t = pd.Timestamp
    rows = [
        (1, t("2020-01-05 12:00"), t("2020-01-05 12:05"), "desktop", 1),
        (1, t("2020-01-05 10:00"), t("2020-01-05 10:05"), "desktop", 1),
        (1, t("2020-01-05 10:00"), t("2020-01-05 10:05"), "desktop", 1),
        (1, t("2020-01-05 10:00"), t("2020-01-05 10:05"), "desktop", 1),
        (2, t("2020-01-01 09:00"), t("2020-01-01 09:01"), "touch", 2),
        (2, t("2020-03-10 09:00"), t("2020-03-10 09:01"), "touch", 2),
        (2, t("2020-03-10 09:00"), t("2020-03-10 09:01"), "touch", 2),
        (3, t("2020-02-01 09:00"), t("2020-02-01 09:01"), "touch", 2),
        (3, t("2020-02-01 09:00"), t("2020-02-01 09:02"), "touch", 2),
        (4, t("2020-04-01 09:00"), t("2020-04-01 09:01"), "desktop", 3),
        (4, t("2020-02-01 09:00"), t("2020-02-01 09:01"), "touch", 2),
    ]
    return pd.DataFrame(rows, columns=["user_id", "start_ts", "end_ts", "device", "source"])


def test_identical_sessions_counted_from_profile_candidates() -> None:
    """Only users with more sessions than active days can repeat a session; all are found.

    Rows of ``_repeated_sessions``: 3 extra copies, as pandas ``duplicated()`` counts them,
    all of users 1 and 2.
    """
    frame = _repeated_sessions()
    ds = gl.load(sessions=frame, window=("2020-01-01", "2020-04-30"))
    finding = {f.check: f for f in ds.quality.findings}["identical_rows"]
    assert finding.rows == int(frame.duplicated().sum()) == 3
    assert {e["user_id"] for e in finding.examples} <= {1, 2}
    assert ds.quality.table_counts("sessions").accepted == len(frame)


def test_identical_sessions_and_buyers_share_one_narrowed_scan() -> None:
    """With orders too, the duplicate check and buyers' first sessions read one subset.

    Sessions of ``_repeated_sessions`` plus orders by users 1 (a duplicate candidate too),
    3 (on Jan 20, before its first visit on Feb 1), 4 (not a candidate, two orders) and
    9 (no session). Extra copies are still 3; user 1's first session is the 10:00 one,
    user 4's the Feb 1 one (listed second, on touch); user 9 has a row with no visit;
    user 2 bought nothing, so it has no row. One order comes before its buyer's first
    visit and one has no session.
    """
    from growthlens.data.firsts import BUYER_VISITS, FIRST_ORDERS

    t = pd.Timestamp
    sessions = _repeated_sessions()
    orders = pd.DataFrame(
        {
            "user_id": [1, 3, 4, 4, 9],
            "ts": [
                t("2020-01-06"),
                t("2020-01-20"),
                t("2020-04-02"),
                t("2020-04-03"),
                t("2020-03-01"),
            ],
            "revenue": [5.0, 1.0, 3.0, 2.0, 4.0],
        }
    )
    ds = gl.load(sessions=sessions, orders=orders, window=("2020-01-01", "2020-04-30"))
    findings = [(f.table, f.check, f.rows) for f in ds.quality.findings]
    assert ("sessions", "identical_rows", 3) in findings
    assert ("orders", "order_before_first_visit", 1) in findings
    assert ("orders", "orders_without_session", 1) in findings
    visits = ds.byproduct(BUYER_VISITS).to_pyarrow().to_pandas().sort_values("user_id")
    assert list(visits["user_id"]) == [1, 3, 4, 9]
    assert list(visits["start_ts"][:3]) == [
        t("2020-01-05 10:00"),
        t("2020-02-01 09:00"),
        t("2020-02-01 09:00"),
    ]
    assert pd.isna(visits["start_ts"].iloc[3])
    assert list(visits["device"][:3]) == ["desktop", "touch", "touch"]
    # Each buyer's first order time: user 4's is the earlier of two.
    assert list(visits["first_order_ts"]) == [
        t("2020-01-06"),
        t("2020-01-20"),
        t("2020-04-02"),
        t("2020-03-01"),
    ]
    first = ds.byproduct(FIRST_ORDERS).to_pyarrow().to_pandas().sort_values("user_id")
    assert list(first["first_order_ts"]) == list(visits["first_order_ts"])


@pytest.mark.parametrize("seed", [0, 1])
def test_buyer_visits_from_the_load_equal_the_plain_definition(seed: int) -> None:
    """The load builds buyer visits from its narrowed scan (first order time carried on the
    sessions, sessionless buyers added only when counts differ); a Dataset built without
    the load computes them as first orders left-joined to buyers' first sessions. Both
    must give the same table.

    300 users with 1–4 sessions over 30 days, start times 6 hours apart so some
    buyers have two sessions at their first instant (checked); every third user orders 1–3
    times, and users 301–310 order without any session.
    """
    from growthlens.data.firsts import BUYER_VISITS
    from growthlens.derive.acquisition import buyer_visits

    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(1, 301), rng.integers(1, 5, 300))
    n = len(users)
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 30 * 4, n) * 6, "h")
    sessions = pd.DataFrame(
        {
            "user_id": users,
            "start_ts": start,
            "end_ts": start + pd.to_timedelta(rng.integers(0, 600, n), "s"),
            "source": rng.integers(1, 4, n),
            "device": rng.choice(["desktop", "touch"], n),
        }
    )
    buyers = np.concatenate([np.arange(3, 301, 3), np.arange(301, 311)])
    who = np.repeat(buyers, rng.integers(1, 4, len(buyers)))
    orders = pd.DataFrame(
        {
            "user_id": who,
            "ts": pd.Timestamp("2020-01-02")
            + pd.to_timedelta(rng.integers(0, 28 * 24, len(who)), "h"),
            "revenue": 1.0,
        }
    )
    first_instant = sessions.groupby("user_id")["start_ts"].transform("min")
    at_first = sessions[sessions["start_ts"] == first_instant]
    tied = at_first.loc[at_first["user_id"].duplicated(), "user_id"]
    assert (tied % 3 == 0).any()
    ds = gl.load(sessions=sessions, orders=orders, window=("2020-01-01", "2020-01-30"))
    plain = gl.Dataset(
        tables=ds.tables, backend=ds.backend, settings=ds.settings, quality=ds.quality
    )

    def frame(table: ibis.Table) -> pd.DataFrame:
        out = table.to_pyarrow().to_pandas()
        return out.sort_values("user_id").reset_index(drop=True)

    loaded, reference = frame(ds.byproduct(BUYER_VISITS)), frame(buyer_visits(plain))
    pd.testing.assert_frame_equal(loaded, reference)
    assert len(loaded) == len(np.unique(buyers))
    assert int(loaded["start_ts"].isna().sum()) == 10


def test_identical_orders_counted_among_repeat_buyers() -> None:
    """Orders without ``order_id``: identical rows share their buyer, so only buyers with
    two or more orders are compared, and every copy is still found.

    User 1 orders the same thing 3× (2 extra copies) plus once more; user 2 has two
    different orders; user 3 one. pandas ``duplicated()`` counts the same 2.
    """
    t = pd.Timestamp
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 2, 3],
            "ts": [t("2020-01-05 10:00")] * 3
            + [t("2020-01-06"), t("2020-01-07"), t("2020-01-08"), t("2020-01-07")],
            "revenue": [5.0, 5.0, 5.0, 5.0, 1.0, 2.0, 3.0],
        }
    )
    ds = gl.load(orders=orders)
    finding = {f.check: f for f in ds.quality.findings}["identical_rows"]
    assert finding.rows == int(orders.duplicated().sum()) == 2
    assert {e["user_id"] for e in finding.examples} == {1}


def test_kept_duplicate_session_keys_across_users_are_all_counted() -> None:
    """With a ``session_id`` and policy "keep", duplicates are shared keys, which two users
    on different days can hold: the check reads every session, not only the users with
    two sessions on one day. Users 1 and 2 share "s1" (1 extra), user 3 repeats "s3" on
    two days (1 extra): 2.
    """
    t = pd.Timestamp
    sessions = pd.DataFrame(
        {
            "session_id": ["s1", "s1", "s3", "s3", "s4"],
            "user_id": [1, 2, 3, 3, 4],
            "start_ts": [
                t("2020-01-01 10:00"),
                t("2020-01-02 10:00"),
                t("2020-01-03 10:00"),
                t("2020-01-04 10:00"),
                t("2020-01-05 10:00"),
            ],
            "end_ts": [
                t("2020-01-01 10:05"),
                t("2020-01-02 10:05"),
                t("2020-01-03 10:05"),
                t("2020-01-04 10:05"),
                t("2020-01-05 10:05"),
            ],
        }
    )
    ds = gl.load(sessions={"sources": [sessions], "duplicates": "keep"})
    finding = {f.check: f for f in ds.quality.findings}["duplicate_key_kept"]
    assert finding.rows == int(sessions.duplicated("session_id").sum()) == 2
    assert ds.quality.table_counts("sessions").accepted == len(sessions)


def test_popcount_is_exact_on_the_engine() -> None:
    from growthlens.data.profile import popcount

    values = [0, 1, 2**61, 2**62 - 1, 0x5555555555555555 >> 1, 123456789012345, 2**40 + 7]
    table = ibis.memtable(pd.DataFrame({"x": pd.Series(values, dtype="int64")}))
    counted = table.mutate(n=popcount(table.x)).to_pyarrow().to_pylist()
    assert [r["n"] for r in counted] == [bin(v).count("1") for v in values]


@pytest.mark.parametrize("share", [0.02, 0.5])
def test_flag_examples_equal_a_full_scan(share: float) -> None:
    """Examples of a rarely failed check come from the load's stored subset; common ones
    from their own scan. Either way they are the first rows of all failing sessions.

    200 users with 3 sessions each over 20 days; ``share`` of the sessions end 1 minute
    before they start (2%: rare, read from the subset; 50%: above RARE_SHARE, scanned);
    every tenth user buys.
    """
    from growthlens.data import validate

    rng = np.random.default_rng(5)
    n = 600
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 20 * 86_400, n), "s")
    backwards = rng.random(n) < share
    sessions = pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(1, 201), 3),
            "start_ts": start,
            "end_ts": start + pd.to_timedelta(np.where(backwards, -60, 300), "s"),
            "source": rng.integers(1, 4, n),
        }
    )
    orders = pd.DataFrame(
        {"user_id": np.arange(1, 201, 10), "ts": pd.Timestamp("2020-01-25"), "revenue": 1.0}
    )
    ds = gl.load(sessions=sessions, orders=orders, window=("2020-01-01", "2020-01-31"))
    finding = {f.check: f for f in ds.quality.findings}["end_before_start"]
    assert finding.rows == int(backwards.sum())
    table = ds.table("sessions")
    assert finding.examples == validate.examples(table, table.end_ts < table.start_ts)
    assert len(finding.examples) == validate.EXAMPLES


def test_end_time_checks_come_from_the_per_length_counts() -> None:
    """The load counts sessions that end before they start, or have no end, from its
    per-length counts instead of the reason scan, which then never reads ``end_ts``.

    Window June 1–2. Accepted sessions: u1 300 s, u2 −60 s (ends before it starts), u3
    no end, u4 0 s. Outside the window, u5 −60 s and no end: not counted. Expected:
    end_before_start 1, session_without_end 1; the per-length counts hold the 4
    accepted sessions: lengths 300 s, −60 s, null and 0 s, one each.
    """
    from growthlens.data import lengths, validate
    from growthlens.data.tables import TABLES

    t = pd.Timestamp
    sessions = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 5, 5],
            "start_ts": [t("2017-06-01 10:00")] * 4 + [t("2017-06-05 10:00")] * 2,
            "end_ts": [
                t("2017-06-01 10:05"),
                t("2017-06-01 09:59"),
                pd.NaT,
                t("2017-06-01 10:00"),
                t("2017-06-05 09:59"),
                pd.NaT,
            ],
        }
    )
    ds = gl.load(sessions=sessions, window=("2017-06-01", "2017-06-02"))
    checks = {f.check: f.rows for f in ds.quality.findings}
    assert checks["end_before_start"] == 1
    assert checks["session_without_end"] == 1
    counts = ds.byproduct(lengths.KEY).to_pyarrow().to_pylist()
    by_length = {r[lengths.LENGTH]: r["n"] for r in counts}
    assert by_length == {300_000_000: 1, -60_000_000: 1, None: 1, 0: 1}
    # The reason scan leaves both checks to the per-length counts.
    typed = ds.table("sessions").mutate(**{validate.REASON: ibis.null("string")})
    assert validate.reason_days(typed, TABLES["sessions"]).flags == ()


def test_orders_given_by_date_compare_with_the_first_visit_by_day() -> None:
    """An order at exactly midnight is a date: bought on the day of the first visit (which
    came later that day) it is not "before the first visit"; a day earlier it is. An order
    with a time keeps comparing by time."""
    t = pd.Timestamp
    sessions = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "start_ts": [t("2020-01-05 15:00"), t("2020-01-05 15:00"), t("2020-01-05 15:00")],
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "ts": [t("2020-01-05"), t("2020-01-04"), t("2020-01-05 14:59")],
            "revenue": [5.0, 1.0, 3.0],
        }
    )
    ds = gl.load(sessions=sessions, orders=orders, window=("2020-01-01", "2020-01-31"))
    found = {(f.check, f.rows) for f in ds.quality.findings if f.table == "orders"}
    assert ("order_before_first_visit", 2) in found  # user 2 (day before), user 3 (by time)


def test_a_reference_copy_does_not_narrow_the_data_window() -> None:
    """The window is the period the analysed tables share; a backend copy covering fewer
    days leaves it alone (its rows outside it are excluded and counted as usual)."""
    t = pd.Timestamp
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "ts": [t("2020-01-01 10:00"), t("2020-01-15 10:00"), t("2020-01-31 10:00")],
            "revenue": [5.0, 1.0, 3.0],
            "order_id": ["a", "b", "c"],
        }
    )
    reference = orders.iloc[1:2].copy()
    ds = gl.load(orders=orders, conversions_reference=reference)
    assert ds.window == (date(2020, 1, 1), date(2020, 1, 31))
