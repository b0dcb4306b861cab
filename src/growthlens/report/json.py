"""The JSON export (DESIGN §6): every table of every section, so any chart can be checked.

Shape::

    {
      "title": ..., "generated_at": ..., "growthlens_version": ...,
      "dataset": {"window": [start, end] | null, "window_source": ..., "backend": ...,
                  "currency": ..., "tables": {table: rows accepted}},
      "sections": {
        section_id: {
          "title": ..., "intro": ...,
          "results": [result names, in order],
          "summary": {"<result>.<key>": value},
          "tables": {"<result>.<table>": [records]},   # "main" is the result's main table
          "findings": [sentences], "notes": [...], "skipped": [...]
        }
      },
      "quality": gl.quality(ds).to_dict()
    }

Keys are always prefixed with the result name, also when a section has one result, so a
script never has to guess. NaN and infinities become ``null``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from growthlens.data.dataset import Dataset
from growthlens.metrics.overview import quality
from growthlens.report.model import Section


def section_dict(section: Section) -> dict[str, Any]:
    """One section as a JSON-ready dict (see the module docstring)."""
    summary: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    findings: list[str] = []
    notes: list[str] = []
    for result in section.results:
        data = result.to_dict()
        summary.update({f"{result.name}.{k}": v for k, v in data["summary"].items()})
        tables.update({f"{result.name}.{k}": v for k, v in data["tables"].items()})
        findings.extend(data["findings"])
        notes.extend(result.notes)
    return {
        "title": section.title,
        "intro": section.intro,
        "results": [r.name for r in section.results],
        "summary": summary,
        "tables": tables,
        "findings": findings,
        "notes": notes,
        "skipped": list(section.skipped),
    }


def report_dict(
    ds: Dataset, sections: tuple[Section, ...], *, title: str, generated_at: datetime
) -> dict[str, Any]:
    """The whole export as a dict."""
    from growthlens import __version__

    window = ds.window
    return {
        "title": title,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "growthlens_version": __version__,
        "dataset": {
            "window": [window[0].isoformat(), window[1].isoformat()] if window else None,
            "window_source": ds.quality.window_source,
            "backend": ds.backend_name,
            "currency": ds.settings.currency,
            "tables": {c.table: c.accepted for c in ds.quality.counts},
        },
        "sections": {s.id: section_dict(s) for s in sections},
        "quality": quality(ds).to_dict(),
    }


def render_json(
    ds: Dataset, sections: tuple[Section, ...], *, title: str, generated_at: datetime
) -> str:
    """The export as strict JSON text (``allow_nan=False``: a NaN left anywhere is a bug)."""
    payload = report_dict(ds, sections, title=title, generated_at=generated_at)
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, indent=1)
