"""Unit economics: the worked example of docs/metrics.md "Marketing", the LTV:CAC = ROMI + 1
identity against gl.romi, and a plain-Python oracle on the demo's raw CSV files.

Fixture (window 2020-01-01 – 2020-03-31, months, margin 0.5; as tests/metrics/test_marketing):

    sessions  u1 01-05 ads (02-01 seo later);  u2 01-10 ads;  u3 01-20 seo;  u4 02-03 ads
              u5 03-01 tv;  u6 01-15 ads;  u7 none → (unknown)
    orders    u1 01-05 10, 02-10 20, 03-05 30;  u2 01-11 5;  u3 01-21 8;  u4 02-04 40
              u5 03-02 15, 03-20 25;  u6 02-01 12;  u7 01-25 6
    costs     ads Jan 60, Mar 30;  tv Feb 45, Mar 15;  radio Jan 25;  seo none (organic)

Horizon 1 (age 0): ads Jan LTV (10 + 5) × 0.5 / 2 = 3.75, CAC 60 / 2 = 30 → 0.125; ads Feb
has CAC 0 (no spend) → left out. tv Mar LTV 40 × 0.5 = 20, CAC 15 → 4/3, payback age 0 →
1 period. seo (organic): LTV 4 over 1 cohort, no ratio. All sources: Jan 3.625 / 21.25,
Feb 13 / 22.5, Mar 20 / 45 → mean 0.397603 (= 1 − 0.602, the 1-month ROMI + 1).
Horizon 2: ads Jan LTV 8.75 / 30 = 0.291667; tv has no complete age-1 cell → NaN.
Trend (N = 2): CAC 21.25, 22.5, 45; ROMI after 1 month −0.829412, −0.422222, −0.555556;
after 2 months −0.711765, −0.422222, NaN (March not observed for 2 months).
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.unit_economics import unit_economics
from growthlens.demo import write_demo
from tests.metrics.test_marketing import _costs, _orders, _sessions
from tests.oracle.random_data import random_frames


def _frames() -> dict[str, pd.DataFrame]:
    # The worked example of docs/metrics.md "Marketing", built once for both test files.
    return {"sessions": _sessions(), "orders": _orders(), "costs": _costs()}


@pytest.fixture(scope="module")
def shop() -> gl.Dataset:
    return gl.load(**_frames(), window=("2020-01-01", "2020-03-31"), margin=0.5)


def test_hand_worked_horizon_1(shop: gl.Dataset) -> None:
    r = unit_economics(shop, horizon=1, period="month")
    t = r.table.set_index("source")
    assert t.loc["ads", "cac"] == 22.5 and t.loc["tv", "cac"] == 60.0
    assert t.loc["ads", "ltv"] == pytest.approx(3.75)
    assert t.loc["ads", "cac_cohorts"] == pytest.approx(30.0)
    assert t.loc["ads", "ltv_cac_ratio"] == pytest.approx(0.125)
    assert t.loc["ads", "cohorts_used"] == 1
    assert t.loc["tv", "ltv_cac_ratio"] == pytest.approx(4 / 3)
    assert t.loc["tv", "payback_age"] == 0 and t.loc["tv", "payback_periods"] == 1
    assert pd.isna(t.loc["ads", "payback_periods"])
    assert t.loc["seo", "status"] == "organic" and t.loc["seo", "ltv"] == pytest.approx(4.0)
    assert math.isnan(t.loc["seo", "ltv_cac_ratio"]) and t.loc["seo", "cohorts_used"] == 1
    assert t.loc["(unknown)", "ltv"] == pytest.approx(3.0)
    assert math.isnan(t.loc["radio", "ltv_cac_ratio"]) and t.loc["radio", "cohorts_used"] == 0
    expected = (3.625 / 21.25 + 13 / 22.5 + 20 / 45) / 3
    assert r.summary["ltv_cac_ratio"].value == pytest.approx(expected)
    assert r.summary["ltv"].value == pytest.approx((3.625 + 13 + 20) / 3)
    assert r.summary["cac"].value == pytest.approx(25.0)
    below = {f.code: f for f in r.findings}["ltv_cac_below_one"]
    assert below.numbers == {"sources": 1, "spend": 90.0}
    assert r.summary["spend_below_one"].value == 90.0


def test_hand_worked_horizon_2_and_trend(shop: gl.Dataset) -> None:
    r = unit_economics(shop, horizon=2, period="month")
    t = r.table.set_index("source")
    assert t.loc["ads", "ltv_cac_ratio"] == pytest.approx(8.75 / 30)
    assert math.isnan(t.loc["tv", "ltv_cac_ratio"]) and t.loc["tv", "cohorts_used"] == 0
    trend = r.tables["trend"]
    assert list(trend.columns) == [
        "cohort",
        "cost",
        "buyers",
        "cac",
        "romi_1",
        "romi_2",
        "complete",
        "period_complete",
    ]
    assert trend["cac"].tolist() == pytest.approx([21.25, 22.5, 45.0])
    assert trend["romi_1"].tolist() == pytest.approx(
        [3.625 / 21.25 - 1, 13 / 22.5 - 1, 20 / 45 - 1]
    )
    assert trend["romi_2"].iloc[:2].tolist() == pytest.approx([6.125 / 21.25 - 1, 13 / 22.5 - 1])
    assert math.isnan(trend["romi_2"].iloc[2]) and trend["complete"].tolist() == [True, True, False]
    cac = {f.code: f for f in r.findings}["cac_trend"]
    assert cac.numbers["first"] == 21.25 and cac.numbers["last"] == 45.0
    assert cac.numbers["slope"] == pytest.approx(np.polyfit([0, 1, 2], [21.25, 22.5, 45.0], 1)[0])


@pytest.mark.parametrize("horizon", [1, 2, 3])
def test_ratio_is_romi_plus_one(shop: gl.Dataset, horizon: int) -> None:
    """LTV:CAC = N-period ROMI + 1 of gl.romi, per source and over all sources."""
    ours = unit_economics(shop, horizon=horizon).table.set_index("source")["ltv_cac_ratio"]
    romi = gl.romi(shop, horizon=horizon).tables["sources"].set_index("source")["romi_n"]
    pd.testing.assert_series_equal(ours, (romi + 1).loc[ours.index], check_names=False)
    overall = gl.romi(shop, by=None, horizon=horizon).summary["romi_n"].value
    value = unit_economics(shop, horizon=horizon).summary["ltv_cac_ratio"].value
    assert value == pytest.approx(overall + 1, nan_ok=True)  # type: ignore[operator]


# ------------------------------------------------------------ plain-Python oracle on the demo

HORIZON, MARGIN = 3, 0.6


@pytest.fixture(scope="module")
def demo() -> tuple[dict[str, Path], gl.Dataset]:
    folder = tempfile.mkdtemp(prefix="growthlens-unit-economics-")
    files = write_demo(folder, users=3000, seed=7, format="csv")
    ds = gl.load(
        sessions=files["visits"], orders=files["orders"], costs=files["costs"], margin=MARGIN
    )
    return files, ds


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _age(cohort: str, month: str) -> int:
    return (int(month[:4]) - int(cohort[:4])) * 12 + int(month[5:7]) - int(cohort[5:7])


def _oracle(files: dict[str, Path]) -> tuple[dict[str, dict[str, float]], dict[str, dict]]:
    """Per source (cac, ltv, ratio, cohorts) and per cohort (cac, romi_1, romi_N), by hand."""
    start, end = json.loads(files["truth"].read_text())["window"]
    inside = lambda ts: start <= ts[:10] <= end  # noqa: E731
    first_visit: dict[str, tuple[str, int, str]] = {}
    for r in _read(files["visits"]):
        if inside(r["Start Ts"]):
            key = (r["Start Ts"], int(r["Session Id"]), r["Source Id"] or "(unknown)")
            if r["Uid"] not in first_visit or key < first_visit[r["Uid"]]:
                first_visit[r["Uid"]] = key
    orders = [r for r in _read(files["orders"]) if inside(r["Buy Ts"])]
    first_order: dict[str, str] = {}
    for r in orders:
        first_order[r["Uid"]] = min(first_order.get(r["Uid"], r["Buy Ts"]), r["Buy Ts"])
    cohort = {u: ts[:7] for u, ts in first_order.items()}
    source = {u: first_visit[u][2] if u in first_visit else "(unknown)" for u in first_order}
    cost: dict[tuple[str, str], float] = defaultdict(float)
    for r in _read(files["costs"]):
        if inside(r["dt"]):
            cost[(r["dt"][:7], r["source_id"])] += float(r["costs"])
    paid = {s for _, s in cost}
    buyers: dict[tuple[str, str], int] = defaultdict(int)
    for u in first_order:
        buyers[(cohort[u], source[u])] += 1
    revenue: dict[tuple[str, str], float] = defaultdict(float)  # up to age N − 1
    for r in orders:
        u = r["Uid"]
        if _age(cohort[u], r["Buy Ts"][:7]) < HORIZON:
            revenue[(cohort[u], source[u])] += float(r["Revenue"])
    # The last month wholly inside the window: the end's month when the end is its last day.
    after = date.fromisoformat(end) + timedelta(days=1)
    last_month = (
        end[:7] if after.day == 1 else (after.replace(day=1) - timedelta(days=1)).isoformat()[:7]
    )
    complete = lambda c: _age(c, last_month) >= HORIZON - 1  # noqa: E731
    per_source: dict[str, dict[str, float]] = {}
    for s in {*paid, *source.values()}:
        ratios, ltvs = [], []
        for (c, s2), n in buyers.items():
            if s2 != s or not complete(c):
                continue
            ltv = revenue[(c, s)] * MARGIN / n
            cac = cost.get((c, s), 0.0) / n
            ltvs.append(ltv)
            if s in paid and cac > 0:
                ratios.append(ltv / cac)
        total_buyers = sum(n for (_, s2), n in buyers.items() if s2 == s)
        total_cost = sum(v for (_, s2), v in cost.items() if s2 == s)
        per_source[s] = {
            "cac": total_cost / total_buyers if s in paid and total_buyers else math.nan,
            "ratio": float(np.mean(ratios)) if ratios else math.nan,
            "cohorts": len(ratios) if ratios else len(ltvs),
        }
    per_cohort: dict[str, dict] = {}
    months = sorted({c for c, _ in cost} | set(cohort.values()))
    for c in months:
        n = sum(v for (c2, _), v in buyers.items() if c2 == c)
        spend = sum(v for (c2, _), v in cost.items() if c2 == c)
        cac = spend / n if n else math.nan
        first_month = sum(
            float(r["Revenue"]) for r in orders if cohort[r["Uid"]] == c and r["Buy Ts"][:7] == c
        )
        to_n = sum(v for (c2, _), v in revenue.items() if c2 == c)
        defined = n and cac > 0
        per_cohort[c] = {
            "cac": cac,
            "romi_1": first_month * MARGIN / n / cac - 1 if defined else math.nan,
            f"romi_{HORIZON}": to_n * MARGIN / n / cac - 1 if defined and complete(c) else math.nan,
        }
    return per_source, per_cohort


def test_demo_matches_plain_python_oracle(demo: tuple[dict[str, Path], gl.Dataset]) -> None:
    files, ds = demo
    per_source, per_cohort = _oracle(files)
    r = unit_economics(ds, horizon=HORIZON, period="month")
    t = r.table.set_index("source")
    assert set(t.index) == set(per_source)
    for s, want in per_source.items():
        assert t.loc[s, "cac"] == pytest.approx(want["cac"], nan_ok=True), s
        assert t.loc[s, "ltv_cac_ratio"] == pytest.approx(want["ratio"], nan_ok=True), s
        assert t.loc[s, "cohorts_used"] == want["cohorts"], s
    trend = r.tables["trend"].assign(month=lambda f: f["cohort"].dt.strftime("%Y-%m"))
    trend = trend.set_index("month")
    assert set(trend.index) == set(per_cohort)
    for c, want in per_cohort.items():
        for column, value in want.items():
            assert trend.loc[c, column] == pytest.approx(value, nan_ok=True), (c, column)
    romi = gl.romi(ds, horizon=HORIZON).tables["sources"].set_index("source")["romi_n"]
    assert t["ltv_cac_ratio"].to_numpy() == pytest.approx(
        (romi + 1).loc[t.index].to_numpy(), nan_ok=True
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ratio_is_romi_plus_one_on_random_data(seed: int) -> None:
    """Gaps, organic sources, sessionless buyers, weeks: still ROMI + 1 and the trend's CAC is
    gl.cac's per cohort."""
    f = random_frames(seed, users=150, days=70)
    ds = gl.load(sessions=f.sessions, orders=f.orders, costs=f.costs, margin=0.7)
    r = unit_economics(ds, horizon=2, period="week")
    romi = gl.romi(ds, horizon=2, period="week").tables["sources"].set_index("source")["romi_n"]
    ours = r.table.set_index("source")["ltv_cac_ratio"]
    assert ours.to_numpy() == pytest.approx((romi + 1).loc[ours.index].to_numpy(), nan_ok=True)
    cac = gl.cac(ds, period="week").tables["cohorts"]
    assert r.tables["trend"]["cac"].to_numpy() == pytest.approx(cac["cac"].to_numpy(), nan_ok=True)
    assert r.table["buyers"].sum() == cac["buyers"].sum()
