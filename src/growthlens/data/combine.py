"""Customers from several sources, combined by id (the duplicate policy ``"combine"``).

A profile table, a recovered file of its lost rows (without some columns) and a table of
coefficients each describe some customers. :func:`combine_customers` makes one row per
``user_id``: each attribute is taken from the first source listed that has a non-null
value for it (``COALESCE`` in source order), all in the engine. What the combining found
is counted in a :class:`CombineCounts` and said in findings on ``customers``
(:func:`combine_findings`).

Definitions:

- Values are compared after the union's type alignment (:func:`union_sources`: a column
  typed differently by two sources becomes float64 when both are numeric, else text), so
  ``30`` and ``30.0`` agree, while the texts ``"30"`` and ``"30.0"`` do not. Equality is
  exact.
- A floating-point NaN is no value, like null: a recovered file's ``NaN`` never hides
  another source's number.
- Within one source, rows repeating an id are reduced to one value per column, the
  smallest non-null one (row order in a file is not relied on, as elsewhere in the load);
  those rows are counted as ``repeated``.
- Rows without an id are not combined (they name no customer): they are returned as they
  are, and the load excludes them as ``missing_user_id``.
- Accounting: the load counts the combined rows (one per customer, plus the rows without
  an id) as the table's rows read, so ``loaded = accepted + excluded`` is about customers.
  The source rows merged into them are not losses; they are stated per source in
  :attr:`CombineCounts.rows` and in the ``combined_sources`` finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from growthlens.data.canonical import SOURCE_RANK, CanonicalSource, union_sources
from growthlens.data.quality import Finding
from growthlens.data.tables import TableModel
from growthlens.errors import ConfigError

COMBINE = "combine"
"""The duplicate policy that combines a table's sources by id."""
COMBINABLE = ("customers",)
"""Tables the policy applies to (one row per id, attributes only)."""
EXAMPLES = 3


@dataclass(frozen=True)
class CombineCounts:
    """What combining a table's sources by id found.

    Mappings are keyed by source label (``sources``, in source order) or by column.

    Attributes:
        table: the canonical table (``customers``).
        key: the id column(s).
        sources: the source labels, in order (made unique by a ``#n`` suffix).
        columns: per source, the attribute columns it has.
        rows: per source, every row it holds (with or without an id).
        ids: per source, its distinct non-null ids.
        repeated: per source, rows repeating an id of the same source.
        customers: distinct ids after combining (one row each).
        null_ids: rows without an id (not combined; the load excludes them).
        in_several: ids found in two or more sources.
        only_in: per source, ids found in it and in no other source.
        absent_from: per source, ids found in other sources but not in it.
        absent_examples: per source, a few ids absent from it, with the sources they are in.
        conflicts: per column, ids whose non-null values differ between sources.
        conflict_examples: per column, a few of them in words
            (``id 17: 'высшее' (personal_data) vs 'среднее' (personal_data.csv.gz)``).
        missing: per column, ids without a value after combining.
        missing_by_source: per column, those ids by the first source listed that has
            the id (where the customer's row comes from).
    """

    table: str
    key: tuple[str, ...]
    sources: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    rows: Mapping[str, int]
    ids: Mapping[str, int]
    repeated: Mapping[str, int]
    customers: int
    null_ids: int
    in_several: int
    only_in: Mapping[str, int]
    absent_from: Mapping[str, int]
    absent_examples: Mapping[str, tuple[str, ...]]
    conflicts: Mapping[str, int]
    conflict_examples: Mapping[str, tuple[str, ...]]
    missing: Mapping[str, int]
    missing_by_source: Mapping[str, Mapping[str, int]]


def resolve_policy(model: TableModel, policy: str, *, sources: int) -> str:
    """The policy the load applies: ``auto`` is ``combine`` for customers from several sources.

    Other ``auto`` cases are left to :func:`growthlens.data.validate.effective_policy`.

    Raises:
        ConfigError: ``combine`` asked for a table it does not apply to.
    """
    if policy == COMBINE and model.name not in COMBINABLE:
        raise ConfigError(
            f"[{model.name}] duplicates = 'combine' merges attribute tables by id and applies "
            f"to {', '.join(COMBINABLE)} only; expected one of 'auto', 'first', 'last', "
            "'keep' here"
        )
    if policy == "auto" and model.name in COMBINABLE and sources > 1:
        return COMBINE
    return policy


def combine_customers(
    parts: Sequence[CanonicalSource],
    model: TableModel,
    *,
    labels: Sequence[str] | None = None,
) -> tuple[ir.Table, CombineCounts]:
    """One row per id; each attribute from the first source listed that has a value.

    ``parts`` are in source order (the first listed wins). The returned table has the
    columns of the union of the sources (:func:`union_sources`, types aligned), plus the
    source rank of the first source that has the id; rows without an id follow as they
    are. The per-id table is computed once and stored in the engine (the counts and the
    returned table read it). ``labels`` name the sources in counts and findings
    (default ``source 1``, ``source 2`` …). See the module docstring for the definitions.

    Raises:
        ConfigError: the model has no key, or no source.
    """
    if not model.key or not parts:
        raise ConfigError(f"[{model.name}] the 'combine' policy needs a key and a source")
    names = _unique_labels(labels, len(parts))
    key = list(model.key)
    # Ranks are the positions in ``parts``: the order this function promises.
    ranked = [
        replace(p, table=p.table.mutate(**{SOURCE_RANK: ibis.literal(r, type="int32")}))
        for r, p in enumerate(parts)
    ]
    union = union_sources(ranked, model)
    schema = union.schema()
    attrs = [c for c in union.columns if c not in key and c != SOURCE_RANK]
    has_key: ir.BooleanValue = ibis.and_(*[union[k].notnull() for k in key])
    keyed = union.filter(has_key)
    rank = keyed[SOURCE_RANK]
    k = len(parts)

    aggs: dict[str, ir.Value] = {}
    for r in range(k):
        aggs[_n(r)] = keyed.count(where=rank == r)
        for j, name in enumerate(attrs):
            aggs[_v(j, r)] = _reduce(_value(keyed[name]), rank == r)
    per_id = _PerId(keyed.group_by(key).aggregate(**aggs).cache(), key, attrs, k, schema)

    rows_out = per_id.table.select(
        **{
            c: (
                per_id.table[c]
                if c in key
                else per_id.combined[c]
                if c in per_id.combined
                else per_id.primary.cast(schema[SOURCE_RANK])
            ).name(c)
            for c in union.columns
        }
    )
    counts = _counts(model.name, union, has_key, per_id, names, ranked)
    if not counts.null_ids:  # nothing to pass through: the sources are not read again
        return rows_out, counts
    no_key = union.filter(~has_key).select(*union.columns)
    return ibis.union(rows_out, no_key, distinct=False), counts


class _PerId:
    """One row per id: per source, whether it has the id and its value of each column.

    Columns ``_n_<r>`` (rows of source r with the id) and ``_v_<j>_<r>`` (source r's value
    of attribute j); from them the combined value, the disagreement and the first source.
    """

    def __init__(
        self,
        table: ir.Table,
        key: Sequence[str],
        attrs: Sequence[str],
        k: int,
        schema: ibis.Schema,
    ) -> None:
        self.table, self.key, self.attrs, self.k = table, list(key), list(attrs), k
        self.found = [table[_n(r)] > 0 for r in range(k)]
        self.combined: dict[str, ir.Value] = {}
        self.disagree: dict[str, ir.BooleanValue] = {}
        for j, name in enumerate(attrs):
            values = [table[_v(j, r)] for r in range(k)]
            first = ibis.coalesce(*values) if k > 1 else values[0]
            self.combined[name] = first.cast(schema[name])
            # Some source's value differs from the first one: then two sources disagree.
            differs = [v.notnull() & (v != first) for v in values]
            self.disagree[name] = ibis.or_(*differs)
        # The first source listed that has the id: where the customer's row comes from.
        self.primary: ir.Value = ibis.cases(
            *[(self.found[r], ibis.literal(r, type="int32")) for r in range(k)],
            else_=ibis.null("int32"),
        )


def _counts(
    table: str,
    union: ir.Table,
    has_key: ir.BooleanValue,
    ids: _PerId,
    names: Sequence[str],
    parts: Sequence[CanonicalSource],
) -> CombineCounts:
    per_id, found, key, attrs = ids.table, ids.found, ids.key, ids.attrs
    combined, disagree, primary = ids.combined, ids.disagree, ids.primary
    k = len(names)
    # Rows per source, and those without an id: one scan of the sources.
    per_source = (
        union.group_by(_rank=union[SOURCE_RANK])
        .aggregate(rows=union.count(), no_key=union.count(where=~has_key))
        .to_pyarrow()
        .to_pylist()
    )
    rows = dict.fromkeys(range(k), 0)
    no_key = 0
    for record in per_source:
        rows[int(record["_rank"])] = int(record["rows"])
        no_key += int(record["no_key"] or 0)

    as_int = [f.cast("int64") for f in found]
    sources_of_id = sum(as_int[1:], as_int[0])
    aggs: dict[str, ir.Value] = {"customers": per_id.count()}
    aggs["in_several"] = (sources_of_id > 1).sum()
    for r in range(k):
        aggs[f"ids_{r}"] = found[r].sum()
        aggs[f"repeated_{r}"] = ibis.greatest(per_id[_n(r)] - 1, 0).sum()
        aggs[f"only_{r}"] = (found[r] & (sources_of_id == 1)).sum()
        aggs[f"absent_{r}"] = (~found[r]).sum()
    for j, name in enumerate(attrs):
        aggs[f"conflicts_{j}"] = disagree[name].sum()
        aggs[f"missing_{j}"] = combined[name].isnull().sum()
        for r in range(k):
            aggs[f"missing_{j}_{r}"] = (combined[name].isnull() & (primary == r)).sum()
    got = {a: int(v or 0) for a, v in per_id.aggregate(**aggs).to_pyarrow().to_pylist()[0].items()}

    conflict_examples: dict[str, tuple[str, ...]] = {}
    for j, name in enumerate(attrs):
        if got[f"conflicts_{j}"]:
            conflict_examples[name] = _conflict_examples(per_id, disagree[name], key, j, names)
    absent_examples: dict[str, tuple[str, ...]] = {}
    for r in range(k):
        if got[f"absent_{r}"]:
            absent_examples[names[r]] = _absent_examples(per_id, found, key, r, names)

    columns = {
        names[r]: tuple(c for c in p.table.columns if c not in key and c != SOURCE_RANK)
        for r, p in enumerate(parts)
    }
    return CombineCounts(
        table=table,
        key=tuple(key),
        sources=tuple(names),
        columns=columns,
        rows={names[r]: rows[r] for r in range(k)},
        ids={names[r]: got[f"ids_{r}"] for r in range(k)},
        repeated={names[r]: got[f"repeated_{r}"] for r in range(k)},
        customers=got["customers"],
        null_ids=no_key,
        in_several=got["in_several"],
        only_in={names[r]: got[f"only_{r}"] for r in range(k)},
        absent_from={names[r]: got[f"absent_{r}"] for r in range(k)},
        absent_examples=absent_examples,
        conflicts={name: got[f"conflicts_{j}"] for j, name in enumerate(attrs)},
        conflict_examples=conflict_examples,
        missing={name: got[f"missing_{j}"] for j, name in enumerate(attrs)},
        missing_by_source={
            name: {names[r]: got[f"missing_{j}_{r}"] for r in range(k) if got[f"missing_{j}_{r}"]}
            for j, name in enumerate(attrs)
        },
    )


def _conflict_examples(
    per_id: ir.Table,
    disagree: ir.BooleanValue,
    key: Sequence[str],
    j: int,
    names: Sequence[str],
) -> tuple[str, ...]:
    k = len(names)
    picked = (
        per_id.filter(disagree)
        .order_by(key)
        .limit(EXAMPLES)
        .select(*key, *[_v(j, r) for r in range(k)])
        .to_pyarrow()
        .to_pylist()
    )
    out = []
    for record in picked:
        values = [
            f"{_show(record[_v(j, r)])} ({names[r]})"
            for r in range(k)
            if record[_v(j, r)] is not None
        ]
        out.append(f"{_id_text(record, key)}: {' vs '.join(values)}")
    return tuple(out)


def _absent_examples(
    per_id: ir.Table,
    found: Sequence[ir.BooleanValue],
    key: Sequence[str],
    r: int,
    names: Sequence[str],
) -> tuple[str, ...]:
    k = len(names)
    flags = {f"_in_{s}": found[s] for s in range(k)}
    picked = (
        per_id.filter(~found[r])
        .order_by(key)
        .limit(EXAMPLES)
        .select(*key, **flags)
        .to_pyarrow()
        .to_pylist()
    )
    return tuple(
        f"{_id_text(record, key)}: in "
        + ", ".join(names[s] for s in range(k) if record[f"_in_{s}"])
        for record in picked
    )


def combine_findings(counts: CombineCounts) -> list[Finding]:
    """The combining's counts as findings on the table (all kept; nothing is excluded).

    ``combined_sources`` (info): rows and ids per source, ids in several sources;
    ``ids_not_in_source`` (info), one per source missing some ids; ``conflicting_values``
    (warning), one per column whose sources disagree, with examples;
    ``missing_after_combining`` (info), one per group of columns with the same missing
    ids by source.
    """
    table, n = counts.table, counts.customers
    if not n:
        return []
    order = ", then ".join(counts.sources)
    parts = "; ".join(
        f"{s}: {counts.rows[s]:,} rows, {counts.ids[s]:,} ids"
        + (f" ({_rows_repeat(counts.repeated[s])} an id of {s})" if counts.repeated[s] else "")
        for s in counts.sources
    )
    total_rows = sum(counts.rows.values()) - counts.null_ids
    what = (
        f"were combined by id from {len(counts.sources)} sources ({parts}); "
        f"{counts.in_several:,} ids are in several sources"
    )
    findings = [
        Finding(
            table=table,
            check="combined_sources",
            message=f"{n:,} {_noun(n)} {what}.",
            rows=n,
            action="kept",
            effect=f"one row per customer from {total_rows:,} source rows with an id: each "
            f"attribute is taken from the first source listed that has a value for it "
            f"({order})",
            what=what,
            what_one=what.replace("were combined", "was combined"),
            severity="info",
        )
    ]
    for s in counts.sources:
        absent = counts.absent_from[s]
        if not absent:
            continue
        what = f"are not in {s} (found only in other sources)"
        findings.append(
            Finding(
                table=table,
                check="ids_not_in_source",
                message=f"{absent:,} of {n:,} {_noun(n)} {what}.",
                rows=absent,
                action="kept",
                effect=f"kept; their attributes come from the other sources ({s} has "
                f"{counts.only_in[s]:,} ids found in no other source)",
                what=what,
                what_one="is not in " + what.removeprefix("are not in "),
                severity="info",
                examples=tuple({"example": e} for e in counts.absent_examples.get(s, ())),
            )
        )
    for column, conflicts in counts.conflicts.items():
        if not conflicts:
            continue
        what = f"have different non-null {column!r} values in different sources"
        examples = counts.conflict_examples.get(column, ())
        findings.append(
            Finding(
                table=table,
                check="conflicting_values",
                message=f"{conflicts:,} of {n:,} {_noun(n)} {what}, e.g. {'; '.join(examples)}.",
                rows=conflicts,
                action="kept",
                effect=f"the value of the first source listed that has one is kept ({order})",
                what=what,
                what_one=what.replace("have different", "has different"),
                severity="warning",
                examples=tuple({"example": e} for e in examples),
            )
        )
    findings += _missing_findings(counts)
    return findings


def _missing_findings(counts: CombineCounts) -> list[Finding]:
    """Columns without a value after combining, grouped when they miss the same ids."""
    groups: dict[tuple[tuple[str, int], ...], list[str]] = {}
    for column, n in counts.missing.items():
        if n:
            signature = tuple(counts.missing_by_source[column].items())  # source order
            groups.setdefault(signature, []).append(column)
    findings = []
    for signature, columns in groups.items():
        n = sum(m for _, m in signature)
        names = ", ".join(repr(c) for c in columns)
        origin = []
        for source, m in signature:
            lacks = [c for c in columns if c not in counts.columns[source]]
            lacking = ", ".join(repr(c) for c in lacks)
            note = f", which has no {lacking} column{'s' * (len(lacks) > 1)}" if lacks else ""
            share = "all" if m == n else f"{m:,}"
            origin.append(f"{share} from {source}{note}")
        what = f"have no value for {names} in any source ({'; '.join(origin)})"
        findings.append(
            Finding(
                table=counts.table,
                check="missing_after_combining",
                message=f"{n:,} of {counts.customers:,} {_noun(counts.customers)} {what}.",
                rows=n,
                action="kept",
                effect="kept without a value: a breakdown by "
                + ("these columns" if len(columns) > 1 else names)
                + " cannot place them",
                what=what,
                what_one=what.replace("have no value", "has no value"),
                severity="info",
            )
        )
    return findings


def _rows_repeat(n: int) -> str:
    return "1 row repeats" if n == 1 else f"{n:,} rows repeat"


def _noun(n: int) -> str:
    return "customer" if n == 1 else "customers"


def _n(r: int) -> str:
    return f"_n_{r}"


def _v(j: int, r: int) -> str:
    return f"_v_{j}_{r}"


def _value(column: ir.Value) -> ir.Value:
    """The column with NaN read as no value."""
    if column.type().is_floating():
        return ibis.ifelse(column.isnan(), ibis.null(column.type()), column)  # type: ignore[attr-defined]
    return column


def _reduce(column: ir.Value, where: ir.BooleanValue) -> ir.Value:
    """One value per id of one source: the smallest non-null one (any, if not orderable)."""
    typ = column.type()
    if typ.is_array() or typ.is_map() or typ.is_struct() or typ.is_json():
        return column.arbitrary(where=where)  # type: ignore[no-any-return]
    return column.min(where=where)  # type: ignore[attr-defined,no-any-return]


def _unique_labels(labels: Sequence[str] | None, k: int) -> list[str]:
    given = list(labels) if labels is not None else [f"source {r + 1}" for r in range(k)]
    if len(given) != k:
        raise ConfigError(f"combine: {k} sources but {len(given)} labels")
    out: list[str] = []
    for r, label in enumerate(given):
        out.append(label if label not in out and given.count(label) == 1 else f"{label} #{r + 1}")
    return out


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _id_text(record: Mapping[str, Any], key: Sequence[str]) -> str:
    if len(key) == 1:
        return f"id {record[key[0]]}"
    return "id (" + ", ".join(str(record[k]) for k in key) + ")"


__all__ = [
    "COMBINABLE",
    "COMBINE",
    "CombineCounts",
    "combine_customers",
    "combine_findings",
    "resolve_policy",
]
