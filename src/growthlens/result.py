"""The Result of an analysis (DESIGN §2): tidy tables, headline numbers, findings, figures.

Analyses describe their charts as :class:`FigureSpec` data; :mod:`growthlens.figures`
turns a spec into a Plotly figure. Keeping Plotly out of the analyses keeps the flow one
way: metrics compute, figures draw, the report lays out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

SummaryValue = float | int | str | bool | None
ChartKind = Literal["line", "bar", "stacked_bar", "heatmap", "histogram", "scatter"]


@dataclass(frozen=True)
class FigureSpec:
    """A chart described as data: which table, which kind, which columns.

    Attributes:
        kind: chart type.
        table: key into ``Result.tables`` (``"main"`` is ``Result.table``).
        x, y: column names; for ``heatmap`` ``x`` is the column axis, ``y`` the rows and
            ``z`` the value.
        z: value column of a heatmap.
        color: column that splits traces.
        title: chart title.
        labels: axis/legend labels (column → text with units).
        value_format: d3 format of values (e.g. ``".1%"``, ``",.0f"``).
        orientation: ``"v"`` or ``"h"`` for bars.
    """

    kind: ChartKind
    x: str
    y: str
    title: str
    table: str = "main"
    z: str | None = None
    color: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    value_format: str | None = None
    orientation: Literal["v", "h"] = "v"


@dataclass(frozen=True)
class Result:
    """What every analysis returns.

    Attributes:
        name: machine name of the analysis (``"retention"``).
        title: human title.
        table: the main tidy table (documented columns).
        summary: flat dict of headline numbers.
        findings: plain-language sentences computed from the numbers.
        tables: extra named tables (the main one is also under ``"main"`` in ``to_dict``).
        figures: chart specs; render with :meth:`figure`.
        notes: how to read the numbers (definitions, caveats); shown under the section.
    """

    name: str
    title: str
    table: pd.DataFrame
    summary: Mapping[str, SummaryValue] = field(default_factory=dict)
    findings: tuple[str, ...] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    figures: tuple[FigureSpec, ...] = ()
    notes: tuple[str, ...] = ()

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
        from growthlens.figures import render

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
        """JSON-ready dict: summary, every table as records, findings (DESIGN §6)."""
        tables = {"main": records(self.table)}
        tables.update({k: records(v) for k, v in self.tables.items()})
        return {
            "title": self.title,
            "summary": {k: json_value(v) for k, v in self.summary.items()},
            "tables": tables,
            "findings": list(self.findings),
        }

    def _repr_html_(self) -> str:
        from growthlens.report.html import render_result_fragment

        return render_result_fragment(self)


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
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts."""
    return [
        {str(k): json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]
