"""benchmarks/unit_economics.py keeps stored sizes only beside sizes measured alike."""

from __future__ import annotations

from typing import Any

from tests.benchmarks.scripts import script


def _merged() -> Any:
    return script("unit_economics").merged


def _run(*sizes: str, **meta: Any) -> dict[str, Any]:
    base = {"shape": "loyal", "memory_limit": "3GB", "repeat": 3, "machine": "m"}
    return {**base, **meta, "sizes": {s: {"growthlens": {}, "pandas": {}} for s in sizes}}


def test_sizes_run_alike_are_kept_in_size_order() -> None:
    merged = _merged()
    out = merged(_run("10m", "50m"), _run("1m"))
    assert list(out["sizes"]) == ["1m", "10m", "50m"]
    assert merged(_run("1m", "10m"), _run("10m", date="new"))["sizes"].keys() == {"1m", "10m"}


def test_sizes_run_otherwise_are_dropped() -> None:
    merged = _merged()
    assert list(merged(_run("10m"), _run("1m", memory_limit="4GB"))["sizes"]) == ["1m"]
    assert list(merged(_run("10m"), _run("1m", repeat=1))["sizes"]) == ["1m"]
    no_pandas = _run("1m")
    no_pandas["sizes"]["1m"].pop("pandas")
    assert list(merged(_run("10m"), no_pandas)["sizes"]) == ["1m"]


def test_render_keeps_subsections_it_has_no_results_for(monkeypatch: Any) -> None:
    """The results live outside git: a run of one shape must not drop another's text."""
    common, unit_economics = script("common"), script("unit_economics")
    current = (
        f"{unit_economics.HEADING}\n\nold method\n\n"
        "### Unit economics on the demo\n\ndemo text kept\n\n"
        "### Other data shapes\n\nprose kept\n\n"
        "### Unit economics on shape `loyal`\n\nold loyal numbers\n"
    )
    assert [h for h, _ in common.subsections(current)] == [
        "### Unit economics on the demo",
        "### Other data shapes",
        "### Unit economics on shape `loyal`",
    ]
    monkeypatch.setattr(unit_economics, "read_section", lambda heading: current)
    monkeypatch.setattr(
        unit_economics,
        "_shape_tables",
        lambda shape, r: [f"### Unit economics on shape `{shape}`", "", "new loyal numbers"],
    )
    monkeypatch.setattr(unit_economics, "SHAPE_NAMES", ("demo", "loyal"))
    out = unit_economics.render({"loyal": {"memory_limit": "3GB"}})
    assert "demo text kept" in out and "prose kept" in out
    assert "old loyal numbers" not in out  # replaced in its place
    assert out.index("prose kept") < out.index("new loyal numbers")


def test_render_keeps_the_notes_under_the_mark(monkeypatch: Any) -> None:
    """A re-rendered subsection keeps the hand-written notes below its mark."""
    unit_economics = script("unit_economics")
    mark = unit_economics.NOTES_MARK
    current = (
        f"{unit_economics.HEADING}\n\nold method\n\n"
        f"### Unit economics on shape `loyal`\n\nold numbers\n\n{mark}\nwhy it is slow\n"
    )
    monkeypatch.setattr(unit_economics, "read_section", lambda heading: current)
    monkeypatch.setattr(
        unit_economics,
        "_shape_tables",
        lambda shape, r: [f"### Unit economics on shape `{shape}`", "", "new numbers"],
    )
    monkeypatch.setattr(unit_economics, "SHAPE_NAMES", ("loyal",))
    out = unit_economics.render({"loyal": {"memory_limit": "3GB"}})
    assert "old numbers" not in out
    assert out.index("new numbers") < out.index(mark) < out.index("why it is slow")


def test_spark_rows_sit_beside_the_duckdb_median() -> None:
    unit_economics = script("unit_economics")
    timings = {"load": 2.0, "activity": 1.0}
    entry = {
        "sessions": 1_000_000,
        "growthlens": {"timings": timings},
        "spark": {"timings": {"load": 40.0, "activity": 20.0}, "date": "d", "mismatches": []},
    }
    lines = unit_economics._spark_lines({"sizes": {"1m": entry, "10m": {"sessions": 1}}})
    assert lines[-1] == "| 1,000,000 | 2g | 40.0 s | 20.0 s | 60.0 s | 3.0 s | 20× | yes | d |"
    entry["spark"]["driver_memory"] = "8g"
    lines = unit_economics._spark_lines({"sizes": {"1m": entry}})
    assert lines[-1].startswith("| 1,000,000 | 8g | 40.0 s |")
    assert unit_economics._spark_lines({"sizes": {"1m": {"growthlens": {}}}}) == []


def test_a_duckdb_rerun_keeps_the_spark_run_of_its_size() -> None:
    """Re-running a size on DuckDB keeps its Spark run, compared again with the new one."""
    unit_economics = script("unit_economics")
    headline = {**dict.fromkeys(unit_economics._COMPARED, 1.0), "cac": {"ads": 5.0}}
    old = _run("1m", "10m")
    old["sizes"]["10m"]["spark"] = {"timings": {}, "date": "d", "headline": headline}
    old["sizes"]["1m"]["spark"] = {"timings": {}, "date": "d", "mismatches": []}
    new = _run("10m", "1m", repeat=1)  # measured otherwise: nothing else is kept
    new["sizes"]["10m"]["growthlens"] = {"headline": {**headline, "dau": 2.0}}
    out = unit_economics.merged(old, new)
    assert out["sizes"]["10m"]["spark"]["mismatches"] == ["dau"]
    assert out["sizes"]["1m"]["spark"] == {"timings": {}, "date": "d", "mismatches": []}
    new["sizes"]["10m"]["growthlens"] = {"headline": headline}
    assert unit_economics.merged(old, new)["sizes"]["10m"]["spark"]["mismatches"] == []
    assert "spark" not in unit_economics.merged(_run("10m"), _run("10m"))["sizes"]["10m"]
