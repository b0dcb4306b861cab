"""The demo's world: what every domain shares (seed, calendar, users, truth's frame).

A :class:`World` is fixed by ``(seed, users, months)``. Domains draw their randomness
from its streams (:class:`Stream`, :meth:`World.rng`), address users by index in seeding
blocks of :data:`BLOCK_USERS` with ids from :meth:`World.user_ids`, and place their rows
on its :class:`Calendar`. Each domain reports its planted values as a
:class:`TruthSection`; :func:`merge_sections` joins the sections into ``truth.json``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

BLOCK_USERS = 10_000
"""Users per seeding block: the unit of randomness (not of writing)."""

WINDOW_START = date(2017, 6, 1)
"""The first day of the data window."""

DAY_SECONDS = 86_400
_EPOCH = datetime(1970, 1, 1)


class Stream(IntEnum):
    """The first spawn key of each random stream: ``SeedSequence(seed, spawn_key=(stream, …))``.

    A stream's numbers depend on the seed and its own keys only, so a new stream (a new
    domain) or more draws in one stream leave every other stream's data unchanged. The
    numbers are part of the data: add new members with the next free number, never
    renumber. (Sales' numbers predate the world, hence ``USER_IDS`` after them.)
    """

    SALES_BLOCKS = 0
    """``(0, block)``: one seeding block's users, sessions and orders."""
    SALES_ANOMALY_QUOTAS = 1
    """How the planted anomaly counts are split over the blocks."""
    SALES_COSTS = 2
    """The daily split of the monthly costs."""
    USER_IDS = 3
    """The key of the user-id bijection."""
    EVENTS_BLOCKS = 4
    """``(4, block)``: one seeding block's event log (demo/events.py)."""
    JOURNEYS_BLOCKS = 5
    """``(5, block)``: one seeding block's journeys and reference conversions (demo/journeys.py)."""
    JOURNEYS_QUOTAS = 6
    """How the planted journey and reconciliation counts are split over the blocks."""
    SALES_CLICKS = 7
    """Clicks and impressions of the cost rows (demo/sales.py)."""


@dataclass(frozen=True)
class Calendar:
    """The data window: ``months`` calendar months from :data:`WINDOW_START`, in day offsets.

    Attributes:
        months: calendar months in the window.
        n_days: days in the window.
        base: naive epoch seconds of the window's first midnight.
        month_first_day: day offset of each month's first day (``months + 1`` values: the
            last is the day after the window).
        month_of_day: month index of every day offset.
    """

    months: int
    n_days: int
    base: int
    month_first_day: NDArray[np.int64]
    month_of_day: NDArray[np.int64]

    @classmethod
    def of(cls, months: int) -> Calendar:
        """The calendar of ``months`` months from :data:`WINDOW_START`."""
        firsts = [_add_months(WINDOW_START, m) for m in range(months + 1)]
        offsets = np.array([(d - WINDOW_START).days for d in firsts], dtype=np.int64)
        month_of_day = np.repeat(np.arange(months, dtype=np.int64), np.diff(offsets))
        base = int((datetime.combine(WINDOW_START, datetime.min.time()) - _EPOCH).total_seconds())
        return cls(months, int(offsets[-1]), base, offsets, month_of_day)

    def day_seconds(self, day: NDArray[np.int64]) -> NDArray[np.int64]:
        """Naive epoch seconds of each day offset's midnight."""
        return self.base + day.astype(np.int64) * DAY_SECONDS

    def day_of(self, ts: NDArray[np.int64]) -> NDArray[np.int64]:
        """Day offset of each naive epoch-seconds timestamp."""
        return (ts - self.base) // DAY_SECONDS

    def date_of(self, day: int) -> date:
        """The date of a day offset."""
        return WINDOW_START + timedelta(days=day)

    @property
    def window(self) -> tuple[str, str]:
        """First and last date of the window (ISO strings)."""
        return WINDOW_START.isoformat(), self.date_of(self.n_days - 1).isoformat()


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


@dataclass(frozen=True)
class World:
    """The seed, the users and the calendar every domain shares.

    Attributes:
        seed: the generator seed.
        users: users in the world, indexed ``0 .. users − 1``.
        calendar: the data window.
        id_key: the key of the user-id bijection (drawn from :attr:`Stream.USER_IDS`).
    """

    seed: int
    users: int
    calendar: Calendar
    id_key: np.uint64

    @classmethod
    def of(cls, *, users: int, seed: int, months: int) -> World:
        """The world of ``users`` users over ``months`` months for ``seed``."""
        sequence = np.random.SeedSequence(seed, spawn_key=(Stream.USER_IDS,))
        key = sequence.generate_state(1, dtype=np.uint64)[0]
        return cls(seed, users, Calendar.of(months), key)

    def rng(self, stream: Stream, *keys: int) -> np.random.Generator:
        """The generator of ``stream`` (with sub-keys, e.g. a block number)."""
        return np.random.default_rng(
            np.random.SeedSequence(self.seed, spawn_key=(int(stream), *keys))
        )

    @property
    def block_sizes(self) -> list[int]:
        """Users in each seeding block of :data:`BLOCK_USERS` (the last may be partial)."""
        return [min(BLOCK_USERS, self.users - start) for start in range(0, self.users, BLOCK_USERS)]

    def user_ids(self, first: int, n: int) -> NDArray[np.uint64]:
        """Ids of users ``first .. first + n − 1``: distinct, over the whole uint64 range.

        About half are above 2**63, like the real exports. The splitmix64 finaliser is a
        bijection of 64-bit integers, so distinct indexes get distinct ids without a
        global set of the ids seen.
        """
        index = np.arange(first, first + n, dtype=np.uint64)
        z = index + self.id_key + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
        return out

    def truth(self) -> WorldTruth:
        """The world's section of the truth."""
        return WorldTruth(self.seed, self.users, self.calendar.months, self.calendar.window)


@dataclass(frozen=True)
class TruthSection:
    """One part of the planted truth: subclasses are frozen dataclasses of JSON values.

    ``truth.json`` is the sections' keys side by side (:func:`merge_sections`); tuple
    fields are JSON lists and become tuples again in :meth:`from_dict`.
    """

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        result: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self)))
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """This section's keys of a truth dict (other sections' keys are ignored)."""
        values = {
            f.name: tuple(data[f.name]) if str(f.type).startswith("tuple") else data[f.name]
            for f in dataclasses.fields(cls)
        }
        return cls(**values)


@dataclass(frozen=True)
class WorldTruth(TruthSection):
    """The world's part of the truth.

    Attributes:
        seed: the generator seed.
        users: users generated.
        months: calendar months in the window.
        window: first and last date of the data window (ISO strings).
    """

    seed: int
    users: int
    months: int
    window: tuple[str, str]


def merge_sections(*sections: TruthSection) -> dict[str, Any]:
    """The sections' dicts side by side, in order: the JSON of ``truth.json``.

    Raises:
        ValueError: two sections have a key in common (a domain names its keys apart).
    """
    merged: dict[str, Any] = {}
    for section in sections:
        part = section.to_dict()
        if common := sorted(merged.keys() & part.keys()):
            raise ValueError(f"{type(section).__name__} repeats truth keys {common}")
        merged.update(part)
    return merged
