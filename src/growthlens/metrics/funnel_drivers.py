"""What explains drop-off at a funnel step: per-feature 2 × 2 counts, in the engine.

The compared units are those whose counted chain (``metrics.funnel.unit_chains``) reached
step ``at − 1`` with a complete window (their step-1 time at least one window before the
data ends, as the funnel's rates use): **converted** when the chain reached step ``at``,
**dropped** otherwise. A feature is

- an **event**: an event name other than the funnel's own step events, done by the unit
  in its *observation period*: from the chain's start (``ts_1``; unordered mode: the
  earliest of the chosen step times) up to its step-``at`` time, exclusive (unordered: the
  latest of steps 1..``at``), for converters — what happened before converting, never its
  consequences; and up to the start plus the window, inclusive, for droppers — the whole
  time they had to convert;
- a **property**: ``column = value`` of the step-1 event of the counted chain, for each
  extra column of the events (value as text; several step-1 rows in that second → the
  smallest value as text, null and blank values ignored; none left → ``(unknown)``), as
  the funnel's breakdowns read them;
- a **customer** attribute: ``column = value`` from the ``customers`` table, when present
  (users without a row → ``(unknown)``).

Presence is computed per (unit, feature) in the engine and aggregated to per-feature
counts (units with it, converters with it); only features with at least ``min_units``
units with it and ``min_units`` without it come back, with the count of the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import UNKNOWN
from growthlens.engine import reused
from growthlens.metrics.fetch import fetch
from growthlens.metrics.funnel import Exclusion, StepRule, unit_chains

EVENT, PROPERTY, CUSTOMER = "event", "property", "customer"
"""Kinds of feature."""

RESERVED = ("user_id", "ts", "event", "session_id")
"""Event columns that are not properties."""

FEATURE_COLUMNS = ("kind", "feature", "value", "units_with", "converted_with")


@dataclass(frozen=True)
class DriverCounts:
    """Per-feature counts of the compared units at one step.

    Attributes:
        at: the step whose conversion is explained (2..k).
        reached: complete units reaching each step 1..k (index 0 = step 1).
        converted: compared units that reached step ``at``.
        dropped: compared units that reached step ``at − 1`` only.
        features: one row per tested feature: ``kind``, ``feature`` (event name or
            column), ``value`` (property value as text; None for events), ``units_with``,
            ``converted_with``.
        untested: features seen but left out (fewer than ``min_units`` units with them,
            or fewer than ``min_units`` without).
    """

    at: int
    reached: tuple[int, ...]
    converted: int
    dropped: int
    features: pd.DataFrame
    untested: int


def largest_drop(reached: Sequence[int]) -> int:
    """The step (2..k) losing the most units from the previous one; ties: the earlier.

    >>> largest_drop([100, 90, 80, 10])
    4
    >>> largest_drop([100, 60, 20, 20])
    2
    """
    drops = [reached[j - 2] - reached[j - 1] for j in range(2, len(reached) + 1)]
    return 2 + drops.index(max(drops))


def driver_counts(
    ds: Dataset,
    steps: Sequence[StepRule],
    *,
    at: int | None,
    window_s: int,
    order: str,
    keys: Sequence[str],
    end: datetime | None,
    min_units: int,
    exclusions: Sequence[Exclusion] = (),
    events: ir.Table | None = None,
) -> DriverCounts:
    """Per-feature counts of converters and droppers at step ``at`` (module docstring).

    Args:
        ds: a Dataset with ``events`` (and optionally ``customers``).
        steps: the funnel's steps.
        at: the step to explain (2..k); None → :func:`largest_drop` of the complete units.
        window_s: the conversion window in seconds.
        order: ``ordered``, ``strict`` or ``unordered``.
        keys: the unit's columns (``user_id`` [, ``session_id``]).
        end: when the data ends (exclusive); a unit is complete when its step-1 time is at
            most ``end − window``. None: every unit is complete.
        min_units: a feature is tested when at least this many compared units have it and
            at least this many do not.
        exclusions: the funnel's exclusion steps (ordered mode), passed to ``unit_chains``.
        events: the events to read (e.g. with derived session ids); the dataset's if None.
    """
    if events is None:
        events = ds.table("events")
    k = len(steps)
    chains = unit_chains(
        ds, steps, window_s=window_s, order=order, keys=keys, exclusions=exclusions, events=events
    )
    if end is not None:
        chains = chains.filter(chains.ts_1 <= ibis.literal(end - timedelta(seconds=window_s)))
    with reused(chains, ds.backend) as complete:
        row = fetch(
            complete.aggregate(
                **{f"r{j}": (complete.depth >= j).cast("int64").sum() for j in range(1, k + 1)}
            )
        ).iloc[0]
        reached = tuple(0 if pd.isna(row[f"r{j}"]) else int(row[f"r{j}"]) for j in range(1, k + 1))
        step = largest_drop(reached) if at is None else at
        population = _population(complete, step, window_s, order, keys)
        converted, dropped = reached[step - 1], reached[step - 2] - reached[step - 1]
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in FEATURE_COLUMNS})
        if converted + dropped == 0:
            return DriverCounts(step, reached, converted, dropped, empty, 0)
        parts = [_event_features(events, population, steps, keys)]
        parts += _property_features(events, population, steps[0], keys)
        if ds.has("customers"):
            parts += _customer_features(ds, population)
        features = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
        total = converted + dropped
        with reused(features, ds.backend) as cached:
            tested = (cached.units_with >= min_units) & (cached.units_with <= total - min_units)
            kept = fetch(cached.filter(tested))
            seen = int(fetch(cached.aggregate(n=cached.count())).iloc[0]["n"])
    kept = kept.astype({"units_with": "int64", "converted_with": "int64"})
    kept = kept.sort_values(["kind", "feature", "value"], na_position="first", ignore_index=True)
    return DriverCounts(step, reached, converted, dropped, kept, seen - len(kept))


def _population(
    complete: ir.Table, at: int, window_s: int, order: str, keys: Sequence[str]
) -> ir.Table:
    """The compared units: keys, ``_conv``, ``_ts1`` and their observation period."""
    units = complete.filter(complete.depth >= at - 1)
    conv = units.depth >= at
    if order == "unordered":
        # Steps come in any order: the period spans the chosen times themselves.
        start_conv = ibis.least(*[units[f"ts_{j}"] for j in range(1, at + 1)])
        start_drop = ibis.least(*[units[f"ts_{j}"] for j in range(1, at)]) if at > 2 else units.ts_1
        stop_conv = ibis.greatest(*[units[f"ts_{j}"] for j in range(1, at + 1)])
    else:
        start_conv = start_drop = units.ts_1
        stop_conv = units[f"ts_{at}"]
    start = ibis.ifelse(conv, start_conv, start_drop)
    stop = ibis.ifelse(conv, stop_conv, start_drop + ibis.interval(seconds=window_s))
    return units.select(*keys, _conv=conv, _ts1=units.ts_1, _start=start, _stop=stop)


def _counts(table: ir.Table, kind: str, feature: ir.Value, value: ir.Value) -> ir.Table:
    """Per (feature, value): units with it and converters among them (one row per unit)."""
    grouped = table.group_by(_feature=feature, _value=value).aggregate(
        units_with=table.count().cast("int64"),
        converted_with=table._conv.cast("int64").sum(),
    )
    return grouped.select(
        kind=ibis.literal(kind),
        feature=grouped._feature.cast("string"),
        value=grouped._value.cast("string"),
        units_with=grouped.units_with,
        converted_with=grouped.converted_with.cast("int64"),
    )


def _unit_join(left: ir.Table, population: ir.Table, keys: Sequence[str]) -> list[ir.Value]:
    return [left[c] == population[f"_p_{c}"] for c in keys]


def _prefixed(population: ir.Table, keys: Sequence[str]) -> ir.Table:
    return population.select(
        *[population[c].name(f"_p_{c}") for c in keys],
        "_conv",
        "_ts1",
        "_start",
        "_stop",
    )


def _event_features(
    events: ir.Table, population: ir.Table, steps: Sequence[StepRule], keys: Sequence[str]
) -> ir.Table:
    names = sorted({s.event for s in steps})
    other = events.select(*keys, ts=events.ts, _event=events.event.cast("string"))
    other = other.filter(other.ts.notnull() & other._event.notnull() & ~other._event.isin(names))
    pop = _prefixed(population, keys)
    within = ibis.ifelse(pop._conv, other.ts < pop._stop, other.ts <= pop._stop)
    joined = other.inner_join(pop, [*_unit_join(other, pop, keys), other.ts >= pop._start, within])
    presence = joined.select(*keys, "_event", "_conv").distinct()
    return _counts(presence, EVENT, presence._event, ibis.null("string"))


def _text(value: ir.Value) -> ir.StringValue:
    """A value as text; blank → null (``(unknown)`` once no row of the unit has a value)."""
    text = value.cast("string")
    return ibis.ifelse(text.strip() == "", ibis.null("string"), text)


def _property_features(
    events: ir.Table, population: ir.Table, first: StepRule, keys: Sequence[str]
) -> list[ir.Table]:
    columns = [c for c in events.columns if c not in RESERVED]
    if not columns:
        return []
    rows = events.filter(first.matches(events))
    rows = rows.select(
        *keys, ts=rows.ts, **{f"_v{i}": _text(rows[c]) for i, c in enumerate(columns)}
    )
    pop = _prefixed(population, keys)
    joined = rows.inner_join(pop, [*_unit_join(rows, pop, keys), rows.ts == pop._ts1])
    # Several step-1 rows in the chain's first second: the smallest value as text (as the
    # funnel's breakdowns read them: ``metrics.funnel.with_segment``).
    per_unit = joined.group_by(*keys, "_conv").aggregate(
        **{f"_v{i}": joined[f"_v{i}"].min().fill_null(UNKNOWN) for i in range(len(columns))}
    )
    return [
        _counts(per_unit, PROPERTY, ibis.literal(c), per_unit[f"_v{i}"])
        for i, c in enumerate(columns)
    ]


def _customer_features(ds: Dataset, population: ir.Table) -> list[ir.Table]:
    customers = ds.table("customers")
    columns = [c for c in customers.columns if c != "user_id"]
    if not columns:
        return []
    # One row per user (the table's key; the smallest value as text should it repeat).
    users = customers.group_by(_c_user=customers.user_id).aggregate(
        **{f"_v{i}": _text(customers[c]).min() for i, c in enumerate(columns)}
    )
    joined = population.left_join(users, population.user_id == users._c_user)
    joined = joined.select(
        "_conv", **{f"_v{i}": joined[f"_v{i}"].fill_null(UNKNOWN) for i in range(len(columns))}
    )
    return [
        _counts(joined, CUSTOMER, ibis.literal(c), joined[f"_v{i}"]) for i, c in enumerate(columns)
    ]


__all__ = ["CUSTOMER", "EVENT", "PROPERTY", "DriverCounts", "driver_counts", "largest_drop"]
