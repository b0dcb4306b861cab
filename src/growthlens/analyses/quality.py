"""Data quality as a Result (``gl.quality``): the load's counted findings in words.

Turns the load's findings (:mod:`growthlens.data.quality`) into a table and sentences
computed from the numbers, e.g. "1 of 50,415 orders (0.002%) falls outside the data
window 2017-06-01 – 2018-05-31 and is excluded from every metric."
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.data.quality import Finding as LoadFinding
from growthlens.data.quality import QualityReport, TableCounts
from growthlens.data.tables import TABLES
from growthlens.data.tables.orders import ORDER_LINES
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import precise_share

# How a table's rows are called in sentences ("1 of 50,415 orders").
SEVERITIES = ("error", "warning", "info")
SUMMARY: SummarySpec = {
    "findings": ("count", "Findings"),
    "errors": ("count", "Errors"),
    "warnings": ("count", "Warnings"),
    "info": ("count", "Notes"),
    "rows_loaded": ("count", "Rows loaded"),
    "rows_excluded": ("count", "Rows excluded"),
    "excluded_share": ("share", "Share of rows excluded"),
    "max_excluded_share": ("share", "Largest excluded share of a table"),
}


@dataclass(frozen=True)
class Params:
    """No options: the quality report is the load's; ``order_lines`` words its counts."""

    order_lines: bool = False


def quality(ds: Dataset) -> Result:
    """The load's findings: what was wrong, how many rows, and what was done about it.

    Main table columns: ``table``, ``check``, ``rows``, ``share`` (of the rows the check
    looked at: rows loaded for exclusions, rows accepted for kept rows), ``action``
    (``excluded`` / ``kept_flagged`` / ``kept``), ``effect``, ``severity``, ``examples``
    (a few offending rows as JSON text). Extra table ``counts``: per table rows loaded,
    accepted, excluded and one column per exclusion reason.

    Args:
        ds: a loaded Dataset.

    Returns:
        The quality Result; ``summary`` counts findings by severity and excluded rows.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> orders = pd.DataFrame(
        ...     {"user_id": [1, 2], "ts": ["2020-01-01", "2020-01-02"], "revenue": [5.0, -1.0]}
        ... )
        >>> print(gl.quality(gl.load(orders=orders)).findings[0].text[:57])
        1 of 2 orders (50%) has negative revenue (refunds are not
    """
    return QUALITY.run(ds)


def _params(ds: Dataset) -> Params:
    return Params(order_lines=ds.settings.order_lines)


def _compute(ds: Dataset, p: Params) -> QualityReport:
    # Counted by the load already: nothing to ask the engine.
    return ds.quality


QUALITY_COLUMNS = (
    "table", "check", "rows", "share", "revenue_share", "action", "effect", "severity", "examples"
)  # fmt: skip


def _explain(report: QualityReport, p: Params) -> Result:
    totals = {c.table: c for c in report.counts}
    rows = []
    sentences: list[Finding] = []
    for finding in report.findings:
        base = _base_rows(finding, totals.get(finding.table))
        share = finding.rows / base if base else math.nan
        at_stake = math.nan if finding.revenue_share is None else finding.revenue_share
        rows.append(
            {
                "table": finding.table,
                "check": finding.check,
                "rows": finding.rows,
                "share": share,
                "revenue_share": at_stake,
                "action": finding.action,
                "effect": finding.effect,
                "severity": finding.severity,
                "examples": _examples_text(finding),
            }
        )
        sentences.append(
            Finding(
                finding.check,
                finding_sentence(finding, base, order_lines=p.order_lines),
                finding.severity,
                {
                    "table": finding.table,
                    "rows": finding.rows,
                    "share": share,
                    "revenue_share": at_stake,
                    "action": finding.action,
                },
                # The money the rows carry (revenue; spend for costs), where the check knows it.
                at_stake=None if finding.revenue is None else abs(float(finding.revenue)),
            )
        )
    main = pd.DataFrame(
        rows,
        columns=[*QUALITY_COLUMNS],
    )
    reasons = sorted({r for c in report.counts for r in c.excluded_by_reason})
    counts = pd.DataFrame(
        [
            {
                "table": c.table,
                "rows_loaded": c.loaded,
                "rows_accepted": c.accepted,
                "rows_excluded": c.excluded,
                **{r: int(c.excluded_by_reason.get(r, 0)) for r in reasons},
            }
            for c in report.counts
        ],
        columns=["table", "rows_loaded", "rows_accepted", "rows_excluded", *reasons],
    )
    loaded = sum(c.loaded for c in report.counts)
    excluded = sum(c.excluded for c in report.counts)
    summary: dict[str, SummaryValue] = {
        "findings": len(report.findings),
        **{
            f"{s}s" if s != "info" else "info": sum(f.severity == s for f in report.findings)
            for s in SEVERITIES
        },
        "rows_loaded": loaded,
        "rows_excluded": excluded,
        "excluded_share": excluded / loaded if loaded else math.nan,
        "max_excluded_share": max(
            (c.excluded / c.loaded for c in report.counts if c.loaded), default=0.0
        ),
    }
    if not report.findings:
        sentences.append(
            Finding("no_problems", "No problems found: every row loaded passed every check.")
        )
    chart = main.assign(finding=main.table + ": " + main.check).sort_values(
        "share", ascending=False, kind="stable"
    )
    return Result(
        name="quality",
        title="Data quality",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(sentences),
        tables={"counts": counts, "chart": chart[["finding", "share", "action"]]},
        figures=(
            FigureSpec(
                kind="bar",
                x="share",
                y="finding",
                color="action",
                orientation="h",
                table="chart",
                title="Share of rows concerned by each finding",
                labels={
                    "share": "Share of the table's rows",
                    "finding": "Finding",
                    "action": "Action",
                },
                value_format=".1%",
            ),
        )
        if len(main)
        else (),
        notes=(
            "excluded: the rows are left out of every metric. kept_flagged: kept, but left out "
            "of the metrics named in the effect. kept: kept everywhere and reported.",
            "Share = rows ÷ rows loaded for exclusions, rows ÷ rows accepted for kept rows.",
        ),
        params=params_dict(p),
    )


def finding_sentence(finding: LoadFinding, base: int | None, *, order_lines: bool = False) -> str:
    """One plain sentence from a finding's numbers (count, share, what, consequence).

    With ``order_lines`` the orders' checks counted lines, and say so.
    """
    model = ORDER_LINES if order_lines and finding.table == "orders" else TABLES.get(finding.table)
    noun = model.row if model is not None else f"{finding.table} rows"
    what = finding.what_one if finding.rows == 1 else finding.what
    if base:
        lead = f"{finding.rows:,} of {base:,} {noun} ({precise_share(finding.rows / base)})"
    else:
        lead = f"{finding.rows:,} {noun}"
    verb = "is" if finding.rows == 1 else "are"
    if finding.action == "excluded":
        tail = f" and {verb} excluded from every metric"
    else:
        tail = f" — {_lower_first(finding.effect)}"
    return f"{lead} {what}{tail}."


def _base_rows(finding: LoadFinding, counts: TableCounts | None) -> int | None:
    if counts is None:
        return None
    return counts.loaded if finding.action == "excluded" else counts.accepted


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _examples_text(finding: LoadFinding) -> str:
    # One example row per line, as column=value pairs (JSON-quoted text values).
    return "\n".join(
        ", ".join(
            f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in dict(e).items()
        )
        for e in finding.examples
    )


QUALITY = register(
    Analysis(
        name="quality",
        title="Data quality",
        group="quality",
        needs=(),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    quality,
)
