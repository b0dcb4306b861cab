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


def dates(values: pd.Series) -> pd.Series:
    """Normalise engine dates (datetime64 of any unit, or ``date`` objects) to datetime64[ns].

    One dtype keeps merges between engine frames exact on every backend.
    """
    return pd.to_datetime(values).astype("datetime64[ns]")
