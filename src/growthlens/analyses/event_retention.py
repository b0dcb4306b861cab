"""Event retention and stickiness (docs/paths.md, "Event retention and stickiness").

Retention on chosen events, with the cohort conventions of session retention (DESIGN §4):
cohort = period of a user's first ``start`` event; retention(c, k) = users of cohort c with
a ``back`` event in period c + k ÷ cohort size; age 0 is the cohort itself (1). Stickiness
on the ``back`` event: DAU, WAU and MAU of users doing it (means over every period
intersecting the window), DAU/WAU and DAU/MAU, and how many days a week users who do it
do it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from growthlens.analyses.funnel import StepInput, parse_steps, step_label
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import PERIODS, Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import horizon_mean
from growthlens.metrics.event_retention import (
    days_per_week,
    event_active_users,
    event_retention_table,
)
from growthlens.metrics.funnel import StepRule
from growthlens.metrics.paths import event_users
from growthlens.result import (
    Entry,
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    summarize,
)
from growthlens.stats.proportions import mean_of_proportions, wilson
from growthlens.text import count_of

AGES = (1, 2, 3)
CONFIDENCE = 0.95
SUMMARY: SummarySpec = {
    "users": ("count", "Users with a start event (cohort members)"),
    "cohorts": ("count", "Cohorts"),
    "back_same_period": ("share", "Did the return event in the start period (after starting)"),
    "retention_{k}": ("share", "Mean retention at age {k} (complete cohorts)"),
    "cells_{k}": ("count", "Complete cohorts averaged at age {k}"),
    "dau": ("count", "Daily users of the return event (mean)"),
    "wau": ("count", "Weekly users of the return event (mean)"),
    "mau": ("count", "Monthly users of the return event (mean)"),
    "sticky_wau": ("ratio", "Stickiness DAU/WAU on the return event"),
    "sticky_mau": ("ratio", "Stickiness DAU/MAU on the return event"),
    "days_per_week": ("count", "Mean days a week with the return event (users doing it)"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the start and return rules and the cohort period."""

    start: StepRule
    back: StepRule
    period: Period

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": step_label(self.start),
            "back": step_label(self.back),
            "period": self.period,
        }


@dataclass(frozen=True)
class Frames:
    """The long cohort table, active users per period and the days-per-week counts."""

    table: pd.DataFrame
    active: dict[Period, pd.DataFrame]
    days: pd.DataFrame
    window: tuple[date, date]


def event_retention(
    ds: Dataset, *, start: StepInput, back: StepInput, period: Period = "week"
) -> Result:
    """Retention from a start event to a return event, and stickiness of the return event.

    Cohort = period of a user's first ``start`` event; retention(c, k) = users of cohort c
    with a ``back`` event in period c + k ÷ cohort size (k ≥ 1; age 0 is the cohort, 1).
    ``start`` and ``back`` may be the same event. Cells past the window do not exist;
    ``complete`` marks cells wholly inside it. Stickiness: DAU/WAU and DAU/MAU of the
    ``back`` event, and days per week with it. See docs/paths.md.

    Args:
        ds: a Dataset with an ``events`` table.
        start: event name or ``{"event": name, <column>: value, …}`` that puts a user in a
            cohort.
        back: event name or predicate that counts as a return.
        period: cohort period: ``day``, ``week`` (ISO, Monday) or ``month``.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> events = pd.DataFrame({"user_id": [1, 2, 1], "event": ["signup", "signup", "buy"],
        ...     "ts": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-10"])})
        >>> r = gl.event_retention(gl.load(events=events, window=("2024-01-01", "2024-01-21")),
        ...     start="signup", back="buy")
        >>> r.table[["age", "users", "active_users", "retention"]].to_dict("records")
        [{'age': 0, 'users': 2, 'active_users': 2, 'retention': 1.0},
         {'age': 1, 'users': 2, 'active_users': 1, 'retention': 0.5},
         {'age': 2, 'users': 2, 'active_users': 0, 'retention': 0.0}]
    """
    return EVENT_RETENTION.run(ds, start=start, back=back, period=period)


def _params(ds: Dataset, *, start: StepInput, back: StepInput, period: str) -> Params:
    start_rule, back_rule = parse_steps(ds, [start, back])
    return Params(start_rule, back_rule, check_period(period))


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("event retention needs a data window; set window = [start, end]")
    table = event_retention_table(ds, start=p.start, back=p.back, period=p.period, window=window)
    active = event_active_users(ds, back=p.back, window=window)
    return Frames(table, active, days_per_week(ds, back=p.back, window=window), window)


def _mean_with_interval(table: pd.DataFrame, k: int) -> Entry | float:
    """The mean retention at age k over complete cohorts, with its interval."""
    unit, label = SUMMARY["retention_{k}"]
    cells = table[(table["age"] == k) & table["complete"] & table["retention"].notna()]
    if cells.empty:
        return math.nan
    mean, low, high = mean_of_proportions(
        cells["active_users"], cells["users"], confidence=CONFIDENCE
    )
    method = f"normal approx. over {len(cells)} cohorts (Agresti–Coull variances), {CONFIDENCE:.0%}"
    return Entry(mean, unit, label.format(k=k), low, high, method)


def _explain(frames: Frames, p: Params) -> Result:
    table, period = frames.table, p.period
    start, back = step_label(p.start), step_label(p.back)
    sizes = table[table["age"] == 0]
    users = int(sizes["users"].sum())
    summary: dict[str, Any] = {
        "users": users,
        "cohorts": int(sizes["cohort"].nunique()),
        "back_same_period": float(sizes["back_same_period"].sum() / users) if users else math.nan,
    }
    for k in AGES:
        mean = horizon_mean(table, "retention", horizon=k + 1)
        summary[f"retention_{k}"] = _mean_with_interval(table, k)
        summary[f"cells_{k}"] = int(mean["cells"].iloc[0])
    low, high = wilson(table["active_users"], table["users"], confidence=CONFIDENCE)
    table = table.assign(low=low, high=high)
    means = {q: float(frames.active[q]["users"].mean()) for q in PERIODS}
    summary.update(
        dau=means["day"],
        wau=means["week"],
        mau=means["month"],
        sticky_wau=means["day"] / means["week"] if means["week"] else math.nan,
        sticky_mau=means["day"] / means["month"] if means["month"] else math.nan,
    )
    days = frames.days.copy()
    weeks = int(days["user_weeks"].sum())
    days["share"] = days["user_weeks"] / weeks if weeks else math.nan
    summary["days_per_week"] = (
        float((days["days"] * days["user_weeks"]).sum() / weeks) if weeks else math.nan
    )
    curve = table[table["complete"]].groupby("age")["retention"].agg(["mean", "size"]).reset_index()
    curve = curve.rename(columns={"mean": "retention", "size": "cells"})
    active = pd.concat([frames.active[q].assign(period=q) for q in PERIODS], ignore_index=True)[
        ["period", "start", "users", "complete"]
    ]
    status: Status = "ok"
    reason = ""
    findings: list[Finding] = []
    if users == 0:
        status, reason = "not_enough_data", f"No user has a {start} event."
        findings.append(Finding("not_enough_data", reason, "warning"))
    else:
        findings.extend(_findings(summary, start, back, period))
    return Result(
        name="event_retention" + ("" if period == "week" else f"_{period}"),
        title=f"Retention: {start} → {back} ({period}ly cohorts)",
        table=table.reset_index(drop=True),
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"curve": curve, "active": active, "days_per_week": days},
        figures=(
            FigureSpec(
                kind="heatmap",
                x="age",
                y="cohort",
                z="retention",
                title=f"Retention to {back} by {period}ly cohort of first {start}",
                labels={
                    "age": f"Age ({period}s)",
                    "cohort": f"Cohort (first {start})",
                    "retention": "Retention",
                },
                value_format=".1%",
            ),
            FigureSpec(
                kind="line",
                x="age",
                y="retention",
                table="curve",
                title=f"Mean retention to {back} by age (complete cohorts)",
                labels={"age": f"Age ({period}s)", "retention": "Retention"},
                value_format=".1%",
            ),
            FigureSpec(
                kind="bar",
                x="days",
                y="share",
                table="days_per_week",
                title=f"Days a week with {back} (users who do it that week, complete weeks)",
                labels={"days": "Days in the week", "share": "Share of user-weeks"},
                value_format=".0%",
            ),
        ),
        notes=(
            f"retention(c, k) = users of cohort c with a {back} event in {period} c + k ÷ "
            f"cohort size; cohort = {period} of the user's first {start}. Age 0 is the "
            f"cohort (100%); back_same_period counts a {back} in the start {period} at or "
            f"after the first {start}.",
            f"Stickiness on {back}: DAU, WAU, MAU = mean distinct users with a {back} event "
            "over every day, ISO week and month intersecting the window (partial periods "
            "included); sticky = DAU/WAU and DAU/MAU. Days a week: per user and complete "
            f"ISO week with a {back} event, the number of distinct days with one.",
        ),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


def _findings(summary: dict[str, Any], start: str, back: str, period: Period) -> list[Finding]:
    out: list[Finding] = []
    entry = summary["retention_1"]
    value = entry.value if isinstance(entry, Entry) else entry
    r1 = float(value) if isinstance(value, int | float) else math.nan
    if not math.isnan(r1):
        interval = (
            f", 95% CI {entry.low:.1%}–{entry.high:.1%}"
            if isinstance(entry, Entry) and entry.low is not None
            else ""
        )
        out.append(
            Finding(
                "event_retention",
                f"{r1:.1%} of users who did {start} do {back} in the next {period} (mean over "
                f"{count_of(int(summary['cells_1']), 'complete cohort')}{interval}).",
                numbers={"retention_1": r1, "cohorts": int(summary["cells_1"])},
            )
        )
    else:
        out.append(Finding("no_second_period", f"No complete cohort has a second {period} yet."))
    sticky = summary["sticky_mau"]
    if not math.isnan(sticky):
        out.append(
            Finding(
                "event_stickiness",
                f"Stickiness of {back}: DAU/MAU {sticky:.1%}; users who do it in a week do it "
                f"on {summary['days_per_week']:.1f} days of it on average.",
                numbers={"sticky_mau": sticky, "days_per_week": summary["days_per_week"]},
            )
        )
    return out


# Repeat purchases are the retention a shop cares most about; GA4's names first.
CONVERSIONS = ("purchase", "order", "checkout_completed", "order_completed", "transaction")


def _plan(ds: Dataset) -> Plan:
    """Repeat conversion (first conversion → conversion again), when the log has one.

    Without a known conversion event: from the event most users have back to it (the
    log's main action), weekly. One small aggregate of the event names.
    """
    names = event_users(ds)
    if names.empty:
        return Plan(runs=(), skipped=("Event retention: the events table has no event.",))
    present = set(names["event"])
    chosen = next((c for c in CONVERSIONS if c in present), str(names["event"].iloc[0]))
    return Plan(runs=({"start": chosen, "back": chosen},))


EVENT_RETENTION = register(
    Analysis(
        name="event_retention",
        title="Event retention",
        group="funnels",
        needs=("events",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    event_retention,
)

__all__ = ["event_retention"]
