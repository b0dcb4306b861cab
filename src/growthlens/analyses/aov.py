"""Average check (AOV) per period and overall (docs/metrics.md, "AOV").

Options, the stages and the report plan, registered once at the bottom (the pattern of
growthlens.analyses.retention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.revenue import aov_table
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.text import count_of, money, money_range

SUMMARY: SummarySpec = {
    "aov": ("money", "Average check"),
    "orders": ("count", "Orders"),
    "revenue": ("money", "Revenue"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the period of the per-period table."""

    period: Period


@dataclass(frozen=True)
class Frames:
    """What the engine returned: orders and revenue per period, and the currency."""

    table: pd.DataFrame
    currency: str


def aov(ds: Dataset, *, period: Period | None = None) -> Result:
    """Average check: revenue ÷ orders, per period and overall (docs/metrics.md, "AOV")."""
    return AOV.run(ds, period=period)


def _params(ds: Dataset, *, period: Period | None) -> Params:
    return Params(period=check_period(period or ds.settings.period))


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("aov needs a data window; set window = [start, end]")
    return Frames(aov_table(ds, period=p.period, window=window), ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    table, currency, period = frames.table, frames.currency, p.period
    n, revenue = int(table["orders"].sum()), float(table["revenue"].sum())
    overall = revenue / n if n else math.nan
    status: Status = "ok"
    reason = ""
    if not n:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no average check."
    return Result(
        name="aov",
        title="Average check (AOV)",
        table=table,
        summary=summarize(
            {"aov": overall, "orders": n, "revenue": revenue, "currency": currency}, SUMMARY
        ),
        findings=tuple(_findings(table, p, currency, overall=overall, n=n, reason=reason)),
        params=params_dict(p),
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


def _findings(
    table: pd.DataFrame, p: Params, currency: str, *, overall: float, n: int, reason: str
) -> list[Finding]:
    if reason:
        return [Finding("no_orders", reason, "warning")]
    findings = [
        Finding(
            "average_check",
            f"The average check is {money(overall, currency)} over {count_of(n, 'order')}.",
            numbers={"aov": overall, "orders": n},
        )
    ]
    full = table[table["complete"] & table["aov"].notna()]
    spread = money_range(full, "aov", "period", p.period, currency, f"Per complete {p.period} it")
    if spread:
        findings.append(Finding("aov_range", spread))
    return findings


AOV = register(
    Analysis(
        name="aov",
        title="Average check (AOV)",
        group="sales",
        needs=("orders",),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    aov,
)
