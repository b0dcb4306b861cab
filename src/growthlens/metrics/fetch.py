"""Bring an aggregate out of the engine as a small pandas frame.

Through Arrow rather than ``.execute()``: exact types (uint64 ids, dates) and no pandas
string-inference warnings. Only aggregates go through here, never row-level tables.

**Ids in the user's type.** Numeric ids (every value a plain non-negative integer below
2**64, whatever the input's type: int64, uint64, integral floats, digit strings) are stored
as ``uint64`` on engines with unsigned integers (DuckDB) and as their decimal text on the
others (Spark: ``Capabilities.unsigned_ids`` is false; growthlens.data.canonical). Given the
Dataset, :func:`fetch` turns such text ids back into ``uint64`` as they leave the engine, so
a per-user frame (a target list, cluster assignments, funnel users) holds the same values
and dtype on every engine, and frames fetched separately still merge on ``user_id``. A frame
the engine sorted by an id column is re-sorted by the numbers (the engine sorted the text:
``"10" < "9"``), so row order is the same too. Text ids (``"u1"``) stay text everywhere.
"""

from __future__ import annotations

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from growthlens.data.canonical import ID_COLUMNS
from growthlens.data.dataset import Dataset
from growthlens.engine import capabilities

# As data.canonical's plain id: no sign, no leading zero, at most 20 digits (and the value
# must fit 64 unsigned bits, checked by the decimal(20, 0) cast below).
_PLAIN_INTEGER = r"^(0|[1-9][0-9]{0,19})$"
_UINT64_MAX = str(2**64 - 1)


def fetch(
    expr: ir.Table, ds: Dataset | None = None, *, categorical: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Run an aggregate expression and return it as pandas.

    Args:
        expr: the aggregate (a small table).
        ds: the Dataset the expression reads. Given, id columns (``user_id`` …) the Dataset
            holds as numbers come back as ``uint64`` on every engine (module doc); without
            it they come back in the engine's storage type.
        categorical: text columns to return as pandas categoricals, categories sorted:
            a dimension on millions of per-user rows, encoded in Arrow rather than as one
            Python string per row.
    """
    table = expr.to_pyarrow()
    if ds is not None:
        table = _restore_ids(expr, table, numeric_ids(ds))
    for name in categorical:
        at = table.schema.get_field_index(name)
        table = table.set_column(at, name, pc.dictionary_encode(table.column(name)))
    frame: pd.DataFrame = table.to_pandas()
    for name in categorical:
        values = frame[name].cat
        frame[name] = values.reorder_categories(sorted(values.categories))
    return frame


def numeric_ids(ds: Dataset) -> frozenset[str]:
    """The id columns whose ids are numbers in every table of ``ds`` that has them.

    On an engine with unsigned integers the storage type says it (``uint64``: numbers). On
    the others every id is text, and numbers are told by their values, as the load told
    them: a column is numeric when each of its non-null values in every table (and the
    order lines) is a plain non-negative integer of at most 20 digits up to 2**64 − 1. One
    aggregate per table, computed once per Dataset (:meth:`Dataset.remember`).

    The load decides on the rows it read, this on the rows it accepted: the two differ only
    when the sole non-numeric ids were in rows the load excluded.
    """
    tables = {**ds.tables, **({"_lines": ds.lines} if ds.lines is not None else {})}
    if capabilities(ds.backend).unsigned_ids:
        return frozenset(
            c
            for c in ID_COLUMNS
            if any(c in t.columns for t in tables.values())
            and all(not t[c].type().is_string() for t in tables.values() if c in t.columns)
        )
    return ds.remember(("growthlens.numeric_ids",), lambda: _probe(tables))


def _probe(tables: dict[str, ir.Table]) -> frozenset[str]:
    found: dict[str, bool] = {}
    for table in tables.values():
        held = [c for c in ID_COLUMNS if c in table.columns and found.get(c, True)]
        text = [c for c in held if table[c].type().is_string()]
        for c in held:
            if c not in text:
                found[c] = table[c].type().is_integer() or table[c].type().is_decimal()
        if not text:
            continue
        counts = table.aggregate(**{c: _not_plain(table[c]).sum() for c in text}).to_pyarrow()
        for c in text:
            found[c] = (counts[c][0].as_py() or 0) == 0
    return frozenset(c for c, numeric in found.items() if numeric)


def _not_plain(value: ir.Value) -> ir.IntegerValue:
    text = value.cast("string")
    # Shorter than 20 digits always fits; 20 digits fit up to 2**64 − 1 (compared as text).
    fits = (text.length() < 20) | (text <= ibis.literal(_UINT64_MAX))
    plain = text.re_search(_PLAIN_INTEGER) & fits
    return (text.notnull() & ~plain).ifelse(1, 0)


def _restore_ids(expr: ir.Table, table: pa.Table, numeric: frozenset[str]) -> pa.Table:
    """Text ids of numeric id columns as ``uint64``, re-sorted if the engine sorted by them."""
    names = [
        n
        for n in table.column_names
        if n in numeric
        and (pa.types.is_string(table[n].type) or pa.types.is_large_string(table[n].type))
    ]
    if not names:
        return table
    for name in names:
        index = table.column_names.index(name)
        table = table.set_column(index, name, pc.cast(table[name], pa.uint64()))
    op = expr.op()
    if isinstance(op, ops.Sort):
        keys = [(k.arg, k.ascending) for k in op.keys]
        if all(isinstance(a, ops.Field) and a.name in table.column_names for a, _ in keys) and any(
            isinstance(a, ops.Field) and a.name in names for a, _ in keys
        ):
            order = [
                (a.name, "ascending" if up else "descending")
                for a, up in keys
                if isinstance(a, ops.Field)
            ]
            # Stable, nulls last: what the engines do for an ascending sort of ids.
            table = table.sort_by(order)
    return table
