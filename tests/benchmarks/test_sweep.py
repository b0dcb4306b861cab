"""benchmarks/sweep.py: the steps of one command, the gathered JSON, sizes kept by the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.benchmarks.scripts import script


def test_steps_cover_every_family_smaller_sizes_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sweep = script("sweep")
    monkeypatch.setattr(sweep, "DATA", tmp_path)
    (tmp_path / "unit_economics-loyal.json").write_text('{"memory_limit": "4GB", "repeat": 5}')
    plan = sweep.steps(list(sweep.FAMILIES), ["10m", "1m"], ["demo", "loyal"])
    assert [s.size for s in plan] == ["1m"] * 8 + ["10m"] * 8
    first = {s.argv for s in plan[:8]}
    loyal = ("unit_economics.py", "--shape", "loyal", "--sizes", "1m", "--memory-limit", "4GB")
    assert (*loyal, "--repeat", "5") in first  # measured as the stored runs were
    demo = ("unit_economics.py", "--shape", "demo", "--sizes", "1m", "--memory-limit", "3GB")
    assert (*demo, "--repeat", "3") in first
    report = ("report.py", "--shape", "demo", "--sizes", "1m", "--memory-limit", "3GB", "--repeat")
    assert (*report, "3") in first
    assert next(s.argv[:5] for s in plan if s.argv[:3] == ("report.py", "--shape", "loyal")) == (
        "report.py",
        "--shape",
        "loyal",
        "--sizes",
        "1m",
    )
    assert ("attribution.py", "--sessions", "1000000") in first
    assert ("reconcile.py", "--rows", "200000") in first
    assert ("experiments.py", "--lines", "1000000", "--participants", "100000") in first
    funnel = next(s for s in plan[8:] if s.family == "funnel")
    assert funnel.argv == (
        "funnel_breakdown.py",
        "--sizes",
        "10000000",
        *("--memory-limit", "2.5GB", "--repeat", "3"),
    )
    assert sweep.steps(["attribution"], ["1m"], ["demo"])[0].label == (
        "attribution 1m: python benchmarks/attribution.py --sessions 1000000"
    )


def _outputs() -> dict[str, dict[str, Any]]:
    return {
        "attribution": {
            "memory_limit": "3GB",
            "data": {"sessions": 1_000_000, "orders": 100_000},
            "growthlens": {"load_s": 1.0, "attribution_s": 2.0, "peak_rss_mb": 500.0},
            "pandas": {"read_s": 0.5, "models_s": 5.5, "peak_rss_mb": 400.0},
        },
        "reconcile": {
            "rows": 200_000,
            "growthlens": {"load_s": 1.0, "reconcile_s": 1.0, "peak_rss_mb": 300.0},
            "pandas": {"load_s": 0.2, "reconcile_s": 7.8, "peak_rss_mb": 600.0},
        },
        "experiments": {
            "lines": 1_000_000,
            "participants": 100_000,
            "growthlens": {"load_s": 1, "ab_test_s": 2, "campaign_s": 1, "peak_rss_mb": 700},
        },
    }


def test_summaries_and_the_section() -> None:
    sweep = script("sweep")
    results = {f: {"1m": sweep.summary(f, out)} for f, out in _outputs().items()}
    assert results["attribution"]["1m"]["growthlens_s"] == 3.0
    assert results["attribution"]["1m"]["pandas_s"] == 6.0
    assert results["reconcile"]["1m"]["rows"] == "2 × 200,000 orders"
    assert results["experiments"]["1m"]["pandas_s"] is None
    text = sweep.render(results)
    attribution = "| attribution | 1m | 1,000,000 sessions, 100,000 orders | 3.0 s | 3GB | 500 MB "
    assert attribution in text
    assert "| 6.0 s | 400 MB | 2.0× |" in text
    # A run that did not say its limit ran at DuckDB's default, and says so.
    reconcile = (
        "| 2 × 200,000 orders | 2.0 s | default (80% of RAM) | 300 MB | 8.0 s | 600 MB | 4.0× |"
    )
    assert reconcile in text
    experiments = "| experiments | 1m | 1,000,000 lines, 100,000 participants | 4.0 s | default"
    assert experiments in text
    assert "| not run |" in text


def test_a_failed_step_does_not_stop_the_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    sweep = script("sweep")
    ran: list[str] = []

    def fake(step: Any) -> tuple[bool, dict[str, Any] | None, float]:
        ran.append(step.argv[0])
        return step.argv[0] != "report.py", None, 0.0

    monkeypatch.setattr(sweep, "_run", fake)
    argv = ["sweep.py", "--sizes", "1m", "--only", "report", "funnel", "--shapes", "loyal"]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as stopped:
        sweep.main()
    assert stopped.value.code == 1
    assert ran == ["report.py", "funnel_breakdown.py", "curves.py"]


def test_runs_of_other_sizes_are_kept_when_measured_alike() -> None:
    kept_runs = script("common").kept_runs
    alike = ("memory_limit", "repeat")
    old = {"memory_limit": "3GB", "repeat": 3, "sizes": {"1m": "a", "10m": "b"}}
    new = {"memory_limit": "3GB", "repeat": 3, "sizes": {"1m": "c"}}
    assert kept_runs(old, new, "sizes", alike)["sizes"] == {"1m": "c", "10m": "b"}
    assert kept_runs(old, {**new, "repeat": 1}, "sizes", alike)["sizes"] == {"1m": "c"}
    rows_old = {"memory_limit": "2.5GB", "repeat": 3, "rows": [{"size": 10, "x": 1}]}
    rows_new = {"memory_limit": "2.5GB", "repeat": 3, "rows": [{"size": 50, "x": 2}]}
    got = kept_runs(rows_old, rows_new, "rows", alike)["rows"]
    assert got == [{"size": 10, "x": 1}, {"size": 50, "x": 2}]
    rows_new["rows"] = [{"size": 10, "x": 3}]
    assert kept_runs(rows_old, rows_new, "rows", alike)["rows"] == [{"size": 10, "x": 3}]


def test_store_keeps_the_results_it_replaces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    common = script("common")
    monkeypatch.setattr(common, "DATA", tmp_path)
    path = tmp_path / "report.json"
    common.store(path, {"sizes": {"10m": 1}})
    assert not (tmp_path / "previous").exists()
    common.store(path, {"sizes": {"1m": 2}})
    kept = list((tmp_path / "previous").glob("report-*.json"))
    assert len(kept) == 1 and '"10m": 1' in kept[0].read_text()
    assert '"1m": 2' in path.read_text()
