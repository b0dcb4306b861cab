"""growthlens.figures.render: every kind draws, heatmaps keep unobserved cells blank."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from growthlens.figures import MAX_CATEGORIES, format_value, render
from growthlens.result import FigureSpec

LONG = pd.DataFrame(
    {
        "cohort": [date(2020, 1, 1), date(2020, 1, 1), date(2020, 2, 1)],
        "age": [0, 1, 0],
        "retention": [1.0, 0.25, 1.0],
    }
)


def test_heatmap_pivots_and_leaves_missing_cells_blank() -> None:
    """Cohort 2020-02 has no age-1 cell: z must be None (blank) and its text empty, never 0."""
    spec = FigureSpec(
        kind="heatmap", x="age", y="cohort", z="retention", title="Retention", value_format=".1%"
    )
    trace = render(spec, LONG).data[0]
    assert list(trace.y) == ["2020-01-01", "2020-02-01"]
    assert list(trace.x) == ["0", "1"]
    assert [list(r) for r in trace.z] == [[1.0, 0.25], [1.0, None]]
    assert [list(r) for r in trace.text] == [["100.0%", "25.0%"], ["100.0%", ""]]


def test_heatmap_rejects_repeated_cells() -> None:
    spec = FigureSpec(kind="heatmap", x="age", y="cohort", z="retention", title="R")
    with pytest.raises(ValueError, match="more than one row"):
        render(spec, pd.concat([LONG, LONG]))


@pytest.mark.parametrize("kind", ["line", "bar", "stacked_bar", "histogram", "scatter"])
def test_every_kind_renders_with_labels(kind: str) -> None:
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2020-01-01", "2020-02-01"] * 2),
            "device": ["a", "a", "b", "b"],
            "users": [3, 4, 5, 6],
        }
    )
    spec = FigureSpec(
        kind=kind,
        x="month",
        y="users",
        color="device",
        title="Users",
        labels={"users": "Users (count)"},  # type: ignore[arg-type]
        value_format=",.0f",
    )
    fig = render(spec, frame)
    assert fig.layout.title.text == "Users"
    assert fig.layout.yaxis.title.text == "Users (count)"
    assert fig.layout.xaxis.title.text == "Month"
    assert [t.name for t in fig.data] == ["a", "b"]
    assert fig.layout.xaxis.tickformat == "%b %Y"
    assert fig.layout.xaxis.dtick == "M1"  # one tick per month, each labelled once
    if kind == "stacked_bar":
        assert fig.layout.barmode == "stack"


def test_horizontal_bar_keeps_table_order_and_escapes_names() -> None:
    frame = pd.DataFrame({"source": ["<b>x</b>", "ads", None], "users": [5, 3, 1]})
    spec = FigureSpec(kind="bar", x="users", y="source", orientation="h", title="By source")
    fig = render(spec, frame)
    assert list(fig.layout.yaxis.categoryarray) == ["&lt;b&gt;x&lt;/b&gt;", "ads", "(unknown)"]


def test_missing_column_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs column"):
        render(FigureSpec(kind="line", x="a", y="nope", title="T"), pd.DataFrame({"a": [1]}))


def test_empty_frame_renders_a_no_data_note() -> None:
    fig = render(FigureSpec(kind="bar", x="a", y="b", title="T"), pd.DataFrame({"a": [], "b": []}))
    assert fig.layout.annotations[0].text == "No data"


@pytest.mark.parametrize(
    ("spec", "frame", "note"),
    [
        # A bucket grid whose every share is undefined (no buyer) draws nothing: say so.
        (
            FigureSpec(kind="bar", x="bucket", y="share", title="T"),
            pd.DataFrame({"bucket": ["0d", "1d"], "share": [math.nan, math.nan]}),
            True,
        ),
        (
            FigureSpec(kind="bar", x="share", y="bucket", orientation="h", title="T"),
            pd.DataFrame({"bucket": ["0d", "1d"], "share": [math.nan, math.nan]}),
            True,
        ),
        (
            FigureSpec(kind="heatmap", x="age", y="cohort", z="ltv", title="T"),
            pd.DataFrame({"age": [0], "cohort": ["2020-01"], "ltv": [math.nan]}),
            True,
        ),
        # One defined value is data.
        (
            FigureSpec(kind="bar", x="bucket", y="share", title="T"),
            pd.DataFrame({"bucket": ["0d", "1d"], "share": [math.nan, 0.0]}),
            False,
        ),
    ],
)
def test_undefined_values_render_a_no_data_note(
    spec: FigureSpec, frame: pd.DataFrame, note: bool
) -> None:
    texts = [a.text for a in render(spec, frame).layout.annotations]
    assert ("No data" in texts) is note


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (0.1234, ".1%", "12.3%"),
        (1234.5, ",.0f", "1,234"),
        (3, "d", "3"),
        (float("nan"), ".1%", ""),
        (None, None, ""),
    ],
)
def test_format_value(value: object, fmt: str | None, text: str) -> None:
    assert format_value(value, fmt) == text


def test_hover_shows_a_series_name_once_escaped_and_never_as_a_template() -> None:
    """Names are escaped once for Plotly's pseudo-HTML (legend and hover alike), and stay out
    of the hover template: a source called "%{x}" must not be filled in with the x value."""
    frame = pd.DataFrame({"age": [0, 0], "romi": [0.1, 0.2], "source": ["a & b", "%{x}<br>"]})
    fig = render(FigureSpec(kind="line", x="age", y="romi", color="source", title="T"), frame)
    assert [t.name for t in fig.data] == ["a &amp; b", "%{x}&lt;br&gt;"]
    for trace in fig.data:
        assert trace.hovertemplate.endswith("<extra>%{fullData.name}</extra>")
        assert "&amp;amp;" not in trace.hovertemplate and "%{x}&lt;" not in trace.hovertemplate


def test_line_band_is_drawn_under_each_line_in_its_colour() -> None:
    """A band (low, high) per line: two edge traces, the high one filled down to the low,
    in the line's colour, kept out of the legend and hover; a missing column is an error."""
    from growthlens.figures import COLORWAY

    frame = pd.DataFrame(
        {
            "week": ["2024-01-01", "2024-01-08"] * 2,
            "step": ["a", "a", "b", "b"],
            "rate": [0.5, 0.6, 0.2, 0.25],
            "low": [0.4, 0.5, 0.1, 0.15],
            "high": [0.6, 0.7, 0.3, 0.35],
        }
    )
    spec = FigureSpec("line", x="week", y="rate", color="step", title="t", band=("low", "high"))
    fig = render(spec, frame)
    assert len(fig.data) == 6
    low, high, line = fig.data[3], fig.data[4], fig.data[5]
    assert list(low.y) == [0.1, 0.15] and list(high.y) == [0.3, 0.35]
    assert high.fill == "tonexty" and not high.showlegend and high.hoverinfo == "skip"
    assert line.name == "b" and line.line.color == COLORWAY[1]
    assert fig.layout.legend.traceorder == "normal"
    with pytest.raises(ValueError, match="needs column"):
        render(FigureSpec("line", x="week", y="rate", title="t", band=("lo", "hi")), frame)


ACTIONS = pd.DataFrame(
    {
        "source": ["a", "b", "c", "d", "e"],
        "action": ["cut", "grow", "hold", "organic", "too little data"],
        "share": [0.4, 0.3, 0.2, 0.05, 0.05],
        "romi": [-0.5, 1.0, 0.0, math.nan, 0.3],
    }
)


@pytest.mark.parametrize("kind", ["scatter", "bar", "line"])
def test_colours_follow_the_business_meaning_not_the_table_order(kind: str) -> None:
    """Cut first in the table must still be red, grow green; an unlisted category takes
    the colorway without green and red (so it never reads as good or bad)."""
    from growthlens.figures import BAD, COLORWAY, GOOD, MUTED, NEUTRAL

    colors = {"grow": GOOD, "cut": BAD, "hold": NEUTRAL, "too little data": MUTED}
    spec = FigureSpec(kind, x="share", y="romi", color="action", title="t", colors=colors)  # type: ignore[arg-type]
    fig = render(spec, ACTIONS)
    drawn = {
        t.name: (t.marker.color if kind != "line" else t.line.color) for t in fig.data if t.name
    }
    assert drawn == {
        "cut": BAD,
        "grow": GOOD,
        "hold": NEUTRAL,
        "organic": COLORWAY[0],
        "too little data": MUTED,
    }
    # Without a mapping the colorway is used in order, as before.
    plain = render(FigureSpec(kind, x="share", y="romi", color="action", title="t"), ACTIONS)  # type: ignore[arg-type]
    colours = [t.marker.color if kind != "line" else t.line.color for t in plain.data]
    assert colours == list(COLORWAY[:5])
    assert COLORWAY[2] == GOOD and COLORWAY[3] == BAD  # so "organic" above skipped both


ROMI_CELLS = pd.DataFrame(
    {"cohort": ["2020-01", "2020-01", "2020-02"], "age": [0, 1, 0], "romi": [-0.5, 0.25, 1.5]}
)


def test_diverging_heatmap_is_white_at_the_centre_with_a_fixed_range() -> None:
    """zrange (−1, 3), centre 0: white sits at (0 − (−1)) / (3 − (−1)) = 0.25 of the scale,
    red below, green above; Plotly gets the fixed range, not its own."""
    from growthlens.figures import DIVERGING_HIGH, DIVERGING_LOW, DIVERGING_MID

    spec = FigureSpec(
        "heatmap", x="age", y="cohort", z="romi", title="ROMI", zrange=(-1.0, 3.0), zmid=0.0
    )
    trace = render(spec, ROMI_CELLS).data[0]
    assert (trace.zmin, trace.zmax, trace.zauto) == (-1.0, 3.0, False)
    assert [list(stop) for stop in trace.colorscale] == [
        [0.0, DIVERGING_LOW],
        [0.25, DIVERGING_MID],
        [1.0, DIVERGING_HIGH],
    ]


def test_diverging_heatmap_range_always_reaches_the_centre() -> None:
    """Cells all above 0 (0.25 … 1.5, no zrange): the range is widened to (0, 1.5), so the
    palest cell is white only at 0 and no cell is red; all below: (−0.5, 0), no green."""
    from growthlens.figures import DIVERGING_HIGH, DIVERGING_LOW, DIVERGING_MID

    above = ROMI_CELLS[ROMI_CELLS["romi"] > 0]
    spec = FigureSpec("heatmap", x="age", y="cohort", z="romi", title="ROMI", zmid=0.0)
    trace = render(spec, above).data[0]
    assert (trace.zmin, trace.zmax) == (0.0, 1.5)
    assert [list(stop) for stop in trace.colorscale] == [
        [0.0, DIVERGING_MID],
        [1.0, DIVERGING_HIGH],
    ]
    below = render(spec, ROMI_CELLS[ROMI_CELLS["romi"] < 0]).data[0]
    assert (below.zmin, below.zmax) == (-0.5, 0.0)
    assert [list(stop) for stop in below.colorscale] == [[0.0, DIVERGING_LOW], [1.0, DIVERGING_MID]]


def test_sequential_heatmap_takes_a_fixed_range_or_its_own() -> None:
    spec = FigureSpec("heatmap", x="age", y="cohort", z="retention", title="R", zrange=(0.0, 0.5))
    trace = render(spec, LONG).data[0]
    assert (trace.zmin, trace.zmax, trace.zauto) == (0.0, 0.5, False)
    assert (
        trace.colorscale[0][1]
        == render(  # the same sequential blues as without a range
            FigureSpec("heatmap", x="age", y="cohort", z="retention", title="R"), LONG
        )
        .data[0]
        .colorscale[0][1]
    )
    own = render(FigureSpec("heatmap", x="age", y="cohort", z="retention", title="R"), LONG)
    assert own.data[0].zmin is None and own.data[0].zauto is None


@pytest.mark.parametrize("zrange", [(1.0, 0.0), (math.nan, 1.0), (0.0, math.inf)])
def test_bad_zrange_is_a_value_error(zrange: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="zrange"):
        FigureSpec("heatmap", x="age", y="cohort", z="romi", title="t", zrange=zrange)


def test_shared_range_over_several_tables() -> None:
    from growthlens.figures import shared_range

    assert shared_range(
        ROMI_CELLS["romi"], [math.nan, -2.0, math.inf], pd.Series([], dtype=float)
    ) == (
        -2.0,
        1.5,
    )
    assert shared_range([math.nan], []) is None


def test_month_axes_tick_each_month_once() -> None:
    # Three months: Plotly alone ticks every two weeks and writes "Mar 2024" four times.
    months = pd.to_datetime(["2024-03-01", "2024-04-01", "2024-05-01"])
    spec = FigureSpec(kind="line", x="cohort", y="cac", title="CAC")
    fig = render(spec, pd.DataFrame({"cohort": months, "cac": [9.0, 8.6, 8.4]}))
    assert (fig.layout.xaxis.dtick, fig.layout.xaxis.tick0) == ("M1", "2024-03-01")
    # Three years of months: every third month, about a dozen ticks.
    long = pd.date_range("2022-01-01", periods=36, freq="MS")
    fig = render(spec, pd.DataFrame({"cohort": long, "cac": range(36)}))
    assert fig.layout.xaxis.dtick == "M3"
    # Days keep Plotly's own spacing.
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    fig = render(spec, pd.DataFrame({"cohort": days, "cac": range(40)}))
    assert fig.layout.xaxis.tickformat == "%d %b %Y" and fig.layout.xaxis.dtick is None


def test_many_categories_draw_the_ones_that_weigh_most() -> None:
    n = MAX_CATEGORIES + 20
    # Bars: 50 sources, each worth its index; the 30 largest are drawn, in the table's order.
    frame = pd.DataFrame(
        {"source": [f"s{i}" for i in range(n)], "cac": [float(i) for i in range(n)]}
    )
    labels = {"cac": "CAC (USD)"}
    spec = FigureSpec(kind="bar", x="source", y="cac", title="CAC", labels=labels, rank="cac")
    fig = render(spec, frame)
    drawn = list(fig.data[0].x)
    assert drawn == [f"s{i}" for i in range(20, n)]
    assert f"Showing {MAX_CATEGORIES} of {n} Source values" in fig.layout.title.text
    assert "ranked first by CAC (USD)" in fig.layout.title.text
    # Lines, one per source: ranked by another column when the spec names one.
    months = pd.date_range("2024-01-01", periods=2, freq="MS")
    rows = [(m, f"s{i}", 1.0, float(n - i)) for i in range(n) for m in months]
    lines = pd.DataFrame(rows, columns=["month", "source", "roi", "spend"])
    spec = FigureSpec(
        kind="line", x="month", y="roi", color="source", title="ROI", rank="spend", subtitle="Mean"
    )
    fig = render(spec, lines)
    assert [t.name for t in fig.data] == [f"s{i}" for i in range(MAX_CATEGORIES)]
    # Under a subtitle the note starts a line of its own, and the top margin makes room.
    assert "Mean<br>Showing" in fig.layout.title.text and fig.layout.margin.t == 100
    # A heatmap's text columns are cut too; its rows of dates are not.
    cells = lines.rename(columns={"roi": "value"})
    spec = FigureSpec(kind="heatmap", x="source", y="month", z="spend", title="Spend", rank="spend")
    fig = render(spec, cells)
    assert len(fig.data[0].x) == MAX_CATEGORIES and len(fig.data[0].y) == 2
    # Bars stacked by a few colours are cut along their axis of many sources.
    stacked = lines.assign(bucket=["a", "b"] * n)
    spec = FigureSpec(
        kind="stacked_bar", x="source", y="roi", color="bucket", title="Lag", rank="spend"
    )
    fig = render(spec, stacked)
    assert {len(t.x) for t in fig.data} == {MAX_CATEGORIES}
    # At the limit nothing is cut and nothing is said; without a rank nothing is cut (bins).
    few = frame.head(MAX_CATEGORIES)
    fig = render(FigureSpec(kind="bar", x="source", y="cac", title="CAC", rank="cac"), few)
    assert len(fig.data[0].x) == MAX_CATEGORIES and "Showing" not in fig.layout.title.text
    fig = render(FigureSpec(kind="bar", x="source", y="cac", title="Bins"), frame)
    assert len(fig.data[0].x) == n
