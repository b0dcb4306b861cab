"""Customers from several sources, combined by id (policy "combine"), on DuckDB.

A hand fixture of the shop's three sources (a profile table with gender, a recovered file
without it, a coefficients table) with every combined value and count written out; the
wiring through ``gl.load`` (accounting, findings, the default policy); and a property
test against an independent plain-Python reading of the definition: per id and column,
the first source listed that has a non-null, non-NaN value gives it (within one source,
the smallest of its values).
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import growthlens as gl
from growthlens.data.canonical import SOURCE_RANK, CanonicalSource
from growthlens.data.combine import (
    CombineCounts,
    combine_customers,
    combine_findings,
    resolve_policy,
)
from growthlens.data.tables import TABLES
from growthlens.demo.shop import write_shop
from growthlens.errors import ConfigError

CUSTOMERS = TABLES["customers"]
NAN = float("nan")
LABELS = ("personal_data", "personal_data.csv.gz", "personal_data_coeffs")


def source(columns: dict[str, tuple[pa.DataType, list[Any]]]) -> CanonicalSource:
    schema = pa.schema([(name, typ) for name, (typ, _) in columns.items()])
    data = pa.table({name: values for name, (_, values) in columns.items()}, schema=schema)
    numeric = pa.types.is_unsigned_integer(schema.field("user_id").type)
    return CanonicalSource(ibis.memtable(data), {"user_id": numeric})


def shop_sources() -> list[CanonicalSource]:
    profile = source(
        {
            "user_id": (pa.uint64(), [1, 2, 3, None]),
            "gender": (pa.string(), ["f", "m", None, "f"]),
            "age": (pa.int64(), [25, None, 40, 30]),
            "city": (pa.int64(), [1134, 1188, 1134, 1188]),
            "education": (pa.string(), ["высшее", "среднее", None, "x"]),
        }
    )
    recovered = source(  # the lost rows, without gender; age read as float
        {
            "user_id": (pa.uint64(), [3, 4, 5, 1]),
            "age": (pa.float64(), [41.0, 33.0, NAN, 25.0]),
            "city": (pa.int64(), [1134, 1188, 1134, 1134]),
            "education": (pa.string(), ["высшее", "среднее", None, "среднее"]),
        }
    )
    coeffs = source(
        {
            "user_id": (pa.uint64(), [1, 2, 3, 4, 5, 5]),
            "coef_a": (pa.float64(), [0.1, 0.2, 0.3, 0.4, 0.5, 0.45]),
            "coef_b": (pa.float64(), [1.0, 2.0, None, 4.0, 5.0, None]),
        }
    )
    return [profile, recovered, coeffs]


def rows_of(table: ibis.Table) -> list[tuple[Any, ...]]:
    frame = table.to_pyarrow().to_pylist()
    out = [tuple(r.values()) for r in frame]
    return sorted(out, key=lambda r: (r[0] is None, r[0] if r[0] is not None else 0))


def test_shop_fixture_combined_rows() -> None:
    table, _ = combine_customers(shop_sources(), CUSTOMERS, labels=LABELS)
    assert table.columns == (
        "user_id",
        "gender",
        "age",
        "city",
        "education",
        SOURCE_RANK,
        "coef_a",
        "coef_b",
    )
    assert table.schema()["age"].is_float64()  # int64 and float64 align to float64
    assert rows_of(table) == [
        (1, "f", 25.0, 1134, "высшее", 0, 0.1, 1.0),
        (2, "m", None, 1188, "среднее", 0, 0.2, 2.0),
        (3, None, 40.0, 1134, "высшее", 0, 0.3, None),  # education from the recovered file
        (4, None, 33.0, 1188, "среднее", 1, 0.4, 4.0),
        (5, None, None, 1134, None, 1, 0.45, 5.0),  # NaN is no value; coeffs' smallest
        (None, "f", 30.0, 1188, "x", 0, None, None),  # no id: passed through as it is
    ]


def test_shop_fixture_counts() -> None:
    _, counts = combine_customers(shop_sources(), CUSTOMERS, labels=LABELS)
    pd_, csv, co = LABELS
    assert counts == CombineCounts(
        table="customers",
        key=("user_id",),
        sources=LABELS,
        columns={
            pd_: ("gender", "age", "city", "education"),
            csv: ("age", "city", "education"),
            co: ("coef_a", "coef_b"),
        },
        rows={pd_: 4, csv: 4, co: 6},
        ids={pd_: 3, csv: 4, co: 5},
        repeated={pd_: 0, csv: 0, co: 1},
        customers=5,
        null_ids=1,
        in_several=5,
        only_in={pd_: 0, csv: 0, co: 0},
        absent_from={pd_: 2, csv: 1, co: 0},
        absent_examples={
            pd_: (f"id 4: in {csv}, {co}", f"id 5: in {csv}, {co}"),
            csv: (f"id 2: in {pd_}, {co}",),
        },
        # 25 (int) and 25.0 agree after alignment; a null never disagrees.
        conflicts={
            "gender": 0,
            "age": 1,
            "city": 0,
            "education": 1,
            "coef_a": 0,
            "coef_b": 0,
        },
        conflict_examples={
            "age": (f"id 3: 40.0 ({pd_}) vs 41.0 ({csv})",),
            "education": (f"id 1: 'высшее' ({pd_}) vs 'среднее' ({csv})",),
        },
        missing={"gender": 3, "age": 2, "city": 0, "education": 1, "coef_a": 0, "coef_b": 1},
        missing_by_source={
            "gender": {pd_: 1, csv: 2},
            "age": {pd_: 1, csv: 1},
            "city": {},
            "education": {csv: 1},
            "coef_a": {},
            "coef_b": {pd_: 1},
        },
    )


def test_shop_fixture_findings() -> None:
    _, counts = combine_customers(shop_sources(), CUSTOMERS, labels=LABELS)
    findings = combine_findings(counts)
    assert [(f.check, f.rows, f.severity) for f in findings] == [
        ("combined_sources", 5, "info"),
        ("ids_not_in_source", 2, "info"),
        ("ids_not_in_source", 1, "info"),
        ("conflicting_values", 1, "warning"),
        ("conflicting_values", 1, "warning"),
        ("missing_after_combining", 3, "info"),
        ("missing_after_combining", 2, "info"),
        ("missing_after_combining", 1, "info"),
        ("missing_after_combining", 1, "info"),
    ]
    assert all(f.action == "kept" and f.table == "customers" for f in findings)
    assert findings[0].message == (
        "5 customers were combined by id from 3 sources (personal_data: 4 rows, 3 ids; "
        "personal_data.csv.gz: 4 rows, 4 ids; personal_data_coeffs: 6 rows, 5 ids (1 row "
        "repeats an id of personal_data_coeffs)); 5 ids are in several sources."
    )
    assert findings[3].message == (
        "1 of 5 customers have different non-null 'age' values in different sources, e.g. "
        "id 3: 40.0 (personal_data) vs 41.0 (personal_data.csv.gz)."
    )
    assert findings[5].message == (
        "3 of 5 customers have no value for 'gender' in any source (1 from personal_data; "
        "2 from personal_data.csv.gz, which has no 'gender' column)."
    )


def test_shop_gender_all_from_recovered_file() -> None:
    profile = source({"user_id": (pa.uint64(), [1, 2]), "gender": (pa.string(), ["f", "m"])})
    recovered = source({"user_id": (pa.uint64(), [3, 4]), "age": (pa.int64(), [20, 30])})
    _, counts = combine_customers([profile, recovered], CUSTOMERS, labels=LABELS[:2])
    missing = [f for f in combine_findings(counts) if f.check == "missing_after_combining"]
    assert [f.message for f in missing] == [
        "2 of 4 customers have no value for 'gender' in any source (all from "
        "personal_data.csv.gz, which has no 'gender' column).",
        "2 of 4 customers have no value for 'age' in any source (all from personal_data, "
        "which has no 'age' column).",
    ]
    assert counts.only_in == {"personal_data": 2, "personal_data.csv.gz": 2}
    assert counts.in_several == 0


def test_text_and_numeric_ids_and_values_align_to_text() -> None:
    numbers = source(
        {"user_id": (pa.uint64(), [1, 2]), "age": (pa.int64(), [30, 31])},
    )
    texts = source(
        {"user_id": (pa.string(), ["1", "u2"]), "age": (pa.string(), ["30.0", "40"])},
    )
    table, counts = combine_customers([numbers, texts], CUSTOMERS)
    assert table.schema()["user_id"].is_string() and table.schema()["age"].is_string()
    assert rows_of(table.drop(SOURCE_RANK)) == [("1", "30"), ("2", "31"), ("u2", "40")]
    # "30" (the number as text) and "30.0" are different texts.
    assert counts.conflicts == {"age": 1}
    assert counts.conflict_examples == {"age": ("id 1: '30' (source 1) vs '30.0' (source 2)",)}


def test_no_customers_no_findings() -> None:
    empty = source({"user_id": (pa.uint64(), [None]), "age": (pa.int64(), [3])})
    table, counts = combine_customers([empty, empty], CUSTOMERS, labels=["a", "a"])
    assert counts.sources == ("a #1", "a #2")
    assert counts.customers == 0 and counts.null_ids == 2
    assert rows_of(table.drop(SOURCE_RANK)) == [(None, 3), (None, 3)]
    assert combine_findings(counts) == []


def test_policy_resolution() -> None:
    assert resolve_policy(CUSTOMERS, "auto", sources=2) == "combine"
    assert resolve_policy(CUSTOMERS, "auto", sources=1) == "auto"
    assert resolve_policy(CUSTOMERS, "first", sources=3) == "first"
    assert resolve_policy(CUSTOMERS, "combine", sources=1) == "combine"
    with pytest.raises(ConfigError, match="customers only"):
        resolve_policy(TABLES["orders"], "combine", sources=2)


def test_load_combines_customers_by_default() -> None:
    profile = pd.DataFrame(
        {"user_id": [1, 2, 3, None], "gender": ["f", "m", None, "f"], "age": [25, 30, 40, 50]}
    )
    recovered = pd.DataFrame({"user_id": [4, 1], "age": [33, 26]})
    ds = gl.load(customers=[profile, recovered])
    got = ds.table("customers").order_by("user_id").to_pyarrow().to_pylist()
    assert [(r["user_id"], r["gender"], r["age"]) for r in got] == [
        (1, "f", 25.0),
        (2, "m", 30.0),
        (3, None, 40.0),
        (4, None, 33.0),
    ]
    counts = ds.quality.table_counts("customers")
    # Rows read count the combined rows: 4 customers + the row without an id (excluded).
    assert (counts.loaded, counts.accepted, counts.excluded) == (5, 4, 1)
    assert dict(counts.excluded_by_reason) == {"missing_user_id": 1}
    checks = [f.check for f in ds.quality.findings_for("customers")]
    assert checks == [
        "missing_user_id",
        "combined_sources",
        "ids_not_in_source",
        "ids_not_in_source",
        "conflicting_values",
        "missing_after_combining",
    ]


def test_load_keeps_first_policy_when_asked() -> None:
    a = pd.DataFrame({"user_id": [1, 2], "gender": ["f", None]})
    b = pd.DataFrame({"user_id": [2, 3], "gender": ["m", "f"]})
    ds = gl.load(customers={"sources": [a, b], "duplicates": "first"})
    counts = ds.quality.table_counts("customers")
    assert (counts.loaded, counts.accepted, dict(counts.excluded_by_reason)) == (
        4,
        3,
        {"duplicate_key": 1},
    )
    got = ds.table("customers").order_by("user_id").to_pyarrow().to_pylist()
    assert [r["gender"] for r in got] == ["f", None, "f"]  # whole rows, first source's


def test_combine_refused_for_orders() -> None:
    orders = pd.DataFrame({"user_id": [1], "ts": ["2020-01-01"], "revenue": [1.0]})
    with pytest.raises(ConfigError, match="customers only"):
        gl.load(orders={"sources": [orders, orders], "duplicates": "combine"})


# --- property: the combined table is the first non-null value per attribute ------------

IDS = st.one_of(st.none(), st.integers(0, 6))
A_VALUES = st.one_of(st.none(), st.integers(-2, 2))
B_VALUES = st.one_of(st.none(), st.sampled_from(["x", "y", "ё", ""]))
C_VALUES = st.one_of(st.none(), st.just(NAN), st.sampled_from([0.5, 1.0, -1.5]))


@st.composite
def generated_source(draw: st.DrawFn) -> dict[str, Any]:
    columns = draw(st.sets(st.sampled_from(["a", "b", "c"])))
    a_float = draw(st.booleans())  # "a" is int64 in some sources, float64 in others
    n = draw(st.integers(0, 8))
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {"user_id": draw(IDS)}
        if "a" in columns:
            value = draw(A_VALUES)
            row["a"] = float(value) if a_float and value is not None else value
        if "b" in columns:
            row["b"] = draw(B_VALUES)
        if "c" in columns:
            row["c"] = draw(C_VALUES)
        rows.append(row)
    types = {"a": pa.float64() if a_float else pa.int64(), "b": pa.string(), "c": pa.float64()}
    return {"columns": sorted(columns), "rows": rows, "types": types}


def build(spec: dict[str, Any]) -> CanonicalSource:
    columns: dict[str, tuple[pa.DataType, list[Any]]] = {
        "user_id": (pa.uint64(), [r["user_id"] for r in spec["rows"]])
    }
    for name in spec["columns"]:
        columns[name] = (spec["types"][name], [r[name] for r in spec["rows"]])
    return source(columns)


def has_value(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def oracle(specs: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
    """Plain Python: per id and column, per source the smallest value, then the first."""
    names = [c for c in ("a", "b", "c") if any(c in s["columns"] for s in specs)]
    per_source: list[dict[int, dict[str, Any]]] = []
    for spec in specs:
        ids: dict[int, dict[str, Any]] = {}
        for row in spec["rows"]:
            if row["user_id"] is None:
                continue
            slot = ids.setdefault(row["user_id"], {})
            for name in spec["columns"]:
                v = row[name]
                if has_value(v) and (name not in slot or v < slot[name]):
                    slot[name] = v
        per_source.append(ids)
    all_ids = sorted({i for ids in per_source for i in ids})
    combined = {}
    conflicts = dict.fromkeys(names, 0)
    for i in all_ids:
        values = {}
        for name in names:
            found = [ids[i][name] for ids in per_source if i in ids and name in ids[i]]
            values[name] = found[0] if found else None
            conflicts[name] += len(set(found)) > 1
        combined[i] = values
    holders = {i: [r for r, ids in enumerate(per_source) if i in ids] for i in all_ids}
    counts = {
        "customers": len(all_ids),
        "null_ids": sum(r["user_id"] is None for s in specs for r in s["rows"]),
        "ids": [len(ids) for ids in per_source],
        "in_several": sum(len(h) > 1 for h in holders.values()),
        "only_in": [sum(h == [r] for h in holders.values()) for r in range(len(specs))],
        "absent_from": [sum(r not in h for h in holders.values()) for r in range(len(specs))],
        "conflicts": conflicts,
        "missing": {n: sum(combined[i][n] is None for i in all_ids) for n in names},
    }
    return combined, counts


@settings(max_examples=40, deadline=None)
@given(st.lists(generated_source(), min_size=1, max_size=4))
def test_combined_equals_first_non_null_per_attribute(specs: list[dict[str, Any]]) -> None:
    expected, expected_counts = oracle(specs)
    table, counts = combine_customers([build(s) for s in specs], CUSTOMERS)
    got = table.to_pyarrow().to_pylist()
    keyed = {r["user_id"]: r for r in got if r["user_id"] is not None}
    assert len(keyed) == len(got) - expected_counts["null_ids"]  # one row per id
    assert set(keyed) == set(expected)
    for i, values in expected.items():
        for name, value in values.items():
            assert keyed[i][name] == value, (i, name)
    labels = counts.sources
    assert counts.customers == expected_counts["customers"]
    assert counts.null_ids == expected_counts["null_ids"]
    assert [counts.ids[s] for s in labels] == expected_counts["ids"]
    assert counts.in_several == expected_counts["in_several"]
    assert [counts.only_in[s] for s in labels] == expected_counts["only_in"]
    assert [counts.absent_from[s] for s in labels] == expected_counts["absent_from"]
    assert dict(counts.conflicts) == expected_counts["conflicts"]
    assert dict(counts.missing) == expected_counts["missing"]
    assert sum(counts.rows.values()) == sum(len(s["rows"]) for s in specs)


def test_load_combines_files_in_the_order_listed(tmp_path: Path) -> None:
    (tmp_path / "profile.csv").write_text("id,gender,age\n1,f,25\n2,m,\n")
    with gzip.open(tmp_path / "lost.csv.gz", "wt", encoding="utf-8") as out:
        out.write("id,age,education\n2,31,высшее\n3,40,среднее\n1,26,\n")
    (tmp_path / "coeffs.csv").write_text("id,coef\n1,0.5\n3,1.5\n")
    sources = [{"path": str(tmp_path / n), "columns": {"user_id": "id"}} for n in FILES]
    ds = gl.load(customers={"sources": sources})
    table = ds.table("customers")
    assert table.schema()["user_id"].is_unsigned_integer()  # numeric ids stay numeric
    got = table.order_by("user_id").to_pyarrow().to_pylist()
    assert [tuple(r.values()) for r in got] == [
        (1, "f", 25.0, None, 0.5),
        (2, "m", 31.0, "высшее", None),
        (3, None, 40.0, "среднее", 1.5),
    ]
    conflict = next(f for f in ds.quality.findings_for("customers") if f.check.startswith("conf"))
    assert conflict.examples == ({"example": "id 1: 25 (profile.csv) vs 26 (lost.csv.gz)"},)


FILES = ("profile.csv", "lost.csv.gz", "coeffs.csv")


def test_shop_case_counts_match_its_truth(tmp_path: Path) -> None:
    write_shop(tmp_path, customers=2000, seed=3)
    planted = json.loads((tmp_path / "truth.json").read_text())["shop_profiles"]
    ds = gl.load(tmp_path)
    counts = ds.quality.table_counts("customers")
    assert counts.accepted == counts.loaded == planted["customers_combined"]
    found = ds.quality.findings_for("customers")
    conflicts = {
        column: f.rows
        for f in found
        for column in planted["conflicts_by_column"]
        if f.what == f"have different non-null {column!r} values in different sources"
    }
    assert conflicts == planted["conflicts_by_column"]
    absent = {
        f.message.split(" are not in ")[1].split(" (")[0]: f.rows
        for f in found
        if f.check == "ids_not_in_source"
    }
    coeffs = next(v for k, v in absent.items() if k.endswith("personal_data_coeffs"))
    assert coeffs == planted["customers_without_coeffs"]
    profile = next(v for k, v in absent.items() if k.endswith(":personal_data"))
    assert profile == planted["csv_only"] + planted["coeffs_without_profile"]
