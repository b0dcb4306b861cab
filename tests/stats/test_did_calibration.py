"""Do the campaign intervals cover the planted effect? Seeded simulations of geo campaigns.

Worlds (``world``): cities whose daily orders are Poisson with mean size_i × g_t, size_i
lognormal (median 10 orders a day, σ = 1: cities from ~1 to ~100 orders a day), g_t a
common trend (+1% a day) times a weekday cycle; the campaign multiplies the treated cities'
mean by ``lift`` on the campaign days. The planted additive effect is the expected extra
orders per treated city-day, mean over treated × campaign cells of size_i g_t (lift − 1).

- "many": 50 cities, 25 treated at random, 5 campaign days, lift 1.2 → cluster-robust.
- "case": the shop case: 40 cities, 1 treated at random, 59 days, campaign days 15 and 45
  (both on strong weekdays of the cycle), lift 1.3 → placebo in time.
- "levels": an *additive* world (mean size_i + 3 g_t, a constant +δ on treated campaign
  cells), 50 cities, 25 treated, ``parallel="levels"`` → statsmodels OLS, cluster-robust.

2,000 simulations for "many" and "case" here (±0.5 points of Monte-Carlo error on a
coverage), band 93–97%; 400 for "levels" (statsmodels fits, slower), band 92–98%;
benchmarks/calibration_did.py runs 5,000 and docs record the figures.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from growthlens.stats.did import did

WEEK = np.array([1.0, 1.25, 1.0, 1.2, 0.9, 0.8, 0.85])  # day 15 → 1.25, day 45 → 1.2
DESIGNS = {
    "many": {"units": 50, "treated": 25, "days": 59, "campaign": [10, 20, 30, 40, 50], "lift": 1.2},
    "case": {"units": 40, "treated": 1, "days": 59, "campaign": [15, 45], "lift": 1.3},
    "levels": {
        "units": 50,
        "treated": 25,
        "days": 59,
        "campaign": [10, 20, 30, 40, 50],
        "lift": 4.0,
    },
}


def world(
    rng: np.random.Generator,
    *,
    units: int,
    treated: int,
    days: int,
    campaign: list[int],
    lift: float,
    additive: bool = False,
    largest: bool = False,
) -> tuple[pd.DataFrame, list[int], float]:
    """A simulated panel, its treated cities and the planted additive effect per city-day.

    ``additive=True``: the mean is size_i + 3 g_t and the campaign adds ``lift`` orders.
    ``largest=True``: the largest cities are treated (else drawn at random).
    """
    size = rng.lognormal(math.log(10), 1.0, units)
    common = np.exp(0.01 * np.arange(days)) * WEEK[np.arange(days) % 7]
    chosen = rng.choice(units, treated, replace=False)
    if largest:
        chosen = np.argsort(size)[-treated:]
    is_treated = np.isin(np.arange(units), chosen)
    block = is_treated[:, None] & np.isin(np.arange(days), campaign)[None, :]
    if additive:
        mean = size[:, None] + 3 * common[None, :]
        truth = lift
        mean = mean + np.where(block, lift, 0.0)
    else:
        mean = size[:, None] * common[None, :]
        truth = float((mean[block] * (lift - 1)).mean())
        mean = mean * np.where(block, lift, 1.0)
    values = rng.poisson(mean).astype(float)
    panel = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), days),
            "day": np.tile(np.arange(days), units),
            "value": values.ravel(),
        }
    )
    return panel, [int(u) for u in chosen], truth


def simulate(
    design: str, sims: int, seed: int = 0, lift: float | None = None
) -> dict[str, np.ndarray]:
    """Run ``sims`` campaigns of a design; per simulation the estimates, truth and coverage."""
    spec = dict(DESIGNS[design])
    if lift is not None:
        spec["lift"] = lift
    rng = np.random.default_rng(seed)
    parallel = "levels" if design == "levels" else "proportional"
    rows = []
    for _ in range(sims):
        panel, treated, truth = world(rng, additive=design == "levels", **spec)  # type: ignore[arg-type]
        r = did(panel, treated=treated, campaign_days=spec["campaign"], parallel=parallel)  # type: ignore[arg-type]
        rows.append(
            (
                r.additive, truth, r.additive_low <= truth <= r.additive_high,
                r.ratio, r.ratio_low <= spec["lift"] <= r.ratio_high,
                r.naive_ratio, r.comparison_ratio, r.additive_p, r.ratio_p,
            )
        )  # fmt: skip
    names = [
        "additive",
        "truth",
        "covered",
        "ratio",
        "ratio_covered",
        "naive",
        "comparison",
        "p",
        "ratio_p",
    ]
    table = np.array(rows, dtype=float)
    return {name: table[:, i] for i, name in enumerate(names)}


def test_cluster_robust_intervals_cover_with_many_treated_cities() -> None:
    out = simulate("many", 2000, seed=1)
    assert 0.93 <= out["covered"].mean() <= 0.97, out["covered"].mean()
    assert 0.93 <= out["ratio_covered"].mean() <= 0.97, out["ratio_covered"].mean()


def test_placebo_intervals_cover_in_the_shop_case() -> None:
    out = simulate("case", 2000, seed=2)
    assert 0.93 <= out["covered"].mean() <= 0.97, out["covered"].mean()
    assert 0.93 <= out["ratio_covered"].mean() <= 0.97, out["ratio_covered"].mean()
    # the naive before/after ratio carries the weekday: campaign days fall on strong days
    naive, ratio = out["naive"].mean(), float(np.median(out["ratio"]))
    assert naive > 1.3 * 1.15  # biased: lift × (weekday of days 15 and 45 ÷ other days)
    assert abs(ratio / 1.3 - 1) < 0.03  # the ratio of ratios is not (median: tiny cities
    # with no order on both campaign days give a ratio of 0)
    error = out["additive"] - out["truth"]
    assert abs(error.mean()) < 3 * error.std() / math.sqrt(len(error))  # nor the additive


def test_levels_ols_covers_in_an_additive_world() -> None:
    out = simulate("levels", 400, seed=3)
    assert 0.92 <= out["covered"].mean() <= 0.98, out["covered"].mean()  # 400 sims: wider band
    error = out["additive"] - out["truth"]
    assert abs(error.mean()) < 3 * error.std() / math.sqrt(len(error))
