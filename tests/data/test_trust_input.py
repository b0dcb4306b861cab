"""Nothing is dropped or misread silently: comment-like lines, non-finite numbers, null-like
ids, repeated headers and the engine's temporary folders (issue "Trust the input")."""

from __future__ import annotations

import gzip
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl

WINDOW = ("2020-01-01", "2020-01-02")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_line_starting_with_hash_is_a_row_by_default(tmp_path: Path) -> None:
    costs = _write(
        tmp_path, "costs.csv", "source_id,dt,costs\n#1 partner,2020-01-01,5\n2,2020-01-01,3\n"
    )
    ds = gl.load(costs=costs)
    counts = ds.quality.table_counts("costs")
    assert (counts.loaded, counts.accepted) == (2, 2)
    assert sorted(ds.table("costs").source.execute()) == ["#1 partner", "2"]


def test_comment_lines_are_skipped_only_when_asked_and_counted(tmp_path: Path) -> None:
    costs = _write(
        tmp_path,
        "costs.csv",
        "source_id,dt,costs\n# exported 2020-01-03\n# by the ad system\n2,2020-01-01,3\n",
    )
    ds = gl.load(costs={"path": str(costs), "comment": "#"})
    counts = ds.quality.table_counts("costs")
    assert (counts.loaded, counts.accepted, counts.excluded) == (3, 1, 2)
    assert counts.excluded_by_reason == {"comment_line": 2}
    (finding,) = ds.quality.findings
    assert finding.severity == "info" and finding.rows == 2
    assert "are comment lines" in finding.message
    with pytest.raises(gl.ConfigError, match="comment"):
        gl.load(costs={"path": str(costs), "comment": "##"})


def test_non_finite_amounts_are_excluded_and_counted(tmp_path: Path) -> None:
    """Revenue nan, inf, -inf (3 rows) excluded; AOV = (5 + 7) / 2 over the two finite rows."""
    orders = _write(
        tmp_path,
        "orders.csv",
        "Uid,Buy Ts,Revenue\n1,2020-01-01 10:00,nan\n2,2020-01-01 11:00,inf\n"
        "3,2020-01-01 12:00,-inf\n4,2020-01-01 13:00,5\n5,2020-01-02 13:00,7\n",
    )
    ds = gl.load(orders=orders, window=WINDOW)
    counts = ds.quality.table_counts("orders")
    assert counts.excluded_by_reason == {"nonfinite_revenue": 3}
    assert counts.loaded == counts.accepted + counts.excluded == 5
    assert gl.aov(ds).summary["aov"].value == pytest.approx(6.0)
    (finding,) = ds.quality.findings
    assert finding.severity == "error"
    assert "not a finite number (NaN or infinity)" in finding.message


def test_non_finite_cost_and_negative_clicks(tmp_path: Path) -> None:
    """A pandas NaN is a missing value (Arrow makes it null); infinity is non-finite."""
    costs = pd.DataFrame(
        {
            "date": ["2020-01-01"] * 4,
            "source": ["a", "b", "c", "d"],
            "cost": [1.0, math.nan, math.inf, 2.0],
            "clicks": [10.0, 1.0, 1.0, -3.0],
        }
    )
    ds = gl.load(costs=costs)
    counts = ds.quality.table_counts("costs")
    assert counts.excluded_by_reason == {
        "missing_cost": 1,
        "nonfinite_cost": 1,
        "negative_clicks": 1,
    }
    assert counts.accepted == 1
    words = {f.check: f.what_one for f in ds.quality.findings}
    assert words["nonfinite_cost"] == (
        "has a value in 'cost' that is not a finite number (NaN or infinity)"
    )
    assert words["negative_clicks"] == "has a negative 'clicks'"
    assert words["missing_cost"] == "has no value in the required column 'cost'"


def test_null_like_ids_are_excluded_never_one_user(tmp_path: Path) -> None:
    orders = _write(
        tmp_path,
        "orders.csv",
        "Uid,Buy Ts,Revenue\nNULL,2020-01-01 10:00,5\nNone,2020-01-01 11:00,5\n"
        "-,2020-01-01 12:00,5\n nan ,2020-01-01 12:30,5\nu1,2020-01-01 13:00,5\n",
    )
    ds = gl.load(orders=orders, window=WINDOW)
    counts = ds.quality.table_counts("orders")
    assert counts.excluded_by_reason == {"missing_user_id": 4}
    assert ds.table("orders").user_id.execute().tolist() == ["u1"]
    finding = ds.quality.findings[0]
    assert "null-like text such as NULL" in finding.message
    # The list is a setting: here "-" is a real id.
    custom = gl.load(orders=orders, window=WINDOW, null_ids=["NULL", "None", "nan"])
    assert sorted(custom.table("orders").user_id.execute()) == ["-", "u1"]


@pytest.mark.parametrize("as_frame", [False, True])
def test_a_repeated_header_is_an_error_naming_both_columns(tmp_path: Path, as_frame: bool) -> None:
    text = "Uid,Buy Ts,Revenue,Uid\n1,2020-01-01 10:00,5,2\n"
    source: object = _write(tmp_path, "orders.csv", text)
    if as_frame:
        source = pd.DataFrame(
            [[1, "2020-01-01", 5.0, 2]], columns=["Uid", "Buy Ts", "Revenue", "Uid"]
        )
    with pytest.raises(gl.DataError, match=r"both called 'Uid' \(columns 1 and 4\)"):
        gl.load(orders=source)


@pytest.mark.parametrize("fails", [False, True])
def test_temporary_folders_are_removed_when_the_process_ends(tmp_path: Path, fails: bool) -> None:
    """The engine's spill folder and the load's work folder (a gzip inflated there) go,
    after a load that worked and after one that failed; TMPDIR is private to see them."""
    (tmp_path / "tmp").mkdir()
    orders = tmp_path / "orders.csv.gz"
    rows = "Uid,Buy Ts,Revenue\n1,2020-01-01 10:00,5\n" + ("2,oops,1\n" if fails else "")
    orders.write_bytes(gzip.compress(rows.encode()))
    code = (
        "import sys, growthlens as gl\n"
        "try:\n"
        f"    ds = gl.load(orders={str(orders)!r})\n"
        "except gl.DataError:\n"
        "    sys.exit(7)\n"
        "keep = ds\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=120, check=False)
    assert done.returncode == (7 if fails else 0)
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == []


def test_a_stated_timestamp_format_is_applied_to_the_text(tmp_path: Path) -> None:
    """'2020-01-02' read with '%Y-%d-%m' is 1 February: the reader's ISO guess must not win."""
    orders = _write(
        tmp_path,
        "orders.csv",
        "Uid,Buy Ts,Revenue\n1,2020-01-02 10:00:00,5\n2,2020-03-02 11:00:00,7\n",
    )
    ds = gl.load(orders={"path": str(orders), "timestamp_format": "%Y-%d-%m %H:%M:%S"})
    days = sorted(str(t)[:10] for t in ds.table("orders").ts.execute())
    assert days == ["2020-02-01", "2020-02-03"]


@pytest.mark.parametrize(
    ("fmt", "words"),
    [("%Q-%m-%d", "unknown code(s) %Q"), ("dd.mm.yyyy", "no % code")],
)
def test_an_invalid_timestamp_format_is_a_config_error(
    tmp_path: Path, fmt: str, words: str
) -> None:
    orders = _write(tmp_path, "orders.csv", "Uid,Buy Ts,Revenue\n1,2020-01-02 10:00:00,5\n")
    with pytest.raises(gl.ConfigError, match=re.escape(words)):
        gl.load(orders={"path": str(orders), "timestamp_format": fmt})


def test_a_format_the_values_do_not_follow_is_a_data_error(tmp_path: Path) -> None:
    orders = _write(tmp_path, "orders.csv", "Uid,Buy Ts,Revenue\n1,01/02/2020 10:00,5\n")
    with pytest.raises(gl.DataError, match="does not match the stated format") as caught:
        gl.load(orders={"path": str(orders), "timestamp_format": "%d.%m.%Y %H:%M"})
    assert "01/02/2020 10:00" in str(caught.value)  # the engine's words are kept


def test_float_ids_up_to_2_64_keep_their_exact_value() -> None:
    """Floats hold 2**63 + 2048 and 2**64 − 4096 exactly: the ids are those integers."""
    ids = [1.0, 2.0**63 + 2048, 2.0**64 - 4096]
    orders = pd.DataFrame({"user_id": ids, "ts": ["2020-01-01"] * 3, "revenue": [1.0] * 3})
    ds = gl.load(orders=orders)
    assert sorted(ds.table("orders").user_id.execute().tolist()) == [
        1,
        2**63 + 2048,
        2**64 - 4096,
    ]


def test_non_integer_float_ids_are_an_error_naming_them() -> None:
    orders = pd.DataFrame(
        {"user_id": [1.5, 2.0, -3.0], "ts": ["2020-01-01"] * 3, "revenue": [1.0] * 3}
    )
    with pytest.raises(gl.DataError, match="2 id") as caught:
        gl.load(orders=orders)
    text = str(caught.value)
    assert "column 'user_id'" in text and "1.5, -3.0" in text


def test_ragged_lines_are_counted_with_their_line_numbers(tmp_path: Path) -> None:
    """Lines 3 (a field too many) and 4 (one too few) are not rows; the others load, and a
    few ragged lines do not make the reader guess another delimiter."""
    orders = _write(
        tmp_path,
        "orders.csv",
        "Uid,Buy Ts,Revenue\n1,2020-01-01 10:00,5\n2,2020-01-01 10:00,5,9\n"
        "3,2020-01-01 11:00\n4,2020-01-01 13:00,7\n",
    )
    ds = gl.load(orders=orders)
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (4, 2)
    assert counts.excluded_by_reason == {"unreadable_line": 2}
    (finding,) = ds.quality.findings
    assert finding.severity == "error"
    assert [(e["line"], e["problem"]) for e in finding.examples] == [
        (3, "TOO MANY COLUMNS"),
        (4, "MISSING COLUMNS"),
    ]
    assert sorted(ds.table("orders").user_id.execute().tolist()) == [1, 4]
