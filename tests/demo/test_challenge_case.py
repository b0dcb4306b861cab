"""gl.demo(case="challenge"): issue 15's Company X database as a demo case, end to end."""

from __future__ import annotations

import pytest

import growthlens as gl
from growthlens.errors import ConfigError
from growthlens.report.build import missing_groups, sections


@pytest.fixture(scope="module")
def ds() -> gl.Dataset:
    return gl.demo(case="challenge", users=1_000, seed=3)


def test_the_case_loads_every_table_with_its_truth(ds: gl.Dataset) -> None:
    truth = ds.truth
    assert truth is not None and truth["conversions"] == 1_000 and truth["seed"] == 3
    accepted = {c.table: c.accepted for c in ds.quality.counts}
    assert set(accepted) == {"sessions", "orders", "costs", "touchpoints", "conversions_reference"}
    assert accepted["costs"] == truth["costs"]["rows"]
    assert sorted(truth["markets"]) == sorted(
        gl.channels(ds, by="market").table["market"].dropna().astype(str).unique()
    )


def test_reconcile_finds_the_planted_classes(ds: gl.Dataset) -> None:
    planted = ds.truth["reconciliation"]  # type: ignore[index]
    counts = gl.reconcile(ds).table.set_index("class")["rows"]
    # the reference rows of the planted outage are missing in orders too
    missing = planted["missing_in_orders"]["rows"] + planted["outage"]["rows"]
    assert counts["missing_in_orders"] == missing
    assert counts["missing_in_reference"] == planted["missing_in_reference"]["rows"]


def test_the_report_has_channels_attribution_and_reconciliation(ds: gl.Dataset) -> None:
    built = {s.id: [r.name for r in s.results] for s in sections(ds)}
    assert {"channels", "attribution", "channels_by_market"} <= set(built["attribution"])
    assert "reconcile" in {n for names in built.values() for n in names}
    assert not any(g.startswith("Channels") for g in missing_groups(ds))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"users": 100}, "at least 200 users"), ({"months": 6}, "fixed window")],
)
def test_bad_options(options: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gl.demo(case="challenge", **options)
