"""Benchmark: the whole unit-economics set at 1M, 10M and 50M sessions vs plain pandas.

For each size the demo is generated once as Parquet into benchmarks/data/ue-<size>/
(gitignored). Then, each in a fresh process:

- growthlens: ``gl.load`` of the Parquet files (lazy; the load's quality checks run)
  followed by ``activity``, ``retention``, ``conversion_lag``, ``ltv``, ``cac`` and
  ``romi`` (by source). DuckDB gets ``memory_limit`` (default 3GB) so it spills rather
  than grows; peak RSS is the whole process's, DuckDB included. It runs ``--repeat``
  times (default 5): the median run is reported, with the range and the highest peak
  RSS of all runs, because one run on a shared 2-core machine varies by ±1.5 s.
- pandas: benchmarks/pandas_baseline.py, the same definitions in vectorised pandas.

Headline numbers of both are compared (DAU/WAU/MAU, sticky, sessions per user per day,
session length mean/median/mode, 0-day conversion share, CAC per source); the run fails
if they disagree. Results go to docs/benchmarks.md under "## Unit economics".

    python benchmarks/unit_economics.py                    # 1M, 10M, 50M
    python benchmarks/unit_economics.py --sizes 1m --no-docs
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, child, machine, write_section

HEADING = "## Unit economics (activity, retention, conversion lag, LTV, CAC, ROMI)"
# The demo averages 1.698 sessions per user (see benchmarks/load.py).
USERS = {"1m": 589_000, "10m": 5_890_000, "50m": 29_450_000}
SEED = 0

_GENERATE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from growthlens.demo import write_demo
    t0 = time.perf_counter()
    write_demo(Path(sys.argv[1]), users=int(sys.argv[2]), seed=int(sys.argv[3]), format="parquet")
    print(json.dumps({"wall_s": time.perf_counter() - t0}))
    """
)

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    import growthlens as gl
    from growthlens.engine import connect
    folder, memory_limit = Path(sys.argv[1]), sys.argv[2]
    timings = {}
    t = time.perf_counter()
    con = connect("duckdb", memory_limit=memory_limit)
    ds = gl.load(sessions=folder / "visits.parquet", orders=folder / "orders.parquet",
                 costs=folder / "costs.parquet", backend=con)
    timings["load"] = time.perf_counter() - t
    results = {}
    for name, call in [
        ("activity", lambda: gl.activity(ds)),
        ("retention", lambda: gl.retention(ds, period="month")),
        ("conversion_lag", lambda: gl.conversion_lag(ds)),
        ("ltv", lambda: gl.ltv(ds, period="month")),
        ("cac", lambda: gl.cac(ds, period="month", by="source")),
        ("romi", lambda: gl.romi(ds, period="month", by="source", horizon=6)),
    ]:
        t = time.perf_counter()
        results[name] = call()
        timings[name] = time.perf_counter() - t
    a = results["activity"].summary.values_dict()
    cac = results["cac"].table
    headline = {k: a[k] for k in ("dau", "wau", "mau", "sticky_wau", "sticky_mau",
                "sessions_per_user_per_day", "session_length_mean_s", "session_length_median_s",
                "session_length_mode_s")}
    headline["lag_share_0d"] = results["conversion_lag"].summary["share_0d"].value
    headline["cac"] = {str(s): float(v) for s, v in zip(cac["source"], cac["cac"])}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sessions = ds.quality.table_counts("sessions").loaded
    print(json.dumps({"timings": timings, "peak_rss_mb": rss, "headline": headline,
                      "sessions": sessions}))
    """
)

_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import pandas_baseline
    t = time.perf_counter()
    out = pandas_baseline.run(Path(sys.argv[1]))
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_rss_mb": rss, "headline": out}, default=float))
    """
)

_COMPARED = (
    "dau",
    "wau",
    "mau",
    "sticky_wau",
    "sticky_mau",
    "sessions_per_user_per_day",
    "session_length_mean_s",
    "session_length_median_s",
    "session_length_mode_s",
    "lag_share_0d",
)


def _close(a: float, b: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Names of headline numbers where growthlens and pandas disagree."""
    bad = [k for k in _COMPARED if not _close(ours[k], theirs[k])]
    for source, value in theirs["cac"].items():
        mine = ours["cac"].get(source, float("nan"))
        if not (math.isnan(value) and math.isnan(mine)) and not _close(mine, value):
            bad.append(f"cac[{source}]")
    return bad


def _total(run: dict[str, Any]) -> float:
    return float(sum(run["timings"].values()))


def run(sizes: list[str], memory_limit: str, pandas: bool, repeat: int) -> dict[str, Any]:
    here = str(Path(__file__).resolve().parent)
    out: dict[str, Any] = {"memory_limit": memory_limit, "repeat": repeat, "sizes": {}}
    for size in sizes:
        folder = DATA / f"ue-{size}"
        if not (folder / "visits.parquet").exists():
            child(_GENERATE, str(folder), str(USERS[size]), str(SEED))
        runs = [child(_GROWTHLENS, str(folder), memory_limit) for _ in range(repeat)]
        ours = sorted(runs, key=_total)[len(runs) // 2]
        entry: dict[str, Any] = {
            "growthlens": ours,
            "growthlens_totals": [_total(r) for r in runs],
            "growthlens_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "sessions": ours["sessions"],
        }
        if pandas:
            theirs = child(_PANDAS, str(folder), here)
            entry["pandas"] = theirs
            entry["mismatches"] = compare(ours["headline"], theirs["headline"])
        out["sizes"][size] = entry
        print(json.dumps({size: entry}, default=str), flush=True)
    return out


def render(results: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} with `python benchmarks/unit_economics.py` on: "
        f"{machine()}.",
        "",
        'Data: the demo (`write_demo(users=…, seed=0, format="parquet")`), already in Parquet. '
        "growthlens = `gl.load` (lazy Parquet views + the load's quality checks) and then "
        "`activity`, `retention` (month), `conversion_lag`, `ltv` (month), `cac` and `romi` "
        f"(by source, horizon 6), DuckDB `memory_limit={results['memory_limit']}`. pandas = "
        "benchmarks/pandas_baseline.py, the same definitions, vectorised. Each runs in a fresh "
        "process; peak RSS is the whole process's. The headline numbers of both are compared "
        "to 1e-9 (DAU/WAU/MAU, sticky, sessions per user per day, session length "
        "mean/median/mode, 0-day conversion share, CAC per source).",
        "",
        f"growthlens ran {results['repeat']} times per size: its columns show the median run "
        "(by total), the range of the totals and the highest peak RSS; pandas ran once.",
        "",
        "| sessions | growthlens load | growthlens metrics | growthlens total | total range "
        "| peak RSS | pandas total | pandas peak RSS | speed-up (total) | headline numbers agree |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["sizes"].values():
        g = entry["growthlens"]
        load = g["timings"]["load"]
        metrics = sum(v for k, v in g["timings"].items() if k != "load")
        total = load + metrics
        totals = entry["growthlens_totals"]
        p = entry.get("pandas")
        pandas_total = f"{p['wall_s']:.1f} s" if p else "not run"
        pandas_rss = f"{p['peak_rss_mb']:,.0f} MB" if p else "—"
        speed = f"{p['wall_s'] / total:.1f}×" if p else "—"
        agree = ("yes" if not entry["mismatches"] else ", ".join(entry["mismatches"])) if p else "—"
        lines.append(
            f"| {entry['sessions']:,} | {load:.1f} s | {metrics:.1f} s | {total:.1f} s "
            f"| {min(totals):.1f}–{max(totals):.1f} s "
            f"| {entry['growthlens_peak_rss_mb']:,.0f} MB | {pandas_total} | {pandas_rss} "
            f"| {speed} | {agree} |"
        )
    lines += ["", "Per analysis (growthlens, median run, seconds):", ""]
    names = ["load", "activity", "retention", "conversion_lag", "ltv", "cac", "romi"]
    lines.append("| sessions | " + " | ".join(names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")
    for entry in results["sizes"].values():
        t = entry["growthlens"]["timings"]
        lines.append(
            f"| {entry['sessions']:,} | " + " | ".join(f"{t[n]:.2f}" for n in names) + " |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1m", "10m", "50m"], choices=list(USERS))
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="growthlens runs per size")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    results = run(args.sizes, args.memory_limit, not args.no_pandas, max(1, args.repeat))
    (DATA / "unit_economics.json").write_text(json.dumps(results, indent=1, default=str))
    if not args.no_docs:
        write_section(HEADING, render(results))


if __name__ == "__main__":
    main()
