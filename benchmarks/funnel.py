"""Benchmark: ``gl.funnel`` on generated event logs at about 1M and 10M events, vs pandas.

Five steps (page_view → view_item → add_to_cart → begin_checkout → purchase), window 7
days, in each of the three orders (``ordered``, ``strict``, ``unordered``), on two shapes
of event log written once as Parquet into ``benchmarks/data/funnel-<shape>-<size>/``
(gitignored), generated with numpy in blocks of users so memory stays bounded:

* ``shop``: many users with 1–11 events each, in bursts (gaps of 4 hours on average) that
  start anywhere in 90 days; each user goes at most as deep as a geometric drop-off allows
  (half go on at each step), their step events drawn from the steps up to there and put
  mostly in funnel order (sorted by the step plus noise); 20% of the rows are other events
  (``scroll``, ``search``, …).
* ``heavy``: few users with 50–500 events each spread over the 90 days, so every user's
  sequence is long and holds many step-1 starts; the steps are drawn with geometric
  weights (½, ¼, …); again 20% other events.

Each timing runs in a fresh process: ``gl.load(events=<parquet>, window=…)`` then the
funnel call (wall time of each, import excluded; peak RSS of the whole process, DuckDB
included). The baseline is a plain-pandas ordered funnel of the same definition (a greedy
chain from every step-1 event via ``pd.merge_asof`` per step), reading the same Parquet in
its own process. The run fails unless the pandas per-step user counts equal growthlens's
``result.table["users"]`` in ordered mode.

    python benchmarks/funnel.py [--sizes 1000000 10000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from datetime import date
from typing import Any

from common import DATA, child, machine, store, write_section

HEADING = "## Funnels (events)"
STEPS = ["page_view", "view_item", "add_to_cart", "begin_checkout", "purchase"]
OTHER = ["scroll", "search", "login", "share"]
ORDERS = ["ordered", "strict", "unordered"]
SHAPES = ["shop", "heavy"]
WINDOW = "7d"
START, DAYS = "2024-01-01", 90
END = "2024-03-30"  # the 90th day
OTHER_SHARE = 0.2
SEED = 0

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    path, order, steps, window, start, end = sys.argv[1:7]
    t0 = time.perf_counter()
    ds = gl.load(events=path, window=(start, end))
    t1 = time.perf_counter()
    result = gl.funnel(ds, json.loads(steps), window=window, order=order)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": t1 - t0, "funnel_s": t2 - t1, "peak_rss_mb": rss,
                      "users": [int(u) for u in result.table["users"]],
                      "complete": [int(u) for u in result.table["complete"]]}))
    """
)

# The ordered funnel per docs/metrics.md, "Funnels": from each step-1 event the greedy
# chain takes step j at the earliest step-j event at or after step j−1's time (a different
# row: steps never share rows here), at most the window after step 1; a user reaches step
# j when any start does. Vectorised: one forward merge_asof per step, by user.
_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    import pandas as pd
    path, steps, window_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    events = pd.read_parquet(path, columns=["user_id", "ts", "event"])
    t1 = time.perf_counter()
    events = events[events["event"].isin(steps) & events["ts"].notna()]
    frames = {
        name: part[["user_id", "ts"]].sort_values("ts", kind="stable")
        for name, part in events.groupby("event", observed=True, sort=False)
    }
    empty = events.iloc[:0][["user_id", "ts"]]
    chain = frames.get(steps[0], empty).rename(columns={"ts": "ts_1"})
    chain = chain.assign(at=chain["ts_1"], limit=chain["ts_1"] + pd.Timedelta(seconds=window_s))
    users = [int(chain["user_id"].nunique())]
    for name in steps[1:]:
        right = frames.get(name, empty).rename(columns={"ts": "next"})
        chain = pd.merge_asof(chain.sort_values("at", kind="stable"), right, left_on="at",
                              right_on="next", by="user_id", direction="forward",
                              allow_exact_matches=True)
        chain = chain[chain["next"].notna() & (chain["next"] <= chain["limit"])]
        chain = chain.drop(columns="at").rename(columns={"next": "at"})
        users.append(int(chain["user_id"].nunique()))
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": t1 - t0, "funnel_s": t2 - t1, "peak_rss_mb": rss,
                      "users": users}))
    """
)


# The same definition as an analyst often writes it: one group per user, a Python loop over
# its step-1 events walking the greedy chain. Run in ordered mode only, as a second
# reference beside the vectorised baseline above (docs/benchmarks.md shows both).
_PANDAS_PER_USER = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    import pandas as pd
    path, steps, window_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    events = pd.read_parquet(path, columns=["user_id", "ts", "event"])
    t1 = time.perf_counter()
    events = events[events["event"].isin(steps) & events["ts"].notna()]
    events = events.assign(step=events["event"].map({e: i for i, e in enumerate(steps)}),
                           sec=events["ts"].astype("int64") // 10**6)
    events = events.sort_values(["user_id", "sec", "step"], kind="stable")

    def depth(group):
        sec, step = group["sec"].to_numpy(), group["step"].to_numpy()
        best = 0
        for i in np.flatnonzero(step == 0):
            reached, at = 1, sec[i]
            for j in range(1, len(steps)):
                later = np.flatnonzero((step == j) & (sec >= at))
                if not len(later) or sec[later[0]] > sec[i] + window_s:
                    break
                reached, at = j + 1, sec[later[0]]
            best = max(best, reached)
        return best

    depths = events.groupby("user_id", sort=False)[["sec", "step"]].apply(depth)
    users = [int((depths >= j).sum()) for j in range(1, len(steps) + 1)]
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": t1 - t0, "funnel_s": t2 - t1, "peak_rss_mb": rss,
                      "users": users}))
    """
)


def _shop_block(rng: Any, counts: Any, first_user: int) -> dict[str, Any]:
    """Events of ``len(counts)`` shop users (1–11 events, bursts, geometric depth)."""
    import numpy as np

    n_users, n = len(counts), int(counts.sum())
    user = np.repeat(np.arange(first_user, first_user + n_users, dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    begin = rng.integers(0, DAYS * 86400, n_users)
    gaps = rng.exponential(4 * 3600, n).astype(np.int64)
    gaps[offsets] = 0
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[offsets], counts)
    sec = np.minimum(np.repeat(begin, counts) + within, DAYS * 86400 - 1)
    # The deepest step each user's events can hold: half go on at each step.
    depth = np.minimum(rng.geometric(0.5, n_users), len(STEPS))
    step = (rng.random(n) * np.repeat(depth, counts)).astype(np.int64)
    # Mostly in funnel order over time, with some steps out of place (noisy sort key).
    step = step[np.lexsort((step + rng.normal(0, 0.7, n), user))]
    kind = np.where(rng.random(n) < OTHER_SHARE, len(STEPS) + rng.integers(0, len(OTHER), n), step)
    return {"user_id": user, "sec": sec, "kind": kind}


def _heavy_block(rng: Any, counts: Any, first_user: int) -> dict[str, Any]:
    """Events of ``len(counts)`` heavy users (50–500 events over the whole 90 days)."""
    import numpy as np

    n_users, n = len(counts), int(counts.sum())
    user = np.repeat(np.arange(first_user, first_user + n_users, dtype=np.int64), counts)
    sec = rng.integers(0, DAYS * 86400, n)
    # Per user in time order, as a log would be.
    sec = sec[np.lexsort((sec, user))]
    weights = 0.5 ** np.arange(len(STEPS))
    step = rng.choice(len(STEPS), n, p=weights / weights.sum())
    kind = np.where(rng.random(n) < OTHER_SHARE, len(STEPS) + rng.integers(0, len(OTHER), n), step)
    return {"user_id": user, "sec": sec, "kind": kind}


SPEC = {
    # events per user (low, high inclusive), users per block, block writer
    "shop": ((1, 11), 200_000, _shop_block),
    "heavy": ((50, 500), 2_000, _heavy_block),
}


def dataset(shape: str, size: int) -> dict[str, Any]:
    """Write (once) the shape's event log with exactly ``size`` rows; returns its facts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = DATA / f"funnel-{shape}-{size}"
    path, facts_path = folder / "events.parquet", folder / "facts.json"
    if facts_path.exists():
        return {**json.loads(facts_path.read_text()), "path": str(path)}
    folder.mkdir(parents=True, exist_ok=True)
    (low, high), block, make = SPEC[shape]
    rng = np.random.default_rng([SEED, SHAPES.index(shape), size])
    names = pa.array(STEPS + OTHER, pa.string())
    start = np.datetime64(START, "s")
    schema = pa.schema(
        [("user_id", pa.int64()), ("ts", pa.timestamp("us")), ("event", pa.string())]
    )
    t0 = time.perf_counter()
    written = users = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        while written < size:
            counts = rng.integers(low, high + 1, block)
            total = np.cumsum(counts)
            keep = int(np.searchsorted(total, size - written)) + 1
            counts = counts[:keep]
            counts[-1] -= max(0, int(counts.sum()) - (size - written))
            part = make(rng, counts, users)
            ts = (start + part["sec"].astype("timedelta64[s]")).astype("datetime64[us]")
            table = pa.table(
                {
                    "user_id": part["user_id"],
                    "ts": pa.array(ts, pa.timestamp("us")),
                    "event": names.take(pa.array(part["kind"])),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)
            written += len(table)
            users += len(counts)
    facts = {
        "events": written,
        "users": users,
        "generate_s": time.perf_counter() - t0,
        "bytes": path.stat().st_size,
    }
    facts_path.write_text(json.dumps(facts))
    return {**facts, "path": str(path)}


def run(sizes: list[int], repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"repeat": repeat, "window": WINDOW, "steps": STEPS, "data": []}
    window_s = 7 * 86400
    for shape in SHAPES:
        for size in sizes:
            data = dataset(shape, size)
            print(f"{shape} {size:,}: {data['users']:,} users", flush=True)
            entry: dict[str, Any] = {"shape": shape, "size": size, **data, "orders": {}}
            for order in ORDERS:
                runs = [
                    child(_GROWTHLENS, data["path"], order, json.dumps(STEPS), WINDOW, START, END)
                    for _ in range(repeat)
                ]
                entry["orders"][order] = runs
                print(f"  {order}: {[round(r['load_s'] + r['funnel_s'], 1) for r in runs]} s")
            pandas = child(_PANDAS, data["path"], json.dumps(STEPS), str(window_s))
            entry["pandas"] = pandas
            print(f"  pandas: {pandas['read_s'] + pandas['funnel_s']:.1f} s", flush=True)
            baselines = [("pandas", pandas)]
            if shape == "shop":  # per user, heavy users' hundreds of starts take hours
                per_user = child(_PANDAS_PER_USER, data["path"], json.dumps(STEPS), str(window_s))
                entry["pandas_per_user"] = per_user
                print(f"  pandas per user: {per_user['read_s'] + per_user['funnel_s']:.1f} s")
                baselines.append(("pandas per user", per_user))
            ordered = entry["orders"]["ordered"][0]["users"]
            for name, baseline in baselines:
                if baseline["users"] != ordered:
                    raise SystemExit(
                        f"{shape} {size}: {name} per-step users {baseline['users']} differ "
                        f"from growthlens ordered {ordered}"
                    )
            entry["agree"] = True
            # Each mode counts the same step-1 users; strict ≤ ordered ≤ unordered per step.
            firsts = {order: entry["orders"][order][0]["users"] for order in ORDERS}
            assert len({u[0] for u in firsts.values()}) == 1, firsts
            assert all(
                s <= o <= u
                for s, o, u in zip(
                    firsts["strict"], firsts["ordered"], firsts["unordered"], strict=True
                )
            ), firsts
            results["data"].append(entry)
    return results


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ranked = sorted(runs, key=lambda r: r["load_s"] + r["funnel_s"])
    return ranked[(len(ranked) - 1) // 2]


def render(results: dict[str, Any]) -> str:
    repeat = results["repeat"]
    lines = [
        HEADING,
        "",
        f"Measured {date.today().isoformat()} with `python benchmarks/funnel.py` on: {machine()}.",
        "",
        "Funnel: `gl.funnel(ds, ['page_view', 'view_item', 'add_to_cart', 'begin_checkout', "
        f"'purchase'], window='{results['window']}', order=…)` after `gl.load(events=<parquet>, "
        f"window=('{START}', '{END}'))`, DuckDB defaults. Each run is a fresh process: wall "
        "time of the load and of the funnel call (import excluded), peak RSS of the whole "
        "process (DuckDB included)"
        + (
            f"; growthlens ran {repeat} times per row, the median run (by total) is shown."
            if repeat > 1
            else "; each row ran once (two such runs on this shared machine differed by up to "
            "a quarter in some rows: use `--repeat` for firmer numbers)."
        ),
        "",
        "Data (generated once with numpy in blocks of users, one Parquet file, zstd; "
        "timestamps in whole seconds over 90 days; 20% of rows are other events such as "
        "`scroll` and `search`):",
        "",
        "- `shop`: users with 1–11 events each, in bursts (gaps of 4 h on average) starting "
        "anywhere in the 90 days; each user goes at most as deep as a geometric drop-off "
        "allows (half go on at each step), their step events drawn from the steps up to there "
        "and put mostly in funnel order (sorted by the step plus normal noise, sd 0.7).",
        "- `heavy`: users with 50–500 events each spread over the 90 days (about 20 events in "
        "a 7-day window, many step-1 starts per user); steps drawn with weights ½, ¼, ⅛, ….",
        "",
        "pandas = a plain-pandas ordered funnel of the same definition, in its own process "
        "reading the same Parquet: from every step-1 event a greedy chain, step j at the "
        "earliest step-j event at or after step j − 1's time and at most 7 days after step 1 "
        '(one `pd.merge_asof(…, by="user_id", direction="forward", '
        "allow_exact_matches=True)` per step on time-sorted frames, no loop over users); a "
        "user reaches step j when any start does. Its time includes `read_parquet`, as "
        "growthlens's includes `gl.load`. The speed-up compares totals in ordered mode.",
        "pandas per user = the same definition as it is often written: "
        '`groupby("user_id").apply(…)` with a Python loop over each user\'s step-1 events '
        "walking the greedy chain (ordered mode only; the second speed-up).",
        "",
        "| shape | events | users | order | load | funnel | total | peak RSS | "
        "pandas ordered (read + funnel) | pandas peak RSS | speed-up (ordered) | "
        "pandas per user | speed-up vs per user |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    agree = []
    for entry in results["data"]:
        pandas = entry["pandas"]
        pandas_total = pandas["read_s"] + pandas["funnel_s"]
        for order in ORDERS:
            runs = entry["orders"][order]
            run_ = _median(runs)
            total = run_["load_s"] + run_["funnel_s"]
            rss = max(r["peak_rss_mb"] for r in runs)
            if repeat > 1:
                totals = [r["load_s"] + r["funnel_s"] for r in runs]
                total_text = f"{total:.1f} s ({min(totals):.1f}–{max(totals):.1f})"
            else:
                total_text = f"{total:.1f} s"
            if order == "ordered":
                per_user = entry.get("pandas_per_user")
                slow = (
                    f"{per_user['read_s'] + per_user['funnel_s']:.1f} s | "
                    f"{(per_user['read_s'] + per_user['funnel_s']) / total:.0f}×"
                    if per_user
                    else "n/a | n/a"
                )
                base = (
                    f"{pandas_total:.1f} s ({pandas['read_s']:.1f} + {pandas['funnel_s']:.1f}) | "
                    f"{pandas['peak_rss_mb']:,.0f} MB | {pandas_total / total:.1f}× | {slow}"
                )
            else:
                base = "| | | |"
            lines.append(
                f"| {entry['shape']} | {entry['events']:,} | {entry['users']:,} | {order} | "
                f"{run_['load_s']:.1f} s | {run_['funnel_s']:.1f} s | {total_text} | "
                f"{rss:,.0f} MB | {base} |"
            )
        agree.append(
            f"{entry['shape']} {entry['events']:,}: "
            + " → ".join(f"{u:,}" for u in entry["orders"]["ordered"][0]["users"])
        )
    lines += [
        "",
        "Users per step, ordered (growthlens `result.table['users']`, every user who reached "
        "the step, incomplete windows included; the pandas counts were equal in every row, "
        "which the run asserts): " + "; ".join(agree) + ".",
        "",
        growth(results),
        "",
        targets(results),
        "",
        "How the ordered funnel runs (since 2026-12-04, on DuckDB): the chains are walked "
        "forward with one as-of join per step (the next step at the first row of it at or "
        "after the current time, per unit), keeping only the chains still inside the window, "
        "over a stored narrow copy of the step rows. Only the starts with a step-2 row at or "
        "after them are walked (a hash join sheds the rest first); the counted chain is the "
        "best walked one by a keyed arg-max, else the unit's earliest start (a plain "
        "minimum), and a breakdown's value rides along as an integer code in the keys, so "
        "step-1 rows of one second are never grouped. Engines without as-of joins (Spark) "
        "take the earlier plan: one backward window per step (the smallest later time of the "
        "next step, carried back) over the rows of its two steps with a range frame. At 50M "
        "`shop` events by device, run back to back twice each, the chain query took 37–44 "
        "CPU-s (17–20 s) before the starts that go nowhere stopped being ranked with their "
        "step times and 21–23 CPU-s (11–12 s) after, in DuckDB's profile; the tables built "
        "from the per-user rows in pandas went from 3.7 to 1.7 s (numpy arrays instead of "
        "frame copies, the segment as a categorical). Strict mode still joins the next "
        "k − 1 times.",
        "",
    ]
    return "\n".join(lines)


def _run_of(entry: dict[str, Any], order: str) -> dict[str, Any]:
    return _median(entry["orders"][order])


def _ratio_range(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.1f}×" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}×"


def growth(results: dict[str, Any]) -> str:
    """How the time grows from the smallest size to the largest."""
    sizes = sorted({e["size"] for e in results["data"]})
    if len(sizes) < 2:
        return ""
    small, large = sizes[0], sizes[-1]
    by = {(e["shape"], e["size"]): e for e in results["data"]}
    parts = []
    for shape in SHAPES:
        if (shape, small) not in by or (shape, large) not in by:
            continue
        a, b = by[(shape, small)], by[(shape, large)]
        total, call, load = [], [], []
        for order in ORDERS:
            x, y = _run_of(a, order), _run_of(b, order)
            total.append((y["load_s"] + y["funnel_s"]) / (x["load_s"] + x["funnel_s"]))
            call.append(y["funnel_s"] / x["funnel_s"])
            load.append(y["load_s"] / x["load_s"])
        pandas = (b["pandas"]["read_s"] + b["pandas"]["funnel_s"]) / (
            a["pandas"]["read_s"] + a["pandas"]["funnel_s"]
        )
        parts.append(
            f"`{shape}` {_ratio_range(total)} in total over the three orders (the funnel call "
            f"{_ratio_range(call)}, the load {_ratio_range(load)}; pandas {pandas:.1f}×)"
        )
    return (
        f"From {small / 1e6:g}M to {large / 1e6:g}M events ({large / small:g}× the rows) the "
        "time grows by " + "; ".join(parts) + ": the funnel call itself grows about in "
        "proportion to the rows, the load less (its fixed part weighs more at 1M)."
    )


def targets(results: dict[str, Any]) -> str:
    """Where the measured rows stand against the issue's targets, plainly."""
    largest = max(e["size"] for e in results["data"])
    at_largest = [e for e in results["data"] if e["size"] == largest]
    speedups = [
        (e["pandas"]["read_s"] + e["pandas"]["funnel_s"])
        / (_run_of(e, "ordered")["load_s"] + _run_of(e, "ordered")["funnel_s"])
        for e in at_largest
    ]
    text = ", ".join(
        f"{s:.1f}× (`{e['shape']}`)" for s, e in zip(speedups, at_largest, strict=True)
    )
    peak = max(r["peak_rss_mb"] for e in at_largest for o in ORDERS for r in e["orders"][o])
    slowest = max(
        _run_of(e, o)["load_s"] + _run_of(e, o)["funnel_s"] for e in at_largest for o in ORDERS
    )
    if largest >= 50_000_000:
        big = (
            f"50M events in ≤ 30 s and ≤ 4 GB: at {largest:,} events the slowest run took "
            f"{slowest:.1f} s and the highest peak RSS was {peak:,.0f} MB"
            + (" — met." if slowest <= 30 and peak <= 4096 else " — not met.")
        )
    else:
        big = (
            "50M events in ≤ 30 s and ≤ 4 GB: measured by `benchmarks/funnel_breakdown.py` "
            f"(next section; the largest size here is {largest:,}, where the slowest run "
            f"took {slowest:.1f} s and the highest peak RSS was {peak:,.0f} MB)."
        )
    ten = f"Speed-up over the vectorised pandas baseline at {largest:,} events (ordered): {text}."
    slow = [
        (e, e["pandas_per_user"]["read_s"] + e["pandas_per_user"]["funnel_s"])
        for e in at_largest
        if "pandas_per_user" in e
    ]
    if slow:
        ten += (
            " Over the per-user pandas loop: "
            + ", ".join(
                f"{t / (_run_of(e, 'ordered')['load_s'] + _run_of(e, 'ordered')['funnel_s']):.0f}×"
                f" (`{e['shape']}`)"
                for e, t in slow
            )
            + "."
        )
    lead = (
        "The issue's targets (50M events; ≥ 10× plain pandas at 10M, and how that is read) "
        "are judged in the next section, on the target funnel with its breakdown, beside "
        "the floor of a hand-written DuckDB query."
    )
    return f"{lead} {big} {ten}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-docs", action="store_true", help="print JSON only")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the docs from the stored results only"
    )
    args = parser.parse_args()
    if args.render:
        results = json.loads((DATA / "funnel.json").read_text())
    else:
        results = run(args.sizes, max(1, args.repeat))
        store(DATA / "funnel.json", results)
    if not args.no_docs:
        write_section(HEADING, render(results))
    print(json.dumps({k: v for k, v in results.items() if k != "data"}))


if __name__ == "__main__":
    main()
