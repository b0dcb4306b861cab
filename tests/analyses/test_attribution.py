"""gl.attribution: models side by side, Markov removal effects, bootstrap, findings.

The hand-made fixture (window 2024-01-01 – 2024-02-29), T = 2024-02-20 12:00:

    u1: s1 ads T−2d, s2 seo T−1d, order o1 at T (100)   → path (ads, seo)
    u2: s3 seo T−1d, order o2 at T (50)                  → path (seo)
    u3: s4 ads T, never converts                         → non-converting path (ads)
    u4: order o3 at T (10), no session                   → (no touch)

Markov chain, order 1: start → ads 2/3, start → seo 1/3; ads → seo 1/2, ads → null 1/2;
seo → conversion 1. P = 2/3 · 1/2 + 1/3 = 2/3. Without ads: P = 1/3 → RE(ads) = 1/2;
without seo: P = 0 → RE(seo) = 1. Per conversion: o1 ads 1/3, seo 2/3; o2 seo 1.
So Markov credit: ads 1/3, seo 5/3, (no touch) 1; revenue ads 100/3, seo 200/3 + 50.
ChannelAttribution's allocation of the 2 touched conversions: ads 2/3, seo 4/3.
First touch: ads 1, seo 1; last touch: seo 2; linear and Shapley: ads 1/2, seo 3/2.
Spread between models: ads 1 (first touch) − 0 (last touch) = 1, seo 2 (last touch) − 1
(first touch) = 1: a tie, named in channel order (ads first).
"""

from __future__ import annotations

import importlib
import math
import random
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.attribution import attribution
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.figures import render

# The module (the package's attribute of that name is the public function).
module = importlib.import_module("growthlens.analyses.attribution")

T = pd.Timestamp("2024-02-20 12:00")
D = pd.Timedelta(days=1)
WINDOW = ("2024-01-01", "2024-02-29")


def _fixture() -> Dataset:
    sessions = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2", "u3"], "session_id": ["s1", "s2", "s3", "s4"],
         "start_ts": [T - 2 * D, T - D, T - D, T], "source": ["ads", "seo", "seo", "ads"]}
    )  # fmt: skip
    orders = pd.DataFrame(
        {"user_id": ["u1", "u2", "u4"], "order_id": ["o1", "o2", "o3"], "ts": [T, T, T],
         "revenue": [100.0, 50.0, 10.0]}
    )  # fmt: skip
    return gl.load(sessions=sessions, orders=orders, window=WINDOW)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return _fixture()


@pytest.fixture(scope="module")
def result(ds: Dataset) -> gl.Result:
    return attribution(ds, bootstrap=0)


def _credit(r: gl.Result, model: str, column: str = "conversions") -> dict[str, float]:
    c = r.tables["credit"]
    part = c[c["model"] == model]
    return dict(zip(part["channel"], part[column].astype(float), strict=True))


def test_models_by_hand(result: gl.Result) -> None:
    assert result.status == "ok"
    assert result.params["models"] == [
        "first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
        "position_based", "markov", "shapley",
    ]  # fmt: skip
    nt = "(no touch)"
    assert _credit(result, "first_touch") == {"ads": 1, "seo": 1, nt: 1}
    assert _credit(result, "last_touch") == {"ads": 0, "seo": 2, nt: 1}
    assert _credit(result, "linear") == {"ads": 0.5, "seo": 1.5, nt: 1}
    assert _credit(result, "shapley") == {"ads": 0.5, "seo": 1.5, nt: 1}
    assert _credit(result, "markov") == pytest.approx({"ads": 1 / 3, "seo": 5 / 3, nt: 1})
    assert _credit(result, "markov", "revenue") == pytest.approx(
        {"ads": 100 / 3, "seo": 200 / 3 + 50, nt: 10}
    )
    assert _credit(result, "markov", "share") == pytest.approx(
        {"ads": 1 / 9, "seo": 5 / 9, nt: 1 / 3}
    )
    assert result.summary["p_conversion"].value == pytest.approx(2 / 3)


def test_removal_effects_table(result: gl.Result) -> None:
    re = result.tables["removal_effects"].set_index("channel")
    assert re["removal_effect"].to_dict() == pytest.approx({"seo": 1.0, "ads": 0.5})
    assert re["share"].to_dict() == pytest.approx({"seo": 2 / 3, "ads": 1 / 3})
    assert re["conversions"].to_dict() == pytest.approx({"seo": 4 / 3, "ads": 2 / 3})
    assert re["revenue"].to_dict() == pytest.approx({"seo": 100.0, "ads": 50.0})
    assert list(re.index) == ["seo", "ads"]


def test_comparison_and_spread(result: gl.Result) -> None:
    comp = result.table.set_index("channel")
    assert list(comp.index) == ["seo", "ads", "(no touch)"]
    assert comp.loc["ads", "min"] == 0.0 and comp.loc["ads", "markov"] == pytest.approx(1 / 3)
    assert comp.loc["ads", "max"] == 1.0 and comp.loc["ads", "spread"] == 1.0
    assert comp.loc["seo", "spread"] == 1.0 and comp.loc["(no touch)", "spread"] == 0.0
    assert result.summary["most_model_dependent"].value == "ads"
    spread = [f for f in result.findings if f.code == "model_dependent_credit"]
    assert [f.numbers["channel"] for f in spread] == ["ads", "seo"]
    assert (spread[0].numbers["min_model"], spread[0].numbers["max_model"]) == (
        "last_touch",
        "first_touch",
    )
    assert (spread[1].numbers["min_model"], spread[1].numbers["max_model"]) == (
        "first_touch",
        "last_touch",
    )
    assert pd.isna(result.tables["credit"]["low"]).all()  # bootstrap=0


def test_summary_and_journeys(result: gl.Result) -> None:
    s = result.summary
    assert (s["conversions"].value, s["journeys"].value, s["touches"].value) == (3, 2, 3)
    assert (s["no_touch"].value, s["null_journeys"].value, s["revenue"].value) == (1, 1, 160.0)
    j = result.tables["journeys"]
    touches = j[j["measure"] == "touches"].set_index("value")["journeys"].to_dict()
    channels = j[j["measure"] == "channels"].set_index("value")["journeys"].to_dict()
    assert touches == {1: 1, 2: 1} and channels == {1: 1, 2: 1}
    codes = {f.code for f in result.findings}
    assert "conversions_without_touch" in codes
    result.to_dict()  # JSON-ready
    for spec in result.figures:
        render(spec, result.tables[spec.table])


def _generated(seed: int, users: int = 60) -> Dataset:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    rows, orders = [], []
    for u in range(users):
        for _ in range(rng.randint(0, 6)):
            ts = start + timedelta(seconds=rng.randint(0, 58 * 86400))
            rows.append(
                (f"u{u}", f"s{len(rows)}", ts, rng.choice(["ads", "seo", "email", "direct"]))
            )
        for _ in range(rng.choice([0, 1, 1, 2])):
            ts = start + timedelta(seconds=rng.randint(0, 58 * 86400))
            orders.append((f"u{u}", f"o{len(orders)}", ts, float(rng.randint(1, 100))))
    return gl.load(
        sessions=pd.DataFrame(rows, columns=["user_id", "session_id", "start_ts", "source"]),
        orders=pd.DataFrame(orders, columns=["user_id", "order_id", "ts", "revenue"]),
        window=WINDOW,
    )


@pytest.fixture(scope="module")
def generated() -> Dataset:
    return _generated(7)


def test_totals_every_model(generated: Dataset) -> None:
    r = attribution(generated, bootstrap=30, markov_order=2)
    orders = generated.table("orders").to_pandas()
    credit = r.tables["credit"]
    for model, part in credit.groupby("model"):
        assert part["conversions"].sum() == pytest.approx(len(orders)), model
        assert part["revenue"].sum() == pytest.approx(orders["revenue"].sum()), model
        assert part["share"].sum() == pytest.approx(1.0)
        ok = part["low"].notna()
        assert ok.all(), model
        assert (part["low"] <= part["high"] + 1e-9).all()
        assert (part["revenue_low"] <= part["revenue_high"] + 1e-9).all()
    assert r.params["markov_order"] == 2


def test_bootstrap_deterministic_and_seeded(generated: Dataset) -> None:
    a = attribution(generated, bootstrap=25, seed=3).tables["credit"]
    b = attribution(generated, bootstrap=25, seed=3).tables["credit"]
    c = attribution(generated, bootstrap=25, seed=4).tables["credit"]
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["low"], c["low"])
    pd.testing.assert_series_equal(a["conversions"], c["conversions"])


def test_bootstrap_over_groups(generated: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above GROUPS_MAX conversions the groups are resampled: same point estimates."""
    plain = attribution(generated, bootstrap=20)
    monkeypatch.setattr(module, "GROUPS_MAX", 5)
    grouped = attribution(generated, bootstrap=20)
    pd.testing.assert_series_equal(
        plain.tables["credit"]["conversions"], grouped.tables["credit"]["conversions"]
    )
    assert grouped.tables["credit"]["low"].notna().all()
    assert any("groups" in n for n in grouped.notes)


def test_interval_covers_a_planted_share() -> None:
    """One channel only: every model credits it with all touched conversions, exactly."""
    sessions = pd.DataFrame(
        {"user_id": [f"u{i}" for i in range(30)], "session_id": [f"s{i}" for i in range(30)],
         "start_ts": [T - D] * 30, "source": ["ads"] * 30}
    )  # fmt: skip
    orders = pd.DataFrame(
        {"user_id": [f"u{i}" for i in range(20)], "order_id": [f"o{i}" for i in range(20)],
         "ts": [T] * 20, "revenue": [float(i) for i in range(20)]}
    )  # fmt: skip
    r = attribution(gl.load(sessions=sessions, orders=orders, window=WINDOW), bootstrap=50)
    c = r.tables["credit"]
    assert (c["channel"] == "ads").all()
    assert (c["conversions"] == 20).all() and (c["low"] == 20).all() and (c["high"] == 20).all()
    assert (c["revenue_low"] < 190).all() and (c["revenue_high"] > 190).all()


def test_given_weights_findings() -> None:
    sessions = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2", "u2"], "session_id": ["a", "b", "c", "d"],
         "start_ts": [T - D, T - D / 2, T - D, T + D], "source": ["ads", "seo", "seo", "ads"]}
    )  # fmt: skip
    orders = pd.DataFrame(
        {"user_id": ["u1", "u2"], "order_id": ["o1", "o2"], "ts": [T, T], "revenue": [10.0, 20.0]}
    )
    touchpoints = pd.DataFrame(
        {"conversion_id": ["o1", "o1", "o2", "o2"], "session_id": ["a", "b", "c", "d"],
         "weight": [0.3, 0.7, 0.5, 0.4]}
    )  # fmt: skip
    ds = gl.load(sessions=sessions, orders=orders, touchpoints=touchpoints, window=WINDOW)
    r = attribution(ds, bootstrap=0)
    assert "given" in r.params["models"]
    assert _credit(r, "given") == pytest.approx({"ads": 0.7, "seo": 1.2})
    found = {f.code: f for f in r.findings}
    assert found["journey_weights_not_one"].numbers == {
        "journeys": 1,
        "conversions_gained": pytest.approx(-0.1),
    }
    assert found["sessions_after_conversion"].numbers == {"touches": 1, "conversions": 1}
    normalised = attribution(ds, models=["given"], bootstrap=0, normalise_weights=True)
    # o1 already sums to 1; o2: c seo 0.5 → 5/9, d ads 0.4 → 4/9.
    assert _credit(normalised, "given") == pytest.approx({"ads": 0.3 + 4 / 9, "seo": 0.7 + 5 / 9})


def test_no_touch_at_all_is_a_status() -> None:
    sessions = pd.DataFrame(
        {"user_id": ["u1"], "session_id": ["a"], "start_ts": [T + D], "source": ["ads"]}
    )
    orders = pd.DataFrame({"user_id": ["u1"], "order_id": ["o1"], "ts": [T], "revenue": [5.0]})
    r = attribution(gl.load(sessions=sessions, orders=orders, window=WINDOW), bootstrap=10)
    assert r.status == "not_enough_data"
    assert "None of the 1 conversion" in r.status_reason


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"models": ["lasttouch"]}, "unknown model"),
        ({"models": []}, "models must be"),
        ({"models": ["given"]}, "touchpoints"),
        ({"position": (0.5, 0.5, 0.5)}, "position"),
        ({"lookback": "30x"}, "lookback"),
        ({"half_life": -1}, "half_life"),
        ({"markov_order": 4}, "markov_order"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"confidence": 1.5}, "confidence"),
        ({"seed": "a"}, "seed"),
        ({"normalise_weights": "yes"}, "normalise_weights"),
    ],
)
def test_bad_options(ds: Dataset, options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        attribution(ds, **options)  # type: ignore[arg-type]


def test_models_subset_and_order(ds: Dataset) -> None:
    r = attribution(ds, models=["markov", "linear"], bootstrap=10)
    assert r.params["models"] == ["linear", "markov"]
    assert list(r.table.columns) == ["channel", "linear", "markov", "min", "max", "spread"]
    assert math.isclose(r.tables["credit"]["conversions"].sum(), 6.0)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_and_shapley_against_plain_python(order: int) -> None:
    """Journeys, non-converting journeys, the chain and the credit, all in plain Python."""
    from growthlens.stats.shapley import shapley_attribution
    from tests.oracle import attribution as journeys_oracle
    from tests.oracle import markov as markov_oracle

    rng = random.Random(11 + order)
    start = datetime(2024, 1, 1)
    sessions, orders = [], []
    for u in range(50):
        for _ in range(rng.randint(0, 6)):
            sessions.append({"user_id": f"u{u}", "session_id": f"s{len(sessions)}",
                             "start_ts": start + timedelta(seconds=rng.randint(0, 58 * 86400)),
                             "source": rng.choice(["ads", "seo", "email"])})  # fmt: skip
        for _ in range(rng.choice([0, 0, 1, 2])):
            orders.append({"user_id": f"u{u}", "order_id": f"o{len(orders)}",
                           "ts": start + timedelta(seconds=rng.randint(0, 58 * 86400)),
                           "revenue": float(rng.randint(1, 90))})  # fmt: skip
    ds = gl.load(sessions=pd.DataFrame(sessions), orders=pd.DataFrame(orders), window=WINDOW)
    r = attribution(ds, models=["markov", "shapley"], markov_order=order, bootstrap=0)
    got = r.tables["credit"]

    lookback = timedelta(days=30)
    journeys = journeys_oracle.journeys(sessions, orders, lookback)
    end = datetime(2024, 3, 1)  # midnight after the window's last day
    buyers = {o["user_id"] for o in orders}
    nulls: dict[object, list[dict]] = {}
    for s in sorted(sessions, key=lambda s: (s["start_ts"], s["session_id"])):
        if s["user_id"] not in buyers and s["start_ts"] >= end - lookback:
            nulls.setdefault(s["user_id"], []).append(s)
    paths: dict[tuple[str, ...], list[float]] = {}
    for touches in journeys.values():
        if touches:
            paths.setdefault(tuple(t["source"] for t in touches), [0.0, 0.0])[0] += 1
    for touches in nulls.values():
        paths.setdefault(tuple(t["source"] for t in touches), [0.0, 0.0])[1] += 1
    keys = list(paths)
    p, effect = markov_oracle.removal_effects(
        keys, [paths[k][0] for k in keys], [paths[k][1] for k in keys], order
    )
    want: dict[str, float] = {}
    revenue: dict[str, float] = {}
    for o in orders:
        touches = journeys[o["order_id"]]
        credit = (
            markov_oracle.path_credit([t["source"] for t in touches], effect)
            if touches
            else {"(no touch)": 1.0}
        )
        for c, x in credit.items():
            want[c] = want.get(c, 0.0) + x
            revenue[c] = revenue.get(c, 0.0) + x * o["revenue"]
    markov = got[got["model"] == "markov"].set_index("channel")
    assert r.summary["p_conversion"].value == pytest.approx(p, abs=1e-9)
    assert markov["conversions"].to_dict() == pytest.approx(
        {c: want.get(c, 0.0) for c in markov.index}, abs=1e-9
    )
    assert markov["revenue"].to_dict() == pytest.approx(
        {c: revenue.get(c, 0.0) for c in markov.index}, abs=1e-9
    )
    re = r.tables["removal_effects"].set_index("channel")["removal_effect"].to_dict()
    assert re == pytest.approx(effect, abs=1e-9)
    # Shapley: the engine's per-conversion split against stats.shapley's value.
    conv_paths = [k for k in keys if paths[k][0] > 0]
    value = shapley_attribution(conv_paths, [paths[k][0] for k in conv_paths]).value
    shap = got[got["model"] == "shapley"].set_index("channel")["conversions"].to_dict()
    shap.pop("(no touch)", None)
    assert shap == pytest.approx({c: value.get(c, 0.0) for c in shap}, abs=1e-9)
