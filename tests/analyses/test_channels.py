"""gl.channels: the Result, its findings, charts, options and degenerate cases.

The dataset is the hand-computed fixture of tests/metrics/test_channels.py (numbers there):
total cost 62 (ads 43, tv 12, (no sessions) 7), attributed revenue 200, 4 conversions.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.channels import CHANNELS, channels
from growthlens.analyses.consistency import consistency
from growthlens.data.dataset import Dataset
from growthlens.demo.challenge import write_challenge_db
from growthlens.errors import ConfigError
from growthlens.report.html import render_result_fragment
from tests.metrics.test_channels import _frames

WINDOW = ("2024-01-01", "2024-02-29")


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return gl.load(**_frames(), window=WINDOW)


def _codes(result: gl.Result) -> dict[str, gl.Finding]:
    return {f.code: f for f in result.findings}


def test_channel_result(ds: Dataset) -> None:
    r = channels(ds)
    assert r.name == "channels" and r.status == "ok"
    s = r.summary.values_dict()
    assert s["model"] == "linear"
    assert s["sessions"] == 7 and s["users"] == 4
    assert s["conversions"] == pytest.approx(4.0) and s["revenue"] == pytest.approx(200.0)
    assert s["cost"] == pytest.approx(62.0) and s["roas"] == pytest.approx(200 / 62)
    assert s["cpc"] == pytest.approx(62 / 13) and s["ctr"] == pytest.approx(13 / 260)
    assert s["values"] == 4  # ads, seo, social, tv; not the rows in parentheses
    assert s["cost_without_sessions"] == pytest.approx(7.0)
    # c2 paid 8 on 01-04 with no c2 session; c9 (no session at all) is not counted again.
    assert s["unmatched_cost_rows"] == 1 and s["idle_days"] == 1
    assert s["campaigns_without_cost"] == 1
    # The totals row, and channel cost adding up to it.
    totals = r.tables["totals"]
    assert totals["channel"].tolist() == ["(total)"]
    assert r.table["cost"].sum() == pytest.approx(float(totals["cost"].iloc[0]))
    # ROAS under every other model the data allows (not "given": no touchpoints).
    assert r.params["models"] == [
        "first_touch",
        "last_touch",
        "last_non_direct",
        "time_decay",
        "position_based",
        "markov",
        "shapley",
    ]
    for m in r.params["models"]:
        assert f"roas_{m}" in r.table.columns
    assert "roas_given" not in r.table.columns
    assert any("No ROAS under given" in n for n in r.notes)


def test_channel_findings(ds: Dataset) -> None:
    f = _codes(channels(ds))
    assert f["cost_without_sessions"].numbers == {"cost": 7.0, "campaigns": 1}
    assert "c9" in f["cost_without_sessions"].text
    assert f["conversions_without_touch"].numbers == {"conversions": 1.0, "revenue": 30.0}
    # CPA: tv and (no sessions) have cost and no conversion; seo is unpaid (not listed).
    assert f["cpa_undefined"].numbers == {"rows": 2}
    assert "tv" in f["cpa_undefined"].text and "seo" not in f["cpa_undefined"].text
    # ROAS: revenue without cost: seo, (unknown), (no touch).
    assert f["roas_undefined"].numbers == {"rows": 3}
    # One finding for the paid rows on days without a session of their campaign.
    assert "cost_rows_without_session" not in f
    assert f["cost_days_without_traffic"].numbers == {
        "rows": 1,
        "days": 1,
        "cost": 8.0,
        "campaigns": 1,
    }
    assert "c2" in f["cost_days_without_traffic"].text
    assert f["campaigns_without_cost"].numbers == {"campaigns": 1, "sessions": 1}
    assert f["channel_totals"].numbers["cost"] == pytest.approx(62.0)
    assert "roas_model_spread" in f
    # Ads' ROAS across models: last non-direct gives ads nothing (seo is last each time).
    spread = f["roas_model_spread"].numbers
    assert spread["channel"] == "ads" and spread["low"] == 0.0
    assert spread["high"] == pytest.approx(150 / 43)  # first touch: o1 and o2 start on ads


def test_zero_clicks_per_day(ds: Dataset) -> None:
    # c1 on 2024-01-02: cost 20, clicks 0 → CPC undefined, and said so.
    r = channels(ds, by="campaign", period="day")
    row = r.table[(r.table["campaign"] == "c1") & (r.table["period"] == pd.Timestamp("2024-01-02"))]
    assert math.isnan(float(row["cpc"].iloc[0])) and float(row["cost"].iloc[0]) == 20.0
    f = _codes(r)["cpc_undefined"]
    assert "c1 (2024-01-02)" in f.text
    assert not (r.table.select_dtypes("number").abs() == math.inf).any().any()


def test_period_tables_and_charts(ds: Dataset) -> None:
    r = channels(ds, period="month")
    assert r.name == "channels_month"
    assert {"values", "periods", "totals", "trend", "chart"} <= set(r.tables)
    assert [s.y for s in r.figures] == ["amount", "cpc", "cpa", "roas"]
    for i in range(len(r.figures)):
        r.figure(i)
    trend = r.tables["trend"]
    assert set(trend["channel"]) == {"ads", "tv"}  # paid values only
    json.dumps(r.to_dict(), allow_nan=True)
    chart = r.tables["chart"]
    assert chart[chart["measure"] == "cost"]["amount"].sum() == pytest.approx(62.0)


def test_market_view(ds: Dataset) -> None:
    r = channels(ds, by="market")
    assert r.name == "channels_by_market"
    f = _codes(r)["cost_not_split"]
    assert f.numbers == {"cost": 62.0}
    assert r.table["cost"].isna().all()
    assert r.summary.values_dict()["cost"] == pytest.approx(62.0)


def test_given_weights() -> None:
    frames = _frames()
    touchpoints = pd.DataFrame(
        {"conversion_id": ["o1", "o1"], "session_id": ["s1", "s2"], "weight": [0.7, 0.3]}
    )
    ds = gl.load(**frames, touchpoints=touchpoints, window=WINDOW)
    r = channels(ds, model="given")
    t = r.table.set_index("channel")
    # Given journeys: only o1 has touches; o2, o3 and o4 have none.
    assert t.loc["ads", "conversions"] == pytest.approx(0.7)
    assert t.loc["ads", "revenue"] == pytest.approx(70.0)
    assert t.loc["seo", "revenue"] == pytest.approx(30.0)
    assert t.loc["(no touch)", "conversions"] == pytest.approx(3.0)
    assert t.loc["ads", "roas"] == pytest.approx(70 / 43)
    # Linear on the same journeys, beside it.
    assert t.loc["ads", "roas_linear"] == pytest.approx(50 / 43)


def test_bad_options(ds: Dataset) -> None:
    with pytest.raises(ConfigError, match="model must be one of"):
        channels(ds, model="lineal")
    with pytest.raises(ConfigError, match=r"by='colour'.*usable: channel, campaign, market"):
        channels(ds, by="colour")
    with pytest.raises(ConfigError, match="period must be one of"):
        channels(ds, period="year")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="lookback must be a duration"):
        channels(ds, lookback="a month")
    with pytest.raises(ConfigError, match="given"):
        channels(ds, model="given")  # no touchpoints with weights


def test_nothing_in_the_window() -> None:
    frames = _frames()
    ds = gl.load(sessions=frames["sessions"], window=("2025-01-01", "2025-01-31"))
    r = channels(ds)
    assert r.status == "not_enough_data" and r.status_reason
    assert r.table.empty


def test_plan(ds: Dataset) -> None:
    plan = CHANNELS.plan(ds)
    assert plan.runs == (
        {"by": "channel"},
        {"by": "channel", "period": ds.settings.period},
        {"by": "campaign"},
        {"by": "market"},
    )
    for options in plan.runs:
        result = CHANNELS.run(ds, **options)
        assert result.ok
        render_result_fragment(result)
    only = gl.load(sessions=_frames()["sessions"], window=WINDOW)
    assert CHANNELS.plan(only).runs == () and CHANNELS.plan(only).skipped


def test_company_x_planted_cost_checks(tmp_path: Path) -> None:
    # A generated Company X database: every planted cost discrepancy found, exactly.
    truth = write_challenge_db(tmp_path / "challenge.db", conversions=400, seed=5)
    ds = gl.load(tmp_path / "challenge.db")
    r = channels(ds)
    planted = truth.costs
    t = r.table.set_index("channel")
    lost = planted["campaigns_with_cost_no_session"]
    assert t.loc["(no sessions)", "cost"] == pytest.approx(lost["cost"])
    assert r.tables["campaigns_without_sessions"]["campaign"].tolist() == lost["ids"]
    assert int(r.tables["campaigns_without_sessions"]["rows"].sum()) == lost["rows"]
    free = planted["session_campaigns_without_cost"]
    assert r.tables["campaigns_without_cost"]["campaign"].tolist() == free["ids"]
    assert int(r.tables["campaigns_without_cost"]["sessions"].sum()) == free["sessions"]
    # Paid rows with no session that day: only those of campaigns with sessions (the
    # campaigns without any are their own finding).
    day = planted["rows_without_session_that_day"]
    f = _codes(r)["cost_days_without_traffic"].numbers
    assert f["rows"] == day["rows"]
    assert f["cost"] == pytest.approx(day["cost"])
    # gl.consistency reads the same computation: the same counts.
    c = consistency(ds).table.set_index("check")
    assert c.loc["campaigns_without_sessions", "found"] == len(lost["ids"])
    assert c.loc["campaigns_without_sessions", "amount"] == pytest.approx(lost["cost"])
    assert c.loc["campaigns_without_cost", "found"] == len(free["ids"])
    assert c.loc["cost_days_without_sessions", "found"] == day["rows"]
    assert c.loc["cost_days_without_sessions", "amount"] == pytest.approx(day["cost"])
    # Cost adds up, and so do the sessions per channel.
    assert r.table["cost"].sum() == pytest.approx(planted["cost"])
    assert r.summary.values_dict()["clicks"] == planted["clicks"]
    sessions = {k: v for k, v in t["sessions"].items() if v}
    assert sessions == truth.sessions_by_channel


def test_models_table(ds: Dataset) -> None:
    r = channels(ds)
    m = r.tables["models"].set_index(["channel", "model"])
    assert m.loc[("ads", "linear"), "revenue"] == pytest.approx(75.0)
    assert m.loc[("ads", "first_touch"), "revenue"] == pytest.approx(150.0)
    assert m.loc[("ads", "first_touch"), "roas"] == pytest.approx(150 / 43)
    assert "revenue_first_touch" not in r.table.columns
    # Every computed model credits all revenue: 200 per model.
    sums = r.tables["models"].groupby("model")["revenue"].sum()
    assert sums.to_numpy() == pytest.approx([200.0] * len(sums))


def test_revenue_from_the_reference_copy() -> None:
    """revenue="reference": each attributed conversion's revenue is the trusted copy's.

    Hand-worked: u1 converts once (o1) after an ads then an seo session, u2 once (o2) after
    seo. The orders say o1 = 100, o2 = 50; the reference has o1 twice (90 at 09:00, 80 at
    10:00: the earlier row counts, 90), no o2 and an o3 nobody attributes. Linear credit:
    ads 0.5 × 90 = 45, seo 0.5 × 90 + 1 × 0 = 45; with the orders' revenue ads 50, seo 100.
    """
    t = pd.Timestamp("2024-01-10 12:00")
    sessions = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2"], "session_id": ["s1", "s2", "s3"],
         "start_ts": [t - pd.Timedelta(hours=h) for h in (48, 24, 3)],
         "source": ["ads", "seo", "seo"]}
    )  # fmt: skip
    orders = pd.DataFrame(
        {"user_id": ["u1", "u2"], "order_id": ["o1", "o2"], "ts": [t, t], "revenue": [100.0, 50.0]}
    )
    reference = pd.DataFrame(
        {"user_id": ["u1", "u1", "u3"], "order_id": ["o1", "o1", "o3"],
         "ts": [t.replace(hour=9), t.replace(hour=10), t], "revenue": [90.0, 80.0, 30.0]}
    )  # fmt: skip
    ds = gl.load(
        sessions=sessions,
        orders=orders,
        conversions_reference={"sources": [reference], "duplicates": "keep"},
        window=("2024-01-01", "2024-01-31"),
    )
    own = channels(ds).table.set_index("channel")["revenue"]
    assert own.to_dict() == {"ads": 50.0, "seo": 100.0}
    r = channels(ds, revenue="reference")
    assert r.table.set_index("channel")["revenue"].to_dict() == {"ads": 45.0, "seo": 45.0}
    assert r.table["conversions"].sum() == 2  # conversions are the orders' either way
    f = _codes(r)["reference_revenue"]
    assert f.severity == "warning"
    assert f.numbers == {
        "conversions": 2, "matched": 1, "unmatched": 1, "unmatched_orders_revenue": 50.0,
        "orders_revenue": 150.0, "reference_revenue": 90.0,
    }  # fmt: skip
    assert "1 conversion the reference lacks count 0" in f.text
    with pytest.raises(ConfigError, match="conversions_reference"):
        channels(gl.load(sessions=sessions, orders=orders), revenue="reference")
    with pytest.raises(ConfigError, match="'orders' or 'reference'"):
        channels(ds, revenue="backend")


def test_markov_removal_effects_are_fitted_once_per_dataset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report asks for the channel tables twice (overall, by month): one Markov fit."""
    attribution_module = importlib.import_module("growthlens.analyses.attribution")
    calls: list[int] = []
    real = attribution_module.path_counts

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(attribution_module, "path_counts", counted)
    fresh = gl.load(**_frames(), window=WINDOW)
    first = channels(fresh)
    second = channels(fresh, period="month")
    assert len(calls) == 1
    pd.testing.assert_frame_equal(
        first.tables["models"], channels(gl.load(**_frames(), window=WINDOW)).tables["models"]
    )
    assert len(calls) == 2  # a new Dataset fits its own
    assert second.name == "channels_month"
