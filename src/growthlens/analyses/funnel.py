"""Funnels on the event log (docs/metrics.md, "Funnels"; DESIGN §4).

Where do users (or sessions) drop out between the first step and the last? Per step: how
many reached it, the conversion from the previous step and from the first (with Wilson
intervals), the drop-off and the median time from the previous step. Units whose first step
lies less than one window before the data ends may still convert: they are counted, but
flagged ``incomplete`` and left out of the conversion rates, never counted as lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import Exclusion, StepRule, overlapping_steps, unit_chains
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.proportions import wilson
from growthlens.stats.quantiles import median_interval
from growthlens.text import count_of

Order = Literal["ordered", "strict", "unordered"]
Unit = Literal["user", "session"]
StepInput = str | Mapping[str, Any]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

SUMMARY: SummarySpec = {
    "entered": ("count", "Entered the funnel (reached step 1)"),
    "converted": ("count", "Reached the last step"),
    "incomplete": ("count", "Entered less than one window before the data ends"),
    "biggest_drop_step": ("text", "Step with the largest drop-off"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the steps, window (seconds), order mode, unit and confidence."""

    steps: tuple[StepRule, ...]
    window_s: int
    order: Order
    unit: Unit
    confidence: float
    exclusions: tuple[Exclusion, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": [step_label(s) for s in self.steps],
            "exclude": [
                {"event": step_label(e.rule), "between": [min(e.pairs), max(e.pairs) + 1]}
                for e in self.exclusions
            ],
            "window_s": self.window_s,
            "order": self.order,
            "unit": self.unit,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Frames:
    """One row per unit that entered: depth, the counted chain's times, incomplete."""

    units: pd.DataFrame
    keys: tuple[str, ...]


def funnel(
    ds: Dataset,
    steps: Sequence[StepInput],
    *,
    window: str | int | timedelta = "7d",
    order: Order = "ordered",
    unit: Unit = "user",
    exclude: Sequence[StepInput] = (),
    confidence: float = 0.95,
) -> Result:
    """Conversion through ordered steps of the event log, per user or per session.

    A unit reaches step i when steps 1..i occur within ``window`` after step 1 (exactly
    the window counts): in time order with other events allowed between (``ordered``),
    with no other event of the unit strictly between consecutive steps (``strict``), or in
    any order within one window (``unordered``). Steps are event names or
    ``{"event": name, <column>: value, …}`` (property columns compared as text). A unit
    counts at the furthest step any attempt reaches; times come from the earliest chain
    that reaches it. See docs/metrics.md, "Funnels".

    Args:
        ds: a Dataset with an ``events`` table.
        steps: two or more steps.
        window: ``"30m"``, ``"2h"``, ``"7d"``, ``"1w"`` (s, m, h, d, w), seconds, or a
            timedelta.
        order: ``ordered``, ``strict`` or ``unordered``.
        unit: ``user`` or ``session`` (needs ``session_id`` in the events).
        exclude: excluded events: a chain is void between two consecutive steps with one
            strictly between them. An event name or ``{"event": name, <column>: value}``
            voids every pair; add ``"between": [i, j]`` for steps i to j only. Ordered
            mode (strict mode already allows no event between steps; unordered has no
            "between").
        confidence: level of the Wilson intervals of the conversion rates.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> events = pd.DataFrame({"user_id": [1, 1, 2], "event": ["view", "buy", "view"],
        ...     "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 11:00"])})
        >>> r = gl.funnel(gl.load(events=events, window=("2024-01-01", "2024-01-31")),
        ...     ["view", "buy"], window="1d")
        >>> r.table[["step", "name", "users", "conversion_from_first"]].to_dict("records")
        [{'step': 1, 'name': 'view', 'users': 2, 'conversion_from_first': 1.0},
         {'step': 2, 'name': 'buy', 'users': 1, 'conversion_from_first': 0.5}]
    """
    return FUNNEL.run(
        ds,
        steps=steps,
        window=window,
        order=order,
        unit=unit,
        exclude=exclude,
        confidence=confidence,
    )


def parse_window(window: str | int | timedelta) -> int:
    """A conversion window in whole seconds: ``"7d"`` → 604800.

    >>> parse_window("30m"), parse_window("1w"), parse_window(90)
    (1800, 604800, 90)
    """
    if isinstance(window, timedelta):
        seconds = window.total_seconds()
    elif isinstance(window, int | float) and not isinstance(window, bool):
        seconds = float(window)
    elif isinstance(window, str) and (
        m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", window)
    ):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ConfigError(
            f"window must be a duration like '30m', '2h', '7d' or '1w' (s, m, h, d, w), "
            f"seconds or a timedelta; got {window!r}"
        )
    if seconds <= 0 or seconds != int(seconds):
        raise ConfigError(f"window must be a positive whole number of seconds; got {window!r}")
    return int(seconds)


def _rule(step: StepInput, position: int) -> StepRule:
    if isinstance(step, str):
        return StepRule(step)
    if isinstance(step, Mapping) and isinstance(step.get("event"), str):
        where = tuple((str(k), str(v)) for k, v in step.items() if k != "event")
        return StepRule(str(step["event"]), where)
    raise ConfigError(
        f"step {position} must be an event name or a mapping with 'event' (and property "
        f"values), e.g. {{'event': 'page_view', 'page': '/checkout'}}; got {step!r}"
    )


def step_label(rule: StepRule) -> str:
    """A step as words: ``page_view (page=/cart)``."""
    if not rule.where:
        return rule.event
    return f"{rule.event} (" + ", ".join(f"{k}={v}" for k, v in rule.where) + ")"


def _params(
    ds: Dataset,
    steps: Sequence[StepInput],
    *,
    window: str | int | timedelta,
    order: str,
    unit: str,
    exclude: Sequence[StepInput],
    confidence: float,
) -> Params:
    if isinstance(steps, str | Mapping) or len(steps) < 2:
        raise ConfigError("a funnel needs a list of at least two steps, e.g. ['view', 'buy']")
    if order not in ("ordered", "strict", "unordered"):
        raise ConfigError(f"order must be 'ordered', 'strict' or 'unordered'; got {order!r}")
    if unit not in ("user", "session"):
        raise ConfigError(f"unit must be 'user' or 'session'; got {unit!r}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1; got {confidence}")
    events = ds.table("events")
    if unit == "session" and "session_id" not in events.columns:
        raise ConfigError(
            "unit='session' needs a session_id column in the events; map one, or use unit='user'"
        )
    rules = parse_steps(ds, steps)
    exclusions = parse_exclusions(ds, exclude, len(rules))
    if exclusions and order == "unordered":
        raise ConfigError(
            "exclude needs an order between steps: use order='ordered' (an unordered funnel "
            "has no 'between')"
        )
    return Params(
        rules,
        parse_window(window),
        order,  # type: ignore[arg-type]
        unit,  # type: ignore[arg-type]
        confidence,
        exclusions,
    )


def parse_exclusions(
    ds: Dataset, exclude: Sequence[StepInput], steps: int
) -> tuple[Exclusion, ...]:
    """Excluded events with the step pairs they void (``between`` = [i, j]: pairs i … j − 1).

    Raises:
        ConfigError: an item is not an event or mapping, or ``between`` is not two steps
            of the funnel in order.
    """
    if isinstance(exclude, str | Mapping):
        exclude = [exclude]
    found = []
    for position, item in enumerate(exclude, start=1):
        between: Any = (1, steps)
        if isinstance(item, Mapping) and "between" in item:
            between = item["between"]
            item = {key: value for key, value in item.items() if key != "between"}
        if not (
            isinstance(between, list | tuple)
            and len(between) == 2
            and all(isinstance(b, int) and not isinstance(b, bool) for b in between)
            and 1 <= between[0] < between[1] <= steps
        ):
            raise ConfigError(
                f"exclude item {position}: 'between' must be two step numbers in order, "
                f"from 1 to {steps}, e.g. [2, 3]; got {between!r}"
            )
        (rule,) = parse_steps(ds, [item])
        found.append(Exclusion(rule, tuple(range(between[0], between[1]))))
    return tuple(found)


def parse_steps(ds: Dataset, steps: Sequence[StepInput]) -> tuple[StepRule, ...]:
    """Funnel steps as rules, checked against the events' columns.

    Raises:
        ConfigError: a step is neither an event name nor a mapping with ``event``, or names
            a property column the events do not have.
    """
    events = ds.table("events")
    rules = tuple(_rule(step, i) for i, step in enumerate(steps, start=1))
    for rule in rules:
        missing = [c for c, _ in rule.where if c not in events.columns]
        if missing:
            raise ConfigError(
                f"step {step_label(rule)!r} names {', '.join(map(repr, missing))}, which the "
                f"events do not have; their columns: {', '.join(events.columns)}"
            )
    return rules


def _compute(ds: Dataset, p: Params) -> Frames:
    overlap = overlapping_steps(ds, p.steps)
    if overlap:
        pairs = ", ".join(f"{i} and {j}" for i, j in overlap)
        raise ConfigError(
            f"steps {pairs} match the same event rows, so one row could count twice; make the "
            "steps distinct (add a property, e.g. {'event': 'page_view', 'page': '/cart'})"
        )
    keys = ("user_id",) + (("session_id",) if p.unit == "session" else ())
    # Strict chains already have no event of the unit between steps: nothing to exclude.
    exclusions = p.exclusions if p.order == "ordered" else ()
    units = fetch(
        unit_chains(
            ds, p.steps, window_s=p.window_s, order=p.order, keys=keys, exclusions=exclusions
        )
    )
    if ds.window is None:
        end = None
    else:
        end = datetime.combine(ds.window[1], datetime.min.time()) + timedelta(days=1)
    window = pd.Timedelta(seconds=p.window_s)
    # Still able to convert when the data ends: their first step lies within a window of it.
    units["incomplete"] = (units["ts_1"] > pd.Timestamp(end) - window) if end is not None else False
    return Frames(units, keys)


@dataclass(frozen=True)
class Estimates:
    """The per-step table with its Wilson intervals, and the per-unit frames."""

    steps: pd.DataFrame
    frames: Frames


def _infer(frames: Frames, p: Params) -> Estimates:
    return Estimates(_steps_table(frames, p), frames)


def _plan(ds: Dataset) -> Plan:
    # Which steps matter is the analyst's question: the report cannot guess them. Without
    # events there is nothing to say (the funnel is not yet a report section of its own).
    if not ds.has("events"):
        return Plan(runs=())
    return Plan(
        runs=(),
        skipped=(
            "Funnel: it needs its steps, e.g. gl.funnel(ds, ['view_item', 'add_to_cart', "
            "'purchase'], window='7d').",
        ),
    )


def _steps_table(frames: Frames, p: Params) -> pd.DataFrame:
    units = frames.units
    complete = units[~units["incomplete"]]
    rows = []
    for j, rule in enumerate(p.steps, start=1):
        reached = units["depth"] >= j
        reached_complete = int((complete["depth"] >= j).sum())
        previous_complete = int((complete["depth"] >= j - 1).sum()) if j > 1 else reached_complete
        first_complete = int((complete["depth"] >= 1).sum())
        median = time_low = time_high = math.nan
        if j > 1 and p.order != "unordered":
            gaps = (units.loc[reached, f"ts_{j}"] - units.loc[reached, f"ts_{j - 1}"]).dt
            seconds = gaps.total_seconds().to_numpy()
            if len(seconds):
                median = float(np.median(seconds))
                time_low, time_high = median_interval(seconds, confidence=p.confidence)
        rows.append(
            {
                "step": j,
                "name": step_label(rule),
                "users": int(reached.sum()),
                "complete": reached_complete,
                "conversion_from_previous": reached_complete / previous_complete
                if previous_complete
                else math.nan,
                "conversion_from_first": reached_complete / first_complete
                if first_complete
                else math.nan,
                "drop_off": previous_complete - reached_complete if j > 1 else 0,
                "median_time_from_previous_s": median,
                "median_time_from_previous_low_s": time_low,
                "median_time_from_previous_high_s": time_high,
            }
        )
    table = pd.DataFrame(rows)
    previous = table["complete"].shift(1).fillna(table["complete"]).astype("int64")
    low, high = wilson(table["complete"], previous, confidence=p.confidence)
    table["conversion_from_previous_low"], table["conversion_from_previous_high"] = low, high
    first = table["complete"].iloc[0]
    low, high = wilson(table["complete"], [first] * len(table), confidence=p.confidence)
    table["conversion_from_first_low"], table["conversion_from_first_high"] = low, high
    # Step 1 is where units enter: no rate to estimate there.
    table.loc[
        0,
        [
            "conversion_from_previous",
            "conversion_from_previous_low",
            "conversion_from_previous_high",
        ],
    ] = math.nan
    table.loc[0, ["conversion_from_first_low", "conversion_from_first_high"]] = math.nan
    return table


def _explain(est: Estimates, p: Params) -> Result:
    table, frames = est.steps, est.frames
    units = frames.units
    noun = "session" if p.unit == "session" else "user"
    entered = int(table["users"].iloc[0])
    converted = int(table["users"].iloc[-1])
    incomplete = int(units["incomplete"].sum())
    last = table.iloc[-1]
    drops = table.iloc[1:]
    # The first step with the most units lost (ties: the earlier step).
    worst = (
        drops.iloc[int(drops["drop_off"].to_numpy().argmax())]
        if len(drops) and drops["drop_off"].max() > 0
        else None
    )
    status: Status = "ok"
    reason = ""
    if entered == 0:
        status, reason = (
            "not_enough_data",
            f"No {noun} has a step-1 event ({step_label(p.steps[0])}).",
        )
    elif int(table["complete"].iloc[0]) == 0:
        status = "not_enough_data"
        reason = (
            f"Every {noun} entered less than one window before the data ends, so none has "
            "had the full window to convert."
        )
    values: dict[str, Any] = {
        "entered": entered,
        "converted": converted,
        "conversion": Entry(
            float(last["conversion_from_first"]),
            "share",
            "Conversion from the first step to the last (complete windows)",
            low=float(last["conversion_from_first_low"]),
            high=float(last["conversion_from_first_high"]),
            method=f"Wilson {p.confidence:.0%}",
        ),
        "incomplete": incomplete,
        "biggest_drop_step": None if worst is None else str(worst["name"]),
    }
    findings: list[Finding] = []
    if status != "ok":
        findings.append(Finding("not_enough_data", reason, "warning"))
    elif worst is not None:
        j = int(worst["step"])
        before = table.iloc[j - 2]
        lost = 1 - float(worst["conversion_from_previous"])
        findings.append(
            Finding(
                "biggest_drop",
                f"The largest drop-off is between {before['name']} and {worst['name']}: "
                f"{lost:.0%} of {count_of(int(before['complete']), noun)} who reached "
                f"{before['name']} never reach {worst['name']} within the window; "
                f"{float(worst['conversion_from_previous']):.1%} go on ({p.confidence:.0%} "
                f"interval {worst['conversion_from_previous_low']:.1%}–"
                f"{worst['conversion_from_previous_high']:.1%}).",
                numbers={"step": j, "lost_share": lost, "lost": int(worst["drop_off"])},
            )
        )
    if incomplete and status == "ok":
        findings.append(
            Finding(
                "incomplete_windows",
                f"{count_of(incomplete, noun)} entered less than one window before the data "
                "ends: they are counted as reaching the steps they reached, but left out of "
                "the conversion rates, since they may still convert.",
                "info",
                {"incomplete": incomplete},
            )
        )
    keys = list(frames.keys)
    users = units[[*keys, "depth", *[f"ts_{j}" for j in range(1, len(p.steps) + 1)], "incomplete"]]
    return Result(
        name="funnel",
        title="Funnel: " + " → ".join(step_label(s) for s in p.steps),
        table=table,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={"users": users.reset_index(drop=True)},
        figures=(
            FigureSpec(
                kind="bar",
                x="name",
                y="complete",
                title=f"{noun.capitalize()}s reaching each step (complete windows)",
                labels={"name": "Step", "complete": f"{noun.capitalize()}s"},
                value_format=",d",
            ),
        ),
        notes=(
            f"Order: {p.order}; window: {p.window_s:,} seconds after step 1 (exactly the "
            "window counts); unit: " + noun + ". A unit counts at the furthest step any "
            "attempt reaches; times come from the earliest chain that reaches it.",
            f"Conversion rates use the {noun}s whose whole window lies in the data; "
            f"intervals: Wilson score, {p.confidence:.0%}. Median times from the previous "
            "step are over the units reaching the step (undefined in unordered mode), with a "
            "distribution-free order-statistic interval.",
        ),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


FUNNEL = register(
    Analysis(
        name="funnel",
        title="Funnel",
        group="product",
        needs=("events",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    funnel,
)

__all__ = ["funnel", "parse_exclusions", "parse_steps", "parse_window", "step_label"]
