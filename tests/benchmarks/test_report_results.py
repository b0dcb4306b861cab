"""benchmarks/report.py renders the stored runs: wall times, CPU seconds and the bound."""

from __future__ import annotations

from typing import Any

from tests.benchmarks.scripts import script


def _entry(sessions: int, wall: dict[str, float], cpu: dict[str, float] | None) -> dict[str, Any]:
    run: dict[str, Any] = {"timings": wall, "peak_rss_mb": 100.0, "bytes": 2e6}
    run |= {"sessions": sessions, "results": 3}
    if cpu is not None:
        run["cpu"] = cpu
    return {"run": run, "totals": [sum(wall.values())], "peak_rss_mb": 100.0}


def test_cpu_table_and_the_bound_it_sets() -> None:
    report = script("report")
    wall = {"load": 5.0, "product": 20.0, "customers": 15.0, "write": 2.0}  # 42 s
    cpu = {"load": 8.0, "product": 36.0, "customers": 18.0, "write": 2.0}  # 64 CPU-s
    results = {
        "memory_limit": "3GB",
        "repeat": 1,
        "cores": 2,
        "sizes": {"10m": _entry(10_000_000, wall, cpu)},
    }
    # A larger size beside it does not move the target, which is set at 10M.
    larger = {k: 5 * v for k, v in wall.items()}
    results["sizes"]["50m"] = _entry(50_000_000, larger, {k: 5 * v for k, v in cpu.items()})
    text = report.render(results)
    assert "| 50,000,000 | 40.0 | 180.0 | 90.0 | 10.0 | 320.0 |" in text
    assert "| 10,000,000 | 8.0 | 36.0 | 18.0 | 2.0 | 64.0 | 76% |" in text
    assert "at 10,000,000 sessions 42.0 s — not met." in text
    assert "used 64 CPU-seconds" in text and "less than 32 s" in text
    assert "shrink to 60 CPU-seconds" in text
    # The target's own groups (load, product) apart from those added since (customers).
    assert "when the target was set" in text and "take 25.0 s of it" in text
    assert "added since (customers 15.0 s) and writing the HTML (2.0 s)" in text


def test_runs_without_cpu_render_as_before() -> None:
    report = script("report")
    wall = {"load": 5.0, "product": 10.0, "write": 2.0}
    results = {"memory_limit": "3GB", "repeat": 1, "sizes": {"10m": _entry(10_000_000, wall, None)}}
    text = report.render(results)
    assert "CPU seconds" not in text and "CPU-seconds" not in text
    assert "at 10,000,000 sessions 17.0 s — met." in text
    assert "when the target was set" not in text  # no group added since


def test_other_shapes_get_a_subsection_each() -> None:
    report = script("report")
    demo = {"memory_limit": "3GB", "repeat": 3, "cores": 2, "date": "2026-12-04"}
    demo["sizes"] = {"10m": _entry(10_000_000, {"load": 5.0, "product": 10.0, "write": 2.0}, None)}
    wall = {"load": 9.0, "product": 30.0, "write": 2.0}
    loyal = {"shape": "loyal", "memory_limit": "3GB", "repeat": 3, "date": "2026-12-05"}
    loyal["sizes"] = {"10m": _entry(10_013_122, wall, None)}
    text = report.render(demo, {"loyal": loyal})
    head, shaped = text.split("### The report on shape `loyal`")
    assert "Measured 2026-12-04" in head and "at 10,000,000 sessions 17.0 s — met." in head
    assert "Measured 2026-12-05" in shaped and "--shape loyal" in shaped
    assert "| 10,013,122 | 3 | 9.0 s | 30.0 s | 2.0 s | 41.0 s |" in shaped
    assert "at 10,013,122 sessions 41.0 s — not met." in shaped
    # The demo's notes are said once, under the demo.
    assert report.NOTES in head and report.NOTES not in shaped


def test_a_size_kept_from_an_older_run_says_its_day() -> None:
    report = script("report")
    wall = {"load": 5.0, "product": 10.0, "write": 2.0}
    results = {"memory_limit": "3GB", "repeat": 3, "date": "2026-12-05"}
    results["sizes"] = {
        "10m": _entry(10_000_000, wall, None) | {"date": "2026-12-05"},
        "50m": _entry(50_000_000, wall, None) | {"date": "2026-12-04"},
    }
    assert "Measured 2026-12-05 (50M sessions: 2026-12-04) with" in report.render(results)
