"""The ``events`` table (behavioural event log): declaration."""

from __future__ import annotations

from growthlens.data.tables.declaration import USER, Column, TableModel

EVENTS = TableModel(
    name="events",
    description="One row per event a user triggered (page view, add to cart, …): who, "
    "when (ts) and which event.",
    row="events",
    row_one="event",
    columns=(
        USER,
        Column("ts", "timestamp", True, ("event_ts", "event_time", "timestamp", "event_timestamp")),
        Column("event", "text", True, ("event_name", "event_type", "action")),
        Column("session_id", "id", False, ()),
    ),
    time_column="ts",
    settings=("timezone", "window", "period"),
)
