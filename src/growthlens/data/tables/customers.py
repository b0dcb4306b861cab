"""The ``customers`` table (profiles): declaration."""

from __future__ import annotations

from growthlens.data.tables.declaration import USER, TableModel

CUSTOMERS = TableModel(
    name="customers",
    description="One row per customer (user_id) with any attributes: age, gender, city, "
    "education, coefficients.",
    row="customers",
    row_one="customer",
    columns=(USER,),
    time_column=None,
    key=("user_id",),
)
