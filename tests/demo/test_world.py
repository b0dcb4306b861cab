"""The demo world: pinned random streams, user ids, and the truth's sections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from growthlens.demo.world import Stream, TruthSection, World, merge_sections


def test_stream_numbers_are_pinned() -> None:
    # The numbers are part of the data: renumbering one changes every file it seeds.
    assert {s.name: s.value for s in Stream} == {
        "SALES_BLOCKS": 0,
        "SALES_ANOMALY_QUOTAS": 1,
        "SALES_COSTS": 2,
        "USER_IDS": 3,
        "EVENTS_BLOCKS": 4,
        "JOURNEYS_BLOCKS": 5,
        "JOURNEYS_QUOTAS": 6,
        "SALES_CLICKS": 7,
    }


def test_user_ids_are_distinct_and_do_not_depend_on_the_split() -> None:
    world = World.of(users=1_000, seed=4, months=3)
    ids = world.user_ids(0, 1_000)
    assert len(np.unique(ids)) == 1_000
    assert np.array_equal(ids, np.concatenate([world.user_ids(0, 400), world.user_ids(400, 600)]))
    assert not np.array_equal(ids, World.of(users=1_000, seed=5, months=3).user_ids(0, 1_000))


@dataclass(frozen=True)
class _Extra(TruthSection):
    seed: int
    labels: tuple[str, ...]


def test_sections_merge_side_by_side_and_refuse_a_shared_key() -> None:
    world = World.of(users=200, seed=1, months=2)
    with pytest.raises(ValueError, match=r"_Extra repeats truth keys \['seed'\]"):
        merge_sections(world.truth(), _Extra(1, ("a",)))
    assert _Extra.from_dict({"seed": 1, "labels": ["a"], "other": 0}) == _Extra(1, ("a",))
    assert list(merge_sections(world.truth())) == ["seed", "users", "months", "window"]
