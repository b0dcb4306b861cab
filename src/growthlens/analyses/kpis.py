"""Headline figures per period and over the window (docs/metrics.md, "Headline figures").

Users, buyers, conversion, orders, revenue and spend, with the last complete period
against the one before. The report's executive summary reads its cards, changes and
sparklines from this Result; cohort figures (CAC, LTV, ROMI, payback) come from their
own analyses, never recomputed. Options, the stages and the report plan, registered once
at the bottom (the pattern of growthlens.analyses.retention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import PERIODS, Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.kpis import Flows, flows
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import money, period_label
from growthlens.units import format_unit, percent

Better = Literal["higher", "lower", "neutral"]

MIN_PERIODS = 4
"""Complete periods wanted for a trend; with fewer, a finer period is used (month → week → day)."""
NOTABLE_CHANGE = 0.10
"""A change of the last complete period of at least this size (relative) becomes a finding."""


@dataclass(frozen=True)
class Figure:
    """A headline figure: its column, label, unit and which direction is good."""

    key: str
    label: str
    unit: Literal["count", "money", "share"]
    better: Better


FIGURES: tuple[Figure, ...] = (
    Figure("users", "Users", "count", "higher"),
    Figure("buyers", "Buyers", "count", "higher"),
    Figure("conversion", "Visitor → buyer conversion", "share", "higher"),
    Figure("orders", "Orders", "count", "higher"),
    Figure("revenue", "Revenue", "money", "higher"),
    Figure("first_orders", "First orders (new buyers)", "count", "higher"),
    Figure("spend", "Marketing spend", "money", "neutral"),
)
"""The figures, in the order the summary shows them. Spend is neither good nor bad by
itself (what it returns is: see CAC and ROMI)."""

SUMMARY: SummarySpec = {
    "users": ("count", "Users (with a session)"),
    "buyers": ("count", "Buyers"),
    "conversion": ("share", "Visitor → buyer conversion"),
    "orders": ("count", "Orders"),
    "revenue": ("money", "Revenue"),
    "first_orders": ("count", "First orders (new buyers)"),
    "spend": ("money", "Marketing spend"),
    "period": ("text", "Period compared"),
    "last_period": ("date", "Last complete period"),
    "previous_period": ("date", "Period before it"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the period of the comparison and of the trend."""

    period: Period


@dataclass(frozen=True)
class Frames:
    """The flows per period (at the period chosen) and the currency."""

    flows: Flows
    period: Period
    currency: str


def kpis(ds: Dataset, *, period: Period | None = None) -> Result:
    """Headline figures over the window and per period (docs/metrics.md, "Headline figures").

    ``period`` (default: the dataset's) is the step of the trend and of the comparison
    "last complete period against the one before"; with fewer than
    :data:`MIN_PERIODS` complete periods in the window a finer one is used (month → week
    → day) and the Result says so. Tables: ``main`` (one row per period: flows,
    conversion, ``complete``) and ``changes`` (one row per figure: window value, last
    and previous complete period, relative change, and which direction is good).
    """
    return KPIS.run(ds, period=period)


def _params(ds: Dataset, *, period: Period | None = None) -> Params:
    return Params(period=check_period(period or ds.settings.period))


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("kpis needs a data window; set window = [start, end]")
    if not (ds.has("sessions") or ds.has("orders")):
        raise ConfigError("kpis needs the sessions or the orders table; this dataset has neither")
    chosen = p.period
    # Coarsest period, no coarser than asked, with enough complete periods for a trend.
    for candidate in PERIODS[: PERIODS.index(p.period) + 1][::-1]:
        chosen = candidate
        found = flows(ds, period=candidate, window=window)
        if int(found.periods["complete"].sum()) >= MIN_PERIODS:
            break
    return Frames(found, chosen, ds.settings.currency)


def _with_conversion(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "visitor_buyers" in out.columns:
        users = out["users"].astype(float)
        out["conversion"] = (out["visitor_buyers"] / users).where(users > 0)
    return out


def _explain(frames: Frames, p: Params) -> Result:
    period, currency = frames.period, frames.currency
    table = _with_conversion(frames.flows.periods)
    totals = dict(frames.flows.window)
    if "visitor_buyers" in totals:
        users = totals.get("users", 0.0)
        totals["conversion"] = totals["visitor_buyers"] / users if users else math.nan
    shown = [f for f in FIGURES if f.key in totals]
    complete = table[table["complete"]].reset_index(drop=True)
    last = complete.iloc[-1] if len(complete) >= 2 else None
    previous = complete.iloc[-2] if len(complete) >= 2 else None
    changes = pd.DataFrame(
        [_change_row(f, totals[f.key], last, previous) for f in shown],
        columns=[
            "figure",
            "label",
            "unit",
            "better",
            "window_value",
            "last_period",
            "last_value",
            "previous_period",
            "previous_value",
            "change",
        ],
    )
    status: Status = "ok"
    reason = ""
    if last is None:
        status = "not_enough_data"
        reason = (
            f"Fewer than two complete {period}s in the window, so no period can be compared "
            "with the one before."
        )
    summary: dict[str, SummaryValue] = {
        f.key: int(totals[f.key]) if f.unit == "count" else totals[f.key] for f in shown
    }
    summary.update(
        period=period,
        # ISO dates, as the overview's window (JSON-ready).
        last_period=None if last is None else last["period"].date().isoformat(),
        previous_period=None if previous is None else previous["period"].date().isoformat(),
        currency=currency,
    )
    notes = [
        "Users: distinct users with a session; buyers: distinct users with an order; "
        "visitor → buyer conversion: users with a session and an order in the same period "
        "(over the window: anywhere in the window) ÷ users with a session.",
        "First orders: buyers whose first order in the data falls in the period.",
        f"Changes compare the last complete {period} of the window with the {period} before "
        "it; a period cut by the window's start or end is shown but not compared.",
    ]
    if period != p.period:
        notes.append(
            f"The window holds fewer than {MIN_PERIODS} complete {p.period}s, so the trend "
            f"and the comparison use {period}s."
        )
    return Result(
        name="kpis",
        title="Headline figures",
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(_findings(changes, period, currency)),
        params=params_dict(p) | {"period_used": period},
        status=status,
        status_reason=reason,
        tables={"changes": changes},
        # One row per figure in its own unit: the summary block shows it, worded.
        detail=("changes",),
        figures=_figures(table, period, currency),
        notes=tuple(notes),
    )


def _change_row(
    figure: Figure, total: float, last: pd.Series | None, previous: pd.Series | None
) -> dict[str, object]:
    row: dict[str, object] = {
        "figure": figure.key,
        "label": figure.label,
        "unit": figure.unit,
        "better": figure.better,
        "window_value": total,
        "last_period": None,
        "last_value": math.nan,
        "previous_period": None,
        "previous_value": math.nan,
        "change": math.nan,
    }
    if last is None or previous is None:
        return row
    now, before = float(last[figure.key]), float(previous[figure.key])
    row.update(
        last_period=last["period"],
        last_value=now,
        previous_period=previous["period"],
        previous_value=before,
        # Relative change; undefined (NaN) from zero or an undefined share.
        change=now / before - 1 if before and math.isfinite(before) else math.nan,
    )
    return row


def _findings(changes: pd.DataFrame, period: Period, currency: str) -> list[Finding]:
    out: list[Finding] = []
    for _, row in changes.iterrows():
        change = float(row["change"])
        if not math.isfinite(change) or abs(change) < NOTABLE_CHANGE:
            continue
        last, before = float(row["last_value"]), float(row["previous_value"])
        unit = str(row["unit"])
        now_text = _value(last, unit, currency)
        before_text = _value(before, unit, currency)
        direction = "above" if change > 0 else "below"
        worse = (row["better"] == "higher" and change < 0) or (
            row["better"] == "lower" and change > 0
        )
        out.append(
            Finding(
                f"{row['figure']}_change",
                f"{row['label']}, {period_label(row['last_period'], period)}: {now_text}, "
                f"{percent(abs(change))} {direction} "
                f"{period_label(row['previous_period'], period)} ({before_text}).",
                "warning" if worse else "info",
                numbers={"last": last, "previous": before, "change": change},
                # Money at stake: what a money figure lost against the period before (a
                # gain is good news, not a risk; spend changing is neither).
                at_stake=abs(last - before) if unit == "money" and worse else None,
            )
        )
    return out


def _value(value: float, unit: str, currency: str) -> str:
    return money(value, currency) if unit == "money" else format_unit(value, unit)  # type: ignore[arg-type]


def _figures(table: pd.DataFrame, period: Period, currency: str) -> tuple[FigureSpec, ...]:
    label = {"period": period.capitalize()}
    out = []
    if "revenue" in table.columns:
        out.append(
            FigureSpec(
                kind="bar",
                x="period",
                y="revenue",
                title=f"Revenue per {period}",
                labels=label | {"revenue": f"Revenue ({currency})"},
                value_format=",.0f",
            )
        )
    if "conversion" in table.columns:
        out.append(
            FigureSpec(
                kind="line",
                x="period",
                y="conversion",
                title=f"Visitor → buyer conversion per {period}",
                labels=label | {"conversion": "Conversion"},
                value_format=".1%",
            )
        )
    return tuple(out)


def _plan(ds: Dataset) -> Plan:
    if not (ds.has("sessions") or ds.has("orders")):
        return Plan(runs=(), skipped=("Headline figures need the sessions or orders table.",))
    return Plan(runs=({"period": ds.settings.period},))


KPIS = register(
    Analysis(
        name="kpis",
        title="Headline figures",
        group="overview",
        needs=(),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    kpis,
)
