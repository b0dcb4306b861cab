"""Spark-sized inputs on Spark: a folder of Parquet parts with uint64 ids, read by Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl
from growthlens.data.readers import _read_parquet_files
from tests.oracle.random_data import random_frames
from tests.test_parity_spark import _frames, _normalised, load_counts

pytestmark = pytest.mark.spark


def _uint64_parts(
    tmp_path: Path, *, partition_by: str | None = None, unit: str = "us"
) -> dict[str, Path]:
    """Sessions and orders as folders of Parquet parts (ids uint64 above 2**63), as Spark
    writes them: part files, ``.crc`` checksums and ``_SUCCESS``; times in ``unit``
    (Spark writes microseconds, pandas nanoseconds)."""
    frames = _frames(4)
    known = pd.concat([frames["sessions"].user_id, frames["orders"].user_id]).dropna()
    big = {u: 2**64 - 1 - 7 * i for i, u in enumerate(sorted(known.unique()))}
    folders = {}
    for name in ("sessions", "orders"):
        frame = frames[name]
        folder = tmp_path / name
        groups = (
            frame.groupby(frame[partition_by].fillna("__HIVE_DEFAULT_PARTITION__"))
            if partition_by is not None and partition_by in frame
            else [(None, frame)]
        )
        for value, rows in groups:
            where = folder / f"{partition_by}={value}" if value is not None else folder
            where.mkdir(parents=True)
            rows = rows.drop(columns=[partition_by]) if value is not None else rows
            ids = [None if pd.isna(u) else big[u] for u in rows.user_id]
            table = pa.Table.from_pandas(rows.drop(columns="user_id"), preserve_index=False)
            table = table.append_column("user_id", pa.array(ids, pa.uint64()))
            table = pa.table(
                [
                    c.cast(pa.timestamp(unit), safe=False) if pa.types.is_timestamp(c.type) else c
                    for c in table.columns
                ],
                names=table.column_names,
            )
            n = table.num_rows
            for i, start in enumerate(range(0, n, max(1, n // 3 + 1))):
                part = f"part-{i:05d}-0c1e.c000.snappy.parquet"
                pq.write_table(table.slice(start, n // 3 + 1), where / part)
                (where / f".{part}.crc").write_bytes(b"crc")
        (folder / "_SUCCESS").write_bytes(b"")
        folders[name] = folder
    return {**folders, "costs": frames["costs"]}  # type: ignore[dict-item]


def _compare(duck: gl.Dataset, spark: gl.Dataset, by: str | None = None) -> None:
    assert load_counts(duck) == load_counts(spark)
    assert gl.overview(duck).table["users"].tolist() == gl.overview(spark).table["users"].tolist()
    for run in (lambda ds: gl.ltv(ds, by=by),):
        left, right = run(duck), run(spark)
        pd.testing.assert_frame_equal(
            _normalised(left.table), _normalised(right.table), check_dtype=False, rtol=1e-9
        )


def test_folder_of_uint64_parquet_parts(tmp_path: Path, spark_backend: Any) -> None:
    inputs = {k: str(v) if isinstance(v, Path) else v for k, v in _uint64_parts(tmp_path).items()}
    duck = gl.load(**inputs)
    spark = gl.load(**inputs, backend=spark_backend)
    _compare(duck, spark)
    assert spark.quality.table_counts("sessions").sources == (
        "sessions/ (3 parquet files; ignored: _SUCCESS, 3 .crc)",
    )
    # The ids come back as the values the files hold, not rounded through a float.
    ids = spark.table("orders").select("user_id").to_pyarrow()["user_id"].to_pylist()
    assert max(int(i) for i in ids if i is not None) == 2**64 - 1


def test_hive_partitioned_parts(tmp_path: Path, spark_backend: Any) -> None:
    # Nanosecond times, which Spark's reader refuses: read through the driver, and said.
    parts = _uint64_parts(tmp_path, partition_by="source", unit="ns")
    inputs = {k: str(v) if isinstance(v, Path) else v for k, v in parts.items()}
    duck = gl.load(**inputs)
    spark = gl.load(**inputs, backend=spark_backend)
    _compare(duck, spark, by="source")  # the source comes from the folder names
    sources = spark.table("sessions").select("source").distinct().to_pyarrow()["source"]
    assert None in sources.to_pylist() and "ads" in sources.to_pylist()
    (label,) = spark.quality.table_counts("sessions").sources
    assert "partitioned by source" in label and "read through the driver" in label
    assert "read through the driver" not in duck.quality.table_counts("sessions").sources[0]


def test_spark_reads_the_files_itself(tmp_path: Path, spark_backend: Any) -> None:
    """No upload through the driver: the table is a Spark scan of the files."""
    frame = random_frames(5, users=30, days=20).sessions
    files = []
    for i in range(2):
        files.append(tmp_path / f"part-{i}.parquet")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.set_column(0, "user_id", pa.array(range(len(frame)), pa.uint64()))
        pq.write_table(table, files[-1])
    table, owned = _read_parquet_files(spark_backend, files, "parts")
    assert owned is None
    scanned = spark_backend._session.table(table.get_name()).inputFiles()
    assert sorted(Path(f.removeprefix("file:")).name for f in scanned) == [
        "part-0.parquet",
        "part-1.parquet",
    ]
    # Spark 4 reads Parquet's UINT64 as decimal(20,0): every unsigned value, exactly.
    assert table.schema()["user_id"].is_decimal()
    assert table.count().to_pyarrow().as_py() == 2 * len(frame)
