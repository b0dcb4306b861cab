"""Do gl.attribution's bootstrap intervals cover each channel's expected credit? Seeded
simulations of journeys from a known process.

World (``world``): ``n`` buyers, one order each at ``T`` with log-normal revenue; each
buyer's journey has ``1 + Poisson(1.2)`` sessions on distinct days 1–20 before the order;
the first session's channel is drawn from ``FIRST``, later ones from ``LATER`` (so first- and
last-touch credit differ); as many non-buyers with journeys drawn the same way give the
Markov chain its non-converting paths.

The estimand of a channel's interval is its expected credit over ``n`` conversions, ``n ×
μ_c`` (revenue: ``n × ν_c``), μ_c the expected credit per conversion under the model. It is
taken from one run on ``TRUTH_N`` conversions (the same code, no bootstrap): for the
rule-based models that is a sample mean, for Markov the removal-effect shares of a large
sample (a consistent estimator; this test checks the intervals, not the point estimates,
which tests/analyses/test_attribution.py checks against hand-worked and independent
values).

``SIMS`` simulations of ``N`` conversions with 200 bootstrap replicates; coverage is pooled
over channels and models (each channel's coverage is noisier); the band 91–98% (89–98% for
revenue, see the test) fails an interval that is clearly too narrow or too wide.
benchmarks/calibration_attribution.py runs more simulations per model and
docs/attribution.md records them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.attribution import attribution

CHANNELS = ("ads", "email", "seo", "social")
FIRST = (0.5, 0.1, 0.25, 0.15)
LATER = (0.2, 0.35, 0.3, 0.15)
MODELS = ("first_touch", "last_touch", "linear", "position_based", "markov")
T = pd.Timestamp("2024-03-01 12:00")
WINDOW = ("2024-01-01", "2024-03-31")
N, SIMS, TRUTH_N = 300, 60, 100_000


def world(n: int, seed: int) -> gl.Dataset:
    """The simulated dataset (module doc)."""
    rng = np.random.default_rng(seed)
    users = np.arange(2 * n)
    length = 1 + rng.poisson(1.2, size=users.size)
    user = np.repeat(users, length)
    position = np.concatenate([np.arange(k) for k in length])
    first = position == 0
    channel = np.where(
        first,
        rng.choice(len(CHANNELS), size=user.size, p=FIRST),
        rng.choice(len(CHANNELS), size=user.size, p=LATER),
    )
    # distinct days before the order, the first session earliest
    days = np.concatenate(
        [np.sort(rng.choice(np.arange(1, 21), k, replace=False))[::-1] for k in length]
    )
    sessions = pd.DataFrame(
        {
            "user_id": user,
            "session_id": np.arange(user.size),
            "start_ts": T - pd.to_timedelta(days, unit="D"),
            "source": np.asarray(CHANNELS)[channel],
        }
    )
    buyers = users[:n]
    orders = pd.DataFrame(
        {
            "user_id": buyers,
            "order_id": buyers,
            "ts": T,
            "revenue": np.round(rng.lognormal(4, 0.8, size=n), 2),
        }
    )
    return gl.load(sessions=sessions, orders=orders, window=WINDOW)


def _credit(result: gl.Result) -> pd.DataFrame:
    t = result.tables["credit"]
    return t.set_index(["model", "channel"])


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    r = attribution(world(TRUTH_N, seed=10_000), models=list(MODELS), bootstrap=0)
    per = _credit(r)[["conversions", "revenue"]] / TRUTH_N
    return per


def test_bootstrap_intervals_cover_the_expected_credit(truth: pd.DataFrame) -> None:
    hits: list[bool] = []
    revenue_hits: list[bool] = []
    for sim in range(SIMS):
        r = attribution(world(N, seed=sim), models=list(MODELS), bootstrap=200, seed=sim)
        got = _credit(r)
        for key, row in got.iterrows():
            if key not in truth.index or not np.isfinite(row["low"]):
                continue
            want = truth.loc[key]
            hits.append(bool(row["low"] <= N * want["conversions"] <= row["high"]))
            revenue_hits.append(
                bool(row["revenue_low"] <= N * want["revenue"] <= row["revenue_high"])
            )
    assert len(hits) >= SIMS * len(MODELS) * len(CHANNELS) * 0.9
    coverage, revenue_coverage = float(np.mean(hits)), float(np.mean(revenue_hits))
    assert 0.91 <= coverage <= 0.98, coverage
    # revenue sums are skewed: the percentile bootstrap under-covers a little (92–94% in
    # benchmarks/calibration_attribution.py), hence a lower floor
    assert 0.89 <= revenue_coverage <= 0.98, revenue_coverage
