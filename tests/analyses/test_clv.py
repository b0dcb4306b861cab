"""gl.clv (docs/customers.md): the engine's per-buyer inputs by hand, the analysis against
growthlens.stats.clv on the same numbers, planted buyers who stop, options, degenerate data
and the shop demo."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.clv import clv
from growthlens.errors import ConfigError
from growthlens.metrics.customers import acquisition_sources, clv_inputs
from growthlens.stats import clv as model

D0 = datetime(2023, 1, 1)


def _orders(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [D0 + timedelta(days=d, hours=10) for _, d, _ in rows],
            "revenue": [v for _, _, v in rows],
        }
    )


def _hand() -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 buyers over days 0–29: buyer u buys on days u % 7, then every (u % 5 + 3) days for
    u % 4 further days, spending 100 + 10 · (u % 6) a day; buyer 0 buys twice on day 0."""
    rows = [(0, 0, 50.0)]
    for u in range(40):
        first, step, repeats = u % 7, u % 5 + 3, u % 4
        for k in range(repeats + 1):
            rows.append((u, first + k * step, 100.0 + 10 * (u % 6)))
    customers = pd.DataFrame({"user_id": range(40), "city": ["north", "south"] * 20})
    return _orders(rows), customers


def _load(
    orders: pd.DataFrame, customers: pd.DataFrame | None = None, days: int = 30
) -> gl.Dataset:
    window = (D0.date().isoformat(), (D0 + timedelta(days=days - 1)).date().isoformat())
    return gl.load(orders=orders, customers=customers, window=window)


def test_inputs_by_hand() -> None:
    orders, customers = _hand()
    frame = clv_inputs(_load(orders, customers)).set_index("user_id")
    # buyer 0: days 0 (two orders, 150), nothing more (u % 4 = 0)
    assert frame.loc[0, ["purchases", "frequency", "recency", "T"]].tolist() == [1, 0, 0, 29]
    assert np.isnan(frame.loc[0, "monetary"])
    # buyer 7: first day 0, step 5, 3 repeats: days 0, 5, 10, 15; 110 a day
    assert frame.loc[7, ["purchases", "frequency", "recency", "T"]].tolist() == [4, 3, 15, 29]
    assert frame.loc[7, "monetary"] == pytest.approx(110.0)
    # buyer 13: first day 6, step 6, 1 repeat: days 6, 12
    assert frame.loc[13, ["frequency", "recency", "T"]].tolist() == [1, 6, 23]
    # a 10-day hold-out: calibration ends on day 19; buyer 7's day 15 stays, nothing after
    held = clv_inputs(_load(orders, customers), holdout=10).set_index("user_id")
    assert held.loc[7, ["frequency", "recency", "T", "holdout_purchases"]].tolist() == [
        3,
        15,
        19,
        0,
    ]
    # buyer 19: first day 5, step 7, 3 repeats: days 5, 12, 19, 26 → 26 is in the hold-out
    assert held.loc[19, ["frequency", "recency", "T", "holdout_purchases"]].tolist() == [
        2,
        14,
        14,
        1,
    ]
    with pytest.raises(ValueError, match="hold-out of 1 to 29 days"):
        clv_inputs(_load(orders, customers), holdout=30)


def test_analysis_matches_the_models_on_the_same_numbers() -> None:
    orders, customers = _hand()
    ds = _load(orders, customers)
    result = clv(ds, horizon="4w", margin=0.5, by="city")
    inputs = clv_inputs(ds)
    expected = model.clv(
        inputs.assign(monetary=inputs["monetary"].fillna(0.0)), horizon=28, margin=0.5
    )
    per = result.tables["customers"].set_index("user_id")
    assert per["clv"].to_numpy() == pytest.approx(expected.table["clv"].to_numpy(), nan_ok=True)
    assert result.params["horizon"] == 28
    summary = result.summary.values_dict()
    assert summary["customers"] == 40
    assert summary["clv_total"] == pytest.approx(expected.totals["clv"])
    assert summary["clv_mean"] == pytest.approx(expected.totals["clv"] / 40)
    by_city = result.table.loc[result.table["dimension"] == "city"].set_index("group")
    assert by_city["customers"].tolist() == [20, 20]
    north = per.loc[per.index % 2 == 0, "clv"]
    assert by_city.loc["north", "clv_total"] == pytest.approx(north.sum())
    segments = result.table.loc[result.table["dimension"] == "segment"]
    assert segments["customers"].sum() == 40
    assert "customers" in result.detail
    assert result.tables["by_city"].equals(by_city.reset_index()[result.table.columns])
    assert set(result.tables["parameters"]["parameter"]) == {
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "gamma",
    }


def _planted(n: int = 3000, days: int = 120, seed: int = 7) -> pd.DataFrame:
    """BG/NBD buyers (r 0.8, α 10 days, a 2, b 4: a third stop after each purchase on average)
    with Gamma-Gamma spend (p 6, q 4, γ 150: 300 per purchase on average)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.8, 1 / 10, n)
    drop = rng.beta(2.0, 4.0, n)
    nu = rng.gamma(4.0, 1 / 150, n)
    first = rng.integers(0, 40, n)
    rows = []
    for u in range(n):
        t = float(first[u])
        while t < days:
            rows.append((u, int(t), float(rng.gamma(6.0, 1 / nu[u]))))
            if rng.random() < drop[u]:
                break
            t += rng.exponential(1 / lam[u])
    return _orders(rows)


def test_planted_dropout_is_seen_and_the_holdout_agrees() -> None:
    result = clv(_load(_planted(), days=120), horizon=60, holdout=30)
    assert result.status == "ok"
    codes = {f.code for f in result.findings}
    assert "purchase_model_no_dropout" not in codes
    p_alive = result.tables["customers"]["p_alive"]
    assert p_alive.mean() < 0.9 and (p_alive < 0.5).mean() > 0.05
    params = result.tables["parameters"].set_index("parameter")
    mean_value = (
        params.loc["p", "estimate"]
        * params.loc["gamma", "estimate"]
        / (params.loc["q", "estimate"] - 1)
    )
    assert mean_value == pytest.approx(300, rel=0.2)
    assert abs(result.summary.values_dict()["holdout_error"]) < 0.2
    held = result.tables["holdout"]
    assert held["customers"].sum() == len(clv_inputs(_load(_planted(), days=120), holdout=30))
    assert set(result.tables["holdout_means"]["series"]) == {"predicted", "actual"}
    assert "p_alive" in {s.table for s in result.figures}


def test_options_are_checked() -> None:
    orders, customers = _hand()
    ds = _load(orders, customers)
    for bad, match in (
        ({"horizon": "3m"}, "horizon must be a positive number of days"),
        ({"horizon": 0}, "horizon must be"),
        ({"margin": 1.5}, r"margin must be a share in \(0, 1\]"),
        ({"discount": -0.1}, "discount must be a daily rate"),
        ({"holdout": "29d"}, "at least 2 calibration days"),
        ({"by": "country"}, r"by must be 'cluster', 'source' \(needs sessions.*\(city\); "),
        ({"by": "source"}, "needs a sessions table with a source column; this dataset has no"),
        ({"by": ["city", "city"]}, "each breakdown once"),
        ({"by": 3}, "a name or a list of names"),
        ({"by": ["city", 3]}, "a name or a list of names"),
        ({"by": "segment"}, "segments are always summed"),
    ):
        with pytest.raises(ConfigError, match=match):
            clv(ds, **bad)
    no_source = _load(orders, customers)
    sessions = pd.DataFrame({"user_id": [1], "start_ts": [D0], "device": ["web"]})
    with_sessions = gl.load(
        orders=orders, customers=customers, sessions=sessions, window=("2023-01-01", "2023-01-30")
    )
    with pytest.raises(ConfigError, match="its sessions have no source column"):
        clv(with_sessions, by="source")
    assert clv(no_source, by=[]).params["by"] is None
    with pytest.raises(ValueError, match="session dimensions: device"):
        acquisition_sources(with_sessions)


def _two_kinds() -> gl.Dataset:
    """60 buyers over days 0–59 of two planted kinds, with sessions and profiles.

    Buyers 0–29 buy every 6–8 days from day u % 5 (300 + 2u a day, varied per purchase);
    30–59 once or twice early (600 + 5u). Sessions: source "ads" for u % 3 = 0 (buyer 0's
    source is null), "seo" for u % 3 = 1, no session for u % 3 = 2. Profiles for 0–54 only,
    city north / south / missing by u % 3.
    """
    rows = []
    for u in range(60):
        if u < 30:
            days: list[int] = list(range(u % 5, 60, 6 + u % 3))
            value = 300.0 + 2 * u
        else:
            days = [u % 10, u % 10 + 15 + u % 4] if u % 2 else [u % 10]
            value = 600.0 + 5 * u
        rows += [(u, d, value * (0.6 + 0.08 * ((3 * u + 7 * k) % 11))) for k, d in enumerate(days)]
    orders = _orders(rows)
    with_session = [u for u in range(60) if u % 3 != 2]
    sessions = pd.DataFrame(
        {
            "user_id": with_session,
            "start_ts": [D0 + timedelta(days=u % 5, hours=9) for u in with_session],
            "source": [None if u == 0 else ["ads", "seo"][u % 3] for u in with_session],
        }
    )
    cities = ["north", "south", None] * 18 + ["north"]
    customers = pd.DataFrame({"user_id": range(55), "city": cities})
    return gl.load(
        orders=orders, sessions=sessions, customers=customers, window=("2023-01-01", "2023-03-01")
    )


def test_breakdowns_sum_the_buyers_of_each_group() -> None:
    ds = _two_kinds()
    result = clv(ds, by=["cluster", "source", "city"])
    assert result.status == "ok" and result.params["by"] == ["cluster", "source", "city"]
    per = result.tables["customers"].set_index("user_id")
    total = per["clv"].sum()
    users = pd.Series(per.index, index=per.index)
    planted = {
        "cluster": {"Group 1": users >= 30, "Group 2": users < 30},
        "source": {
            "(no session)": users % 3 == 2,
            "(unknown)": users == 0,
            "ads": (users % 3 == 0) & (users > 0),
            "seo": users % 3 == 1,
        },
        "city": {
            "(unknown)": (users % 3 == 2) | (users >= 55),
            "north": (users % 3 == 0) & (users < 55) | (users == 54),
            "south": (users % 3 == 1) & (users < 55),
        },
    }
    for name, groups in planted.items():
        table = result.tables[f"by_{name}"].set_index("group")
        assert list(table.index) == list(groups), name  # natural order, "(…)" first
        assert (table["dimension"] == name).all()
        for group, members in groups.items():
            chosen = per.loc[members.to_numpy()]
            row = table.loc[group]
            assert row["customers"] == len(chosen), (name, group)
            assert row["clv_total"] == pytest.approx(chosen["clv"].sum(), rel=1e-12)
            assert row["clv_mean"] == pytest.approx(chosen["clv"].mean(), rel=1e-12)
            assert row["share"] == pytest.approx(chosen["clv"].sum() / total, rel=1e-12)
            assert row["expected_purchases"] == pytest.approx(
                chosen["expected_purchases"].sum(), rel=1e-12
            )
            assert row["active_share"] == pytest.approx(chosen["p_alive"].mean(), rel=1e-12)
        assert table["customers"].sum() == 60
        assert table["clv_total"].sum() == pytest.approx(total, rel=1e-12)
        assert table["share"].sum() == pytest.approx(1.0, rel=1e-12)
    # the clusters are gl.clusters' own: the same labels, numbered alike
    labels = gl.clusters(ds).tables["labels"].set_index("user_id")["cluster"]
    assert (per["cluster"] == "Group " + labels.reindex(per.index).astype(str)).all()
    figures = {s.table: s for s in result.figures}
    assert {"by_cluster", "by_source", "by_city"} <= set(figures)
    assert figures["by_source"].kind == "bar" and figures["by_source"].y == "clv_mean"
    codes = {f.code: f for f in result.findings}
    groups = codes["by_cluster_groups"]
    assert groups.numbers["k"] == 2 and groups.numbers["stability"] == pytest.approx(1.0)
    assert "k = 2" in groups.text and "adjusted Rand index 1.00" in groups.text
    assert "(no session) to" in codes["by_source_spread"].text  # not "((no session))"
    assert "((" not in codes["by_source_spread"].text
    assert any("(no session) = buyers without any session" in n for n in result.notes)
    main = result.table
    assert list(main["dimension"].unique()) == ["segment", "cluster", "source", "city"]
    # nobody stops buying in this fixture: said in words, with the window's length
    assert "Nobody seems to stop buying in these 60 days" in codes["purchase_model_no_dropout"].text


def test_a_grouping_that_cannot_be_fitted_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from growthlens.analyses.clusters import BuyerClusters

    module = sys.modules["growthlens.analyses.clv"]  # the package exports the function

    ds = _two_kinds()
    none = BuyerClusters(
        pd.DataFrame({"user_id": [], "cluster": []}),
        0,
        float("nan"),
        "not_enough_data",
        "Too few buyers to form groups: k = 2 needs at least 10 customers.",
        ds.window or (D0.date(), D0.date()),
        0,
    )
    monkeypatch.setattr(module, "buyer_clusters", lambda ds: none)
    result = clv(ds, by="cluster")
    assert result.status == "ok" and "by_cluster" not in result.tables
    missing = next(f for f in result.findings if f.code == "by_cluster_missing")
    assert missing.severity == "warning" and "Too few buyers" in missing.text
    assert set(result.table["dimension"]) == {"segment"}


def test_the_report_plan_breaks_down_by_cluster_and_source() -> None:
    from growthlens.analyses.clv import CLV_ANALYSIS

    assert CLV_ANALYSIS.plan(_two_kinds()).runs == ({"holdout": 15, "by": ["cluster", "source"]},)
    orders, customers = _hand()
    assert CLV_ANALYSIS.plan(_load(orders, customers)).runs == ({"holdout": 7, "by": ["cluster"]},)


def test_no_finite_mean_value_is_a_status() -> None:
    rows = []
    for u in range(40):  # two far-apart spend levels: Gamma-Gamma q < 1, no finite mean
        days = range(u % 5, 30, 5)
        rows += [(u, d, (100.0 if u < 20 else 5000.0) + u) for d in days]
    result = clv(_load(_orders(rows)))
    assert result.status == "not_applicable"
    assert "q > 1" in result.status_reason and result.table.empty


def test_degenerate_data_gives_a_status() -> None:
    few = _orders([(u, u, 100.0) for u in range(4)])
    result = clv(_load(few))
    assert result.status == "not_enough_data" and "4 buyers" in result.status_reason
    once = _orders([(u, u % 30, 100.0) for u in range(50)])
    result = clv(_load(once))
    assert result.status == "not_enough_data"
    assert "second day" in result.status_reason
    assert result.table.empty


@pytest.fixture(scope="module")
def shop() -> gl.Dataset:
    return gl.demo(case="shop", users=20_000)


def test_shop_demo(shop: gl.Dataset) -> None:
    result = clv(shop, holdout=14, by="city")
    assert result.status == "ok"
    summary = result.summary.values_dict()
    assert summary["customers"] == len(clv_inputs(shop))
    assert summary["clv_total"] > 0 and 0 < summary["active_share"] <= 1
    assert abs(summary["holdout_error"]) < 0.2
    segments = result.tables["segments"].set_index("group")
    assert segments.loc["champions", "clv_mean"] > segments.loc["lost", "clv_mean"]
    cities = result.tables["by_city"]
    assert not cities["group"].str.endswith(".0").any()
    assert cities["customers"].sum() == summary["customers"]  # no profile: (unknown)
    assert cities["clv_total"].sum() == pytest.approx(summary["clv_total"], rel=1e-9)
    assert {"segments", "by_city", "holdout_means"} <= {s.table for s in result.figures}
