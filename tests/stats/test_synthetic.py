"""Synthetic control: planted weights and effect recovered on a noise-free panel, the weights
optimal against scipy's constrained minimiser, placebo-in-space p-value and interval, and
degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from growthlens.stats.synthetic import synthetic_control


def _panel(values: np.ndarray, units: list[object]) -> pd.DataFrame:
    n_units, n_days = values.shape
    return pd.DataFrame(
        {
            "unit": np.repeat(np.array(units, dtype=object), n_days),
            "day": np.tile(np.arange(n_days), n_units),
            "value": values.ravel().astype(float),
        }
    )


DAYS = 30
CAMPAIGN = [12, 24]
OTHER = np.array([d not in CAMPAIGN for d in range(DAYS)])


def _shapes(seed: int, n: int) -> np.ndarray:
    """Positive series, each with mean 1 over the other days."""
    rng = np.random.default_rng(seed)
    shapes = rng.uniform(0.5, 1.5, (n, DAYS))
    return shapes / shapes[:, OTHER].mean(axis=1, keepdims=True)


def test_planted_weights_and_effect_recovered() -> None:
    donors = _shapes(0, 4) * np.array([[5.0], [80.0], [12.0], [30.0]])  # any sizes
    shape = 0.3 * donors[0] / 5 + 0.7 * donors[1] / 80
    treated = 500.0 * shape * np.where(np.isin(np.arange(DAYS), CAMPAIGN), 1.5, 1.0)
    panel = _panel(np.vstack([treated, donors]), ["T", "a", "b", "c", "d"])
    result = synthetic_control(panel, treated=["T"], campaign_days=CAMPAIGN)
    assert result.weights.to_dict() == pytest.approx(
        {"a": 0.3, "b": 0.7, "c": 0.0, "d": 0.0}, abs=1e-6
    )
    assert result.pre_rmspe == pytest.approx(0.0, abs=1e-6)
    assert result.ratio == pytest.approx(1.5)
    # treated − synthetic on campaign days: 500 × shape × 0.5, averaged over the two days
    assert result.effect == pytest.approx(float(np.mean(500 * shape[CAMPAIGN] * 0.5)))
    # 4 placebos cannot give a 95% interval; the treated unit ranks first: p = 1/5
    assert result.status == "not_enough_data" and result.placebos == 4
    assert math.isnan(result.low) and result.p_value == pytest.approx(1 / 5)


def test_weights_are_optimal_against_scipy_and_inference_is_rank_based() -> None:
    rng = np.random.default_rng(1)
    sizes = rng.lognormal(3.0, 1.0, 45)
    common = (1 + 0.01 * np.arange(DAYS)) * (1 + 0.2 * np.sin(np.arange(DAYS) * 2 * np.pi / 7))
    values = rng.poisson(sizes[:, None] * common[None, :]).astype(float)
    units = list(range(100, 145))
    result = synthetic_control(_panel(values, units), treated=[100], campaign_days=CAMPAIGN)
    assert result.status == "ok" and result.placebos == 44
    assert (result.weights >= 0).all() and result.weights.sum() == pytest.approx(1.0)
    assert list(result.weights.index) == units[1:]
    x = values / values[:, OTHER].mean(axis=1, keepdims=True)
    target, donors = x[0, OTHER], x[1:, OTHER]

    def loss(w: np.ndarray) -> float:
        return float(((target - w @ donors) ** 2).sum())

    best = minimize(
        loss,
        np.full(44, 1 / 44),
        method="SLSQP",
        bounds=[(0, 1)] * 44,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"maxiter": 500, "ftol": 1e-12},
    )
    assert loss(result.weights.to_numpy()) <= best.fun * (1 + 1e-6) + 1e-12
    synthetic = values[0, OTHER].mean() * (result.weights.to_numpy() @ x[1:])
    assert result.effect == pytest.approx(float(np.mean(values[0, CAMPAIGN] - synthetic[CAMPAIGN])))
    assert result.pre_rmspe == pytest.approx(
        float(np.sqrt(np.mean((values[0] - synthetic)[OTHER] ** 2)))
    )
    assert result.low <= result.effect <= result.high
    assert result.ratio_low <= result.ratio <= result.ratio_high
    assert 1 / 45 <= result.p_value <= 1


def test_degenerate_inputs_give_a_status_and_nan() -> None:
    values = _shapes(2, 3) * 10
    panel = _panel(values, ["T", "a", "b"])
    cases = {
        "empty_arm": dict(treated=["T", "a", "b"], campaign_days=CAMPAIGN),
        "not_enough_data": dict(treated=["T"], campaign_days=[99]),
    }
    for status, kwargs in cases.items():
        result = synthetic_control(panel, **kwargs)  # type: ignore[arg-type]
        assert result.status == status and math.isnan(result.effect) and result.weights.empty
    zero = values.copy()
    zero[0] = 0
    dead = synthetic_control(_panel(zero, ["T", "a", "b"]), treated=["T"], campaign_days=CAMPAIGN)
    assert dead.status == "all_zero" and math.isnan(dead.ratio)
    one_day = synthetic_control(
        _panel(values[:, :1], ["T", "a", "b"]), treated=["T"], campaign_days=[0]
    )
    assert one_day.status == "not_enough_data" and math.isnan(one_day.effect)
    with pytest.raises(ValueError, match="confidence"):
        synthetic_control(panel, treated=["T"], campaign_days=CAMPAIGN, confidence=1.0)
