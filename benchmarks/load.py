"""Benchmark: load the demo dataset at about 10M sessions from Parquet and from CSV.

Generates the demo once into benchmarks/data/demo-10m/ (gitignored), as Parquet and as
CSV, then times ``gl.load`` of each in a fresh subprocess (wall time and peak RSS of
that process, DuckDB included, via ``resource.getrusage``). The generation itself is
timed the same way. Results go to docs/benchmarks.md under
"## Loading (demo, 10M sessions)" and to stdout as JSON.

    python benchmarks/load.py                 # ~10M sessions (5.89M users)
    python benchmarks/load.py --users 300000  # a quick run (does not touch the docs)
"""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, child, machine, write_section

HEADING = "## Loading (demo, 10M sessions)"
# The demo model averages 1.698 sessions per user (1.70M sessions from 1M users, seed 0).
USERS_10M = 5_890_000
SEED = 0

_GENERATE = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from growthlens.demo import write_demo
    out, users, seed, fmt = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    t0 = time.perf_counter()
    files = write_demo(out, users=users, seed=seed, format=fmt)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = {k: p.stat().st_size for k, p in files.items()}
    print(json.dumps({"wall_s": wall, "peak_rss_mb": rss, "bytes": sizes}))
    """
)

_LOAD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    import growthlens as gl
    t1 = time.perf_counter()
    folder, fmt = Path(sys.argv[1]), sys.argv[2]
    ds = gl.load(
        sessions=folder / f"visits.{fmt}",
        orders=folder / f"orders.{fmt}",
        costs=folder / f"costs.{fmt}",
    )
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = {c.table: {"loaded": c.loaded, "accepted": c.accepted} for c in ds.quality.counts}
    out = {"import_s": t1 - t0, "load_s": t2 - t1, "peak_rss_mb": rss, "counts": counts}
    print(json.dumps(out))
    """
)


def generate(folder: Path, users: int, fmt: str) -> dict[str, Any]:
    """Generate once; a later run reuses the files and reports the recorded generation."""
    record = folder / "generation.json"
    truth_path = folder / "truth.json"
    if record.exists() and truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth["users"] == users and truth["seed"] == SEED:
            reused: dict[str, Any] = json.loads(record.read_text())
            return reused
    measured = child(_GENERATE, str(folder), str(users), str(SEED), fmt)
    record.write_text(json.dumps(measured))
    return measured


def run(users: int, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"users": users, "seed": SEED, "formats": {}}
    for fmt in ("parquet", "csv"):
        folder = DATA / f"demo-{users}-{fmt}"
        folder.mkdir(parents=True, exist_ok=True)
        gen = generate(folder, users, fmt)
        truth = json.loads((folder / "truth.json").read_text())
        loads = [child(_LOAD, str(folder), fmt) for _ in range(repeat)]
        for measured in loads:
            counts = measured["counts"]
            # The benchmark is only meaningful if the load saw every generated row.
            assert counts["sessions"]["loaded"] == truth["totals"]["sessions"], counts
            assert counts["orders"]["loaded"] == truth["totals"]["orders"], counts
        results["formats"][fmt] = {"generate": gen, "load": loads}
        results["sessions"] = truth["totals"]["sessions"]
        results["orders"] = truth["totals"]["orders"]
        results["cost_rows"] = truth["totals"]["cost_rows"]
    return results


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def render(results: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} with `python benchmarks/load.py` on: {machine()}.",
        "",
        f"Data: `write_demo(users={results['users']:,}, seed={results['seed']})` — "
        f"{results['sessions']:,} sessions, {results['orders']:,} orders, "
        f"{results['cost_rows']:,} cost rows. Each `gl.load` runs in a fresh Python process "
        "(wall time of the call, import excluded; peak RSS of the whole process, DuckDB included). "
        "CSV sources are materialised in DuckDB by default; Parquet stays lazy.",
        "",
        "| format | files | generate (wall) | generate (peak RSS) "
        "| `gl.load` (wall) | `gl.load` (peak RSS) |",
        "|---|---|---|---|---|---|",
    ]
    for fmt, entry in results["formats"].items():
        gen = entry["generate"]
        loads = entry["load"]
        best = min(loads, key=lambda m: m["load_s"])
        size = sum(v for k, v in gen.get("bytes", {}).items() if k != "truth")
        gen_wall = f"{gen['wall_s']:.1f} s"
        gen_rss = _mb(gen["peak_rss_mb"])
        size_text = f"{size / 1024**2:,.0f} MB"
        runs = f" (best of {len(loads)})" if len(loads) > 1 else ""
        lines.append(
            f"| {fmt} | {size_text} | {gen_wall} | {gen_rss} | {best['load_s']:.1f} s{runs} | "
            f"{_mb(best['peak_rss_mb'])} |"
        )
    lines += [
        "",
        "The generator writes users in blocks of 10,000 (one child seed each) and appends them "
        "to the files in chunks of 200,000 users, so its memory stays bounded at any size.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS_10M)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    results = run(args.users, args.repeat)
    print(json.dumps(results, indent=2))
    if args.users == USERS_10M and not args.no_docs:
        write_section(HEADING, render(results))


if __name__ == "__main__":
    main()
