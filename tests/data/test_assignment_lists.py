"""Assignments from participant lists: every token accounted for, unknown ids found."""

from __future__ import annotations

import re
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import growthlens as gl
from growthlens.data.assignments import REASONS, as_lists, experiment_name, lists_table
from growthlens.data.config import ListsSpec
from growthlens.errors import ConfigError, DataError

# 9 tokens: header, 1, 2, 2 (repeat), 3, NaN, —, 9 (nobody), 5 (also in the other list).
POSITIVE = "id\n1, 2;2 3 NaN\n—\n9 5"
# 6 tokens: header, 4, 5, 5 (both lists: all three tokens), 6, 99 (nobody).
NEGATIVE = "id;4;5;5 6 99\n"
ORDERS = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 5, 6],
        "revenue": [1.0] * 6,
        "ts": pd.to_datetime(["2023-01-01"] * 6),
    }
)


@pytest.fixture
def lists(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "ids_spring_sale_positive.txt").write_text(POSITIVE, encoding="utf-8")
    (tmp_path / "ids_spring_sale_negative.txt").write_text(NEGATIVE, encoding="utf-8")
    return {
        "treatment": str(tmp_path / "ids_spring_sale_positive.txt"),
        "control": str(tmp_path / "ids_spring_sale_negative.txt"),
    }


def test_every_token_is_accounted_for(lists: dict[str, str]) -> None:
    ds = gl.load(orders=ORDERS, assignments=lists)
    counts = ds.quality.table_counts("assignments")
    assert counts.loaded == 15
    assert counts.accepted == 5
    assert dict(counts.excluded_by_reason) == {
        "not_an_id": 4,
        "in_several_lists": 3,
        "duplicate_id": 1,
        "unknown_id": 2,
    }
    table = ds.table("assignments").order_by("user_id").to_pandas()
    assert [(int(u), v) for u, v in zip(table.user_id, table.variant, strict=True)] == [
        (1, "treatment"),
        (2, "treatment"),
        (3, "treatment"),
        (4, "control"),
        (6, "control"),
    ]
    assert set(table.experiment) == {"spring_sale"}
    # Typed like the other tables' ids, so joins on user_id work.
    assert ds.table("assignments").user_id.type() == ds.table("orders").user_id.type()


def test_findings_name_the_tokens(lists: dict[str, str]) -> None:
    ds = gl.load(orders=ORDERS, assignments=lists)
    found = {f.check: f for f in ds.quality.findings_for("assignments")}
    assert found["unknown_id"].message.startswith("2 of 15 list tokens (13.3%) are ids found in")
    assert {e["id"] for e in found["unknown_id"].examples} == {"9", "99"}
    assert found["in_several_lists"].examples == ({"id": 5, "lists": "treatment, control"},)
    tokens = {(e["list"], e["token"], e["count"]) for e in found["not_an_id"].examples}
    assert tokens == {
        ("ids_spring_sale_positive.txt", "id", 1),
        ("ids_spring_sale_positive.txt", "NaN", 1),
        ("ids_spring_sale_positive.txt", "—", 1),
        ("ids_spring_sale_negative.txt", "id", 1),
    }
    assert all(f.action == "excluded" for f in found.values())


def test_ids_known_from_any_table(lists: dict[str, str]) -> None:
    customers = pd.DataFrame({"user_id": [9, 1]})
    ds = gl.load(orders=ORDERS, customers=customers, assignments=lists)
    counts = ds.quality.table_counts("assignments")
    assert counts.excluded_by_reason["unknown_id"] == 1  # 9 is a customer now; 99 is not
    assert counts.accepted == 6


def test_config_lists_and_experiment(tmp_path: Path, lists: dict[str, str]) -> None:
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "growthlens.toml").write_text(
        '[orders]\npath = "orders.csv"\n'
        "[assignments]\n"
        'lists = { test = "ids_spring_sale_positive.txt", base = "ids_spring_sale_negative.txt" }\n'
        'experiment = "Spring"\n',
        encoding="utf-8",
    )
    ds = gl.load(tmp_path / "growthlens.toml")
    table = ds.table("assignments").to_pandas()
    assert set(table.variant) == {"test", "base"} and set(table.experiment) == {"Spring"}
    assert ds.quality.table_counts("assignments").loaded == 15


def test_keyword_form_with_experiment(lists: dict[str, str]) -> None:
    ds = gl.load(orders=ORDERS, assignments={"lists": lists, "experiment": "x"})
    assert set(ds.table("assignments").experiment.to_pandas()) == {"x"}


def test_text_ids_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("user_id\nu1 u2 nan u9", encoding="utf-8")
    orders = ORDERS.assign(user_id=["u1", "u2", "u3", "u4", "u5", "u6"])
    ds = gl.load(orders=orders, assignments={"treatment": str(tmp_path / "a.txt")})
    counts = ds.quality.table_counts("assignments")
    assert (counts.loaded, counts.accepted) == (5, 2)
    assert dict(counts.excluded_by_reason) == {"not_an_id": 2, "unknown_id": 1}
    assert set(ds.table("assignments").experiment.to_pandas()) == {"experiment"}


def test_lists_need_another_table(lists: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="need a table of the same users"):
        gl.load(assignments=lists)


def test_a_missing_list_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere\.txt"):
        gl.load(orders=ORDERS, assignments={"treatment": str(tmp_path / "nowhere.txt")})


def test_bad_lists_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[assignments\] lists.*treatment ="):
        gl.Config.from_mapping({"assignments": {"lists": {"treatment": 5}}})


def test_as_lists_tells_lists_from_sources() -> None:
    assert as_lists({"treatment": "a.txt"}) is not None
    assert as_lists({"path": "a.csv"}) is None
    assert as_lists({"sources": ["a.csv"]}) is None
    assert as_lists(ORDERS) is None
    assert as_lists("a.csv") is None


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["ids_first_company_positive.txt", "ids_first_company_negative.txt"], "first_company"),
        (["spring-test-A.txt", "spring-test-B.txt"], "spring_test"),
        (["userIdsSpringA.txt", "userIdsSpringB.txt"], "spring"),
        (["a.txt", "b.txt"], "experiment"),
        (["ids_x_positive.txt"], "experiment"),
    ],
)
def test_experiment_name(names: list[str], expected: str) -> None:
    assert experiment_name(names) == expected


_TOKENS = st.one_of(
    st.integers(min_value=0, max_value=30).map(str),  # ids, often repeated and shared
    st.sampled_from(["id", "NaN", "—", "нет", "x1", "-5", "1.5"]),
)
_SEPS = st.sampled_from([",", ";", " ", "\n", "\t", "\r\n", ", ", " ;\n"])


@st.composite
def _list_text(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(_TOKENS, max_size=25))
    return "".join(t + draw(_SEPS) for t in tokens)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=_list_text(), b=_list_text(), known=st.sets(st.integers(0, 30), min_size=1))
def test_accounting_matches_an_oracle(tmp_path: Path, a: str, b: str, known: set[int]) -> None:
    """Every token takes exactly the reason a plain-Python reading gives it."""
    (tmp_path / "a.txt").write_text(a, encoding="utf-8")
    (tmp_path / "b.txt").write_text(b, encoding="utf-8")
    spec = ListsSpec(lists={"t": str(tmp_path / "a.txt"), "c": str(tmp_path / "b.txt")})
    customers = ibis.memtable(pd.DataFrame({"user_id": sorted(known)}))
    got = lists_table(spec, {"customers": customers}, numeric=True)

    split = {
        name: [t for t in re.split(r"[,;\s]+", text) if t] for name, text in (("t", a), ("c", b))
    }
    ids = {name: {int(t) for t in tokens if t.isdigit()} for name, tokens in split.items()}
    several = ids["t"] & ids["c"]
    expected = dict.fromkeys(REASONS, 0)
    accepted = set()
    for name, tokens in split.items():
        seen: set[int] = set()
        for token in tokens:
            if not token.isdigit():
                expected["not_an_id"] += 1
            elif int(token) in several:
                expected["in_several_lists"] += 1
            elif int(token) in seen:
                expected["duplicate_id"] += 1
            elif int(token) not in known:
                expected["unknown_id"] += 1
            else:
                accepted.add((int(token), name))
            if token.isdigit():
                seen.add(int(token))
    counts = got.counts
    assert counts.loaded == sum(len(t) for t in split.values())
    assert dict(counts.excluded_by_reason) == {r: n for r, n in expected.items() if n}
    rows = got.table.to_pandas()
    assert {(int(u), v) for u, v in zip(rows.user_id, rows.variant, strict=True)} == accepted
