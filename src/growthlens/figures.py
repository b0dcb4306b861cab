"""Draw a :class:`~growthlens.result.FigureSpec` as a Plotly figure.

One plain function per chart kind and one shared look (:func:`style`). The frame given
is a small aggregate (a Result table); nothing here computes metrics. Pre-binned
``histogram`` specs name the bin column as ``x`` and the count column as ``y``: row-level
data never leaves the engine, so Plotly never bins anything itself.

Text from the data (category names, legend entries) is HTML-escaped before it reaches
Plotly, because Plotly interprets a few tags in its text; escaped, a source called
``<b>x</b>`` shows literally.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

UNKNOWN_LABEL = "(unknown)"
FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
COLORWAY = (
    "#2f6db5",
    "#e07b39",
    "#3a9e6b",
    "#c9474f",
    "#8062b8",
    "#8c6d46",
    "#d46fb5",
    "#6f7781",
    "#b3b536",
    "#2fb0c4",
)
# Colours with a business meaning, the same in every chart: good for the business (grow,
# paid back), bad (cut, losing money), neutral (hold), and muted (no verdict).
GOOD = "#3a9e6b"
BAD = "#c9474f"
NEUTRAL = "#8c959f"
MUTED = "#c3c9d0"
# A diverging heatmap scale: deep red at the low end, white at the centre, deep green at
# the high end.
DIVERGING_LOW = "#b2323c"
DIVERGING_MID = "#f7f7f7"
DIVERGING_HIGH = "#237a4f"

_AXIS = {
    "gridcolor": "#e6e9ed",
    "linecolor": "#b8bfc7",
    "zerolinecolor": "#c9ced4",
    "ticks": "outside",
    "tickcolor": "#b8bfc7",
    "title": {"standoff": 12},
}
# A small explicit template instead of "plotly_white": the same clean look without
# embedding ~10 kB of unused trace defaults in every figure of the report.
TEMPLATE = go.layout.Template(
    layout={
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "hovermode": "closest",
        "legend": {"bgcolor": "rgba(255,255,255,0.8)"},
    }
)


ChartKind = Literal["line", "bar", "stacked_bar", "heatmap", "histogram", "scatter", "sankey"]


@dataclass(frozen=True)
class FigureSpec:
    """A chart described as data: which table, which kind, which columns.

    Attributes:
        kind: chart type.
        table: key into ``Result.tables`` (``"main"`` is ``Result.table``).
        x, y: column names; for ``heatmap`` ``x`` is the column axis, ``y`` the rows and
            ``z`` the value; for ``sankey`` ``x`` is the source node, ``y`` the target node
            and ``z`` the flow (one row per link).
        z: value column of a heatmap or a Sankey.
        color: column that splits traces; for ``sankey``, an optional integer stage column:
            the link goes from ``x`` at stage − 1 to ``y`` at that stage, so one name at
            two stages is two nodes, drawn in columns by stage.
        title: chart title.
        labels: axis/legend labels (column → text with units).
        value_format: d3 format of values (e.g. ``".1%"``, ``",.0f"``).
        orientation: ``"v"`` or ``"h"`` for bars.
        band: the columns of an interval (low, high): for ``line`` a shaded band around
            each line (e.g. a Wilson interval), for ``bar`` error bars on each bar.
        reverse: for ``sankey``: links drawn from ``y`` to ``x`` and the stages right to
            left, so paths read backwards from an event are shown in time order, the
            event last.
        hover: extra columns shown in the tooltip of ``line``, ``bar`` and ``scatter``
            points (e.g. how many cohorts stand behind an average), labelled by ``labels``.
        subtitle: a line under the title, in smaller type (e.g. what an average is over);
            a newline starts another line.
        colors: a fixed colour per value of the ``color`` column, for categories with a
            business meaning (budget actions: grow ``GOOD``, cut ``BAD``, hold
            ``NEUTRAL``). Values not listed take the colorway, without the ``GOOD`` and
            ``BAD`` colours, so no other category reads as good or bad.
        zrange: a heatmap's fixed ``(low, high)`` value range, so several heatmaps of one
            metric (small multiples) share one colour scale (see :func:`shared_range`).
            Without it the range is the figure's own values.
        zmid: the centre of a diverging heatmap scale (ROMI: 0, paid back): below it red
            (``BAD``), white at it, green (``GOOD``) above. The range always reaches the
            centre, so white always means the centre value. Without it the scale is
            sequential (blues, low to high).
        rank: for a chart of a dimension that can have hundreds of values (sources): the
            column that ranks them (spend, users). Above :data:`MAX_CATEGORIES` values only
            the first that many by their total of it are drawn, and the subtitle says so;
            the table keeps every row. Without it every category is drawn (an ordered axis,
            such as length bins, must keep every bar).
    """

    kind: ChartKind
    x: str
    y: str
    title: str
    table: str = "main"
    z: str | None = None
    color: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    value_format: str | None = None
    orientation: Literal["v", "h"] = "v"
    band: tuple[str, str] | None = None
    reverse: bool = False
    hover: tuple[str, ...] = ()
    subtitle: str = ""
    colors: Mapping[str, str] = field(default_factory=dict)
    zrange: tuple[float, float] | None = None
    zmid: float | None = None
    rank: str | None = None

    def __post_init__(self) -> None:
        if self.zrange is not None:
            low, high = self.zrange
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(
                    f"chart {self.title!r}: zrange must be finite (low, high) with low <= high; "
                    f"found {self.zrange!r}"
                )
        if self.zmid is not None and not math.isfinite(self.zmid):
            raise ValueError(f"chart {self.title!r}: zmid must be finite; found {self.zmid!r}")


def render(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    """Render ``spec`` from ``frame`` (the Result table it names).

    Args:
        spec: what to draw; ``x``, ``y``, ``z`` and ``color`` name columns of ``frame``.
        frame: a small tidy table.

    Returns:
        A Plotly figure with the growthlens look.

    Raises:
        ValueError: a column the spec names is missing, or heatmap cells repeat.

    Example:
        >>> import pandas as pd
        >>> from growthlens.figures import FigureSpec
        >>> spec = FigureSpec(kind="bar", x="source", y="users", title="Users by source")
        >>> fig = render(spec, pd.DataFrame({"source": ["ads", "seo"], "users": [3, 5]}))
        >>> fig.layout.title.text
        'Users by source'
    """
    needed = [
        c
        for c in (spec.x, spec.y, spec.z, spec.color, spec.rank, *(spec.band or ()), *spec.hover)
        if c is not None
    ]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"chart {spec.title!r} needs column(s) {missing}; the table has {list(frame.columns)}"
        )
    spec, frame = _most(spec, frame)
    values = frame[spec.z or (spec.x if spec.orientation == "h" else spec.y)]
    spec = replace(spec, value_format=fit_format(spec.value_format, values))
    fig = _DRAW[spec.kind](spec, frame)
    style(fig, spec, frame)
    # Rows whose every value is undefined (a bucket grid with no buyer) draw nothing either.
    if frame.empty or (values.isna().all() and pd.api.types.is_numeric_dtype(values)):
        fig.add_annotation(
            text="No data", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font_size=16
        )
    return fig


MAX_CATEGORIES = 30
"""The most categories a chart draws (bars, heatmap columns, lines); see FigureSpec.rank."""


def _most(spec: FigureSpec, frame: pd.DataFrame) -> tuple[FigureSpec, pd.DataFrame]:
    """``spec`` and ``frame`` cut to :data:`MAX_CATEGORIES` categories by ``spec.rank``.

    Five hundred bars or lines cannot be read; the ones that weigh most can. The
    categories are the traces (``color``) or the category axis (text, not numbers or
    dates), whichever has too many values. Ranked by the total of the absolute ``rank``
    values (missing ones count 0), ties in the table's order; the subtitle says what is
    drawn.
    """
    if spec.rank is None:
        return spec, frame
    for column in _category_columns(spec, frame):
        keys = frame[column].astype("object").where(frame[column].notna(), UNKNOWN_LABEL)
        count = keys.nunique()
        if count > MAX_CATEGORIES:
            break
    else:
        return spec, frame
    weight = pd.to_numeric(frame[spec.rank], errors="coerce").abs().fillna(0.0)
    totals = weight.groupby(keys, sort=False).sum().sort_values(ascending=False, kind="stable")
    kept = set(totals.index[:MAX_CATEGORIES])
    note = (
        f"Showing {MAX_CATEGORIES} of {count:,} {label(spec, column)} values, those ranked "
        f"first by {label(spec, spec.rank)}; the table lists all."
    )
    subtitle = f"{spec.subtitle}\n{note}" if spec.subtitle else note  # a line of its own
    return replace(spec, subtitle=subtitle), frame[keys.isin(kept).to_numpy()]


def _category_columns(spec: FigureSpec, frame: pd.DataFrame) -> list[str]:
    """The columns whose values are a chart's categories: its traces, its text axes."""
    if spec.kind in ("sankey", "histogram"):
        return []
    traces = [spec.color] if spec.color is not None and spec.kind != "heatmap" else []
    if spec.kind == "heatmap":
        axes = [spec.x, spec.y]
    else:
        axes = [spec.y] if spec.orientation == "h" else [spec.x]
    text = [
        a for a in axes if not _is_date(frame[a]) and not pd.api.types.is_numeric_dtype(frame[a])
    ]
    return traces + text


def fit_format(value_format: str | None, values: pd.Series) -> str | None:
    """A whole-number format (``",.0f"``) widened to two decimals for small fractional values.

    A chart of values all below 10 in size (CLV of $0.38 a buyer) would otherwise label every
    tick and bar "0".

    >>> fit_format(",.0f", pd.Series([0.34, 0.44])), fit_format(",.0f", pd.Series([340.0, 12.0]))
    (',.2f', ',.0f')
    """
    if not value_format or not value_format.endswith(".0f"):
        return value_format
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty or numbers.abs().max() >= 10 or (numbers == numbers.round()).all():
        return value_format
    return value_format[: -len(".0f")] + ".2f"


def shared_range(*values: Iterable[Any]) -> tuple[float, float] | None:
    """One ``(low, high)`` over every finite value given, for :attr:`FigureSpec.zrange`.

    Small multiples of one metric (a heatmap per source) take the range of all their cells
    together, so one colour means one value in all of them. ``None`` without any finite
    value (the figures then use their own, empty, range).

    >>> shared_range([0.5, float("nan")], pd.Series([-0.25, 2.0]), [])
    (-0.25, 2.0)
    >>> shared_range([float("nan")]) is None
    True
    """
    numbers = [
        float(v)
        for column in values
        for v in pd.to_numeric(pd.Series(list(column), dtype=object), errors="coerce")
        if pd.notna(v) and math.isfinite(float(v))
    ]
    return (min(numbers), max(numbers)) if numbers else None


def diverging_scale(low: float, high: float, mid: float) -> tuple[float, float, list[list[Any]]]:
    """A red–white–green colour scale with white exactly at ``mid``.

    Returns ``(zmin, zmax, colorscale)``. The range is widened to reach ``mid`` (cells all
    above it read pale to deep green, never red); the two sides each span their full depth,
    so the lowest value shown is the deepest red and the highest the deepest green. A range
    of one value is widened by one on each side of the centre (all white).

    >>> diverging_scale(-1.0, 3.0, 0.0)[2]
    [[0.0, '#b2323c'], [0.25, '#f7f7f7'], [1.0, '#237a4f']]
    >>> diverging_scale(0.5, 2.0, 0.0)[:2], diverging_scale(0.0, 0.0, 0.0)[:2]
    ((0.0, 2.0), (-1.0, 1.0))
    """
    low, high = min(low, mid), max(high, mid)
    if low == high:
        low, high = mid - 1.0, mid + 1.0
    at = (mid - low) / (high - low)
    scale: list[list[Any]] = [[0.0, DIVERGING_LOW], [at, DIVERGING_MID], [1.0, DIVERGING_HIGH]]
    if at == 0.0:
        scale = scale[1:]
        scale[0][0] = 0.0
    elif at == 1.0:
        scale = scale[:2]
    return low, high, scale


def label(spec: FigureSpec, column: str | None) -> str:
    """Axis/legend title of ``column``: ``spec.labels`` or the column name in words."""
    if column is None:
        return ""
    return spec.labels.get(column, column.replace("_", " ").capitalize())


def format_value(value: Any, value_format: str | None) -> str:
    """Format one number with a d3-style format (the subset the specs use).

    Supports an optional ``,`` (thousands), ``.N`` precision and the types ``f``, ``%``,
    ``d``, ``e``, ``g``, ``s``; ``~`` (trim zeros) and a leading ``$`` are accepted.
    NaN and ``None`` give an empty string: an unobserved cell stays blank.

    >>> format_value(0.1234, ".1%"), format_value(12345.6, ",.0f")
    ('12.3%', '12,346')
    >>> format_value(float("nan"), ".1%")
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if not isinstance(value, int | float | np.number) or isinstance(value, bool):
        return str(value)
    fmt = (value_format or "").replace("~", "")
    prefix = ""
    if fmt.startswith("$"):
        prefix, fmt = "$", fmt[1:]
    if fmt.endswith("s"):
        fmt = fmt[:-1] + "g"
    if fmt.endswith("d"):
        fmt = fmt[:-1] + ".0f"
    if not fmt:
        fmt = ",.4g" if isinstance(value, float | np.floating) else ","
    try:
        return prefix + format(value, fmt)
    except ValueError:
        return prefix + str(value)


def style(fig: go.Figure, spec: FigureSpec, frame: pd.DataFrame) -> None:
    """Apply the shared look: title, axis titles with units, legend, fonts, date axes."""
    title = html.escape(spec.title)
    if spec.subtitle:
        title += (
            '<br><span style="font-size:12px;color:#5f6b7a">'
            + "<br>".join(html.escape(line) for line in spec.subtitle.split("\n"))
            + "</span>"
        )
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        colorway=list(COLORWAY),
        template=TEMPLATE,
        margin={"l": 70, "r": 30, "t": 60 + 20 * len(spec.subtitle.splitlines()), "b": 60},
        height=fig.layout.height or 420,
        hoverlabel={"font_size": 12},
        legend={"title": {"text": html.escape(label(spec, spec.color))}},
        separators=".,",
    )
    if spec.kind == "sankey":
        # No axes: node labels and link hovers carry the names and values.
        fig.update_layout(legend={"title": {"text": ""}})
        return
    x_title, y_title = label(spec, spec.x), label(spec, spec.y)
    fig.update_xaxes(title_text=html.escape(x_title), automargin=True)
    fig.update_yaxes(title_text=html.escape(y_title), automargin=True)
    if spec.kind == "heatmap":
        return
    value_axis = (
        fig.update_xaxes if spec.orientation == "h" and spec.kind != "line" else fig.update_yaxes
    )
    if spec.value_format:
        value_axis(tickformat=spec.value_format.replace("$", ""))
    if spec.x in frame.columns and _is_date(frame[spec.x]):
        fig.update_xaxes(**_date_ticks(frame[spec.x]), hoverformat="%Y-%m-%d")


def _line(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for name, colour, part in _groups(frame, spec):
        part = part.sort_values(spec.x, kind="stable")
        if spec.band is not None:
            # The interval as a shaded band in the line's colour, under the line.
            x = list(_axis_values(part[spec.x]))
            low, high = part[spec.band[0]].tolist(), part[spec.band[1]].tolist()
            rgb = ", ".join(str(int(colour[k : k + 2], 16)) for k in (1, 3, 5))
            # Low edge, then the high edge filled down to it ("tonexty").
            for edge, fill in ((low, "none"), (high, "tonexty")):
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=edge,
                        mode="lines",
                        fill=fill,
                        fillcolor=f"rgba({rgb}, 0.15)",
                        line={"width": 0},
                        hoverinfo="skip",
                        showlegend=False,
                    )
                )
        fig.add_trace(
            go.Scatter(
                x=_axis_values(part[spec.x]),
                y=part[spec.y],
                mode="lines+markers" if len(part) <= 60 else "lines",
                name=name,
                # The colour is set, not left to the colorway: band traces take slots too.
                line={"color": colour},
                marker={"color": colour},
                customdata=_customdata(spec, part),
                hovertemplate=_hover(spec, name, frame=part),
            )
        )
    if spec.band is not None:
        # Plotly reverses the legend of filled traces; keep the table's order.
        fig.update_layout(legend_traceorder="normal")
    return fig


def _bar(spec: FigureSpec, frame: pd.DataFrame, *, barmode: str = "group") -> go.Figure:
    fig = go.Figure()
    horizontal = spec.orientation == "h"
    for name, colour, part in _groups(frame, spec):
        x, y = _axis_values(part[spec.x]), _axis_values(part[spec.y])
        error = None
        if spec.band is not None:
            # The interval as error bars around each bar's value.
            value = part[spec.x if horizontal else spec.y].astype(float)
            error = {
                "type": "data",
                "symmetric": False,
                "array": (part[spec.band[1]].astype(float) - value).tolist(),
                "arrayminus": (value - part[spec.band[0]].astype(float)).tolist(),
                "thickness": 1.2,
                "width": 3,
            }
        fig.add_trace(
            go.Bar(
                x=x,
                y=y,
                orientation=spec.orientation,
                name=name,
                marker_color=colour,
                customdata=_customdata(spec, part),
                hovertemplate=_hover(spec, name, value_axis="x" if horizontal else "y", frame=part),
                error_x=error if horizontal else None,
                error_y=None if horizontal else error,
            )
        )
    fig.update_layout(barmode=barmode, showlegend=spec.color is not None)
    category = spec.y if horizontal else spec.x
    if not _is_date(frame[category]) and not pd.api.types.is_numeric_dtype(frame[category]):
        # Categories keep the table's order (analyses sort meaningfully), across traces too.
        order = list(dict.fromkeys(_axis_values(frame[category])))
        axis = fig.update_yaxes if horizontal else fig.update_xaxes
        axis(type="category", categoryorder="array", categoryarray=order)
        if horizontal:
            # First row on top; height follows the number of bars so few bars stay slim.
            fig.update_yaxes(autorange="reversed")
            fig.update_layout(height=max(300, min(1100, 190 + 40 * len(order))))
    return fig


def _stacked_bar(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    return _bar(spec, frame, barmode="stack")


def _histogram(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    fig = _bar(spec, frame, barmode="overlay" if spec.color else "group")
    fig.update_layout(bargap=0.02)
    if spec.color:
        fig.update_traces(opacity=0.6)
    return fig


def _scatter(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for name, colour, part in _groups(frame, spec):
        fig.add_trace(
            go.Scatter(
                x=_axis_values(part[spec.x]),
                y=part[spec.y],
                mode="markers",
                marker={"size": 9, "opacity": 0.8, "color": colour},
                name=name,
                customdata=_customdata(spec, part),
                hovertemplate=_hover(spec, name, frame=part),
            )
        )
    fig.update_layout(showlegend=spec.color is not None)
    return fig


def _heatmap(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    if spec.z is None:
        raise ValueError(f"heatmap {spec.title!r} needs z (the value column)")
    if frame.duplicated([spec.y, spec.x]).any():
        raise ValueError(f"heatmap {spec.title!r}: more than one row per ({spec.y}, {spec.x}) cell")
    # Pivot without aggregating: a cell absent from the long table stays NaN (blank),
    # never 0 — an unobserved cell is not a zero.
    matrix = frame.set_index([spec.y, spec.x])[spec.z].unstack(spec.x)
    matrix = matrix.sort_index(axis=0).sort_index(axis=1)
    values = matrix.to_numpy(dtype=float, na_value=np.nan)
    text = [[format_value(v, spec.value_format) for v in row] for row in values]
    z = [[None if math.isnan(v) else float(v) for v in row] for row in values]
    fmt = f":{spec.value_format}" if spec.value_format else ""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[_category(v) for v in matrix.columns],
            y=[_category(v) for v in matrix.index],
            text=text,
            texttemplate="%{text}" if values.size <= 600 else None,
            **_heatmap_scale(spec, values),
            hoverongaps=False,
            xgap=1,
            ygap=1,
            colorbar={
                "title": {"text": html.escape(label(spec, spec.z))},
                "tickformat": (spec.value_format or "").replace("$", ""),
            },
            hovertemplate=(
                f"{html.escape(label(spec, spec.y))}: %{{y}}"
                f"<br>{html.escape(label(spec, spec.x))}: %{{x}}"
                f"<br>{html.escape(label(spec, spec.z))}: %{{z{fmt}}}<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed")
    rows = len(matrix.index)
    fig.update_layout(height=max(420, min(1200, 120 + 26 * rows)))
    return fig


def _heatmap_scale(spec: FigureSpec, values: np.ndarray) -> dict[str, Any]:
    """Colour scale and range of a heatmap: the spec's fixed range, diverging at ``zmid``."""
    zrange = spec.zrange or shared_range(values.ravel())
    if spec.zmid is not None:
        low, high = zrange or (spec.zmid, spec.zmid)
        zmin, zmax, scale = diverging_scale(low, high, spec.zmid)
        return {"colorscale": scale, "zmin": zmin, "zmax": zmax, "zauto": False}
    if spec.zrange is not None:
        low, high = spec.zrange
        if low == high:  # one value: Plotly needs a non-empty range
            low, high = low - 0.5, high + 0.5
        return {"colorscale": "Blues", "zmin": low, "zmax": high, "zauto": False}
    return {"colorscale": "Blues"}


SANKEY_MUTED = ("(end)", "(other)", UNKNOWN_LABEL)
"""Sankey node names drawn grey: where a path stops or what was grouped, not an event."""


def _sankey(spec: FigureSpec, frame: pd.DataFrame) -> go.Figure:
    if spec.z is None:
        raise ValueError(f"sankey {spec.title!r} needs z (the flow column)")
    links = frame[frame[spec.z].fillna(0) > 0]
    stage = spec.color
    if stage is not None:
        stages = links[stage].astype("int64").tolist()
        sources = [(s - 1, _category(v)) for s, v in zip(stages, links[spec.x], strict=True)]
        targets = [(s, _category(v)) for s, v in zip(stages, links[spec.y], strict=True)]
    else:
        sources = [(0, _category(v)) for v in links[spec.x]]
        targets = [(0, _category(v)) for v in links[spec.y]]
    if spec.reverse:
        sources, targets = targets, sources
    values = [float(v) for v in links[spec.z]]
    # A node's size is the larger of what flows in and out of it.
    inflow: dict[tuple[int, str], float] = {}
    outflow: dict[tuple[int, str], float] = {}
    for source, target, value in zip(sources, targets, values, strict=True):
        outflow[source] = outflow.get(source, 0.0) + value
        inflow[target] = inflow.get(target, 0.0) + value
    size = {n: max(inflow.get(n, 0.0), outflow.get(n, 0.0)) for n in {*inflow, *outflow}}
    muted = {html.escape(m, quote=False) for m in SANKEY_MUTED}
    # Per stage: events largest first, the grey bookkeeping nodes at the bottom.
    nodes = sorted(
        size, key=lambda n: (-n[0] if spec.reverse else n[0], n[1] in muted, -size[n], n[1])
    )
    index = {n: i for i, n in enumerate(nodes)}
    palette: dict[str, str] = {}
    for _, name in nodes:
        if name not in muted and name not in palette:
            palette[name] = COLORWAY[len(palette) % len(COLORWAY)]
    colors = [palette.get(name, "#b8bfc7") for _, name in nodes]
    fmt = f":{spec.value_format}" if spec.value_format else ""
    value_label = html.escape(label(spec, spec.z))
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=(spec.value_format or "").replace("$", ""),
            node={
                "label": [name for _, name in nodes],
                "color": colors,
                "pad": 14,
                "thickness": 16,
                "line": {"width": 0},
                # Nodes by their distance from the first (reversed: the last) column: a
                # path's stage, since every link goes one stage on (an ended path's node
                # stays in its stage).
                "align": "right" if spec.reverse else "left",
                "hovertemplate": f"%{{label}}<br>{value_label}: %{{value{fmt}}}<extra></extra>",
            },
            link={
                "source": [index[n] for n in sources],
                "target": [index[n] for n in targets],
                "value": values,
                "color": [_fade(colors[index[n]]) for n in sources],
                "hovertemplate": (
                    f"%{{source.label}} → %{{target.label}}<br>{value_label}: "
                    f"%{{value{fmt}}}<extra></extra>"
                ),
            },
        )
    )
    largest = max((sum(1 for n in nodes if n[0] == s) for s, _ in nodes), default=0)
    fig.update_layout(height=max(420, min(1000, 140 + 44 * largest)))
    return fig


def _fade(color: str) -> str:
    """A ``#rrggbb`` colour as a translucent ``rgba`` for Sankey links."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.35)"


_DRAW: dict[str, Callable[[FigureSpec, pd.DataFrame], go.Figure]] = {
    "line": _line,
    "bar": _bar,
    "stacked_bar": _stacked_bar,
    "heatmap": _heatmap,
    "histogram": _histogram,
    "scatter": _scatter,
    "sankey": _sankey,
}


def _groups(frame: pd.DataFrame, spec: FigureSpec) -> list[tuple[str, str, pd.DataFrame]]:
    """The traces of a chart: ``(name, colour, rows)`` per value of ``spec.color``.

    A value listed in ``spec.colors`` takes its colour; the others take the colorway in
    order, without the good and bad colours when some values have a meaning (else an
    unlisted category could read as good or bad).
    """
    palette: tuple[str, ...] = COLORWAY
    if spec.colors:
        palette = tuple(c for c in COLORWAY if c not in (GOOD, BAD)) or COLORWAY
    if spec.color is None:
        return [("", palette[0], frame)]
    keys = frame[spec.color].astype("object").where(frame[spec.color].notna(), UNKNOWN_LABEL)
    # Legend order follows the table's first appearance, which analyses sort meaningfully.
    order: list[Hashable] = _numeric_order(list(dict.fromkeys(keys.tolist())))
    out: list[tuple[str, str, pd.DataFrame]] = []
    unlisted = 0
    for k in order:
        colour = spec.colors.get(str(k))
        if colour is None:
            colour = palette[unlisted % len(palette)]
            unlisted += 1
        out.append((_category(k), colour, frame[keys == k]))
    return out


def _numeric_order(keys: list[Hashable]) -> list[Hashable]:
    """Number-like names in number order when the table had them in text order.

    A text sort puts "10" between "1" and "2"; an order the analysis chose (by revenue,
    say) is kept.

    >>> _numeric_order(["1", "10", "2", "(unknown)"]), _numeric_order(["10", "1", "2"])
    (['1', '2', '10', '(unknown)'], ['10', '1', '2'])
    """
    named = [k for k in keys if k != UNKNOWN_LABEL]
    try:
        numbers = [float(str(k)) for k in named]
    except ValueError:
        return keys
    if [str(k) for k in named] != sorted(str(k) for k in named):
        return keys
    ranked = [k for _, k in sorted(zip(numbers, named, strict=True), key=lambda pair: pair[0])]
    return ranked + [k for k in keys if k == UNKNOWN_LABEL]


def _customdata(spec: FigureSpec, part: pd.DataFrame) -> list[list[Any]] | None:
    """The ``hover`` columns per point, for the tooltip (``None`` without any)."""
    if not spec.hover:
        return None
    columns = [_axis_values(part[c]) for c in spec.hover]
    return [list(row) for row in zip(*columns, strict=True)]


def _hover(
    spec: FigureSpec, name: str, *, value_axis: str = "y", frame: pd.DataFrame | None = None
) -> str:
    fmt = f":{spec.value_format}" if spec.value_format else ""
    category_axis = "y" if value_axis == "x" else "x"
    category_col, value_col = (spec.y, spec.x) if value_axis == "x" else (spec.x, spec.y)
    lines = [
        f"{html.escape(label(spec, category_col))}: %{{{category_axis}}}",
        f"{html.escape(label(spec, value_col))}: %{{{value_axis}{fmt}}}",
    ]
    for i, column in enumerate(spec.hover):
        # Whole numbers (counts) with thousands separators; anything else as it is.
        whole = frame is not None and pd.api.types.is_integer_dtype(frame[column])
        lines.append(
            f"{html.escape(label(spec, column))}: %{{customdata[{i}]{':,d' if whole else ''}}}"
        )
    # The trace name is data, already escaped once by _category. It stays out of the
    # template: Plotly would read a "%{x}" inside it as a field; %{fullData.name} is not.
    return "<br>".join(lines) + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")


def _axis_values(values: pd.Series) -> list[Any]:
    if _is_date(values):
        return [pd.Timestamp(v).to_pydatetime() if pd.notna(v) else None for v in values]
    if pd.api.types.is_numeric_dtype(values):
        return [None if pd.isna(v) else v for v in values.tolist()]
    return [_category(v) for v in values]


def _category(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN_LABEL
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        return (
            stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return html.escape(str(value), quote=False)


def _is_date(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if values.dtype == object:
        sample = values.dropna()
        return bool(len(sample)) and all(isinstance(v, date) for v in sample.iloc[:20])
    return False


MONTH_TICKS = 12
"""At most about this many ticks on an axis of months (every k-th month beyond it)."""


def _date_ticks(values: pd.Series) -> dict[str, Any]:
    """Tick settings of a date axis: month names for month starts, else days.

    Months get a tick per month (every k-th when there are more than
    :data:`MONTH_TICKS`): left to itself Plotly ticks a few months every two weeks and
    labels each with its month, so "Mar 2024" stood under four ticks.
    """
    stamps = pd.to_datetime(pd.Series(values).dropna())
    if stamps.empty:
        return {"tickformat": "%Y-%m-%d"}
    if (stamps.dt.day == 1).all() and stamps.dt.normalize().eq(stamps).all():
        first, last = stamps.min(), stamps.max()
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        step = max(1, math.ceil(months / MONTH_TICKS))
        return {"tickformat": "%b %Y", "dtick": f"M{step}", "tick0": first.strftime("%Y-%m-%d")}
    return {"tickformat": "%d %b %Y"}
