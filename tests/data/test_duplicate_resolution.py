"""The duplicate policy ranks only rows that can rank second: the same rows as ranking all.

``validate.resolve_duplicates`` counts repeated keys first and then ranks no row, the
rows of repeated (and null) keys, or every row; each path must give the reasons ranking
every row gives (``validate._ranked``), and the load the same tables either way.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

import growthlens as gl
from growthlens.data import validate
from growthlens.data.canonical import SOURCE_RANK
from growthlens.data.tables import TABLES

NOW = datetime(2030, 1, 1)


def _sessions(repeats: int, null_keys: int) -> pd.DataFrame:
    """100 sessions of two sources; ``repeats`` of them repeat a key, with other values."""
    rows: list[dict[str, object]] = [
        {
            "user_id": f"u{i % 7}",
            "start_ts": datetime(2024, 1, 1 + i % 20, 10, i % 60),
            "end_ts": datetime(2024, 1, 1 + i % 20, 11, 0),
            "session_id": i,
            "source": "ads" if i % 3 else "seo",
            "device": "touch",
            SOURCE_RANK: i % 2,
        }
        for i in range(100)
    ]
    for j in range(repeats):
        copy = dict(rows[(j * 13) % 100])
        start = copy["start_ts"]
        assert isinstance(start, datetime)
        copy["start_ts"] = start.replace(second=j % 3)  # ties broken by text
        copy[SOURCE_RANK] = j % 2
        if j % 4 == 0:
            copy["user_id"] = None  # an invalid copy never wins over a valid one
        rows.append(copy)
    for j in range(null_keys):
        row = dict(rows[j], session_id=None)
        rows += [row, dict(row)] if j % 2 else [row]  # identical null-key rows: one kept
    frame = pd.DataFrame(rows)
    frame["session_id"] = frame["session_id"].astype("UInt64")
    return frame


def _reasons(table: ir.Table) -> list[tuple[object, ...]]:
    frame = table.to_pandas()
    frame = frame.astype(object).where(frame.notna(), None)
    return sorted(map(tuple, frame.itertuples(index=False)), key=repr)


@pytest.mark.parametrize(
    ("repeats", "null_keys"),
    [(0, 0), (0, 1), (0, 4), (5, 0), (5, 3), (90, 2)],
    ids=["none", "one-null-key", "null-keys", "few", "few-and-null-keys", "most"],
)
@pytest.mark.parametrize("policy", ["first", "last"])
def test_same_reasons_as_ranking_every_row(repeats: int, null_keys: int, policy: str) -> None:
    model = TABLES["sessions"]
    table = validate.first_reasons(ibis.memtable(_sessions(repeats, null_keys)), model, now=NOW)
    resolved = validate.resolve_duplicates(table, model, policy=policy)
    expected = validate._ranked(table, model, policy=policy)
    assert _reasons(resolved) == _reasons(expected)
    if not repeats and null_keys <= 1:
        assert resolved is table  # nothing to rank: the table itself


def test_whole_row_duplicates_without_key() -> None:
    """Without a key the groups are whole rows; repeated ones rank every row."""
    model = TABLES["sessions"]
    frame = _sessions(3, 0).drop(columns="session_id")
    frame = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    table = validate.first_reasons(ibis.memtable(frame), model, now=NOW)
    resolved = validate.resolve_duplicates(table, model, policy="first")
    assert _reasons(resolved) == _reasons(validate._ranked(table, model, policy="first"))
    unique = validate.first_reasons(ibis.memtable(frame.iloc[:100]), model, now=NOW)
    assert validate.resolve_duplicates(unique, model, policy="first") is unique


@pytest.mark.parametrize("materialize", [None, True, False])
def test_load_same_with_and_without_stored_rows(tmp_path: Path, materialize: bool | None) -> None:
    """Stored (resolved on the stored rows) or a view, the load finds the same."""
    frame = _sessions(6, 3).drop(columns=SOURCE_RANK)
    frame["user_id"] = frame["user_id"].fillna("")
    path = tmp_path / "sessions.parquet"
    frame.to_parquet(path)
    ds = gl.load(sessions=path, materialize=materialize)
    counts = ds.quality.table_counts("sessions")
    assert counts.excluded_by_reason == {"missing_user_id": 2, "duplicate_key": 4 + 1}
    finding = {f.check: f for f in ds.quality.findings}["duplicate_key"]
    assert len(finding.examples) == validate.EXAMPLES
    kept = ds.table("sessions").to_pandas()
    assert len(kept) == counts.accepted
    assert kept.session_id.dropna().is_unique


@pytest.mark.spark
@pytest.mark.parametrize(("repeats", "null_keys"), [(0, 0), (6, 3), (90, 0)])
def test_same_on_spark(tmp_path: Path, spark_backend: Any, repeats: int, null_keys: int) -> None:
    """Each path (no ranking, the split, ranking every row) finds the same rows on Spark."""
    frame = _sessions(repeats, null_keys).drop(columns=SOURCE_RANK)
    frame["user_id"] = frame["user_id"].fillna("")
    # Two sources: the earlier source's row wins a key, then the row's text decides.
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    frame.iloc[::2].to_parquet(paths[0])
    frame.iloc[1::2].to_parquet(paths[1])
    duck = gl.load(sessions={"sources": [str(p) for p in paths], "duplicates": "last"})
    spark = gl.load(
        sessions={"sources": [str(p) for p in paths], "duplicates": "last"},
        backend=spark_backend,
    )
    assert duck.quality.counts == spark.quality.counts

    # Spark keeps numeric ids as text (no unsigned integers): compared as text.
    def findings(ds: gl.Dataset) -> list[tuple[str, int, list[dict[str, str]]]]:
        return [
            (f.check, f.rows, [{k: str(v) for k, v in e.items()} for e in f.examples])
            for f in ds.quality.findings
        ]

    assert findings(duck) == findings(spark)

    def rows(ds: gl.Dataset) -> list[tuple[object, ...]]:
        return _reasons(
            ds.table("sessions").mutate(session_id=ds.table("sessions").session_id.cast("string"))
        )

    assert rows(duck) == rows(spark)


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([5, 7, 9, 6], "int64"),  # unique, dense: the bitmap
        ([5, 7, 7, 6], "int64"),  # one repeat
        ([5, None, 7], "int64"),  # one null key: unique
        ([5, None, None], "int64"),  # two null keys are shared
        ([-100, 100, 0, -1], "int8"),  # the range passes int8's
        ([2**64 - 1, 2**63, 2**63 + 1], "uint64"),  # above int64's range
        ([2**64 - 1, 2**63, 2**64 - 1], "uint64"),
        ([0, 10**15, 3], "int64"),  # too sparse for a bitmap: the distinct count
        ([0, 10**15, 10**15], "int64"),
        ([None, None], "int64"),
        (["a", "b", "a"], "string"),
    ],
)
def test_key_check_matches_a_python_count(values: list[Any], dtype: str) -> None:
    """Bitmap or hash set, the key check answers what counting in Python answers."""
    con = ibis.duckdb.connect()
    table = con.create_table("keys", ibis.memtable({"k": values}, schema={"k": dtype}))
    known = [v for v in values if v is not None]
    expected = len(set(known)) == len(known) and len(values) - len(known) <= 1
    assert validate._unique(table.k, con) is expected
    assert validate._unique(table.k) is expected  # no backend: the distinct count


def test_key_check_bitmap_bounds() -> None:
    """The bitmap is used for dense or small ranges, never above 2**30 bits."""
    assert validate._bitmap_span(1, 10_000_000, 10_000_000) == 10_000_000
    assert validate._bitmap_span(0, 999, 2) == 1000  # small range
    assert validate._bitmap_span(0, 80_000_000, 10_000_000) is None  # keys fill < 1/8
    assert validate._bitmap_span(0, 2**31, 2**30) is None  # over 2**30 bits


def test_key_check_uses_the_bitmap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense integer keys on DuckDB never reach the distinct count."""
    con = ibis.duckdb.connect()
    table = con.create_table("keys", ibis.memtable({"k": [*range(1000), 5]}))

    def no_distinct(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("distinct count used")

    monkeypatch.setattr(ir.Column, "nunique", no_distinct)
    assert validate._unique(table.k, con) is False
    assert validate._unique(table.filter(table.k != 5).k, con) is True
