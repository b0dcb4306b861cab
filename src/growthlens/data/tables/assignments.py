"""The ``assignments`` table (experiment arms): declaration."""

from __future__ import annotations

from growthlens.data.tables.declaration import USER, Column, TableModel

ASSIGNMENTS = TableModel(
    name="assignments",
    description="One row per user and experiment: the variant (arm) the user was assigned "
    "to, optionally when.",
    row="assignments",
    row_one="assignment",
    columns=(
        USER,
        Column("variant", "text", True, ("group", "arm", "test_group")),
        Column("experiment", "text", False, ("test", "experiment_id")),
        Column("ts", "timestamp", False, ("assigned_at", "assignment_ts")),
    ),
    time_column=None,
    key=("experiment", "user_id"),
    settings=("timezone",),
)
