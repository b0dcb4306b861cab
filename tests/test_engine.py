"""Engine: connections, user-configured Spark sessions, and capabilities asked in one place."""

from __future__ import annotations

import ast
import json
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import ibis
import pytest

from growthlens.engine import Capabilities, SparkOptions, capabilities, connect
from growthlens.errors import ConfigError, MissingExtraError

SRC = Path(__file__).resolve().parents[1] / "src" / "growthlens"

DUCKDB = Capabilities(
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
)
SPARK = Capabilities(
    unsigned_ids=False,
    ordered_aggregates=False,
    ansi_division=False,
    native_files=False,
    temp_tables=False,
    arrow_views=True,
    eager_cache=False,
    int128_macros=False,
    asof_joins=False,
    ascii_trim=False,
    range_bitmaps=False,
    disk_tables=False,
)


# --- DuckDB and other Ibis backends ------------------------------------------------------


def test_duckdb_capabilities() -> None:
    assert capabilities(connect()) == DUCKDB


def test_duckdb_capabilities_hold() -> None:
    """What DuckDB is said to do, it does: uint64 ids, ordered first, x/0 not an error."""
    con = connect()
    t = ibis.memtable({"id": [2**64 - 1, 1], "at": [2, 1], "x": [1.0, 0.0]})
    expr = t.aggregate(first=t.id.cast("uint64").first(order_by=t.at), ratio=(t.x / 0).min())
    row = con.to_pyarrow(expr).to_pylist()[0]
    assert row == {"first": 1, "ratio": float("inf")}
    con.create_table("scratch", t, temp=True)
    # An as-of join: per left row the nearest right row at or after it, per key.
    left = ibis.memtable({"k": [1, 1, 2], "t": [1, 5, 1]})
    right = ibis.memtable({"rk": [1, 1, 2], "rt": [3, 5, 0]})
    joined = left.asof_join(right, on=left.t <= right.rt, predicates=[left.k == right.rk])
    got = con.to_pyarrow(joined.select("k", "t", "rt").order_by(["k", "t"])).to_pylist()
    assert [r["rt"] for r in got] == [3, 5, None]


def test_duckdb_ascii_trim_holds() -> None:
    """DuckDB's strip() removes only characters at or below 32, and ascii_str() reads a
    text's first code point: every character Python counts as whitespace, at either end."""
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()]
    texts = [f"{c}a" for c in spaces] + [f"a{c}" for c in spaces] + ["a", "é", "", " "]
    t = ibis.memtable({"x": texts})
    got = (
        connect()
        .to_pyarrow(t.select(s=t.x.strip(), first=t.x.ascii_str(), last=t.x.right(1).ascii_str()))
        .to_pylist()
    )
    for text, row in zip(texts, got, strict=True):
        trimmed = text != row["s"]
        assert not trimmed or text[:1] <= " " or text[-1:] <= " ", repr(text)
        assert row["first"] == (ord(text[0]) if text else 0), repr(text)
        assert row["last"] == (ord(text[-1]) if text else 0), repr(text)


def test_unknown_backend_gets_conservative_capabilities() -> None:
    # SQLite stands for "any other Ibis backend": ids as text, the generic read and upload
    # paths, and division assumed to raise (the SQL standard), so code guards it.
    caps = capabilities(ibis.sqlite.connect())
    assert caps == Capabilities(
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


@pytest.mark.parametrize("backend", [None, "duckdb"])
def test_connect_duckdb_unchanged(backend: str | None) -> None:
    con = connect(backend, timezone="Asia/Tokyo", memory_limit="1GB")
    assert con.name == "duckdb"
    settings = con.raw_sql(
        "SELECT current_setting('TimeZone'), current_setting('memory_limit'), "
        "current_setting('enable_progress_bar')"
    ).fetchone()
    assert settings[0] == "Asia/Tokyo"
    assert settings[1].replace(" ", "") in ("953.6MiB", "1.0GB", "1GB")
    assert settings[2] is False
    # The as-of merge plan always (see engine._tuned), on connections given too.
    threshold = "SELECT current_setting('asof_loop_join_threshold')"
    assert con.raw_sql(threshold).fetchone()[0] == 0
    assert connect(ibis.duckdb.connect()).raw_sql(threshold).fetchone()[0] == 0


def test_connect_rejects_other_objects() -> None:
    with pytest.raises(ConfigError, match="SparkOptions, a SparkSession"):
        connect(42)  # type: ignore[arg-type]


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(MissingExtraError, match=r"growthlens\[spark\]"):
        connect("pyspark")
    with pytest.raises(MissingExtraError):
        connect(SparkOptions())


# --- SparkOptions: checked before any JVM starts ---------------------------------------


def test_spark_options_defaults() -> None:
    options = SparkOptions()
    assert (options.master, options.driver_memory, options.app_name) == (
        "local[*]",
        "2g",
        "growthlens",
    )
    assert dict(options.conf) == {}


@pytest.mark.parametrize(
    "master",
    [
        "local",
        "local[2]",
        "local[*]",
        "local[4,2]",
        "local-cluster[2,1,1024]",
        "spark://head:7077",
        "spark://a:7077,b:7077",
        "yarn",
        "k8s://https://k8s.example:443",
    ],
)
def test_spark_master_urls_accepted(master: str) -> None:
    assert SparkOptions(master=master).master == master


@pytest.mark.parametrize(
    "master", ["", "local[0]", "local[two]", "spark://head", "spark:/head:7077", "yran", "sc://x"]
)
def test_bad_spark_master_is_a_config_error(master: str) -> None:
    with pytest.raises(ConfigError, match=r"not a master URL Spark understands.*spark://host:7077"):
        SparkOptions(master=master)


@pytest.mark.parametrize("memory", ["2", "2 g", "-1g", "lots", ""])
def test_bad_driver_memory_is_a_config_error(memory: str) -> None:
    with pytest.raises(ConfigError, match=re.escape("e.g. '2g' or '512m'")):
        SparkOptions(driver_memory=memory)


def test_spark_conf_checked_and_written_as_spark_reads_it() -> None:
    options = SparkOptions(
        conf={"spark.sql.shuffle.partitions": 8, "spark.ui.enabled": True}  # type: ignore[dict-item]
    )
    assert dict(options.conf) == {"spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "true"}
    with pytest.raises(ConfigError, match=re.escape("does not start with 'spark.'")):
        SparkOptions(conf={"sql.shuffle.partitions": "8"})
    with pytest.raises(ConfigError, match=r"SparkOptions\(master=...\)"):
        SparkOptions(conf={"spark.master": "yarn"})
    with pytest.raises(TypeError):
        options.conf["spark.x"] = "y"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(options)) == options


# --- Spark ------------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_capabilities(spark_backend: Any) -> None:
    assert capabilities(spark_backend) == SPARK


@pytest.mark.spark
def test_spark_ansi_mode_is_read_from_the_session(spark_backend: Any) -> None:
    session = spark_backend._session
    session.conf.set("spark.sql.ansi.enabled", "true")
    try:
        assert capabilities(spark_backend).ansi_division is True
    finally:
        session.conf.set("spark.sql.ansi.enabled", "false")
    assert capabilities(spark_backend).ansi_division is False
    # What "False" promises: a zero denominator gives NULL, not an error.
    t = ibis.memtable({"x": [1.0]})
    assert spark_backend.to_pyarrow(t.select(r=t.x / 0))["r"].to_pylist() == [None]


@pytest.mark.spark
def test_a_spark_session_passed_gets_the_required_settings(spark_backend: Any) -> None:
    session = spark_backend._session
    session.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    session.conf.set("spark.sql.ansi.enabled", "true")
    rules = "spark.sql.optimizer.excludedRules"
    ours = "org.apache.spark.sql.catalyst.optimizer.ConvertToLocalRelation"
    kept = session.conf.get(rules, "")
    session.conf.set(rules, "org.example.UserRule")
    con = connect(session, timezone="Asia/Tokyo")
    try:
        assert con.name == "pyspark"
        assert con._session is session  # type: ignore[attr-defined]
        assert session.conf.get("spark.sql.session.timeZone") == "UTC"
        assert session.conf.get("spark.sql.ansi.enabled") == "false"
        assert session.conf.get(rules) == f"org.example.UserRule,{ours}"
        # An Ibis backend connected by the user gets the rule too, once.
        connect(ibis.pyspark.connect(session))
        assert session.conf.get(rules) == f"org.example.UserRule,{ours}"
    finally:
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.conf.set("spark.sql.ansi.enabled", "false")
        session.conf.set(rules, kept)


@pytest.mark.spark
def test_pyspark_reuses_the_running_session(spark_backend: Any) -> None:
    assert connect("pyspark")._session is spark_backend._session  # type: ignore[attr-defined]


@pytest.mark.spark
def test_spark_options_another_master_while_one_runs(spark_backend: Any) -> None:
    running = spark_backend._session.sparkContext.master
    other = "local[1]" if running != "local[1]" else "local[2]"
    with pytest.raises(
        ConfigError, match=f"already runs in this process with master='{re.escape(running)}'"
    ):
        connect(SparkOptions(master=other))


@pytest.mark.spark
def test_spark_options_applied_in_a_new_session() -> None:
    """Master and memory are fixed when Spark starts, so this starts its own, in a child process.

    The user's conf applies over our local defaults (shuffle partitions 8 over 4); our
    required settings apply over the user's conf (the time zone stays UTC).
    """
    pytest.importorskip("pyspark")
    script = textwrap.dedent(
        """
        import json
        from growthlens.engine import SparkOptions, capabilities, connect
        options = SparkOptions(
            master="local[1]",
            driver_memory="1g",
            app_name="growthlens-test",
            conf={
                "spark.growthlens.probe": "yes",
                "spark.sql.shuffle.partitions": 8,
                "spark.sql.session.timeZone": "America/New_York",
                "spark.sql.ansi.enabled": "true",
                "spark.sql.optimizer.excludedRules": "org.example.UserRule",
            },
        )
        con = connect(options)
        session = con._session
        context = session.sparkContext
        runtime = context._jvm.java.lang.Runtime.getRuntime()
        log4j = context._jvm.org.apache.logging.log4j
        print(json.dumps({
            "master": context.master,
            "app_name": context.appName,
            "driver_memory": context.getConf().get("spark.driver.memory"),
            "heap": runtime.maxMemory(),
            "probe": session.conf.get("spark.growthlens.probe"),
            "partitions": session.conf.get("spark.sql.shuffle.partitions"),
            "ui": session.conf.get("spark.ui.enabled"),
            "zone": session.conf.get("spark.sql.session.timeZone"),
            "ansi": capabilities(con).ansi_division,
            "excluded": session.conf.get("spark.sql.optimizer.excludedRules"),
            "level": str(log4j.LogManager.getRootLogger().getLevel()),
        }))
        session.stop()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["master"] == "local[1]"
    assert facts["app_name"] == "growthlens-test"
    assert facts["driver_memory"] == "1g"
    assert 0.4 * 2**30 < facts["heap"] <= 2**30  # the JVM really got 1g, not the 2g default
    assert facts["probe"] == "yes"
    assert facts["partitions"] == "8"
    assert facts["ui"] == "false"
    assert facts["zone"] == "UTC"
    assert facts["ansi"] is False
    # The user's excluded rule stays; ours joins it (engine._tuned: in-memory tables).
    assert facts["excluded"] == (
        "org.example.UserRule,org.apache.spark.sql.catalyst.optimizer.ConvertToLocalRelation"
    )
    assert facts["level"] == "ERROR"  # a session growthlens started: planner warnings off


# --- Capabilities, not names --------------------------------------------------------------

# Names that hold a backend or its name; compared by ==, !=, in or match they decide by name.
_BACKEND_NAMES = {"backend", "backend_name", "con_name"}
_CONNECTIONS = {"con", "backend", "connection"}
# Decisions still made by name in files outside this change, each to be replaced by the
# capability named: (file, the comparison as ast.unparse writes it). Remove when fixed.
PENDING: set[tuple[str, str]] = set()  # name checks still to replace (none left)


def _names_a_backend(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Name) and func.id == "backend_name") or (
            isinstance(func, ast.Attribute) and func.attr == "backend_name"
        )
    if isinstance(node, ast.Name):
        return node.id in _BACKEND_NAMES
    if isinstance(node, ast.Attribute):
        if node.attr in {"backend", "backend_name"}:
            return True
        return (
            node.attr == "name"
            and isinstance(node.value, ast.Name)
            and node.value.id in _CONNECTIONS
        )
    return False


def _name_comparisons(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            by_value = any(
                isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
            )
            if by_value and any(_names_a_backend(o) for o in operands):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.Match) and _names_a_backend(node.subject):
            found.append(f"match {ast.unparse(node.subject)}")
    return found


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('backend_name(con) == "duckdb"', True),
        ('engine.backend_name(con) != "pyspark"', True),
        ("backend in _UINT64_BACKENDS", True),
        ('self.backend != "duckdb"', True),
        ('con.name == "duckdb"', True),
        ('ds.backend_name in ("duckdb", "clickhouse")', True),
        ('match backend_name(con):\n    case "duckdb":\n        pass', True),
        ('fmt == "duckdb"', False),  # a file format, not a backend
        ('model.name == "costs"', False),
        ("backend is None", False),
        ("backend is not None and capabilities(backend).unsigned_ids", False),
        ('{"backend": ds.backend_name}', False),
    ],
)
def test_name_comparison_detector(code: str, flagged: bool) -> None:
    assert bool(_name_comparisons(code)) is flagged


def test_only_engine_compares_backend_names() -> None:
    found = {
        (path.relative_to(SRC).as_posix(), comparison)
        for path in SRC.rglob("*.py")
        if path.name != "engine.py" or path.parent != SRC
        for comparison in _name_comparisons(path.read_text(encoding="utf-8"))
    }
    assert found - PENDING == set(), "ask growthlens.engine.capabilities(con) instead"
    assert PENDING - found == set(), "fixed: remove these from PENDING"
