"""Order lines → orders: one row per order from one row per item bought.

With ``order_lines = true`` the orders source has a row per item (a purchase log such
as ``purchases(id, product, colour, cost, dt)``). The load checks the lines (every
orders check, counted in lines), then groups the accepted lines into orders here, in
the engine:

- **an order** is the lines of one ``(user_id, order_id)``; lines without an order id
  (or a source without the column) form one order per ``(user_id, calendar day)`` of
  ``ts``, the usual reading of a log that records days;
- ``ts`` is the order's first line's time, ``revenue`` the sum of its lines' revenue,
  ``items`` its number of lines, ``order_id`` the given id (absent when the source has
  none);
- every other column is kept when it has one value within each order (a null-only
  column counts as one value; a column null on some lines and set on others does not),
  else left out: it describes items, not orders, and stays on ``ds.lines``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

ORDER_DAY = "_growthlens_order_day"
_CORE = ("user_id", "ts", "revenue", "order_id", "items")


def order_keys(lines: ir.Table) -> dict[str, ir.Value]:
    """The columns that identify a line's order (see the module doc)."""
    keys: dict[str, ir.Value] = {"user_id": lines.user_id}
    day = lines.ts.date()
    if "order_id" in lines.columns:
        keys["order_id"] = lines.order_id
        # Only lines without an id fall back to their day: an id names one order.
        keys[ORDER_DAY] = ibis.ifelse(lines.order_id.isnull(), day, ibis.null("date"))
    else:
        keys[ORDER_DAY] = day
    return keys


def constant_columns(lines: ir.Table) -> list[str]:
    """The columns beyond the order's own that hold one value within every order.

    One aggregate over the lines: per order, the distinct non-null values and the nulls
    of each column; a column is constant when no order has two values, or a value and a
    null.
    """
    candidates = [c for c in lines.columns if c not in _CORE]
    if not candidates:
        return []
    keyed = lines.mutate(**order_keys(lines))
    keys = list(order_keys(lines))
    per_order = keyed.group_by(keys).aggregate(
        **{f"d{i}": keyed[c].nunique() for i, c in enumerate(candidates)},
        **{f"n{i}": keyed[c].isnull().sum() for i, c in enumerate(candidates)},
        _lines=keyed.count(),
    )
    mixed = {
        f"m{i}": (
            (per_order[f"d{i}"] > 1) | ((per_order[f"d{i}"] == 1) & (per_order[f"n{i}"] > 0))
        ).sum()
        for i in range(len(candidates))
    }
    row = per_order.aggregate(**mixed).to_pyarrow().to_pylist()[0]
    return [c for i, c in enumerate(candidates) if not int(row[f"m{i}"] or 0)]


def orders_from_lines(lines: ir.Table, keep: list[str] | None = None) -> ir.Table:
    """One row per order: ``user_id``, ``ts``, ``revenue``, ``items``, [``order_id``], kept columns.

    ``keep``: the extra columns to carry (default: :func:`constant_columns`, one scan).

    >>> import pandas as pd
    >>> lines = ibis.memtable(pd.DataFrame({
    ...     "user_id": [1, 1, 1, 2],
    ...     "ts": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-01-02", "2023-01-01"]),
    ...     "revenue": [10.0, 5.0, 7.0, 3.0], "city": [5, 5, 5, 6]}))
    >>> orders = orders_from_lines(lines).order_by(["user_id", "ts"]).to_pandas()
    >>> [tuple(r) for r in orders[["user_id", "revenue", "items", "city"]].itertuples(index=False)]
    [(1, 15.0, 2, 5), (1, 7.0, 1, 5), (2, 3.0, 1, 6)]
    """
    extras = constant_columns(lines) if keep is None else list(keep)
    keys = order_keys(lines)
    keyed = lines.mutate(**keys)
    aggs: dict[str, ir.Value] = {
        "ts": keyed.ts.min(),
        "revenue": keyed.revenue.sum(),
        "items": keyed.count(),
    }
    # One value per order (constant_columns): any aggregate returns it.
    aggs.update({c: keyed[c].max() for c in extras})
    grouped = keyed.group_by(list(keys)).aggregate(**aggs)
    first = ["user_id", "ts", "revenue"]
    if "order_id" in lines.columns:
        first.append("order_id")
    return grouped.select(*first, "items", *extras)


__all__ = ["ORDER_DAY", "constant_columns", "order_keys", "orders_from_lines"]
