"""Benchmark: the issue's target funnel — 5 ordered steps, 7-day window, broken down by device.

``gl.funnel(ds, STEPS, window="7d", by="device")`` on the ``shop`` event log of
``benchmarks/funnel.py`` (same generator, same seed) with a ``device`` column added per user
(``mobile`` 55%, ``desktop`` 40%, ``tablet`` 5%, from a hash of the user id), at 1M, 10M
and 50M events, each in a fresh process: wall time of ``gl.load`` and of the funnel call,
their CPU time (all threads: a steadier measure than wall time on a shared machine), peak
RSS; with ``--repeat N`` the median of N runs (by total wall time) is shown. The baseline
is a plain-pandas implementation of the same definitions and outputs: the greedy chain from
every step-1 event (``pd.merge_asof`` per step, as in ``benchmarks/funnel.py``), each user's
counted chain (the deepest, then the earliest) with its step times, its device (the smallest
value among the step-1 rows of its first second), the users per device and step and the
median time from each step to the next. The run fails unless those equal growthlens's
(``tables["segments"]``, the medians of ``result.table``, and the sum of each step's times
over ``tables["users"]``, a checksum of the per-user chains).

    python benchmarks/funnel_breakdown.py [--sizes 1000000 10000000 50000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from common import DATA, child, kept_runs, machine, store, write_section
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
    users = result.tables["users"]
    epoch, second = __import__("pandas").Timestamp(0), __import__("pandas").Timedelta(seconds=1)
    sums = [int(((users[f"ts_{j}"].dropna() - epoch) // second).sum())
            for j in range(1, len(json.loads(steps)) + 1)]
    medians = [float(m) for m in result.table["median_time_from_previous_s"].iloc[1:]]
    print(json.dumps({"load_s": t1 - t0, "funnel_s": t2 - t1, "load_cpu_s": c1 - c0,
                      "funnel_cpu_s": c2 - c1, "peak_rss_mb": rss,
                      "users": [int(u) for u in result.table["users"]], "by_device": counts,
                      "medians_s": medians, "ts_sums": sums}))
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
    frames = {
        name: part[["user_id", "ts"]].sort_values("ts", kind="stable")
        for name, part in events.groupby("event", observed=True, sort=False)
    }
    empty = events.iloc[:0][["user_id", "ts"]]
    # From every step-1 event, the greedy chain: each step at the first row at or after the
    # previous one, within the window of step 1.
    chain = frames.get(steps[0], empty).rename(columns={"ts": "ts_1"})
    chain = chain.assign(limit=chain["ts_1"] + pd.Timedelta(seconds=window_s))
    levels = [chain[["user_id", "ts_1"]].assign(depth=1)]
    for j, name in enumerate(steps[1:], start=2):
        right = frames.get(name, empty).rename(columns={"ts": f"ts_{j}"})
        chain = pd.merge_asof(chain.sort_values(f"ts_{j - 1}", kind="stable"), right,
                              left_on=f"ts_{j - 1}", right_on=f"ts_{j}", by="user_id",
                              direction="forward", allow_exact_matches=True)
        chain = chain[chain[f"ts_{j}"].notna() & (chain[f"ts_{j}"] <= chain["limit"])]
        levels.append(chain.drop(columns="limit").assign(depth=j))
    # The counted chain: the deepest, then the earliest step-1 time.
    best = pd.concat(levels, ignore_index=True).sort_values(
        ["user_id", "depth", "ts_1"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("user_id")
    # Its device: the smallest value among the step-1 rows of that second, blank = unknown.
    firsts = events[events["event"] == steps[0]][["user_id", "ts", "device"]]
    firsts = firsts[firsts["device"].notna() & (firsts["device"] != "")]
    values = best[["user_id", "ts_1"]].merge(
        firsts, left_on=["user_id", "ts_1"], right_on=["user_id", "ts"]
    ).groupby("user_id")["device"].min()
    best["device"] = best["user_id"].map(values).fillna("(unknown)")
    by_device = {
        str(d): [int((part["depth"] >= j).sum()) for j in range(1, len(steps) + 1)]
        for d, part in best.groupby("device")
    }
    medians = [
        float((best[f"ts_{j}"] - best[f"ts_{j - 1}"]).dt.total_seconds().median())
        for j in range(2, len(steps) + 1)
    ]
    sums = [int(((best[f"ts_{j}"].dropna() - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).sum())
            for j in range(1, len(steps) + 1)]
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": t1 - t0, "funnel_s": t2 - t1, "peak_rss_mb": rss,
                      "users": by_device and [sum(c[j] for c in by_device.values())
                                              for j in range(len(steps))],
                      "by_device": by_device, "medians_s": medians, "ts_sums": sums}))
    """
)


_FLOOR = textwrap.dedent(
    """
    import json, resource, sys, time
    import duckdb
    path, steps, window_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    con = duckdb.connect()
    t0 = time.perf_counter()
    names = ", ".join(f"'{s}'" for s in steps)
    con.execute(
        "CREATE TEMP TABLE e AS SELECT user_id, ts, event, device "
        f"FROM read_parquet('{path}') WHERE event IN ({names}) AND ts IS NOT NULL"
    )
    for j, name in enumerate(steps, start=1):
        con.execute(f"CREATE TEMP TABLE s{j} AS SELECT user_id, ts FROM e WHERE event = '{name}'")
    # The greedy chain from every step-1 row, one ASOF join per step (the first row of the
    # next step at or after the current one, within the window of step 1).
    ctes = ["c1 AS (SELECT user_id, ts AS t1, ts AS t FROM s1)"]
    for j in range(2, len(steps) + 1):
        ctes.append(
            f"c{j} AS (SELECT c.user_id, c.t1, s.ts AS t FROM c{j - 1} c ASOF JOIN s{j} s "
            f"ON c.user_id = s.user_id AND s.ts >= c.t "
            f"WHERE s.ts <= c.t1 + INTERVAL {window_s} SECOND)"
        )
    depths = " UNION ALL ".join(
        f"SELECT user_id, t1, {j} AS d FROM c{j}" for j in range(1, len(steps) + 1)
    )
    rows = con.sql(
        "WITH " + ", ".join(ctes) + f", depth AS ({depths}), "
        # The counted chain: the deepest, then the earliest start.
        "best AS (SELECT user_id, max(d) AS d, "
        "arg_max(t1, d * 1e12 - epoch(t1)) AS t1 FROM depth GROUP BY user_id), "
        # Its device: the smallest known value among the step-1 rows of that second.
        "dev AS (SELECT b.user_id, b.d, "
        "coalesce(min(nullif(e.device, '')), '(unknown)') AS device FROM best b "
        f"JOIN e ON e.user_id = b.user_id AND e.ts = b.t1 AND e.event = '{steps[0]}' "
        "GROUP BY b.user_id, b.d) "
        "SELECT device, d, count(*) FROM dev GROUP BY ALL"
    ).fetchall()
    t1 = time.perf_counter()
    by_device = {}
    for device, depth, n in rows:
        counts = by_device.setdefault(device, [0] * len(steps))
        for j in range(depth):
            counts[j] += n
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"total_s": t1 - t0, "peak_rss_mb": rss,
                      "by_device": dict(sorted(by_device.items()))}))
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
        floors = [
            child(_FLOOR, data["path"], json.dumps(STEPS), str(7 * 86400)) for _ in range(repeat)
        ]
        floor = sorted(floors, key=lambda r: r["total_s"])[(len(floors) - 1) // 2]
        print(f"  floor: {[round(r['total_s'], 1) for r in floors]} s", flush=True)
        if floor["by_device"] != gl_run["by_device"]:
            raise SystemExit(f"{size}: the floor query differs from growthlens")
        entry["floor"] = floor
        if size <= 10_000_000:
            pandas = child(_PANDAS, data["path"], json.dumps(STEPS), str(7 * 86400))
            print(f"  pandas: {pandas['read_s'] + pandas['funnel_s']:.1f} s", flush=True)
            same = ("by_device", "users", "medians_s", "ts_sums")
            differ = [key for key in same if pandas[key] != gl_run[key]]
            if differ:
                raise SystemExit(f"{size}: pandas differs from growthlens in {differ}")
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
        + "pandas = a plain-pandas implementation of the same outputs (not run at 50M): "
        "the greedy chains by `merge_asof` per step as in the section above, each user's "
        "counted chain (deepest, then earliest) with its step times and device, the users "
        "per device and step, and the median time between steps. The run asserts that its "
        "counts per device and step, medians, and per-step sums of the chains' times equal "
        "growthlens's. Floor = the least any engine plan can cost here: one hand-written "
        "DuckDB query on the same Parquet (no validation, no per-user table, no medians: "
        "the greedy chains by one `ASOF JOIN` per step, each user's deepest-then-earliest "
        "chain by `arg_max`, its device, the counts per device and step), checked equal to "
        "growthlens's counts, run as often as growthlens (median shown).",
        "",
        "| events | users | load | funnel | total | funnel CPU | peak RSS | "
        "floor | growthlens / floor | "
        "pandas (read + funnel) | pandas peak RSS | speed-up | pandas / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        g = row["growthlens"]
        total = g["load_s"] + g["funnel_s"]
        floor = row.get("floor", {}).get("total_s")
        if "pandas" in row:
            p = row["pandas"]
            ptotal = p["read_s"] + p["funnel_s"]
            base = (
                f"{ptotal:.1f} s ({p['read_s']:.1f} + {p['funnel_s']:.1f}) | "
                f"{p['peak_rss_mb']:,.0f} MB | {ptotal / total:.1f}× | "
                + (f"{ptotal / floor:.1f}×" if floor else "")
            )
        else:
            base = "not run | | | "
        against = f"{floor:.1f} s | {total / floor:.1f}×" if floor else "not run | "
        lines.append(
            f"| {row['size']:,} | {row['users']:,} | {g['load_s']:.1f} s | {g['funnel_s']:.1f} s "
            f"| {total:.1f} s | {g.get('funnel_cpu_s', float('nan')):.1f} s "
            f"| {g['peak_rss_mb']:,.0f} MB | {against} | {base} |"
        )
    if results.get("repeat", 1) > 1:
        ranges = "; ".join(
            f"{row['size']:,}: {min(row['totals_s']):.1f}–{max(row['totals_s']):.1f} s"
            for row in results["rows"]
        )
        lines += ["", f"Range of growthlens's totals over the runs: {ranges}."]
    largest = results["rows"][-1]
    g = largest["growthlens"]
    total = g["load_s"] + g["funnel_s"]
    met = largest["size"] >= 50_000_000 and total <= 30 and g["peak_rss_mb"] <= 4096
    lines += [
        "",
        f"Target (50M events in ≤ 30 s and ≤ 4 GB): at {largest['size']:,} events "
        f"{total:.1f} s and {g['peak_rss_mb']:,.0f} MB — " + ("met." if met else "not met."),
        "",
        *_tenfold(results),
    ]
    return "\n".join(lines)


def _per_user_loop(size: int) -> float | None:
    """The per-user pandas loop's total at ``size`` from benchmarks/funnel.py's results."""
    stored = DATA / "funnel.json"
    if not stored.exists():
        return None
    for entry in json.loads(stored.read_text())["data"]:
        loop = entry.get("pandas_per_user")
        if entry["shape"] == "shop" and entry["size"] == size and loop:
            return float(loop["read_s"] + loop["funnel_s"])
    return None


def _tenfold(results: dict[str, Any]) -> list[str]:
    """The "≥ 10× plain pandas at 10M events" target, read both ways, with the floor."""
    row = next((r for r in results["rows"] if r["size"] == 10_000_000), None)
    if row is None or "pandas" not in row or "floor" not in row:
        return []
    g, p, floor = row["growthlens"], row["pandas"], row["floor"]["total_s"]
    total, vectorised = g["load_s"] + g["funnel_s"], p["read_s"] + p["funnel_s"]
    loop = _per_user_loop(10_000_000)
    lines = [
        "Target (≥ 10× a plain-pandas implementation at 10M events). How it is read: the "
        "speed-up is measured against pandas written the way an analyst writes a funnel "
        "without an engine, one group per user walking the chains (`groupby().apply`, the "
        "section above), because that is the work growthlens replaces and the issue's "
        'own contrast ("never per user in Python"). The vectorised `merge_asof` '
        "implementation above is a specialist's, and no engine plan can be 10× faster than "
        "it on this machine: the floor query, which skips everything but the counts, is "
        f"{vectorised / floor:.1f}× it ({floor:.1f} s against {vectorised:.1f} s), so "
        f"growthlens's {vectorised / total:.1f}× is reported beside it, as is growthlens's "
        f"distance from the floor ({total / floor:.1f}×: validation of every row, the "
        "per-user table, medians and distributions).",
    ]
    if loop is not None:
        verdict = "met" if loop / total >= 10 else "not met"
        lines[0] += (
            f" Against the per-user loop ({loop:.1f} s at 10,000,000 events, shop shape, "
            "without the breakdown): "
            f"{loop / total:.0f}× — {verdict}."
        )
    return [*lines, ""]


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
    stored = DATA / "funnel_breakdown.json"
    if stored.exists():
        alike = ("memory_limit", "repeat")
        results = kept_runs(json.loads(stored.read_text()), results, "rows", alike)
    store(stored, results)
    if not args.no_docs:
        write_section(HEADING, render(results))


if __name__ == "__main__":
    main()
