"""Severity of the load's findings by what is at stake: shares of rows and of money.

A finding's severity says how far the numbers can be trusted as they stand, so it follows
the share of its table the finding concerns, not the kind of problem alone: one order of
100,000 outside the data window is a fact (``info``), orders carrying 8% of the revenue
that no session explains are not. For each *graded* check (:data:`GRADED`, and every
exclusion of broken rows: ``missing_*``, ``nonfinite_*``, ``negative_*``):

- ``rows_share`` = rows concerned ÷ the table's rows: all rows read for an exclusion
  (``TableCounts.loaded``), the accepted rows for a check on kept rows;
- ``revenue_share`` = the money those rows carry ÷ the same base's money: revenue for
  orders and conversions_reference, spend for costs; only finite, non-negative amounts
  count (a missing or negative amount carries no money to measure). ``None`` when the
  table has no money column or the finding's rows carry no known amount;
- severity = ``error`` when either share reaches its ``error`` threshold, else
  ``warning`` when either reaches its ``warning`` threshold, else ``info``
  (``[settings.severity]``, growthlens.data.config.SeverityThresholds; "reaches" is
  ``>=``), then held between the check's floor and ceiling (:class:`Grade`).

Checks that cannot be measured in rows or money keep the fixed severity their finding was
made with: lines without a row (``comment_line``, ``blank_line``: info), a guessed day/month
order (``ambiguous_date_order``: warning, all rows or none are wrong), line breaks inside
quoted values (``line_breaks_in_values``: warning, counts line breaks, not rows), how costs
got their source (``cost_source_from_campaign``: info, a method), and the findings of
combining customers' sources and of the participant lists. Their shares are still filled
in where rows can be counted. Input that cannot be used at all (a missing required
column, an unreadable file) is not a finding: the load raises DataError/ConfigError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from growthlens.data.config import SeverityThresholds
from growthlens.data.quality import Finding, Severity, TableCounts

RANK: dict[Severity, int] = {"info": 0, "warning": 1, "error": 2}
"""Severities in order, least first."""


@dataclass(frozen=True)
class Grade:
    """The range a graded check's severity is held in, whatever its shares."""

    floor: Severity
    ceiling: Severity


# Rows dropped as expected trims of real exports: only their share makes them a problem.
_TRIM = Grade("info", "error")
# Rows an export should never hold: even one says the export has a bug worth a look.
_BROKEN = Grade("warning", "error")
# Rows counted right in every total, only missing from a breakdown (or right as they are):
# at most something to look at.
_COUNTED = Grade("info", "warning")

GRADED: dict[str, Grade] = {
    "out_of_window": _TRIM,
    "duplicate_key": _TRIM,
    "future_timestamp": _TRIM,
    "unreadable_line": _BROKEN,
    # Kept rows that are wrong for some metrics, or not attributable to a source.
    "end_before_start": _TRIM,
    "session_without_end": _TRIM,
    "order_before_first_visit": _TRIM,
    "orders_without_session": _TRIM,
    "duplicate_key_kept": _TRIM,
    "identical_rows": _TRIM,
    # Spend in the totals (total CAC and ROMI are right), only no source's CAC has it.
    "cost_source_without_sessions": _COUNTED,
    "cost_campaign_without_sessions": _COUNTED,
    # Free orders are orders: counted right, they only lower the average check.
    "zero_revenue": _COUNTED,
}
"""Checks whose severity follows their shares, with the range each is held in."""

BROKEN_PREFIXES = ("missing_", "nonfinite_", "negative_")
"""Exclusions of rows with a missing required value or an impossible amount (``_BROKEN``)."""


NOT_ROWS = frozenset({"line_breaks_in_values"})
"""Checks whose ``rows`` counts something else than the table's rows (line breaks)."""


def grade_of(finding: Finding) -> Grade | None:
    """The check's :class:`Grade`, or ``None`` when its severity is fixed."""
    if finding.check in GRADED:
        return GRADED[finding.check]
    if finding.action == "excluded" and finding.check.startswith(BROKEN_PREFIXES):
        return _BROKEN
    return None


def by_shares(
    rows_share: float | None, revenue_share: float | None, thresholds: SeverityThresholds
) -> Severity:
    """The severity the shares alone give: the worse of the rows' and the money's.

    >>> from growthlens.data.config import SeverityThresholds
    >>> t = SeverityThresholds()  # warning 0.1% / 0.1%, error 5% / 1%
    >>> by_shares(1 / 100_000, None, t), by_shares(0.001, 0.0, t), by_shares(0.002, 0.08, t)
    ('info', 'warning', 'error')
    """
    worst: Severity = "info"
    for level in ("warning", "error"):
        limits = getattr(thresholds, level)
        if (rows_share is not None and rows_share >= limits.rows) or (
            revenue_share is not None and revenue_share >= limits.revenue
        ):
            worst = level
    return worst


def severity(
    finding: Finding,
    rows_share: float | None,
    revenue_share: float | None,
    thresholds: SeverityThresholds,
) -> Severity:
    """The finding's severity: graded by its shares and held in its range, or its own."""
    grade = grade_of(finding)
    if grade is None:
        return finding.severity
    level = RANK[by_shares(rows_share, revenue_share, thresholds)]
    bounded = min(max(level, RANK[grade.floor]), RANK[grade.ceiling])
    return next(s for s, r in RANK.items() if r == bounded)


@dataclass(frozen=True)
class Money:
    """A table's money (revenue, or spend): of every row read and of the accepted rows."""

    loaded: float
    accepted: float


def grade(
    findings: Iterable[Finding],
    counts: Iterable[TableCounts],
    money: Mapping[str, Money],
    thresholds: SeverityThresholds,
) -> tuple[Finding, ...]:
    """The findings with ``rows_share``, ``revenue_share`` and their graded severity.

    Args:
        findings: the load's findings; each carries the money of its rows in ``revenue``
            where its check measured it.
        counts: the row accounting, for the bases of the rows' shares.
        money: per table with a money column, its money read and accepted.
        thresholds: ``[settings.severity]``.

    A share whose base is zero is ``None`` (nothing to be a share of).
    """
    totals = {c.table: c for c in counts}
    out = []
    for f in findings:
        table = totals.get(f.table)
        excluded = f.action == "excluded"
        base_rows = (table.loaded if excluded else table.accepted) if table else 0
        rows_share = f.rows / base_rows if base_rows and f.check not in NOT_ROWS else None
        revenue_share = None
        if f.revenue is not None and f.table in money:
            base = money[f.table].loaded if excluded else money[f.table].accepted
            revenue_share = f.revenue / base if base > 0 else None
        level = severity(f, rows_share, revenue_share, thresholds)
        out.append(replace(f, rows_share=rows_share, revenue_share=revenue_share, severity=level))
    return tuple(out)


__all__ = ["GRADED", "RANK", "Grade", "Money", "by_shares", "grade", "grade_of", "severity"]
