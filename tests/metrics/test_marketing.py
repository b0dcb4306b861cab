"""Spend, CAC, ROMI and payback on hand-computed fixtures (docs/metrics.md "Marketing").

The shared fixture ``shop`` (window 2020-01-01 – 2020-03-31, three complete months,
margin 0.5):

    sessions  u1 2020-01-05 10:00 ads; u1 2020-02-01 seo (later: not the first touch)
              u2 2020-01-10 ads;  u3 2020-01-20 seo;  u4 2020-02-03 ads
              u5 2020-03-01 tv;   u6 2020-01-15 ads (first visit in Jan, first order in Feb)
              u7 has no session → source (unknown)
    orders    u1 01-05 12:00 10, 02-10 20, 03-05 30;  u2 01-11 5;  u3 01-21 8
              u4 02-04 40;  u5 03-02 15, 03-20 25;  u6 02-01 12;  u7 01-25 6
    costs     monthly rows (all on the 1st → monthly cost series):
              ads 01-01 60, 03-01 30 (February missing: a gap, counted as 0)
              tv 02-01 45, 03-01 15;  radio 01-01 25 (spend, never a buyer)
              seo has no cost rows → organic

Buyers (cohort = first-order month, source = first session's):
    Jan: u1 ads, u2 ads, u3 seo, u7 (unknown);  Feb: u4 ads, u6 ads;  Mar: u5 tv
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.costs import costs
from growthlens.errors import ConfigError
from growthlens.metrics.marketing import payback
from growthlens.report.build import section

J, F, M = pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01"), pd.Timestamp("2020-03-01")


def _sessions() -> pd.DataFrame:
    rows = [
        ("u1", "2020-01-05 10:00", "ads"),
        ("u1", "2020-02-01 09:00", "seo"),
        ("u2", "2020-01-10 10:00", "ads"),
        ("u3", "2020-01-20 10:00", "seo"),
        ("u4", "2020-02-03 10:00", "ads"),
        ("u5", "2020-03-01 10:00", "tv"),
        ("u6", "2020-01-15 10:00", "ads"),
    ]
    return pd.DataFrame(rows, columns=["user_id", "start_ts", "source"])


def _orders() -> pd.DataFrame:
    rows = [
        ("u1", "2020-01-05 12:00", 10.0),
        ("u1", "2020-02-10 12:00", 20.0),
        ("u1", "2020-03-05 12:00", 30.0),
        ("u2", "2020-01-11 12:00", 5.0),
        ("u3", "2020-01-21 12:00", 8.0),
        ("u4", "2020-02-04 12:00", 40.0),
        ("u5", "2020-03-02 12:00", 15.0),
        ("u5", "2020-03-20 12:00", 25.0),
        ("u6", "2020-02-01 12:00", 12.0),
        ("u7", "2020-01-25 12:00", 6.0),
    ]
    return pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])


def _costs() -> pd.DataFrame:
    rows = [
        ("2020-01-01", "ads", 60.0),
        ("2020-03-01", "ads", 30.0),
        ("2020-02-01", "tv", 45.0),
        ("2020-03-01", "tv", 15.0),
        ("2020-01-01", "radio", 25.0),
    ]
    return pd.DataFrame(rows, columns=["date", "source", "cost"])


@pytest.fixture(scope="module")
def shop() -> gl.Dataset:
    return gl.load(
        sessions=_sessions(),
        orders=_orders(),
        costs=_costs(),
        window=("2020-01-01", "2020-03-31"),
        margin=0.5,
    )


def _row(frame: pd.DataFrame, **match: object) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        mask &= frame[column] == value
    rows = frame[mask]
    assert len(rows) == 1, f"expected one row for {match}, got {len(rows)}"
    return rows.iloc[0]


# ----------------------------------------------------------------------------- spend


def test_costs_per_month_and_shares(shop: gl.Dataset) -> None:
    """Jan: ads 60 + radio 25 = 85 (ads share 60/85); Feb: tv 45 (ads 0: the gap);
    Mar: ads 30 + tv 15 = 45. Total 175; ads 90 (90/175 = 0.514286), tv 60, radio 25."""
    r = costs(shop)
    t = r.table
    assert _row(t, period=J, source="ads")["cost"] == 60.0
    assert _row(t, period=J, source="ads")["share"] == pytest.approx(60 / 85)
    assert _row(t, period=F, source="ads")["cost"] == 0.0
    assert _row(t, period=F, source="tv")["share"] == pytest.approx(1.0)
    assert _row(t, period=M, source="tv")["share"] == pytest.approx(15 / 45)
    assert len(t) == 9  # 3 months × 3 paid sources (seo has no cost rows: not listed)
    assert r.summary["cost"].value == pytest.approx(175.0)
    src = r.tables["sources"]
    assert list(src["source"]) == ["ads", "tv", "radio"]  # largest spend first
    assert src["share_of_spend"].tolist() == pytest.approx([90 / 175, 60 / 175, 25 / 175])
    assert r.tables["totals"]["cost"].tolist() == pytest.approx([85.0, 45.0, 45.0])


def test_monthly_cost_series_gap_is_a_month(shop: gl.Dataset) -> None:
    """All cost rows fall on the 1st, so the series is monthly: ads has Jan and Mar, so Feb
    is a gap; tv (Feb, Mar) and radio (one month) have none."""
    r = costs(shop)
    assert r.summary["gap_unit"].value == "month"
    gaps = r.tables["gaps"]
    assert gaps.to_dict("records") == [{"date": F, "source": "ads"}]
    assert any(f.startswith("No cost rows for 2020-02 for source ads.") for f in r.sentences)


def test_daily_gaps_listed_by_date() -> None:
    """a: 01-01, 01-02, 01-04 → 01-03 missing; b: 01-01..01-04 every day; c: 01-01, 01-03
    → 01-02 missing. Gap rows (01-02, c), (01-03, a): two source-days, counted as 0."""
    c = pd.DataFrame(
        {
            "date": ["2021-01-01", "2021-01-02", "2021-01-04"]
            + [f"2021-01-0{d}" for d in range(1, 5)]
            + ["2021-01-01", "2021-01-03"],
            "source": ["a"] * 3 + ["b"] * 4 + ["c"] * 2,
            "cost": [1.0, 2.0, 4.0, 1.0, 1.0, 1.0, 1.0, 5.0, 7.0],
        }
    )
    r = costs(gl.load(costs=c), period="day")
    gaps = r.tables["gaps"]
    assert list(zip(gaps["date"].dt.strftime("%Y-%m-%d"), gaps["source"], strict=True)) == [
        ("2021-01-02", "c"),
        ("2021-01-03", "a"),
    ]
    day3 = _row(r.table, period=pd.Timestamp("2021-01-03"), source="a")
    assert day3["cost"] == 0.0
    assert r.summary["gap_rows"].value == 2
    sentence = next(f for f in r.sentences if f.startswith("No cost rows"))
    assert "2021-01-02 for source c; for 2021-01-03 for source a" in sentence
    assert "2 source-days" in sentence


def test_costs_rejects_unknown_dimension(shop: gl.Dataset) -> None:
    with pytest.raises(ConfigError, match="by='device'"):
        costs(shop, by="device")


# ----------------------------------------------------------------------------- CAC


def test_cac_per_source_with_organic_and_no_buyer_sources(shop: gl.Dataset) -> None:
    """ads: (60 + 0 + 30) ÷ buyers {u1, u2, u4, u6} = 90 / 4 = 22.5; tv: 60 / 1 (u5) = 60;
    radio: 25 spent, 0 buyers → NaN plus a finding; seo: no cost rows → organic, CAC NaN
    although it has a buyer (u3); (unknown): u7, CAC NaN.
    Overall CAC = 175 ÷ 7 buyers = 25; paid CAC = 175 ÷ 5 buyers of paid sources = 35."""
    r = gl.cac(shop)
    t = r.table
    assert _row(t, source="ads")["cac"] == pytest.approx(22.5)
    assert _row(t, source="tv")["cac"] == pytest.approx(60.0)
    radio = _row(t, source="radio")
    assert radio["buyers"] == 0 and math.isnan(radio["cac"]) and radio["status"] == "paid"
    seo = _row(t, source="seo")
    assert seo["status"] == "organic" and seo["buyers"] == 1 and math.isnan(seo["cac"])
    unknown = _row(t, source="(unknown)")
    assert unknown["status"] == "unknown" and unknown["buyers"] == 1 and math.isnan(unknown["cac"])
    assert not t["cac"].isin([math.inf, -math.inf]).any()
    assert r.summary["cac"].value == pytest.approx(25.0)
    assert r.summary["cac_paid"].value == pytest.approx(35.0)
    assert (
        r.summary["buyers_paid"].value,
        r.summary["buyers_organic"].value,
        r.summary["buyers_unknown"].value,
    ) == (
        5,
        1,
        1,
    )
    assert _row(t, source="ads")["share_of_spend"] == pytest.approx(90 / 175)
    assert _row(t, source="ads")["buyer_share"] == pytest.approx(4 / 7)
    assert any("radio ($25.00) spent money but acquired no buyer" in f for f in r.sentences)
    assert any(
        f.startswith("Source seo has no cost rows: treated as unpaid (organic), 1 buyer;")
        for f in r.sentences
    )


def test_cac_by_cohort_and_source(shop: gl.Dataset) -> None:
    """Jan ads 60 / 2 (u1, u2) = 30; Feb ads 0 (gap) / 2 (u4, u6) = 0; Mar ads 30 / 0 → NaN
    (finding); Feb tv 45 / 0 → NaN (finding); Mar tv 15 / 1 = 15; Jan seo: organic NaN.
    Per cohort (all sources): Jan 85 / 4 = 21.25; Feb 45 / 2 = 22.5; Mar 45 / 1 = 45."""
    r = gl.cac(shop)
    cells = r.tables["by_cohort"]
    assert _row(cells, cohort=J, source="ads")["cac"] == pytest.approx(30.0)
    assert _row(cells, cohort=F, source="ads")["cac"] == 0.0
    assert math.isnan(_row(cells, cohort=M, source="ads")["cac"])
    assert math.isnan(_row(cells, cohort=F, source="tv")["cac"])
    assert _row(cells, cohort=M, source="tv")["cac"] == pytest.approx(15.0)
    assert math.isnan(_row(cells, cohort=J, source="seo")["cac"])
    assert cells["complete"].all()
    cohorts = r.tables["cohorts"]
    assert cohorts["cac"].tolist() == pytest.approx([21.25, 22.5, 45.0])
    assert cohorts["buyers"].tolist() == [4, 2, 1]
    sentence = next(
        f for f in r.sentences if "cohort × source cells with spend but no new buyers" in f
    )
    assert sentence.startswith("2 cohort × source cells") and "source tv in 2020-02" in sentence
    assert "source ads in 2020-03" in sentence


def test_cac_first_visit_cohorts(shop: gl.Dataset) -> None:
    """cohort_by="first_visit": u6 moves to January (first visit 01-15); u7 has no session and
    keeps its first-order month (January) with a finding. Jan ads: 60 / 3 (u1, u2, u6) = 20;
    Feb ads: 0 / 1 (u4) = 0. Per cohort: Jan 85 / 5 = 17; Feb 45 / 1 = 45; Mar 45 / 1 = 45."""
    r = gl.cac(shop, cohort_by="first_visit")
    cells = r.tables["by_cohort"]
    assert _row(cells, cohort=J, source="ads")["cac"] == pytest.approx(20.0)
    assert _row(cells, cohort=F, source="ads")["buyers"] == 1
    assert r.tables["cohorts"]["cac"].tolist() == pytest.approx([17.0, 45.0, 45.0])
    assert _row(r.table, source="ads")["cac"] == pytest.approx(22.5)  # window CAC unchanged
    assert any(f.startswith("1 buyer without a session, so no first visit") for f in r.sentences)


def test_cac_without_dimension_is_per_cohort(shop: gl.Dataset) -> None:
    r = gl.cac(shop, by=None)
    assert list(r.table.columns) == ["cohort", "cost", "buyers", "cac", "complete"]
    assert r.table["cac"].tolist() == pytest.approx([21.25, 22.5, 45.0])


def test_cac_rejects_bad_options(shop: gl.Dataset) -> None:
    with pytest.raises(ConfigError, match="cohort_by"):
        gl.cac(shop, cohort_by="first_click")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="period"):
        gl.cac(shop, period="year")  # type: ignore[arg-type]


def test_cac_without_sessions_cannot_attribute() -> None:
    """Orders and costs only: every buyer's source is (unknown); per-cohort CAC still holds:
    Jan 85 / 4 = 21.25 (u1, u2, u3, u7)."""
    ds = gl.load(orders=_orders(), costs=_costs(), window=("2020-01-01", "2020-03-31"))
    r = gl.cac(ds)
    assert r.summary["attributed"].value is False
    assert r.tables["cohorts"]["cac"].iloc[0] == pytest.approx(21.25)
    assert any("cannot be attributed" in f for f in r.sentences)
    assert not any("acquired no buyer" in f for f in r.sentences)


def test_no_cost_row_inside_the_window() -> None:
    """Every cost row falls outside the window (orders 03-02 – 03-20, costs 03-01 and 03-31).

    Spend is 0 and said so; CAC is 0 ÷ 2 buyers; ROMI divides by zero, so it is NaN with a
    finding; the budget recommends nothing. It used to crash: the empty source list became
    a float column and pandas refused to merge it with the engine's text column.
    """
    orders = pd.DataFrame(
        {"user_id": [7, 8], "revenue": [10.0, 30.0], "ts": ["2020-03-02", "2020-03-20"]}
    )
    spend = pd.DataFrame({"date": ["2020-03-01", "2020-03-31"], "source": "tv", "cost": [6.0, 1]})
    ds = gl.load(orders=orders, costs=spend)
    r = gl.costs(ds)
    assert r.summary["cost"].value == 0.0 and r.summary["sources"].value == 0
    assert any("no rows inside the data window" in f for f in r.sentences)
    c = gl.cac(ds)
    assert (c.summary["cost"].value, c.summary["buyers"].value, c.summary["cac"].value) == (
        0.0,
        2,
        0.0,
    )
    romi = gl.romi(ds)
    assert math.isnan(romi.summary["romi"].value) and romi.summary["gross_profit"].value == 40.0
    assert any("divides by zero" in f for f in romi.sentences)
    assert gl.recommend_budget(ds).summary["grow"].value == 0


def test_attribution_gap_names_the_reason(shop: gl.Dataset) -> None:
    """The shop attributes buyers; each missing piece gives its own reason in words."""
    from growthlens.metrics.marketing import attribution_gap

    window = ("2020-01-01", "2020-03-31")
    assert attribution_gap(shop) is None
    no_sessions = gl.load(orders=_orders(), costs=_costs(), window=window)
    assert attribution_gap(no_sessions) == "the dataset has no sessions to match buyers to a source"
    no_column = gl.load(
        sessions=_sessions().drop(columns="source"), orders=_orders(), costs=_costs(), window=window
    )
    assert attribution_gap(no_column) == "the sessions have no source column"
    unknown = gl.load(
        sessions=_sessions().assign(source=None), orders=_orders(), costs=_costs(), window=window
    )
    assert attribution_gap(unknown) == "no buyer's acquiring session carries a source"


def test_payback_rule() -> None:
    """First age with ROMI ≥ 0 (exactly 0 counts); else "not yet" with the last value;
    no defined value → "undefined"."""
    assert payback([0, 1, 2], [-0.2, 0.0, 0.5])[:2] == (1, "age 1")
    assert payback([0, 1], [-0.5, float("nan")])[1] == "not yet (ROMI −50.0% at age 0)"
    assert payback([0], [float("nan")])[1] == "undefined"


# ----------------------------------------------------------------------------- oracle

SEEDS = (1, 2, 3)


@functools.cache
def _random(seed: int) -> tuple[gl.Dataset, object]:
    from tests.oracle.random_data import random_frames

    frames = random_frames(seed, users=250, days=100)
    ds = gl.load(sessions=frames.sessions, orders=frames.orders, costs=frames.costs, margin=0.7)
    return ds, frames


def _compare(
    engine: pd.DataFrame, oracle: pd.DataFrame, keys: list[str], values: list[str]
) -> None:
    merged = engine.merge(
        oracle, on=keys, how="outer", suffixes=("_engine", "_oracle"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    for column in values:
        left = merged[f"{column}_engine"].astype(float).to_numpy()
        right = merged[f"{column}_oracle"].astype(float).to_numpy()
        assert len(left) > 0
        pd.testing.assert_series_equal(
            pd.Series(left, name=column), pd.Series(right, name=column), rtol=1e-9, atol=1e-9
        )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("period", "cohort_by"), [("month", "first_order"), ("week", "first_visit")]
)
def test_cac_matches_pandas_oracle(seed: int, period: str, cohort_by: str) -> None:
    from tests.oracle import marketing as oracle

    ds, frames = _random(seed)
    assert ds.window is not None
    by_cohort, sources, cohorts = oracle.cac_tables(
        frames.sessions,
        frames.orders,
        frames.costs,
        ds.window,
        period,
        cohort_by,  # type: ignore[attr-defined]
    )
    r = gl.cac(ds, period=period, cohort_by=cohort_by)  # type: ignore[arg-type]
    _compare(r.tables["by_cohort"], by_cohort, ["cohort", "source"], ["cost", "buyers", "cac"])
    _compare(r.table, sources, ["source"], ["cost", "buyers", "cac"])
    _compare(r.tables["cohorts"], cohorts, ["cohort"], ["cost", "buyers", "cac"])
    assert r.tables["cohorts"]["complete"].tolist() == cohorts["complete"].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_gaps_match_pandas_oracle(seed: int) -> None:
    from tests.oracle import marketing as oracle

    ds, frames = _random(seed)
    assert ds.window is not None
    _, _, costs_in = oracle.in_window(frames.sessions, frames.orders, frames.costs, ds.window)  # type: ignore[attr-defined]
    expected = oracle.cost_gaps(costs_in)
    gaps = costs(ds).tables["gaps"]
    assert set(zip(gaps["date"], gaps["source"], strict=True)) == expected
    assert expected  # random_frames plants gaps in the last paid source


# ----------------------------------------------------------------------------- real data

AFISHA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "yandex_afisha"


@pytest.fixture(scope="module")
def afisha() -> gl.Dataset:
    if not (AFISHA / "orders_log_us.csv").exists():
        pytest.skip(
            f"real Yandex.Afisha exports not found at {AFISHA} (only in the project workspace)"
        )
    return gl.load(orders=AFISHA / "orders_log_us.csv", costs=AFISHA / "costs_us.csv")


@pytest.mark.realdata
def test_afisha_cac_per_cohort_matches_pandas(afisha: gl.Dataset) -> None:
    """Independent pandas: monthly spend ÷ buyers whose first order (inside the window
    2017-06-01 – 2018-05-31) falls in that month; Uid read as text (ids exceed int64)."""
    orders = pd.read_csv(AFISHA / "orders_log_us.csv", dtype={"Uid": str}, parse_dates=["Buy Ts"])
    orders = orders[orders["Buy Ts"] < "2018-06-01"]
    first = orders.groupby("Uid")["Buy Ts"].min().dt.to_period("M").dt.to_timestamp()
    buyers = first.value_counts().sort_index()
    spend = pd.read_csv(AFISHA / "costs_us.csv", parse_dates=["dt"])
    monthly = spend.groupby(spend["dt"].dt.to_period("M").dt.to_timestamp())["costs"].sum()
    expected = (monthly / buyers).sort_index()

    r = gl.cac(afisha)
    cohorts = r.tables["cohorts"].set_index("cohort")
    assert list(cohorts.index) == list(expected.index)
    assert cohorts["buyers"].tolist() == buyers.tolist()
    assert cohorts["cac"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)
    assert r.summary["buyers"].value == 36_522 and r.summary["attributed"].value is False
    assert any("cannot be attributed" in f for f in r.sentences)


@pytest.mark.realdata
def test_afisha_cost_gaps(afisha: gl.Dataset) -> None:
    r = costs(afisha)
    sentence = next(f for f in r.sentences if f.startswith("No cost rows"))
    assert sentence.startswith(
        "No cost rows for 2018-03-31 for sources 1, 2, 3, 4, 9, 10; "
        "for 2018-04-01 for sources 1, 2, 3, 4, 5, 9, 10."
    )
    assert r.summary["gap_rows"].value == 13
    assert r.summary["cost"].value == pytest.approx(329_131.62, abs=0.01)


# ----------------------------------------------------------------------------- ROMI


def test_romi_per_cohort_all_sources(shop: gl.Dataset) -> None:
    """Gross profit = revenue × 0.5. Jan cohort (u1, u2, u3, u7; CAC(Jan) = 85 / 4 = 21.25):
    age 0 (10 + 5 + 8 + 6) × 0.5 / 4 = 3.625 → 3.625 / 21.25 − 1 = −0.829412;
    age 1 + 20 × 0.5 / 4 → 6.125 → −0.711765; age 2 + 30 × 0.5 / 4 → 9.875 → −0.535294.
    Feb (u4, u6; CAC 22.5): (40 + 12) × 0.5 / 2 = 13 at ages 0 and 1 → −0.422222.
    Mar (u5; CAC 45): (15 + 25) × 0.5 = 20 → −0.555556. Window: 171 × 0.5 / 175 − 1."""
    r = gl.romi(shop, horizon=2)
    cohorts = r.tables["cohorts"]
    assert list(zip(cohorts["cohort"], cohorts["age"], strict=True)) == [
        (J, 0), (J, 1), (J, 2), (F, 0), (F, 1), (M, 0)
    ]  # fmt: skip
    assert cohorts["ltv"].tolist() == pytest.approx([3.625, 6.125, 9.875, 13.0, 13.0, 20.0])
    expected = [
        3.625 / 21.25 - 1,
        6.125 / 21.25 - 1,
        9.875 / 21.25 - 1,
        13 / 22.5 - 1,
        13 / 22.5 - 1,
        20 / 45 - 1,
    ]
    assert cohorts["romi"].tolist() == pytest.approx(expected, rel=1e-12)
    assert r.summary["romi"].value == pytest.approx(85.5 / 175 - 1)
    # 2-month ROMI: mean of age-1 cells of complete cohorts Jan and Feb (Mar has no age 1)
    assert r.summary["romi_n"].value == pytest.approx((expected[1] + expected[4]) / 2)
    assert r.summary["cohorts_used"].value == 2
    # Payback on the balanced curve: only Jan and Feb are observed for 2 months (2 < 3
    # cohorts), so the curve stops at age 0, over Jan, Feb and Mar: (−0.829 − 0.422 −
    # 0.556) / 3 = −0.602. The each-age mean ("all") reached age 2 on Jan alone (−0.54).
    assert r.summary["payback"].value == "not yet (ROMI −60.2% at age 0)"
    assert r.summary["payback_age"].value is None
    assert r.summary["payback_cohorts"].value == 3
    every = r.tables["curves"][r.tables["curves"]["source"] == "(all sources)"]
    assert every["cohorts"].tolist() == [3]
    assert every["romi"].tolist() == pytest.approx([(expected[0] + expected[3] + expected[5]) / 3])
    old = gl.romi(shop, horizon=2, average="all")
    assert old.summary["payback"].value == "not yet (ROMI −53.5% at age 2)"
    old_every = old.tables["curves"][old.tables["curves"]["source"] == "(all sources)"]
    assert old_every["cohorts"].tolist() == [3, 2, 1]
    assert old.summary["romi_n"].value == r.summary["romi_n"].value
    one = gl.romi(shop, horizon=1)
    assert one.summary["romi_n"].value == pytest.approx(
        (expected[0] + expected[3] + expected[5]) / 3
    )
    assert one.summary["cohorts_used"].value == 3


def test_romi_per_source_cells(shop: gl.Dataset) -> None:
    """ads Jan: LTV (10 + 5) × 0.5 / 2 = 3.75, then + 10 / 2 → 8.75, + 15 / 2 → 16.25; CAC 30
    → −0.875, −0.708333, −0.458333. ads Feb: CAC 0 (no spend) → ROMI NaN plus a finding.
    tv Mar: LTV 20, CAC 15 → +0.333333. seo (organic) and (unknown): LTV defined, ROMI NaN."""
    r = gl.romi(shop, horizon=1)
    t = r.table
    ads_jan = t[(t["source"] == "ads") & (t["cohort"] == J)].sort_values("age")
    assert ads_jan["ltv"].tolist() == pytest.approx([3.75, 8.75, 16.25])
    assert ads_jan["romi"].tolist() == pytest.approx([3.75 / 30 - 1, 8.75 / 30 - 1, 16.25 / 30 - 1])
    ads_feb = t[(t["source"] == "ads") & (t["cohort"] == F)]
    assert ads_feb["cac"].eq(0).all() and ads_feb["romi"].isna().all()
    assert _row(t, source="tv", cohort=M, age=0)["romi"] == pytest.approx(20 / 15 - 1)
    assert math.isnan(_row(t, source="seo", cohort=J, age=0)["romi"])
    assert _row(t, source="seo", cohort=J, age=0)["ltv"] == pytest.approx(4.0)
    assert math.isnan(_row(t, source="(unknown)", cohort=J, age=0)["romi"])
    assert not t["romi"].isin([math.inf, -math.inf]).any()
    assert any(
        f.startswith("1 cohort × source cell with buyers but no spend (CAC 0)")
        and "ads in 2020-02" in f
        for f in r.sentences
    )


def test_romi_sources_ranking_and_payback(shop: gl.Dataset) -> None:
    """Window ROMI = gross profit of the source's buyers ÷ its cost − 1:
    ads (60 + 5 + 40 + 12) × 0.5 = 58.5 / 90 − 1 = −0.35; tv 20 / 60 − 1 = −0.666667;
    radio 0 / 25 − 1 = −1; seo and (unknown): NaN. 1-month ROMI (age 0, complete, defined):
    tv +0.333 (1 cohort), ads −0.875 (Jan only; Feb undefined), radio none.
    Payback on the balanced curve (ages 0..horizon−1): tv "age 0"; ads "not yet (last −0.88
    at age 0)" (on the each-age mean, "all": −0.46 at age 2); radio and seo "undefined"."""
    r = gl.romi(shop, horizon=1)
    s = r.tables["sources"]
    assert s["source"].tolist() == ["tv", "ads", "radio", "seo", "(unknown)"]
    assert s["rank"].tolist() == [1, 2, 3, 4, 5]
    assert _row(s, source="ads")["romi"] == pytest.approx(-0.35)
    assert _row(s, source="tv")["romi"] == pytest.approx(20 / 60 - 1)
    assert _row(s, source="radio")["romi"] == pytest.approx(-1.0)
    assert math.isnan(_row(s, source="seo")["romi"]) and math.isnan(
        _row(s, source="(unknown)")["romi"]
    )
    assert _row(s, source="seo")["gross_profit"] == pytest.approx(4.0)
    assert _row(s, source="tv")["romi_n"] == pytest.approx(1 / 3)
    assert _row(s, source="ads")["romi_n"] == pytest.approx(-0.875)
    assert _row(s, source="ads")["cohorts_used"] == 1
    assert math.isnan(_row(s, source="radio")["romi_n"])
    assert _row(s, source="tv")["payback"] == "age 0" and _row(s, source="tv")["payback_age"] == 0
    # Balanced curves span the horizon (age 0): ads rests on Jan alone, −0.875.
    assert _row(s, source="ads")["payback"] == "not yet (ROMI −87.5% at age 0)"
    assert _row(s, source="ads")["payback_cohorts"] == 1
    assert _row(s, source="tv")["payback_cohorts"] == 1
    assert _row(s, source="radio")["payback_cohorts"] == 0
    # The each-age mean ("all") follows Jan to age 2: −0.46.
    s_all = gl.romi(shop, horizon=1, average="all").tables["sources"]
    assert _row(s_all, source="ads")["payback"] == "not yet (ROMI −45.8% at age 2)"
    assert _row(s, source="radio")["payback"] == "undefined"
    assert _row(s, source="seo")["payback"] == "undefined"
    per_cohort = r.tables["payback"]
    assert _row(per_cohort, source="ads", cohort=F)["payback"] == "undefined"
    assert _row(per_cohort, source="tv", cohort=M)["payback_age"] == 0
    assert (
        _row(per_cohort, source="(all sources)", cohort=J)["payback"]
        == "not yet (ROMI −53.5% at age 2)"
    )
    assert any(f.startswith("Source ads took 51% of spend") for f in r.sentences)


def test_romi_figures_render(shop: gl.Dataset) -> None:
    r = gl.romi(shop, horizon=1)
    titles = [spec.title for spec in r.figures]
    assert "ROMI by cohort and age — source ads" in titles
    for i in range(len(r.figures)):
        assert r.figure(i).data  # every chart has at least one trace


@pytest.mark.parametrize("seed", SEEDS)
def test_romi_matches_pandas_oracle(seed: int) -> None:
    from tests.oracle import marketing as oracle

    ds, frames = _random(seed)
    assert ds.window is not None
    cells, overall, per_source = oracle.romi_tables(
        frames.sessions,
        frames.orders,
        frames.costs,
        ds.window,
        "month",
        0.7,
        2,  # type: ignore[attr-defined]
    )
    r = gl.romi(ds, horizon=2)
    _compare(r.table, cells, ["cohort", "age", "source"], ["buyers", "ltv", "cac", "romi"])
    assert (r.table.sort_values(["cohort", "age", "source"])["complete"].tolist()
            == cells.sort_values(["cohort", "age", "source"])["complete"].tolist())  # fmt: skip
    _compare(r.tables["cohorts"], overall, ["cohort", "age"], ["buyers", "ltv", "cac", "romi"])
    expected = pd.DataFrame([{"source": k, **v} for k, v in per_source.items()])
    _compare(
        r.tables["sources"],
        expected,
        ["source"],
        ["gross_profit", "romi", "romi_n", "cohorts_used"],
    )


# ---------------------------------------------------------------- demo truth and report


@pytest.fixture(scope="module")
def demo() -> gl.Dataset:
    return gl.demo(users=6000, seed=3)


def test_demo_planted_cac_is_recovered(demo: gl.Dataset) -> None:
    """The generator plants CAC per paid source = its spend ÷ its buyers (rounded to cents),
    buyers per source, an organic source and a paid source without sessions."""
    truth = demo.truth
    assert truth is not None
    r = gl.cac(demo)
    t = r.table.set_index("source")
    for source, planted in truth["cac"].items():
        assert t.loc[source, "cac"] == pytest.approx(planted, abs=0.005), source
        assert t.loc[source, "buyers"] == truth["buyers_by_source"][source]
    for source in truth["organic_sources"]:
        assert t.loc[source, "status"] == "organic" and math.isnan(t.loc[source, "cac"])
    for source in truth["sessionless_sources"]:
        assert t.loc[source, "buyers"] == 0 and math.isnan(t.loc[source, "cac"])
    gaps = costs(demo).tables["gaps"]
    assert set(gaps["date"].dt.strftime("%Y-%m-%d")) == {truth["cost_gap_date"]}


def test_marketing_section(demo: gl.Dataset) -> None:
    built = section(demo, "marketing")
    assert built is not None
    assert [r.name for r in built.results] == ["costs", "cac", "romi", "unit_economics"]
    assert built.skipped == ()
    assert "sources" in built.results[2].tables


def test_marketing_section_without_sessions_or_costs() -> None:
    """Orders + costs only: per-cohort CAC and ROMI, per-source analyses skipped with the
    reason; no costs: no section."""
    ds = gl.load(orders=_orders(), costs=_costs(), window=("2020-01-01", "2020-03-31"))
    built = section(ds, "marketing")
    assert built is not None
    assert [r.name for r in built.results] == ["costs", "cac", "romi"]
    assert "source" not in built.results[1].table.columns  # per cohort
    assert built.results[2].table["romi"].notna().any()
    assert len(built.skipped) == 2 and all("no sessions" in r for r in built.skipped)
    assert built.skipped[1].startswith("Unit economics needs the sessions")
    assert section(gl.load(orders=_orders()), "marketing") is None


# ----------------------------------------------------------------------------- backend parity


@pytest.mark.spark
def test_same_tables_on_pyspark() -> None:
    """DuckDB and PySpark give the same spend, CAC and ROMI tables (to 1e-9)."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install 'growthlens[spark]')"
    )
    from tests.oracle.random_data import random_frames

    frames = random_frames(5, users=150, days=70)
    tables = {"sessions": frames.sessions, "orders": frames.orders, "costs": frames.costs}
    duck = gl.load(**tables, margin=0.7)
    spark = gl.load(**tables, margin=0.7, backend="pyspark")
    for run in (
        lambda ds: costs(ds),
        lambda ds: gl.cac(ds, cohort_by="first_visit"),
        lambda ds: gl.romi(ds, horizon=2),
    ):
        left, right = run(duck), run(spark)
        for key in ["main", *left.tables]:
            pd.testing.assert_frame_equal(
                left.frame(key).reset_index(drop=True),
                right.frame(key).reset_index(drop=True),
                check_dtype=False,
                rtol=1e-9,
            )
        assert left.sentences == right.sentences


def test_campaign_spend_rows_without_sessions() -> None:
    """Costs that name campaigns give the report campaign-level spend rows even with no
    sessions: spend per campaign and its share, by hand."""
    from growthlens.report.build import section

    costs = pd.DataFrame(
        {
            "date": ["2021-01-01", "2021-01-02", "2021-01-01", "2021-01-01", "2021-01-02"],
            "source": ["ads", "ads", "ads", "tv", "tv"],
            "campaign": ["spring", "spring", "brand", "launch", "launch"],
            "cost": [10.0, 20.0, 5.0, 40.0, 25.0],
        }
    )
    orders = pd.DataFrame(
        {"user_id": [1, 2], "ts": ["2021-01-01", "2021-01-02"], "revenue": [9.0, 4.0]}
    )
    ds = gl.load(costs=costs, orders=orders)  # window: both days
    built = section(ds, "marketing")
    assert built is not None
    names = [r.name for r in built.results]
    assert "costs" in names and "costs_by_campaign" in names
    by_campaign = next(r for r in built.results if r.name == "costs_by_campaign")
    sources = by_campaign.frame("sources").set_index("campaign")
    assert sources["cost"].to_dict() == {"launch": 65.0, "spring": 30.0, "brand": 5.0}
    assert sources.loc["launch", "share_of_spend"] == pytest.approx(0.65)
    assert by_campaign.title == "Marketing spend by campaign"
