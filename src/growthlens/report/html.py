r"""Render report sections as ONE self-contained HTML file (and Results as notebook fragments).

Safety: the Jinja environment autoescapes, and no data value is ever marked safe. Bulky
content travels packed: gzip (level 9, ``mtime`` 0 so the same input gives the same file)
then base64, inside ``<script type="application/octet-stream">`` blocks that the browser
never runs. Base64 text is only ``A-Z a-z 0-9 + / =``, so it cannot close the script
element; :func:`packed` checks that before emitting it. Three kinds of packed block:

- Plotly's JavaScript, once (about 1.5 MB packed instead of 4.8 MB);
- every chart's figure JSON and every table's numeric sort keys, in one block
  (``{"figures": {id: figure}, "sort": {table id: [column keys or null]}}``);
- every shown table's full CSV (:func:`csv_bytes`), one block per table, for its download
  button; a CSV above :data:`TABLE_CSV_LIMIT` is not embedded and the page says where the
  full table is.

The page's script unpacks with the browser's ``DecompressionStream("gzip")`` over
``new Blob([bytes]).stream()`` (no fetch, no network request: the file opens offline),
injects Plotly as an inline script element's text, then draws the charts that are visible.
Results sit in closed ``<details>``; a chart is drawn when its details is first opened
(Plotly needs a width, and the page opens fast). A browser without DecompressionStream
shows a sentence saying charts need a current browser; tables, text and the ``data:``
downloads still work. Small JSON blocks ``<script type="application/json" data-figure>``
(escaped by :func:`script_json`: ``<``, ``>``, ``&``, U+2028/U+2029 as ``\u003c``-style
escapes) are drawn too, for figures a template adds outside the packed block.

Printing (``@media print`` and a ``beforeprint`` handler): every details is opened, every
chart drawn at the printable width (:data:`PRINT_WIDTH`) and kept on one page, tables are
unscrolled, navigation and buttons hidden.

Downloads: a table a Result lists in ``downloads`` (e.g. a target list) is embedded as a
CSV file in a ``data:`` link (base64), so the report stays one file. The CSV is written by
pandas (data, no HTML), text cells that a spreadsheet would run as a formula are
neutralised (:func:`csv_bytes`), file names are reduced to safe characters
(:func:`exports`), and a file above :data:`DOWNLOAD_LIMIT` is left out with a sentence
saying so (``growthlens report --exports DIR`` writes it in full).
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import sys
from collections.abc import Iterable
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
from growthlens.text import CURRENCY_SYMBOLS

TABLE_ROWS = 200
"""Rows of a table shown in the report (sortable); every row is in its CSV download."""
SHORT_CELL = 16
"""Cells of a column whose shown values are all this short or shorter never wrap."""
TABLE_CSV_LIMIT = 5_000_000
"""Largest CSV (bytes, before compression) of a shown table embedded for its download."""
PRINT_WIDTH = 680
"""Chart width in CSS pixels when printing: A4 or Letter less 12 mm margins is 703 px or more."""
FRAGMENT_ROWS = 10
DOWNLOAD_LIMIT = 20_000_000
"""Largest CSV (bytes, before base64) embedded in the report as a download."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is read as a formula by spreadsheets (OWASP
"CSV injection"): it is written with a leading apostrophe."""
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass(frozen=True)
class CsvView:
    """A shown table's full CSV: packed for its download button, or the reason it is not.

    ``block`` is the id of the packed script block (empty when not embedded), ``payload``
    the packed text, ``text`` the button label or the sentence saying why there is none.
    """

    block: str
    filename: str
    text: str
    payload: Markup = field(default_factory=Markup)


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
    sort_keys: tuple[tuple[float | None, ...] | None, ...] = ()
    """Per column, the numbers of the shown rows (``None`` for a missing value), or
    ``None`` for a text column: the browser sorts numeric columns by these (they travel
    in the packed data block, keyed by ``id``)."""
    short: tuple[bool, ...] = ()
    """Per column, whether every shown cell is short (at most :data:`SHORT_CELL` characters):
    such cells do not wrap (a date split at its hyphens reads badly on a phone)."""
    result: str = ""
    id: str = ""
    """Element id of the table; set for report tables (sortable, with a CSV button)."""
    csv: CsvView | None = None


@dataclass(frozen=True)
class CardView:
    """One summary card: the value in short, its interval on a line of its own.

    ``exact`` is the value in full (shown on hover) when ``value`` is abbreviated.
    """

    label: str
    value: str
    interval: str
    key: str
    exact: str = ""


@dataclass(frozen=True)
class Export:
    """A table offered as a file: the Result and table key, and its file name."""

    result: Result
    key: str
    filename: str

    @property
    def frame(self) -> pd.DataFrame:
        """The table itself."""
        return self.result.frame(self.key)


@dataclass(frozen=True)
class DownloadView:
    """A CSV download link, or the sentence saying why the file is not embedded."""

    text: str
    filename: str = ""
    href: str = ""


@dataclass(frozen=True)
class FigureView:
    """One chart: the container id, its Plotly figure JSON (packed by :func:`render_html`)."""

    element_id: str
    title: str
    payload: str
    height: int


@dataclass(frozen=True)
class ResultView:
    """One Result laid out: cards, charts, tables, findings, notes."""

    anchor: str
    title: str
    cards: tuple[CardView, ...]
    figures: tuple[FigureView, ...]
    tables: tuple[TableView, ...]
    findings: tuple[str, ...]
    notes: tuple[str, ...]
    status: str = ""
    params: str = ""
    downloads: tuple[DownloadView, ...] = ()
    severity: str = "info"
    """The severity of the Result's first finding, shown in its folded line."""


@dataclass(frozen=True)
class KeyFinding:
    """A finding shown at the top of its section, linking to its result."""

    text: str
    severity: str
    anchor: str
    title: str


@dataclass(frozen=True)
class SectionView:
    """One section laid out."""

    id: str
    title: str
    intro: str
    results: tuple[ResultView, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)
    key_findings: tuple[KeyFinding, ...] = ()


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


def packed(data: bytes) -> Markup:
    """``data`` gzip-compressed (level 9, no timestamp) and base64-encoded, for a script block.

    The result holds only base64 characters, checked here, so it cannot end the script
    element it sits in.

    >>> text = str(packed(b"growthlens"))
    >>> gzip.decompress(base64.b64decode(text))
    b'growthlens'
    """
    text = base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")
    if not _BASE64.fullmatch(text):  # cannot happen with b64encode; the safety rests on it
        raise RuntimeError("packed text is not plain base64; refusing to emit it")
    # Only base64 characters (checked above): safe to emit unescaped in a script block.
    return Markup(text)


@cache
def _plotly_packed() -> Markup:
    """Plotly's bundle, packed once per process (compressing 4.8 MB takes a moment)."""
    from plotly.offline import get_plotlyjs

    return packed(str(get_plotlyjs()).encode("utf-8"))


def _cells(tables: Iterable[TableView], which: str) -> str:
    """CSS selectors of the report tables' ``numeric`` or ``short`` cells, for a page rule.

    One rule for the page rather than a class on every cell keeps long tables small.

    >>> _cells([TableView("main", "T", ("a", "b"), ("a", "b"), (False, True), (),
    ...         id="table-1")], "numeric")
    '#table-1 td:nth-child(2)'
    """
    return ",".join(
        f"#{t.id} td:nth-child({n + 1})"
        for t in tables
        if t.id
        for n, flag in enumerate(getattr(t, which))
        if flag
    )


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
    summary: object | None = None,
) -> str:
    """The whole report as one HTML document (packing and scripts: the module docstring).

    Args:
        sections: the sections, in order.
        title: report title (shown escaped).
        header: label → value lines under the title (dataset, window, backend, …).
        currency: currency for money values.
        generated_at: generation time shown in the header.
        left_out: why each report group missing from this report is missing.
        day_zero: with day-number data, the date of day 0: dates in tables and charts are
            shown as day numbers.
        summary: the executive summary, handed to ``summary.html.j2`` as ``summary``; the
            block is left out when ``None``.
    """
    counter = _Counter(day_zero)
    files = exports(r for s in sections for r in s.results)
    views = tuple(
        _section_view(s, currency=currency, counter=counter, files=files) for s in sections
    )
    figures = [f for v in views for r in v.results for f in r.figures]
    tables = [t for v in views for r in v.results for t in r.tables]
    # One JSON object; the figure JSON comes from Plotly as is.
    blob = (
        '{"figures":{'
        + ",".join(f"{json.dumps(f.element_id)}:{f.payload}" for f in figures)
        + '},"sort":'
        + json.dumps({t.id: t.sort_keys for t in tables if t.id}, allow_nan=False)
        + "}"
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        header=header,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M"),
        sections=views,
        left_out=left_out,
        css=_css(),
        plotly_packed=_plotly_packed(),
        data_packed=packed(blob.encode("utf-8")),
        numeric_cells=_cells(tables, "numeric"),
        short_cells=_cells(tables, "short"),
        summary=summary,
        print_width=PRINT_WIDTH,
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


def csv_bytes(frame: pd.DataFrame) -> bytes:
    r"""A table as UTF-8 CSV (pandas ``to_csv``, no index, CRLF rows), safe in a spreadsheet.

    Text cells (and column names) starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return get a leading ``'`` so that Excel, LibreOffice or Google Sheets show
    them as text instead of running them as formulas. Numbers are written as numbers (a
    negative number is not a formula).

    >>> frame = pd.DataFrame({"user_id": ["=cmd()", "a-b"], "uplift": [-0.5, 0.25]})
    >>> csv_bytes(frame).decode()
    "user_id,uplift\r\n'=cmd(),-0.5\r\na-b,0.25\r\n"
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            out[column] = values.astype("object").map(_neutral)
    out.columns = [_neutral(str(c)) for c in out.columns]
    # CRLF rows (RFC 4180): a cell holding a bare carriage return is then quoted too.
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _neutral(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def exports(results: Iterable[Result]) -> tuple[Export, ...]:
    """Every table the ``results`` mark as downloads, each with a file name of its own.

    The name is the table's key reduced to letters, digits, ``.``, ``_`` and ``-`` (at most
    80 characters) plus ``.csv``: ``target_list.csv``. When two tables would share a name,
    the later ones are prefixed with their analysis (``propensity-target_list.csv``) and,
    if still taken, numbered (``-2``).

    >>> r = Result("propensity", "P", pd.DataFrame(), tables={"../x y": pd.DataFrame()},
    ...            downloads=("../x y",))
    >>> [e.filename for e in exports([r, r])]
    ['x_y.csv', 'propensity-x_y.csv']

    Raises:
        KeyError: a Result lists a download that is not one of its tables.
    """
    out: list[Export] = []
    taken: set[str] = set()
    for result in results:
        for key in result.downloads:
            result.frame(key)  # a download must name a table
            stem = _safe_name(key)
            name = f"{stem}.csv"
            if name.lower() in taken:
                name = f"{_safe_name(result.name)}-{stem}.csv"
            number = 2
            while name.lower() in taken:
                name = f"{_safe_name(result.name)}-{stem}-{number}.csv"
                number += 1
            taken.add(name.lower())
            out.append(Export(result, key, name))
    return tuple(out)


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:80]
    return name or "table"


def _download(export: Export) -> DownloadView:
    data = csv_bytes(export.frame)
    rows = len(export.frame)
    what = fmt.label(export.key).lower()
    size = _megabytes(len(data))
    if len(data) > DOWNLOAD_LIMIT:
        return DownloadView(
            f"The {what} ({rows:,} rows, {size} as CSV) is too large to embed in this report "
            f"(limit {_megabytes(DOWNLOAD_LIMIT)}); write it with growthlens report --exports "
            f"DIR (file {export.filename})."
        )
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    return DownloadView(
        f"Download the {what} as CSV ({rows:,} rows, {size})", export.filename, href
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.1f} kB"


def card_view(key: str, entry: Entry, *, currency: str) -> CardView:
    """A summary entry as a card: a short value, and the interval on its own line.

    Money and plain numbers from a million on are abbreviated (``363M RUB``, the full value
    on hover), so that a card stays on one line; the interval names its method.

    >>> card = card_view("total", Entry(363_012_345.0, "money", "Total", low=351e6,
    ...                  high=375e6, method="bootstrap 95%"), currency="RUB")
    >>> card.value, card.interval, card.exact
    ('363M RUB', '351M to 375M RUB (bootstrap 95%)', '363,012,345 RUB')
    >>> card_view("u", Entry(0.25, "share", "Uplift", low=0.1, high=0.4,
    ...           method="Wilson 95%"), currency="USD").interval
    '10.0% to 40.0% (Wilson 95%)'
    """
    exact = fmt.format_unit(entry.value, entry.unit, currency=currency)
    value = short_value(entry.value, entry.unit, currency) or exact
    interval = ""
    if entry.low is not None and entry.high is not None:
        low, high = short_value(entry.low, entry.unit, ""), short_value(entry.high, entry.unit, "")
        if entry.unit == "money" and low and high:
            span = _with_currency(f"{low} to {high}", currency)
        else:
            span = (
                f"{fmt.format_unit(entry.low, entry.unit, currency=currency)} to "
                f"{fmt.format_unit(entry.high, entry.unit, currency=currency)}"
            )
        interval = f"{span} ({entry.method})"
    return CardView(entry.label, value, interval, key, exact if value != exact else "")


def short_value(value: object, unit: str, currency: str) -> str:
    """``363M`` (with ``currency`` when given) for money and numbers from a million on.

    Three significant digits (``1.23M``, ``12.3M``, ``363M``); empty when the value is
    not abbreviated.
    """
    if unit not in ("money", "number") or isinstance(value, bool):
        return ""
    if not isinstance(value, int | float) or not math.isfinite(value) or abs(value) < 1e6:
        return ""
    size = abs(float(value))
    scales = ((1e6, "M"), (1e9, "B"), (1e12, "T"))
    index = sum(size >= scale for scale, _ in scales[1:])
    digits = f"{size / scales[index][0]:.3g}"
    if float(digits) >= 1000 and index < len(scales) - 1:  # 999.96M rounds up: 1B
        index += 1
        digits = f"{size / scales[index][0]:.3g}"
    if "e" in digits:  # a thousand trillion and more
        digits = f"{size / scales[index][0]:,.0f}"
    text = ("−" if float(value) < 0 else "") + digits + scales[index][1]
    return _with_currency(text, currency) if unit == "money" and currency else text


def _with_currency(text: str, currency: str) -> str:
    """``351M to 375M`` → ``351M to 375M RUB``, or ``$351M to $375M`` for a symbol."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    if symbol is None:
        return f"{text} {currency}"
    return re.sub(r"(−?)(\d[\d.,]*)", lambda m: f"{m[1]}{symbol}{m[2]}", text)


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
    """What the analysis ran with, in one line: ``period month · by source, device``.

    Lists are written as their items joined by commas; empty lists and ``None`` are left out.
    """
    parts = []
    for key, value in result.params.items():
        if isinstance(value, list | tuple):
            if not value:
                continue
            value = ", ".join(str(v) for v in value)
        if value is not None:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return " · ".join(parts)


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


_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
KEY_FINDINGS = 3
"""Findings shown at the top of a section, before its folded results."""


def key_findings(section: Section, *, limit: int = KEY_FINDINGS) -> tuple[KeyFinding, ...]:
    """The findings a section opens with: errors, then warnings, then facts.

    Within a severity the order is the section's (results in order, each result's findings
    in its own order, which puts its headline first). At most ``limit``.

    >>> from growthlens.result import Finding
    >>> a = Result("a", "A", pd.DataFrame(), findings=(Finding("x", "fact a"),))
    >>> b = Result("b", "B", pd.DataFrame(), findings=(Finding("y", "fact b"),
    ...            Finding("z", "look at b", "warning")))
    >>> [f.text for f in key_findings(Section("s", "S", (a, b)), limit=2)]
    ['look at b', 'fact a']
    """
    found = [
        (
            _SEVERITY_RANK.get(f.severity, 2),
            n,
            KeyFinding(f.text, f.severity, _anchor(section.id, r), r.title),
        )
        for n, (r, f) in enumerate((r, f) for r in section.results for f in r.findings)
    ]
    return tuple(k for _, _, k in sorted(found, key=lambda item: item[:2])[:limit])


def _anchor(section_id: str, result: Result) -> str:
    return f"{section_id}-{result.name}"


def _section_view(
    section: Section, *, currency: str, counter: _Counter, files: tuple[Export, ...] = ()
) -> SectionView:
    return SectionView(
        id=section.id,
        title=section.title,
        intro=section.intro,
        results=tuple(
            _result_view(
                r,
                section_id=section.id,
                currency=currency,
                counter=counter,
                rows=TABLE_ROWS,
                downloads=tuple(_download(f) for f in files if f.result is r),
                files=files,
            )
            for r in section.results
        ),
        skipped=section.skipped,
        key_findings=key_findings(section),
    )


def _result_view(
    result: Result,
    *,
    section_id: str,
    currency: str,
    counter: _Counter | None,
    rows: int,
    downloads: tuple[DownloadView, ...] = (),
    files: tuple[Export, ...] = (),
) -> ResultView:
    cards = tuple(card_view(k, e, currency=currency) for k, e in result.summary.items())
    figures: list[FigureView] = []
    if counter is not None:
        for spec in result.figures:
            number = counter.next()
            frame, converted = as_day_numbers(result.frame(spec.table), counter.day_zero)
            fig = render(_days_spec(spec, converted), frame)
            # The container gets the figure's height: Plotly's responsive mode sizes the
            # plot to its container, which would otherwise collapse on the first resize.
            height = int(fig.layout.height or 420)
            figures.append(FigureView(f"figure-{number}", spec.title, fig.to_json(), height))
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
        exported = {f.key: f for f in files if f.result is result}
        tables = [
            _table_view(
                k,
                _day_columns(result.frame(k), counter.day_zero),
                currency=currency,
                rows=rows,
                section_id=section_id,
                result=result,
                table_id=f"table-{counter.next()}",
                export=exported.get(k),
            )
            for k in keys
        ]
    return ResultView(
        anchor=_anchor(section_id, result),
        title=result.title,
        cards=cards,
        figures=tuple(figures),
        tables=tuple(tables),
        findings=tuple(f.text for f in result.findings),
        notes=result.notes,
        status=result.status_reason if not result.ok else "",
        params=params_text(result),
        downloads=downloads,
        severity=result.findings[0].severity if result.findings else "info",
    )


def _table_view(
    key: str,
    frame: pd.DataFrame,
    *,
    currency: str,
    rows: int,
    section_id: str,
    result: Result,
    table_id: str = "",
    export: Export | None = None,
) -> TableView:
    """A table for the page: its first ``rows`` rows formatted, with sort keys.

    With a ``table_id`` its full CSV is packed for the download button.
    """
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
    sort_keys = tuple(
        tuple(_sort_key(v) for v in head[c]) if n else None
        for c, n in zip(frame.columns, numeric, strict=True)
    )
    where = (
        f'sections.{section_id}.tables["{result.name}.{key}"]' if section_id else f'tables["{key}"]'
    )
    block = f"{table_id}-csv" if table_id else ""
    csv = _csv_view(frame, key=key, result=result, block=block, where=where, export=export)
    note = ""
    if len(frame) > rows:
        full = (
            "the download has every row"
            if csv is not None and csv.block
            else f"the full table is in the JSON export (growthlens report --json) under {where}"
        )
        note = f"Showing the first {rows:,} of {len(frame):,} rows; {full}."
    title = result.title if key == "main" else fmt.label(key.replace(".", " ").replace(" ", "_"))
    return TableView(
        key=key,
        title=title,
        columns=tuple(fmt.label(c) for c in columns),
        names=columns,
        numeric=numeric,
        rows=body,
        note=note,
        sort_keys=sort_keys if table_id else (),
        short=tuple(
            all(len(row[n]) <= SHORT_CELL for row in body) and not numeric[n]
            for n in range(len(columns))
        ),
        result=result.name,
        id=table_id,
        csv=csv,
    )


def _sort_key(value: object) -> float | None:
    """A numeric cell's sort key for the browser; ``None`` when missing (sorted last)."""
    if value is None or value is pd.NA or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    if math.isinf(number):  # JSON has no infinity: the largest float sorts the same
        return math.copysign(sys.float_info.max, number)
    # Ten significant digits order any two cells that differ in what a reader can see.
    return float(f"{number:.10g}")


def _csv_view(
    frame: pd.DataFrame,
    *,
    key: str,
    result: Result,
    block: str,
    where: str,
    export: Export | None,
) -> CsvView | None:
    """The table's full CSV packed for its button, or the sentence saying where it is."""
    if not block:
        return None
    filename = (
        export.filename
        if export is not None
        else f"{_safe_name(result.name)}-{_safe_name(key)}.csv"
    )
    data = csv_bytes(frame)
    size = _megabytes(len(data))
    if len(data) > TABLE_CSV_LIMIT:
        where_full = (
            f"growthlens report --exports DIR writes it (file {filename})"
            if export is not None
            else f"the JSON export (growthlens report --json) has it under {where}"
        )
        return CsvView(
            "",
            filename,
            f"The full table ({len(frame):,} rows, {size} as CSV) is too large to embed as a "
            f"download (limit {_megabytes(TABLE_CSV_LIMIT)}); {where_full}.",
        )
    return CsvView(block, filename, f"CSV ({len(frame):,} rows, {size})", packed(data))


set_html_renderer(render_result_fragment)
