"""Customer acquisition cost per source and per cohort (DESIGN §4, "Marketing").

Definitions: docs/metrics.md, "Marketing" → "CAC". CAC(source) = cost of the source ÷
buyers acquired from it, over the window; CAC(c) = all cost in period c ÷ buyers of
cohort c; CAC(c, source) likewise per source. A source without cost rows is organic (CAC
NaN, never 0); buyers whose source is unknown count in overall figures only; every
division by zero gives NaN plus a finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyer_cells, session_dimensions
from growthlens.derive.periods import (
    UNKNOWN,
    Period,
    check_period,
)
from growthlens.derive.periods import dates as _dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.marketing.spend import Spend, check_by, period_table, spend
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
    age_unit,
    count_of,
    listing,
    money,
    money_range,
    natural_key,
    period_label,
    share_text,
    sort_key,
)

CohortBy = Literal["first_order", "first_visit"]
COHORT_BY: tuple[CohortBy, ...] = ("first_order", "first_visit")


def check_cohort_by(cohort_by: str) -> CohortBy:
    """``first_order`` or ``first_visit``."""
    if cohort_by not in COHORT_BY:
        raise ConfigError(f"cohort_by must be one of {', '.join(COHORT_BY)}; got {cohort_by!r}")
    return cohort_by  # type: ignore[return-value]


def attribution_gap(ds: Dataset, *, by: str = "source") -> str | None:
    """Why no buyer can be attributed to ``by``, in words; ``None`` when some buyer can.

    A buyer is attributed through the ``by`` of their acquiring session, so this needs
    sessions with that column, at least one buyer, and one whose value is known.
    """
    if not ds.has("sessions"):
        return f"the dataset has no sessions to match buyers to a {by}"
    if by not in session_dimensions(ds):
        return f"the sessions have no {by} column"
    if not ds.has("orders"):
        return "the dataset has no orders"
    b = buyer_cells(ds)
    counts = fetch(
        b.aggregate(buyers=b.buyers.sum(), known=b.buyers.sum(where=b[by] != UNKNOWN))
    ).iloc[0]
    if not counts["buyers"] or pd.isna(counts["buyers"]):
        return "no order lies in the data window, so there is no buyer"
    if not counts["known"] or pd.isna(counts["known"]):
        return f"no buyer's acquiring session carries a {by}"
    return None


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
        findings: findings on undefined CACs, organic and unknown buyers.
    """

    by: str | None
    spend: Spend
    by_cohort: pd.DataFrame
    sources: pd.DataFrame
    cohorts: pd.DataFrame
    without_session: int
    findings: tuple[Finding, ...]


def acquisition_costs(
    ds: Dataset, *, period: Period, by: str | None, cohort_by: CohortBy = "first_order"
) -> Acquisition:
    """Cost and buyers per cohort × source and per source; CAC with NaN where undefined."""
    ds.require("orders", "costs")
    check_by(ds, by)
    sp = spend(ds, period=period, by=by or "source")
    acquired = _acquired(ds, period=period, by=by, cohort_by=cohort_by)
    periods = period_table(ds, period).rename(columns={"period": "cohort"})
    currency = ds.settings.currency
    findings: list[Finding] = []

    spend_total = sp.per_period.groupby("period", as_index=False).agg(cost=("cost", "sum"))
    spend_total = spend_total.rename(columns={"period": "cohort"})
    buyers_total = acquired.groupby("cohort", as_index=False).agg(buyers=("buyers", "sum"))
    cohorts = periods.merge(spend_total, on="cohort", how="left").merge(
        buyers_total, on="cohort", how="left"
    )
    cohorts["cost"] = cohorts["cost"].fillna(0.0)
    cohorts["buyers"] = cohorts["buyers"].fillna(0).astype(int)
    cohorts["cac"] = ratio(cohorts["cost"], cohorts["buyers"])
    cohorts = cohorts[["cohort", "cost", "buyers", "cac", "complete"]]
    no_buyers = cohorts[(cohorts["buyers"] == 0) & (cohorts["cost"] > 0)]
    if len(no_buyers):
        labels = [period_label(c, period) for c in no_buyers["cohort"]]
        findings.append(
            Finding(
                "cohorts_without_buyers",
                f"{len(labels)} {age_unit(period, len(labels))} with spend had no new buyers "
                f"({listing(labels)}): CAC of those cohorts is undefined (NaN).",
                "warning",
            )
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


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
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
    cells["cac"] = ratio(cells["cost"], cells["buyers"]).where(cells["paid"])
    cells = cells.merge(periods, on="cohort", how="left")
    cells["complete"] = cells["complete"].fillna(False).astype(bool)
    by_cohort = cells[["cohort", by, "cost", "buyers", "cac", "paid", "complete"]]
    by_cohort = by_cohort.sort_values(["cohort", by], key=sort_key).reset_index(drop=True)

    grouped = by_cohort.groupby(by, as_index=False).agg(
        cost=("cost", "sum"), buyers=("buyers", "sum")
    )
    grouped["paid"] = grouped[by].isin(paid)
    grouped["status"] = np.where(
        grouped["paid"], "paid", np.where(grouped[by] == UNKNOWN, "unknown", "organic")
    )
    grouped["cac"] = ratio(grouped["cost"], grouped["buyers"]).where(grouped["paid"])
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
) -> list[Finding]:
    known = sources[sources["status"] != "unknown"]
    if int(known["buyers"].sum()) == 0 and int(sources["buyers"].sum()) > 0:
        # Nothing can be attributed: per-source sentences would only repeat "no buyers".
        return [
            Finding(
                "not_attributed",
                f"No buyer has a known {by} (the dataset has no sessions, or they carry no {by}), "
                f"so CAC per {by} cannot be attributed; CAC per cohort over all {by}s still holds.",
                "warning",
            )
        ]
    out: list[Finding] = []
    paid = sources[sources["status"] == "paid"]
    priced = paid[paid["cac"].notna()].sort_values("cac", kind="stable")
    if len(priced) >= 2:
        low, high = priced.iloc[0], priced.iloc[-1]
        out.append(
            Finding(
                "cac_spread",
                f"{by.capitalize()} {low[by]} acquires buyers cheapest (CAC "
                f"{money(low['cac'], currency)}, "
                f"{share_text(low['share_of_spend'])} of spend) and {by} {high[by]} dearest "
                f"(CAC {money(high['cac'], currency)}, {share_text(high['share_of_spend'])} of "
                "spend).",
            )
        )
    barren = paid[paid["buyers"] == 0]
    spent = [
        f"{r[by]} ({money(r['cost'], currency)})" for _, r in barren.iterrows() if r["cost"] > 0
    ]
    if spent:
        noun = by if len(spent) == 1 else f"{by}s"
        out.append(
            Finding(
                "spend_without_buyers",
                f"{noun.capitalize()} {listing(spent)} spent money but acquired no buyer: "
                f"CAC undefined (NaN).",
                "warning",
            )
        )
    # Cost rows that add up to nothing (a paused campaign) with no buyer: 0 ÷ 0.
    idle = [str(r[by]) for _, r in barren.iterrows() if r["cost"] <= 0]
    if idle:
        noun = by if len(idle) == 1 else f"{by}s"
        verb = "has" if len(idle) == 1 else "have"
        out.append(
            Finding(
                "zero_cost_sources",
                f"{noun.capitalize()} {listing(idle)} {verb} cost rows that add up to 0 and no "
                "buyer: "
                f"CAC undefined (NaN).",
            )
        )
    cells = by_cohort[by_cohort["paid"] & (by_cohort["buyers"] == 0) & (by_cohort["cost"] > 0)]
    cells = cells[~cells[by].isin(barren[by])]
    if len(cells):
        examples = [
            f"{by} {r[by]} in {period_label(r['cohort'], period)}" for _, r in cells.iterrows()
        ]
        out.append(
            Finding(
                "cells_without_buyers",
                f"{count_of(len(cells), f'cohort × {by} cell')} with spend but no new buyers: "
                "their CAC is "
                f"undefined (NaN): {listing(examples)}.",
                "warning",
            )
        )
    organic = sources[sources["status"] == "organic"]
    if len(organic):
        names = sorted(organic[by].astype(str).tolist(), key=natural_key)
        noun = by if len(names) == 1 else f"{by}s"
        out.append(
            Finding(
                "organic_sources",
                f"{noun.capitalize()} {listing(names)} {'has' if len(names) == 1 else 'have'} no "
                "cost "
                "rows: "
                f"treated as unpaid (organic), {count_of(int(organic['buyers'].sum()), 'buyer')}; "
                "CAC and ROMI "
                f"are not defined for them.",
            )
        )
    unknown = sources[sources["status"] == "unknown"]
    if len(unknown) and int(unknown["buyers"].sum()) > 0:
        n = int(unknown["buyers"].sum())
        share = float(unknown["buyer_share"].sum())
        out.append(
            Finding(
                "unknown_source_buyers",
                f"{count_of(n, 'buyer')} ({share_text(share)}) with an unknown {by} (no session, "
                f"or no {by} "
                f"on it): they count in the overall CAC but in no {by}'s CAC.",
                "warning",
            )
        )
    return out


SUMMARY: SummarySpec = {
    "cost": ("money", "Spend over the window"),
    "buyers": ("count", "Buyers"),
    "cac": ("money", "CAC over the window"),
    "currency": ("text", "Currency"),
    "cohort_by": ("text", "Cohort by"),
    "cac_paid": ("money", "CAC of paid sources' buyers"),
    "buyers_paid": ("count", "Buyers from paid sources"),
    "buyers_organic": ("count", "Buyers from organic sources"),
    "buyers_unknown": ("count", "Buyers with an unknown source"),
    "attributed": ("flag", "Buyers attributed to a source"),
}


def cac(
    ds: Dataset,
    *,
    period: Period | None = None,
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
        period: cohort period: ``day``, ``week`` or ``month`` (default: the dataset's
            ``period`` setting).
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
        >>> gl.cac(gl.load(orders=o, costs=c), by=None).summary["cac"].value
        6.0
    """
    period = check_period(period or ds.settings.period)
    cohort_by = check_cohort_by(cohort_by)
    acq = acquisition_costs(ds, period=period, by=by, cohort_by=cohort_by)
    currency = ds.settings.currency
    cohorts = acq.cohorts
    total_cost = float(cohorts["cost"].sum())
    total_buyers = int(cohorts["buyers"].sum())
    findings: list[Finding] = []
    overall = total_cost / total_buyers if total_buyers else math.nan
    summary: dict[str, SummaryValue] = {
        "cost": total_cost,
        "buyers": total_buyers,
        "cac": overall,
        "currency": currency,
        "cohort_by": cohort_by,
    }
    status: Status = "ok"
    reason = ""
    if not total_buyers:
        status = "not_enough_data"
        reason = "There are no buyers in the window, so CAC is undefined (NaN)."
    if total_buyers:
        findings.append(
            Finding(
                "cac_overall",
                f"Overall CAC over the window: {money(overall, currency)} "
                f"({money(total_cost, currency)} of spend ÷ {count_of(total_buyers, 'buyer')}).",
            )
        )
    else:
        findings.append(
            Finding(
                "no_buyers",
                "There are no buyers in the window, so CAC is undefined (NaN).",
                "warning",
            )
        )
    complete = cohorts[cohorts["complete"] & cohorts["cac"].notna()]
    spread = money_range(complete, "cac", "cohort", period, currency, "CAC per complete cohort")
    if spread:
        findings.append(Finding("cac_range", spread))
    findings.extend(acq.findings)
    if cohort_by == "first_visit" and acq.without_session:
        findings.append(
            Finding(
                "buyers_without_session",
                f"{count_of(acq.without_session, 'buyer')} without a session, so no first visit: "
                "with "
                f"cohort_by='first_visit' they are placed in their first-order period.",
                "warning",
            )
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
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        figures=tuple(figures),
        params={"period": period, "by": by, "cohort_by": cohort_by},
        status=status,
        status_reason=reason,
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
