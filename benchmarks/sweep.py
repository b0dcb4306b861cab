"""Benchmark sweep: every benchmark family at 1M, 10M and 50M sessions, beside plain pandas.

One command for the whole performance suite (issue 19). For each size it runs, each step
in its own process through the family's own script:

- ``unit_economics``: ``unit_economics.py --shape S --sizes SIZE`` for every shape (the
  demo, ``loyal``, ``oneshot``): load + activity, retention, lag, LTV, CAC, ROMI, the
  floor and the pandas baseline; the script renders its own section of docs/benchmarks.md;
- ``report``: ``report.py --shape S --sizes SIZE`` for every shape: the whole report, time
  and CPU per group (its own section, a subsection per shape);
- ``funnel``: ``funnel_breakdown.py --sizes EVENTS`` (events = sessions): the 5-step funnel
  by device, the floor and pandas (its own section);
- ``attribution``: ``attribution.py --sessions N`` (conversions = N / 10): journeys, every
  model, Markov, bootstrap; pandas: journeys and the rule models;
- ``reconcile``: ``reconcile.py --rows N / 5`` (orders ≈ a fifth of the sessions, as in
  the demo): two tables with planted discrepancies; pandas: the same classes;
- ``experiments``: ``experiments.py --lines N --participants N / 10``: ``ab_test`` on five
  metrics with CUPED and ``campaign_effect``; pandas: the same means, Welch, the DiD.

The last three print JSON; the sweep keeps it per family and size in
``benchmarks/data/sweep.json`` and renders the section "## The sweep" (growthlens, pandas,
speed-up and peak memory per family and size). Then ``curves.py`` redraws the scaling
curves. A failed step is reported and the sweep goes on; it exits 1 if any failed.

    python benchmarks/sweep.py --dry-run                 # the steps, nothing run
    python benchmarks/sweep.py --sizes 1m                # every family at 1M sessions
    python benchmarks/sweep.py --only attribution reconcile --sizes 1m 10m
    python benchmarks/sweep.py --render                  # the section from sweep.json

At 50M the pandas baselines need 13–16 GB of RAM (unit economics) and the whole sweep takes
hours on a 2-core machine; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, SIZES, machine, store, write_section

HERE = Path(__file__).resolve().parent
HEADING = "## The sweep (every family, one command)"
SHAPES = ("demo", "loyal", "oneshot")
FAMILIES = ("unit_economics", "report", "funnel", "attribution", "reconcile", "experiments")
JSON_FAMILIES = ("attribution", "reconcile", "experiments")
RESULTS = DATA / "sweep.json"
DEMO_RESULTS = "unit_economics-demo.json"  # unit_economics.results_path("demo")


@dataclass(frozen=True)
class Step:
    """One run of a family's script at one size."""

    family: str
    size: str
    argv: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.family} {self.size}: python benchmarks/{' '.join(self.argv)}"


def steps(families: list[str], sizes: list[str], shapes: list[str]) -> list[Step]:
    """The sweep's steps in order: smaller sizes first, so a long sweep reports early."""
    out: list[Step] = []
    argv: tuple[str, ...]
    for size in sorted(sizes, key=SIZES.__getitem__):
        n = SIZES[size]
        for family in families:
            if family == "unit_economics":
                for shape in shapes:
                    argv = ("unit_economics.py", "--shape", shape, "--sizes", size)
                    stored = f"unit_economics-{shape}.json"
                    out.append(Step(family, size, (*argv, *settings(stored, "3GB", 3))))
            elif family == "report":
                for shape in shapes:
                    stored = "report.json" if shape == "demo" else f"report-{shape}.json"
                    argv = ("report.py", "--shape", shape, "--sizes", size)
                    out.append(Step(family, size, (*argv, *settings(stored, "3GB", 3))))
            elif family == "funnel":
                argv = ("funnel_breakdown.py", "--sizes", str(n))
                limits = settings("funnel_breakdown.json", "2.5GB", 3)
                out.append(Step(family, size, (*argv, *limits)))
            elif family == "attribution":
                out.append(Step(family, size, ("attribution.py", "--sessions", str(n))))
            elif family == "reconcile":
                out.append(Step(family, size, ("reconcile.py", "--rows", str(n // 5))))
            elif family == "experiments":
                argv = ("experiments.py", "--lines", str(n), "--participants", str(n // 10))
                out.append(Step(family, size, argv))
    return out


def settings(stored: str, memory_limit: str, repeat: int) -> tuple[str, ...]:
    """``--memory-limit`` and ``--repeat`` as the stored results of a script were measured.

    Each script keeps its stored other sizes only beside a run measured alike, so the sweep
    measures alike; without stored results, the settings given here.
    """
    path = DATA / stored
    if path.exists():
        old = json.loads(path.read_text())
        memory_limit, repeat = old.get("memory_limit", memory_limit), old.get("repeat", repeat)
    return ("--memory-limit", str(memory_limit), "--repeat", str(repeat))


def _run(step: Step) -> tuple[bool, dict[str, Any] | None, float]:
    """Run one step; its JSON (families that print it) and its wall time."""
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / step.argv[0]), *step.argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    )
    took = time.perf_counter() - t
    if done.returncode != 0:
        print(f"  failed ({done.returncode}):\n{done.stderr[-2000:]}", flush=True)
        return False, None, took
    if step.family not in JSON_FAMILIES:
        return True, None, took
    return True, json.loads(done.stdout[done.stdout.index("{") :]), took


def summary(family: str, out: dict[str, Any]) -> dict[str, Any]:
    """growthlens and pandas seconds (load or read included), peak RSS, what ran."""
    mine, theirs = out["growthlens"], out.get("pandas")
    if family == "attribution":
        ours = mine["load_s"] + mine["attribution_s"]
        base = theirs and theirs["read_s"] + theirs["models_s"]
        rows = f"{out['data']['sessions']:,} sessions, {out['data']['orders']:,} orders"
    elif family == "reconcile":
        ours = mine["load_s"] + mine["reconcile_s"]
        base = theirs and theirs["load_s"] + theirs["reconcile_s"]
        rows = f"2 × {out['rows']:,} orders"
    else:
        ours = mine["load_s"] + mine["ab_test_s"] + mine["campaign_s"]
        base = theirs and theirs["load_s"] + theirs["ab_test_s"] + theirs["campaign_s"]
        rows = f"{out['lines']:,} lines, {out['participants']:,} participants"
    return {
        "rows": rows,
        "growthlens_s": ours,
        "growthlens_rss_mb": mine["peak_rss_mb"],
        "pandas_s": base,
        "pandas_rss_mb": theirs and theirs["peak_rss_mb"],
        "memory_limit": out.get("memory_limit"),
        "date": date.today().isoformat(),
    }


def render(results: dict[str, Any]) -> str:
    """The section: one row per family and size the sweep stored."""
    lines = [
        HEADING,
        "",
        f"Run with `python benchmarks/sweep.py` on: {machine()}. The sweep runs every family's "
        "benchmark at each size (benchmarks/README.md, sweep.py); unit economics, the report "
        "and the funnel render their own sections above. The families below print JSON, "
        "gathered here: growthlens = load + analysis in a fresh process, pandas = read + the "
        "same definitions in its own process (each run fails unless both give the same "
        "counts or figures), one run each. What pandas leaves out, so the speed-up "
        "understates: in attribution the Markov chain, Shapley values and the bootstrap "
        "(pandas builds the journeys and the six rule models); in experiments CUPED, the "
        "other intervals and tests, the bootstrap and the campaign effect's own model "
        "(pandas: the means per arm, Welch tests and a 2×2 difference in differences of "
        "means). "
        "Reconciliation counts the same classes on both sides. DuckDB memory = the "
        "`memory_limit` growthlens ran with (DuckDB's own default is 80% of the RAM, which "
        "it fills with cached rows before it spills, so a peak without a limit says little).",
        "",
        "| family | size | rows | growthlens | DuckDB memory | peak RSS | pandas "
        "| pandas peak RSS | speed-up | measured |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for family in JSON_FAMILIES:
        for size in sorted(results.get(family, {}), key=SIZES.__getitem__):
            r = results[family][size]
            base = r["pandas_s"]
            lines.append(
                f"| {family} | {size} | {r['rows']} | {r['growthlens_s']:.1f} s "
                f"| {r.get('memory_limit') or 'default (80% of RAM)'} "
                f"| {r['growthlens_rss_mb']:,.0f} MB "
                + (
                    f"| {base:.1f} s | {r['pandas_rss_mb']:,.0f} MB "
                    f"| {base / r['growthlens_s']:.1f}× "
                    if base
                    else "| not run | | "
                )
                + f"| {r['date']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--only", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    parser.add_argument("--dry-run", action="store_true", help="list the steps; run nothing")
    parser.add_argument("--render", action="store_true", help="the section from sweep.json")
    args = parser.parse_args()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.render:
        write_section(HEADING, render(results))
        return
    shapes = list(args.shapes)
    partial = set(args.sizes) != set(SIZES)
    stored = (DATA / DEMO_RESULTS).exists()
    if "unit_economics" in args.only and "demo" in shapes and partial and not stored:
        # The docs' demo table would be rebuilt from these sizes alone.
        shapes.remove("demo")
        print(
            "the demo skipped (unit economics and the report): its stored results are not in "
            "this checkout "
            "(benchmarks/data is not in git), and a run of some sizes would replace the docs' "
            "table with those sizes; run all sizes, or unit_economics.py --shape demo first",
            flush=True,
        )
    plan = steps(args.only, args.sizes, shapes)
    for step in plan:
        print(step.label, flush=True)
    if args.dry_run:
        return
    failed = []
    for step in plan:
        print(f"running {step.label}", flush=True)
        ok, out, took = _run(step)
        print(f"  {'done' if ok else 'FAILED'} in {took:.0f} s", flush=True)
        if not ok:
            failed.append(step.label)
        elif out is not None:
            results.setdefault(step.family, {})[step.size] = summary(step.family, out)
            DATA.mkdir(parents=True, exist_ok=True)
            store(RESULTS, results)
            write_section(HEADING, render(results))
    ok_curves, _, _ = _run(Step("curves", "", ("curves.py",)))
    if not ok_curves:
        failed.append("curves.py")
    if failed:
        print("failed steps:\n" + "\n".join(failed), flush=True)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
