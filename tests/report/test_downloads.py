"""Tables a Result marks as downloads (the target list) embedded in the HTML report as CSV
data: links, safe to open in a spreadsheet, with safe file names and a size limit; summary
cards with long values."""

from __future__ import annotations

import base64
import io
import re
from datetime import datetime

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses.propensity import PROPENSITY
from growthlens.report import html as html_module
from growthlens.report.html import csv_bytes, exports, render_html
from growthlens.report.model import Section
from growthlens.result import Entry, Result, summarize

LINK = re.compile(
    r'<a href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="([^"]+)">'
)


def _render(*results: Result, currency: str = "RUB") -> str:
    return render_html(
        (Section("customers", "Customers", results),),
        title="t",
        header=(),
        currency=currency,
        generated_at=datetime(2024, 1, 1),
    )


def _links(html: str) -> dict[str, pd.DataFrame]:
    out = {}
    for data, name in LINK.findall(html):
        raw = base64.b64decode(data)
        out[name] = pd.read_csv(io.BytesIO(raw), dtype={"user_id": str}, keep_default_na=False)
    return out


@pytest.fixture(scope="module")
def target_list_result() -> Result:
    """gl.propensity as the report runs it on the shop demo (its plan's window and email
    experiment), with the fast logistic model and 2 folds: the table matters here, not
    the model."""
    ds = gl.demo(case="shop", users=1_000)
    options = dict(PROPENSITY.plan(ds).runs[0])
    assert "treatment" in options  # the shop demo's email campaign
    return gl.propensity(ds, **options, model="logistic", folds=2)


def test_the_shop_target_list_is_a_csv_link_with_the_same_rows(
    target_list_result: Result,
) -> None:
    result = target_list_result
    assert "target_list" in result.downloads, (
        "gl.propensity must mark its target list as a download: "
        "Result(..., downloads=('target_list',)) when the table exists"
    )
    links = _links(_render(result))
    assert list(links) == ["target_list.csv"]
    got = links["target_list.csv"]
    expected = result.tables["target_list"]
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) > 0
    assert got["user_id"].tolist() == expected["user_id"].astype(str).tolist()
    for column in ("score", "uplift"):  # written with full precision: exact round trip
        assert got[column].astype(float).tolist() == expected[column].astype(float).tolist()
    for column in ("in_list", "participant", "extrapolated"):
        assert got[column].tolist() == expected[column].tolist()
    html = _render(result)
    assert "Download the target list as CSV (" in html and f"{len(expected):,} rows" in html


def _list_result(ids: list[str], key: str = "target_list") -> Result:
    table = pd.DataFrame({"user_id": ids, "score": [0.5] * len(ids), "in_list": [True] * len(ids)})
    return Result(
        name="propensity",
        title="Propensity",
        table=pd.DataFrame({"a": [1]}),
        tables={key: table},
        detail=(key,),
        downloads=(key,),
    )


def test_formula_like_text_is_neutralised() -> None:
    ids = ["=cmd()", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok", "a=b", "<b>x</b>"]
    got = _links(_render(_list_result(ids)))["target_list.csv"]
    assert got["user_id"].tolist() == [
        "'=cmd()",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
        "a=b",
        "<b>x</b>",
    ]
    # numbers stay numbers: a negative number is not a formula
    raw = csv_bytes(pd.DataFrame({"uplift": [-0.25], "name": ["-0.25"]})).decode()
    assert raw == "uplift,name\r\n-0.25,'-0.25\r\n"


def test_file_names_are_sanitised_and_unique() -> None:
    evil = _list_result(["1"], key='../../<script>"x y.csv')
    html = _render(evil)
    names = [name for _, name in LINK.findall(html)]
    assert names == ["script_x_y.csv.csv"]
    assert "<script>" not in html.split("<main>")[1].split("</main>")[0]
    twice = exports([_list_result(["1"]), _list_result(["2"]), _list_result(["3"])])
    assert [e.filename for e in twice] == [
        "target_list.csv",
        "propensity-target_list.csv",
        "propensity-target_list-2.csv",
    ]
    with pytest.raises(KeyError, match="no table 'missing'"):
        exports([Result("x", "X", pd.DataFrame(), downloads=("missing",))])


def test_a_file_above_the_limit_is_left_out_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_module, "DOWNLOAD_LIMIT", 50)
    html = _render(_list_result([str(i) for i in range(20)]))
    assert "data:text/csv" not in html
    assert "The target list (20 rows, " in html
    assert "too large to embed in this report" in html
    assert "growthlens report --exports DIR (file target_list.csv)" in html


def test_cards_show_long_money_short_with_the_interval_on_its_own_line() -> None:
    summary = summarize(
        {
            "total": Entry(
                363_012_345.0, "money", "Total", low=351e6, high=375e6, method="bootstrap 95%"
            ),
            "rate": Entry(0.25, "share", "Rate", low=0.1, high=0.4, method="Wilson 95%"),
            "small": 1234.5,
        },
        {"small": ("money", "Small")},
    )
    html = _render(Result("x", "X", pd.DataFrame({"a": [1]}), summary=summary))
    assert (
        '<dd><span class="value" title="363,012,345 RUB">363M RUB</span>'
        '<span class="interval">351M to 375M RUB (bootstrap 95%)</span></dd>'
    ) in html
    assert '<span class="value">25.0%</span><span class="interval">10.0% to 40.0%' in html
    assert '<span class="value">1,234.50 RUB</span></dd>' in html
    usd = html_module.card_view(
        "t", Entry(-2.5e9, "money", "T", low=-3e9, high=-999_960_000.0, method="m"), currency="USD"
    )
    assert (usd.value, usd.interval) == ("−$2.5B", "−$3B to −$1B (m)")
