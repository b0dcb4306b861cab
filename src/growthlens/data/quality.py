"""The load's quality report: per-table row accounting and counted findings.

Every row read is either accepted or excluded for exactly one stated reason, so
``loaded == accepted + excluded`` holds per table. Problems that do not exclude a row
(kept and flagged) are findings too, with the metrics they are left out of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Action = Literal["excluded", "kept_flagged", "kept"]


@dataclass(frozen=True)
class Finding:
    """One counted problem.

    Attributes:
        table: canonical table the rows belong to.
        check: machine name, e.g. ``negative_revenue``.
        message: plain-language description with the count.
        rows: number of rows concerned.
        action: ``excluded`` (left out of every metric), ``kept_flagged`` (kept, left out of
            the metrics named in ``effect``) or ``kept`` (kept everywhere).
        effect: what the action means for the numbers, in words.
        what: what is wrong with the rows, as it follows their count in ``message``
            (``have negative revenue``): other wordings build on it instead of parsing
            ``message``.
        what_one: the same for a single row (``has negative revenue``).
        severity: ``info`` (a fact), ``warning`` (look at it) or ``error`` (the numbers
            are not to be trusted as they stand). For most checks it follows the shares
            below and ``[settings.severity]``; some keep a fixed one
            (growthlens.data.severity).
        examples: a few offending rows (canonical columns).
        revenue: the money the rows carry (revenue; spend for costs), where the check
            measured it; ``None`` otherwise.
        rows_share: ``rows`` ÷ the table's rows (read, for an exclusion; accepted,
            otherwise); ``None`` when the table has none or the rows are not its rows.
        revenue_share: ``revenue`` ÷ the table's money on the same base: the revenue at
            stake; ``None`` when not measured.
    """

    table: str
    check: str
    message: str
    rows: int
    action: Action
    effect: str
    what: str
    what_one: str
    severity: Severity = "warning"
    examples: tuple[Mapping[str, Any], ...] = ()
    revenue: float | None = None
    rows_share: float | None = None
    revenue_share: float | None = None


@dataclass(frozen=True)
class TableCounts:
    """Row accounting for one canonical table."""

    table: str
    sources: tuple[str, ...]
    loaded: int
    accepted: int
    excluded: int
    excluded_by_reason: Mapping[str, int] = field(default_factory=dict)
    first: date | None = None
    last: date | None = None
    columns: tuple[str, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    unique: tuple[str, ...] = ()
    """Key columns no two accepted rows share a value of (the duplicate policy removed
    repeats: ``first`` or ``last``); nulls aside, their distinct values are their values."""

    def __post_init__(self) -> None:
        # The invariant the whole report relies on; break loudly, never silently.
        if self.loaded != self.accepted + self.excluded:
            raise AssertionError(
                f"{self.table}: loaded {self.loaded} != accepted {self.accepted} "
                f"+ excluded {self.excluded}"
            )
        if sum(self.excluded_by_reason.values()) != self.excluded:
            raise AssertionError(
                f"{self.table}: exclusion reasons do not add up to {self.excluded}"
            )


@dataclass(frozen=True)
class QualityReport:
    """Everything the load found, for ``gl.quality`` and the report."""

    counts: tuple[TableCounts, ...]
    findings: tuple[Finding, ...]
    window: tuple[date, date] | None
    window_source: str

    def table_counts(self, table: str) -> TableCounts:
        """Counts of one table."""
        for c in self.counts:
            if c.table == table:
                return c
        raise KeyError(table)

    def findings_for(self, table: str) -> tuple[Finding, ...]:
        """Findings about one table."""
        return tuple(f for f in self.findings if f.table == table)
