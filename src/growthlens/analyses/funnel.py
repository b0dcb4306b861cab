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
from datetime import date, datetime, timedelta
from typing import Any, Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.events import EVENT_SESSIONS
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import (
    Exclusion,
    StepRule,
    overlapping_steps,
    present_events,
    segment_in_chains,
    unit_chains,
    with_segment,
)
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.multiple import holm
from growthlens.stats.proportions import difference, homogeneity, wilson
from growthlens.stats.quantiles import median_interval
from growthlens.text import count_of
from growthlens.units import p_phrase

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
    by: str | None = None
    by_step: Literal["first", "last"] = "first"
    trend: Period | None = None
    compare: tuple[tuple[date, date], tuple[date, date]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "by_step": self.by_step,
            "trend": self.trend,
            "compare": None
            if self.compare is None
            else [[a.isoformat(), b.isoformat()] for a, b in self.compare],
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
    by: str | None = None,
    by_step: Literal["first", "last"] = "first",
    trend: Period | None = None,
    compare: Sequence[tuple[str | date, str | date]] | None = None,
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
        unit: ``user`` or ``session`` (the events' ``session_id``; without one, sessions
            are cut by ``session_timeout`` seconds of inactivity, 30 minutes by default).
        by: a breakdown: an events column (read on the counted chain's step-1 event, or
            its last reached step's with ``by_step="last"``) or a ``customers`` column;
            ``tables["segments"]`` has the steps per value, each step's rates tested
            across values (chi-square) and for each value against the rest (two-proportion
            z test, Holm-corrected over the table; Newcombe interval of the gap).
        by_step: ``first`` or ``last``: which step's event gives an events column's value.
        trend: ``day``, ``week`` or ``month``: ``tables["trend"]`` has each step's
            conversion from the first by period of the counted step-1 event, with Wilson
            bands.
        compare: two periods ``[(start, end), (start, end)]`` (dates, inclusive) of the
            step-1 event: ``tables["comparison"]`` has each step's conversion in both, the
            gap with its interval and test.
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
        by=by,
        by_step=by_step,
        trend=trend,
        compare=compare,
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
    by: str | None,
    by_step: str,
    trend: str | None,
    compare: Sequence[tuple[str | date, str | date]] | None,
    exclude: Sequence[StepInput],
    confidence: float,
) -> Params:
    rules, exclusions = funnel_options(
        ds, steps, order=order, unit=unit, exclude=exclude, confidence=confidence
    )
    events = ds.table("events")
    if by is not None:
        customers = ds.table("customers").columns if ds.has("customers") else ()
        if by not in events.columns and by not in customers:
            raise ConfigError(
                f"by={by!r} is neither a column of the events ({', '.join(events.columns)}) "
                + (f"nor of the customers ({', '.join(customers)})" if customers else "")
            )
    if by_step not in ("first", "last"):
        raise ConfigError(f"by_step must be 'first' or 'last'; got {by_step!r}")
    return Params(
        rules,
        parse_window(window),
        order,  # type: ignore[arg-type]
        unit,  # type: ignore[arg-type]
        confidence,
        exclusions,
        by,
        by_step,  # type: ignore[arg-type]
        None if trend is None else check_period(trend),
        None if compare is None else _periods(compare),
    )


def funnel_options(
    ds: Dataset,
    steps: Sequence[StepInput],
    *,
    order: str,
    unit: str,
    exclude: Sequence[StepInput],
    confidence: float,
) -> tuple[tuple[StepRule, ...], tuple[Exclusion, ...]]:
    """The options every analysis on a funnel's chains shares, checked.

    Returns the step rules and the exclusion rules.

    Raises:
        ConfigError: fewer than two steps, an unknown order or unit, a confidence outside
            (0, 1), a bad step or exclusion, or exclusions in an unordered funnel.
    """
    if isinstance(steps, str | Mapping) or len(steps) < 2:
        raise ConfigError("a funnel needs a list of at least two steps, e.g. ['view', 'buy']")
    if order not in ("ordered", "strict", "unordered"):
        raise ConfigError(f"order must be 'ordered', 'strict' or 'unordered'; got {order!r}")
    if unit not in ("user", "session"):
        raise ConfigError(f"unit must be 'user' or 'session'; got {unit!r}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1; got {confidence}")
    rules = parse_steps(ds, steps)
    exclusions = parse_exclusions(ds, exclude, len(rules))
    if exclusions and order == "unordered":
        raise ConfigError(
            "exclude needs an order between steps: use order='ordered' (an unordered funnel "
            "has no 'between')"
        )
    return rules, exclusions


def _periods(
    compare: Sequence[tuple[str | date, str | date]],
) -> tuple[tuple[date, date], tuple[date, date]]:
    def day(value: str | date) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    try:
        (a, b), (c, d) = compare
        first, second = (day(a), day(b)), (day(c), day(d))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            "compare must be two periods of dates, e.g. [('2024-11-01', '2024-11-30'), "
            f"('2024-12-01', '2024-12-31')]; got {compare!r}"
        ) from exc
    if first[0] > first[1] or second[0] > second[1]:
        raise ConfigError(f"each compare period must start before it ends; got {compare!r}")
    return first, second


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


def check_distinct_steps(ds: Dataset, steps: Sequence[StepRule]) -> None:
    """Raise a ConfigError when some event row matches two steps (it could count twice)."""
    overlap = overlapping_steps(ds, steps)
    if overlap:
        pairs = ", ".join(f"{i} and {j}" for i, j in overlap)
        raise ConfigError(
            f"steps {pairs} match the same event rows, so one row could count twice; make the "
            "steps distinct (add a property, e.g. {'event': 'page_view', 'page': '/cart'})"
        )


def unit_events(ds: Dataset, unit: str) -> ir.Table:
    """The events a funnel of ``unit`` reads.

    Per session: with session ids as given, or cut by ``session_timeout`` seconds of
    inactivity.
    """
    if unit == "session":
        return ds.derived(EVENT_SESSIONS(timeout_s=ds.settings.session_timeout))
    return ds.table("events")


def data_end(ds: Dataset) -> datetime | None:
    """When the data ends: the midnight after the data window's last day (None: no window)."""
    if ds.window is None:
        return None
    return datetime.combine(ds.window[1], datetime.min.time()) + timedelta(days=1)


def _compute(ds: Dataset, p: Params) -> Frames:
    check_distinct_steps(ds, p.steps)
    keys = ("user_id",) + (("session_id",) if p.unit == "session" else ())
    # Strict chains already have no event of the unit between steps: nothing to exclude.
    exclusions = p.exclusions if p.order == "ordered" else ()
    events = unit_events(ds, p.unit)
    # A step-1 events column rides along the chains; other breakdowns are joined back.
    carried = (
        p.by is not None
        and p.by_step == "first"
        and p.by in events.columns
        and segment_in_chains(p.order, exclusions)
    )
    chains = unit_chains(
        ds,
        p.steps,
        window_s=p.window_s,
        order=p.order,
        keys=keys,
        exclusions=exclusions,
        events=events,
        segment=p.by if carried else None,
    )
    if p.by is not None and not carried:
        chains = with_segment(
            ds, chains, p.steps, keys=keys, column=p.by, at=p.by_step, events=events
        )
    units = fetch(chains, ds, categorical=("segment",) if p.by is not None else ())
    end = data_end(ds)
    window = pd.Timedelta(seconds=p.window_s)
    # Still able to convert when the data ends: their first step lies within a window of it.
    units["incomplete"] = (units["ts_1"] > pd.Timestamp(end) - window) if end is not None else False
    return Frames(units, keys)


@dataclass(frozen=True)
class Estimates:
    """The per-step table, the breakdown, trend and comparison tables, the units.

    The tables not asked for are empty.
    """

    steps: pd.DataFrame
    frames: Frames
    segments: pd.DataFrame
    trend: pd.DataFrame
    comparison: pd.DataFrame
    times: pd.DataFrame


def _infer(frames: Frames, p: Params) -> Estimates:
    units = frames.units
    segments = _segments_table(units, p) if p.by is not None else pd.DataFrame()
    trend = _trend_table(units, p) if p.trend is not None else pd.DataFrame()
    comparison = _comparison_table(units, p) if p.compare is not None else pd.DataFrame()
    times = _times_table(units, p)
    return Estimates(_steps_table(units, p), frames, segments, trend, comparison, times)


# Bins of time to convert, on the scale people think in (upper bounds, seconds).
TIME_BINS: tuple[tuple[str, float], ...] = (
    ("under 1 min", 60),
    ("1–5 min", 300),
    ("5–30 min", 1800),
    ("30 min–2 h", 7200),
    ("2–6 h", 21600),
    ("6–24 h", 86400),
    ("1–2 days", 172800),
    ("2–7 days", 604800),
    ("over 7 days", math.inf),
)


def _times_table(units: pd.DataFrame, p: Params) -> pd.DataFrame:
    """How many units took how long, in :data:`TIME_BINS`.

    From the previous step to each step, and from the first step to the last; a time equal
    to a bound falls in the lower bin. Ordered and strict modes (unordered steps have no
    order).
    """
    if p.order == "unordered" or units.empty:
        return pd.DataFrame()
    k = len(p.steps)
    spans = [
        (f"{step_label(p.steps[j - 2])} → {step_label(p.steps[j - 1])}", j - 1, j)
        for j in range(2, k + 1)
    ]
    if k > 2:
        spans.append((f"{step_label(p.steps[0])} → {step_label(p.steps[-1])} (total)", 1, k))
    bounds = [0.0, *[b for _, b in TIME_BINS]]
    labels = [name for name, _ in TIME_BINS]
    rows = []
    depth = units["depth"].to_numpy()
    for span, a, b in spans:
        later, earlier = (units[f"ts_{m}"].to_numpy()[depth >= b] for m in (b, a))
        seconds = pd.Series((later - earlier) / np.timedelta64(1, "s"))
        binned = pd.cut(seconds, bounds, labels=labels, right=True, include_lowest=True)
        counts = binned.value_counts().reindex(labels, fill_value=0)
        for order, (label, users) in enumerate(counts.items()):
            rows.append({"span": span, "bin": label, "bin_order": order, "units": int(users)})
    return pd.DataFrame(rows)


def _segments_table(units: pd.DataFrame, p: Params) -> pd.DataFrame:
    """Steps per segment, with each step's conversion from the previous one tested.

    Across the segments: chi-square. Each segment against the rest: z test, Holm over
    the whole table, and the Newcombe interval of the gap.
    """
    parts = []
    # Only the columns the step table reads: the groups are copies.
    needed = ["depth", "incomplete", *[f"ts_{j}" for j in range(1, len(p.steps) + 1)]]
    for value, group in units[needed].groupby(units["segment"], sort=True, observed=True):
        table = _steps_table(group, p)
        table.insert(0, p.by or "segment", value)
        parts.append(table)
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    column = p.by or "segment"
    previous = out.groupby(column, sort=False)["complete"].shift(1)
    out["_trials"] = previous.fillna(0).astype("int64")
    totals = out.groupby("step")[["complete", "_trials"]].transform("sum")
    rest_k, rest_n = totals["complete"] - out["complete"], totals["_trials"] - out["_trials"]
    gap = difference(out["complete"], out["_trials"], rest_k, rest_n, confidence=p.confidence)
    first = out["step"] == 1
    out["rest_conversion_from_previous"] = np.where(
        first | (rest_n == 0), math.nan, rest_k / rest_n.where(rest_n > 0, 1)
    )
    out["gap"] = np.where(first, math.nan, gap.difference)
    out["gap_low"] = np.where(first, math.nan, gap.low)
    out["gap_high"] = np.where(first, math.nan, gap.high)
    out["p_value"] = np.where(first, math.nan, gap.p_value)
    out["p_adjusted"] = holm(out["p_value"])
    across = {
        step: homogeneity(part["complete"], part["_trials"]).p_value
        for step, part in out.groupby("step")
    }
    out["p_across_segments"] = out["step"].map(across).where(~first, math.nan)
    out["significant"] = out["p_adjusted"] < 1 - p.confidence
    return out.drop(columns="_trials")


def _trend_table(units: pd.DataFrame, p: Params) -> pd.DataFrame:
    """Each step's conversion from the first by period of the counted step-1 event."""
    starts = units["ts_1"].dt.to_period(
        {"day": "D", "week": "W-SUN", "month": "M"}[p.trend or "day"]
    )
    parts = []
    needed = ["depth", "incomplete", *[f"ts_{j}" for j in range(1, len(p.steps) + 1)]]
    for period, group in units[needed].groupby(starts.dt.start_time.dt.date, sort=True):
        table = _steps_table(group, p)
        table.insert(0, "period", period)
        parts.append(table)
    if not parts:
        return pd.DataFrame()
    trend = pd.concat(parts, ignore_index=True)
    # Step 1 is where units enter (always 100%): its count becomes a column of the others.
    entered = trend[trend["step"] == 1].set_index("period")["complete"]
    trend["entered"] = trend["period"].map(entered).astype("int64")
    return trend[trend["step"] > 1].reset_index(drop=True)[
        [
            "period",
            "entered",
            "step",
            "name",
            "users",
            "complete",
            "conversion_from_first",
            "conversion_from_first_low",
            "conversion_from_first_high",
        ]
    ]


def _comparison_table(units: pd.DataFrame, p: Params) -> pd.DataFrame:
    """Each step's conversion from the first in two periods of step-1 events, and the gap."""
    assert p.compare is not None
    day = units["ts_1"].dt.date
    tables = [_steps_table(units[(day >= start) & (day <= end)], p) for start, end in p.compare]
    a, b = tables
    gap = difference(
        b["complete"],
        [b["complete"].iloc[0]] * len(b),
        a["complete"],
        [a["complete"].iloc[0]] * len(a),
        confidence=p.confidence,
    )
    out = pd.DataFrame(
        {
            "step": a["step"],
            "name": a["name"],
            "entered_a": a["complete"].iloc[0],
            "conversion_a": a["conversion_from_first"],
            "entered_b": b["complete"].iloc[0],
            "conversion_b": b["conversion_from_first"],
            "difference": gap.difference,
            "difference_low": gap.low,
            "difference_high": gap.high,
            "p_value": gap.p_value,
        }
    )
    out.loc[out["step"] == 1, ["difference", "difference_low", "difference_high", "p_value"]] = (
        math.nan
    )
    return out


ECOMMERCE_STEPS: tuple[str, ...] = (
    "page_view",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_payment_info",
    "purchase",
)
"""GA4's recommended e-commerce events, in funnel order: the report's default funnel."""


def default_steps(ds: Dataset) -> tuple[str, ...]:
    """The GA4 e-commerce events the log has, in order, when it has purchase and another."""
    present = present_events(ds, ECOMMERCE_STEPS)
    steps = tuple(e for e in ECOMMERCE_STEPS if e in present)
    return steps if "purchase" in steps and len(steps) >= 2 else ()


def _plan(ds: Dataset) -> Plan:
    # Which steps matter is the analyst's question; the report runs GA4's e-commerce
    # events when the log has them, broken down by device and by week when it can.
    if not ds.has("events"):
        return Plan(runs=())
    steps = default_steps(ds)
    if not steps:
        return Plan(
            runs=(),
            skipped=(
                "Funnel: the events have no GA4 e-commerce steps (page_view … purchase) to "
                "show by default; run gl.funnel(ds, ['view_item', 'add_to_cart', 'purchase'], "
                "window='7d') with yours.",
            ),
        )
    options: dict[str, Any] = {"steps": list(steps), "window": "7d", "trend": "week"}
    if "device" in ds.table("events").columns:
        options["by"] = "device"
    return Plan(runs=(options,))


def _steps_table(units: pd.DataFrame, p: Params) -> pd.DataFrame:
    # On numpy arrays: no copy of the (possibly millions of) unit rows per step.
    depth = units["depth"].to_numpy()
    complete_depth = depth[~units["incomplete"].to_numpy(dtype=bool)]
    rows = []
    for j, rule in enumerate(p.steps, start=1):
        reached = depth >= j
        reached_complete = int((complete_depth >= j).sum())
        previous_complete = int((complete_depth >= j - 1).sum()) if j > 1 else reached_complete
        first_complete = int((complete_depth >= 1).sum())
        median = time_low = time_high = math.nan
        if j > 1 and p.order != "unordered":
            later, earlier = (units[f"ts_{m}"].to_numpy()[reached] for m in (j, j - 1))
            seconds = (later - earlier) / np.timedelta64(1, "s")
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
    if status == "ok" and len(est.segments):
        findings.extend(_segment_findings(est.segments, p, noun))
    if status == "ok" and len(est.comparison):
        findings.extend(_comparison_findings(est.comparison, p))
    keys = list(frames.keys)
    extra = ["segment"] if p.by is not None else []
    users = units[
        [*keys, "depth", *[f"ts_{j}" for j in range(1, len(p.steps) + 1)], "incomplete", *extra]
    ]
    if p.by is not None:
        users = users.rename(columns={"segment": p.by})
    tables = {"users": users.reset_index(drop=True)}
    figures = [
        FigureSpec(
            kind="bar",
            x="name",
            y="complete",
            title=f"{noun.capitalize()}s reaching each step (complete windows)",
            labels={"name": "Step", "complete": f"{noun.capitalize()}s"},
            value_format=",d",
        )
    ]
    if len(est.segments):
        tables["segments"] = est.segments
        figures.append(
            FigureSpec(
                kind="bar",
                table="segments",
                x="name",
                y="conversion_from_first",
                color=p.by,
                title=f"Conversion from the first step by {p.by}",
                labels={"name": "Step", "conversion_from_first": "Conversion from step 1"},
                value_format=".1%",
            )
        )
    if len(est.trend):
        tables["trend"] = est.trend
        figures.append(
            FigureSpec(
                kind="line",
                table="trend",
                x="period",
                y="conversion_from_first",
                color="name",
                title=f"Conversion from the first step by {p.trend} of entry "
                f"({p.confidence:.0%} Wilson bands)",
                band=("conversion_from_first_low", "conversion_from_first_high"),
                labels={
                    "period": f"{(p.trend or '').capitalize()} of step 1",
                    "conversion_from_first": "Conversion from step 1",
                    "name": "Step",
                },
                value_format=".1%",
            )
        )
    if len(est.comparison):
        tables["comparison"] = est.comparison
    if len(est.times):
        tables["time_to_convert"] = est.times
        figures.append(
            FigureSpec(
                kind="bar",
                table="time_to_convert",
                x="bin",
                y="units",
                color="span",
                title="Time to convert, from the previous step and in total",
                labels={"bin": "Time taken", "units": f"{noun.capitalize()}s", "span": "Steps"},
                value_format=",d",
            )
        )
    return Result(
        name="funnel",
        title="Funnel: " + " → ".join(step_label(s) for s in p.steps),
        table=table,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        detail=("users",),
        figures=tuple(figures),
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


def _segment_findings(segments: pd.DataFrame, p: Params, noun: str) -> list[Finding]:
    """The segments whose step conversion is below the rest's, largest gaps first."""
    # The segments that struggle: significantly below the rest (the mirror image of a
    # segment above the rest says the same thing).
    flagged = segments[segments["significant"].fillna(False).astype(bool) & (segments["gap"] < 0)]
    flagged = flagged.reindex(flagged["gap"].abs().sort_values(ascending=False).index)
    found = []
    for _, row in flagged.head(3).iterrows():
        j = int(row["step"])
        before = step_label(p.steps[j - 2])
        lost = 1 - row["conversion_from_previous"]
        rest_lost = 1 - row["rest_conversion_from_previous"]
        # The gap's size, with its interval on the same side (significant: it excludes 0).
        low, high = sorted(abs(float(row[c])) for c in ("gap_low", "gap_high"))
        found.append(
            Finding(
                "segment_gap",
                f"With {p.by} = {row[p.by or 'segment']}, {lost:.0%} of {noun}s who reach "
                f"{before} never reach {row['name']}, against {rest_lost:.0%} for the rest: "
                f"a gap of {abs(row['gap']) * 100:.1f} points in conversion "
                f"({p.confidence:.0%} CI {low * 100:.1f}–{high * 100:.1f}), "
                f"significant after Holm's correction (adjusted {p_phrase(row['p_adjusted'])}).",
                numbers={
                    "step": j,
                    "gap": float(row["gap"]),
                    "gap_low": float(row["gap_low"]),
                    "gap_high": float(row["gap_high"]),
                    "p_adjusted": float(row["p_adjusted"]),
                },
            )
        )
    return found


def _comparison_findings(comparison: pd.DataFrame, p: Params) -> list[Finding]:
    """The overall conversion of the second period against the first."""
    assert p.compare is not None
    last = comparison.iloc[-1]
    if math.isnan(last["difference"]):
        return []
    (a0, a1), (b0, b1) = p.compare
    moved = "rose" if last["difference"] > 0 else "fell"
    significant = last["p_value"] < 1 - p.confidence
    return [
        Finding(
            "period_comparison",
            f"Conversion to {last['name']} {moved} from {last['conversion_a']:.1%} "
            f"({a0}–{a1}) to {last['conversion_b']:.1%} ({b0}–{b1}): "
            f"{abs(last['difference']) * 100:.1f} points ({p.confidence:.0%} CI "
            f"{last['difference_low'] * 100:+.1f} to {last['difference_high'] * 100:+.1f}); "
            + ("a significant change" if significant else "not significant")
            + f" (p = {last['p_value']:.2g}).",
            "warning" if significant and last["difference"] < 0 else "info",
            {"difference": float(last["difference"]), "p_value": float(last["p_value"])},
        )
    ]


FUNNEL = register(
    Analysis(
        name="funnel",
        title="Funnel",
        group="funnels",
        needs=("events",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    funnel,
)

__all__ = [
    "ECOMMERCE_STEPS",
    "check_distinct_steps",
    "data_end",
    "default_steps",
    "funnel",
    "funnel_options",
    "parse_exclusions",
    "parse_steps",
    "parse_window",
    "step_label",
    "unit_events",
]
