"""The ``costs`` table (ad spend per day and source): declaration and row checks."""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir

from growthlens.data.tables.declaration import SEEN_SOURCES, Column, FlagRule, TableModel


def _unknown_cost_source(t: Mapping[str, ir.Table]) -> ir.Table:
    c, s = t["costs"], t["sessions"]
    seen = t[SEEN_SOURCES] if SEEN_SOURCES in t else s.select(seen_source=s.source).distinct()
    return c.anti_join(seen, c.source == seen.seen_source)


COSTS = TableModel(
    name="costs",
    description="One row per day and source (and campaign): the marketing spend (cost), "
    "with optional clicks and impressions.",
    row="cost rows",
    row_one="cost row",
    columns=(
        Column("date", "date", True, ("dt", "day")),
        Column("source", "text", True, ("source_id", "utm_source", "channel")),
        Column("cost", "number", True, ("costs", "spend", "amount"), negative="negative_cost"),
        Column("campaign", "text", False, ("campaign_id", "utm_campaign")),
        Column("clicks", "number", False, (), negative="negative_clicks"),
        Column("impressions", "number", False, ("shows", "views"), negative="negative_impressions"),
    ),
    time_column="date",
    key=("date", "source", "campaign"),
    settings=("window", "period", "currency", "horizon"),
    flags=(
        FlagRule(
            "cost_source_without_sessions",
            ("costs", "sessions"),
            _unknown_cost_source,
            "are for a source that no session comes from",
            "is for a source that no session comes from",
            "kept",
            "the spend counts; its CAC is undefined (no buyers)",
        ),
    ),
)
