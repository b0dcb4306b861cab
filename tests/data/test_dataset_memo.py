"""Small values remembered per Dataset: computed once, kept across `replace`, never stale."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

import growthlens as gl
from growthlens.metrics.marketing import attribution_gap

ORDERS = pd.DataFrame(
    {
        "user_id": [1, 1, 2],
        "ts": pd.to_datetime(["2020-01-05", "2020-02-03", "2020-01-20"]),
        "revenue": [10.0, 5.0, 4.0],
    }
)


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def test_computed_once_per_key() -> None:
    ds = gl.load(orders=ORDERS)
    tables = len(ds.store)
    seven = Counter(7)
    assert ds.remember("seven", seven) == 7
    assert ds.remember("seven", seven) == 7
    assert seven.calls == 1
    other = Counter(8)
    assert ds.remember(("other", 1), other) == 8 and other.calls == 1
    assert len(ds.store) == tables  # values are not counted as derived tables


def test_none_is_remembered_too() -> None:
    ds = gl.load(orders=ORDERS)
    nothing = Counter(None)
    assert ds.remember("nothing", nothing) is None
    assert ds.remember("nothing", nothing) is None
    assert nothing.calls == 1


def test_survives_replace_but_never_serves_other_tables_or_settings() -> None:
    ds = gl.load(orders=ORDERS)
    first = Counter("first")
    ds.remember("fact", first)
    same = replace(ds, truth={"note": "copy"})
    assert same.remember("fact", Counter("again")) == "first"
    other = replace(ds, settings=ds.settings.model_copy(update={"margin": 0.5}))
    assert other.remember("fact", Counter("other settings")) == "other settings"
    fewer = replace(ds, tables={"orders": ds.table("orders").filter(lambda t: t.user_id == 1)})
    assert fewer.remember("fact", Counter("other tables")) == "other tables"
    assert ds.remember("fact", Counter("again")) == "first"
    assert first.calls == 1


def test_attribution_gap_is_computed_once() -> None:
    """The report's plans ask for it several times; the engine answers once."""
    ds = gl.load(orders=ORDERS)
    assert attribution_gap(ds) == "the dataset has no sessions to match buyers to a source"
    sessions = pd.DataFrame(
        {
            "user_id": [1, 2],
            "start_ts": pd.to_datetime(["2020-01-05", "2020-01-20"]),
            "source": ["a", None],
        }
    )
    ds = gl.load(orders=ORDERS, sessions=sessions)
    assert attribution_gap(ds) is None
    assert ds.remember(("attribution_gap", "source"), Counter("recomputed")) is None
