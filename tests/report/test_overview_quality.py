"""gl.overview and gl.quality on a tiny dataset whose numbers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from growthlens.text import precise_share as percent


def test_overview_counts_by_hand(tiny: Dataset) -> None:
    """Sessions: 4 loaded, 4 accepted, users {1, 2, 3} = 3, dates 01-01..01-05.

    Orders: 3 loaded; -5.0 excluded (negative revenue) and 01-09 excluded (outside the
    window 01-01..01-05) → 1 accepted, 2 excluded (share 2/3), one buyer (user 1), dates
    01-01..01-01.
    """
    result = gl.overview(tiny)
    table = result.table.set_index("table")
    assert table.loc["sessions", ["rows_loaded", "rows_accepted", "rows_excluded"]].tolist() == [
        4,
        4,
        0,
    ]
    assert table.loc["sessions", "users"] == 3
    assert str(table.loc["sessions", "first_date"]) == "2020-01-01"
    assert str(table.loc["sessions", "last_date"]) == "2020-01-05"
    assert table.loc["orders", ["rows_loaded", "rows_accepted", "rows_excluded"]].tolist() == [
        3,
        1,
        2,
    ]
    assert table.loc["orders", "excluded_share"] == pytest.approx(2 / 3)
    assert table.loc["orders", "users"] == 1
    assert result.summary["window_start"].value == "2020-01-01"
    assert result.summary["window_end"].value == "2020-01-05"
    assert result.summary["window_days"].value == 5
    assert result.summary["window_source"].value == "tables"
    assert result.summary["backend"].value == "duckdb"
    assert result.summary["users"].value == 3
    assert result.summary["buyers"].value == 1
    # rows loaded = accepted + excluded, per table
    assert (table.rows_loaded == table.rows_accepted + table.rows_excluded).all()


def test_overview_values_and_daily_rows(tiny: Dataset) -> None:
    """Source values among accepted sessions: ads ×3, seo ×1; daily sessions 1 per day on 4 days."""
    result = gl.overview(tiny)
    values = result.tables["values"]
    source = values[(values.table == "sessions") & (values.column == "source")]
    assert dict(zip(source.value, source.rows, strict=True)) == {"ads": 3, "seo": 1}
    daily = result.tables["daily"]
    sessions = daily[daily.table == "sessions"]
    assert sessions.rows.tolist() == [1, 1, 1, 1]
    assert [d.date().isoformat() for d in sessions.date] == [
        "2020-01-01",
        "2020-01-02",
        "2020-01-03",
        "2020-01-05",
    ]
    columns = result.tables["columns"]
    row = columns[(columns.table == "sessions") & (columns.column == "user_id")].iloc[0]
    assert (row.nulls, row.distinct) == (0, 3)


def test_quality_findings_and_sentences(tiny: Dataset) -> None:
    """Orders: 1 of 3 negative (33.3%), 1 of 3 outside the window (33.3%), both excluded.

    Sessions: the 01-03 session ends 09:00 before it starts 10:00: 1 of 4 accepted (25%),
    kept and flagged.
    """
    result = gl.quality(tiny)
    table = result.table.set_index("check")
    assert table.loc["negative_revenue", "rows"] == 1
    assert table.loc["negative_revenue", "share"] == pytest.approx(1 / 3)
    assert table.loc["negative_revenue", "action"] == "excluded"
    assert table.loc["out_of_window", "rows"] == 1
    assert table.loc["end_before_start", "share"] == pytest.approx(1 / 4)
    assert table.loc["end_before_start", "action"] == "kept_flagged"
    assert "start_ts" in table.loc["end_before_start", "examples"]
    assert (
        "1 of 3 orders (33.3%) falls outside the data window 2020-01-01 – 2020-01-05 "
        "and is excluded from every metric."
    ) in result.sentences
    assert (
        "1 of 3 orders (33.3%) has negative revenue (refunds are not modelled) "
        "and is excluded from every metric."
    ) in result.sentences
    assert any(
        s.startswith("1 of 4 sessions (25%) ends before it starts — ") for s in result.sentences
    )
    summary = result.summary.values_dict()
    assert summary["findings"] == len(result.table) == len(tiny.quality.findings)
    assert summary["errors"] + summary["warnings"] + summary["info"] == summary["findings"]
    assert summary["rows_loaded"] == 7
    assert summary["rows_excluded"] == 2
    assert summary["excluded_share"] == pytest.approx(2 / 7)
    assert summary["max_excluded_share"] == pytest.approx(2 / 3)
    counts = result.tables["counts"].set_index("table")
    assert counts.loc["orders", ["negative_revenue", "out_of_window"]].tolist() == [1, 1]
    assert (
        counts.loc["orders", "rows_excluded"]
        == counts.loc["orders", ["negative_revenue", "out_of_window"]].sum()
    )


def test_quality_without_findings_says_so() -> None:
    ds = gl.load(
        sessions=pd.DataFrame({"user_id": [1, 2], "start_ts": ["2020-01-01", "2020-01-02"]})
    )
    result = gl.quality(ds)
    assert result.table.empty
    assert result.summary["findings"].value == 0
    assert result.sentences == ("No problems found: every row loaded passed every check.",)
    assert result.figures == ()


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (1 / 50_415, "0.002%"),
        (0.057, "5.7%"),
        (1 / 3, "33.3%"),
        (0.5, "50%"),
        (0.0, "0%"),
        (1.0, "100%"),
    ],
)
def test_percent_shows_small_shares(share: float, text: str) -> None:
    assert percent(share) == text


def test_percent_is_never_zero_for_a_positive_share() -> None:
    for k in range(1, 9):
        share = 10.0**-k
        assert percent(share) != "0%"
        assert math.isclose(float(percent(share).rstrip("%")), share * 100, rel_tol=0.5)
