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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from growthlens.analyses import REGISTRY, Analysis, Plan
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError, DataError, GrowthlensError
from growthlens.report import html as html_renderer
from growthlens.report import json as json_renderer
from growthlens.report import summary as summary_view
from growthlens.report import xlsx as xlsx_renderer
from growthlens.report.layout import GROUPS, ORDER, Group
from growthlens.report.model import Section
from growthlens.result import Result

Progress = Callable[[str], None]
ReportFormat = Literal["html", "json", "xlsx"]
FORMATS: tuple[ReportFormat, ...] = ("html", "json", "xlsx")
Selection = Mapping[str, frozenset[str] | None]
"""Report group id → the analyses of it to run (``None``: all of them)."""

SETTINGS_SHOWN = ("margin", "currency", "period", "horizon", "window")
"""The settings the report header always states, with where each value came from."""


def group_analyses(group: str) -> list[Analysis[Any, Any, Any]]:
    """The registered analyses of ``group``: layout order first, then registration order."""
    members = [a for a in REGISTRY.values() if a.group == group]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(members, key=lambda a: rank.get(a.name, len(ORDER)))


def _shown(group: Group, ds: Dataset) -> bool:
    return ds.has(*group.shown_when) and (not group.any_of or any(ds.has(t) for t in group.any_of))


def missing_groups(ds: Dataset, only: Selection | None = None) -> tuple[str, ...]:
    """Why each group left out of the report is left out, in words.

    Besides the tables the group needs, the reasons of its analyses' plans that run
    nothing on this dataset are added (an orders-only dataset lacks costs for the budget
    recommendation, and sessions to match buyers to a source too), so the reader learns
    all the data the section needs. With ``only`` (see :func:`selection`), groups not
    asked for are not listed: they are left out by choice, not for lack of data.
    """
    out = []
    for g in GROUPS:
        if _shown(g, ds) or (only is not None and g.id not in only):
            continue
        lacking = (
            _lacking(g.shown_when, ds)
            if not ds.has(*g.shown_when)
            else f"needs the {' or '.join(g.any_of)} table; this dataset has none of them."
        )
        more = _unique(r for a in group_analyses(g.id) for r in _plan_reasons(a, ds))
        out.append(" ".join([f"{g.title}: {lacking}", *more]))
    return tuple(out)


def _plan_reasons(analysis: Analysis[Any, Any, Any], ds: Dataset) -> tuple[str, ...]:
    """Why a left-out group's analysis would not run even with the group's tables.

    Only a plan that runs nothing counts (the budget recommendation without sessions):
    a plan that would run but leaves out a split speaks of data the reader lacks anyway.
    """
    try:
        plan = analysis.plan(ds)
    except GrowthlensError:
        return ()
    return () if plan.runs else plan.skipped


def selection(names: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """The report groups and analyses that ``names`` ask for (``--sections``).

    A name is a report group id (``marketing``: the whole group) or a registered
    analysis name (``ltv``: that analysis, in its group); names are compared trimmed and
    in any case. The result maps each chosen group id to the analyses to run in it
    (``None``: all), in layout order.

    >>> selection(["ltv", "Marketing"])["marketing"] is None, sorted(selection(["ltv"])["sales"])
    (True, ['ltv'])

    Raises:
        ConfigError: no name, or a name that is neither a group nor an analysis; the
            message lists both.
    """
    wanted = [n.strip().lower() for n in names if n.strip()]
    groups = {g.id for g in GROUPS}
    unknown = [n for n in wanted if n not in groups and n not in REGISTRY]
    if unknown or not wanted:
        found = ", ".join(map(repr, unknown)) if unknown else "nothing"
        raise ConfigError(
            f"sections: unknown {found}; expected report groups "
            f"({', '.join(g.id for g in GROUPS)}) or analyses "
            f"({', '.join(sorted(REGISTRY))}), separated by commas"
        )
    chosen: dict[str, set[str] | None] = {}
    for name in wanted:
        if name in groups:
            chosen[name] = None  # the whole group wins over single analyses of it
            continue
        group = REGISTRY[name].group
        if chosen.get(group, set()) is not None:
            chosen.setdefault(group, set()).add(name)  # type: ignore[union-attr]
    return {
        g.id: None if (picked := chosen[g.id]) is None else frozenset(picked)
        for g in GROUPS
        if g.id in chosen
    }


def section(
    ds: Dataset,
    group: Group | str,
    progress: Progress | None = None,
    analyses: frozenset[str] | None = None,
) -> Section | None:
    """One report group built from the registry, or ``None`` when its tables are missing.

    ``analyses``: run only these of the group (``None``: all). An analysis whose tables
    are missing and whose plan says nothing still gets a reason ("Channel economics needs
    the sessions table; …"), so nothing is left out without a word.
    """
    group = group if isinstance(group, Group) else next(g for g in GROUPS if g.id == group)
    if not _shown(group, ds):
        return None
    results: list[Result] = []
    skipped: list[str] = []
    for analysis in group_analyses(group.id):
        if analyses is not None and analysis.name not in analyses:
            continue
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


def sections(
    ds: Dataset, progress: Progress | None = None, only: Selection | None = None
) -> tuple[Section, ...]:
    """Every group whose tables are present, in layout order (see :func:`section`).

    Args:
        ds: the loaded Dataset.
        progress: called with each analysis' name before it runs.
        only: the groups and analyses to build (:func:`selection`); ``None``: all.
    """
    built = (
        section(ds, g, progress, None if only is None else only[g.id])
        for g in GROUPS
        if only is None or g.id in only
    )
    return tuple(s for s in built if s is not None)


def steps() -> int:
    """How many progress steps :func:`sections` reports at most (one per analysis)."""
    return len(REGISTRY)


def _plan(analysis: Analysis[Any, Any, Any], ds: Dataset) -> Plan:
    try:
        plan = analysis.plan(ds)
    except GrowthlensError as exc:
        return Plan(runs=(), skipped=(f"{analysis.title}: {exc}",))
    if (plan.runs or not plan.skipped) and not ds.has(*analysis.needs):
        # A plan written for complete data, or one silent on missing tables: the
        # registry's needs decide, with a reason.
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
    sections: Iterable[str] | None = None,
    origins: Mapping[str, str] | None = None,
) -> Path:
    """Write the report for ``ds`` to ``path``.

    Args:
        ds: the loaded Dataset.
        path: output file.
        format: ``"html"`` (one self-contained file with interactive charts, opens offline),
            ``"json"`` (every table of every section; shape in docs/report.md) or
            ``"xlsx"`` (an Excel workbook, one sheet per table; growthlens.report.xlsx).
        title: heading of the report (default ``"growthlens report"``).
        progress: called with a short step name before each section and before writing.
        sections: report group ids or analysis names to build (:func:`selection`);
            ``None``: every group the data allows.
        origins: where settings came from, setting → label (``{"margin": "--margin"}``),
            shown in the header; a setting not named is "from settings" when the load
            was given it, else its default.

    Returns:
        The path written.

    Raises:
        ConfigError: an unknown ``format`` or section name.
    """
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    only = None if sections is None else selection(sections)
    built = _build(ds, progress=progress, only=only)
    if progress is not None:
        progress(f"writing {format}")
    return write(ds, built, path, format=format, title=title, only=only, origins=origins)


_build = sections  # `report`'s parameter ``sections`` shadows the function


def write(
    ds: Dataset,
    built: tuple[Section, ...],
    path: str | Path,
    *,
    format: ReportFormat = "html",
    title: str | None = None,
    only: Selection | None = None,
    origins: Mapping[str, str] | None = None,
) -> Path:
    """Render already built sections to ``path`` (lets the CLI build once, write twice).

    ``only`` and ``origins`` as for :func:`report` (``only`` already resolved by
    :func:`selection`): the header states them, and groups not asked for are not listed
    as missing.
    """
    path = Path(path)
    title = title or default_title(ds)
    generated_at = datetime.now().astimezone()
    header = header_lines(ds, origins=origins, only=only)
    left_out = missing_groups(ds, only)
    if format == "xlsx":
        check_output(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            xlsx_renderer.write_xlsx(
                path,
                built,
                title=title,
                header=header,
                generated_at=generated_at,
                left_out=left_out,
            )
        except OSError as exc:
            raise _unwritable(path, exc.strerror or type(exc).__name__) from exc
        return path
    if format == "json":
        text = json_renderer.render_json(
            ds,
            built,
            title=title,
            generated_at=generated_at,
            left_out=left_out,
            settings=settings_shown(ds, origins),
        )
    else:
        text = html_renderer.render_html(
            built,
            title=title,
            header=header,
            currency=ds.settings.currency,
            generated_at=generated_at,
            left_out=left_out,
            day_zero=ds.settings.day_zero,
            summary=summary_view.build(built, currency=ds.settings.currency),
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


def settings_shown(
    ds: Dataset, origins: Mapping[str, str] | None = None
) -> dict[str, tuple[Any, str]]:
    """The settings the header states (:data:`SETTINGS_SHOWN`): name → (value, origin).

    Origin: ``origins[name]`` when given (the CLI passes ``"--margin"`` …); else
    ``"settings"`` when the load was given the setting (config or ``gl.load`` argument;
    for the window: the data window came from the setting); else ``"default"`` (for the
    window: ``"tables"``, the span the tables cover). The window's value is the data
    window the analyses use (``None`` without one).
    """
    given = origins or {}
    values: dict[str, Any] = {name: getattr(ds.settings, name) for name in SETTINGS_SHOWN}
    values["window"] = ds.window
    out = {}
    for name, value in values.items():
        if name in given:
            origin = given[name]
        elif name == "window":
            origin = "settings" if ds.quality.window_source == "setting" else "tables"
        else:
            origin = "settings" if name in ds.settings.model_fields_set else "default"
        out[name] = (value, origin)
    return out


def header_lines(
    ds: Dataset,
    *,
    origins: Mapping[str, str] | None = None,
    only: Selection | None = None,
) -> tuple[tuple[str, str], ...]:
    """Label/value lines for the report header: data, window, backend, settings.

    Margin, currency, period and horizon are always stated with where they came from
    ("35% (from --margin)"); an unset margin says that revenue is counted as profit.
    With ``only``, a "Sections" line names what the report was limited to.
    """
    shown = settings_shown(ds, origins)
    tables = ", ".join(f"{c.table} {c.accepted:,}" for c in ds.quality.counts)
    sources = "; ".join(", ".join(c.sources) for c in ds.quality.counts)
    window, window_from = shown["window"]
    margin, margin_from = shown["margin"]
    horizon, horizon_from = shown["horizon"]
    period = ds.settings.period
    lines = [
        ("Data", sources),
        ("Rows accepted", tables),
        (
            "Window",
            f"{window[0]} – {window[1]}{_origin(window_from)}" if window else "none",
        ),
        ("Backend", ds.backend_name),
        ("Currency", f"{ds.settings.currency}{_origin(shown['currency'][1])}"),
        (
            "Margin",
            f"{_share(margin)}{_origin(margin_from)}"
            if margin_from != "default" or margin != 1.0
            else "100% (default: revenue counted as profit; set --margin)",
        ),
        ("Cohort period", f"{period}{_origin(shown['period'][1])}"),
        (
            "Horizon",
            f"{horizon} {period}{'s' * (horizon != 1)} for LTV, ROMI and payback"
            f"{_origin(horizon_from)}",
        ),
    ]
    if only is not None:
        lines.append(("Sections", _chosen(only) + _origin((origins or {}).get("sections", ""))))
    return tuple(lines)


def _origin(origin: str) -> str:
    if not origin:
        return ""
    if origin == "tables":
        return " (the span the tables cover)"
    return " (default)" if origin == "default" else f" (from {origin})"


def _share(value: float) -> str:
    """``35%``, ``37.5%``: a share with at most one decimal, no trailing ``.0``."""
    return f"{value:.1%}".replace(".0%", "%")


def _chosen(only: Selection) -> str:
    groups = {g.id: g.title for g in GROUPS}
    return "; ".join(
        groups[gid] if names is None else f"{groups[gid]} ({', '.join(sorted(names))})"
        for gid, names in only.items()
    )
