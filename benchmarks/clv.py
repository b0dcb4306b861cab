"""Benchmark: BG/NBD + Gamma-Gamma fit and per-customer CLV at 1M customers (target: fit ≤ 30 s).

Data, generated in memory with numpy (seed 0) from the models themselves: ``--customers``
customers with BG/NBD parameters r = 0.25, α = 4 days, a = 0.8, b = 2.5 and Gamma-Gamma
p = 6, q = 4, γ = 15; first purchases spread uniformly over a year before the end of the
calibration period (T uniform in [1, 365] days), recency and T rounded to whole days as the
engine delivers them (so customers share (x, t_x, T) rows, which the fit aggregates).

Timed, in a fresh process (wall time, best of ``--repeat``): ``fit_bgnbd``, ``fit_gamma_gamma``,
per-customer predictions (``p_alive`` and ``expected_purchases`` over 90 days),
``clv(frame, horizon=90)`` end to end (both fits plus every prediction), and the same with a
daily discount rate (0.0003, ≈ 11.6 % a year: one ₂F₁ evaluation per distinct row per day).
The run fails unless the fitted parameters are within 3 standard errors of the planted ones.

    python benchmarks/clv.py [--customers 1000000] [--repeat 1]

Prints JSON; docs/benchmarks.md is updated by the lead from it.
"""

from __future__ import annotations

import argparse
import json
import textwrap

from common import child, machine

_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np, pandas as pd
    from growthlens.stats.clv import (clv, expected_purchases, fit_bgnbd, fit_gamma_gamma,
                                      p_alive)
    n, repeat = int(sys.argv[1]), int(sys.argv[2])
    BG, GG = (0.25, 4.0, 0.8, 2.5), (6.0, 4.0, 15.0)
    rng = np.random.default_rng(0)
    lam, drop = rng.gamma(BG[0], 1 / BG[1], n), rng.beta(BG[2], BG[3], n)
    T = np.ceil(rng.uniform(0, 365, n))
    now, x, t_x = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    t0 = time.perf_counter()
    while active.any():
        idx = np.flatnonzero(active)
        t_next = now[idx] + rng.exponential(1 / lam[idx])
        over = t_next > T[idx]
        active[idx[over]] = False
        go = idx[~over]
        now[go] = t_next[~over]
        x[go] += 1
        t_x[go] = t_next[~over]
        active[go[rng.random(len(go)) < drop[go]]] = False
    t_x = np.minimum(np.round(t_x), T)
    nu = rng.gamma(GG[1], 1 / GG[2], n)
    m = np.where(x > 0, rng.gamma(GG[0] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), np.nan)
    simulate_s = time.perf_counter() - t0

    def best(fn):
        times, out = [], None
        for _ in range(repeat):
            s = time.perf_counter(); out = fn(); times.append(time.perf_counter() - s)
        return min(times), out

    bg_s, bg = best(lambda: fit_bgnbd(x, t_x, T))
    gg_s, gg = best(lambda: fit_gamma_gamma(x, np.nan_to_num(m)))
    pred_s, _ = best(lambda: (p_alive(bg, x, t_x, T), expected_purchases(bg, x, t_x, T, 90.0)))
    frame = pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary": m})
    clv_s, res = best(lambda: clv(frame, horizon=90.0))
    disc_s, _ = best(lambda: clv(frame, horizon=90.0, daily_discount=0.0003))
    within = {k: abs(getattr(bg, k) - v) < 3 * bg.se[k]
              for k, v in zip(("r", "alpha", "a", "b"), BG)}
    within |= {k: abs(getattr(gg, k) - v) < 3 * gg.se[k]
               for k, v in zip(("p", "q", "gamma"), GG)}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "customers": n, "repeat_buyers": bg.repeat_buyers, "distinct_rows": bg.rows,
        "simulate_s": simulate_s, "fit_bgnbd_s": bg_s, "fit_gamma_gamma_s": gg_s,
        "predict_s": pred_s, "clv_s": clv_s, "clv_discounted_s": disc_s, "peak_rss_mb": rss,
        "bgnbd": dict(zip(("r", "alpha", "a", "b"), bg.params)), "bgnbd_se": bg.se,
        "gamma_gamma": dict(zip(("p", "q", "gamma"), gg.params)), "gamma_gamma_se": gg.se,
        "status": [bg.status, gg.status, res.status], "within_3_se": within,
    }))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    result = child(_CHILD, str(args.customers), str(args.repeat))
    result["machine"] = machine()
    print(json.dumps(result, indent=2))
    if not all(result["within_3_se"].values()):
        raise SystemExit("a parameter is more than 3 standard errors from the planted value")


if __name__ == "__main__":
    main()
