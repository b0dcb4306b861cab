"""Customer acquisition cost per source and per cohort (DESIGN §4, "Marketing").

Definitions: docs/metrics.md, "Marketing" → "CAC". CAC(source) = cost of the source ÷
buyers acquired from it, over the window; CAC(c) = all cost in period c ÷ buyers of
cohort c; CAC(c, source) likewise per source. A source without cost rows is organic (CAC
NaN, never 0); buyers whose source is unknown count in overall figures only; every
division by zero gives NaN (the analysis, growthlens.analyses.cac, words each case).
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
from growthlens.derive.periods import UNKNOWN, Period
from growthlens.derive.periods import dates as _dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.marketing.spend import Spend, check_by, period_table, spend
from growthlens.text import natural_key, sort_key

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
    sessions with that column, at least one buyer, and one whose value is known. Several
    analyses and report plans ask; the engine answers once per Dataset.
    """
    return ds.remember(("attribution_gap", by), lambda: _attribution_gap(ds, by))


def _attribution_gap(ds: Dataset, by: str) -> str | None:
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
    """CAC frames shared by the CAC and ROMI analyses and the budget recommendation.

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
    """

    by: str | None
    spend: Spend
    by_cohort: pd.DataFrame
    sources: pd.DataFrame
    cohorts: pd.DataFrame
    without_session: int


def acquisition_costs(
    ds: Dataset, *, period: Period, by: str | None, cohort_by: CohortBy = "first_order"
) -> Acquisition:
    """Cost and buyers per cohort × source and per source; CAC with NaN where undefined."""
    ds.require("orders", "costs")
    check_by(ds, by)
    sp = spend(ds, period=period, by=by or "source")
    acquired = _acquired(ds, period=period, by=by, cohort_by=cohort_by)
    periods = period_table(ds, period).rename(columns={"period": "cohort"})

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

    by_cohort = pd.DataFrame()
    sources = pd.DataFrame()
    if by is not None:
        by_cohort, sources = _per_source(sp, acquired, periods, by)
    return Acquisition(
        by=by,
        spend=sp,
        by_cohort=by_cohort,
        sources=sources,
        cohorts=cohorts.reset_index(drop=True),
        without_session=int(acquired["without_session"].sum()),
    )


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Numerator ÷ denominator with NaN (never inf) where the denominator is 0 or missing.

    >>> import pandas as pd
    >>> ratio(pd.Series([6.0, 5.0, 1.0]), pd.Series([3, 0, None])).tolist()
    [2.0, nan, nan]
    """
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
    # Sort keys read once per column: .iloc per row and key cost ~1 ms a source.
    status, cost, names = grouped["status"].tolist(), grouped["cost"].tolist(), grouped[by].tolist()
    order = sorted(
        range(len(grouped)),
        key=lambda i: (status_rank[status[i]], -cost[i], natural_key(names[i])),
    )
    sources = grouped.iloc[order][
        [by, "status", "cost", "buyers", "cac", "share_of_spend", "buyer_share"]
    ].reset_index(drop=True)
    return by_cohort, sources
