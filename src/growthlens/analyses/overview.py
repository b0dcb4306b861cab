"""Data overview as a Result (``gl.overview``): what was loaded, from where, over which window.

Per table the rows loaded, accepted and excluded, the first and last date, distinct users,
the columns and how they were mapped (counted by growthlens.metrics.overview), the data
window and where it came from, and the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.data.tables import TABLES
from growthlens.derive.days import window_label
from growthlens.metrics.overview import TOP_VALUES, LoadedTables, loaded_tables
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import count_of, precise_share

CHARTED_TABLES = ("sessions", "events", "customers")
SUMMARY: SummarySpec = {
    "window_start": ("date", "Window start"),
    "window_end": ("date", "Window end"),
    "window_days": ("days", "Window length"),
    "window_source": ("text", "Window from"),
    "backend": ("text", "Backend"),
    "currency": ("text", "Currency"),
    "margin": ("share", "Margin"),
    "timezone": ("text", "Time zone"),
    "users": ("count", "Users (with a session)"),
    "buyers": ("count", "Buyers"),
    **{
        f"{name}_rows": ("count", f"{model.row.capitalize()} accepted")
        for name, model in TABLES.items()
    },
}

_WINDOW_SOURCE_TEXT = {
    "setting": "set by the window setting",
    "tables": "the span every time-stamped table covers",
    "none": "no time-stamped table, so no window",
}


@dataclass(frozen=True)
class Params:
    """No options: the overview describes the dataset as loaded."""


@dataclass(frozen=True)
class Frames:
    """What was loaded (engine counts) and the dataset's facts the overview states.

    Attributes:
        loaded: the per-table frames (growthlens.metrics.overview).
        present: the canonical tables the dataset holds.
        window: the data window, if any, and ``window_source``: where it came from.
        backend: the engine's name.
        currency, margin, timezone: the settings that shape money and dates.
    """

    loaded: LoadedTables
    present: tuple[str, ...]
    window: tuple[date, date] | None
    window_source: str
    backend: str
    currency: str
    margin: float
    timezone: str | None
    day_zero: date | None = None


def overview(ds: Dataset) -> Result:
    """What was loaded: rows, dates, users, columns, window and backend per table.

    Main table columns: ``table``, ``sources``, ``rows_loaded``, ``rows_accepted``,
    ``rows_excluded``, ``excluded_share``, ``first_date``, ``last_date``, ``users``
    (distinct ``user_id`` among accepted rows, ``None`` when the table has no user id),
    ``preset``. Extra tables: ``columns`` (table, column, source_column, type, nulls,
    distinct), ``values`` (table, column, value, rows: the most frequent values of each
    text column with few distinct values) and ``daily`` (date, table, rows accepted).

    Args:
        ds: a loaded Dataset.

    Returns:
        The overview Result; ``summary`` holds the window, its origin, the backend, the
        settings that shape money (``currency``, ``margin``) and rows per table.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> visits = pd.DataFrame(
        ...     {"user_id": [1, 1, 2], "start_ts": ["2020-01-01", "2020-01-02", "2020-01-02"]}
        ... )
        >>> int(gl.overview(gl.load(sessions=visits)).table.loc[0, "users"])
        2
    """
    return OVERVIEW.run(ds)


def _params(ds: Dataset) -> Params:
    return Params()


def _compute(ds: Dataset, p: Params) -> Frames:
    return Frames(
        loaded=loaded_tables(ds),
        present=tuple(ds.tables),
        window=ds.window,
        window_source=ds.quality.window_source,
        backend=ds.backend_name,
        currency=ds.settings.currency,
        margin=ds.settings.margin,
        timezone=ds.settings.timezone,
        day_zero=ds.settings.day_zero,
    )


def _explain(frames: Frames, p: Params) -> Result:
    main, values = frames.loaded.table, frames.loaded.values
    # Plain Python values (None for a table without users), as the sentences print them.
    rows = cast("list[dict[str, Any]]", main.to_dict("records"))
    window = frames.window
    summary: dict[str, SummaryValue] = {
        "window_start": window[0].isoformat() if window else None,
        "window_end": window[1].isoformat() if window else None,
        "window_days": (window[1] - window[0]).days + 1 if window else None,
        "window_source": frames.window_source,
        "backend": frames.backend,
        "currency": frames.currency,
        "margin": frames.margin,
        "timezone": frames.timezone or "as given",
    }
    for row in rows:
        summary[f"{row['table']}_rows"] = row["rows_accepted"]
    if "sessions" in frames.present:
        summary["users"] = _int_or_none(main.loc[main.table == "sessions", "users"].iloc[0])
    if "orders" in frames.present:
        summary["buyers"] = _int_or_none(main.loc[main.table == "orders", "users"].iloc[0])
    figures = [
        FigureSpec(
            kind="line",
            x="date",
            y="rows",
            color="table",
            table="daily",
            title="Accepted rows per day",
            labels={"date": "Date", "rows": "Rows per day", "table": "Table"},
            value_format=",.0f",
        )
    ]
    # Charts for who the users are (sessions, events, customers); spend tables list their
    # values in the table only, since "rows per source" of a cost export says little.
    dims = values[values.table.isin(CHARTED_TABLES)].drop_duplicates(["table", "column"])
    for _, dim in dims.head(3).iterrows():
        key = f"values.{dim['table']}.{dim['column']}"
        figures.append(
            FigureSpec(
                kind="bar",
                x="rows",
                y="value",
                orientation="h",
                table=key,
                title=f"{dim['table'].capitalize()} by {dim['column']} (top {TOP_VALUES})",
                labels={
                    "rows": TABLES[dim["table"]].row.capitalize(),
                    "value": str(dim["column"]).capitalize(),
                },
                value_format=",.0f",
            )
        )
    extra = {"columns": frames.loaded.columns, "values": values, "daily": frames.loaded.daily}
    for spec in figures[1:]:
        _, table_name, column = spec.table.split(".", 2)
        part = values[(values.table == table_name) & (values.column == column)]
        extra[spec.table] = part.reset_index(drop=True)
    return Result(
        name="overview",
        title="Data overview",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(_sentences(frames, rows)),
        tables=extra,
        figures=tuple(f for f in figures if f.table in extra),
        notes=(
            "Rows loaded = rows accepted + rows excluded, per table; the quality section "
            "lists every reason a row was excluded.",
            "Users = distinct user ids among accepted rows. First and last date are those of "
            "accepted rows (inside the data window).",
        ),
        params=params_dict(p),
    )


def _sentences(frames: Frames, rows: list[dict[str, Any]]) -> list[Finding]:
    out: list[Finding] = []
    window = frames.window
    if window:
        origin = _WINDOW_SOURCE_TEXT.get(frames.window_source, frames.window_source)
        days = (window[1] - window[0]).days + 1
        # Day-number data speak in day numbers; their dates are only day_zero + n.
        span = (
            f"{window_label(window, frames.day_zero)}, day 0 = {frames.day_zero}"
            if frames.day_zero is not None
            else f"{window[0]} – {window[1]}"
        )
        out.append(
            Finding(
                "window",
                f"The data window is {span} ({count_of(days, 'day')}; {origin}).",
                numbers={
                    "start": window[0].isoformat(),
                    "end": window[1].isoformat(),
                    "days": days,
                },
            )
        )
    for row in rows:
        users = f" from {count_of(row['users'], 'user')}" if row["users"] is not None else ""
        accepted = f"{row['rows_accepted']:,} of {row['rows_loaded']:,} rows accepted"
        text = f"{row['table'].capitalize()}: {accepted}{users}"
        if row["rows_excluded"]:
            share = precise_share(row["excluded_share"])
            text += f"; {row['rows_excluded']:,} excluded ({share}), see Data quality"
        out.append(
            Finding(
                "rows_accepted",
                text + ".",
                numbers={
                    "table": row["table"],
                    "rows_loaded": row["rows_loaded"],
                    "rows_accepted": row["rows_accepted"],
                    "rows_excluded": row["rows_excluded"],
                },
            )
        )
    return out


def _int_or_none(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


OVERVIEW = register(
    Analysis(
        name="overview",
        title="Data overview",
        group="overview",
        needs=(),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    overview,
)
