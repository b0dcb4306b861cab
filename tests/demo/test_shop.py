"""The shop case's files: exact schema, planted counts recovered with plain pandas/sqlite3,
arm means within a few standard errors of the exact expectations, byte-identical reruns."""

from __future__ import annotations

import gzip
import json
import math
import re
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from growthlens.data.idlist import read_id_list
from growthlens.demo.shop import CATALOGUE, EMAIL_DISCOUNT, ShopTruth, write_shop

TOML = """\
[settings]
day_zero = 2023-01-01            # hypothetical calendar date of day 0 (the data gives day numbers)
currency = "RUB"
order_lines = true

[[settings.experiments]]
name = "Email discount (first campaign)"
window = [5, 16]
pre_window = [0, 4]

[[settings.campaigns]]
name = "Billboards in city 1134"
treated = { city = 1134 }
period = [15, 45]
metric = "orders"
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShopTruth]:
    folder = tmp_path_factory.mktemp("shop")
    return folder, write_shop(folder)


@pytest.fixture(scope="module")
def tables(shop: tuple[Path, ShopTruth]) -> dict[str, pd.DataFrame]:
    folder, _ = shop
    with sqlite3.connect(folder / "shop_database.db") as con:
        out = {
            name: pd.read_sql(f"SELECT * FROM {name}", con)
            for name in ("personal_data", "personal_data_coeffs", "purchases")
        }
    con.close()
    out["csv"] = pd.read_csv(folder / "personal_data.csv.gz")
    return out


def _tokens(path: Path) -> list[str]:
    """An independent list reader: split on , ; and whitespace, drop empties, unquote."""
    raw = [t for t in re.split(r"[,;\s]+", path.read_text(encoding="utf-8")) if t]
    return [t[1:-1] if len(t) > 1 and t[0] == t[-1] == '"' else t for t in raw]


def _as_id(token: str) -> int | None:
    match = re.fullmatch(r"([0-9]+)(\.0+)?", token)
    return int(match.group(1)) if match else None


# ---- files and schema ---------------------------------------------------------------


def test_files_and_schema(shop: tuple[Path, ShopTruth]) -> None:
    folder, truth = shop
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "shop_database.db",
            "personal_data.csv.gz",
            "ids_first_company_positive.txt",
            "ids_first_company_negative.txt",
            "growthlens.toml",
            "truth.json",
            "truth_customers.csv.gz",
        ]
    )
    expected = {
        "personal_data": [
            ("id", "INTEGER"),
            ("gender", "INTEGER"),
            ("age", "INTEGER"),
            ("education", "TEXT"),
            ("city", "INTEGER"),
            ("country", "INTEGER"),
        ],
        "personal_data_coeffs": [
            ("id", "INTEGER"),
            ("lbt_coef", "REAL"),
            ("ac_coef", "REAL"),
            ("sm_coef", "REAL"),
            ("personal_coef", "REAL"),
        ],
        "purchases": [
            ("id", "INTEGER"),
            ("product", "TEXT"),
            ("colour", "TEXT"),
            ("cost", "INTEGER"),
            ("product_sex", "INTEGER"),
            ("base_sale", "INTEGER"),
            ("dt", "INTEGER"),
        ],
        "crm_snapshot": [("id", "INTEGER"), ("active_last_14_days", "INTEGER")],
    }
    with sqlite3.connect(folder / "shop_database.db") as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert sorted(names) == sorted(expected)
        for table, columns in expected.items():
            info = con.execute(f"PRAGMA table_info({table})").fetchall()
            assert [(r[1], r[2]) for r in info] == columns
            # stored values have the declared storage class (NULL allowed only in product_sex)
            for name, kind in columns:
                stored = {r[0] for r in con.execute(f"SELECT DISTINCT typeof({name}) FROM {table}")}
                allowed = {kind.lower()} | ({"null"} if name == "product_sex" else set())
                assert stored <= allowed, (table, name, stored)
        sexes = {r[0] for r in con.execute("SELECT DISTINCT product_sex FROM purchases")}
        assert sexes == {0, 1, None}
        days = con.execute("SELECT MIN(dt), MAX(dt) FROM purchases").fetchone()
        assert days == (0, 58)
    con.close()
    with gzip.open(folder / "personal_data.csv.gz", "rt", encoding="utf-8") as f:
        assert f.readline() == "id,age,education,city,country\n"
    assert (folder / "growthlens.toml").read_text(encoding="utf-8") == TOML
    config = tomllib.loads(TOML)
    assert config["settings"]["campaigns"][0]["period"] == [15, 45]
    assert json.loads((folder / "truth.json").read_text(encoding="utf-8")) == truth.to_dict()
    assert ShopTruth.from_dict(truth.to_dict()) == truth


def test_profile_values(tables: dict[str, pd.DataFrame]) -> None:
    people = tables["personal_data"]
    assert set(people["education"]) == {"среднее", "высшее"}
    assert set(people["gender"]) == {0, 1}
    assert people["id"].is_unique
    sizes = people["city"].value_counts()
    assert sizes.size == 30
    assert sizes.index[0] != 1134 and 1134 in set(sizes.index[1:4])  # large, not the largest
    assert sizes.iloc[0] > 10 * sizes.iloc[-1]


# ---- counts recovered from the files ------------------------------------------------


def test_list_counts(shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]) -> None:
    folder, truth = shop
    known = (
        set(tables["personal_data"]["id"])
        | set(tables["csv"]["id"])
        | set(tables["personal_data_coeffs"]["id"])
        | set(tables["purchases"]["id"])
    )
    ids: dict[str, list[int]] = {}
    for name in ("positive", "negative"):
        tokens = _tokens(folder / f"ids_first_company_{name}.txt")
        values = [_as_id(t) for t in tokens]
        ids[name] = [v for v in values if v is not None]
        non_ids: dict[str, int] = {}
        for t, v in zip(tokens, values, strict=True):
            if v is None:
                non_ids[t] = non_ids.get(t, 0) + 1
        want = truth.shop_lists[name]
        distinct = set(ids[name])
        assert len(tokens) == want["tokens"]
        assert len(distinct) == want["ids"]
        assert len(ids[name]) - len(distinct) == want["duplicates"]
        assert non_ids == want["non_ids"]
        assert tokens[0] == want["header"] == "id"
        assert len(distinct - known) == want["unknown_ids"]
        assert sum(i not in known for i in ids[name]) == want["unknown_tokens"]
    both = set(ids["positive"]) & set(ids["negative"])
    for name in ("positive", "negative"):
        want = truth.shop_lists[name]
        assert len(both) == want["in_both"] == 12
        assert sum(i in both for i in ids[name]) == want["in_both_tokens"]
        assert len(set(ids[name]) - both - (set(ids[name]) - known)) == want["accepted"]
    raw = (folder / "ids_first_company_positive.txt").read_text(encoding="utf-8")
    assert len(re.findall(r'"[0-9]+"', raw)) == truth.shop_lists["positive"]["quoted"] == 8
    raw = (folder / "ids_first_company_negative.txt").read_text(encoding="utf-8")
    assert len(re.findall(r"[0-9]+\.0\b", raw)) == truth.shop_lists["negative"]["decimals"] == 5
    assert truth.shop_email["participants"] == {
        "treatment": truth.shop_lists["positive"]["accepted"],
        "control": truth.shop_lists["negative"]["accepted"],
    }


def test_cleaning_counts(shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]) -> None:
    _, truth = shop
    lines = tables["purchases"]
    want = truth.shop_cleaning
    assert len(lines) == want["lines"]
    assert int(lines.duplicated().sum()) == want["duplicate_lines"] == 30
    assert int((lines["cost"] == 0).sum()) == want["zero_cost"] == 20
    assert int((lines["cost"] < 0).sum()) == want["negative_cost"] == 12
    clean = lines.drop_duplicates()
    clean = clean[clean["cost"] > 0]
    assert len(clean) == want["clean_lines"]
    assert len(lines[["id", "dt"]].drop_duplicates()) == want["orders"]
    assert lines["product"].nunique() == want["spelling_variants"]
    normal = lines["product"].str.lower().str.split().str.join(" ")
    assert normal.nunique() == want["products"] == len(CATALOGUE)
    assert {"чёрный", "черный"} <= set(lines["colour"].str.split("/").explode())


def test_profile_counts(shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]) -> None:
    _, truth = shop
    db, csv, coeffs = tables["personal_data"], tables["csv"], tables["personal_data_coeffs"]
    want = truth.shop_profiles
    assert len(db) == want["db_rows"] and len(csv) == want["csv_rows"]
    both = db.merge(csv, on="id", suffixes=("_db", "_csv"))
    assert len(both) == want["in_both"]
    differs = {
        c: both[f"{c}_db"] != both[f"{c}_csv"] for c in ("age", "education", "city", "country")
    }
    conflicting = pd.concat(differs, axis=1).any(axis=1)
    assert int((~conflicting).sum()) == want["in_both_identical"]
    assert int(conflicting.sum()) == want["in_both_conflicting"]
    by_column = {c: int(d.sum()) for c, d in differs.items() if d.any()}
    assert by_column == want["conflicts_by_column"]
    assert len(set(csv["id"]) - set(db["id"])) == want["csv_only"]
    profiled = set(db["id"]) | set(csv["id"])
    assert len(profiled) == truth.shop_customers
    assert len(coeffs) == want["coeff_rows"]
    assert len(profiled - set(coeffs["id"])) == want["customers_without_coeffs"]
    assert len(set(coeffs["id"]) - profiled) == want["coeffs_without_profile"]
    buyers = set(tables["purchases"]["id"])
    assert len(buyers - profiled) == want["purchases_without_profile"] > 0
    assert len(profiled | set(coeffs["id"])) == want["customers_combined"]


# ---- the planted effects, recovered within their sampling error ---------------------


def _arms(folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, set[int]]:
    known = set(tables["personal_data"]["id"]) | set(tables["csv"]["id"])
    lists = {}
    for name in ("positive", "negative"):
        values = [_as_id(t) for t in _tokens(folder / f"ids_first_company_{name}.txt")]
        lists[name] = {v for v in values if v is not None} & known
    both = lists["positive"] & lists["negative"]
    return {"treatment": lists["positive"] - both, "control": lists["negative"] - both}


def _per_participant(lines: pd.DataFrame, ids: set[int], first: int, last: int) -> pd.DataFrame:
    window = lines[lines["dt"].between(first, last) & lines["id"].isin(ids)]
    per = window.groupby("id").agg(
        orders=("dt", "nunique"), items=("cost", "size"), revenue=("cost", "sum")
    )
    per = per.reindex(sorted(ids), fill_value=0)
    per["conversion"] = (per["orders"] > 0).astype(float)
    return per


def test_email_arm_means_within_sampling_error(
    shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]
) -> None:
    folder, truth = shop
    lines = tables["purchases"].drop_duplicates()
    lines = lines[lines["cost"] > 0]
    arms = _arms(folder, tables)
    email = truth.shop_email
    for period, first, last, key in (("window", 5, 16, "expected"), ("pre", 0, 4, "expected_pre")):
        for arm, ids in arms.items():
            per = _per_participant(lines, ids, first, last)
            want = email[key][arm]
            assert len(per) == want["participants"]
            for metric in ("conversion", "orders", "items", "revenue"):
                x = per[metric].to_numpy(dtype=float)
                se = x.std(ddof=1) / math.sqrt(x.size)
                assert abs(x.mean() - want[metric]) < 4 * se, (period, arm, metric)
            # average check: a ratio of sums, its standard error by the delta method
            o, r = per["orders"].to_numpy(float), per["revenue"].to_numpy(float)
            ratio = r.sum() / o.sum()
            se = np.std(r - ratio * o, ddof=1) / o.mean() / math.sqrt(o.size)
            assert abs(ratio - want["average_check"]) < 4 * se, (period, arm)
    # The planted parameters show in the exact expectations.
    # the email adds most for the young and nothing over 50 (EMAIL_EXTRA_BY_AGE)
    assert email["relative"]["orders"] > 0.15
    by_age = {k: v["uplift"] for k, v in email["uplift_by_age"].items()}
    assert by_age["<30"] > by_age["30–49"] > 0.02 and abs(by_age["50+"]) < 0.02
    # a check at 10% off list prices against one that mixes list and sale prices
    assert -EMAIL_DISCOUNT < email["relative"]["average_check"] < 0.05
    assert email["expected_pre"]["treatment"]["orders"] == pytest.approx(
        email["expected_pre"]["control"]["orders"], rel=0.05
    )


def test_email_lines_carry_the_discount(
    shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]
) -> None:
    folder, _ = shop
    lines = tables["purchases"]
    price = {p.name.lower(): p.price for p in CATALOGUE}
    lines = lines.assign(price=lines["product"].str.lower().str.split().str.join(" ").map(price))
    assert lines["price"].notna().all()
    arms = _arms(folder, tables)
    window = lines["dt"].between(5, 16)
    treated = lines[window & lines["id"].isin(arms["treatment"])]
    assert (treated["base_sale"] == 1).all()
    assert (treated["cost"] == np.rint(0.9 * treated["price"])).all()
    control = lines[window & lines["id"].isin(arms["control"])]
    full = control["base_sale"] == 0
    assert (control.loc[full, "cost"] == control.loc[full, "price"]).all()
    assert (control.loc[~full, "cost"] == np.rint(0.8 * control.loc[~full, "price"])).all()


def test_city_campaign_within_sampling_error(
    shop: tuple[Path, ShopTruth], tables: dict[str, pd.DataFrame]
) -> None:
    _, truth = shop
    city = truth.shop_city
    profiles = pd.concat(
        [tables["personal_data"][["id", "city"]], tables["csv"][["id", "city"]]]
    ).drop_duplicates("id")
    orders = tables["purchases"][["id", "dt"]].drop_duplicates().merge(profiles, on="id")
    daily = orders.assign(treated=orders["city"] == 1134).groupby(["treated", "dt"]).size()
    by_day = daily.unstack(0, fill_value=0).reindex(range(59), fill_value=0)
    t, c = by_day[True].to_numpy(float), by_day[False].to_numpy(float)
    camp = np.isin(np.arange(59), [15, 45])
    # orders per day are sums of Bernoullis: variance below the mean (Poisson bound)
    for observed, expected in ((t, city["expected_orders_treated"]),
                               (c, city["expected_orders_comparison"])):  # fmt: skip
        z = (observed - np.asarray(expected)) / np.sqrt(expected)
        assert np.abs(z).max() < 4.5
        assert abs(z.sum() / math.sqrt(59)) < 4
    naive = t[camp].mean() / t[~camp].mean()
    ratio_c = c[camp].mean() / c[~camp].mean()
    se_log = math.sqrt(
        1 / t[camp].sum() + 1 / t[~camp].sum() + 1 / c[camp].sum() + 1 / c[~camp].sum()
    )
    assert abs(math.log(naive / ratio_c) - math.log(city["ratio_of_ratios"])) < 4 * se_log
    assert abs(math.log(naive) - math.log(city["naive_ratio"])) < 4 * se_log
    # planted: the ratio of ratios is the lift; the naive ratio is biased by the weekdays
    assert city["ratio_of_ratios"] == pytest.approx(1.6, abs=0.01)
    assert city["naive_ratio"] == pytest.approx(city["ratio_of_ratios"] * city["comparison_ratio"])
    assert city["naive_relative_bias"] < -0.05
    assert city["additive"] > 0 and city["did_additive"] != pytest.approx(city["additive"])


# ---- determinism and arguments ------------------------------------------------------


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ta, tb = write_shop(a, customers=2000, seed=7), write_shop(b, customers=2000, seed=7)
    assert ta == tb
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name
    write_shop(a, customers=2000, seed=7)  # rewriting over the files changes nothing
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name
    write_shop(c, customers=2000, seed=8)
    assert (c / "shop_database.db").read_bytes() != (a / "shop_database.db").read_bytes()


@pytest.mark.parametrize("kwargs", [{"customers": 999}, {"seed": -1}])
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"customers|seed"):
        write_shop(tmp_path, **kwargs)


def test_the_list_parser_reads_the_planted_counts(shop: tuple[Path, ShopTruth]) -> None:
    folder, truth = shop
    for name in ("positive", "negative"):
        parsed = read_id_list(folder / f"ids_first_company_{name}.txt")
        want = truth.shop_lists[name]
        assert parsed.encoding == "utf-8"
        assert parsed.tokens == want["tokens"]
        assert len(parsed.ids) == want["ids"]
        assert parsed.duplicates == want["duplicates"]
        assert parsed.non_ids == want["non_ids"]
        assert parsed.header == want["header"]
        assert parsed.quoted == want["quoted"]
        assert parsed.decimals == want["decimals"]
