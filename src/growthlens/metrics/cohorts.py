"""Cohort × age grids: which cells are observed and complete (docs/metrics.md, window rules).

Engine queries return only the cells that had activity; this module lays them on the grid
of every *observed* cell (activity period starting inside the window), so a cumulative
value carries through ages without orders, and cells past the window never appear.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import pandas as pd

from growthlens.derive.periods import Period, dates, py_next_period
from growthlens.errors import ConfigError

Average = Literal["balanced", "all"]
AVERAGES: tuple[str, ...] = ("balanced", "all")
MIN_COHORTS = 3
"""Fewest cohorts a balanced average curve should rest on; fewer shortens the curve."""


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


def check_average(average: str) -> Average:
    """The cohort-average rule: ``balanced`` (one fixed set of cohorts) or ``all``."""
    if average not in AVERAGES:
        raise ConfigError(f"average must be one of {', '.join(AVERAGES)}; got {average!r}")
    return average  # type: ignore[return-value]


def cohort_curve(
    table: pd.DataFrame,
    value: str,
    *,
    horizon: int,
    keys: list[str] | None = None,
    average: Average = "balanced",
    min_cohorts: int = MIN_COHORTS,
) -> pd.DataFrame:
    """Average curve of ``value`` over cohorts by age, with the cohorts behind each point.

    A cohort's cell counts only when it is complete and defined (not NaN). The mean over
    cohorts is unweighted (each cohort counts once, as the N-period figures do).

    ``average="balanced"`` (default) averages one fixed set of cohorts at every age, so a
    cumulative curve cannot fall because young cohorts drop out of the mean: the set is the
    cohorts with a complete, defined cell at every age 0..h−1, for the longest h ≤
    ``horizon`` whose set holds at least ``min_cohorts`` cohorts. When no h reaches that,
    h is the longest whose set is as large as any (a curve on 1 or 2 cohorts, which the
    caller must flag). ``average="all"`` is the each-age mean over every complete cell at
    every observed age (the set changes with age; ``horizon`` is ignored).

    Args:
        table: long cohort table: ``cohort``, ``age``, ``complete``, ``value`` and ``keys``.
        value: the column to average.
        horizon: the plotted ages are 0..horizon−1 (balanced only).
        keys: columns splitting the curves (the ``by`` dimension); each gets its own set.
        average: ``balanced`` or ``all``.
        min_cohorts: the fewest cohorts a balanced curve should rest on.

    Returns:
        ``[*keys]``, ``age``, ``value``, ``cohorts`` (cohorts averaged at that age), sorted
        by keys and age.

    Example:
        The naive mean falls at age 1 because the rich old cohort is alone there; the
        balanced curve keeps the one cohort observed at both ages:

        >>> t = pd.DataFrame({"cohort": [1, 1, 2], "age": [0, 1, 0], "complete": True,
        ...                   "ltv": [10.0, 12.0, 2.0]})
        >>> cohort_curve(t, "ltv", horizon=2, min_cohorts=1).to_dict("list")
        {'age': [0, 1], 'ltv': [10.0, 12.0], 'cohorts': [1, 1]}
        >>> cohort_curve(t, "ltv", horizon=2, average="all")["ltv"].tolist()
        [6.0, 12.0]
    """
    keys = list(keys or [])
    check_average(average)
    if horizon < 1 or min_cohorts < 1:
        raise ValueError(f"horizon and min_cohorts must be ≥ 1; got {horizon}, {min_cohorts}")
    columns = [*keys, "age", value, "cohorts"]
    used = table[table["complete"].astype(bool) & table[value].notna()]
    if average == "all":
        curve = used.groupby([*keys, "age"], dropna=False)[value].agg(["mean", "size"])
        curve = curve.reset_index().rename(columns={"mean": value, "size": "cohorts"})
        return curve[columns].reset_index(drop=True)
    parts = [_balanced(part, value, horizon, min_cohorts, keys) for _, part in _by(used, keys)]
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=table[c].dtype) for c in [*keys, "age"]})
        empty[value] = pd.Series(dtype=float)
        empty["cohorts"] = pd.Series(dtype="int64")
        return empty[columns]
    out = pd.concat(parts, ignore_index=True)
    return out[columns].sort_values([*keys, "age"], kind="stable").reset_index(drop=True)


def _by(frame: pd.DataFrame, keys: list[str]) -> list[tuple[object, pd.DataFrame]]:
    if not keys:
        return [((), frame)]
    return list(frame.groupby(keys, dropna=False, sort=False))


def _balanced(
    part: pd.DataFrame, value: str, horizon: int, min_cohorts: int, keys: list[str]
) -> pd.DataFrame:
    """One group's balanced curve (see :func:`cohort_curve`)."""
    part = part[part["age"] < horizon]
    if part.empty:
        return part.assign(cohorts=pd.Series(dtype="int64"))
    # Per cohort: how many ages 0, 1, 2 … in a row it has usable cells for.
    ages = part.groupby("cohort", dropna=False)["age"].agg(lambda a: _run_from_zero(set(a)))
    ages = ages.astype("int64")
    depth = ages[ages > 0]
    if depth.empty:
        return part.iloc[0:0].assign(cohorts=pd.Series(dtype="int64"))
    # How many cohorts are observed for at least h ages, for each h = 1 .. horizon.
    sizes = {h: int((depth >= h).sum()) for h in range(1, int(depth.max()) + 1)}
    need = min(min_cohorts, max(sizes.values()))
    h = max(k for k, n in sizes.items() if n >= need)
    members = depth[depth >= h].index
    chosen = part[part["cohort"].isin(members) & (part["age"] < h)]
    curve = chosen.groupby("age")[value].agg(["mean", "size"]).reset_index()
    curve = curve.rename(columns={"mean": value, "size": "cohorts"})
    for key in keys:
        curve[key] = part[key].iloc[0]
    return curve


def _run_from_zero(ages: set[int]) -> int:
    k = 0
    while k in ages:
        k += 1
    return k
