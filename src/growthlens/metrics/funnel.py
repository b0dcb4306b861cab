"""Funnel depth and counted chain per unit, in the engine (docs/metrics.md, "Funnels").

Each event row gets a flag per step. No row matches two steps (the analysis checks), so
steps at the same time always use different rows. Strict and unordered mode (and ordered
mode with exclusions) first reduce the log to **marks**: one row per unit (user, or user
and session) and distinct timestamp, with the flags ("a row matching step j is at this
time") and the time's position ``idx`` in the unit's sequence of distinct times.

- ``ordered``: from each step-1 time, the earliest chain is greedy — step j+1 at the first
  time at or after step j's that has a step-(j+1) row (a window "next occurrence" per step,
  over the step rows themselves with a range frame), within the window after step 1. Any
  later choice can only reach as far, so the greedy chain has the start's depth and the
  earliest times.
- ``strict``: the marks hold every event of the unit; step j+1 must be at step j's time or
  at the unit's very next time (anything later has an event strictly between). From each
  start, the reachable (step, offset) states are a small boolean recursion over the next
  ``k`` times; the counted chain stays at a time whenever that still reaches the depth.
- ``unordered``: from each time ``a``, the steps present in [a, a + window] (a range
  window); the depth is the longest prefix of steps all present, each step at its earliest
  time there.

Per unit the start with the greatest depth and then the earliest step-1 time gives the
counted chain. Only per-unit rows come back (``unit_chains``), or per-step counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from growthlens.data.dataset import Dataset
from growthlens.derive.events import EVENT_USERS
from growthlens.engine import capabilities


@dataclass(frozen=True)
class StepRule:
    """A funnel step: an event name and property values a row must all have."""

    event: str
    where: tuple[tuple[str, str], ...] = ()

    def matches(self, events: ir.Table) -> ir.BooleanValue:
        """Whether a row of ``events`` is this step (properties compared as text)."""
        condition = events.event.cast("string") == self.event
        for column, value in self.where:
            condition &= events[column].cast("string") == value
        return condition


@dataclass(frozen=True)
class Exclusion:
    """An excluded event and the step pairs it voids: ``j`` is between steps j and j + 1."""

    rule: StepRule
    pairs: tuple[int, ...]


def present_events(ds: Dataset, names: Sequence[str]) -> set[str]:
    """Which of ``names`` occur as events."""
    counts = ds.derived(EVENT_USERS())
    found = counts.filter(counts.event.isin(list(names))).select("event")
    return set(found.to_pyarrow().column(0).to_pylist())


def overlapping_steps(ds: Dataset, steps: Sequence[StepRule]) -> list[tuple[int, int]]:
    """Pairs of steps (1-based) that some event row matches both of."""
    events = ds.table("events")
    # A row has one event name: only steps on the same event can share a row, so the log
    # is scanned only when a funnel repeats an event (with other properties, or not).
    pairs = [
        (i, j)
        for i in range(len(steps))
        for j in range(i + 1, len(steps))
        if steps[i].event == steps[j].event
    ]
    if not pairs:
        return []
    counts = events.aggregate(
        **{
            f"p{i}_{j}": (steps[i].matches(events) & steps[j].matches(events)).sum()
            for i, j in pairs
        }
    )
    row = counts.to_pyarrow().to_pylist()[0]
    return [(i + 1, j + 1) for i, j in pairs if row[f"p{i}_{j}"]]


def unit_chains(
    ds: Dataset,
    steps: Sequence[StepRule],
    *,
    window_s: int,
    order: str,
    keys: Sequence[str],
    exclusions: Sequence[Exclusion] = (),
    events: ir.Table | None = None,
    segment: str | None = None,
) -> ir.Table:
    """One row per unit with a step-1 event: its depth and counted chain's step times.

    Columns: ``keys``, ``depth`` and ``ts_1`` … ``ts_k`` (null beyond the depth).
    ``exclusions`` (ordered mode) void a chain between two consecutive steps with an
    excluded event strictly between them; ``events`` replaces the dataset's events (e.g.
    with derived session ids). ``segment`` (an events column; ordered and strict without
    exclusions, see :func:`segment_in_chains`) adds ``segment``: its value on the counted
    chain's step-1 event, as :func:`with_segment` reads it, carried through the chains
    instead of joined back.
    """
    if segment is not None and not segment_in_chains(order, exclusions):
        raise ValueError("segment is read in the chains only for ordered/strict, no exclusions")
    if events is None:
        events = ds.table("events")
    k = len(steps)
    flags = {f"h{j}": steps[j - 1].matches(events) for j in range(1, k + 1)}
    # x<j>: an event that voids a chain between steps j and j + 1.
    excluded = {
        f"x{j}": ibis.or_(*[e.rule.matches(events) for e in exclusions if j in e.pairs])
        for j in range(1, k)
        if any(j in e.pairs for e in exclusions)
    }
    values = {} if segment is None else {"_sv": _text(events[segment])}
    base = events.select(*keys, ts=events.ts, **flags, **excluded, **values)
    if order != "strict":  # strict needs every event: any one can break a chain
        base = base.filter(ibis.or_(*[base[c] for c in [*flags, *excluded]]))
    base = base.filter(base.ts.notnull())
    if order == "ordered" and not excluded:
        forward = (
            _ordered_forward(base, k, window_s, keys, segment)
            if capabilities(ds.backend).asof_joins
            else None
        )
        if forward is not None:
            return forward
        per_start = _ordered(_ordered_rows(base, list(flags), keys, segment), k, window_s, keys)
    else:
        # _v1: the smallest value among the step-1 rows at this time (segment only).
        first_value = (
            {}
            if segment is None
            else {"_v1": ibis.ifelse(base.h1, base._sv, ibis.null("string")).min()}
        )
        marks = base.group_by(*keys, "ts").aggregate(
            **{c: base[c].cast("int8").max() == 1 for c in [*flags, *excluded]}, **first_value
        )
        marks = marks.mutate(
            sec=marks.ts.epoch_seconds(),
            idx=ibis.row_number().over(ibis.window(group_by=list(keys), order_by=marks.ts)),
        )
        if order == "ordered":
            return _ordered_excluding(marks, k, window_s, keys, excluded)
        if order == "strict":
            per_start = _strict(marks, k, window_s, keys, carry=segment is not None)
        else:
            per_start = _unordered(marks, k, window_s, keys)
    # The counted chain: the deepest start, then the earliest step-1 time, then (unordered:
    # several windows may share their step-1 time) the earliest start, whose chain is
    # then the earliest at every step.
    if order == "unordered":
        rank = ibis.row_number().over(
            ibis.window(
                group_by=list(keys),
                order_by=[per_start.depth.desc(), per_start.ts_1.asc(), per_start._start.asc()],
            )
        )
        best = per_start.mutate(_rank=rank)
        best = best.filter(best._rank == 0).drop("_rank")
    else:
        # One start per distinct time here: a single key orders them (deepest first, then
        # earliest), and an aggregation picks the best start's chain — cheaper than ranking
        # every start of the unit.
        key = _deepest_earliest(per_start)
        ranked = per_start.mutate(_key=key)
        carried = (
            {}
            if segment is None
            else {"segment": ranked._v1.fill_null(UNKNOWN).argmax(ranked._key)}
        )
        best = ranked.group_by(*keys).aggregate(
            depth=ranked.depth.max(),
            **{f"ts_{j}": ranked[f"ts_{j}"].argmax(ranked._key) for j in range(1, k + 1)},
            **carried,
        )
    return _chains(best, keys, k, segment=segment is not None)


def _deepest_earliest(per_start: ir.Table) -> ir.IntegerValue:
    """One integer ordering starts: deeper first, then the earlier step-1 second."""
    return per_start.depth.cast("int64") * (1 << 40) - per_start.ts_1.epoch_seconds()


def _chains(best: ir.Table, keys: Sequence[str], k: int, *, segment: bool) -> ir.Table:
    """The per-unit columns :func:`unit_chains` returns, step times null beyond the depth."""
    return best.select(
        *keys,
        "depth",
        *[
            ibis.ifelse(best.depth >= j, best[f"ts_{j}"], ibis.null("timestamp")).name(f"ts_{j}")
            for j in range(1, k + 1)
        ],
        *(["segment"] if segment else []),
    )


def segment_in_chains(order: str, exclusions: Sequence[Exclusion]) -> bool:
    """Whether :func:`unit_chains` can carry a step-1 segment value (else: :func:`with_segment`)."""
    return order in ("ordered", "strict") and not exclusions


def _join_at(
    left: ir.Table,
    marks: ir.Table,
    keys: Sequence[str],
    at: ir.Value,
    suffix: str,
    columns: Sequence[str],
) -> ir.Table:
    """``left`` with the marks row of the same unit at position ``at``.

    The row's ``columns`` come renamed ``<column><suffix>`` (null without such a position).
    """
    right = marks.select(
        *[marks[c].name(f"_k_{c}") for c in keys],
        _k_idx=marks.idx,
        **{f"{c}{suffix}": marks[c] for c in columns},
    )
    left = left.mutate(_at=at)
    predicates = [left[c] == right[f"_k_{c}"] for c in keys]
    predicates.append(left._at == right._k_idx)
    joined = left.left_join(right, predicates)
    return joined.drop("_at", "_k_idx", *[f"_k_{c}" for c in keys])


def _within(ts: ir.Value, start: ir.Value, window_s: int) -> ir.BooleanValue:
    """``ts`` is set and at most the window after ``start`` (exactly the window counts)."""
    return (ts.notnull() & (ts <= start + ibis.interval(seconds=window_s))).fill_null(False)


def _ordered_rows(
    base: ir.Table, flags: Sequence[str], keys: Sequence[str], segment: str | None
) -> ir.Table:
    """The step rows as :func:`_ordered` reads them.

    With a segment, one step-1 row per unit and time, holding the smallest value (``_v1``)
    of the step-1 rows at that time. No grouping by time otherwise: :func:`_ordered`'s
    range frames take the rows of one time together, and the starts at one time have the
    same chain.
    """
    if segment is None:
        return base.select(*keys, "ts", *flags)
    starts = base.filter(base.h1)
    firsts = starts.group_by(*keys, "ts").aggregate(_v1=starts._sv.min())
    firsts = firsts.select(
        *keys, "ts", **{f: ibis.literal(f == "h1") for f in flags}, _v1=firsts._v1
    )
    rest = base.filter(~base.h1).select(*keys, "ts", *flags, _v1=ibis.null("string"))
    return rest.union(firsts)


def _ordered(rows: ir.Table, k: int, window_s: int, keys: Sequence[str]) -> ir.Table:
    # a<j>_<m>: with step j at this time, the time of step m on the greedy chain from it
    # (step j + 1 at the next time holding it, and so on). The greedy chain from a later
    # time is never earlier, so "a<j+1>_<m> at the next step-(j+1) time" is the smallest
    # a<j+1>_<m> among the step-(j+1) times from here on: one window per step, no joins.
    # Level j reads only the rows of steps j and j + 1 (the step-(j+1) rows carrying
    # level j + 1's columns, unioned with the other step-j rows), so each window sorts a
    # fraction of the log instead of all of it. The frame is a range: the rows at the
    # same time are all "from here on" (a step may share the previous step's time; no
    # row is two steps).
    after = ibis.window(group_by=list(keys), order_by="ts", range=(0, None))
    null_ts = ibis.null("timestamp")
    carry = "_v1" in rows.columns
    carried = [*keys, "ts", *[f"h{j}" for j in range(1, k + 1)], *(["_v1"] if carry else [])]
    level = rows.filter(rows[f"h{k - 1}"] | rows[f"h{k}"]).select(*carried)
    level = level.mutate(
        **{f"a{k - 1}_{k}": ibis.ifelse(level[f"h{k}"], level.ts, null_ts).min().over(after)}
    )
    for j in range(k - 2, 0, -1):
        # Rows of step j + 1 with their chain times (they may be step j too), and the
        # step-j rows that are not step j + 1, with no chain times of their own.
        before = [f"a{j + 1}_{m}" for m in range(j + 2, k + 1)]
        providers = level.filter(level[f"h{j + 1}"]).select(*carried, *before)
        others = rows.filter(rows[f"h{j}"] & ~rows[f"h{j + 1}"]).select(
            *carried, **{c: null_ts for c in before}
        )
        level = providers.union(others)
        step = level[f"h{j + 1}"]
        found = {
            f"a{j}_{m}": ibis.ifelse(
                step, level.ts if m == j + 1 else level[f"a{j + 1}_{m}"], null_ts
            )
            .min()
            .over(after)
            for m in range(j + 1, k + 1)
        }
        level = level.mutate(**found).drop(*before)
    starts = level.filter(level.h1)
    times = {f"ts_{m}": starts[f"a1_{m}"] for m in range(2, k + 1)}
    # Steps along a greedy chain never go back in time: the ones within the window are a
    # prefix, and the depth counts them.
    depth = sum(
        (_within(starts[f"a1_{m}"], starts.ts, window_s).cast("int32") for m in range(2, k + 1)),
        ibis.literal(1),
    )
    return starts.select(
        *keys,
        *(["_v1"] if carry else []),
        depth=depth,
        ts_1=starts.ts,
        **times,
        _start=starts.ts,
    )


def _ordered_forward(
    base: ir.Table,
    k: int,
    window_s: int,
    keys: Sequence[str],
    segment: str | None,
) -> ir.Table | None:
    """Ordered chains walked forward with one as-of join per step: one row per unit.

    The same greedy chains as :func:`_ordered` (step j + 1 at the first step-(j+1) row at
    or after step j), found from every step-1 row by an as-of join on the unit and time,
    which merges sorted sides instead of aggregating over a window frame. A start leaves
    the walk at the first step it cannot reach within the window, so each join reads only
    the starts still going. Step-1 rows at one time are not grouped (the costliest part of
    the window plan at scale): they have the same chain.

    The counted chain is the deepest, then the earliest: the best of the starts that got
    past step 1 (few), else the unit's earliest start, a plain minimum over all of them
    (most starts go no further; ranking them all with their step times cost more than the
    walk). A segment rides along as an integer code, its values' rank as text, packed into
    the ranking keys so that the smallest value of the chain's first second wins (null
    last), as the window plan reads it; ``None`` (use :func:`_ordered`) when the codes and
    the step-1 times' span do not fit 62 bits.
    """
    # One narrow copy of the step rows (a step number instead of k flags), stored: every
    # join reads it, and a shared expression would be stored by DuckDB anyway, wider.
    step = ibis.cases(*[(base[f"h{j}"], j) for j in range(1, k + 1)]).cast("int8")
    value = {} if segment is None else {"_sv": ibis.ifelse(base.h1, base._sv, ibis.null("string"))}
    rows = base.select(*keys, "ts", _step=step, **value).cache()

    def step_rows(j: int) -> ir.Table:
        # A fresh reference per use: a shared subexpression would be stored as a CTE.
        view = rows.view()
        return view.filter(view._step == j)

    codes = _segment_codes(step_rows(1), k) if segment is not None else None
    if segment is not None and codes is None:
        return None

    def starts() -> ir.Table:
        # keys, ts_1 and (segment) _c, the value's code; null: the largest code.
        found = step_rows(1)
        if codes is None:
            return found.select(*keys, ts_1=found.ts)
        names = codes.table.view()
        coded = found.left_join(names, found._sv == names._seg_value)
        return coded.select(*keys, ts_1=coded.ts, _c=coded._seg_code.fill_null(codes.null))

    first = starts()
    if codes is None:
        first = first.group_by(*keys).aggregate(ts_1=first.ts_1.min())
    else:
        # The earliest second, then the smallest code in it.
        first = first.group_by(*keys).aggregate(
            ts_1=first.ts_1.min(), _k=(codes.since(first.ts_1) * codes.scale + first._c).min()
        )
        first = first.mutate(_c=first._k % codes.scale).drop("_k")
    later = [f"ts_{m}" for m in range(2, k + 1)]
    best: ir.Table | None = None
    if k >= 2:
        null_ts = ibis.null(rows.ts.type())

        def padded(table: ir.Table, depth: int) -> ir.Table:
            # Every level with the same columns, in one order, for the union.
            return table.select(
                *keys,
                "ts_1",
                *[table[c] if c in table.columns else null_ts.name(c) for c in later],
                *(["_c"] if codes is not None else []),
                depth=ibis.literal(depth, type="int32"),
            )

        # Only starts with a step-2 row at or after them can go on: most step-1 rows (page
        # views) have none, and a hash join sheds them before the sort of the first as-of
        # join (50M events: 27.8M starts, 6.2M go on).
        seconds = step_rows(2)
        last = seconds.group_by(**{f"_l_{c}": seconds[c] for c in keys}).aggregate(
            _last=seconds.ts.max()
        )
        going = starts()
        moving = going.inner_join(
            last, [*[going[c] == last[f"_l_{c}"] for c in keys], going.ts_1 <= last._last]
        )
        level = moving.select(*[going[c] for c in going.columns])
        levels = []
        for j in range(2, k + 1):
            right = step_rows(j)
            right = right.select(**{f"_r_{c}": right[c] for c in keys}, _r_ts=right.ts)
            level = level.view()
            joined = level.asof_join(
                right,
                on=level[f"ts_{j - 1}"] <= right._r_ts,
                predicates=[level[c] == right[f"_r_{c}"] for c in keys],
            )
            level = joined.select(*[level[c] for c in level.columns], **{f"ts_{j}": right._r_ts})
            level = level.filter(_within(level[f"ts_{j}"], level.ts_1, window_s))
            levels.append(padded(level, j))
        per_start = ibis.union(*levels, distinct=False)
        if codes is None:
            key = _deepest_earliest(per_start)
        else:
            # Deeper, then earlier, then a smaller code: one integer, larger is better.
            since = codes.since(per_start.ts_1)
            key = (
                per_start.depth.cast("int64") * codes.depth_scale
                + (codes.span - 1 - since) * codes.scale
                + (codes.scale - 1 - per_start._c)
            )
        ranked = per_start.mutate(_key=key)
        best = ranked.group_by(*keys).aggregate(
            depth=ranked.depth.max(),
            **{f"ts_{j}": ranked[f"ts_{j}"].argmax(ranked._key) for j in range(1, k + 1)},
            **({} if codes is None else {"_c": ranked._c.argmax(ranked._key)}),
        )
    if best is None:
        chains = first.mutate(depth=ibis.literal(1, type="int32"))
    else:
        joined = first.left_join(best, [first[c] == best[c] for c in keys])
        chains = joined.select(
            *[first[c] for c in keys],
            depth=best.depth.fill_null(1),
            ts_1=ibis.coalesce(best.ts_1, first.ts_1),
            **{c: best[c] for c in later},
            **({} if codes is None else {"_c": ibis.coalesce(best._c, first._c)}),
        )
    if codes is not None:
        names = codes.table.view()
        chains = chains.view()
        named = chains.left_join(names, chains._c == names._seg_code)
        chains = named.select(
            *[named[c] for c in chains.columns if c != "_c"],
            segment=named._seg_value.fill_null(UNKNOWN),
        )
    return _chains(chains, keys, k, segment=segment is not None)


@dataclass(frozen=True)
class _Codes:
    """A segment's step-1 values numbered in text order, and the packing of ranking keys.

    For :func:`_ordered_forward`: depth, then seconds since the first start, then code.
    """

    table: ir.Table  # _seg_value, _seg_code (0 …), stored
    first_s: int  # the first step-1 second
    span: int  # 2 ** bits for the seconds since first_s
    scale: int  # 2 ** bits for a code; null values take the largest, scale - 1
    depth_scale: int  # span * scale

    @property
    def null(self) -> int:
        return self.scale - 1

    def since(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return ts.epoch_seconds().cast("int64") - self.first_s


def _segment_codes(starts: ir.Table, k: int) -> _Codes | None:
    """The codes of the segment values on step-1 rows; ``None`` if keys would not fit."""
    present = starts.filter(starts._sv.notnull()).select("_sv").distinct()
    numbered = present.select(
        _seg_value=present._sv,
        _seg_code=ibis.dense_rank().over(order_by=present._sv).cast("int64"),
    ).cache()
    span = starts.aggregate(lo=starts.ts.epoch_seconds().min(), hi=starts.ts.epoch_seconds().max())
    bounds = span.to_pyarrow().to_pylist()[0]
    if bounds["lo"] is None:
        return None
    first_s = int(bounds["lo"])
    time_bits = (int(bounds["hi"]) - first_s + 1).bit_length()
    # Sign bit free; the depth, the time since the first start, then the value's code
    # (one more than the values, for null).
    code_bits = (int(numbered.count().to_pyarrow().as_py()) + 1).bit_length()
    if k.bit_length() + time_bits + code_bits > 62:
        return None
    return _Codes(numbered, first_s, 1 << time_bits, 1 << code_bits, 1 << (time_bits + code_bits))


def _strict(
    marks: ir.Table, k: int, window_s: int, keys: Sequence[str], *, carry: bool = False
) -> ir.Table:
    flags = [f"h{j}" for j in range(1, k + 1)]
    starts = marks.filter(marks.h1)
    row = starts.select(
        *keys,
        *(["_v1"] if carry else []),
        idx=starts.idx,
        ts_at0=starts.ts,
        **{f"{h}_at0": starts[h] for h in flags},
    )
    # The unit's next k − 1 times (offsets 1 … k − 1) with their flags; named ``…_at<o>``
    # so no offset column shares a name with an output step column ``ts_<j>``.
    for o in range(1, k):
        row = _join_at(row, marks, keys, row.idx + o, f"_at{o}", ["ts", *flags])
    # Which steps can sit at which offsets, as one integer per start: a step j at offset o
    # (o < j) needs a step-j row at that time, within the window.
    slots = strict_slots(k)
    code: ir.Value = ibis.literal(0, type="int64")
    for bit, (j, o) in enumerate(slots):
        fits = row[f"h{j}_at{o}"].fill_null(False) & _within(row[f"ts_at{o}"], row.ts_at0, window_s)
        code = code + fits.cast("int64") * (1 << bit)
    row = row.mutate(_code=code)
    # The recursion depends on the code alone: solved once per code that occurs (at most
    # 2 ** len(slots), in practice far fewer), then joined back.
    codes = row.select("_code").distinct().to_pyarrow().column(0).to_pylist()
    solved = [strict_path(int(c), k) for c in codes]
    lookup = ibis.memtable(
        {
            "_lookup_code": [int(c) for c in codes],
            "depth": [d for d, _ in solved],
            **{
                # −1: no such step (not null: a memtable's nulls do not survive on Spark).
                f"_off_{j}": [path[j - 2] if len(path) > j - 2 else -1 for _, path in solved]
                for j in range(2, k + 1)
            },
        },
        schema={
            "_lookup_code": "int64",
            "depth": "int32",
            **{f"_off_{j}": "int32" for j in range(2, k + 1)},
        },
    )
    row = row.inner_join(lookup, row._code == lookup._lookup_code)
    times = {
        f"ts_{j}": ibis.cases(
            *[(row[f"_off_{j}"] == o, row[f"ts_at{o}"]) for o in range(j)],
            else_=ibis.null("timestamp"),
        )
        for j in range(2, k + 1)
    }
    return row.select(
        *keys,
        *(["_v1"] if carry else []),
        "depth",
        ts_1=row.ts_at0,
        **times,
        _start=row.ts_at0,
    )


def strict_slots(k: int) -> list[tuple[int, int]]:
    """The (step, offset) pairs a strict chain of ``k`` steps can use: offset < step."""
    return [(j, o) for j in range(2, k + 1) for o in range(j)]


def strict_path(code: int, k: int) -> tuple[int, list[int]]:
    """Depth and the earliest chain's offsets (steps 2 … depth) for one start's code.

    From step j at offset o a strict chain stays (step j + 1 at the same time) or moves to
    the next time (o + 1): anything further has an event strictly between. Reached states
    go forward; the earliest chain stays whenever the depth is still reachable from there.

    >>> strict_path(0, 3)  # nothing fits: step 1 only
    (1, [])
    >>> slots = strict_slots(3)  # (2,0) (2,1) (3,0) (3,1) (3,2)
    >>> strict_path(sum(1 << slots.index(s) for s in [(2, 0), (2, 1), (3, 2)]), 3)
    (3, [1, 2])
    """
    slots = strict_slots(k)
    fits = {slot for bit, slot in enumerate(slots) if code >> bit & 1}
    reach = {(1, 0)}
    for j in range(2, k + 1):
        reach |= {
            (j, o) for o in range(j) if (j, o) in fits and {(j - 1, o), (j - 1, o - 1)} & reach
        }
    depth = max(j for j, _ in reach)
    # can[(j, o)]: on a reached chain at (j, o) that continues to the depth.
    can = {(depth, o) for o in range(depth) if (depth, o) in reach}
    for j in range(depth - 1, 0, -1):
        can |= {(j, o) for o in range(j) if (j, o) in reach and {(j + 1, o), (j + 1, o + 1)} & can}
    path: list[int] = []
    offset = 0
    for j in range(2, depth + 1):
        offset = offset if (j, offset) in can else offset + 1
        path.append(offset)
    return depth, path


def _unordered(marks: ir.Table, k: int, window_s: int, keys: Sequence[str]) -> ir.Table:
    # From each time a: the earliest time of each step in [a, a + window] (whole seconds).
    span = ibis.window(group_by=list(keys), order_by=marks.sec, range=(0, window_s))
    firsts = {
        f"ts_{j}": ibis.ifelse(marks[f"h{j}"], marks.ts, ibis.null("timestamp")).min().over(span)
        for j in range(1, k + 1)
    }
    starts = marks.mutate(**firsts)
    prefix: ir.BooleanValue = ibis.literal(True)
    depth: ir.Value = ibis.literal(0)
    for j in range(1, k + 1):
        prefix = prefix & starts[f"ts_{j}"].notnull()
        depth = depth + prefix.cast("int32")
    starts = starts.mutate(depth=depth)
    return starts.filter(starts.depth >= 1).select(
        *keys, "depth", *[f"ts_{j}" for j in range(1, k + 1)], _start=starts.ts
    )


def _ordered_excluding(
    marks: ir.Table, k: int, window_s: int, keys: Sequence[str], excluded: Mapping[str, Any]
) -> ir.Table:
    """Ordered chains when excluded events void some step pairs: one row per unit.

    The greedy chain is no longer enough (an excluded event may call for a later step-j
    occurrence), so every chain is considered through two passes over the unit's times:

    - forward, ``s<j>``: the latest step-1 time from which a valid chain reaches step j
      here (the latest start leaves the most window); the unit's depth is the deepest
      step with such a time within the window of its start;
    - backward, ``t<j>``: the earliest time at which a valid chain from step j here
      reaches the unit's depth (no window: the start bounds it).

    The counted chain then takes, step by step, the earliest time that is valid after the
    previous step and still reaches the depth within the window of step 1.

    "No excluded event strictly between a and t" (a ≤ t) is a segment test: with
    ``c<j>`` the running count of pair-j excluded times, it holds when t = a or
    ``c(t) − x(t) = c(a)``. Window functions partitioned by that count do each pass.
    """
    unit = ibis.window(group_by=list(keys), order_by="idx")
    upto = ibis.window(group_by=list(keys), order_by="idx", rows=(None, 0))
    whole = ibis.window(group_by=list(keys))
    null_int = ibis.null("int64")
    m = marks.mutate(
        **{
            f"c{j}": (
                marks[f"x{j}"].cast("int64").sum().over(upto)
                if f"x{j}" in excluded
                else ibis.literal(0, type="int64")
            )
            for j in range(1, k)
        },
        **{f"x{j}": ibis.literal(False) for j in range(1, k) if f"x{j}" not in excluded},
    )
    m = m.mutate(s1=ibis.ifelse(m.h1, m.sec, null_int))
    for j in range(1, k):
        c, s, nxt = m[f"c{j}"], m[f"s{j}"], j + 1
        # r: the latest start over this time and the earlier ones with the same count.
        m = m.mutate(
            _r=s.max().over(ibis.window(group_by=[*keys, c], order_by="idx", rows=(None, 0)))
        )
        m = m.mutate(_q=_greatest(m._r.lag().over(unit), m[f"s{j}"]))
        m = m.mutate(
            **{
                f"s{nxt}": ibis.ifelse(
                    m[f"h{nxt}"] & m._q.notnull() & (m.sec <= m._q + window_s), m._q, null_int
                )
            }
        ).drop("_r", "_q")
    reached = ibis.greatest(*[ibis.ifelse(m[f"s{j}"].notnull(), j, 0) for j in range(1, k + 1)])
    m = m.mutate(_reached=reached)
    m = m.mutate(depth=m._reached.max().over(whole)).drop("_reached")
    m = m.filter(m.depth >= 1)
    # Backward: t<j> = the earliest time a valid chain from step j here reaches the depth.
    m = m.mutate(**{f"t{k}": ibis.ifelse((m.depth == k) & m[f"h{k}"], m.sec, null_int)})
    for j in range(k - 1, 0, -1):
        # Senders t > a with c(t) − x(t) = c(a): grouped by c − x, a minimum from here on.
        key = m[f"c{j}"] - m[f"x{j}"].cast("int64")
        m = m.mutate(_key=key)
        later = m[f"t{j + 1}"]
        m = m.mutate(
            _rb=later.min().over(
                ibis.window(group_by=[*keys, "_key"], order_by="idx", rows=(0, None))
            )
        )
        m = m.mutate(_cand=_least(m._rb.lead().over(unit), m[f"t{j + 1}"]))
        m = m.mutate(
            **{
                f"t{j}": ibis.cases(
                    (m.depth == j, ibis.ifelse(m[f"h{j}"], m.sec, null_int)),
                    ((m.depth > j) & m[f"h{j}"], m._cand),
                    else_=null_int,
                )
            }
        ).drop("_key", "_rb", "_cand")
    # The counted chain, step by step: the earliest valid time that still makes the depth.
    m = m.mutate(
        p1=ibis.ifelse(m.h1 & (m.t1 <= m.sec + window_s), m.idx, null_int).min().over(whole)
    )
    m = m.mutate(start=ibis.ifelse(m.idx == m.p1, m.sec, null_int).max().over(whole))
    for j in range(1, k):
        m = m.mutate(_cp=ibis.ifelse(m.idx == m[f"p{j}"], m[f"c{j}"], null_int).max().over(whole))
        valid = (m.idx == m[f"p{j}"]) | (
            (m.idx > m[f"p{j}"]) & (m[f"c{j}"] - m[f"x{j}"].cast("int64") == m._cp)
        )
        fits = (
            (m.depth > j)
            & m[f"h{j + 1}"]
            & valid.fill_null(False)
            & (m[f"t{j + 1}"] <= m.start + window_s).fill_null(False)
        )
        m = m.mutate(**{f"p{j + 1}": ibis.ifelse(fits, m.idx, null_int).min().over(whole)}).drop(
            "_cp"
        )
    return m.group_by(*keys).aggregate(
        depth=m.depth.max(),
        **{
            f"ts_{j}": ibis.ifelse(m.idx == m[f"p{j}"], m.ts, ibis.null("timestamp")).max()
            for j in range(1, k + 1)
        },
    )


def _greatest(a: ir.IntegerValue, b: ir.IntegerValue) -> ir.IntegerValue:
    """The larger of two values, either of which may be null (null only when both are)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.greatest(a, b))


def _least(a: ir.IntegerValue, b: ir.IntegerValue) -> ir.IntegerValue:
    """The smaller of two values, either of which may be null (null only when both are)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.least(a, b))


UNKNOWN = "(unknown)"


def with_segment(
    ds: Dataset,
    chains: ir.Table,
    steps: Sequence[StepRule],
    *,
    keys: Sequence[str],
    column: str,
    at: str = "first",
    events: ir.Table | None = None,
) -> ir.Table:
    """``chains`` (from :func:`unit_chains`) with ``segment``: the unit's value of ``column``.

    An events column is read on the counted chain's step-1 event (``at="first"``) or on its
    last reached step's event (``at="last"``); several such rows in that second with
    different values give the smallest as text. A column of ``customers`` is the user's
    value. Null or empty is ``(unknown)``.
    """
    if events is None:
        events = ds.table("events")
    if column not in events.columns:
        customers = ds.table("customers")
        values = customers.select(
            _s_user=customers.user_id, _s_value=_text(customers[column])
        ).distinct(on="_s_user", keep="first")
        joined = chains.left_join(values, chains.user_id == values._s_user)
        return joined.mutate(segment=joined._s_value.fill_null(UNKNOWN)).drop("_s_user", "_s_value")
    step_of = ibis.cases(
        *[(rule.matches(events), j) for j, rule in enumerate(steps, start=1)],
        else_=ibis.null("int64"),
    )
    rows = events.select(
        *[events[c].name(f"_s_{c}") for c in keys],
        _s_ts=events.ts,
        _s_step=step_of,
        _s_value=_text(events[column]),
    )
    at_step = ibis.literal(1) if at == "first" else chains.depth
    at_ts = (
        chains.ts_1
        if at == "first"
        else ibis.cases(
            *[(chains.depth == j, chains[f"ts_{j}"]) for j in range(1, len(steps) + 1)],
            else_=ibis.null("timestamp"),
        )
    )
    target = chains.mutate(_at_step=at_step.cast("int64"), _at_ts=at_ts)
    rows = rows.filter(rows._s_step.notnull())
    joined = target.left_join(
        rows,
        [
            *[target[c] == rows[f"_s_{c}"] for c in keys],
            target._at_ts == rows._s_ts,
            target._at_step == rows._s_step,
        ],
    )
    per_unit = joined.group_by([*keys, "_at_ts"]).aggregate(_s_value=joined._s_value.min())
    out = target.left_join(
        per_unit,
        [*[target[c] == per_unit[c] for c in keys], target._at_ts == per_unit._at_ts],
    )
    out = out.select(*chains.columns, segment=out._s_value.fill_null(UNKNOWN))
    return out


def _text(value: ir.Value) -> ir.StringValue:
    """A dimension's value as text; null or blank → null (then ``(unknown)``)."""
    text = value.cast("string")
    return ibis.ifelse(text.strip() == "", ibis.null("string"), text)
