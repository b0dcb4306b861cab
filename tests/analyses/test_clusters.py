"""gl.clusters (docs/customers.md): planted groups of buyers recovered and described, options,
degenerate input, and the shop demo."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.clusters import clusters
from growthlens.errors import ConfigError

D0 = datetime(2023, 1, 1)


def _planted(extra_customers: int = 0) -> gl.Dataset:
    """60 small recent young buyers in Omsk, 40 big lapsed older buyers in Tula."""
    rng = np.random.default_rng(3)
    rows = []
    for u in range(100):
        big = u >= 60
        n = 1 if big else 3
        for i in range(n):
            day = (2 + i) if big else (50 + i)  # big buyers last bought on day 2–3
            rows.append(
                {
                    "user_id": u,
                    "ts": D0 + timedelta(days=day, hours=10),
                    "revenue": float(round(rng.normal(3000 if big else 100, 50 if big else 5))),
                }
            )
    orders = pd.DataFrame(rows)
    customers = pd.DataFrame(
        {
            "user_id": np.arange(100 + extra_customers),
            "city": ["Omsk"] * 60 + ["Tula"] * 40 + ["Omsk"] * extra_customers,
            "age": np.r_[rng.normal(30, 1, 60), rng.normal(50, 1, 40), [35.0] * extra_customers],
        }
    )
    return gl.load(orders=orders, customers=customers)


def test_planted_groups_are_recovered_and_described() -> None:
    ds = _planted()
    r = clusters(ds)
    assert r.status == "ok", r.status_reason
    assert r.summary["k"].value == 2
    assert r.summary["customers"].value == 100
    assert float(r.summary["stability"].value or 0) >= 0.8
    assert r.summary["stable"].value is True
    t = r.table
    assert list(t.columns) == [
        "cluster", "customers", "share", "revenue_share", "description", "action",
    ]  # fmt: skip
    assert t["customers"].tolist() == [60, 40]
    assert t["share"].tolist() == pytest.approx([0.6, 0.4])
    # Revenue: 60 × 3 × ~100 = ~18,000 against 40 × ~3,000 = ~120,000.
    assert t["revenue_share"].iloc[1] == pytest.approx(120_000 / 138_000, abs=0.01)
    # The two largest differences (items: 1 against 3; days since the last purchase),
    # then the city.
    assert t["description"].tolist() == [
        "bought recently, more items, city: Omsk",
        "fewer items, last purchase long ago, city: Tula",
    ]
    d = r.tables["numeric"].set_index(["cluster", "feature"])["standardised_difference"]
    assert d[(2, "spend")] > 0.5 > -0.5 > d[(1, "spend")]
    # Big and lapsed: the valuable win-back rule.
    assert t["action"].iloc[1] == "win back with a personal offer (valuable but lapsed)"
    labels = r.tables["labels"]
    assert len(labels) == 100 and r.detail == ("labels",)
    assert (labels.set_index("user_id").loc[60:, "cluster"] == 2).all()
    sel = r.tables["selection"]
    assert {"k", "cost", "stability", "chosen"} <= set(sel.columns)
    assert sel.loc[sel["chosen"], "k"].tolist() == [2]
    assert {"numeric", "categories"} <= set(r.tables)
    cats = r.tables["categories"]
    tula = cats[(cats["cluster"] == 2) & (cats["category"] == "Tula")]
    assert tula["lift"].iloc[0] == pytest.approx(1 / 0.4)
    codes = [f.code for f in r.findings]
    assert codes[:3] == ["k_chosen", "cluster_1", "cluster_2"]
    assert "elbow" in r.findings[0].text
    assert "40 buyers, 40.0% of buyers" in r.findings[2].text
    assert len(r.figures) == 3
    for fig in r.figures:
        r.figure(r.figures.index(fig))


def test_non_buyers_are_counted_apart_and_k_can_be_given() -> None:
    ds = _planted(extra_customers=7)
    r = clusters(ds, k=3, seed=1)
    assert r.status == "ok"
    assert len(r.table) == 3 and r.summary["k"].value == 3
    assert r.summary["customers"].value == 100
    f = next(f for f in r.findings if f.code == "non_buyers")
    assert f.numbers["non_buyers"] == 7
    assert "as asked" in r.findings[0].text


def test_features_option() -> None:
    ds = _planted()
    r = clusters(ds, features=["spend", "city"])
    assert r.params["features"] == {"spend": "numeric", "city": "categorical"}
    r = clusters(ds, features={"age": "categorical", "recency": "numeric"})
    assert r.params["features"] == {"age": "categorical", "recency": "numeric"}
    default = clusters(ds).params["features"]
    # Only the defaults present in the data (no lines: no colour column, no gender …).
    assert set(default) == {
        "spend", "lines", "discount_share", "recency", "age", "favourite_group",
        "favourite_colour", "city",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": 1}, "k must be a whole number ≥ 2"),
        ({"k": 2.5}, "k must be"),
        ({"seed": "x"}, "seed must be"),
        ({"sample": 5}, "sample must be"),
        ({"features": ["spend", "height"]}, "unknown features height"),
        ({"features": "spend"}, "list of names"),
        ({"features": []}, "at least one"),
        ({"features": {"spend": "number"}}, "'numeric' or 'categorical'"),
        ({"features": {"spend": "categorical"}}, "purchase measures are numeric"),
    ],
)
def test_options_are_checked(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        clusters(_planted(), **options)  # type: ignore[arg-type]


def test_groups_in_noise_are_flagged_unreliable() -> None:
    rng = np.random.default_rng(0)
    n = 300
    orders = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "ts": [D0 + timedelta(days=int(d)) for d in rng.integers(0, 59, n)],
            "revenue": rng.uniform(10, 1000, n).round(),
        }
    )
    customers = pd.DataFrame({"user_id": np.arange(n), "age": rng.uniform(20, 60, n).round()})
    r = clusters(gl.load(orders=orders, customers=customers))
    assert r.status == "ok"
    assert r.summary["stable"].value is False
    assert float(r.summary["stability"].value or 1) < 0.8
    unstable = next(f for f in r.findings if f.code == "unstable")
    assert unstable.severity == "warning"
    assert "not reliable" in unstable.text
    assert "no k near it" in r.findings[0].text


def test_too_few_buyers_and_no_variation_give_a_status() -> None:
    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 5, 6],
            "ts": [D0 + timedelta(days=d) for d in (1, 2, 3, 4, 5, 6)],
            "revenue": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )
    r = clusters(gl.load(orders=orders))
    assert r.status == "not_enough_data"
    assert "Too few buyers" in r.status_reason
    assert r.table.empty and r.figures == ()
    same = pd.DataFrame(
        {
            "user_id": np.arange(30),
            "ts": [D0 + timedelta(days=5)] * 30,
            "revenue": [100.0] * 30,
        }
    )
    r = clusters(gl.load(orders=same))
    assert r.status == "not_applicable"
    assert "Nothing tells the buyers apart" in r.status_reason
    r = clusters(_planted(), history=[date(2023, 5, 1), date(2023, 5, 5)])
    assert r.status == "not_enough_data"
    assert r.status_reason == "No customer bought anything in 2023-05-01 to 2023-05-05."


def test_shop_demo() -> None:
    ds = gl.demo(case="shop", users=20_000)
    r = clusters(ds)
    assert r.status == "ok", r.status_reason
    k = r.summary["k"].value
    assert isinstance(k, int) and 3 <= k <= 6
    assert float(r.summary["stability"].value or 0) >= 0.8
    t = r.table
    assert t["share"].sum() == pytest.approx(1)
    assert t["revenue_share"].sum() == pytest.approx(1)
    # Every group is described in words with a suggested action (the planted personas
    # are recovered in tests/demo/test_shop_customers.py).
    assert t["description"].str.len().gt(10).all() and t["action"].str.len().gt(5).all()
    assert any(f.code == "non_buyers" for f in r.findings)
    assert len(r.tables["labels"]) == r.summary["customers"].value
