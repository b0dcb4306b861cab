"""Charts of many sources draw those that weigh most: cohort sizes, buyers, spend."""

from __future__ import annotations

from typing import Any

import pytest

import growthlens as gl
import growthlens.figures as figures
from growthlens.demo.files import demo


@pytest.fixture(scope="module")
def ds() -> Any:
    return demo(users=3_000, months=6)


def _traces(result: Any, kind: str = "line") -> tuple[list[str], Any]:
    spec = next(s for s in result.figures if s.kind == kind)
    index = result.figures.index(spec)
    return [t.name for t in result.figure(index).data if t.showlegend is not False], spec


def test_curves_by_source_keep_the_heaviest(ds: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(figures, "MAX_CATEGORIES", 3)
    # Retention: the sources whose cohorts hold the most users.
    r = gl.retention(ds, by="source")
    size = r.table[r.table["age"] == 0].groupby("source")["users"].sum()
    drawn, spec = _traces(r)
    assert spec.rank == "users" and set(drawn) == set(size.nlargest(3).index)
    assert "Showing 3 of" in r.figure(r.figures.index(spec)).layout.title.text
    # LTV: the most buyers.
    r = gl.ltv(ds, by="source")
    buyers = r.table[r.table["age"] == 0].groupby("source")["buyers"].sum()
    drawn, _ = _traces(r)
    assert set(drawn) == set(buyers.nlargest(3).index)
    assert "curve_chart" in r.detail and "buyers" not in r.tables["curve"].columns
    # ROMI: the most spend, and the all-sources curve always (it carries all of it).
    r = gl.romi(ds, by="source")
    spend = r.tables["sources"].set_index("source")["cost"]
    drawn, _ = _traces(r)
    assert set(drawn) == {"(all sources)", *spend.nlargest(2).index}


def test_few_sources_draw_every_curve(ds: Any) -> None:
    r = gl.retention(ds, by="source")
    drawn, _ = _traces(r)
    assert set(drawn) == set(r.table["source"].unique())
