"""The shop preset: a folder with shop_database.db, the recovered profiles and id lists."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import date
from pathlib import Path

import pytest

import growthlens as gl
from growthlens.data.shop import SHOP_TOML
from growthlens.demo.shop import SHOP_TOML as CONFIG
from growthlens.errors import ConfigError


def write_shop(folder: Path, *, config: bool = True) -> Path:
    """A tiny case folder: 3 profiles in the database, 1 recovered, 2 coefficient rows."""
    folder.mkdir(exist_ok=True)
    db = folder / "shop_database.db"
    with sqlite3.connect(db) as con:
        con.executescript(
            """
            CREATE TABLE personal_data (id INTEGER, gender INTEGER, age INTEGER,
                education TEXT, city INTEGER, country INTEGER);
            INSERT INTO personal_data VALUES (10, 1, 30, 'высшее', 1134, 32),
                (11, 0, 40, 'среднее', 1188, 32), (12, 1, 50, 'высшее', 1134, 32);
            CREATE TABLE personal_data_coeffs (id INTEGER, lbt_coef REAL, ac_coef REAL,
                sm_coef REAL, personal_coef REAL);
            INSERT INTO personal_data_coeffs VALUES (10, 1.0, 2.0, 3.0, 0.5),
                (13, 1.5, 2.5, 3.5, 0.25);
            CREATE TABLE purchases (id INTEGER, product TEXT, colour TEXT, cost INTEGER,
                product_sex INTEGER, base_sale INTEGER, dt INTEGER);
            INSERT INTO purchases VALUES
                (10, 'Футболка Nike', 'чёрный/белый', 1000, 1, 0, 3),
                (10, 'Кроссовки', 'белый', 5000, NULL, 1, 3),
                (10, 'Кроссовки', 'белый', 5000, NULL, 1, 3),
                (11, 'Мяч', 'красный', -10, 0, 0, 6),
                (11, 'Мяч', 'красный', 700, 0, 0, 6),
                (13, 'Шорты', 'синий', 0, 0, 1, 15);
            """
        )
    with gzip.open(folder / "personal_data.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(
            "id,age,education,city,country\n13,25,среднее,1134,32\n11,41,среднее,1188,32\n"
        )
    (folder / "ids_first_company_positive.txt").write_text(
        "id\n10, 11; 11 NaN 999", encoding="utf-8"
    )
    (folder / "ids_first_company_negative.txt").write_text("id 12 13 10", encoding="utf-8")
    if config:
        (folder / "growthlens.toml").write_text(CONFIG, encoding="utf-8")
    return folder


def _check_tables(ds: gl.Dataset) -> None:
    customers = ds.table("customers").order_by("user_id").to_pandas()
    assert customers.user_id.tolist() == [10, 11, 12, 13]
    # Each attribute from the first source that has it: the database, then the csv.gz.
    assert customers.age.tolist() == [30, 40, 50, 25]
    assert customers.lbt_coef.isna().tolist() == [False, True, True, False]
    orders = ds.table("orders").order_by(["user_id", "ts"]).to_pandas()
    got = [(int(r.user_id), r.revenue, int(r["items"])) for _, r in orders.iterrows()]
    assert got == [(10, 6000.0, 2), (11, 700.0, 1), (13, 0.0, 1)]
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (6, 4)
    assert dict(counts.excluded_by_reason) == {"duplicate_key": 1, "negative_revenue": 1}
    assert ds.lines is not None
    assert {"product", "colour", "product_sex", "base_sale"} <= set(ds.lines.columns)
    assignments = ds.table("assignments").order_by("user_id").to_pandas()
    rows = [(int(u), v) for u, v in zip(assignments.user_id, assignments.variant, strict=True)]
    assert rows == [(11, "treatment"), (12, "control"), (13, "control")]
    assert set(assignments.experiment) == {"first_company"}
    lists = ds.quality.table_counts("assignments")
    assert (lists.loaded, lists.accepted) == (10, 3)
    assert dict(lists.excluded_by_reason) == {
        "not_an_id": 3,
        "in_several_lists": 2,
        "duplicate_id": 1,
        "unknown_id": 1,
    }


def test_folder_loads_with_its_config(tmp_path: Path) -> None:
    ds = gl.load(write_shop(tmp_path / "case"))
    _check_tables(ds)
    assert ds.settings.day_zero == date(2023, 1, 1)
    assert ds.settings.currency == "RUB"
    assert ds.settings.experiments[0].window == (5, 16)
    assert ds.settings.campaigns[0].treated == {"city": 1134}
    first = ds.table("orders").ts.min().to_pyarrow().as_py()
    assert first.date() == date(2023, 1, 4)  # day 3


def test_database_alone_counts_days_from_1970(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "case", config=False)
    ds = gl.load(folder / "shop_database.db")
    _check_tables(ds)
    assert ds.settings.day_zero == date(1970, 1, 1)
    assert ds.settings.order_lines is True
    first = ds.table("orders").ts.min().to_pyarrow().as_py()
    assert first.date() == date(1970, 1, 4)


def test_the_documented_toml_loads_the_same(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "case", config=False)
    (folder / "growthlens.toml").write_text(SHOP_TOML, encoding="utf-8")
    _check_tables(gl.load(folder / "growthlens.toml"))
    _check_tables(gl.load(folder))  # a toml naming tables is the whole config


def test_lists_of_several_experiments_need_a_config(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "case")
    (folder / "ids_second_company_positive.txt").write_text("1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"several experiments \(first_company, second_company\)"):
        gl.load(folder)


def test_a_bad_folder_config_names_the_file(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "case")
    (folder / "growthlens.toml").write_text(
        CONFIG.replace("window = [5, 16]", "window = [16, 5]"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"growthlens.toml.*window starts after it ends"):
        gl.load(folder)


def test_keyword_settings_combine_with_the_folder_config(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "case")
    ds = gl.load(folder, window=[3, 6])  # day numbers: day_zero comes from the folder's toml
    assert ds.window == (date(2023, 1, 4), date(2023, 1, 7))
    assert ds.table("orders").count().to_pyarrow().as_py() == 2


def test_the_generated_case_loads_with_its_planted_counts(tmp_path: Path) -> None:
    """gl.load on the demo's folder finds exactly the messes the generator planted."""
    import json

    from growthlens.demo.shop import MIN_CUSTOMERS
    from growthlens.demo.shop import write_shop as generate

    folder = tmp_path / "shop"
    generate(folder, customers=max(MIN_CUSTOMERS, 2_000), seed=3)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    ds = gl.load(folder)
    lists, cleaning = truth["shop_lists"], truth["shop_cleaning"]
    counts = ds.quality.table_counts("assignments")
    arms = (lists["positive"], lists["negative"])
    assert counts.loaded == sum(a["tokens"] for a in arms)
    assert counts.accepted == sum(a["accepted"] for a in arms)
    assert counts.excluded_by_reason["in_several_lists"] == sum(a["in_both_tokens"] for a in arms)
    assert counts.excluded_by_reason["unknown_id"] == sum(a["unknown_ids"] for a in arms)
    orders = ds.quality.table_counts("orders")
    assert orders.loaded == cleaning["lines"]
    assert orders.excluded_by_reason["duplicate_key"] == cleaning["duplicate_lines"]
    assert orders.excluded_by_reason["negative_revenue"] == cleaning["negative_cost"]
    assert ds.table("orders").count().to_pyarrow().as_py() == cleaning["orders"]
    customers = ds.table("customers").count().to_pyarrow().as_py()
    assert customers == truth["shop_profiles"]["customers_combined"]
