"""Revenue by first-visit weekday and hour: hand-worked, against plain pandas, degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from tests.oracle import first_visit as oracle
from tests.oracle.random_data import random_frames

WINDOW = ("2024-01-01", "2024-01-14")


def test_hand_worked() -> None:
    """Mon 2024-01-01 is an ISO weekday 1.

    u1 first visits Mon 09:10 (a later visit Tue does not move it), buys 30 + 10.
    u2 first visits Mon 09:50, buys nothing. u3 first visits Sat 20:00, buys 20.
    u4 orders 5 but has no session: not placed anywhere.
    Mon 09h: users 2, buyers 1, revenue 40, conversion 1/2, revenue per user 20.
    Sat 20h: users 1, buyers 1, revenue 20. Totals: 3 users, 2 buyers, 60 revenue;
    weekend share 20/60. Wilson 95% for 2 of 3: centre (2/3 + 1.92/3)/(1 + 3.84/3).
    """
    sessions = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "start_ts": pd.to_datetime(
                ["2024-01-01 09:10", "2024-01-02 08:00", "2024-01-01 09:50", "2024-01-06 20:00"]
            ),
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 3, 4],
            "ts": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-07", "2024-01-08"]),
            "revenue": [30.0, 10.0, 20.0, 5.0],
        }
    )
    r = gl.revenue_by_first_visit(gl.load(sessions=sessions, orders=orders, window=WINDOW))
    assert r.status == "ok"
    assert len(r.table) == 7 * 24
    cell = r.table[(r.table["weekday"] == 1) & (r.table["hour"] == 9)].iloc[0]
    assert (cell["day"], cell["users"], cell["buyers"], cell["revenue"]) == ("Mon", 2, 1, 40.0)
    assert cell["conversion"] == 0.5 and cell["revenue_per_user"] == 20.0
    # Revenue per user 40 and 0: s² = (1600 − 2·20²) / 1 = 800, s/√2 = 20, t(1) = 12.706.
    t1 = 12.706204736174707
    assert (cell["revenue_per_user_low"], cell["revenue_per_user_high"]) == pytest.approx(
        (20 - t1 * 20, 20 + t1 * 20)
    )
    sat = r.table[(r.table["weekday"] == 6) & (r.table["hour"] == 20)].iloc[0]
    assert (sat["users"], sat["buyers"], sat["revenue"]) == (1, 1, 20.0)
    assert math.isnan(sat["revenue_per_user_low"])  # one user: no interval
    empty = r.table[(r.table["weekday"] == 7) & (r.table["hour"] == 3)].iloc[0]
    assert empty["users"] == 0 and math.isnan(empty["conversion"])
    s = r.summary
    assert (s["users"].value, s["buyers"].value, s["revenue"].value) == (3, 2, 60.0)
    assert s["weekend_share_of_revenue"].value == pytest.approx(20 / 60)
    z2 = 1.959963984540054**2
    centre = (2 / 3 + z2 / 6) / (1 + z2 / 3)
    half = 1.959963984540054 / (1 + z2 / 3) * math.sqrt((2 / 3) * (1 / 3) / 3 + z2 / 36)
    conversion = s["conversion"]
    assert conversion.value == pytest.approx(2 / 3)
    assert (conversion.low, conversion.high) == pytest.approx((centre - half, centre + half))
    assert conversion.method == "Wilson 95%"
    # Fewer than 30 first visitors on every weekday: nothing is ranked.
    assert s["best_day"].value is None
    assert r.params == {"confidence": 0.95, "currency": "USD"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_plain_pandas(seed: int) -> None:
    f = random_frames(seed, users=300, days=60)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    ours = gl.revenue_by_first_visit(ds).table
    expected = oracle.slots(f.sessions, f.orders, ds.window)  # type: ignore[arg-type]
    merged = ours.merge(expected, on=["weekday", "hour"], how="left", suffixes=("", "_oracle"))
    for column in ("users", "buyers", "revenue"):
        want = merged[f"{column}_oracle"].fillna(0).to_numpy(dtype=float)
        np.testing.assert_allclose(merged[column].to_numpy(dtype=float), want, rtol=1e-12)
    assert ours["users"].sum() == ds.table("sessions").user_id.nunique().execute()


@pytest.mark.parametrize("seed", [4, 5])
def test_revenue_per_user_intervals_and_the_lead_match_scipy(seed: int) -> None:
    """Per weekday: the t interval of revenue per user from the users' own revenue (scipy);
    the best weekday against the next: Welch's t test on the two groups of users (scipy)."""
    from scipy import stats

    f = random_frames(seed, users=2_000, days=60)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    r = gl.revenue_by_first_visit(ds, confidence=0.9)
    users = oracle.user_revenue(f.sessions, f.orders, ds.window)  # type: ignore[arg-type]
    weekdays = r.tables["weekdays"].set_index("weekday")
    for weekday, group in users.groupby("weekday"):
        x = group["revenue"].to_numpy()
        low, high = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        row = weekdays.loc[weekday]
        assert row["revenue_per_user"] == pytest.approx(x.mean(), rel=1e-12)
        assert (row["revenue_per_user_low"], row["revenue_per_user_high"]) == pytest.approx(
            (low, high), rel=1e-9
        )
    means = users.groupby("weekday")["revenue"].mean().sort_values(ascending=False)
    best, second = means.index[0], means.index[1]
    want = stats.ttest_ind(
        users.loc[users.weekday == best, "revenue"],
        users.loc[users.weekday == second, "revenue"],
        equal_var=False,
    )
    (finding,) = [f for f in r.findings if f.code == "best_weekday"]
    assert finding.numbers["lead_p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    assert "Welch t test" in finding.text
    entry = r.summary["best_day_revenue_per_user"]
    assert entry.method == "Student t 90%" and entry.low < entry.value < entry.high


def test_recovers_a_planted_weekday_effect() -> None:
    """Saturday arrivals convert at 30%, everyone else at 5%: found, ranked and tested."""
    rng = np.random.default_rng(7)
    n = 7_000
    start = pd.Timestamp("2024-01-01")  # a Monday
    day = rng.integers(0, 7, n)
    first = start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.integers(0, 24, n), "h")
    buys = rng.random(n) < np.where(day == 5, 0.30, 0.05)
    sessions = pd.DataFrame({"user_id": np.arange(n), "start_ts": first})
    orders = pd.DataFrame(
        {"user_id": np.arange(n)[buys], "ts": first[buys] + pd.Timedelta(hours=1), "revenue": 10.0}
    )
    r = gl.revenue_by_first_visit(
        gl.load(sessions=sessions, orders=orders, window=("2024-01-01", "2024-01-08"))
    )
    assert r.summary["best_day"].value == "Sat"
    sat = r.tables["weekdays"].set_index("day").loc["Sat"]
    assert sat["conversion_low"] <= 0.30 <= sat["conversion_high"]
    assert r.summary["weekday_p_value"].value < 1e-6
    assert any(f.code == "weekday_difference" and "more than chance" in f.text for f in r.findings)


def test_no_buyer_is_a_status_not_an_error() -> None:
    sessions = pd.DataFrame({"user_id": [1], "start_ts": pd.to_datetime(["2024-01-01 10:00"])})
    orders = pd.DataFrame({"user_id": [2], "ts": pd.to_datetime(["2024-01-02"]), "revenue": [1.0]})
    r = gl.revenue_by_first_visit(gl.load(sessions=sessions, orders=orders, window=WINDOW))
    assert r.status == "not_enough_data" and "bought" in r.status_reason
    assert math.isnan(r.summary["weekday_p_value"].value)
    assert r.sentences == (r.status_reason,)


def test_a_bad_confidence_is_a_config_error() -> None:
    sessions = pd.DataFrame({"user_id": [1], "start_ts": pd.to_datetime(["2024-01-01 10:00"])})
    ds = gl.load(
        sessions=sessions,
        orders=pd.DataFrame({"user_id": [1], "ts": ["2024-01-01"], "revenue": [1.0]}),
    )
    with pytest.raises(gl.ConfigError, match="confidence"):
        gl.revenue_by_first_visit(ds, confidence=1.5)
