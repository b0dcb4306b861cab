"""Compose the report: iterate the analysis registry by layout group, then write HTML or JSON.

The report computes nothing itself: each registered analysis says, through its plan,
which runs to show on this dataset; this module runs them, groups the Results by the
layout (:mod:`growthlens.report.layout`) and hands them to a renderer. Nothing is left
out without a word: a group whose tables are missing, an analysis whose tables are
missing or that its plan leaves out, and a run that fails with a growthlens error all
leave a reason in words.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from growthlens.analyses import REGISTRY, Analysis, Plan
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError, DataError, GrowthlensError
from growthlens.report import html as html_renderer
from growthlens.report import json as json_renderer
from growthlens.report.layout import GROUPS, ORDER, Group
from growthlens.report.model import Section
from growthlens.result import Result

Progress = Callable[[str], None]
ReportFormat = Literal["html", "json"]


def group_analyses(group: str) -> list[Analysis[Any, Any, Any]]:
    """The registered analyses of ``group``: layout order first, then registration order."""
    members = [a for a in REGISTRY.values() if a.group == group]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(members, key=lambda a: rank.get(a.name, len(ORDER)))


def _shown(group: Group, ds: Dataset) -> bool:
    return ds.has(*group.shown_when) and (not group.any_of or any(ds.has(t) for t in group.any_of))


def missing_groups(ds: Dataset) -> tuple[str, ...]:
    """Why each group left out of the report is left out, in words."""
    return tuple(
        f"{g.title}: "
        + (
            _lacking(g.shown_when, ds)
            if not ds.has(*g.shown_when)
            else f"needs the {' or '.join(g.any_of)} table; this dataset has none of them."
        )
        for g in GROUPS
        if not _shown(g, ds)
    )


def section(ds: Dataset, group: Group | str, progress: Progress | None = None) -> Section | None:
    """One report group built from the registry, or ``None`` when its tables are missing."""
    group = group if isinstance(group, Group) else next(g for g in GROUPS if g.id == group)
    if not _shown(group, ds):
        return None
    results: list[Result] = []
    skipped: list[str] = []
    for analysis in group_analyses(group.id):
        if progress is not None:
            progress(analysis.name)
        plan = _plan(analysis, ds)
        for options in plan.runs:
            try:
                results.append(analysis.run(ds, **options))
            except GrowthlensError as exc:
                skipped.append(f"{analysis.title}: {exc}")
        skipped.extend(plan.skipped)
    return Section(
        id=group.id,
        title=group.title,
        results=tuple(results),
        intro=group.intro,
        skipped=tuple(_unique(skipped)),
    )


def sections(ds: Dataset, progress: Progress | None = None) -> tuple[Section, ...]:
    """Every group whose tables are present, in layout order (see :func:`section`).

    Args:
        ds: the loaded Dataset.
        progress: called with each analysis' name before it runs.
    """
    built = (section(ds, g, progress) for g in GROUPS)
    return tuple(s for s in built if s is not None)


def steps() -> int:
    """How many progress steps :func:`sections` reports at most (one per analysis)."""
    return len(REGISTRY)


def _plan(analysis: Analysis[Any, Any, Any], ds: Dataset) -> Plan:
    try:
        plan = analysis.plan(ds)
    except GrowthlensError as exc:
        return Plan(runs=(), skipped=(f"{analysis.title}: {exc}",))
    if plan.runs and not ds.has(*analysis.needs):
        # A plan written for complete data: the registry's needs decide, with a reason.
        return Plan(runs=(), skipped=(f"{analysis.title} {_lacking(analysis.needs, ds)}",))
    return plan


def _lacking(needs: Sequence[str], ds: Dataset) -> str:
    """Why tables are missing: ``needs the costs and orders tables; this dataset has no costs.``."""
    tables = (
        f"the {needs[0]} table"
        if len(needs) == 1
        else f"the {', '.join(needs[:-1])} and {needs[-1]} tables"
    )
    missing = " and no ".join(t for t in needs if not ds.has(t))
    return f"needs {tables}; this dataset has no {missing}."


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


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
    path = Path(path)
    title = title or default_title(ds)
    generated_at = datetime.now().astimezone()
    if format == "json":
        text = json_renderer.render_json(
            ds, built, title=title, generated_at=generated_at, left_out=missing_groups(ds)
        )
    else:
        text = html_renderer.render_html(
            built,
            title=title,
            header=header_lines(ds),
            currency=ds.settings.currency,
            generated_at=generated_at,
            left_out=missing_groups(ds),
            day_zero=ds.settings.day_zero,
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
