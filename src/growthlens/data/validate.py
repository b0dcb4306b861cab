"""Row-level checks: which rows are excluded (one reason each) and which are flagged.

Exclusion reasons are evaluated in a fixed order and a row takes the first that applies,
so per table ``loaded == accepted + Σ excluded_by_reason``. Everything is computed in the
engine; only counts and a few example rows come back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from growthlens.data.quality import Finding
from growthlens.data.tables import FIRST_VISITS, SEEN_SOURCES, TABLES, FlagRule, TableModel
from growthlens.engine import capabilities
from growthlens.result import json_value

REASON = "_growthlens_reason"
EXAMPLES = 3
# Suffix of the reason scan's money sums: the rows' money, and that of each own-column check.
MONEY = "_growthlens_money"
# The column holding a table's money, first found: revenue (orders, conversions), spend.
MONEY_COLUMNS = ("revenue", "cost")

# What each exclusion reason means, in words (used in findings and the report). Rows with
# a null in a required column get ``missing_<column>``; see :func:`exclusion_text`.
EXCLUSION_TEXT: dict[str, str] = {
    "negative_revenue": "have negative revenue (refunds are not modelled)",
    "negative_cost": "have a negative cost",
    "future_timestamp": "are dated after the time of loading",
    "duplicate_key": "duplicate the key of another row (resolved by the duplicate policy)",
    "out_of_window": "fall outside the data window",
    "comment_line": "are comment lines (they start with the source's comment character)",
    "blank_line": "are blank lines (no text between two line breaks)",
    "unreadable_line": "are lines that are not rows of the table (too many or too few "
    "fields, a broken quote or invalid text; see the line numbers)",
}
# The same for a single row ("1 of 50 orders has negative revenue").
EXCLUSION_TEXT_ONE: dict[str, str] = {
    "negative_revenue": "has negative revenue (refunds are not modelled)",
    "negative_cost": "has a negative cost",
    "future_timestamp": "is dated after the time of loading",
    "duplicate_key": "duplicates the key of another row (resolved by the duplicate policy)",
    "out_of_window": "falls outside the data window",
    "comment_line": "is a comment line (it starts with the source's comment character)",
    "blank_line": "is a blank line (no text between two line breaks)",
    "unreadable_line": "is a line that is not a row of the table (too many or too few "
    "fields, a broken quote or invalid text; see the line number)",
}
# Which exclusions mean broken input (error) rather than an expected trim (warning):
# these, and every missing_<column>, nonfinite_<column> and negative_<column>.
ERROR_REASONS = ("negative_revenue", "negative_cost", "unreadable_line")
ERROR_PREFIXES = ("missing_", "nonfinite_", "negative_")
# Lines the reader skips that hold no row: counted, but nothing is lost (info).
EMPTY_LINES = ("comment_line", "blank_line")


def exclusion_text(reason: str, *, one: bool = False) -> str:
    """Plain words for an exclusion reason, said of several rows or of ``one``."""
    verb = "has" if one else "have"
    if reason.startswith("missing_"):
        column = reason.removeprefix("missing_")
        # Ids are where null-like texts ("NULL", "-") are taken for no value (null_ids).
        null_like = any(
            c.name == column and c.kind == "id" for t in TABLES.values() for c in t.columns
        )
        return f"{verb} no value in the required column {column!r}" + (
            " (empty, or a null-like text such as NULL, None, nan or -)" if null_like else ""
        )
    if reason.startswith("nonfinite_"):
        column = reason.removeprefix("nonfinite_")
        return f"{verb} a value in {column!r} that is not a finite number (NaN or infinity)"
    texts = EXCLUSION_TEXT_ONE if one else EXCLUSION_TEXT
    if reason not in texts and reason.startswith("negative_"):
        return f"{verb} a negative {reason.removeprefix('negative_')!r}"
    return texts.get(reason, reason)


def money_column(table: ir.Table, model: TableModel) -> str | None:
    """The table's money column (:data:`MONEY_COLUMNS`), when it has a number one."""
    for name in MONEY_COLUMNS:
        column = model.column(name)
        if column is not None and column.kind == "number" and name in table.columns:
            return name
    return None


def known_money(table: ir.Table, column: str) -> ir.FloatingValue:
    """The column's amounts where they are money, else null.

    A missing, NaN, infinite or negative value is no amount of money (it is excluded,
    and counted, under its own reason), so a sum adds the finite, non-negative amounts.
    """
    value = table[column].cast("float64")
    unknown = value.isnan() | value.isinf() | (value < 0)
    return ibis.ifelse(unknown.fill_null(True), ibis.null("float64"), value)


# Derived-table key: accepted sessions per day (and source), from the load's reason scan.
SESSIONS_PER_DAY = "sessions_per_day"


def missing_condition(table: ir.Table, model: TableModel) -> ir.BooleanValue:
    """Rows with a null in any required column."""
    cond: ir.BooleanValue = ibis.literal(False)
    for name in model.required:
        cond = cond | table[name].isnull()
    return cond


def key_columns(table: ir.Table, model: TableModel) -> tuple[str, ...] | None:
    """The model's key columns when all are present, else ``None``."""
    if model.key and all(k in table.columns for k in model.key):
        return model.key
    return None


def data_columns(table: ir.Table) -> list[str]:
    """Columns that hold data (not the loader's bookkeeping)."""
    from growthlens.data.canonical import SOURCE_RANK

    return [c for c in table.columns if c not in (REASON, SOURCE_RANK)]


def duplicate_partition(table: ir.Table, model: TableModel) -> list[ir.Value]:
    """What makes two rows duplicates: the key, or the whole row.

    A row whose key is null (an order without ``order_id``) is identified by all its
    columns instead, so null keys are never merged into one "duplicate" group.
    """
    columns = data_columns(table)
    key = key_columns(table, model)
    if key is None:
        return [table[c] for c in columns]
    key_null: ir.BooleanValue = ibis.literal(False)
    for k in key:
        key_null = key_null | table[k].isnull()
    rest = [
        ibis.ifelse(key_null, table[c], ibis.null(table[c].type())).name(c)
        for c in columns
        if c not in key
    ]
    return [key_null.name("_key_null"), *[table[k] for k in key], *rest]


def effective_policy(table: ir.Table, model: TableModel, *, policy: str, sources: int) -> str:
    """``auto`` → ``first`` when the table has a key or several sources, else ``keep``."""
    if policy != "auto":
        return policy
    return "first" if key_columns(table, model) is not None or sources > 1 else "keep"


def first_reasons(table: ir.Table, model: TableModel, *, now: datetime) -> ir.Table:
    """``table`` with ``REASON``: the first row check a row fails, before duplicates.

    Tried in order: a missing required value, negative revenue/cost, a future timestamp.
    The duplicate policy comes after (:func:`resolve_duplicates`, among the rows that pass
    these), so a valid row is never dropped in favour of an invalid copy.
    """
    cases: list[tuple[ir.BooleanValue, str]] = [
        (table[name].isnull(), f"missing_{name}") for name in model.required
    ]
    # NaN and ±infinity are not amounts: they would turn every sum and mean they enter
    # into NaN or infinity, silently. Checked before the sign, which NaN does not have.
    cases += [
        (table[c.name].isnan() | table[c.name].isinf(), f"nonfinite_{c.name}")
        for c in model.columns
        if c.kind == "number" and c.name in table.columns
    ]
    cases += [
        (table[c.name] < 0, c.negative)
        for c in model.columns
        if c.negative is not None and c.name in table.columns
    ]
    if model.time_column and model.time_column in table.columns:
        cases.append((_as_date(table[model.time_column]) > now.date(), "future_timestamp"))
    reason: ir.StringValue = ibis.cases(*cases, else_=ibis.null("string"))
    return table.mutate(**{REASON: reason})


# Above this share of rows in groups of equal key, ranking all rows beats splitting them.
_RANK_ALL_SHARE = 0.5


def resolve_duplicates(
    table: ir.Table, model: TableModel, *, policy: str, backend: BaseBackend | None = None
) -> ir.Table:
    """``table`` (with :func:`first_reasons`) with ``duplicate_key`` set by ``policy``.

    ``policy``: ``first`` or ``last``. The rows are those of ranking every row in its
    duplicate group (:func:`_ranked`), but that is a sort of every row, its whole row as
    text to break ties: the load's costliest step, and twice as costly with text ids as
    with integers. A row can rank second only in a group of rows with equal key (whole
    row without one), so one group-by on the key, run here, counts those rows first:
    with none, ``table`` itself is returned and nothing is ranked; with a few, only the
    rows of repeated keys and those with a null key are ranked. ``backend``: the engine
    the table lives in, for the key check's bitmap (:func:`_unique`).
    """
    key = key_columns(table, model)
    columns = list(key) if key is not None else data_columns(table)
    groups = table.group_by([table[c] for c in columns]).aggregate(_rows=table.count())
    shared = groups._rows.sum(where=groups._rows > 1).fill_null(0)
    try:
        if key is not None and len(key) == 1 and _unique(table[key[0]], backend):
            return table
        counts = groups.aggregate(shared=shared, rows=groups._rows.sum()).to_pyarrow()
    except Exception:
        # An engine error typing the rows: the load stores the table next and reports it
        # there, naming the sources; ranking every row keeps that path as it was.
        return _ranked(table, model, policy=policy)
    tied, total = counts["shared"][0].as_py() or 0, counts["rows"][0].as_py() or 0
    if not tied:
        return table
    if key is None or tied > _RANK_ALL_SHARE * total:
        return _ranked(table, model, policy=policy)
    known: ir.BooleanValue = ibis.literal(True)
    for k in key:
        known = known & groups[k].notnull()
    repeated = groups.filter((groups._rows > 1) & known).select(*key).mutate(_tied=True)
    joined = table.left_join(repeated, [table[k] == repeated[k] for k in key])
    marked = joined.select(*table.columns, "_tied")
    null_key: ir.BooleanValue = ibis.literal(False)
    for k in key:
        null_key = null_key | marked[k].isnull()
    # Each duplicate group lies wholly in one part: one non-null key, or the null keys.
    to_rank = marked._tied.notnull() | null_key
    alone = marked.filter(~to_rank).select(*table.columns)
    several = marked.filter(to_rank).select(*table.columns)
    return alone.union(_ranked(several, model, policy=policy))


def _unique(key: ir.Column, backend: BaseBackend | None = None) -> bool:
    """Whether no two rows share ``key`` (two null keys count as shared).

    Keys are unique in most tables, and one distinct count (a hash set of the keys)
    answers that at about half the cost of counting the rows per key: 50M session ids,
    4.4 s against 8.3 s. Only a table with repeats pays for the count per key. Integer
    keys within a narrow range (:func:`_bitmap_span`) are counted with a bitmap where
    the engine has one, without the hash set: 10M ids 0.06 s against 0.5 s.
    """
    table = key.as_table()
    bitmaps = backend if backend is not None and capabilities(backend).range_bitmaps else None
    bitmap = bitmaps is not None and key.type().is_integer()
    # One scan answers the null keys and either the distinct count or the key range.
    extra = {"lo": key.min(), "hi": key.max()} if bitmap else {"distinct": key.nunique()}
    row = table.aggregate(known=key.count(), rows=ibis._.count(), **extra)
    got = row.to_pyarrow().to_pylist()[0]
    if got["rows"] - got["known"] > 1:
        return False
    if not bitmap:
        return bool(got["distinct"] == got["known"])
    if not got["known"]:
        return True
    span = _bitmap_span(got["lo"], got["hi"], got["known"])
    if span is None or bitmaps is None:
        distinct = table.aggregate(n=key.nunique())
    else:
        for macro in _BITMAP_MACROS:
            bitmaps.raw_sql(macro)
        # Offsets from the smallest key, 0 … span - 1; uint64 is subtracted in its own
        # type (its values may pass int64's), the other types after widening.
        wide = key if key.type().is_uint64() else key.cast("int64")
        offset = (wide - ibis.literal(got["lo"], type=wide.type())).cast("int64")
        distinct = table.aggregate(n=_distinct_in_range(offset, 0, span - 1))
    return bool(distinct.to_pyarrow()["n"][0].as_py() == got["known"])


# A bitmap of span bits per engine thread: used when the keys fill at least 1/8 of their
# range (or the range is small), and never above 2**30 bits (128 MB).
_BITMAP_DENSITY = 8
_BITMAP_SMALL = 1 << 16
_BITMAP_BITS = 1 << 30
_BITMAP_MACROS = (
    "CREATE OR REPLACE TEMP MACRO growthlens_distinct_in_range(x, lo, hi) AS "
    "bit_count(bitstring_agg(x, lo, hi))",
)


def _bitmap_span(lo: int, hi: int, known: int) -> int | None:
    """Bits of the bitmap for integer keys ``lo`` … ``hi`` (``known`` of them), or None."""
    span = hi - lo + 1
    if span <= max(_BITMAP_DENSITY * known, _BITMAP_SMALL) and span <= _BITMAP_BITS:
        return span
    return None


@ibis.udf.agg.builtin(name="growthlens_distinct_in_range")  # type: ignore[untyped-decorator]
def _distinct_in_range(value: int, lo: int, hi: int) -> int:  # type: ignore[empty-body]
    """Distinct values of ``value`` in ``lo`` … ``hi``, one bit each (a DuckDB macro)."""


def _ranked(table: ir.Table, model: TableModel, *, policy: str) -> ir.Table:
    """``table`` with ``duplicate_key`` for every valid row but the first of its group."""
    from growthlens.data.canonical import SOURCE_RANK

    valid = table[REASON].isnull()
    rank = table[SOURCE_RANK] if policy == "first" else -table[SOURCE_RANK]
    # Ties within a source break on every column as text: deterministic on any backend.
    # The key columns are left out: the partition holds them, so they never differ in it.
    key = key_columns(table, model) or ()
    order = [rank, *[table[c].cast("string") for c in data_columns(table) if c not in key]]
    partition = [valid.name("_valid"), *duplicate_partition(table, model)]
    row_number = ibis.row_number().over(group_by=partition, order_by=order)
    reason = ibis.ifelse(valid & (row_number > 0), "duplicate_key", table[REASON])
    return table.mutate(**{REASON: reason})


@dataclass(frozen=True)
class ReasonCounts:
    """Rows per exclusion reason, and the date range of the accepted rows.

    ``money``: when the table has a money column (:func:`money_column`), its known amounts
    (:func:`known_money`) per exclusion reason (``None``: no row of the reason has one)
    and, under ``None``, of the accepted rows; empty otherwise.
    """

    accepted: int
    excluded: Mapping[str, int]
    first: date | None
    last: date | None
    money: Mapping[str | None, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ReasonDays:
    """Rows per (pre-window reason, date[, source]) of one table, from one scan.

    The scan answers the data window (first and last date of the valid rows), the row
    count per final reason once the window is known (``out_of_window`` is a test on the
    date alone), the kept-row checks on the table's own columns (their sums ride along,
    see :attr:`FlagRule.where`) and which sources the accepted rows have.
    """

    records: tuple[dict[str, Any], ...]
    flags: tuple[str, ...]
    money: bool = False  # whether the records carry money sums (MONEY, <check>MONEY)

    def time_range(self) -> tuple[date | None, date | None]:
        """First and last date of the rows not yet excluded."""
        days = [r["day"] for r in self.records if r[REASON] is None and r["day"] is not None]
        return (min(days), max(days)) if days else (None, None)

    def _final(self, record: dict[str, Any], window: tuple[date, date] | None) -> str | None:
        day = record["day"]
        outside = window is not None and day is not None and not window[0] <= day <= window[1]
        reason: str | None = record[REASON]
        return "out_of_window" if reason is None and outside else reason

    def counts(self, window: tuple[date, date] | None) -> ReasonCounts:
        """Rows per final reason, with the accepted rows' first and last date."""
        excluded: dict[str, int] = {}
        money: dict[str | None, float | None] = {}
        accepted, days = 0, []
        for record in self.records:
            reason = self._final(record, window)
            if reason is None:
                accepted += record["n"]
                if record["day"] is not None:
                    days.append(record["day"])
            else:
                excluded[reason] = excluded.get(reason, 0) + record["n"]
            if self.money:
                money[reason] = _add(money.get(reason), record[MONEY])
        return ReasonCounts(
            accepted=accepted,
            excluded=excluded,
            first=min(days) if days else None,
            last=max(days) if days else None,
            money=money,
        )

    def accepted(self, window: tuple[date, date] | None) -> AcceptedSummary:
        """Kept-row check counts, source values and rows per day of the accepted rows."""
        kept = [r for r in self.records if self._final(r, window) is None]
        flags = {f: sum(int(r[f] or 0) for r in kept) for f in self.flags}
        money: dict[str, float] = {}
        if self.money:
            money = {f: sum(float(r[f + MONEY] or 0.0) for r in kept) for f in self.flags}
        has_source = bool(self.records) and "source" in self.records[0]
        sources = (
            frozenset(r["source"] for r in kept if r["source"] is not None) if has_source else None
        )
        per_day = pd.DataFrame(
            {
                "day": pd.Series([r["day"] for r in kept], dtype="object"),
                **(
                    {"source": pd.Series([r["source"] for r in kept], dtype="object")}
                    if has_source
                    else {}
                ),
                "rows": pd.Series([r["n"] for r in kept], dtype="int64"),
            }
        )
        return AcceptedSummary(flags=flags, sources=sources, per_day=per_day, money=money)


@dataclass(frozen=True)
class AcceptedSummary:
    """What the load's one scan knows of a table's accepted rows (see ReasonDays).

    ``per_day``: accepted rows per ``day`` (and ``source``, for sessions that have one).
    ``money``: per own-column check, the known money of the rows that fail it (tables with
    a money column only).
    """

    flags: Mapping[str, int]
    sources: frozenset[Any] | None
    per_day: pd.DataFrame
    money: Mapping[str, float] = field(default_factory=dict)


def reason_days(table: ir.Table, model: TableModel) -> ReasonDays:
    """Count rows per pre-window reason and date in one query (see :class:`ReasonDays`)."""
    keys: dict[str, ir.Value] = {REASON: table[REASON]}
    keys["day"] = _as_date(table[model.time_column]) if model.time_column else ibis.null("date")
    if model.per_day_by is not None and model.per_day_by in table.columns:
        keys[model.per_day_by] = table[model.per_day_by]
    # Checks the per-length counts answer are left to them: they need ``end_ts``, which
    # this scan then never reads.
    flags: dict[str, ir.BooleanValue] = {
        rule.check: test(table)
        for rule in model.flags
        if (test := _own_column_test(rule, model.name))
        and rule.on_lengths is None
        and _applies(rule, table)
    }
    sums: dict[str, ir.Value] = {}
    column = money_column(table, model)
    if column is not None:
        # The money at stake per reason and per check ride along in the same scan.
        amount = known_money(table, column)
        sums[MONEY] = amount.sum()
        sums |= {f + MONEY: amount.sum(where=test) for f, test in flags.items()}
    counted = {f: test.sum() for f, test in flags.items()}
    aggregates = {"n": table.count(), **counted, **sums}
    rows = table.group_by(**keys).aggregate(**aggregates).to_pyarrow().to_pylist()
    for row in rows:
        row["day"] = _to_date(row["day"])
    return ReasonDays(records=tuple(rows), flags=tuple(flags), money=column is not None)


def _own_column_test(
    rule: FlagRule, table_name: str
) -> Callable[[ir.Table], ir.BooleanValue] | None:
    """The check's test when it reads one row of the table alone (no join), else None."""
    return rule.where if rule.base is None and rule.needs == (table_name,) else None


def _applies(rule: FlagRule, table: ir.Table) -> bool:
    try:
        rule.where(table)  # type: ignore[misc]
    except (AttributeError, ibis.common.exceptions.IbisTypeError):
        return False
    return True


def with_window(table: ir.Table, model: TableModel, window: tuple[date, date] | None) -> ir.Table:
    """Extend ``REASON`` with ``out_of_window``."""
    if window is None or not model.time_column:
        return table
    day = _as_date(table[model.time_column])
    outside = (day < window[0]) | (day > window[1])
    reason = table[REASON].fill_null(ibis.ifelse(outside, "out_of_window", ibis.null("string")))
    return table.mutate(**{REASON: reason})


def duplicate_candidates(table: ir.Table, model: TableModel) -> ir.Table:
    """The rows that may have a duplicate.

    With a key: all rows. Without (whole-row duplicates): the rows sharing their required
    columns with another row: identical rows share them, so the narrow columns find the
    candidate groups cheaply and whole rows are compared only within them. A window, not
    a group-by joined back: DuckDB would store the table whole first.
    """
    narrow = [c for c in model.required if c in table.columns]
    if key_columns(table, model) is None and narrow and set(narrow) < set(data_columns(table)):
        counted = table.mutate(_copies=table.count().over(group_by=[table[c] for c in narrow]))
        return counted.filter(counted._copies > 1).select(*table.columns)
    return table


def duplicates(table: ir.Table, model: TableModel) -> tuple[int, tuple[dict[str, Any], ...]]:
    """Duplicate rows: how many, and a few examples with their number of copies.

    Counted: rows beyond the first of each group (same key, or whole row without a
    key); examples only when there are any. The candidate rows are found once and stored
    while both questions read them. The load passes only the sessions of users who can
    hold a duplicate (see growthlens.data.profile); any table works.
    """
    candidates = duplicate_candidates(table, model)
    if candidates is table:
        n = _duplicate_count(table, model)
        return n, (_duplicate_examples(table, model) if n else ())
    with candidates.cache() as stored:
        n = _duplicate_count(stored, model)
        return n, (_duplicate_examples(stored, model) if n else ())


def _duplicate_count(table: ir.Table, model: TableModel) -> int:
    partition = duplicate_partition(table, model)
    copies = table.group_by(partition).aggregate(copies=table.count())
    value = copies.aggregate(extra=(copies.copies - 1).sum()).to_pyarrow().to_pylist()[0]
    return int(value["extra"] or 0)


def _duplicate_examples(table: ir.Table, model: TableModel) -> tuple[dict[str, Any], ...]:
    columns = data_columns(table)
    partition = duplicate_partition(table, model)
    # isnull() is never null, so its count is the number of rows in the group.
    copies = table[columns[0]].isnull().count().over(group_by=partition)
    counted = table.mutate(copies=copies)
    ordered = counted.filter(counted.copies > 1).order_by([counted[c] for c in columns])
    return examples(ordered, columns=[*columns, "copies"])


def examples(
    table: ir.Table,
    condition: ir.BooleanValue | None = None,
    *,
    columns: list[str] | None = None,
) -> tuple[dict[str, Any], ...]:
    """A few rows (as JSON-ready dicts, large ids as text) matching ``condition``."""
    rows = table if condition is None else table.filter(condition)
    keep = columns or data_columns(table)
    selected = rows.select(*keep)
    # Ordered, so the same data always shows the same examples.
    sample = selected.order_by(list(keep)).limit(EXAMPLES).to_pyarrow().to_pylist()
    return tuple({k: _example_value(v) for k, v in r.items()} for r in sample)


def reason_examples(table: ir.Table, reason: str) -> tuple[dict[str, Any], ...]:
    """Example rows excluded for ``reason``."""
    return examples(table, table[REASON] == reason)


# Checks failed by at most this share of a table's rows count as rare (see rare_flags).
RARE_SHARE = 0.05


def length_flags(counts: ir.Table) -> dict[str, int]:
    """The sessions checks the per-length counts answer (``on_lengths``), counted from them.

    ``counts``: growthlens.data.lengths.length_counts of the accepted sessions.
    """
    tests = {r.check: r.on_lengths for r in TABLES["sessions"].flags if r.on_lengths is not None}
    if not tests:
        return {}
    sums = {check: counts.n.sum(where=test(counts)) for check, test in tests.items()}
    row = counts.aggregate(**sums).to_pyarrow().to_pylist()[0]
    return {check: int(n or 0) for check, n in row.items()}


def rare_flags(table_name: str, summary: AcceptedSummary, total: int) -> tuple[FlagRule, ...]:
    """Checks on the table's own columns that some, but at most RARE_SHARE, of rows fail.

    The load keeps their failing rows in the subset of sessions it stores anyway, so
    their examples need no scan of their own; common failures would make it large.
    """
    return tuple(
        rule
        for rule in TABLES[table_name].flags
        if _own_column_test(rule, table_name)
        and 0 < int(summary.flags.get(rule.check, 0) or 0) <= RARE_SHARE * total
    )


def flag_findings(
    tables: Mapping[str, ir.Table],
    totals: Mapping[str, int],
    buyer_visits: ir.Table | None = None,
    summaries: Mapping[str, AcceptedSummary] | None = None,
    examples_from: Mapping[str, tuple[ir.Table, frozenset[str]]] | None = None,
) -> list[Finding]:
    """Run every kept-row check whose tables are present.

    Args:
        tables: the accepted rows per table.
        totals: accepted row count per table (already known; saves a count query each).
        buyer_visits: each buyer's first order time and first session (``user_id``,
            ``first_order_ts``, ``start_ts``, …; growthlens.data.firsts.buyer_visits),
            when sessions and orders are both loaded.
        summaries: per table, the counts of its own-column checks and its sources, as
            the load's reason scan found them (saves a scan each).
        examples_from: per table, a stored subset holding every row that fails the
            named checks; their examples are read from it (saves a scan each).
    """
    summaries = summaries or {}
    shared = dict(tables)
    if buyer_visits is not None:
        # Only a buyer whose first order precedes their first visit, or who has no visit,
        # can have an order before it: the order checks join the orders to those few.
        v = buyer_visits
        odd = v.filter(v.start_ts.isnull() | (v.first_order_ts < v.start_ts))
        shared[FIRST_VISITS] = odd.select(first_user=odd.user_id, first_visit=odd.start_ts)
    seen = summaries["sessions"].sources if "sessions" in summaries else None
    if seen and "costs" in tables and "source" in tables["costs"].columns:
        kind = tables["costs"].source.type()
        values = pd.DataFrame({"seen_source": [str(v) for v in sorted(seen, key=str)]})
        seen_table = ibis.memtable(values)
        shared[SEEN_SOURCES] = seen_table.select(seen_source=seen_table.seen_source.cast(kind))
    findings: list[Finding] = []
    cached: list[Any] = []
    try:
        for table_name, model in TABLES.items():
            rules = model.flags
            if rules and table_name in tables:
                subset = (examples_from or {}).get(table_name)
                findings += _table_flags(
                    table_name, rules, tables, shared, totals, summaries, cached, subset
                )
    finally:
        for table in cached:
            table.release()
    return findings


def _table_flags(
    table_name: str,
    rules: tuple[FlagRule, ...],
    tables: Mapping[str, ir.Table],
    shared: Mapping[str, ir.Table],
    totals: Mapping[str, int],
    summaries: Mapping[str, AcceptedSummary],
    cached: list[Any],
    subset: tuple[ir.Table, frozenset[str]] | None,
) -> list[Finding]:
    """The kept-row findings of one table; stored helper tables go to ``cached``."""
    findings: list[Finding] = []
    usable = [
        rule
        for rule in rules
        if all(n in tables for n in rule.needs) and _has_columns(shared, rule)
    ]
    table = tables[table_name]
    model = TABLES[table_name]
    money = money_column(table, model)
    # Rules on the table's own columns: one scan counts them all (or the load's did), with
    # the money of the failing rows (<check>MONEY) when the table has money.
    counted: dict[str, Any] = {}
    if table_name in summaries:
        summary = summaries[table_name]
        counted = {**summary.flags, **{k + MONEY: v for k, v in summary.money.items()}}
    # Rules over one base (the table, or a join shared by several): one scan each.
    bases: dict[Any, list[FlagRule]] = {}
    for rule in usable:
        if rule.where is not None and rule.check not in counted:
            bases.setdefault(rule.base, []).append(rule)
    stored: dict[str, ir.Table] = {}
    for base, same in bases.items():
        over = table if base is None else base(shared)
        if base is not None:
            # A join: its flagged rows (few) are stored, so the examples read them
            # instead of joining again.
            tests = [r.where(over) for r in same if r.where is not None]
            flagged = over.filter(ibis.or_(*tests)).cache()
            cached.append(flagged)
            stored |= {r.check: flagged for r in same}
            over = flagged
        sums = {r.check: r.where(over).sum() for r in same if r.where is not None}
        if money is not None:
            amount = known_money(over, money)
            sums |= {
                r.check + MONEY: amount.sum(where=r.where(over))
                for r in same
                if r.where is not None
            }
        counted |= over.aggregate(**sums).to_pyarrow().to_pylist()[0]
    for rule in usable:
        matched = rule.condition(shared)
        if rule.check in stored and rule.where is not None:
            flagged = stored[rule.check]
            matched = flagged.filter(rule.where(flagged)).select(*matched.columns)
        elif subset is not None and rule.check in subset[1] and rule.where is not None:
            matched = subset[0].filter(rule.where(subset[0])).select(*matched.columns)
        if rule.check in counted:
            n = int(counted[rule.check] or 0)
        elif money is not None and money in matched.columns:
            both = matched.aggregate(n=matched.count(), m=known_money(matched, money).sum())
            row = both.to_pyarrow().to_pylist()[0]
            n, counted[rule.check + MONEY] = int(row["n"]), row["m"]
        else:
            n = int(matched.count().to_pyarrow().as_py())
        at_stake = counted.get(rule.check + MONEY)
        if n:
            total = totals[table_name]
            share = f"{n / total:.1%}" if total else "n/a"
            findings.append(
                Finding(
                    table=table_name,
                    check=rule.check,
                    message=f"{n:,} of {total:,} {table_name} rows ({share}) {rule.text}.",
                    rows=n,
                    action=rule.action,
                    effect=rule.effect,
                    what=rule.text,
                    what_one=rule.text_one,
                    severity="warning" if rule.action == "kept_flagged" else "info",
                    examples=examples(matched),
                    revenue=None if at_stake is None else float(at_stake),
                )
            )
    return findings


def _has_columns(tables: Mapping[str, ir.Table], rule: FlagRule) -> bool:
    try:
        rule.condition(tables)
    except (AttributeError, ibis.common.exceptions.IbisTypeError):
        return False
    return True


def _add(total: float | None, value: Any) -> float | None:
    """A sum of money where ``None`` is "no known amount" (a group of unknown amounts)."""
    if value is None:
        return total
    return float(value) + (total or 0.0)


def _as_date(value: ir.Value) -> ir.Value:
    return value if value.type().is_date() else value.date()


def _to_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _example_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)  # JSON readers lose precision beyond 2**53
    return json_value(value)


__all__ = [
    "EXCLUSION_TEXT",
    "EXCLUSION_TEXT_ONE",
    "REASON",
    "TABLES",
    "exclusion_text",
]
