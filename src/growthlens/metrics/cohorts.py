"""Cohort × age grids: which cells are observed and complete (docs/metrics.md, window rules).

Engine queries return only the cells that had activity; this module lays them on the grid
of every *observed* cell (activity period starting inside the window), so a cumulative
value carries through ages without orders, and cells past the window never appear.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.derive.periods import Period, dates
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
    # All cohorts at once (issue 19): a row-by-row walk cost ~4 µs a cell, and with
    # hundreds of sources there are tens of thousands of cells.
    start = pd.to_datetime(sizes["cohort"]).to_numpy().astype("datetime64[D]")
    first, last = np.datetime64(window[0], "D"), np.datetime64(window[1], "D")
    if period == "month":
        month = start.astype("datetime64[M]")
        count = (np.datetime64(window[1], "M") - month).astype(np.int64) + 1
    else:
        step = 1 if period == "day" else 7
        count = (last - start).astype(np.int64) // step + 1
    count = np.where(start <= last, count, 0)
    rows = np.repeat(np.arange(len(sizes)), count)
    age = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    columns = [*sizes.columns, "age", "complete"]
    if not len(rows):  # typed as before: a frame from no rows
        grid = pd.DataFrame([], columns=columns)
    else:
        # Age k starts at the cohort's date (k = 0), then at each next period's start.
        if period == "month":
            begins = (month[rows] + age).astype("datetime64[D]")
            begins = np.where(age == 0, start[rows], begins)
            ends = (month[rows] + age + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        else:
            begins = start[rows] + age * step
            ends = begins + (step - 1)
        # Python values, so the columns are typed by inference as rows of dicts would be.
        picked = sizes.iloc[rows]
        grid = pd.DataFrame(
            {
                **{c: picked[c].tolist() for c in sizes.columns},
                "age": age.tolist(),
                "complete": ((begins >= first) & (ends <= last)).tolist(),
            },
            columns=columns,
        )
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
    out = _balanced(used, value, horizon, min_cohorts, keys)
    if out is None:
        empty = pd.DataFrame({c: pd.Series(dtype=table[c].dtype) for c in [*keys, "age"]})
        empty[value] = pd.Series(dtype=float)
        empty["cohorts"] = pd.Series(dtype="int64")
        return empty[columns]
    return out[columns].sort_values([*keys, "age"], kind="stable").reset_index(drop=True)


def _balanced(
    used: pd.DataFrame, value: str, horizon: int, min_cohorts: int, keys: list[str]
) -> pd.DataFrame | None:
    """Every group's balanced curve at once (see :func:`cohort_curve`); ``None``: no curve.

    One pass over all groups: a per-group Python loop costs ~10 ms a group, which with
    hundreds of sources outweighs the engine work (issue 19).
    """
    part = used[used["age"] < horizon]
    if part.empty:
        return None
    group = (
        part.groupby(keys, dropna=False, sort=False).ngroup().to_numpy(dtype=np.int64)
        if keys
        else np.zeros(len(part), dtype=np.int64)
    )
    # NaN cohorts form one cohort of their own, as in a groupby with dropna=False.
    cohort = pd.factorize(part["cohort"], use_na_sentinel=False)[0].astype(np.int64)
    cell = group * (int(cohort.max()) + 1) + cohort
    age = part["age"].to_numpy()

    # Per cohort: how many ages 0, 1, 2 … in a row it has usable cells for. Over its
    # distinct ages ≥ 0 in order, the k-th is k exactly as long as the run lasts.
    seen = pd.DataFrame({"cell": cell[age >= 0], "age": age[age >= 0]}).drop_duplicates()
    seen = seen.sort_values(["cell", "age"], kind="stable")
    in_run = seen["age"].to_numpy() == seen.groupby("cell").cumcount().to_numpy()
    depth = pd.Series(in_run, index=seen["cell"].to_numpy()).groupby(level=0).sum()
    depth = depth[depth > 0]
    if depth.empty:
        return None
    # h per group: the longest span covered by min(min_cohorts, its cohorts) cohorts,
    # i.e. that many-th largest depth (the counts of cohorts with depth ≥ h only fall).
    n_cohorts = int(cohort.max()) + 1
    ranked = pd.DataFrame(
        {"group": depth.index.to_numpy() // n_cohorts, "depth": depth.to_numpy()}
    ).sort_values(["group", "depth"], ascending=[True, False], kind="stable")
    rank = ranked.groupby("group").cumcount().to_numpy()
    need = np.minimum(min_cohorts, ranked.groupby("group")["depth"].transform("size").to_numpy())
    span = ranked[rank == need - 1].set_index("group")["depth"]
    members = depth.index.to_numpy()[
        depth.to_numpy() >= span.reindex(depth.index.to_numpy() // n_cohorts).to_numpy()
    ]
    row_span = span.reindex(group).to_numpy(dtype=float)  # NaN: a group without a curve
    chosen = np.isin(cell, members) & (age < row_span)
    curve = _age_means(part[chosen], value, group[chosen])
    if keys:
        # Each group's key values, from its first row, typed as assigning that scalar to
        # a frame and concatenating the groups would type them (callers merge on them).
        first = np.unique(group, return_index=True)[1]
        for key in keys:
            column = _scalar_column(part[key].iloc[first].tolist(), key)
            curve[key] = column.take(curve["_group"].to_numpy()).reset_index(drop=True)
    return curve.drop(columns="_group")


def _age_means(picked: pd.DataFrame, value: str, group: np.ndarray) -> pd.DataFrame:
    """Mean and count of ``value`` per group and age, bit for bit as one group at a time.

    pandas averages a group's rows with ``ufunc.reduceat`` when their ages never decrease
    in row order and with a compensated (Kahan) sum otherwise; the last digit can differ.
    So the groups whose rows come in age order are averaged sorted (reduceat, as alone),
    the others in row order (their ids stay unsorted, so the compensated sum, as alone).
    """
    ages = picked["age"].to_numpy()
    by_group = np.argsort(group, kind="stable")
    g, a = group[by_group], ages[by_group]
    falls = (a[1:] < a[:-1]) & (g[1:] == g[:-1])
    in_order = ~np.isin(group, g[1:][falls])
    by_age = np.lexsort((ages[in_order], group[in_order]))
    halves = (
        (picked[in_order].iloc[by_age], group[in_order][by_age]),
        (picked[~in_order], group[~in_order]),
    )
    parts = [
        frame[value]
        .groupby([pd.Series(codes, index=frame.index, name="_group"), frame["age"]])
        .agg(["mean", "size"])
        .reset_index()
        for frame, codes in halves
        if len(frame)
    ]
    curve = pd.concat(parts, ignore_index=True)
    return curve.rename(columns={"mean": value, "size": "cohorts"})


def _scalar_column(values: list[Any], name: str) -> pd.Series:
    """``values`` typed as a concatenation of one-row frames, one per value, would be.

    pandas types a column set from a scalar by that scalar alone (a ``str`` gives the string
    dtype, a NaN float64, a date object), and a concatenation by the mix; one frame per
    distinct kind of value stands for all frames of that kind.
    """
    kinds: dict[tuple[type, bool], Any] = {}
    for v in values:
        kinds.setdefault((type(v), pd.api.types.is_scalar(v) and bool(pd.isna(v))), v)
    frames = []
    for v in kinds.values():
        one = pd.DataFrame(index=[0])
        one[name] = v  # the scalar assignment whose typing is matched
        frames.append(one)
    dtype = pd.concat(frames, ignore_index=True)[name].dtype
    return pd.Series(values, dtype=object).astype(dtype)
