"""The participant-list parser: the shop case's mess by hand, files, and a property test."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from growthlens.data.idlist import IdList, parse_id_list, read_id_list
from growthlens.errors import DataError


def _balanced(r: IdList) -> bool:
    return (
        r.tokens == len(r.ids) + r.duplicates + sum(r.non_ids.values())
        and sum(r.repeats.values()) == r.duplicates
        and set(r.repeats) <= set(r.ids)
    )


# ---- hand fixtures ------------------------------------------------------------------


def test_the_case_mess_every_token_counted() -> None:
    text = (
        "id\r\n"
        "101, 102;103\t104\r\n"
        "\r\n"
        "105\xa0106 ;; 101\n"  # NBSP, a doubled separator, a duplicate
        "NaN, —, 107\n"
        "Список участников\n"  # two Cyrillic words
        "'108' \"102\" 109.0 110.5 -111 id\n"
        "   \n"
    )
    r = parse_id_list(text)
    assert r.ids == (101, 102, 103, 104, 105, 106, 107, 108, 109)
    # tokens: id 101 102 103 104 105 106 101 NaN — 107 Список участников '108' "102"
    # 109.0 110.5 -111 id
    assert r.tokens == 19
    assert r.duplicates == 2  # 101 again, "102" again
    assert r.repeats == {101: 1, 102: 1}
    assert r.non_ids == {
        "id": 2,
        "NaN": 1,
        "—": 1,
        "Список": 1,
        "участников": 1,
        "110.5": 1,
        "-111": 1,
    }
    assert r.header == "id"
    assert r.quoted == 2
    assert r.decimals == 1
    assert r.path == "<text>"
    assert r.encoding is None
    assert r.non_id_examples == ("id", "NaN", "—", "Список", "участников")
    assert _balanced(r)


def test_no_header_when_the_first_token_is_an_id() -> None:
    r = parse_id_list("5\n6\nid\n5\n", source="list.txt")
    assert r.header is None
    assert r.ids == (5, 6)
    assert r.tokens == 4 and r.duplicates == 1 and r.non_ids == {"id": 1}
    assert r.path == "list.txt"


@pytest.mark.parametrize(
    ("text", "ids", "non_ids"),
    [
        ("", (), {}),
        ("\n\n ,;\t\r\n", (), {}),
        ("007 7 0", (7, 0), {}),  # same integer: 007 is a duplicate of 7
        ("1.00 1.0 2.", (1,), {"2.": 1}),
        ("9223372036854775807 9223372036854775808", (2**63 - 1,), {"9223372036854775808": 1}),
        ("١٢٣ ²", (), {"١٢٣": 1, "²": 1}),  # non-ASCII digits are not ids
        ('"" \'\' "12', (), {'""': 1, "''": 1, '"12': 1}),  # empty quotes; an unmatched quote
        ("«12» “13” „14“ ‘15’", (12, 13, 14, 15), {}),
        ("1e6 +5 0x10", (), {"1e6": 1, "+5": 1, "0x10": 1}),
        ("1\u200b2\ufeff3\u20604\u30005\u20036", (1, 2, 3, 4, 5, 6), {}),
        ("\ufeffid 1", (1,), {"id": 1}),  # a leading BOM in a string is dropped
    ],
)
def test_numeric_tokens(text: str, ids: tuple[int, ...], non_ids: dict[str, int]) -> None:
    r = parse_id_list(text)
    assert r.ids == ids
    assert r.non_ids == non_ids
    assert _balanced(r)


def test_duplicate_count_with_the_leading_zero_rule() -> None:
    r = parse_id_list("007 7 0 0000 7")
    assert r.tokens == 5 and r.duplicates == 3 and r.repeats == {7: 2, 0: 1}


def test_string_ids() -> None:
    r = parse_id_list("user_id\nab-1, ab-2; NaN\nab-1 — null 'ab-3' id", numeric=False)
    assert r.header == "user_id"
    assert r.ids == ("ab-1", "ab-2", "ab-3", "id")  # only the first token can be a header
    assert r.non_ids == {"user_id": 1, "NaN": 1, "—": 1, "null": 1}
    assert r.duplicates == 1 and r.quoted == 1 and r.tokens == 9
    assert _balanced(r)


def test_string_ids_first_missing_marker_is_not_a_header() -> None:
    r = parse_id_list("nan a", numeric=False)
    assert r.header is None and r.non_ids == {"nan": 1} and r.ids == ("a",)


def test_a_million_ids_parse_quickly() -> None:
    import time

    text = "id\n" + "\n".join(str(i * 7) for i in range(1_000_000))
    start = time.perf_counter()
    r = parse_id_list(text)
    assert len(r.ids) == 1_000_000 and r.tokens == 1_000_001
    assert time.perf_counter() - start < 10


# ---- files --------------------------------------------------------------------------


def test_file_utf8_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "pos.txt"
    path.write_bytes("\ufeffid\r\n1\r\n2\r\nНет\r\n".encode())
    r = read_id_list(path)
    assert r.encoding == "utf-8-sig"
    assert r.ids == (1, 2) and r.header == "id" and r.non_ids == {"id": 1, "Нет": 1}
    assert r.path == str(path)


def test_file_plain_utf8(tmp_path: Path) -> None:
    path = tmp_path / "pos.txt"
    path.write_bytes("1;2;тест".encode())
    r = read_id_list(str(path))
    assert r.encoding == "utf-8" and r.non_ids == {"тест": 1}


def test_file_cp1251(tmp_path: Path) -> None:
    path = tmp_path / "neg.txt"
    path.write_bytes("ид\n10, 11\nпусто\n".encode("cp1251"))
    r = read_id_list(path)
    assert r.encoding == "cp1251"
    assert r.ids == (10, 11) and r.non_ids == {"ид": 1, "пусто": 1} and r.header == "ид"


def test_file_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "excel.txt"
    path.write_bytes("id\r\n3\r\n4\r\n".encode("utf-16"))
    r = read_id_list(path)
    assert r.encoding == "utf-16" and r.ids == (3, 4)


def test_file_in_no_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"1\n\x98\xff\n")  # 0x98 is undefined in cp1251, invalid UTF-8
    with pytest.raises(DataError, match="none of the encodings") as err:
        read_id_list(path)
    assert err.value.source == str(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "list.txt.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00")
    with pytest.raises(DataError, match="NUL bytes"):
        read_id_list(path)


def test_file_over_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"1\n" * 100)
    assert read_id_list(path, max_bytes=200).tokens == 100
    with pytest.raises(DataError, match="larger than max_bytes = 199") as err:
        read_id_list(path, max_bytes=199)
    assert str(path) in str(err.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_id_list(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="a folder"):
        read_id_list(tmp_path)


# ---- property: every token counted exactly once -------------------------------------

_SEPS = [",", ";", " ", "\t", "\n", "\r\n", "\xa0", "\u3000", "\u2003", " , ", ";\n", "\u200b"]
_WORDS = ["id", "NaN", "nan", "—", "-", "Привет", "ид", "null", "1.5", "-3", "+4", "x1", "1e3"]


_id_token = st.builds(
    lambda v, style: [str(v), f"0{v}", f"{v}.0", f'"{v}"', f"'{v}'", f"«{v}»"][style],
    st.integers(0, 60),
    st.integers(0, 5),
)
_word_token = st.one_of(
    st.sampled_from(_WORDS),
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs"),
            blacklist_characters=",;\u200b\u2060\ufeff\x1c\x1d\x1e\x1f\x85",
        ),
        min_size=1,
        max_size=6,
    ),
)


def _expected(token: str) -> int | None:
    """An independent oracle for numeric=True: the id a generated token means, if any."""
    core = token
    pairs = {'"': '"', "'": "'", "«": "»", "“": "”", "„": "“", "‘": "’"}
    if len(core) >= 2 and pairs.get(core[0]) == core[-1]:
        core = core[1:-1]
    head, point, tail = core.partition(".")
    if point and tail and set(tail) == {"0"}:
        core = head
    if core and all(c in "0123456789" for c in core) and int(core) < 2**63:
        return int(core)
    return None


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(st.one_of(_id_token, _word_token), max_size=40),
    seps=st.lists(st.sampled_from(_SEPS), min_size=42, max_size=42),
    lead=st.booleans(),
)
def test_every_token_counted_once(tokens: list[str], seps: list[str], lead: bool) -> None:
    text = (seps[-1] if lead else "") + "".join(t + seps[i] for i, t in enumerate(tokens))
    r = parse_id_list(text)
    assert r.tokens == len(tokens)
    assert _balanced(r)
    order: list[int] = []
    non = 0
    for t in tokens:
        v = _expected(t)
        if v is None:
            non += 1
        elif v not in order:
            order.append(v)
    assert list(r.ids) == order
    assert sum(r.non_ids.values()) == non
    assert r.duplicates == len(tokens) - non - len(order)
    values = [v for v in map(_expected, tokens) if v is not None]
    assert r.repeats == {v: values.count(v) - 1 for v in order if values.count(v) > 1}
    first_is_id = bool(tokens) and _expected(tokens[0]) is not None
    assert (r.header is None) == (not tokens or first_is_id)
