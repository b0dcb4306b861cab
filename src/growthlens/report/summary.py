"""The executive summary: the report's first screen, composed from the sections' Results.

It computes nothing: each headline is a summary entry of the analysis that defines it
(users, buyers, conversion, revenue and spend from ``kpis``; CAC, LTV, ROMI and payback
from theirs; funnel conversion and test verdicts from theirs), each change compares the
last complete period with the one before, read from a table that Result already holds,
and the findings are every section's, ranked by the money at stake (``Finding.at_stake``).

A change is coloured by what is good for the business (more revenue is good, a higher
CAC is bad, spend is neither), never by its sign.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from growthlens import units as fmt
from growthlens.report.html import short_value
from growthlens.report.model import Section
from growthlens.result import Entry, Finding, Result
from growthlens.text import money, period_label, points_text, romi_text

Tone = Literal["good", "bad", "neutral"]
Better = Literal["higher", "lower", "neutral"]

TOP_FINDINGS = 5
"""Findings shown on the first screen."""
MATERIAL = 0.001
"""Money at stake below this share of the window's revenue (or spend, if larger) does not
rank a finding: a few dollars of excluded rows are not what to read first."""
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
SPARK_WIDTH, SPARK_HEIGHT = 120.0, 28.0
STEADY = 0.02
"""A relative change smaller than this is shown without a good or bad colour."""


@dataclass(frozen=True)
class Headline:
    """One headline card.

    Attributes:
        label: what the figure is.
        value: the figure over the window, as text.
        detail: the last period's value and its change (``May 2018: $2,422, −26.0% vs
            Apr``) or what the figure rests on (``mean over 7 complete cohorts``).
        tone: whether the change is good or bad for the business (``neutral``: neither, or
            no change to judge).
        value_tone: whether the value itself is good or bad (ROMI below 0, no payback).
        change: the signed relative change as text (empty without one).
        spark: SVG polyline points of the per-period series (empty without one).
        anchor: the report element that explains the figure.
    """

    label: str
    value: str
    detail: str = ""
    tone: Tone = "neutral"
    change: str = ""
    spark: str = ""
    spark_last: tuple[float, float] | None = None
    anchor: str = ""
    value_tone: Tone = "neutral"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the sparkline left out: the series are in the sections)."""
        return {
            "label": self.label,
            "value": self.value,
            "detail": self.detail,
            "tone": self.tone,
            "value_tone": self.value_tone,
            "change": self.change,
            "anchor": self.anchor,
        }


@dataclass(frozen=True)
class TopFinding:
    """A finding on the first screen: its sentence, money at stake and where it comes from."""

    text: str
    severity: str
    at_stake: str
    source: str
    anchor: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "text": self.text,
            "severity": self.severity,
            "at_stake": self.at_stake,
            "source": self.source,
            "anchor": self.anchor,
        }


@dataclass(frozen=True)
class BudgetLine:
    """One source of the budget recommendation, in words."""

    source: str
    action: str
    romi: str
    spend: str
    interval: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "source": self.source,
            "action": self.action,
            "romi": self.romi,
            "interval": self.interval,
            "spend": self.spend,
        }


@dataclass(frozen=True)
class SummaryView:
    """The first screen: headlines, top findings, the budget recommendation, test verdicts."""

    headlines: tuple[Headline, ...]
    findings: tuple[TopFinding, ...]
    budget: tuple[BudgetLine, ...] = ()
    budget_text: tuple[str, ...] = ()
    budget_anchor: str = ""
    budget_romi_label: str = "ROMI (95% CI)"
    verdicts: tuple[TopFinding, ...] = ()
    comparison: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the report's ``summary`` (docs/report.md)."""
        return {
            "comparison": self.comparison,
            "headlines": [h.to_dict() for h in self.headlines],
            "top_findings": [f.to_dict() for f in self.findings],
            "budget": [b.to_dict() for b in self.budget],
            "budget_findings": list(self.budget_text),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def build(sections: Sequence[Section], *, currency: str) -> SummaryView:
    """The executive summary of the built ``sections``."""
    found = {r.name: (s.id, r) for s in sections for r in s.results}
    headlines: list[Headline] = []
    comparison = ""
    if "kpis" in found:
        section_id, kpis = found["kpis"]
        headlines.extend(_kpi_headlines(kpis, f"{section_id}-kpis", currency))
        if kpis.ok:
            period = str(kpis.summary["period"].value)
            last, before = kpis.summary["last_period"].value, kpis.summary["previous_period"].value
            comparison = (
                f"Changes: {period_label(last, period)} against {period_label(before, period)} "
                f"(the last complete {period} of the window against the one before)."
            )
    headlines.extend(_cohort_headlines(found, currency))
    verdicts = tuple(_verdicts(found))
    budget, budget_text, budget_anchor = _budget(found, currency)
    romi_label = "ROMI (95% CI)"
    if "recommend_budget" in found:
        budget_result = found["recommend_budget"][1]
        level = budget_result.params.get("confidence", 0.95)
        horizon, period = budget_result.params.get("horizon"), _period_of(budget_result)
        romi_label = f"{horizon}-{period} ROMI ({level:.0%} CI)"
    if not budget_text:  # the recommendation's own reason when it did not run
        budget_text = tuple(
            reason for s in sections if s.id == "recommendation" for reason in s.skipped
        )
    return SummaryView(
        headlines=tuple(headlines),
        findings=top_findings(sections, currency=currency, floor=_materiality(found)),
        budget=budget,
        budget_text=budget_text,
        budget_anchor=budget_anchor,
        budget_romi_label=romi_label[0].upper() + romi_label[1:],
        verdicts=verdicts,
        comparison=comparison,
    )


def tone(change: float, better: Better) -> Tone:
    """Whether a change is good for the business (below :data:`STEADY`: neither).

    >>> tone(0.2, "higher"), tone(0.2, "lower"), tone(-0.1, "lower"), tone(0.5, "neutral")
    ('good', 'bad', 'good', 'neutral')
    >>> tone(float("nan"), "higher"), tone(0.003, "lower")
    ('neutral', 'neutral')
    """
    if not math.isfinite(change) or abs(change) < STEADY or better == "neutral":
        return "neutral"
    return "good" if (change > 0) == (better == "higher") else "bad"


def signed_percent(change: float) -> str:
    """A relative change with its sign: ``+12.3%``, ``−4.0%``; empty when undefined.

    >>> signed_percent(0.1234), signed_percent(-0.04), signed_percent(float("nan"))
    ('+12.3%', '−4.0%', '')
    """
    if not math.isfinite(change):
        return ""
    text = fmt.percent(abs(change))
    if text == "0%":
        return "0%"
    return ("+" if change > 0 else "−") + text


def sparkline(values: Iterable[float]) -> tuple[str, tuple[float, float] | None]:
    """SVG polyline points of a series scaled to the sparkline box, and the last point.

    Missing values are skipped; a flat series is drawn mid-height.

    >>> sparkline([1.0, 2.0, 3.0])
    ('0.0,26.0 60.0,14.0 120.0,2.0', (120.0, 2.0))
    >>> sparkline([float("nan")])
    ('', None)
    """
    series = [float(v) for v in values]
    points = [(i, v) for i, v in enumerate(series) if math.isfinite(v)]
    if len(points) < 2:
        return "", None
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = high - low
    step = SPARK_WIDTH / (len(series) - 1)
    pad = 2.0
    coords = [
        (
            round(i * step, 1),
            round(
                SPARK_HEIGHT / 2
                if span == 0
                else pad + (SPARK_HEIGHT - 2 * pad) * (1 - (v - low) / span),
                1,
            ),
        )
        for i, v in points
    ]
    return " ".join(f"{x},{y}" for x, y in coords), coords[-1]


def _materiality(found: dict[str, tuple[str, Result]]) -> float:
    """The smallest money at stake that ranks a finding (:data:`MATERIAL` of the business)."""
    if "kpis" not in found:
        return 0.0
    summary = found["kpis"][1].summary
    scale = [
        float(summary[k].value)  # type: ignore[arg-type]
        for k in ("revenue", "spend")
        if k in summary and isinstance(summary[k].value, int | float)
    ]
    scale = [v for v in scale if math.isfinite(v)]
    return MATERIAL * max(scale) if scale else 0.0


def top_findings(
    sections: Sequence[Section],
    *,
    currency: str,
    limit: int = TOP_FINDINGS,
    floor: float = 0.0,
) -> tuple[TopFinding, ...]:
    """The findings to read first, ranked by the money at stake.

    Findings with money at stake come first, largest first; then warnings and errors
    without one (errors first); facts without money are left to their sections. Ties
    keep report order. Money at stake below ``floor`` counts as none.
    """
    ranked: list[tuple[tuple[float, int, int], TopFinding]] = []
    order = 0
    for section in sections:
        for result in section.results:
            for finding in result.findings:
                order += 1
                stake = finding.at_stake
                has_money = stake is not None and math.isfinite(stake) and stake > floor
                if not has_money:
                    stake = None
                if not has_money and finding.severity == "info":
                    continue
                key = (
                    -(stake or 0.0) if has_money else math.inf,
                    SEVERITY_RANK.get(finding.severity, 3),
                    order,
                )
                ranked.append((key, _top(finding, result, section, currency, stake)))
    ranked.sort(key=lambda item: item[0])
    return tuple(item for _, item in ranked[:limit])


def _top(
    finding: Finding, result: Result, section: Section, currency: str, stake: float | None
) -> TopFinding:
    return TopFinding(
        text=finding.text,
        severity=finding.severity,
        at_stake=headline_value(stake, "money", currency)
        if stake is not None and math.isfinite(stake) and stake > 0
        else "",
        source=result.title,
        anchor=f"{section.id}-{result.name}",
    )


def _kpi_headlines(kpis: Result, anchor: str, currency: str) -> list[Headline]:
    changes = kpis.frame("changes")
    periods = kpis.table
    complete = periods[periods["complete"].astype(bool)]
    period = str(kpis.params.get("period_used", "month"))
    out = []
    for _, row in changes.iterrows():
        key, unit = str(row["figure"]), str(row["unit"])
        if key in ("orders", "first_orders"):  # in the sections; buyers and revenue carry it
            continue
        change = float(row["change"])
        detail = ""
        if row["last_period"] is not None and not pd.isna(row["last_period"]):
            last = headline_value(row["last_value"], unit, currency)
            detail = f"{period_label(row['last_period'], period)}: {last}"
        spark, spark_last = sparkline(complete[key]) if key in complete.columns else ("", None)
        out.append(
            Headline(
                label=str(row["label"]),
                value=headline_value(row["window_value"], unit, currency),
                detail=detail,
                tone=tone(change, row["better"]),
                change=signed_percent(change),
                spark=spark,
                spark_last=spark_last,
                anchor=anchor,
            )
        )
    return out


def _cohort_headlines(found: dict[str, tuple[str, Result]], currency: str) -> list[Headline]:
    out: list[Headline] = []
    if "cac" in found and found["cac"][1].ok:
        section_id, cac = found["cac"]
        # Without sessions (no source per buyer) CAC has no per-cohort table.
        cohorts = cac.tables.get("cohorts", pd.DataFrame(columns=["cohort", "cac", "complete"]))
        full = cohorts[cohorts["complete"].astype(bool)].sort_values("cohort")
        change, detail = math.nan, ""
        if len(full) >= 2:
            now, before = float(full["cac"].iloc[-1]), float(full["cac"].iloc[-2])
            change = now / before - 1 if before else math.nan
            period = _period_of(cac)
            detail = (
                f"{period_label(full['cohort'].iloc[-1], period)} cohort: "
                f"{headline_value(now, 'money', currency)}"
            )
        spark, last = sparkline(full["cac"])
        out.append(
            Headline(
                label="CAC",
                value=_entry(cac.summary.get("cac"), currency),
                detail=detail,
                tone=tone(change, "lower"),
                change=signed_percent(change),
                spark=spark,
                spark_last=last,
                anchor=f"{section_id}-cac",
            )
        )
    if "ltv" in found and found["ltv"][1].ok:
        section_id, ltv = found["ltv"]
        keys = [k for k in ltv.summary if k.startswith("ltv_") and not k.endswith("_cells")]
        if keys:
            entry = ltv.summary[keys[0]]
            cells = ltv.summary.get(f"{keys[0]}_cells")
            trend = _at_horizon(
                ltv.table, "ltv", ltv, lambda v: headline_value(v, "money", currency)
            )
            out.append(
                Headline(
                    label=f"LTV at {_horizon(ltv)}",
                    value=_entry(entry, currency),
                    detail="; ".join(t for t in (trend.detail, _cohorts_behind(cells)) if t),
                    tone=tone(trend.change, "higher"),
                    change=signed_percent(trend.change),
                    spark=trend.spark,
                    spark_last=trend.spark_last,
                    anchor=f"{section_id}-ltv",
                )
            )
    if "romi" in found and found["romi"][1].ok:
        section_id, romi = found["romi"]
        romi_n = romi.summary.get("romi_n")
        if romi_n is not None:
            cohorts = romi.tables.get("cohorts", pd.DataFrame(columns=["cohort", "age", "romi"]))
            trend = _at_horizon(cohorts, "romi", romi, romi_text, points=True)
            behind = _cohorts_behind(romi.summary.get("cohorts_used"))
            out.append(
                Headline(
                    label=f"ROMI at {_horizon(romi)}",
                    value=_entry(romi_n, currency),
                    detail="; ".join(t for t in (trend.detail, behind) if t),
                    tone=tone(trend.change, "higher"),
                    change=points_text(trend.change).replace(" points", " pt")
                    if math.isfinite(trend.change)
                    else "",
                    spark=trend.spark,
                    spark_last=trend.spark_last,
                    value_tone=_level_tone(romi_n.value, 0.0),
                    anchor=f"{section_id}-romi",
                )
            )
        payback = romi.summary.get("payback")
        if payback is not None:
            # "not yet (ROMI −14.0% at age 5)": the verdict as the value, the rest below.
            value, _, rest = str(payback.value).partition(" (")
            behind = _cohorts_behind(romi.summary.get("payback_cohorts"))
            out.append(
                Headline(
                    label="Payback",
                    value=value.capitalize(),
                    detail="; ".join(t for t in (rest.rstrip(")"), behind) if t),
                    value_tone="bad" if value == "not yet" else "neutral",
                    anchor=f"{section_id}-romi",
                )
            )
    if "funnel" in found and found["funnel"][1].ok:
        section_id, funnel = found["funnel"]
        entered, converted = funnel.summary.get("entered"), funnel.summary.get("converted")
        if entered is not None and converted is not None and entered.value:
            share = float(converted.value) / float(entered.value)  # type: ignore[arg-type]
            out.append(
                Headline(
                    label="Funnel conversion",
                    value=fmt.format_unit(share, "share"),
                    detail=f"{fmt.format_unit(converted.value, 'count')} of "
                    f"{fmt.format_unit(entered.value, 'count')} who entered",
                    anchor=f"{section_id}-funnel",
                )
            )
    return out


@dataclass(frozen=True)
class _Trend:
    detail: str = ""
    change: float = math.nan
    spark: str = ""
    spark_last: tuple[float, float] | None = None


def _at_horizon(
    table: pd.DataFrame,
    value: str,
    result: Result,
    text: Any,
    *,
    points: bool = False,
) -> _Trend:
    """A cohort figure at the horizon per complete cohort, for a sparkline and a change.

    The change is the last cohort against the one before: relative, or the difference in
    points for a return (``points``). The cells are those the N-period figure averages
    (complete, defined, age N − 1), so the sparkline's mean is the headline value.
    """
    horizon = result.params.get("horizon")
    if not isinstance(horizon, int) or not {"cohort", "age", value, "complete"} <= set(
        table.columns
    ):
        return _Trend()
    cells = table[
        (table["age"] == horizon - 1) & table["complete"].astype(bool) & table[value].notna()
    ].sort_values("cohort")
    if len(cells) < 2:
        return _Trend()
    now, before = float(cells[value].iloc[-1]), float(cells[value].iloc[-2])
    relative = now / before - 1 if before else math.nan
    change = now - before if points else relative
    spark, last = sparkline(cells[value])
    label = period_label(cells["cohort"].iloc[-1], _period_of(result))
    return _Trend(f"{label} cohort: {text(now)}", change, spark, last)


def _level_tone(value: Any, threshold: float) -> Tone:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "neutral"
    return "good" if value >= threshold else "bad"


def _cohorts_behind(entry: Entry | None) -> str:
    if entry is None or not isinstance(entry.value, int | float):
        return ""
    n = int(entry.value)
    return f"over {n:,} complete cohort{'s' * (n != 1)}"


def _entry(entry: Entry | None, currency: str) -> str:
    if entry is None:
        return fmt.MISSING
    return headline_value(entry.value, entry.unit, currency)


def headline_value(value: Any, unit: str, currency: str) -> str:
    """A headline in short: whole money from 100 (cents below), millions as ``36.7M``.

    >>> headline_value(36746.48, "money", "USD"), headline_value(8.954, "money", "USD")
    ('$36,746', '$8.95')
    >>> headline_value(212_345_678, "money", "RUB"), headline_value(30000.0, "count", "USD")
    ('212M RUB', '30,000')
    >>> headline_value(999_960_000, "money", "USD")
    '$1B'
    """
    if unit == "money" and isinstance(value, int | float) and math.isfinite(value):
        # Millions and more as the report's cards shorten them (one rule for both).
        return short_value(value, unit, currency) or money(float(value), currency)
    return fmt.format_unit(value, unit, currency=currency)  # type: ignore[arg-type]


def _horizon(result: Result) -> str:
    """``6 months``: the horizon a cohort figure is read at."""
    horizon = result.params.get("horizon")
    period = _period_of(result)
    if not isinstance(horizon, int):
        return "the horizon"
    return f"{horizon} {period}{'s' * (horizon != 1)}"


def _period_of(result: Result) -> str:
    return str(result.params.get("period", "month"))


def _verdicts(found: dict[str, tuple[str, Result]]) -> list[TopFinding]:
    out = []
    for section_id, result in found.values():
        if result.name not in ("ab_test", "campaign_effect") or not result.findings:
            continue
        first = result.findings[0]
        out.append(
            TopFinding(
                text=first.text,
                severity=first.severity,
                at_stake="",
                source=result.title,
                anchor=f"{section_id}-{result.name}",
            )
        )
    return out


def _budget(
    found: dict[str, tuple[str, Result]], currency: str
) -> tuple[tuple[BudgetLine, ...], tuple[str, ...], str]:
    if "recommend_budget" not in found:
        return (), (), ""
    section_id, result = found["recommend_budget"]
    table = result.table
    lines = []
    if {"source", "action", "romi_n", "cost"} <= set(table.columns):
        for _, row in table.iterrows():
            low = float(row.get("romi_n_low", math.nan))
            high = float(row.get("romi_n_high", math.nan))
            interval = ""
            if math.isfinite(low) and math.isfinite(high):
                interval = f"{romi_text(low)} to {romi_text(high)}"
            lines.append(
                BudgetLine(
                    source=str(row["source"]),
                    action=str(row["action"]),
                    romi=romi_text(float(row["romi_n"])).replace("n/a", fmt.MISSING),
                    spend=headline_value(row["cost"], "money", currency),
                    interval=interval,
                )
            )
    shown = ("budget_move", "not_attributed", "no_cut_to_fund_growth")
    texts = tuple(f.text for f in result.findings if f.code in shown)
    return tuple(lines), texts, f"{section_id}-{result.name}"
