"""Backend parity for the experiments case: the shop folder (a SQLite database, a recovered
csv.gz, participant lists, day numbers, order lines) gives the same quality counts, A/B test
and campaign effect on DuckDB and on PySpark (local)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.demo import write_shop
from tests.test_parity_spark import _normalised, load_counts

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def pair(tmp_path_factory: Any, spark_backend: Any) -> tuple[gl.Dataset, gl.Dataset]:
    folder: Path = tmp_path_factory.mktemp("shop")
    write_shop(folder, customers=2000, seed=3)
    return gl.load(folder), gl.load(folder, backend=spark_backend)


def test_the_load_counts_alike(pair: tuple[gl.Dataset, gl.Dataset]) -> None:
    duck, spark = pair
    assert duck.window == spark.window
    assert load_counts(duck) == load_counts(spark)
    assert sorted((f.table, f.check, f.rows) for f in duck.quality.findings) == sorted(
        (f.table, f.check, f.rows) for f in spark.quality.findings
    )


@pytest.mark.parametrize(
    ("name", "run"),
    [
        ("ab_test", lambda ds: gl.ab_test(ds, window=(5, 16), pre_window=(0, 4))),
        (
            "campaign_effect",
            lambda ds: gl.campaign_effect(ds, treated={"city": 1134}, period=[15, 45]),
        ),
    ],
)
def test_same_results(pair: tuple[gl.Dataset, gl.Dataset], name: str, run: Any) -> None:
    duck, spark = (run(ds) for ds in pair)
    assert duck.status == spark.status == "ok"
    for key in ["main", *duck.tables]:
        left, right = duck.frame(key), spark.frame(key)
        if left.empty and right.empty:
            continue
        pd.testing.assert_frame_equal(
            _normalised(left), _normalised(right), check_dtype=False, rtol=1e-9, obj=f"{name}.{key}"
        )
    assert duck.sentences == spark.sentences
