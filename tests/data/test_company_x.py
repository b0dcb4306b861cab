"""The Company X database preset, the ``date_time`` source key and costs by campaign.

The database is built here with sqlite3 in the exact schema of issue 15 (every column NOT
NULL, conversions keyed by (conv_id, user_id, conv_date)); every expected value is written
out by hand.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl
from growthlens.data import readers
from growthlens.data.databases import preset_mapping
from growthlens.errors import ConfigError, DataError

SCHEMA = """
CREATE TABLE conversions(
    conv_id TEXT NOT NULL, user_id TEXT NOT NULL, conv_date TEXT NOT NULL,
    market TEXT NOT NULL, revenue REAL NOT NULL,
    PRIMARY KEY (conv_id, user_id, conv_date));
CREATE TABLE conversions_backend(
    conv_id TEXT NOT NULL, user_id TEXT NOT NULL, conv_date TEXT NOT NULL,
    market TEXT NOT NULL, revenue REAL NOT NULL,
    PRIMARY KEY (conv_id, user_id, conv_date));
CREATE TABLE session_sources(
    session_id TEXT NOT NULL, user_id TEXT NOT NULL, event_date TEXT NOT NULL,
    event_time TEXT NOT NULL, channel_name TEXT NOT NULL, campaign_name TEXT NOT NULL,
    campaign_id TEXT NOT NULL, market TEXT NOT NULL, cpc REAL NOT NULL);
CREATE TABLE attribution_customer_journey(
    conv_id TEXT NOT NULL, session_id TEXT NOT NULL, ihc REAL NOT NULL);
"""
COSTS_WITH_IMPRESSIONS = """
CREATE TABLE api_adwords_costs(
    event_date TEXT NOT NULL, campaign_id TEXT NOT NULL, cost REAL NOT NULL,
    clicks INTEGER NOT NULL, impressions INTEGER NOT NULL);
"""
COSTS_WITHOUT_IMPRESSIONS = """
CREATE TABLE api_adwords_costs(
    event_date TEXT NOT NULL, campaign_id TEXT NOT NULL, cost REAL NOT NULL,
    clicks INTEGER NOT NULL);
"""

# Every table spans 2021-03-01 .. 2021-03-04, so the data window keeps every row.
SESSIONS = [
    # session_id, user_id, event_date, event_time, channel_name, campaign_name,
    # campaign_id, market, cpc
    ("s1", "u1", "2021-03-01", "09:05:07", "Paid Search", "Brand", "00123", "DE", 0.5),
    ("s2", "u1", "2021-03-01", "10:00", "Email", "", "", "DE", 0.0),  # no seconds
    ("s3", "u2", "2021-03-02", "23:59:59", "Paid Search", "Brand", "00123", "FR", 0.7),
    ("s4", "u2", "2021-03-03", "08:00:00", "Display", "Generic", "777", "FR", 0.2),
    ("s5", "u3", "2021-03-03", "12:00:00", "Display", "Generic", "777", "DE", 0.2),
    ("s6", "u3", "2021-03-04", "12:30:00", "Paid Search", "Generic", "777", "DE", 0.2),
    # Campaign 55: one Social and one Display session, a tie → "Display" (smaller text).
    ("s7", "u4", "2021-03-02", "07:00:00", "Social", "Tie", "55", "PL", 0.1),
    ("s8", "u4", "2021-03-04", "18:45:30", "Display", "Tie", "55", "PL", 0.1),
    ("s9", "u5", "2021-03-04", "06:00:00", "Direct", "", "   ", "PL", 0.0),  # blank id
]
START_TS = {
    "s1": datetime(2021, 3, 1, 9, 5, 7),
    "s2": datetime(2021, 3, 1, 10, 0, 0),
    "s3": datetime(2021, 3, 2, 23, 59, 59),
    "s4": datetime(2021, 3, 3, 8, 0, 0),
    "s5": datetime(2021, 3, 3, 12, 0, 0),
    "s6": datetime(2021, 3, 4, 12, 30, 0),
    "s7": datetime(2021, 3, 2, 7, 0, 0),
    "s8": datetime(2021, 3, 4, 18, 45, 30),
    "s9": datetime(2021, 3, 4, 6, 0, 0),
}
CONVERSIONS = [
    ("c1", "u1", "2021-03-01", "DE", 10.0),
    ("c2", "u2", "2021-03-03", "FR", 20.5),
    ("c3", "u3", "2021-03-04", "DE", 0.0),
    ("c3", "u4", "2021-03-04", "PL", 7.0),  # conv_id repeated: another row by the key
]
BACKEND = [
    ("c1", "u1", "2021-03-01", "DE", 10.0),
    ("c2", "u2", "2021-03-03", "FR", 20.0),
    ("c4", "u5", "2021-03-04", "PL", 3.0),
]
JOURNEYS = [("c1", "s1", 0.25), ("c1", "s2", 0.75), ("c2", "s3", 0.5), ("c2", "s4", 0.5)]
COSTS = [
    # event_date, campaign_id, cost, clicks, impressions
    ("2021-03-01", "00123", 5.0, 10, 100),
    ("2021-03-02", "00123", 6.0, 12, 130),
    ("2021-03-03", "777", 3.0, 4, 40),
    ("2021-03-03", "999", 2.0, 1, 9),  # a campaign no session has
    ("2021-03-04", "55", 1.5, 3, 30),
]
# The source each cost row must get, by (date, campaign).
COST_SOURCES = {
    (date(2021, 3, 1), "00123"): "Paid Search",
    (date(2021, 3, 2), "00123"): "Paid Search",
    (date(2021, 3, 3), "777"): "Display",  # 2 Display sessions, 1 Paid Search
    (date(2021, 3, 3), "999"): "(no sessions)",
    (date(2021, 3, 4), "55"): "Display",  # tie with Social: the smaller text
}


def write_db(
    path: Path,
    *,
    impressions: bool = True,
    sessions: list[tuple[Any, ...]] | None = None,
    skip: tuple[str, ...] = (),
) -> Path:
    db = sqlite3.connect(path)
    db.executescript(
        SCHEMA + (COSTS_WITH_IMPRESSIONS if impressions else COSTS_WITHOUT_IMPRESSIONS)
    )
    rows = {
        "conversions": CONVERSIONS,
        "conversions_backend": BACKEND,
        "session_sources": sessions if sessions is not None else SESSIONS,
        "attribution_customer_journey": JOURNEYS,
        "api_adwords_costs": [r if impressions else r[:4] for r in COSTS],
    }
    for table, values in rows.items():
        if table in skip:
            db.execute(f"DROP TABLE {table}")
            continue
        marks = ", ".join("?" * len(values[0]))
        db.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    db.commit()
    db.close()
    return path


def zip_of(database: Path, archive: Path, *, arcname: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(database, arcname or database.name)
    return archive


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return write_db(tmp_path / "challenge.sqlite")


@pytest.fixture(params=["plain", "zipped"])
def challenge(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    db = write_db(tmp_path / "challenge.sqlite")
    if request.param == "plain":
        return db
    zipped = zip_of(db, tmp_path / "challenge.zip")
    db.unlink()  # only the archive is there
    return zipped


def frame(ds: gl.Dataset, table: str, order: list[str]) -> pd.DataFrame:
    out: pd.DataFrame = ds.tables[table].to_pandas()
    return out.sort_values(order).reset_index(drop=True)


def findings(ds: gl.Dataset) -> dict[str, int]:
    return {f.check: f.rows for f in ds.quality.findings}


def test_every_table_loads_mapped(challenge: Path) -> None:
    ds = gl.load(str(challenge))
    assert set(ds.tables) == {
        "sessions",
        "orders",
        "conversions_reference",
        "touchpoints",
        "costs",
    }
    counts = {c.table: (c.loaded, c.accepted) for c in ds.quality.counts}
    assert counts == {
        "sessions": (9, 9),
        "orders": (4, 4),
        "conversions_reference": (3, 3),
        "touchpoints": (4, 4),
        "costs": (5, 5),
    }
    sessions = frame(ds, "sessions", ["session_id"])
    assert list(sessions.columns) == [
        "user_id",
        "start_ts",
        "session_id",
        "source",
        "campaign",
        "campaign_name",
        "market",
        "cpc",
    ]
    assert dict(zip(sessions.session_id, sessions.start_ts, strict=True)) == START_TS
    assert sessions.source.tolist() == [
        "Paid Search",
        "Email",
        "Paid Search",
        "Display",
        "Display",
        "Paid Search",
        "Social",
        "Display",
        "Direct",
    ]
    # Campaign ids are text: zeros kept, '' and blanks are no campaign.
    assert [None if pd.isna(c) else c for c in sessions.campaign] == [
        "00123",
        None,
        "00123",
        "777",
        "777",
        "777",
        "55",
        "55",
        None,
    ]
    assert sessions.market.tolist() == ["DE", "DE", "FR", "FR", "DE", "DE", "PL", "PL", "PL"]
    assert sessions.cpc.tolist() == [0.5, 0.0, 0.7, 0.2, 0.2, 0.2, 0.1, 0.1, 0.0]

    orders = frame(ds, "orders", ["order_id", "user_id"])
    assert list(orders.columns) == ["user_id", "ts", "revenue", "order_id", "market"]
    assert orders.order_id.tolist() == ["c1", "c2", "c3", "c3"]
    assert orders.user_id.tolist() == ["u1", "u2", "u3", "u4"]
    assert orders.ts.tolist() == [
        datetime(2021, 3, 1),
        datetime(2021, 3, 3),
        datetime(2021, 3, 4),
        datetime(2021, 3, 4),
    ]
    assert orders.revenue.tolist() == [10.0, 20.5, 0.0, 7.0]
    assert orders.market.tolist() == ["DE", "FR", "DE", "PL"]

    reference = frame(ds, "conversions_reference", ["order_id"])
    assert list(reference.columns) == ["user_id", "ts", "revenue", "order_id", "market"]
    assert reference.order_id.tolist() == ["c1", "c2", "c4"]
    assert reference.revenue.tolist() == [10.0, 20.0, 3.0]
    assert reference.market.tolist() == ["DE", "FR", "PL"]

    touch = frame(ds, "touchpoints", ["conversion_id", "session_id"])
    assert list(touch.columns) == ["conversion_id", "session_id", "weight"]
    assert list(zip(touch.conversion_id, touch.session_id, touch.weight, strict=True)) == JOURNEYS

    costs = frame(ds, "costs", ["date", "campaign"])
    assert list(costs.columns) == ["date", "source", "cost", "campaign", "clicks", "impressions"]
    got = {
        (d, c): s for d, c, s in zip(costs.date.dt.date, costs.campaign, costs.source, strict=True)
    }
    assert got == COST_SOURCES
    assert costs.cost.tolist() == [5.0, 6.0, 3.0, 2.0, 1.5]
    assert costs.clicks.tolist() == [10, 12, 4, 1, 3]
    assert costs.impressions.tolist() == [100, 130, 40, 9, 30]


def test_quality_counts_the_source_fill_and_the_repeated_conv_id(database: Path) -> None:
    ds = gl.load(str(database))
    found = findings(ds)
    # 4 rows through 3 campaigns (00123 twice, 777, 55); 1 row of campaign 999.
    assert found["cost_source_from_campaign"] == 4
    assert found["cost_campaign_without_sessions"] == 1
    by_check = {f.check: f for f in ds.quality.findings}
    assert "(3 campaigns;" in by_check["cost_source_from_campaign"].message
    orphan = by_check["cost_campaign_without_sessions"]
    assert orphan.message.startswith("1 of 5 cost rows (20.0%)")
    assert "(1 campaign)" in orphan.message
    assert [e["campaign"] for e in orphan.examples] == ["999"]
    # Reported once: not again as a source no session comes from.
    assert "cost_source_without_sessions" not in found
    # c3 twice in conversions (two rows by the schema's key): kept and reported.
    assert found["duplicate_key_kept"] == 1  # the row beyond the first
    assert ds.quality.table_counts("orders").excluded == 0


def test_the_mapping_shows_where_each_column_came_from(database: Path) -> None:
    ds = gl.load(str(database))
    sessions = ds.quality.table_counts("sessions").mapping
    assert sessions["start_ts"] == "event_date + event_time"
    assert sessions["source"] == "channel_name"
    assert ds.quality.table_counts("costs").mapping["source"] == "(from sessions by campaign)"
    assert ds.quality.table_counts("touchpoints").mapping["weight"] == "ihc"


def test_impressions_only_when_the_column_exists(tmp_path: Path) -> None:
    ds = gl.load(str(write_db(tmp_path / "c.db", impressions=False)))
    assert "impressions" not in ds.tables["costs"].columns
    assert "clicks" in ds.tables["costs"].columns


def test_absent_tables_are_not_loaded(tmp_path: Path) -> None:
    db = write_db(
        tmp_path / "c.sqlite", skip=("conversions_backend", "attribution_customer_journey")
    )
    ds = gl.load(str(db))
    assert set(ds.tables) == {"sessions", "orders", "costs"}


def test_empty_tables_are_left_out(tmp_path: Path) -> None:
    db = write_db(tmp_path / "c.sqlite")
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM conversions_backend")
    ds = gl.load(str(db))
    assert "conversions_reference" not in ds.tables


def test_costs_without_sessions_all_get_no_sessions(tmp_path: Path) -> None:
    db = write_db(tmp_path / "c.sqlite", skip=("session_sources", "attribution_customer_journey"))
    ds = gl.load(str(db))
    assert set(ds.tables["costs"].source.to_pyarrow().to_pylist()) == {"(no sessions)"}
    orphan = next(f for f in ds.quality.findings if f.check == "cost_campaign_without_sessions")
    assert orphan.rows == 5
    assert "no sessions table was loaded" in orphan.message
    assert "(4 campaigns)" in orphan.message


def test_the_documented_toml_gives_the_same_tables(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "data.md").read_text()
    section = docs.split("## Company X database", 1)[1]
    toml = re.search(r"```toml\n(.*?)```", section, re.S)
    assert toml is not None
    db = write_db(tmp_path / "challenge.sqlite")
    zip_of(db, tmp_path / "challenge.zip")
    (tmp_path / "growthlens.toml").write_text(toml.group(1))
    from_toml = gl.load(str(tmp_path / "growthlens.toml"))
    preset = gl.load(str(tmp_path / "challenge.zip"))
    assert set(from_toml.tables) == set(preset.tables)
    for name, table in preset.tables.items():
        order = list(table.columns)
        a = frame(preset, name, order)
        b = frame(from_toml, name, order)
        pd.testing.assert_frame_equal(a, b)
    assert findings(from_toml) == findings(preset)


def test_preset_mapping_is_a_plain_config() -> None:
    raw = preset_mapping("c.zip", ["conversions", "session_sources", "other"], member="c.db")
    assert raw == {
        "sessions": {
            "path": "c.zip",
            "member": "c.db",
            "table": "session_sources",
            "columns": {"source": "channel_name", "campaign": "campaign_id"},
            "date_time": {"start_ts": ["event_date", "event_time"]},
        },
        "orders": {
            "path": "c.zip",
            "member": "c.db",
            "table": "conversions",
            "columns": {"order_id": "conv_id", "ts": "conv_date"},
            "duplicates": "keep",
        },
    }
    assert preset_mapping("c.db", ["orders", "sessions", "misc"]) == {
        "sessions": {"path": "c.db", "table": "sessions"},
        "orders": {"path": "c.db", "table": "orders"},
    }


def test_a_broken_time_is_counted(tmp_path: Path) -> None:
    broken = [*SESSIONS]
    broken[3] = ("s4", "u2", "2021-03-03", "25:61:00", *SESSIONS[3][4:])
    db = write_db(tmp_path / "c.sqlite", sessions=broken)
    with pytest.raises(DataError) as err:
        gl.load(str(db))
    text = str(err.value)
    assert "1 of 9 values cannot be read as a timestamp" in text
    assert "event_date + event_time" in text
    assert "2021-03-03 25:61:00" in text


def test_a_zipped_database_is_extracted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = zip_of(write_db(tmp_path / "challenge.sqlite"), tmp_path / "challenge.zip")
    calls: list[str] = []
    copy = readers.copy_capped

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["what"])
        return copy(*args, **kwargs)

    monkeypatch.setattr(readers, "copy_capped", counted)
    ds = gl.load(str(archive))
    assert len(ds.tables) == 5
    assert calls == ["the member 'challenge.sqlite'"]


def test_a_zipped_database_obeys_the_decompression_cap(tmp_path: Path) -> None:
    archive = zip_of(write_db(tmp_path / "challenge.sqlite"), tmp_path / "challenge.zip")
    with pytest.raises(DataError, match="max_decompressed_bytes"):
        gl.load(str(archive), max_decompressed_bytes=4096)
    assert not list(tmp_path.glob("**/*.partial"))


def test_a_zip_with_two_databases_is_refused(tmp_path: Path) -> None:
    db = write_db(tmp_path / "challenge.sqlite")
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(db, "a.sqlite")
        z.write(db, "b.db")
    with pytest.raises(DataError, match="several databases") as err:
        gl.load(str(archive))
    assert "a.sqlite, b.db" in str(err.value)


def test_a_zip_without_a_database_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "csv.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("orders.csv", "user_id,ts,revenue\n1,2021-03-01,2\n")
    with pytest.raises(DataError, match="no SQLite database"):
        gl.load(str(archive))


def test_a_zip_with_a_traversal_path_is_refused(tmp_path: Path) -> None:
    db = write_db(tmp_path / "challenge.sqlite")
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(db, "../challenge.sqlite")
    with pytest.raises(DataError, match="unsafe path"):
        gl.load(str(archive))
    assert not (tmp_path.parent / "challenge.sqlite").exists()


def test_an_unknown_database_is_a_config_error(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE conversions(a TEXT)")
        con.execute("CREATE TABLE misc(b TEXT)")
    with pytest.raises(ConfigError, match=r"no known layout .*\(conversions, misc\)"):
        gl.load(str(db))


def test_a_database_of_canonical_tables_loads(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE orders(user_id TEXT, ts TEXT, revenue REAL)")
        con.execute("INSERT INTO orders VALUES ('u1', '2021-03-01 10:00:00', 5.0)")
    ds = gl.load(str(db))
    assert set(ds.tables) == {"orders"}
    assert ds.quality.table_counts("orders").accepted == 1


# -- the date_time key on any source -------------------------------------------------


def test_date_time_from_csv_text(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text(
        "uid,day,clock,note\n"
        "1,2021-03-01,09:05,a\n"
        "2,2021-03-02,23:59:59,b\n"
        "3,2021-03-03,,c\n"  # no time: no timestamp, counted
    )
    ds = gl.load(
        sessions={"path": str(path), "date_time": {"start_ts": ["day", "clock"]}},
    )
    table = frame(ds, "sessions", ["user_id"])
    assert table.start_ts.tolist() == [datetime(2021, 3, 1, 9, 5), datetime(2021, 3, 2, 23, 59, 59)]
    assert list(table.columns) == ["user_id", "start_ts", "note"]
    counts = ds.quality.table_counts("sessions")
    assert counts.excluded_by_reason == {"missing_start_ts": 1}


def test_date_time_with_a_stated_format(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("uid,day,clock\n1,01.03.2021,9.05\n2,02.03.2021,23.59\n")
    ds = gl.load(
        sessions={
            "path": str(path),
            "date_time": {"start_ts": ["day", "clock"]},
            "timestamp_format": "%d.%m.%Y %H.%M",
        },
    )
    table = frame(ds, "sessions", ["user_id"])
    assert table.start_ts.tolist() == [datetime(2021, 3, 1, 9, 5), datetime(2021, 3, 2, 23, 59)]


def test_date_time_from_typed_dates_and_times(tmp_path: Path) -> None:
    visits = pd.DataFrame(
        {
            "uid": ["1", "2"],
            "day": [date(2021, 3, 1), date(2021, 3, 2)],
            "clock": [time(9, 5, 7), time(0, 0, 1)],
        }
    )
    path = tmp_path / "visits.parquet"
    pq.write_table(pa.Table.from_pandas(visits), path)
    assert pq.read_schema(path).field("clock").type == pa.time64("us")
    ds = gl.load(sessions={"path": str(path), "date_time": {"start_ts": ["day", "clock"]}})
    table = frame(ds, "sessions", ["user_id"])
    assert table.start_ts.tolist() == [datetime(2021, 3, 1, 9, 5, 7), datetime(2021, 3, 2, 0, 0, 1)]


def test_date_time_a_mapped_column_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("uid,day,clock,revenue\n1,2021-03-01,09:00:00,5\n")
    ds = gl.load(
        orders={
            "path": str(path),
            "date_time": {"ts": ["day", "clock"]},
            "columns": {"order_id": "day"},
        }
    )
    table = ds.tables["orders"].to_pandas()
    assert table.ts.tolist() == [datetime(2021, 3, 1, 9)]
    assert table.order_id.tolist() == ["2021-03-01"]
    assert "clock" not in table.columns


def test_date_time_missing_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("uid,day,clock\n1,2021-03-01,09:05\n")
    with pytest.raises(DataError, match="'hour'") as err:
        gl.load(sessions={"path": str(path), "date_time": {"start_ts": ["day", "hour"]}})
    assert "uid, day, clock" in str(err.value)


def test_date_time_of_a_wrong_type_names_the_column(tmp_path: Path) -> None:
    visits = pd.DataFrame({"uid": ["1"], "day": [date(2021, 3, 1)], "clock": [905]})
    path = tmp_path / "visits.parquet"
    visits.to_parquet(path)
    with pytest.raises(DataError, match="time column of date_time") as err:
        gl.load(sessions={"path": str(path), "date_time": {"start_ts": ["day", "clock"]}})
    assert err.value.column == "clock"


@pytest.mark.parametrize(
    ("date_time", "words"),
    [
        ({"revenue": ["day", "clock"]}, "'revenue' is not a timestamp column of sessions"),
        ({"start_ts": ["day"]}, "is not two column names"),
        ({"start_ts": ["day", "day"]}, "names one column twice"),
    ],
)
def test_date_time_bad_keys_are_config_errors(
    tmp_path: Path, date_time: dict[str, Any], words: str
) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("uid,day,clock\n1,2021-03-01,09:05\n")
    with pytest.raises(ConfigError, match=re.escape(words)):
        gl.load(sessions={"path": str(path), "date_time": date_time})


def test_date_time_and_columns_for_one_target_is_a_config_error(tmp_path: Path) -> None:
    toml = tmp_path / "growthlens.toml"
    toml.write_text(
        '[sessions]\npath = "v.csv"\ncolumns = { start_ts = "day" }\n'
        'date_time = { start_ts = ["day", "clock"] }\n'
    )
    with pytest.raises(ConfigError, match="start_ts is given both date_time and a column"):
        gl.load(str(toml))


# -- costs by campaign from any source --------------------------------------------------


def test_csv_costs_by_campaign_take_their_sessions_source(tmp_path: Path) -> None:
    visits = tmp_path / "visits.csv"
    visits.write_text(
        "uid,start_ts,source,campaign\n"
        "1,2021-03-01 10:00:00,ads,007\n"
        "2,2021-03-01 11:00:00,ads,007\n"
        "3,2021-03-01 12:00:00,mail,007\n"
        "4,2021-03-02 12:00:00,mail, \n"
    )
    spend = tmp_path / "spend.csv"
    spend.write_text("date,campaign,cost\n2021-03-01,007,4.0\n2021-03-02,7,1.0\n2021-03-02,,2.0\n")
    ds = gl.load(sessions=str(visits), costs=str(spend))
    costs = frame(ds, "costs", ["date", "cost"])
    assert [None if pd.isna(c) else c for c in costs.campaign] == ["007", "7", None]
    # '007' is not campaign 7; a row without a campaign has no sessions either.
    assert costs.source.tolist() == ["ads", "(no sessions)", "(no sessions)"]
    sessions = frame(ds, "sessions", ["user_id"])
    assert [None if pd.isna(c) else c for c in sessions.campaign] == ["007", "007", "007", None]
    orphan = next(f for f in ds.quality.findings if f.check == "cost_campaign_without_sessions")
    assert orphan.rows == 2
    assert "(1 campaign, 1 row without a campaign)" in orphan.message


def test_costs_with_a_source_column_are_left_as_they_are(tmp_path: Path) -> None:
    visits = tmp_path / "visits.csv"
    visits.write_text("uid,start_ts,source,campaign\n1,2021-03-01 10:00:00,ads,9\n")
    spend = tmp_path / "spend.csv"
    spend.write_text("date,source,campaign,cost\n2021-03-01,mail,9,4.0\n")
    ds = gl.load(sessions=str(visits), costs=str(spend))
    assert ds.tables["costs"].source.to_pyarrow().to_pylist() == ["mail"]
    assert "cost_source_from_campaign" not in findings(ds)


def test_costs_without_source_or_campaign_keep_the_usual_error(tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text("date,cost\n2021-03-01,4.0\n")
    with pytest.raises(DataError, match="required column 'source' of table 'costs' not found"):
        gl.load(costs=str(spend))


def test_cli_check_loads_a_zipped_database(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from growthlens.cli import app

    archive = zip_of(write_db(tmp_path / "challenge.sqlite"), tmp_path / "challenge.zip")
    result = CliRunner().invoke(
        app, ["check", "--config", str(archive)], env={"COLUMNS": "250"}, terminal_width=250
    )
    assert result.exit_code in (0, 1), result.output
    for table in ("sessions", "orders", "costs", "touchpoints", "conversions_reference"):
        assert table in result.output
    assert "cost_campaign_without_sessions" in result.output
