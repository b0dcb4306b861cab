"""Orders per buyer by buyer cohort (docs/metrics.md, "Orders per buyer").

Options, the stages and the report plan, registered once at the bottom (the pattern of
growthlens.analyses.retention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.ltv import average_note, curve_findings
from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.metrics.cohorts import cohort_curve, horizon_mean
from growthlens.metrics.revenue import orders_per_buyer_table
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.text import count_of

SUMMARY: SummarySpec = {
    "orders_per_buyer_{n}": ("ratio", "Orders per buyer after {n} periods"),
    "orders_per_buyer_{n}_cells": ("count", "Complete cohorts in the {n}-period figure"),
    "orders_per_buyer_first_period": ("ratio", "Orders per buyer in the first period"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the cohort period and the horizon of the headline figure."""

    period: Period
    horizon: int


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the long orders-per-buyer table."""

    table: pd.DataFrame


def orders_per_buyer(ds: Dataset, *, period: Period | None = None) -> Result:
    """Orders per buyer: cumulative orders of cohort c over ages 0..k ÷ its buyers.

    See docs/metrics.md, "Orders per buyer". Table ``curve`` (``age``,
    ``orders_per_buyer``, ``cohorts``) averages one fixed set of cohorts at every age
    0..N−1 (N = the ``horizon`` setting), as :func:`growthlens.ltv`'s curve does.
    """
    return ORDERS_PER_BUYER.run(ds, period=period)


def _params(ds: Dataset, *, period: Period | None) -> Params:
    return Params(period=check_period(period or ds.settings.period), horizon=ds.settings.horizon)


def _compute(ds: Dataset, p: Params) -> Frames:
    return Frames(orders_per_buyer_table(ds, period=p.period))


def _explain(frames: Frames, p: Params) -> Result:
    table, horizon, unit = frames.table, p.horizon, p.period
    overall = horizon_mean(table, "orders_per_buyer", horizon=horizon)
    value = float(overall["orders_per_buyer"].iloc[0])
    used = int(overall["cells"].iloc[0])
    first = table[table["age"] == 0]
    first_buyers = int(first["buyers"].sum())
    status: Status = "ok"
    reason = ""
    if first_buyers:
        repeat = float((first["orders_per_buyer"] * first["buyers"]).sum() / first_buyers)
    else:
        repeat = math.nan
        status = "not_enough_data"
        reason = "No order in the data window, so there are no buyers to follow."
    curve = cohort_curve(table, "orders_per_buyer", horizon=horizon)
    findings = _findings(p, value=value, used=used, repeat=repeat, reason=reason)
    findings.extend(curve_findings(curve, "orders-per-buyer", horizon, unit, "balanced"))
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
            SUMMARY,
        ),
        findings=tuple(findings),
        params=params_dict(p),
        status=status,
        status_reason=reason,
        tables={"curve": curve},
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
            average_note("balanced", horizon, unit),
        ),
    )


def _findings(p: Params, *, value: float, used: int, repeat: float, reason: str) -> list[Finding]:
    horizon, unit = p.horizon, p.period
    if reason:
        findings = [Finding("no_buyers", reason, "warning")]
    else:
        findings = [
            Finding(
                "first_period_orders",
                f"In their first {unit} buyers place {repeat:.2f} orders each on average.",
                numbers={"orders_per_buyer": repeat},
            )
        ]
    if used:
        findings.append(
            Finding(
                "orders_at_horizon",
                f"After {count_of(horizon, unit)} a buyer has placed {value:.2f} orders on "
                f"average (mean over {count_of(used, 'complete cohort')}).",
                numbers={"orders_per_buyer": value, "horizon": horizon, "cohorts": used},
            )
        )
    return findings


ORDERS_PER_BUYER = register(
    Analysis(
        name="orders_per_buyer",
        title="Orders per buyer",
        group="sales",
        needs=("orders",),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    orders_per_buyer,
)
