"""Assignments from a rule (every customer matching it is a participant): loading, counts,
errors, the TOML form, and the A/B test's matched control on top of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.errors import ConfigError

D0 = datetime(2024, 3, 1)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(2)
    n = 2000
    customers = pd.DataFrame(
        {"user_id": np.arange(n), "city": rng.choice([1134, 7, 8, 9], n), "tier": "a"}
    )
    rows = [
        (u, D0 + timedelta(days=int(d), hours=10), 50.0)
        for u in range(n)
        for d in range(-14, 14)
        if rng.random() < 0.03
    ]
    return customers, pd.DataFrame(rows, columns=["user_id", "ts", "revenue"])


def test_a_rule_makes_the_matching_customers_participants() -> None:
    customers, orders = _frames()
    ds = gl.load(customers=customers, orders=orders, assignments={"rule": {"city": 1134}})
    a = ds.table("assignments").execute()
    expected = set(customers.loc[customers["city"] == 1134, "user_id"])
    assert set(a["user_id"].astype(int)) == expected
    assert set(a["variant"]) == {"treatment"}
    assert set(a["experiment"]) == {"customers with city = 1134"}
    counts = ds.quality.table_counts("assignments")
    assert (counts.loaded, counts.accepted, counts.excluded) == (len(expected),) * 2 + (0,)
    # Several values, and text compared as text.
    ds2 = gl.load(
        customers=customers,
        orders=orders,
        assignments={"rule": {"city": [7, 8], "tier": "a"}, "experiment": "north"},
    )
    a2 = ds2.table("assignments").execute()
    assert len(a2) == int(customers["city"].isin([7, 8]).sum())
    assert set(a2["experiment"]) == {"north"}
    # The A/B test draws a matched control for a rule's single variant.
    r = gl.ab_test(ds, window=("2024-03-01", "2024-03-13"), metric="orders")
    assert r.params["control"] == "matched control"
    row = r.table.iloc[0]
    # No effect is planted and everyone buys alike: the estimate is within sampling error
    # of 0 (4 standard errors: a bias, not a 1-in-20 draw, would break it).
    se = (row["high"] - row["low"]) / (2 * 1.96)
    assert abs(row["difference"]) < 4 * se


def test_rule_errors_name_the_fix(tmp_path: Path) -> None:
    customers, orders = _frames()
    with pytest.raises(ConfigError, match="not a customers column"):
        gl.load(customers=customers, orders=orders, assignments={"rule": {"town": 1}})
    with pytest.raises(ConfigError, match="no customers table"):
        gl.load(orders=orders, assignments={"rule": {"city": 1134}})
    with pytest.raises(ConfigError, match="give numbers"):
        gl.load(customers=customers, orders=orders, assignments={"rule": {"city": "north"}})


def test_rule_in_a_config(tmp_path: Path) -> None:
    customers, orders = _frames()
    customers.to_csv(tmp_path / "customers.csv", index=False)
    orders.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "growthlens.toml").write_text(
        '[customers]\npath = "customers.csv"\n[orders]\npath = "orders.csv"\n'
        '[assignments]\nrule = { city = 1134 }\nexperiment = "billboards"\n'
    )
    ds = gl.load(tmp_path / "growthlens.toml")
    a = ds.table("assignments").execute()
    assert len(a) == int((customers["city"] == 1134).sum())
    assert set(a["experiment"]) == {"billboards"}
