"""LTV by buyer cohort: cumulative gross profit per buyer (docs/metrics.md, "LTV").

Options, the stages and the report plan, registered once at the bottom (the pattern of
growthlens.analyses.retention).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import horizon_mean
from growthlens.metrics.revenue import by_keys, ltv_table, mean_curve
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of, money

SUMMARY: SummarySpec = {
    "ltv_{n}": ("money", "LTV after {n} periods (mean over complete cohorts)"),
    "ltv_{n}_cells": ("count", "Complete cohorts in the {n}-period LTV"),
    "buyers": ("count", "Buyers"),
    "margin": ("share", "Margin"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: cohort period, margin, session dimension to split by and horizon."""

    period: Period
    margin: float
    by: str | None
    horizon: int


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the long LTV table, and the currency of its money."""

    table: pd.DataFrame
    currency: str


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
    return LTV.run(ds, period=period, margin=margin, by=by)


def _params(ds: Dataset, *, period: Period | None, margin: float | None, by: str | None) -> Params:
    margin = ds.settings.margin if margin is None else _check_margin(margin)
    by_keys(ds, by)  # raises ConfigError for a dimension the sessions lack
    return Params(
        period=check_period(period or ds.settings.period),
        margin=margin,
        by=by,
        horizon=ds.settings.horizon,
    )


def _check_margin(margin: float) -> float:
    if not 0 < margin <= 1:
        raise ConfigError(f"margin must be in (0, 1]; got {margin}")
    return float(margin)


def _compute(ds: Dataset, p: Params) -> Frames:
    table = ltv_table(ds, period=p.period, by=p.by, margin=p.margin)
    return Frames(table, ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    table, currency, horizon, unit = frames.table, frames.currency, p.horizon, p.period
    keys = [p.by] if p.by else []
    overall = horizon_mean(table, "ltv", horizon=horizon)
    value = float(overall["ltv"].iloc[0])
    used = int(overall["cells"].iloc[0])
    summary: dict[str, SummaryValue] = {
        f"ltv_{horizon}": value,
        f"ltv_{horizon}_cells": used,
        "buyers": int(table.drop_duplicates(["cohort", *keys])["buyers"].sum()),
        "margin": p.margin,
        "currency": currency,
    }
    status: Status = "ok"
    reason = ""
    if not summary["buyers"]:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no buyer cohort to follow."
    return Result(
        name="ltv",
        title="Lifetime value (LTV) by buyer cohort",
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(_findings(table, p, currency, value=value, used=used, reason=reason)),
        tables={"curve": mean_curve(table, "ltv", keys)},
        params=params_dict(p),
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="heatmap",
                x="age",
                y="cohort",
                z="ltv",
                title=f"LTV by cohort and age ({unit}s), {currency} per buyer",
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
                labels={"age": f"Age ({unit}s)", "ltv": f"LTV ({currency} per buyer)"},
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


def _findings(
    table: pd.DataFrame, p: Params, currency: str, *, value: float, used: int, reason: str
) -> list[Finding]:
    horizon, unit, margin, by = p.horizon, p.period, p.margin, p.by
    keys = [by] if by else []
    findings: list[Finding] = []
    if reason:
        findings.append(Finding("no_buyers", reason, "warning"))
    elif used:
        findings.append(
            Finding(
                "ltv_horizon",
                f"A buyer brings {money(value, currency)} of gross profit in their "
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
                    f"{horizon}-{unit} LTV ranges from {money(worst['ltv'], currency)} "
                    f"({by} {worst[keys[0]]}) to {money(best['ltv'], currency)} "
                    f"({by} {best[keys[0]]}).",
                    numbers={
                        "lowest": str(worst[keys[0]]),
                        "lowest_ltv": float(worst["ltv"]),
                        "highest": str(best[keys[0]]),
                        "highest_ltv": float(best["ltv"]),
                    },
                )
            )
    return findings


LTV = register(
    Analysis(
        name="ltv",
        title="Lifetime value (LTV)",
        group="sales",
        needs=("orders",),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    ltv,
)
