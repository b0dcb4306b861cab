"""gl.impute (docs/customers.md): gender planted through the product-sex mix of a
customer's lines (accuracy near the planted Bayes accuracy, also on the hidden values),
labelled output and apply_imputation, options, degenerate data, the plan, the shop demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

import growthlens as gl
from growthlens.analyses.impute import IMPUTE, apply_imputation, impute
from growthlens.errors import ConfigError
from growthlens.metrics.imputation import line_shares

D0 = datetime(2023, 1, 1)
MATCH = 0.75
"""P(a line's product_sex equals the buyer's gender), given the line has one."""
NULL_SEX = 0.3
"""P(a line has no product_sex)."""
LINES_MEAN = 3.0
"""Lines per customer: 1 + Poisson(LINES_MEAN)."""


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


def bayes_accuracy() -> float:
    """Accuracy of the best rule (majority of the valued lines; a tie is a coin) under the
    planted model: Σ over m valued lines of P(m) · P(correct | m)."""
    total = 0.0
    for lines in range(1, 60):
        p_lines = stats.poisson.pmf(lines - 1, LINES_MEAN)
        for m in range(lines + 1):
            p_m = stats.binom.pmf(m, lines, 1 - NULL_SEX)
            right = stats.binom.sf(m // 2, m, MATCH)  # more than half match
            if m % 2 == 0:
                right += 0.5 * stats.binom.pmf(m // 2, m, MATCH)
            total += p_lines * p_m * right
    return total


def _world(
    n: int = 4000, seed: int = 5, hidden: float = 0.1
) -> tuple[dict[str, object], pd.Series]:
    rng = np.random.default_rng(seed)
    users = np.arange(1, n + 1)
    gender = rng.integers(0, 2, n)
    lines = 1 + rng.poisson(LINES_MEAN, n)
    owner = np.repeat(np.arange(n), lines)
    k = owner.size
    sex = np.where(rng.random(k) < MATCH, gender[owner], 1 - gender[owner]).astype(float)
    sex[rng.random(k) < NULL_SEX] = np.nan
    orders = pd.DataFrame(
        {
            "user_id": users[owner],
            "ts": [D0 + timedelta(days=int(d), hours=int(h))
                   for d, h in zip(rng.integers(0, 30, k), rng.integers(0, 24, k), strict=True)],
            "revenue": rng.integers(5, 50, k) * 100.0,
            "product_sex": pd.array(sex, dtype="Int64"),
        }
    )  # fmt: skip
    known = pd.array(gender, dtype="Int64")
    mask = rng.random(n) < hidden
    known[mask] = pd.NA
    customers = pd.DataFrame(
        {"user_id": users, "gender": known, "age": rng.integers(18, 70, n), "city": "Moscow"}
    )
    truth = pd.Series(gender, index=users, name="gender")
    return {"orders": orders, "customers": customers}, truth[mask]


@pytest.fixture(scope="module")
def world() -> tuple[gl.Dataset, pd.Series]:
    tables, hidden = _world()
    with threadpool_limits(1):
        ds = gl.load(**tables, order_lines=True)  # type: ignore[arg-type]
    return ds, hidden


@pytest.fixture(scope="module")
def world_result(world: tuple[gl.Dataset, pd.Series]) -> gl.Result:
    with threadpool_limits(1):
        return impute(world[0])


def test_line_shares_are_the_mix_of_valued_lines(world: tuple[gl.Dataset, pd.Series]) -> None:
    ds, _ = world
    shares = line_shares(ds).set_index("user_id")
    assert list(shares.columns) == [
        "product_sex_share_0", "product_sex_share_1", "product_sex_lines"
    ]  # fmt: skip
    lines = ds.lines.to_pandas()  # type: ignore[union-attr]
    one = lines.loc[lines["user_id"] == 7, "product_sex"]
    valued = one.dropna()
    assert shares.loc[7, "product_sex_lines"] == len(valued)
    expected = (valued == 1).mean() if len(valued) else np.nan
    assert shares.loc[7, "product_sex_share_1"] == pytest.approx(expected, nan_ok=True)
    both = shares["product_sex_share_0"] + shares["product_sex_share_1"]
    assert np.allclose(both.dropna(), 1.0)
    assert shares["product_sex_share_1"].isna().sum() == (shares["product_sex_lines"] == 0).sum()


def test_planted_gender_is_recovered_near_the_bayes_accuracy(
    world: tuple[gl.Dataset, pd.Series], world_result: gl.Result
) -> None:
    r, hidden = world_result, world[1]
    assert r.status == "ok", r.status_reason
    bayes = bayes_accuracy()  # ≈ 0.80
    s = r.summary
    assert s["missing"].value == len(hidden)
    assert s["known"].value + s["missing"].value == s["customers"].value == 4000
    assert abs(s["accuracy"].value - bayes) < 0.03
    assert s["accuracy"].low < s["accuracy"].value < s["accuracy"].high
    assert s["accuracy"].low > s["baseline"].value
    assert 0.45 < s["baseline"].value < 0.55
    # on the customers whose gender was hidden, the imputed values are right as often
    imputed = r.tables["imputed"].set_index("user_id")["gender"]
    hit = (imputed.reindex(hidden.index) == hidden).mean()
    assert abs(hit - bayes) < 0.07


def test_output_is_labelled_and_findings_say_it(world_result: gl.Result) -> None:
    r = world_result
    table = r.tables["imputed"]
    assert list(table.columns) == ["user_id", "gender", "probability", "imputed"]
    assert table["imputed"].all() and table["probability"].between(0.5, 1).all()
    assert set(table["gender"]) <= {0, 1} and str(table["gender"].dtype) == "Int64"
    assert "imputed" in r.detail
    classes = r.tables["classes"]
    assert list(classes["gender"]) == [0, 1]
    assert classes["imputed"].sum() == len(table)
    confusion = r.tables["confusion"]
    assert confusion["customers"].sum() == r.summary["known"].value
    text = next(f.text for f in r.findings if f.code == "imputation")
    assert text.startswith(f"gender is missing for {len(table):,} of 4,000 customers")
    assert "never mixed silently" in text and "by always guessing" in text
    assert next(f for f in r.findings if f.code == "versus_guessing").severity == "info"
    assert any(f.code == "labelled" and "gender_imputed" in f.text for f in r.findings)
    assert {(f.table, f.kind) for f in r.figures} == {("main", "bar"), ("confusion", "heatmap")}
    assert r.params == {
        "column": "gender", "model": "gbm", "folds": 5, "seed": 0, "min_accuracy": None
    }  # fmt: skip


def test_apply_imputation_fills_only_the_missing_and_flags_them(
    world: tuple[gl.Dataset, pd.Series], world_result: gl.Result
) -> None:
    ds, hidden = world
    before = ds.table("customers").to_pandas().set_index("user_id")
    filled = apply_imputation(ds, world_result)
    after = filled.table("customers").to_pandas().set_index("user_id").loc[before.index]
    assert list(after.columns) == [*before.columns, "gender_imputed", "gender_probability"]
    known = before["gender"].notna()
    assert (after.loc[known, "gender"] == before.loc[known, "gender"]).all()  # never replaced
    assert not after.loc[known, "gender_imputed"].any()
    assert after.loc[known, "gender_probability"].isna().all()
    assert after.loc[~known, "gender_imputed"].all()
    table = world_result.tables["imputed"].set_index("user_id")
    assert (after.loc[~known, "gender"] == table["gender"].reindex(after.index[~known])).all()
    assert after["gender"].notna().all() and len(after) == len(before)
    assert ds.table("customers").to_pandas()["gender"].isna().sum() == len(hidden)  # unchanged
    # the filled dataset has nothing left to impute
    again = impute(filled, model="logistic")
    assert again.status == "not_applicable" and "every customer" in again.status_reason
    with pytest.raises(ConfigError, match="imputed already"):
        apply_imputation(filled, world_result)


def test_min_accuracy_withholds_the_values() -> None:
    tables, _ = _world(n=1500, seed=9)
    ds = gl.load(**tables, order_lines=True)  # type: ignore[arg-type]
    r = impute(ds, model="logistic", min_accuracy=0.99)
    assert r.status == "ok" and r.tables["imputed"].empty
    assert r.summary["imputed"].value == 0
    assert next(f for f in r.findings if f.code == "below_min_accuracy").severity == "warning"
    with pytest.raises(ConfigError, match="expected a result with imputed values"):
        apply_imputation(ds, r)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"column": "email"}, "column expected a customers column"),
        ({"column": "age"}, "at most 20 distinct values); found 52 values in 'age'"),
        ({"model": "boosting"}, "model expected one of gbm, logistic"),
        ({"folds": 1}, "folds expected an integer ≥ 2"),
        ({"min_accuracy": 1.5}, "min_accuracy expected a share in"),
        ({"seed": "x"}, "seed expected an integer"),
    ],
)
def test_options_are_checked(
    world: tuple[gl.Dataset, pd.Series], options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        impute(world[0], **options)  # type: ignore[arg-type]


def test_degenerate_data_gives_a_status() -> None:
    tables, _ = _world(n=300, seed=2, hidden=0.0)
    ds = gl.load(**tables, order_lines=True)  # type: ignore[arg-type]
    r = impute(ds)
    assert r.status == "not_applicable" and "known for every customer" in r.status_reason
    assert r.tables["imputed"].empty and not r.figures
    customers = tables["customers"].copy()  # type: ignore[attr-defined]
    customers["gender"] = pd.array([1] * 290 + [None] * 10, dtype="Int64")
    one = gl.load(orders=tables["orders"], customers=customers, order_lines=True)
    r = impute(one)
    assert r.status == "not_enough_data" and "same value (1)" in r.status_reason
    assert next(f for f in r.findings if f.code == "not_estimated").numbers == {
        "known": 290, "missing": 10
    }  # fmt: skip
    # the plan has nothing to run on data where no column qualifies
    plan = IMPUTE.plan(ds)
    assert plan.runs == () and "no customers column" in plan.skipped[0]


def test_plan_prefers_gender_then_the_most_missing() -> None:
    tables, _ = _world(n=200, seed=4)
    customers = tables["customers"].copy()  # type: ignore[attr-defined]
    customers["education"] = np.where(np.arange(200) < 150, "higher", None)
    customers["segment"] = np.where(np.arange(200) < 190, "a", None)
    customers.loc[:189, "segment"] = np.where(np.arange(190) % 2, "a", "b")
    ds = gl.load(orders=tables["orders"], customers=customers, order_lines=True)
    plan = IMPUTE.plan(ds)
    assert plan.runs == ({"column": "gender"},)
    assert "segment (10 missing)" in plan.skipped[0]
    assert "education" not in plan.skipped[0]  # one value only: nothing to learn
    ds2 = gl.load(orders=tables["orders"], customers=customers.drop(columns="gender"),
                  order_lines=True)  # fmt: skip
    assert IMPUTE.plan(ds2).runs == ({"column": "segment"},)


def test_shop_demo_imputes_the_recovered_profiles_gender() -> None:
    ds = gl.demo(case="shop", users=4000)
    profiles = ds.truth["shop_profiles"]  # type: ignore[index]
    assert IMPUTE.plan(ds).runs == ({"column": "gender"},)
    r = impute(ds)
    assert r.status == "ok", r.status_reason
    # no gender: the profiles only in the recovered CSV and the ids with coefficients only
    expected = profiles["csv_only"] + profiles["coeffs_without_profile"]
    assert r.summary["missing"].value == expected
    assert r.summary["customers"].value == profiles["customers_combined"]
    assert r.summary["accuracy"].low > r.summary["baseline"].value
    assert len(r.tables["imputed"]) == expected
    notes = r.notes[0]
    assert "product_sex_share_1" in notes and "gender" not in notes.split("features:")[1]
