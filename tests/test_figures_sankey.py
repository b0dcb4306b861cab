"""The ``sankey`` chart kind: nodes per stage, sizes, colours, escaping, and a look in
headless Chromium that every node label is drawn as text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from growthlens.figures import COLORWAY, FigureSpec, render

FLOWS = pd.DataFrame(
    {
        "step": [1, 1, 1, 2, 2, 2],
        "source": ["cart", "cart", "cart", "view", "view", "buy"],
        "target": ["view", "buy", "(end)", "cart", "(end)", "(end)"],
        "users": [5, 3, 2, 4, 1, 3],
    }
)
SPEC = FigureSpec(
    kind="sankey", table="flows", x="source", y="target", z="users", color="step", title="Paths"
)


def test_nodes_are_per_stage_sized_and_coloured_by_name() -> None:
    fig = render(SPEC, FLOWS)
    (trace,) = fig.data
    labels = list(trace.node.label)
    # Stage 0: cart; stage 1: view (5), buy (3), (end) (2) — largest first, (end) last;
    # stage 2: cart (4), then (end) (1 + 3): the grey nodes at the bottom.
    assert labels == ["cart", "view", "buy", "(end)", "cart", "(end)"]
    links = list(
        zip(
            [labels[i] for i in trace.link.source],
            [labels[i] for i in trace.link.target],
            trace.link.value,
            strict=True,
        )
    )
    assert links[:3] == [("cart", "view", 5), ("cart", "buy", 3), ("cart", "(end)", 2)]
    # cart at stage 2 is its own node (index 4), not the stage-0 cart (a cycle).
    assert list(trace.link.target)[3] == 4 and list(trace.link.source)[3] == 1
    colors = list(trace.node.color)
    assert colors[0] == colors[4] == COLORWAY[0]  # one name, one colour, at every stage
    assert colors[3] == colors[5] == "#b8bfc7"  # (end) is grey
    assert trace.node.align == "left"
    assert fig.layout.title.text == "Paths"


def test_reversed_sankey_reads_in_time_order() -> None:
    # Paths before an event: the flows go away from it; drawn reversed, each link points
    # from the earlier event to the later one and the event is the last column.
    fig = render(
        FigureSpec(
            kind="sankey",
            table="flows",
            x="source",
            y="target",
            z="users",
            color="step",
            title="Before",
            reverse=True,
        ),
        FLOWS,
    )
    (trace,) = fig.data
    labels = list(trace.node.label)
    # The furthest stage first (stage 2: cart, (end)), the event (stage 0) last.
    assert labels == ["cart", "(end)", "view", "buy", "(end)", "cart"]
    links = [
        (labels[s], labels[t], v)
        for s, t, v in zip(trace.link.source, trace.link.target, trace.link.value, strict=True)
    ]
    assert links[:3] == [("view", "cart", 5), ("buy", "cart", 3), ("(end)", "cart", 2)]
    assert ("cart", "view", 4) in links  # stage-2 cart → stage-1 view
    assert trace.node.align == "right"


def test_without_stage_names_are_nodes_and_text_is_escaped() -> None:
    frame = pd.DataFrame({"a": ["<b>x</b>", "y"], "b": ["y", "z"], "n": [2, 2]})
    spec = FigureSpec(kind="sankey", x="a", y="b", z="n", title="<i>T</i>")
    fig = render(spec, frame)
    assert list(fig.data[0].node.label) == ["&lt;b&gt;x&lt;/b&gt;", "y", "z"]
    assert fig.layout.title.text == "&lt;i&gt;T&lt;/i&gt;"
    with pytest.raises(ValueError, match="needs z"):
        render(FigureSpec(kind="sankey", x="a", y="b", title="T"), frame)


def test_empty_flows_say_no_data() -> None:
    fig = render(SPEC, FLOWS.iloc[0:0])
    assert [a.text for a in fig.layout.annotations] == ["No data"]


@pytest.mark.browser
def test_labels_are_drawn_in_chromium(tmp_path: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"{chromium} is missing: the browser test needs Chromium")
    from playwright.sync_api import sync_playwright

    path = tmp_path / "sankey.html"
    hostile = {"buy": "<script>alert(1)</script>"}
    frame = FLOWS.assign(
        source=FLOWS["source"].replace(hostile), target=FLOWS["target"].replace(hostile)
    )
    render(SPEC, frame).write_html(path, include_plotlyjs=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: errors.append("dialog " + d.message))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_selector(".sankey .node-label")
            texts = page.eval_on_selector_all(
                ".sankey .node-label", "ns => ns.map(n => n.textContent)"
            )
        finally:
            browser.close()
    assert errors == []
    assert sorted(texts) == sorted(
        ["cart", "view", "<script>alert(1)</script>", "(end)", "(end)", "cart"]
    )
