"""The analysis registry: every analysis declared once, consistent with the tables and layout."""

from __future__ import annotations

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses import REGISTRY, Plan
from growthlens.data.tables import TABLES
from growthlens.report.build import group_analyses, sections
from growthlens.report.layout import GROUPS, ORDER


def test_every_analysis_is_declared_consistently() -> None:
    groups = {g.id for g in GROUPS}
    assert set(ORDER) <= set(REGISTRY)
    for name, analysis in REGISTRY.items():
        assert analysis.group in groups, name
        assert set(analysis.needs) <= set(TABLES), name
        assert analysis.function is not None and analysis.function.__name__ == name
        code = analysis.function.__code__
        assert analysis.options == tuple(
            code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
        )
    for group in GROUPS:
        members = [a.name for a in group_analyses(group.id)]
        known = [n for n in ORDER if n in members]
        assert members[: len(known)] == known  # layout order first, newcomers after


def test_defaults_come_from_the_public_signature_and_unknown_options_are_named() -> None:
    orders = pd.DataFrame(
        {"user_id": [1, 2], "ts": ["2020-01-01", "2020-01-03"], "revenue": [5.0, 7.0]}
    )
    ds = gl.load(orders=orders)
    assert REGISTRY["aov"].run(ds).params == {"period": "month"}
    with pytest.raises(gl.ConfigError, match=r"aov: .*'by'.*its options are period"):
        REGISTRY["aov"].run(ds, by="source")


def test_a_missing_table_is_a_reason_in_the_report_not_an_error() -> None:
    orders = pd.DataFrame(
        {"user_id": [1, 2], "ts": ["2020-01-01", "2020-01-03"], "revenue": [5.0, 7.0]}
    )
    built = {s.id: s for s in sections(gl.load(orders=orders))}
    sales = built["sales"]
    assert [r.name for r in sales.results] == ["orders_per_buyer", "aov", "sales_trend", "ltv"]
    assert any("needs the sessions and orders tables" in s for s in sales.skipped)
    assert "product" not in built and "marketing" not in built


def test_plan_default_is_one_run() -> None:
    assert Plan().runs == ({},) and Plan().skipped == ()
