"""One-pass cohort curves and grids equal the per-group rules they replaced (issue 19).

:func:`growthlens.metrics.cohorts.cohort_curve` computes every group's balanced curve in
one pass. The plain per-group loop below is the rule as first written (docs/metrics.md,
"Average curves over cohorts"); on randomised tables with many groups (gaps, single
cohorts, NaN values, fewer cohorts than ``min_cohorts``, null group keys) both must give
the same frame: rows, order, column order, dtypes and values, bit for bit. Likewise
:func:`~growthlens.metrics.cohorts.observed_grid` against the cohort-by-cohort walk, and
the ROMI paybacks and unit-economics means at the horizon against their per-group loops.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from growthlens.derive.periods import Period, dates, py_next_period
from growthlens.metrics.cohorts import cohort_curve, observed_grid
from growthlens.metrics.marketing.romi import _payback_rows, payback
from growthlens.metrics.marketing.unit_economics import _at_horizon


def _reference(
    table: pd.DataFrame, value: str, *, horizon: int, keys: list[str], min_cohorts: int
) -> pd.DataFrame:
    """The balanced curve one group at a time, as the rule is worded."""
    columns = [*keys, "age", value, "cohorts"]
    used = table[table["complete"].astype(bool) & table[value].notna()]
    groups = list(used.groupby(keys, dropna=False, sort=False)) if keys else [((), used)]
    parts = []
    for _, group in groups:
        part = group[group["age"] < horizon]
        if part.empty:
            continue
        depth: dict[object, int] = {}
        for cohort, cells in part.groupby("cohort", dropna=False):
            ages, k = set(cells["age"]), 0
            while k in ages:
                k += 1
            if k > 0:
                depth[cohort] = k
        if not depth:
            continue
        sizes = {h: sum(d >= h for d in depth.values()) for h in range(1, max(depth.values()) + 1)}
        need = min(min_cohorts, max(sizes.values()))
        h = max(k for k, n in sizes.items() if n >= need)
        members = [c for c, d in depth.items() if d >= h]
        chosen = part[part["cohort"].isin(members) & (part["age"] < h)]
        curve = chosen.groupby("age")[value].agg(["mean", "size"]).reset_index()
        curve = curve.rename(columns={"mean": value, "size": "cohorts"})
        for key in keys:
            curve[key] = part[key].iloc[0]
        parts.append(curve)
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=table[c].dtype) for c in [*keys, "age"]})
        empty[value] = pd.Series(dtype=float)
        empty["cohorts"] = pd.Series(dtype="int64")
        return empty[columns]
    out = pd.concat(parts, ignore_index=True)
    return out[columns].sort_values([*keys, "age"], kind="stable").reset_index(drop=True)


def _table(
    rng: np.random.Generator, groups: int, *, null_keys: bool, two_keys: bool
) -> pd.DataFrame:
    """Long cohort × age cells of ``groups`` sources with gaps, NaN and incomplete cells."""
    months = pd.date_range("2020-01-01", periods=12, freq="MS")
    rows = []
    for g in range(groups):
        source: object = f"s{g % 97}" if not (null_keys and g % 11 == 0) else None
        device = f"d{g // 97}"
        # Some groups hold a single cohort, some none old enough, most a handful.
        n_cohorts = int(rng.choice([1, 1, 2, 3, 4, 6, 9]))
        for c in rng.choice(12, size=n_cohorts, replace=False):
            for a in range(12 - int(c)):
                if rng.random() < 0.12:  # a gap: no row for this cell
                    continue
                ltv = float(np.round(rng.gamma(2.0, 10.0), 2)) if rng.random() > 0.08 else np.nan
                rows.append(
                    {
                        "cohort": months[c],
                        "age": a,
                        "source": source,
                        "device": device,
                        "ltv": ltv,
                        "complete": bool(c + a < 11 or rng.random() < 0.3),
                    }
                )
    frame = pd.DataFrame(rows)
    frame["age"] = frame["age"].astype("int64")
    # Engine order is arbitrary: the curve must not depend on it beyond ties.
    frame = frame.sample(frac=1.0, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    return frame if two_keys else frame.drop(columns="device")


@pytest.mark.parametrize("seed", range(8))
def test_matches_per_group_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    two_keys = seed % 3 == 2
    table = _table(rng, groups=120 if two_keys else 80, null_keys=seed % 2 == 1, two_keys=two_keys)
    if seed % 4 == 3:
        # Rows in age order: pandas then averages each age by another summation (reduceat,
        # not the compensated sum), whose last digit can differ; both paths must match.
        table = table.sort_values("age", kind="stable").reset_index(drop=True)
    keys = ["source", "device"] if two_keys else ["source"]
    for horizon in (1, 4, 14):
        for min_cohorts in (1, 3, 5):
            got = cohort_curve(table, "ltv", horizon=horizon, keys=keys, min_cohorts=min_cohorts)
            want = _reference(table, "ltv", horizon=horizon, keys=keys, min_cohorts=min_cohorts)
            pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_without_keys(seed: int) -> None:
    table = _table(np.random.default_rng(100 + seed), groups=3, null_keys=False, two_keys=False)
    for horizon in (1, 2, 5):
        for min_cohorts in (1, 3, 7):
            got = cohort_curve(table, "ltv", horizon=horizon, min_cohorts=min_cohorts)
            want = _reference(table, "ltv", horizon=horizon, keys=[], min_cohorts=min_cohorts)
            pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_every_key_null_and_other_key_types() -> None:
    """Keys typed like the reference's scalar assignment: all-null, object, int, date keys."""
    table = _table(np.random.default_rng(7), groups=40, null_keys=False, two_keys=False)
    cases = {
        "all null": pd.Series([np.nan] * len(table)),
        "object with None": table["source"].astype(object).where(table.index % 5 > 0, None),
        "int": table["source"].str.removeprefix("s").astype("int64"),
        "date": table["cohort"],
    }
    for name, column in cases.items():
        t = table.assign(source=column.to_numpy())
        got = cohort_curve(t, "ltv", horizon=4, keys=["source"])
        want = _reference(t, "ltv", horizon=4, keys=["source"], min_cohorts=3)
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)


def test_nothing_usable_gives_the_typed_empty_curve() -> None:
    table = _table(np.random.default_rng(3), groups=20, null_keys=True, two_keys=False)
    for t in (table.assign(complete=False), table.assign(ltv=np.nan), table.iloc[0:0]):
        got = cohort_curve(t, "ltv", horizon=3, keys=["source"])
        want = _reference(t, "ltv", horizon=3, keys=["source"], min_cohorts=3)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # Only cells past the horizon, or only cohorts whose age 0 is missing.
    late = table.assign(age=table["age"] + 5)
    for t in (late, table[table["age"] > 0]):
        got = cohort_curve(t, "ltv", horizon=3, keys=["source"])
        want = _reference(t, "ltv", horizon=3, keys=["source"], min_cohorts=3)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def _grid_reference(
    sizes: pd.DataFrame, *, window: tuple[date, date], period: Period, keys: list[str]
) -> pd.DataFrame:
    """Every observed cell, cohort by cohort and period by period."""
    rows = []
    for record in sizes.to_dict(orient="records"):
        current, k = pd.Timestamp(record["cohort"]).date(), 0
        while current <= window[1]:
            nxt = py_next_period(current, period)
            complete = current >= window[0] and nxt - timedelta(days=1) <= window[1]
            rows.append({**record, "age": k, "complete": complete})
            current, k = nxt, k + 1
    grid = pd.DataFrame(rows, columns=[*sizes.columns, "age", "complete"])
    grid["cohort"] = dates(grid["cohort"])
    grid["age"] = grid["age"].astype("int64")
    grid["complete"] = grid["complete"].astype(bool)
    return grid.sort_values(["cohort", *keys, "age"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("period", ["day", "week", "month"])
@pytest.mark.parametrize("seed", range(3))
def test_observed_grid_matches_row_walk(period: Period, seed: int) -> None:
    """Cohorts on and off period starts, before and after the window, many sources."""
    rng = np.random.default_rng(seed)
    window = (date(2020, 1, 15), date(2020, 4, 10) if period != "day" else date(2020, 2, 3))
    n = 300
    cohorts = pd.to_datetime("2019-12-20") + pd.to_timedelta(rng.integers(0, 130, n), unit="D")
    sizes = pd.DataFrame(
        {
            "cohort": cohorts,
            "source": [f"s{i}" if i % 13 else None for i in rng.integers(0, 500, n)],
            "buyers": rng.integers(1, 50, n),
            "share": rng.random(n),
        }
    )
    for frame, keys in ((sizes, ["source"]), (sizes[["cohort", "buyers"]], [])):
        got = observed_grid(frame, window=window, period=period, keys=keys)
        want = _grid_reference(frame, window=window, period=period, keys=keys)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # No cohort at all, and only cohorts after the window: the typed empty grid.
    for frame in (sizes.iloc[0:0], sizes.assign(cohort=pd.Timestamp("2021-01-01"))):
        got = observed_grid(frame, window=window, period=period, keys=["source"])
        want = _grid_reference(frame, window=window, period=period, keys=["source"])
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def _payback_reference(curve: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """:func:`payback` of each group's curve, one group at a time."""
    rows = []
    for keys, part in curve.sort_values("age").groupby(group, sort=False):
        found, text, last, last_age = payback(
            part["age"].astype(int).tolist(), part["romi"].astype(float).tolist()
        )
        rows.append(
            {
                **dict(zip(group, keys, strict=True)),
                "payback_age": found,
                "payback": text,
                "last_age": last_age,
                "last_romi": last,
            }
        )
    frame = pd.DataFrame(rows, columns=[*group, "payback_age", "payback", "last_age", "last_romi"])
    if not rows:
        frame = frame.astype({c: curve[c].dtype for c in group})
    frame["payback_age"] = frame["payback_age"].astype("Int64")
    frame["last_age"] = frame["last_age"].astype("Int64")
    frame["last_romi"] = frame["last_romi"].astype(float)
    return frame


def _at_horizon_reference(cells: pd.DataFrame, horizon: int, keys: list[str]) -> pd.DataFrame:
    """Unit-economics means at age N − 1, one group at a time."""
    at = cells[(cells["age"] == horizon - 1) & cells["complete"]].copy()
    at["_defined"] = at["romi"].notna()
    at["_ratio"] = at["ltv"] / at["cac"].where(at["_defined"])
    rows = []
    groups = at.groupby(keys, sort=False, dropna=False) if keys else [((), at)]
    for key, part in groups:
        used = part[part["_defined"]] if part["_defined"].any() else part
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "ltv": float(used["ltv"].mean()) if len(used) else float("nan"),
                "cac_cohorts": float(used["cac"].where(used["_defined"]).mean()),
                "ltv_cac_ratio": float(used["_ratio"].mean()),
                "cohorts_used": len(used),
            }
        )
    columns = [*keys, "ltv", "cac_cohorts", "ltv_cac_ratio", "cohorts_used"]
    return pd.DataFrame(rows, columns=columns)


def _romi_cells(seed: int) -> pd.DataFrame:
    """ROMI cells of many sources: organic ones (no CAC), zero CAC, NaN and ±inf ROMI."""
    rng = np.random.default_rng(seed)
    table = _table(rng, groups=120, null_keys=False, two_keys=False)
    n = len(table)
    cac = np.round(rng.gamma(2.0, 8.0, n), 2)
    cac[rng.random(n) < 0.1] = 0.0
    table["cac"] = np.where(table["source"].isin(["s3", "s7", "s40"]), np.nan, cac)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["romi"] = (
            table["ltv"].where(table["cac"] > 0) / table["cac"].where(table["cac"] > 0) - 1.0
        )
    table.loc[rng.random(n) < 0.01, "romi"] = np.inf
    return table


@pytest.mark.parametrize("seed", range(4))
def test_payback_rows_match_per_group_reference(seed: int) -> None:
    cells = _romi_cells(seed)
    for group in (["source"], ["source", "cohort"], ["cohort"]):
        pd.testing.assert_frame_equal(
            _payback_rows(cells, group), _payback_reference(cells, group), check_exact=True
        )
    curves = cohort_curve(cells, "romi", horizon=4, keys=["source"])
    pd.testing.assert_frame_equal(
        _payback_rows(curves, ["source"]), _payback_reference(curves, ["source"]), check_exact=True
    )
    pd.testing.assert_frame_equal(
        _payback_rows(curves.iloc[0:0], ["source"]),
        _payback_reference(curves.iloc[0:0], ["source"]),
        check_exact=True,
    )


@pytest.mark.parametrize("seed", range(4))
def test_unit_economics_means_match_per_group_reference(seed: int) -> None:
    cells = _romi_cells(seed)
    for horizon in (1, 3, 6, 20):
        for keys in (["source"], []):
            pd.testing.assert_frame_equal(
                _at_horizon(cells, horizon, keys),
                _at_horizon_reference(cells, horizon, keys),
                check_exact=True,
            )
