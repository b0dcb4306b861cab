"""The ``sessions`` table (visits): declaration and row checks."""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir

from growthlens.data.lengths import LENGTH
from growthlens.data.tables.declaration import USER, Column, FlagRule, TableModel

_KEPT = "counted as activity and first touch; left out of session-length statistics"


def _ends_before_start(s: ir.Table) -> ir.BooleanValue:
    return s.end_ts < s.start_ts


def _has_no_end(s: ir.Table) -> ir.BooleanValue:
    return s.end_ts.isnull()


def _negative_length(counts: ir.Table) -> ir.BooleanValue:
    return counts[LENGTH] < 0


def _no_length(counts: ir.Table) -> ir.BooleanValue:
    # start_ts is required, so only a missing end makes the length null.
    return counts[LENGTH].isnull()


def _end_before_start(t: Mapping[str, ir.Table]) -> ir.Table:
    return t["sessions"].filter(_ends_before_start)


def _no_end(t: Mapping[str, ir.Table]) -> ir.Table:
    return t["sessions"].filter(_has_no_end)


SESSIONS = TableModel(
    name="sessions",
    description="One row per visit: who (user_id), when it started (start_ts) and ended, "
    "and its source, device and other dimensions.",
    row="sessions",
    row_one="session",
    columns=(
        USER,
        Column(
            "start_ts",
            "timestamp",
            True,
            ("start", "session_start", "start_time", "started_at", "visit_start"),
        ),
        Column("end_ts", "timestamp", False, ("end", "session_end", "end_time", "ended_at")),
        Column("session_id", "id", False, ("visit_id", "sessionid")),
        Column("source", "text", False, ("source_id", "utm_source", "channel", "traffic_source")),
        Column("device", "text", False, ("device_type", "platform")),
        Column("campaign", "text", False, ("campaign_id", "utm_campaign")),
        Column("country", "text", False, ("region", "country_code")),
        Column("landing_page", "text", False, ("landing_page_id", "landing")),
    ),
    time_column="start_ts",
    key=("session_id",),
    settings=("timezone", "window", "period", "complete_periods", "acquisition"),
    flags=(
        FlagRule(
            "end_before_start",
            ("sessions",),
            _end_before_start,
            "end before they start",
            "ends before it starts",
            "kept_flagged",
            _KEPT,
            _ends_before_start,
            on_lengths=_negative_length,
        ),
        FlagRule(
            "session_without_end",
            ("sessions",),
            _no_end,
            "have no end time",
            "has no end time",
            "kept_flagged",
            _KEPT,
            _has_no_end,
            on_lengths=_no_length,
        ),
    ),
    per_day_by="source",
)
