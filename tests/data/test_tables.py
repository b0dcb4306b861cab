"""One declaration per canonical table: everything that knows the tables is derived from it."""

from __future__ import annotations

import inspect

import pytest
from typer.main import get_command

import growthlens as gl
from growthlens.cli import app
from growthlens.data.config import Config, EngineSpec
from growthlens.data.tables import TABLES
from growthlens.data.validate import exclusion_text
from growthlens.engine import SparkOptions


def test_load_keywords_are_the_declared_tables_in_order() -> None:
    keywords = [
        name
        for name, p in inspect.signature(gl.load).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keywords[: len(TABLES)] == list(TABLES)


@pytest.mark.parametrize("command", ["report", "check"])
def test_cli_has_one_option_per_declared_table(command: str) -> None:
    click_command = get_command(app).commands[command]  # type: ignore[attr-defined]
    options = {o for p in click_command.params for o in p.opts}
    assert {t.option for t in TABLES.values()} <= options
    assert "--visits" in options  # the old spelling of --sessions still works


def test_config_takes_a_section_per_declared_table() -> None:
    raw = {name: {"path": f"{name}.csv"} for name in TABLES}
    config = Config.from_mapping(raw)
    assert list(config.tables) == list(TABLES)
    with pytest.raises(gl.ConfigError, match=r"unknown section\(s\) \[visits\]"):
        Config.from_mapping({"visits": {"path": "v.csv"}})


def test_declarations_are_complete() -> None:
    settings = set(gl.Settings.model_fields)
    for name, model in TABLES.items():
        assert model.name == name and model.description and model.row and model.row_one
        assert set(model.settings) <= settings, name
        assert model.rows(1) == f"1 {model.row_one}" and model.rows(2).endswith(model.row)
        assert model.time_column is None or model.column(model.time_column) is not None
        assert all(model.column(k) is not None for k in model.key or ())
        for column in model.columns:
            if column.negative is not None:
                assert exclusion_text(column.negative) != column.negative  # has words
        for rule in model.flags:
            assert rule.needs[0] == name and rule.text and rule.text_one and rule.effect


def test_engine_section() -> None:
    config = Config.from_mapping(
        {
            "engine": {
                "backend": "pyspark",
                "spark": {"master": "local[1]", "driver_memory": "1g", "conf": {"spark.a": True}},
            },
            "orders": {"path": "o.csv"},
        }
    )
    options = config.engine.connection()
    assert isinstance(options, SparkOptions)
    assert (options.master, options.driver_memory) == ("local[1]", "1g")
    assert dict(options.conf) == {"spark.a": "true"}
    with pytest.raises(gl.ConfigError, match=r"does not start with 'spark\.'"):
        Config.from_mapping({"engine": {"backend": "pyspark", "spark": {"conf": {"a.b": 1}}}})
    assert EngineSpec(backend="duckdb", memory_limit="1GB").connection() == "duckdb"
    with pytest.raises(gl.ConfigError, match=r"\[engine.spark\] configures Spark"):
        Config.from_mapping({"engine": {"backend": "duckdb", "spark": {}}})
    with pytest.raises(gl.ConfigError, match="unknown key 'memory' in \\[engine\\]"):
        Config.from_mapping({"engine": {"memory": "1GB"}})


def test_engine_memory_limit_reaches_duckdb(tmp_path: object) -> None:
    import pandas as pd

    orders = pd.DataFrame({"user_id": [1], "ts": ["2020-01-01"], "revenue": [1.0]})
    ds = gl.load({"engine": {"memory_limit": "512MB"}}, orders=orders)
    limit = ds.backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "").upper() in {"512.0MB", "488.2MIB", "512MB"}
