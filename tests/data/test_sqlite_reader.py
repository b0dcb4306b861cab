"""The SQLite readers (ADBC's driver, the standard library) and keyed tables stored at load.

Both readers must give the same values, types and NULLs on any table: SQLite lets one
column mix storage classes, and the ADBC driver types a column from its first batch, so
the cases below put NULLs first (a first batch of NULLs alone at batch size 2), mix
integers, reals, text and blobs, and hold integers at the edges of int64 and text ids.
Every expected value is written out by hand.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl
from growthlens.data import readers
from growthlens.data.config import SourceSpec
from growthlens.demo.challenge import write_challenge_db
from growthlens.engine import connect
from growthlens.errors import DataError

READERS = ("adbc", "sqlite3")

# k: the order; n: integers after NULLs; big: int64's extremes; mixed: an integer, a
# real and text (text wins); num: integers and reals (float64); blob: a blob and text
# (text); nulls: NULL only (text); user_id: an id holding text with zeros, an integral
# real, an integer and a real beyond int64 (ids are always text).
COLUMNS = "k INTEGER, n INTEGER, big INTEGER, mixed, num NUMERIC, blob, nulls TEXT, user_id"
ROWS: list[tuple[Any, ...]] = [
    (0, None, None, None, None, None, None, None),
    (1, None, 2**63 - 1, 7, 1, b"ab", None, "00123"),
    (2, 5, -(2**63), 2.5, 2.5, "t", None, 12.0),
    (3, -1, 0, "x", None, None, None, 42),
    (4, 2**53 + 1, None, None, 3, None, None, 1e20),
]
EXPECTED_TYPES = {
    "k": pa.int64(),
    "n": pa.int64(),
    "big": pa.int64(),
    "mixed": pa.string(),
    "num": pa.float64(),
    "blob": pa.string(),
    "nulls": pa.string(),
    "user_id": pa.string(),
}
EXPECTED = {
    "k": [0, 1, 2, 3, 4],
    "n": [None, None, 5, -1, 2**53 + 1],
    "big": [None, 2**63 - 1, -(2**63), 0, None],
    "mixed": [None, "7", "2.5", "x", None],
    "num": [None, 1.0, 2.5, None, 3.0],
    "blob": [None, "ab", "t", None, None],
    "nulls": [None, None, None, None, None],
    # SQLite's own text for a real: 1e20 is beyond int64, so not written as digits.
    "user_id": [None, "00123", "12", "42", "1.0e+20"],
}


def _database(path: Path, columns: str, rows: list[tuple[Any, ...]]) -> Path:
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE t ({columns})")
    marks = ", ".join("?" * len(rows[0]))
    db.executemany(f"INSERT INTO t VALUES ({marks})", rows)
    db.commit()
    db.close()
    return path


def _read(path: Path, tmp_path: Path, ids: set[str]) -> pa.Table:
    raw = readers.read_spec(
        connect(),
        SourceSpec(path=str(path), table="t"),
        base_dir=tmp_path,
        id_headers=lambda headers: {h: "VARCHAR" for h in headers if h in ids},
        workdir=tmp_path,
    )
    table: pa.Table = raw.table.order_by("k").to_pyarrow()
    return table


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("batch", [2, 100_000])
def test_values_types_and_nulls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str, batch: int
) -> None:
    monkeypatch.setattr(readers, "_SQLITE_READER", reader)
    monkeypatch.setattr(readers, "_SQLITE_BATCH", batch)
    path = _database(tmp_path / "mixed.db", COLUMNS, ROWS)
    table = _read(path, tmp_path, {"user_id"})
    assert dict(zip(table.column_names, table.schema.types, strict=True)) == EXPECTED_TYPES
    assert table.to_pydict() == EXPECTED


def test_plan_types_from_stored_classes(tmp_path: Path) -> None:
    path = _database(tmp_path / "mixed.db", COLUMNS, ROWS)
    db = sqlite3.connect(path)
    columns = [r[1] for r in db.execute("PRAGMA table_info(t)")]
    plan = readers._sqlite_plan(db, "t", columns, {"user_id"})
    db.close()
    assert plan.rows == 5
    assert dict(zip(plan.schema.names, plan.schema.types, strict=True)) == EXPECTED_TYPES
    # Only k has no NULL.
    assert dict(zip(columns, plan.nullable, strict=True)) == {c: c != "k" for c in columns}


@pytest.mark.parametrize("reader", READERS)
def test_text_that_is_not_utf8_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(readers, "_SQLITE_READER", reader)
    path = _database(tmp_path / "bad.db", "k INTEGER, b", [(1, b"\x00\xff")])
    with pytest.raises(DataError, match="cannot read the file as sqlite"):
        _read(path, tmp_path, set())


@pytest.mark.parametrize("reader", READERS)
def test_empty_table_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(readers, "_SQLITE_READER", reader)
    db = sqlite3.connect(tmp_path / "empty.db")
    db.execute("CREATE TABLE t (k INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(DataError, match="has no rows"):
        _read(tmp_path / "empty.db", tmp_path, set())


def _accounting(ds: gl.Dataset) -> tuple[Any, ...]:
    counts = sorted(
        (c.table, c.loaded, c.accepted, tuple(sorted(c.excluded_by_reason.items())))
        for c in ds.quality.counts
    )
    findings = sorted((f.table, f.check, f.rows) for f in ds.quality.findings)
    return tuple(counts), tuple(findings)


def test_company_x_alike_with_either_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole preset: row accounting, findings and every loaded value agree."""
    db = tmp_path / "challenge.db"
    truth = write_challenge_db(db, conversions=300, seed=3)
    loaded = {}
    for reader in READERS:
        monkeypatch.setattr(readers, "_SQLITE_READER", reader)
        ds = gl.load(db)
        tables = {name: ds.table(name).to_pyarrow() for name in ("sessions", "orders")}
        loaded[reader] = (_accounting(ds), tables)
    assert loaded["adbc"][0] == loaded["sqlite3"][0]
    for name in ("sessions", "orders"):
        a, b = loaded["adbc"][1][name], loaded["sqlite3"][1][name]
        key = [(c, "ascending") for c in a.column_names]
        assert a.sort_by(key).equals(b.sort_by(key)), name
    sessions = {c[0]: c[1] for c in loaded["adbc"][0][0]}["sessions"]
    assert sessions == truth.tables["session_sources"]


# ---- keyed tables stored once at load ---------------------------------------------------


def _sessions_parquet(path: Path, *, keyed: bool) -> Path:
    rows = {
        "user_id": ["u1", "u1", "u2", "u3"],
        "start_ts": [
            "2024-01-01 10:00:00",
            "2024-01-01 11:00:00",
            "2024-01-02 09:00:00",
            "2024-01-03 09:00:00",
        ],
        "source": ["ads", "seo", "ads", "ads"],
    }
    if keyed:
        # s1 twice: the second copy is a duplicate key.
        rows["session_id"] = ["s1", "s1", "s2", "s3"]
    pq.write_table(pa.table(rows), path)
    return path


def _ranks(table: ibis.Table) -> bool:
    """Whether scanning the table ranks rows (the duplicate policy's window)."""
    return "ROW_NUMBER" in str(ibis.to_sql(table)).upper()


def test_keyed_parquet_is_stored_once(tmp_path: Path) -> None:
    path = _sessions_parquet(tmp_path / "sessions.parquet", keyed=True)
    stored = gl.load(sessions=path)
    lazy = gl.load(sessions=path, materialize=False)
    assert not _ranks(stored.table("sessions"))
    assert _ranks(lazy.table("sessions"))
    assert _accounting(stored) == _accounting(lazy)
    counts = stored.quality.table_counts("sessions")
    assert (counts.loaded, counts.accepted, dict(counts.excluded_by_reason)) == (
        4,
        3,
        {"duplicate_key": 1},
    )
    got = sorted(stored.table("sessions").session_id.execute().tolist())
    assert got == ["s1", "s2", "s3"]


def test_unkeyed_parquet_stays_lazy(tmp_path: Path) -> None:
    path = _sessions_parquet(tmp_path / "sessions.parquet", keyed=False)
    ds = gl.load(sessions=path)
    sql = str(ibis.to_sql(ds.table("sessions"))).lower()
    assert "parquet" in sql
    assert "cache" not in sql
