"""The canonical data model (DESIGN §3): tables, their columns and how headers map to them.

Every loader ends in these names and types, so analyses never see a source's own layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "timestamp", "date", "number", "text"]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes:
        name: canonical snake_case name.
        kind: how values are coerced: ``id`` (uint64 when every value is a
            non-negative integer that fits, else string), ``timestamp`` (naive, in the
            dataset time zone), ``date``, ``number`` (float64) or ``text``.
        required: a table without it cannot be loaded.
        aliases: normalised header names recognised as this column.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableModel:
    """One canonical table.

    Attributes:
        name: canonical table name.
        columns: known columns (others are kept as extra dimensions).
        time_column: the column that places a row in time (defines the data window).
        key: columns identifying a row for the duplicate policy; ``None`` means the
            whole row.
    """

    name: str
    columns: tuple[Column, ...]
    time_column: str | None
    key: tuple[str, ...] | None = None

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The canonical column called ``name``, if the model has one."""
        return next((c for c in self.columns if c.name == name), None)


_USER = Column("user_id", "id", True, ("uid", "user", "userid", "client_id", "visitor_id"))

TABLES: dict[str, TableModel] = {
    m.name: m
    for m in (
        TableModel(
            "sessions",
            (
                _USER,
                Column(
                    "start_ts",
                    "timestamp",
                    True,
                    ("start", "session_start", "start_time", "started_at", "visit_start"),
                ),
                Column(
                    "end_ts", "timestamp", False, ("end", "session_end", "end_time", "ended_at")
                ),
                Column("session_id", "id", False, ("visit_id", "sessionid")),
                Column(
                    "source",
                    "text",
                    False,
                    ("source_id", "utm_source", "channel", "traffic_source"),
                ),
                Column("device", "text", False, ("device_type", "platform")),
                Column("campaign", "text", False, ("campaign_id", "utm_campaign")),
                Column("country", "text", False, ("region", "country_code")),
                Column("landing_page", "text", False, ("landing_page_id", "landing")),
            ),
            time_column="start_ts",
            key=("session_id",),
        ),
        TableModel(
            "orders",
            (
                _USER,
                Column(
                    "ts",
                    "timestamp",
                    True,
                    ("buy_ts", "order_ts", "purchase_ts", "created_at", "order_date"),
                ),
                Column("revenue", "number", True, ("amount", "order_value", "value", "price")),
                Column("order_id", "id", False, ("conversion_id", "transaction_id")),
                Column("currency", "text", False, ()),
            ),
            time_column="ts",
            key=("order_id",),
        ),
        TableModel(
            "costs",
            (
                Column("date", "date", True, ("dt", "day")),
                Column("source", "text", True, ("source_id", "utm_source", "channel")),
                Column("cost", "number", True, ("costs", "spend", "amount")),
                Column("campaign", "text", False, ("campaign_id", "utm_campaign")),
                Column("clicks", "number", False, ()),
                Column("impressions", "number", False, ("shows", "views")),
            ),
            time_column="date",
            key=("date", "source", "campaign"),
        ),
        TableModel(
            "events",
            (
                _USER,
                Column(
                    "ts",
                    "timestamp",
                    True,
                    ("event_ts", "event_time", "timestamp", "event_timestamp"),
                ),
                Column("event", "text", True, ("event_name", "event_type", "action")),
                Column("session_id", "id", False, ()),
            ),
            time_column="ts",
        ),
        TableModel(
            "touchpoints",
            (
                Column("conversion_id", "id", True, ("order_id", "transaction_id")),
                Column("session_id", "id", True, ()),
                Column("weight", "number", False, ("ihc", "share")),
                Column("ts", "timestamp", False, ("session_ts", "touch_ts")),
                Column("channel", "text", False, ("source", "channel_name")),
            ),
            time_column=None,
            key=("conversion_id", "session_id"),
        ),
        TableModel(
            "conversions_reference",
            (
                _USER,
                Column("ts", "timestamp", True, ("buy_ts", "order_ts", "conv_ts", "created_at")),
                Column("revenue", "number", True, ("amount", "revenue_value", "value")),
                Column("order_id", "id", False, ("conversion_id", "conv_id", "transaction_id")),
            ),
            time_column="ts",
            key=("order_id",),
        ),
        TableModel("customers", (_USER,), time_column=None, key=("user_id",)),
        TableModel(
            "assignments",
            (
                _USER,
                Column("variant", "text", True, ("group", "arm", "test_group")),
                Column("experiment", "text", False, ("test", "experiment_id")),
                Column("ts", "timestamp", False, ("assigned_at", "assignment_ts")),
            ),
            time_column=None,
            key=("experiment", "user_id"),
        ),
    )
}

TableName = Literal[
    "sessions",
    "orders",
    "costs",
    "events",
    "touchpoints",
    "conversions_reference",
    "customers",
    "assignments",
]


def snake_case(header: str) -> str:
    """Normalise a source header: ``"Start Ts"`` → ``"start_ts"``, ``"sourceId"`` → ``"source_id"``.

    >>> snake_case("Start Ts"), snake_case("sourceId"), snake_case(" Buy-Ts ")
    ('start_ts', 'source_id', 'buy_ts')
    """
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header.strip())
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text or "column"
