"""The ``growthlens`` command line: ``report``, ``check`` and ``demo``.

Exit codes (one place, :func:`main`, maps errors to them):

* 0 — success;
* 1 — ``check`` found problems above the threshold;
* 2 — usage error or bad input (:class:`~growthlens.errors.GrowthlensError`: a missing
  file or column, a bad config), printed in red without a traceback;
* 3 — an unexpected error (a bug); ``--debug`` shows the traceback.

``--debug`` re-raises every error with its traceback.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from growthlens.data.tables import TABLES
from growthlens.errors import GrowthlensError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

app = typer.Typer(
    name="growthlens",
    help="Marketing and product analytics on your own data: one self-contained HTML report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class FailOn(StrEnum):
    """Severity from which ``check`` exits 1."""

    error = "error"
    warning = "warning"
    info = "info"
    none = "none"


class DemoCase(StrEnum):
    """Which generated dataset ``--demo`` and ``demo`` use (docs/demo.md)."""

    main = "main"
    shop = "shop"
    challenge = "challenge"


class FileFormat(StrEnum):
    """File format of ``demo``."""

    csv = "csv"
    parquet = "parquet"


class ReportFormat(StrEnum):
    """File format of ``report``."""

    html = "html"
    json = "json"
    xlsx = "xlsx"


class PeriodChoice(StrEnum):
    """Cohort period of ``report --period``."""

    day = "day"
    week = "week"
    month = "month"


class _State:
    debug = False


def _stderr() -> Console:
    # Text from the data is printed as it is: no emoji codes (":x:"), no highlighting.
    return Console(stderr=True, highlight=False, emoji=False)


def _stdout() -> Console:
    return Console(highlight=False, emoji=False)


def _files(*names: str, help: str) -> Any:
    # A file, a folder of parts or a glob (docs/data.md, "Many files, folders and
    # partitions"): gl.load checks it and names a missing path with the files nearby (exit 2).
    return typer.Option(*names, exists=False, dir_okay=True, show_default=False, help=help)


def parse_margin(text: str) -> float:
    """``--margin``: a share of revenue in (0, 1], as ``0.35`` or ``35%``.

    >>> parse_margin("0.35"), parse_margin("35%"), parse_margin(" 37.5 % ")
    (0.35, 0.35, 0.375)
    """
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%").strip())
    except ValueError:
        value = float("nan")
    if percent:
        value /= 100
    if not 0 < value <= 1:  # also refuses NaN
        hint = f" (did you mean {raw}%?)" if not percent and 1 < value <= 100 else ""
        raise typer.BadParameter(
            f"expected a share of revenue in (0, 1], e.g. 0.35 or 35%; got {text!r}{hint}"
        )
    return value


def parse_currency(text: str) -> str:
    """``--currency``: a three-letter currency code, upper-cased (``rub`` → ``RUB``)."""
    code = text.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise typer.BadParameter(
            f"expected a three-letter currency code such as USD, EUR or RUB; got {text!r}"
        )
    return code


def parse_horizon(text: str) -> int:
    """``--horizon``: a whole number of periods from 1 to 120 (the setting's range)."""
    raw = text.strip()
    if not (raw.isdigit() and 1 <= int(raw) <= 120):
        raise typer.BadParameter(
            f"expected a whole number of periods from 1 to 120, e.g. 6; got {text!r}"
        )
    return int(raw)


def parse_day(text: str) -> int | date:
    """One end of ``--window``: a date (``2017-06-01``) or a day number (``5``).

    >>> parse_day("2017-06-01"), parse_day("5")
    (datetime.date(2017, 6, 1), 5)
    """
    raw = text.strip()
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(
            f"expected two dates (2017-06-01 2017-12-31) or two day numbers (5 16), "
            f"first and last; got {text!r}",
            param_hint="'--window'",
        ) from None


def parse_window(pair: tuple[str, str] | None) -> tuple[int, int] | tuple[date, date] | None:
    """``--window FIRST LAST``: two dates or two day numbers, first not after last."""
    if pair is None:
        return None
    first, last = parse_day(pair[0]), parse_day(pair[1])
    if isinstance(first, int) != isinstance(last, int):
        raise typer.BadParameter(
            f"expected two dates or two day numbers, not one of each; got {pair[0]!r} "
            f"and {pair[1]!r}",
            param_hint="'--window'",
        )
    if first > last:  # type: ignore[operator]
        raise typer.BadParameter(
            f"the window starts after it ends: {pair[0]} > {pair[1]}; expected FIRST LAST",
            param_hint="'--window'",
        )
    return (first, last)  # type: ignore[return-value]


def parse_sections(text: str) -> str:
    """``--sections``: comma-separated report groups or analyses, checked against the registry.

    Returns the text (the command resolves it); an unknown name lists the choices.
    """
    from growthlens.errors import ConfigError
    from growthlens.report.build import selection

    try:
        selection(text.split(","))
    except ConfigError as exc:
        raise typer.BadParameter(str(exc).removeprefix("sections: ")) from None
    return text


# Extra spellings of a table option that users of the old CLI know.
_ALIASES = {"sessions": ("--visits",)}
Command = TypeVar("Command", bound=Callable[..., None])
TableFiles = Mapping[str, Sequence[Path] | None]


def with_table_options(command: Command) -> Command:
    """Give ``command`` one repeatable file option per canonical table (``--orders`` …).

    The options are derived from the table declarations (growthlens.data.tables), so a
    new table is a new option with no change here; the command receives them together
    as ``tables`` (table name → files or ``None``).
    """
    signature = inspect.signature(command, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "tables"]
    at = next(i for i, p in enumerate(params) if p.name == "config") + 1
    options = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                list[Path] | None,
                _files(
                    model.option,
                    *_ALIASES.get(name, ()),
                    help=f"{model.row.capitalize()} file; repeat to union several. "
                    f"{model.description}",
                ),
            ],
        )
        for name, model in TABLES.items()
    ]
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]

    @functools.wraps(command)
    def run(**values: Any) -> None:
        tables = {name: values.pop(name) for name in TABLES}
        command(tables=tables, **values)

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*keyword[:at], *options, *keyword[at:]]
    )
    run.__annotations__ = {p.name: p.annotation for p in run.__signature__.parameters.values()}  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        exists=True,
        readable=True,
        help="A growthlens.toml file, or a data file or folder whose layout a preset "
        "recognises (docs/events.md).",
    ),
]
SourceArgument = Annotated[
    Path | None,
    typer.Argument(
        exists=True,
        readable=True,
        show_default=False,
        help="A database (plain or zipped), data file or folder whose layout a preset "
        "recognises, or a growthlens.toml: the same as --config.",
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="duckdb (default); pyspark (the local Spark); a Spark master URL "
        "(local[8], spark://host:7077, yarn, k8s://…); or an Ibis URL.",
    ),
]
SparkConfOption = Annotated[
    list[str] | None,
    typer.Option(
        "--spark-conf",
        metavar="KEY=VALUE",
        help="A Spark setting for a Spark --backend (repeatable), e.g. "
        "spark.executor.memory=8g; spark.driver.memory and spark.app.name set the session's "
        "driver memory and name.",
    ),
]
DemoOption = Annotated[
    bool, typer.Option("--demo", help="Use generated demo data instead of files.")
]
UsersOption = Annotated[int, typer.Option("--users", min=100, help="Demo: number of users.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Demo: random seed.")]
MonthsOption = Annotated[int, typer.Option("--months", min=2, help="Demo: months of data.")]
CaseOption = Annotated[
    DemoCase,
    typer.Option(
        "--case",
        help="Demo: 'main' (sales, events, journeys), 'shop' (the sporting-goods shop: "
        "an email A/B test, a city campaign and planted customers; --users is its "
        "customers) or 'challenge' (issue 15's Company X database, zipped; --users is its "
        "conversions).",
    ),
]


@app.command()
@with_table_options
def report(
    source: SourceArgument = None,
    demo: DemoOption = False,
    config: ConfigOption = None,
    tables: TableFiles | None = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="File to write [default: report.html, report.json or report.xlsx].",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="html (interactive, self-contained), json (every number) or xlsx (an Excel "
            "workbook, one sheet per table).",
        ),
    ] = ReportFormat.html,
    json_too: Annotated[
        bool, typer.Option("--json", help="Also write the JSON export next to the report.")
    ] = False,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            parser=parse_margin,
            metavar="SHARE",
            help="Gross margin: the share of revenue that is profit, 0.35 or 35% "
            "(LTV, ROMI, payback and the budget use revenue × margin). Default: the "
            "config's, else 100%.",
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            parser=parse_currency,
            metavar="CODE",
            help="Currency code of the money columns, e.g. RUB (labels only; no conversion).",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            parser=parse_horizon,
            metavar="N",
            help="N of the N-period LTV, ROMI and payback figures, in --period units "
            "(default: the config's, else 6).",
        ),
    ] = None,
    period: Annotated[
        PeriodChoice | None,
        typer.Option(
            "--period", help="Cohort and trend period (default: the config's, else month)."
        ),
    ] = None,
    window: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--window",
            metavar="FIRST LAST",
            help="Data window every analysis uses: two dates (2017-06-01 2017-12-31) or "
            "two day numbers (with day_zero); rows outside are excluded and counted in "
            "data quality. Not with --demo (use --months).",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--sections",
            parser=parse_sections,
            metavar="NAMES",
            help="Only these report groups or analyses, comma-separated, e.g. "
            "sales,marketing or ltv,romi.",
        ),
    ] = None,
    open_it: Annotated[
        bool, typer.Option("--open", help="Open the written report with the default browser.")
    ] = False,
    exports_dir: Annotated[
        Path | None,
        typer.Option(
            "--exports",
            file_okay=False,
            help="Also write every table the report offers as a download (e.g. the "
            "campaign's target list, target_list.csv) as a CSV file into this folder "
            "(created); the HTML embeds them only up to 20 MB each.",
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    users: UsersOption = 30_000,
    seed: SeedOption = 0,
    months: MonthsOption = 12,
    case: CaseOption = DemoCase.main,
    backend: BackendOption = None,
    spark_conf: SparkConfOption = None,
    debug: DebugOption = False,
) -> None:
    """Build the report (HTML, JSON or Excel) from your data or the demo.

    --margin, --currency, --horizon, --period and --window override the config's
    settings; the report header states each with where it came from.
    """
    _State.debug = debug
    from growthlens.report.build import check_output, sections, selection, steps, write

    output = output or Path(f"report.{format.value}")
    check_output(output)  # before the work, not after it
    if exports_dir is not None:
        _check_folder(exports_dir)
    chosen = selection(only.split(",")) if only is not None else None
    settings: dict[str, Any] = {
        "margin": margin,
        "currency": currency,
        "horizon": horizon,
        "period": period.value if period is not None else None,
        "window": parse_window(window),
    }
    settings = {k: v for k, v in settings.items() if v is not None}
    if demo and "window" in settings:
        raise typer.BadParameter(
            "--window applies to loaded data; the demo's window is set by --months "
            "(from 2017-06-01)",
            param_hint="'--window'",
        )
    origins = {name: f"--{name}" for name in settings}
    if chosen is not None:
        origins["sections"] = "--sections"
    ds = _dataset(
        demo=demo,
        config=_one_config(source, config),
        tables=tables or {},
        users=users,
        seed=seed,
        months=months,
        case=case,
        backend=spark_backend(backend, spark_conf),
        settings=settings,
    )
    also_json = json_too and format is not ReportFormat.json
    with _progress() as bar:
        task = bar.add_task("Running analyses", total=steps() + 1 + also_json)
        limit = {} if chosen is None else {"only": chosen}
        built = sections(
            ds, progress=lambda name: _advance(bar, task, f"Analysis: {name}"), **limit
        )
        _advance(bar, task, f"Writing {format.value.upper()}")
        main_path = write(
            ds, built, output, format=format.value, title=title, only=chosen, origins=origins
        )
        json_path = None
        if also_json:
            _advance(bar, task, "Writing JSON")
            json_path = write(
                ds,
                built,
                output.with_suffix(".json"),
                format="json",
                title=title,
                only=chosen,
                origins=origins,
            )
    out = _stdout()
    findings = len(ds.quality.findings)
    out.print(
        f"[bold green]Wrote[/] {_escape(str(main_path))} "
        f"({_size(main_path)}; {len(built)} sections, "
        f"{findings} data-quality finding{'s' * (findings != 1)}).",
        soft_wrap=True,
    )
    if json_path is not None:
        out.print(
            f"[bold green]Wrote[/] {_escape(str(json_path))} ({_size(json_path)}).", soft_wrap=True
        )
    if exports_dir is not None:
        _write_exports(built, exports_dir, out)
    if open_it:
        import webbrowser

        webbrowser.open(main_path.resolve().as_uri())
    elif format is ReportFormat.html:
        out.print("Open the HTML file in any browser; it needs no network connection.")


def _check_folder(folder: Path) -> None:
    """Refuse an exports folder that cannot be one (a file in the way), before any work."""
    from growthlens.errors import DataError

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DataError(
            f"cannot write the exports to {folder}: {existing} is a file, not a folder",
            expected="a folder path (created if missing)",
            fix="choose another --exports folder",
        )


def _write_exports(built: Any, folder: Path, out: Console) -> list[Path]:
    """Write each downloadable table of the report as ``<folder>/<name>.csv``; print the paths.

    The same CSV as the report's download link (growthlens.report.html.csv_bytes: written
    by pandas, formula-like text neutralised), without the report's size limit.
    """
    from growthlens.errors import DataError
    from growthlens.report.html import csv_bytes, exports

    files = exports(r for section in built for r in section.results)
    if not files:
        out.print(
            f"No table of this report is offered as a download; nothing written to "
            f"{_escape(str(folder))}.",
            soft_wrap=True,
        )
        return []
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for item in files:
            path = folder / item.filename
            path.write_bytes(csv_bytes(item.frame))
            written.append(path)
            out.print(
                f"[bold green]Wrote[/] {_escape(str(path))} ({_size(path)}; "
                f"{len(item.frame):,} rows of {_escape(item.result.title)}).",
                soft_wrap=True,
            )
    except OSError as exc:
        raise DataError(
            f"cannot write the exports to {folder}: {exc.strerror or type(exc).__name__}",
            expected="a folder you can write to",
            fix="choose another --exports folder",
        ) from exc
    return written


@app.command()
@with_table_options
def check(
    source: SourceArgument = None,
    demo: DemoOption = False,
    config: ConfigOption = None,
    tables: TableFiles | None = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding of this severity or worse exists (severities follow "
            "the share of rows and revenue at stake: [settings.severity]).",
        ),
    ] = FailOn.error,
    max_excluded_share: Annotated[
        float | None,
        typer.Option(
            "--max-excluded-share",
            min=0.0,
            max=1.0,
            help="Exit 1 when a table excludes more than this share of its rows (e.g. 0.01).",
        ),
    ] = None,
    users: UsersOption = 30_000,
    seed: SeedOption = 0,
    months: MonthsOption = 12,
    case: CaseOption = DemoCase.main,
    backend: BackendOption = None,
    spark_conf: SparkConfOption = None,
    debug: DebugOption = False,
) -> None:
    """Check data quality only: print the load's findings; exit 1 when they pass a threshold."""
    _State.debug = debug
    from growthlens.analyses.quality import quality

    ds = _dataset(
        demo=demo,
        config=_one_config(source, config),
        tables=tables or {},
        users=users,
        seed=seed,
        months=months,
        case=case,
        backend=spark_backend(backend, spark_conf),
    )
    result = quality(ds)
    out = _stdout()
    counts = Table(title="Rows per table", title_justify="left")
    for name in ("Table", "Loaded", "Accepted", "Excluded", "Excluded share"):
        counts.add_column(name, justify="left" if name == "Table" else "right")
    for c in ds.quality.counts:
        share = c.excluded / c.loaded if c.loaded else 0.0
        counts.add_row(c.table, f"{c.loaded:,}", f"{c.accepted:,}", f"{c.excluded:,}", _pct(share))
    out.print(counts)
    if ds.window:
        out.print(f"Data window: {ds.window[0]} – {ds.window[1]} ({ds.quality.window_source})\n")
    findings = Table(title="Findings (worst first)", title_justify="left", show_lines=True)
    findings.add_column("Severity")
    findings.add_column("Table")
    findings.add_column("Check", no_wrap=True)  # names scripts grep for: whole, never cut
    findings.add_column("Rows", justify="right")
    findings.add_column("Share", justify="right")
    findings.add_column("Rev. share", justify="right")
    findings.add_column("What it means", ratio=1)
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    paired = zip(ds.quality.findings, result.findings, strict=False)
    # Worst first; the load's order (by table, then rows) within a severity.
    for finding, sentence in sorted(paired, key=lambda p: -SEVERITY_RANK[p[0].severity]):
        colour = colours.get(finding.severity, "white")
        rows_share, revenue_share = finding.rows_share, finding.revenue_share
        findings.add_row(
            f"[{colour}]{finding.severity}[/]",
            _escape(finding.table),
            _escape(finding.check),
            f"{finding.rows:,}",
            _pct(rows_share) if rows_share is not None else "n/a",
            _pct(revenue_share) if revenue_share is not None else "n/a",
            _escape(sentence.text),  # text from the data must not be read as Rich markup
        )
    if len(result.table):
        out.print(findings)
        # Lines the reader could not take as rows: where they are, so they can be fixed.
        for finding in ds.quality.findings:
            for example in finding.examples:
                if "line" in example:
                    problem = str(example.get("problem", finding.check)).lower()
                    text = f": {example['text']}" if example.get("text") else ""
                    out.print(
                        f"  {example.get('source', finding.table)} line {example['line']}: "
                        f"{problem}{text}",
                        markup=False,
                        soft_wrap=True,
                    )
    else:
        out.print("[green]No findings: every row passed every check.[/]")

    tracked = _print_checks(ds, out)
    failures = []
    if fail_on is not FailOn.none:
        threshold = SEVERITY_RANK[fail_on.value]
        bad = [f for f in ds.quality.findings if SEVERITY_RANK[f.severity] >= threshold]
        bad += [f for f in tracked if SEVERITY_RANK[f.severity] >= threshold]
        if bad:
            failures.append(
                f"{len(bad)} finding{'s' * (len(bad) != 1)} of severity {fail_on.value} or worse"
            )
    if max_excluded_share is not None:
        over = [
            c for c in ds.quality.counts if c.loaded and c.excluded / c.loaded > max_excluded_share
        ]
        failures.extend(
            f"{c.table} excludes {_pct(c.excluded / c.loaded)} of its rows "
            f"(limit {_pct(max_excluded_share)})"
            for c in over
        )
    if failures:
        out.print(f"[bold red]FAIL[/]: {'; '.join(failures)}.", soft_wrap=True)
        raise typer.Exit(EXIT_FINDINGS)
    out.print("[bold green]OK[/]: no finding passes the thresholds.")


CHECKS = ("tracking", "consistency", "reconcile")
"""Analyses whose findings `growthlens check` prints after the load's, when their tables
are loaded: the event log's tracking, the cross-table checks and the reconciliation."""


def _print_checks(ds: Any, out: Console) -> list[Any]:
    """Print the findings of :data:`CHECKS` that apply to ``ds``.

    Returns the findings, so that they count towards --fail-on.
    """
    import growthlens.analyses  # noqa: F401  (registers every analysis)
    from growthlens.analyses.registry import REGISTRY

    found: list[Any] = []
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    results: list[Any] = []
    for name in CHECKS:
        analysis = REGISTRY.get(name)
        if analysis is None or not all(ds.has(t) for t in analysis.needs):
            continue
        results.extend(analysis.run(ds, **options) for options in analysis.plan(ds).runs)
    for result in results:
        if not result.findings:
            continue
        table = Table(title=result.title, title_justify="left", show_lines=True)
        table.add_column("Severity")
        table.add_column("Check")
        table.add_column("What it means", ratio=1)
        for finding in sorted(result.findings, key=lambda f: -SEVERITY_RANK[f.severity]):
            colour = colours.get(finding.severity, "white")
            table.add_row(
                f"[{colour}]{finding.severity}[/]", _escape(finding.code), _escape(finding.text)
            )
        out.print(table)
        found.extend(result.findings)
    return found


@app.command(name="demo")
def demo_files(
    out: Annotated[
        Path, typer.Option("--out", file_okay=False, help="Folder to write into (created).")
    ],
    users: UsersOption = 30_000,
    seed: SeedOption = 0,
    months: MonthsOption = 12,
    format: Annotated[
        FileFormat, typer.Option("--format", help="File format (main case).")
    ] = FileFormat.csv,
    case: CaseOption = DemoCase.main,
    debug: DebugOption = False,
) -> None:
    """Write the demo dataset (visits, orders, costs and the planted truth) as files.

    With ``--case shop``: the shop case's folder (database, profiles CSV, participant
    lists, growthlens.toml, truth.json), ready for ``growthlens report <folder>``; with
    ``--case challenge``: ``challenge.zip``, ready for ``growthlens report challenge.zip``.
    """
    _State.debug = debug
    from growthlens.demo import write_demo

    if case is DemoCase.shop:
        _write_shop_files(out, users=users, seed=seed, months=months, format=format)
        return
    if case is DemoCase.challenge:
        _write_challenge_file(out, users=users, seed=seed, months=months, format=format)
        return
    with _progress() as bar:
        bar.add_task(f"Writing demo data for {users:,} users", total=None)
        files = write_demo(out, users=users, seed=seed, months=months, format=format.value)
    console = _stdout()
    for name, path in files.items():
        console.print(
            f"[bold green]Wrote[/] {name:<7} {_escape(str(path))} ({_size(path)})", soft_wrap=True
        )
    console.print(
        "Next: growthlens report "
        f"--sessions {files['visits']} --orders {files['orders']} --costs {files['costs']}",
        soft_wrap=True,
        markup=False,
    )


def _write_shop_files(out: Path, *, users: int, seed: int, months: int, format: FileFormat) -> None:
    """``demo --case shop``: write the shop folder and say how to report on it."""
    from growthlens.demo.shop import FILES, MIN_CUSTOMERS, write_shop

    if months != 12 or format is not FileFormat.csv:
        raise typer.BadParameter(
            "--months and --format apply to the main demo only; the shop case has fixed "
            "days and files"
        )
    if users < MIN_CUSTOMERS:
        raise typer.BadParameter(
            f"the shop demo needs --users (customers) of at least {MIN_CUSTOMERS:,}; got {users:,}"
        )
    with _progress() as bar:
        bar.add_task(f"Writing the shop case for {users:,} customers", total=None)
        write_shop(out, customers=users, seed=seed)
    console = _stdout()
    for name in FILES.values():
        path = out / name
        console.print(f"[bold green]Wrote[/] {_escape(str(path))} ({_size(path)})", soft_wrap=True)
    console.print(f"Next: growthlens report {out}", soft_wrap=True, markup=False)


def _write_challenge_file(
    out: Path, *, users: int, seed: int, months: int, format: FileFormat
) -> None:
    """``demo --case challenge``: write the zipped Company X database and say how to report."""
    from growthlens.demo.challenge import write_challenge_db
    from growthlens.demo.files import MIN_CONVERSIONS

    if months != 12 or format is not FileFormat.csv:
        raise typer.BadParameter(
            "--months and --format apply to the main demo only; the challenge case is one "
            "zipped SQLite database with a fixed window"
        )
    if users < MIN_CONVERSIONS:
        raise typer.BadParameter(
            f"the challenge demo needs --users (conversions) of at least {MIN_CONVERSIONS:,}; "
            f"got {users:,}"
        )
    path = out / "challenge.zip"
    out.mkdir(parents=True, exist_ok=True)
    with _progress() as bar:
        bar.add_task(f"Writing the Company X database for {users:,} conversions", total=None)
        write_challenge_db(path, seed=seed, conversions=users, zipped=True)
    console = _stdout()
    console.print(f"[bold green]Wrote[/] {_escape(str(path))} ({_size(path)})", soft_wrap=True)
    console.print(f"Next: growthlens report {path}", soft_wrap=True, markup=False)


def spark_backend(backend: str | None, conf: Sequence[str] | None) -> Any:
    """``--backend`` with ``--spark-conf KEY=VALUE`` settings: a SparkOptions, or as given.

    ``spark.driver.memory`` and ``spark.app.name`` become the session's fields; the master
    is ``--backend``'s URL (``pyspark``: ``local[*]``).

    >>> spark_backend("spark://head:7077", ["spark.executor.memory=8g"]).conf
    mappingproxy({'spark.executor.memory': '8g'})
    >>> spark_backend("duckdb", None)
    'duckdb'
    """
    if not conf:
        return backend
    from growthlens.engine import SparkOptions, spark_master

    master = spark_master(backend)
    if master is None:
        raise typer.BadParameter(
            f"--spark-conf needs a Spark --backend (pyspark or a master URL such as "
            f"local[8] or spark://host:7077); got --backend {backend or 'duckdb (default)'}",
            param_hint="'--spark-conf'",
        )
    settings: dict[str, str] = {}
    fields: dict[str, str] = {}
    for item in conf:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise typer.BadParameter(
                f"{item!r} is not KEY=VALUE; e.g. --spark-conf spark.executor.memory=8g",
                param_hint="'--spark-conf'",
            )
        if key == "spark.master":
            raise typer.BadParameter(
                "set the master with --backend (e.g. --backend spark://host:7077), not "
                "--spark-conf spark.master",
                param_hint="'--spark-conf'",
            )
        if key == "spark.driver.memory":
            fields["driver_memory"] = value
        elif key == "spark.app.name":
            fields["app_name"] = value
        else:
            settings[key] = value
    try:
        return SparkOptions(master=master, conf=settings, **fields)
    except GrowthlensError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--spark-conf'") from exc


def _one_config(source: Path | None, config: Path | None) -> Path | None:
    """The data given as the argument or with --config (not both)."""
    if source is not None and config is not None:
        raise typer.BadParameter("give the data as the argument or with --config, not both")
    return source or config


def _dataset(
    *,
    demo: bool,
    config: Path | None,
    tables: TableFiles,
    users: int,
    seed: int,
    months: int,
    case: DemoCase,
    backend: str | None,
    settings: Mapping[str, Any] | None = None,
) -> Any:
    """The Dataset the command works on; ``settings`` override the config's [settings].

    Files and configs are loaded with them (a window then excludes and counts rows as
    the config's would); the demo, loaded by :func:`growthlens.demo`, gets them after its
    load: only settings that the analyses read (not the window, which the load applies).
    """
    settings = dict(settings or {})
    given = {k: [str(p) for p in v] for k, v in tables.items() if v}
    if demo and (config or given):
        raise typer.BadParameter("--demo cannot be combined with --config or table files")
    if not demo and not config and not given:
        options = "/".join(m.option for m in TABLES.values())
        raise typer.BadParameter(
            f"no data: pass --demo, --config growthlens.toml, or table files ({options})"
        )
    if case is not DemoCase.main and not demo:
        raise typer.BadParameter("--case chooses the demo data: use it with --demo")
    if demo:
        from growthlens.demo import demo as make_demo

        with _progress() as bar:
            what = {DemoCase.shop: "the shop case", DemoCase.challenge: "the Company X case"}.get(
                case, "demo data"
            )
            bar.add_task(f"Generating {what} for {users:,} users", total=None)
            ds = make_demo(users=users, seed=seed, months=months, backend=backend, case=case.value)
        return _with_settings(ds, settings) if settings else ds
    import growthlens as gl

    with _progress() as bar:
        task = bar.add_task("Loading", total=None)
        return gl.load(
            str(config) if config else None,
            backend=backend,
            progress=lambda step: bar.update(task, description=f"Loading: {step}"),
            **{name: _one_or_many(given.get(name)) for name in TABLES},  # type: ignore[arg-type]
            **settings,
        )


def _with_settings(ds: Any, settings: Mapping[str, Any]) -> Any:
    """``ds`` with ``settings`` over its own, validated as the config's would be.

    The Dataset's derived tables are filed under its settings, so none built for the
    old settings is reused.
    """
    import dataclasses

    from growthlens.data.config import make_settings

    merged = {**ds.settings.model_dump(exclude_unset=True), **settings}
    return dataclasses.replace(ds, settings=make_settings(**merged))


def _one_or_many(paths: list[str] | None) -> str | list[str] | None:
    # Several files for one table are unioned by gl.load.
    if not paths:
        return None
    return paths[0] if len(paths) == 1 else paths


@contextmanager
def _progress() -> Iterator[Progress]:
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=_stderr(),
        transient=True,
    )
    with bar:
        yield bar


def _advance(bar: Progress, task: Any, description: str) -> None:
    bar.update(task, advance=1, description=description)


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} GB"


def _pct(share: float) -> str:
    from growthlens.text import precise_share

    return precise_share(share)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it).

    Every error is mapped here, in one place: usage errors and growthlens errors → 2 with
    a red message, ``check`` findings → 1, anything unexpected → 3. ``--debug`` re-raises.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _State.debug = "--debug" in args
    err = _stderr()
    try:
        # Standalone mode lets Typer print usage errors itself; it ends with SystemExit(2).
        app(args=args, prog_name="growthlens", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except GrowthlensError as exc:
        if _State.debug:
            raise
        err.print(f"[bold red]Error:[/] [red]{_escape(str(exc))}[/]", soft_wrap=True)
        return EXIT_USAGE
    except Exception as exc:
        if _State.debug:
            raise
        err.print(
            f"[bold red]Unexpected error[/] ({type(exc).__name__}): [red]{_escape(str(exc))}[/]\n"
            "This is a bug in growthlens; rerun with --debug for the traceback and report it.",
            soft_wrap=True,
        )
        return EXIT_BUG
    return EXIT_OK


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
