"""gl.campaign_effect (docs/experiments.md): a generated city campaign with a planted lift
against a trend and a weekday cycle; the naive ratio's bias; options and degenerate input."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.campaign_effect import campaign_effect
from growthlens.errors import ConfigError

D0 = datetime(2023, 1, 1)
DAYS = 59
CAMPAIGN = (15, 45)
LIFT = 1.6


def _world(seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sizes = np.maximum((4000 / np.arange(1, 26) ** 0.8).astype(int), 60)
    city = np.repeat(np.arange(100, 125), sizes)
    city[city == 102] = 1134  # the treated city: the third largest
    users = np.arange(len(city))
    customers = pd.DataFrame({"user_id": users, "city": city})
    base = rng.gamma(2.0, 0.02, len(users))
    day = np.arange(DAYS)
    weekday = np.array([1.0, 0.9, 0.9, 0.95, 1.05, 1.3, 1.35])[
        [(D0 + timedelta(int(d))).weekday() for d in day]
    ]
    trend = 1 + 0.01 * day
    p = base[:, None] * (trend * weekday)[None, :]
    lift = np.ones_like(p)
    lift[np.ix_(city == 1134, list(CAMPAIGN))] = LIFT
    bought = rng.random(p.shape) < np.minimum(p * lift, 1)
    u, d = np.nonzero(bought)
    orders = pd.DataFrame(
        {
            "user_id": users[u],
            "ts": [D0 + timedelta(days=int(x), hours=12) for x in d],
            "revenue": rng.gamma(2.0, 500.0, len(u)).round(),
        }
    )
    return customers, orders


def _ds(seed: int = 1) -> gl.Dataset:
    customers, orders = _world(seed)
    return gl.load(orders=orders, customers=customers)


def test_planted_lift_is_recovered_and_the_naive_ratio_is_biased() -> None:
    ds = _ds()
    days = [(D0 + timedelta(d)).date() for d in CAMPAIGN]
    r = campaign_effect(ds, treated={"city": 1134}, period=days)
    assert r.status == "ok", r.status_reason
    s = r.summary
    ratio = s["ratio"].value
    low = r.table.set_index("scale").loc["ratio"].iloc[0]["low"]
    high = r.table.set_index("scale").loc["ratio"].iloc[0]["high"]
    assert low <= LIFT <= high, (low, ratio, high)
    # The naive ratio also carries the days' trend and weekday pattern: about the
    # comparison units' own campaign-day ratio times the lift.
    d = r.table.set_index("method")
    naive = s["naive_ratio"].value
    comparison = d.loc[d.index.str.startswith("Comparison"), "estimate"].iloc[0]
    # Days 15 (a Monday: weekday 1.0, trend 1.15) and 45 (a Wednesday: 0.95, 1.45) are
    # below the other days' mean (about 1.29 × 1.07): expected ratio ≈ 1.264 / 1.38 ≈ 0.92.
    assert 0.8 < comparison < 0.97
    assert naive == pytest.approx(ratio * comparison, rel=0.05)
    assert any(f.code == "naive_bias" for f in r.findings)
    assert set(r.tables) >= {"daily", "event_days", "placebo_units", "units"}


def test_options_are_checked() -> None:
    ds = _ds()
    with pytest.raises(ConfigError, match="not a customers column"):
        campaign_effect(ds, treated={"town": 1}, period=["2023-01-16"])
    with pytest.raises(ConfigError, match="no customer has city"):
        campaign_effect(ds, treated={"city": 999999}, period=["2023-01-16"])
    with pytest.raises(ConfigError, match="day number"):
        campaign_effect(ds, treated={"city": 1134}, period=[15])
    with pytest.raises(ConfigError, match="outside the data"):
        campaign_effect(ds, treated={"city": 1134}, period=["2024-06-01"])


def test_no_comparison_unit_is_a_status() -> None:
    customers, orders = _world()
    only = customers.assign(city=1134)
    ds = gl.load(orders=orders, customers=only)
    r = campaign_effect(ds, treated={"city": 1134}, period=["2023-01-16"])
    assert r.status == "empty_arm"
