"""Shared fixtures: one local SparkSession for the whole test run (it is slow to start)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    """An Ibis PySpark backend in local mode, stopped at the end of the session."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed: pip install 'growthlens[spark]'"
    )
    from growthlens.engine import connect

    backend = connect("pyspark")
    yield backend
    backend._session.stop()
