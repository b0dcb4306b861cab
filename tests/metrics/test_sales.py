"""Conversion lag, orders per buyer, AOV and LTV: hand-worked fixtures, oracle, invariants."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import growthlens as gl
from growthlens.errors import MissingTableError
from tests.oracle import sales as oracle
from tests.oracle.random_data import random_frames

SESSIONS = pd.DataFrame(
    {
        "user_id": ["u1", "u2", "u3", "u5"],
        "start_ts": pd.to_datetime(
            ["2021-01-01 10:00", "2021-01-03 09:00", "2021-02-01 23:00", "2021-01-10 08:00"]
        ),
        "source": ["a", "b", "a", "b"],
    }
)
ORDERS = pd.DataFrame(
    {
        "user_id": ["u1", "u1", "u2", "u3", "u4", "u5"],
        "ts": pd.to_datetime(
            [
                "2021-01-01 12:00",
                "2021-03-05 10:00",
                "2021-01-04 10:00",
                "2021-02-02 01:00",
                "2021-01-20 10:00",
                "2021-01-08 10:00",
            ]
        ),
        "revenue": [10.0, 20.0, 0.0, 30.0, 5.0, 8.0],
    }
)


def _dataset() -> gl.Dataset:
    return gl.load(
        sessions=SESSIONS, orders=ORDERS, window=("2021-01-01", "2021-03-31"), margin=0.5, horizon=2
    )


def test_conversion_lag_hand_worked() -> None:
    """Lags (order date − visit date): u1 0, u2 1, u3 1 (23:00 → 01:00 next day), u5 −2
    (ordered before the first visit), u4 none (no session). Shares over all 5 buyers:
    negative 0.2, 0d 0.2, 1d 0.4, (no session) 0.2. Median of [−2, 0, 1, 1] = 0.5, mean 0."""
    r = gl.conversion_lag(_dataset())
    buckets = r.tables["buckets"].set_index("bucket")
    assert buckets["buyers"].to_dict() == {
        "negative": 1,
        "0d": 1,
        "1d": 2,
        "2–7d": 0,
        "8–30d": 0,
        "30d+": 0,
        "(no session)": 1,
    }
    assert buckets["share"].sum() == pytest.approx(1.0)
    assert r.table[["lag_days", "buyers"]].values.tolist() == [[-2, 1], [0, 1], [1, 2]]
    assert r.summary["median_lag_days"].value == 0.5 and r.summary["mean_lag_days"].value == 0.0
    assert r.summary["share_0d"].value == pytest.approx(0.2)
    assert (
        r.summary["negative_lag_buyers"].value == 1
        and r.summary["buyers_without_session"].value == 1
    )
    by = r.tables["by_source"]
    assert set(by["source"]) == {"a", "b", "(unknown)"}


def test_orders_per_buyer_and_ltv_hand_worked() -> None:
    """Buyer cohorts (first order month): Jan {u1, u2, u4, u5} (4), Feb {u3} (1).

    Jan orders: age 0: 4 (10 + 0 + 5 + 8 = 23), age 1 (Feb): none, age 2 (Mar): u1's 20.
    orders per buyer Jan: 1, 1 (carried through the empty month), 5/4. Feb: 1, 1.
    LTV, margin 0.5: Jan 23×0.5/4 = 2.875, 2.875, 43×0.5/4 = 5.375; Feb 15, 15.
    Horizon 2 → the "2-month" figure = mean over complete cells at age 1:
    (2.875 + 15) / 2 = 8.9375 from 2 cells; orders per buyer (1 + 1)/2 = 1.
    """
    ds = _dataset()
    opb = gl.orders_per_buyer(ds).table
    assert opb["orders_per_buyer"].tolist() == [1.0, 1.0, 1.25, 1.0, 1.0]
    assert opb["age"].tolist() == [0, 1, 2, 0, 1]
    ltv = gl.ltv(ds)
    assert ltv.table["ltv"].tolist() == pytest.approx([2.875, 2.875, 5.375, 15.0, 15.0])
    assert ltv.table["buyers"].tolist() == [4, 4, 4, 1, 1]
    assert (
        ltv.summary["ltv_2"].value == pytest.approx(8.9375)
        and ltv.summary["ltv_2_cells"].value == 2
    )
    assert gl.orders_per_buyer(ds).summary["orders_per_buyer_2"].value == 1.0
    assert gl.ltv(ds, margin=1.0).table["ltv"].iloc[0] == pytest.approx(5.75)


def test_unobserved_cells_absent_and_partial_flagged() -> None:
    """Window ends 2021-03-15: March is observed but not complete; April never appears."""
    ds = gl.load(orders=ORDERS, window=("2021-01-01", "2021-03-15"))
    t = gl.ltv(ds).table
    assert t["age"].max() == 2
    assert t.loc[t["age"] == 2, "complete"].tolist() == [False]
    assert not t["ltv"].isna().any()


def test_aov_hand_worked() -> None:
    """Jan 4 orders, 23 → 5.75; Feb 1, 30 → 30; Mar 1, 20 → 20; overall 73/6 (a zero-revenue
    order is an order)."""
    r = gl.aov(_dataset())
    assert r.table["aov"].tolist() == pytest.approx([5.75, 30.0, 20.0])
    assert r.summary["aov"].value == pytest.approx(73 / 6)


def test_conversion_lag_needs_sessions() -> None:
    ds = gl.load(orders=ORDERS)
    with pytest.raises(MissingTableError, match="sessions"):
        gl.conversion_lag(ds)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("period", ["week", "month"])
def test_ltv_and_orders_match_oracle(seed: int, period: str) -> None:
    f = random_frames(seed, users=200, days=90)
    ds = gl.load(sessions=f.sessions, orders=f.orders, margin=0.4)
    expected = oracle.cohort_values(f.orders, ds.window, period, 0.4)  # type: ignore[arg-type]
    ltv = gl.ltv(ds, period=period).table  # type: ignore[arg-type]
    opb = gl.orders_per_buyer(ds, period=period).table  # type: ignore[arg-type]
    assert ltv["age"].tolist() == expected["age"].tolist()
    assert ltv["buyers"].tolist() == expected["buyers"].tolist()
    assert ltv["ltv"].to_numpy() == pytest.approx(expected["ltv"].to_numpy(), rel=1e-9)
    assert opb["orders_per_buyer"].to_numpy() == pytest.approx(
        expected["orders_per_buyer"].to_numpy(), rel=1e-9
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conversion_lag_matches_oracle(seed: int) -> None:
    f = random_frames(seed)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    expected = oracle.lag_distribution(f.sessions, f.orders, ds.window)  # type: ignore[arg-type]
    ours = gl.conversion_lag(ds).table.set_index("lag_days")["buyers"]
    assert ours.to_dict() == expected.to_dict()


def test_lag_mix_recovers_planted_truth() -> None:
    """Buyers whose first visit is ≥ 120 days before the window end are not censored: their
    lag buckets follow the planted mix within 4.5 binomial standard errors."""
    ds = gl.demo(users=20_000, seed=1)
    truth = ds.truth
    assert truth is not None
    from growthlens.derive.acquisition import buyers

    b = buyers(ds)
    end = pd.Timestamp(ds.window[1])  # type: ignore[index]
    early = b.filter(b.first_visit_ts < (end - pd.Timedelta(days=120)).to_pydatetime())
    lag = early.first_order_ts.date().delta(early.first_visit_ts.date(), unit="day")
    rows = early.group_by(lag=lag).aggregate(n=early.count()).to_pyarrow().to_pylist()
    counts = {r["lag"]: r["n"] for r in rows if r["lag"] is not None and r["lag"] >= 0}
    n = sum(counts.values())
    observed = {
        "0d": counts.get(0, 0),
        "1d": counts.get(1, 0),
        "2-7d": sum(v for k, v in counts.items() if 2 <= k <= 7),
        "8-30d": sum(v for k, v in counts.items() if 8 <= k <= 30),
        "31-120d": sum(v for k, v in counts.items() if k >= 31),
    }
    planted = _planted_mix(truth["lag_buckets"])
    for name, p in planted.items():
        se = math.sqrt(p * (1 - p) / n)
        assert abs(observed[name] / n - p) < 4.5 * se + 0.01, (name, observed[name] / n, p)


def _planted_mix(buckets: list[dict[str, object]]) -> dict[str, float]:
    """The truth's lag buckets as {name: planted share}."""
    return {str(b["name"]): float(b["share"]) for b in buckets}  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), period=st.sampled_from(["day", "week", "month"]))
def test_ltv_invariants(seed: int, period: str) -> None:
    f = random_frames(seed, users=60, days=40)
    ds = gl.load(sessions=f.sessions, orders=f.orders)
    t = gl.ltv(ds, period=period).table  # type: ignore[arg-type]
    assert (t.groupby("cohort")["ltv"].diff().dropna() >= -1e-12).all()
    opb = gl.orders_per_buyer(ds, period=period).table  # type: ignore[arg-type]
    assert (opb[opb["age"] == 0]["orders_per_buyer"] >= 1).all()


AFISHA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "yandex_afisha"


@pytest.mark.realdata
@pytest.mark.skipif(not AFISHA.exists(), reason="../shared/data/yandex_afisha is not present")
def test_afisha_orders_only() -> None:
    """Orders + costs, no sessions: LTV cohort sizes equal an independent pandas count of
    buyers by month of first order (ids read as text); conversion lag says what it needs."""
    ds = gl.load(orders=AFISHA / "orders_log_us.csv", costs=AFISHA / "costs_us.csv")
    raw = pd.read_csv(AFISHA / "orders_log_us.csv", dtype={"Uid": str}, parse_dates=["Buy Ts"])
    raw = raw[raw["Buy Ts"] < "2018-06-01"]
    first = raw.groupby("Uid")["Buy Ts"].min().dt.to_period("M").value_counts().sort_index()
    t = gl.ltv(ds).table
    sizes = t[t["age"] == 0].set_index("cohort")["buyers"]
    assert sizes.tolist() == first.tolist()
    assert int(sizes.sum()) == 36_522
    with pytest.raises(MissingTableError, match="sessions"):
        gl.conversion_lag(ds)
