"""HTML rendering without a browser: escaping, embedded figures, tables, formatting."""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens import units as fmt
from growthlens.data.dataset import Dataset
from growthlens.report import html as html_module
from growthlens.report.html import (
    csv_bytes,
    key_findings,
    render_html,
    render_result_fragment,
    script_json,
)
from growthlens.report.model import Section
from growthlens.result import FigureSpec, Finding, Result, summarize

EVIL = "<script>alert(1)</script>"


def evil_result() -> Result:
    return Result(
        name="evil",
        title=f"Title {EVIL}",
        table=pd.DataFrame({"source": [EVIL, '"><img src=x onerror=alert(1)>'], "users": [1, 2]}),
        summary=summarize(
            {"note": EVIL, "users": 3}, {"note": ("text", "Note"), "users": ("count", "Users")}
        ),
        findings=(Finding("evil", f"finding {EVIL}"),),
        figures=(FigureSpec(kind="bar", x="source", y="users", title=f"</script>{EVIL}"),),
    )


def test_fragment_escapes_every_value() -> None:
    html = render_result_fragment(evil_result())
    assert "<script" not in html
    assert "<img" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4  # title, summary, finding, cell
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_repr_html_uses_the_fragment() -> None:
    assert evil_result()._repr_html_() == render_result_fragment(evil_result())


def test_script_json_cannot_close_the_script_element() -> None:
    text = str(script_json(json.dumps({"a": "</script><!-- & \u2028 \u2029"})))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028 \u2029"}


PACKED = re.compile(r'<script type="application/octet-stream" id="([^"]+)">(.*?)</script>', re.S)


def _unpack(text: str) -> bytes:
    return gzip.decompress(base64.b64decode(text, validate=True))


def _render(*sections: Section, **options: object) -> str:
    return render_html(
        sections,
        title="t",
        header=(),
        currency="USD",
        generated_at=pd.Timestamp("2024-01-01").to_pydatetime(),
        **options,  # type: ignore[arg-type]
    )


def test_report_packs_plotly_once_and_every_figure_and_escapes_the_rest(
    hostile: Dataset, tmp_path: Path
) -> None:
    from plotly.offline import get_plotlyjs

    path = gl.report(hostile, tmp_path / "r.html", title=f"Shop {EVIL}")
    html = path.read_text(encoding="utf-8")
    blocks = dict(PACKED.findall(html))
    scripts = re.findall(r"<script[^>]*>", html)
    charts = re.findall(r'<div class="chart" id="(figure-\d+)"', html)
    tables = re.findall(r'<table class="sortable" id="(table-\d+)"', html)
    # Plotly, the data block, one CSV per table, and the page script: nothing else runs.
    assert set(blocks) == {"gl-plotly", "gl-data"} | {f"{t}-csv" for t in tables}
    assert len(scripts) == len(blocks) + 1 and '<script type="application/json"' not in html
    for text in blocks.values():  # only base64 inside the script blocks
        assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text)
    assert _unpack(blocks["gl-plotly"]).decode() == get_plotlyjs()
    data = json.loads(_unpack(blocks["gl-data"]))
    assert charts and list(data["figures"]) == charts
    assert all({"data", "layout"} <= set(f) for f in data["figures"].values())
    assert set(data["sort"]) == set(tables)
    # Plotly draws labels as HTML: the figures carry them escaped (growthlens.figures).
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert any(escaped in json.dumps(f) for f in data["figures"].values())
    assert html.count("Plotly.newPlot") == 1
    assert len(html) < 1_000_000 + len(blocks["gl-plotly"])
    # Outside the packed blocks the hostile values never appear as markup; no remote URLs.
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert 'href="http' not in html and 'src="http' not in html


def test_every_table_has_its_full_csv_packed_and_safe() -> None:
    frame = pd.DataFrame({"source": [EVIL, "=cmd()", "b"], "users": [1.5, float("nan"), -2.0]})
    html = _render(Section("s", "S", (Result("evil", "Evil", frame),)))
    blocks = dict(PACKED.findall(html))
    assert _unpack(blocks["table-1-csv"]) == csv_bytes(frame)
    assert b"'=cmd()" in _unpack(blocks["table-1-csv"])
    assert 'data-csv="table-1-csv" data-filename="evil-main.csv">CSV (3 rows, 0.1 kB)' in html
    data = json.loads(_unpack(blocks["gl-data"]))
    assert data["sort"] == {"table-1": [None, [1.5, None, -2.0]]}  # text column: no keys
    assert "#table-1 td:nth-child(2) { text-align: right" in html


def test_a_csv_above_the_limit_is_not_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_module, "TABLE_CSV_LIMIT", 10)
    big = Result(
        name="big", title="Big", table=pd.DataFrame({"n": range(html_module.TABLE_ROWS + 1)})
    )
    html = _render(Section("s", "S", (big,)))
    assert "table-1-csv" not in html and 'class="csv"' not in html
    assert "The full table (201 rows, 0.9 kB as CSV) is too large to embed as a download" in html
    assert "Showing the first 200 of 201 rows; the full table is in the JSON export" in html
    assert "sections.s.tables[&#34;big.main&#34;]" in html


def test_sort_keys_are_numbers_in_full_with_missing_and_infinite_values() -> None:
    table = pd.DataFrame(
        {"x": [1 / 3, float("inf"), float("-inf"), None], "n": pd.array([1, None, 3, 4], "Int64")}
    )
    html = _render(Section("s", "S", (Result("r", "R", table),)))
    keys = json.loads(_unpack(dict(PACKED.findall(html))["gl-data"]))["sort"]["table-1"]
    big = sys.float_info.max
    assert keys == [[0.3333333333, big, -big, None], [1.0, None, 3.0, 4.0]]


def _finding_result(name: str, *findings: Finding) -> Result:
    return Result(name, name.upper(), pd.DataFrame({"a": [1]}), findings=findings)


def test_sections_open_with_their_worst_findings_and_fold_every_result() -> None:
    a = _finding_result("a", Finding("a1", "fact a1"), Finding("a2", "bad a2", "error"))
    b = _finding_result(
        "b", Finding("b1", "look at b1", "warning"), Finding("b2", "fact b2"), Finding("b3", "x")
    )
    section = Section("s", "S", (a, b), intro="What S answers.")
    assert [(f.text, f.anchor) for f in key_findings(section)] == [
        ("bad a2", "s-a"),
        ("look at b1", "s-b"),
        ("fact a1", "s-a"),
    ]
    html = _render(section)
    block = html[html.index('<ul class="key-findings">') : html.index('<article id="s-a"')]
    assert block.count("<li") == 3
    assert '<span class="sev">Error</span> bad a2 <a href="#s-a"' in block
    # each result folded, its first finding in the summary line
    assert html.count("<details>") == 2 and "<details open" not in html
    assert re.search(
        r'<summary>\s*<span class="result-title">A</span>\s*'
        r'<span class="result-line sev-info">fact a1</span>',
        html,
    )
    assert '<span class="result-line sev-warning">look at b1</span>' in html
    assert (
        html.index("What S answers.")
        < html.index('<ul class="key-findings"')
        < html.index("<details>")
    )
    assert 'id="expand-all"' in html and 'id="collapse-all"' in html


def test_the_summary_slot_is_left_out_without_a_summary() -> None:
    from importlib.resources import files

    template = files("growthlens.report").joinpath("templates/report.html.j2").read_text()
    slot = '{% if summary %}{% include "summary.html.j2" %}{% endif %}'
    assert slot in template
    assert template.index("<main>") < template.index(slot) < template.index('class="controls"')
    assert "summary" not in _render(Section("s", "S", ()), summary=None).split("<main>")[1][:80]


def test_notebook_fragment_tables_are_static() -> None:
    html = render_result_fragment(evil_result())
    assert '<td class="num">' in html
    assert "button" not in html and "octet-stream" not in html


def test_long_tables_are_truncated_with_a_pointer_to_the_download(tmp_path: Path) -> None:
    from growthlens.report.html import TABLE_ROWS

    long = Result(name="big", title="Big", table=pd.DataFrame({"n": range(TABLE_ROWS + 5)}))
    html = _render(
        Section(
            id="s",
            title="S",
            results=(long,),
            skipped=("Funnel needs events; there are none.",),
        ),
    )
    assert TABLE_ROWS == 200
    assert (
        f"Showing the first {TABLE_ROWS} of {TABLE_ROWS + 5} rows; the download has every row"
        in html
    )
    assert html.count("<tr>") == 1 + TABLE_ROWS
    assert "Funnel needs events; there are none." in html


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("retention_1", 0.4567, "45.7%"),
        ("ltv_6", 1234.5, "$1,234.50"),
        ("cac", -2.0, "-$2.00"),
        ("costs_rows", 357, "357"),
        ("users", 12345, "12,345"),
        ("session_length_mean_s", 605.0, "10 min 5 s"),
        ("romi", float("nan"), "—"),
        ("user_id", 18446744073709551615, "18446744073709551615"),
        ("cohort", pd.Timestamp("2020-01-01"), "2020-01-01"),
        ("window_days", 365, "365 days"),
        ("gap_days", 1, "1 day"),
        ("payback_days", 2.5, "2.5 days"),
        ("sticky_mau", 0.00002, "0.002%"),
    ],
)
def test_report_number_formats(name: str, value: object, text: str) -> None:
    assert fmt.format_value(name, value, currency="USD") == text


def test_money_uses_the_dataset_currency() -> None:
    assert fmt.format_value("revenue", 1500.0, currency="EUR") == "€1,500.00"
    assert fmt.format_value("revenue", 1500.0, currency="RUB") == "1,500.00 RUB"
    # No minor unit in yen or won: whole amounts, in tables as in findings.
    assert fmt.format_value("revenue", 1500.4, currency="JPY") == "¥1,500"
    assert fmt.format_value("cac", 6.94, currency="krw") == "7 krw"
