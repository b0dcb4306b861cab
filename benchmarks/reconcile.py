"""Benchmark: ``gl.reconcile`` of two 10M-row conversion tables, vs pandas.

Two tables in the Company X layout (order_id, user_id, ts, revenue, market) written once
as Parquet into ``benchmarks/data/reconcile-<rows>/`` (gitignored), generated with numpy:
the reference holds ``rows`` conversions over 180 days; orders copy it with discrepancies
planted at random (1% missing in orders, 0.5% extra rows missing in the reference, 0.2%
duplicated keys on each side, 1% revenue mismatches, 0.5% near misses, 0.3% date, 0.2%
user and 0.2% market mismatches, and a three-day outage with 90% of the orders missing).

Each timing runs in a fresh process: ``gl.load(orders=…, conversions_reference=…)`` with
``duplicates = "keep"`` on both and ``materialize=True`` (the Parquet is stored in DuckDB
once, so the checks of the load are not re-run on every scan), DuckDB ``memory_limit``
3GB (``--memory-limit``), then ``reconcile`` (wall time of each, import excluded;
peak RSS of the whole process, DuckDB included); a second run adds the key-less match
(``match_without_key={"time": "1d"}``). The baseline is plain pandas on the same Parquet
(first row per key by sort, outer merge, the same class counts) in its own process. The
run fails unless both give the same class counts.

    python benchmarks/reconcile.py [--rows 10000000] [--repeat 1] [--memory-limit 3GB]

Prints JSON; docs/benchmarks.md is edited by hand from it.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from common import DATA, child, machine

SEED = 0
START = "2024-01-01"
DAYS = 180

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    from growthlens.analyses.reconcile import reconcile
    from growthlens.engine import connect
    orders, reference, keyless = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    t0 = time.perf_counter()
    con = connect("duckdb", memory_limit=sys.argv[4])
    ds = gl.load(orders={"path": orders, "duplicates": "keep"},
                 conversions_reference={"path": reference, "duplicates": "keep"},
                 materialize=True, backend=con)
    t1 = time.perf_counter()
    r = reconcile(ds, match_without_key={"time": "1d"} if keyless else None)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = dict(zip(r.table["class"], r.table["rows"].astype(int).tolist()))
    print(json.dumps({"load_s": t1 - t0, "reconcile_s": t2 - t1, "peak_rss_mb": rss,
                      "counts": counts, "outages": len(r.tables["outages"])}))
    """
)

_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np, pandas as pd
    t0 = time.perf_counter()
    o = pd.read_parquet(sys.argv[1]); r = pd.read_parquet(sys.argv[2])
    t1 = time.perf_counter()
    def first(t):
        t = t.sort_values(["order_id", "ts", "user_id", "revenue", "market"], kind="stable")
        dup = t.duplicated("order_id")
        return t[~dup], int(dup.sum()), float(t.loc[dup, "revenue"].sum())
    fo, do, dro = first(o); fr, dr, drr = first(r)
    m = fo.merge(fr, on="order_id", how="outer", suffixes=("_o", "_r"), indicator=True)
    both = m[m["_merge"] == "both"]
    diff = (both["revenue_o"] - both["revenue_r"]).abs().round(9)
    counts = {
        "matched": len(both),
        "missing_in_orders": int((m["_merge"] == "right_only").sum()),
        "missing_in_reference": int((m["_merge"] == "left_only").sum()),
        "duplicated_in_orders": do, "duplicated_in_reference": dr,
        "revenue_mismatch": int((diff > 0.01).sum()),
        "near_miss": int(((diff > 0) & (diff <= 0.01)).sum()),
        "date_mismatch": int((both["ts_o"] != both["ts_r"]).sum()),
        "user_mismatch": int((both["user_id_o"] != both["user_id_r"]).sum()),
        "market_mismatch": int((both["market_o"] != both["market_r"]).sum()),
        "zero_revenue_orders": int(o.loc[o["revenue"] == 0, "order_id"].nunique()),
        "zero_revenue_reference": int(r.loc[r["revenue"] == 0, "order_id"].nunique()),
    }
    # Missing rows per day (the input of the outage check).
    days = m[m["_merge"] == "right_only"]["ts_r"].dt.date.value_counts()
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": t1 - t0, "reconcile_s": t2 - t1, "peak_rss_mb": rss,
                      "counts": counts}))
    """
)


def generate(rows: int) -> tuple[str, str]:
    """Write the two tables once; returns their paths."""
    import numpy as np
    import pandas as pd

    folder = DATA / f"reconcile-{rows}"
    orders, reference = folder / "orders.parquet", folder / "reference.parquet"
    if orders.exists() and reference.exists():
        return str(orders), str(reference)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    ids = np.arange(rows, dtype=np.int64)
    start = np.datetime64(START, "s")
    ts = start + rng.integers(0, DAYS * 86400, rows).astype("timedelta64[s]")
    ref = pd.DataFrame(
        {
            "order_id": pd.Series(ids).map("C{:09d}".format),
            "user_id": rng.integers(1, rows // 3, rows).astype(np.int64),
            "ts": ts,
            "revenue": np.round(rng.gamma(2.0, 40.0, rows), 2),
            "market": rng.choice(np.array(["US", "DE", "FR", "JP"]), rows),
        }
    )
    ref.loc[rng.random(rows) < 0.001, "revenue"] = 0.0
    o = ref.copy()
    u = rng.random(rows)
    day = ((ts - start) / np.timedelta64(1, "D")).astype(int)
    outage = (day >= 100) & (day < 103) & (rng.random(rows) < 0.9)
    drop = (u < 0.01) | outage
    o.loc[(u >= 0.01) & (u < 0.02), "revenue"] += np.round(rng.uniform(0.5, 20, rows), 2)[
        (u >= 0.01) & (u < 0.02)
    ]
    o.loc[(u >= 0.02) & (u < 0.025), "revenue"] += 0.01
    o.loc[(u >= 0.025) & (u < 0.028), "ts"] += np.timedelta64(1, "D")
    o.loc[(u >= 0.028) & (u < 0.03), "user_id"] += 1
    o.loc[(u >= 0.03) & (u < 0.032), "market"] = "XX"
    o = o[~drop]
    extra = ref.sample(frac=0.005, random_state=SEED).assign(
        order_id=lambda t: t["order_id"].str.replace("C", "X")
    )
    dup_o = o.sample(frac=0.002, random_state=SEED + 1).assign(
        ts=lambda t: t["ts"] + np.timedelta64(1, "h")
    )
    dup_r = ref.sample(frac=0.002, random_state=SEED + 2).assign(
        ts=lambda t: t["ts"] + np.timedelta64(2, "h")
    )
    o = pd.concat([o, extra, dup_o], ignore_index=True)
    r = pd.concat([ref, dup_r], ignore_index=True)
    o.sample(frac=1, random_state=SEED).to_parquet(orders, index=False)
    r.sample(frac=1, random_state=SEED).to_parquet(reference, index=False)
    return str(orders), str(reference)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB's memory_limit")
    args = parser.parse_args()
    orders, reference = generate(args.rows)
    out: dict[str, Any] = {
        "rows": args.rows,
        "machine": machine(),
        "memory_limit": args.memory_limit,
    }
    for keyless in ("0", "1"):
        runs = [
            child(_GROWTHLENS, orders, reference, keyless, args.memory_limit)
            for _ in range(args.repeat)
        ]
        best = min(runs, key=lambda r: r["reconcile_s"])
        out["growthlens" + ("_keyless" if keyless == "1" else "")] = best
    if not args.no_pandas:
        out["pandas"] = child(_PANDAS, orders, reference)
        mine = out["growthlens"]["counts"]
        theirs = out["pandas"]["counts"]
        differ = {k: (mine.get(k), v) for k, v in theirs.items() if mine.get(k) != v}
        if differ:
            raise SystemExit(f"growthlens and pandas disagree: {differ}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
