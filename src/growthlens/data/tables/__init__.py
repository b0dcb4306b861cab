"""The canonical tables (DESIGN §3): one declaration each, in the module named after it.

``TABLES`` maps each name to its :class:`TableModel`, in canonical order. Everything that
knows the tables reads it: ``gl.load``'s keywords (checked by a test), the CLI's table
options, the config sections, the load's checks and the overview's wording. To add a
table, add its module here (docs/architecture.md, "How to add a table").
"""

from __future__ import annotations

from typing import Literal

from growthlens.data.tables.assignments import ASSIGNMENTS
from growthlens.data.tables.conversions_reference import CONVERSIONS_REFERENCE
from growthlens.data.tables.costs import COSTS
from growthlens.data.tables.customers import CUSTOMERS
from growthlens.data.tables.declaration import (
    FIRST_VISITS,
    SEEN_SOURCES,
    USER,
    Column,
    ColumnKind,
    FlagRule,
    TableModel,
    snake_case,
)
from growthlens.data.tables.events import EVENTS
from growthlens.data.tables.orders import ORDERS
from growthlens.data.tables.sessions import SESSIONS
from growthlens.data.tables.touchpoints import TOUCHPOINTS

TABLES: dict[str, TableModel] = {
    t.name: t
    for t in (
        SESSIONS,
        ORDERS,
        COSTS,
        EVENTS,
        TOUCHPOINTS,
        CONVERSIONS_REFERENCE,
        CUSTOMERS,
        ASSIGNMENTS,
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

__all__ = [
    "FIRST_VISITS",
    "SEEN_SOURCES",
    "TABLES",
    "USER",
    "Column",
    "ColumnKind",
    "FlagRule",
    "TableModel",
    "TableName",
    "snake_case",
]
