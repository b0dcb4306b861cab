"""Benchmark: ``growthlens.stats.propensity.fit_propensity`` (5-fold CV) at 1M customers,
and ``growthlens.stats.uplift.fit_uplift`` on a stated sample.

The per-customer table is generated with numpy (seeded) in the shape the engine's customer
features have on the shop case: 7 numbers (spend, purchase rows, discount share, last
purchase day, age, personal coefficient, past campaign contacts) and 4 categories (gender,
education, city of 40, favourite product group of 12), with a planted logistic purchase
model (base rate ≈ 20%) and, for uplift, a randomised 50/50 treatment whose effect is
+10 / 0 / −5 points by age group (<30, 30–49, 50+).

Timed: the whole ``fit_propensity`` call (leak guard, 5 folds of the default ``"gbm"`` model,
out-of-fold scores, DeLong / Boyd intervals, calibration, gains, permutation importance on
at most 5,000 held-out customers per fold with 3 shuffles); each fold's model is trained
on a seeded sample of 200,000 of its 800,000 training customers (``train_rows``, the
stated sample), while all 1M customers are scored out of fold; ``fit_uplift`` (T- and
X-learner, 4 models per fold, Qini and deciles). Data generation is not timed. Thread count
is set with threadpoolctl (``--threads``, default 1: the machine is shared).

    python benchmarks/propensity.py [--customers 1000000] [--uplift 200000] [--threads 1]

Prints JSON (AUCs, the planted model's own AUC, wall and CPU seconds, peak RSS);
docs/benchmarks.md is edited by hand from it.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from growthlens.stats.propensity import fit_propensity, roc_auc
from growthlens.stats.uplift import fit_uplift, segment_uplift

SEED = 0


def customers(
    n: int, seed: int = SEED
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 71, n)
    frame = pd.DataFrame(
        {
            "spend": rng.gamma(2.0, 1500.0, n),
            "purchase_rows": rng.poisson(4, n) + 1,
            "discount_share": rng.beta(2, 5, n),
            "last_purchase_day": rng.integers(0, 59, n),
            "age": age,
            "coef": rng.normal(1.0, 0.2, n),
            "past_contacts": rng.poisson(1.5, n),
            "gender": rng.choice(["f", "m"], n),
            "education": rng.choice(
                ["school", "college", "university", "phd"], n, p=[0.3, 0.3, 0.35, 0.05]
            ),
            "city": rng.choice(
                [f"city{i:02d}" for i in range(40)], n, p=np.r_[0.3, np.full(39, 0.7 / 39)]
            ),
            "group": rng.choice([f"group{i:02d}" for i in range(12)], n),
        }
    )
    logit = (
        -2.0
        + 0.25 * np.log(frame["spend"] / 3000)
        + 0.12 * (frame["purchase_rows"] - 5)
        + 1.0 * frame["discount_share"]
        + 0.02 * (frame["last_purchase_day"] - 29)
        + 0.4 * (frame["gender"] == "f")
        + 0.5 * frame["group"].isin(["group00", "group01"])
        + 0.01 * (age - 40)
    )
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    t = rng.integers(0, 2, n)
    effect = np.where(age < 30, 0.10, np.where(age < 50, 0.0, -0.05))
    y = (rng.random(n) < np.clip(p + t * effect, 0, 1)).astype(int)
    y_no_campaign = (rng.random(n) < p).astype(int)
    return frame, y_no_campaign, y, t, p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--uplift", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    out: dict[str, object] = {"customers": args.customers, "threads": args.threads}
    with threadpool_limits(args.threads):
        frame, y, _, _, p = customers(args.customers)
        start, cpu = time.perf_counter(), time.process_time()
        result = fit_propensity(frame, y, folds=5, seed=SEED)
        out["propensity_seconds"] = round(time.perf_counter() - start, 1)
        out["propensity_cpu_seconds"] = round(time.process_time() - cpu, 1)
        out["planted_auc"] = round(roc_auc(p, y), 4)
        out["propensity_status"] = result.status
        out["roc_auc"] = round(result.roc_auc, 4)
        out["roc_auc_interval"] = [round(result.roc_auc_low, 4), round(result.roc_auc_high, 4)]
        out["pr_auc"] = round(result.pr_auc, 4)
        out["base_rate"] = round(result.base_rate, 4)
        if args.uplift:
            sample, _, y_u, t, _ = customers(args.uplift, seed=SEED + 1)
            start, cpu = time.perf_counter(), time.process_time()
            uplift = fit_uplift(sample, y_u, t, folds=5, seed=SEED)
            out["uplift_customers"] = args.uplift
            out["uplift_seconds"] = round(time.perf_counter() - start, 1)
            out["uplift_cpu_seconds"] = round(time.process_time() - cpu, 1)
            out["qini_normalised"] = (
                uplift.qini.set_index("ranking")["qini_normalised"].round(4).to_dict()
            )
            age = sample["age"].to_numpy()
            groups = np.where(age < 30, "<30", np.where(age < 50, "30-49", "50+"))
            seg = segment_uplift(y_u, t, groups, scores=uplift.scores["t_learner"])
            out["segments"] = (
                seg[["segment", "uplift", "low", "high", "predicted"]].round(4).to_dict("records")
            )
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
