"""The full demo report in headless Chromium at 1280 and 390 px wide (issue 18).

One demo report is built for the module (the render step is wrapped to keep the Results, so
a download can be compared with ``Result.frame``). Checked at each width: no console error
or warning, nothing wider than the page, after "Expand all" every chart drawn with data and
every chart and table inside its section card. Then: sorting a numeric column orders the
rows as pandas does, a table's CSV download holds the full table, and printing to PDF opens
and draws everything at the printable width. Screenshots of the first screen and of one
section at both widths go to ``$GROWTHLENS_ARTIFACTS`` (default ``artifacts/screenshots/``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens import units as fmt
from growthlens.report import html as html_module
from growthlens.result import Result

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WIDTHS = (1280, 390)
PRINTABLE_WIDTH = 703  # A4 less 12 mm margins (the report's @page), in CSS pixels
ROOT = Path(__file__).resolve().parents[2]

CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(el => el.querySelector('svg.main-svg'))"
)
# Per chart: the largest number of data points of any of its traces.
CHART_POINTS = """Array.from(document.querySelectorAll('div.chart')).map(el => [el.id,
  Math.max(0, ...(el._fullData || []).map(t => Math.max(
    ...['x', 'y', 'z', 'values', 'labels'].map(k => (t[k] && t[k].length) || 0),
    (t.link && t.link.value && t.link.value.length) || 0)))])"""
# Charts and tables whose box leaves their section card (1 px of rounding allowed).
OUTSIDE_CARD = """Array.from(document.querySelectorAll('div.chart, figure.table')).filter(el => {
  const card = el.closest('section.section').getBoundingClientRect();
  const box = el.getBoundingClientRect();
  return box.left < card.left - 1 || box.right > card.right + 1 || box.width === 0;
}).map(el => el.id || el.getAttribute('data-result') + '.' + el.getAttribute('data-table'))"""


def _artifacts() -> Path:
    folder = Path(os.environ.get("GROWTHLENS_ARTIFACTS") or ROOT / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Result]]:
    """The full demo report, and its Results by name (kept while the report renders)."""
    kept: dict[str, Result] = {}
    render = html_module.render_html

    def keep(sections: Any, **options: Any) -> str:
        kept.update({r.name: r for s in sections for r in s.results})
        return render(sections, **options)

    html_module.render_html = keep  # type: ignore[assignment]
    try:
        path = gl.report(gl.demo(), tmp_path_factory.mktemp("demo") / "report.html")
    finally:
        html_module.render_html = render  # type: ignore[assignment]
    return path, kept


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Chromium "
            "(apt-get install -y chromium); they are not skipped on purpose"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _open(browser: Any, path: Path, width: int) -> tuple[Any, list[str], list[str]]:
    """A page on the report, once its visible charts are drawn; console messages, requests."""
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    messages: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: (
            messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("window.growthlens && window.growthlens.ready", timeout=30_000)
    return page, messages, requests


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_at_width(
    demo_report: tuple[Path, dict[str, Result]], browser: Any, width: int
) -> None:
    path, _ = demo_report
    page, messages, requests = _open(browser, path, width)
    try:
        folder = _artifacts()
        page.screenshot(path=str(folder / f"demo-first-screen-{width}.png"))
        # One section as it opens: intro, key findings, folded results.
        page.evaluate("document.getElementById('marketing').scrollIntoView()")
        page.screenshot(path=str(folder / f"demo-marketing-{width}.png"))
        assert page.evaluate("document.querySelectorAll('details[open]').length") == 0
        closed_width = page.evaluate("document.documentElement.scrollWidth")

        page.click("#expand-all")
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
        points = dict(page.evaluate(CHART_POINTS))
        open_width = page.evaluate("document.documentElement.scrollWidth")
        outside = page.evaluate(OUTSIDE_CARD)
        page.evaluate("document.getElementById('marketing').scrollIntoView()")
        page.screenshot(path=str(folder / f"demo-marketing-open-{width}.png"))
    finally:
        page.close()
    assert messages == []
    assert requests == [path.resolve().as_uri()]
    assert closed_width <= width and open_width <= width
    assert len(points) > 40  # the demo has charts in every section
    assert [k for k, n in points.items() if n < 1] == []
    assert outside == []


def _sortable_case(results: dict[str, Result]) -> tuple[str, str, pd.DataFrame]:
    """A main table shown in full (5 to 200 rows) with a numeric column of distinct values."""
    for name, result in results.items():
        frame = result.table
        if not 5 <= len(frame) <= html_module.TABLE_ROWS or not result.ok:
            continue
        for column in frame.columns:
            values = frame[column]
            numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
                values
            )
            if numeric and values.nunique() >= 5 and not values.is_monotonic_increasing:
                return name, str(column), frame
    raise AssertionError("the demo report has no table to sort")


def test_sorting_a_numeric_column(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    path, results = demo_report
    name, column, frame = _sortable_case(results)
    page, messages, _ = _open(browser, path, 1280)
    try:
        page.evaluate(
            "name => document.querySelector(`figure.table[data-result='${name}']`)"
            ".closest('details').open = true",
            name,
        )
        table = page.locator(f"figure.table[data-result='{name}'][data-table='main'] table")
        header = table.locator("th", has=page.locator("button.sort")).nth(
            list(frame.columns).index(column)
        )
        index = list(frame.columns).index(column) + 1
        header.locator("button").click()
        ascending = table.locator(f"tbody td:nth-child({index})").all_inner_texts()
        assert header.get_attribute("aria-sort") == "ascending"
        header.locator("button").click()
        descending = table.locator(f"tbody td:nth-child({index})").all_inner_texts()
        assert header.get_attribute("aria-sort") == "descending"
    finally:
        page.close()
    expected = frame.sort_values(column, kind="stable", na_position="last")[column]
    text = [fmt.format_value(column, v, currency="USD") for v in expected]
    assert ascending == text
    back = frame.sort_values(column, ascending=False, kind="stable", na_position="last")[column]
    assert descending == [fmt.format_value(column, v, currency="USD") for v in back]
    assert messages == []


def test_csv_download_has_the_full_table(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    path, results = demo_report
    page, messages, _ = _open(browser, path, 1280)
    try:
        truncated = page.locator("figure.table", has_text="Showing the first").first
        name = truncated.get_attribute("data-result")
        key = truncated.get_attribute("data-table")
        truncated.evaluate("el => el.closest('details').open = true")
        with page.expect_download() as info:
            truncated.locator("button.csv").click()
        download = info.value
        data = Path(download.path()).read_bytes()
        filename = download.suggested_filename
    finally:
        page.close()
    assert name is not None and key is not None
    expected = results[name].frame(key)
    got = pd.read_csv(io.BytesIO(data))
    assert len(expected) > html_module.TABLE_ROWS
    assert len(got) == len(expected)
    assert list(got.columns) == [str(c) for c in expected.columns]
    assert data == html_module.csv_bytes(expected)
    assert filename.endswith(".csv") and "/" not in filename
    assert messages == []


def test_print_to_pdf_opens_and_fits_every_chart(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    path, _ = demo_report
    page, messages, _ = _open(browser, path, 1280)
    try:
        pdf = page.pdf(format="A4")  # fires beforeprint / afterprint
        page.emulate_media(media="print")  # what the PDF saw, kept for measuring
        page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
        opened = page.evaluate("document.querySelectorAll('details:not([open])').length")
        widths = page.evaluate(
            "Array.from(document.querySelectorAll('div.chart svg.main-svg'))"
            ".map(svg => svg.getBoundingClientRect().width)"
        )
        hidden = page.evaluate(
            "['nav.toc', '#expand-all', 'button.csv'].map(s => document.querySelector(s))"
            ".map(el => el.checkVisibility())"
        )
        breaks = page.evaluate("getComputedStyle(document.querySelector('div.chart')).breakInside")
        scroll = page.evaluate(
            "getComputedStyle(document.querySelector('.table-scroll')).maxHeight"
        )
    finally:
        page.close()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 20
    assert opened == 0
    assert widths and max(widths) <= PRINTABLE_WIDTH
    assert hidden == [False, False, False]
    assert breaks == "avoid"
    assert scroll == "none"
    assert messages == []


def test_a_link_to_a_result_opens_it(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    path, _ = demo_report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(path.resolve().as_uri() + "#marketing-romi", wait_until="load")
        page.wait_for_function("window.growthlens && window.growthlens.ready", timeout=30_000)
        by_url = page.evaluate("document.querySelector('#marketing-romi details').open")
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('#marketing-romi div.chart'))"
            ".every(el => el.querySelector('svg.main-svg'))"
        )
        page.click("nav.toc a[href='#marketing-cac']")
        by_toc = page.evaluate("document.querySelector('#marketing-cac details').open")
        page.click("#collapse-all")
        still_open = page.evaluate("document.querySelectorAll('details[open]').length")
        # drawn at 1280, hidden, window narrowed, opened again: the charts fit again
        page.set_viewport_size({"width": 600, "height": 900})
        page.evaluate("location.hash = ''; location.hash = '#marketing-romi'")
        page.wait_for_timeout(500)  # Plotly's resize waits 100 ms
        too_wide = page.evaluate(
            "Array.from(document.querySelectorAll('#marketing-romi div.chart'))"
            ".filter(el => el.querySelector('svg.main-svg').getBoundingClientRect().width"
            " > el.offsetWidth + 1).length"
        )
    finally:
        page.close()
    assert by_url and drawn and by_toc
    assert still_open == 0
    assert too_wide == 0


def test_without_decompression_stream_the_page_says_charts_need_a_current_browser(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    path, _ = demo_report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("delete window.DecompressionStream")
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        notice = page.locator("#no-charts")
        visible = notice.is_visible()
        text = notice.inner_text()
        rows = page.locator("table.sortable tbody tr").count()
    finally:
        page.close()
    assert visible and text.startswith("Charts need a current browser")
    assert rows > 100  # the tables are plain HTML and still there
    assert errors == []


def test_the_demo_report_opens_on_its_summary_and_stays_light(
    demo_report: tuple[Path, dict[str, Result]], browser: Any
) -> None:
    """Issue 18: under 3 MB for the demo; the first screen is the executive summary."""
    path, _ = demo_report
    assert path.stat().st_size < 3_000_000
    page, messages, _ = _open(browser, path, 1280)
    try:
        first = page.evaluate(
            "document.querySelector('main').firstElementChild.id || "
            "document.querySelector('main > section, main > .exec').id"
        )
        cards = page.locator("#summary .exec-card").count()
        sparks = page.locator("#summary .exec-card svg polyline").count()
        top = page.evaluate("document.getElementById('summary').getBoundingClientRect().top")
    finally:
        page.close()
    assert messages == []
    assert first == "summary"
    assert cards >= 8 and sparks >= 5
    assert top < 300  # on the first screen, under the header
