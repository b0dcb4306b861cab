"""Assignments from participant lists: one file of ids per variant, every token accounted.

``gl.load(assignments={"treatment": "ids_positive.txt", "control": "ids_negative.txt"})``
(or ``[assignments] lists = {...}`` in a config) reads each file with
:func:`growthlens.data.idlist.read_id_list` and makes the ``assignments`` table:
``user_id`` (typed like the other tables' ids), ``variant`` (the list's name) and
``experiment`` (:func:`experiment_name`).

The quality report counts list **tokens** as the table's rows read, so
``rows read = accepted + excluded`` holds for the lists as for any table. Each token
takes the first reason that applies:

1. ``not_an_id`` — a token that is no id (a header word, ``NaN``, ``—``, text);
2. ``in_several_lists`` — every token of an id listed under two or more variants: its
   arm is unknown, so it is in no arm (the report names how many and which);
3. ``duplicate_id`` — a repeat of an id earlier in the same list;
4. ``unknown_id`` — an id found in none of the loaded customers, orders and sessions
   (an id of nobody: a typo, a deleted account, another system's ids);
5. accepted — an id in exactly one list, found in another table: one row.

The lists are parsed in Python (they are small text files: a million ids parse in under
a second); the known-id check is one semi-join in the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import ValidationError

from growthlens.data.config import LISTS_KEYS, ListsSpec, SourceSpec, TableSpec
from growthlens.data.idlist import IdList, read_id_list
from growthlens.data.quality import Finding, Severity, TableCounts
from growthlens.errors import ConfigError

KNOWN_FROM = ("customers", "orders", "sessions")
"""The tables whose ids make a listed id known (the unknown-id check reads them)."""
REASONS = ("not_an_id", "in_several_lists", "duplicate_id", "unknown_id")
PRESET = "participant_lists"
EXAMPLES = 5

# Words of a list's file name that say "a list of ids", not which experiment.
_GENERIC = frozenset({"id", "ids", "list", "lists", "users", "user", "participants"})
_TEXT: dict[str, tuple[str, str, str, Severity]] = {
    # reason: (what, what_one, effect, severity)
    "not_an_id": (
        "are not ids (a header word, a missing-value mark or other text)",
        "is not an id (a header word, a missing-value mark or other text)",
        "left out; nothing is lost, they name no participant",
        "info",
    ),
    "in_several_lists": (
        "are ids listed under two or more variants",
        "is an id listed under two or more variants",
        "left out of every arm: the participant's arm is unknown",
        "warning",
    ),
    "duplicate_id": (
        "repeat an id listed earlier in the same list",
        "repeats an id listed earlier in the same list",
        "counted once: the participant is in the arm once",
        "info",
    ),
    "unknown_id": (
        f"are ids found in none of the loaded {', '.join(KNOWN_FROM)}",
        f"is an id found in none of the loaded {', '.join(KNOWN_FROM)}",
        "left out of every arm: an id of nobody has no data to measure",
        "warning",
    ),
}


def as_lists(value: Any) -> ListsSpec | None:
    """The participant lists ``gl.load(assignments=...)`` names, or ``None`` for a table.

    Lists: ``{"treatment": "a.txt", "control": "b.txt"}`` (variant → file; no key of a
    source such as ``path`` or ``sources``), or ``{"lists": {...}, "experiment": "x"}``.

    >>> as_lists({"treatment": "a.txt", "control": "b.txt"}).lists["control"]
    'b.txt'
    >>> as_lists({"path": "assignments.csv"}) is None
    True

    Raises:
        ConfigError: a lists mapping with a bad value.
    """
    if not isinstance(value, Mapping) or not value:
        return None
    if ("lists" in value or "rule" in value) and set(value) <= LISTS_KEYS:
        data: Mapping[str, Any] = value
    elif not set(value) & _SOURCE_KEYS and all(
        isinstance(v, str | PurePath) for v in value.values()
    ):
        data = {"lists": dict(value)}
    else:
        return None
    try:
        return ListsSpec.model_validate(data)
    except ValidationError as exc:
        message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(
            f"assignments: {message}; expected variant names to files, e.g. "
            'assignments={"treatment": "ids_positive.txt", "control": "ids_negative.txt"}'
        ) from exc


_SOURCE_KEYS = frozenset({*SourceSpec.model_fields, *TableSpec.model_fields})


def experiment_name(paths: Sequence[str | Path]) -> str:
    """The experiment a set of list files names: their common stem, generic words dropped.

    The names are split into words at ``_``, ``-``, ``.``, spaces and case changes; the
    words all of them share at the start are kept, less the words that only say "ids"
    (``ids``, ``list``, ``users``…). ``experiment`` when nothing is left, or with one file.

    >>> experiment_name(["ids_first_company_positive.txt", "ids_first_company_negative.txt"])
    'first_company'
    >>> experiment_name(["a.txt", "b.txt"])
    'experiment'
    """
    if len(paths) < 2:
        return "experiment"
    words = [_words(Path(p).name) for p in paths]
    common: list[str] = []
    for group in zip(*words, strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    kept = [w for w in common if w not in _GENERIC]
    return "_".join(kept) or "experiment"


def _words(name: str) -> list[str]:
    stem = name.split(".", 1)[0]
    stem = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", stem)
    return [w.lower() for w in re.split(r"[^0-9A-Za-z]+", stem) if w]


@dataclass(frozen=True)
class ListedAssignments:
    """What the lists gave: the table, its row accounting and findings.

    Attributes:
        table: ``user_id``, ``variant``, ``experiment``: one row per accepted id.
        counts: rows read = tokens, accepted, excluded by reason.
        findings: one per exclusion reason with tokens, with examples.
        lists: each variant's :class:`IdList` as read.
    """

    table: ir.Table
    counts: TableCounts
    findings: tuple[Finding, ...]
    lists: Mapping[str, IdList]


def lists_table(
    spec: ListsSpec,
    known_from: Mapping[str, ir.Table],
    *,
    numeric: bool,
    max_bytes: int = 1 << 30,
) -> ListedAssignments:
    """Read the lists, classify every token and build the assignments table.

    Args:
        spec: the lists (paths already resolved).
        known_from: the accepted rows of the tables whose ``user_id`` make an id known.
        numeric: read tokens as integer ids (the other tables' ids are numbers).
        max_bytes: the largest list file read.

    Raises:
        DataError: a list cannot be read (missing, binary, too large; names the file).
    """
    read = {
        variant: read_id_list(path, numeric=numeric, max_bytes=max_bytes)
        for variant, path in spec.lists.items()
    }
    experiment = spec.experiment or experiment_name(list(spec.lists.values()))
    listed_in: dict[int | str, list[str]] = {}
    for variant, parsed in read.items():
        for key in parsed.ids:
            listed_in.setdefault(key, []).append(variant)
    several = {key for key, variants in listed_in.items() if len(variants) > 1}
    excluded = dict.fromkeys(REASONS, 0)
    examples: dict[str, list[dict[str, Any]]] = {r: [] for r in REASONS}
    for parsed in read.values():
        excluded["not_an_id"] += sum(parsed.non_ids.values())
        for token, n in list(parsed.non_ids.items())[:EXAMPLES]:
            examples["not_an_id"].append({"list": _label(parsed), "token": token, "count": n})
        repeats = {k: n for k, n in parsed.repeats.items() if k in several}
        overlap = [k for k in parsed.ids if k in several]
        tokens_of_overlap = len(overlap) + sum(repeats.values())
        excluded["in_several_lists"] += tokens_of_overlap
        excluded["duplicate_id"] += parsed.duplicates - sum(repeats.values())
    for key in sorted(several, key=str)[:EXAMPLES]:
        examples["in_several_lists"].append({"id": key, "lists": ", ".join(listed_in[key])})
    rows = pd.DataFrame(
        [
            (key, variant)
            for variant, parsed in read.items()
            for key in parsed.ids
            if key not in several
        ],
        columns=["user_id", "variant"],
    )
    rows["user_id"] = rows["user_id"].astype(str)
    rows["experiment"] = experiment
    candidates = ibis.memtable(
        rows, schema={"user_id": "string", "variant": "string", "experiment": "string"}
    )
    table, unknown, unknown_examples = _known(candidates, known_from)
    excluded["unknown_id"] = unknown
    examples["unknown_id"] = unknown_examples
    total = sum(p.tokens for p in read.values())
    accepted = total - sum(excluded.values())
    labels = tuple(_label(p) for p in read.values())
    by_reason = {r: n for r, n in excluded.items() if n}
    counts = TableCounts(
        table="assignments",
        sources=labels,
        loaded=total,
        accepted=accepted,
        excluded=sum(by_reason.values()),
        excluded_by_reason=by_reason,
        columns=("user_id", "variant", "experiment"),
        mapping={"variant": "list name", "user_id": "list tokens"},
        preset=PRESET,
    )
    findings = tuple(
        _finding(reason, n, total, tuple(examples[reason]))
        for reason, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return ListedAssignments(table=table, counts=counts, findings=findings, lists=read)


def _label(parsed: IdList) -> str:
    return Path(parsed.path).name


def _known(
    candidates: ir.Table, known_from: Mapping[str, ir.Table]
) -> tuple[ir.Table, int, list[dict[str, Any]]]:
    """The listed ids found in another table (typed like its ids), and the others counted."""
    tables = list(known_from.values())
    target = tables[0].user_id.type()
    ids = ibis.union(*[t.select(user_id=t.user_id.cast("string")) for t in tables], distinct=True)
    known = candidates.semi_join(ids, "user_id")
    unknown = candidates.anti_join(ids, "user_id")
    stats = unknown.aggregate(n=unknown.count()).to_pyarrow().to_pylist()[0]
    n = int(stats["n"] or 0)
    examples = (
        unknown.order_by(["variant", "user_id"]).limit(EXAMPLES).to_pyarrow().to_pylist()
        if n
        else []
    )
    typed = known.select(
        user_id=known.user_id.cast(target) if not target.is_string() else known.user_id,
        variant=known.variant,
        experiment=known.experiment,
    )
    return typed.cache(), n, [{"id": e["user_id"], "list": e["variant"]} for e in examples]


def _finding(reason: str, n: int, total: int, examples: tuple[dict[str, Any], ...]) -> Finding:
    what, what_one, effect, severity = _TEXT[reason]
    return Finding(
        table="assignments",
        check=reason,
        message=f"{n:,} of {total:,} list tokens ({n / total:.1%}) {what if n != 1 else what_one}.",
        rows=n,
        action="excluded",
        effect=effect,
        what=what,
        what_one=what_one,
        severity=severity,
        examples=examples,
    )


__all__ = [
    "KNOWN_FROM",
    "REASONS",
    "ListedAssignments",
    "as_lists",
    "experiment_name",
    "lists_table",
]


RULE_PRESET = "assignment_rule"
"""The ``preset`` of the assignments' counts when a rule made them."""


def rule_table(spec: ListsSpec, customers: ir.Table | None) -> ListedAssignments:
    """Every customer matching ``spec.rule`` as a participant of the ``treatment`` variant.

    A numeric column is compared as numbers, any other as text (trimmed). Rows read =
    the customers matching (every one accepted); the rule's wording is the source.

    Raises:
        ConfigError: no customers table, or a rule column it does not have.
    """
    rule = spec.rule or {}
    words = " and ".join(
        f"{k} = {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in rule.items()
    )
    if customers is None:
        raise ConfigError(
            f"assignments: the rule {words} selects customers, but no customers table is "
            "loaded; add [customers] (or customers=...)"
        )
    condition: ir.BooleanValue = ibis.literal(True)
    for column, value in rule.items():
        if column not in customers.columns:
            have = ", ".join(c for c in customers.columns if c != "user_id")
            raise ConfigError(
                f"assignments: the rule names {column!r}, which is not a customers column "
                f"(found: {have}); name one of those"
            )
        values = value if isinstance(value, list) else [value]
        col = customers[column]
        if col.type().is_numeric():
            try:
                numbers = [float(v) for v in values]
            except ValueError:
                raise ConfigError(
                    f"assignments: the rule compares the numeric column {column!r} with "
                    f"{values!r}; give numbers"
                ) from None
            condition = condition & col.cast("float64").isin(numbers)
        else:
            condition = condition & col.cast("string").strip().isin(
                [str(v).strip() for v in values]
            )
    chosen = customers.filter(condition)
    experiment = spec.experiment or f"customers with {words}"
    table = chosen.select(
        "user_id",
        variant=ibis.literal("treatment"),
        experiment=ibis.literal(experiment),
    ).cache()
    n = int(table.count().to_pyarrow().as_py())
    counts = TableCounts(
        table="assignments",
        sources=(f"rule: {words}",),
        loaded=n,
        accepted=n,
        excluded=0,
        excluded_by_reason={},
        columns=("user_id", "variant", "experiment"),
        mapping={"variant": "treatment (the rule)", "user_id": "customers matching the rule"},
        preset=RULE_PRESET,
    )
    return ListedAssignments(table=table, counts=counts, findings=(), lists={})
