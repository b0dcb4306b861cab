"""Benchmark: the customer analyses end to end on the shop case's files.

Writes the shop folder (``growthlens.demo.shop.write_shop``, not timed), loads it with the
preset, then times each customer analysis as the report runs it: ``gl.rfm``,
``gl.clusters`` (k in 2..8, fitted on a 20,000-buyer sample, every buyer assigned),
``gl.clv`` (with a hold-out, by customer group: the clusters fit is shared),
``gl.propensity`` with the email experiment as treatment (5-fold CV, uplift), and
``gl.impute`` of gender. Each analysis runs once on a fresh Dataset of the same files, so
no cached step is shared between timings; the load is timed separately.

    python benchmarks/customers.py [--customers 200000] [--threads 1]

Prints JSON (rows, seconds per step, peak RSS, and the recovery figures the tests check);
docs/benchmarks.md is edited by hand from it.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

import growthlens as gl
from growthlens.demo.shop import write_shop

TASTE = ["age", "gender", "education", "favourite_group", "favourite_colour"]


def _timed(step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = step()
    return out, round(time.perf_counter() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(args.threads):
        folder = Path(tmp)
        truth = write_shop(folder, customers=args.customers, seed=0)
        ds, load_s = _timed(lambda: gl.load(folder))
        lines = truth.shop_cleaning["lines"]
        seconds: dict[str, float] = {"load": load_s}
        results: dict[str, gl.Result] = {}
        steps: dict[str, Callable[[gl.Dataset], gl.Result]] = {
            "rfm": lambda d: gl.rfm(d),
            "clusters": lambda d: gl.clusters(d),
            "clusters_taste": lambda d: gl.clusters(d, features=TASTE),
            "clv": lambda d: gl.clv(d, holdout=14, by="cluster"),
            "propensity_uplift": lambda d: gl.propensity(
                d, window=(5, 16), treatment="first_company"
            ),
            "propensity_45_58": lambda d: gl.propensity(d, window=(45, 58)),
            "impute": lambda d: gl.impute(d),
        }
        for name, step in steps.items():
            fresh = gl.load(folder)
            results[name], seconds[name] = _timed(lambda s=step, f=fresh: s(f))  # type: ignore[misc]
        planted = pd.read_csv(folder / truth.shop_planted["per_customer_file"])
        labels = (
            results["clusters_taste"]
            .tables["labels"]
            .merge(planted, left_on="user_id", right_on="id")
        )
        out = {
            "customers": args.customers,
            "purchase_lines": lines,
            "buyers": int(results["clv"].summary["customers"].value),  # type: ignore[arg-type]
            "threads": args.threads,
            "seconds": seconds,
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
            "ari_taste": round(adjusted_rand_score(labels["persona"], labels["cluster"]), 3),
            "auc": round(float(results["propensity_45_58"].summary["roc_auc"].value), 3),  # type: ignore[arg-type]
            "planted_auc": round(truth.shop_planted["propensity"]["planted_auc"], 3),
            "impute_accuracy": round(float(results["impute"].summary["accuracy"].value), 3),  # type: ignore[arg-type]
        }
        del ds
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
