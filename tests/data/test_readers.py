"""Every loader format reads the same three orders the same way."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zipfile
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl

from .conftest import ORDERS

BIG = 18446744073709551615  # 2**64 - 1: wraps to -1 if anything passes through int64
ROWS = [
    {"Buy Ts": "2017-06-01 10:03:00", "Revenue": 5.5, "Uid": str(BIG)},
    {"Buy Ts": "2017-06-02 12:00:00", "Revenue": 0.0, "Uid": "9223372036854775808"},
    {"Buy Ts": "2017-06-03 12:00:00", "Revenue": 2.25, "Uid": "42"},
]


def check_orders(ds: gl.Dataset) -> None:
    """The three orders: ids intact, revenue 7.75, timestamps as written."""
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted, counts.excluded) == (3, 3, 0)
    got = ds.table("orders").to_pyarrow().to_pylist()
    assert sorted(str(r["user_id"]) for r in got) == sorted([str(BIG), "9223372036854775808", "42"])
    assert sum(r["revenue"] for r in got) == pytest.approx(7.75)
    assert min(r["ts"] for r in got) == pd.Timestamp("2017-06-01 10:03:00")
    assert ds.table("orders").user_id.type().is_unsigned_integer()


def arrow_orders() -> pa.Table:
    return pa.table(
        {
            "Buy Ts": pa.array(pd.to_datetime([r["Buy Ts"] for r in ROWS])),
            "Revenue": [r["Revenue"] for r in ROWS],
            "Uid": pa.array([int(r["Uid"]) for r in ROWS], type=pa.uint64()),
        }
    )


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    check_orders(gl.load(orders=path))


def test_csv_gz(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(ORDERS.encode()))
    check_orders(gl.load(orders=path))


def test_zip_with_csv(tmp_path: Path) -> None:
    path = tmp_path / "orders.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/orders.csv", ORDERS)
        archive.writestr("export/readme.md", "not data")
    check_orders(gl.load(orders=path))


def test_zip_member_chosen_by_name(tmp_path: Path) -> None:
    path = tmp_path / "both.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("orders.csv", ORDERS)
        archive.writestr("costs.csv", "source_id,dt,costs\n1,2017-06-01,1\n")
    check_orders(gl.load(orders={"path": str(path), "member": "orders.csv"}))
    with pytest.raises(gl.DataError, match="member") as err:
        gl.load(orders=path)
    # The fix names a real member and works for the config, Python and the CLI alike.
    fix = err.value.fix or ""
    assert 'path = "both.zip" and member = "orders.csv"' in fix
    assert '{"path": "both.zip", "member": "orders.csv"}' in fix
    assert "command line" in fix


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(arrow_orders(), path)
    check_orders(gl.load(orders=path))


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    # Ids as JSON strings: JSON numbers above 2**53 are lossy in most writers.
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    check_orders(gl.load(orders=path))


def make_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute('CREATE TABLE orders ("Buy Ts" TEXT, "Revenue" REAL, "Uid" TEXT)')
    db.executemany("INSERT INTO orders VALUES (?, ?, ?)", [tuple(r.values()) for r in ROWS])
    db.execute("CREATE TABLE other (x INTEGER)")
    db.commit()
    db.close()


def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite"
    make_sqlite(path)
    check_orders(gl.load(orders={"path": str(path), "table": "orders"}))
    with pytest.raises(gl.DataError, match="several tables") as err:
        gl.load(orders=path)
    assert "orders, other" in str(err.value)
    assert 'table = "<name>"' in str(err.value)


def test_zipped_sqlite(tmp_path: Path) -> None:
    db_path = tmp_path / "shop.db"
    make_sqlite(db_path)
    path = tmp_path / "shop.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(db_path, "shop.db")
    # `table` names the table inside the zipped database, not a zip member.
    check_orders(gl.load(orders={"path": str(path), "table": "orders"}))


def test_sqlite_mixed_storage_classes(tmp_path: Path) -> None:
    """SQLite lets one column mix integers and text; the column becomes text, not an error."""
    path = tmp_path / "mixed.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE orders (ts TEXT, revenue REAL, user_id, note)")
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?)",
        [("2017-06-01 10:00:00", 1.0, 7, 1), ("2017-06-02 10:00:00", 2, "u8", "text")],
    )
    db.commit()
    db.close()
    ds = gl.load(orders=path)
    rows = ds.table("orders").order_by("ts").to_pyarrow().to_pylist()
    assert [r["user_id"] for r in rows] == ["7", "u8"]
    assert [r["note"] for r in rows] == ["1", "text"]
    assert [r["revenue"] for r in rows] == [1.0, 2.0]


def test_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    db = duckdb.connect(str(path))
    db.register("src", arrow_orders())
    db.sql("CREATE TABLE orders AS SELECT * FROM src")
    db.close()
    check_orders(gl.load(orders=path))


def test_pandas_frame() -> None:
    frame = pd.DataFrame(ROWS)
    frame["Buy Ts"] = pd.to_datetime(frame["Buy Ts"])
    check_orders(gl.load(orders=frame))


def test_polars_frame() -> None:
    frame = pl.from_arrow(arrow_orders())
    check_orders(gl.load(orders=frame))


def test_arrow_table() -> None:
    check_orders(gl.load(orders=arrow_orders()))


def test_ibis_table() -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("orders_src", arrow_orders())
    check_orders(gl.load(orders=table, backend=con))


def test_tsv_and_semicolon_are_detected(tmp_path: Path) -> None:
    """`;`-separated exports load as they are: DuckDB's sniffer finds the delimiter."""
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS.replace(",", ";"))
    check_orders(gl.load(orders=path))
    tsv = tmp_path / "orders.tsv"
    tsv.write_text(ORDERS.replace(",", "\t"))
    check_orders(gl.load(orders=tsv))


def test_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts;Revenue;Uid\n2017-06-01 10:00:00;1,5;1\n2017-06-02 10:00:00;2,25;2\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    assert 'decimal = ","' in str(err.value)
    assert "'1,5'" in str(err.value)
    ds = gl.load(orders={"path": str(path), "decimal": ","})
    assert ds.table("orders").revenue.sum().to_pyarrow().as_py() == pytest.approx(3.75)


def test_text_after_the_type_sniffer_sample(tmp_path: Path) -> None:
    """A bad value far down the file (past DuckDB's sniff sample) is a DataError, not a crash."""
    lines = [f"2017-06-01 10:00:00,{i}.5,{i}" for i in range(30_000)]
    lines.append("2017-06-01 10:00:00,n/a,99999")
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Revenue,Uid\n" + "\n".join(lines) + "\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = str(err.value)
    assert "orders.csv" in text and "'Revenue'" in text and "'n/a'" in text
    assert "1 of 30,001" in text
