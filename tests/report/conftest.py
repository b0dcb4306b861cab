"""Shared fixtures of the report tests: a tiny hand-checked dataset and a hostile one."""

from __future__ import annotations

import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from tests.oracle.random_data import random_frames

HOSTILE_SOURCE = "<script>alert(1)</script>"
HOSTILE_VALUE = '"><img src=x onerror=alert(1)>'


def tiny_frames() -> dict[str, pd.DataFrame]:
    """Sessions 2020-01-01..05 (4 rows, 3 users, one ends before it starts) and 3 orders.

    Orders: user 1 on 01-01 (10.0, accepted), user 2 on 01-03 (-5.0, negative revenue,
    excluded before the window is known) and user 1 on 01-09 (7.0). The window is the span
    both tables cover: start = max(01-01, 01-01), end = min(01-05, 01-09) = 01-05, so the
    01-09 order is out of the window and excluded.
    """
    sessions = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 1],
            "start_ts": [
                "2020-01-01 10:00",
                "2020-01-02 10:00",
                "2020-01-03 10:00",
                "2020-01-05 10:00",
            ],
            "end_ts": [
                "2020-01-01 10:05",
                "2020-01-02 10:01",
                "2020-01-03 09:00",
                "2020-01-05 10:00",
            ],
            "source": ["ads", "seo", "ads", "ads"],
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 1],
            "ts": ["2020-01-01 12:00", "2020-01-03 12:00", "2020-01-09 12:00"],
            "revenue": [10.0, -5.0, 7.0],
        }
    )
    return {"sessions": sessions, "orders": orders}


@pytest.fixture(scope="session")
def tiny() -> Dataset:
    return gl.load(**tiny_frames())


@pytest.fixture(scope="session")
def hostile() -> Dataset:
    """Random data where one source and one device value are HTML/JS injection attempts."""
    frames = random_frames(3, users=120, days=60)
    sessions = frames.sessions.copy()
    sessions["source"] = sessions["source"].astype(object)
    sessions["device"] = sessions["device"].astype(object)
    sessions.loc[sessions.index[:5], "source"] = HOSTILE_SOURCE
    sessions.loc[sessions.index[5:9], "device"] = HOSTILE_VALUE
    # An end-before-start row carrying both values, so they also appear in finding examples.
    sessions.loc[sessions.index[0], "device"] = HOSTILE_VALUE
    sessions.loc[sessions.index[0], "end_ts"] = sessions.loc[
        sessions.index[0], "start_ts"
    ] - pd.Timedelta(minutes=5)
    return gl.load(sessions=sessions, orders=frames.orders, costs=frames.costs)
