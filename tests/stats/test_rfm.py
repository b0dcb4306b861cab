"""RFM scores, segments, sizes and movement (growthlens.stats.rfm) on hand-worked fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from growthlens.stats.rfm import (
    ABSENT,
    SEGMENT_GRID,
    SEGMENTS,
    fixed_scores,
    quantile_scores,
    rfm_scores,
    segment_movement,
)

# id: (recency, frequency, monetary) → hand-worked (r, f, m, fm, segment); see the module
# doc: score = 1 + floor(5 · strictly-worse / 10) = 1 + floor(worse / 2) for n = 10.
FIXTURE = {
    1: ((2, 1, 100.0), (5, 1, 2, 2, "potential loyalist")),
    2: ((5, 3, 500.0), (4, 4, 4, 4, "loyal")),
    3: ((5, 1, 50.0), (4, 1, 1, 1, "promising")),
    4: ((40, 2, 300.0), (2, 3, 4, 4, "at risk")),
    5: ((0, 6, 1200.0), (5, 5, 5, 5, "champions")),
    6: ((90, 1, 80.0), (1, 1, 2, 2, "lost")),
    7: ((12, 1, 100.0), (3, 1, 2, 2, "about to sleep")),
    8: ((60, 4, 700.0), (1, 5, 5, 5, "can't lose")),
    9: ((30, 1, 40.0), (2, 1, 1, 1, "hibernating")),
    10: ((20, 2, 250.0), (3, 3, 3, 3, "need attention")),
}


def _frame() -> pd.DataFrame:
    rows = [(i, *v[0]) for i, v in FIXTURE.items()]
    return pd.DataFrame(rows, columns=["user_id", "recency", "frequency", "monetary"])


def test_hand_worked_scores_and_segments() -> None:
    res = rfm_scores(_frame())
    assert res.status == "ok" and res.reason == "" and res.unscored == 0
    t = res.table.set_index("user_id")
    for i, (_, (r, f, m, fm, seg)) in FIXTURE.items():
        assert (t.at[i, "r"], t.at[i, "f"], t.at[i, "m"], t.at[i, "fm"]) == (r, f, m, fm), i
        assert t.at[i, "segment"] == seg and t.at[i, "rfm"] == f"{r}{f}{m}"
    # Scores start at these values (ties together: frequency 2 starts score 3, 2 is unused).
    assert res.params["frequency_starts"][:3] == [1.0, pytest.approx(np.nan, nan_ok=True), 2.0]
    assert res.params["recency_starts"] == [60.0, 30.0, 12.0, 5.0, 0.0]


def test_segment_sizes_and_revenue_shares() -> None:
    s = rfm_scores(_frame()).segments
    assert s.segment.tolist() == list(SEGMENTS)
    assert s.customers.sum() == 10 and s.set_index("segment").at["new", "customers"] == 0
    total = sum(v[0][2] for v in FIXTURE.values())
    assert total == 3320.0
    row = s.set_index("segment").loc["champions"]
    assert row.revenue == 1200.0 and row.revenue_share == pytest.approx(1200 / 3320)
    assert row.customer_share == pytest.approx(0.1) and row.recency == 0.0
    assert s.revenue_share.sum() == pytest.approx(1.0)


def test_segment_grid_is_the_documented_table() -> None:
    rows = {
        5: ["new", "potential loyalist", "potential loyalist", "champions", "champions"],
        4: ["promising", "potential loyalist", "potential loyalist", "loyal", "champions"],
        3: ["about to sleep", "about to sleep", "need attention", "loyal", "loyal"],
        2: ["hibernating", "hibernating", "at risk", "at risk", "can't lose"],
        1: ["lost", "lost", "at risk", "at risk", "can't lose"],
    }
    assert {(r, fm + 1): n for r, row in rows.items() for fm, n in enumerate(row)} == dict(
        SEGMENT_GRID
    )
    assert set(SEGMENT_GRID.values()) == set(SEGMENTS) and len(SEGMENTS) == 11


def test_fixed_cuts() -> None:
    cuts = {
        "recency": [7, 30, 60, 90],
        "frequency": [2, 3, 5, 8],
        "monetary": [100, 250, 500, 1000],
    }
    res = rfm_scores(_frame(), method="fixed", cuts=cuts)
    t = res.table.set_index("user_id")
    assert t.r.tolist() == [5, 5, 5, 3, 5, 1, 4, 2, 3, 4]
    assert t.f.tolist() == [1, 3, 1, 2, 4, 1, 1, 3, 1, 2]
    assert t.m.tolist() == [2, 4, 1, 3, 5, 1, 2, 4, 1, 3]
    assert res.params["recency_cuts"] == [7.0, 30.0, 60.0, 90.0]
    # absolute cuts score a constant measure (quantiles cannot)
    one = _frame().assign(frequency=1)
    assert rfm_scores(one, method="fixed", cuts=cuts).status == "ok"


def test_other_bins_need_a_full_map() -> None:
    with pytest.raises(ValueError, match="default segment map is for 5 bins"):
        rfm_scores(_frame(), bins=3)
    grid = {(r, fm): ("good" if r + fm >= 5 else "bad") for r in (1, 2, 3) for fm in (1, 2, 3)}
    res = rfm_scores(_frame(), bins=3, segments=grid)
    assert res.status == "ok" and res.segments.segment.tolist() == ["bad", "good"]
    with pytest.raises(ValueError, match=r"missing \[\(3, 3\)\]"):
        rfm_scores(_frame(), bins=3, segments={k: v for k, v in grid.items() if k != (3, 3)})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "median"}, "method 'quantile' or 'fixed'"),
        ({"bins": 1}, "bins between 2 and 10"),
        ({"method": "fixed"}, "expects cuts"),
        ({"cuts": {"recency": [1]}}, "cuts are for method='fixed'"),
        (
            {"method": "fixed", "cuts": {"recency": [1], "frequency": [1, 2], "monetary": [1]}},
            "same number of cuts",
        ),
        (
            {
                "method": "fixed",
                "cuts": {
                    "recency": [7, 30, 90, 60],
                    "frequency": [1, 2, 3, 4],
                    "monetary": [1, 2, 3, 4],
                },
            },
            "strictly ascending",
        ),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rfm_scores(_frame(), **kwargs)  # type: ignore[arg-type]


def test_missing_column() -> None:
    with pytest.raises(ValueError, match="missing monetary"):
        rfm_scores(_frame().drop(columns="monetary"))


def test_degenerate_inputs_give_a_status() -> None:
    empty = rfm_scores(_frame().iloc[:0])
    assert empty.status == "empty" and empty.segments.customers.sum() == 0
    few = rfm_scores(_frame().iloc[:3])
    assert few.status == "not_enough_data" and few.table.segment.isna().all()
    const = rfm_scores(_frame().assign(recency=7))
    assert const.status == "constant_measure" and "recency" in const.reason
    assert const.table.r.isna().all()
    bad = _frame()
    bad.loc[0, "monetary"] = np.nan
    bad.loc[1, "recency"] = -1
    res = rfm_scores(bad)
    assert res.status == "ok" and res.unscored == 2
    assert res.table.segment.isna().sum() == 2 and res.segments.customers.sum() == 8


def test_quantile_scores_match_pandas_qcut_on_distinct_values() -> None:
    rng = np.random.default_rng(7)
    x = rng.permutation(200).astype(float) * 1.5
    ours = quantile_scores(x, bins=5)
    ref = pd.qcut(pd.Series(x).rank(), 5, labels=False).to_numpy() + 1
    np.testing.assert_array_equal(ours, ref)
    assert np.bincount(ours).tolist() == [0, 40, 40, 40, 40, 40]
    rev = quantile_scores(x, bins=5, higher_is_better=False)
    np.testing.assert_array_equal(rev, 6 - ours)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=60), st.integers(2, 10))
def test_quantile_scores_properties(values: list[int], bins: int) -> None:
    x = np.array(values, dtype=float)
    s = quantile_scores(x, bins=bins)
    assert s.min() == 1 and s.max() <= bins
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(s[order]) >= 0)  # monotone
    for v in np.unique(x):  # ties share a score
        assert len(set(s[x == v])) == 1


def test_fixed_scores_edges() -> None:
    assert fixed_scores([0, 1, 1.5, 2, 3], [1, 2]).tolist() == [1, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="strictly ascending"):
        fixed_scores([1], [])


def test_movement_table() -> None:
    before = pd.DataFrame(
        {"user_id": [1, 2, 3, 4, 5, 6], "segment": ["new", "new", "new", "champions", "lost", None]}
    )
    after = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 7, 8],
            "segment": ["loyal", "new", "loyal", "at risk", "new", "new"],
        }
    )
    m = segment_movement(before, after)
    labels = [*SEGMENTS, ABSENT]
    assert len(m) == len(labels) ** 2 - 1
    nz = {
        (r.before, r.after): (r.customers, r.share_of_before)
        for r in m[m.customers > 0].itertuples()
    }
    assert set(nz) == {
        ("new", "loyal"),
        ("new", "new"),
        ("champions", "at risk"),
        ("lost", ABSENT),
        (ABSENT, "new"),
    }
    assert nz[("new", "loyal")] == (2, pytest.approx(2 / 3))
    assert nz[("new", "new")] == (1, pytest.approx(1 / 3))
    assert nz[("champions", "at risk")] == (1, 1.0)
    assert nz[("lost", ABSENT)] == (1, 1.0)
    assert nz[(ABSENT, "new")][0] == 2 and np.isnan(nz[(ABSENT, "new")][1])
    assert m.customers.sum() == 7  # ids 1–5, 7, 8 (6 unscored before, absent after)
    with pytest.raises(ValueError, match="one row per user_id"):
        segment_movement(pd.concat([before, before]), after)
    with pytest.raises(ValueError, match="'segment' column in after"):
        segment_movement(before, after.drop(columns="segment"))
