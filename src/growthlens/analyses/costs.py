"""Marketing spend per period and source, shares of spend and cost gaps.

Definitions: docs/metrics.md, "Marketing" → "Spend"; the engine part is
:mod:`growthlens.metrics.marketing.spend`. Options, the stages and the report plan are
registered once at the bottom (docs/architecture.md, "How to add an analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.metrics.marketing.spend import (
    Spend,
    check_by,
    period_shares,
    source_spend,
    spend,
)
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
)

BY = "source"
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


@dataclass(frozen=True)
class Params:
    """Resolved options: the period and the costs column to split by."""

    period: Period
    by: str


@dataclass(frozen=True)
class Frames:
    """What the engine returned, reshaped: spend per period × source, per period, per source.

    Attributes:
        spend: the cost aggregates (paid sources, gaps and their unit).
        main: ``period``, ``<by>``, ``cost``, ``share``, ``complete``.
        totals: ``period``, ``cost``, ``complete``.
        sources: spend per source over the window, largest first.
        currency: the dataset's currency.
    """

    spend: Spend
    main: pd.DataFrame
    totals: pd.DataFrame
    sources: pd.DataFrame
    currency: str


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
    return COSTS.run(ds, period=period, by=by)


def _params(ds: Dataset, *, period: Period | None, by: str) -> Params:
    period = check_period(period or ds.settings.period)
    check_by(ds, by)
    return Params(period=period, by=by)


def _compute(ds: Dataset, p: Params) -> Frames:
    sp = spend(ds, period=p.period, by=p.by)
    main, totals = period_shares(sp)
    sources = source_spend(sp, float(main["cost"].sum()))
    return Frames(sp, main, totals, sources, ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    sp, main, totals, sources = frames.spend, frames.main, frames.totals, frames.sources
    by, period, currency = p.by, p.period, frames.currency
    total = float(main["cost"].sum())
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
        labels = [period_label(start, period) for start in empty["period"]]
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
        # Unique per split: the report runs it per source and, with campaigns, per campaign.
        name="costs" if by == BY else f"costs_by_{by}",
        title="Marketing spend" if by == BY else f"Marketing spend by {by.replace('_', ' ')}",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"sources": sources, "totals": totals, "gaps": sp.gaps},
        params=params_dict(p),
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
                rank="cost",
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
                rank="share_of_spend",
            ),
        ),
        notes=(
            "A source is paid when it has at least one cost row in the window. Days (or months) "
            "missing inside a paid source's cost series count as 0 spend and are listed as gaps.",
            f"Spend is summed over cost rows inside the data window, in {currency}.",
        ),
    )


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


def _plan(ds: Dataset) -> Plan:
    """Per source whenever the dataset has costs; per campaign too when costs name them.

    Campaign-level spend rows need no sessions (gl.channels adds conversions and revenue
    per campaign when the sessions carry the campaign as well).
    """
    runs: list[dict[str, object]] = [{"period": ds.settings.period, "by": BY}]
    if ds.has("costs") and "campaign" in ds.table("costs").columns:
        runs.append({"period": ds.settings.period, "by": "campaign"})
    return Plan(runs=tuple(runs))


COSTS = register(
    Analysis(
        name="costs",
        title="Marketing spend",
        group="marketing",
        needs=("costs",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    costs,
)
