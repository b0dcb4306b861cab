"""Sales per buyer cohort: orders per buyer, average check and LTV (docs/metrics.md, Sales).

Orders joined to buyer cohorts are aggregated once in the engine (acquisition.order_cells)
and rolled up per question; cumulative
values are taken on the small (cohort × age) frame, laid on the grid of observed cells.
"""

from __future__ import annotations

import math

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyer_cells, order_cells, session_dimensions
from growthlens.derive.periods import Period, check_period, dates, period_start, window_periods
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import horizon_mean, observed_grid
from growthlens.metrics.fetch import fetch
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of, money, money_range

LTV_SUMMARY: SummarySpec = {
    "ltv_{n}": ("money", "LTV after {n} periods (mean over complete cohorts)"),
    "ltv_{n}_cells": ("count", "Complete cohorts in the {n}-period LTV"),
    "buyers": ("count", "Buyers"),
    "margin": ("share", "Margin"),
    "currency": ("text", "Currency"),
}
ORDERS_SUMMARY: SummarySpec = {
    "orders_per_buyer_{n}": ("ratio", "Orders per buyer after {n} periods"),
    "orders_per_buyer_{n}_cells": ("count", "Complete cohorts in the {n}-period figure"),
    "orders_per_buyer_first_period": ("ratio", "Orders per buyer in the first period"),
}
AOV_SUMMARY: SummarySpec = {
    "aov": ("money", "Average check"),
    "orders": ("count", "Orders"),
    "revenue": ("money", "Revenue"),
    "currency": ("text", "Currency"),
}


def cohort_orders(ds: Dataset, *, period: Period, by: str | None) -> pd.DataFrame:
    """Cumulative orders and revenue per buyer cohort × age [× by], every observed cell.

    Columns: ``cohort``, [``by``], ``buyers``, ``age``, ``complete``, ``orders``,
    ``revenue`` (in that age), ``cum_orders``, ``cum_revenue``.
    """
    period = check_period(period)
    window = ds.window
    if window is None:
        raise ConfigError("cohort metrics need a data window; set window = [start, end]")
    keys = _by(ds, by)
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


def ltv(
    ds: Dataset, *, period: Period | None = None, margin: float | None = None, by: str | None = None
) -> Result:
    """LTV(c, k): cumulative gross profit of cohort c's buyers over ages 0..k ÷ its buyers.

    Gross profit = revenue × margin (``margin`` or the dataset setting). Buyer cohort =
    period of the first order. See docs/metrics.md, "LTV".

    Returns:
        Result whose table has ``cohort``, ``age``, ``buyers``, ``ltv``, ``complete`` (and
        ``by``); summary ``ltv_<N>`` = mean over complete cohorts at age N−1.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> orders = pd.DataFrame({"user_id": [1, 1, 2], "revenue": [10.0, 5.0, 4.0],
        ...     "ts": pd.to_datetime(["2020-01-05", "2020-02-03", "2020-01-20"])})
        >>> r = gl.ltv(gl.load(orders=orders, window=("2020-01-01", "2020-02-29")))
        >>> r.table[["age", "buyers", "ltv"]].to_dict("records")
        [{'age': 0, 'buyers': 2, 'ltv': 7.0}, {'age': 1, 'buyers': 2, 'ltv': 9.5}]
    """
    margin = ds.settings.margin if margin is None else _check_margin(margin)
    keys = _by(ds, by)
    period = check_period(period or ds.settings.period)
    cells = cohort_orders(ds, period=period, by=by)
    table = cells[["cohort", *keys, "age", "buyers", "complete"]].copy()
    table["gross_profit"] = cells["cum_revenue"] * margin
    table["ltv"] = table["gross_profit"] / table["buyers"]
    table = table[["cohort", *keys, "age", "buyers", "ltv", "gross_profit", "complete"]]
    horizon = ds.settings.horizon
    overall = horizon_mean(table, "ltv", horizon=horizon)
    value = float(overall["ltv"].iloc[0])
    used = int(overall["cells"].iloc[0])
    curve = _mean_curve(table, "ltv", keys)
    unit = _unit(period)
    summary: dict[str, SummaryValue] = {
        f"ltv_{horizon}": value,
        f"ltv_{horizon}_cells": used,
        "buyers": int(table.drop_duplicates(["cohort", *keys])["buyers"].sum()),
        "margin": margin,
        "currency": ds.settings.currency,
    }
    findings: list[Finding] = []
    status: Status = "ok"
    reason = ""
    if not summary["buyers"]:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no buyer cohort to follow."
        findings.append(Finding("no_buyers", reason, "warning"))
    elif used:
        findings.append(
            Finding(
                "ltv_horizon",
                f"A buyer brings {money(value, ds.settings.currency)} of gross profit in their "
                f"first {count_of(horizon, unit)} on average (mean over "
                f"{count_of(used, 'complete cohort')}, margin {margin:.0%}).",
                numbers={"ltv": value, "horizon": horizon, "cohorts": used, "margin": margin},
            )
        )
    else:
        findings.append(
            Finding(
                "no_cohort_at_horizon",
                f"No cohort is old enough for a {horizon}-{unit} LTV yet: the window holds no "
                f"complete cohort at age {horizon - 1}.",
                numbers={"horizon": horizon},
            )
        )
    if keys and used:
        per = horizon_mean(table, "ltv", horizon=horizon, group=keys).dropna(subset=["ltv"])
        if len(per) > 1:
            ranked = per.sort_values("ltv")
            best, worst = ranked.iloc[-1], ranked.iloc[0]
            findings.append(
                Finding(
                    "ltv_spread",
                    f"{horizon}-{unit} LTV ranges from {money(worst['ltv'], ds.settings.currency)} "
                    f"({by} {worst[keys[0]]}) to {money(best['ltv'], ds.settings.currency)} "
                    f"({by} {best[keys[0]]}).",
                    numbers={
                        "lowest": str(worst[keys[0]]),
                        "lowest_ltv": float(worst["ltv"]),
                        "highest": str(best[keys[0]]),
                        "highest_ltv": float(best["ltv"]),
                    },
                )
            )
    return Result(
        name="ltv",
        title="Lifetime value (LTV) by buyer cohort",
        table=table,
        summary=summarize(summary, LTV_SUMMARY),
        findings=tuple(findings),
        tables={"curve": curve},
        params={"period": period, "margin": margin, "by": by, "horizon": horizon},
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="heatmap",
                x="age",
                y="cohort",
                z="ltv",
                title=f"LTV by cohort and age ({unit}s), {ds.settings.currency} per buyer",
                labels={"age": f"Age ({unit}s)", "cohort": "Cohort (first order)", "ltv": "LTV"},
                value_format=",.2f",
            ),
            FigureSpec(
                kind="line",
                x="age",
                y="ltv",
                table="curve",
                color=keys[0] if keys else None,
                title="Mean LTV curve over cohorts",
                labels={"age": f"Age ({unit}s)", "ltv": f"LTV ({ds.settings.currency} per buyer)"},
                value_format=",.2f",
            ),
        ),
        notes=(
            "LTV(c, k) = cumulative gross profit (revenue × margin) of cohort c's buyers over "
            "ages 0..k ÷ cohort buyers; cohort = period of the first order.",
            "Cells past the data window do not exist; `complete` marks cells whose period lies "
            f"wholly inside it. The {horizon}-{unit} LTV averages complete cohorts only.",
        ),
    )


def orders_per_buyer(ds: Dataset, *, period: Period | None = None) -> Result:
    """Orders per buyer: cumulative orders of cohort c over ages 0..k ÷ its buyers.

    See docs/metrics.md, "Orders per buyer".
    """
    period = check_period(period or ds.settings.period)
    cells = cohort_orders(ds, period=period, by=None)
    table = cells[["cohort", "age", "buyers", "complete"]].copy()
    table["orders_per_buyer"] = cells["cum_orders"] / cells["buyers"]
    table = table[["cohort", "age", "buyers", "orders_per_buyer", "complete"]]
    horizon = ds.settings.horizon
    overall = horizon_mean(table, "orders_per_buyer", horizon=horizon)
    value = float(overall["orders_per_buyer"].iloc[0])
    used = int(overall["cells"].iloc[0])
    unit = _unit(period)
    first = table[table["age"] == 0]
    first_buyers = int(first["buyers"].sum())
    if first_buyers:
        repeat = float((first["orders_per_buyer"] * first["buyers"]).sum() / first_buyers)
        findings = [
            Finding(
                "first_period_orders",
                f"In their first {unit} buyers place {repeat:.2f} orders each on average.",
                numbers={"orders_per_buyer": repeat},
            )
        ]
        status: Status = "ok"
        reason = ""
    else:
        repeat = math.nan
        status = "not_enough_data"
        reason = "No order in the data window, so there are no buyers to follow."
        findings = [Finding("no_buyers", reason, "warning")]
    if used:
        findings.append(
            Finding(
                "orders_at_horizon",
                f"After {count_of(horizon, unit)} a buyer has placed {value:.2f} orders on "
                f"average (mean over {count_of(used, 'complete cohort')}).",
                numbers={"orders_per_buyer": value, "horizon": horizon, "cohorts": used},
            )
        )
    return Result(
        name="orders_per_buyer",
        title="Orders per buyer by cohort",
        table=table,
        summary=summarize(
            {
                f"orders_per_buyer_{horizon}": value,
                f"orders_per_buyer_{horizon}_cells": used,
                "orders_per_buyer_first_period": repeat,
            },
            ORDERS_SUMMARY,
        ),
        findings=tuple(findings),
        params={"period": period, "horizon": horizon},
        status=status,
        status_reason=reason,
        tables={"curve": _mean_curve(table, "orders_per_buyer", [])},
        figures=(
            FigureSpec(
                kind="heatmap",
                x="age",
                y="cohort",
                z="orders_per_buyer",
                title=f"Cumulative orders per buyer by cohort and age ({unit}s)",
                labels={
                    "age": f"Age ({unit}s)",
                    "cohort": "Cohort (first order)",
                    "orders_per_buyer": "Orders per buyer",
                },
                value_format=".2f",
            ),
        ),
        notes=(
            "orders_per_buyer(c, k) = orders of cohort c's buyers in ages 0..k ÷ cohort buyers.",
        ),
    )


def aov(ds: Dataset, *, period: Period | None = None) -> Result:
    """Average check: revenue ÷ orders, per period and overall (docs/metrics.md, "AOV")."""
    period = check_period(period or ds.settings.period)
    window = ds.window
    if window is None:
        raise ConfigError("aov needs a data window; set window = [start, end]")
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
    table = table[["period", "orders", "revenue", "aov", "complete"]]
    n, revenue = int(table["orders"].sum()), float(table["revenue"].sum())
    overall = revenue / n if n else math.nan
    currency = ds.settings.currency
    findings: list[Finding] = []
    status: Status = "ok"
    reason = ""
    if n:
        findings.append(
            Finding(
                "average_check",
                f"The average check is {money(overall, currency)} over {count_of(n, 'order')}.",
                numbers={"aov": overall, "orders": n},
            )
        )
        full = table[table["complete"] & table["aov"].notna()]
        spread = money_range(full, "aov", "period", period, currency, f"Per complete {period} it")
        if spread:
            findings.append(Finding("aov_range", spread))
    else:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no average check."
        findings.append(Finding("no_orders", reason, "warning"))
    return Result(
        name="aov",
        title="Average check (AOV)",
        table=table,
        summary=summarize(
            {"aov": overall, "orders": n, "revenue": revenue, "currency": currency}, AOV_SUMMARY
        ),
        findings=tuple(findings),
        params={"period": period},
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="line",
                x="period",
                y="aov",
                title=f"Average check per {period}",
                labels={"period": period.capitalize(), "aov": f"Average check ({currency})"},
                value_format=",.2f",
            ),
        ),
        notes=("AOV = revenue ÷ orders; zero-revenue orders count as orders.",),
    )


def _mean_curve(table: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """Unweighted mean over cohorts per age (complete cells only), with cells used."""
    full = table[table["complete"] & table[value].notna()]
    curve = full.groupby([*keys, "age"])[value].agg(["mean", "size"]).reset_index()
    return curve.rename(columns={"mean": value, "size": "cells"})


def _by(ds: Dataset, by: str | None) -> list[str]:
    if by is None:
        return []
    dims = session_dimensions(ds)
    if by not in dims:
        raise ConfigError(
            f"cannot break down by {by!r}: it is not a session dimension of this dataset "
            f"(dimensions: {', '.join(dims) or 'none: the dataset has no sessions'})"
        )
    return [by]


def _check_margin(margin: float) -> float:
    if not 0 < margin <= 1:
        raise ConfigError(f"margin must be in (0, 1]; got {margin}")
    return float(margin)


def _unit(period: Period) -> str:
    return period


__all__ = ["aov", "cohort_orders", "ltv", "orders_per_buyer"]
