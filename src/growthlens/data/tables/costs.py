"""The ``costs`` table (ad spend per day and source): declaration and row checks.

Costs given by campaign without a source (an ads export such as AdWords' has campaign ids
only) take their source at load from the sessions: :func:`fill_source`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from growthlens.data.tables.declaration import SEEN_SOURCES, Column, FlagRule, TableModel

NO_SESSIONS = "(no sessions)"
"""The source of cost rows whose campaign no session comes from (or without a campaign)."""
FROM_CAMPAIGN = "(from sessions by campaign)"
"""What the mapping shows as the source column of a costs source that has none."""
TO_FILL = "\x01growthlens: source from campaign"
"""The source placeholder of such rows until :func:`fill_source` replaces it."""


def _unknown_cost_source(t: Mapping[str, ir.Table]) -> ir.Table:
    c, s = t["costs"], t["sessions"]
    seen = t[SEEN_SOURCES] if SEEN_SOURCES in t else s.select(seen_source=s.source).distinct()
    # Rows given NO_SESSIONS at load are counted there (cost_campaign_without_sessions).
    return c.filter(c.source != NO_SESSIONS).anti_join(seen, c.source == seen.seen_source)


@dataclass(frozen=True)
class SourceFill:
    """What :func:`fill_source` gave the accepted cost rows (:func:`fill_counts`).

    Attributes:
        rows: accepted cost rows (all sources of the table).
        assigned: accepted rows that had no source and took their campaign's.
        campaigns: distinct campaigns of the assigned rows.
        unassigned: accepted rows that had no source and got :data:`NO_SESSIONS`.
        orphans: distinct campaigns of those (no session has them).
        no_campaign: of those, rows without a campaign.
    """

    rows: int
    assigned: int
    campaigns: int
    unassigned: int
    orphans: int
    no_campaign: int


def campaign_sources(sessions: ir.Table) -> ir.Table:
    """The source most of each campaign's sessions come from.

    One row per campaign: ``fill_campaign`` and ``fill_source`` (ties: the smallest
    source as text). Sessions without a campaign or a source say nothing about a
    campaign's source.
    """
    s = sessions.filter(sessions.campaign.notnull() & sessions.source.notnull())
    s = s.select(campaign=s.campaign.cast("string"), source=s.source.cast("string"))
    per = s.group_by(["campaign", "source"]).aggregate(n=s.count())
    order = [ibis.desc("n"), ibis.asc("source")]
    ranked = per.mutate(rank=ibis.row_number().over(group_by="campaign", order_by=order))
    best = ranked.filter(ranked["rank"] == 0)
    return best.select(fill_campaign=best.campaign, fill_source=best.source)


def fill_source(costs: ir.Table, sessions: ir.Table | None) -> ir.Table:
    """Replace the placeholder source of cost rows read without one.

    A row takes :func:`campaign_sources`' source of its campaign (ids compared as text);
    a row whose campaign no session has, or without a campaign, takes
    :data:`NO_SESSIONS`, as does every such row when ``sessions`` is ``None``. Rows with
    a source of their own are left as they are.
    """
    placeholder = costs.source == TO_FILL
    if sessions is None or "campaign" not in costs.columns:
        source = ibis.ifelse(placeholder, NO_SESSIONS, costs.source)
        return costs.mutate(source=source)
    best = campaign_sources(sessions)
    joined = costs.left_join(best, costs.campaign.cast("string") == best.fill_campaign)
    found = joined.fill_source.fill_null(NO_SESSIONS)
    source = ibis.ifelse(joined.source == TO_FILL, found, joined.source)
    return joined.select(*[source.name(c) if c == "source" else joined[c] for c in costs.columns])


def fill_counts(filled: ir.Table, rows: int) -> SourceFill:
    """What :func:`fill_source` gave the accepted rows of sources read without a source.

    ``filled``: those rows; ``rows``: every accepted cost row.
    """
    none = filled.source == NO_SESSIONS
    campaign = filled.campaign.cast("string")
    counts = filled.aggregate(
        assigned=(~none).sum(),
        campaigns=campaign.nunique(where=~none),
        unassigned=none.sum(),
        orphans=campaign.nunique(where=none),
        no_campaign=(none & campaign.isnull()).sum(),
    )
    row = counts.to_pyarrow().to_pylist()[0]
    return SourceFill(rows=rows, **{k: int(v or 0) for k, v in row.items()})


COSTS = TableModel(
    name="costs",
    description="One row per day and source (and campaign): the marketing spend (cost), "
    "with optional clicks and impressions. Costs by campaign without a source take the "
    "source of their campaign's sessions.",
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


# The same table with ``source`` optional: how a costs source is read when its source may
# come from the campaign (the load adds it, or raises the usual missing-column error).
COSTS_SOURCE_OPTIONAL = replace(
    COSTS,
    columns=tuple(replace(c, required=False) if c.name == "source" else c for c in COSTS.columns),
)
