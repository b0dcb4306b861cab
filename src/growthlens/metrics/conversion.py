"""Conversion lag cells: days from a buyer's first visit to their first order.

Definitions in docs/metrics.md, "Sales". Engine → small frames only; the analysis
(growthlens.analyses.conversion_lag) summarises, words and draws them.
"""

from __future__ import annotations

import math

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyers
from growthlens.derive.periods import Period, dates
from growthlens.metrics.fetch import fetch

BUCKETS = ("negative", "0d", "1d", "2–7d", "8–30d", "30d+", "(no session)")


def bucket(lag: float) -> str:
    """The lag bucket of a lag in days (NaN = the buyer has no session).

    >>> [bucket(x) for x in (-2, 0, 1, 7, 8, 30, 31, float("nan"))]
    ['negative', '0d', '1d', '2–7d', '8–30d', '8–30d', '30d+', '(no session)']
    """
    if lag is None or (isinstance(lag, float) and math.isnan(lag)):
        return "(no session)"
    if lag < 0:
        return "negative"
    if lag == 0:
        return "0d"
    if lag == 1:
        return "1d"
    if lag <= 7:
        return "2–7d"
    if lag <= 30:
        return "8–30d"
    return "30d+"


def lag_cells(ds: Dataset, *, period: Period, by: str | None) -> pd.DataFrame:
    """Buyers per cohort [× by] and lag: date of first order − date of first visit.

    Columns: ``cohort`` (period of the first visit), ``by`` (when given), ``lag_days``
    (NaN for a buyer without a session), ``buyers`` and ``bucket`` (see :func:`bucket`).
    """
    keys = [by] if by else []
    b = buyers(ds, period=period)
    lag = b.first_order_ts.date().delta(b.first_visit_ts.date(), unit="day")
    cells = fetch(
        b.group_by([b.cohort, *[b[k] for k in keys], lag.name("lag_days")]).aggregate(
            buyers=b.count()
        )
    )
    cells["cohort"] = dates(cells["cohort"])
    cells["lag_days"] = cells["lag_days"].astype("float64")
    # Typed text even when empty (no buyer): an empty list would make a float column.
    cells["bucket"] = pd.Series(
        [bucket(v) for v in cells["lag_days"]], index=cells.index, dtype="str"
    )
    return cells


def lag_distribution(cells: pd.DataFrame, total: int) -> pd.DataFrame:
    """Buyers and their share of ``total`` per lag in days (buyers with a session only)."""
    dist = cells.dropna(subset=["lag_days"]).groupby("lag_days")["buyers"].sum().reset_index()
    dist["lag_days"] = dist["lag_days"].astype("int64")
    dist["share"] = dist["buyers"] / total
    return dist.sort_values("lag_days").reset_index(drop=True)


def bucket_table(cells: pd.DataFrame, keys: list[str], total: int | None) -> pd.DataFrame:
    """Buyers and share per bucket (every bucket present, in order) per ``keys`` group."""
    counts = cells.groupby([*keys, "bucket"], as_index=False)["buyers"].sum()
    if keys:
        groups = counts[keys].drop_duplicates()
        grid = groups.merge(pd.DataFrame({"bucket": BUCKETS}), how="cross")
    else:
        grid = pd.DataFrame({"bucket": BUCKETS})
    out = grid.merge(counts, on=[*keys, "bucket"], how="left")
    out["buyers"] = out["buyers"].fillna(0).astype("int64")
    denominator = (
        out.groupby(keys)["buyers"].transform("sum")
        if keys
        else pd.Series(total or out["buyers"].sum(), index=out.index)
    )
    out["share"] = out["buyers"] / denominator.where(denominator > 0)
    order = {name: i for i, name in enumerate(BUCKETS)}
    out["_order"] = out["bucket"].map(order)
    ordered: pd.DataFrame = out.sort_values([*keys, "_order"]).drop(columns="_order")
    return ordered.reset_index(drop=True)
