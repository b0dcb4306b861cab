"""Map a raw source to canonical names and types, in the engine.

Type problems that make a column unusable (text in a revenue column, dates that do not
parse) are :class:`DataError` with examples; they are found with one aggregate query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from growthlens.config import SourceSpec
from growthlens.data.mapping import ColumnMapping
from growthlens.data.model import Column, TableModel
from growthlens.data.readers import RawSource
from growthlens.engine import backend_name
from growthlens.errors import DataError

SOURCE_RANK = "_growthlens_source"
# Backends that store unsigned 64-bit integers; elsewhere ids are kept as text.
_UINT64_BACKENDS = {"duckdb", "clickhouse"}


def id_type(con_name: str) -> dt.DataType:
    """Numeric id type on this backend."""
    return dt.uint64 if con_name in _UINT64_BACKENDS else dt.string


def canonicalize(
    raw: RawSource,
    model: TableModel,
    mapping: ColumnMapping,
    spec: SourceSpec | None,
    *,
    rank: int,
    backend: str,
) -> ir.Table:
    """Select, rename and type ``raw`` into ``model``'s canonical columns (+ extras)."""
    table = raw.table
    schema = table.schema()
    exprs: dict[str, ir.Value] = {}
    checks: list[tuple[str, str, ir.Value, ir.Value, str]] = []
    fmt = spec.timestamp_format if spec else None
    for column in model.columns:
        header = mapping.canonical.get(column.name)
        if header is None:
            continue
        source = table[header]
        value, parsed_from_text = _coerce(source, schema[header], column, fmt, backend)
        if parsed_from_text:
            checks.append((column.name, header, source, value, _expectation(column, fmt)))
        exprs[column.name] = value.name(column.name)
    for header, name in mapping.extras.items():
        exprs[name] = table[header].name(name)
    if checks:
        _raise_on_unparseable(table, checks, raw.label, model.name)
    exprs[SOURCE_RANK] = ibis.literal(rank, type="int32").name(SOURCE_RANK)
    return table.select(**exprs)


def unify_ids(tables: dict[str, ir.Table], backend: str) -> dict[str, ir.Table]:
    """Give every id column one type across tables, so joins on ``user_id`` work.

    If any table's ids are text (e.g. ``"u1"``), all become text; otherwise they stay
    numeric (uint64 where the backend has it).
    """
    id_columns = ("user_id", "session_id", "order_id", "conversion_id")
    out = dict(tables)
    for col in id_columns:
        holders = [n for n, t in tables.items() if col in t.columns]
        if not holders:
            continue
        if any(tables[n][col].type().is_string() for n in holders):
            for n in holders:
                if not out[n][col].type().is_string():
                    out[n] = out[n].mutate(**{col: out[n][col].cast("string")})
    return out


def _coerce(
    source: ir.Value, dtype: dt.DataType, column: Column, fmt: str | None, backend: str
) -> tuple[ir.Value, bool]:
    """Return (typed expression, whether it was parsed from text and needs checking)."""
    kind = column.kind
    if kind == "text":
        return source.cast("string"), False
    if kind == "id":
        return _coerce_id(source, dtype, backend)
    if kind == "number":
        if dtype.is_numeric():
            return source.cast("float64"), False
        if dtype.is_string():
            return source.strip().try_cast("float64"), True
        raise _type_error(column, dtype)
    if kind == "timestamp":
        if dtype.is_timestamp():
            # tz-aware → naive in the session time zone (set from `timezone`).
            return (source.cast(dt.Timestamp()) if dtype.timezone else source), False
        if dtype.is_date():
            return source.cast(dt.Timestamp()), False
        if dtype.is_string():
            text = source.strip()
            parsed = text.as_timestamp(fmt) if fmt else text.try_cast(dt.Timestamp())
            return parsed, True
        raise _type_error(column, dtype)
    if kind == "date":
        if dtype.is_date():
            return source, False
        if dtype.is_timestamp():
            return source.date(), False
        if dtype.is_string():
            text = source.strip()
            parsed = text.as_timestamp(fmt).date() if fmt else text.try_cast(dt.date)
            return parsed, True
        raise _type_error(column, dtype)
    raise AssertionError(kind)


def _coerce_id(source: ir.Value, dtype: dt.DataType, backend: str) -> tuple[ir.Value, bool]:
    numeric = id_type(backend)
    if dtype.is_integer():
        return source.cast(numeric), False
    if dtype.is_string():
        # Text stays text here; numeric_ids() decides for the whole table after the union.
        return source.strip(), False
    if dtype.is_floating():
        # Floats cannot hold large ids exactly; keep the text the engine prints.
        return source.cast("int64").cast(numeric), False
    return source.cast("string"), False


def numeric_ids(table: ir.Table, columns: Sequence[str], backend: str) -> ir.Table:
    """Cast text id columns to uint64 when every non-null value is a plain integer that fits."""
    target = id_type(backend)
    if target.is_string():
        return table
    candidates = [c for c in columns if c in table.columns and table[c].type().is_string()]
    if not candidates:
        return table
    aggs = {}
    for c in candidates:
        col = table[c]
        aggs[c] = (col.notnull() & (~col.re_search(r"^[0-9]{1,20}$") | col.try_cast(target).isnull())).sum()
    bad = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    casts = {c: table[c].try_cast(target) for c in candidates if not bad[c]}
    return table.mutate(**casts) if casts else table


def _raise_on_unparseable(
    table: ir.Table,
    checks: list[tuple[str, str, ir.Value, ir.Value, str]],
    label: str,
    table_name: str,
) -> None:
    aggs = {
        f"bad_{i}": (source.notnull() & (source.cast("string").strip() != "") & value.isnull()).sum()
        for i, (_, _, source, value, _) in enumerate(checks)
    }
    aggs["rows"] = table.count()
    counts: dict[str, Any] = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    for i, (name, header, source, value, expected) in enumerate(checks):
        bad = int(counts[f"bad_{i}"] or 0)
        if not bad:
            continue
        cond = source.notnull() & (source.cast("string").strip() != "") & value.isnull()
        examples = table.filter(cond).select(v=source.cast("string")).limit(5).to_pyarrow()["v"].to_pylist()
        raise DataError(
            f"{bad:,} of {int(counts['rows']):,} values cannot be read as {expected}",
            source=label,
            column=header,
            expected=expected,
            found="text such as " + ", ".join(repr(e) for e in examples[:3]),
            examples=examples,
            fix=(
                f"clean the column, map another column to {name} under [{table_name}] columns, "
                "or set timestamp_format = \"%d-%m-%Y\" (your format) in the source"
                if "timestamp" in expected or "date" in expected
                else f"clean the column or map another column to {name} under [{table_name}] columns"
            ),
        )


def _expectation(column: Column, fmt: str | None) -> str:
    if column.kind == "number":
        return "a number"
    what = "a timestamp" if column.kind == "timestamp" else "a date"
    return f"{what} in the format {fmt!r}" if fmt else f"{what} (e.g. 2017-06-01 00:01:00)"


def _type_error(column: Column, dtype: dt.DataType) -> DataError:
    return DataError(
        f"column {column.name!r} has type {dtype}",
        column=column.name,
        expected=_expectation(column, None),
        found=str(dtype),
    )


__all__ = ["SOURCE_RANK", "canonicalize", "id_type", "numeric_ids", "unify_ids"]
