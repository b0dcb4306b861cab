"""The JSON export: DESIGN §6 shape, every table of every section, numbers equal to the Results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from growthlens.report.build import sections
from growthlens.result import SCHEMA_VERSION


def strict_load(path: Path) -> dict:
    def no_constants(name: str) -> None:
        raise AssertionError(f"JSON contains {name}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)


def assert_records_equal(records: list[dict], frame: pd.DataFrame) -> None:
    assert len(records) == len(frame)
    assert (list(records[0]) if records else list(map(str, frame.columns))) == list(
        map(str, frame.columns)
    )
    for column in frame.columns:
        got = [r[str(column)] for r in records]
        want = frame[column]
        if pd.api.types.is_numeric_dtype(want) and not pd.api.types.is_bool_dtype(want):
            expected = want.astype("float64").to_numpy()
            actual = np.array([math.nan if v is None else float(v) for v in got])
            np.testing.assert_allclose(actual, expected, rtol=1e-12, equal_nan=True)
        else:
            for g, w in zip(got, want, strict=True):
                if w is None or (not isinstance(w, str) and pd.isna(w)):
                    assert g is None
                elif hasattr(w, "isoformat"):
                    assert g == w.isoformat()
                else:
                    assert g == w


@pytest.mark.parametrize("fixture", ["tiny", "hostile"])
def test_json_has_every_table_of_every_section(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ds: Dataset = request.getfixturevalue(fixture)
    path = gl.report(ds, tmp_path / "r.json", format="json")
    data = strict_load(path)
    assert data["schema"] == SCHEMA_VERSION
    assert set(data) >= {"sections", "groups", "quality", "dataset", "title", "generated_at"}
    built = sections(ds)
    assert [g["id"] for g in data["groups"]] == [s.id for s in built]
    results = [(s.id, r) for s in built for r in s.results]
    assert list(data["sections"]) == [r.name for _, r in results]
    for group, result in results:
        exported = data["sections"][result.name]
        assert exported["group"] == group
        assert set(exported) >= {"status", "params", "summary", "tables", "findings"}
        assert exported["status"] == result.status
        frames = {"main": result.table, **result.tables}
        assert set(exported["tables"]) == set(frames)
        for key, frame in frames.items():
            assert_records_equal(exported["tables"][key], frame)
        assert list(exported["summary"]) == list(result.summary)
        for key, entry in result.summary.items():
            got = exported["summary"][key]
            assert (got["unit"], got["label"]) == (entry.unit, entry.label)
            value = entry.value
            if isinstance(value, float) and not math.isfinite(value):
                assert got["value"] is None
            elif isinstance(value, float):
                # The export and this check run the analyses apart; a parallel engine's
                # float sums may differ in the last bit between runs, as the tables may.
                assert math.isclose(got["value"], value, rel_tol=1e-12), (result.name, key)
            else:
                assert got["value"] == value, (result.name, key)
        assert [f["text"] for f in exported["findings"]] == list(result.sentences)
        assert [f["code"] for f in exported["findings"]] == [f.code for f in result.findings]
    for group in data["groups"]:
        assert all(data["sections"][name]["group"] == group["id"] for name in group["results"])


def test_json_quality_block_matches_gl_quality(tiny: Dataset, tmp_path: Path) -> None:
    data = strict_load(gl.report(tiny, tmp_path / "r.json", format="json"))
    quality = gl.quality(tiny)
    assert data["quality"]["summary"]["findings"]["value"] == quality.summary["findings"].value
    assert [f["text"] for f in data["quality"]["findings"]] == list(quality.sentences)
    assert_records_equal(data["quality"]["tables"]["main"], quality.table)
    assert data["dataset"]["window"] == ["2020-01-01", "2020-01-05"]
    assert data["dataset"]["tables"] == {"sessions": 4, "orders": 1}


def test_unknown_format_is_a_config_error(tiny: Dataset, tmp_path: Path) -> None:
    with pytest.raises(gl.ConfigError, match="format"):
        gl.report(tiny, tmp_path / "r.pdf", format="pdf")  # type: ignore[arg-type]
