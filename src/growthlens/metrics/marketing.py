"""Marketing unit economics: spend, CAC, ROMI and payback (DESIGN §4 "Marketing").

Every definition is written out with a worked example in docs/metrics.md, section
"Marketing". In short:

- a source is **paid** when it has at least one cost row in the window, else **organic**
  (CAC and ROMI NaN, never 0 or inf); buyers whose source is unknown count in overall
  figures only;
- missing days (or months, for monthly cost exports) inside a paid source's cost series
  count as 0 spend and are reported as a gap finding;
- CAC(source) = cost of the source ÷ buyers acquired from it, over the window;
  CAC(c) = all cost in period c ÷ buyers of cohort c; CAC(c, source) likewise per source;
- ROMI(c, k) = LTV(c, k) ÷ CAC(c) − 1, per source with that source's LTV and CAC; over the
  window ROMI(source) = gross profit of its buyers ÷ its cost − 1; the N-period ROMI is the
  unweighted mean of ROMI(c, N−1) over complete cells; payback = first age with ROMI ≥ 0;
- every division by zero gives NaN plus a finding.

All aggregation runs in the engine; only period × source aggregates (and, for the budget
bootstrap, one row per buyer) leave it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.acquisition import buyer_cells, buyers, order_cells, session_dimensions
from growthlens.metrics.fetch import dates as _dates
from growthlens.metrics.fetch import fetch
from growthlens.metrics.periods import (
    UNKNOWN,
    Period,
    age,
    check_period,
    dimension,
    period_start,
    window_periods,
)
from growthlens.result import FigureSpec, Result, SummaryValue

CohortBy = Literal["first_order", "first_visit"]
COHORT_BY: tuple[CohortBy, ...] = ("first_order", "first_visit")
# Label of the all-sources rows in curve and payback tables (parenthesised like "(unknown)"
# so it cannot be mistaken for a real source name).
ALL_SOURCES = "(all sources)"
# At most this many per-source heatmaps (largest spend first) keep the report readable.
MAX_HEATMAPS = 8
# Listed examples in a sentence before "… and N more".
MAX_LISTED = 5
_CURRENCY_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}


# --------------------------------------------------------------------------- formatting


def money(value: float, currency: str) -> str:
    """Money for sentences: ``$1,234`` (or ``1,234 RUB``), two decimals below 100.

    >>> money(1234.4, "USD"), money(2.345, "EUR"), money(50_000, "RUB")
    ('$1,234', '€2.35', '50,000 RUB')
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{abs(value):,.2f}" if abs(value) < 100 else f"{abs(value):,.0f}"
    sign = "−" if value < 0 else ""
    symbol = _CURRENCY_SYMBOL.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def signed(value: float, digits: int = 2) -> str:
    """A ratio with a typographic minus: ``−0.35``, ``0.42``.

    >>> signed(-0.3549), signed(0.42), signed(float("nan"))
    ('−0.35', '0.42', 'n/a')
    """
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}".replace("-", "−")


def share_text(value: float) -> str:
    """A share as a whole percentage (one decimal below 10%).

    >>> share_text(0.4312), share_text(0.057), share_text(float("nan"))
    ('43%', '5.7%', 'n/a')
    """
    if not math.isfinite(value):
        return "n/a"
    pct = value * 100
    return f"{pct:.1f}%" if abs(pct) < 10 else f"{pct:.0f}%"


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that puts ``"2"`` before ``"10"`` and text after numbers.

    >>> sorted(["10", "2", "ads", "1"], key=natural_key)
    ['1', '2', '10', 'ads']
    """
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def listing(values: list[str], *, limit: int = MAX_LISTED) -> str:
    """``a, b, c`` with at most ``limit`` items, then ``… and N more``."""
    head = ", ".join(values[:limit])
    return head if len(values) <= limit else f"{head} … and {len(values) - limit} more"


def _period_label(value: Any, period: Period) -> str:
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m") if period == "month" else stamp.strftime("%Y-%m-%d")


def _age_unit(period: Period, count: float = 2) -> str:
    return period if count == 1 else f"{period}s"


# --------------------------------------------------------------------------- validation


def _check_by(ds: Dataset, by: str | None) -> None:
    if by is None:
        return
    costs = ds.table("costs")
    usable = [c for c, t in costs.schema().items() if t.is_string() and c not in ("date", "cost")]
    if by not in usable:
        raise ConfigError(
            f"by={by!r} is not a text column of the costs table; usable: "
            f"{', '.join(usable) or 'none'}"
        )


def _check_horizon(horizon: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ConfigError(f"horizon must be a whole number of periods ≥ 1; got {horizon!r}")
    return horizon


def _check_cohort_by(cohort_by: str) -> CohortBy:
    if cohort_by not in COHORT_BY:
        raise ConfigError(f"cohort_by must be one of {', '.join(COHORT_BY)}; got {cohort_by!r}")
    return cohort_by  # type: ignore[return-value]


def _window(ds: Dataset) -> tuple[Any, Any]:
    window = ds.window
    if window is None:  # costs always carry dates, so only a hand-built Dataset lands here
        raise ConfigError("marketing metrics need a data window; set window = [start, end]")
    return window


def _periods(ds: Dataset, period: Period) -> pd.DataFrame:
    frame = window_periods(_window(ds), period)[["period", "complete"]]
    frame["period"] = _dates(frame["period"])
    return frame


# --------------------------------------------------------------------------- spend


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
    grid = _periods(ds, period).merge(pd.DataFrame({by: list(paid)}), how="cross")
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
    return gaps.sort_values(["date", by], key=_sort_key).reset_index(drop=True), unit


def _sort_key(column: pd.Series) -> pd.Series:
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        return column.map(natural_key)
    return column


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


def costs(ds: Dataset, *, period: Period = "month", by: str = "source") -> Result:
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
        period: ``day``, ``week`` or ``month``.
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
        >>> r.summary["cost"], r.summary["gap_rows"]
        (12.0, 1)
    """
    period = check_period(period)
    ds.require("costs")
    _check_by(ds, by)
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
    main = main.sort_values(["period", by], key=_sort_key).reset_index(drop=True)
    total = float(main["cost"].sum())
    sources = _source_spend(sp, total)
    findings: list[str] = []
    if not sp.paid:
        findings.append(
            "The costs table has no rows inside the data window, so there is no spend to analyse."
        )
    else:
        findings.extend(_spend_sentences(sources, totals, by, total, currency, period))
    gap = gap_sentence(sp)
    if gap:
        findings.append(gap)
    empty = totals[totals["cost"] <= 0]
    if len(empty) and sp.paid:
        labels = [_period_label(p, period) for p in empty["period"]]
        findings.append(
            f"No spend at all in {len(labels)} {_age_unit(period, len(labels))} "
            f"({listing(labels)}): shares of spend are undefined (NaN) there."
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
        summary=summary,
        findings=tuple(findings),
        tables={"sources": sources, "totals": totals, "gaps": sp.gaps},
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
) -> list[str]:
    out = []
    shares = [
        f"{by} {row[by]} {share_text(row['share_of_spend'])}"
        for _, row in sources.head(3).iterrows()
        if math.isfinite(row["share_of_spend"])
    ]
    lead = f"Spend over the window: {money(total, currency)} across {len(sources)} paid {by}s"
    out.append(f"{lead}; the largest: {', '.join(shares)}." if shares else f"{lead}.")
    complete = totals[totals["complete"]]
    if len(complete) >= 2:
        low = complete.iloc[int(complete["cost"].to_numpy().argmin())]
        high = complete.iloc[int(complete["cost"].to_numpy().argmax())]
        out.append(
            f"Spend per complete {period} ranged from {money(float(low['cost']), currency)} "
            f"({_period_label(low['period'], period)}) to {money(float(high['cost']), currency)} "
            f"({_period_label(high['period'], period)})."
        )
    return out


# --------------------------------------------------------------------------- CAC


def attributable(ds: Dataset, *, by: str = "source") -> bool:
    """Whether buyers can be attributed to ``by`` (sessions carry it and some value is known)."""
    if not ds.has("sessions", "orders") or by not in session_dimensions(ds):
        return False
    b = buyer_cells(ds)
    known = b.filter(b[by] != UNKNOWN).count()
    return int(known.to_pyarrow().as_py()) > 0


def _acquired(ds: Dataset, *, period: Period, by: str | None, cohort_by: CohortBy) -> pd.DataFrame:
    """Buyers per cohort (and ``by``), plus how many have no session, from the engine."""
    b = buyer_cells(ds, period=period)
    name = by or "_all"
    key: ir.Value = b[by] if by is not None and by in b.columns else ibis.literal(UNKNOWN)
    cohort: ir.Value = b.cohort
    if cohort_by == "first_visit":
        # Buyers without a session have no first visit; they keep their first-order period.
        cohort = b.visit_cohort.coalesce(b.cohort)
    frame: pd.DataFrame = (
        b.group_by(cohort=cohort, **{name: key})
        .aggregate(buyers=b.buyers.sum(), without_session=b.without_session.sum())
        .pipe(fetch)
    )
    frame["cohort"] = _dates(frame["cohort"])
    frame["buyers"] = frame["buyers"].astype(int)
    frame["without_session"] = frame["without_session"].fillna(0).astype(int)
    return frame


@dataclass(frozen=True)
class Acquisition:
    """CAC frames shared by :func:`cac`, :func:`romi` and the budget recommendation.

    Attributes:
        by: dimension column or ``None``.
        spend: the cost aggregates.
        by_cohort: ``cohort``, ``<by>``, ``cost``, ``buyers``, ``cac``, ``paid``,
            ``complete`` (paid sources: every window period; organic/unknown: periods with
            buyers). Empty without ``by``.
        sources: ``<by>``, ``status`` (paid/organic/unknown), ``cost``, ``buyers``, ``cac``,
            ``share_of_spend``, ``buyer_share``. Empty without ``by``.
        cohorts: ``cohort``, ``cost``, ``buyers``, ``cac``, ``complete``: all sources.
        without_session: buyers with no session.
        findings: sentences on undefined CACs, organic and unknown buyers.
    """

    by: str | None
    spend: Spend
    by_cohort: pd.DataFrame
    sources: pd.DataFrame
    cohorts: pd.DataFrame
    without_session: int
    findings: tuple[str, ...]


def acquisition_costs(
    ds: Dataset, *, period: Period, by: str | None, cohort_by: CohortBy = "first_order"
) -> Acquisition:
    """Cost and buyers per cohort × source and per source; CAC with NaN where undefined."""
    ds.require("orders", "costs")
    _check_by(ds, by)
    sp = spend(ds, period=period, by=by or "source")
    acquired = _acquired(ds, period=period, by=by, cohort_by=cohort_by)
    periods = _periods(ds, period).rename(columns={"period": "cohort"})
    currency = ds.settings.currency
    findings: list[str] = []

    spend_total = sp.per_period.groupby("period", as_index=False).agg(cost=("cost", "sum"))
    spend_total = spend_total.rename(columns={"period": "cohort"})
    buyers_total = acquired.groupby("cohort", as_index=False).agg(buyers=("buyers", "sum"))
    cohorts = periods.merge(spend_total, on="cohort", how="left").merge(
        buyers_total, on="cohort", how="left"
    )
    cohorts["cost"] = cohorts["cost"].fillna(0.0)
    cohorts["buyers"] = cohorts["buyers"].fillna(0).astype(int)
    cohorts["cac"] = _ratio(cohorts["cost"], cohorts["buyers"])
    cohorts = cohorts[["cohort", "cost", "buyers", "cac", "complete"]]
    no_buyers = cohorts[(cohorts["buyers"] == 0) & (cohorts["cost"] > 0)]
    if len(no_buyers):
        labels = [_period_label(c, period) for c in no_buyers["cohort"]]
        findings.append(
            f"{len(labels)} {_age_unit(period, len(labels))} with spend had no new buyers "
            f"({listing(labels)}): CAC of those cohorts is undefined (NaN)."
        )

    by_cohort = pd.DataFrame()
    sources = pd.DataFrame()
    if by is not None:
        by_cohort, sources = _per_source(sp, acquired, periods, by)
        findings.extend(_cac_sentences(by_cohort, sources, by, currency, period))
    return Acquisition(
        by=by,
        spend=sp,
        by_cohort=by_cohort,
        sources=sources,
        cohorts=cohorts.reset_index(drop=True),
        without_session=int(acquired["without_session"].sum()),
        findings=tuple(findings),
    )


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Numerator ÷ denominator with NaN (never inf) where the denominator is 0 or missing."""
    den = denominator.astype(float)
    return numerator.astype(float).where(den > 0) / den.where(den > 0)


def _per_source(
    sp: Spend, acquired: pd.DataFrame, periods: pd.DataFrame, by: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    paid = set(sp.paid)
    spend_cells = sp.per_period.rename(columns={"period": "cohort"})[["cohort", by, "cost"]]
    buyer_cells = acquired[["cohort", by, "buyers"]]
    cells = spend_cells.merge(buyer_cells, on=["cohort", by], how="outer")
    cells["paid"] = cells[by].isin(paid)
    # Organic and unknown buyers cost nothing that is recorded; their CAC stays NaN below.
    cells["cost"] = cells["cost"].fillna(0.0).astype(float)
    cells["buyers"] = cells["buyers"].fillna(0).astype(int)
    cells["cac"] = _ratio(cells["cost"], cells["buyers"]).where(cells["paid"])
    cells = cells.merge(periods, on="cohort", how="left")
    cells["complete"] = cells["complete"].fillna(False).astype(bool)
    by_cohort = cells[["cohort", by, "cost", "buyers", "cac", "paid", "complete"]]
    by_cohort = by_cohort.sort_values(["cohort", by], key=_sort_key).reset_index(drop=True)

    grouped = by_cohort.groupby(by, as_index=False).agg(
        cost=("cost", "sum"), buyers=("buyers", "sum")
    )
    grouped["paid"] = grouped[by].isin(paid)
    grouped["status"] = np.where(
        grouped["paid"], "paid", np.where(grouped[by] == UNKNOWN, "unknown", "organic")
    )
    grouped["cac"] = _ratio(grouped["cost"], grouped["buyers"]).where(grouped["paid"])
    total_cost = float(grouped["cost"].sum())
    total_buyers = int(grouped["buyers"].sum())
    grouped["share_of_spend"] = grouped["cost"] / total_cost if total_cost > 0 else math.nan
    grouped["buyer_share"] = grouped["buyers"] / total_buyers if total_buyers > 0 else math.nan
    status_rank = {"paid": 0, "organic": 1, "unknown": 2}
    order = sorted(
        range(len(grouped)),
        key=lambda i: (
            status_rank[grouped["status"].iloc[i]],
            -grouped["cost"].iloc[i],
            natural_key(grouped[by].iloc[i]),
        ),
    )
    sources = grouped.iloc[order][
        [by, "status", "cost", "buyers", "cac", "share_of_spend", "buyer_share"]
    ].reset_index(drop=True)
    return by_cohort, sources


def _cac_sentences(
    by_cohort: pd.DataFrame, sources: pd.DataFrame, by: str, currency: str, period: Period
) -> list[str]:
    known = sources[sources["status"] != "unknown"]
    if int(known["buyers"].sum()) == 0 and int(sources["buyers"].sum()) > 0:
        # Nothing can be attributed: per-source sentences would only repeat "no buyers".
        return [
            f"No buyer has a known {by} (the dataset has no sessions, or they carry no {by}), "
            f"so CAC per {by} cannot be attributed; CAC per cohort over all {by}s still holds."
        ]
    out: list[str] = []
    paid = sources[sources["status"] == "paid"]
    priced = paid[paid["cac"].notna()].sort_values("cac", kind="stable")
    if len(priced) >= 2:
        low, high = priced.iloc[0], priced.iloc[-1]
        out.append(
            f"{by.capitalize()} {low[by]} acquires buyers cheapest (CAC "
            f"{money(low['cac'], currency)}, "
            f"{share_text(low['share_of_spend'])} of spend) and {by} {high[by]} dearest "
            f"(CAC {money(high['cac'], currency)}, {share_text(high['share_of_spend'])} of spend)."
        )
    barren = paid[paid["buyers"] == 0]
    if len(barren):
        spent = [f"{r[by]} ({money(r['cost'], currency)})" for _, r in barren.iterrows()]
        noun = by if len(spent) == 1 else f"{by}s"
        out.append(
            f"{noun.capitalize()} {listing(spent)} spent money but acquired no buyer: "
            f"CAC undefined (NaN)."
        )
    cells = by_cohort[by_cohort["paid"] & (by_cohort["buyers"] == 0) & (by_cohort["cost"] > 0)]
    cells = cells[~cells[by].isin(barren[by])]
    if len(cells):
        examples = [
            f"{by} {r[by]} in {_period_label(r['cohort'], period)}" for _, r in cells.iterrows()
        ]
        out.append(
            f"{len(cells)} cohort × {by} cells have spend but no new buyers, so their CAC is "
            f"undefined (NaN): {listing(examples)}."
        )
    organic = sources[sources["status"] == "organic"]
    if len(organic):
        names = sorted(organic[by].astype(str).tolist(), key=natural_key)
        noun = by if len(names) == 1 else f"{by}s"
        out.append(
            f"{noun.capitalize()} {listing(names)} {'has' if len(names) == 1 else 'have'} no cost "
            "rows: "
            f"treated as unpaid (organic), {int(organic['buyers'].sum()):,} buyers; CAC and ROMI "
            f"are not defined for them."
        )
    unknown = sources[sources["status"] == "unknown"]
    if len(unknown) and int(unknown["buyers"].sum()) > 0:
        n = int(unknown["buyers"].sum())
        share = float(unknown["buyer_share"].sum())
        out.append(
            f"{n:,} buyers ({share_text(share)}) have an unknown {by} (no session, or no {by} "
            f"on it): they count in the overall CAC but in no {by}'s CAC."
        )
    return out


def cac(
    ds: Dataset,
    *,
    period: Period = "month",
    by: str | None = "source",
    cohort_by: CohortBy = "first_order",
) -> Result:
    """Customer acquisition cost per source, per cohort and per cohort × source.

    Definitions: docs/metrics.md, "Marketing" → "CAC". CAC(source) = cost of the source ÷
    buyers acquired from it over the window; CAC(c) = all cost in period c ÷ buyers of
    cohort c; CAC(c, source) likewise. Organic sources (no cost rows) and cells with cost
    but no buyers have NaN CAC (with a finding), never 0 or inf.

    Main table (``by`` given): one row per source: ``<by>``, ``status`` (``paid``,
    ``organic`` or ``unknown``), ``cost``, ``buyers``, ``cac``, ``share_of_spend``,
    ``buyer_share``. Extra tables: ``by_cohort`` (``cohort``, ``<by>``, ``cost``,
    ``buyers``, ``cac``, ``paid``, ``complete``) and ``cohorts`` (``cohort``, ``cost``,
    ``buyers``, ``cac``, ``complete``: all sources). With ``by=None`` the main table is
    ``cohorts``.

    Args:
        ds: a Dataset with orders and costs (sessions give buyers their source).
        period: cohort period: ``day``, ``week`` or ``month``.
        by: text column of the costs table matched with the buyer's acquiring session
            (``source``); ``None`` for CAC per cohort only.
        cohort_by: ``first_order`` (default: cohort = first-order period) or
            ``first_visit`` (cohort = first-visit period: matches spend to the visits it
            bought, but recent cohorts keep gaining buyers, so their CAC falls as data comes
            in; buyers without a session keep their first-order period).

    Returns:
        The CAC Result; ``summary``: ``cost``, ``buyers``, ``cac`` (all cost ÷ all buyers),
        ``cac_paid`` (paid sources' cost ÷ their buyers), ``buyers_paid``,
        ``buyers_organic``, ``buyers_unknown``, ``attributed``, ``cohort_by``.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> o = pd.DataFrame(
        ...     {"user_id": [1, 2], "ts": ["2020-01-01 10:00", "2020-01-02"], "revenue": [9.0, 3.0]}
        ... )
        >>> c = pd.DataFrame(
        ...     {"date": ["2020-01-01", "2020-01-02"], "source": ["a", "a"], "cost": [5.0, 7.0]}
        ... )
        >>> gl.cac(gl.load(orders=o, costs=c), by=None).summary["cac"]
        6.0
    """
    period = check_period(period)
    cohort_by = _check_cohort_by(cohort_by)
    acq = acquisition_costs(ds, period=period, by=by, cohort_by=cohort_by)
    currency = ds.settings.currency
    cohorts = acq.cohorts
    total_cost = float(cohorts["cost"].sum())
    total_buyers = int(cohorts["buyers"].sum())
    findings: list[str] = []
    overall = total_cost / total_buyers if total_buyers else math.nan
    summary: dict[str, SummaryValue] = {
        "cost": total_cost,
        "buyers": total_buyers,
        "cac": overall,
        "currency": currency,
        "cohort_by": cohort_by,
    }
    if total_buyers:
        findings.append(
            f"Overall CAC over the window: {money(overall, currency)} "
            f"({money(total_cost, currency)} of spend ÷ {total_buyers:,} buyers)."
        )
    else:
        findings.append("There are no buyers in the window, so CAC is undefined (NaN).")
    complete = cohorts[cohorts["complete"] & cohorts["cac"].notna()]
    if len(complete) >= 2:
        low = complete.iloc[int(complete["cac"].to_numpy().argmin())]
        high = complete.iloc[int(complete["cac"].to_numpy().argmax())]
        findings.append(
            f"CAC per complete cohort ranged from {money(low['cac'], currency)} "
            f"({_period_label(low['cohort'], period)}) to {money(high['cac'], currency)} "
            f"({_period_label(high['cohort'], period)})."
        )
    findings.extend(acq.findings)
    if cohort_by == "first_visit" and acq.without_session:
        findings.append(
            f"{acq.without_session:,} buyers have no session, so no first visit: with "
            f"cohort_by='first_visit' they are placed in their first-order period."
        )
    figures: list[FigureSpec] = []
    tables: dict[str, pd.DataFrame] = {}
    if by is None:
        main = cohorts
    else:
        main = acq.sources
        tables = {"by_cohort": acq.by_cohort, "cohorts": cohorts}
        paid = main[main["status"] == "paid"]
        summary.update(
            {
                "cac_paid": _safe_div(float(paid["cost"].sum()), float(paid["buyers"].sum())),
                "buyers_paid": int(paid["buyers"].sum()),
                "buyers_organic": int(main.loc[main["status"] == "organic", "buyers"].sum()),
                "buyers_unknown": int(main.loc[main["status"] == "unknown", "buyers"].sum()),
                "attributed": bool((main.loc[main["status"] != "unknown", "buyers"] > 0).any()),
            }
        )
        label = by.replace("_", " ")
        figures = [
            FigureSpec(
                kind="bar",
                x=by,
                y="cac",
                table="main",
                title=f"CAC by {label} over the window",
                labels={by: label.capitalize(), "cac": f"CAC ({currency})"},
                value_format=",.2f",
            ),
            FigureSpec(
                kind="heatmap",
                x=by,
                y="cohort",
                z="cac",
                table="by_cohort",
                title=f"CAC by cohort and {label}",
                labels={by: label.capitalize(), "cohort": "Cohort", "cac": f"CAC ({currency})"},
                value_format=",.2f",
            ),
        ]
    figures.append(
        FigureSpec(
            kind="line",
            x="cohort",
            y="cac",
            table="main" if by is None else "cohorts",
            title="CAC per cohort (all sources)",
            labels={"cohort": "Cohort", "cac": f"CAC ({currency})"},
            value_format=",.2f",
        )
    )
    return Result(
        name="cac",
        title="Customer acquisition cost (CAC)",
        table=main,
        summary=summary,
        findings=tuple(findings),
        tables=tables,
        figures=tuple(figures),
        notes=(
            "CAC = spend ÷ buyers acquired. Cohort = period of the first order"
            + (" (here: of the first visit)" if cohort_by == "first_visit" else "")
            + "; a buyer's source is the source of the acquiring session "
            f"({ds.settings.acquisition.replace('_', ' ')}).",
            "Sources without cost rows are organic: CAC undefined. Cells with spend but no "
            "buyers have undefined CAC (NaN), never infinity.",
        ),
    )


def _safe_div(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


# --------------------------------------------------------------------------- ROMI


def gross_profit_by(ds: Dataset, *, by: str | None) -> pd.DataFrame:
    """Gross profit (revenue × margin) of all orders in the window per acquiring ``by``."""
    cells = order_cells(ds)
    name = by or "_all"
    key: ir.Value = cells[by] if by is not None and by in cells.columns else ibis.literal(UNKNOWN)
    frame: pd.DataFrame = (
        cells.group_by(**{name: key}).aggregate(revenue=cells.revenue.sum()).pipe(fetch)
    )
    frame["gross_profit"] = frame["revenue"].astype(float) * ds.settings.margin
    return frame[[name, "gross_profit"]]


def buyer_gross_profit(
    ds: Dataset, *, period: Period, horizon: int, by: str, cohorts: list[Any] | None = None
) -> pd.DataFrame:
    """Per-buyer gross profit over ages 0..horizon−1 of the buyer's cohort.

    A per-user feature table (one row per buyer, not per order), for the budget bootstrap:
    ``user_id``, ``cohort``, ``<by>``, ``gross_profit``. ``cohorts`` restricts it to those
    cohort start dates (in the engine). The mean over a cohort's buyers is LTV(c, horizon−1).
    """
    b = buyers(ds, period=period)
    key: ir.Value = b[by] if by in b.columns else ibis.literal(UNKNOWN)
    b = b.select("user_id", "cohort", **{by: key})
    if cohorts is not None:
        wanted = [pd.Timestamp(c).date() for c in cohorts]
        if not wanted:
            return pd.DataFrame({"user_id": [], "cohort": [], by: [], "gross_profit": []})
        b = b.filter(b.cohort.isin(wanted))
    orders = ds.table("orders")
    joined = orders.inner_join(b, "user_id")
    joined = joined.filter(age(joined.cohort, period_start(joined.ts, period), period) < horizon)
    frame: pd.DataFrame = (
        joined.group_by(["user_id", "cohort", by])
        .aggregate(revenue=joined.revenue.sum())
        .pipe(fetch)
    )
    frame["cohort"] = _dates(frame["cohort"])
    frame["gross_profit"] = frame["revenue"].astype(float) * ds.settings.margin
    # Engines return rows in any order; the bootstrap indexes buyers by position, so a fixed
    # order (cohort, source, user) is what makes its intervals reproducible. Ids compare as
    # text: they are uint64 on DuckDB but text on Spark, and both must give the same order.
    frame["_order"] = frame["user_id"].astype(str)
    frame = frame.sort_values(["cohort", by, "_order"], kind="stable").reset_index(drop=True)
    return frame[["user_id", "cohort", by, "gross_profit"]]


def _with_romi(cells: pd.DataFrame, cac_cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    merged = cells.merge(cac_cells, on=keys, how="left")
    cac_ = merged["cac"].astype(float)
    merged["romi"] = (merged["ltv"].astype(float).where(cac_ > 0) / cac_.where(cac_ > 0)) - 1.0
    return merged


def mean_curve(cells: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Unweighted mean of ROMI over complete, defined cells per ``group`` + age, with count."""
    used = cells[cells["complete"].astype(bool) & cells["romi"].notna()]
    curve = used.groupby([*group, "age"], as_index=False).agg(
        romi=("romi", "mean"), cells=("romi", "size")
    )
    return curve


def payback(ages: list[int], values: list[float]) -> tuple[int | None, str, float, int | None]:
    """First age with ROMI ≥ 0, else "not yet" with the last value, else "undefined".

    ``ages``/``values`` are one curve's defined points in age order. Returns
    ``(payback_age, text, last_romi, last_age)``.

    >>> payback([0, 1, 2], [-0.5, 0.1, 0.3])[:2]
    (1, 'age 1')
    >>> payback([0, 1, 2, 3, 4], [-0.9, -0.7, -0.5, -0.4, -0.35])[1]
    'not yet (last −0.35 at age 4)'
    >>> payback([], [])[1]
    'undefined'
    """
    pairs = [(a, v) for a, v in zip(ages, values, strict=True) if math.isfinite(v)]
    if not pairs:
        return None, "undefined", math.nan, None
    for a, v in pairs:
        if v >= 0:
            return int(a), f"age {int(a)}", pairs[-1][1], int(pairs[-1][0])
    last_age, last = pairs[-1]
    return None, f"not yet (last {signed(last)} at age {int(last_age)})", last, int(last_age)


def _payback_rows(curve: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    rows = []
    for keys, part in curve.sort_values("age").groupby(group, sort=False):
        key_values = keys if isinstance(keys, tuple) else (keys,)
        found, text, last, last_age = payback(
            part["age"].astype(int).tolist(), part["romi"].astype(float).tolist()
        )
        rows.append(
            {
                **dict(zip(group, key_values, strict=True)),
                "payback_age": found,
                "payback": text,
                "last_age": last_age,
                "last_romi": last,
            }
        )
    frame = pd.DataFrame(rows, columns=[*group, "payback_age", "payback", "last_age", "last_romi"])
    frame["payback_age"] = frame["payback_age"].astype("Int64")
    frame["last_age"] = frame["last_age"].astype("Int64")
    frame["last_romi"] = frame["last_romi"].astype(float)
    return frame


def _ltv_table(ds: Dataset, *, period: Period, by: str | None) -> pd.DataFrame:
    from growthlens.metrics.revenue import ltv

    table: pd.DataFrame = ltv(ds, period=period, by=by).table.copy()
    table["cohort"] = _dates(table["cohort"])
    table["age"] = table["age"].astype(int)
    return table


def romi(
    ds: Dataset, *, period: Period = "month", by: str | None = "source", horizon: int = 6
) -> Result:
    """Return on marketing investment by cohort × age (per source), over the window, payback.

    Definitions: docs/metrics.md, "Marketing" → "ROMI and payback". ROMI(c, k) =
    LTV(c, k) ÷ CAC(c) − 1 (0 = paid back), per source with that source's LTV and CAC;
    ROMI over the window = gross profit of the source's buyers ÷ its cost − 1; N-period
    ROMI (N = ``horizon``) = unweighted mean of ROMI(c, N−1) over complete cells; payback =
    first age with ROMI ≥ 0 (on the mean curve of complete cells for a source; on the
    observed cells for a cohort). Undefined cells (organic, zero CAC) are NaN.

    Main table (``by`` given): ``cohort``, ``age``, ``<by>``, ``buyers``, ``ltv``, ``cac``,
    ``romi``, ``complete`` (only observed cells). Extra tables: ``sources`` (ranking:
    ``rank``, ``<by>``, ``status``, ``cost``, ``share_of_spend``, ``buyers``, ``cac``,
    ``gross_profit``, ``romi`` (window), ``romi_n``, ``cohorts_used``, ``payback_age``,
    ``payback``), ``cohorts`` (the same long table over all sources, no ``<by>``),
    ``curves`` (``<by>``, ``age``, ``romi``, ``cells``: mean over complete cells; the
    all-sources curve is labelled ``(all sources)``), ``payback`` (``cohort``, ``<by>``,
    ``payback_age``, ``payback``, ``last_age``, ``last_romi``) and ``heatmap:<source>``
    per paid source (largest spend first). With ``by=None`` the main table is
    ``cohorts`` and there is no ``sources`` table.

    Args:
        ds: a Dataset with orders and costs (sessions give buyers their source).
        period: cohort period: ``day``, ``week`` or ``month``.
        by: text column of the costs table matched with the buyer's acquiring session;
            ``None`` for all sources together.
        horizon: N of the "N-period ROMI" (the age N−1 cell).

    Returns:
        The ROMI Result; ``summary``: ``cost``, ``gross_profit``, ``romi`` (window, all
        sources), ``romi_n``, ``cohorts_used``, ``payback_age``, ``payback``, ``horizon``.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> o = pd.DataFrame(
        ...     {"user_id": [1, 2], "ts": ["2020-01-01 10:00", "2020-01-02"], "revenue": [9.0, 3.0]}
        ... )
        >>> c = pd.DataFrame(
        ...     {"date": ["2020-01-01", "2020-01-02"], "source": ["a", "a"], "cost": [5.0, 7.0]}
        ... )
        >>> gl.romi(gl.load(orders=o, costs=c), by=None).summary["romi"]
        0.0
    """
    period = check_period(period)
    horizon = _check_horizon(horizon)
    acq = acquisition_costs(ds, period=period, by=by)
    currency = ds.settings.currency
    findings: list[str] = []

    overall = _with_romi(
        _ltv_table(ds, period=period, by=None)[["cohort", "age", "buyers", "ltv", "complete"]],
        acq.cohorts[["cohort", "cac"]],
        ["cohort"],
    )
    overall = overall[["cohort", "age", "buyers", "ltv", "cac", "romi", "complete"]]
    overall = overall.sort_values(["cohort", "age"]).reset_index(drop=True)
    zero_cac = overall[(overall["cac"] == 0) & overall["ltv"].notna()]
    if len(zero_cac):
        labels = sorted({_period_label(c, period) for c in zero_cac["cohort"]})
        findings.append(
            f"Cohorts {listing(labels)} have buyers but no spend (CAC 0): their ROMI divides "
            f"by zero and is undefined (NaN)."
        )
    overall_curve = mean_curve(overall, [])
    overall_curve.insert(0, "_group", ALL_SOURCES)
    found, text, _, _ = payback(overall_curve["age"].tolist(), overall_curve["romi"].tolist())
    at_horizon = overall_curve[overall_curve["age"] == horizon - 1]
    romi_n = float(at_horizon["romi"].iloc[0]) if len(at_horizon) else math.nan
    cohorts_used = int(at_horizon["cells"].iloc[0]) if len(at_horizon) else 0
    total_cost = float(acq.cohorts["cost"].sum())
    total_gp = float(gross_profit_by(ds, by=None)["gross_profit"].sum())
    window_romi = total_gp / total_cost - 1 if total_cost > 0 else math.nan
    summary: dict[str, SummaryValue] = {
        "horizon": horizon,
        "cost": total_cost,
        "gross_profit": total_gp,
        "margin": ds.settings.margin,
        "romi": window_romi,
        "romi_n": romi_n,
        "cohorts_used": cohorts_used,
        "payback_age": found,
        "payback": text,
        "currency": currency,
    }
    n_label = f"{horizon}-{period}"
    findings.extend(_overall_romi_sentences(summary, n_label, period))

    overall_payback = _cohort_payback(overall, [])
    if by is None:
        curves = overall_curve.drop(columns="_group")
        return Result(
            name="romi",
            title="Return on marketing investment (ROMI)",
            table=overall,
            summary=summary,
            findings=tuple(findings),
            tables={"curves": curves, "payback": overall_payback},
            figures=(
                _heatmap_spec("main", "ROMI by cohort and age (all sources)", period),
                _curve_spec("curves", None, period),
            ),
            notes=_romi_notes(horizon, period),
        )

    # ---- per source
    attributed = by in session_dimensions(ds)
    if attributed:
        cells = _ltv_table(ds, period=period, by=by)
    else:
        cells = _ltv_table(ds, period=period, by=None)
        cells[by] = UNKNOWN
    cells = cells[["cohort", "age", by, "buyers", "ltv", "complete"]]
    cac_cells = acq.by_cohort[["cohort", by, "cac"]]
    main = _with_romi(cells, cac_cells, ["cohort", by])
    main = main[["cohort", "age", by, "buyers", "ltv", "cac", "romi", "complete"]]
    main = main.sort_values([by, "cohort", "age"], key=_sort_key).reset_index(drop=True)
    paid = set(acq.spend.paid)
    zero = main[(main["cac"] == 0) & main[by].isin(paid)]
    if len(zero):
        examples = sorted(
            {f"{by} {r[by]} in {_period_label(r['cohort'], period)}" for _, r in zero.iterrows()}
        )
        findings.append(
            f"{len(examples)} cohort × {by} cells have buyers but no spend (CAC 0), so their ROMI "
            f"divides by zero and is undefined (NaN): {listing(examples)}."
        )
    curves = mean_curve(main, [by])
    sources = _romi_sources(ds, acq, curves, horizon, by)
    findings.extend(_source_romi_sentences(sources, by, n_label, horizon, period, attributed))
    all_curve = overall_curve.rename(columns={"_group": by})
    curves = pd.concat([all_curve, curves], ignore_index=True)[[by, "age", "romi", "cells"]]
    payback_cells = pd.concat(
        [overall_payback.assign(**{by: ALL_SOURCES}), _cohort_payback(main, [by])],
        ignore_index=True,
    )[["cohort", by, "payback_age", "payback", "last_age", "last_romi"]]
    tables: dict[str, pd.DataFrame] = {
        "sources": sources,
        "cohorts": overall,
        "curves": curves,
        "payback": payback_cells,
    }
    figures = [_heatmap_spec("cohorts", "ROMI by cohort and age (all sources)", period)]
    ranked_paid = sources[(sources["status"] == "paid") & (sources["buyers"] > 0)].sort_values(
        "cost", ascending=False, kind="stable"
    )
    for source in ranked_paid[by].head(MAX_HEATMAPS):
        key = f"heatmap:{source}"
        part = main[main[by] == source][
            ["cohort", "age", "buyers", "ltv", "cac", "romi", "complete"]
        ]
        tables[key] = part.reset_index(drop=True)
        figures.append(_heatmap_spec(key, f"ROMI by cohort and age — {by} {source}", period))
    figures.append(_curve_spec("curves", by, period))
    return Result(
        name="romi",
        title="Return on marketing investment (ROMI)",
        table=main,
        summary=summary,
        findings=tuple(findings),
        tables=tables,
        figures=tuple(figures),
        notes=_romi_notes(horizon, period),
    )


def _cohort_payback(cells: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    observed = cells[cells["romi"].notna()]
    frame = _payback_rows(observed, [*group, "cohort"])
    # Cohorts whose every cell is undefined (no spend) are "undefined", not missing.
    every = cells[[*group, "cohort"]].drop_duplicates()
    frame = every.merge(frame, on=[*group, "cohort"], how="left")
    frame["payback"] = frame["payback"].fillna("undefined")
    return frame.sort_values([*group, "cohort"], key=_sort_key).reset_index(drop=True)


def _romi_sources(
    ds: Dataset, acq: Acquisition, curves: pd.DataFrame, horizon: int, by: str
) -> pd.DataFrame:
    sources = acq.sources.copy()
    profit = gross_profit_by(ds, by=by).rename(columns={by: by})
    sources = sources.merge(profit, on=by, how="left")
    sources["gross_profit"] = sources["gross_profit"].fillna(0.0)
    paid = sources["status"] == "paid"
    sources["romi"] = (_ratio(sources["gross_profit"], sources["cost"]) - 1.0).where(paid)
    at_n = curves[curves["age"] == horizon - 1][[by, "romi", "cells"]].rename(
        columns={"romi": "romi_n", "cells": "cohorts_used"}
    )
    sources = sources.merge(at_n, on=by, how="left")
    sources["cohorts_used"] = sources["cohorts_used"].fillna(0).astype(int)
    paybacks = _payback_rows(curves, [by])[[by, "payback_age", "payback"]] if len(curves) else None
    if paybacks is not None:
        sources = sources.merge(paybacks, on=by, how="left")
    else:
        sources["payback_age"] = pd.array([pd.NA] * len(sources), dtype="Int64")
        sources["payback"] = None
    sources["payback"] = sources["payback"].where(paid & sources["payback"].notna(), "undefined")
    sources.loc[~paid, "payback_age"] = pd.NA
    sources["payback_age"] = sources["payback_age"].astype("Int64")
    status_rank = {"paid": 0, "organic": 1, "unknown": 2}
    order = sorted(
        range(len(sources)),
        key=lambda i: (
            status_rank[sources["status"].iloc[i]],
            -_finite_or(sources["romi_n"].iloc[i], -math.inf),
            -_finite_or(sources["romi"].iloc[i], -math.inf),
            natural_key(sources[by].iloc[i]),
        ),
    )
    sources = sources.iloc[order].reset_index(drop=True)
    sources.insert(0, "rank", range(1, len(sources) + 1))
    return sources[
        [
            "rank",
            by,
            "status",
            "cost",
            "share_of_spend",
            "buyers",
            "cac",
            "gross_profit",
            "romi",
            "romi_n",
            "cohorts_used",
            "payback_age",
            "payback",
        ]
    ]


def _finite_or(value: Any, default: float) -> float:
    return (
        float(value)
        if value is not None and not pd.isna(value) and math.isfinite(float(value))
        else default
    )


def _overall_romi_sentences(
    summary: dict[str, SummaryValue], n_label: str, period: Period
) -> list[str]:
    out = []
    romi_w = float(summary["romi"])  # type: ignore[arg-type]
    if math.isfinite(romi_w):
        out.append(
            f"Over the window, buyers' gross profit is {share_text(romi_w + 1)} of marketing spend "
            f"(ROMI {signed(romi_w)})."
        )
    romi_n = float(summary["romi_n"])  # type: ignore[arg-type]
    cells = int(summary["cohorts_used"])  # type: ignore[arg-type]
    if math.isfinite(romi_n):
        out.append(
            f"After {n_label.replace('-', ' ')}s, cohorts have returned {share_text(romi_n + 1)} "
            "of their "
            f"acquisition cost on average ({n_label} ROMI {signed(romi_n)}, mean of {cells} "
            "complete "
            f"cohort{'s' if cells != 1 else ''})."
        )
    else:
        out.append(
            f"No cohort is complete at the {n_label} horizon yet, so the {n_label} ROMI is "
            "undefined."
        )
    if summary["payback_age"] is not None:
        k = int(summary["payback_age"])  # type: ignore[arg-type]
        out.append(
            f"On average, cohorts pay back at age {k}, i.e. within {k + 1} "
            f"{_age_unit(period, k + 1)} "
            "of their first order."
        )
    elif summary["payback"] != "undefined":
        out.append(f"On average, cohorts have not paid back: {summary['payback']}.")
    return out


def _source_romi_sentences(
    sources: pd.DataFrame, by: str, n_label: str, horizon: int, period: Period, attributed: bool
) -> list[str]:
    if not attributed or not (sources["status"] != "unknown").any():
        return [
            f"No buyer has a known {by}, so ROMI per {by} cannot be computed; ROMI per cohort over "
            f"all {by}s is in the table 'cohorts'."
        ]
    out = []
    paid = sources[sources["status"] == "paid"].sort_values("cost", ascending=False, kind="stable")
    span = f"{horizon} {_age_unit(period, horizon)}"
    for _, row in paid.head(3).iterrows():
        lead = f"{by.capitalize()} {row[by]} took {share_text(row['share_of_spend'])} of spend"
        if math.isfinite(row["romi_n"]):
            out.append(
                f"{lead}; its buyers have returned {share_text(row['romi_n'] + 1)} of their cost "
                f"after {span}."
            )
        elif math.isfinite(row["romi"]):
            out.append(
                f"{lead}; over the window its buyers have returned {share_text(row['romi'] + 1)} "
                "of its "
                f"cost (no complete cohort at {span} yet)."
            )
    back = paid[paid["payback_age"].notna()].sort_values("payback_age", kind="stable")
    if len(back):
        first = back.iloc[0]
        out.append(
            f"{by.capitalize()} {first[by]} pays back fastest: its mean ROMI reaches 0 at age "
            f"{first['payback_age']}."
        )
    never = paid[paid["payback"].str.startswith("not yet")]
    if len(never):
        names = [f"{r[by]} ({r['payback'].removeprefix('not yet (')}" for _, r in never.iterrows()]
        out.append(f"Not paid back on average: {by}s {listing(names)}.")
    return out


def _heatmap_spec(table: str, title: str, period: Period) -> FigureSpec:
    return FigureSpec(
        kind="heatmap",
        x="age",
        y="cohort",
        z="romi",
        table=table,
        title=title,
        labels={"age": f"Age ({period}s since first order)", "cohort": "Cohort", "romi": "ROMI"},
        value_format=".0%",
    )


def _curve_spec(table: str, by: str | None, period: Period) -> FigureSpec:
    return FigureSpec(
        kind="line",
        x="age",
        y="romi",
        color=by,
        table=table,
        title="ROMI curves: mean over complete cohorts",
        labels={"age": f"Age ({period}s since first order)", "romi": "ROMI (0 = paid back)"}
        | ({by: by.replace("_", " ").capitalize()} if by else {}),
        value_format=".0%",
    )


def _romi_notes(horizon: int, period: Period) -> tuple[str, ...]:
    return (
        "ROMI(c, k) = LTV(c, k) ÷ CAC(c) − 1: 0 means the cohort's gross profit has paid back "
        "what it cost to acquire; −0.6 means 40% has come back.",
        f"The {horizon}-{period} ROMI is the unweighted mean of ROMI at age {horizon - 1} over "
        "complete cohorts; payback is the first age where the mean curve reaches 0.",
        "Organic sources and cells without spend have undefined ROMI (blank), never 0.",
    )
