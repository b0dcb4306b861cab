"""Retention cells by cohort of first session (docs/metrics.md, "Retention").

Engine → small frames only; the analysis (growthlens.analyses.retention) summarises,
words and draws them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period
from growthlens.metrics.cohorts import observed_grid
from growthlens.metrics.profiles import cohort_cells


def retention_table(
    ds: Dataset, *, period: Period, by: str | None, window: tuple[date, date]
) -> pd.DataFrame:
    """retention(c, k) per observed cell: users of cohort c active in c + k ÷ size of c.

    Columns: ``cohort``, ``by`` (when given), ``age``, ``users`` (cohort size),
    ``active_users``, ``retention``, ``complete``. Cells past the window do not exist;
    observed cells without activity are 0.
    """
    keys = [by] if by else []
    # Cohorts and activity both come from the activity profiles (first active period =
    # period of the first session, since every accepted session lies in the window).
    cells, _ = cohort_cells(ds, period, by=by)
    cells = cells.rename(columns={"users": "active_users"})
    sizes = cells[cells["age"] == 0].drop(columns="age").rename(columns={"active_users": "users"})
    sizes = sizes[["cohort", *keys, "users"]].reset_index(drop=True)
    grid = observed_grid(sizes, window=window, period=period, keys=keys)
    table = grid.merge(cells, on=["cohort", *keys, "age"], how="left", validate="one_to_one")
    table["active_users"] = table["active_users"].fillna(0).astype("int64")
    table["retention"] = table["active_users"] / table["users"]
    return table[["cohort", *keys, "age", "users", "active_users", "retention", "complete"]]
