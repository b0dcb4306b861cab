"""Paths around an event: what users do next (or did before) (docs/paths.md, "Paths").

From each unit's first occurrence of the ``around`` event, the next (or previous) ``depth``
events, consecutive repeats collapsed by default: per step the most common events with
their users and share (the rest as ``(other)``, ended paths as ``(end)``), and the flows
between consecutive steps for a Sankey chart. One path per unit, so the shares of a step
add up to 1 and a busy user weighs no more than a quiet one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthlens.analyses.funnel import StepInput, Unit, parse_steps, step_label, unit_events
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.funnel import StepRule
from growthlens.metrics.paths import (
    END,
    OTHER,
    Direction,
    anchored_units,
    event_users,
    grouped,
    path_steps,
    step_counts,
    transitions,
)
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.text import count_of

MAX_DEPTH = 20

SUMMARY: SummarySpec = {
    "users": ("count", "Units with the event (one path each)"),
    "top_event": ("text", "Most common event at step 1"),
    "top_share": ("share", "Share of paths with the most common event at step 1"),
    "ended_share": ("share", "Share of paths with no event at step 1"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: the anchor, direction, depth, top events, unit and collapsing."""

    around: StepRule
    direction: Direction
    depth: int
    top: int
    unit: Unit
    collapse: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "around": step_label(self.around),
            "direction": self.direction,
            "depth": self.depth,
            "top": self.top,
            "unit": self.unit,
            "collapse": self.collapse,
        }


@dataclass(frozen=True)
class Frames:
    """Engine aggregates: anchored units, units per (step, event), raw step transitions."""

    anchored: int
    counts: pd.DataFrame
    flows: pd.DataFrame


def paths(
    ds: Dataset,
    *,
    around: StepInput,
    direction: Direction = "next",
    depth: int = 3,
    top: int = 10,
    unit: Unit = "user",
    collapse: bool = True,
) -> Result:
    """The most common events after (or before) each unit's first ``around`` event.

    Events of a unit are ordered by timestamp, then event name; a path starts at the
    unit's first row matching ``around`` and takes the next ``depth`` events
    (``direction="previous"``: the ones before it, the closest first). With ``collapse``,
    an event equal to the one before it in the path is skipped (``cart, cart, buy`` →
    ``cart, buy``; a repeat of the anchor right after it too). Per step: the ``top``
    events by units, the rest as ``(other)`` and paths that have ended as ``(end)``; the
    shares of a step add up to 1. See docs/paths.md.

    Args:
        ds: a Dataset with an ``events`` table.
        around: an event name or ``{"event": name, <column>: value, …}`` (as funnel steps).
        direction: ``next`` or ``previous``.
        depth: how many steps away from the anchor (1–20).
        top: events shown per step; the others are grouped as ``(other)``.
        unit: ``user`` (one path per user) or ``session`` (per session: the events'
            ``session_id``, or sessions cut by ``session_timeout`` seconds of inactivity).
        collapse: skip consecutive repeats of the same event.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> events = pd.DataFrame({"user_id": [1, 1, 1, 2, 2],
        ...     "event": ["cart", "cart", "buy", "cart", "view"],
        ...     "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:01",
        ...         "2024-01-01 10:05", "2024-01-01 11:00", "2024-01-01 11:02"])})
        >>> r = gl.paths(gl.load(events=events), around="cart", depth=1)
        >>> r.table[["step", "event", "users", "share"]].to_dict("records")
        [{'step': 1, 'event': 'buy', 'users': 1, 'share': 0.5},
         {'step': 1, 'event': 'view', 'users': 1, 'share': 0.5}]
    """
    return PATHS.run(
        ds,
        around=around,
        direction=direction,
        depth=depth,
        top=top,
        unit=unit,
        collapse=collapse,
    )


def _params(
    ds: Dataset,
    *,
    around: StepInput,
    direction: str,
    depth: int,
    top: int,
    unit: str,
    collapse: bool,
) -> Params:
    if direction not in ("next", "previous"):
        raise ConfigError(f"direction must be 'next' or 'previous'; got {direction!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ConfigError(f"depth must be a whole number from 1 to {MAX_DEPTH}; got {depth!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a whole number of at least 1; got {top!r}")
    if unit not in ("user", "session"):
        raise ConfigError(f"unit must be 'user' or 'session'; got {unit!r}")
    (rule,) = parse_steps(ds, [around])
    return Params(rule, direction, depth, top, unit, bool(collapse))  # type: ignore[arg-type]


def unit_keys(unit: str) -> tuple[str, ...]:
    """The columns of a path's unit."""
    return ("user_id", "session_id") if unit == "session" else ("user_id",)


def _compute(ds: Dataset, p: Params) -> Frames:
    keys = unit_keys(p.unit)
    events = unit_events(ds, p.unit)
    steps = path_steps(
        ds,
        anchor=p.around,
        direction=p.direction,
        depth=p.depth,
        keys=keys,
        collapse=p.collapse,
        include_anchor=False,
        events=events,
    )
    anchored = anchored_units(ds, anchor=p.around, keys=keys, events=events)
    pairs = transitions(steps, keys)
    # Flows between steps k and k + 1 (k < depth); a null target: the path ended.
    later = pairs[pairs["step"] < p.depth]
    flows = pd.DataFrame(
        {
            "step": later["step"] + 1,
            "source": later["event"],
            "target": later["target"],
            "users": later["users"],
        }
    )
    return Frames(anchored, step_counts(pairs), flows)


@dataclass(frozen=True)
class Estimates:
    """The per-step table and the Sankey flows, top events grouped."""

    table: pd.DataFrame
    flows: pd.DataFrame
    anchored: int


def _infer(frames: Frames, p: Params) -> Estimates:
    table, kept = step_table(frames.counts, frames.anchored, depth=p.depth, top=p.top)
    flows = flow_table(frames, kept, anchor=step_label(p.around))
    return Estimates(table, flows, frames.anchored)


def step_table(
    counts: pd.DataFrame, anchored: int, *, depth: int, top: int
) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Per step: the top events, ``(other)`` and ``(end)``, with users and share.

    Returns the table (``step``, ``event``, ``users``, ``share``) and the events kept at
    each step.
    """
    rows: list[dict[str, Any]] = []
    kept: dict[int, list[str]] = {}
    for step in range(1, depth + 1):
        here = counts[counts["step"] == step]
        here = here.sort_values(["users", "event"], ascending=[False, True], kind="stable")
        kept[step] = here["event"].head(top).tolist()
        for event, users in zip(here["event"].head(top), here["users"].head(top), strict=True):
            rows.append({"step": step, "event": str(event), "users": int(users)})
        other = int(here["users"].iloc[top:].sum())
        if other:
            rows.append({"step": step, "event": OTHER, "users": other})
        # A path that ended before this step stays ended: every anchored unit is counted
        # once per step.
        ended = anchored - int(here["users"].sum())
        if ended:
            rows.append({"step": step, "event": END, "users": ended})
    table = pd.DataFrame(rows, columns=["step", "event", "users"])
    table = table.astype({"step": "int64", "users": "int64"})
    table["share"] = table["users"] / anchored if anchored else float("nan")
    return table, kept


def flow_table(frames: Frames, kept: dict[int, list[str]], *, anchor: str) -> pd.DataFrame:
    """Flows (``step`` of the target, ``source``, ``target``, ``users``) for the Sankey.

    Into step 1 from the anchor; then between consecutive steps, each side grouped as in
    the step table; a path that ends goes once into ``(end)`` and no further.
    """
    first = frames.counts[frames.counts["step"] == 1]
    into = pd.DataFrame(
        {
            "step": 1,
            "source": anchor,
            "target": grouped(first["event"], kept.get(1, [])),
            "users": first["users"],
        }
    )
    ended = frames.anchored - int(first["users"].sum())
    parts = [into]
    if ended:
        parts.append(
            pd.DataFrame({"step": [1], "source": [anchor], "target": [END], "users": [ended]})
        )
    later = frames.flows
    if len(later):
        source = pd.Series(
            [
                OTHER if e not in kept.get(s - 1, []) else e
                for s, e in zip(later["step"], later["source"], strict=True)
            ],
            index=later.index,
            dtype="object",
        )
        target = pd.Series(
            [
                END if pd.isna(e) else (OTHER if e not in kept.get(s, []) else e)
                for s, e in zip(later["step"], later["target"], strict=True)
            ],
            index=later.index,
            dtype="object",
        )
        parts.append(
            pd.DataFrame(
                {"step": later["step"], "source": source, "target": target, "users": later["users"]}
            )
        )
    flows = pd.concat(parts, ignore_index=True)
    flows = flows.groupby(["step", "source", "target"], as_index=False, sort=False).agg(
        users=("users", "sum")
    )
    flows = flows.astype({"step": "int64", "users": "int64"})
    return flows.sort_values(
        ["step", "users", "source", "target"], ascending=[True, False, True, True], kind="stable"
    ).reset_index(drop=True)


def _explain(est: Estimates, p: Params) -> Result:
    noun = "session" if p.unit == "session" else "user"
    anchor = step_label(p.around)
    table = est.table
    first = table[(table["step"] == 1) & ~table["event"].isin([END, OTHER])]
    ended = table[(table["step"] == 1) & (table["event"] == END)]
    ended_share = float(ended["share"].iloc[0]) if len(ended) else 0.0
    status: Status = "ok"
    reason = ""
    findings: list[Finding] = []
    if est.anchored == 0:
        status, reason = "not_enough_data", f"No {noun} has a {anchor} event."
        findings.append(Finding("not_enough_data", reason, "warning"))
    values: dict[str, Any] = {
        "users": est.anchored,
        "top_event": str(first["event"].iloc[0]) if len(first) else None,
        "top_share": float(first["share"].iloc[0]) if len(first) else float("nan"),
        "ended_share": ended_share if est.anchored else float("nan"),
    }
    word = "after" if p.direction == "next" else "before"
    if status == "ok":
        listed = ", ".join(
            f"{e} ({s:.0%})"
            for e, s in zip(first["event"].head(3), first["share"].head(3), strict=True)
        )
        text = f"Of {count_of(est.anchored, noun)} with {anchor}, right {word} the first one"
        text += f" come {listed}" if listed else " comes no event"
        text += f"; {ended_share:.0%} have no event {word} it." if ended_share else "."
        findings.append(
            Finding(
                "paths_step_1",
                text,
                numbers={
                    "users": est.anchored,
                    "top_event": values["top_event"],
                    "top_share": values["top_share"],
                    "ended_share": ended_share,
                },
            )
        )
    title_word = "after" if p.direction == "next" else "before"
    return Result(
        name="paths" + ("" if p.direction == "next" else "_previous"),
        title=f"Paths {title_word} {anchor}",
        table=table,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={"flows": est.flows},
        figures=(
            FigureSpec(
                kind="sankey",
                table="flows",
                x="source",
                y="target",
                z="users",
                color="step",
                title=f"What {noun}s do {title_word} {anchor} (first occurrence)",
                labels={"users": f"{noun.capitalize()}s"},
                value_format=",d",
                # Paths before the event are drawn in time order, the event on the right.
                reverse=p.direction == "previous",
            ),
        ),
        notes=(
            f"One path per {noun}, from its first {anchor} event; events ordered by time, "
            "then event name. "
            + (
                "Consecutive repeats of an event are collapsed. "
                if p.collapse
                else "Repeated events are kept. "
            )
            + f"Per step, the {p.top} most common events; the rest as {OTHER}; {END}: no "
            "further event in the data (an ended path stays ended, so each step adds up "
            "to 100%).",
        ),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


# Conversion events of common exports (GA4's e-commerce names first), looked up by the plan.
CONVERSIONS = ("purchase", "order", "checkout_completed", "order_completed", "transaction")
# The steps just before paying, latest first: "what do users do instead of paying" is the
# paths after the latest of them the log has.
BEFORE_CONVERSION = ("add_payment_info", "begin_checkout", "checkout", "add_to_cart", "cart")


def _plan(ds: Dataset) -> Plan:
    """Paths before the conversion event, and after the latest pre-payment step the log has.

    Without a known conversion event, paths after the event most users have (the log's
    main action): one small aggregate of the event names.
    """
    names = event_users(ds)
    if names.empty:
        return Plan(runs=(), skipped=("Paths: the events table has no event.",))
    present = set(names["event"])
    conversion = next((c for c in CONVERSIONS if c in present), None)
    if conversion is None:
        top = str(names["event"].iloc[0])
        return Plan(runs=({"around": top},))
    runs: list[dict[str, Any]] = [{"around": conversion, "direction": "previous"}]
    before = next((c for c in BEFORE_CONVERSION if c in present), None)
    if before is not None:
        runs.append({"around": before})
    return Plan(runs=tuple(runs))


PATHS = register(
    Analysis(
        name="paths",
        title="Paths",
        group="funnels",
        needs=("events",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    paths,
)

__all__ = ["paths"]
