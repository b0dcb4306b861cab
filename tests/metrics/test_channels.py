"""Channel economics on a hand-computed fixture (docs/channels.md).

The fixture (window 2024-01-01 – 2024-02-29), every number below worked out by hand:

    sessions  s1 u1 01-01 10:00 ads    c1 de     s2 u1 01-02 10:00 seo    –  de
              s3 u2 01-02 11:00 ads    c1 fr     s4 u3 01-03 09:00 ads    c2 fr
              s5 u3 02-01 09:00 seo    –  de     s6 u4 02-10 09:00 social c3 de
              s7 u2 02-11 09:00 (null) –  fr
    orders    o1 u1 01-02 12:00 100 → journey s1 ads, s2 seo
              o2 u3 02-01 10:00  50 → journey s4 ads (29 days before: inside 30 d), s5 seo
              o3 u5 02-15 12:00  30 → u5 has no session: (no touch)
              o4 u2 02-11 10:00  20 → s3 is 40 days before (outside), s7 (unknown)
    costs     date   source campaign cost clicks impressions
              01-01  ads    c1       10   5      100   (s1 that day)
              01-02  ads    c1       20   0       50   (s3 that day)
              01-03  google c2        5   1        0   (s4 that day; c2's sessions are ads)
              01-04  google c2        8   2       40   (no c2 session that day: idle)
              01-06  google c2        0   0        0   (no session, but no cost either)
              01-05  x      c9        7   2       10   (no session ever: (no sessions))
              02-01  tv     –        12   3       60   (no campaign: its own source)

Linear credit: o1 ads ½ seo ½; o2 ads ½ seo ½; o3 (no touch) 1; o4 (unknown) 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.campaign_costs import campaign_costs
from growthlens.metrics.channels import NO_SESSIONS, economics
from tests.oracle import channels as oracle

NAN = math.nan
NO_TOUCH, UNKNOWN = "(no touch)", "(unknown)"


def _frames() -> dict[str, pd.DataFrame]:
    sessions = pd.DataFrame(
        [
            ("s1", "u1", "2024-01-01 10:00", "ads", "c1", "de"),
            ("s2", "u1", "2024-01-02 10:00", "seo", None, "de"),
            ("s3", "u2", "2024-01-02 11:00", "ads", "c1", "fr"),
            ("s4", "u3", "2024-01-03 09:00", "ads", "c2", "fr"),
            ("s5", "u3", "2024-02-01 09:00", "seo", None, "de"),
            ("s6", "u4", "2024-02-10 09:00", "social", "c3", "de"),
            ("s7", "u2", "2024-02-11 09:00", None, None, "fr"),
        ],
        columns=["session_id", "user_id", "start_ts", "source", "campaign", "market"],
    )
    sessions["start_ts"] = pd.to_datetime(sessions["start_ts"])
    orders = pd.DataFrame(
        [
            ("o1", "u1", "2024-01-02 12:00", 100.0),
            ("o2", "u3", "2024-02-01 10:00", 50.0),
            ("o3", "u5", "2024-02-15 12:00", 30.0),
            ("o4", "u2", "2024-02-11 10:00", 20.0),
        ],
        columns=["order_id", "user_id", "ts", "revenue"],
    )
    orders["ts"] = pd.to_datetime(orders["ts"])
    costs = pd.DataFrame(
        [
            ("2024-01-01", "ads", "c1", 10.0, 5, 100),
            ("2024-01-02", "ads", "c1", 20.0, 0, 50),
            ("2024-01-03", "google", "c2", 5.0, 1, 0),
            ("2024-01-04", "google", "c2", 8.0, 2, 40),
            ("2024-01-06", "google", "c2", 0.0, 0, 0),
            ("2024-01-05", "x", "c9", 7.0, 2, 10),
            ("2024-02-01", "tv", None, 12.0, 3, 60),
        ],
        columns=["date", "source", "campaign", "cost", "clicks", "impressions"],
    )
    return {"sessions": sessions, "orders": orders, "costs": costs}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return gl.load(**_frames(), window=("2024-01-01", "2024-02-29"))


def _row(frame: pd.DataFrame, by: str, value: str, period: str | None = None) -> dict[str, float]:
    part = frame[frame[by] == value]
    if period is not None:
        part = part[part["period"] == pd.Timestamp(period)]
    assert len(part) == 1, f"{value} {period}: {len(part)} rows"
    return part.iloc[0].to_dict()


def _check(row: dict[str, float], expected: dict[str, float]) -> None:
    for key, value in expected.items():
        got = row[key]
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got), f"{key}: {got} is not NaN"
        else:
            assert got == pytest.approx(value, rel=1e-12), f"{key}: {got} != {value}"


def test_channel_view_by_hand(ds: Dataset) -> None:
    e = economics(ds, by="channel", period=None, model="linear")
    t = e.rows
    assert set(t["channel"]) == {"ads", "seo", "social", UNKNOWN, NO_TOUCH, NO_SESSIONS, "tv"}
    # ads: c1 (30) and c2 (13) whatever the costs' source says, clicks 8, impressions 190.
    _check(
        _row(t, "channel", "ads"),
        {
            "sessions": 3,
            "users": 3,
            "new_users": 3,
            "conversions": 1.0,
            "revenue": 75.0,
            "cost": 43.0,
            "clicks": 8.0,
            "impressions": 190.0,
            "cpc": 43 / 8,
            "cpm": 43 / 190 * 1000,
            "ctr": 8 / 190,
            "cpa": 43.0,
            "roas": 75 / 43,
        },
    )
    # seo: unpaid (no cost row): cost 0, every cost ratio undefined, CPA included.
    _check(
        _row(t, "channel", "seo"),
        {
            "sessions": 2,
            "users": 2,
            "new_users": 0,
            "conversions": 1.0,
            "revenue": 75.0,
            "cost": 0.0,
            "cpc": NAN,
            "cpm": NAN,
            "ctr": NAN,
            "cpa": NAN,
            "roas": NAN,
        },
    )
    _check(
        _row(t, "channel", "social"),
        {"sessions": 1, "users": 1, "new_users": 1, "conversions": 0.0, "cost": 0.0, "cpa": NAN},
    )
    _check(
        _row(t, "channel", UNKNOWN),
        {"sessions": 1, "users": 1, "new_users": 0, "conversions": 1.0, "revenue": 20.0},
    )
    _check(
        _row(t, "channel", NO_TOUCH),
        {"sessions": 0, "users": 0, "conversions": 1.0, "revenue": 30.0, "cost": 0.0},
    )
    # Cost of a campaign no session has; paid with no conversion: CPA undefined, ROAS 0.
    _check(
        _row(t, "channel", NO_SESSIONS),
        {
            "sessions": 0,
            "cost": 7.0,
            "clicks": 2.0,
            "impressions": 10.0,
            "cpc": 3.5,
            "cpm": 700.0,
            "ctr": 0.2,
            "cpa": NAN,
            "roas": 0.0,
        },
    )
    _check(
        _row(t, "channel", "tv"),
        {"sessions": 0, "cost": 12.0, "cpc": 4.0, "cpm": 200.0, "ctr": 0.05, "roas": 0.0},
    )
    _check(
        e.total.iloc[0].to_dict(),
        {
            "sessions": 7,
            "users": 4,
            "new_users": 4,
            "conversions": 4.0,
            "revenue": 200.0,
            "cost": 62.0,
            "clicks": 13.0,
            "impressions": 260.0,
            "cpc": 62 / 13,
            "cpm": 62 / 260 * 1000,
            "ctr": 13 / 260,
            "cpa": 62 / 4,
            "roas": 200 / 62,
        },
    )
    # Channel cost adds up to the total cost, new users to all users.
    assert t["cost"].sum() == pytest.approx(62.0)
    assert t["new_users"].sum() == 4
    assert t["conversions"].sum() == pytest.approx(4.0)
    # No ratio is ever infinite.
    ratios = t[["cpc", "cpm", "ctr", "cpa", "roas"]].to_numpy(dtype=float)
    assert not (ratios == math.inf).any()
    # Paid rows first by cost, then the rest; special rows last.
    assert t["channel"].tolist()[:2] == ["ads", "tv"]
    assert set(t["channel"].tolist()[-3:]) == {NO_TOUCH, NO_SESSIONS, UNKNOWN}


def test_roas_under_other_models(ds: Dataset) -> None:
    e = economics(
        ds, by="channel", period=None, model="linear", models=("first_touch", "given", "linear")
    )
    assert e.models == ("first_touch",)
    assert "given" in e.skipped and "weight" in e.skipped["given"]
    ads = _row(e.rows, "channel", "ads")
    # first touch: o1 → s1 ads (100), o2 → s4 ads (50).
    _check(ads, {"revenue_first_touch": 150.0, "roas_first_touch": 150 / 43})
    _check(_row(e.rows, "channel", "seo"), {"revenue_first_touch": 0.0, "roas_first_touch": NAN})
    _check(e.total.iloc[0].to_dict(), {"roas_first_touch": 200 / 62})


def test_month_view_by_hand(ds: Dataset) -> None:
    e = economics(ds, by="channel", period="month", model="linear")
    t = e.rows
    jan, feb = "2024-01-01", "2024-02-01"
    _check(
        _row(t, "channel", "ads", jan),
        {"sessions": 3, "users": 3, "new_users": 3, "conversions": 0.5, "revenue": 50.0},
    )
    _check(_row(t, "channel", "ads", jan), {"cost": 43.0, "cpa": 86.0, "roas": 50 / 43})
    # o2 converts in February: its credit counts there, though s4 was in January. ads is
    # paid over the window, so a month without its cost has CPA 0 (cost 0 ÷ 0.5).
    _check(
        _row(t, "channel", "ads", feb),
        {"sessions": 0, "users": 0, "conversions": 0.5, "revenue": 25.0, "cost": 0.0, "cpa": 0.0},
    )
    _check(_row(t, "channel", "seo", jan), {"sessions": 1, "conversions": 0.5, "revenue": 50.0})
    _check(_row(t, "channel", "seo", feb), {"sessions": 1, "conversions": 0.5, "revenue": 25.0})
    _check(_row(t, "channel", "tv", feb), {"cost": 12.0, "clicks": 3.0})
    _check(_row(t, "channel", NO_SESSIONS, jan), {"cost": 7.0})
    periods = e.periods.set_index("period")
    _check(
        periods.loc[pd.Timestamp(jan)].to_dict(),
        {
            "sessions": 4,
            "users": 3,
            "new_users": 3,
            "conversions": 1.0,
            "revenue": 100.0,
            "cost": 50.0,
            "clicks": 10.0,
            "impressions": 200.0,
        },
    )
    _check(
        periods.loc[pd.Timestamp(feb)].to_dict(),
        {
            "sessions": 3,
            "users": 3,
            "new_users": 1,
            "conversions": 3.0,
            "revenue": 100.0,
            "cost": 12.0,
            "clicks": 3.0,
            "impressions": 60.0,
        },
    )
    # The window level equals the view without a period.
    plain = economics(ds, by="channel", period=None, model="linear").rows
    assert_same(e.values, plain, "channel")


def assert_same(a: pd.DataFrame, b: pd.DataFrame, by: str) -> None:
    a = a.sort_values(by, ignore_index=True)
    b = b.sort_values(by, ignore_index=True)
    pd.testing.assert_frame_equal(a[b.columns], b, check_dtype=False)


@pytest.mark.parametrize("by", ["channel", "campaign", "market"])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_periods_add_up(ds: Dataset, by: str, period: str) -> None:
    e = economics(ds, by=by, period=period, model="linear")  # type: ignore[arg-type]
    additive = ["sessions", "new_users", "conversions", "revenue", "cost", "clicks"]
    summed = e.rows.groupby(by)[additive].sum(min_count=1).reset_index()
    values = e.values.set_index(by).loc[summed[by], additive].reset_index()
    pd.testing.assert_frame_equal(summed, values, check_dtype=False)
    per = e.periods[additive].sum(min_count=1)
    total = e.total.iloc[0]
    for column in additive:
        assert per[column] == pytest.approx(total[column]), column
    assert e.periods["users"].sum() >= total["users"]  # distinct users do not add up


def test_whole_window_and_months_build_the_cells_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-window table sums the kept per-month cells: one build serves both."""
    import growthlens.metrics.channels as channels

    built: list[str | None] = []
    original = channels._cells

    def counting(ds: Dataset, view: Any, *args: Any) -> Any:
        built.append(view.period)
        return original(ds, view, *args)

    monkeypatch.setattr(channels, "_cells", counting)
    fresh = gl.load(**_frames(), window=("2024-01-01", "2024-02-29"))
    whole = economics(fresh, by="channel", period=None, model="linear", models=("markov",))
    monthly = economics(fresh, by="channel", period="month", model="linear", models=("markov",))
    assert built == ["month"]
    pd.testing.assert_frame_equal(whole.values, monthly.values)
    pd.testing.assert_frame_equal(whole.total, monthly.total)
    # Another model or view is other cells; the week table is its own build.
    economics(fresh, by="channel", period=None, model="last_touch")
    economics(fresh, by="campaign", period=None, model="linear", models=("markov",))
    economics(fresh, by="channel", period="week", model="linear", models=("markov",))
    assert built == ["month", "month", "month", "week"]
    _check(_row(whole.values, "channel", "ads"), {"sessions": 3, "revenue": 75.0, "cost": 43.0})


def test_campaign_view_by_hand(ds: Dataset) -> None:
    t = economics(ds, by="campaign", period=None, model="linear").rows
    _check(
        _row(t, "campaign", "c1"),
        {
            "sessions": 2,
            "users": 2,
            "new_users": 2,
            "conversions": 0.5,
            "revenue": 50.0,
            "cost": 30.0,
            "clicks": 5.0,
            "impressions": 150.0,
            "cpa": 60.0,
        },
    )
    _check(
        _row(t, "campaign", "c2"),
        {"sessions": 1, "new_users": 1, "conversions": 0.5, "cost": 13.0, "clicks": 3.0},
    )
    # A session campaign without cost rows: unpaid.
    _check(_row(t, "campaign", "c3"), {"sessions": 1, "cost": 0.0, "cpa": NAN, "roas": NAN})
    # The campaign view keeps a campaign without sessions under its own id.
    _check(_row(t, "campaign", "c9"), {"sessions": 0, "cost": 7.0, "cpa": NAN, "roas": 0.0})
    # Sessions and cost rows without a campaign.
    _check(
        _row(t, "campaign", UNKNOWN),
        {
            "sessions": 3,
            "users": 3,
            "new_users": 0,
            "conversions": 2.0,
            "revenue": 95.0,
            "cost": 12.0,
            "cpa": 6.0,
            "roas": 95 / 12,
        },
    )
    _check(_row(t, "campaign", NO_TOUCH), {"conversions": 1.0, "revenue": 30.0})
    assert t["cost"].sum() == pytest.approx(62.0)


def test_market_view_without_market_costs(ds: Dataset) -> None:
    e = economics(ds, by="market", period=None, model="linear")
    assert e.cost_split == "none"
    t = e.rows
    _check(
        _row(t, "market", "de"),
        {
            "sessions": 4,
            "users": 3,
            "new_users": 2,
            "conversions": 1.5,
            "revenue": 125.0,
            "cost": NAN,
            "cpc": NAN,
            "cpa": NAN,
            "roas": NAN,
        },
    )
    _check(
        _row(t, "market", "fr"),
        {"sessions": 3, "users": 2, "new_users": 2, "conversions": 1.5, "revenue": 45.0},
    )
    # The totals keep every cost.
    _check(e.total.iloc[0].to_dict(), {"cost": 62.0, "roas": 200 / 62, "conversions": 4.0})


def test_market_view_with_market_costs() -> None:
    frames = _frames()
    frames["costs"]["market"] = ["de", "de", "fr", "fr", "fr", "fr", None]
    e = economics(
        gl.load(**frames, window=("2024-01-01", "2024-02-29")),
        by="market",
        period=None,
        model="linear",
    )
    assert e.cost_split == "column"
    _check(_row(e.rows, "market", "de"), {"cost": 30.0, "roas": 125 / 30})
    _check(_row(e.rows, "market", "fr"), {"cost": 20.0, "roas": 45 / 20})
    _check(_row(e.rows, "market", UNKNOWN), {"cost": 12.0, "sessions": 0})
    assert e.rows["cost"].sum() == pytest.approx(62.0)


def test_cost_checks_by_hand(ds: Dataset) -> None:
    checks = economics(ds, by="channel", period=None, model="linear").checks
    assert checks.available
    # Paid (cost > 0): c1 ×2, c2 ×2 (its 01-06 row costs 0), c9 ×1; sessions: c1, c2, c3.
    assert (checks.paid_campaigns, checks.session_campaigns, checks.paid_rows) == (3, 3, 4)
    # Only c2 on 01-04 is paid on a day without a session of its campaign: c2's 01-06 row
    # is no spend, and c9 (no session at all) is a campaign without sessions instead.
    assert (checks.idle_rows, checks.idle_days, checks.idle_cost) == (1, 1, 8.0)
    assert checks.idle.to_dict("records") == [
        {
            "campaign": "c2",
            "rows": 1,
            "days": 1,
            "cost": 8.0,
            "first_date": pd.Timestamp("2024-01-04"),
            "last_date": pd.Timestamp("2024-01-04"),
        }
    ]
    assert checks.idle_examples == ("2024-01-04 c2",)
    assert checks.without_sessions.to_dict("records") == [
        {"campaign": "c9", "rows": 1, "cost": 7.0}
    ]
    assert checks.without_cost.to_dict("records") == [
        {"campaign": "c3", "sessions": 1, "cost_rows": 0}
    ]


def _campaign_case() -> Dataset:
    """Costs against sessions by campaign, one planted case a row (numbers in the test)."""
    sessions = pd.DataFrame(
        [
            ("s1", "u1", "2024-01-01 09:00", "a"),
            ("s2", "u2", "2024-01-01 18:00", "a"),
            ("s3", "u1", "2024-01-03 09:00", "a"),
            ("s4", "u3", "2024-01-02 09:00", "b"),
            ("s5", "u3", "2024-01-02 10:00", "z"),  # z: only cost rows of 0
            ("s6", "u4", "2024-01-01 10:00", "y"),  # y: no cost row at all
            ("s7", "u4", "2024-01-02 10:00", "y"),
            ("s8", "u5", "2024-01-05 10:00", None),
        ],
        columns=["session_id", "user_id", "start_ts", "campaign"],
    ).assign(source="ads", start_ts=lambda f: pd.to_datetime(f["start_ts"]))
    costs = pd.DataFrame(
        [
            ("2024-01-01", "ads", "a", 4.0),  # a session of a that day
            ("2024-01-02", "ads", "a", 3.0),  # idle
            ("2024-01-02", "ads2", "a", 2.0),  # idle, the same campaign-day
            ("2024-01-04", "ads", "a", 0.0),  # no session, but no spend either
            ("2024-01-05", "ads", "a", 6.0),  # idle
            ("2024-01-02", "ads", "b", 1.0),
            ("2024-01-01", "ads", "z", 0.0),
            ("2024-01-02", "ads", "z", 0.0),
            ("2024-01-01", "ads", "q", 0.0),  # no session and no spend: no finding
            ("2024-01-03", "ads", "w", 5.0),  # w: spend, no session at all
            ("2024-01-04", "ads", "w", 0.0),
            ("2024-01-05", "ads", None, 9.0),  # no campaign: not checked
        ],
        columns=["date", "source", "campaign", "cost"],
    )
    return gl.load(sessions=sessions, costs=costs, window=("2024-01-01", "2024-01-31"))


def test_cost_checks_count_spend_once() -> None:
    checks = campaign_costs(_campaign_case(), examples=1)
    assert (checks.paid_campaigns, checks.session_campaigns) == (3, 4)  # a b w; a b y z
    assert checks.paid_rows == 5  # a ×4, b ×1
    # a: 3 + 2 on 01-02 (one campaign-day) and 6 on 01-05.
    assert (checks.idle_rows, checks.idle_days, checks.idle_cost) == (3, 2, 11.0)
    idle = checks.idle.to_dict("records")
    assert idle == [
        {
            "campaign": "a",
            "rows": 3,
            "days": 2,
            "cost": 11.0,
            "first_date": pd.Timestamp("2024-01-02"),
            "last_date": pd.Timestamp("2024-01-05"),
        }
    ]
    assert checks.idle_examples == ("2024-01-02 a",)
    assert checks.without_sessions.to_dict("records") == [{"campaign": "w", "rows": 1, "cost": 5.0}]
    assert checks.without_cost.to_dict("records") == [
        {"campaign": "y", "sessions": 2, "cost_rows": 0},
        {"campaign": "z", "sessions": 1, "cost_rows": 2},
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cost_checks_match_a_pandas_count(seed: int) -> None:
    """Random campaigns, days and costs (0 a third of the time) against a direct count."""
    rng = np.random.default_rng(seed)
    n = 60
    sessions = pd.DataFrame(
        {
            "session_id": [f"s{i}" for i in range(n)],
            "user_id": rng.integers(0, 20, n).astype(str),
            "start_ts": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 10 * 24, n), unit="h"),
            "source": "ads",
            "campaign": rng.choice(["c0", "c1", "c2", "c3", "c4", "c5"], n),
        }
    )
    costs = pd.DataFrame(
        [
            (f"2024-01-{d:02d}", src, f"c{k}", float(rng.choice([0.0, 2.5, 4.0])))
            for d in range(1, 11)
            for k in range(3, 9)
            for src in ("ads", "ads2")
            if rng.random() < 0.5
        ],
        columns=["date", "source", "campaign", "cost"],
    )
    ds = gl.load(sessions=sessions, costs=costs, window=("2024-01-01", "2024-01-31"))
    got = campaign_costs(ds, examples=3)
    seen = set(sessions["campaign"])
    days = set(zip(sessions["start_ts"].dt.strftime("%Y-%m-%d"), sessions["campaign"], strict=True))
    paid = costs[costs["cost"] > 0]
    lost = paid[~paid["campaign"].isin(seen)]
    kept = paid[paid["campaign"].isin(seen)]
    idle = kept[[(d, c) not in days for d, c in zip(kept["date"], kept["campaign"], strict=True)]]
    free = sorted(seen - set(paid["campaign"]))
    assert got.paid_rows == len(kept)
    assert got.idle_rows == len(idle) and got.idle_cost == pytest.approx(idle["cost"].sum())
    assert got.idle_days == len(idle[["date", "campaign"]].drop_duplicates())
    pairs = sorted({f"{d} {c}" for d, c in zip(idle["date"], idle["campaign"], strict=True)})
    assert got.idle_examples == tuple(pairs[:3])
    per = lost.groupby("campaign")["cost"].agg(["size", "sum"])
    assert got.without_sessions.set_index("campaign")["rows"].to_dict() == per["size"].to_dict()
    assert got.without_sessions["cost"].sum() == pytest.approx(lost["cost"].sum())
    assert sorted(got.without_cost["campaign"]) == free
    assert got.without_cost["sessions"].sum() == sessions["campaign"].isin(free).sum()
    assert got.paid_campaigns == paid["campaign"].nunique()
    assert got.session_campaigns == len(seen)


def test_no_costs_no_orders() -> None:
    frames = _frames()
    ds = gl.load(sessions=frames["sessions"], window=("2024-01-01", "2024-02-29"))
    e = economics(ds, by="channel", period=None, model="linear")
    assert e.cost_split == "absent" and not e.has_conversions and not e.checks.available
    ads = _row(e.rows, "channel", "ads")
    _check(ads, {"sessions": 3, "conversions": NAN, "cost": NAN, "cpa": NAN, "roas": NAN})


def test_costs_without_clicks_or_campaign() -> None:
    frames = _frames()
    costs = frames["costs"].drop(columns=["clicks", "impressions", "campaign"])
    ds = gl.load(
        sessions=frames["sessions"],
        orders=frames["orders"],
        costs=costs,
        window=("2024-01-01", "2024-02-29"),
    )
    e = economics(ds, by="channel", period=None, model="linear")
    assert not e.has_clicks and not e.checks.available
    # Without campaigns, cost rows count for their own source.
    _check(_row(e.rows, "channel", "ads"), {"cost": 30.0, "clicks": NAN, "cpc": NAN})
    _check(_row(e.rows, "channel", "google"), {"cost": 13.0, "sessions": 0})
    assert e.rows["cost"].sum() == pytest.approx(62.0)


def test_dimension_joined_by_session(ds: Dataset) -> None:
    frames = _frames()
    frames["sessions"]["device"] = ["mobile", "desktop", "desktop", "mobile", "mobile", None, "x"]
    e = economics(
        gl.load(**frames, window=("2024-01-01", "2024-02-29")),
        by="device",
        period=None,
        model="linear",
    )
    # o1: s1 mobile ½, s2 desktop ½; o2: s4 mobile ½, s5 mobile ½; o4: s7 x.
    _check(_row(e.rows, "device", "mobile"), {"conversions": 1.5, "revenue": 50 + 50})
    _check(_row(e.rows, "device", "desktop"), {"conversions": 0.5, "sessions": 2})
    _check(_row(e.rows, "device", "x"), {"conversions": 1.0, "revenue": 20.0})
    _check(_row(e.rows, "device", UNKNOWN), {"sessions": 1, "conversions": 0.0})


def test_bad_options(ds: Dataset) -> None:
    with pytest.raises(ConfigError, match=r"by='colour'.*usable: channel, campaign, market"):
        economics(ds, by="colour", period=None, model="linear")
    with pytest.raises(ConfigError, match="model must be one of"):
        economics(ds, by="channel", period=None, model="magic")


@pytest.mark.parametrize(
    ("seed", "by", "period"),
    [
        (1, "channel", None),
        (2, "channel", "week"),
        (3, "campaign", "month"),
        (4, "market", None),
        (5, "channel", "day"),
    ],
)
def test_matches_the_oracle(seed: int, by: str, period: str | None) -> None:
    frames = oracle.random_frames(seed)
    ds = gl.load(**frames, window=("2023-03-01", "2023-05-14"))
    e = economics(
        ds,
        by=by,
        period=period,  # type: ignore[arg-type]
        model="linear",
        models=("first_touch",),
    )
    cells, total = oracle.economics(frames, by=by, period=period, others=("first_touch",))
    measures = [
        "sessions",
        "users",
        "new_users",
        "conversions",
        "revenue",
        "cost",
        "clicks",
        "impressions",
        "cpc",
        "cpm",
        "ctr",
        "cpa",
        "roas",
        "revenue_first_touch",
        "roas_first_touch",
    ]
    if by == "market":  # the costs have no market: cost is not split
        measures = [*measures[:5], "revenue_first_touch"]
    got = {
        (None if period is None else pd.Timestamp(r["period"]), r[by]): r
        for r in e.rows.to_dict("records")
    }
    assert set(got) == set(cells)
    for key, want in cells.items():
        for m in measures:
            assert_close(got[key][m], want.get(m, 0.0), f"{key} {m}")
    for m in ("sessions", "users", "new_users", "conversions", "revenue", "cost", "cpa", "roas"):
        assert_close(e.total.iloc[0][m], total[m], f"total {m}")


def assert_close(got: float, want: float, what: str) -> None:
    if isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), f"{what}: {got}, expected NaN"
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), f"{what}: {got} != {want}"


@pytest.mark.spark
@pytest.mark.parametrize(("by", "period"), [("channel", None), ("campaign", "month")])
def test_same_on_spark(by: str, period: str | None, spark_backend: Any) -> None:
    window = ("2024-01-01", "2024-02-29")
    duck, spark = (
        economics(
            gl.load(**_frames(), window=window, backend=backend),
            by=by,
            period=period,  # type: ignore[arg-type]
            model="linear",
            models=("first_touch", "shapley"),
        )
        for backend in (None, spark_backend)
    )
    for a, b in ((duck.rows, spark.rows), (duck.total, spark.total)):
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    a, b = duck.checks, spark.checks
    for frame in ("idle", "without_sessions", "without_cost"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame), check_dtype=False)
    assert a.idle_examples == b.idle_examples and a.paid_rows == b.paid_rows
