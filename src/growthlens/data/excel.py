"""Read one sheet of an Excel or OpenDocument workbook (.xlsx, .xlsm, .xls, .ods) into Arrow.

The sheet is read whole and eagerly with fastexcel (calamine): a sheet holds at most
1,048,576 rows, so it fits in memory, and reading it at once makes a bad cell fail here,
naming the file. The first non-empty row is the header.

How cells come out:

* Every row is sampled to choose a column's type, so a column that mixes numbers and text
  comes out as text with every value kept (numbers as fastexcel writes them, ``"1.5"``,
  ``"2"``), and the typing step reports the values it cannot parse. That includes the
  texts fastexcel itself would read as null in a number column ("n/a", "NULL", "None", …);
  "nan" there is read as a float NaN, as DuckDB reads it in a CSV.
* Id columns (and whatever else ``text_columns`` names) are read as text. A number cell
  then gives its digits (``12345``, never ``12345.0``); Excel stores numbers as 64-bit
  floats, so only ids stored as text cells keep more than 15–16 digits exactly.
* Formula error cells (``#DIV/0!``, ``#N/A``, …) come out as null, never as a number.
* Date and datetime cells come out as Arrow timestamps (.ods dates as dates); a time-only
  cell is a timestamp on 1899-12-31, Excel's day zero.
* A column with no values comes out as text. A blank header cell is named
  ``column<i>`` (0-based position), as DuckDB names a blank CSV header.
* A column of numbers with a few TRUE/FALSE cells comes out as numbers (1.0 and 0.0):
  fastexcel's coercion, which this module does not undo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import fastexcel
import pyarrow as pa

from growthlens.data.headers import check_unique_headers
from growthlens.data.members import choose_member
from growthlens.errors import DataError

_UNREADABLE_FIX = (
    "if the workbook has a password, remove it; otherwise open it in Excel and save it "
    "again as .xlsx, or save the sheet as CSV"
)


class _NoEmptyColumnNotice(logging.Filter):
    """Drop fastexcel's notice that an empty column falls back to text: that is our intent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Could not determine dtype")


logging.getLogger("fastexcel.types.dtype").addFilter(_NoEmptyColumnNotice())


def read_excel(
    path: Path,
    *,
    sheet: str | None,
    label: str,
    text_columns: Callable[[Sequence[str]], Sequence[str]],
) -> tuple[pa.Table, str]:
    """Read one sheet of an .xlsx/.xlsm/.xls/.ods workbook into Arrow; returns (table, sheet name).

    Args:
        path: the workbook.
        sheet: the sheet to read; ``None`` reads the only sheet of a one-sheet workbook.
        label: what messages call the source.
        text_columns: given the headers, returns those to read as text (ids, and time
            columns that have a format).

    Returns:
        The sheet's rows under its stripped headers, and the name of the sheet read.

    Raises:
        DataError: the file is not a readable workbook (corrupt, password-protected), the
            sheet is missing or ambiguous, empty or has no rows, or two columns share a name.
    """
    reader = _open(path, label)
    name = choose_member(reader.sheet_names, sheet, label, kind="sheet", container="workbook")
    try:
        # fastexcel renames a repeated header ("uid", "uid_1"), so read the header row as
        # written first; the data pass below uses the same first non-empty row as header.
        first = reader.load_sheet(name, header_row=None, n_rows=1, dtypes="string")
        cells = first.to_arrow().to_pylist()
        if not cells:
            raise DataError(
                f"sheet {name!r} is empty",
                source=label,
                expected="a header row and rows",
                found="no cells",
                fix="choose the sheet that holds the table, or re-export it",
            )
        headers = [
            _header(cells[0][column.name], column.index) for column in first.selected_columns
        ]
        check_unique_headers(headers, label)
        wanted = set(text_columns(headers))
        # Integer keys of `dtypes` are absolute sheet columns (A = 0), not positions in the table.
        dtypes: fastexcel.DTypeMap = {
            column.absolute_index: "string"
            for column, header in zip(first.selected_columns, headers, strict=True)
            if header in wanted
        }
        typed = reader.load_sheet(
            name, header_row=0, schema_sample_rows=None, dtypes=dtypes or None
        )
        batch, dropped = typed.to_arrow_with_errors()
        columns = list(batch.columns)
        if dropped is not None:
            # fastexcel reads "n/a", "NULL", "None", … in a number or date column as null (and
            # reports the cell): where text keeps more values, keep it for the typing step.
            text = reader.load_sheet(name, header_row=0, dtypes="string", eager=True)
            columns = [
                as_text if as_text.null_count < column.null_count else column
                for column, as_text in zip(columns, text.columns, strict=True)
            ]
    except fastexcel.FastExcelError as exc:
        raise _unreadable(exc, label) from exc
    if batch.num_rows == 0:
        raise DataError(
            f"sheet {name!r} has a header but no rows",
            source=label,
            found="header " + ", ".join(headers),
            fix="re-export the table with its rows, or leave the table out",
        )
    # from_arrays also makes every field nullable (fastexcel marks full columns not-null).
    columns = [_not_null_type(column) for column in columns]
    return pa.Table.from_arrays(columns, names=headers), name


def _open(path: Path, label: str) -> fastexcel.ExcelReader:
    """Open by suffix; failing that, by content (an .xls that is really an .xlsx)."""
    try:
        return fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        try:
            return fastexcel.read_excel(path.read_bytes())
        except fastexcel.FastExcelError:
            # The suffix-based message is the precise one ("password protected", "not a zip").
            raise _unreadable(exc, label) from exc


def _header(cell: str | None, position: int) -> str:
    text = (cell or "").strip()
    return text or f"column{position}"


def _not_null_type(column: pa.Array) -> pa.Array:
    """Engines cannot store Arrow's null type; an all-empty column becomes text."""
    return column.cast(pa.string()) if pa.types.is_null(column.type) else column


def _unreadable(exc: Exception, label: str) -> DataError:
    # calamine puts the cause on the first line and the context below: keep every line.
    detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return DataError(
        f"cannot read the file as an Excel workbook: {detail or type(exc).__name__}",
        source=label,
        fix=_UNREADABLE_FIX,
    )
