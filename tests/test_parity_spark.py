"""Backend parity: the same inputs give the same tables on DuckDB and on PySpark (local)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.result import Result
from tests.oracle.random_data import random_frames

pytestmark = pytest.mark.spark

ANALYSES = [
    ("overview", lambda ds: gl.overview(ds)),
    ("quality", lambda ds: gl.quality(ds)),
    ("activity", lambda ds: gl.activity(ds, by="device")),
    ("retention", lambda ds: gl.retention(ds, period="week", by="source")),
    ("conversion_lag", lambda ds: gl.conversion_lag(ds)),
    ("orders_per_buyer", lambda ds: gl.orders_per_buyer(ds)),
    ("aov", lambda ds: gl.aov(ds)),
    ("ltv", lambda ds: gl.ltv(ds, by="source")),
    ("costs", lambda ds: gl.costs(ds)),
    ("cac", lambda ds: gl.cac(ds)),
    ("romi", lambda ds: gl.romi(ds)),
    ("kpis", lambda ds: gl.kpis(ds)),
    ("conversion", lambda ds: gl.conversion(ds, by=("source", "device"))),
    ("sales_trend", lambda ds: gl.sales_trend(ds)),
    ("unit_economics", lambda ds: gl.unit_economics(ds, horizon=1)),
]


def _frames(seed: int) -> dict[str, pd.DataFrame]:
    f = random_frames(seed, users=120, days=45)
    sessions = f.sessions.copy()
    orders = f.orders.copy()
    # Problems every backend must count alike: a null id, negative revenue, a duplicate row.
    sessions.loc[len(sessions)] = [
        None,
        sessions.start_ts.iloc[0],
        sessions.end_ts.iloc[0],
        "ads",
        "touch",
    ]
    orders.loc[len(orders)] = [orders.user_id.iloc[0], orders.ts.iloc[0], -5.0]
    orders.loc[len(orders)] = orders.iloc[1].tolist()
    return {"sessions": sessions, "orders": orders, "costs": f.costs}


def load_counts(ds: gl.Dataset) -> list[tuple[str, int, int, dict[str, int]]]:
    """Per table: rows loaded, accepted and excluded by reason (for load parity)."""
    return [(c.table, c.loaded, c.accepted, dict(c.excluded_by_reason)) for c in ds.quality.counts]


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype).startswith(("string", "str")):
            out[column] = out[column].astype(str)
        elif str(out[column].dtype).startswith("datetime"):
            out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
        elif pd.api.types.is_integer_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64")
    return out.sort_values(list(out.columns)).reset_index(drop=True)


@pytest.fixture(scope="module", params=[1, 2])
def pair(request: Any, spark_backend: Any) -> tuple[gl.Dataset, gl.Dataset]:
    frames = _frames(request.param)
    return gl.load(**frames), gl.load(**frames, backend=spark_backend)


def test_quality_report_is_identical(pair: tuple[gl.Dataset, gl.Dataset]) -> None:
    duck, spark = pair
    assert duck.window == spark.window
    assert [
        (c.table, c.loaded, c.accepted, dict(c.excluded_by_reason)) for c in duck.quality.counts
    ] == [(c.table, c.loaded, c.accepted, dict(c.excluded_by_reason)) for c in spark.quality.counts]
    assert [(f.table, f.check, f.rows) for f in duck.quality.findings] == [
        (f.table, f.check, f.rows) for f in spark.quality.findings
    ]


# Storage types are the backend's own (Spark has no uint64 and no nanoseconds), and quality
# examples are "a few rows", not a defined set: everything else must match.
ENGINE_COLUMNS = {"quality": {"examples"}, "overview": {"type"}}


def assert_same_result(duck: Result, spark: Result) -> None:
    """Every table (counts exactly, ratios to 1e-9) and summary figure of two runs equal."""
    skip_columns = ENGINE_COLUMNS.get(duck.name, set())
    assert duck.tables.keys() == spark.tables.keys(), duck.name
    for key in ["main", *duck.tables]:
        left = duck.frame(key)
        right = spark.frame(key)
        columns = [c for c in left.columns if c not in skip_columns]
        pd.testing.assert_frame_equal(
            _normalised(left[columns]),
            _normalised(right[columns]),
            check_dtype=False,
            rtol=1e-9,
            obj=f"{duck.name}.{key}",
        )
    assert duck.summary.keys() == spark.summary.keys(), duck.name
    duck_values, spark_values = duck.summary.values_dict(), spark.summary.values_dict()
    for k, v in duck_values.items():
        w = spark_values[k]
        if isinstance(v, float):
            assert w == pytest.approx(v, rel=1e-9, nan_ok=True), (duck.name, k)
        elif k not in ("backend",):
            assert v == w, (duck.name, k)


@pytest.mark.parametrize(("name", "run"), ANALYSES, ids=[n for n, _ in ANALYSES])
def test_same_tables(pair: tuple[gl.Dataset, gl.Dataset], name: str, run: Any) -> None:
    duck, spark = (run(ds) for ds in pair)
    assert_same_result(duck, spark)


def test_hostile_files_are_counted_alike(tmp_path: Any, spark_backend: Any) -> None:
    """The reader's own counts (blank, unreadable lines), stated formats, an encoding and a
    gzip take the same path on Spark: the same counts, findings and values."""
    import gzip

    text = (
        "Uid;Buy Ts;Revenue;Shop\n"
        "1;03.01.2020 10:00;1.234,5;Москва\n\n"
        "2;04.01.2020 11:00;7,25;Тверь;extra\n"
        "3;05.01.2020 12:00;10;Сочи\r\n"
    )
    orders = tmp_path / "orders.csv.gz"
    orders.write_bytes(gzip.compress(text.encode("cp1251")))
    source = {
        "path": str(orders),
        "encoding": "cp1251",
        "decimal": ",",
        "thousands": ".",
        "timestamp_format": "%d.%m.%Y %H:%M",
    }
    duck, spark = gl.load(orders=source), gl.load(orders=source, backend=spark_backend)
    for ds in (duck, spark):
        counts = ds.quality.table_counts("orders")
        assert counts.excluded_by_reason == {"blank_line": 1, "unreadable_line": 1}
        assert (counts.loaded, counts.accepted) == (4, 2)
    assert duck.quality.findings == spark.quality.findings
    # Ids are uint64 on DuckDB and text on Spark (no unsigned integers): compared as text.
    duck_rows, spark_rows = (
        ds.table("orders").execute().astype({"user_id": object}) for ds in (duck, spark)
    )
    for rows in (duck_rows, spark_rows):
        rows["user_id"] = rows["user_id"].map(str)
    pd.testing.assert_frame_equal(_normalised(duck_rows), _normalised(spark_rows))
    assert sorted(duck.table("orders").revenue.execute()) == [10.0, 1234.5]


@pytest.mark.parametrize("order", ["ordered", "strict", "unordered", "excluding"])
def test_funnel_is_the_same_on_spark(order: str, spark_backend: Any) -> None:
    """Random logs with ties and window edges: the same units, depths and chain times
    (``excluding``: ordered, with ``x`` excluded between steps 2 and 3)."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(3)
    t0 = datetime(2024, 1, 1, 10)
    rows = [
        {
            "user_id": user,
            "ts": t0 + timedelta(seconds=rng.choice([0, 1, 60, 3600, 3601]) * rng.randint(0, 3)),
            "event": rng.choice(["a", "b", "c", "x"]),
        }
        for user in range(80)
        for _ in range(rng.randint(1, 8))
    ]
    frame = pd.DataFrame(rows)
    window = ("2024-01-01", "2024-01-31")
    duck, spark = (
        gl.funnel(
            gl.load(events=frame, window=window, backend=b),
            ["a", "b", "c"],
            window="1h",
            order="ordered" if order == "excluding" else order,  # type: ignore[arg-type]
            exclude=[{"event": "x", "between": [2, 3]}] if order == "excluding" else (),
        )
        for b in (None, spark_backend)
    )
    pd.testing.assert_frame_equal(duck.table, spark.table)
    units = [
        r.tables["users"].astype({"user_id": str}).sort_values("user_id").reset_index(drop=True)
        for r in (duck, spark)
    ]
    pd.testing.assert_frame_equal(_normalised(units[0]), _normalised(units[1]))


def test_event_analyses_are_the_same_on_spark(spark_backend: Any) -> None:
    """Paths (both directions), the step matrix, event retention and funnel breakdowns and
    trends: the same tables on both engines, on a random log with ties and properties."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(8)
    t0 = datetime(2024, 1, 1, 10)
    rows = [
        {
            "user_id": user,
            "ts": t0 + timedelta(days=rng.randint(0, 40), seconds=rng.choice([0, 1, 60, 3600])),
            "event": rng.choice(["view", "cart", "buy", "scroll"]),
            "device": rng.choice(["mobile", "desktop", None]),
        }
        for user in range(150)
        for _ in range(rng.randint(1, 12))
    ]
    frame = pd.DataFrame(rows)
    window = ("2024-01-01", "2024-02-29")
    runs = {
        "paths": lambda ds: gl.paths(ds, around="cart"),
        "paths_previous": lambda ds: gl.paths(ds, around="buy", direction="previous"),
        "step_matrix": lambda ds: gl.step_matrix(ds, steps=5),
        "event_retention": lambda ds: gl.event_retention(ds, start="view", back="buy"),
        "funnel": lambda ds: gl.funnel(
            ds, ["view", "cart", "buy"], window="3d", by="device", trend="week"
        ),
    }
    duck_ds, spark_ds = (
        gl.load(events=frame, window=window, backend=b) for b in (None, spark_backend)
    )
    for name, run in runs.items():
        duck, spark = run(duck_ds), run(spark_ds)
        for key in ["main", *duck.tables]:
            if key == "users":
                continue
            a, b = duck.frame(key), spark.frame(key)
            pd.testing.assert_frame_equal(_normalised(a), _normalised(b), obj=f"{name}.{key}")


def test_unsigned_64_bit_parquet_ids(tmp_path: Any, spark_backend: Any) -> None:
    """Parquet ids typed uint64 (above 2**63, where int64 overflows) load on Spark, which has
    no unsigned types: the same rows, users and figures as on DuckDB."""
    frames = _frames(3)
    import pyarrow as pa
    import pyarrow.parquet as pq

    known = pd.concat([frames["sessions"].user_id, frames["orders"].user_id]).dropna()
    big = {u: 2**64 - 1 - i for i, u in enumerate(sorted(known.unique()))}
    paths = {}
    for name in ("sessions", "orders"):
        frame = frames[name]
        table = pa.Table.from_pandas(frame.drop(columns="user_id"), preserve_index=False)
        ids = pa.array([None if pd.isna(u) else big[u] for u in frame.user_id], pa.uint64())
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table.append_column("user_id", ids), paths[name])
    duck = gl.load(sessions=str(paths["sessions"]), orders=str(paths["orders"]))
    spark = gl.load(
        sessions=str(paths["sessions"]), orders=str(paths["orders"]), backend=spark_backend
    )
    assert load_counts(duck) == load_counts(spark)
    assert gl.overview(duck).table["users"].tolist() == gl.overview(spark).table["users"].tolist()
    for run in (gl.kpis, gl.ltv):
        left, right = run(duck), run(spark)
        pd.testing.assert_frame_equal(
            _normalised(left.table), _normalised(right.table), check_dtype=False, rtol=1e-9
        )
