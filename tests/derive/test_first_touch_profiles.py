"""First-touch profiles: day masks by the first session's device or source, one build for both."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.derive import activity

SESSIONS = pd.DataFrame(
    {
        "user_id": [1, 1, 2, 2, 3, 4],
        "session_id": [10, 11, 20, 21, 30, 40],
        "start_ts": pd.to_datetime(
            [
                "2024-01-01 10:00",  # user 1 starts on touch from ads, comes back on day 2
                "2024-01-02 09:00",
                "2024-01-02 08:00",  # user 2 starts on desktop from mail
                "2024-01-01 23:00",  # (listed second, but earlier: the first session)
                "2024-01-03 12:00",
                "2024-01-01 12:00",
            ]
        ),
        "device": ["touch", "desktop", "desktop", "touch", None, "touch"],
        "source": ["ads", "mail", "mail", "seo", "ads", "ads"],
        "campaign": ["a", "b", "b", "a", "a", "b"],
    }
)


def _profiles(ds: gl.Dataset, by: str) -> list[tuple[Any, ...]]:
    frame = activity.profiles(ds, by=by, first_touch=True).to_pandas()
    return sorted(frame[[by, "d0", "users"]].itertuples(index=False, name=None))


def test_first_touch_profiles_by_hand_and_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, ...]] = []
    original = activity._first_touch_profiles

    def counting(ds: gl.Dataset, dims: tuple[str, ...]) -> Any:
        built.append(dims)
        return original(ds, dims)

    counted = replace(activity.FIRST_TOUCH_PROFILES, builder=counting)
    monkeypatch.setattr(activity, "FIRST_TOUCH_PROFILES", counted)
    ds = gl.load(sessions=SESSIONS, window=("2024-01-01", "2024-01-03"))
    # Day bits: 1 = Jan 1, 2 = Jan 2, 4 = Jan 3. User 2's first session is the 23:00 one.
    assert _profiles(ds, "device") == [("(unknown)", 4, 1), ("touch", 1, 1), ("touch", 3, 2)]
    assert _profiles(ds, "source") == [("ads", 1, 1), ("ads", 3, 1), ("ads", 4, 1), ("seo", 3, 1)]
    assert built == [("device", "source")]
    # A dimension outside the report's splits is its own build, not a wider joint table.
    assert _profiles(ds, "campaign") == [("a", 3, 2), ("a", 4, 1), ("b", 1, 1)]
    assert built == [("device", "source"), ("campaign",)]
    # Sessions without one of the splits: the joint table holds the ones they have.
    fresh = gl.load(sessions=SESSIONS.drop(columns="device"), window=("2024-01-01", "2024-01-03"))
    assert _profiles(fresh, "source") == _profiles(ds, "source")
    assert built[-1] == ("source",)
