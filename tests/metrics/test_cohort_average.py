"""Honest cohort averages (issue 18): average LTV and ROMI curves over one fixed set of cohorts.

Hand-built shop, margin 1, window Jan–May 2020, one buyer per monthly cohort, so LTV(c, k)
is the buyer's cumulative revenue and CAC(c) is the month's spend:

    cohort  orders (month: revenue)          LTV by age        spend  ROMI by age
    Jan     Jan 30, Feb 10, Mar 5            30, 40, 45, 45, 45   40   −0.25, 0, 0.125, …
    Feb     Feb 20, Mar 5, Apr 3             20, 25, 28, 28       25   −0.2, 0, 0.12, 0.12
    Mar     Mar 10, Apr 4, May 2             10, 14, 16           20   −0.5, −0.3, −0.2
    Apr     Apr 50, May 25                   50, 75               50   0, 0.5
    May     May 60                           60                   50   0.2

With horizon 3 the naive each-age mean of LTV is 34, 38.5, 29.67: it *falls* at age 2
because the rich young cohorts (Apr, May) drop out. The fixed set (Jan, Feb, Mar: the
cohorts observed for 3 months) gives 20, 26.33, 29.67: it cannot fall.
"""

from __future__ import annotations

import math
from functools import cache

import pandas as pd
import pytest

import growthlens as gl
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import cohort_curve

ORDERS = (
    (1, "2020-01-10", 30.0),
    (1, "2020-02-10", 10.0),
    (1, "2020-03-10", 5.0),
    (2, "2020-02-11", 20.0),
    (2, "2020-03-11", 5.0),
    (2, "2020-04-11", 3.0),
    (3, "2020-03-12", 10.0),
    (3, "2020-04-12", 4.0),
    (3, "2020-05-12", 2.0),
    (4, "2020-04-13", 50.0),
    (4, "2020-05-13", 25.0),
    (5, "2020-05-14", 60.0),
)
SPEND = {"2020-01-01": 40.0, "2020-02-01": 25.0, "2020-03-01": 20.0, "2020-04-01": 50.0}
SPEND["2020-05-01"] = 50.0
WINDOW = ("2020-01-01", "2020-05-31")


@cache
def _dataset(horizon: int, orders: tuple[tuple[int, str, float], ...] = ORDERS) -> gl.Dataset:
    frame = pd.DataFrame(orders, columns=["user_id", "ts", "revenue"])
    costs = pd.DataFrame({"date": list(SPEND), "source": "ads", "cost": list(SPEND.values())})
    return gl.load(orders=frame, costs=costs, window=WINDOW, horizon=horizon)


def test_naive_mean_falls_and_fixed_set_does_not() -> None:
    r = gl.ltv(_dataset(3))
    curve = r.tables["curve"]
    assert curve["age"].tolist() == [0, 1, 2]
    assert curve["ltv"].tolist() == pytest.approx([60 / 3, 79 / 3, 89 / 3])  # Jan, Feb, Mar
    assert curve["cohorts"].tolist() == [3, 3, 3]
    assert curve["ltv"].is_monotonic_increasing
    # The headline 3-month LTV is the curve's last point: the same 3 cohorts.
    assert r.summary["ltv_3"].value == pytest.approx(89 / 3)
    naive = gl.ltv(_dataset(3), average="all").tables["curve"]
    assert naive["ltv"].tolist()[:3] == pytest.approx([170 / 5, 154 / 4, 89 / 3])
    assert naive["cohorts"].tolist() == [5, 4, 3, 2, 1]  # every observed age
    assert naive["ltv"].iloc[2] < naive["ltv"].iloc[1]  # the naive mean falls
    # Per-cohort numbers do not depend on the rule.
    pd.testing.assert_frame_equal(r.table, gl.ltv(_dataset(3), average="all").table)


def test_chart_states_the_count() -> None:
    r = gl.ltv(_dataset(3))
    spec = r.figures[1]
    assert spec.hover == ("cohorts",)
    assert spec.subtitle == "Average of the 3 cohorts observed for 3 months"
    fig = r.figure(1)
    trace = fig.data[0]
    assert "Cohorts averaged: %{customdata[0]:,d}" in trace.hovertemplate
    assert [row[0] for row in trace.customdata] == [3, 3, 3]
    assert "Average of the 3 cohorts observed for 3 months" in fig.layout.title.text


def test_romi_payback_on_the_fixed_set_with_its_count() -> None:
    """Balanced ROMI: age 0 (−0.25 − 0.2 − 0.5) / 3 = −0.3167, age 1 (0 + 0 − 0.3) / 3 =
    −0.1, age 2 (0.125 + 0.12 − 0.2) / 3 = 0.015 → pays back at age 2 on 3 cohorts. The
    naive mean at age 1 is (0 + 0 − 0.3 + 0.5) / 4 = 0.05 → "age 1", carried by Apr."""
    r = gl.romi(_dataset(3), by=None)
    curve = r.tables["curves"]
    assert curve["romi"].tolist() == pytest.approx([-0.95 / 3, -0.1, 0.045 / 3])
    assert curve["cohorts"].tolist() == [3, 3, 3]
    assert r.summary["payback"].value == "age 2"
    assert r.summary["payback_cohorts"].value == 3
    payback = next(f for f in r.findings if f.code == "payback")
    assert payback.text == (
        "On average, cohorts pay back at age 2, i.e. within 3 months of their first order "
        "(average of the 3 cohorts observed for 3 months)."
    )
    assert payback.severity == "info" and payback.numbers["cohorts"] == 3
    naive = gl.romi(_dataset(3), by=None, average="all")
    assert naive.summary["payback"].value == "age 1"
    assert naive.summary["payback_cohorts"].value == 4
    naive_payback = next(f for f in naive.findings if f.code == "payback")
    assert naive_payback.text.endswith(
        "within 2 months of their first order (mean of the 4 cohorts observed at the payback age)."
    )
    # Per-cohort ROMI, the N-period ROMI and its count do not depend on the rule.
    pd.testing.assert_frame_equal(r.table, naive.table)
    assert r.summary["romi_n"].value == pytest.approx(0.045 / 3)
    assert naive.summary["romi_n"].value == r.summary["romi_n"].value
    assert r.summary["cohorts_used"].value == naive.summary["cohorts_used"].value == 3


def test_too_few_cohorts_shortens_the_curve() -> None:
    """Horizon 4: only Jan and Feb are observed for 4 months (2 < 3), so the curve stops at
    3 months over Jan, Feb and Mar, and a finding says so."""
    r = gl.ltv(_dataset(4))
    curve = r.tables["curve"]
    assert curve["age"].tolist() == [0, 1, 2]
    assert curve["cohorts"].tolist() == [3, 3, 3]
    shortened = next(f for f in r.findings if f.code == "curve_shortened")
    assert shortened.text == (
        "Fewer than 3 cohorts are observed for 4 months, so the average LTV curve stops at "
        "3 months: the 3 cohorts observed that long."
    )
    # The 4-month LTV still averages the 2 complete cohorts at age 3 (45 and 28), stated.
    assert r.summary["ltv_4"].value == pytest.approx(36.5)
    assert r.summary["ltv_4_cells"].value == 2


def test_one_cohort_is_flagged_not_averaged() -> None:
    one = tuple(o for o in ORDERS if o[0] == 1)
    r = gl.ltv(_dataset(3, one))
    curve = r.tables["curve"]
    assert curve["ltv"].tolist() == pytest.approx([30.0, 40.0, 45.0])
    assert curve["cohorts"].tolist() == [1, 1, 1]
    few = next(f for f in r.findings if f.code == "curve_few_cohorts")
    assert few.severity == "warning"
    assert few.text == (
        "The average LTV curve rests on 1 cohort only (observed for 3 months): too few to "
        "call it typical."
    )
    assert r.figures[1].subtitle == "The only cohort observed for 3 months"
    romi = gl.romi(_dataset(3, one), by=None)
    payback = next(f for f in romi.findings if f.code == "payback")
    assert payback.severity == "warning"
    assert payback.text == (
        "On average, cohorts pay back at age 1, i.e. within 2 months of their first order "
        "(the only cohort observed for 3 months). Too few cohorts to rely on."
    )


def test_cohort_curve_rules() -> None:
    """Two sources, each its own fixed set; incomplete and NaN cells never count."""
    t = pd.DataFrame(
        {
            "cohort": [1, 1, 2, 2, 3, 1, 1, 2],
            "source": ["a", "a", "a", "a", "a", "b", "b", "b"],
            "age": [0, 1, 0, 1, 0, 0, 1, 0],
            "complete": [True, True, True, True, True, True, True, False],
            "v": [1.0, 2.0, 3.0, 5.0, 9.0, 4.0, float("nan"), 7.0],
        }
    )
    curve = cohort_curve(t, "v", horizon=2, keys=["source"], min_cohorts=2)
    # a: cohorts 1 and 2 have ages 0 and 1 → [2, 3.5]; b: cohort 1 has age 0 only (age 1
    # NaN) and cohort 2's age 0 is incomplete → one point from cohort 1.
    assert curve.to_dict("list") == {
        "source": ["a", "a", "b"],
        "age": [0, 1, 0],
        "v": [2.0, 3.5, 4.0],
        "cohorts": [2, 2, 1],
    }
    every = cohort_curve(t, "v", horizon=2, keys=["source"], average="all")
    assert every["v"].tolist() == pytest.approx([13 / 3, 3.5, 4.0])
    empty = cohort_curve(t.assign(complete=False), "v", horizon=2)
    assert empty.empty and list(empty.columns) == ["age", "v", "cohorts"]
    with pytest.raises(ConfigError, match="average must be one of balanced, all"):
        cohort_curve(t, "v", horizon=2, average="mean")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="average"):
        gl.ltv(_dataset(3), average="naive")  # type: ignore[arg-type]


def test_no_orders_gives_a_status_not_a_curve() -> None:
    r = gl.ltv(_dataset(3, ((9, "2019-12-01", 5.0),)))
    assert r.status == "not_enough_data"
    assert r.tables["curve"].empty
    assert math.isnan(r.summary["ltv_3"].value)  # type: ignore[arg-type]


def test_orders_per_buyer_curve_is_balanced() -> None:
    """Jan, Feb and Mar buyers order once a month for 3 months: 1, 2, 3 orders."""
    curve = gl.orders_per_buyer(_dataset(3)).tables["curve"]
    assert curve.to_dict("list") == {
        "age": [0, 1, 2],
        "orders_per_buyer": [1.0, 2.0, 3.0],
        "cohorts": [3, 3, 3],
    }


def test_not_paid_back_statement_names_its_cohorts() -> None:
    """Horizon 1: all 5 cohorts at age 0, (−0.25 − 0.2 − 0.5 + 0 + 0.2) / 5 = −0.15."""
    r = gl.romi(_dataset(1), by=None)
    assert r.summary["payback"].value == "not yet (ROMI −15.0% at age 0)"
    assert r.summary["payback_cohorts"].value == 5
    finding = next(f for f in r.findings if f.code == "not_paid_back")
    assert finding.text == (
        "On average, cohorts have not paid back by age 0: ROMI −15.0% there (average of the "
        "5 cohorts observed for 1 month)."
    )


def test_figure_hover_columns_are_generic() -> None:
    """Any line, bar or scatter spec can carry extra tooltip columns; a missing one is named."""
    from growthlens.figures import FigureSpec, render

    frame = pd.DataFrame({"source": ["a", "b"], "cac": [2.0, 3.0], "share": [0.25, 0.75]})
    spec = FigureSpec(kind="bar", x="source", y="cac", title="CAC", hover=("share",))
    trace = render(spec, frame).data[0]
    assert trace.hovertemplate.split("<br>")[-1].startswith("Share: %{customdata[0]}<extra>")
    assert [row[0] for row in trace.customdata] == [0.25, 0.75]
    with pytest.raises(ValueError, match="needs column"):
        render(FigureSpec(kind="line", x="source", y="cac", title="t", hover=("n",)), frame)


def test_retention_curve_averages_one_fixed_set_of_cohorts() -> None:
    """Jan 2 users (1 back in Feb, Mar and Apr), Feb 2 (both back in Mar, none in Apr), Mar 2
    (none back), Apr 2. The each-age mean rises at age 3, where January is alone (0.5 after
    0.25); the balanced curve keeps the three cohorts observed for two months."""
    import growthlens as gl

    visits = [
        (1, "2020-01-05"), (2, "2020-01-06"), (1, "2020-02-05"), (1, "2020-03-05"),
        (1, "2020-04-05"), (3, "2020-02-02"), (4, "2020-02-03"), (3, "2020-03-02"),
        (4, "2020-03-03"), (5, "2020-03-10"), (6, "2020-03-11"), (7, "2020-04-01"),
        (8, "2020-04-02"),
    ]  # fmt: skip
    sessions = pd.DataFrame(
        {"user_id": [u for u, _ in visits], "start_ts": pd.to_datetime([d for _, d in visits])}
    )
    ds = gl.load(sessions=sessions, window=("2020-01-01", "2020-04-30"))
    balanced = gl.retention(ds).frame("curve")
    assert balanced.to_dict("list") == {
        "age": [0, 1],
        "retention": [1.0, pytest.approx((0.5 + 1.0 + 0.0) / 3)],
        "cohorts": [3, 3],
    }
    naive = gl.retention(ds, average="all").frame("curve")
    assert naive["retention"].tolist() == pytest.approx([1.0, 0.5, 0.25, 0.5])
    assert naive["cohorts"].tolist() == [4, 3, 2, 1]
