"""The ``touchpoints`` table (customer journeys): declaration."""

from __future__ import annotations

from growthlens.data.tables.declaration import Column, TableModel

TOUCHPOINTS = TableModel(
    name="touchpoints",
    description="One row per session on the path to a conversion: conversion_id "
    "(= orders.order_id), session_id, and optionally a weight (e.g. an IHC share), time "
    "and channel.",
    row="touchpoints",
    row_one="touchpoint",
    columns=(
        Column("conversion_id", "id", True, ("order_id", "transaction_id")),
        Column("session_id", "id", True, ()),
        Column("weight", "number", False, ("ihc", "share")),
        Column("ts", "timestamp", False, ("session_ts", "touch_ts")),
        Column("channel", "text", False, ("source", "channel_name")),
    ),
    time_column=None,
    key=("conversion_id", "session_id"),
    settings=("timezone",),
)
