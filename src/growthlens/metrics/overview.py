"""What was loaded, per table, as small frames (for ``gl.overview``).

Per table the rows loaded, accepted and excluded, the first and last date, distinct
users (counted in the engine), the columns and how they were mapped, the most frequent
values of text columns and accepted rows per day. Engine → small frames only; the
analysis (growthlens.analyses.overview) summarises, words and draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.quality import TableCounts
from growthlens.data.tables import TABLES
from growthlens.derive.activity import session_users

# Text columns with at most this many distinct values are listed value by value.
MAX_DIMENSION_VALUES = 50
TOP_VALUES = 10


@dataclass(frozen=True)
class LoadedTables:
    """The frames of the overview (columns as in ``gl.overview``'s docstring).

    Attributes:
        table: one row per loaded table: counts, dates, distinct users and preset.
        columns: per table and column: source column, type, nulls, distinct values.
        values: the most frequent values of each text column with few distinct values.
        daily: accepted rows per day and table.
    """

    table: pd.DataFrame
    columns: pd.DataFrame
    values: pd.DataFrame
    daily: pd.DataFrame


def loaded_tables(ds: Dataset) -> LoadedTables:
    """What was loaded, per table (one engine aggregate per table and column kind)."""
    quality = ds.quality
    rows: list[dict[str, Any]] = []
    column_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    daily_parts: list[pd.DataFrame] = []
    for counts in quality.counts:
        table = ds.tables.get(counts.table)
        known = _known_distinct(ds, counts.table)
        stats = _column_stats(table, known, counts.unique) if table is not None else {}
        users = stats.get("user_id", {}).get("distinct")
        rows.append(
            {
                "table": counts.table,
                "sources": ", ".join(counts.sources),
                "rows_loaded": counts.loaded,
                "rows_accepted": counts.accepted,
                "rows_excluded": counts.excluded,
                "excluded_share": counts.excluded / counts.loaded if counts.loaded else math.nan,
                "first_date": counts.first,
                "last_date": counts.last,
                "users": users,
                "preset": counts.preset,
            }
        )
        column_rows.extend(_columns_of(counts, table, stats))
        if table is not None:
            value_rows.extend(_top_values(counts.table, table, stats))
            daily = _daily_rows(counts.table, table)
            if daily is not None:
                daily_parts.append(daily)
    main = pd.DataFrame(
        rows,
        columns=[
            "table",
            "sources",
            "rows_loaded",
            "rows_accepted",
            "rows_excluded",
            "excluded_share",
            "first_date",
            "last_date",
            "users",
            "preset",
        ],
    ).astype({"users": "Int64"})
    columns = pd.DataFrame(
        column_rows, columns=["table", "column", "source_column", "type", "nulls", "distinct"]
    )
    values = pd.DataFrame(value_rows, columns=["table", "column", "value", "rows"])
    daily = (
        pd.concat(daily_parts, ignore_index=True)
        if daily_parts
        else pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "table": [], "rows": []})
    )
    return LoadedTables(main, columns, values, daily)


def _known_distinct(ds: Dataset, name: str) -> dict[str, int]:
    """Distinct counts the Dataset keeps anyway, so the overview does not count them again.

    The users with a session are ``session_users`` over the whole window, which the KPI
    and channel tables read: the same ``COUNT(DISTINCT user_id)`` of the same rows.
    """
    if name != "sessions":
        return {}
    users = session_users(ds, None, ()).to_pyarrow()["users"][0].as_py()
    return {"user_id": int(users or 0)}


def _column_stats(
    table: ir.Table, known: dict[str, int], unique: tuple[str, ...]
) -> dict[str, dict[str, int]]:
    # One engine aggregate per table: nulls and distinct values of every column. A key
    # the load left without repeats (``unique``) has as many distinct values as non-null
    # ones: counted, not hashed.
    metrics: dict[str, ir.Scalar] = {}
    for i, column in enumerate(table.columns):
        metrics[f"n{i}"] = table[column].isnull().sum()
        if column in unique:
            metrics[f"d{i}"] = table[column].count()
        elif column not in known:
            metrics[f"d{i}"] = table[column].nunique()
    row = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    return {
        column: {
            "nulls": int(row[f"n{i}"] or 0),
            "distinct": known[column] if column in known else int(row[f"d{i}"] or 0),
        }
        for i, column in enumerate(table.columns)
    }


def _columns_of(
    counts: TableCounts, table: ir.Table | None, stats: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    schema = table.schema() if table is not None else {}
    out = []
    for column in counts.columns:
        out.append(
            {
                "table": counts.table,
                "column": column,
                "source_column": counts.mapping.get(column, column),
                "type": str(schema[column]) if column in schema else None,
                "nulls": stats.get(column, {}).get("nulls"),
                "distinct": stats.get(column, {}).get("distinct"),
            }
        )
    return out


def _top_values(
    name: str, table: ir.Table, stats: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    model = TABLES[name]
    out: list[dict[str, Any]] = []
    for column, dtype in table.schema().items():
        known = model.column(column)
        if not dtype.is_string() or (known is not None and known.kind == "id"):
            continue
        if stats.get(column, {}).get("distinct", MAX_DIMENSION_VALUES + 1) > MAX_DIMENSION_VALUES:
            continue
        value = table[column].fill_null("(unknown)")
        grouped = table.group_by(value=value).aggregate(rows=table.count())
        top = (
            grouped.order_by([ibis.desc("rows"), "value"])
            .limit(TOP_VALUES)
            .to_pyarrow()
            .to_pylist()
        )
        out.extend(
            {"table": name, "column": column, "value": r["value"], "rows": int(r["rows"])}
            for r in top
        )
    return out


def _daily_rows(name: str, table: ir.Table) -> pd.DataFrame | None:
    time_column = TABLES[name].time_column
    if time_column is None or time_column not in table.columns:
        return None
    col = table[time_column]
    day = col if col.type().is_date() else col.date()
    frame = table.group_by(date=day).aggregate(rows=table.count()).to_pyarrow().to_pandas()
    frame = frame.sort_values("date").reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"])
    frame.insert(1, "table", name)
    out: pd.DataFrame = frame[["date", "table", "rows"]]
    return out
