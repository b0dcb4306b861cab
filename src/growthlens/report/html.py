r"""Render report sections as ONE self-contained HTML file (and Results as notebook fragments).

Safety: the Jinja environment autoescapes, and no data value is ever marked safe. Figures
travel as JSON inside ``<script type="application/json">`` blocks; :func:`script_json`
escapes ``<``, ``>``, ``&`` and U+2028/U+2029 as JSON escapes (``\u003c``) so no string
from the data can close the script element. Plotly's JavaScript is inlined once, so the
file opens offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from growthlens import units as fmt
from growthlens.figures import FigureSpec, render
from growthlens.report.model import Section
from growthlens.result import Entry, Result, set_html_renderer

TABLE_ROWS = 20
FRAGMENT_ROWS = 10
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@dataclass(frozen=True)
class TableView:
    """A table ready for the template: formatted cell text, alignment, truncation note."""

    key: str
    title: str
    columns: tuple[str, ...]
    names: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class FigureView:
    """One chart: the container id and its escaped JSON."""

    element_id: str
    title: str
    payload: Markup
    height: int


@dataclass(frozen=True)
class ResultView:
    """One Result laid out: cards, charts, tables, findings, notes."""

    anchor: str
    title: str
    cards: tuple[tuple[str, str, str], ...]
    figures: tuple[FigureView, ...]
    tables: tuple[TableView, ...]
    findings: tuple[str, ...]
    notes: tuple[str, ...]
    status: str = ""
    params: str = ""


@dataclass(frozen=True)
class SectionView:
    """One section laid out."""

    id: str
    title: str
    intro: str
    results: tuple[ResultView, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)


def script_json(payload: str) -> Markup:
    r"""Make JSON text safe inside a ``<script>`` element (see the module docstring).

    >>> str(script_json('{"a": "</script><b>&"}'))
    '{"a": "\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}'
    """
    for raw, escaped in _SCRIPT_ESCAPES.items():
        payload = payload.replace(raw, escaped)
    # The escaping above is what makes this safe to emit unescaped by Jinja.
    return Markup(payload)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("growthlens.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@cache
def _plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    js = str(get_plotlyjs())
    if "</script" in js.lower():  # would end the inline script early
        raise RuntimeError("the Plotly bundle contains '</script'; cannot inline it safely")
    # Library code we ship, not data: it is inlined as is.
    return Markup(js)


def _css() -> Markup:
    from importlib.resources import files

    return Markup(
        files("growthlens.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    )


def render_html(
    sections: tuple[Section, ...],
    *,
    title: str,
    header: tuple[tuple[str, str], ...],
    currency: str,
    generated_at: datetime,
    left_out: tuple[str, ...] = (),
    day_zero: date | None = None,
) -> str:
    """The whole report as one HTML document.

    Args:
        sections: the sections, in order.
        title: report title (shown escaped).
        header: label → value lines under the title (dataset, window, backend, …).
        currency: currency for money values.
        generated_at: generation time shown in the header.
        left_out: why each report group missing from this report is missing.
        day_zero: with day-number data, the date of day 0: dates in tables and charts are
            shown as day numbers.
    """
    counter = _Counter(day_zero)
    views = tuple(_section_view(s, currency=currency, counter=counter) for s in sections)
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        header=header,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M"),
        sections=views,
        left_out=left_out,
        css=_css(),
        plotly_js=_plotly_js(),
    )


def render_result_fragment(result: Result, *, currency: str = "USD") -> str:
    """A small escaped HTML view of one Result for notebooks: summary, findings, table head."""
    view = _result_view(
        result, section_id="nb", currency=currency, counter=None, rows=FRAGMENT_ROWS
    )
    main = _table_view(
        "main", result.table, currency=currency, rows=FRAGMENT_ROWS, section_id="", result=result
    )
    template = _environment().get_template("fragment.html.j2")
    return template.render(result=view, table=main)


def card_text(entry: Entry, *, currency: str) -> str:
    """An entry's value in words, with its interval when it is an estimate.

    >>> card_text(Entry(0.25, "share", "Uplift", low=0.1, high=0.4, method="Wilson 95%"),
    ...           currency="USD")
    '25.0% (10.0% to 40.0%, Wilson 95%)'
    """
    text = fmt.format_unit(entry.value, entry.unit, currency=currency)
    if entry.low is None:
        return text
    low = fmt.format_unit(entry.low, entry.unit, currency=currency)
    high = fmt.format_unit(entry.high, entry.unit, currency=currency)
    return f"{text} ({low} to {high}, {entry.method})"


def params_text(result: Result) -> str:
    """What the analysis ran with, in one line: ``period month · by source``."""
    return " · ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in result.params.items() if v is not None
    )


class _Counter:
    """Numbers the page's figures, and knows how the page shows days."""

    def __init__(self, day_zero: date | None = None) -> None:
        self.value = 0
        self.day_zero = day_zero

    def next(self) -> int:
        self.value += 1
        return self.value


def as_day_numbers(frame: pd.DataFrame, day_zero: date | None) -> tuple[pd.DataFrame, set[str]]:
    """Date columns as day numbers (days since ``day_zero``), for day-number data.

    Data given as day numbers are stored as ``day_zero + n``; the page speaks in ``n`` again.
    A column qualifies when every value is a date or a midnight timestamp. Returns the frame
    and the names of the columns converted.

    >>> f = pd.DataFrame({"cohort": [date(2023, 1, 1), date(2023, 2, 1)], "n": [1, 2]})
    >>> out, done = as_day_numbers(f, date(2023, 1, 1))
    >>> out["cohort"].tolist(), done
    ([0, 31], {'cohort'})
    """
    if day_zero is None or frame.empty:
        return frame, set()
    out = frame.copy()
    zero = pd.Timestamp(day_zero)
    done: set[str] = set()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = values
        elif values.dtype == object and values.map(lambda v: isinstance(v, date)).all():
            stamps = pd.to_datetime(values)
        else:
            continue
        if (stamps.dropna() == stamps.dropna().dt.normalize()).all():
            out[column] = ((stamps - zero) / pd.Timedelta(days=1)).astype("Int64")
            done.add(str(column))
    return out, done


def _day_columns(frame: pd.DataFrame, day_zero: date | None) -> pd.DataFrame:
    """A table with its date columns as day numbers, headed ``… (day)``."""
    out, converted = as_day_numbers(frame, day_zero)
    return out.rename(columns={c: f"{c} (day)" for c in converted})


def _days_spec(spec: FigureSpec, converted: set[str]) -> FigureSpec:
    """A chart's axis titles saying that a converted column now holds day numbers."""
    if not converted:
        return spec
    labels = dict(spec.labels)
    for column in (spec.x, spec.y, spec.color, spec.z):
        if column in converted:
            name = labels.get(column, fmt.label(column))
            labels[column] = f"{name} (first day, as a day number)"
    return replace(spec, labels=labels)


def _section_view(section: Section, *, currency: str, counter: _Counter) -> SectionView:
    return SectionView(
        id=section.id,
        title=section.title,
        intro=section.intro,
        results=tuple(
            _result_view(
                r, section_id=section.id, currency=currency, counter=counter, rows=TABLE_ROWS
            )
            for r in section.results
        ),
        skipped=section.skipped,
    )


def _result_view(
    result: Result, *, section_id: str, currency: str, counter: _Counter | None, rows: int
) -> ResultView:
    cards = tuple(
        (entry.label, card_text(entry, currency=currency), k) for k, entry in result.summary.items()
    )
    figures: list[FigureView] = []
    if counter is not None:
        for spec in result.figures:
            number = counter.next()
            frame, converted = as_day_numbers(result.frame(spec.table), counter.day_zero)
            fig = render(_days_spec(spec, converted), frame)
            # The container gets the figure's height: Plotly's responsive mode sizes the
            # plot to its container, which would otherwise collapse on the first resize.
            height = int(fig.layout.height or 420)
            figures.append(
                FigureView(f"figure-{number}", spec.title, script_json(fig.to_json()), height)
            )
    tables: list[TableView] = []
    if counter is not None:
        # Tables that only feed a chart are shown as the chart (and are in the JSON export);
        # the main table is always shown.
        # Per-unit detail tables are for tracing in the API and the JSON, not for reading.
        charted = {s.table for s in result.figures} | set(result.detail)
        # A table that repeats the main one (e.g. kept under a name for the API) is not
        # shown twice.
        keys = [
            "main",
            *(
                k
                for k in result.tables
                if k not in charted and not result.frame(k).equals(result.table)
            ),
        ]
        tables = [
            _table_view(
                k,
                _day_columns(result.frame(k), counter.day_zero),
                currency=currency,
                rows=rows,
                section_id=section_id,
                result=result,
            )
            for k in keys
        ]
    return ResultView(
        anchor=f"{section_id}-{result.name}",
        title=result.title,
        cards=cards,
        figures=tuple(figures),
        tables=tuple(tables),
        findings=tuple(f.text for f in result.findings),
        notes=result.notes,
        status=result.status_reason if not result.ok else "",
        params=params_text(result),
    )


def _table_view(
    key: str, frame: pd.DataFrame, *, currency: str, rows: int, section_id: str, result: Result
) -> TableView:
    columns = tuple(str(c) for c in frame.columns)
    numeric = tuple(
        bool(pd.api.types.is_numeric_dtype(frame[c])) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    )
    head = frame.head(rows)
    body = tuple(
        tuple(fmt.format_value(c, v, currency=currency) for c, v in zip(columns, row, strict=True))
        for row in head.itertuples(index=False, name=None)
    )
    note = ""
    if len(frame) > rows:
        where = (
            f'sections.{section_id}.tables["{result.name}.{key}"]'
            if section_id
            else f'tables["{key}"]'
        )
        note = (
            f"Showing the first {rows:,} of {len(frame):,} rows; the full table is in the JSON "
            f"export (growthlens report --json) under {where}."
        )
    title = result.title if key == "main" else fmt.label(key.replace(".", " ").replace(" ", "_"))
    return TableView(
        key=key,
        title=title,
        columns=tuple(fmt.label(c) for c in columns),
        names=columns,
        numeric=numeric,
        rows=body,
        note=note,
    )


set_html_renderer(render_result_fragment)
