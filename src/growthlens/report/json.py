"""The JSON export (DESIGN §6, docs/result.md): every number of every section, versioned.

Shape (``schema`` is :data:`growthlens.result.SCHEMA_VERSION`)::

    {
      "schema": "2.1", "title": ..., "generated_at": ..., "growthlens_version": ...,
      "dataset": {"window": [start, end] | null, "window_source": ..., "backend": ...,
                  "currency": ..., "tables": {table: rows accepted},
                  "settings": {name: {"value": ..., "from": "--margin" | "settings" |
                               "default" | "tables"}}},   # margin, currency, period,
                                                          # horizon, window
      "sections": {                       # one per Result, by its unique name
        result_name: {"group": report group id, "schema", "name", "title",
                      "status", "status_reason", "params": {...},
                      "summary": {key: {"value", "unit", "label"[, "low", "high", "method"]}},
                      "tables": {"main": [records], other: [records]},
                      "findings": [{"severity", "code", "text", "numbers", "at_stake"}],
                      "notes": [...]}
      },
      "summary": {"comparison", "headlines": [{"label", "value", "detail", "tone",
                  "change", "anchor"}], "top_findings": [{"text", "severity", "at_stake",
                  "source", "anchor"}], "budget": [{"source", "action", "romi", "spend"}],
                  "budget_findings": [...], "verdicts": [...]},   # the first screen

      "groups": [{"id", "title", "intro", "results": [result names], "skipped": [...]}],
      "left_out": [why each group missing from the report is missing],
      "quality": gl.quality(ds).to_dict()
    }

NaN and infinities become ``null``: strict JSON, so any figure in the HTML can be checked
by a script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from growthlens.analyses import quality
from growthlens.data.dataset import Dataset
from growthlens.report import summary as summary_view
from growthlens.report.model import Section
from growthlens.result import SCHEMA_VERSION, Result
from growthlens.version import __version__


def group_dict(section: Section) -> dict[str, Any]:
    """One report group (its layout, not its numbers) as a JSON-ready dict."""
    return {
        "id": section.id,
        "title": section.title,
        "intro": section.intro,
        "results": [r.name for r in section.results],
        "skipped": list(section.skipped),
    }


def report_dict(
    ds: Dataset,
    sections: tuple[Section, ...],
    *,
    title: str,
    generated_at: datetime,
    left_out: tuple[str, ...] = (),
    settings: Mapping[str, tuple[Any, str]] | None = None,
) -> dict[str, Any]:
    """The whole export as a dict.

    ``settings``: setting → (value, where it came from), as the header states them
    (growthlens.report.build.settings_shown); dates are written as ISO text.
    """
    names = [r.name for s in sections for r in s.results]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"result names repeat in the report: {repeated}")
    window = ds.window
    return {
        "schema": SCHEMA_VERSION,
        "title": title,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "growthlens_version": __version__,
        "dataset": {
            "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
            "window_source": ds.quality.window_source,
            "backend": ds.backend_name,
            "currency": ds.settings.currency,
            "tables": {c.table: c.accepted for c in ds.quality.counts},
            "settings": {
                name: {"value": _plain(value), "from": origin}
                for name, (value, origin) in (settings or {}).items()
            },
        },
        "sections": {r.name: {"group": s.id, **r.to_dict()} for s in sections for r in s.results},
        "summary": summary_view.build(sections, currency=ds.settings.currency).to_dict(),
        "groups": [group_dict(s) for s in sections],
        "left_out": list(left_out),
        "quality": _quality(ds, sections).to_dict(),
    }


def render_json(
    ds: Dataset,
    sections: tuple[Section, ...],
    *,
    title: str,
    generated_at: datetime,
    left_out: tuple[str, ...] = (),
    settings: Mapping[str, tuple[Any, str]] | None = None,
) -> str:
    """The export as strict JSON text (``allow_nan=False``: a NaN left anywhere is a bug)."""
    payload = report_dict(
        ds, sections, title=title, generated_at=generated_at, left_out=left_out, settings=settings
    )
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, indent=1)


def _plain(value: Any) -> Any:
    # A window is a pair of dates: ISO text, as the dataset's window above.
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def _quality(ds: Dataset, sections: tuple[Section, ...]) -> Result:
    # The report's own quality result when it has one: nothing is computed twice.
    shown = [r for s in sections for r in s.results if r.name == "quality"]
    return shown[0] if shown else quality(ds)
