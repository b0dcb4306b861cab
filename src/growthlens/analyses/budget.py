"""Budget recommendation: grow, hold or cut each paid source, with the numbers behind it.

Definitions and the decision rule: docs/metrics.md, "Budget recommendation". The engine
part (ROMI tables, one row per buyer) is :mod:`growthlens.metrics.marketing`; the bootstrap,
the decision rule and the priced moves are :mod:`growthlens.stats.budget`. Options, the
stages and the report plan are registered once at the bottom (docs/architecture.md, "How to
add an analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period, py_age
from growthlens.errors import ConfigError
from growthlens.figures import BAD, GOOD, MUTED, NEUTRAL
from growthlens.metrics.marketing import attribution_gap, buyer_gross_profit, romi_frames
from growthlens.metrics.marketing.romi import check_horizon
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.stats.budget import (
    BY,
    TREND_COHORTS,
    Interval,
    assert_consistent,
    bootstrap_romi,
    decide,
    price_moves,
    slope,
    source_seed,
)
from growthlens.stats.threads import thread_map
from growthlens.text import (
    count_of,
    listing,
    money,
    natural_key,
    points_text,
    romi_text,
    share_text,
)

ASSUMPTION = (
    "Assumes CAC per source stays constant when spend moves: each extra (or removed) "
    "{currency_unit} buys (or loses) buyers at the source's average CAC over the window, and "
    "each buyer is worth the source's {n_label} LTV. In practice extra spend usually buys "
    "dearer buyers, so treat the figures as an upper bound on the gain."
)

ACTION_COLORS = {
    "grow": GOOD,
    "hold": NEUTRAL,
    "cut": BAD,
    "too little data": MUTED,
}
"""The chart colour of each action by what it means for the business: green grows, red cuts.
Organic and unattributed rows take the colorway without green and red."""

# The recommendation table, in order (romi_n_check is popped after the consistency check).
_COLUMNS: tuple[str, ...] = (
    "rank",
    BY,
    "action",
    "reason",
    "cost",
    "share_of_spend",
    "buyers",
    "cac",
    "ltv_n",
    "romi_n",
    "romi_n_low",
    "romi_n_high",
    "buyers_used",
    "cohorts_used",
    "payback_age",
    "payback",
    "romi_trend",
    "trend_cohorts",
    "romi_n_check",
)

SUMMARY: SummarySpec = {
    "grow": ("count", "Sources to grow"),
    "hold": ("count", "Sources to hold"),
    "cut": ("count", "Sources to cut"),
    "too_little_data": ("count", "Sources with too little data"),
    "moves": ("count", "Suggested moves"),
    "attributed": ("flag", "Buyers attributed to a source"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`recommend_budget`)."""

    horizon: int
    period: Period
    seed: int
    resamples: int
    confidence: float
    min_buyers: int
    min_cohorts: int
    move_share: float


@dataclass(frozen=True)
class Frames:
    """What the engine returned.

    Attributes:
        cells: ROMI per cohort × age × source (the ROMI analysis' main table).
        sources: the ROMI ranking per source.
        per_buyer: gross profit over the horizon per buyer of the cohorts behind the figure.
        gap: why no buyer can be attributed to a source, or ``None``.
        currency: the dataset's currency.
    """

    cells: pd.DataFrame
    sources: pd.DataFrame
    per_buyer: pd.DataFrame
    gap: str | None
    currency: str


@dataclass(frozen=True)
class Estimates:
    """Per source the figure, its interval and the decision; the priced moves.

    Attributes:
        rows: one record per source, in ranking order, with every column of the table but
            ``rank`` and ``reason``.
        moves: the priced moves (:func:`growthlens.stats.budget.price_moves`).
        gap: as in :class:`Frames`.
        currency: as in :class:`Frames`.
    """

    rows: tuple[dict[str, Any], ...]
    moves: pd.DataFrame
    gap: str | None
    currency: str


def recommend_budget(
    ds: Dataset,
    *,
    horizon: int | None = None,
    period: Period | None = None,
    seed: int = 0,
    resamples: int = 2000,
    confidence: float = 0.95,
    min_buyers: int = 30,
    min_cohorts: int = 2,
    move_share: float = 0.10,
) -> Result:
    """Rank paid sources and say grow, hold or cut, with the reason in numbers.

    Definitions and the decision rule: docs/metrics.md, "Budget recommendation".

    Main table, one row per source (paid first, ranked by N-period ROMI): ``rank``,
    ``source``, ``action`` (``grow``, ``hold``, ``cut``, ``too little data``, or ``organic``
    / ``unattributed`` for sources without spend or without a known source), ``reason``
    (text), ``cost``, ``share_of_spend``, ``buyers``, ``cac`` (over the window), ``ltv_n``
    (mean LTV at age N−1 over complete cohorts), ``romi_n`` and its interval
    ``romi_n_low`` / ``romi_n_high``, ``buyers_used`` / ``cohorts_used`` (behind the figure),
    ``payback_age``, ``payback``, ``romi_trend`` (slope of first-period ROMI per period over
    the latest complete cohorts), ``trend_cohorts``. Table ``moves``: ``from_source``,
    ``to_source``, ``moved_cost``, ``lost_buyers``, ``lost_profit``, ``gained_buyers``,
    ``gained_profit``, ``net_profit``, ``assumption``.

    Args:
        ds: a Dataset with sessions (for sources), orders and costs.
        horizon: N: the figure is ROMI at age N−1 (default: the ``horizon`` setting).
        period: cohort period (default: the ``period`` setting).
        seed: seed of the bootstrap (same seed, same intervals).
        resamples: bootstrap resamples.
        confidence: interval coverage.
        min_buyers: fewer buyers behind the figure → "too little data".
        min_cohorts: fewer complete cohorts at the horizon → "too little data".
        move_share: share of a cut source's spend moved in the suggested moves.

    Returns:
        The recommendation Result; ``summary`` counts the actions and states the settings.

    Example:
        >>> import growthlens as gl
        >>> rec = gl.recommend_budget(gl.demo(users=3000, seed=1), horizon=3, resamples=200)
        >>> rec.params["horizon"], rec.params["seed"]
        (3, 0)
    """
    return RECOMMEND_BUDGET.run(
        ds,
        horizon=horizon,
        period=period,
        seed=seed,
        resamples=resamples,
        confidence=confidence,
        min_buyers=min_buyers,
        min_cohorts=min_cohorts,
        move_share=move_share,
    )


def _params(
    ds: Dataset,
    *,
    horizon: int | None,
    period: Period | None,
    seed: int,
    resamples: int,
    confidence: float,
    min_buyers: int,
    min_cohorts: int,
    move_share: float,
) -> Params:
    # No defaults here: recommend_budget's signature holds them (Analysis.run applies them).
    period = check_period(period or ds.settings.period)
    horizon = check_horizon(ds.settings.horizon if horizon is None else horizon)
    if resamples < 100:
        raise ConfigError(f"resamples must be at least 100; got {resamples}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie between 0 and 1; got {confidence}")
    if min_buyers < 1:
        raise ConfigError(f"min_buyers must be at least 1; got {min_buyers}")
    if not 0 < move_share <= 1:
        raise ConfigError(f"move_share must lie in (0, 1]; got {move_share}")
    return Params(
        horizon=horizon,
        period=period,
        seed=seed,
        resamples=resamples,
        confidence=confidence,
        min_buyers=min_buyers,
        min_cohorts=min_cohorts,
        move_share=move_share,
    )


def _at_horizon(cells: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete cells at age N−1, and those of them whose ROMI is defined."""
    at_n = cells[(cells["age"] == horizon - 1) & cells["complete"].astype(bool)]
    return at_n, at_n[at_n["romi"].notna()]


def _compute(ds: Dataset, p: Params) -> Frames:
    romi = romi_frames(ds, period=p.period, by=BY, horizon=p.horizon)
    _, used = _at_horizon(romi.cells, p.horizon)
    per_buyer = buyer_gross_profit(
        ds,
        period=p.period,
        horizon=p.horizon,
        by=BY,
        cohorts=sorted(used["cohort"].unique().tolist()),
    )
    return Frames(
        romi.cells, romi.sources, per_buyer, attribution_gap(ds, by=BY), ds.settings.currency
    )


def _intervals(
    sources: pd.DataFrame, used: pd.DataFrame, per_buyer: pd.DataFrame, p: Params
) -> dict[str, Interval]:
    """The bootstrap interval of each paid source with enough buyers and cohorts.

    Each source draws from its own seeded stream (:func:`source_seed`), so the sources run
    side by side on threads (numpy draws and averages without the GIL) and give the same
    intervals as one after another.
    """
    jobs: dict[str, list[tuple[np.ndarray[Any, np.dtype[np.float64]], float]]] = {}
    for _, src in sources.iterrows():
        name = str(src[BY])
        mine_used = used[used[BY] == name].sort_values("cohort")
        enough = int(mine_used["buyers"].sum()) >= p.min_buyers and len(mine_used) >= (
            p.min_cohorts
        )
        if src["status"] != "paid" or not enough:
            continue
        jobs[name] = [
            (
                per_buyer.loc[
                    (per_buyer[BY] == name) & (per_buyer["cohort"] == cell["cohort"]),
                    "gross_profit",
                ].to_numpy(dtype=float),
                float(cell["cac"]),
            )
            for _, cell in mine_used.iterrows()
        ]

    def run(name: str) -> Interval:
        return bootstrap_romi(
            jobs[name],
            resamples=p.resamples,
            confidence=p.confidence,
            rng=np.random.default_rng(source_seed(p.seed, name)),
        )

    return dict(zip(jobs, thread_map(run, jobs), strict=True))


def _infer(frames: Frames, p: Params) -> Estimates:
    cells, sources, per_buyer = frames.cells, frames.sources, frames.per_buyer
    at_n, used = _at_horizon(cells, p.horizon)
    intervals = _intervals(sources, used, per_buyer, p)
    rows = []
    for _, src in sources.iterrows():
        name = str(src[BY])
        mine = cells[cells[BY] == name]
        mine_used = used[used[BY] == name]
        buyers_used = int(mine_used["buyers"].sum())
        cohorts_used = len(mine_used)
        ltv_cells = at_n[at_n[BY] == name]["ltv"]
        ltv_n = float(ltv_cells.mean()) if len(ltv_cells) else math.nan
        trend, trend_cohorts = _trend(mine, p.period)
        row: dict[str, Any] = {
            BY: name,
            "cost": float(src["cost"]),
            "share_of_spend": float(src["share_of_spend"]),
            "buyers": int(src["buyers"]),
            "cac": float(src["cac"]),
            "ltv_n": ltv_n,
            "romi_n": float(src["romi_n"]),
            "romi_n_low": math.nan,
            "romi_n_high": math.nan,
            "romi_n_check": math.nan,
            "buyers_used": buyers_used,
            "cohorts_used": cohorts_used,
            "payback_age": src["payback_age"],
            "payback": src["payback"],
            "romi_trend": trend,
            "trend_cohorts": trend_cohorts,
        }
        if src["status"] != "paid":
            row["action"] = "organic" if src["status"] == "organic" else "unattributed"
        else:
            interval = intervals.get(name, Interval(row["romi_n"], math.nan, math.nan, 0))
            row["romi_n_low"], row["romi_n_high"] = interval.low, interval.high
            row["romi_n_check"] = interval.estimate
            row["action"] = decide(
                interval,
                buyers=buyers_used,
                cohorts=cohorts_used,
                min_buyers=p.min_buyers,
                min_cohorts=p.min_cohorts,
            )
        rows.append(row)
    # Named columns: with no source at all (no buyer in the window) the frame is still typed.
    numbers = pd.DataFrame(rows, columns=[c for c in _COLUMNS if c not in ("rank", "reason")])
    check = numbers.pop("romi_n_check")
    assert_consistent(numbers, check)
    moves = price_moves(numbers, move_share=p.move_share)
    return Estimates(tuple(rows), moves, frames.gap, frames.currency)


def _trend(cells: pd.DataFrame, period: Period) -> tuple[float, int]:
    """Slope of ROMI at age 0 per period over the latest complete cohorts, and their count."""
    first = cells[(cells["age"] == 0) & cells["complete"].astype(bool) & cells["romi"].notna()]
    first = first.sort_values("cohort").tail(TREND_COHORTS)
    cohorts = [pd.Timestamp(c).date() for c in first["cohort"]]
    x = [py_age(cohorts[0], c, period) for c in cohorts]
    return slope(x, first["romi"].to_numpy(dtype=float)), len(first)


def _explain(est: Estimates, p: Params) -> Result:
    n_label = f"{p.horizon}-{p.period}"
    currency = est.currency
    assumption = ASSUMPTION.format(currency_unit=currency, n_label=n_label)
    rows = [{**row, "reason": _reason(row, p, n_label)} for row in est.rows]
    table = pd.DataFrame(rows, columns=[c for c in _COLUMNS if c != "rank"])
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table[list(_COLUMNS)]
    table.pop("romi_n_check")  # checked against romi_n by the infer stage
    moves = pd.DataFrame(
        [{**move, "assumption": assumption} for move in est.moves.to_dict("records")],
        columns=[*est.moves.columns, "assumption"],
    )
    findings = _findings(
        table,
        moves,
        gap=est.gap,
        n_label=n_label,
        span=count_of(p.horizon, p.period),
        currency=currency,
        move_share=p.move_share,
        assumption=assumption,
    )
    counts = table["action"].value_counts()
    summary: dict[str, SummaryValue] = {
        "grow": int(counts.get("grow", 0)),
        "hold": int(counts.get("hold", 0)),
        "cut": int(counts.get("cut", 0)),
        "too_little_data": int(counts.get("too little data", 0)),
        "moves": len(moves),
        "attributed": est.gap is None,
        "currency": currency,
    }
    return Result(
        name="recommend_budget",
        title="Budget recommendation",
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"moves": moves},
        params=params_dict(p),
        figures=(
            FigureSpec(
                kind="scatter",
                x="share_of_spend",
                y="romi_n",
                color="action",
                title=f"{n_label} ROMI against share of spend",
                labels={
                    "share_of_spend": "Share of spend",
                    "romi_n": f"{n_label} ROMI (0 = paid back)",
                    "action": "Action",
                },
                value_format=".0%",
                # Colour by what the action means for the business, never by table order.
                colors=ACTION_COLORS,
            ),
        ),
        notes=(
            f"Rule: grow when the {p.confidence:.0%} interval of the {n_label} ROMI lies wholly "
            "above 0, cut "
            "when it lies wholly below 0, hold otherwise. No action (too little data) with fewer "
            "than "
            f"{p.min_buyers} buyers or fewer than {p.min_cohorts} complete cohorts behind the "
            "figure.",
            f"The interval is a bootstrap over buyers ({p.resamples:,} resamples, seed {p.seed}): "
            "buyers are "
            "resampled within their cohort, spend and cohort sizes stay fixed.",
            assumption,
        ),
    )


def _reason(row: dict[str, Any], p: Params, n_label: str) -> str:
    action = row["action"]
    if action == "organic":
        return "No cost rows: an unpaid source, nothing to move."
    if action == "unattributed":
        return "Buyers whose source is unknown (no session or no source): no spend can be matched."
    spend = f"{share_text(row['share_of_spend'])} of spend"
    if action == "too little data":
        shortfalls = []
        if row["buyers_used"] < p.min_buyers:
            shortfalls.append(
                f"{count_of(int(row['buyers_used']), 'buyer')} in cohorts complete at the "
                f"{n_label} horizon (need {p.min_buyers})"
            )
        if row["cohorts_used"] < p.min_cohorts:
            shortfalls.append(
                f"{count_of(int(row['cohorts_used']), 'complete cohort')} at age {p.horizon - 1} "
                f"(need {p.min_cohorts})"
            )
        if not shortfalls:
            shortfalls.append(f"no defined {n_label} ROMI")
        return f"Too little data: {' and '.join(shortfalls)}; {spend}."
    parts = [
        f"{n_label} ROMI {romi_text(row['romi_n'])} ({p.confidence:.0%} CI "
        f"{romi_text(row['romi_n_low'])} to "
        f"{romi_text(row['romi_n_high'])}; {count_of(int(row['buyers_used']), 'buyer')} in "
        f"{count_of(int(row['cohorts_used']), 'complete cohort')})"
    ]
    paid_back = pd.notna(row["payback_age"])
    parts.append(f"pays back at {row['payback']}" if paid_back else f"payback {row['payback']}")
    if math.isfinite(row["romi_trend"]):
        parts.append(
            f"first-{p.period} ROMI trend {points_text(row['romi_trend'])} per {p.period} over the "
            f"last {row['trend_cohorts']} cohorts"
        )
    parts.append(spend)
    return "; ".join(parts) + "."


def _findings(
    table: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    gap: str | None,
    n_label: str,
    span: str,
    currency: str,
    move_share: float,
    assumption: str,
) -> list[Finding]:
    if gap is not None:
        return [
            Finding(
                "not_attributed",
                f"No budget move is recommended, because {gap}; ROMI per source cannot be "
                "computed.",
                "warning",
            )
        ]
    out: list[Finding] = []
    for action in ("grow", "cut", "hold", "too little data"):
        part = table[table["action"] == action]
        for _, row in part.iterrows():
            verb = {
                "grow": "Grow",
                "cut": "Cut",
                "hold": "Hold",
                "too little data": "No recommendation for",
            }[action]
            out.append(
                Finding(
                    action.replace(" ", "_"),
                    f"{verb} source {row[BY]}: {row['reason']}",
                    numbers={
                        BY: str(row[BY]),
                        "romi_n": row["romi_n"],
                        "romi_n_low": row["romi_n_low"],
                        "romi_n_high": row["romi_n_high"],
                    },
                    # The source's spend is what growing or cutting it puts at stake.
                    at_stake=float(row["cost"]) if action in ("grow", "cut") else None,
                )
            )
    for _, move in moves.iterrows():
        out.append(
            Finding(
                "budget_move",
                f"Moving {move_share:.0%} of source {move['from_source']}'s spend over the window "
                f"({money(move['moved_cost'], currency)}) to source {move['to_source']} would buy "
                f"{move['gained_buyers']:,.1f} more buyers there, worth "
                f"{money(move['gained_profit'], currency)} "
                f"of gross profit over {span}, and lose "
                f"{move['lost_buyers']:,.1f} buyers "
                f"of source {move['from_source']} worth {money(move['lost_profit'], currency)}: "
                "net "
                f"{money(move['net_profit'], currency)} — assuming CAC per source stays constant.",
                at_stake=abs(float(move["net_profit"])),
            )
        )
    if not moves.empty:
        out.append(Finding("move_assumption", assumption))
    grow = sorted(table.loc[table["action"] == "grow", BY].tolist(), key=natural_key)
    cut = sorted(table.loc[table["action"] == "cut", BY].tolist(), key=natural_key)
    if grow and not cut:
        out.append(
            Finding(
                "no_cut_to_fund_growth",
                f"No source qualifies for a cut, so growing {listing(grow)} needs new budget "
                "rather "
                "than a move.",
            )
        )
    return out


def _plan(ds: Dataset) -> Plan:
    """Once at the dataset's horizon and period, unless no buyer can be matched to a source."""
    if (why := attribution_gap(ds, by=BY)) is not None:
        return Plan(
            runs=(),
            skipped=(
                f"Budget recommendation per {BY}: nothing is recommended, because {why}; ROMI "
                f"per {BY} cannot be computed.",
            ),
        )
    return Plan(runs=({"horizon": ds.settings.horizon, "period": ds.settings.period},))


RECOMMEND_BUDGET = register(
    Analysis(
        name="recommend_budget",
        title="Budget recommendation",
        group="recommendation",
        needs=("orders", "costs"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    recommend_budget,
)
