"""Marketing spend: cost per period and source, totals, shares and cost gaps.

Definitions: docs/metrics.md, "Marketing" → "Spend". A source is **paid** when it has at
least one cost row in the window, else **organic**. Missing days (or months, for monthly
cost exports) inside a paid source's cost series count as 0 spend and are reported as a
gap finding. Only period × source aggregates leave the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import (
    Period,
    check_period,
    dimension,
    period_start,
    window_periods,
)
from growthlens.derive.periods import dates as _dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import (
    MAX_LISTED,
    age_unit,
    listing,
    money,
    money_range,
    natural_key,
    period_label,
    share_text,
    sort_key,
)


def check_by(ds: Dataset, by: str | None) -> None:
    """Refuse a ``by`` that is not a text column of the costs table."""
    if by is None:
        return
    costs = ds.table("costs")
    usable = [c for c, t in costs.schema().items() if t.is_string() and c not in ("date", "cost")]
    if by not in usable:
        raise ConfigError(
            f"by={by!r} is not a text column of the costs table; usable: "
            f"{', '.join(usable) or 'none'}"
        )


def _data_window(ds: Dataset) -> tuple[Any, Any]:
    """The data window (marketing analyses need one)."""
    window = ds.window
    if window is None:  # costs always carry dates, so only a hand-built Dataset lands here
        raise ConfigError("marketing metrics need a data window; set window = [start, end]")
    return window


def period_table(ds: Dataset, period: Period) -> pd.DataFrame:
    """``period`` (start date) and ``complete`` for every period of the window."""
    frame = window_periods(_data_window(ds), period)[["period", "complete"]]
    frame["period"] = _dates(frame["period"])
    return frame


@dataclass(frozen=True)
class Spend:
    """Cost aggregates of one dataset (engine output, small).

    Attributes:
        by: the dimension column (``source``).
        per_period: ``period``, ``<by>``, ``cost`` for every window period × paid source
            (missing combinations filled with 0), plus ``complete``.
        daily: ``date``, ``<by>``, ``cost`` as in the cost rows (one row per day and source).
        paid: paid sources (≥ 1 cost row in the window), in natural order.
        gaps: ``date``, ``<by>``: days (or months) without a cost row inside a paid source's
            series (between its first and last cost date).
        unit: ``day`` or ``month``: the granularity of the cost rows.
    """

    by: str
    per_period: pd.DataFrame
    daily: pd.DataFrame
    paid: tuple[str, ...]
    gaps: pd.DataFrame
    unit: Literal["day", "month"]


def spend(ds: Dataset, *, period: Period, by: str) -> Spend:
    """Cost per period and source, per day and source, and the gaps of each paid series."""
    costs = ds.table("costs")
    key = dimension(costs[by])
    daily: pd.DataFrame = (
        costs.group_by(date=costs.date, **{by: key}).aggregate(cost=costs.cost.sum()).pipe(fetch)
    )
    daily["date"] = _dates(daily["date"])
    per: pd.DataFrame = (
        costs.group_by(period=period_start(costs.date, period), **{by: key})
        .aggregate(cost=costs.cost.sum())
        .pipe(fetch)
    )
    per["period"] = _dates(per["period"])
    paid = tuple(sorted(daily[by].unique().tolist(), key=natural_key))
    # Typed like the engine's column: an empty list would make a float column, and the
    # merge below refuses float against text (no cost row in the window).
    sources = pd.DataFrame({by: pd.Series(list(paid), dtype=per[by].dtype)})
    grid = period_table(ds, period).merge(sources, how="cross")
    per_period = grid.merge(per, on=["period", by], how="left")
    per_period["cost"] = per_period["cost"].fillna(0.0).astype(float)
    per_period = per_period[["period", by, "cost", "complete"]]
    gaps, unit = _gaps(daily, by, paid)
    return Spend(by=by, per_period=per_period, daily=daily, paid=paid, gaps=gaps, unit=unit)


def _gaps(
    daily: pd.DataFrame, by: str, paid: tuple[str, ...]
) -> tuple[pd.DataFrame, Literal["day", "month"]]:
    dates = daily["date"]
    # A monthly cost export (every row on the 1st) has month gaps, not 29 missing days.
    unit: Literal["day", "month"] = (
        "month" if len(dates) and dates.dt.day.eq(1).all() and dates.nunique() > 1 else "day"
    )
    rows: list[dict[str, Any]] = []
    for source in paid:
        have = set(daily.loc[daily[by] == source, "date"])
        expected = pd.date_range(min(have), max(have), freq="D" if unit == "day" else "MS")
        rows.extend({"date": d, by: source} for d in expected if d not in have)
    gaps = pd.DataFrame(rows, columns=["date", by])
    gaps["date"] = _dates(gaps["date"])
    return gaps.sort_values(["date", by], key=sort_key).reset_index(drop=True), unit


def gap_sentence(spend_: Spend) -> str | None:
    """The gap finding ("No cost rows for 2018-03-31 for sources 1, 2, …"), or ``None``.

    Dates missing for the same set of sources are listed together.
    """
    gaps = spend_.gaps
    if gaps.empty:
        return None
    by = spend_.by
    fmt = "%Y-%m-%d" if spend_.unit == "day" else "%Y-%m"
    groups: dict[tuple[str, ...], list[str]] = {}
    for day, part in gaps.groupby("date", sort=True):
        names = tuple(sorted(part[by].astype(str).tolist(), key=natural_key))
        groups.setdefault(names, []).append(pd.Timestamp(str(day)).strftime(fmt))
    parts = []
    for names, days in list(groups.items())[:MAX_LISTED]:
        noun = by if len(names) == 1 else f"{by}s"
        parts.append(f"{listing(days)} for {noun} {listing(list(names), limit=10)}")
    more = f"; … and {len(groups) - MAX_LISTED} more" if len(groups) > MAX_LISTED else ""
    unit = spend_.unit
    these = f"These {len(gaps):,} {by}-{unit}s lie" if len(gaps) > 1 else f"This {by}-{unit} lies"
    return (
        f"No cost rows for {'; for '.join(parts)}{more}. {these} inside the {by}s' cost series "
        "and count as 0 spend."
    )


SUMMARY: SummarySpec = {
    "cost": ("money", "Spend over the window"),
    "currency": ("text", "Currency"),
    "sources": ("count", "Paid sources"),
    "periods": ("count", "Periods"),
    "gap_days": ("count", "Days missing inside paid cost series"),
    "gap_rows": ("count", "Missing source-days (or months)"),
    "gap_unit": ("text", "Unit of the cost series"),
    "top_source": ("text", "Largest source by spend"),
    "top_share": ("share", "Largest source's share of spend"),
}


def costs(ds: Dataset, *, period: Period | None = None, by: str = "source") -> Result:
    """Marketing spend per period and source, totals, shares of spend and cost gaps.

    Definitions: docs/metrics.md, "Marketing" → "Spend". Missing days (months) inside a paid
    source's cost series count as 0 and are reported as a gap finding.

    Main table: ``period`` (start date), ``<by>``, ``cost``, ``share`` (of the period's
    spend; NaN when the period has no spend), ``complete`` (period wholly inside the window)
    for every window period × paid source. Extra tables: ``sources`` (``<by>``, ``cost``,
    ``share_of_spend``, ``first_date``, ``last_date``, ``days_with_rows`` (rows' distinct
    dates), ``missing`` (gap days or months)), ``totals`` (``period``, ``cost``,
    ``complete``) and ``gaps`` (``date``, ``<by>``).

    Args:
        ds: a Dataset with a costs table.
        period: ``day``, ``week`` or ``month`` (default: the dataset's ``period`` setting).
        by: text column of the costs table to split by.

    Returns:
        The spend Result; ``summary`` has ``cost``, ``sources``, ``gap_days`` (distinct
        dates with a gap), ``gap_rows`` (source-dates), ``top_source``, ``top_share``.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> c = pd.DataFrame(
        ...     {"date": ["2020-01-01", "2020-01-03"], "source": ["a", "a"], "cost": [5.0, 7.0]}
        ... )
        >>> r = gl.costs(gl.load(costs=c))
        >>> r.summary["cost"].value, r.summary["gap_rows"].value
        (12.0, 1)
    """
    period = check_period(period or ds.settings.period)
    ds.require("costs")
    check_by(ds, by)
    sp = spend(ds, period=period, by=by)
    currency = ds.settings.currency
    main = sp.per_period.copy()
    totals = main.groupby("period", as_index=False).agg(
        cost=("cost", "sum"), complete=("complete", "first")
    )
    main = main.merge(totals[["period", "cost"]].rename(columns={"cost": "_total"}), on="period")
    main["share"] = main["cost"].where(main["_total"] > 0) / main["_total"].where(
        main["_total"] > 0
    )
    main = main[["period", by, "cost", "share", "complete"]]
    main = main.sort_values(["period", by], key=sort_key).reset_index(drop=True)
    total = float(main["cost"].sum())
    sources = _source_spend(sp, total)
    findings: list[Finding] = []
    status: Status = "ok"
    reason = ""
    if not sp.paid:
        status = "not_enough_data"
        reason = (
            "The costs table has no rows inside the data window, so there is no spend to analyse."
        )
        findings.append(Finding("no_spend_rows", reason, "warning"))
    else:
        findings.extend(_spend_sentences(sources, totals, by, total, currency, period))
    gap = gap_sentence(sp)
    if gap:
        findings.append(
            Finding(
                "cost_gaps",
                gap,
                "warning",
                {"gap_days": int(sp.gaps["date"].nunique()), "gap_rows": len(sp.gaps)},
            )
        )
    empty = totals[totals["cost"] <= 0]
    if len(empty) and sp.paid:
        labels = [period_label(p, period) for p in empty["period"]]
        findings.append(
            Finding(
                "periods_without_spend",
                f"No spend at all in {len(labels)} {age_unit(period, len(labels))} "
                f"({listing(labels)}): shares of spend are undefined (NaN) there.",
                "warning",
                {"periods": len(labels)},
            )
        )
    top = sources.iloc[0] if len(sources) else None
    summary: dict[str, SummaryValue] = {
        "cost": total,
        "currency": currency,
        "sources": len(sp.paid),
        "periods": len(totals),
        "gap_days": int(sp.gaps["date"].nunique()),
        "gap_rows": len(sp.gaps),
        "gap_unit": sp.unit,
        "top_source": None if top is None else str(top[by]),
        "top_share": None if top is None else float(top["share_of_spend"]),
    }
    by_label = by.replace("_", " ").capitalize()
    return Result(
        name="costs",
        title="Marketing spend",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"sources": sources, "totals": totals, "gaps": sp.gaps},
        params={"period": period, "by": by},
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="stacked_bar",
                x="period",
                y="cost",
                color=by,
                title=f"Spend per {period} by {by.replace('_', ' ')}",
                labels={"period": period.capitalize(), "cost": f"Spend ({currency})", by: by_label},
                value_format=",.0f",
            ),
            FigureSpec(
                kind="bar",
                x="share_of_spend",
                y=by,
                orientation="h",
                table="sources",
                title=f"Share of spend by {by.replace('_', ' ')}",
                labels={"share_of_spend": "Share of spend over the window", by: by_label},
                value_format=".1%",
            ),
        ),
        notes=(
            "A source is paid when it has at least one cost row in the window. Days (or months) "
            "missing inside a paid source's cost series count as 0 spend and are listed as gaps.",
            f"Spend is summed over cost rows inside the data window, in {currency}.",
        ),
    )


def _source_spend(sp: Spend, total: float) -> pd.DataFrame:
    by = sp.by
    daily = sp.daily
    grouped = daily.groupby(by, as_index=False).agg(
        cost=("cost", "sum"),
        first_date=("date", "min"),
        last_date=("date", "max"),
        days_with_rows=("date", "nunique"),
    )
    missing = sp.gaps.groupby(by).size().rename("missing")
    grouped = grouped.merge(missing, left_on=by, right_index=True, how="left")
    grouped["missing"] = grouped["missing"].fillna(0).astype(int)
    grouped["share_of_spend"] = grouped["cost"] / total if total > 0 else math.nan
    grouped = grouped[
        [by, "cost", "share_of_spend", "first_date", "last_date", "days_with_rows", "missing"]
    ]
    order = sorted(
        range(len(grouped)),
        key=lambda i: (-grouped["cost"].iloc[i], natural_key(grouped[by].iloc[i])),
    )
    return grouped.iloc[order].reset_index(drop=True)


def _spend_sentences(
    sources: pd.DataFrame,
    totals: pd.DataFrame,
    by: str,
    total: float,
    currency: str,
    period: Period,
) -> list[Finding]:
    out = []
    shares = [
        f"{by} {row[by]} {share_text(row['share_of_spend'])}"
        for _, row in sources.head(3).iterrows()
        if math.isfinite(row["share_of_spend"])
    ]
    lead = f"Spend over the window: {money(total, currency)} across {len(sources)} paid {by}s"
    out.append(
        Finding(
            "spend_total",
            f"{lead}; the largest: {', '.join(shares)}." if shares else f"{lead}.",
            numbers={"cost": total, by + "s": len(sources)},
        )
    )
    what = f"Spend per complete {period}"
    spread = money_range(totals[totals["complete"]], "cost", "period", period, currency, what)
    if spread:
        out.append(Finding("spend_range", spread))
    return out
