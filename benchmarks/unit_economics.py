"""Benchmark: the whole unit-economics set at 1M, 10M and 50M sessions vs plain pandas.

For each size the data is generated once as Parquet (gitignored): the demo into
benchmarks/data/ue-<size>/, or, with ``--shape loyal|oneshot``, a shape of
benchmarks/shapes.py (drawn independently of the demo) into benchmarks/data/ue-<shape>-<size>/.
Then, each in a fresh process:

- growthlens: ``gl.load`` of the Parquet files (lazy; the load's quality checks run)
  followed by ``activity``, ``retention``, ``conversion_lag``, ``ltv``, ``cac`` and
  ``romi`` (by source). DuckDB gets ``memory_limit`` (default 3GB) so it spills rather
  than grows; peak RSS is the whole process's, DuckDB included. It runs ``--repeat``
  times (default 5): the median run is reported, with the range and the highest peak
  RSS of all runs, because one run on a shared 2-core machine varies by ±1.5 s.
- the floor: one exact per-user group-by over the same sessions in plain DuckDB (count,
  first and last start per user, materialised in a temporary table; same memory limit),
  as many runs, median reported: what one pass that hashes every user costs here.
- pandas: benchmarks/pandas_baseline.py, the same definitions in vectorised pandas.

Headline numbers of both are compared (DAU/WAU/MAU, sticky, sessions per user per day,
session length mean/median/mode, 0-day conversion share, CAC per source); the run fails
if they disagree. Results are kept per shape in benchmarks/data/unit_economics-<shape>.json
(a run of some sizes keeps the stored other sizes when both ran alike) and go to
docs/benchmarks.md under "## Unit economics", one table per shape (demo first), so a run for
one shape leaves the others' tables in place.

    python benchmarks/unit_economics.py                    # demo: 1M, 10M, 50M
    python benchmarks/unit_economics.py --shape oneshot --sizes 1m --no-docs --repeat 1
    python benchmarks/unit_economics.py --docs-only        # re-render from the stored results
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import (
    DATA,
    SIZES,
    child,
    kept_runs,
    machine,
    read_section,
    store,
    subsections,
    write_section,
)
from shapes import SHAPES

HERE = str(Path(__file__).resolve().parent)

HEADING = "## Unit economics (activity, retention, conversion lag, LTV, CAC, ROMI)"
# The demo averages 1.698 sessions per user (see benchmarks/load.py).
USERS = {"1m": 589_000, "10m": 5_890_000, "50m": 29_450_000}
SEED = 0
SHAPE_NAMES = ("demo", *SHAPES)

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

_GENERATE_SHAPE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    import shapes
    facts = shapes.write(shapes.SHAPES[sys.argv[2]], int(sys.argv[3]), Path(sys.argv[1]))
    print(json.dumps(facts))
    """
)

# The floor: one exact hash aggregation by user over the sessions, nothing else. The
# result is materialised so DuckDB cannot skip the work; the temp dir lets it spill.
_FLOOR = textwrap.dedent(
    """
    import json, resource, shutil, sys, tempfile, time
    import duckdb
    path, memory_limit = sys.argv[1], sys.argv[2]
    spill = tempfile.mkdtemp(prefix="floor-duckdb-")
    try:
        con = duckdb.connect(config={"temp_directory": spill, "memory_limit": memory_limit})
        quoted = path.replace("'", "''")
        t = time.perf_counter()
        con.execute(
            'CREATE TEMP TABLE per_user AS SELECT "Uid", count(*) AS sessions, '
            'min("Start Ts") AS first_start, max("Start Ts") AS last_start '
            f"FROM read_parquet('{quoted}') " 'GROUP BY "Uid"'
        )
        wall = time.perf_counter() - t
        users = con.execute("SELECT count(*) FROM per_user").fetchone()[0]
        con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "users": users, "peak_rss_mb": rss}))
    """
)

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    import growthlens as gl
    from growthlens.engine import connect
    folder, memory_limit = Path(sys.argv[1]), sys.argv[2]
    engine = sys.argv[3] if len(sys.argv) > 3 else "duckdb"
    timings = {}
    t = time.perf_counter()
    # pyspark: growthlens's own local[2] session (the JVM is a child process: its memory is
    # not in this process's peak RSS).
    if engine == "pyspark":
        from growthlens.engine import SparkOptions
        con = connect(SparkOptions(driver_memory=sys.argv[4]))
    else:
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
    counts = {c.table: {"loaded": c.loaded, "accepted": c.accepted} for c in ds.quality.counts}
    print(json.dumps({"timings": timings, "peak_rss_mb": rss, "headline": headline,
                      "sessions": sessions, "counts": counts}))
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


def folder_for(shape: str, size: str) -> Path:
    """Where a shape's data lives: the demo keeps its original ue-<size> folders."""
    return DATA / (f"ue-{size}" if shape == "demo" else f"ue-{shape}-{size}")


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the sizes of ``old`` it did not run, when both ran alike.

    Alike (:func:`common.kept_runs`): the same memory limit, repeat count and machine
    line, and here also pandas run or not; otherwise the old sizes are dropped rather
    than shown beside numbers measured another way.
    """
    new = _with_old_spark(old, new)
    if not new.get("sizes"):
        return new
    with_pandas = "pandas" in next(iter(new["sizes"].values()))
    if any(("pandas" in e) != with_pandas for e in old.get("sizes", {}).values()):
        return new
    return kept_runs(old, new, "sizes", ("memory_limit", "repeat", "machine"))


def _with_old_spark(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the Spark runs stored for the sizes it ran again on DuckDB.

    A Spark run takes minutes to an hour and measures Spark, not this DuckDB run, so a
    DuckDB re-run keeps it (dated, as every Spark row is); its headline numbers are
    compared again with the new DuckDB run's where the Spark run stored them.
    """
    sizes = dict(new.get("sizes", {}))
    for size, entry in sizes.items():
        spark = old.get("sizes", {}).get(size, {}).get("spark")
        if spark is None or "spark" in entry:
            continue
        if "headline" in spark:
            mine = entry["growthlens"]["headline"]
            spark = {**spark, "mismatches": compare(spark["headline"], mine)}
        sizes[size] = {**entry, "spark": spark}
    return {**new, "sizes": sizes}


def results_path(shape: str) -> Path:
    """The stored results of one shape (each shape's runs replace only its own file)."""
    return DATA / f"unit_economics-{shape}.json"


def generate(shape: str, size: str, folder: Path) -> dict[str, Any] | None:
    """Write ``shape``'s data at ``size`` into ``folder`` unless there; its facts (None: demo)."""
    if shape == "demo":
        if not (folder / "visits.parquet").exists():
            child(_GENERATE, str(folder), str(USERS[size]), str(SEED))
        return None
    # shapes.write reuses the files when their facts match, and returns the facts either way.
    return child(_GENERATE_SHAPE, str(folder), shape, str(SIZES[size]), HERE)


def run(
    shape: str, sizes: list[str], memory_limit: str, pandas: bool, repeat: int
) -> dict[str, Any]:
    """Time growthlens, the floor and (optionally) pandas on each size of ``shape``."""
    out: dict[str, Any] = {
        "shape": shape,
        "date": date.today().isoformat(),
        "machine": machine(),
        "memory_limit": memory_limit,
        "repeat": repeat,
        "sizes": {},
    }
    for size in sizes:
        folder = folder_for(shape, size)
        facts = generate(shape, size, folder)
        runs = [child(_GROWTHLENS, str(folder), memory_limit) for _ in range(repeat)]
        ours = sorted(runs, key=_total)[len(runs) // 2]
        floors = [
            child(_FLOOR, str(folder / "visits.parquet"), memory_limit) for _ in range(repeat)
        ]
        entry: dict[str, Any] = {
            "growthlens": ours,
            "growthlens_totals": [_total(r) for r in runs],
            "growthlens_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "sessions": ours["sessions"],
            # The same median rule as growthlens' (the upper middle run when repeat is even).
            "floor_s": sorted(f["wall_s"] for f in floors)[len(floors) // 2],
            "floor_runs": [f["wall_s"] for f in floors],
            "floor_peak_rss_mb": max(f["peak_rss_mb"] for f in floors),
        }
        if facts is not None:
            entry["facts"] = facts
        if pandas:
            theirs = child(_PANDAS, str(folder), HERE)
            entry["pandas"] = theirs
            entry["mismatches"] = compare(ours["headline"], theirs["headline"])
        out["sizes"][size] = entry
        print(json.dumps({shape: {size: entry}}, default=str), flush=True)
    return out


def run_spark(
    shape: str, sizes: list[str], stored_results: dict[str, Any], driver_memory: str = "2g"
) -> dict[str, Any]:
    """Add one PySpark local[2] run per size to the stored DuckDB results of ``shape``.

    The same growthlens step on growthlens's own local Spark session (``driver_memory``: the
    JVM's memory, which in local mode is all of Spark's); its headline numbers are compared
    with the DuckDB run's as pandas' are (1e-9).
    """
    for size in sizes:
        entry = stored_results["sizes"].get(size)
        if entry is None:
            raise SystemExit(f"{shape} {size}: run DuckDB first (no stored results to sit beside)")
        folder = str(folder_for(shape, size))
        spark = child(_GROWTHLENS, folder, "", "pyspark", driver_memory)
        entry["spark"] = {
            "driver_memory": driver_memory,
            "timings": spark["timings"],
            "headline": spark["headline"],
            "date": date.today().isoformat(),
            "mismatches": compare(spark["headline"], entry["growthlens"]["headline"]),
        }
        print(json.dumps({shape: {size: entry["spark"]}}), flush=True)
    return stored_results


def _spark_lines(results: dict[str, Any]) -> list[str]:
    rows = [e for e in results["sizes"].values() if "spark" in e]
    if not rows:
        return []
    lines = [
        "",
        "The same growthlens step on PySpark `local[2]` (growthlens's own local session, "
        "same 2 cores; one run per size; the JVM's memory is not in a peak RSS here), its "
        "headline numbers compared with DuckDB's to 1e-9:",
        "",
        "| sessions | driver memory | Spark load | Spark metrics | Spark total "
        "| DuckDB total (median) | Spark ÷ DuckDB | headline numbers agree | measured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in rows:
        sp = entry["spark"]
        load = sp["timings"]["load"]
        metrics = sum(v for k, v in sp["timings"].items() if k != "load")
        duck = _total(entry["growthlens"])
        agree = "yes" if not sp["mismatches"] else ", ".join(sp["mismatches"])
        lines.append(
            f"| {entry['sessions']:,} | {sp.get('driver_memory', '2g')} | {load:.1f} s "
            f"| {metrics:.1f} s | {load + metrics:.1f} s "
            f"| {duck:.1f} s | {(load + metrics) / duck:.0f}× | {agree} | {sp['date']} |"
        )
    return lines


def _shape_data(shape: str, results: dict[str, Any]) -> str:
    if shape == "demo":
        return (
            'Data: the demo (`write_demo(users=…, seed=0, format="parquet")`), already in Parquet.'
        )
    entries = list(results["sizes"].values())
    facts = entries[-1].get("facts") if entries else None
    if facts is None:
        return f"Data: `python benchmarks/shapes.py --shape {shape}`."
    p = facts["parameters"]
    ids = "strings (`u` + 16 hex digits)" if p["ids"] == "string" else "uint64 (half above 2⁶³)"
    return (
        f"Data: `python benchmarks/shapes.py --shape {shape}` (its own generator, not the "
        f"demo's), Parquet: {p['sources']} sources, {p['months']} months from {p['start']}, "
        f"user ids as {ids}, {facts['sessions_per_user']:.2f} sessions per user "
        f"(returning after {p['lifetime_days']:g} days on average), "
        f"{facts['buyers'] / facts['users']:.1%} of users buy, "
        f"{facts['rows']['orders'] / facts['buyers']:.2f} orders per buyer, a cost row per "
        f"source and day. At the largest size: {facts['users']:,} users, "
        f"{facts['rows']['visits']:,} sessions, {facts['rows']['orders']:,} orders, "
        f"{facts['rows']['costs']:,} cost rows, generated in {facts['generation_s']:.0f} s."
    )


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _shape_tables(shape: str, results: dict[str, Any]) -> list[str]:
    title = "the demo" if shape == "demo" else f"shape `{shape}`"
    lines = [
        f"### Unit economics on {title}",
        "",
        f"Measured {results.get('date', '—')} with `python benchmarks/unit_economics.py"
        f"{'' if shape == 'demo' else f' --shape {shape}'}` on: "
        f"{results.get('machine', '—')}.",
        "",
        _shape_data(shape, results),
        "",
        f"growthlens ran {_times(results['repeat'])} per size: its columns show the median run "
        "(by total), the range of the totals and the highest peak RSS; the floor ran as often "
        "(median); pandas ran once.",
        "",
        "| sessions | growthlens load | growthlens metrics | growthlens total | total range "
        "| peak RSS | floor | × floor | pandas total | pandas peak RSS | speed-up (total) "
        "| headline numbers agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["sizes"].values():
        g = entry["growthlens"]
        load = g["timings"]["load"]
        metrics = sum(v for k, v in g["timings"].items() if k != "load")
        total = load + metrics
        totals = entry["growthlens_totals"]
        floor = entry.get("floor_s")
        floor_text = f"{floor:.2f} s" if floor else "not run"
        times_floor = f"{total / floor:.1f}×" if floor else "—"
        p = entry.get("pandas")
        pandas_total = f"{p['wall_s']:.1f} s" if p else "not run"
        pandas_rss = f"{p['peak_rss_mb']:,.0f} MB" if p else "—"
        speed = f"{p['wall_s'] / total:.1f}×" if p else "—"
        agree = ("yes" if not entry["mismatches"] else ", ".join(entry["mismatches"])) if p else "—"
        lines.append(
            f"| {entry['sessions']:,} | {load:.1f} s | {metrics:.1f} s | {total:.1f} s "
            f"| {min(totals):.1f}–{max(totals):.1f} s "
            f"| {entry['growthlens_peak_rss_mb']:,.0f} MB | {floor_text} | {times_floor} "
            f"| {pandas_total} | {pandas_rss} | {speed} | {agree} |"
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
    lines += _spark_lines(results)
    lines.append("")
    return lines


def render(by_shape: dict[str, dict[str, Any]]) -> str:
    """The docs section: the shared method, then one table per shape, demo first."""
    memory = sorted({r["memory_limit"] for r in by_shape.values()})
    lines = [
        HEADING,
        "",
        "growthlens = `gl.load` (lazy Parquet views + the load's quality checks) and then "
        "`activity`, `retention` (month), `conversion_lag`, `ltv` (month), `cac` and `romi` "
        f"(by source, horizon 6), DuckDB `memory_limit={', '.join(memory)}`. pandas = "
        "benchmarks/pandas_baseline.py, the same definitions, vectorised. Each runs in a fresh "
        "process; peak RSS is the whole process's. The headline numbers of both are compared "
        "to 1e-9 (DAU/WAU/MAU, sticky, sessions per user per day, session length "
        "mean/median/mode, 0-day conversion share, CAC per source). The floor is one exact "
        'per-user group-by over the same sessions in plain DuckDB (`SELECT "Uid", count(*), '
        'min("Start Ts"), max("Start Ts") … GROUP BY "Uid"` into a temporary table, same '
        "memory limit); × floor = growthlens total ÷ floor.",
        "",
    ]
    fresh = {}
    for shape in SHAPE_NAMES:
        if shape in by_shape:
            tables = _shape_tables(shape, by_shape[shape])
            fresh[tables[0]] = "\n".join(tables).rstrip("\n") + "\n"
    # Subsections this run has no stored results for (another checkout measured them; the
    # results are not in git) stay as they were, in their place; new ones go last.
    kept = subsections(read_section(HEADING))
    parts = [_with_notes(fresh.pop(name), text) if name in fresh else text for name, text in kept]
    parts += list(fresh.values())
    return "\n".join(lines) + "\n".join(part.rstrip("\n") + "\n" for part in parts)


NOTES_MARK = "<!-- notes kept by benchmarks/unit_economics.py -->"


def _with_notes(fresh: str, old: str) -> str:
    """``fresh`` and the hand-written notes of ``old`` (from :data:`NOTES_MARK` on)."""
    if NOTES_MARK not in old:
        return fresh
    return fresh.rstrip("\n") + "\n\n" + old[old.index(NOTES_MARK) :]


def stored() -> dict[str, dict[str, Any]]:
    """Every shape's stored results (the demo's also from the older unit_economics.json)."""
    out: dict[str, dict[str, Any]] = {}
    for shape in SHAPE_NAMES:
        path = results_path(shape)
        if shape == "demo" and not path.exists() and (DATA / "unit_economics.json").exists():
            path = DATA / "unit_economics.json"
        if path.exists():
            out[shape] = json.loads(path.read_text())
    return out


def main() -> None:
    """Command line: run one shape at the given sizes, store it, re-render the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="demo", choices=SHAPE_NAMES)
    parser.add_argument("--sizes", nargs="+", default=["1m", "10m", "50m"], choices=list(USERS))
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="growthlens and floor runs per size")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--docs-only", action="store_true", help="render the stored results; run nothing"
    )
    parser.add_argument(
        "--spark",
        action="store_true",
        help="only add a PySpark local[2] run per size beside the stored DuckDB results",
    )
    parser.add_argument(
        "--spark-driver-memory",
        default="2g",
        help="the Spark driver's memory (all of Spark's in local mode), e.g. 8g for 50M",
    )
    args = parser.parse_args()
    if args.spark:
        path = results_path(args.shape)
        if not path.exists():
            raise SystemExit(f"no stored results for {args.shape}: run it on DuckDB first")
        stored_results = json.loads(path.read_text())
        added = run_spark(args.shape, args.sizes, stored_results, args.spark_driver_memory)
        store(path, added)
        if not args.no_docs:
            write_section(HEADING, render(stored()))
        return
    if not args.docs_only:
        results = run(
            args.shape, args.sizes, args.memory_limit, not args.no_pandas, max(1, args.repeat)
        )
        DATA.mkdir(parents=True, exist_ok=True)
        stored_path = results_path(args.shape)
        if stored_path.exists():
            results = merged(json.loads(stored_path.read_text()), results)
        store(stored_path, results)
    if args.docs_only or not args.no_docs:
        write_section(HEADING, render(stored()))
    if not args.docs_only:
        bad = {s: e["mismatches"] for s, e in results["sizes"].items() if e.get("mismatches")}
        if bad:
            raise SystemExit(f"growthlens and pandas disagree ({args.shape}): {bad}")


if __name__ == "__main__":
    main()
