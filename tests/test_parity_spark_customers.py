"""Backend parity for the customer analyses (issue 19): RFM, clusters, CLV, propensity (with
uplift) and imputation give the same tables on DuckDB and on PySpark (local), and per-user
tables hold the ids in one type on both engines (numeric ids as ``uint64``, text as text).

The main demo is loaded from its CSV files, the shop demo from its folder (a SQLite database,
order lines, participant lists), each once per engine. Per-user frames are compared exactly
(values and dtypes; 1e-9 relative for ratios): the models are sklearn fits on those frames, so
equal frames and equal seeds give equal labels and cross-validated metrics, which the Result
comparison checks too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl
from growthlens.demo import write_demo, write_shop
from growthlens.metrics.customers import (
    acquisition_sources,
    clv_inputs,
    customer_features,
    rfm_inputs,
)
from growthlens.metrics.fetch import fetch
from growthlens.metrics.imputation import line_shares
from tests.test_parity_spark import _normalised, load_counts

pytestmark = pytest.mark.spark

Pair = tuple[gl.Dataset, gl.Dataset]


@pytest.fixture(scope="module")
def main_pair(tmp_path_factory: Any, spark_backend: Any) -> Pair:
    """The main demo from its CSV files: ids are large integers of every length (up to
    2**64 − 1), so text order and number order differ."""
    files = write_demo(tmp_path_factory.mktemp("main"), users=2500, seed=1, months=4)
    tables = {"sessions": files["visits"], "orders": files["orders"], "costs": files["costs"]}
    return gl.load(**tables), gl.load(**tables, backend=spark_backend)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shop_pair(tmp_path_factory: Any, spark_backend: Any) -> Pair:
    folder: Path = tmp_path_factory.mktemp("shop")
    write_shop(folder, customers=1200, seed=3)
    return gl.load(folder), gl.load(folder, backend=spark_backend)


def _pair(request: Any, which: str) -> Pair:
    pair: Pair = request.getfixturevalue(f"{which}_pair")
    return pair


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame, name: str) -> None:
    """Equal per-user frames: same columns, dtypes, row order and values (1e-9 relative)."""
    assert list(left.columns) == list(right.columns), name
    assert left.dtypes.astype(str).to_dict() == right.dtypes.astype(str).to_dict(), name
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), rtol=1e-9, obj=name
    )


def assert_same_result(duck: gl.Result, spark: gl.Result, name: str) -> None:
    """Same status, tables (ids compared exactly, not as floats), summary and sentences."""
    assert duck.status == spark.status == "ok", (name, duck.status_reason, spark.status_reason)
    for key in ["main", *duck.tables]:
        left, right = duck.frame(key), spark.frame(key)
        assert list(left.columns) == list(right.columns), f"{name}.{key}"
        if left.empty and right.empty:
            continue
        if "user_id" in left.columns:
            assert left["user_id"].dtype == right["user_id"].dtype, f"{name}.{key}"
            assert left["user_id"].tolist() == right["user_id"].tolist(), f"{name}.{key}"
            left, right = left.drop(columns="user_id"), right.drop(columns="user_id")
        pd.testing.assert_frame_equal(
            _normalised(left), _normalised(right), check_dtype=False, rtol=1e-9, obj=f"{name}.{key}"
        )
    duck_values, spark_values = duck.summary.values_dict(), spark.summary.values_dict()
    assert duck_values.keys() == spark_values.keys(), name
    for k, v in duck_values.items():
        if isinstance(v, float):
            assert spark_values[k] == pytest.approx(v, rel=1e-9, nan_ok=True), (name, k)
        elif k != "backend":
            assert spark_values[k] == v, (name, k)
    assert duck.sentences == spark.sentences, name


def test_the_loads_count_alike(main_pair: Pair, shop_pair: Pair) -> None:
    for duck, spark in (main_pair, shop_pair):
        assert duck.window == spark.window
        assert load_counts(duck) == load_counts(spark)


FRAMES = [
    ("main", "rfm_inputs", lambda ds: rfm_inputs(ds)),
    ("main", "clv_inputs", lambda ds: clv_inputs(ds, holdout=14)),
    ("main", "customer_features", lambda ds: customer_features(ds, buyers_only=True)),
    ("main", "acquisition_sources", lambda ds: acquisition_sources(ds)),
    ("shop", "rfm_inputs", lambda ds: rfm_inputs(ds, window=(10, 58), at=60)),
    ("shop", "clv_inputs", lambda ds: clv_inputs(ds, holdout=14)),
    ("shop", "customer_features", lambda ds: customer_features(ds, history=(0, 40))),
    ("shop", "line_shares", lambda ds: line_shares(ds)),
]


@pytest.mark.parametrize(("which", "name", "build"), FRAMES, ids=[f"{w}-{n}" for w, n, _ in FRAMES])
def test_per_user_frames_are_equal(request: Any, which: str, name: str, build: Any) -> None:
    duck, spark = _pair(request, which)
    left, right = build(duck), build(spark)
    assert len(left) > 100, name  # a real comparison, not two empty frames
    assert left["user_id"].dtype == np.uint64, name
    assert left["user_id"].is_monotonic_increasing, name  # sorted as numbers
    assert_same_frame(left, right, f"{which}.{name}")


RUNS = [
    ("main", "rfm", lambda ds: gl.rfm(ds)),
    ("main", "clusters", lambda ds: gl.clusters(ds)),
    ("main", "clv", lambda ds: gl.clv(ds, holdout=14)),
    ("main", "clv_by_source", lambda ds: gl.clv(ds, by="source")),
    (
        "main",
        "propensity",
        lambda ds: gl.propensity(
            ds, window=("2017-09-01", "2017-09-30"), model="logistic", folds=3
        ),
    ),
    ("shop", "rfm", lambda ds: gl.rfm(ds, window=(30, 58))),
    ("shop", "clusters", lambda ds: gl.clusters(ds)),
    ("shop", "clv_by_cluster", lambda ds: gl.clv(ds, holdout=14, by="cluster")),
    (
        "shop",
        "propensity_uplift",
        lambda ds: gl.propensity(
            ds, window=(5, 16), treatment="first_company", model="logistic", folds=3
        ),
    ),
    (
        "shop",
        "propensity_group",
        lambda ds: gl.propensity(ds, window=(45, 58), target="footwear", model="logistic", folds=3),
    ),
    ("shop", "impute", lambda ds: gl.impute(ds, model="logistic", folds=3)),
]


@pytest.mark.parametrize(("which", "name", "run"), RUNS, ids=[f"{w}-{n}" for w, n, _ in RUNS])
def test_same_results(request: Any, which: str, name: str, run: Any) -> None:
    duck, spark = (run(ds) for ds in _pair(request, which))
    assert_same_result(duck, spark, f"{which}.{name}")
    if name == "clusters":
        # The chosen k and every buyer's label (the fit is sklearn on equal frames).
        assert duck.summary.values_dict()["k"] == spark.summary.values_dict()["k"]
        labels = duck.tables["labels"]
        assert labels["user_id"].dtype == np.uint64 and len(labels) > 100
    if name == "impute":
        # Filling the customers table joins the numeric ids back to the engine's own ids.
        filled = [
            gl.apply_imputation(ds, r).table("customers")
            for ds, r in zip(_pair(request, which), (duck, spark), strict=True)
        ]
        counts = [
            fetch(
                t.group_by("gender", "gender_imputed")
                .aggregate(n=t.count())
                .order_by("gender", "gender_imputed")
            )
            for t in filled
        ]
        assert counts[0]["gender_imputed"].any()
        pd.testing.assert_frame_equal(
            _normalised(counts[0]), _normalised(counts[1]), check_dtype=False
        )


# ---------------------------------------------------------------- ids in the user's type

USERS = 40


def _orders(ids: list[int]) -> pd.DataFrame:
    """Orders of ``ids`` (most buy more than once) over 60 days, seeded."""
    rng = np.random.default_rng(19)
    rows = []
    for i, user in enumerate(ids):
        for _ in range(1 + i % 4):
            day = int(rng.integers(0, 60))
            rows.append(
                (
                    user,
                    pd.Timestamp("2021-03-01") + pd.Timedelta(days=day, hours=10),
                    float(rng.integers(1, 50)),
                )
            )
    return pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])


def _write(frame: pd.DataFrame, path: Path, ids: pa.DataType) -> str:
    table = pa.Table.from_pandas(frame.drop(columns="user_id"), preserve_index=False)
    column = pa.array([int(u) for u in frame["user_id"]], ids)
    pq.write_table(table.append_column("user_id", column), path)
    return str(path)


def _per_user(ds: gl.Dataset) -> dict[str, pd.DataFrame]:
    return {
        "rfm_inputs": rfm_inputs(ds),
        "clv_inputs": clv_inputs(ds),
        "customer_features": customer_features(ds),
        "rfm.scores": gl.rfm(ds, compare=False).tables["scores"],
    }


def test_numeric_ids_come_back_as_uint64_on_both_engines(
    tmp_path: Path, spark_backend: Any
) -> None:
    """int64 and uint64 inputs of the same ids give one set of frames on DuckDB and Spark:
    ``uint64`` ids sorted as numbers (lengths differ, so text order would not be)."""
    small = [7, 10, 95, 123, 9_000, 2**40 + 3, 2**62 + 1]
    ids = [*small, *range(200, 200 + USERS - len(small))]
    orders = _orders(ids)
    signed = orders.astype({"user_id": "int64"})
    unsigned = _write(orders, tmp_path / "unsigned.parquet", pa.uint64())
    loads = {
        f"{engine}-{kind}": gl.load(orders=source, backend=backend)  # type: ignore[arg-type]
        for engine, backend in (("duckdb", None), ("spark", spark_backend))
        for kind, source in (("int64", signed), ("uint64", unsigned))
    }
    frames = {key: _per_user(ds) for key, ds in loads.items()}
    reference = frames["duckdb-int64"]
    for name, frame in reference.items():
        assert frame["user_id"].dtype == np.uint64, name
        assert frame["user_id"].tolist() == sorted(ids), name
    for key, got in frames.items():
        for name, frame in got.items():
            assert_same_frame(reference[name], frame, f"{key}.{name}")


def test_ids_above_int64_and_text_ids(tmp_path: Path, spark_backend: Any) -> None:
    """Ids above 2**63 (uint64 Parquet) keep every digit; text ids stay text on both."""
    big = [2**64 - 1 - 997 * i for i in range(USERS)] + [2**63, 5]
    orders = _orders(big)
    path = _write(orders, tmp_path / "big.parquet", pa.uint64())
    duck, spark = (_per_user(gl.load(orders=path, backend=b)) for b in (None, spark_backend))
    for name, frame in duck.items():
        assert frame["user_id"].tolist() == sorted(big), name
        assert_same_frame(frame, spark[name], f"big.{name}")
    names = {u: f"u{i}" if i % 2 else str(u) for i, u in enumerate(big)}
    text = orders.assign(user_id=orders["user_id"].map(names))
    duck, spark = (_per_user(gl.load(orders=text, backend=b)) for b in (None, spark_backend))
    for name, frame in duck.items():
        assert isinstance(frame["user_id"].iloc[0], str), name
        assert_same_frame(frame, spark[name], f"text.{name}")
