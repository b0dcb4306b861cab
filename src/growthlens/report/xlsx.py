"""The Excel export: the report's tables as one workbook, one sheet per table.

Sheets, in order:

- ``About``: the title, generation time, the header lines (data, window, settings and
  where they came from) and why any report group is missing;
- ``Contents``: one row per table sheet: sheet name, report group, analysis, table key
  and row count;
- ``Summary``: every headline number (``Result.summary``) of every analysis: value,
  unit, label and interval;
- one sheet per table of every Result (its main table first, then ``Result.tables``),
  named after the analysis and the table key (see :func:`sheet_names`).

Cells are safe in a spreadsheet in the same way as the report's CSV downloads
(growthlens.report.html.csv_bytes): every text cell is written as text, never as a
formula or link, and text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'``, so a copy pasted or saved as CSV is not run either. Numbers
stay numbers; NaN is an empty cell. Excel cannot hold time zones, durations or more than
1,048,576 rows: aware timestamps are written in their own zone without it, durations as
seconds, and a longer table is cut with its last row saying so.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from growthlens.errors import ConfigError
from growthlens.report.html import FORMULA_START
from growthlens.report.model import Section
from growthlens.result import Result

MAX_SHEET_NAME = 31
"""Excel's limit on a sheet name's length."""
MAX_ROWS = 1_048_576
"""Excel's rows per sheet, the header row included."""
MAX_TEXT = 32_767
"""Excel's characters per cell."""
_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_RESERVED = ("about", "contents", "summary", "history")


def sheet_names(keys: Sequence[str]) -> list[str]:
    r"""Valid, unique Excel sheet names for ``keys``, in order.

    Characters Excel refuses (``[ ] : * ? / \\`` and control characters) become ``_``,
    leading and trailing apostrophes and spaces are dropped, the name is cut to 31
    characters, and a name already taken (compared in any case, like Excel; ``About``,
    ``Contents``, ``Summary`` and ``History`` are taken) gets `` (2)``, `` (3)`` … within
    the 31 characters.

    >>> sheet_names(["ltv main", "ltv main", "a/b:c", "x" * 40, "summary"])
    ['ltv main', 'ltv main (2)', 'a_b_c', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'summary (2)']
    """
    taken = set(_RESERVED)
    out = []
    for key in keys:
        base = _FORBIDDEN.sub("_", key).strip(" '")[:MAX_SHEET_NAME] or "table"
        name, number = base, 2
        while name.lower() in taken:
            suffix = f" ({number})"
            name = base[: MAX_SHEET_NAME - len(suffix)].rstrip(" '") + suffix
            number += 1
        taken.add(name.lower())
        out.append(name)
    return out


def cell_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that Excel stores as it is and never runs (see the module doc).

    >>> cell_safe(pd.DataFrame({"=a": ["=cmd()", "ok"], "n": [-1.5, 2.0]})).to_dict("list")
    {"'=a": ["'=cmd()", 'ok'], 'n': [-1.5, 2.0]}
    """
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_localize(None)  # the wall time in the data's zone
        elif pd.api.types.is_timedelta64_dtype(values.dtype):
            out[column] = values.dt.total_seconds()
        elif isinstance(values.dtype, pd.PeriodDtype | pd.IntervalDtype):
            out[column] = values.astype(str)
        elif not (
            pd.api.types.is_numeric_dtype(values.dtype)
            or pd.api.types.is_bool_dtype(values.dtype)
            or pd.api.types.is_datetime64_dtype(values.dtype)
        ):
            out[column] = values.astype("object").map(_text)
    out.columns = [str(_text(str(c))) for c in out.columns]
    return out


def _text(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()  # a NumPy scalar in a text column: its Python value
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, int | float | bool | pd.Timestamp | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text[:MAX_TEXT]


def _tables(sections: Iterable[Section]) -> list[tuple[Section, Result, str, pd.DataFrame]]:
    out = []
    for section in sections:
        for result in section.results:
            out.append((section, result, "main", result.table))
            out.extend((section, result, key, frame) for key, frame in result.tables.items())
    return out


def _summary(sections: Iterable[Section]) -> pd.DataFrame:
    rows = [
        {
            "analysis": result.name,
            "title": result.title,
            "key": key,
            "label": entry.label,
            "value": entry.value,
            "unit": entry.unit,
            "low": entry.low,
            "high": entry.high,
            "method": entry.method,
        }
        for section in sections
        for result in section.results
        for key, entry in result.summary.items()
    ]
    columns = ["analysis", "title", "key", "label", "value", "unit", "low", "high", "method"]
    return pd.DataFrame(rows, columns=columns)


def write_xlsx(
    path: Path,
    sections: tuple[Section, ...],
    *,
    title: str,
    header: tuple[tuple[str, str], ...],
    generated_at: datetime,
    left_out: tuple[str, ...] = (),
) -> Path:
    """Write the report's tables to ``path`` as an Excel workbook (see the module doc).

    Raises:
        ConfigError: the ``xlsxwriter`` package is not installed.
    """
    if importlib.util.find_spec("xlsxwriter") is None:  # pandas' engine: say what to install
        raise ConfigError(
            "the xlsx format needs the xlsxwriter package, which is not installed; "
            "run: pip install xlsxwriter (or choose --format html or json)"
        )
    tables = _tables(sections)
    keys = [r.name if key == "main" else f"{r.name} {key}" for _, r, key, _ in tables]
    names = sheet_names(keys)
    about = pd.DataFrame(
        [
            ("Title", title),
            ("Generated", generated_at.strftime("%Y-%m-%d %H:%M")),
            *header,
            *(("Not in this report", why) for why in left_out),
        ],
        columns=["item", "value"],
    )
    contents = pd.DataFrame(
        [
            {
                "sheet": name,
                "section": section.title,
                "analysis": result.title,
                "table": key,
                "rows": len(frame),
            }
            for name, (section, result, key, frame) in zip(names, tables, strict=True)
        ],
        columns=["sheet", "section", "analysis", "table", "rows"],
    )
    options = {"options": {"strings_to_formulas": False, "strings_to_urls": False}}
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs=options) as writer:
        fixed = (("About", about), ("Contents", contents), ("Summary", _summary(sections)))
        for name, frame in fixed:
            cell_safe(frame).to_excel(writer, sheet_name=name, index=False)
        for name, (_, _, _, frame) in zip(names, tables, strict=True):
            _sheet(frame).to_excel(writer, sheet_name=name, index=False)
    return path


def _sheet(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` made cell-safe, cut to Excel's rows with a last row saying so."""
    safe = cell_safe(frame)
    room = MAX_ROWS - 1  # the header row
    if len(safe) <= room:
        return safe
    cut = safe.iloc[: room - 1].astype(object)
    note = pd.DataFrame(
        [
            [
                f"… cut: {len(safe) - (room - 1):,} more rows (Excel holds {MAX_ROWS:,}); "
                "the JSON export has them all"
            ]
            + [None] * (len(safe.columns) - 1)
        ],
        columns=safe.columns,
    )
    return pd.concat([cut, note], ignore_index=True)
