"""Benchmark: k-prototypes clustering of 1M customers with k chosen in 2..8 (issue 17: ≤ 60 s).

A per-customer frame with the features the issue names (spend, purchase rows, discount share,
last purchase day, age, personal coefficient; favourite product group, colour, gender,
education, city) is simulated with numpy: ``--k`` planted clusters (default 5), each with its
own numeric centre (at least 5 noise standard deviations from every other on the scaled
features) and, with probability 0.7, its own favourite group, colour, education and city
(otherwise drawn at random); gender is noise. Spend is log-normal (a heavy tail).

Timed in this process (generation excluded): ``cluster_customers`` with the defaults (fit on a
random 20,000, k in 2..8 by elbow and stability, every customer assigned) and
``profile_clusters`` on all customers. Printed: timings, the chosen k, the adjusted Rand index
against the planted clusters, and the peak RSS. One core (no parallel jobs).

    python benchmarks/clusters.py [--customers 1000000] [--k 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from growthlens.stats.clusters import cluster_customers, profile_clusters

NUMERIC = ["spend", "rows", "discount_share", "last_day", "age", "coef"]
CATEGORICAL = ["group", "colour", "gender", "education", "city"]


def simulate(n: int, k: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    while True:
        centres = rng.uniform(-6, 6, (k, len(NUMERIC)))
        gap = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1)) + np.eye(k) * 99
        if gap.min() >= 5:
            break
    truth = rng.integers(0, k, n)
    z = centres[truth] + rng.normal(size=(n, len(NUMERIC)))
    frame = pd.DataFrame(
        {
            "spend": np.exp(7 + 0.3 * z[:, 0]),
            "rows": np.maximum(1, np.round(5 + 1.5 * z[:, 1])),
            "discount_share": 1 / (1 + np.exp(-0.5 * z[:, 2])),
            "last_day": 200 + 20 * z[:, 3],
            "age": 40 + 4 * z[:, 4],
            "coef": 1 + 0.1 * z[:, 5],
        }
    )
    levels = {
        "group": ["обувь", "мячи", "одежда", "инвентарь", "сумки", "аксессуары", "вода", "шорты"],
        "colour": ["черный", "белый", "синий", "красный", "зеленый", "серый", "желтый", "розовый"],
        "education": ["школа", "колледж", "бакалавр", "магистр", "PhD", "нет", "MBA", "курс"],
        "city": [f"city{i}" for i in range(40)],
    }
    for name, values in levels.items():
        own = np.asarray(values)[np.arange(k) % len(values)]
        noise = np.asarray(values)[rng.integers(0, len(values), n)]
        frame[name] = np.where(rng.random(n) < 0.7, own[truth], noise)
    frame["gender"] = np.where(rng.random(n) < 0.5, "f", "m")
    return frame, truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame, truth = simulate(args.customers, args.k, args.seed)
    start = time.perf_counter()
    fit = cluster_customers(frame, numeric=NUMERIC, categorical=CATEGORICAL, seed=args.seed)
    clustered = time.perf_counter() - start
    start = time.perf_counter()
    profile_clusters(
        frame, fit.labels, numeric=NUMERIC, categorical=CATEGORICAL, value="spend",
        roles={"monetary": "spend", "frequency": "rows", "discount": "discount_share"},
    )  # fmt: skip
    profiled = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "customers": args.customers,
                "planted_k": args.k,
                "chosen_k": fit.k,
                "status": fit.status,
                "ari": round(float(adjusted_rand_score(truth, fit.labels)), 4),
                "cluster_s": round(clustered, 2),
                "profile_s": round(profiled, 2),
                "peak_rss_mb": round(rss),
                "stability": fit.selection["stability"].round(3).tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
