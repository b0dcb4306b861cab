"""gl.propensity (docs/customers.md): a planted buying model and an age-group uplift, the
leak guard, options, degenerate data and the shop demo."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.propensity import propensity
from growthlens.demo.shop import write_shop
from growthlens.errors import ConfigError

D0 = datetime(2023, 1, 1)
WINDOW = (date(2023, 2, 1), date(2023, 2, 14))
UPLIFT = {"<30": 0.15, "30–49": 0.0, "50+": 0.0}


def _world(n: int = 6000, seed: int = 3, leak: bool = False) -> dict[str, pd.DataFrame]:
    """History orders (January) driven by `affinity`; February buying by affinity and,
    among the mail participants (two thirds, half treated), +15 points under 30 only."""
    rng = np.random.default_rng(seed)
    users = np.arange(1, n + 1)
    age = rng.integers(18, 70, n)
    affinity = rng.normal(size=n)
    rows = []
    history = rng.poisson(np.exp(0.8 * affinity - 0.5))
    for u, k in zip(users, history, strict=True):
        for d in rng.integers(0, 31, k):
            rows.append((u, D0 + timedelta(days=int(d), hours=10), 1000.0))
    participant = rng.random(n) < 2 / 3
    treated = participant & (rng.random(n) < 0.5)
    p = 1 / (1 + np.exp(-(1.2 * affinity - 1.0))) + np.where(treated & (age < 30), 0.15, 0.0)
    bought = rng.random(n) < np.clip(p, 0, 1)
    for u in users[bought]:
        rows.append((u, D0 + timedelta(days=int(rng.integers(31, 45)), hours=12), 2000.0))
    orders = pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])
    customers = pd.DataFrame({"user_id": users, "age": age, "gender": rng.integers(0, 2, n)})
    if leak:
        customers["window_spend"] = bought + rng.normal(0, 0.3, n)
    assignments = pd.DataFrame(
        {
            "user_id": users[participant],
            "variant": np.where(treated[participant], "mail", "control"),
            "experiment": "feb_mail",
        }
    )
    return {"orders": orders, "customers": customers, "assignments": assignments}


@pytest.fixture(scope="module")
def world_result() -> gl.Result:
    ds = gl.load(**_world())
    return propensity(ds, window=WINDOW, treatment="feb_mail", model="logistic", folds=3)


def test_planted_model_quality_and_tables(world_result: gl.Result) -> None:
    r = world_result
    assert r.status == "ok", r.status_reason
    s = r.summary
    # history order counts carry the affinity: clearly better than chance
    assert 0.6 < s["roc_auc"].value < 0.9
    assert s["roc_auc"].low < s["roc_auc"].value < s["roc_auc"].high
    assert s["top_decile_lift"].value > 1.5
    gains = r.tables["gains"]
    assert list(gains["decile"]) == list(range(1, 11))
    assert gains["gain"].iloc[-1] == pytest.approx(1.0)
    assert set(r.tables["calibration"].columns) >= {"predicted", "observed", "low", "high"}
    assert "scores" in r.detail and "target_list" in r.detail
    assert r.params["history"] == ["2023-01-01", "2023-01-31"]


def test_age_group_uplift_recovered_within_intervals(world_result: gl.Result) -> None:
    seg = world_result.tables["segments"].set_index("age_group")
    assert list(seg.index) == ["<30", "30–49", "50+"]
    for group, planted in UPLIFT.items():
        assert seg.loc[group, "uplift_low"] <= planted <= seg.loc[group, "uplift_high"], group
    assert seg.loc["<30", "uplift_low"] > 0  # the only group the mail changes
    assert any(f.code == "age_groups" and "<30" in f.text for f in world_result.findings)


def test_target_list_marks_extrapolation(world_result: gl.Result) -> None:
    r = world_result
    tl = r.tables["target_list"]
    assert list(tl.columns) == [
        "user_id", "score", "uplift", "in_list", "participant", "extrapolated"
    ]  # fmt: skip
    assert (tl["extrapolated"] == ~tl["participant"]).all()
    assert tl["uplift"].notna().all()
    assert r.summary["list_size"].value == int(tl.loc[tl["participant"], "in_list"].sum())
    # cost 0: the list is everyone with positive predicted uplift
    assert (tl["in_list"] == (tl["uplift"] > 0)).all()
    text = next(f.text for f in r.findings if f.code == "target_list")
    assert "cost 0" in text and "positive uplift" in text
    # value defaults to the mean revenue per buyer in the window: 2,000 per buyer here
    assert r.summary["expected_gain"].value == pytest.approx(
        2000 * next(f for f in r.findings if f.code == "target_list").numbers["incremental"]
    )
    assert r.table.columns[0] == "decile" and "uplift" in r.table.columns
    kinds = {(f.table, f.kind) for f in r.figures}
    assert {("gains", "bar"), ("calibration", "line"), ("qini", "line"), ("main", "bar")} <= kinds


def test_cost_shrinks_the_list() -> None:
    ds = gl.load(**_world(n=3000, seed=5))
    cheap = propensity(ds, window=WINDOW, treatment="feb_mail", model="logistic", folds=3)
    dear = propensity(
        ds, window=WINDOW, treatment="feb_mail", model="logistic", folds=3, value=2000, cost=250
    )
    assert dear.summary["list_size"].value < cheap.summary["list_size"].value


def test_leak_refused_naming_it_and_allowed_on_request() -> None:
    ds = gl.load(**_world(n=2000, leak=True))
    with pytest.raises(ConfigError, match=r"window_spend.*allow="):
        propensity(ds, window=WINDOW, model="logistic", folds=3)
    r = propensity(ds, window=WINDOW, model="logistic", folds=3, allow=["window_spend"])
    assert r.status == "ok"
    assert any(f.code == "leak_allowed" and "window_spend" in f.text for f in r.findings)


def test_options_are_checked() -> None:
    ds = gl.load(**_world(n=500))
    bad = [
        ({"window": WINDOW, "history": (date(2023, 1, 1), date(2023, 2, 1))}, "overlaps"),
        ({"window": (date(2023, 1, 1), date(2023, 1, 5))}, "no history"),
        ({"window": WINDOW, "target": "shoes"}, "product column"),
        ({"window": WINDOW, "model": "forest"}, "gbm, logistic"),
        ({"window": WINDOW, "folds": 1}, "folds"),
        ({"window": WINDOW, "treatment": "nope"}, "feb_mail"),
        ({"window": WINDOW, "cost": -1}, "cost"),
        ({"window": WINDOW, "allow": ["nothing"]}, "allow"),
    ]
    for options, words in bad:
        with pytest.raises(ConfigError, match=words):
            propensity(ds, **options)  # type: ignore[arg-type]


def test_nobody_buying_is_a_status_not_an_exception() -> None:
    world = _world(n=500)
    orders = world["orders"]
    world["orders"] = orders[orders["ts"] < datetime(2023, 2, 1)]
    extra = pd.DataFrame({"user_id": [1], "ts": [datetime(2023, 2, 20)], "revenue": [1.0]})
    world["orders"] = pd.concat([world["orders"], extra], ignore_index=True)
    r = propensity(gl.load(**world), window=WINDOW, model="logistic")
    assert r.status == "not_enough_data"
    assert "same target" in r.status_reason
    assert next(f for f in r.findings if f.code == "not_estimated").numbers["buyers"] == 0


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> gl.Dataset:
    folder: Path = tmp_path_factory.mktemp("shop")
    write_shop(folder, customers=4000, seed=2)
    return gl.load(folder)


def test_shop_demo_email_uplift_and_past_campaign(shop: gl.Dataset) -> None:
    r = propensity(shop, window=(5, 16), treatment="first_company")
    assert r.status == "ok", r.status_reason
    # the email adds buying for the under-50s during its window: a positive uplift, largest
    # for the young (planted: tests/demo/test_shop_customers.py checks it within intervals)
    assert r.summary["effect"].value > 0
    seg = r.tables["segments"].set_index("age_group")["uplift"]
    assert seg["<30"] > seg["50+"]
    assert r.summary["roc_auc"].value > 0.6
    assert any("first_company" in f.text for f in r.findings if f.code == "uplift")
    later = propensity(shop, window=(45, 58), target="footwear", model="logistic")
    assert later.status == "ok"
    assert any(f.code == "past_campaigns" for f in later.findings)
    assert "campaign_first_company" in later.tables["feature_auc"]["feature"].tolist()
    inside = propensity(shop, window=(10, 20), model="logistic")
    left = next(f.text for f in inside.findings if f.code == "campaigns_left_out")
    assert "treatment, not a feature" in left
