"""Engine-side inputs and output of the attribute imputation (:mod:`growthlens.stats.imputation`).

- :func:`attribute_summary`: per customers-table column, how many customers have a value
  and how many distinct values there are (one aggregate): which attribute can be imputed.
- :func:`line_shares`: per buyer, the mix of their purchase rows over every
  low-cardinality column of the order lines that :func:`growthlens.metrics.customers.
  customer_features` does not already summarise (``product_sex`` in the shop case).
- :func:`with_imputed`: the customers table with a column's missing values filled from a
  model's predictions, labelled by two added columns; known values are never replaced.

Why shares of *every* low-cardinality line column rather than of the attribute's own
categories: a line column describes items (a product's sex, size band, sport), not the
customer, and which line column speaks for which attribute is not known in general; the
model learns it. At most :data:`MAX_VALUES` distinct values: one feature per value, and
wider text columns (product names, colours) are already summarised as the customer's
favourite group and colour. The share's denominator is the customer's rows with a value
in that column (a football has no sex): the mix among the items the property applies to;
beside it the number of those rows says how much evidence the mix rests on.
"""

from __future__ import annotations

import re

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.metrics.fetch import fetch

MAX_VALUES = 10
"""Line columns with more distinct values than this are not turned into shares."""
SUMMARISED = ("user_id", "ts", "revenue", "order_id", "items", "product", "colour", "base_sale")
"""Line columns left out: the line's identity and what customer_features already counts."""
SUMMARY_COLUMNS = ("column", "type", "temporal", "customers", "known", "missing", "values")


def attribute_summary(ds: Dataset) -> pd.DataFrame:
    """Per customers-table column but ``user_id``: its values' counts, one engine aggregate.

    Returns:
        Columns :data:`SUMMARY_COLUMNS`: ``type`` (the engine type as text), ``temporal``
        (a date, time, timestamp or interval: never a category), ``customers``
        (rows of the table), ``known`` (rows with a value), ``missing`` (rows without),
        ``values`` (distinct non-null values); in the table's column order. Empty
        without a customers table.
    """
    if not ds.has("customers"):
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    table = ds.table("customers")
    columns = [c for c in table.columns if c != "user_id"]
    if not columns:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    aggs: dict[str, ir.Value] = {"_rows": table.count()}
    for i, c in enumerate(columns):
        aggs[f"k{i}"] = table[c].count()
        aggs[f"d{i}"] = table[c].nunique()
    got = fetch(table.aggregate(**aggs)).iloc[0]
    rows = int(got["_rows"])
    schema = table.schema()
    return pd.DataFrame(
        [
            {
                "column": c,
                "type": str(schema[c]),
                "temporal": bool(schema[c].is_temporal() or schema[c].is_interval()),
                "customers": rows,
                "known": int(got[f"k{i}"]),
                "missing": rows - int(got[f"k{i}"]),
                "values": int(got[f"d{i}"]),
            }
            for i, c in enumerate(columns)
        ],
        columns=list(SUMMARY_COLUMNS),
    )


def _name(column: str, value: object, taken: set[str]) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    base = f"{column}_share_{re.sub(r'[^0-9A-Za-z_]+', '_', str(value)).strip('_') or 'value'}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def line_shares(ds: Dataset, *, max_values: int = MAX_VALUES) -> pd.DataFrame:
    """Per buyer, the share of their rows with each value of each low-cardinality line column.

    The rows are the order lines (``ds.lines``), else the orders. A column qualifies when
    it is not in :data:`SUMMARISED`, holds numbers, booleans or text, and has 2 to
    ``max_values`` distinct non-null values. For each such column ``c`` and value ``v``:
    ``c_share_v`` = the customer's rows with ``c = v`` ÷ their rows with a value of ``c``
    (NaN when none), and ``c_lines`` = those rows with a value.

    Three engine queries: the distinct counts of the candidate columns (one pass), the
    values of the qualifying ones, one aggregate per customer. Only per-customer counts
    leave the engine.

    Returns:
        ``user_id`` and the columns above, one row per buyer, sorted by ``user_id``; just
        ``user_id`` (no rows) when no column qualifies or there are no purchases.

    Raises:
        ValueError: ``max_values`` not an integer ≥ 2.
    """
    if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 2:
        raise ValueError(f"max_values: expected an integer ≥ 2, found {max_values!r}")
    source = ds.lines if ds.lines is not None else ds.tables.get("orders")
    none = pd.DataFrame({"user_id": pd.Series([], dtype="uint64")})
    if source is None:
        return none
    schema = source.schema()
    candidates = [
        c
        for c in source.columns
        if c not in SUMMARISED
        and (schema[c].is_numeric() or schema[c].is_boolean() or schema[c].is_string())
    ]
    if not candidates:
        return none
    counts = fetch(
        source.aggregate(**{f"d{i}": source[c].nunique() for i, c in enumerate(candidates)})
    ).iloc[0]
    chosen = [c for i, c in enumerate(candidates) if 2 <= int(counts[f"d{i}"]) <= max_values]
    if not chosen:
        return none
    values: dict[str, list[object]] = {}
    for c in chosen:
        distinct = fetch(source.filter(source[c].notnull()).select(c).distinct())[c]
        found = [v.item() if hasattr(v, "item") else v for v in distinct.tolist()]
        try:
            values[c] = sorted(found)
        except TypeError:
            values[c] = sorted(found, key=str)
    aggs: dict[str, ir.Value] = {}
    names: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    taken: set[str] = set()
    for i, c in enumerate(chosen):
        aggs[f"_k{i}"] = source[c].count()
        pairs = []
        for j, v in enumerate(values[c]):
            aggs[f"_n{i}_{j}"] = (source[c] == ibis.literal(v)).ifelse(1, 0).sum()
            pairs.append((f"_n{i}_{j}", _name(c, v, taken)))
        names[f"_k{i}"] = (f"{c}_lines", pairs)
    frame = fetch(source.group_by("user_id").aggregate(**aggs).order_by("user_id"), ds)
    out = {"user_id": frame["user_id"]}
    for known, (lines_name, pairs) in names.items():
        denominator = frame[known].astype("float64")
        denominator = denominator.where(denominator > 0)
        for raw, name in pairs:
            out[name] = frame[raw].astype("float64") / denominator
        out[lines_name] = frame[known].astype("int64")
    return pd.DataFrame(out).reset_index(drop=True)


def with_imputed(table: ir.Table, imputed: pd.DataFrame, column: str) -> ir.Table:
    """``table`` with ``column``'s missing values filled from ``imputed``, labelled.

    Args:
        table: the customers table (``user_id`` and ``column``).
        imputed: ``user_id``, ``column`` (the predicted value) and ``probability``, one
            row per customer.
        column: the attribute.

    Returns:
        ``table``'s rows and columns in order, ``column`` = its own value where it has one
        (never replaced), else the prediction (cast to the column's type); then
        ``<column>_imputed`` (true where the prediction was used) and
        ``<column>_probability`` (its probability; null where not imputed).

    Raises:
        ValueError: ``imputed`` lacks a column, repeats a customer, or the added columns
            exist already.
    """
    need = ["user_id", column, "probability"]
    lacking = [c for c in need if c not in imputed.columns]
    if lacking:
        raise ValueError(f"imputed: expected columns {need}, found {list(imputed.columns)}")
    if imputed["user_id"].duplicated().any():
        raise ValueError("imputed: expected one row per user_id, found repeats")
    flag, probability = f"{column}_imputed", f"{column}_probability"
    clash = [c for c in (flag, probability) if c in table.columns]
    if clash:
        raise ValueError(f"table: expected no columns {clash} yet (imputed already?)")
    small = imputed[need].rename(columns={column: "_value", "probability": "_probability"})
    small = small.assign(_probability=small["_probability"].astype("float64"))
    if table.user_id.type().is_string():
        # Numeric ids come back from the engine as numbers (metrics.fetch); an engine that
        # stores them as text matches them as their digits (and cannot upload uint64).
        small = small.assign(user_id=small["user_id"].map(lambda u: None if pd.isna(u) else str(u)))
    right = ibis.memtable(small)
    right = right.mutate(
        user_id=right.user_id.cast(table.user_id.type()),
        _value=right._value.cast(table[column].type()),
    )
    joined = table.left_join(right, table.user_id == right.user_id)
    used = joined[column].isnull() & joined._value.notnull()
    return joined.select(
        *[
            ibis.coalesce(joined[c], joined._value).name(c) if c == column else joined[c]
            for c in table.columns
        ],
        used.name(flag),
        ibis.ifelse(used, joined._probability, ibis.null("float64")).name(probability),
    )
