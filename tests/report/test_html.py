"""HTML rendering without a browser: escaping, embedded figures, tables, formatting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens import units as fmt
from growthlens.data.dataset import Dataset
from growthlens.report.html import render_result_fragment, script_json
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


def test_report_embeds_plotly_once_and_every_figure_as_escaped_json(
    hostile: Dataset, tmp_path: Path
) -> None:
    path = gl.report(hostile, tmp_path / "r.html", title=f"Shop {EVIL}")
    html = path.read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*>", html)
    blocks = re.findall(
        r'<script type="application/json" data-figure="(figure-\d+)">(.*?)</script>', html, re.S
    )
    charts = re.findall(r'<div class="chart" id="(figure-\d+)"', html)
    # one Plotly bundle + one JSON block per chart + the runner; nothing else
    assert len(scripts) == 1 + len(blocks) + 1
    assert [b[0] for b in blocks] == charts and charts
    assert html.count("Plotly.newPlot") == 1
    assert html.count('define("plotly"') <= 1 and len(html) < 2 * 4_900_000
    for _, payload in blocks:
        assert "<" not in payload and ">" not in payload
        figure = json.loads(payload)
        assert {"data", "layout"} <= set(figure)
    # outside the Plotly bundle: the hostile values never appear as markup, no remote URLs
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()) == 1
    html = html.replace(get_plotlyjs(), "")
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert 'href="http' not in html and 'src="http' not in html


def test_long_tables_are_truncated_with_a_pointer_to_the_json(tmp_path: Path) -> None:
    from growthlens.report.html import TABLE_ROWS, render_html
    from growthlens.report.model import Section

    long = Result(name="big", title="Big", table=pd.DataFrame({"n": range(TABLE_ROWS + 5)}))
    html = render_html(
        (
            Section(
                id="s",
                title="S",
                results=(long,),
                skipped=("Funnel needs events; there are none.",),
            ),
        ),
        title="t",
        header=(),
        currency="USD",
        generated_at=pd.Timestamp("2024-01-01").to_pydatetime(),
    )
    assert f"Showing the first {TABLE_ROWS} of {TABLE_ROWS + 5} rows" in html
    assert "sections.s.tables[&#34;big.main&#34;]" in html
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
