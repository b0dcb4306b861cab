"""Backend connections: in-process DuckDB by default, PySpark or any Ibis backend on request.

All aggregation is written as Ibis expressions, so the same analysis runs on whichever
backend the Dataset lives in.
"""

from __future__ import annotations

import tempfile
from typing import Any, TypeAlias

import ibis
from ibis.backends import BaseBackend

from growthlens.errors import ConfigError, MissingExtraError

BackendLike: TypeAlias = "BaseBackend | str | None"


def connect(
    backend: BackendLike = None, *, timezone: str | None = None, memory_limit: str | None = None
) -> BaseBackend:
    """Return an Ibis backend.

    Args:
        backend: ``None`` or ``"duckdb"`` for a fresh in-process DuckDB; ``"pyspark"``
            for a local Spark session; an Ibis connection URL (``"postgres://…"``); or an
            already connected Ibis backend, used as is.
        timezone: session time zone used when converting tz-aware timestamps to naive
            ones (UTC when ``None``).
        memory_limit: DuckDB only: cap on its memory (e.g. ``"3GB"``); above it DuckDB
            spills to disk instead of growing. ``None`` keeps DuckDB's default (80% of RAM).
    """
    zone = timezone or "UTC"
    if backend is None or backend == "duckdb":
        # Out-of-core: let DuckDB spill to a private temp dir instead of failing.
        con = ibis.duckdb.connect(temp_directory=tempfile.mkdtemp(prefix="growthlens-duckdb-"))
        con.raw_sql(f"SET TimeZone = '{_quote(zone)}'")
        # DuckDB draws its own progress bar on stdout for long queries; ours is the CLI's.
        con.raw_sql("SET enable_progress_bar = false")
        if memory_limit is not None:
            con.raw_sql(f"SET memory_limit = '{_quote(memory_limit)}'")
        return con
    if backend == "pyspark":
        return _local_spark(zone)
    if isinstance(backend, str):
        try:
            return ibis.connect(backend)
        except Exception as exc:  # ibis raises many types for a bad URL
            raise ConfigError(
                f"cannot connect to backend {backend!r}: {exc}. Use 'duckdb' (the default), "
                "'pyspark', or an Ibis connection URL such as 'duckdb://data.db'."
            ) from exc
    if isinstance(backend, BaseBackend):
        return backend
    raise ConfigError(
        "backend must be None, 'duckdb', 'pyspark', an Ibis URL or an Ibis backend; "
        f"got {type(backend).__name__}"
    )


def backend_name(con: BaseBackend) -> str:
    """Short backend name, e.g. ``duckdb`` or ``pyspark``."""
    return str(getattr(con, "name", type(con).__module__.split(".")[-1]))


def _local_spark(zone: str) -> BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingExtraError("the PySpark backend", "spark", "pyspark") from exc
    builder: Any = SparkSession.builder
    session = (
        builder.master("local[2]")
        .appName("growthlens")
        .config("spark.sql.session.timeZone", zone)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def _quote(text: str) -> str:
    return text.replace("'", "''")
