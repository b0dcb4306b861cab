"""Full-size calibration of the A/B statistics, and their speed at 1M units per arm.

```
python benchmarks/calibration_ab.py                    # 10,000 simulations, n = 10,000 per arm
python benchmarks/calibration_ab.py --sims 2000 --n 5000 --replicates 400   # the CI's sizes
```

Runs the simulations of tests/stats/test_ab_calibration.py (same data, same public
functions) at more simulations and larger arms, and prints markdown tables: A/A
false-positive rates, coverage of planted effects, CUPED's variance reduction against
ρ², the sequential test under peeking (50 looks) against a naive repeated test, the
calibration of the Bayesian probability to beat control, and the wall time of each
function at 1M units per arm. docs/experiments.md ("How the tests are computed") records
the figures. Minutes on one core.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stats.test_ab_calibration import (  # noqa: E402
    bayes_calibration,
    coverage,
    false_positives,
    peeking,
    revenue,
    variance_reduction,
)

from growthlens.stats.bayes import bayes_means, bayes_proportions  # noqa: E402
from growthlens.stats.bootstrap import bootstrap_difference  # noqa: E402
from growthlens.stats.comparison import (  # noqa: E402
    compare_means,
    compare_proportions,
    compare_ratio,
)
from growthlens.stats.cuped import cuped  # noqa: E402
from growthlens.stats.ranks import mann_whitney  # noqa: E402
from growthlens.stats.sequential import sequential_means  # noqa: E402
from growthlens.stats.srm import sample_ratio  # noqa: E402


def _se(rate: float, sims: int) -> str:
    return f"{rate:.4f} ± {math.sqrt(max(rate * (1 - rate), 1e-12) / sims):.4f}"


def speed(n: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    x_t, x_c = revenue(rng, n), revenue(rng, n)
    pre_t, pre_c = revenue(rng, n), revenue(rng, n)
    orders_t, orders_c = (x_t > 0).astype(float), (x_c > 0).astype(float)
    k_t, k_c = int(orders_t.sum()), int(orders_c.sum())
    calls: dict[str, Callable[[], object]] = {
        "compare_proportions": lambda: compare_proportions(k_t, n, k_c, n),
        "compare_means": lambda: compare_means(x_t, x_c),
        "compare_ratio": lambda: compare_ratio(x_t, orders_t, x_c, orders_c),
        "mann_whitney": lambda: mann_whitney(x_t, x_c),
        "bootstrap_difference (2,000 replicates, continuous revenue)": lambda: bootstrap_difference(
            x_t, x_c
        ),
        "bootstrap_difference (2,000 replicates, whole roubles)": lambda: bootstrap_difference(
            np.round(x_t), np.round(x_c)
        ),
        "cuped": lambda: cuped(x_t, pre_t, x_c, pre_c),
        "bayes_proportions (200,000 draws)": lambda: bayes_proportions(k_t, n, k_c, n),
        "bayes_means": lambda: bayes_means(x_t, x_c),
        "sequential_means": lambda: sequential_means(x_t, x_c),
        "sample_ratio": lambda: sample_ratio([n, n]),
    }
    out = []
    for name, call in calls.items():
        start = time.perf_counter()
        call()
        out.append((name, time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=10_000, help="units per arm")
    parser.add_argument("--replicates", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    sims, n = args.sims, args.n
    started = time.perf_counter()

    print(f"## A/A false-positive rate at α = 0.05 ({sims:,} simulations)\n")
    print(
        f"Arms of {n:,} units (CUPED: {n // 5:,}); bootstrap with {args.replicates} replicates.\n"
    )
    print("| test | false-positive rate |\n|---|---|")
    rates = false_positives(sims, n, args.seed, args.replicates)
    for name, rate in rates.items():
        if name != "bayes_mean_prob_beat":
            print(f"| {name} | {_se(rate, sims)} |")
    print(f"\nMean Bayesian P(beat) under A/A: {rates['bayes_mean_prob_beat']:.4f} (ideal 0.5)\n")

    print(f"## Coverage of 95% intervals ({sims:,} simulations, planted effects)\n")
    print("| interval | coverage |\n|---|---|")
    cov = coverage(sims, n, args.seed + 1)
    for name, rate in cov.items():
        if not name.endswith("bias_in_se"):
            print(f"| {name} | {_se(rate, sims)} |")
    print(
        f"\nMean estimate − truth, in standard errors of the mean: CUPED "
        f"{cov['cuped_bias_in_se']:+.2f}, plain difference on the same data "
        f"{cov['plain_bias_in_se']:+.2f}\n"
    )

    print("## CUPED variance reduction against the planted correlation\n")
    print("| ρ | ρ² | measured reduction |\n|---|---|---|")
    for rho, reduction in variance_reduction((0.0, 0.3, 0.5, 0.7, 0.9), 100_000, 3).items():
        print(f"| {rho} | {rho**2:.2f} | {reduction:.4f} |")

    print(f"\n## Continuous monitoring: A/A, 50 looks of 200 per arm ({sims:,} simulations)\n")
    print("| data | always-valid sequence | naive Welch at every look |\n|---|---|---|")
    peek = peeking(sims, looks=50, batch=200, seed=args.seed + 2)
    for kind in ("conversion", "normal"):
        print(
            f"| {kind} | {_se(peek[kind + '_sequential'], sims)} | "
            f"{_se(peek[kind + '_naive'], sims)} |"
        )

    print(f"\n## Bayesian P(beat) calibration ({sims:,} simulations)\n")
    print(
        "| metric | bin | mean P(beat) | share truly better | simulations |\n|---|---|---|---|---|"
    )
    for name, rows in bayes_calibration(sims, args.seed + 3).items():
        for b, (mean_prob, share, count) in enumerate(rows):
            print(
                f"| {name} | {b / 5:.1f}–{(b + 1) / 5:.1f} | {mean_prob:.3f} | "
                f"{share:.3f} | {count} |"
            )

    if not args.no_speed:
        print("\n## Speed at 1,000,000 units per arm (one call, wall time)\n")
        print("| function | seconds |\n|---|---|")
        for name, seconds in speed(1_000_000):
            print(f"| {name} | {seconds:.3f} |")
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
