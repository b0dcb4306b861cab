"""Benchmark: the issue's target funnel — 5 ordered steps, 7-day window, broken down by device.

``gl.funnel(ds, STEPS, window="7d", by="device")`` on the ``shop`` event log of
``benchmarks/funnel.py`` (same generator, same seed) with a ``device`` column added per user
(``mobile`` 55%, ``desktop`` 40%, ``tablet`` 5%, from a hash of the user id), at 1M, 10M
and 50M events, each in a fresh process: wall time of ``gl.load`` and of the funnel call,
their CPU time (all threads: a steadier measure than wall time on a shared machine), peak
RSS; with ``--repeat N`` the median of N runs (by total wall time) is shown. The baseline
is the plain-pandas ordered funnel of ``benchmarks/funnel.py``
(``pd.merge_asof`` per step) plus the per-device count of the users reaching each step
(a user's device is constant here, so it is the step-1 event's value); the run fails unless
its counts per device and step equal growthlens's ``tables["segments"]``.

    python benchmarks/funnel_breakdown.py [--sizes 1000000 10000000 50000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, child, machine, write_section
from funnel import END, START, STEPS, WINDOW, dataset

HEADING = "## Funnels with a breakdown (the issue's target)"

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    path, steps, window, start, end, limit = sys.argv[1:7]
    config = {"engine": {"memory_limit": limit}} if limit != "default" else None
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    t0, c0 = time.perf_counter(), cpu()
    ds = gl.load(config, events=path, window=(start, end))
    t1, c1 = time.perf_counter(), cpu()
    result = gl.funnel(ds, json.loads(steps), window=window, by="device")
    t2, c2 = time.perf_counter(), cpu()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seg = result.tables["segments"]
    counts = {d: [int(u) for u in part.sort_values("step")["users"]]
              for d, part in seg.groupby("device")}
    print(json.dumps({"load_s": t1 - t0, "funnel_s": t2 - t1, "load_cpu_s": c1 - c0,
                      "funnel_cpu_s": c2 - c1, "peak_rss_mb": rss,
                      "users": [int(u) for u in result.table["users"]], "by_device": counts}))
    """
)

_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    import pandas as pd
    path, steps, window_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    events = pd.read_parquet(path, columns=["user_id", "ts", "event", "device"])
    t1 = time.perf_counter()
    events = events[events["event"].isin(steps) & events["ts"].notna()]
    device = events.drop_duplicates("user_id").set_index("user_id")["device"]
    frames = {
        name: part[["user_id", "ts"]].sort_values("ts", kind="stable")
        for name, part in events.groupby("event", observed=True, sort=False)
    }
    empty = events.iloc[:0][["user_id", "ts"]]
    chain = frames.get(steps[0], empty).rename(columns={"ts": "ts_1"})
    chain = chain.assign(at=chain["ts_1"], limit=chain["ts_1"] + pd.Timedelta(seconds=window_s))
    reached = [chain["user_id"].unique()]
    for name in steps[1:]:
        right = frames.get(name, empty).rename(columns={"ts": "next"})
        chain = pd.merge_asof(chain.sort_values("at", kind="stable"), right, left_on="at",
                              right_on="next", by="user_id", direction="forward",
                              allow_exact_matches=True)
        chain = chain[chain["next"].notna() & (chain["next"] <= chain["limit"])]
        chain = chain.drop(columns="at").rename(columns={"next": "at"})
        reached.append(chain["user_id"].unique())
    by_device = {}
    for j, users in enumerate(reached):
        for d, n in device.loc[users].value_counts().items():
            by_device.setdefault(str(d), [0] * len(steps))[j] = int(n)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": t1 - t0, "funnel_s": t2 - t1, "peak_rss_mb": rss,
                      "users": [len(u) for u in reached], "by_device": by_device}))
    """
)


def with_device(size: int) -> dict[str, Any]:
    """The shop log of ``size`` events with a per-user device column (written once)."""
    import duckdb

    base = dataset("shop", size)
    folder = DATA / f"funnel-shop-device-{size}"
    path = folder / "events.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = false")
        # A hash of the id picks the device: constant per user, independent of the rest.
        con.execute(
            f"""
            COPY (
                SELECT user_id, ts, event,
                       CASE WHEN hash(user_id) % 100 < 55 THEN 'mobile'
                            WHEN hash(user_id) % 100 < 95 THEN 'desktop'
                            ELSE 'tablet' END AS device
                FROM read_parquet('{Path(base["path"]).as_posix()}')
            ) TO '{path.as_posix()}' (FORMAT parquet, COMPRESSION zstd)
            """
        )
    return {**base, "path": str(path)}


def run(sizes: list[int], memory_limit: str, repeat: int = 1) -> dict[str, Any]:
    rows = []
    for size in sizes:
        data = with_device(size)
        print(f"shop {size:,}: {data['users']:,} users", flush=True)
        runs = [
            child(_GROWTHLENS, data["path"], json.dumps(STEPS), WINDOW, START, END, memory_limit)
            for _ in range(repeat)
        ]
        totals = [r["load_s"] + r["funnel_s"] for r in runs]
        print(f"  growthlens: {[round(t, 1) for t in totals]} s", flush=True)
        if any(r["by_device"] != runs[0]["by_device"] for r in runs):
            raise SystemExit(f"{size}: growthlens counts differ between runs")
        # The median run by total wall time (the lower middle one for an even count).
        gl_run = sorted(runs, key=lambda r: r["load_s"] + r["funnel_s"])[(len(runs) - 1) // 2]
        entry: dict[str, Any] = {
            "size": size,
            "users": data["users"],
            "growthlens": gl_run,
            "totals_s": totals,
        }
        if size <= 10_000_000:
            pandas = child(_PANDAS, data["path"], json.dumps(STEPS), str(7 * 86400))
            print(f"  pandas: {pandas['read_s'] + pandas['funnel_s']:.1f} s", flush=True)
            if pandas["by_device"] != gl_run["by_device"] or pandas["users"] != gl_run["users"]:
                raise SystemExit(f"{size}: pandas counts differ from growthlens")
            entry["pandas"] = pandas
        rows.append(entry)
    return {"rows": rows, "memory_limit": memory_limit, "repeat": repeat}


def render(results: dict[str, Any]) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} with `python benchmarks/funnel_breakdown.py` "
        f"on: {machine()}.",
        "",
        "`gl.funnel(ds, ['page_view', 'view_item', 'add_to_cart', 'begin_checkout', "
        "'purchase'], window='7d', by='device')` (ordered) after `gl.load(events=<parquet>)` "
        f"with DuckDB's `memory_limit` {results.get('memory_limit', 'default')}, "
        "on the `shop` log of the section above with a per-user `device` column (mobile 55%, "
        "desktop 40%, tablet 5%). Fresh process per run, "
        + (
            f"growthlens ran {results['repeat']} times per size, the median run (by total) "
            "shown; CPU = seconds of all threads of the process. "
            if results.get("repeat", 1) > 1
            else "each ran once; CPU = seconds of all threads of the process. "
        )
        + "pandas = the "
        "`merge_asof` ordered funnel of the section above plus per-device counts of the users "
        "reaching each step (not run at 50M); its counts "
        "per device and step equalled growthlens's `tables['segments']`, which the run "
        "asserts.",
        "",
        "| events | users | load | funnel | total | funnel CPU | peak RSS | "
        "pandas (read + funnel) | pandas peak RSS | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        g = row["growthlens"]
        total = g["load_s"] + g["funnel_s"]
        if "pandas" in row:
            p = row["pandas"]
            ptotal = p["read_s"] + p["funnel_s"]
            base = (
                f"{ptotal:.1f} s ({p['read_s']:.1f} + {p['funnel_s']:.1f}) | "
                f"{p['peak_rss_mb']:,.0f} MB | {ptotal / total:.1f}×"
            )
        else:
            base = "not run | | "
        lines.append(
            f"| {row['size']:,} | {row['users']:,} | {g['load_s']:.1f} s | {g['funnel_s']:.1f} s "
            f"| {total:.1f} s | {g.get('funnel_cpu_s', float('nan')):.1f} s "
            f"| {g['peak_rss_mb']:,.0f} MB | {base} |"
        )
    largest = results["rows"][-1]
    g = largest["growthlens"]
    total = g["load_s"] + g["funnel_s"]
    met = largest["size"] >= 50_000_000 and total <= 30 and g["peak_rss_mb"] <= 4096
    lines += [
        "",
        f"Target (50M events in ≤ 30 s and ≤ 4 GB): at {largest['size']:,} events "
        f"{total:.1f} s and {g['peak_rss_mb']:,.0f} MB — " + ("met." if met else "not met."),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000, 50_000_000])
    parser.add_argument(
        "--memory-limit", default="4GB", help='DuckDB memory_limit, or "default" (80%% of RAM)'
    )
    parser.add_argument("--no-docs", action="store_true", help="print JSON only")
    parser.add_argument("--repeat", type=int, default=1, help="growthlens runs per size")
    args = parser.parse_args()
    results = run(args.sizes, args.memory_limit, max(1, args.repeat))
    (DATA / "funnel_breakdown.json").write_text(json.dumps(results, indent=1))
    if not args.no_docs:
        write_section(HEADING, render(results))


if __name__ == "__main__":
    main()
