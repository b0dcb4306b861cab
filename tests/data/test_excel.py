"""The Excel reader: values, types, ids as text, sheet choice and every bad-workbook error."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import xlsxwriter

from growthlens.data.excel import read_excel
from growthlens.errors import DataError

BIG_TEXT_ID = "9007199254740993"  # 2**53 + 1: a float would make it ...992


def write_book(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> Path:
    """One workbook, a sheet per entry, rows written cell by cell (None leaves a cell blank)."""
    book = xlsxwriter.Workbook(str(path))
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, stamp)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def no_text(headers: Sequence[str]) -> Sequence[str]:
    return []


def ids_as_text(headers: Sequence[str]) -> Sequence[str]:
    return [h for h in headers if h.lower() == "uid"]


ORDERS: list[list[Any]] = [
    [" Uid ", "Revenue", "Buy Ts", "Device"],
    [12345, 5.5, dt.datetime(2017, 6, 1, 10, 3), "touch"],
    [42, 0.0, dt.datetime(2017, 6, 2, 12, 0, 30), "desktop"],
    [7, 2.25, dt.datetime(2017, 6, 3, 23, 59, 59), None],
]

NOTES: list[list[Any]] = [["a"], [1]]
BLANK_HEADER: list[list[Any]] = [["a", None, "c"], [1, 2, 3]]


def test_one_sheet_values_and_types(tmp_path: Path) -> None:
    path = write_book(tmp_path / "orders.xlsx", {"Orders": ORDERS})
    table, sheet = read_excel(path, sheet=None, label="orders.xlsx", text_columns=no_text)
    assert sheet == "Orders"
    assert table.column_names == ["Uid", "Revenue", "Buy Ts", "Device"]
    assert table.schema.types[1:] == [pa.float64(), pa.timestamp("ms"), pa.string()]
    assert table.column("Revenue").to_pylist() == [5.5, 0.0, 2.25]
    assert table.column("Buy Ts").to_pylist() == [
        dt.datetime(2017, 6, 1, 10, 3),
        dt.datetime(2017, 6, 2, 12, 0, 30),
        dt.datetime(2017, 6, 3, 23, 59, 59),
    ]
    assert table.column("Device").to_pylist() == ["touch", "desktop", None]


def test_numeric_ids_come_out_as_their_digits(tmp_path: Path) -> None:
    path = write_book(tmp_path / "orders.xlsx", {"Orders": ORDERS})
    seen: list[list[str]] = []

    def resolver(headers: Sequence[str]) -> Sequence[str]:
        seen.append(list(headers))
        return ["Uid"]

    table, _ = read_excel(path, sheet=None, label="orders.xlsx", text_columns=resolver)
    assert seen == [["Uid", "Revenue", "Buy Ts", "Device"]]
    assert table.schema.field("Uid").type == pa.string()
    assert table.column("Uid").to_pylist() == ["12345", "42", "7"]
    assert table.column("Revenue").to_pylist() == [5.5, 0.0, 2.25]


def test_large_text_id_stays_exact(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["uid", "n"], [BIG_TEXT_ID, 1], ["18446744073709551615", 2], [99, 3]]
    path = write_book(tmp_path / "users.xlsx", {"Users": rows})
    table, _ = read_excel(path, sheet=None, label="users.xlsx", text_columns=ids_as_text)
    assert table.column("uid").to_pylist() == [BIG_TEXT_ID, "18446744073709551615", "99"]


def test_sheet_chosen_by_name(tmp_path: Path) -> None:
    other: list[list[Any]] = [["a"], ["x"]]
    path = write_book(tmp_path / "book.xlsx", {"Notes": other, "Orders": ORDERS})
    table, sheet = read_excel(path, sheet="Orders", label="book.xlsx", text_columns=ids_as_text)
    assert sheet == "Orders"
    assert table.num_rows == 3
    assert table.column("Uid").to_pylist() == ["12345", "42", "7"]


def test_several_sheets_need_a_name(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Notes": NOTES, "Orders": ORDERS})
    with pytest.raises(DataError) as err:
        read_excel(path, sheet=None, label="book.xlsx", text_columns=no_text)
    assert err.value.problem == "the workbook holds several sheets; say which one"
    assert err.value.source == "book.xlsx"
    assert err.value.found == "Notes, Orders"
    assert err.value.fix == 'set sheet = "<name>" in the source'


def test_missing_sheet(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", {"Notes": NOTES, "Orders": ORDERS})
    with pytest.raises(DataError) as err:
        read_excel(path, sheet="Ordres", label="book.xlsx", text_columns=no_text)
    assert err.value.problem == "no sheet 'Ordres' in the workbook"
    assert err.value.found == "Notes, Orders"


def test_duplicate_header_names_both_columns(tmp_path: Path) -> None:
    # The second "uid" has spaces: equal once stripped, and fastexcel would not rename it.
    rows: list[list[Any]] = [["uid", "ts", " uid"], [1, 2, 3]]
    path = write_book(tmp_path / "dup.xlsx", {"S": rows})
    with pytest.raises(DataError) as err:
        read_excel(path, sheet=None, label="dup.xlsx", text_columns=no_text)
    assert err.value.problem == "two columns are both called 'uid' (columns 1 and 3)"
    assert err.value.found == "uid, ts, uid"


def test_exact_duplicate_header_is_not_renamed_away(tmp_path: Path) -> None:
    path = write_book(tmp_path / "dup.xlsx", {"S": [["uid", "uid"], [1, 2]]})
    with pytest.raises(DataError, match=r"both called 'uid' \(columns 1 and 2\)"):
        read_excel(path, sheet=None, label="dup.xlsx", text_columns=no_text)


def test_header_without_rows(tmp_path: Path) -> None:
    path = write_book(tmp_path / "head.xlsx", {"Orders": [["uid", "revenue"]]})
    with pytest.raises(DataError) as err:
        read_excel(path, sheet=None, label="head.xlsx", text_columns=no_text)
    assert err.value.problem == "sheet 'Orders' has a header but no rows"
    assert err.value.found == "header uid, revenue"


def test_empty_sheet(tmp_path: Path) -> None:
    path = write_book(tmp_path / "empty.xlsx", {"Blank": []})
    with pytest.raises(DataError) as err:
        read_excel(path, sheet=None, label="empty.xlsx", text_columns=no_text)
    assert err.value.problem == "sheet 'Blank' is empty"


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(DataError) as err:
        read_excel(path, sheet=None, label="orders.xlsx", text_columns=no_text)
    assert err.value.source == "orders.xlsx"
    assert err.value.problem.startswith("cannot read the file as an Excel workbook: ")
    # Every line of the reader's message, not just the first.
    assert "Zip" in err.value.problem
    assert "Could not open workbook" in err.value.problem
    assert err.value.fix is not None and "CSV" in err.value.fix


def test_xlsx_saved_under_xls_suffix_is_read(tmp_path: Path) -> None:
    path = write_book(tmp_path / "orders.xls", {"Orders": ORDERS})
    table, _ = read_excel(path, sheet=None, label="orders.xls", text_columns=ids_as_text)
    assert table.column("Uid").to_pylist() == ["12345", "42", "7"]


@pytest.mark.parametrize("word", ["pending", "n/a", "NULL"])  # fastexcel nulls the last two
def test_mixed_column_is_text_with_every_value(tmp_path: Path, word: str) -> None:
    # 1,500 numbers before the text: past fastexcel's default 1,000-row type sample.
    rows: list[list[Any]] = [["revenue"], *([float(i)] for i in range(1500)), [word], [2.5]]
    path = write_book(tmp_path / "mixed.xlsx", {"S": rows})
    table, _ = read_excel(path, sheet=None, label="mixed.xlsx", text_columns=no_text)
    values = table.column("revenue").to_pylist()
    assert table.schema.field("revenue").type == pa.string()
    assert values[:3] == ["0", "1", "2"]
    assert values[-2:] == [word, "2.5"]
    assert None not in values


def test_error_cells_are_null_not_numbers(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    sheet.write_row(0, 0, ["revenue", "empty"])
    sheet.write(1, 0, 1.5)
    sheet.write_formula(2, 0, "=1/0", None, "#DIV/0!")
    sheet.write_formula(3, 0, "=NA()", None, "#N/A")
    sheet.write(4, 0, 3.0)
    book.close()
    table, _ = read_excel(path, sheet=None, label="errors.xlsx", text_columns=no_text)
    assert table.column("revenue").to_pylist() == [1.5, None, None, 3.0]
    # An all-empty column is text, never Arrow's null type.
    assert table.schema.field("empty").type == pa.string()
    assert table.column("empty").to_pylist() == [None, None, None, None]


def test_dates_are_timestamps(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["day"],
        [dt.datetime(2024, 2, 29)],
        [dt.datetime(1999, 12, 31, 23, 59, 59)],
    ]
    path = write_book(tmp_path / "days.xlsx", {"S": rows})
    table, _ = read_excel(path, sheet=None, label="days.xlsx", text_columns=no_text)
    assert pa.types.is_timestamp(table.schema.field("day").type)
    assert table.column("day").to_pylist() == [
        dt.datetime(2024, 2, 29),
        dt.datetime(1999, 12, 31, 23, 59, 59),
    ]


def test_blank_header_cell_is_named_by_position(tmp_path: Path) -> None:
    path = write_book(tmp_path / "blank.xlsx", {"S": BLANK_HEADER})
    table, _ = read_excel(path, sheet=None, label="blank.xlsx", text_columns=no_text)
    assert table.column_names == ["a", "column1", "c"]
    assert table.column("column1").to_pylist() == [2.0]


def test_table_not_starting_at_a1_still_gets_ids_as_text(tmp_path: Path) -> None:
    # fastexcel keys dtypes by absolute sheet column: a table from C3 must still be mapped.
    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    sheet.write_row(2, 2, ["n", "uid"])
    sheet.write_row(3, 2, [1.5, 12345])
    sheet.write_row(4, 2, [2.5, 678])
    book.close()
    table, _ = read_excel(path, sheet=None, label="offset.xlsx", text_columns=ids_as_text)
    assert table.column_names == ["n", "uid"]
    assert table.column("uid").to_pylist() == ["12345", "678"]
    assert table.column("n").to_pylist() == [1.5, 2.5]
