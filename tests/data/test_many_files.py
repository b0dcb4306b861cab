"""A table from many files: a folder (Spark's part files), a glob, Hive partitions."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.readers import FileSet, list_file_set
from growthlens.errors import DataError
from tests.oracle.random_data import random_frames


@pytest.fixture(scope="module")
def frames() -> Any:
    return random_frames(1, users=120, days=45)


def _thirds(frame: pd.DataFrame) -> list[pd.DataFrame]:
    n = len(frame)
    return [frame.iloc[: n // 3], frame.iloc[n // 3 : 2 * n // 3], frame.iloc[2 * n // 3 :]]


def _counts(ds: gl.Dataset) -> list[tuple[str, int, int, dict[str, int]]]:
    return [(c.table, c.loaded, c.accepted, dict(c.excluded_by_reason)) for c in ds.quality.counts]


def _same(left: gl.Dataset, right: gl.Dataset) -> None:
    """Same row accounting, findings and analysis tables."""
    assert _counts(left) == _counts(right)
    assert [(f.table, f.check, f.rows) for f in left.quality.findings] == [
        (f.table, f.check, f.rows) for f in right.quality.findings
    ]
    for run in (gl.overview, gl.kpis, lambda ds: gl.ltv(ds, by="source"), gl.retention):
        # The overview names each table's sources; everything else must match.
        a, b = (run(ds).table.drop(columns="sources", errors="ignore") for ds in (left, right))
        key = list(a.columns)
        pd.testing.assert_frame_equal(
            a.sort_values(key[:2]).reset_index(drop=True),
            b.sort_values(key[:2]).reset_index(drop=True),
            rtol=1e-9,
        )


def spark_folder(folder: Path, frame: pd.DataFrame) -> None:
    """``frame`` in three Parquet part files as Spark writes them, with side files."""
    folder.mkdir(parents=True)
    for i, part in enumerate(_thirds(frame)):
        name = f"part-{i:05d}-5e1c.c000.snappy.parquet"
        part.to_parquet(folder / name, index=False)
        (folder / f".{name}.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_bytes(b"")


def test_parquet_folder_equals_one_file(tmp_path: Path, frames: Any) -> None:
    frames.sessions.to_parquet(tmp_path / "all.parquet", index=False)
    spark_folder(tmp_path / "visits", frames.sessions)
    one = gl.load(sessions=str(tmp_path / "all.parquet"), orders=frames.orders, costs=frames.costs)
    many = gl.load(sessions=str(tmp_path / "visits"), orders=frames.orders, costs=frames.costs)
    _same(one, many)
    assert many.quality.table_counts("sessions").loaded == len(frames.sessions)
    (label,) = many.quality.table_counts("sessions").sources
    assert label == "visits/ (3 parquet files; ignored: _SUCCESS, 3 .crc)"


def test_glob_of_gzipped_csv_equals_one_file(tmp_path: Path, frames: Any) -> None:
    frames.sessions.to_csv(tmp_path / "all.csv", index=False)
    (tmp_path / "exports").mkdir()
    # Named so that text order differs from the order written: files are read sorted.
    for name, part in zip(("b", "c", "a"), _thirds(frames.sessions), strict=True):
        with gzip.open(tmp_path / "exports" / f"visits-{name}.csv.gz", "wt") as file:
            part.to_csv(file, index=False)
    (tmp_path / "exports" / "costs.csv").write_text("x\n1\n")  # not matched by the pattern
    one = gl.load(sessions=str(tmp_path / "all.csv"), orders=frames.orders, costs=frames.costs)
    many = gl.load(
        sessions=str(tmp_path / "exports" / "visits-*.csv.gz"),
        orders=frames.orders,
        costs=frames.costs,
    )
    _same(one, many)
    assert many.quality.table_counts("sessions").sources[0].endswith("(3 csv files)")


def test_listing_is_sorted_and_counts_side_files(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    (folder / "_temporary" / "0").mkdir(parents=True)
    (folder / "_temporary" / "0" / "part-9.csv").write_text("a\n1\n")
    for name in ("part-2.csv", "part-10.csv", "part-1.csv"):
        (folder / name).write_text("a\n1\n")
    (folder / "part-3.csv").write_text("")  # Spark writes empty part files too
    fs = list_file_set(folder, shown="v/")
    assert [f.name for f in fs.files] == ["part-1.csv", "part-10.csv", "part-2.csv"]
    assert fs.ignored == ("_temporary/0/part-9.csv",)
    assert fs.empty == ("part-3.csv",)
    assert fs.describe() == "v/ (3 csv files; ignored: _temporary/0/part-9.csv; 1 empty file)"


def test_rows_read_are_the_sum_over_files_with_problems_named(tmp_path: Path) -> None:
    folder = tmp_path / "orders"
    folder.mkdir()
    (folder / "day-1.csv").write_text("user_id,ts,revenue\n1,2021-01-01 10:00,5\n\n")
    (folder / "day-2.csv").write_text("user_id,ts,revenue\n")  # a day without orders
    (folder / "day-3.csv").write_text(
        "user_id,ts,revenue\n2,2021-01-02 10:00,7\n3,2021-01-02,8,extra\n4,2021-01-03 09:00,-1\n"
    )
    ds = gl.load(orders=str(folder))
    counts = ds.quality.table_counts("orders")
    # 4 lines hold rows or problems: 1 + 0 + 3, and the blank line of day-1.
    assert (counts.loaded, counts.accepted) == (5, 2)
    assert counts.excluded_by_reason == {
        "blank_line": 1,
        "unreadable_line": 1,
        "negative_revenue": 1,
    }
    examples = {f.check: f.examples for f in ds.quality.findings if f.check.endswith("_line")}
    assert examples["unreadable_line"][0]["source"] == "day-3.csv"
    assert examples["blank_line"][0]["source"] == "day-1.csv"


def test_hive_partitions_become_text_columns(tmp_path: Path, frames: Any) -> None:
    sessions = frames.sessions
    root = tmp_path / "visits"
    for source, rows in sessions.groupby(sessions.source.fillna("__HIVE_DEFAULT_PARTITION__")):
        folder = root / f"source={source}" / "v=1"
        folder.mkdir(parents=True)
        for i, part in enumerate(_thirds(rows.drop(columns="source"))):
            part.to_parquet(folder / f"part-{i}.parquet", index=False)
    sessions.to_parquet(tmp_path / "all.parquet", index=False)
    one = gl.load(sessions=str(tmp_path / "all.parquet"), orders=frames.orders)
    many = gl.load(sessions=str(root), orders=frames.orders)
    _same(one, many)
    table = many.table("sessions").to_pandas()
    accepted = one.table("sessions").to_pandas()
    assert table["source"].isna().sum() == accepted["source"].isna().sum() > 0
    assert (table["v"] == "1").all()  # a partition that is not canonical is a dimension
    assert many.table("sessions").schema()["v"].is_string()


def test_partition_values_are_decoded(tmp_path: Path) -> None:
    folder = tmp_path / "costs" / "source=paid%20search%2Fbrand"
    folder.mkdir(parents=True)
    pd.DataFrame({"date": ["2021-01-01", "2021-01-02"], "cost": [3.0, 4.0]}).to_csv(
        folder / "part-0.csv", index=False
    )
    ds = gl.load(costs=str(tmp_path / "costs"))
    assert ds.table("costs").to_pandas()["source"].tolist() == ["paid search/brand"] * 2


def test_column_in_files_and_folders_must_agree(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {"user_id": ["1", "2"], "start_ts": ["2021-01-01 10:00", "2021-01-02 10:00"]}
    )
    agree = tmp_path / "agree" / "source=ads"
    agree.mkdir(parents=True)
    rows.assign(source="ads").to_parquet(agree / "p.parquet", index=False)
    ds = gl.load(sessions=str(tmp_path / "agree"))
    assert ds.table("sessions").to_pandas()["source"].tolist() == ["ads", "ads"]
    assert "_growthlens_file_source" not in ds.table("sessions").columns

    differ = tmp_path / "differ" / "source=ads"
    differ.mkdir(parents=True)
    rows.assign(source=["ads", "seo"]).to_parquet(differ / "p.parquet", index=False)
    with pytest.raises(DataError) as caught:
        gl.load(sessions=str(tmp_path / "differ"))
    text = str(caught.value)
    assert "'source' is both in the files and in their folder names" in text
    assert "1 row(s) differ" in text and "'seo' in the file under source=ads" in text


def test_empty_folder_and_no_match_are_errors(tmp_path: Path) -> None:
    folder = tmp_path / "visits"
    folder.mkdir()
    (folder / "_SUCCESS").write_bytes(b"")
    with pytest.raises(DataError) as caught:
        gl.load(sessions=str(folder))
    assert "the folder holds no data file" in str(caught.value)
    assert "visits/" in str(caught.value) and "_SUCCESS" in str(caught.value)
    with pytest.raises(DataError) as caught:
        gl.load(sessions=str(tmp_path / "visits-*.csv"))
    assert "no file matches the pattern" in str(caught.value)
    assert "visits-*.csv" in str(caught.value)


def test_mixed_formats_and_columns_are_errors(tmp_path: Path) -> None:
    folder = tmp_path / "visits"
    folder.mkdir()
    rows = pd.DataFrame({"user_id": ["1"], "start_ts": ["2021-01-01 10:00"]})
    rows.to_parquet(folder / "part-0.parquet", index=False)
    rows.to_csv(folder / "part-1.csv", index=False)
    with pytest.raises(DataError) as caught:
        gl.load(sessions=str(folder))
    text = str(caught.value)
    assert "not all of one known format" in text
    assert "1 csv (part-1.csv)" in text and "1 parquet (part-0.parquet)" in text
    (folder / "part-0.parquet").unlink()
    rows.assign(device="touch").to_csv(folder / "part-2.csv", index=False)
    with pytest.raises(DataError) as caught:
        gl.load(sessions=str(folder))
    assert "do not all have the same columns" in str(caught.value)
    assert "part-2.csv: extra device" in str(caught.value)


def test_partition_keys_must_agree(tmp_path: Path) -> None:
    rows = pd.DataFrame({"user_id": ["1"], "start_ts": ["2021-01-01 10:00"]})
    (tmp_path / "v" / "source=ads").mkdir(parents=True)
    rows.to_csv(tmp_path / "v" / "source=ads" / "a.csv", index=False)
    rows.to_csv(tmp_path / "v" / "b.csv", index=False)
    with pytest.raises(DataError, match="not all partitioned by the same keys"):
        gl.load(sessions=str(tmp_path / "v"))


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_links_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.csv").write_text("user_id,start_ts\n1,2021-01-01 10:00\n")
    folder = tmp_path / "visits"
    folder.mkdir()
    (folder / "a.csv").write_text("user_id,start_ts\n2,2021-01-01 10:00\n")
    (folder / "b.csv").symlink_to(outside / "x.csv")
    with pytest.raises(DataError, match="lies outside its folder"):
        gl.load(sessions=str(folder))
    (folder / "b.csv").unlink()
    (folder / "more").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DataError, match="lies outside its folder"):
        gl.load(sessions=str(folder))
    (folder / "more").unlink()
    (folder / "sub").mkdir()
    (folder / "sub" / "c.csv").write_text("user_id,start_ts\n3,2021-01-01 10:00\n")
    with pytest.raises(DataError, match="lies outside its folder"):
        gl.load(sessions=str(folder / "*" / ".." / ".." / "secret" / "*.csv"))
    # A link to a folder inside the set is not read twice.
    (folder / "again").symlink_to(folder / "sub", target_is_directory=True)
    ds = gl.load(sessions=str(folder))
    assert ds.quality.table_counts("sessions").loaded == 2
    assert "ignored: again" in ds.quality.table_counts("sessions").sources[0]


def test_decompression_caps_hold_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    folder.mkdir()
    with gzip.open(folder / "a.csv.gz", "wt") as file:
        file.write("user_id,start_ts\n" + "1,2021-01-01 10:00\n" * 200)
    with pytest.raises(DataError, match=r"a\.csv\.gz"):
        gl.load(sessions=str(folder), max_decompressed_bytes=1000)


def test_config_paths_are_relative_to_the_config(tmp_path: Path, frames: Any) -> None:
    spark_folder(tmp_path / "data" / "visits", frames.sessions)
    (tmp_path / "growthlens.toml").write_text('[sessions]\npath = "data/visits"\n')
    ds = gl.load(str(tmp_path / "growthlens.toml"))
    assert ds.quality.table_counts("sessions").loaded == len(frames.sessions)


def test_describe_words() -> None:
    fs = FileSet(
        "v/",
        Path("v"),
        (Path("v/a.parquet"), Path("v/b.parquet")),
        "parquet",
        keys=("date",),
        partitions=(("2021-01-01",), ("2021-01-02",)),
        ignored=("_SUCCESS", "_committed_1", "_started_1", "_x", ".a.crc", ".b.crc"),
    )
    assert fs.describe() == (
        "v/ (2 parquet files partitioned by date; "
        "ignored: _SUCCESS, _committed_1, _started_1, 1 more, 2 .crc)"
    )


def test_one_file_gets_no_columns_from_its_path(tmp_path: Path) -> None:
    """Partitions are read for a folder or glob only (DuckDB would guess them for any path)."""
    folder = tmp_path / "device=touch"
    folder.mkdir()
    rows = pd.DataFrame({"user_id": ["1"], "start_ts": ["2021-01-01 10:00"]})
    rows.to_parquet(folder / "p.parquet", index=False)
    rows.to_csv(folder / "p.csv", index=False)
    for name in ("p.parquet", "p.csv"):
        assert "device" not in gl.load(sessions=str(folder / name)).table("sessions").columns
    both = gl.load(sessions=str(tmp_path / "*" / "p.csv")).table("sessions")
    assert both.to_pandas()["device"].tolist() == ["touch"]


def test_glob_of_json_lines(tmp_path: Path) -> None:
    for day, users in (("01", ["1", "2"]), ("02", ["3"])):
        (tmp_path / f"events-2021-01-{day}.jsonl").write_text(
            "".join(
                f'{{"user_id": "{u}", "event": "view", "ts": "2021-01-{day} 10:00:00"}}\n'
                for u in users
            )
        )
    ds = gl.load(events=str(tmp_path / "events-*.jsonl"))
    counts = ds.quality.table_counts("events")
    assert (counts.loaded, counts.accepted) == (3, 3)
    assert counts.sources[0].endswith("events-*.jsonl (2 json files)")
