"""Formats the user states are obeyed, compressed input is capped, every problem is listed
and every line is accounted for (issue "Trust the input", second part)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

import growthlens as gl
from growthlens.data.textfile import RATIO_FLOOR

ORDERS_HEADER = "Uid,Buy Ts,Revenue\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_blank_lines_are_counted_with_their_line_numbers(tmp_path: Path) -> None:
    orders = _write(
        tmp_path,
        "orders.csv",
        ORDERS_HEADER
        + "1,2020-01-01 10:00,5\n\n2,2020-01-01 11:00,6\r\n\r\n\n3,2020-01-02 9:00,7\n\n",
    )
    ds = gl.load(orders=orders)
    counts = ds.quality.table_counts("orders")
    # 8 lines after the header: 3 rows, 4 blank ones (lines 3, 5, 6 and 8).
    assert counts.excluded_by_reason == {"blank_line": 4}
    assert (counts.loaded, counts.accepted) == (7, 3)
    (finding,) = ds.quality.findings
    assert finding.severity == "info"
    assert "are blank lines" in finding.message
    assert [e["line"] for e in finding.examples] == [3, 5, 6]


def test_gzip_past_the_size_cap_stops_naming_the_file(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv.gz"
    orders.write_bytes(gzip.compress((ORDERS_HEADER + "1,2020-01-01 10:00,5\n" * 1000).encode()))
    with pytest.raises(gl.DataError, match=r"orders.csv.gz: the gzip inflates to more than 2,000 "):
        gl.load(orders=orders, max_decompressed_bytes=2000)
    ds = gl.load(orders=orders)  # the default cap lets it through
    assert ds.quality.table_counts("orders").accepted == 1000


def test_a_gzip_bomb_inside_a_zip_stops_on_the_ratio(tmp_path: Path) -> None:
    """70 MB of one repeated line is about 200 KB compressed (ratio ≈ 340): past 200."""
    bomb = gzip.compress(
        (ORDERS_HEADER + "1,2020-01-01 10:00,5\n" * ((RATIO_FLOOR // 21) + 100_000)).encode(), 9
    )
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("orders.csv.gz", bomb)
    with pytest.raises(gl.DataError, match="max_compression_ratio = 200") as caught:
        gl.load(orders=archive)
    assert "export.zip:orders.csv.gz" in str(caught.value)
    with pytest.raises(gl.ConfigError, match="max_compression_ratio"):
        gl.load(orders=archive, max_compression_ratio=0.5)


def test_a_zip_member_past_the_size_cap(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("orders.csv", ORDERS_HEADER + "1,2020-01-01 10:00,5\n" * 100_000)
    with pytest.raises(gl.DataError, match=r"the member 'orders.csv' inflates to more than 5,000"):
        gl.load(orders=archive, max_decompressed_bytes=5000)


def test_a_stated_encoding_is_read_and_a_wrong_one_named(tmp_path: Path) -> None:
    text = "Uid,Start Ts,Device\n1,2020-01-01 10:00,Планшет\n2,2020-01-01 11:00,Смартфон\n"
    sessions = _write(tmp_path, "visits.csv", text, encoding="cp1251")
    with pytest.raises(gl.DataError, match="not UTF-8 text") as caught:
        gl.load(sessions=sessions)
    assert 'encoding = "cp1251"' in str(caught.value)
    assert "the first at line 2" in str(caught.value)
    ds = gl.load(sessions={"path": str(sessions), "encoding": "cp1251"})
    assert sorted(ds.table("sessions").device.execute()) == ["Планшет", "Смартфон"]
    utf16 = _write(tmp_path, "visits16.csv", text, encoding="utf-16")
    ds = gl.load(sessions={"path": str(utf16), "encoding": "utf-16"})
    assert sorted(ds.table("sessions").device.execute()) == ["Планшет", "Смартфон"]
    broken = tmp_path / "broken.csv"
    broken.write_bytes(text.encode() + b"3,2020-01-01 12:00,\xff\xfe\n")
    with pytest.raises(gl.DataError, match="not valid utf-16"):
        gl.load(sessions={"path": str(broken), "encoding": "utf-16"})
    with pytest.raises(gl.ConfigError, match="unknown encoding 'klingon'"):
        gl.load(sessions={"path": str(sessions), "encoding": "klingon"})


@pytest.mark.parametrize(
    ("written", "options", "expected"),
    [
        ('"1.234,5"', {"decimal": ",", "thousands": "."}, 1234.5),
        ('"1 234,5"', {"decimal": ",", "thousands": " "}, 1234.5),
        ('"1,234.5"', {"thousands": ","}, 1234.5),
        ('"12,5"', {"decimal": ","}, 12.5),
        ("1'234", {"thousands": "'"}, 1234.0),
    ],
)
def test_stated_separators_are_applied_to_the_text(
    tmp_path: Path, written: str, options: dict[str, str], expected: float
) -> None:
    orders = _write(tmp_path, "orders.csv", ORDERS_HEADER + f"1,2020-01-01 10:00,{written}\n")
    ds = gl.load(orders={"path": str(orders), **options})
    assert ds.table("orders").revenue.execute().tolist() == [expected]


def test_separators_must_differ() -> None:
    with pytest.raises(gl.ConfigError, match="also the decimal separator"):
        gl.load(orders={"path": "orders.csv", "decimal": ",", "thousands": ","})


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ('"1,234.50"', "set thousands = ','"),
        ('"1.234,50"', "set thousands = '.' and decimal = \",\""),
        ('"12,5"', 'set decimal = ","'),
        ('"1,234"', 'set thousands = "," or decimal = ","'),
    ],
)
def test_unread_numbers_say_which_separator_they_use(
    tmp_path: Path, written: str, hint: str
) -> None:
    orders = _write(tmp_path, "orders.csv", ORDERS_HEADER + f"1,2020-01-01 10:00,{written}\n")
    with pytest.raises(gl.DataError) as caught:
        gl.load(orders=orders)
    assert hint in str(caught.value)
    assert "(line 2)" in str(caught.value)


def test_date_format_is_applied_to_dates_and_the_ambiguous_guess_is_said(tmp_path: Path) -> None:
    text = "source_id,dt,costs\n1,03/04/2020,5\n2,05/06/2020,6\n"
    costs = _write(tmp_path, "costs.csv", text)
    ds = gl.load(costs={"path": str(costs), "date_format": "%m/%d/%Y"})
    dates = ds.table("costs").date.execute()
    assert sorted(d.strftime("%Y-%m-%d") for d in dates) == ["2020-03-04", "2020-05-06"]
    assert ds.quality.findings == ()
    guessed = gl.load(costs=costs)
    (finding,) = guessed.quality.findings
    assert finding.check == "ambiguous_date_order" and finding.severity == "warning"
    assert "read as day/month (%d/%m/%Y)" in finding.message
    assert 'date_format = "%m/%d/%Y"' in finding.effect
    # A day above 12 settles the order: nothing to say.
    clear = _write(tmp_path, "clear.csv", text + "3,25/06/2020,7\n")
    assert gl.load(costs=clear).quality.findings == ()


def test_every_problem_of_every_file_is_listed_at_once(tmp_path: Path) -> None:
    orders = _write(
        tmp_path, "orders.csv", ORDERS_HEADER + "1,2020-01-01 10:00,abc\n2,yesterday,5\n"
    )
    costs = _write(tmp_path, "costs.csv", "source_id,costs\n1,5\n")
    more = [_write(tmp_path, f"o{i}.csv", "Uid,Revenue\n1,5\n") for i in range(7)]
    with pytest.raises(gl.DataError) as caught:
        gl.load(orders=[orders, *more], costs=costs)
    error = caught.value
    message = str(error)
    assert message.startswith("10 problems in 9 files; nothing was loaded")
    assert "column 'Revenue' in orders.csv: 1 of 2 values cannot be read as a number" in message
    assert "column 'Buy Ts' in orders.csv: 1 of 2 values cannot be read as a timestamp" in message
    assert "'yesterday' (line 3)" in message and "'abc' (line 2)" in message  # one pass, both
    assert "costs.csv" in message
    # Seven files lack the same column: five are shown, two counted.
    assert message.count("o0.csv") + sum(message.count(f"o{i}.csv") for i in range(1, 7)) == 5
    assert "… and 2 more" in message
    assert len(error.problems) == 10
