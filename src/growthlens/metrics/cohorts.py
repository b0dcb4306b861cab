"""Cohort × age grids: which cells are observed and complete (docs/metrics.md, window rules).

Engine queries return only the cells that had activity; this module lays them on the grid
of every *observed* cell (activity period starting inside the window), so a cumulative
value carries through ages without orders, and cells past the window never appear.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from growthlens.derive.periods import Period, dates, py_next_period


def observed_grid(
    sizes: pd.DataFrame, *, window: tuple[date, date], period: Period, keys: list[str]
) -> pd.DataFrame:
    """Every observed (cohort, age) cell of each cohort in ``sizes``.

    Args:
        sizes: one row per cohort (and ``keys`` dimension values) with a ``cohort`` column.
        window: the data window.
        period: the cohort period.
        keys: extra columns identifying a cohort row (the ``by`` dimension), kept as is.

    Returns:
        ``sizes`` repeated per observed age, with ``age`` (int) and ``complete`` (bool).
    """
    rows = []
    for record in sizes.to_dict(orient="records"):
        start = pd.Timestamp(record["cohort"]).date()
        current, k = start, 0
        while current <= window[1]:
            nxt = py_next_period(current, period)
            complete = current >= window[0] and nxt - timedelta(days=1) <= window[1]
            rows.append({**record, "age": k, "complete": complete})
            current, k = nxt, k + 1
    columns = [*sizes.columns, "age", "complete"]
    grid = pd.DataFrame(rows, columns=columns)
    grid["cohort"] = dates(grid["cohort"])
    grid["age"] = grid["age"].astype("int64")
    grid["complete"] = grid["complete"].astype(bool)
    return grid.sort_values(["cohort", *keys, "age"], kind="stable").reset_index(drop=True)


def horizon_mean(
    table: pd.DataFrame, value: str, *, horizon: int, group: list[str] | None = None
) -> pd.DataFrame:
    """Unweighted mean of ``value`` over complete cells at age ``horizon − 1``.

    Skips NaN cells and returns how many cells were used (``cells``), per ``group``.
    """
    cells = table[(table["age"] == horizon - 1) & table["complete"] & table[value].notna()]
    if group:
        out = cells.groupby(group, dropna=False)[value].agg(["mean", "size"]).reset_index()
    else:
        out = pd.DataFrame({"mean": [cells[value].mean()], "size": [len(cells)]})
    return out.rename(columns={"mean": value, "size": "cells"})
