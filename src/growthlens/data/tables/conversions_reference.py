"""The ``conversions_reference`` table (a second system's orders): declaration."""

from __future__ import annotations

from growthlens.data.tables.declaration import USER, Column, TableModel

CONVERSIONS_REFERENCE = TableModel(
    name="conversions_reference",
    description="A second system's copy of the orders (e.g. the backend's), to reconcile "
    "against: user_id, ts, revenue and optionally order_id.",
    row="reference conversions",
    row_one="reference conversion",
    columns=(
        USER,
        Column("ts", "timestamp", True, ("buy_ts", "order_ts", "conv_ts", "created_at")),
        Column(
            "revenue",
            "number",
            True,
            ("amount", "revenue_value", "value"),
            negative="negative_revenue",
        ),
        Column("order_id", "id", False, ("conversion_id", "conv_id", "transaction_id")),
    ),
    time_column="ts",
    key=("order_id",),
    settings=("timezone", "window", "currency"),
    sets_window=False,
)
