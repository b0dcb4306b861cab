"""The hostile-input corpus (tests/corpus, issue "Trust the input"): every case through
``gl.load`` and through ``growthlens check``.

A case (tests/corpus/cases.toml, which documents the fields) names the file(s), the exit
code of ``check``, words the message must hold and, for loads that succeed, the row
accounting. A loaded file is never silently shortened: ``loaded`` is every data line, and
``loaded = accepted + excluded`` with each excluded row under one named reason.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import growthlens as gl
from growthlens.cli import main
from growthlens.data.tables import TABLES

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))[
    "case"
]
# Raise it when cases are added: a case that disappears must fail a test.
MIN_CASES = 63
MAX_CORPUS_BYTES = 300_000
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
KNOWN_FIELDS = {
    "name",
    "table",
    "files",
    "config",
    "source",
    "settings",
    "exit",
    "error",
    "words",
    "api_words",
    "cli_words",
    "absent",
    "loaded",
    "accepted",
    "excluded_by_reason",
    "lines",
    "values",
    "total",
}


def _ids(cases: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(case["name"]) for case in cases]


def _plain(text: str) -> str:
    """Whitespace runs as one space, lower case, one kind of quote: words match however the
    console wraps and whichever quotes a message uses (both are TOML strings)."""
    return " ".join(text.split()).lower().replace('"', "'")


def _assert_words(text: str, case: Mapping[str, Any], *, where: str) -> None:
    plain = _plain(text)
    words = [*case.get("words", ()), *case.get(f"{where}_words", ())]
    missing = [w for w in words if _plain(w) not in plain]
    assert not missing, f"{case['name']}: {missing} not in the {where} text:\n{_short(text)}"


def _assert_absent(text: str, case: Mapping[str, Any], *, where: str) -> None:
    plain = _plain(text)
    present = [w for w in case.get("absent", ()) if _plain(w) in plain]
    assert not present, f"{case['name']}: {present} in the {where} text:\n{_short(text)}"


def _short(text: str, limit: int = 4000) -> str:
    """Text for an assertion message (a very long line must not flood the report)."""
    return text if len(text) <= limit else f"{text[:limit]} … ({len(text):,} characters)"


def _paths(case: Mapping[str, Any]) -> list[Path]:
    return [CORPUS / name for name in case.get("files", ())]


def _load_args(case: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments of ``gl.load`` for the case."""
    settings = dict(case.get("settings", {}))
    if "config" in case:
        return [str(CORPUS / case["config"])], settings
    source = dict(case.get("source", {}))
    items: list[Any] = [{"path": str(p), **source} if source else p for p in _paths(case)]
    return [], {case["table"]: items[0] if len(items) == 1 else items, **settings}


def _findings_text(ds: gl.Dataset) -> str:
    """Every finding's check, message and example rows, as one text."""
    parts = []
    for finding in ds.quality.findings:
        examples = json.dumps([dict(e) for e in finding.examples], default=str)
        parts.append(f"{finding.check}: {finding.message} {examples}")
    return "\n".join(parts)


def test_the_corpus_is_complete() -> None:
    """Cases cannot vanish unnoticed; every file is used, every case names existing files
    (but the one about a missing file) and the folder stays small."""
    assert len(CASES) >= MIN_CASES
    names = _ids(CASES)
    assert len(set(names)) == len(names), "case names must be unique"
    used: set[str] = set()
    for case in CASES:
        assert set(case) <= KNOWN_FIELDS, f"{case['name']}: unknown fields"
        assert case["exit"] in (0, 1, 2), case["name"]
        assert ("config" in case) != ("files" in case), case["name"]
        if case["exit"] == 2:
            assert case.get("error") in ("DataError", "ConfigError"), case["name"]
            assert case.get("words") or case.get("api_words"), case["name"]
        else:
            assert {"loaded", "accepted", "excluded_by_reason"} <= set(case), case["name"]
        used.update(case.get("files", ()))
        if "config" in case:
            used.add(case["config"])
    missing = {name for name in used if not (CORPUS / name).exists()}
    assert missing == {"orders_missing.csv"}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file()}
    unused = on_disk - used - {"cases.toml", "make_corpus.py"}
    assert unused == set()
    assert sum((CORPUS / n).stat().st_size for n in on_disk) < MAX_CORPUS_BYTES


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_load(case: dict[str, Any]) -> None:
    args, kwargs = _load_args(case)
    if case["exit"] == 2:
        expected = getattr(gl, case["error"])
        with pytest.raises(gl.GrowthlensError) as caught:
            gl.load(*args, **kwargs)
        assert type(caught.value) is expected, _short(
            f"{type(caught.value).__name__}: {caught.value}"
        )
        # Raised by growthlens on purpose, not a library error passed on.
        assert type(caught.value).__module__ == "growthlens.errors"
        _assert_words(str(caught.value), case, where="api")
        _assert_absent(str(caught.value), case, where="api")
        return

    try:
        ds = gl.load(*args, **kwargs)
    except gl.GrowthlensError as exc:
        pytest.fail(f"{type(exc).__name__}: {_short(str(exc))}")
    table = case["table"]
    counts = ds.quality.table_counts(table)
    # Rows read = rows accepted + rows excluded, each under one named reason.
    assert counts.loaded == counts.accepted + counts.excluded
    assert sum(counts.excluded_by_reason.values()) == counts.excluded
    assert (counts.loaded, counts.accepted, dict(counts.excluded_by_reason)) == (
        case["loaded"],
        case["accepted"],
        case["excluded_by_reason"],
    )
    _assert_words(_findings_text(ds), case, where="api")
    _assert_absent(_findings_text(ds), case, where="api")
    # `check` exits 1 on a finding of severity error (its default --fail-on).
    worst = max((SEVERITY_RANK[f.severity] for f in ds.quality.findings), default=0)
    assert int(worst >= SEVERITY_RANK["error"]) == case["exit"], _findings_text(ds)
    if "lines" in case:
        (unreadable,) = [f for f in ds.quality.findings if f.check == "unreadable_line"]
        assert [e["line"] for e in unreadable.examples] == case["lines"]
    for column, values in case.get("values", {}).items():
        got = ds.table(table)[column].execute().tolist()
        assert sorted(str(v) for v in got) == values
    for column, total in case.get("total", {}).items():
        got = float(ds.table(table)[column].sum().execute())
        assert math.isclose(got, total, rel_tol=1e-12), (column, got)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def _cli_args(case: Mapping[str, Any], tmp_path: Path) -> list[str]:
    """``check`` with the table's files, or with a growthlens.toml written for the case when
    it needs source keys or settings the command line has no option for."""
    if "config" in case:
        return ["check", "--config", str(CORPUS / case["config"])]
    table, paths = case["table"], _paths(case)
    source, settings = case.get("source", {}), case.get("settings", {})
    if not source and not settings:
        option = TABLES[table].option
        return ["check", *(arg for p in paths for arg in (option, str(p)))]
    lines = ["[settings]", *(f"{k} = {_toml_value(v)}" for k, v in settings.items())]
    for path in paths:
        lines += [f"[[{table}.sources]]", f"path = {_toml_value(str(path))}"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in source.items()]
    config = tmp_path / "growthlens.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["check", "--config", str(config)]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_cli_check(
    case: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # long paths and messages on one line
    code = main(_cli_args(case, tmp_path))
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == case["exit"], _short(text)
    assert "Traceback" not in text and "Unexpected error" not in text
    _assert_words(text, case, where="cli")
    _assert_absent(text, case, where="cli")
    if case["exit"] == 2:
        assert "Error" in captured.err
        return
    # The "Rows per table" line: loaded, accepted, excluded as gl.load counts them.
    (row,) = [line for line in captured.out.splitlines() if line.startswith(f"│ {case['table']} ")]
    numbers = [cell.strip().replace(",", "") for cell in row.split("│")[2:5]]
    excluded = sum(case["excluded_by_reason"].values())
    assert numbers == [str(case["loaded"]), str(case["accepted"]), str(excluded)], row
    for line in case.get("lines", ()):
        name = Path(case["files"][0]).name
        assert f"{name} line {line}:" in text, _short(text)
