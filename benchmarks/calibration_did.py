"""Calibration and speed of the campaign-effect statistics (stats/did.py, stats/synthetic.py).

Uses the simulated worlds of tests/stats/test_did_calibration.py (same generator, more
simulations) and prints JSON:

* coverage of the 95% intervals of the additive effect and the ratio of ratios, in the
  designs "many" (25 of 50 cities treated, cluster-robust), "case" (1 of 40 cities, days
  15 and 45, placebo in time) and "levels" (additive world, OLS, cluster-robust);
* the false-positive rate of the p-values at α = 0.05 with no campaign (lift 1);
* the mean estimates: naive before/after ratio, ratio of ratios, additive bias;
* the bias of the levels (OLS) additive effect in the case's multiplicative world when
  the largest city is the treated one (and the proportional estimate beside it);
* synthetic control in the case design: coverage and false-positive rate;
* speed on a panel of 100 cities × 60 days.

    python benchmarks/calibration_did.py [--sims 5000] [--sc-sims 1000]

It takes a few minutes on one core. Figures go to docs/experiments.md by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stats.test_did_calibration import DESIGNS, simulate, world

from growthlens.stats.did import (
    did,
    event_days,
    placebo_days,
    placebo_units,
    pretrend,
)
from growthlens.stats.synthetic import synthetic_control


def _summary(out: dict[str, np.ndarray], lift: float) -> dict[str, float]:
    error = out["additive"] - out["truth"]
    return {
        "coverage_additive": round(float(out["covered"].mean()), 4),
        "coverage_ratio": round(float(out["ratio_covered"].mean()), 4),
        "mean_naive_ratio": round(float(out["naive"].mean()), 4),
        "mean_comparison_ratio": round(float(np.nanmean(out["comparison"])), 4),
        "median_ratio": round(float(np.median(out["ratio"])), 4),
        "planted_ratio": lift,
        "mean_additive_error": round(float(error.mean()), 4),
        "se_of_that_mean": round(float(error.std() / math.sqrt(len(error))), 4),
        "mean_planted_additive": round(float(out["truth"].mean()), 4),
    }


def _false_positives(out: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        "additive_p_below_0.05": round(float((out["p"] <= 0.05).mean()), 4),
        "ratio_p_below_0.05": round(float((out["ratio_p"] <= 0.05).mean()), 4),
    }


def _levels_in_case(sims: int) -> dict[str, float]:
    """OLS (levels) additive effect where the world is multiplicative, the largest city treated."""
    rng = np.random.default_rng(11)
    spec = DESIGNS["case"]
    errors, covered, proportional, truths, widths = [], [], [], [], []
    for _ in range(sims):
        panel, treated, truth = world(rng, largest=True, **spec)  # type: ignore[arg-type]
        r = did(panel, treated=treated, campaign_days=spec["campaign"], parallel="levels")  # type: ignore[arg-type]
        errors.append(r.additive - truth)
        truths.append(truth)
        widths.append((r.additive_high - r.additive_low, 0.0))
        covered.append(r.additive_low <= truth <= r.additive_high)
        p = did(panel, treated=treated, campaign_days=spec["campaign"])  # type: ignore[arg-type]
        proportional.append((p.additive - truth, p.additive_low <= truth <= p.additive_high))
        widths[-1] = (widths[-1][0], p.additive_high - p.additive_low)
    e = np.asarray(errors)
    return {
        "mean_error": round(float(e.mean()), 4),
        "se_of_that_mean": round(float(e.std() / math.sqrt(len(e))), 4),
        "mean_abs_error": round(float(np.abs(e).mean()), 4),
        "coverage": round(float(np.mean(covered)), 4),
        "mean_planted_additive": round(float(np.mean(truths)), 4),
        "mean_interval_width": round(float(np.mean([w for w, _ in widths])), 4),
        "proportional_mean_interval_width": round(float(np.mean([w for _, w in widths])), 4),
        "proportional_mean_error": round(float(np.mean([e for e, _ in proportional])), 4),
        "proportional_coverage": round(float(np.mean([c for _, c in proportional])), 4),
    }


def _synthetic(sims: int, lift: float) -> dict[str, float]:
    rng = np.random.default_rng(12)
    spec = dict(DESIGNS["case"], lift=lift)
    covered, covered_ratio, rejected, undefined = [], [], [], 0
    for _ in range(sims):
        panel, treated, truth = world(rng, **spec)  # type: ignore[arg-type]
        r = synthetic_control(panel, treated=treated, campaign_days=spec["campaign"])  # type: ignore[arg-type]
        undefined += r.status != "ok"
        covered.append(r.low <= truth <= r.high)
        covered_ratio.append(r.ratio_low <= lift <= r.ratio_high)
        rejected.append(r.p_value <= 0.05)
    return {
        "lift": lift,
        "coverage_effect": round(float(np.mean(covered)), 4),
        "coverage_ratio": round(float(np.mean(covered_ratio)), 4),
        "p_below_0.05": round(float(np.mean(rejected)), 4),
        "not_ok": undefined,
    }


def _speed() -> dict[str, float]:
    rng = np.random.default_rng(13)
    panel, treated, _ = world(rng, units=100, treated=1, days=60, campaign=[15, 45], lift=1.3)
    many = list(range(20))
    calls = {
        "did_1_treated": lambda: did(panel, treated=treated, campaign_days=[15, 45]),
        "did_20_treated_proportional": lambda: did(panel, treated=many, campaign_days=[15, 45]),
        "did_20_treated_levels_ols": lambda: did(
            panel, treated=many, campaign_days=[15, 45], parallel="levels"
        ),
        "pretrend": lambda: pretrend(panel, treated=treated, campaign_days=[15, 45]),
        "placebo_days": lambda: placebo_days(panel, treated=treated, campaign_days=[15, 45]),
        "placebo_units": lambda: placebo_units(panel, treated=treated, campaign_days=[15, 45]),
        "event_days": lambda: event_days(panel, treated=treated, campaign_days=[15, 45]),
        "synthetic_control": lambda: synthetic_control(
            panel, treated=treated, campaign_days=[15, 45]
        ),
    }
    seconds = {}
    for name, call in calls.items():
        call()  # warm imports
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        seconds[name] = round(best, 4)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=5000)
    parser.add_argument("--sc-sims", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    report: dict[str, object] = {"sims": args.sims}
    for design, seed in (("many", 101), ("case", 102), ("levels", 103)):
        lift = float(DESIGNS[design]["lift"])  # type: ignore[arg-type]
        report[design] = _summary(simulate(design, args.sims, seed=seed), lift)
    for design, seed, null in (("many", 201, 1.0), ("case", 202, 1.0), ("levels", 203, 0.0)):
        report[f"{design}_no_effect"] = _false_positives(
            simulate(design, args.sims, seed=seed, lift=null)
        )
    report["levels_ols_in_case_world"] = _levels_in_case(args.sims)
    report["synthetic_case"] = _synthetic(args.sc_sims, 1.3)
    report["synthetic_case_no_effect"] = _synthetic(args.sc_sims, 1.0)
    report["seconds_100_cities_60_days"] = _speed()
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
