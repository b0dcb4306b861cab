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


class FileFormat(StrEnum):
    """File format of ``demo``."""

    csv = "csv"
    parquet = "parquet"


class _State:
    debug = False


def _stderr() -> Console:
    # Text from the data is printed as it is: no emoji codes (":x:"), no highlighting.
    return Console(stderr=True, highlight=False, emoji=False)


def _stdout() -> Console:
    return Console(highlight=False, emoji=False)


def _files(*names: str, help: str) -> Any:
    # Existing, readable files; a missing one is a usage error naming the path (exit 2).
    return typer.Option(
        *names, exists=True, dir_okay=False, readable=True, show_default=False, help=help
    )


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
    str | None, typer.Option("--backend", help="duckdb (default), pyspark or an Ibis URL.")
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
        help="Demo: 'main' (sales, events, journeys) or 'shop' (the sporting-goods shop: "
        "an email A/B test and a city campaign; --users is its customers).",
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
        Path, typer.Option("--output", "-o", dir_okay=False, help="HTML file to write.")
    ] = Path("report.html"),
    json_too: Annotated[
        bool, typer.Option("--json", help="Also write the JSON export next to the HTML.")
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
    debug: DebugOption = False,
) -> None:
    """Build the HTML report (and optionally its JSON export) from your data or the demo."""
    _State.debug = debug
    from growthlens.report.build import check_output, sections, steps, write

    check_output(output)  # before the work, not after it
    if exports_dir is not None:
        _check_folder(exports_dir)
    ds = _dataset(
        demo=demo,
        config=_one_config(source, config),
        tables=tables or {},
        users=users,
        seed=seed,
        months=months,
        case=case,
        backend=backend,
    )
    with _progress() as bar:
        task = bar.add_task("Running analyses", total=steps() + 1 + json_too)
        built = sections(ds, progress=lambda name: _advance(bar, task, f"Analysis: {name}"))
        _advance(bar, task, "Writing HTML")
        html_path = write(ds, built, output, format="html", title=title)
        json_path = None
        if json_too:
            _advance(bar, task, "Writing JSON")
            json_path = write(ds, built, output.with_suffix(".json"), format="json", title=title)
    out = _stdout()
    findings = len(ds.quality.findings)
    out.print(
        f"[bold green]Wrote[/] {_escape(str(html_path))} "
        f"({_size(html_path)}; {len(built)} sections, "
        f"{findings} data-quality finding{'s' * (findings != 1)}).",
        soft_wrap=True,
    )
    if json_path is not None:
        out.print(
            f"[bold green]Wrote[/] {_escape(str(json_path))} ({_size(json_path)}).", soft_wrap=True
        )
    if exports_dir is not None:
        _write_exports(built, exports_dir, out)
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
        typer.Option("--fail-on", help="Exit 1 when a finding of this severity or worse exists."),
    ] = FailOn.warning,
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
        backend=backend,
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
    findings = Table(title="Findings", title_justify="left", show_lines=True)
    findings.add_column("Severity")
    findings.add_column("Table")
    findings.add_column("Check")
    findings.add_column("Rows", justify="right")
    findings.add_column("Share", justify="right")
    findings.add_column("What it means", ratio=1)
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    totals = {c.table: c for c in ds.quality.counts}
    for finding, sentence in zip(ds.quality.findings, result.findings, strict=False):
        counts_of = totals.get(finding.table)
        base = (
            (counts_of.loaded if finding.action == "excluded" else counts_of.accepted)
            if counts_of
            else 0
        )
        colour = colours.get(finding.severity, "white")
        findings.add_row(
            f"[{colour}]{finding.severity}[/]",
            _escape(finding.table),
            _escape(finding.check),
            f"{finding.rows:,}",
            _pct(finding.rows / base) if base else "n/a",
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
        for finding in result.findings:
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
    lists, growthlens.toml, truth.json), ready for ``growthlens report <folder>``.
    """
    _State.debug = debug
    from growthlens.demo import write_demo

    if case is DemoCase.shop:
        _write_shop_files(out, users=users, seed=seed, months=months, format=format)
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
) -> Any:
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
            what = "the shop case" if case is DemoCase.shop else "demo data"
            bar.add_task(f"Generating {what} for {users:,} users", total=None)
            return make_demo(
                users=users, seed=seed, months=months, backend=backend, case=case.value
            )
    import growthlens as gl

    with _progress() as bar:
        task = bar.add_task("Loading", total=None)
        return gl.load(
            str(config) if config else None,
            backend=backend,
            progress=lambda step: bar.update(task, description=f"Loading: {step}"),
            **{name: _one_or_many(given.get(name)) for name in TABLES},  # type: ignore[arg-type]
        )


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
