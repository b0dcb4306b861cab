"""The demo generator: determinism, planted truths recovered, and the load's view of it.

Statistical truths are recovered with plain pandas from the written CSV files (ids read
as text, never through a float): a path independent of the engine. Each planted
probability p with n trials must give a count x with |x − n·p| < 4.5·sqrt(n·p·(1 − p)).
Exact truths (CAC, anomaly counts, totals) must match exactly.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.demo import BLOCK_USERS, Truth, write_demo
from growthlens.errors import ConfigError

USERS = 20_000
SEED = 11
Z = 4.5


def _within(x: float, n: float, p: float) -> bool:
    return abs(x - n * p) < Z * math.sqrt(n * p * (1 - p))


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.year * 12 + ts.dt.month


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Any]]:
    files = write_demo(tmp_path_factory.mktemp("demo_csv"), users=USERS, seed=SEED)
    return files, json.loads(files["truth"].read_text())


@pytest.fixture(scope="module")
def frames(written: tuple[dict[str, Path], dict[str, Any]]) -> dict[str, Any]:
    files, truth = written
    visits = pd.read_csv(
        files["visits"],
        dtype={"Uid": str, "Device": str, "Source Id": str},
        parse_dates=["Start Ts", "End Ts"],
    )
    orders = pd.read_csv(files["orders"], dtype={"Uid": str}, parse_dates=["Buy Ts"])
    costs = pd.read_csv(files["costs"], dtype={"source_id": str}, parse_dates=["dt"])
    start, end = (pd.Timestamp(d) for d in truth["window"])
    # First session per user, ordered explicitly (the files are not sorted by time).
    users = (
        visits.sort_values(["Uid", "Start Ts"])
        .drop_duplicates("Uid")
        .set_index("Uid")[["Start Ts", "Source Id", "Device"]]
        .rename(columns={"Start Ts": "first_visit", "Source Id": "source", "Device": "device"})
    )
    in_window = orders[
        (orders["Buy Ts"].dt.normalize() >= start) & (orders["Buy Ts"].dt.normalize() <= end)
    ]
    first_order = in_window.groupby("Uid")["Buy Ts"].min().rename("first_order")
    users = users.join(first_order)
    return {
        "visits": visits,
        "orders": orders,
        "in_window": in_window,
        "costs": costs,
        "users": users,
        "start": start,
        "end": end,
        "truth": truth,
    }


# ---- determinism -------------------------------------------------------------------------
def _bytes(files: dict[str, Path]) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in files.items()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_files_different_seed_different(tmp_path: Path, fmt: str) -> None:
    a = write_demo(tmp_path / "a", users=3_000, seed=5, format=fmt)  # type: ignore[arg-type]
    b = write_demo(tmp_path / "b", users=3_000, seed=5, format=fmt)  # type: ignore[arg-type]
    c = write_demo(tmp_path / "c", users=3_000, seed=6, format=fmt)  # type: ignore[arg-type]
    assert _bytes(a) == _bytes(b)
    for name in ("visits", "orders", "costs", "truth"):
        assert _bytes(a)[name] != _bytes(c)[name], name


def test_files_do_not_depend_on_the_write_chunk_size(tmp_path: Path) -> None:
    users = 2 * BLOCK_USERS + 1_234  # three seeding blocks, the last one partial
    one_block_per_write = write_demo(tmp_path / "small", users=users, seed=2, chunk_users=1)
    all_at_once = write_demo(tmp_path / "large", users=users, seed=2, chunk_users=10**6)
    assert _bytes(one_block_per_write) == _bytes(all_at_once)


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 100 users"):
        write_demo(tmp_path, users=10)
    with pytest.raises(ConfigError, match="at least 2 months"):
        write_demo(tmp_path, users=1_000, months=1)
    with pytest.raises(ConfigError, match="format"):
        write_demo(tmp_path, users=1_000, format="xlsx")  # type: ignore[arg-type]


# ---- layout and totals ------------------------------------------------------------------
def test_layout_totals_and_ids(frames: dict[str, Any]) -> None:
    visits, orders, costs, truth = (
        frames["visits"],
        frames["orders"],
        frames["costs"],
        frames["truth"],
    )
    assert list(visits.columns) == [
        "Uid",
        "Device",
        "Start Ts",
        "End Ts",
        "Source Id",
        "Session Id",
    ]
    assert list(orders.columns) == ["Buy Ts", "Revenue", "Uid", "Order Id"]
    assert list(costs.columns) == ["source_id", "dt", "costs", "clicks", "impressions"]
    # Session and order ids are the 1-based row numbers.
    assert visits["Session Id"].tolist() == list(range(1, len(visits) + 1))
    assert orders["Order Id"].tolist() == list(range(1, len(orders) + 1))
    totals = truth["totals"]
    assert len(visits) == totals["sessions"]
    assert len(orders) == totals["orders"]
    assert len(frames["in_window"]) == totals["orders_in_window"]
    assert len(costs) == totals["cost_rows"]
    assert visits["Uid"].nunique() == totals["users"] == USERS
    assert frames["users"]["first_order"].notna().sum() == totals["buyers"]
    # Ids: unsigned 64-bit, about half above 2**63 (a binomial 1/2 share), read exactly.
    ids = pd.Series(visits["Uid"].unique())
    assert ids.str.fullmatch(r"[0-9]{1,20}").all()
    as_int = ids.map(int)
    assert as_int.max() < 2**64
    assert _within((as_int >= 2**63).sum(), len(ids), 0.5)
    assert set(orders["Uid"]) <= set(ids)
    # The data window is the planned one: visits and costs span it exactly.
    assert visits["Start Ts"].min().normalize() == frames["start"]
    assert visits["Start Ts"].max().normalize() == frames["end"]
    assert (costs["dt"].min(), costs["dt"].max()) == (frames["start"], frames["end"])
    assert frames["in_window"]["Buy Ts"].min().normalize() == frames["start"]


def test_sources_paid_organic_and_sessionless(frames: dict[str, Any]) -> None:
    truth = frames["truth"]
    session_sources = set(frames["visits"]["Source Id"])
    cost_sources = set(frames["costs"]["source_id"])
    assert session_sources == set(truth["paid_sources"]) | set(truth["organic_sources"])
    assert cost_sources == set(truth["paid_sources"]) | set(truth["sessionless_sources"])
    assert set(frames["visits"]["Device"]) == set(truth["devices"])


# ---- planted statistical truths -------------------------------------------------------------
def test_retention_by_source_and_device_at_ages_1_to_3(frames: dict[str, Any]) -> None:
    """Pooled over complete cohorts (cohort month + k inside the window)."""
    users, visits, truth = frames["users"], frames["visits"], frames["truth"]
    cohort = _month(users["first_visit"])
    activity = pd.DataFrame(
        {"Uid": visits["Uid"], "month": _month(visits["Start Ts"])}
    ).drop_duplicates()
    active = set(zip(activity["Uid"], activity["month"], strict=True))
    last = frames["end"].year * 12 + frames["end"].month
    checked = 0
    for k in (1, 2, 3):
        eligible = users[cohort + k <= last]
        hit = pd.Series(
            [
                (uid, m + k) in active
                for uid, m in zip(eligible.index, cohort[eligible.index], strict=True)
            ],
            index=eligible.index,
        )
        pooled_x = pooled_mean = pooled_var = 0.0
        for (source, device), group in eligible.groupby(["source", "device"]):
            p = truth["retention"][source][device][k - 1]
            n, x = len(group), int(hit[group.index].sum())
            assert _within(x, n, p), (k, source, device, x, n, p)
            pooled_x, pooled_mean, pooled_var = (
                pooled_x + x,
                pooled_mean + n * p,
                pooled_var + n * p * (1 - p),
            )
            checked += 1
        assert abs(pooled_x - pooled_mean) < Z * math.sqrt(pooled_var), k
    assert checked == 3 * 8 * 2


def test_conversion_per_source_on_uncensored_users(frames: dict[str, Any]) -> None:
    """Users whose first visit is ≥ 120 days (the longest lag) before the window end."""
    users, truth = frames["users"], frames["truth"]
    uncensored = users[
        users["first_visit"].dt.normalize() <= frames["end"] - pd.Timedelta(days=120)
    ]
    pooled_x = pooled_mean = pooled_var = 0.0
    for source, group in uncensored.groupby("source"):
        x, n, p = int(group["first_order"].notna().sum()), len(group), truth["conversion"][source]
        assert _within(x, n, p), (source, x, n)
        pooled_x, pooled_mean, pooled_var = (
            pooled_x + x,
            pooled_mean + n * p,
            pooled_var + n * p * (1 - p),
        )
    assert abs(pooled_x - pooled_mean) < Z * math.sqrt(pooled_var)


def test_lag_mix_on_uncensored_buyers(frames: dict[str, Any]) -> None:
    users, truth = frames["users"], frames["truth"]
    buyers = users[
        users["first_order"].notna()
        & (users["first_visit"].dt.normalize() <= frames["end"] - pd.Timedelta(days=120))
    ]
    lag = (buyers["first_order"].dt.normalize() - buyers["first_visit"].dt.normalize()).dt.days
    lag = lag[lag >= 0]  # negative lags are planted anomalies, checked exactly below
    for bucket in truth["lag_buckets"]:
        x = int(lag.between(bucket["min_days"], bucket["max_days"]).sum())
        assert _within(x, len(lag), bucket["share"]), (bucket, x, len(lag))
    assert lag.max() <= 120


def test_zero_length_share(frames: dict[str, Any]) -> None:
    visits, truth = frames["visits"], frames["truth"]
    zero = int((visits["End Ts"] == visits["Start Ts"]).sum())
    assert _within(zero, len(visits), truth["session_length"]["zero_share"])


# ---- planted exact truths -----------------------------------------------------------------
def test_cac_per_source_and_per_cohort_month_is_exact(frames: dict[str, Any]) -> None:
    """CAC = cost ÷ buyers acquired (first-session source), cohort = first-order month."""
    users, costs, truth = frames["users"], frames["costs"], frames["truth"]
    buyers = users[users["first_order"].notna()]
    for source, cac in truth["cac"].items():
        spend = costs[costs["source_id"] == source]
        acquired = buyers[buyers["source"] == source]
        assert len(acquired) == truth["buyers_by_source"][source]
        assert spend["costs"].sum() / len(acquired) == pytest.approx(cac, rel=1e-6)
        by_month = spend.groupby(_month(spend["dt"]))["costs"].sum()
        buyers_by_month = acquired.groupby(_month(acquired["first_order"])).size()
        for month, cost in by_month.items():
            n = int(buyers_by_month.get(month, 0))
            if n:
                assert cost / n == pytest.approx(cac, rel=1e-6), (source, month)
            else:
                assert cost == pytest.approx(0.0, abs=1e-9), (source, month)
    sessionless = costs[costs["source_id"].isin(truth["sessionless_sources"])]
    days = (frames["end"] - frames["start"]).days + 1
    assert (sessionless["costs"] > 0).all() and len(sessionless) == days - 1  # all but the gap day


def test_cost_gap_day(frames: dict[str, Any]) -> None:
    costs, truth = frames["costs"], frames["truth"]
    gap = pd.Timestamp(truth["cost_gap_date"])
    days = pd.date_range(frames["start"], frames["end"], freq="D")
    for _, rows in costs.groupby("source_id"):
        assert set(rows["dt"]) == set(days) - {gap}
        assert rows["dt"].is_unique


def test_anomaly_counts_are_exact(frames: dict[str, Any]) -> None:
    visits, orders, users, truth = (
        frames["visits"],
        frames["orders"],
        frames["users"],
        frames["truth"],
    )
    planted = truth["anomalies"]
    assert planted["end_before_start"] > 0 and planted["zero_revenue_orders"] > 0
    assert int((visits["End Ts"] < visits["Start Ts"]).sum()) == planted["end_before_start"]
    assert int((visits["End Ts"] == visits["Start Ts"]).sum()) == planted["zero_length_sessions"]
    assert int((orders["Revenue"] == 0).sum()) == planted["zero_revenue_orders"]
    with_first = orders.join(users["first_visit"], on="Uid")
    assert (
        int((with_first["Buy Ts"] < with_first["first_visit"]).sum())
        == planted["negative_lag_orders"]
    )
    late = orders[orders["Buy Ts"].dt.normalize() > frames["end"]]
    assert len(late) == planted["out_of_window_orders"] == 1
    assert str(late["Buy Ts"].iloc[0]) == truth["out_of_window_order"] == "2018-06-01 00:02:00"
    assert (orders["Buy Ts"].dt.normalize() >= frames["start"]).all()


def test_truth_round_trips_through_the_dataclass(
    written: tuple[dict[str, Path], dict[str, Any]],
) -> None:
    truth = written[1]
    assert Truth.from_dict(truth).to_dict() == truth
    assert len(truth["retention"]["1"]["touch"]) == truth["months"] - 1


def test_months_sets_the_window(tmp_path: Path) -> None:
    files = write_demo(tmp_path, users=500, seed=1, months=3)
    truth = json.loads(files["truth"].read_text())
    assert truth["window"] == ["2017-06-01", "2017-08-31"]
    assert truth["out_of_window_order"] == "2017-09-01 00:02:00"
    assert date.fromisoformat(truth["cost_gap_date"]) - date(2017, 6, 1) < timedelta(days=92)


# ---- through the loader ---------------------------------------------------------------------
def test_demo_dataset_shows_the_planted_anomalies(tmp_path: Path) -> None:
    ds = gl.demo(users=10_000, seed=3)
    truth = ds.truth
    assert truth is not None
    reference = write_demo(tmp_path, users=10_000, seed=3)
    assert truth == json.loads(reference["truth"].read_text())
    assert [d.isoformat() for d in ds.window] == truth["window"]

    found = {f.check: f for f in ds.quality.findings}
    assert found["end_before_start"].rows == truth["anomalies"]["end_before_start"]
    assert found["zero_revenue"].rows == truth["anomalies"]["zero_revenue_orders"]
    assert found["order_before_first_visit"].rows == truth["anomalies"]["negative_lag_orders"]
    assert found["cost_source_without_sessions"].examples[0]["source"] == "6"
    orders = ds.quality.table_counts("orders")
    assert orders.excluded_by_reason == {"out_of_window": 1}
    assert orders.accepted == truth["totals"]["orders_in_window"]
    assert ds.quality.table_counts("sessions").accepted == truth["totals"]["sessions"]

    costs = ds.table("costs")
    dates = set(costs.select("date").distinct().to_pyarrow().column("date").to_pylist())
    gap = date.fromisoformat(truth["cost_gap_date"])
    assert (
        gap not in dates and gap + timedelta(days=1) in dates and gap - timedelta(days=1) in dates
    )

    sessions = ds.table("sessions")
    engine_ids = set(
        sessions.select("user_id").distinct().to_pyarrow().column("user_id").to_pylist()
    )
    file_ids = set(
        pd.read_csv(reference["visits"], dtype={"Uid": str}, usecols=["Uid"])["Uid"].map(int)
    )
    assert engine_ids == file_ids
    assert max(engine_ids) > 2**63


def test_parquet_and_csv_load_the_same(tmp_path: Path) -> None:
    datasets = {}
    for fmt in ("csv", "parquet"):
        files = write_demo(tmp_path / fmt, users=3_000, seed=4, format=fmt)  # type: ignore[arg-type]
        datasets[fmt] = gl.load(
            sessions=files["visits"], orders=files["orders"], costs=files["costs"]
        )
    csv, parquet = datasets["csv"], datasets["parquet"]
    for table in ("sessions", "orders", "costs"):
        a, b = csv.quality.table_counts(table), parquet.quality.table_counts(table)
        assert a.preset == b.preset == "yandex_afisha"
        assert (a.loaded, a.accepted, a.excluded_by_reason) == (
            b.loaded,
            b.accepted,
            b.excluded_by_reason,
        )
    revenue = [float(d.table("orders").revenue.sum().to_pyarrow().as_py()) for d in (csv, parquet)]
    assert revenue[0] == pytest.approx(revenue[1], rel=1e-12)
