"""Thin or empty data after the load's filtering: every analysis answers, in plain words.

Each case here crashed once (pandas 3 types an empty list as float, so merges on text or
date keys failed; an empty pivot lost its columns; a guard came after its division) or
printed ``nan`` in a finding. The expected numbers are worked out in each docstring.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.report.build import sections, write
from growthlens.report.layout import GROUPS


def _sessions(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    start = pd.to_datetime([r[1] for r in rows])
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "start_ts": start,
            "end_ts": start + pd.Timedelta(minutes=5),
            "source": [r[2] for r in rows],
            "device": "desktop",
        }
    )


@pytest.fixture(scope="module")
def no_orders() -> gl.Dataset:
    """Two visitors (Jan 1 via a, Jan 20 via b); the only order has negative revenue, so the
    load excludes it: orders exist but none is accepted. Costs: 1 per source."""
    sessions = _sessions([(1, "2023-01-01 10:00", "a"), (2, "2023-01-20 10:00", "b")])
    orders = pd.DataFrame({"user_id": [1], "ts": pd.to_datetime(["2023-01-02"]), "revenue": [-5.0]})
    costs = pd.DataFrame(
        {"date": ["2023-01-01", "2023-01-20"], "source": ["a", "b"], "cost": [1.0, 1.0]}
    )
    return gl.load(sessions=sessions, orders=orders, costs=costs)


def test_no_accepted_order(no_orders: gl.Dataset) -> None:
    """0 buyers: lag, orders per buyer, LTV and AOV say there is no order; CAC = 2 / 0 is
    NaN; ROMI over the window = gross profit 0 / cost 2 − 1 = −1; the budget moves nothing."""
    lag = gl.conversion_lag(no_orders)
    assert lag.summary["buyers"].value == 0
    assert lag.sentences == ("No order in the data window, so there is no buyer to measure.",)
    opb = gl.orders_per_buyer(no_orders)
    assert math.isnan(opb.summary["orders_per_buyer_first_period"].value)
    assert opb.sentences[0] == "No order in the data window, so there are no buyers to follow."
    assert gl.ltv(no_orders).sentences[0].startswith("No order in the data window")
    aov = gl.aov(no_orders)
    assert aov.summary["orders"].value == 0 and aov.sentences[0].startswith(
        "No order in the data window"
    )
    cac = gl.cac(no_orders)
    assert cac.summary["cost"].value == 2.0 and math.isnan(cac.summary["cac"].value)
    assert gl.romi(no_orders).summary["romi"].value == -1.0
    budget = gl.recommend_budget(no_orders)
    assert (budget.summary["grow"].value, budget.summary["cut"].value) == (0, 0)


def test_report_on_no_accepted_order(no_orders: gl.Dataset, tmp_path: Path) -> None:
    built = sections(no_orders)
    # Every section is built but the funnels (no events) and the experiments (no
    # assignments, no customers); the customers section needs orders only.
    assert [s.id for s in built] == [g.id for g in GROUPS if g.id not in ("funnels", "experiments")]
    # Only the recommendation is skipped, and it says why in words.
    assert [s.id for s in built if not s.results] == ["recommendation"]
    assert built[-1].skipped == (
        "Budget recommendation per source: nothing is recommended, because no order lies in "
        "the data window, so there is no buyer; ROMI per source cannot be computed.",
    )
    text = write(no_orders, built, tmp_path / "r.html", format="html", title=None).read_text()
    findings = [f for s in built for r in s.results for f in r.sentences]
    # Python prints a NaN number as "nan"; findings say "undefined (NaN)" in words instead.
    assert findings and not [f for f in findings if re.search(r"\bnan\b|\binf\b", f)]
    assert "No order in the data window" in text


def test_activity_without_a_complete_month() -> None:
    """One new user a day, 2023-01-15 10:00 … 2023-02-20 (37 days, no whole calendar month).
    DAU = 1; complete weeks (Mon 01-16 … Sun 02-19: 5 weeks) have 7 users each, so WAU = 7
    and sticky(WAU) = 1 / 7 = 14.3%; MAU has no complete month: NaN, and the finding says
    so instead of printing nan."""
    days = pd.date_range("2023-01-15 10:00", "2023-02-20 10:00", freq="D")
    ds = gl.load(sessions=_sessions([(i, str(d), "a") for i, d in enumerate(days, 1)]))
    overall = gl.activity(ds, complete_periods=True)
    assert (overall.summary["dau"].value, overall.summary["wau"].value) == (1.0, 7.0)
    assert math.isnan(overall.summary["mau"].value)
    assert overall.sentences[0] == (
        "On an average day 1 person uses the product and 7 in a week; sticky factor: 14.3% of "
        "weekly users come on a given day (no complete month lies in the window)."
    )
    per = gl.activity(ds, by="source", complete_periods=True).tables["by"]
    assert per.loc[0, "source"] == "a" and per.loc[0, "wau"] == 7.0
    assert math.isnan(per.loc[0, "mau"])


def test_no_accepted_session() -> None:
    """The only order (03-19 12:00) sets the window to that one day, so both sessions
    (03-18, 03-24) fall outside it: nobody is active, and the buyer has no visit."""
    sessions = _sessions([(1, "2023-03-18 14:00", "a"), (1, "2023-03-24 14:00", "a")])
    orders = pd.DataFrame(
        {"user_id": [1], "ts": pd.to_datetime(["2023-03-19 12:00"]), "revenue": [1.0]}
    )
    ds = gl.load(sessions=sessions, orders=orders)
    assert ds.quality.table_counts("sessions").accepted == 0
    act = gl.activity(ds, by="source")
    assert act.sentences[0] == "No session lies in the data window, so nobody is counted as active."
    assert act.tables["by"].empty
    lag = gl.conversion_lag(ds)
    assert lag.summary["buyers_without_session"].value == 1
    assert lag.sentences[0] == (
        "The only buyer has no recorded visit, so the time from first visit to first order "
        "cannot be measured."
    )


def test_retention_without_a_fourth_month() -> None:
    """Window set to 2023-01-01 … 2023-03-31 (three whole months). January cohort:
    u1, u2 (Jan 2, Jan 3); u1 returns in February. retention_1 = 1/2 over 1 complete cohort;
    no cohort has a fourth month, which the finding says instead of "nan%"."""
    sessions = _sessions(
        [(1, "2023-01-02 10:00", "a"), (2, "2023-01-03 10:00", "a"), (1, "2023-02-10 10:00", "a")]
    )
    ds = gl.load(sessions=sessions, window=("2023-01-01", "2023-03-31"))
    r = gl.retention(ds, period="month")
    assert r.summary["retention_1"].value == 0.5 and math.isnan(r.summary["retention_3"].value)
    assert r.sentences[0] == (
        "50.0% of users come back in their second month (mean over 1 complete cohort); "
        "no complete cohort has a fourth month yet."
    )


@pytest.fixture(scope="module")
def one_of_each() -> gl.Dataset:
    """Counts of one everywhere: u1 visits via a on Jan 2 and buys that day and in February;
    u2 visits via b on Jan 3 and never buys. Costs: a 10 on Jan 2; b's only cost row is 0
    (a paused campaign). Window Jan 1 – Mar 31, horizon 1 month."""
    sessions = _sessions([(1, "2023-01-02 10:00", "a"), (2, "2023-01-03 10:00", "b")])
    orders = pd.DataFrame(
        {"user_id": [1, 1], "ts": ["2023-01-02 12:00", "2023-02-10 12:00"], "revenue": [4.0, 6.0]}
    )
    costs = pd.DataFrame(
        {"date": ["2023-01-02", "2023-01-03"], "source": ["a", "b"], "cost": [10.0, 0.0]}
    )
    return gl.load(
        sessions=sessions,
        orders=orders,
        costs=costs,
        window=("2023-01-01", "2023-03-31"),
        horizon=1,
    )


def test_counts_of_one_read_singular(one_of_each: gl.Dataset) -> None:
    """LTV at 1 month: 4 (January only); orders per buyer 1; CAC 10 ÷ 1 buyer; ROMI after 1
    month = 4 / 10 − 1 = −0.6, i.e. 40% returned; the average check 10 / 2 orders = 5."""
    assert gl.ltv(one_of_each).sentences[0] == (
        "A buyer brings $4.00 of gross profit in their first 1 month on average (mean over 1 "
        "complete cohort, margin 100%)."
    )
    assert gl.orders_per_buyer(one_of_each).sentences[1] == (
        "After 1 month a buyer has placed 1.00 orders on average (mean over 1 complete cohort)."
    )
    cac = gl.cac(one_of_each, by=None)
    assert "($10.00 of spend ÷ 1 buyer)" in cac.sentences[0]
    romi = gl.romi(one_of_each, by=None)
    assert any(f.startswith("After 1 month, cohorts have returned 40%") for f in romi.sentences)
    assert gl.aov(one_of_each).sentences[0] == "The average check is $5.00 over 2 orders."


def test_a_zero_cost_source_did_not_spend(one_of_each: gl.Dataset) -> None:
    """Source b has a cost row of 0 and no buyer: CAC 0 ÷ 0 is undefined, and the finding
    does not claim it spent money."""
    findings = gl.cac(one_of_each, by="source").sentences
    assert not [f for f in findings if "spent money" in f]
    assert "Source b has cost rows that add up to 0 and no buyer: CAC undefined (NaN)." in findings


def test_one_day_window_and_equal_sources() -> None:
    """One day (Jan 2): both buyers buy on the day of their visit, so 100% same-day for
    sources a and b alike: no "most common … least" comparison of equal shares."""
    sessions = _sessions([(1, "2023-01-02 10:00", "a"), (2, "2023-01-02 11:00", "b")])
    orders = pd.DataFrame(
        {"user_id": [1, 2], "ts": ["2023-01-02 12:00", "2023-01-02 13:00"], "revenue": [1.0, 2.0]}
    )
    ds = gl.load(sessions=sessions, orders=orders, window=("2023-01-02", "2023-01-02"))
    overview = gl.overview(ds).sentences
    assert overview[0].startswith("The data window is 2023-01-02 – 2023-01-02 (1 day;")
    lag = gl.conversion_lag(ds, by="source")
    assert not [f for f in lag.sentences if "most common" in f]


def test_analyses_default_to_the_dataset_settings(one_of_each: gl.Dataset) -> None:
    """horizon=1 was set at load: ROMI and the budget use it unless told otherwise, as LTV
    does; period defaults to the setting (month) and an argument still overrides both."""
    assert gl.romi(one_of_each, by=None).summary["horizon"].value == 1
    assert gl.recommend_budget(one_of_each).params["horizon"] == 1
    assert gl.romi(one_of_each, by=None, horizon=2).summary["horizon"].value == 2
    weekly = gl.load(
        sessions=_sessions([(1, "2023-01-02 10:00", "a")]),
        orders=pd.DataFrame({"user_id": [1], "ts": ["2023-01-02 12:00"], "revenue": [1.0]}),
        window=("2023-01-02", "2023-01-15"),
        period="week",
    )
    ltv = gl.ltv(weekly).table  # one weekly cohort (Mon Jan 2), ages 0 and 1
    assert ltv["cohort"].unique().tolist() == [pd.Timestamp("2023-01-02")]
    assert ltv["age"].tolist() == [0, 1]
    assert len(gl.aov(weekly).table) == 2  # two weeks: Jan 2 and Jan 9
    assert len(gl.aov(weekly, period="day").table) == 14
