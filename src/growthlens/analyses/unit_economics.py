"""Unit economics: LTV:CAC and payback per source, CAC and ROMI per cohort month.

Definitions: docs/metrics.md, "Marketing" → "Unit economics"; the engine part is
growthlens.metrics.marketing.unit_economics, which reads everything off the ROMI frames
(so CAC, LTV and ROMI are those of gl.cac, gl.ltv and gl.romi). Options, the stages and
the report plan are registered once at the bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.metrics.marketing.romi import check_horizon
from growthlens.metrics.marketing.unit_economics import BY, UnitEconomics, unit_economics_frames
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of, listing, money, period_label

SUMMARY: SummarySpec = {
    "ltv_cac_ratio": ("ratio", "LTV:CAC at the horizon (all sources)"),
    "ltv": ("money", "LTV at the horizon (all sources)"),
    "cac": ("money", "CAC over the window"),
    "cohorts_used": ("count", "Complete cohorts at the horizon"),
    "horizon": ("count", "Horizon (periods)"),
    "margin": ("share", "Margin"),
    "spend_below_one": ("money", "Spend on sources with LTV:CAC below 1"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the cohort period and the horizon N."""

    period: Period
    horizon: int


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the unit-economics frames, the margin and the currency."""

    unit: UnitEconomics
    margin: float
    currency: str


def unit_economics(
    ds: Dataset, *, horizon: int | None = None, period: Period | None = None
) -> Result:
    """LTV:CAC and payback per acquisition source; CAC and ROMI per cohort.

    Definitions (docs/metrics.md, "Unit economics"), all read off ``gl.romi``'s frames with
    the dataset's ``margin``: per source, ``cac`` = its spend ÷ its buyers over the window
    (``gl.cac``); ``ltv`` = the mean LTV(c, N − 1) (``gl.ltv``) over its cohorts complete
    at age N − 1 with a defined ROMI; ``cac_cohorts`` = the mean CAC(c, source) over the
    same cohorts; ``ltv_cac_ratio`` = the mean of LTV(c, N − 1) ÷ CAC(c, source) over them,
    which is the N-period ROMI + 1 of ``gl.romi`` (a mean of ratios, so not ``ltv ÷
    cac_cohorts`` in general); ``payback_periods`` = payback age + 1. Per cohort (table
    ``trend``): CAC(c), ROMI after the first period (``romi_1``, every cohort) and after N
    periods (``romi_<N>``, NaN with ``complete = False`` until the cohort is observed that
    long).

    Args:
        ds: a Dataset with sessions, orders and costs.
        horizon: N (default: the ``horizon`` setting).
        period: cohort period (default: the ``period`` setting).

    Returns:
        Result whose main table is per source (see
        growthlens.metrics.marketing.unit_economics.UnitEconomics); tables ``trend`` and
        ``overall`` (all sources, one row).

    Example:
        Two buyers of source tv bring 40 of revenue, half of it gross profit, for 16:

        >>> import pandas as pd, growthlens as gl
        >>> visits = pd.DataFrame({"user_id": [7, 8], "source": "tv",
        ...     "start_ts": ["2020-03-01", "2020-03-01"]})
        >>> sales = pd.DataFrame({"user_id": [7, 8, 8], "revenue": [10.0, 20.0, 10.0],
        ...     "ts": ["2020-03-02", "2020-03-09", "2020-03-20"]})
        >>> spend = pd.DataFrame({"date": ["2020-03-02", "2020-03-20"], "source": "tv",
        ...     "cost": [6.0, 10.0]})
        >>> ds = gl.load(sessions=visits, orders=sales, costs=spend, margin=0.5,
        ...              window=("2020-03-01", "2020-03-31"))
        >>> row = unit_economics(ds, horizon=1).table.iloc[0]
        >>> [float(row[c]) for c in ("cac", "ltv", "ltv_cac_ratio")]  # 16/2; 20/2; 10/8
        [8.0, 10.0, 1.25]
    """
    return UNIT_ECONOMICS.run(ds, horizon=horizon, period=period)


def _params(ds: Dataset, *, horizon: int | None, period: Period | None) -> Params:
    return Params(
        period=check_period(period or ds.settings.period),
        horizon=check_horizon(ds.settings.horizon if horizon is None else horizon),
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    unit = unit_economics_frames(ds, period=p.period, horizon=p.horizon)
    return Frames(unit, ds.settings.margin, ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    unit, currency = frames.unit, frames.currency
    sources, overall, trend = unit.sources, unit.overall.iloc[0], unit.trend
    below = sources[(sources["status"] == "paid") & (sources["ltv_cac_ratio"] < 1)]
    status: Status = "ok"
    reason = ""
    if not int(overall["buyers"]):
        status = "not_enough_data"
        reason = "There are no buyers in the window, so LTV, CAC and their ratio are undefined."
    summary: dict[str, SummaryValue] = {
        "ltv_cac_ratio": float(overall["ltv_cac_ratio"]),
        "ltv": float(overall["ltv"]),
        "cac": float(overall["cac"]),
        "cohorts_used": int(overall["cohorts_used"]),
        "horizon": p.horizon,
        "margin": frames.margin,
        "spend_below_one": float(below["cost"].sum()),
        "currency": currency,
    }
    findings = (
        [Finding("no_buyers", reason, "warning")]
        if reason
        else _findings(unit, p, currency, below, frames.margin)
    )
    n_label = f"{p.horizon}-{p.period}"
    lines = trend.melt(
        id_vars=["cohort"],
        value_vars=[c for c in trend.columns if c.startswith("romi_")],
        var_name="after",
        value_name="romi",
    )
    lines["after"] = lines["after"].map(
        lambda c: f"after {count_of(int(c.removeprefix('romi_')), p.period)}"
    )
    return Result(
        name="unit_economics",
        title="Unit economics: LTV:CAC, payback, CAC and ROMI trends",
        table=sources,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"trend": trend, "overall": unit.overall, "romi_lines": lines},
        params=params_dict(p),
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="bar",
                x=BY,
                y="ltv_cac_ratio",
                title=f"LTV:CAC by source ({n_label} LTV ÷ CAC; 1 = paid back)",
                labels={
                    BY: "Source",
                    "ltv_cac_ratio": "LTV:CAC",
                    "cohorts_used": "Cohorts",
                    "cost": "spend",
                },
                value_format=".2f",
                hover=("cohorts_used",),
                rank="cost",
            ),
            FigureSpec(
                kind="line",
                x="cohort",
                y="cac",
                table="trend",
                title="CAC per cohort (all sources)",
                labels={"cohort": "Cohort (first order)", "cac": f"CAC ({currency})"},
                value_format=",.2f",
            ),
            FigureSpec(
                kind="line",
                x="cohort",
                y="romi",
                color="after",
                table="romi_lines",
                title="ROMI per cohort after its first period and at the horizon",
                subtitle=f"The {n_label} line stops where cohorts are not yet observed that long.",
                labels={"cohort": "Cohort (first order)", "romi": "ROMI (0 = paid back)"},
                value_format=".0%",
            ),
        ),
        notes=(
            f"LTV:CAC = the mean over a source's cohorts complete at age {p.horizon - 1} of "
            f"LTV ÷ CAC of that cohort = its {n_label} ROMI + 1 (gl.romi); `ltv` and "
            "`cac_cohorts` are the means over the same cohorts, `cac` the CAC over the window "
            "(gl.cac).",
            f"Gross profit = revenue × margin ({frames.margin:.0%}). Organic sources have no "
            "CAC, so no ratio or payback; `payback_periods` = payback age + 1.",
            f"Trend: CAC(c) over all sources; ROMI after the first period for every cohort and "
            f"after {count_of(p.horizon, p.period)} only for cohorts observed that long "
            "(complete = True).",
        ),
    )


def _findings(
    unit: UnitEconomics, p: Params, currency: str, below: pd.DataFrame, margin: float
) -> list[Finding]:
    findings: list[Finding] = []
    overall = unit.overall.iloc[0]
    n_label = f"{p.horizon}-{p.period}"
    ratio = float(overall["ltv_cac_ratio"])
    if math.isfinite(ratio):
        findings.append(
            Finding(
                "ltv_cac",
                f"Over all sources a buyer's {n_label} gross profit is {ratio:.2f}× what it cost "
                f"to acquire (mean of {count_of(int(overall['cohorts_used']), 'complete cohort')}"
                f"; LTV {money(overall['ltv'], currency)}, CAC over the window "
                f"{money(overall['cac'], currency)}).",
                numbers={"ltv_cac_ratio": ratio, "cohorts": int(overall["cohorts_used"])},
            )
        )
    else:
        findings.append(
            Finding(
                "no_cohort_at_horizon",
                f"No cohort with spend is complete at the {n_label} horizon yet, so LTV:CAC is "
                "undefined.",
            )
        )
    if len(below):
        ranked = below.sort_values("cost", ascending=False, kind="stable")
        names = [
            f"{r[BY]} ({r['ltv_cac_ratio']:.2f}×, {money(r['cost'], currency)})"
            for _, r in ranked.iterrows()
        ]
        at_stake = float(below["cost"].sum())
        total = float(unit.sources["cost"].sum())
        share = f" ({at_stake / total:.0%} of all spend)" if total > 0 else ""
        findings.append(
            Finding(
                "ltv_cac_below_one",
                f"{count_of(len(below), 'source')} {'has' if len(below) == 1 else 'have'} not "
                f"paid back their buyers within {count_of(p.horizon, p.period)} (LTV:CAC < 1): "
                f"{BY} {listing(names)}; {money(at_stake, currency)} of spend{share} is at stake.",
                "warning",
                numbers={"sources": len(below), "spend": at_stake},
                at_stake=at_stake,
            )
        )
    paid = unit.sources[unit.sources["status"] == "paid"]
    undefined = paid[paid["ltv_cac_ratio"].isna() & (paid["cost"] > 0)]
    if len(undefined):
        names = [f"{r[BY]} ({money(r['cost'], currency)})" for _, r in undefined.iterrows()]
        findings.append(
            Finding(
                "ltv_cac_undefined",
                f"No LTV:CAC for {BY} {listing(names)}: no buyer, or no cohort complete at the "
                f"{n_label} horizon with spend.",
            )
        )
    findings.extend(_cac_trend(unit.trend, p, currency))
    if margin >= 1:
        findings.append(
            Finding(
                "margin_is_revenue",
                "The margin setting is 100%, so LTV counts revenue, not gross profit, and "
                "LTV:CAC is overstated by the cost of what was sold; set margin to the gross "
                "margin.",
                "warning",
            )
        )
    return findings


def _cac_trend(trend: pd.DataFrame, p: Params, currency: str) -> list[Finding]:
    """CAC per complete cohort period: first and last, and the least-squares slope."""
    defined = trend[trend["cac"].notna() & trend["period_complete"]].reset_index(drop=True)
    if len(defined) < 2:
        return []
    first, last = defined.iloc[0], defined.iloc[-1]
    slope = float(np.polyfit(np.arange(len(defined), dtype=float), defined["cac"], 1)[0])
    mean = float(defined["cac"].mean())
    direction = "rose" if last["cac"] > first["cac"] else "fell"
    if last["cac"] == first["cac"]:
        direction = "stayed"
    per = f"{slope / mean * 100:+.1f}%".replace("-", "−") if mean > 0 else "n/a"
    return [
        Finding(
            "cac_trend",
            f"CAC per cohort {direction} from {money(first['cac'], currency)} "
            f"({period_label(first['cohort'], p.period)}) to {money(last['cac'], currency)} "
            f"({period_label(last['cohort'], p.period)}); the least-squares trend is "
            f"{money(slope, currency)} per {p.period} ({per} of the average CAC "
            f"{money(mean, currency)}).",
            numbers={"first": float(first["cac"]), "last": float(last["cac"]), "slope": slope},
        )
    ]


UNIT_ECONOMICS = register(
    Analysis(
        name="unit_economics",
        title="Unit economics",
        group="marketing",
        needs=("sessions", "orders", "costs"),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    unit_economics,
)
