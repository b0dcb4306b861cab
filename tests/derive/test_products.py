"""Product and colour normalisation (growthlens.derive.products) on real-looking names."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pandas as pd
import pytest

import growthlens as gl
from growthlens.demo.shop import CATALOGUE, COLOUR_WORDS, write_shop
from growthlens.derive.products import (
    DEFAULT_GROUPS,
    UNMAPPED,
    maps_from_counts,
    merged_groups,
    normalise_products,
    original_counts,
    text_key,
)

# (product, colour, revenue): 16 lines, hand-counted below.
LINES = [
    ("Футболка Nike", "чёрный", 1990.0),
    ("Футболка Nike", "Черный/белый", 1990.0),
    ("футболка  nike", "белый/синий", 1990.0),
    ("ФУТБОЛКА NIKE", "БЕЛЫЙ", 0.0),
    (" Футболка\u00a0Nike ", "синий", 1990.0),  # no-break space, trimmed: same spelling
    ("Кепка Reebok", "серый", 890.0),
    ("КЕПКА REEBOK", "серый", 890.0),
    ("кепка  reebok", None, 890.0),
    ("Кепка Reebok", "зелёный/жёлтый", 890.0),
    ("КЕПКА REEBOK", "", 0.0),
    ("Спортивный костюм Reebok", "красный", 6490.0),
    ("спортивный КОСТЮМ reebok", " Красный / чёрный", 6490.0),
    ("Ёлочная игрушка", "зеленый", 100.0),
    ("Самокат Xiaomi", "чёрный", 20000.0),
    ("самокат xiaomi", "черный", 20000.0),
    (None, "белый", 10.0),
]


def _rows(frame: pd.DataFrame, *columns: str) -> set[tuple[object, ...]]:
    """The rows as tuples, missing values as ``None`` (pandas may hold them as NaN)."""
    return {
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame[list(columns)].itertuples(index=False)
    }


def _table() -> ibis.Table:
    frame = pd.DataFrame(LINES, columns=["product", "colour", "revenue"])
    frame["user_id"] = range(len(frame))
    return ibis.memtable(frame)


def test_names_spellings_groups_and_counts() -> None:
    m = normalise_products(_table())
    got = _rows(m.names, "original", "product_name", "product_group", "lines")
    nike, cap = "Футболка Nike", "КЕПКА REEBOK"  # cap: a 2–2 tie, the smaller text wins
    suit = "Спортивный костюм Reebok"
    assert got == {
        ("Футболка Nike", nike, "t-shirts", 2),
        ("футболка  nike", nike, "t-shirts", 1),
        ("ФУТБОЛКА NIKE", nike, "t-shirts", 1),
        (" Футболка\u00a0Nike ", nike, "t-shirts", 1),
        ("Кепка Reebok", cap, "headwear", 2),
        ("КЕПКА REEBOK", cap, "headwear", 2),
        ("кепка  reebok", cap, "headwear", 1),
        ("Спортивный костюм Reebok", suit, "tracksuits", 1),
        ("спортивный КОСТЮМ reebok", suit, "tracksuits", 1),
        ("Ёлочная игрушка", "Ёлочная игрушка", UNMAPPED, 1),
        ("Самокат Xiaomi", "Самокат Xiaomi", UNMAPPED, 1),
        ("самокат xiaomi", "Самокат Xiaomi", UNMAPPED, 1),
        (None, None, UNMAPPED, 1),
    }
    assert m.total_lines == len(LINES) == int(m.names.lines.sum())
    assert m.zero_price_lines == 2
    # Nike: "Футболка Nike" ×3 once whitespace is cleaned (two originals), beats the rest.
    products = m.products.set_index("product_name")
    assert products.loc[nike, "lines"] == 5 and products.loc[nike, "spellings"] == 4
    assert products.loc[cap, "lines"] == 5 and products.loc[suit, "lines"] == 2
    unmapped = _rows(m.unmapped, "product_name", "leading_word", "lines")
    assert unmapped == {
        ("Ёлочная игрушка", "елочная", 1),
        ("Самокат Xiaomi", "самокат", 2),
        (None, None, 1),
    }


def test_colours_to_primary() -> None:
    m = normalise_products(_table())
    got = _rows(m.colours, "original", "primary_colour", "lines")
    assert got == {
        ("чёрный", "черный", 2),
        ("Черный/белый", "черный", 1),
        ("черный", "черный", 1),
        ("белый/синий", "белый", 1),
        ("БЕЛЫЙ", "белый", 1),
        ("белый", "белый", 1),
        ("синий", "синий", 1),
        ("серый", "серый", 2),
        (None, None, 1),
        ("зелёный/жёлтый", "зеленый", 1),
        ("", None, 1),
        ("красный", "красный", 1),
        (" Красный / чёрный", "красный", 1),
        ("зеленый", "зеленый", 1),
    }


def test_lines_gain_columns_row_for_row() -> None:
    table = _table()
    m = normalise_products(table)
    out = m.lines.order_by("user_id").to_pandas()
    assert len(out) == len(LINES)
    assert list(out.columns) == [*table.columns, "product_name", "product_group", "primary_colour"]
    assert out.product_group.tolist() == [
        *["t-shirts"] * 5,
        *["headwear"] * 5,
        *["tracksuits"] * 2,
        *[UNMAPPED] * 4,
    ]
    assert out.primary_colour.tolist()[:5] == ["черный", "черный", "белый", "белый", "синий"]
    assert pd.isna(out.product_name.iloc[-1])


def test_groups_override_extend_and_replace() -> None:
    m = normalise_products(_table(), groups={"Самокат": "scooters", "КЕПКА": "caps"})
    groups = dict(zip(m.names.original, m.names.product_group, strict=True))
    assert groups["самокат xiaomi"] == "scooters" and groups["Кепка Reebok"] == "caps"
    assert groups["Футболка Nike"] == "t-shirts"
    only = normalise_products(_table(), groups={"футболка": "tops"}, defaults=False)
    assert set(only.names.product_group) == {"tops", UNMAPPED}
    assert only.unmapped.lines.sum() == len(LINES) - 5
    # a phrase beats its leading word; a word beats nothing
    phrase = merged_groups({"спортивный": "sport"})
    m2 = normalise_products(_table(), groups=phrase)
    suit = m2.names.set_index("original").loc["Спортивный костюм Reebok", "product_group"]
    assert suit == "tracksuits"


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="'product' column"):
        normalise_products(ibis.memtable({"name": ["x"]}))
    with pytest.raises(ValueError, match="non-empty group"):
        normalise_products(_table(), groups={"мяч": " "})
    with pytest.raises(ValueError, match="non-empty text keys"):
        normalise_products(_table(), groups={"  ": "x"})


def test_no_colour_column() -> None:
    m = normalise_products(ibis.memtable({"product": ["Мяч", "мяч "]}))
    assert m.colours.empty and m.zero_price_lines is None
    assert m.lines.to_pandas().primary_colour.isna().all()
    assert m.names.product_group.tolist() == ["balls", "balls"]


def test_pre_grouped_rows_give_the_same_maps() -> None:
    frame = pd.DataFrame(LINES, columns=["product", "colour", "revenue"])
    frame["user_id"] = [i % 3 for i in range(len(frame))]
    frame = pd.concat([frame, frame], ignore_index=True)  # every cell twice
    frame["zero"] = (frame.revenue == 0).astype("int64")
    grouped = (
        frame.groupby(["user_id", "product", "colour"], dropna=False)
        .agg(n=("revenue", "size"), z=("zero", "sum"))
        .reset_index()
    )
    assert len(grouped) < len(frame)
    direct = normalise_products(ibis.memtable(frame))
    counts = original_counts(ibis.memtable(grouped), lines="n", zero="z")
    maps = maps_from_counts(counts)
    pd.testing.assert_frame_equal(maps.names, direct.names)
    pd.testing.assert_frame_equal(maps.colours, direct.colours)
    pd.testing.assert_frame_equal(maps.unmapped, direct.unmapped)
    assert (maps.zero_price_lines, maps.total_lines) == (4, 2 * len(LINES))


def test_apply_keeps_rows_and_marks_unknown_originals() -> None:
    m = normalise_products(_table())
    other = ibis.memtable(
        pd.DataFrame({"product": ["ФУТБОЛКА NIKE", "Новинка", None], "colour": ["серый"] * 3})
    )
    out = m.apply(other).to_pandas()
    assert len(out) == 3
    assert out.product_group.tolist() == ["t-shirts", UNMAPPED, UNMAPPED]
    assert out.primary_colour.tolist() == ["серый"] * 3


def test_default_mapping_keys_are_keys() -> None:
    assert all(text_key(k) == k for k in DEFAULT_GROUPS)


def test_shop_demo_collapses_to_the_catalogue(tmp_path: Path) -> None:
    write_shop(tmp_path, customers=1000, seed=3)
    ds = gl.load(tmp_path)
    truth = json.loads((tmp_path / "truth.json").read_text())["shop_cleaning"]
    assert ds.lines is not None
    m = normalise_products(ds.lines)
    assert set(m.products.product_name) == {p.name for p in CATALOGUE}
    assert len(m.products) == truth["products"]
    assert m.unmapped.empty and UNMAPPED not in set(m.products.product_group)
    # accepted lines: every line less the duplicates and negative prices the load dropped
    accepted = truth["lines"] - truth["duplicate_lines"] - truth["negative_cost"]
    assert m.total_lines == accepted and m.zero_price_lines == truth["zero_cost"]
    assert set(m.colours.primary_colour) == {text_key(c) for c in COLOUR_WORDS}
    assert len({text_key(c) for c in COLOUR_WORDS}) == len(COLOUR_WORDS) - 1  # чёрный
