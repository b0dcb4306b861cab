"""The report model: sections composed from Results (no computing happens here)."""

from __future__ import annotations

from dataclasses import dataclass

from growthlens.result import Result


@dataclass(frozen=True)
class Section:
    """One report section.

    Attributes:
        id: anchor and JSON key (``"product"``).
        title: heading.
        results: the analyses shown, in order.
        intro: one or two plain sentences on what the section answers.
        skipped: analyses that could not run on this data, with the reason in words
            (e.g. "Conversion lag needs sessions; this dataset has none.").
    """

    id: str
    title: str
    results: tuple[Result, ...]
    intro: str = ""
    skipped: tuple[str, ...] = ()
