"""Benchmark: the whole HTML report at 1M, 10M and 50M sessions: time per stage and group, size.

Data: the unit-economics benchmark's folders (visits, orders and costs as Parquet;
generated there when missing): the demo's benchmarks/data/ue-<size>/, or with ``--shape
loyal|oneshot`` a shape of benchmarks/shapes.py (its own generator: many returning users,
24 months and text ids; or one-visit users, 500 sources and uint64 ids) from
benchmarks/data/ue-<shape>-<size>/. Each run is a fresh process:

- ``load``: ``gl.load`` of the three files (DuckDB, ``memory_limit`` default 3GB);
- one timing per report group (``growthlens.report.build.section``), every analysis the
  data allows, as ``growthlens report`` runs them;
- ``write``: the executive summary, every chart and table rendered to one HTML file.

Each stage also records its CPU seconds (user + system, every thread of the process:
DuckDB's and the models'), the work the machine's cores share.

Reported: the median run of ``--repeat`` (default 3) by total, the range of totals, the
highest peak RSS, and the size of the HTML file. Results are kept per shape
(benchmarks/data/report.json for the demo, report-<shape>.json for the others) and go to
docs/benchmarks.md under "## The report", the demo first, one subsection per other shape.

    python benchmarks/report.py                 # the demo at 1M and 10M
    python benchmarks/report.py --shape loyal --sizes 1m 10m
    python benchmarks/report.py --sizes 1m --repeat 1 --no-docs
    python benchmarks/report.py --render        # the docs section from the stored results
"""

from __future__ import annotations

import argparse
import json
import os
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, child, kept_runs, machine, store, write_section
from unit_economics import SHAPE_NAMES, USERS, folder_for, generate

HEADING = "## The report (load, every section, HTML)"

_REPORT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    import growthlens as gl
    from growthlens.engine import connect
    from growthlens.report.build import section, write
    from growthlens.report.layout import GROUPS
    folder, memory_limit, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    timings, cpu = {}, {}
    t, c = time.perf_counter(), time.process_time()
    con = connect("duckdb", memory_limit=memory_limit)
    ds = gl.load(sessions=folder / "visits.parquet", orders=folder / "orders.parquet",
                 costs=folder / "costs.parquet", backend=con)
    timings["load"], cpu["load"] = time.perf_counter() - t, time.process_time() - c
    built = []
    for group in GROUPS:
        t, c = time.perf_counter(), time.process_time()
        done = section(ds, group)
        if done is not None:
            built.append(done)
            timings[group.id], cpu[group.id] = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    write(ds, tuple(built), out)
    timings["write"], cpu["write"] = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"timings": timings, "cpu": cpu, "peak_rss_mb": rss,
                      "bytes": out.stat().st_size,
                      "sessions": ds.quality.table_counts("sessions").loaded,
                      "results": sum(len(s.results) for s in built)}))
    """
)


def _total(run: dict[str, Any]) -> float:
    return float(sum(run["timings"].values()))


def results_path(shape: str) -> Path:
    """The stored runs of one shape (the demo keeps its original report.json)."""
    return DATA / ("report.json" if shape == "demo" else f"report-{shape}.json")


def run(sizes: list[str], memory_limit: str, repeat: int, shape: str = "demo") -> dict[str, Any]:
    out: dict[str, Any] = {
        "shape": shape,
        "date": date.today().isoformat(),
        "memory_limit": memory_limit,
        "repeat": repeat,
        "cores": os.cpu_count(),
        "sizes": {},
    }
    for size in sizes:
        folder = folder_for(shape, size)
        generate(shape, size, folder)
        html = DATA / (f"report-{size}.html" if shape == "demo" else f"report-{shape}-{size}.html")
        runs = [child(_REPORT, str(folder), memory_limit, str(html)) for _ in range(repeat)]
        median = sorted(runs, key=_total)[len(runs) // 2]
        entry = {
            "run": median,
            "totals": [_total(r) for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "date": out["date"],
        }
        out["sizes"][size] = entry
        print(json.dumps({shape: {size: entry}}), flush=True)
    return out


def render(results: dict[str, Any], others: dict[str, dict[str, Any]] | None = None) -> str:
    """The docs section: the demo's runs (with the notes), then one subsection per shape."""
    lines = [
        HEADING,
        "",
        f"Measured {_measured(results)} with `python benchmarks/report.py` on: {machine()}.",
        "",
        "Data: the unit-economics benchmark's demo (sessions, orders and costs as Parquet). "
        "One run = `gl.load`, every report group the data allows (as `growthlens report` "
        "runs them), then the executive summary and the HTML file (`write`), in a fresh "
        f"process, DuckDB `memory_limit={results['memory_limit']}`. The median of "
        f"{results['repeat']} runs by total is shown, with the range of the totals and the "
        "highest peak RSS.",
        "",
    ]
    lines += [*_tables(results), "", _target(results) + " " + NOTES]
    for shape, shaped in (others or {}).items():
        lines += [
            "",
            f"### The report on shape `{shape}`",
            "",
            f"Measured {_measured(shaped)} with `python benchmarks/report.py --shape {shape}`, "
            f"as above (DuckDB `memory_limit={shaped['memory_limit']}`, median of "
            f"{shaped['repeat']} runs). Data: the unit-economics benchmark's `{shape}` shape "
            '(benchmarks/shapes.py, its own generator; its facts are under "Unit economics '
            f'on shape `{shape}`" above).',
            "",
            *_tables(shaped),
            "",
            _target(shaped),
        ]
    return "\n".join(lines) + "\n"


def _measured(results: dict[str, Any]) -> str:
    """The day the runs were measured, and the other days of sizes kept from older runs."""
    latest = str(results.get("date") or date.today().isoformat())
    older = [
        f"{e['run']['sessions'] / 1e6:.0f}M sessions: {e['date']}"
        for e in results["sizes"].values()
        if e.get("date", latest) != latest
    ]
    return latest + (f" ({'; '.join(older)})" if older else "")


def _stages(results: dict[str, Any]) -> list[str]:
    first = next(iter(results["sizes"].values()))
    return [k for k in first["run"]["timings"] if k not in ("load", "write")]


def _tables(results: dict[str, Any]) -> list[str]:
    """Wall time per stage of each size's median run, then its CPU seconds."""
    stages = _stages(results)
    lines = [
        "| sessions | results | load | "
        + " | ".join(stages)
        + " | write HTML | total | total range | peak RSS | HTML size |",
        "|---|---|---|" + "---|" * len(stages) + "---|---|---|---|---|",
    ]
    for entry in results["sizes"].values():
        r = entry["run"]
        t = r["timings"]
        lines.append(
            f"| {r['sessions']:,} | {r['results']} | {t['load']:.1f} s | "
            + " | ".join(f"{t.get(s, 0.0):.1f} s" for s in stages)
            + f" | {t['write']:.1f} s | {_total(r):.1f} s "
            f"| {min(entry['totals']):.1f}–{max(entry['totals']):.1f} s "
            f"| {entry['peak_rss_mb']:,.0f} MB | {r['bytes'] / 1e6:.1f} MB |"
        )
    return lines + _cpu_lines(results, stages)


def _target(results: dict[str, Any]) -> str:
    """The issue's target, judged on the 10M run (else on the largest there is)."""
    stages = _stages(results)
    sizes = list(results["sizes"].values())
    largest = results["sizes"].get("10m") or max(sizes, key=lambda e: e["run"]["sessions"])
    run_of = largest["run"]
    total = _total(run_of)
    heaviest = sorted(stages, key=lambda s: -run_of["timings"].get(s, 0.0))[:3]
    bound = ""
    if "cpu" in run_of:
        work = sum(run_of["cpu"].values())
        cores = results.get("cores", 2)
        bound = (
            f" That run used {work:.0f} CPU-seconds: even with its {cores} cores busy "
            f"throughout, it cannot take less than {work / cores:.0f} s, so the target "
            f"needs the work itself to shrink to {30 * cores} CPU-seconds or less."
        )
    return (
        f"Target (issue 19: the whole report at 10M sessions in ≤ 30 s): at "
        f"{run_of['sessions']:,} sessions {total:.1f} s — "
        + ("met." if run_of["sessions"] >= 10_000_000 and total <= 30 else "not met.")
        + bound
        + _first_groups(run_of, stages)
        + " The heaviest groups there: "
        + ", ".join(f"{s} {run_of['timings'][s]:.1f} s" for s in heaviest)
        + "."
    )


FIRST_GROUPS = ("load", "overview", "quality", "product", "sales", "marketing")
"""The report's groups when issue 19 set its target (unit economics; 26 s at 10M then)."""


def _first_groups(run: dict[str, Any], stages: list[str]) -> str:
    """How much of the run the target's own groups take, and the groups added since."""
    t = run["timings"]
    added = [s for s in stages if s not in FIRST_GROUPS and s in t]
    if not added:
        return ""
    first = sum(t.get(s, 0.0) for s in FIRST_GROUPS)
    return (
        " The groups the report held when the target was set (load, overview, quality, "
        f"product, sales and marketing; 26 s at 10M then) take {first:.1f} s of it; the "
        "groups added since ("
        + ", ".join(f"{s} {t[s]:.1f} s" for s in added)
        + f") and writing the HTML ({t['write']:.1f} s) take the rest."
    )


def _cpu_lines(results: dict[str, Any], stages: list[str]) -> list[str]:
    """CPU seconds per stage of each size's median run (runs that recorded them)."""
    sizes = [e for e in results["sizes"].values() if "cpu" in e["run"]]
    if not sizes:
        return []
    lines = [
        "",
        "CPU seconds of the same runs (user + system, every thread: DuckDB's and the "
        "models'), and the busy share of the cores (CPU ÷ (wall × cores)):",
        "",
        "| sessions | load | " + " | ".join(stages) + " | write HTML | total CPU | cores busy |",
        "|---|---|" + "---|" * len(stages) + "---|---|---|",
    ]
    cores = results.get("cores", 2)
    for entry in sizes:
        r = entry["run"]
        c = r["cpu"]
        work = sum(c.values())
        lines.append(
            f"| {r['sessions']:,} | {c['load']:.1f} | "
            + " | ".join(f"{c.get(s, 0.0):.1f}" for s in stages)
            + f" | {c['write']:.1f} | {work:.1f} | {work / (_total(r) * cores):.0%} |"
        )
    return lines


NOTES = (
    "Where the time goes: the customer group fits models on per-customer frames (RFM "
    "scores, k-prototypes clusters with a stability check, BG/NBD and Gamma-Gamma, the "
    "propensity model's cross-validation), the product group reads every session once per "
    "breakdown (activity by device and by source, and one table of masks by first device "
    "and first source for both retention breakdowns), and the channel tables join sessions "
    "to orders and fit the Markov chain. Shared once per Dataset: the activity profiles, "
    "which also answer every count of users with a session (the window's and per period "
    "for the KPI table, the overview and the channel totals, and per channel once activity "
    "by source has built its profiles); the Markov removal effects (both channel tables ask "
    "for the same fit); the channel tables' additive cells, kept per month (the "
    "whole-window table sums them, so the credit joins run once); the buyers' first visits, "
    "which say which buyers have no session; the load's list of users with two sessions on "
    "a day, the only ones whose first session can tie. Independent, separately seeded model work "
    "runs on threads with the loop's results: the budget recommendation's per-source "
    "bootstraps and the clusters' fits and stability runs per k. RFM's segment movement "
    "and CLV's group labels work on the distinct values instead of a Python loop over "
    "every buyer. Measured per analysis at 10M on 2026-12-04 at night (one process, wall, "
    "seconds; in brackets the evening's, before the shared counts): overview 1.9 (3.0: the "
    "session ids the load left unique are counted, not hashed), KPIs 0.8 (1.6); activity "
    "by device 2.3 and by source 2.1, retention by first device 3.4 (3.8; with the first "
    "sessions every later group reuses, and the joint table) and by first source 0.2 "
    "(1.9); conversion 1.2 (1.7); the channel tables 4.8 (5.9) and 0.2 (0.9), attribution "
    "2.4; RFM 1.9, clusters 3.8, CLV 4.3, the propensity model 7.6 (five cross-validation "
    "fits on up to 200,000 customers each), the budget 3.7. The CPU "
    "table says why 30 s is out of reach by scheduling alone: the engine already keeps "
    "both cores busy in its queries, and what is left idle (about a fifth) is the "
    "single-threaded Python around the model fits. Tried and not kept: running each "
    "analysis' statistics on a second thread while the next one queries the engine (the "
    "registry's compute / infer split allows it) took the analyses from 65.2 s to 60.0 s "
    "in layout order and to 87.3 s when the model-heavy groups went first: on two cores "
    "the model fits, DuckDB's threads and the GIL contend. What would reach 30 s changes "
    "statistics, not plans: fewer cross-validation "
    "folds or smaller training samples for the propensity model, fewer stability runs for "
    "the clusters, fewer bootstrap resamples for the budget; each is a documented default "
    "with its calibration, so none is changed for speed alone. Nor would that be enough on "
    "every shape: timed per query at 10M on 2026-12-05 (load and analyses, not the HTML), "
    "the engine's queries alone took 24.4 s of the demo's 42.8 s, 33.6 s of `loyal`'s "
    "59.0 s and 21.1 s of `oneshot`'s 39.3 s, the Python around them (the models and their "
    "frames) 18.4, 25.5 and 18.1 s: on `loyal` the queries alone take more than 30 s, with "
    "1.8–1.9 of the 2 cores busy in them on average. At 50M sessions the peak "
    "RSS of 6.7 GB is reached in CLV (4.3 GB before it: the engine's 3 GB and the frames "
    "of the earlier groups), whose per-buyer inputs come to pandas; the product group "
    "still grows faster than the rows (50.6 s, 6.0× its 10M time for 5× the sessions; "
    "66.1 s before the joint first-touch table), its per-dimension profile builds spilling "
    "under the 3 GB limit. Wall times on this shared machine vary from day to day: the "
    "same `gl.load` of the 10M demo measured 2.7 s on 2026-12-03 and 4–9 s on 2026-12-04, "
    "and the whole report at 10M 66.3 s in the morning of 2026-12-04, 58.4 s in the "
    "afternoon, 54.1 s in the evening and 47.8 s at night (75 CPU-s, was 88; at 50M 239.6 "
    "s, was 281.8), where the shared counts save about 6 s at 10M (overview 5.1 → 2.6 s, "
    "product 10.0 → 8.5 s, sales 2.9 → 2.4 s, attribution 8.7 → 7.2 s). The report on the "
    "other shapes (below, from 2026-12-05) found what the demo's 10 sources hid: with 500 "
    "sources (`oneshot`) the attribution group took 584 s at 1M sessions, a sparse solve "
    "per channel for every Markov removal effect in each of 201 fits (point and bootstrap). "
    "The removals now come from the chain's fundamental matrix, one inverse per fit, exact to "
    "rounding (docs/attribution.md): 5.5 s, and the channel table 5.1 → 1.1 s. On "
    "2026-12-05 the load's key check by bitmap and its disk store for tables above half "
    'the memory limit ("Unit economics", the demo\'s notes) took the load at 10M from '
    "4.6 to 3.5 s and at 50M from 26.4 to 24.3 s; the whole report measured 48.1 → 43.0 s "
    "at 10M (`loyal` 61.1 → 59.2 s, `oneshot` 45.7 → 40.2 s) and 239.6 → 227.4 s at 50M. "
    "Beyond the load's 1.1 s at 10M the groups did not change that day; their differences "
    "(customers 17.6 → 14.9 s) are this machine's drift from one day to the next. Later "
    "that day two firsts stopped sorting every session with a window: users' first "
    "sessions (the first-touch table behind retention by first device and source, the "
    "channels and CAC) now mark each user's earliest rows by a per-user minimum joined "
    "back, and the load's buyers' first sessions come from one ordered aggregate per user "
    '(docs/benchmarks.md, "Other data shapes"). Both give the same rows (tested against '
    "the windows). At 10M the join had measured 2.1 s against 2.0 s on the demo and was "
    "not kept then; on `loyal` at 50M (6.5 sessions a user) the window's sort spilled: "
    "the first-touch table 21.2 → 7.7 s, at 10M 2.3 → 1.2 s; on the demo and `oneshot` "
    "(1–2 sessions a user) within 0.2 s at 10M and 1.0–1.8 s slower at 50M. The report on "
    "`loyal` at 10M measured 59.2 → 59.4 s (product 13.1 → 12.2 s; the groups that did "
    "not change took 3–5% longer than in the morning, as the demo's and `oneshot`'s did); "
    "on `loyal` at 50M 294.9 → 299.6 s: the product group 80.5 → 71.9 s and the load "
    "34.8 → 32.5 s, while groups that neither change touches took 13 s longer (attribution "
    "76.4 → 81.5 s, customers 65.8 → 72.4 s). The analyses of the 10M demo, run with the "
    "code before and after in turn within one quarter of an hour, took 39.3 and 38.4 s "
    "before against 39.4 and 37.9 s after, every group within its own noise: the rest is "
    "the machine's afternoon."
)


def stored_others() -> dict[str, dict[str, Any]]:
    """The stored runs of every shape but the demo, in the shapes' order."""
    paths = {shape: results_path(shape) for shape in SHAPE_NAMES if shape != "demo"}
    return {s: json.loads(p.read_text()) for s, p in paths.items() if p.exists()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="demo", choices=SHAPE_NAMES)
    parser.add_argument("--sizes", nargs="+", default=["1m", "10m"], choices=sorted(USERS))
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the docs from the stored results only"
    )
    args = parser.parse_args()
    if not args.render:
        results = run(args.sizes, args.memory_limit, args.repeat, args.shape)
        path = results_path(args.shape)
        if path.exists():
            alike = ("memory_limit", "repeat")
            old = json.loads(path.read_text())
            for entry in old.get("sizes", {}).values():  # a kept size keeps its own day
                entry.setdefault("date", old.get("date"))
            results = kept_runs(old, results, "sizes", alike)
        store(path, results)
    demo = results_path("demo")
    if not args.no_docs:
        if not demo.exists():  # the section opens with the demo's runs
            print("docs/benchmarks.md not rewritten: no stored runs on the demo", flush=True)
            return
        write_section(HEADING, render(json.loads(demo.read_text()), stored_others()))


if __name__ == "__main__":
    main()
