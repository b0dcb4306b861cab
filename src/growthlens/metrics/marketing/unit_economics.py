"""Unit economics per acquisition source and per cohort: LTV:CAC, CAC and ROMI trends.

Definitions: docs/metrics.md, "Marketing" → "Unit economics". Nothing is defined anew:
every figure is read off the ROMI frames (:func:`growthlens.metrics.marketing.romi_frames`,
which carry the CAC of :mod:`.cac` and the LTV of growthlens.metrics.revenue), so "CAC",
"LTV" and "ROMI" mean here exactly what ``gl.cac``, ``gl.ltv`` and ``gl.romi`` report.

- **LTV at the horizon** of a source: the unweighted mean of LTV(c, N − 1) (N =
  ``horizon``) over its cohorts whose age N − 1 cell is complete and whose ROMI is
  defined there (CAC(c, source) > 0): the same cohorts as its N-period ROMI. For organic
  and ``(unknown)`` rows (no CAC), or a paid source without a defined ROMI there, over
  every complete cohort at age N − 1. ``cohorts_used`` counts the cohorts behind ``ltv``.
- **CAC of those cohorts** (``cac_cohorts``): the unweighted mean of CAC(c, source) over
  the same cohorts; ``cac`` is the source's CAC over the window (cost ÷ buyers).
- **LTV:CAC** (``ltv_cac_ratio``) = the unweighted mean over the same cohorts of
  LTV(c, N − 1) ÷ CAC(c, source) = N-period ROMI + 1. A mean of per-cohort ratios, as the
  N-period ROMI is, so it is not ``ltv ÷ cac_cohorts`` (a ratio of means) in general.
- **Payback**: the source's payback age of the ROMI curve; ``payback_periods`` = age + 1
  (periods from the first order's period, that one included).
- **Trend per cohort**: CAC(c) over all sources, ROMI(c, 0) (``romi_1``: after its first
  period, every cohort with buyers) and ROMI(c, N − 1) (``romi_<N>``: NaN unless that
  cell is complete; ``complete`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period
from growthlens.metrics.marketing.romi import Romi, romi_frames

BY = "source"


@dataclass(frozen=True)
class UnitEconomics:
    """Unit-economics frames (small) and the ROMI frames they are read from.

    Attributes:
        romi: the ROMI frames (per source).
        sources: ``source``, ``status``, ``cost``, ``share_of_spend``, ``buyers``, ``cac``,
            ``ltv``, ``cac_cohorts``, ``ltv_cac_ratio``, ``romi_n``, ``cohorts_used``,
            ``payback_age``, ``payback_periods``, ``payback``; in the order of the ROMI
            ranking (paid first, best N-period ROMI first).
        overall: one row, all sources: ``cost``, ``buyers``, ``cac``, ``ltv``,
            ``cac_cohorts``, ``ltv_cac_ratio``, ``romi_n``, ``cohorts_used``.
        trend: ``cohort``, ``cost``, ``buyers``, ``cac``, ``romi_1``, [``romi_<N>``],
            ``complete`` (the age N − 1 cell is complete), ``period_complete`` (the
            cohort's own period lies wholly inside the window): one row per period.
        horizon: N.
    """

    romi: Romi
    sources: pd.DataFrame
    overall: pd.DataFrame
    trend: pd.DataFrame
    horizon: int


def _at_horizon(cells: pd.DataFrame, horizon: int, keys: list[str]) -> pd.DataFrame:
    """Per ``keys``: LTV, CAC and LTV ÷ CAC means over complete cells at age N − 1.

    Cells with a defined ROMI only, when the group has any (paid); else every complete
    cell (organic: LTV only). All groups at once (issue 19), each mean summed exactly as
    ``Series.mean`` sums one group's values (:func:`_group_means`).
    """
    at = cells[(cells["age"] == horizon - 1) & cells["complete"]].copy()
    at["_defined"] = at["romi"].notna()
    at["_ratio"] = at["ltv"] / at["cac"].where(at["_defined"])
    columns = [*keys, "ltv", "cac_cohorts", "ltv_cac_ratio", "cohorts_used"]
    if keys and at.empty:
        return pd.DataFrame([], columns=columns)
    codes = (
        at.groupby(keys, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
        if keys
        else np.zeros(len(at), dtype=np.int64)
    )
    n = int(codes.max()) + 1 if len(codes) else 1
    group = codes
    defined = at["_defined"].to_numpy(dtype=bool)
    paid = np.zeros(n, dtype=bool)
    paid[group[defined]] = True
    used = defined | ~paid[group]
    group, rows = group[used], at[used]
    kept = rows["_defined"].to_numpy(dtype=bool)
    cac = rows["cac"].to_numpy(dtype=np.float64, na_value=np.nan)
    frame = pd.DataFrame(
        {
            "ltv": _group_means(rows["ltv"].to_numpy(dtype=np.float64, na_value=np.nan), group, n),
            "cac_cohorts": _group_means(np.where(kept, cac, np.nan), group, n),
            "ltv_cac_ratio": _group_means(
                rows["_ratio"].to_numpy(dtype=np.float64, na_value=np.nan), group, n
            ),
            "cohorts_used": np.bincount(group, minlength=n).astype(np.int64),
        }
    )
    if keys:
        # Key values as Python objects, typed by inference as rows of dicts would be.
        first = np.unique(codes, return_index=True)[1]
        for key in reversed(keys):
            frame.insert(0, key, at[key].iloc[first].tolist())
    return frame[columns]


def _group_means(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """NaN-skipping mean of ``values`` per group ``0 … n − 1`` (NaN for none), in row order.

    Bit for bit ``Series.mean`` of each group: NaN set to 0, then numpy's sum, whose
    pairwise blocks depend on the length. So groups of one length are summed together as
    the rows of one matrix (a row sum equals the sum of that row alone); there are as
    many lengths as cohorts at most, not as many as groups.
    """
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=n)
    starts = np.cumsum(sizes) - sizes
    means = np.full(n, np.nan)
    for size in np.unique(sizes[sizes > 0]).tolist():
        which = np.flatnonzero(sizes == size)
        block = values[order[starts[which][:, None] + np.arange(size)]]
        present = ~np.isnan(block)
        total = np.where(present, block, 0.0).sum(axis=1)
        count = present.sum(axis=1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[which] = np.where(count > 0, total / count, np.nan)
    return means


def unit_economics_frames(ds: Dataset, *, period: Period, horizon: int) -> UnitEconomics:
    """Per-source LTV:CAC and payback, and the per-cohort CAC and ROMI trend.

    Args:
        ds: a Dataset with orders and costs (sessions attribute buyers to a source).
        period: the cohort period.
        horizon: N, a whole number of periods ≥ 1 (already checked).
    """
    r = romi_frames(ds, period=period, by=BY, horizon=horizon)
    per = _at_horizon(r.cells, horizon, [BY])
    # cohorts_used: the cohorts behind ltv (those behind romi_n too, where it is defined).
    sources = r.sources.drop(columns="cohorts_used").merge(per, on=BY, how="left")
    sources["cohorts_used"] = sources["cohorts_used"].fillna(0).astype("int64")
    sources["payback_periods"] = (sources["payback_age"] + 1).astype("Int64")
    sources = sources[
        [
            BY,
            "status",
            "cost",
            "share_of_spend",
            "buyers",
            "cac",
            "ltv",
            "cac_cohorts",
            "ltv_cac_ratio",
            "romi_n",
            "cohorts_used",
            "payback_age",
            "payback_periods",
            "payback",
        ]
    ]
    acq = r.acquisition.cohorts
    total_cost, total_buyers = float(acq["cost"].sum()), int(acq["buyers"].sum())
    overall = _at_horizon(r.cohorts, horizon, [])
    overall.insert(0, "cac", total_cost / total_buyers if total_buyers else float("nan"))
    overall.insert(0, "buyers", total_buyers)
    overall.insert(0, "cost", total_cost)
    overall["romi_n"] = r.romi_n
    overall = overall[
        ["cost", "buyers", "cac", "ltv", "cac_cohorts", "ltv_cac_ratio", "romi_n", "cohorts_used"]
    ]
    return UnitEconomics(
        romi=r,
        sources=sources.reset_index(drop=True),
        overall=overall,
        trend=_trend(r, horizon),
        horizon=horizon,
    )


def _trend(r: Romi, horizon: int) -> pd.DataFrame:
    cells = r.cohorts
    trend = r.acquisition.cohorts[["cohort", "cost", "buyers", "cac", "complete"]].copy()
    trend = trend.rename(columns={"complete": "period_complete"})
    first = cells[cells["age"] == 0][["cohort", "romi"]].rename(columns={"romi": "romi_1"})
    trend = trend.merge(first, on="cohort", how="left")
    last = cells[cells["age"] == horizon - 1][["cohort", "romi", "complete"]]
    trend = trend.merge(last, on="cohort", how="left")
    trend["complete"] = trend["complete"].fillna(False).astype(bool)
    columns = ["cohort", "cost", "buyers", "cac", "romi_1"]
    if horizon > 1:
        trend[f"romi_{horizon}"] = trend["romi"].where(trend["complete"])
        columns.append(f"romi_{horizon}")
    trend["romi_1"] = trend["romi_1"].astype(float)
    return trend[[*columns, "complete", "period_complete"]].reset_index(drop=True)


__all__ = ["BY", "UnitEconomics", "unit_economics_frames"]
