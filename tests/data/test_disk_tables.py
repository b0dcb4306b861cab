"""Tables too large for the engine's memory are stored on disk: the same Dataset either way.

``engine.DiskTables`` writes a table the load stores to a database file of the load's own
when it would take more than ``DISK_SHARE`` of DuckDB's memory limit. Setting the share to 0
sends every stored table there; each test compares with the load that keeps them in memory.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

import growthlens as gl
from growthlens import engine
from growthlens.demo import write_demo
from growthlens.engine import DiskTables, connect, memory_limit_bytes, parse_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.7 GiB", int(2.7 * 2**30)),
        ("476.8 MiB", int(476.8 * 2**20)),
        ("3GB", 3 * 10**9),
        ("500 MB", 500 * 10**6),
        ("1024", 1024),
        ("unlimited", None),
        ("-1", None),
        ("3 XB", None),
    ],
)
def test_parse_bytes(text: str, expected: int | None) -> None:
    assert parse_bytes(text) == expected


def test_memory_limit_read_from_duckdb_only() -> None:
    limit = memory_limit_bytes(connect("duckdb", memory_limit="3GB"))
    assert limit is not None and 2.5e9 < limit <= 3e9  # DuckDB keeps 3 GB as 2.7 GiB
    assert memory_limit_bytes(ibis.sqlite.connect()) is None


def test_wanted_compares_the_estimate_with_the_limit(tmp_path: Path) -> None:
    con = connect("duckdb", memory_limit="100MB")
    disk = DiskTables(con, tmp_path)
    # 8 + 16 bytes a row: 1M rows are 24 MB, under half of 100 MB; 3M rows are 72 MB.
    small = con.create_table("small", pd.DataFrame({"id": range(10**6), "label": "x"}))
    large = con.create_table("large", pd.DataFrame({"id": range(3 * 10**6), "label": "x"}))
    assert not disk.wanted(small)
    assert disk.wanted(large)
    assert disk.wanted(small, rows_of=large)  # counted on a table with the same rows
    assert not DiskTables(ibis.sqlite.connect(), tmp_path).wanted(ibis.memtable({"a": [1]}))


def test_store_drop_and_close(tmp_path: Path) -> None:
    con = connect("duckdb")
    disk = DiskTables(con, tmp_path)
    stored = disk.store(ibis.memtable({"id": range(10)}))
    assert disk.holds(stored) and not disk.holds(stored.filter(stored.id > 3))
    assert stored.count().to_pyarrow().as_py() == 10
    assert len(list(tmp_path.glob("*.duckdb"))) == 1
    disk.drop(stored)
    assert not disk.holds(stored)
    disk.close()
    names = con.raw_sql("SELECT database_name FROM duckdb_databases()").fetchall()
    assert not [n for (n,) in names if n.startswith("growthlens_store")]


def _compression(con: Any, qualified: str) -> dict[str, set[str]]:
    """Column → the compressions of its data segments, from DuckDB's storage info."""
    rows = con.raw_sql(
        "SELECT column_name, compression FROM pragma_storage_info("
        f"'{qualified}') WHERE segment_type NOT IN ('VALIDITY')"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for column, compression in rows:
        out.setdefault(column, set()).add(compression)
    return out


def test_text_ids_stored_uncompressed(tmp_path: Path) -> None:
    """Ids (``*_id`` text) are written plain, other text compressed; every value kept."""
    con = connect("duckdb")
    disk = DiskTables(con, tmp_path)
    n = 250_000  # two full row groups: DuckDB compresses a row group when it is full
    frame = pd.DataFrame(
        {
            "user_id": [None if i % 997 == 0 else f"u{i:016x}é" for i in range(n)],
            "order_id": [f"o-{i}" for i in range(n)],
            "device": ["desktop", "touch"] * (n // 2),
            "source_id": range(n),  # an id, but not text: compressed as numbers are
            "ts": pd.date_range("2024-01-01", periods=n, freq="min"),
        }
    )
    stored = disk.store(ibis.memtable(frame))
    kinds = _compression(con, stored.get_name())  # <alias>.main.<name>
    assert kinds["user_id"] <= {"Uncompressed", "Constant"}
    assert kinds["order_id"] <= {"Uncompressed", "Constant"}
    assert not kinds["device"] <= {"Uncompressed", "Constant"}
    assert stored.schema() == con.create_table("in_memory", frame).schema()  # same types
    back = stored.to_pandas().sort_values("source_id", ignore_index=True)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_failed_plain_write_leaves_no_table(tmp_path: Path) -> None:
    """A row that fails while the plain table fills: the error surfaces, no table is left."""
    con = connect("duckdb")
    disk = DiskTables(con, tmp_path)
    t = ibis.memtable({"user_id": ["a", "b"], "amount": ["1", "x"]})
    with pytest.raises(Exception, match="'x'"):  # DuckDB names the value it cannot convert
        disk.store(t.mutate(amount=t.amount.cast("int64")))
    tables = con.raw_sql(
        f"SELECT count(*) FROM duckdb_tables() WHERE database_name = '{disk.alias}'"
    ).fetchall()
    assert tables == [(0,)] and not disk.names


def _results(ds: gl.Dataset) -> dict[str, Any]:
    return {
        "counts": ds.quality.table_counts("sessions"),
        "order_counts": ds.quality.table_counts("orders"),
        "findings": sorted((f.check, f.table, f.rows) for f in ds.quality.findings),
        "activity": gl.activity(ds),
        "retention": gl.retention(ds),
        "ltv": gl.ltv(ds),
        "cac": gl.cac(ds),
        "romi": gl.romi(ds, by="source"),
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Any]]:
    """The demo's files (CSV, so every table is stored) and its results, all in memory."""
    written = write_demo(tmp_path_factory.mktemp("demo"), users=1500, seed=3, months=4)
    files = {"sessions": written["visits"], "orders": written["orders"], "costs": written["costs"]}
    return files, _results(gl.load(**files))


def _same(left: dict[str, Any], right: dict[str, Any]) -> None:
    for key, value in left.items():
        other = right[key]
        if isinstance(value, gl.Result):
            for table in ["main", *value.tables]:
                pd.testing.assert_frame_equal(
                    value.frame(table), other.frame(table), rtol=1e-9, obj=key
                )
            mine, theirs = value.summary.values_dict(), other.summary.values_dict()
            assert mine.keys() == theirs.keys()
            for name, figure in mine.items():
                if isinstance(figure, float):  # sums in another order: to 1e-9
                    assert theirs[name] == pytest.approx(figure, rel=1e-9, nan_ok=True), name
                else:
                    assert figure == theirs[name], name
        else:
            assert value == other, key


def test_load_on_disk_same_as_in_memory(
    demo: tuple[dict[str, Path], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo with every stored table on disk."""
    files, in_memory = demo
    monkeypatch.setattr(engine, "DISK_SHARE", 0.0)
    con = connect("duckdb")
    ds = gl.load(**files, backend=con)
    attached = con.raw_sql("SELECT database_name, path FROM duckdb_databases()").fetchall()
    stores = [(n, p) for n, p in attached if n.startswith("growthlens_store")]
    assert len(stores) == 1 and Path(stores[0][1]).exists()
    _same(in_memory, _results(ds))
    # The Dataset gone, its database file is detached and removed with the work folder.
    del ds
    gc.collect()
    names = [n for (n,) in con.raw_sql("SELECT database_name FROM duckdb_databases()").fetchall()]
    assert stores[0][0] not in names
    assert not Path(stores[0][1]).exists()


def test_text_ids_on_disk_same_as_in_memory(
    demo: tuple[dict[str, Path], dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo with its user ids as text ("u…", stored plain on disk) against memory."""
    files, _ = demo
    text = {}
    for name, path in files.items():
        frame = pd.read_csv(path, dtype={"Uid": str})
        if "Uid" in frame.columns:
            frame["Uid"] = "u" + frame["Uid"]
        text[name] = tmp_path / path.name
        frame.to_csv(text[name], index=False)
    in_memory = _results(gl.load(**text))
    monkeypatch.setattr(engine, "DISK_SHARE", 0.0)
    con = connect("duckdb")
    ds = gl.load(**text, backend=con)
    assert ds.table("sessions").schema()["user_id"].is_string()
    stored = con.raw_sql(
        "SELECT database_name, table_name FROM duckdb_tables() "
        "WHERE database_name LIKE 'growthlens_store%'"
    ).fetchall()
    kinds = set()
    for database, table in stored:
        kinds |= _compression(con, f"{database}.main.{table}").get("user_id", set())
    assert stored and kinds == {"Uncompressed"}
    _same(in_memory, _results(ds))


def test_repeated_keys_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated session ids: the resolved copy is stored, the first one dropped."""
    rows = [
        {
            "user_id": f"u{i % 7}",
            "start_ts": pd.Timestamp(2024, 1, 1 + i % 20, 10, i % 60),
            "end_ts": pd.Timestamp(2024, 1, 1 + i % 20, 11, 0),
            "session_id": i % 90,  # ids 0 … 9 twice
            "source": "ads",
            "device": "touch",
        }
        for i in range(100)
    ]
    path = tmp_path / "sessions.parquet"
    pd.DataFrame(rows).to_parquet(path)
    expected = gl.load(sessions=path, materialize=True)
    monkeypatch.setattr(engine, "DISK_SHARE", 0.0)
    con = connect("duckdb")
    got = gl.load(sessions=path, materialize=True, backend=con)
    assert got.quality.table_counts("sessions") == expected.quality.table_counts("sessions")
    assert got.quality.table_counts("sessions").excluded_by_reason == {"duplicate_key": 10}
    left = expected.table("sessions").to_pandas().sort_values("session_id", ignore_index=True)
    right = got.table("sessions").to_pandas().sort_values("session_id", ignore_index=True)
    pd.testing.assert_frame_equal(left, right)
    tables = con.raw_sql(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name LIKE 'growthlens_store%'"
    ).fetchall()
    assert tables == [(1,)]  # the resolved sessions only


def test_failing_disk_leaves_tables_in_memory(
    demo: tuple[dict[str, Path], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that cannot be written (full, read-only) costs nothing but the memory."""
    files, in_memory = demo
    monkeypatch.setattr(engine, "DISK_SHARE", 0.0)

    def full(self: DiskTables, table: Any) -> Any:
        raise OSError("No space left on device")

    monkeypatch.setattr(DiskTables, "store", full)
    _same(in_memory, _results(gl.load(**files)))
