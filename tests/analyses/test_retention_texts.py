"""Retention by a dimension: what its finding averages, and why a chart can be empty."""

from __future__ import annotations

import pandas as pd

import growthlens as gl

MONTHS = ("2024-03", "2024-04", "2024-05", "2024-06")


def _cohorts(sources: int, months: int) -> gl.Dataset:
    # Per source one monthly cohort of two users a month; one of each returns the next month.
    rows = []
    for s in range(sources):
        for m, month in enumerate(MONTHS[:months]):
            for u in range(2):
                user = f"{s}-{m}-{u}"
                rows.append((user, f"{month}-05 10:00", str(s)))
                if u == 0 and m < months - 1:
                    rows.append((user, f"{MONTHS[m + 1]}-07 10:00", str(s)))
    frame = pd.DataFrame(rows, columns=["user_id", "start_ts", "source"])
    frame["start_ts"] = pd.to_datetime(frame["start_ts"])
    last = {3: "2024-05-31", 4: "2024-06-30"}[months]
    return gl.load(sessions=frame, window=("2024-03-01", last))


def test_split_finding_counts_cells_and_empty_curves_say_why() -> None:
    r = gl.retention(_cohorts(2, 3), by="source", period="month")
    # Two complete cells at age 1 per source (March and April): 4 in all.
    assert "(mean over 4 complete cohort × source cells)" in r.findings[0].text
    # The summary tiles count the same cells, and say so.
    assert r.summary["cells_1"].value == 4
    assert r.summary["cells_1"].label == "Complete cohort × source cells averaged at age 1"
    assert r.summary["retention_1"].label == (
        "Mean retention at age 1 (complete cohort × source cells)"
    )
    # Three cohorts per source are observed together only at age 0: nothing from age 1.
    assert r.tables["curve_from_1"].empty and (r.table["age"] >= 1).any()
    assert "No curve reaches age 1" in r.figures[0].subtitle
    # Without a split the cohorts are counted as before.
    whole = gl.retention(_cohorts(2, 3), period="month")
    assert "(mean over 2 complete cohorts)" in whole.findings[0].text
    assert whole.summary["cells_1"].label == "Complete cohorts averaged at age 1"
    assert whole.summary["cells_1"].value == 2
    # A fourth month: three cohorts reach age 1 together, so the curves are drawn.
    longer = gl.retention(_cohorts(2, 4), by="source", period="month")
    assert len(longer.tables["curve_from_1"]) and "No curve" not in longer.figures[0].subtitle
