"""Backend connections, and what each backend can do.

In-process DuckDB by default; PySpark (on this machine or on a cluster the user
configures with :class:`SparkOptions`) or any Ibis backend on request. All aggregation is
written as Ibis expressions, so the same analysis runs on whichever backend the Dataset
lives in. Where engines differ (unsigned integers, ordered aggregates, division by zero,
reading files), code asks :func:`capabilities`: this module is the one place that maps a
backend to what it can do, and nothing else in the package compares backend names.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias

import ibis
from ibis.backends import BaseBackend

from growthlens.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import SparkSession

SPARK = "pyspark"
"""The backend name that means a Spark session (``backend="pyspark"``, config ``[engine]``)."""
BackendLike: TypeAlias = "BaseBackend | SparkOptions | SparkSession | str | None"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as far as growthlens needs to know.

    Get one with :func:`capabilities`; never decide by a backend's name.

    Attributes:
        unsigned_ids: stores ``uint64``, so numeric ids up to 2**64 - 1 stay numbers.
            Without it ids are kept as text: joins and counts are the same, only the
            storage type differs.
        ordered_aggregates: honours an ordering inside an aggregate (``first``/``last``
            with ``order_by``), so "the value at the earliest time" is one deterministic
            aggregate. Without it, rank the rows with a window (``row_number``) instead.
        ansi_division: ``x / 0`` raises instead of giving NULL (Spark without ANSI) or
            infinity (DuckDB). On Spark the same ANSI mode makes unparseable text raise in
            ``as_timestamp`` and ``cast`` instead of giving NULL.
        native_files: reads local CSV, Parquet, JSON and DuckDB database files in place,
            with DuckDB's readers and their options. Without it, readers read the file with
            a private in-process DuckDB and upload the rows as Arrow.
        temp_tables: ``create_table(..., temp=True)`` works, so tables the loader creates
            vanish with the connection.
        arrow_views: stores an Arrow table as a session-scoped view through the engine's
            own Arrow path (Spark's ``createDataFrame``): no files written and nulls stay
            nulls, where Ibis's generic upload would write a warehouse table through pandas
            (turning nulls in float and text columns into NaN).
        eager_cache: ``Table.cache()`` stores the rows at once, so the table it was read
            from may be dropped right after; a lazy cache (Spark) still reads it later.
        int128_macros: has 128-bit integers and temporary SQL macros (DuckDB's ``HUGEINT``
            and ``CREATE MACRO``), so activity profiles aggregate two 62-day masks per value.
        asof_joins: runs Ibis's ``asof_join`` natively (DuckDB's ``ASOF JOIN``: per row the
            nearest later match, by a merge of sorted sides), so an ordered funnel walks its
            chains forward with one join per step instead of backward windows.
        ascii_trim: ``strip()`` removes only ASCII whitespace (codes 9–13 and 32) and
            ``ascii_str()`` gives a text's first code point, so a text whose first and
            last characters are above 32 is known to need no trim. DuckDB's ``TRIM``
            with a character set costs a second per 10M ids; this check skips it for all
            but the few ids with whitespace at an end.
        range_bitmaps: has a bitmap aggregate over an integer range and temporary SQL
            macros (DuckDB's ``bitstring_agg``), so the distinct integers of a column whose
            values span a bounded range are counted by setting bits, without a hash set:
            10M session ids in 0.06 s against 0.5 s for ``COUNT(DISTINCT)``.
        disk_tables: stores a table in a database file of its own (DuckDB's ``ATTACH``),
            compressed as in a file, and reports its memory limit: see :class:`DiskTables`.
    """

    unsigned_ids: bool
    ordered_aggregates: bool
    ansi_division: bool
    native_files: bool
    temp_tables: bool
    arrow_views: bool
    eager_cache: bool
    int128_macros: bool
    asof_joins: bool
    ascii_trim: bool
    range_bitmaps: bool
    disk_tables: bool


# Keyed by the Ibis backend's `name`. Unknown backends get _OTHER: ids as text, division
# assumed to follow the SQL standard (an error), generic reads and uploads, and
# nothing dropped after caching (harmless if the cache was eager after all).
_OTHER = Capabilities(
    unsigned_ids=False,
    ordered_aggregates=False,
    ansi_division=True,
    native_files=False,
    temp_tables=False,
    arrow_views=False,
    eager_cache=False,
    int128_macros=False,
    asof_joins=False,
    ascii_trim=False,
    range_bitmaps=False,
    disk_tables=False,
)
_KNOWN = {
    "duckdb": Capabilities(
        unsigned_ids=True,
        ordered_aggregates=True,
        ansi_division=False,
        native_files=True,
        temp_tables=True,
        arrow_views=False,
        eager_cache=True,
        int128_macros=True,
        asof_joins=True,
        ascii_trim=True,
        range_bitmaps=True,
        disk_tables=True,
    ),
    # ANSI off is how connect() configures sessions; capabilities() reads the live value.
    "pyspark": replace(_OTHER, ansi_division=False, arrow_views=True),
    "clickhouse": replace(_OTHER, unsigned_ids=True, ansi_division=False),
}


def capabilities(con: BaseBackend) -> Capabilities:
    """What the connected backend ``con`` can do.

    The static traits come from the backend's kind; two are read from the live
    connection: ordered aggregates (does Ibis compile ``first(order_by=...)`` for it?) and,
    on Spark, ANSI mode (``spark.sql.ansi.enabled`` in the session's conf).

    Example:
        >>> from growthlens.engine import capabilities, connect
        >>> caps = capabilities(connect())
        >>> caps.unsigned_ids, caps.ordered_aggregates, caps.ansi_division
        (True, True, False)
    """
    name = backend_name(con)
    known = _KNOWN.get(name, _OTHER)
    ansi = _spark_ansi(con) if name == "pyspark" else known.ansi_division
    return replace(known, ordered_aggregates=_compiles_ordered_first(con), ansi_division=ansi)


@contextlib.contextmanager
def reused(table: ir.Table, con: BaseBackend) -> Iterator[ir.Table]:
    """``table`` stored once for the queries that reuse it, released after them.

    Only where caching is eager (DuckDB): a lazy cache (Spark) would still recompute, and
    Spark cannot cache an expression holding an in-memory table (strict mode's lookup),
    so there ``table`` itself is used.
    """
    if not capabilities(con).eager_cache:
        yield table
        return
    with table.cache() as cached:
        yield cached


class DiskTables:
    """Large tables stored compressed in a database file of the load's own (DuckDB).

    DuckDB keeps a temporary table's values uncompressed: 50M sessions take 3 GB, all of
    a 3 GB memory limit, so every later query of the load spills to disk and reads back.
    The same rows written to a database file take 0.9 GB, compressed as DuckDB compresses
    its files, and their pages can leave memory without being written again. Writing
    costs more (50M sessions: 8 s against 3.4 s; 10M: 1.6 against 0.6 s), so only a table
    estimated at more than :data:`DISK_SHARE` of the memory limit goes there
    (:meth:`wanted`); the load of the 50M demo then takes 20 s instead of 27 s.

    Text ids (columns named ``user_id`` or ``…_id``) are written uncompressed: nearly every
    value is distinct, so DuckDB's dictionary and FSST compression halves their pages but
    costs more on the write and on every scan than the smaller pages save (50M sessions
    with 17-character user ids: the load 39.9 → 33.6 s). Other text (a device, a source)
    repeats and stays compressed.

    The file lies in ``directory`` (the load's work folder) and is detached by
    :meth:`close`. Engines without the capability store nothing here.
    """

    def __init__(self, con: BaseBackend, directory: Path) -> None:
        self.con = con
        self.directory = directory
        self.alias: str | None = None
        self.names: set[str] = set()

    def wanted(self, table: ir.Table, rows_of: ir.Table | None = None) -> bool:
        """Whether ``table`` would take more than :data:`DISK_SHARE` of the memory limit.

        Its size is estimated from its rows and :data:`_WIDE_TYPES` (16 bytes a value, 8
        for other types); off the capability, False. The rows are counted on ``rows_of``
        when given (a stored table with the same rows: a count of ``table`` itself could
        run its whole query), else on ``table`` (file metadata or a stored table answer).
        """
        limit = memory_limit_bytes(self.con)  # None off the capability
        if limit is None:
            return False
        width = sum(_value_bytes(t) for t in table.schema().types)
        rows = int((table if rows_of is None else rows_of).count().to_pyarrow().as_py())
        return rows * width > DISK_SHARE * limit

    def store(self, table: ir.Table) -> ir.Table:
        """``table``'s rows written to the load's database file; the stored table."""
        if self.alias is None:
            alias = f"growthlens_store_{secrets.token_hex(6)}"
            path = self.directory / f"{alias}.duckdb"
            self.con.raw_sql(f"ATTACH '{_quote(str(path))}' AS {alias}")
            self.alias = alias
        name = f"stored_{secrets.token_hex(6)}"
        schema = table.schema()
        plain = {c for c, t in schema.items() if t.is_string() and _is_id(c)}
        if plain:
            self._write_plain(name, table, schema, plain)
        else:
            self.con.create_table(name, table, database=(self.alias, "main"))
        self.names.add(name)
        return self.con.table(name, database=(self.alias, "main"))

    def _write_plain(
        self, name: str, table: ir.Table, schema: ibis.Schema, plain: set[str]
    ) -> None:
        """``table`` written to ``name`` with the ``plain`` columns uncompressed (class doc).

        DuckDB sets a column's compression only in its definition, so the table is created
        from the query's ``schema``, as Ibis types it, and then filled by Ibis.
        """
        columns = [
            column.sql("duckdb") + (" USING COMPRESSION uncompressed" if c in plain else "")
            for c, column in zip(schema.names, schema.to_sqlglot_column_defs("duckdb"), strict=True)
        ]
        target = f"{self.alias}.main.{name}"  # both generated: letters, digits, underscores
        self.con.raw_sql(f"CREATE TABLE {target} ({', '.join(columns)})")
        try:
            self.con.insert(name, table, database=(self.alias, "main"))
        except Exception:
            self.con.drop_table(name, database=(self.alias, "main"), force=True)
            raise

    def holds(self, table: ir.Table) -> bool:
        """Whether ``table`` is one this store wrote (as :meth:`store` returned it)."""
        return self._name(table) in self.names

    def drop(self, table: ir.Table) -> None:
        """Drop a table :meth:`store` wrote; its pages are freed."""
        name = self._name(table)
        self.con.drop_table(name, database=(self.alias, "main"), force=True)
        self.names.discard(name)

    def _name(self, table: ir.Table) -> str | None:
        """The stored name of ``table`` (Ibis qualifies it: ``<alias>.main.<name>``)."""
        try:
            qualified = table.get_name()
        except Exception:  # not a table of the catalog (a query, a memtable)
            return None
        return qualified.removeprefix(f"{self.alias}.main.") if self.alias else None

    def close(self) -> None:
        """Detach the database file (its tables go with it); nothing if none was made."""
        if self.alias is not None:
            with contextlib.suppress(Exception):  # a closed connection took it along
                self.con.raw_sql(f"DETACH {self.alias}")
            self.alias = None
            self.names.clear()


DISK_SHARE = 0.5
"""Tables estimated above this share of the engine's memory limit go to :class:`DiskTables`."""

# Bytes per value of an in-memory DuckDB table: 16 for text (its header; longer text adds
# its characters), decimals and intervals, 8 for the rest (a generous bound for narrower
# types, so the estimate errs towards the disk).
_WIDE_TYPES = ("string", "binary", "decimal", "interval", "uuid")


def _is_id(column: str) -> bool:
    """Whether a column holds ids by the data model's naming (``user_id``, ``order_id``, …)."""
    return column.endswith("_id")


def _value_bytes(dtype: Any) -> int:
    return 16 if any(getattr(dtype, f"is_{t}")() for t in _WIDE_TYPES) else 8


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_limit_bytes(con: BaseBackend) -> int | None:
    """The engine's memory limit in bytes (DuckDB's ``memory_limit``); None if unknown."""
    if not capabilities(con).disk_tables:
        return None
    try:
        rows = con.raw_sql("SELECT current_setting('memory_limit')").fetchall()
        text = str(rows[0][0])
    except Exception:
        return None
    return parse_bytes(text)


def parse_bytes(text: str) -> int | None:
    """``"2.7 GiB"``, ``"3GB"`` or ``"500 MB"`` as bytes; None for anything else."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if match is None or match.group(2).upper() not in _UNITS:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def backend_name(con: BaseBackend) -> str:
    """Short backend name for display, e.g. ``duckdb`` or ``pyspark``.

    Decisions ask :func:`capabilities` instead.
    """
    return str(getattr(con, "name", type(con).__module__.split(".")[-1]))


@dataclass(frozen=True)
class SparkOptions:
    """How to start the Spark session for the PySpark backend.

    Pass it as ``backend=SparkOptions(...)`` to ``gl.load`` or :func:`connect`;
    ``backend="pyspark"`` means the running Spark session if there is one (a notebook's
    ``spark``), else ``SparkOptions()``. Spark runs one session per process: ``master``,
    ``driver_memory`` and ``app_name`` take effect when the session starts, so asking for
    others while one runs is a :class:`ConfigError`.

    Settings are applied in three layers, later ones winning: growthlens's defaults for a
    local master (``spark.sql.shuffle.partitions=4``, ``spark.ui.enabled=false``) and for
    any master (``spark.ui.showConsoleProgress=false``, and the log level ``ERROR`` once the
    session has started); then ``conf``; then the settings
    the analyses need (``spark.sql.session.timeZone=UTC``, ``spark.sql.ansi.enabled=false``;
    see :func:`connect`).

    Attributes:
        master: where Spark runs: ``"local[*]"`` (this machine, all cores; the default),
            ``"local[4]"``, ``"spark://host:7077"`` (a standalone cluster), ``"yarn"`` or
            ``"k8s://https://host:443"``.
        driver_memory: memory of the driver JVM, with a unit (``"2g"``, ``"512m"``). In
            local mode the driver does all the work, so this is Spark's memory.
        app_name: the name shown in the Spark UI and by the cluster manager.
        conf: further Spark settings, e.g. ``{"spark.executor.memory": "8g"}``. Keys start
            with ``spark.``; numbers and booleans are written as Spark reads them
            (``8``, ``true``).

    Raises:
        ConfigError: the master URL, memory or a conf key is malformed, or ``conf`` sets
            what a field above sets.

    Example:
        >>> from growthlens.engine import SparkOptions
        >>> SparkOptions(master="spark://head:7077", conf={"spark.executor.memory": "8g"}).conf
        mappingproxy({'spark.executor.memory': '8g'})
    """

    master: str = "local[*]"
    driver_memory: str = "2g"
    app_name: str = "growthlens"
    conf: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _MASTER.fullmatch(self.master):
            raise ConfigError(
                f"Spark master {self.master!r} is not a master URL Spark understands; use "
                "'local[*]' (this machine, all cores), 'local[4]', 'spark://host:7077' "
                "(a standalone cluster), 'yarn' or 'k8s://https://host:443'"
            )
        if not _MEMORY.fullmatch(self.driver_memory):
            raise ConfigError(
                f"Spark driver memory {self.driver_memory!r} is not a size; write a number "
                "and a unit, e.g. '2g' or '512m'"
            )
        conf: dict[str, str] = {}
        for key, value in self.conf.items():
            if not isinstance(key, str) or not key.startswith("spark."):
                raise ConfigError(
                    f"Spark setting {key!r} does not start with 'spark.'; Spark ignores such "
                    "keys. Write the full name, e.g. 'spark.executor.memory'"
                )
            if key in _FIELD_KEYS:
                raise ConfigError(
                    f"set {key!r} with SparkOptions({_FIELD_KEYS[key]}=...), not in conf"
                )
            # TOML gives numbers and booleans; Spark reads "8" and "true".
            conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
        object.__setattr__(self, "conf", MappingProxyType(conf))

    def __reduce__(self) -> tuple[type[SparkOptions], tuple[str, str, str, dict[str, str]]]:
        # A read-only mapping cannot be pickled; rebuild from a plain copy.
        return (SparkOptions, (self.master, self.driver_memory, self.app_name, dict(self.conf)))


_MASTER = re.compile(
    r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?"
    r"|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|yarn"
    r"|spark://[\w.\-]+:\d+(,[\w.\-]+:\d+)*"
    r"|k8s://\S+"
)


def spark_master(backend: str | None) -> str | None:
    """The Spark master a ``backend`` name asks for, or None when it is not Spark.

    ``"pyspark"`` means a local session on all cores; a master URL means itself.

    >>> spark_master("pyspark"), spark_master(" spark://head:7077"), spark_master("duckdb")
    ('local[*]', 'spark://head:7077', None)
    """
    if backend is None:
        return None
    if backend == SPARK:
        return "local[*]"
    return backend.strip() if is_spark_master(backend) else None


def is_spark_master(text: str) -> bool:
    """Whether ``text`` is a Spark master URL (so ``--backend`` means Spark there).

    >>> [is_spark_master(t) for t in ("local[8]", "spark://head:7077", "yarn", "duckdb")]
    [True, True, True, False]
    """
    return _MASTER.fullmatch(text.strip()) is not None


_MEMORY = re.compile(r"[1-9]\d*[kmgt]b?", re.IGNORECASE)
_FIELD_KEYS = {
    "spark.master": "master",
    "spark.driver.memory": "driver_memory",
    "spark.app.name": "app_name",
}
_SPARK_DEFAULTS = {"spark.ui.showConsoleProgress": "false"}
_SPARK_LOG_LEVEL = "ERROR"  # of the sessions growthlens starts (see _start_spark)
_EXCLUDED_RULES = "spark.sql.optimizer.excludedRules"
_LOCAL_RELATION_RULE = "org.apache.spark.sql.catalyst.optimizer.ConvertToLocalRelation"
_SPARK_LOCAL_DEFAULTS = {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}


def connect(
    backend: BackendLike = None, *, timezone: str | None = None, memory_limit: str | None = None
) -> BaseBackend:
    """Return an Ibis backend.

    Spark sessions growthlens starts or is given get two settings the analyses need,
    over any the user set:

    - ``spark.sql.session.timeZone=UTC``: Ibis reads Spark's ``TIMESTAMP`` as a naive
      timestamp, which holds only in UTC; in another zone, durations across a DST change
      shift by an hour and times inside a DST gap cannot be stored. ``timezone`` is
      therefore not a Spark session setting.
    - ``spark.sql.ansi.enabled=false``: unparseable text must become NULL so the loader
      can count it and show examples, and a ratio over an empty group must be NULL, not
      an error (ANSI is on by default from Spark 4).

    Every Spark session growthlens uses (an Ibis PySpark backend too) also gets the
    optimizer rule ``ConvertToLocalRelation`` added to ``spark.sql.optimizer.excludedRules``
    (see ``_tuned``: it made a plan over in-memory tables run out of driver memory).

    Args:
        backend: ``None`` or ``"duckdb"`` for a fresh in-process DuckDB; ``"pyspark"`` for
            the running Spark session, else a local one (``SparkOptions()``); a Spark
            master URL (``"local[8]"``, ``"spark://host:7077"``, ``"yarn"``, ``"k8s://…"``)
            for ``SparkOptions(master=...)``; a
            :class:`SparkOptions` for a session configured by the user (master, memory,
            conf); a ``pyspark.sql.SparkSession``; an Ibis connection URL
            (``"postgres://…"``); or an already connected Ibis backend, used as is (a
            Spark one gets the optimizer setting above).
        timezone: DuckDB's session time zone, used when converting tz-aware timestamps to
            naive ones (UTC when ``None``).
        memory_limit: DuckDB only: cap on its memory (e.g. ``"3GB"``); above it DuckDB
            spills to disk instead of growing. ``None`` keeps DuckDB's default (80% of RAM).
            Spark's memory is :attr:`SparkOptions.driver_memory`.

    Raises:
        ConfigError: an unknown backend, a URL Ibis cannot connect to, or a Spark session
            that cannot start or already runs with another master or memory.
        MissingExtraError: Spark was asked for and pyspark is not installed.
    """
    if backend is None or (isinstance(backend, str) and backend == "duckdb"):
        return _duckdb(timezone or "UTC", memory_limit)
    if isinstance(backend, str) and backend == "pyspark":
        return _spark(None)
    if isinstance(backend, SparkOptions):
        return _spark(backend)
    if isinstance(backend, str) and is_spark_master(backend):
        return _spark(SparkOptions(master=backend.strip()))
    if isinstance(backend, str):
        try:
            return _tuned(ibis.connect(backend))
        except Exception as exc:  # ibis raises many types for a bad URL
            raise ConfigError(
                f"cannot connect to backend {backend!r}: {exc}. Use 'duckdb' (the default), "
                "'pyspark', or an Ibis connection URL such as 'duckdb://data.db'."
            ) from exc
    if isinstance(backend, BaseBackend):
        if backend_name(backend) == SPARK:
            _fix_spark_trim()
        return _tuned(backend)
    if _is_spark_session(backend):
        return _spark_backend(backend)
    raise ConfigError(
        "backend must be None, 'duckdb', 'pyspark', SparkOptions, a SparkSession, an Ibis "
        f"URL or an Ibis backend; got {type(backend).__name__}"
    )


def _duckdb(zone: str, memory_limit: str | None) -> BaseBackend:
    # Out-of-core: let DuckDB spill to a private temp dir instead of failing. The folder
    # goes when the connection does, or at exit: none is left behind.
    spill = tempfile.mkdtemp(prefix="growthlens-duckdb-")
    con = ibis.duckdb.connect(temp_directory=spill)
    weakref.finalize(con, shutil.rmtree, spill, ignore_errors=True)
    con.raw_sql(f"SET TimeZone = '{_quote(zone)}'")
    # DuckDB draws its own progress bar on stdout for long queries; ours is the CLI's.
    con.raw_sql("SET enable_progress_bar = false")
    _tuned(con)
    if memory_limit is not None:
        con.raw_sql(f"SET memory_limit = '{_quote(memory_limit)}'")
    return con


def _tuned(con: BaseBackend) -> BaseBackend:
    """``con`` with the settings the analyses' plans need (DuckDB, Spark; others as they are).

    DuckDB turns an as-of join whose left side it *estimates* at under 64 rows into a
    nested loop; after a funnel's filtered steps the estimate can be tiny while the side
    holds many thousand rows (a 0.1 s join took 17 s). The merge plan is never slow.

    Spark's optimizer rule ``ConvertToLocalRelation`` evaluates, while planning and in the
    driver, every projection and filter of an in-memory table (a pandas frame; a file
    growthlens hands to Spark through Arrow, such as the demo's Parquet with nanoseconds);
    a query that reads such a table in many places (a funnel's drivers: the step chains in
    each branch of a union) copies it over and over: on the demo's 63,000 events it ran
    out of a 2 GB driver after 3 minutes, and runs in 15 s with the rule left out. The
    rule is added to the session's ``spark.sql.optimizer.excludedRules``, keeping any the
    user excluded; it only ever saves planning work on small inputs.
    """
    name = backend_name(con)
    if name == "duckdb":
        # A DuckDB without the setting has no such nested-loop plan either.
        with contextlib.suppress(Exception):
            con.raw_sql("SET asof_loop_join_threshold = 0")
    elif name == SPARK and (session := getattr(con, "_session", None)) is not None:
        excluded = [r.strip() for r in str(session.conf.get(_EXCLUDED_RULES, "")).split(",")]
        if _LOCAL_RELATION_RULE not in excluded:
            session.conf.set(
                _EXCLUDED_RULES, ",".join([*filter(None, excluded), _LOCAL_RELATION_RULE])
            )
    return con


def _spark(options: SparkOptions | None) -> BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise MissingExtraError("the PySpark backend", "spark", "pyspark") from exc
    session = SparkSession.getActiveSession() if options is None else None
    if session is None:
        session = _start_spark(SparkSession, options or SparkOptions(), strict=options is not None)
    return _spark_backend(session)


def _start_spark(spark_session: Any, options: SparkOptions, *, strict: bool) -> Any:
    local = options.master.startswith("local")
    settings = {
        **_SPARK_DEFAULTS,
        **(_SPARK_LOCAL_DEFAULTS if local else {}),
        **options.conf,
        "spark.driver.memory": options.driver_memory,
    }
    builder = spark_session.builder.master(options.master).appName(options.app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    started = spark_session.getActiveSession() is None
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Py4J, PySpark and OS errors alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot start Spark with master {options.master!r}: {first}. Check that Java "
            "is installed (java -version) and that the master is reachable"
        ) from exc
    # getOrCreate returns the running session as is when there is one: its master and
    # memory were fixed when it started, and silently running elsewhere would mislead.
    context = session.sparkContext
    running = {
        "master": context.master,
        "driver_memory": context.getConf().get("spark.driver.memory"),
    }
    if started:
        # Spark's planner warnings (task sizes, windows without a partition: the report's
        # whole-table ranks) would bury the CLI's progress in a few hundred lines; errors
        # still show. A session the user started keeps its own level.
        context.setLogLevel(_SPARK_LOG_LEVEL)
    wanted = {"master": options.master, "driver_memory": options.driver_memory}
    differ = [k for k in wanted if str(running[k]).lower() != wanted[k].lower()]
    if strict and differ:
        asked = ", ".join(f"{k}={wanted[k]!r}" for k in differ)
        found = ", ".join(f"{k}={running[k]!r}" for k in differ)
        raise ConfigError(
            f"a Spark session already runs in this process with {found}; Spark keeps one "
            f"per process, so SparkOptions({asked}) cannot take effect. Stop it first "
            "(spark.stop()), or pass the running session as the backend to use it as it is"
        )
    return session


def _spark_backend(session: Any) -> BaseBackend:
    _fix_spark_trim()
    con = ibis.pyspark.connect(session)
    # Set after Ibis's connect, which resets the time zone itself; why: see connect().
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.ansi.enabled", "false")
    return _tuned(con)


def _fix_spark_trim() -> None:
    r"""Make Ibis's ``strip``/``lstrip``/``rstrip`` trim whitespace on Spark, in this process.

    Ibis 12 compiles ``strip()`` to ``TRIM(' \t\n\r\v\f' FROM x)``, and Spark's SQL
    parser reads ``\v`` and ``\f`` as the letters ``v`` and ``f``: ids such as
    ``'f65c4be7'`` lost their leading and trailing f's (and ``lstrip``/``rstrip`` became
    Spark's one-argument ``ltrim``/``rtrim``, which trim spaces only). The characters of
    ``string.whitespace`` are passed as ``char(n)`` codes instead, which no parser escapes.
    """
    import string

    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    compiler: Any = PySparkCompiler
    if getattr(compiler, "_growthlens_trim", False):
        return

    def spaces(self: Any) -> Any:
        return self.f.concat(*(self.f.char(ord(c)) for c in string.whitespace))

    def trim(position: str | None) -> Any:
        def visit(self: Any, op: Any, *, arg: Any) -> Any:
            return sge.Trim(this=arg, expression=spaces(self), position=position)

        return visit

    compiler.visit_Strip = trim(None)
    compiler.visit_LStrip = trim("LEADING")
    compiler.visit_RStrip = trim("TRAILING")
    compiler._growthlens_trim = True


def _is_spark_session(obj: object) -> bool:
    # Only an imported pyspark can have made one; no import here for users without it.
    module = sys.modules.get("pyspark.sql")
    return module is not None and isinstance(obj, module.SparkSession)


def _spark_ansi(con: BaseBackend) -> bool:
    session: Any = getattr(con, "_session", None)
    if session is None:
        return True
    return str(session.conf.get("spark.sql.ansi.enabled")).lower() == "true"


def _compiles_ordered_first(con: BaseBackend) -> bool:
    # Compiling only (nothing runs): Ibis refuses an ordered aggregate where the SQL
    # dialect has none, and emits it where the engine honours the order.
    probe = ibis.table({"value": "int64", "at": "int64"}, name="growthlens_probe")
    try:
        con.compile(probe.aggregate(first=probe.value.first(order_by=probe.at)))
    except Exception:  # UnsupportedOperationError, or a backend's own error type
        return False
    return True


def _quote(text: str) -> str:
    return text.replace("'", "''")
