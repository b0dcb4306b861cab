"""Benchmark: ``gl.ab_test`` over 10M purchase lines and 1M participants, and
``gl.campaign_effect`` on the same data, vs plain pandas.

The data (written once as Parquet into ``benchmarks/data/experiments-<lines>/``, gitignored,
generated with numpy) has the shop case's shape: one row per item bought (``id``, ``dt`` a
day number 0–58, ``cost``), customers (``id``, ``city`` of 40 cities of very different
size) and an assignments table of ``participants`` customers (``user_id``, ``variant``
treatment/control at random). Shape options move the proportions: ``--buyers`` (share of
customers who ever buy) and ``--items`` (mean items per order).

Each timing runs in a fresh process: ``gl.load`` (order lines, day numbers,
``materialize=True``), then ``ab_test`` on revenue, conversion, orders, items and the
average check over days 5–16 with days 0–4 as CUPED's pre-period, then
``campaign_effect`` (city 1134 on days 15 and 45): wall time of each, import excluded,
peak RSS of the process. The baseline is pandas on the same Parquet: exact duplicate lines
dropped (the order-lines rule), lines → orders per
(customer, day), per-participant sums, Welch tests; then the city × day panel and the
2×2 difference-in-differences of means. The run fails unless both give the same revenue
means per arm.

    python benchmarks/experiments.py [--lines 10000000] [--participants 1000000]

Prints JSON; docs/benchmarks.md is edited by hand from it.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from common import DATA, child, machine

SEED = 0
DAYS = 59

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    from growthlens.analyses.ab_test import ab_test
    from growthlens.analyses.campaign_effect import campaign_effect
    from growthlens.engine import connect
    lines, customers, assignments, memory_limit = sys.argv[1:5]
    t0 = time.perf_counter()
    ds = gl.load(
        backend=connect("duckdb", memory_limit=memory_limit),
        orders={"path": lines, "columns": {"user_id": "id", "ts": "dt", "revenue": "cost"},
                "timestamp_unit": "D"},
        customers={"path": customers, "columns": {"user_id": "id"}},
        assignments=assignments,
        order_lines=True, day_zero="2023-01-01", materialize=True,
    )
    t1 = time.perf_counter()
    r = ab_test(ds, window=(5, 16), pre_window=(0, 4),
                metric=["revenue", "conversion", "orders", "items", "average_check"])
    t2 = time.perf_counter()
    c = campaign_effect(ds, treated={"city": 1134}, period=[15, 45])
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    arms = r.tables["arms"]
    rev = arms[arms["metric"] == "revenue"].set_index("variant")["value"].to_dict()
    print(json.dumps({"load_s": t1 - t0, "ab_test_s": t2 - t1, "campaign_s": t3 - t2,
                      "peak_rss_mb": rss, "revenue": rev, "status": [r.status, c.status],
                      "ratio": c.summary["ratio"].value}))
    """
)

_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np, pandas as pd
    from scipy import stats
    lines, customers, assignments = sys.argv[1:4]
    t0 = time.perf_counter()
    l = pd.read_parquet(lines); cu = pd.read_parquet(customers); a = pd.read_parquet(assignments)
    t1 = time.perf_counter()
    l = l.drop_duplicates()  # exact duplicate lines are excluded (docs/data.md, order lines)
    orders = l.groupby(["id", "dt"], as_index=False).agg(revenue=("cost", "sum"),
                                                         items=("cost", "size"))
    def per_user(lo, hi, p):
        w = orders[(orders["dt"] >= lo) & (orders["dt"] <= hi)]
        g = w.groupby("id").agg(orders=("revenue", "size"), revenue=("revenue", "sum"),
                                items=("items", "sum"))
        return g.add_prefix(p)
    u = a.set_index("user_id").join(per_user(5, 16, "")).join(per_user(0, 4, "pre_")).fillna(0)
    rev = {}
    for col in ("revenue", "orders", "items"):
        t = u.loc[u["variant"] == "treatment", col]; c = u.loc[u["variant"] == "control", col]
        stats.ttest_ind(t, c, equal_var=False)
        if col == "revenue":
            rev = {"treatment": float(t.mean()), "control": float(c.mean())}
    conv = (u["orders"] > 0).groupby(u["variant"]).agg(["sum", "size"])
    t2 = time.perf_counter()
    o = orders.merge(cu, on="id")
    panel = o.groupby(["city", "dt"]).size().unstack(fill_value=0)
    camp = panel.columns.isin([15, 45])
    tr = panel.loc[1134]; cmp_ = panel.drop(index=1134)
    did = (tr[camp].mean() - tr[~camp].mean()) - (cmp_.loc[:, camp].mean(axis=1).mean()
                                                  - cmp_.loc[:, ~camp].mean(axis=1).mean())
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": t1 - t0, "ab_test_s": t2 - t1, "campaign_s": t3 - t2,
                      "peak_rss_mb": rss, "revenue": rev, "did": float(did)}))
    """
)


def generate(lines: int, participants: int, buyers: float, items: float) -> tuple[str, str, str]:
    """Write the three tables once; returns their paths."""
    import numpy as np
    import pandas as pd

    folder = DATA / f"experiments-{lines}-{participants}-{buyers}-{items}"
    paths = tuple(str(folder / f"{n}.parquet") for n in ("lines", "customers", "assignments"))
    if all((folder / f"{n}.parquet").exists() for n in ("lines", "customers", "assignments")):
        return paths  # type: ignore[return-value]
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    orders = int(lines / (1 + items))
    customers = max(participants * 2, int(orders / (DAYS * 0.05)))
    sizes = 1 / np.arange(1, 41) ** 0.9
    cities = np.arange(1100, 1140)
    city = rng.choice(cities, customers, p=sizes / sizes.sum())
    pd.DataFrame({"id": np.arange(customers, dtype=np.int64), "city": city}).to_parquet(
        paths[1], index=False
    )
    chosen = rng.choice(customers, participants, replace=False)
    variant = np.where(rng.random(participants) < 0.5, "treatment", "control")
    pd.DataFrame({"user_id": chosen.astype(np.int64), "variant": variant}).to_parquet(
        paths[2], index=False
    )
    active = rng.random(customers) < buyers
    pool = np.flatnonzero(active)
    who = rng.choice(pool, orders)
    day = rng.integers(0, DAYS, orders)
    per = 1 + rng.poisson(items, orders)
    uid = np.repeat(who, per)
    dt = np.repeat(day, per)
    cost = np.round(rng.lognormal(7.0, 0.8, len(uid))).astype(np.int64)
    n = min(len(uid), lines)
    pd.DataFrame({"id": uid[:n].astype(np.int64), "dt": dt[:n], "cost": cost[:n]}).to_parquet(
        paths[0], index=False
    )
    return paths  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--buyers", type=float, default=0.6)
    parser.add_argument("--items", type=float, default=0.7)
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB's memory_limit")
    args = parser.parse_args()
    paths = generate(args.lines, args.participants, args.buyers, args.items)
    out: dict[str, Any] = {
        "lines": args.lines,
        "participants": args.participants,
        "buyers": args.buyers,
        "items": args.items,
        "machine": machine(),
        "memory_limit": args.memory_limit,
        "growthlens": child(_GROWTHLENS, *paths, args.memory_limit),
    }
    if not args.no_pandas:
        out["pandas"] = child(_PANDAS, *paths)
        mine, theirs = out["growthlens"]["revenue"], out["pandas"]["revenue"]
        if any(abs(mine[k] - theirs[k]) > 1e-6 * max(1.0, abs(theirs[k])) for k in theirs):
            raise SystemExit(f"growthlens and pandas disagree: {mine} vs {theirs}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
