"""Bring an aggregate out of the engine as a small pandas frame.

Through Arrow rather than ``.execute()``: exact types (uint64 ids, dates) and no pandas
string-inference warnings. Only aggregates go through here, never row-level tables.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd


def fetch(expr: ir.Table) -> pd.DataFrame:
    """Run an aggregate expression and return it as pandas."""
    frame: pd.DataFrame = expr.to_pyarrow().to_pandas()
    return frame
