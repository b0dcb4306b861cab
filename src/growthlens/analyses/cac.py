"""Customer acquisition cost per source, per cohort and per cohort × source.

Definitions: docs/metrics.md, "Marketing" → "CAC"; the engine part is
:mod:`growthlens.metrics.marketing.cac`. Options, the stages and the report plan are
registered once at the bottom (docs/architecture.md, "How to add an analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.metrics.marketing.cac import (
    Acquisition,
    CohortBy,
    acquisition_costs,
    attribution_gap,
    check_cohort_by,
)
from growthlens.metrics.marketing.spend import check_by
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
)

BY = "source"
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


@dataclass(frozen=True)
class Params:
    """Resolved options: the cohort period, the costs column to split by, the cohort rule."""

    period: Period
    by: str | None
    cohort_by: CohortBy


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the CAC frames, the currency and the acquisition rule."""

    acquisition: Acquisition
    currency: str
    rule: str


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
    return CAC.run(ds, period=period, by=by, cohort_by=cohort_by)


def _params(
    ds: Dataset,
    *,
    period: Period | None,
    by: str | None,
    cohort_by: CohortBy,
) -> Params:
    period = check_period(period or ds.settings.period)
    cohort_by = check_cohort_by(cohort_by)
    check_by(ds, by)
    return Params(period=period, by=by, cohort_by=cohort_by)


def _compute(ds: Dataset, p: Params) -> Frames:
    acq = acquisition_costs(ds, period=p.period, by=p.by, cohort_by=p.cohort_by)
    return Frames(acq, ds.settings.currency, ds.settings.acquisition)


def _explain(frames: Frames, p: Params) -> Result:
    acq, currency = frames.acquisition, frames.currency
    period, by, cohort_by = p.period, p.by, p.cohort_by
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
    findings.extend(_acquisition_findings(acq, currency, period))
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
                labels={
                    by: label.capitalize(),
                    "cac": f"CAC ({currency})",
                    "cost": f"spend ({currency})",
                },
                value_format=",.2f",
                rank="cost",  # with hundreds of sources, those that take the budget
            ),
            FigureSpec(
                kind="heatmap",
                x=by,
                y="cohort",
                z="cac",
                table="by_cohort",
                title=f"CAC by cohort and {label}",
                labels={
                    by: label.capitalize(),
                    "cohort": "Cohort",
                    "cac": f"CAC ({currency})",
                    "cost": f"spend ({currency})",
                },
                value_format=",.2f",
                rank="cost",
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
        params=params_dict(p),
        status=status,
        status_reason=reason,
        notes=(
            "CAC = spend ÷ buyers acquired. Cohort = period of the first order"
            + (" (here: of the first visit)" if cohort_by == "first_visit" else "")
            + "; a buyer's source is the source of the acquiring session "
            f"({frames.rule.replace('_', ' ')}).",
            "Sources without cost rows are organic: CAC undefined. Cells with spend but no "
            "buyers have undefined CAC (NaN), never infinity.",
        ),
    )


def _acquisition_findings(acq: Acquisition, currency: str, period: Period) -> list[Finding]:
    """Undefined CACs (cohorts and cells without buyers), organic and unknown buyers."""
    findings: list[Finding] = []
    cohorts = acq.cohorts
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
    if acq.by is not None:
        findings.extend(_cac_sentences(acq.by_cohort, acq.sources, acq.by, currency, period))
    return findings


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


def _safe_div(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


NO_ORDERS = "CAC, ROMI and payback need orders; this dataset has costs but no orders."


def per_source_plan(ds: Dataset, **options: Any) -> Plan:
    """The report's run of CAC or ROMI (with ``options``), per source when possible.

    Per source when buyers can be matched to one, else per cohort over all sources with
    the reason. Shared by the CAC and ROMI analyses: both say the same, and the report
    says it once.
    """
    period = ds.settings.period
    if not ds.has("orders"):
        return Plan(runs=(), skipped=(NO_ORDERS,))
    why = attribution_gap(ds, by=BY)
    if why is None:
        return Plan(runs=({"period": period, "by": BY, **options},))
    return Plan(
        runs=({"period": period, "by": None, **options},),
        skipped=(
            f"CAC, ROMI and payback per {BY}: not shown, because {why}. CAC and ROMI are shown "
            f"per cohort over all {BY}s instead.",
        ),
    )


CAC = register(
    Analysis(
        name="cac",
        title="Customer acquisition cost (CAC)",
        group="marketing",
        needs=("orders", "costs"),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=per_source_plan,
    ),
    cac,
)
