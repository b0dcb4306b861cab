"""Data overview and data quality as Results (``gl.overview``, ``gl.quality``).

The overview says what was loaded: per table the rows loaded, accepted and excluded, the
first and last date, distinct users (counted in the engine), the columns and how they were
mapped, the data window and where it came from, and the backend. The quality Result turns
the load's counted findings (:mod:`growthlens.data.quality`) into a table and sentences
computed from the numbers, e.g. "1 of 50,415 orders (0.002%) falls outside the data window
2017-06-01 – 2018-05-31 and is excluded from every metric."
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.model import TABLES
from growthlens.data.quality import Finding as LoadFinding
from growthlens.data.quality import TableCounts
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import count_of

# How a table's rows are called in sentences ("1 of 50,415 orders").
ROW_NOUN: dict[str, str] = {
    "sessions": "sessions",
    "orders": "orders",
    "costs": "cost rows",
    "events": "events",
    "touchpoints": "touchpoints",
    "conversions_reference": "reference conversions",
    "customers": "customers",
    "assignments": "assignments",
}
# Text columns with at most this many distinct values are listed value by value.
MAX_DIMENSION_VALUES = 50
TOP_VALUES = 10
SEVERITIES = ("error", "warning", "info")
CHARTED_TABLES = ("sessions", "events", "customers")

_WINDOW_SOURCE_TEXT = {
    "setting": "set by the window setting",
    "tables": "the span every time-stamped table covers",
    "none": "no time-stamped table, so no window",
}


OVERVIEW_SUMMARY: SummarySpec = {
    "window_start": ("date", "Window start"),
    "window_end": ("date", "Window end"),
    "window_days": ("days", "Window length"),
    "window_source": ("text", "Window from"),
    "backend": ("text", "Backend"),
    "currency": ("text", "Currency"),
    "margin": ("share", "Margin"),
    "timezone": ("text", "Time zone"),
    "users": ("count", "Users (with a session)"),
    "buyers": ("count", "Buyers"),
    **{
        f"{name}_rows": ("count", f"{name.replace('_', ' ').capitalize()} rows accepted")
        for name in TABLES
    },
}
QUALITY_SUMMARY: SummarySpec = {
    "findings": ("count", "Findings"),
    "errors": ("count", "Errors (rows excluded)"),
    "warnings": ("count", "Warnings (rows flagged)"),
    "info": ("count", "Notes"),
    "rows_loaded": ("count", "Rows loaded"),
    "rows_excluded": ("count", "Rows excluded"),
    "excluded_share": ("share", "Share of rows excluded"),
    "max_excluded_share": ("share", "Largest excluded share of a table"),
}


def overview(ds: Dataset) -> Result:
    """What was loaded: rows, dates, users, columns, window and backend per table.

    Main table columns: ``table``, ``sources``, ``rows_loaded``, ``rows_accepted``,
    ``rows_excluded``, ``excluded_share``, ``first_date``, ``last_date``, ``users``
    (distinct ``user_id`` among accepted rows, ``None`` when the table has no user id),
    ``preset``. Extra tables: ``columns`` (table, column, source_column, type, nulls,
    distinct), ``values`` (table, column, value, rows: the most frequent values of each
    text column with few distinct values) and ``daily`` (date, table, rows accepted).

    Args:
        ds: a loaded Dataset.

    Returns:
        The overview Result; ``summary`` holds the window, its origin, the backend, the
        settings that shape money (``currency``, ``margin``) and rows per table.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> visits = pd.DataFrame(
        ...     {"user_id": [1, 1, 2], "start_ts": ["2020-01-01", "2020-01-02", "2020-01-02"]}
        ... )
        >>> int(gl.overview(gl.load(sessions=visits)).table.loc[0, "users"])
        2
    """
    quality = ds.quality
    rows: list[dict[str, Any]] = []
    column_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    daily_parts: list[pd.DataFrame] = []
    for counts in quality.counts:
        table = ds.tables.get(counts.table)
        stats = _column_stats(table) if table is not None else {}
        users = stats.get("user_id", {}).get("distinct")
        rows.append(
            {
                "table": counts.table,
                "sources": ", ".join(counts.sources),
                "rows_loaded": counts.loaded,
                "rows_accepted": counts.accepted,
                "rows_excluded": counts.excluded,
                "excluded_share": counts.excluded / counts.loaded if counts.loaded else math.nan,
                "first_date": counts.first,
                "last_date": counts.last,
                "users": users,
                "preset": counts.preset,
            }
        )
        column_rows.extend(_columns_of(counts, table, stats))
        if table is not None:
            value_rows.extend(_top_values(counts.table, table, stats))
            daily = _daily_rows(counts.table, table)
            if daily is not None:
                daily_parts.append(daily)
    main = pd.DataFrame(
        rows,
        columns=[
            "table",
            "sources",
            "rows_loaded",
            "rows_accepted",
            "rows_excluded",
            "excluded_share",
            "first_date",
            "last_date",
            "users",
            "preset",
        ],
    ).astype({"users": "Int64"})
    columns = pd.DataFrame(
        column_rows, columns=["table", "column", "source_column", "type", "nulls", "distinct"]
    )
    values = pd.DataFrame(value_rows, columns=["table", "column", "value", "rows"])
    daily = (
        pd.concat(daily_parts, ignore_index=True)
        if daily_parts
        else pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "table": [], "rows": []})
    )
    window = ds.window
    summary: dict[str, SummaryValue] = {
        "window_start": window[0].isoformat() if window else None,
        "window_end": window[1].isoformat() if window else None,
        "window_days": (window[1] - window[0]).days + 1 if window else None,
        "window_source": quality.window_source,
        "backend": ds.backend_name,
        "currency": ds.settings.currency,
        "margin": ds.settings.margin,
        "timezone": ds.settings.timezone or "as given",
    }
    for row in rows:
        summary[f"{row['table']}_rows"] = row["rows_accepted"]
    if "sessions" in ds.tables:
        summary["users"] = _int_or_none(main.loc[main.table == "sessions", "users"].iloc[0])
    if "orders" in ds.tables:
        summary["buyers"] = _int_or_none(main.loc[main.table == "orders", "users"].iloc[0])
    figures = [
        FigureSpec(
            kind="line",
            x="date",
            y="rows",
            color="table",
            table="daily",
            title="Accepted rows per day",
            labels={"date": "Date", "rows": "Rows per day", "table": "Table"},
            value_format=",.0f",
        )
    ]
    # Charts for who the users are (sessions, events, customers); spend tables list their
    # values in the table only, since "rows per source" of a cost export says little.
    dims = values[values.table.isin(CHARTED_TABLES)].drop_duplicates(["table", "column"])
    for _, dim in dims.head(3).iterrows():
        key = f"values.{dim['table']}.{dim['column']}"
        figures.append(
            FigureSpec(
                kind="bar",
                x="rows",
                y="value",
                orientation="h",
                table=key,
                title=f"{dim['table'].capitalize()} by {dim['column']} (top {TOP_VALUES})",
                labels={
                    "rows": ROW_NOUN[dim["table"]].capitalize(),
                    "value": str(dim["column"]).capitalize(),
                },
                value_format=",.0f",
            )
        )
    extra = {"columns": columns, "values": values, "daily": daily}
    for spec in figures[1:]:
        _, table_name, column = spec.table.split(".", 2)
        part = values[(values.table == table_name) & (values.column == column)]
        extra[spec.table] = part.reset_index(drop=True)
    return Result(
        name="overview",
        title="Data overview",
        table=main,
        summary=summarize(summary, OVERVIEW_SUMMARY),
        findings=tuple(_overview_sentences(ds, rows)),
        tables=extra,
        figures=tuple(f for f in figures if f.table in extra),
        notes=(
            "Rows loaded = rows accepted + rows excluded, per table; the quality section "
            "lists every reason a row was excluded.",
            "Users = distinct user ids among accepted rows. First and last date are those of "
            "accepted rows (inside the data window).",
        ),
    )


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
    report = ds.quality
    totals = {c.table: c for c in report.counts}
    rows = []
    sentences: list[Finding] = []
    for finding in report.findings:
        base = _base_rows(finding, totals.get(finding.table))
        share = finding.rows / base if base else math.nan
        rows.append(
            {
                "table": finding.table,
                "check": finding.check,
                "rows": finding.rows,
                "share": share,
                "action": finding.action,
                "effect": finding.effect,
                "severity": finding.severity,
                "examples": _examples_text(finding),
            }
        )
        sentences.append(
            Finding(
                finding.check,
                finding_sentence(finding, base),
                finding.severity,
                {
                    "table": finding.table,
                    "rows": finding.rows,
                    "share": share,
                    "action": finding.action,
                },
            )
        )
    main = pd.DataFrame(
        rows,
        columns=["table", "check", "rows", "share", "action", "effect", "severity", "examples"],
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
        summary=summarize(summary, QUALITY_SUMMARY),
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
    )


def finding_sentence(finding: LoadFinding, base: int | None) -> str:
    """One plain sentence from a finding's numbers (count, share, what, consequence)."""
    noun = ROW_NOUN.get(finding.table, f"{finding.table} rows")
    what = _what(finding)
    if finding.rows == 1:
        what = _singular(what)
    if base:
        lead = f"{finding.rows:,} of {base:,} {noun} ({percent(finding.rows / base)})"
    else:
        lead = f"{finding.rows:,} {noun}"
    verb = "is" if finding.rows == 1 else "are"
    if finding.action == "excluded":
        tail = f" and {verb} excluded from every metric"
    else:
        tail = f" — {_lower_first(finding.effect)}"
    return f"{lead} {what}{tail}."


def percent(share: float) -> str:
    """A share as a percentage with enough decimals to show it is not zero.

    >>> percent(1 / 50_415), percent(0.057), percent(0.5), percent(0.0)
    ('0.002%', '5.7%', '50%', '0%')
    """
    if not share or not math.isfinite(share):
        return "0%" if share == 0 else "n/a"
    pct = share * 100
    decimals = min(6, max(1, -math.floor(math.log10(abs(pct))))) if abs(pct) < 10 else 1
    text = f"{pct:.{decimals}f}"
    if abs(pct) >= 10 and text.endswith(".0"):
        text = text[:-2]
    return f"{text}%"


def _base_rows(finding: LoadFinding, counts: TableCounts | None) -> int | None:
    if counts is None:
        return None
    return counts.loaded if finding.action == "excluded" else counts.accepted


_LEAD = re.compile(r"^[\d,]+ of [\d,]+ [^()]*\([^)]*\) (?P<what>.+?)\.?$", re.DOTALL)
_SINGULAR = {
    "have": "has",
    "are": "is",
    "fall": "falls",
    "duplicate": "duplicates",
    "end": "ends",
    "belong": "belongs",
    "repeat": "repeats",
    "come": "comes",
    "lie": "lies",
    "do": "does",
}


def _what(finding: LoadFinding) -> str:
    # The load writes "N of M <table> rows (x%) <what>."; reuse its <what> so a new check
    # needs no second wording here.
    match = _LEAD.match(finding.message)
    return match.group("what") if match else _lower_first(finding.message.rstrip("."))


def _singular(text: str) -> str:
    first, _, rest = text.partition(" ")
    replaced = _SINGULAR.get(first, first)
    rest = rest.replace("they start", "it starts").replace("their ", "its ")
    return f"{replaced} {rest}".strip()


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


def _column_stats(table: ir.Table) -> dict[str, dict[str, int]]:
    # One engine aggregate per table: nulls and distinct values of every column.
    metrics: dict[str, ir.Scalar] = {}
    for i, column in enumerate(table.columns):
        metrics[f"n{i}"] = table[column].isnull().sum()
        metrics[f"d{i}"] = table[column].nunique()
    row = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
    return {
        column: {"nulls": int(row[f"n{i}"] or 0), "distinct": int(row[f"d{i}"] or 0)}
        for i, column in enumerate(table.columns)
    }


def _columns_of(
    counts: TableCounts, table: ir.Table | None, stats: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    schema = table.schema() if table is not None else {}
    out = []
    for column in counts.columns:
        out.append(
            {
                "table": counts.table,
                "column": column,
                "source_column": counts.mapping.get(column, column),
                "type": str(schema[column]) if column in schema else None,
                "nulls": stats.get(column, {}).get("nulls"),
                "distinct": stats.get(column, {}).get("distinct"),
            }
        )
    return out


def _top_values(
    name: str, table: ir.Table, stats: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    model = TABLES[name]
    out: list[dict[str, Any]] = []
    for column, dtype in table.schema().items():
        known = model.column(column)
        if not dtype.is_string() or (known is not None and known.kind == "id"):
            continue
        if stats.get(column, {}).get("distinct", MAX_DIMENSION_VALUES + 1) > MAX_DIMENSION_VALUES:
            continue
        value = table[column].fill_null("(unknown)")
        grouped = table.group_by(value=value).aggregate(rows=table.count())
        top = (
            grouped.order_by([ibis.desc("rows"), "value"])
            .limit(TOP_VALUES)
            .to_pyarrow()
            .to_pylist()
        )
        out.extend(
            {"table": name, "column": column, "value": r["value"], "rows": int(r["rows"])}
            for r in top
        )
    return out


def _daily_rows(name: str, table: ir.Table) -> pd.DataFrame | None:
    time_column = TABLES[name].time_column
    if time_column is None or time_column not in table.columns:
        return None
    col = table[time_column]
    day = col if col.type().is_date() else col.date()
    frame = table.group_by(date=day).aggregate(rows=table.count()).to_pyarrow().to_pandas()
    frame = frame.sort_values("date").reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"])
    frame.insert(1, "table", name)
    out: pd.DataFrame = frame[["date", "table", "rows"]]
    return out


def _overview_sentences(ds: Dataset, rows: list[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    window = ds.window
    if window:
        origin = _WINDOW_SOURCE_TEXT.get(ds.quality.window_source, ds.quality.window_source)
        days = (window[1] - window[0]).days + 1
        out.append(
            Finding(
                "window",
                f"The data window is {window[0]} – {window[1]} ({count_of(days, 'day')}; "
                f"{origin}).",
                numbers={
                    "start": window[0].isoformat(),
                    "end": window[1].isoformat(),
                    "days": days,
                },
            )
        )
    for row in rows:
        users = f" from {count_of(row['users'], 'user')}" if row["users"] is not None else ""
        accepted = f"{row['rows_accepted']:,} of {row['rows_loaded']:,} rows accepted"
        text = f"{row['table'].capitalize()}: {accepted}{users}"
        if row["rows_excluded"]:
            share = percent(row["excluded_share"])
            text += f"; {row['rows_excluded']:,} excluded ({share}), see Data quality"
        out.append(
            Finding(
                "rows_accepted",
                text + ".",
                numbers={
                    "table": row["table"],
                    "rows_loaded": row["rows_loaded"],
                    "rows_accepted": row["rows_accepted"],
                    "rows_excluded": row["rows_excluded"],
                },
            )
        )
    return out


def _int_or_none(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
