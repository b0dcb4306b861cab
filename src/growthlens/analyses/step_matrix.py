"""Step matrix: which event users are at, step by step (docs/paths.md, "Step matrix").

Retentioneering's step matrix: each unit's path from its first event (or from its first
``start`` event) numbered 1, 2, 3, …; per step k the share of units whose k-th event is E.
Events outside the top ones are ``(other)``; a unit whose path has ended is ``(end)`` from
the step after its last event on, so every step's shares add up to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthlens.analyses.funnel import StepInput, Unit, parse_steps, step_label, unit_events
from growthlens.analyses.registry import Analysis, register, run_once
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.funnel import StepRule
from growthlens.metrics.paths import END, OTHER, anchored_units, path_steps, step_events, top_events
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.text import count_of

MAX_STEPS = 50

SUMMARY: SummarySpec = {
    "users": ("count", "Units with a path"),
    "steps": ("count", "Steps shown"),
    "ended_share_{k}": ("share", "Share of paths ended by step {k}"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: steps, top events, the start rule (or none), unit and collapsing."""

    steps: int
    top: int
    start: StepRule | None
    unit: Unit
    collapse: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "top": self.top,
            "start": None if self.start is None else step_label(self.start),
            "unit": self.unit,
            "collapse": self.collapse,
        }


@dataclass(frozen=True)
class Frames:
    """Engine aggregates: units with a path and units per (step, event)."""

    anchored: int
    counts: pd.DataFrame


def step_matrix(
    ds: Dataset,
    *,
    steps: int = 10,
    top: int = 12,
    start: StepInput | None = None,
    unit: Unit = "user",
    collapse: bool = True,
) -> Result:
    """Share of units at each event at step k of their path (k = 1 … ``steps``).

    A unit's path is its events ordered by timestamp, then event name, from its first
    event (``start=None``) or its first ``start`` event (units without one are left out;
    step 1 is then that event). With ``collapse``, an event equal to the one before it is
    skipped. The ``top`` events over all steps keep their names, the rest are ``(other)``;
    a path that has ended is ``(end)`` at every later step, so each step adds up to 1.
    See docs/paths.md.

    Args:
        ds: a Dataset with an ``events`` table.
        steps: how many steps (1–50).
        top: events shown by name (most units over all steps first).
        start: an event name or ``{"event": name, <column>: value, …}`` where paths start.
        unit: ``user`` or ``session`` (the events' ``session_id``, or sessions cut by
            ``session_timeout`` seconds of inactivity).
        collapse: skip consecutive repeats of the same event.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> events = pd.DataFrame({"user_id": [1, 1, 2], "event": ["view", "buy", "view"],
        ...     "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
        ...         "2024-01-01 11:00"])})
        >>> r = gl.step_matrix(gl.load(events=events), steps=2)
        >>> r.table[["step", "event", "share"]].to_dict("records")
        [{'step': 1, 'event': 'view', 'share': 1.0}, {'step': 1, 'event': 'buy', 'share': 0.0},
         {'step': 1, 'event': '(end)', 'share': 0.0}, {'step': 2, 'event': 'view', 'share': 0.0},
         {'step': 2, 'event': 'buy', 'share': 0.5}, {'step': 2, 'event': '(end)', 'share': 0.5}]
    """
    return STEP_MATRIX.run(ds, steps=steps, top=top, start=start, unit=unit, collapse=collapse)


def _params(
    ds: Dataset,
    *,
    steps: int,
    top: int,
    start: StepInput | None,
    unit: str,
    collapse: bool,
) -> Params:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"steps must be a whole number from 1 to {MAX_STEPS}; got {steps!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a whole number of at least 1; got {top!r}")
    if unit not in ("user", "session"):
        raise ConfigError(f"unit must be 'user' or 'session'; got {unit!r}")
    rule = None if start is None else parse_steps(ds, [start])[0]
    return Params(steps, top, rule, unit, bool(collapse))  # type: ignore[arg-type]


def _compute(ds: Dataset, p: Params) -> Frames:
    keys = ("user_id", "session_id") if p.unit == "session" else ("user_id",)
    events = unit_events(ds, p.unit)
    path = path_steps(
        ds,
        anchor=p.start,
        direction="next",
        depth=p.steps,
        keys=keys,
        collapse=p.collapse,
        include_anchor=True,
        events=events,
    )
    anchored = anchored_units(ds, anchor=p.start, keys=keys, events=events)
    return Frames(anchored, step_events(path))


def matrix_table(counts: pd.DataFrame, anchored: int, *, steps: int, top: int) -> pd.DataFrame:
    """The long step matrix: every (step, row) cell with ``users`` and ``share``.

    Rows are the ``top`` events (most units over all steps first), ``(other)`` when some
    event is grouped, and ``(end)``; an absent cell is 0 (an observed zero, not unknown).
    """
    kept = top_events(counts, top)
    grouped_any = counts["event"].nunique() > len(kept)
    rows = [*kept, *([OTHER] if grouped_any else []), END]
    out: list[dict[str, Any]] = []
    for step in range(1, steps + 1):
        here = counts[counts["step"] == step]
        users = dict(zip(here["event"], here["users"].astype("int64"), strict=True))
        for event in rows:
            if event == OTHER:
                n = sum(v for e, v in users.items() if e not in kept)
            elif event == END:
                # Paths shorter than k stay ended from the step after their last event.
                n = anchored - sum(users.values())
            else:
                n = users.get(event, 0)
            out.append({"step": step, "event": event, "users": int(n)})
    table = pd.DataFrame(out, columns=["step", "event", "users"])
    table = table.astype({"step": "int64", "users": "int64"})
    table["share"] = table["users"] / anchored if anchored else float("nan")
    return table


def _explain(frames: Frames, p: Params) -> Result:
    noun = "session" if p.unit == "session" else "user"
    table = matrix_table(frames.counts, frames.anchored, steps=p.steps, top=p.top)
    status: Status = "ok"
    reason = ""
    findings: list[Finding] = []
    start = "their first event" if p.start is None else f"their first {step_label(p.start)}"
    if frames.anchored == 0:
        status = "not_enough_data"
        reason = (
            f"No {noun} has an event."
            if p.start is None
            else f"No {noun} has a {step_label(p.start)} event."
        )
        findings.append(Finding("not_enough_data", reason, "warning"))
    ended = table[table["event"] == END].set_index("step")["share"]
    values: dict[str, Any] = {"users": frames.anchored, "steps": p.steps}
    for k in sorted({2, 3, 5, p.steps}):
        if k <= p.steps:
            values[f"ended_share_{k}"] = float(ended.loc[k])
    if status == "ok":
        events = table[~table["event"].isin([END, OTHER])]
        leader = events[events["step"] == min(2, p.steps)].sort_values(
            ["users", "event"], ascending=[False, True], kind="stable"
        )
        k = min(2, p.steps)
        share = float(ended.loc[k])
        first = leader.iloc[0] if len(leader) else None
        text = f"Of {count_of(frames.anchored, noun)}, counted from {start}, "
        text += (
            f"{first['share']:.0%} are at {first['event']} at step {k}"
            if first is not None and first["users"] > 0
            else f"none has an event at step {k}"
        )
        text += f"; {share:.0%} have no event left by step {k}."
        findings.append(
            Finding(
                "step_matrix",
                text,
                numbers={"users": frames.anchored, "ended_share": share, "step": k},
            )
        )
    return Result(
        name="step_matrix",
        title="Step matrix" + ("" if p.start is None else f" from {step_label(p.start)}"),
        table=table,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        figures=(
            FigureSpec(
                kind="heatmap",
                x="step",
                y="event",
                z="share",
                title=f"Share of {noun}s at each event, step by step from {start}",
                labels={"step": "Step", "event": "Event", "share": f"Share of {noun}s"},
                value_format=".0%",
            ),
        ),
        notes=(
            f"Step 1 is {start}; events ordered by time, then event name"
            + ("; consecutive repeats collapsed. " if p.collapse else "; repeats kept. ")
            + f"The {p.top} events with the most {noun}s over all steps are named, the rest "
            f"are {OTHER}; {END}: the path has no further event. Each step adds up to 100%.",
        ),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


STEP_MATRIX = register(
    Analysis(
        name="step_matrix",
        title="Step matrix",
        group="funnels",
        needs=("events",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=run_once,
    ),
    step_matrix,
)

__all__ = ["matrix_table", "step_matrix"]
