"""Activity profiles: DuckDB's wide path (124-bit aggregates split in two) and the
portable path (one 62-bit aggregate per mask) give the same table."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from growthlens.data import profile
from growthlens.engine import connect


@pytest.mark.parametrize("days", [1, 62, 63, 124, 125, 365, 800])
def test_wide_masks_equal_portable_masks(days: int) -> None:
    """3,000 sessions of 400 users spread over ``days`` days, some twice on one day (so
    some users keep their ``user_id``), with the last day always used so the top bit of
    the last mask is set. Both paths must give the same rows, and every user once.
    """
    rng = np.random.default_rng(days)
    start = date(2020, 1, 1)
    n = 3_000
    day = rng.integers(0, days, n)
    day[:5] = days - 1
    sessions = pd.DataFrame(
        {
            "user_id": rng.integers(0, 400, n),
            "start_ts": pd.Timestamp(start)
            + pd.to_timedelta(day, "D")
            + pd.to_timedelta(rng.integers(0, 86_400, n), "s"),
        }
    )
    con = connect("duckdb")
    table = con.create_table("sessions", sessions)
    window = (start, start + timedelta(days=days - 1))

    def rows(backend: object) -> pd.DataFrame:
        built = profile.build(table, window, backend).to_pyarrow().to_pandas()  # type: ignore[arg-type]
        keys = [c for c in built.columns if c != profile.USERS]
        return built.sort_values(keys, na_position="first").reset_index(drop=True)

    wide, portable = rows(con), rows(None)
    pd.testing.assert_frame_equal(wide, portable)
    assert int(wide[profile.USERS].sum()) == sessions.user_id.nunique()
    # Each user's active days, recovered from the masks, match the data.
    masks = [c for c in wide.columns if c.startswith("d")]
    active = sum(
        int(wide[profile.USERS][i]) * sum(bin(int(wide[m][i])).count("1") for m in masks)
        for i in range(len(wide))
    )
    assert active == len(sessions.assign(d=day).drop_duplicates(["user_id", "d"]))
