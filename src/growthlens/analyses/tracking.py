"""Can the tracking be trusted? Checks of the event log itself (docs/tracking.md).

Three checks, each anomaly a finding with its dates and size:

- **impossible relations**: a day on which more users have a later funnel step than the
  first step, the page-level event every visit has (more purchasers than page viewers);
- **orphans**: users whose later-step event has no earlier-step event at or before it
  (the order of every step pair, per user, over all earlier history);
- **spikes and drops**: each event's daily count against a robust baseline from the same
  weekday in the previous weeks, and runs of 7–35 days off the line through the days
  around them (long, low-signal shifts, at the start of the data too)
  (:mod:`growthlens.stats.anomaly`), consecutive flagged days merged into one anomaly
  with observed and expected counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from growthlens.analyses.funnel import ECOMMERCE_STEPS, StepInput
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.funnel import StepRule
from growthlens.metrics.tracking import event_days, orphan_days, orphans, step_days
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.stats.anomaly import PERIOD, SHIFT_THRESHOLD, flagged_runs, seasonal_check
from growthlens.text import count_of, listing, share_text

GA4_STEPS = ECOMMERCE_STEPS
"""The GA4 e-commerce order: each event requires the ones before it (default steps)."""
MIN_WEEKS = 3
"""Weeks of data (and of reference weeks per day) the spike and drop check needs."""

SUMMARY: SummarySpec = {
    "days": ("count", "Days checked"),
    "events_checked": ("count", "Event names checked for spikes and drops"),
    "anomalies": ("count", "Spikes and drops"),
    "relation_days": ("count", "Days on which a later step has more users than the first"),
    "orphan_users": ("count", "Users with a step and no earlier step (consecutive steps)"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`tracking`)."""

    steps: tuple[StepRule, ...] | None
    weeks: int
    threshold: float
    tolerance: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": None if self.steps is None else [_label(s) for s in self.steps],
            "weeks": self.weeks,
            "threshold": self.threshold,
            "tolerance": self.tolerance,
        }


@dataclass(frozen=True)
class Frames:
    """Per-day counts per event and per step, the orphan pairs and the days checked."""

    events: pd.DataFrame  # date, event, events, users (all days, zeros filled)
    steps: tuple[StepRule, ...]
    step_days: pd.DataFrame  # date, step, events, users (all days, zeros filled)
    orphans: pd.DataFrame
    orphan_days: pd.DataFrame  # earlier, later, date, orphans (consecutive pairs)
    days: tuple[date, ...]


@dataclass(frozen=True)
class Estimates:
    """The daily table with baselines, the merged anomalies and the relation days."""

    frames: Frames
    daily: pd.DataFrame
    anomalies: pd.DataFrame
    relations: pd.DataFrame


def tracking(
    ds: Dataset,
    *,
    steps: Sequence[StepInput] | None = None,
    weeks: int = 6,
    threshold: float = 5.5,
    tolerance: float = 0.0,
) -> Result:
    """Check the event log's tracking: impossible relations, orphans, spikes and drops.

    Main table ``anomalies`` (also ``tables["anomalies"]``): one row per anomaly with
    ``kind`` (``drop``, ``spike``, ``relation``), ``event`` (for a relation
    ``"later > earlier"``), ``start``, ``end``, ``days``, ``observed`` and ``expected``
    (totals over the days) and ``ratio``. Extra tables: ``daily`` (``date``, ``event``,
    ``count``, ``expected``, ``low``, ``high``, ``score``, ``flag``), ``relations`` (per
    day and later step: users and events of it and of the first step, ``violation``) and
    ``orphans`` (per step pair: users with the later step, orphans, those with no earlier
    step at all, example ids). See docs/tracking.md.

    Args:
        ds: a Dataset with an ``events`` table.
        steps: the funnel order to check (event names or ``{"event": …, <column>: value}``);
            default: the GA4 e-commerce events present (page_view, view_item,
            add_to_cart, begin_checkout, add_payment_info, purchase).
        weeks: reference weeks of the weekday baseline.
        threshold: score (in standard deviations on the square-root scale) that flags a
            day or a run of days; 5.5 keeps false alarms to about 1 clean six-month log in
            30 with five events (docs/tracking.md, "Calibration").
        tolerance: share by which later-step users may exceed earlier-step users on a day
            before the relation counts as broken (0: any excess).

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> events = pd.DataFrame({"user_id": [1, 1, 1, 2], "event": ["page_view",
        ...     "page_view", "purchase", "purchase"], "ts": pd.to_datetime(["2024-01-01 09:00",
        ...     "2024-01-02 10:00", "2024-01-02 10:05", "2024-01-02 11:00"])})
        >>> r = gl.tracking(gl.load(events=events))
        >>> r.tables["orphans"][["orphans", "examples"]].to_dict("records")
        [{'orphans': 1, 'examples': '2'}]
    """
    return TRACKING.run(ds, steps=steps, weeks=weeks, threshold=threshold, tolerance=tolerance)


def _label(rule: StepRule) -> str:
    if not rule.where:
        return rule.event
    return f"{rule.event} (" + ", ".join(f"{k}={v}" for k, v in rule.where) + ")"


def _rule(step: StepInput, position: int) -> StepRule:
    if isinstance(step, str):
        return StepRule(step)
    if isinstance(step, Mapping) and isinstance(step.get("event"), str):
        return StepRule(
            str(step["event"]), tuple((str(k), str(v)) for k, v in step.items() if k != "event")
        )
    raise ConfigError(
        f"step {position} must be an event name or a mapping with 'event' (and property "
        f"values), e.g. {{'event': 'page_view', 'page': '/checkout'}}; got {step!r}"
    )


def _params(
    ds: Dataset,
    *,
    steps: Sequence[StepInput] | None,
    weeks: int,
    threshold: float,
    tolerance: float,
) -> Params:
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < MIN_WEEKS:
        raise ConfigError(f"weeks must be a whole number of at least {MIN_WEEKS}; got {weeks!r}")
    if not threshold > 2:
        raise ConfigError(f"threshold must be above 2 (standard deviations); got {threshold!r}")
    if not tolerance >= 0:
        raise ConfigError(f"tolerance must be a share of at least 0; got {tolerance!r}")
    rules = None
    if steps is not None:
        if isinstance(steps, str | Mapping) or len(steps) < 2:
            raise ConfigError("steps must be a list of at least two steps, e.g. ['view', 'buy']")
        rules = tuple(_rule(s, i) for i, s in enumerate(steps, start=1))
        columns = ds.table("events").columns
        for rule in rules:
            missing = [c for c, _ in rule.where if c not in columns]
            if missing:
                raise ConfigError(
                    f"step {_label(rule)!r} names {', '.join(map(repr, missing))}, which the "
                    f"events do not have; their columns: {', '.join(columns)}"
                )
    return Params(rules, weeks, float(threshold), float(tolerance))


def _compute(ds: Dataset, p: Params) -> Frames:
    per_event = event_days(ds)
    per_event["date"] = pd.to_datetime(per_event["date"]).dt.date
    if ds.window is not None:
        first, last = ds.window
    elif len(per_event):
        first, last = per_event["date"].min(), per_event["date"].max()
    else:
        first = last = date.today()
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    names = sorted(per_event["event"].unique())
    # Every day of the window for every event: a day without the event is a 0, not a gap.
    grid = pd.MultiIndex.from_product([days, names], names=["date", "event"])
    per_event = (
        per_event.set_index(["date", "event"])[["events", "users"]]
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    if p.steps is None:
        present = set(names)
        steps = tuple(StepRule(e) for e in GA4_STEPS if e in present)
    else:
        steps = p.steps
    if len(steps) >= 2:
        per_step = step_days(ds, steps)
        per_step["date"] = pd.to_datetime(per_step["date"]).dt.date
        grid = pd.MultiIndex.from_product([range(1, len(steps) + 1), days], names=["step", "date"])
        per_step = (
            per_step.set_index(["step", "date"])[["events", "users"]]
            .reindex(grid, fill_value=0)
            .reset_index()
        )
        pairs = orphans(ds, steps, first_day=first)
        by_day = orphan_days(ds, steps, first_day=first)
        by_day["date"] = pd.to_datetime(by_day["date"]).dt.date
    else:
        by_day = pd.DataFrame(columns=["earlier", "later", "date", "orphans"])
        per_step = pd.DataFrame(columns=["step", "date", "events", "users"])
        pairs = pd.DataFrame(
            columns=["earlier", "later", "later_users", "orphans", "never", "examples"]
        )
    return Frames(per_event, steps, per_step, pairs, by_day, days)


def _infer(frames: Frames, p: Params) -> Estimates:
    daily_parts = []
    anomaly_rows: list[dict[str, Any]] = []
    enough = len(frames.days) >= MIN_WEEKS * PERIOD
    for name, rows in frames.events.groupby("event", sort=True):
        rows = rows.sort_values("date")
        counts = rows["events"].to_numpy(dtype=float)
        part = pd.DataFrame({"date": rows["date"].to_numpy(), "event": name, "count": counts})
        if enough:
            check = seasonal_check(
                counts, weeks=p.weeks, min_weeks=MIN_WEEKS, threshold=p.threshold
            )
            part["expected"], part["low"], part["high"] = check.expected, check.low, check.high
            part["score"], part["flag"] = check.score, check.flag
            dates = part["date"].to_numpy()
            for run in flagged_runs(check):
                seen = float(counts[run.start : run.end + 1].sum())
                usual = float(check.expected[run.start : run.end + 1].sum())
                anomaly_rows.append(
                    {
                        "kind": "spike" if run.direction > 0 else "drop",
                        "event": str(name),
                        "start": dates[run.start],
                        "end": dates[run.end],
                        "days": run.end - run.start + 1,
                        "observed": seen,
                        "expected": usual,
                        "ratio": seen / usual if usual > 0 else math.inf,
                    }
                )
        else:
            part["expected"] = part["low"] = part["high"] = part["score"] = math.nan
            part["flag"] = False
        daily_parts.append(part)
    daily = (
        pd.concat(daily_parts, ignore_index=True)
        if daily_parts
        else pd.DataFrame(
            columns=["date", "event", "count", "expected", "low", "high", "score", "flag"]
        )
    )
    relations = _relations(frames, p)
    for row in _relation_runs(relations):
        anomaly_rows.append(row)
    anomalies = pd.DataFrame(
        anomaly_rows,
        columns=["kind", "event", "start", "end", "days", "observed", "expected", "ratio"],
    )
    return Estimates(frames, daily, anomalies, relations)


def _relations(frames: Frames, p: Params) -> pd.DataFrame:
    """Per day and later step: its users and events against the first step's, and the verdict.

    Only the first step is compared day by day: it is the page-level event (page_view)
    that fires in every visit, so a user with any later step on a day has it that day.
    Later steps need not share a day with each other (a cart kept from yesterday goes
    straight to checkout); their order is checked per user, over all earlier history,
    by the orphans.
    """
    columns = [
        "date", "earlier", "later", "earlier_users", "later_users",
        "earlier_events", "later_events", "violation",
    ]  # fmt: skip
    if len(frames.steps) < 2:
        return pd.DataFrame(columns=columns)
    by_step = {j: rows.set_index("date") for j, rows in frames.step_days.groupby("step")}
    parts = []
    for j in range(2, len(frames.steps) + 1):
        before, after = by_step[1], by_step[j]
        part = pd.DataFrame(
            {
                "date": list(frames.days),
                "earlier": _label(frames.steps[0]),
                "later": _label(frames.steps[j - 1]),
                "earlier_users": before["users"].reindex(list(frames.days)).to_numpy(),
                "later_users": after["users"].reindex(list(frames.days)).to_numpy(),
                "earlier_events": before["events"].reindex(list(frames.days)).to_numpy(),
                "later_events": after["events"].reindex(list(frames.days)).to_numpy(),
            }
        )
        part["violation"] = part["later_users"] > part["earlier_users"] * (1 + p.tolerance)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)[columns]


def _relation_runs(relations: pd.DataFrame) -> list[dict[str, Any]]:
    """Consecutive violation days of each pair merged into one anomaly row."""
    rows: list[dict[str, Any]] = []
    for (earlier, later), part in relations.groupby(["earlier", "later"], sort=False):
        bad = part["violation"].to_numpy(dtype=bool)
        start = None
        for i in range(len(bad) + 1):
            if i < len(bad) and bad[i]:
                start = i if start is None else start
                continue
            if start is not None:
                run = part.iloc[start:i]
                seen, usual = float(run["later_users"].sum()), float(run["earlier_users"].sum())
                rows.append(
                    {
                        "kind": "relation",
                        "event": f"{later} > {earlier}",
                        "start": run["date"].iloc[0],
                        "end": run["date"].iloc[-1],
                        "days": len(run),
                        "observed": seen,
                        "expected": usual,
                        "ratio": seen / usual if usual > 0 else math.inf,
                    }
                )
                start = None
    return rows


def _dates(start: date, end: date) -> str:
    return f"on {start}" if start == end else f"from {start} to {end}"


def _anomaly_finding(row: Mapping[Any, Any]) -> Finding:
    days = int(row["days"])
    seen, usual = float(row["observed"]) / days, float(row["expected"]) / days
    ratio = float(row["ratio"])
    numbers: dict[str, SummaryValue] = {
        "event": str(row["event"]),
        "start": str(row["start"]),
        "end": str(row["end"]),
        "days": days,
        "observed_per_day": seen,
        "expected_per_day": usual,
        "ratio": ratio,
    }
    when = _dates(row["start"], row["end"])
    if row["kind"] == "relation":
        later, earlier = str(row["event"]).split(" > ")
        return Finding(
            "impossible_relation",
            f"More users had {later} than {earlier} {when} ({_count(seen)} against "
            f"{_count(usual)}{'' if days == 1 else ' a day on average'}): every {later} "
            f"needs an earlier {earlier}, so one of the two is not tracked completely.",
            "error",
            numbers,
        )
    # "3.1× its usual level" for a multiple, "58% of its usual level" for a share.
    level = f"{ratio:.1f}×" if ratio >= 2 else share_text(ratio) + " of"
    verb = "fell to" if row["kind"] == "drop" else "rose to"
    return Finding(
        f"tracking_{row['kind']}",
        f"{row['event']} {verb} {level} its usual level {when} (expected ~{_count(usual)} "
        f"a day, saw ~{_count(seen)}).",
        "warning",
        numbers,
    )


def _concentration(by_day: pd.DataFrame, earlier: int, total: int) -> str:
    """Where a pair's orphans concentrate, as a clause for the finding.

    The shortest span of at most four weeks holding at least half of the orphans (by the
    date of their later step): ``"; 60 of them from 2017-06-01 to 2017-06-21"``; empty
    when the orphans are spread wider (or fewer than four).
    """
    rows = by_day[by_day["earlier"] == earlier].sort_values("date")
    if total < 4 or rows.empty:
        return ""
    dates = list(rows["date"])
    counts = rows["orphans"].to_numpy(dtype=int)
    best: tuple[int, int, int] | None = None  # (span in days, start index, end index)
    for s in range(len(dates)):
        held = 0
        for e in range(s, len(dates)):
            if (dates[e] - dates[s]).days >= 4 * PERIOD:
                break
            held += int(counts[e])
            if 2 * held >= total:
                span = (dates[e] - dates[s]).days
                if best is None or span < best[0]:
                    best = (span, s, e)
                break
    if best is None:
        return ""
    _, s, e = best
    held = int(counts[s : e + 1].sum())
    return f"; {held:,} of them {_dates(dates[s], dates[e])}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.1f}".removesuffix(".0")


def _explain(est: Estimates, p: Params) -> Result:
    frames = est.frames
    names = sorted(frames.events["event"].unique())
    n_days = len(frames.days)
    status: Status = "ok"
    reason = ""
    notes: list[str] = []
    if not names:
        status, reason = "not_enough_data", "The events table has no event in the data window."
    elif n_days < MIN_WEEKS * PERIOD:
        status = "not_enough_data"
        reason = (
            f"Spikes and drops need at least {MIN_WEEKS} weeks of data to build a weekday "
            f"baseline; the data covers {count_of(n_days, 'day')}. The step relations and "
            "orphans are still checked."
        )
    if len(frames.steps) < 2:
        notes.append(
            "Step relations and orphans need two or more funnel steps among the events "
            f"(found {listing([_label(s) for s in frames.steps]) or 'none'}); pass steps=[...] "
            "to name them."
        )
    findings: list[Finding] = []
    if status != "ok":
        findings.append(Finding("not_enough_data", reason, "info"))
    order = {"relation": 0, "drop": 1, "spike": 2}
    anomalies = est.anomalies.sort_values(
        ["kind", "start", "event"], key=lambda c: c.map(order) if c.name == "kind" else c
    ).reset_index(drop=True)
    findings.extend(_anomaly_finding(row) for row in anomalies.to_dict("records"))
    pairs = frames.orphans
    consecutive = pairs[pairs["later"] == pairs["earlier"] + 1] if len(pairs) else pairs
    for _, row in consecutive.iterrows():
        if int(row["orphans"]) == 0:
            continue
        earlier, later = frames.steps[int(row["earlier"]) - 1], frames.steps[int(row["later"]) - 1]
        n, base, never = int(row["orphans"]), int(row["later_users"]), int(row["never"])
        findings.append(
            Finding(
                "orphan_steps",
                f"{count_of(n, 'user')} ({share_text(n / base)} of the {base:,} with "
                f"{_label(later)}) had {_label(later)} with no {_label(earlier)} at or before "
                f"it ({never:,} never had {_label(earlier)} at all)"
                + _concentration(frames.orphan_days, int(row["earlier"]), n)
                + f", e.g. {listing(list(row['examples']))}.",
                "warning",
                {
                    "earlier": _label(earlier),
                    "later": _label(later),
                    "orphans": n,
                    "later_users": base,
                    "never": never,
                },
            )
        )
    problems = [f for f in findings if f.severity != "info"]
    if not problems and status == "ok":
        findings.append(
            Finding(
                "tracking_ok",
                f"No tracking anomaly: {count_of(len(names), 'event')} checked over "
                f"{count_of(n_days, 'day')}"
                + (
                    ", no impossible step relation and no step without its earlier step."
                    if len(frames.steps) >= 2
                    else "."
                ),
            )
        )
    pairs_out = pairs.copy()
    if len(pairs_out):
        pairs_out["earlier"] = [_label(frames.steps[i - 1]) for i in pairs["earlier"]]
        pairs_out["later"] = [_label(frames.steps[j - 1]) for j in pairs["later"]]
        pairs_out["share"] = [
            o / n if n else math.nan
            for o, n in zip(pairs["orphans"], pairs["later_users"], strict=True)
        ]
        pairs_out["examples"] = [", ".join(e) for e in pairs["examples"]]
    values = {
        "days": n_days,
        "events_checked": len(names) if n_days >= MIN_WEEKS * PERIOD else 0,
        "anomalies": int((anomalies["kind"] != "relation").sum()),
        "relation_days": int(est.relations["violation"].sum()) if len(est.relations) else 0,
        "orphan_users": int(consecutive["orphans"].sum()) if len(consecutive) else 0,
    }
    notes.extend(
        [
            "Spikes and drops: each event's daily count against the median of the same "
            f"weekday over the previous {p.weeks} weeks (the following weeks at the start of "
            "the data), on the square-root scale, with the spread of the recent residuals; "
            f"a day is flagged at {p.threshold:g} standard deviations, and so is a run of days "
            f"each beyond 2 whose combined score reaches {p.threshold:g}. Suspect days are "
            "left out of later baselines. Long, low shifts: each run of 7–35 days against "
            "a line with weekday factors through up to 42 days on each side; flagged at "
            f"{SHIFT_THRESHOLD:g} standard errors when its level is off the line by 25% or "
            "more and differs from both sides (one side at the data's edge).",
            "Relations: distinct users per day of each later step against the first step "
            "(the page-level event every visit has)"
            + (f", with a tolerance of {p.tolerance:.0%}. " if p.tolerance else ". ")
            + "Orphans: a user's first later-step event after the first day of data with no "
            "earlier-step event at or before it (any earlier day counts).",
        ]
    )
    return Result(
        name="tracking",
        title="Tracking anomalies",
        table=anomalies,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={
            "anomalies": anomalies,
            "daily": est.daily,
            "relations": est.relations,
            "orphans": pairs_out,
            "orphan_days": frames.orphan_days.assign(
                earlier=[_label(frames.steps[i - 1]) for i in frames.orphan_days["earlier"]],
                later=[_label(frames.steps[j - 1]) for j in frames.orphan_days["later"]],
            ),
        },
        # Day-by-day tables are for tracing; the HTML shows the anomalies, orphans and chart.
        detail=("anomalies", "relations", "orphan_days"),
        figures=(
            FigureSpec(
                kind="line",
                table="daily",
                x="date",
                y="count",
                color="event",
                title="Events per day",
                labels={"date": "Date", "count": "Events", "event": "Event"},
                value_format=",d",
            ),
        )
        if len(est.daily)
        else (),
        notes=tuple(notes),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


def _plan(ds: Dataset) -> Plan:
    # Whenever there are events: the checks need no question from the analyst.
    return Plan() if ds.has("events") else Plan(runs=())


TRACKING = register(
    Analysis(
        name="tracking",
        title="Tracking anomalies",
        group="quality",
        needs=("events",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    tracking,
)

__all__ = ["GA4_STEPS", "tracking"]
