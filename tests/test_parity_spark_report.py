"""The whole report on PySpark: every analysis it runs on the demo gives DuckDB's tables.

The other parity files test each analysis on data made for it; this one runs the report as
``growthlens report --demo --backend local[2]`` does (every group, every planned run, the
models on the per-customer frames the engine returns), so an analysis added to the report
is compared on Spark without anyone listing it, and a query Spark cannot plan fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import growthlens as gl
from growthlens.report.build import sections
from growthlens.report.model import Section
from tests.test_parity_spark import assert_same_result

pytestmark = pytest.mark.spark

USERS = 3_000
AFISHA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yandex_afisha"


def _same_reports(duck: tuple[Section, ...], spark: tuple[Section, ...]) -> list[str]:
    """Assert every result of the two reports is the same; the names of those compared."""
    assert [s.id for s in duck] == [s.id for s in spark]
    compared: list[str] = []
    for left, right in zip(duck, spark, strict=True):
        assert left.skipped == right.skipped, left.id
        assert [r.name for r in left.results] == [r.name for r in right.results], left.id
        for a, b in zip(left.results, right.results, strict=True):
            assert_same_result(a, b)
            compared.append(a.name)
    return compared


def test_every_report_table_is_the_same_on_spark(spark_backend: Any) -> None:
    duck = sections(gl.demo(users=USERS, seed=5))
    spark = sections(gl.demo(users=USERS, seed=5, backend=spark_backend))
    compared = _same_reports(duck, spark)
    # Every group of the demo's report ran, and with it the analyses no other parity test
    # runs on Spark: nothing passed by being left out.
    assert len(duck) == 9 and len(compared) >= 35
    assert {"funnel_drivers", "recommend_budget", "revenue_by_first_visit", "tracking"} <= set(
        compared
    )


@pytest.mark.skipif(not AFISHA.exists(), reason="../shared/data/yandex_afisha is not present")
def test_the_afisha_report_is_the_same_on_spark(spark_backend: Any) -> None:
    """Real orders (ids above 2**63, revenue in cents) through the CSV reader: the customer
    models' inputs are money sums, which floats add differently on each engine
    (metrics.customers.MONEY_DECIMALS); the propensity scores and RFM ties must not move."""
    files = {"orders": AFISHA / "orders_log_us.csv", "costs": AFISHA / "costs_us.csv"}
    duck = sections(gl.load(**files))
    spark = sections(gl.load(**files, backend=spark_backend))
    compared = _same_reports(duck, spark)
    assert {"rfm", "clusters", "clv", "propensity", "ltv", "cac"} <= set(compared)
