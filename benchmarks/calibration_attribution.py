"""Coverage of gl.attribution's bootstrap intervals, per model, on simulated journeys.

Uses the world of tests/analyses/test_attribution_calibration.py (same generator, more
simulations) and prints JSON: per model, the share of simulations whose 95% interval of a
channel's credited conversions (and revenue) covers its expected credit, pooled over the
four channels and per channel.

    python benchmarks/calibration_attribution.py [--sims 400] [--n 300]

About 1 s per simulation on one core. Figures go to docs/attribution.md by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analyses.test_attribution_calibration import MODELS, TRUTH_N, world

from growthlens.analyses.attribution import attribution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=400)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    truth = (
        attribution(world(TRUTH_N, seed=10_000), models=list(MODELS), bootstrap=0)
        .tables["credit"]
        .set_index(["model", "channel"])[["conversions", "revenue"]]
        / TRUTH_N
    )
    hits: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for sim in range(args.sims):
        r = attribution(world(args.n, seed=sim), models=list(MODELS), bootstrap=200, seed=sim)
        for key, row in r.tables["credit"].set_index(["model", "channel"]).iterrows():
            if key not in truth.index or not np.isfinite(row["low"]):
                continue
            want = truth.loc[key] * args.n
            hits.setdefault(key, []).append(
                (
                    bool(row["low"] <= want["conversions"] <= row["high"]),
                    bool(row["revenue_low"] <= want["revenue"] <= row["revenue_high"]),
                )
            )
    out: dict[str, object] = {"sims": args.sims, "conversions": args.n, "bootstrap": 200}
    for model in MODELS:
        keys = [k for k in hits if k[0] == model]
        both = np.array([h for k in keys for h in hits[k]], dtype=float)
        out[model] = {
            "coverage": round(float(both[:, 0].mean()), 3),
            "revenue_coverage": round(float(both[:, 1].mean()), 3),
            "by_channel": {k[1]: round(float(np.mean([h[0] for h in hits[k]])), 3) for k in keys},
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
