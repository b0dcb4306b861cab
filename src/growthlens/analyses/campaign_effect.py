"""Did a campaign that was not randomised work? ``gl.campaign_effect`` (docs/experiments.md).

A campaign reached one group of customers (``treated={"city": 1134}``) on stated days
(``period=[15, 45]``). Its units (the values of that customers column) are followed day by
day; the other units are the comparison. The estimates:

- difference-in-differences with unit and day effects: additive (per treated unit and
  campaign day) and as a ratio of ratios (the treated units' campaign-day ÷ other-day rate,
  over the comparison units' same ratio), with intervals chosen for the number of treated
  units (stats/did.py says how);
- a synthetic control (weighted comparison units fit on the other days) with placebo-in-space
  inference;
- the naive before/after ratio beside them, and why it is biased: the comparison units' own
  ratio on those days is what trend and weekday did without the campaign;
- checks: the pre-campaign trend, placebo campaign days and placebo treated units, and the
  effect by day around each campaign day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.days import DayLike, day_axis, day_window, days_label, to_date, window_label
from growthlens.errors import ConfigError
from growthlens.metrics.experiments import PANEL_METRICS, Panel, unit_panel, unit_values
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.did import DiD, did, event_days, placebo_days, placebo_units, pretrend
from growthlens.stats.synthetic import Synthetic, synthetic_control
from growthlens.text import count_of, listing
from growthlens.units import p_phrase, percent, times

ACTIVE_SHARE = 0.5
"""A unit is comparable when its metric is non-zero on at least this share of the days."""

SUMMARY: SummarySpec = {
    "ratio": ("times", "Ratio of ratios (campaign days, treated vs comparison)"),
    "lift": ("percent", "Lift on campaign days"),
    "additive": ("number", "Extra per treated unit and campaign day"),
    "p_value": ("p_value", "p-value"),
    "naive_ratio": ("times", "Naive before/after ratio (biased)"),
    "synthetic_effect": ("number", "Synthetic-control effect per campaign day"),
    "pretrend_p_value": ("p_value", "Pre-campaign trend check p-value"),
}
NOUNS = {"orders": "orders", "items": "items", "revenue": "revenue", "buyers": "buyers"}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`campaign_effect`)."""

    column: str
    treated: tuple[Any, ...]
    days: tuple[date, ...]
    metric: str
    span: tuple[date, date]
    confidence: float
    name: str
    day_zero: date | None
    currency: str


@dataclass(frozen=True)
class Frames:
    """The engine's answer: the unit × day panel."""

    panel: Panel


@dataclass(frozen=True)
class Estimates:
    """What the statistics said, with the panel they said it of."""

    did: DiD | None
    synthetic: Synthetic | None
    pretrend: Any
    placebo_days: pd.DataFrame
    placebo_units: pd.DataFrame
    event_days: pd.DataFrame
    daily: pd.DataFrame
    units: pd.DataFrame
    excluded: tuple[Any, ...]
    unassigned: int
    status: Status
    reason: str


def campaign_effect(
    ds: Dataset,
    *,
    treated: Mapping[str, Any],
    period: Sequence[DayLike | Sequence[DayLike]],
    metric: str = "orders",
    window: Sequence[DayLike] | None = None,
    confidence: float = 0.95,
    name: str | None = None,
) -> Result:
    """The effect of a campaign on its treated units (docs/experiments.md).

    Args:
        ds: a dataset with ``orders`` and ``customers``.
        treated: one customers column and its treated value or values, e.g.
            ``{"city": 1134}``.
        period: the campaign's days (day numbers or dates), or ``(first, last)`` ranges.
        metric: ``orders``, ``items`` (order lines), ``revenue`` or ``buyers`` per unit-day.
        window: the days followed (default: the data window).
        confidence: confidence level of every interval.
        name: a title for the report.
    """
    return CAMPAIGN_EFFECT.run(
        ds,
        treated=treated,
        period=period,
        metric=metric,
        window=window,
        confidence=confidence,
        name=name,
    )


def _days(period: Sequence[Any], day_zero: date | None) -> tuple[date, ...]:
    days: set[date] = set()
    if isinstance(period, str | int | date):
        period = [period]
    for item in period:
        if isinstance(item, Sequence) and not isinstance(item, str):
            first, last = day_window(item, day_zero, option="campaign_effect: period")
            days.update(first + timedelta(i) for i in range((last - first).days + 1))
        else:
            days.add(to_date(item, day_zero, option="campaign_effect: period"))
    return tuple(sorted(days))


def _params(
    ds: Dataset,
    *,
    treated: Mapping[str, Any],
    period: Sequence[Any],
    metric: str,
    window: Sequence[DayLike] | None,
    confidence: float,
    name: str | None,
) -> Params:
    day_zero = ds.settings.day_zero
    if not isinstance(treated, Mapping) or len(treated) != 1:
        raise ConfigError(
            "campaign_effect: treated must name one customers column and its value(s), "
            f'e.g. {{"city": 1134}}; found {treated!r}'
        )
    ((column, value),) = treated.items()
    columns = ds.table("customers").columns
    if column not in columns:
        raise ConfigError(
            f"campaign_effect: treated column {column!r} is not a customers column "
            f"({', '.join(c for c in columns if c != 'user_id')})"
        )
    values = tuple(value) if isinstance(value, list | tuple) else (value,)
    known = unit_values(ds, column)
    as_text = {str(k): k for k in known}
    resolved = []
    for v in values:
        if v in known:
            resolved.append(v)
        elif str(v) in as_text:
            resolved.append(as_text[str(v)])
        else:
            raise ConfigError(
                f"campaign_effect: no customer has {column} = {v!r}; values found: "
                f"{listing(sorted(map(str, known)))}"
            )
    if metric not in PANEL_METRICS:
        raise ConfigError(
            f"campaign_effect: metric must be one of {', '.join(PANEL_METRICS)}; found {metric!r}"
        )
    if metric == "items" and "items" not in ds.table("orders").columns:
        raise ConfigError("campaign_effect: metric 'items' needs order lines (order_lines = true)")
    span = day_window(window, day_zero, option="campaign_effect: window") if window else ds.window
    if span is None:
        raise ConfigError("campaign_effect needs a window: pass window=(first, last)")
    days = _days(period, day_zero)
    outside = [d for d in days if not span[0] <= d <= span[1]]
    if outside:
        raise ConfigError(
            f"campaign_effect: campaign days outside the data ({window_label(span, day_zero)}): "
            + ", ".join(window_label((d, d), day_zero) for d in outside)
        )
    if not 0 < confidence < 1:
        raise ConfigError(f"campaign_effect: confidence must lie in (0, 1); found {confidence}")
    label = ", ".join(str(v) for v in resolved)
    return Params(
        column=column,
        treated=tuple(resolved),
        days=days,
        metric=metric,
        span=span,
        confidence=confidence,
        name=name or f"Campaign in {column} {label}",
        day_zero=day_zero,
        currency=ds.settings.currency,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    return Frames(unit_panel(ds, column=p.column, metric=p.metric, span=p.span))


def _infer(frames: Frames, p: Params) -> Estimates:
    panel = frames.panel
    values = panel.values.copy()
    values["day"] = [(d - p.span[0]).days for d in values["day"]]
    campaign = [(d - p.span[0]).days for d in p.days]
    days = values["day"].nunique()
    active = values.assign(on=values["value"] > 0).groupby("unit")["on"].mean()
    treated = set(p.treated)
    excluded = tuple(u for u, share in active.items() if u not in treated and share < ACTIVE_SHARE)
    used = values.loc[~values["unit"].isin(excluded)]
    units = panel.customers.assign(
        role=[
            "treated" if u in treated else ("excluded" if u in excluded else "comparison")
            for u in panel.customers["unit"]
        ]
    )
    status: Status = "ok"
    reason = ""
    if not (units["role"] == "comparison").any():
        status, reason = "empty_arm", "No comparable unit is left to compare the treated ones with."
    elif days < 3:
        status, reason = "not_enough_data", f"Only {count_of(days, 'day')} in the data."
    daily = _daily(panel, p, excluded)
    empty = pd.DataFrame()
    base = Estimates(
        None, None, None, empty, empty, empty, daily, units, excluded, panel.unassigned,
        status, reason,
    )  # fmt: skip
    if status != "ok":
        return base
    kw: dict[str, Any] = {"treated": list(p.treated), "campaign_days": campaign}
    estimate = did(used, confidence=p.confidence, **kw)
    return replace(
        base,
        did=estimate,
        synthetic=synthetic_control(used, confidence=p.confidence, **kw),
        pretrend=pretrend(used, confidence=p.confidence, **kw),
        placebo_days=placebo_days(used, **kw),
        placebo_units=placebo_units(used, **kw),
        event_days=event_days(used, confidence=p.confidence, **kw),
        status="ok" if estimate.status == "ok" else "not_enough_data",
        reason="" if estimate.status == "ok" else estimate.reason,
    )


def _daily(panel: Panel, p: Params, excluded: tuple[Any, ...]) -> pd.DataFrame:
    """The metric per customer per day: treated units against the comparison units."""
    v = panel.values.merge(panel.customers, on="unit")
    v = v.loc[~v["unit"].isin(excluded)]
    v["group"] = ["treated" if u in p.treated else "comparison" for u in v["unit"]]
    out = v.groupby(["group", "day"], as_index=False)[["value", "customers"]].sum()
    out["per_customer"] = out["value"] / out["customers"]
    out["campaign_day"] = out["day"].isin(p.days)
    axis = [day_axis(d, p.day_zero) for d in out.pop("day")]
    out.insert(1, "day_number" if p.day_zero is not None else "date", axis)
    return out


def _table(e: Estimates) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    d, s = e.did, e.synthetic
    if d is not None:
        rows += [
            {
                "method": "Difference-in-differences, ratio of ratios",
                "estimate": d.ratio,
                "low": d.ratio_low,
                "high": d.ratio_high,
                "p_value": d.ratio_p,
                "interval": d.interval_method,
                "scale": "ratio",
            },
            {
                "method": "Difference-in-differences, additive (per unit and campaign day)",
                "estimate": d.additive,
                "low": d.additive_low,
                "high": d.additive_high,
                "p_value": d.additive_p,
                "interval": d.interval_method,
                "scale": "additive",
            },
            {
                "method": "Naive before/after ratio (treated units only; biased)",
                "estimate": d.naive_ratio,
                "low": math.nan,
                "high": math.nan,
                "p_value": math.nan,
                "interval": "none",
                "scale": "ratio",
            },
            {
                "method": "Comparison units' own campaign-day ratio (trend and weekday)",
                "estimate": d.comparison_ratio,
                "low": math.nan,
                "high": math.nan,
                "p_value": math.nan,
                "interval": "none",
                "scale": "ratio",
            },
        ]
    if s is not None:
        rows.append(
            {
                "method": "Synthetic control (per treated unit and campaign day)",
                "estimate": s.effect,
                "low": s.low,
                "high": s.high,
                "p_value": s.p_value,
                "interval": s.method,
                "scale": "additive",
            }
        )
    return pd.DataFrame(rows)


def _explain(e: Estimates, p: Params) -> Result:
    days = days_label(p.days, p.day_zero)
    who = f"{p.column} {', '.join(map(str, p.treated))}"
    noun = NOUNS[p.metric]
    findings: list[Finding] = []
    summary: dict[str, Any] = {}
    d = e.did
    if d is not None and e.status == "ok":
        ci = f"{round(p.confidence * 100)}% CI"
        lift = d.ratio - 1
        significant = d.ratio_p < 1 - p.confidence
        direction = "more" if lift >= 0 else "fewer"
        findings.append(
            Finding(
                "campaign_effect",
                f"On the campaign days ({days}) {who} had {percent(abs(lift))} {direction} "
                f"{noun} than on its other days, beyond what the other {p.column} values show "
                f"on those days (ratio of ratios {d.ratio:.2f}, {ci} {d.ratio_low:.2f} to "
                f"{d.ratio_high:.2f}, {p_phrase(d.ratio_p)}); that is "
                f"{d.additive:+,.1f} {noun} per {p.column} and campaign day ({ci} "
                f"{d.additive_low:+,.1f} to {d.additive_high:+,.1f}). Intervals: "
                f"{d.interval_method.split(' (')[0]} (the table says how).",
                "info",
                numbers={
                    "ratio": d.ratio,
                    "low": d.ratio_low,
                    "high": d.ratio_high,
                    "p_value": d.ratio_p,
                },
            )
        )
        findings.append(
            Finding(
                "naive_bias",
                f"The naive before/after ratio ({who}'s campaign days ÷ its other days) is "
                f"{times(d.naive_ratio)}; it is biased because the other {p.column} values also "
                f"changed by a factor of {times(d.comparison_ratio)} on those days (trend and "
                "weekday), with no campaign.",
                numbers={"naive_ratio": d.naive_ratio, "comparison_ratio": d.comparison_ratio},
            )
        )
        s = e.synthetic
        if s is not None and math.isfinite(s.effect):
            # Its estimate and placebo p-value stand even when the placebo units are too
            # few for an interval (the status says so).
            bounds = (
                f"{ci} {s.low:+,.1f} to {s.high:+,.1f}, "
                if math.isfinite(s.low) and math.isfinite(s.high)
                else "no interval: too few comparison units to place one, "
            )
            findings.append(
                Finding(
                    "synthetic_control",
                    f"A synthetic {who} (weighted comparison units fit on the other days) "
                    f"gives {s.effect:+,.1f} {noun} per campaign day ({bounds}"
                    f"placebo {p_phrase(s.p_value)}).",
                )
            )
        trend = e.pretrend
        if trend is not None and getattr(trend, "status", "ok") == "ok":
            bad = trend.p_value < 0.05
            findings.append(
                Finding(
                    "pretrend",
                    (
                        f"Before the campaign {who} drifted apart from the comparison "
                        f"(differential trend {p_phrase(trend.p_value)}): the estimate "
                        "leans on parallel trends that do not hold well."
                        if bad
                        else "Before the campaign the treated and comparison units moved in "
                        f"parallel (differential trend {p_phrase(trend.p_value)})."
                    ),
                    "warning" if bad else "info",
                    numbers={"p_value": float(trend.p_value)},
                )
            )
        if not e.placebo_units.empty and "ratio" in e.placebo_units.columns:
            placebos = e.placebo_units["ratio"].dropna()
            if len(placebos):
                extreme = float((abs(placebos - 1) >= abs(d.ratio - 1)).mean())
                findings.append(
                    Finding(
                        "placebo_units",
                        f"Taken as if treated, {percent(extreme)} of the "
                        f"{count_of(len(placebos), 'comparison unit')} show a campaign-day "
                        "ratio at least as far from 1.",
                        numbers={"share": extreme},
                    )
                )
        advice = (
            f"The campaign worked in {who}: repeat it, and test it where it can be "
            "randomised to price it exactly."
            if significant and lift > 0
            else (
                f"The campaign lowered {noun}: stop it."
                if significant
                else "No effect can be told from the day-to-day noise: do not scale it on "
                "this evidence."
            )
        )
        findings.append(Finding("recommendation", advice))
        summary = {
            "ratio": d.ratio,
            "lift": lift,
            "additive": d.additive,
            "p_value": d.ratio_p,
            "naive_ratio": d.naive_ratio,
            "synthetic_effect": e.synthetic.effect if e.synthetic else math.nan,
            "pretrend_p_value": float(trend.p_value) if trend is not None else math.nan,
        }
    else:
        findings.append(Finding("not_estimated", e.reason or "Nothing to estimate.", "warning"))
    if e.excluded:
        findings.append(
            Finding(
                "excluded_units",
                f"{count_of(len(e.excluded), 'unit')} with {noun} on fewer than "
                f"{percent(ACTIVE_SHARE)} of the days left out of the comparison: "
                f"{listing([str(u) for u in e.excluded])}.",
            )
        )
    if e.unassigned:
        findings.append(
            Finding(
                "orders_without_unit",
                f"{count_of(e.unassigned, 'order')} of buyers with no customer row or no "
                f"{p.column} are in no unit and left out.",
                "warning",
            )
        )
    x = "day_number" if p.day_zero is not None else "date"
    figures = (
        FigureSpec(
            kind="line",
            table="daily",
            x=x,
            y="per_customer",
            color="group",
            title=f"{noun.capitalize()} per customer per day: {who} against the comparison "
            f"(campaign {days})",
            labels={
                x: "Day" if p.day_zero is not None else "Date",
                "per_customer": f"{noun.capitalize()} per customer",
                "group": "Group",
            },
            value_format=",.3f",
        ),
        FigureSpec(
            kind="bar",
            table="event_days",
            x="relative_day",
            y="estimate",
            band=("low", "high"),
            title="Effect by day around the campaign days (0 = campaign day)",
            labels={
                "relative_day": "Days from a campaign day",
                "estimate": f"Extra {noun} per unit and day",
            },
            value_format=",.2f",
        ),
    )
    return Result(
        name="campaign_effect",
        title=p.name,
        table=_table(e),
        tables={
            "daily": e.daily,
            "event_days": e.event_days,
            "placebo_days": e.placebo_days,
            "placebo_units": e.placebo_units,
            "units": e.units,
            "weights": (
                e.synthetic.weights.rename("weight").rename_axis("unit").reset_index()
                if e.synthetic is not None and len(e.synthetic.weights)
                else pd.DataFrame()
            ),
        },
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={
            "treated": {p.column: list(p.treated)},
            "period": [window_label((d, d), p.day_zero) for d in p.days],
            "metric": p.metric,
            "window": [x.isoformat() for x in p.span],
            "confidence": p.confidence,
            "name": p.name,
        },
        detail=("placebo_days",),
        status=e.status,
        status_reason=e.reason,
        figures=figures if e.status == "ok" else figures[:1],
        notes=(
            f"Units: values of the customers' {p.column}; comparison units with {noun} on "
            f"at least {percent(ACTIVE_SHARE)} of the days.",
        ),
    )


def _plan(ds: Dataset) -> Plan:
    specs = ds.settings.campaigns
    if not specs:
        return Plan(
            runs=(), skipped=("No campaign is described in the settings ([[settings.campaigns]]).",)
        )
    return Plan(
        runs=tuple(
            {
                "name": s.name,
                "treated": dict(s.treated),
                "period": list(s.period),
                "metric": s.metric,
            }
            for s in specs
        )
    )


CAMPAIGN_EFFECT = register(
    Analysis(
        name="campaign_effect",
        title="Campaign effect",
        group="experiments",
        needs=("orders", "customers"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    campaign_effect,
)
