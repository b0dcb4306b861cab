"""Sales per buyer cohort: orders per buyer, average check and LTV (docs/metrics.md, Sales).

Orders joined to buyer cohorts are aggregated once in the engine (acquisition.order_cells)
and rolled up per question; cumulative
values are taken on the small (cohort × age) frame, laid on the grid of observed cells.
Engine → small frames only; the analyses (growthlens.analyses.orders_per_buyer, .aov and
.ltv) summarise, word and draw them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import (
    buyer_cells,
    check_dimension,
    order_cells,
)
from growthlens.derive.periods import Period, check_period, dates, period_start, window_periods
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import observed_grid
from growthlens.metrics.fetch import fetch


def cohort_orders(ds: Dataset, *, period: Period, by: str | None) -> pd.DataFrame:
    """Cumulative orders and revenue per buyer cohort × age [× by], every observed cell.

    Columns: ``cohort``, [``by``], ``buyers``, ``age``, ``complete``, ``orders``,
    ``revenue`` (in that age), ``cum_orders``, ``cum_revenue``.
    """
    period = check_period(period)
    window = ds.window
    if window is None:
        raise ConfigError("cohort metrics need a data window; set window = [start, end]")
    keys = by_keys(ds, by)
    rolled = order_cells(ds, period=period)
    cells = fetch(
        rolled.group_by(["cohort", *keys, "age"]).aggregate(
            orders=rolled.orders.sum(), revenue=rolled.revenue.sum()
        )
    )
    counted = buyer_cells(ds, period=period)
    sizes = fetch(counted.group_by(["cohort", *keys]).aggregate(buyers=counted.buyers.sum()))
    sizes["cohort"] = dates(sizes["cohort"])
    cells["cohort"] = dates(cells["cohort"])
    grid = observed_grid(sizes, window=window, period=period, keys=keys)
    out = grid.merge(cells, on=["cohort", *keys, "age"], how="left", validate="one_to_one")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype(float)
    group = out.groupby(["cohort", *keys], sort=False)
    out["cum_orders"] = group["orders"].cumsum()
    out["cum_revenue"] = group["revenue"].cumsum()
    return out


def ltv_table(ds: Dataset, *, period: Period, by: str | None, margin: float) -> pd.DataFrame:
    """LTV(c, k) per observed cell: cumulative gross profit of cohort c over ages 0..k ÷ buyers.

    Gross profit = revenue × ``margin`` (already resolved and checked by the caller).
    Columns: ``cohort``, ``by`` (when given), ``age``, ``buyers``, ``ltv``,
    ``gross_profit`` (cumulative), ``complete``.
    """
    keys = by_keys(ds, by)
    cells = cohort_orders(ds, period=period, by=by)
    table = cells[["cohort", *keys, "age", "buyers", "complete"]].copy()
    table["gross_profit"] = cells["cum_revenue"] * margin
    table["ltv"] = table["gross_profit"] / table["buyers"]
    return table[["cohort", *keys, "age", "buyers", "ltv", "gross_profit", "complete"]]


def orders_per_buyer_table(ds: Dataset, *, period: Period) -> pd.DataFrame:
    """Cumulative orders of cohort c over ages 0..k ÷ its buyers, per observed cell.

    Columns: ``cohort``, ``age``, ``buyers``, ``orders_per_buyer``, ``complete``.
    """
    cells = cohort_orders(ds, period=period, by=None)
    table = cells[["cohort", "age", "buyers", "complete"]].copy()
    table["orders_per_buyer"] = cells["cum_orders"] / cells["buyers"]
    return table[["cohort", "age", "buyers", "orders_per_buyer", "complete"]]


def aov_table(ds: Dataset, *, period: Period, window: tuple[date, date]) -> pd.DataFrame:
    """Orders, revenue and average check per period of the window (every period, 0 if none).

    Columns: ``period``, ``orders``, ``revenue``, ``aov`` (NaN without orders),
    ``complete``.
    """
    orders = ds.table("orders")
    per = fetch(
        orders.group_by(period=period_start(orders.ts, period)).aggregate(
            orders=orders.count(), revenue=orders.revenue.sum()
        )
    )
    per["period"] = dates(per["period"])
    frame = window_periods(window, period)[["period", "complete"]]
    frame["period"] = dates(frame["period"])
    table = frame.merge(per, on="period", how="left")
    table["orders"] = table["orders"].fillna(0).astype("int64")
    table["revenue"] = table["revenue"].fillna(0.0).astype(float)
    table["aov"] = table["revenue"] / table["orders"].where(table["orders"] > 0)
    return table[["period", "orders", "revenue", "aov", "complete"]]


def by_keys(ds: Dataset, by: str | None) -> list[str]:
    """``[by]`` when it is a session dimension of ``ds``, ``[]`` for ``None``.

    Raises:
        ConfigError: ``by`` is not a session dimension.
    """
    checked = check_dimension(ds, by)
    return [] if checked is None else [checked]


__all__ = [
    "aov_table",
    "by_keys",
    "cohort_orders",
    "ltv_table",
    "orders_per_buyer_table",
]
