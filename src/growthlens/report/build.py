"""Compose the report: run each section module in order, then write HTML or JSON.

The report computes nothing itself: section modules call the analyses and return
:class:`~growthlens.report.model.Section` objects; this module orders them and hands them
to a renderer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError, DataError, GrowthlensError
from growthlens.report.model import Section
from growthlens.report.sections import SECTIONS

Progress = Callable[[str], None]
ReportFormat = Literal["html", "json"]


def sections(ds: Dataset, progress: Progress | None = None) -> tuple[Section, ...]:
    """Build every section whose data is present, in the order of ``SECTIONS``.

    A section module returns ``None`` when its tables are absent. A section that raises a
    growthlens error (e.g. a table it needs is missing) is kept as a heading whose
    "Not shown" note carries the error message, so nothing disappears without a word.

    Args:
        ds: the loaded Dataset.
        progress: called with the section's module name before it is built.
    """
    built: list[Section] = []
    for name in SECTIONS:
        if progress is not None:
            progress(name)
        module = importlib.import_module(f"growthlens.report.sections.{name}")
        try:
            section = module.build(ds)
        except GrowthlensError as exc:
            section = Section(
                id=name, title=name.replace("_", " ").capitalize(), results=(), skipped=(str(exc),)
            )
        if section is not None:
            built.append(section)
    return tuple(built)


def report(
    ds: Dataset,
    path: str | Path,
    *,
    format: ReportFormat = "html",
    title: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write the report for ``ds`` to ``path``.

    Args:
        ds: the loaded Dataset.
        path: output file.
        format: ``"html"`` (one self-contained file with interactive charts, opens offline)
            or ``"json"`` (every table of every section; shape in docs/report.md).
        title: heading of the report (default ``"growthlens report"``).
        progress: called with a short step name before each section and before writing.

    Returns:
        The path written.

    Raises:
        ConfigError: an unknown ``format``.
    """
    if format not in ("html", "json"):
        raise ConfigError(f"format must be 'html' or 'json'; got {format!r}")
    built = sections(ds, progress=progress)
    if progress is not None:
        progress(f"writing {format}")
    return write(ds, built, path, format=format, title=title)


def write(
    ds: Dataset,
    built: tuple[Section, ...],
    path: str | Path,
    *,
    format: ReportFormat = "html",
    title: str | None = None,
) -> Path:
    """Render already built sections to ``path`` (lets the CLI build once, write twice)."""
    from growthlens.report import html, json

    path = Path(path)
    title = title or default_title(ds)
    generated_at = datetime.now().astimezone()
    if format == "json":
        text = json.render_json(ds, built, title=title, generated_at=generated_at)
    else:
        text = html.render_html(
            built,
            title=title,
            header=header_lines(ds),
            currency=ds.settings.currency,
            generated_at=generated_at,
        )
    check_output(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:  # e.g. a read-only or virtual file system
        raise _unwritable(path, exc.strerror or type(exc).__name__) from exc
    return path


def check_output(path: Path) -> None:
    """Refuse an output path that cannot be a file, before any work is done.

    Missing folders are fine (they are created); a folder in the way, a file where a
    folder should be, or a folder without write permission is a DataError naming the path.
    """
    if path.is_dir():
        raise _unwritable(path, "it is a folder")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise _unwritable(path, f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise _unwritable(path, f"the folder {parent} is not writable")


def _unwritable(path: Path, why: str) -> DataError:
    return DataError(
        f"cannot write the report to {path}: {why}",
        expected="a file path in a folder you can write to",
        fix="choose another --output (e.g. report.html in the current folder)",
    )


def default_title(ds: Dataset) -> str:
    """``growthlens report`` (``… — demo data`` for generated data)."""
    return "growthlens report — demo data" if ds.truth is not None else "growthlens report"


def header_lines(ds: Dataset) -> tuple[tuple[str, str], ...]:
    """Label/value lines for the report header: data, window, backend, settings."""
    window = ds.window
    tables = ", ".join(f"{c.table} {c.accepted:,}" for c in ds.quality.counts)
    sources = "; ".join(", ".join(c.sources) for c in ds.quality.counts)
    lines = [
        ("Data", sources),
        ("Rows accepted", tables),
        ("Window", f"{window[0]} – {window[1]}" if window else "none"),
        ("Backend", ds.backend_name),
        ("Currency", ds.settings.currency),
    ]
    if ds.settings.margin != 1.0:
        lines.append(("Margin", f"{ds.settings.margin:.0%}"))
    return tuple(lines)
