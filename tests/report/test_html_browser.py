"""Open the report in headless Chromium (DESIGN §5): no console errors, no network (the
packed Plotly and figures are unpacked in memory), every chart rendered once its result is
opened, hostile strings from the data shown as text and never executed."""

from __future__ import annotations

from pathlib import Path

import pytest

import growthlens as gl
from growthlens.data.dataset import Dataset
from tests.report.conftest import HOSTILE_SOURCE, HOSTILE_VALUE

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_renders_offline_and_safely(hostile: Dataset, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Chromium "
            "(apt-get install -y chromium); it is not skipped on purpose"
        )
    from playwright.sync_api import sync_playwright

    path = gl.report(hostile, tmp_path / "report.html", title=f"Shop {HOSTILE_SOURCE}")
    url = path.resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))

            def on_dialog(dialog: object) -> None:
                dialogs.append(dialog.message)  # type: ignore[attr-defined]
                dialog.dismiss()  # type: ignore[attr-defined]

            page.on("dialog", on_dialog)
            page.goto(url, wait_until="load")
            try:  # Plotly unpacked; then every result opened, and its charts drawn
                page.wait_for_function("window.growthlens && window.growthlens.ready")
                page.click("#expand-all")
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('div.chart'))"
                    ".every(el => el.querySelector('svg.main-svg'))",
                    timeout=20_000,
                )
            except Exception as exc:  # the assertions below say which part failed
                errors.append(f"charts did not all render: {exc}")
            containers = page.locator("div.chart").count()
            rendered = page.evaluate(
                "Array.from(document.querySelectorAll('div.chart.js-plotly-plot'))"
                ".filter(el => el.querySelector('svg.main-svg')).length"
            )
            text = page.inner_text("body")
            images = page.locator("img").count()
            # hostile text also inside a chart (axis tick labels are SVG text)
            chart_text = page.evaluate(
                "Array.from(document.querySelectorAll('div.chart svg text'))"
                ".map(t => t.textContent).join('\\n')"
            )
        finally:
            browser.close()
    assert containers > 0
    assert rendered == containers
    assert errors == []
    assert requests == [url]
    assert dialogs == []
    assert images == 0
    assert f"Shop {HOSTILE_SOURCE}" in text
    assert HOSTILE_SOURCE in text
    assert HOSTILE_VALUE in text
    assert HOSTILE_SOURCE in chart_text
