"""Helpers shared by the benchmarks: child processes, machine line, docs sections."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SIZES = {"1m": 1_000_000, "10m": 10_000_000, "50m": 50_000_000}
"""Sessions of each benchmark size (the sweep's sizes; other row counts scale from them)."""
DOCS = ROOT / "docs" / "benchmarks.md"


def child(code: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    import duckdb
    import ibis

    return (
        f"2 cores, 24 GB RAM (shared with other jobs while measured); {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Ibis {ibis.__version__}"
    )


def _bounds(lines: list[str], heading: str) -> tuple[int, int] | None:
    """The section's first line and the line after its last, if the section is there."""
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        return None
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, stop


def read_section(heading: str) -> str:
    """The current text of a section of docs/benchmarks.md ("" when it has none)."""
    if not DOCS.exists():
        return ""
    lines = DOCS.read_text().splitlines(keepends=True)
    bounds = _bounds(lines, heading)
    return "".join(lines[bounds[0] : bounds[1]]) if bounds else ""


def subsections(text: str) -> list[tuple[str, str]]:
    """A section's ``### `` subsections in order: (heading line, its whole text)."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("### "):
            out.append((line.rstrip(), line))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line)
    return out


def write_section(heading: str, text: str) -> None:
    """Replace (or append) this benchmark's section, leaving the rest of the file alone."""
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    bounds = _bounds(lines, heading)
    if bounds is None:
        body = current.rstrip("\n") + "\n\n" + text
    else:
        start, stop = bounds
        body = (
            "".join(lines[:start])
            + text
            + ("\n" if stop < len(lines) else "")
            + "".join(lines[stop:])
        )
    DOCS.write_text(body.rstrip("\n") + "\n")


def kept_runs(
    old: dict[str, Any], new: dict[str, Any], field: str, alike: tuple[str, ...]
) -> dict[str, Any]:
    """``new`` with the sizes of ``old`` it did not run, when both ran alike.

    ``field`` holds the sizes: a mapping by size name, or a list of entries with a
    ``size``; ``alike`` names the settings that must match (memory limit, repeats), else
    the old sizes are dropped rather than shown beside numbers measured another way. A
    sweep of one size then leaves the stored others in the docs.
    """
    if any(old.get(k) != new.get(k) for k in alike) or field not in old:
        return new
    if isinstance(new[field], dict):
        names = [*new[field], *(s for s in old[field] if s not in new[field])]
        merged = {**old[field], **new[field]}
        ordered = sorted(names, key=lambda s: int(s.rstrip("m")))
        return {**new, field: {s: merged[s] for s in ordered}}
    ran = {e["size"] for e in new[field]}
    rows = [*new[field], *(e for e in old[field] if e["size"] not in ran)]
    return {**new, field: sorted(rows, key=lambda e: e["size"])}


def store(path: Path, results: dict[str, Any]) -> None:
    """Write a benchmark's results, keeping the file it replaces in ``data/previous/``.

    The results are not in git and a run measured otherwise replaces the stored sizes
    (:func:`kept_runs`), so the previous file is kept, stamped with the time it was
    replaced, to be restored by hand if a run was a mistake.
    """
    if path.exists():
        import shutil
        import time

        previous = DATA / "previous"
        previous.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, previous / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))
