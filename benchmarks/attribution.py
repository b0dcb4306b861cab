"""Benchmark: ``gl.attribution`` on 1M conversions over 10M sessions, 20 channels, vs pandas.

Data, written once as Parquet into ``benchmarks/data/attribution-<sessions>/`` (gitignored),
generated with numpy: 3M users (a tenth of the sessions count, scaled) with 1 + Poisson
sessions each (exactly ``--sessions`` in all) at uniform times over 90 days; each user
leans to one of 20 channels (half their sessions from it, the rest from the skewed
overall mix); a tenth of the sessions (chosen at random) is followed by an order 0–6 hours
later (``--sessions``/10 orders, lognormal revenue).

growthlens (fresh process, DuckDB ``memory_limit`` 3GB): ``gl.load`` then
``attribution(ds)`` with every model the data allows (first/last touch, last non-direct,
linear, time decay, position-based, first-order Markov chain, Shapley), lookback 30 days,
200 bootstrap replicates; wall time of each and the process's peak RSS. The baseline is
plain pandas in its own process: journeys by ``pd.merge_asof`` (each session to the
user's next order at or after it, within 30 days) and the six rule models' credit per
channel (no Markov, no Shapley, no bootstrap). The run fails unless the two agree on the
linear and last-touch credit per channel (1e-6).

    python benchmarks/attribution.py [--sessions 10000000] [--bootstrap 200]

Prints JSON; docs/benchmarks.md is updated by the lead from it.
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from typing import Any

from common import DATA, child, machine

CHANNELS = 20
START, DAYS = "2024-01-01", 90
END = "2024-03-30"
SEED = 0

_GROWTHLENS = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    from growthlens.analyses.attribution import attribution
    from growthlens.engine import connect
    folder, start, end, bootstrap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    t0 = time.perf_counter()
    con = connect("duckdb", memory_limit="3GB")
    ds = gl.load(sessions=folder + "/sessions.parquet", orders=folder + "/orders.parquet",
                 window=(start, end), backend=con)
    t1 = time.perf_counter()
    r = attribution(ds, bootstrap=bootstrap)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    credit = r.tables["credit"]
    pick = lambda m: {c: float(v) for c, v in
                      credit[credit["model"] == m][["channel", "conversions"]].values}
    print(json.dumps({"load_s": t1 - t0, "attribution_s": t2 - t1, "peak_rss_mb": rss,
                      "models": list(r.params["models"]), "status": r.status,
                      "conversions": r.summary["conversions"].value,
                      "touches": r.summary["touches"].value,
                      "linear": pick("linear"), "last_touch": pick("last_touch")}))
    """
)

# Journeys and the rule models per docs/attribution.md, in plain pandas.
_PANDAS = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np, pandas as pd
    folder, lookback_s, half_life_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    t0 = time.perf_counter()
    s = pd.read_parquet(folder + "/sessions.parquet")
    o = pd.read_parquet(folder + "/orders.parquet")
    t1 = time.perf_counter()
    # Each session → the user's first order at or after it (ties: smallest order id).
    o = o.sort_values(["ts", "order_id"], kind="stable")
    s = s.sort_values("start_ts", kind="stable")
    j = pd.merge_asof(s, o[["user_id", "ts", "order_id", "revenue"]], left_on="start_ts",
                      right_on="ts", by="user_id", direction="forward", allow_exact_matches=True)
    j = j[j["order_id"].notna()]
    j = j[(j["ts"] - j["start_ts"]).dt.total_seconds() <= lookback_s]
    j = j.sort_values(["order_id", "start_ts", "session_id"], kind="stable")
    g = j.groupby("order_id", sort=False)
    j["pos"] = g.cumcount()
    j["n"] = g["session_id"].transform("size")
    direct = j["source"].str.strip().str.lower().isin(["direct", "(direct)", "(none)"])
    lnd = j["pos"].where(~direct).groupby(j["order_id"]).transform("max")
    age = (j["ts"] - j["start_ts"]).dt.total_seconds()
    w = pd.Series(np.power(2.0, -(age - age.groupby(j["order_id"]).transform("min"))
                           / half_life_s), index=j.index)
    n = j["n"].astype(float)
    credit = {
        "first_touch": (j["pos"] == 0).astype(float),
        "last_touch": (j["pos"] == j["n"] - 1).astype(float),
        "last_non_direct": (j["pos"] == lnd.fillna(j["n"] - 1)).astype(float),
        "linear": 1.0 / n,
        "time_decay": w / w.groupby(j["order_id"]).transform("sum"),
        "position_based": pd.Series(np.select(
            [j["n"] == 1, j["n"] == 2, j["pos"] == 0, j["pos"] == j["n"] - 1],
            [1.0, 0.5, 0.4, 0.4], 0.2 / (n - 2).where(n > 2)), index=j.index),
    }
    out = {}
    for m, c in credit.items():
        out[m] = {k: float(v) for k, v in c.groupby(j["source"]).sum().items()}
    untouched = int(len(o) - j["order_id"].nunique())
    for m in out:
        if untouched:
            out[m]["(no touch)"] = float(untouched)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"read_s": t1 - t0, "models_s": t2 - t1, "peak_rss_mb": rss,
                      "linear": out["linear"], "last_touch": out["last_touch"]}))
    """
)


def dataset(sessions: int) -> dict[str, Any]:
    """Write (once) sessions and orders for ``sessions`` sessions; returns the facts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = DATA / f"attribution-{sessions}"
    facts_path = folder / "facts.json"
    if facts_path.exists():
        return {**json.loads(facts_path.read_text()), "folder": str(folder)}
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng([SEED, sessions])
    users = max(1, sessions * 3 // 10)
    counts = 1 + rng.poisson(sessions / users - 1, users)
    excess = int(counts.sum()) - sessions
    while excess != 0:  # trim or pad at random users until the total is exact
        pick = rng.integers(0, users, abs(excess))
        if excess > 0:
            np.subtract.at(counts, pick, 1)
            counts = np.maximum(counts, 1)
        else:
            np.add.at(counts, pick, 1)
        excess = int(counts.sum()) - sessions
    user = np.repeat(np.arange(users, dtype=np.int64), counts)
    sec = rng.integers(0, DAYS * 86400, sessions)
    mix = 0.8 ** np.arange(CHANNELS)
    mix /= mix.sum()
    names = ["direct"] + [f"channel_{i:02d}" for i in range(1, CHANNELS)]
    favourite = rng.choice(CHANNELS, users, p=mix)
    source = np.where(
        rng.random(sessions) < 0.5, favourite[user], rng.choice(CHANNELS, sessions, p=mix)
    )
    start = np.datetime64(START, "s")
    ts = (start + sec.astype("timedelta64[s]")).astype("datetime64[us]")
    pq.write_table(
        pa.table(
            {
                "user_id": user,
                "session_id": np.arange(sessions, dtype=np.int64),
                "start_ts": pa.array(ts, pa.timestamp("us")),
                "source": pa.array(names).take(pa.array(source)),
            }
        ),
        folder / "sessions.parquet",
        compression="zstd",
        row_group_size=1_000_000,
    )
    n_orders = sessions // 10
    at = rng.choice(sessions, n_orders, replace=False)
    order_sec = np.minimum(sec[at] + rng.integers(0, 6 * 3600, n_orders), DAYS * 86400 - 1)
    order_ts = (start + order_sec.astype("timedelta64[s]")).astype("datetime64[us]")
    pq.write_table(
        pa.table(
            {
                "user_id": user[at],
                "order_id": np.arange(n_orders, dtype=np.int64),
                "ts": pa.array(order_ts, pa.timestamp("us")),
                "revenue": np.round(rng.lognormal(3.5, 0.8, n_orders), 2),
            }
        ),
        folder / "orders.parquet",
        compression="zstd",
    )
    facts = {
        "sessions": sessions,
        "orders": n_orders,
        "users": users,
        "generate_s": time.perf_counter() - t0,
    }
    facts_path.write_text(json.dumps(facts))
    return {**facts, "folder": str(folder)}


def run(sessions: int, bootstrap: int, pandas: bool) -> dict[str, Any]:
    data = dataset(sessions)
    out: dict[str, Any] = {"machine": machine(), "data": data, "bootstrap": bootstrap}
    out["memory_limit"] = "3GB"  # as the growthlens child connects
    out["growthlens"] = child(_GROWTHLENS, data["folder"], START, END, str(bootstrap))
    if pandas:
        out["pandas"] = child(_PANDAS, data["folder"], str(30 * 86400), str(7 * 86400))
        for model in ("linear", "last_touch"):
            ours, theirs = out["growthlens"][model], out["pandas"][model]
            bad = {
                c: (ours.get(c), theirs.get(c))
                for c in set(ours) | set(theirs)
                if abs(ours.get(c, 0.0) - theirs.get(c, 0.0)) > 1e-6
            }
            if bad:
                raise SystemExit(f"{model} credit differs from pandas: {bad}")
    for side in ("growthlens", "pandas"):
        for model in ("linear", "last_touch"):
            out.get(side, {}).pop(model, None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000_000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--no-pandas", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.sessions, args.bootstrap, not args.no_pandas), indent=2))


if __name__ == "__main__":
    main()
