"""The Result of an analysis (DESIGN §2, §6): a frozen, documented contract.

A Result carries

- ``table`` and ``tables``: tidy pandas frames;
- ``summary``: headline numbers as :class:`Entry` records (value, unit, label and, for an
  estimate, the interval ``low``/``high`` with the method that made it);
- ``findings``: :class:`Finding` records (severity, code, the sentence, the numbers
  behind it);
- ``params``: what the analysis ran with (options after defaults were filled in);
- ``status``: ``"ok"`` or why the numbers are not there (not enough data, an empty arm …),
  with ``status_reason`` in words: degenerate input gives a status, never an exception
  or a confident number;
- ``figures``: chart specs (:class:`~growthlens.figures.FigureSpec`), drawn by
  :meth:`Result.figure`;
- :meth:`Result.to_dict`: the versioned JSON shape of docs/result.md (``SCHEMA_VERSION``).

Units are turned into text by :mod:`growthlens.units`, one module for HTML, CLI and
notebook alike. The notebook view (``_repr_html_``) is drawn by the report layer, which
registers its renderer with :func:`set_html_renderer` when it is imported: the contract
lives at the bottom of the import layers and never imports upward.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from growthlens.figures import FigureSpec, render
from growthlens.units import UNITS, Unit

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "SCHEMA_VERSION",
    "Entry",
    "FigureSpec",
    "Finding",
    "Result",
    "Status",
    "SummaryValue",
]

SCHEMA_VERSION = "2.1"
"""Version of the JSON shape of :meth:`Result.to_dict` and the report export (docs/result.md).

A change of that shape is a change of version: 2.1 added a finding's ``at_stake``
and the report's ``summary``; 2.0 introduced summary entries with units
and intervals, finding records, params and status (1.x had bare numbers and sentences).
"""

SummaryValue = float | int | str | bool | None
Severity = Literal["error", "warning", "info"]
Status = Literal[
    "ok",  # the numbers are there
    "not_enough_data",  # too few rows, users, cohorts or periods for the method
    "empty_arm",  # a compared group has no member
    "missing_table",  # a table the analysis needs is absent
    "not_applicable",  # the data cannot answer the question (e.g. no source to split by)
]
STATUSES: tuple[str, ...] = (
    "ok",
    "not_enough_data",
    "empty_arm",
    "missing_table",
    "not_applicable",
)


@dataclass(frozen=True)
class Entry:
    """One headline number of a Result.

    Attributes:
        value: the number (or a short text / flag); ``None`` or NaN when undefined.
        unit: how the value reads (:data:`growthlens.units.Unit`).
        label: the number in words, for a card or a CLI line.
        low: lower end of the interval, when the value is an estimate.
        high: upper end of the interval.
        method: how the interval was computed (e.g. ``"Wilson 95%"``), when there is one.
    """

    value: SummaryValue
    unit: Unit
    label: str
    low: float | None = None
    high: float | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; units: {', '.join(UNITS)}")
        if (self.low is None) != (self.high is None):
            raise ValueError(f"{self.label}: an interval needs both low and high")
        if self.low is not None and self.method is None:
            raise ValueError(f"{self.label}: an interval must name its method")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``value``, ``unit``, ``label`` and, with an interval, ``low``/``high``."""
        out: dict[str, Any] = {
            "value": json_value(self.value),
            "unit": self.unit,
            "label": self.label,
        }
        if self.low is not None:
            out.update(low=json_value(self.low), high=json_value(self.high), method=self.method)
        return out


@dataclass(frozen=True)
class Finding:
    """One finding of an analysis: a sentence computed from the numbers.

    Attributes:
        code: stable machine name (``"retention_second_period"``), for scripts and tests.
        text: the plain-language sentence.
        severity: ``info`` (a fact), ``warning`` (something to look at or act on),
            ``error`` (the numbers are not to be trusted as they stand).
        numbers: the values the sentence states, by name (JSON-ready scalars).
        at_stake: money the finding concerns, in the dataset's currency (the spend of a
            source to cut, the revenue two systems disagree on, a suggested move's net
            profit), ``None`` when it concerns no sum of money. The report's summary
            ranks findings by it, so it is an absolute amount, never a share.
    """

    code: str
    text: str
    severity: Severity = "info"
    numbers: Mapping[str, SummaryValue] = field(default_factory=dict)
    at_stake: float | None = None

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``severity``, ``code``, ``text``, ``numbers`` and ``at_stake``."""
        return {
            "severity": self.severity,
            "code": self.code,
            "text": self.text,
            "numbers": {k: json_value(v) for k, v in self.numbers.items()},
            "at_stake": json_value(self.at_stake),
        }


class Summary(Mapping[str, Entry]):
    """The headline entries of a Result in order; ``values_dict()`` gives the bare numbers."""

    def __init__(self, entries: Mapping[str, Entry] | None = None) -> None:
        self._entries = dict(entries or {})
        for key, entry in self._entries.items():
            if not isinstance(entry, Entry):
                raise TypeError(f"summary {key!r} must be an Entry, got {type(entry).__name__}")

    def __getitem__(self, key: str) -> Entry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Summary({self.values_dict()!r})"

    def values_dict(self) -> dict[str, SummaryValue]:
        """Name → bare value."""
        return {k: e.value for k, e in self._entries.items()}


SummarySpec = Mapping[str, tuple[Unit, str]]
"""Key pattern → (unit, label) of a Result's summary entries.

A pattern may hold ``{name}`` placeholders standing for a whole number (``"ltv_{n}"``);
the label may use the same placeholders (``"LTV at {n} months"``).
"""


def summarize(values: Mapping[str, SummaryValue | Entry], spec: SummarySpec) -> Summary:
    """Turn an analysis' bare headline values into entries, each declared in ``spec``.

    A value that is already an :class:`Entry` (an estimate with its interval) is kept as
    it is. A key no pattern declares is a programming error: every published number has
    a unit and a label.

    >>> s = summarize({"ltv_6": 7.5, "buyers": 3},
    ...               {"ltv_{n}": ("money", "LTV at {n} months"), "buyers": ("count", "Buyers")})
    >>> s["ltv_6"].label, s["ltv_6"].unit, s["buyers"].value
    ('LTV at 6 months', 'money', 3)
    """
    compiled = [(_pattern(key), unit, label) for key, (unit, label) in spec.items()]
    entries: dict[str, Entry] = {}
    for key, value in values.items():
        if isinstance(value, Entry):
            entries[key] = value
            continue
        for pattern, unit, label in compiled:
            match = pattern.fullmatch(key)
            if match is not None:
                entries[key] = Entry(_plain(value), unit, label.format(**match.groupdict()))
                break
        else:
            raise KeyError(f"summary value {key!r} has no unit and label declared")
    return Summary(entries)


def _pattern(key: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", key)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>\\d+)" for i, part in enumerate(parts)
    )
    return re.compile(regex)


def _plain(value: Any) -> SummaryValue:
    """Numpy scalars become Python ones, so entries compare and serialise simply."""
    if isinstance(value, np.generic):
        return value.item()  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


HtmlRenderer = Callable[["Result"], str]
_html_renderer: list[HtmlRenderer] = []


def set_html_renderer(renderer: HtmlRenderer) -> None:
    """Register the notebook view of a Result (the report layer does, on import)."""
    _html_renderer[:] = [renderer]


@dataclass(frozen=True)
class Result:
    """What every analysis returns.

    Attributes:
        name: machine name of the analysis (``"retention"``), unique within a report.
        title: human title.
        table: the main tidy table (documented columns).
        summary: headline entries (:class:`Entry`), by name.
        findings: :class:`Finding` records computed from the numbers.
        tables: extra named tables (the main one is also under ``"main"`` in ``to_dict``).
        detail: names of ``tables`` that trace the numbers unit by unit (e.g. a funnel's
            per-user chains): in the API and the JSON export, not shown in the HTML report.
        figures: chart specs; render with :meth:`figure`.
        notes: how to read the numbers (definitions, caveats); shown under the section.
        params: the options the analysis ran with, defaults filled in.
        status: ``"ok"``, or why the numbers are not there (see :data:`Status`).
        status_reason: the reason in words when ``status`` is not ``"ok"``.
        downloads: names of tables (``"main"`` or keys of ``tables``) a reader takes away
            as a file, e.g. a target list: the HTML report offers each as a CSV download
            and ``growthlens report --exports DIR`` writes each as ``<name>.csv``.
    """

    name: str
    title: str
    table: pd.DataFrame
    summary: Summary = field(default_factory=Summary)
    findings: tuple[Finding, ...] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    detail: tuple[str, ...] = ()
    figures: tuple[FigureSpec, ...] = ()
    notes: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    status: Status = "ok"
    status_reason: str = ""
    downloads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.summary, Summary):
            raise TypeError("Result.summary must be a Summary (see growthlens.result.summarize)")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; statuses: {', '.join(STATUSES)}")
        if self.status != "ok" and not self.status_reason:
            raise ValueError(f"{self.name}: status {self.status!r} needs a reason in words")
        for finding in self.findings:
            if not isinstance(finding, Finding):
                raise TypeError(f"{self.name}: findings must be Finding records, got {finding!r}")

    @property
    def sentences(self) -> tuple[str, ...]:
        """The findings in words, in order (each :attr:`Finding.text`)."""
        return tuple(f.text for f in self.findings)

    @property
    def ok(self) -> bool:
        """Whether the analysis produced its numbers (``status == "ok"``)."""
        return self.status == "ok"

    def frame(self, key: str = "main") -> pd.DataFrame:
        """The table called ``key`` (``"main"`` is :attr:`table`)."""
        if key == "main":
            return self.table
        try:
            return self.tables[key]
        except KeyError:
            raise KeyError(
                f"{self.name} has no table {key!r}; tables: main, {', '.join(self.tables)}"
            ) from None

    def figure(self, which: int | str = 0) -> go.Figure:
        """Render one chart as a Plotly figure (by position or title)."""
        if not self.figures:
            raise ValueError(f"{self.name} has no chart")
        if isinstance(which, str):
            matches = [f for f in self.figures if f.title == which]
            if not matches:
                raise ValueError(
                    f"no chart titled {which!r}; charts: {[f.title for f in self.figures]}"
                )
            spec = matches[0]
        else:
            spec = self.figures[which]
        return render(spec, self.frame(spec.table))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the versioned shape of docs/result.md."""
        tables = {"main": records(self.table)}
        tables.update({k: records(v) for k, v in self.tables.items()})
        return {
            "schema": SCHEMA_VERSION,
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "status_reason": self.status_reason,
            "params": {k: json_value(v) for k, v in self.params.items()},
            "summary": {k: e.to_dict() for k, e in self.summary.items()},
            "tables": tables,
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }

    def _repr_html_(self) -> str:
        if not _html_renderer:
            import html

            return f"<pre>{html.escape(repr(self))}</pre>"
        return _html_renderer[0](self)


def json_value(value: Any) -> Any:
    """Convert numpy/pandas scalars to JSON types; NaN/NaT/inf become ``None``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts."""
    return [
        {str(k): json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]
