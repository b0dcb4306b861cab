"""Budget recommendation: grow, hold or cut each paid source, with the numbers behind it.

Definitions and the decision rule: docs/metrics.md, "Budget recommendation". In short:

- the figure is the N-period ROMI of the source (N = ``horizon``): the unweighted mean over
  its complete cohorts of ROMI(c, N−1) = LTV(c, N−1) ÷ CAC(c) − 1, as :func:`growthlens.romi`;
- its uncertainty is a stratified bootstrap over buyers: within each cohort, resample the
  cohort's buyers (their gross profit over ages 0..N−1) with replacement, recompute the
  cohort's LTV, keep its spend and buyer count (so CAC) fixed, and average ROMI over the
  cohorts again; the percentile interval of the resampled figures is the CI (seeded,
  deterministic);
- grow when the CI's lower bound is above 0, cut when its upper bound is below 0, hold
  otherwise; "too little data" (no action) with fewer than ``min_buyers`` buyers or fewer than
  ``min_cohorts`` complete cohorts behind the figure;
- a suggested move of ``move_share`` of a cut source's spend to the best grow source is
  priced under the stated assumption that CAC per source stays constant.

Only small frames reach this module: the ROMI tables and one row per buyer.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period, py_age
from growthlens.errors import ConfigError
from growthlens.metrics.marketing import attribution_gap, buyer_gross_profit, romi
from growthlens.metrics.marketing.romi import check_horizon
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import count_of, listing, money, natural_key, share_text, signed

Action = Literal["grow", "hold", "cut", "too little data", "organic", "unattributed"]
BY = "source"
# Recent cohorts used for the trend of first-period ROMI.
TREND_COHORTS = 6
# Resampled buyers drawn per block: bounds memory to ~16 MB of indices whatever the size.
_BLOCK_DRAWS = 2_000_000
ASSUMPTION = (
    "Assumes CAC per source stays constant when spend moves: each extra (or removed) "
    "{currency_unit} buys (or loses) buyers at the source's average CAC over the window, and "
    "each buyer is worth the source's {n_label} LTV. In practice extra spend usually buys "
    "dearer buyers, so treat the figures as an upper bound on the gain."
)

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


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval of the N-period ROMI.

    Attributes:
        estimate: the figure on the original buyers.
        low: lower bound.
        high: upper bound.
        resamples: number of bootstrap resamples.
    """

    estimate: float
    low: float
    high: float
    resamples: int


SUMMARY: SummarySpec = {
    "grow": ("count", "Sources to grow"),
    "hold": ("count", "Sources to hold"),
    "cut": ("count", "Sources to cut"),
    "too_little_data": ("count", "Sources with too little data"),
    "moves": ("count", "Suggested moves"),
    "attributed": ("flag", "Buyers attributed to a source"),
    "currency": ("text", "Currency"),
}


def bootstrap_romi(
    cohorts: list[tuple[np.ndarray[Any, np.dtype[np.float64]], float]],
    *,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> Interval:
    """Stratified bootstrap CI of mean-over-cohorts ROMI.

    Args:
        cohorts: per cohort, the buyers' gross profit over the horizon and the cohort's CAC
            (> 0). The statistic is ``mean over cohorts of (mean(gross profit) ÷ CAC − 1)``.
        resamples: bootstrap resamples.
        confidence: interval coverage, e.g. 0.95.
        rng: the random generator (seeded by the caller).

    Returns:
        The estimate and the percentile interval.

    Example:
        >>> import numpy as np
        >>> groups = [(np.array([10.0, 30.0]), 10.0), (np.array([5.0, 5.0]), 10.0)]
        >>> iv = bootstrap_romi(groups, resamples=200, confidence=0.9, rng=np.random.default_rng(0))
        >>> iv.estimate, iv.low <= iv.estimate <= iv.high
        (0.25, True)
    """
    if not cohorts:
        return Interval(math.nan, math.nan, math.nan, resamples)
    estimate = float(np.mean([values.mean() / cac - 1.0 for values, cac in cohorts]))
    totals = np.zeros(resamples)
    for values, cac in cohorts:
        n = len(values)
        block = max(1, _BLOCK_DRAWS // n)
        start = 0
        while start < resamples:
            size = min(block, resamples - start)
            picks = rng.integers(0, n, size=(size, n))
            totals[start : start + size] += values[picks].mean(axis=1) / cac - 1.0
            start += size
    stats = totals / len(cohorts)
    alpha = 1.0 - confidence
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(low), float(high), resamples)


def decide(
    interval: Interval, *, buyers: int, cohorts: int, min_buyers: int, min_cohorts: int
) -> Action:
    """The decision rule: grow if CI low > 0, cut if CI high < 0, else hold; too little data first.

    >>> iv = Interval(0.4, 0.1, 0.7, 1000)
    >>> decide(iv, buyers=120, cohorts=3, min_buyers=30, min_cohorts=2)
    'grow'
    >>> decide(iv, buyers=12, cohorts=3, min_buyers=30, min_cohorts=2)
    'too little data'
    """
    if buyers < min_buyers or cohorts < min_cohorts or not math.isfinite(interval.estimate):
        return "too little data"
    if interval.low > 0:
        return "grow"
    if interval.high < 0:
        return "cut"
    return "hold"


def _source_seed(seed: int, source: str) -> np.random.SeedSequence:
    # Each source draws from its own stream, so adding a source never changes another's CI.
    return np.random.SeedSequence([seed, zlib.crc32(source.encode("utf-8"))])


def _trend(cells: pd.DataFrame, period: Period) -> tuple[float, int]:
    """Least-squares slope of ROMI at age 0 per period over the latest complete cohorts."""
    first = cells[(cells["age"] == 0) & cells["complete"].astype(bool) & cells["romi"].notna()]
    first = first.sort_values("cohort").tail(TREND_COHORTS)
    if len(first) < 3:
        return math.nan, len(first)
    origin = pd.Timestamp(first["cohort"].iloc[0]).date()
    x = np.array(
        [py_age(origin, pd.Timestamp(c).date(), period) for c in first["cohort"]], dtype=float
    )
    slope = float(np.polyfit(x, first["romi"].to_numpy(dtype=float), 1)[0])
    return slope, len(first)


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
    period = check_period(period or ds.settings.period)
    horizon = check_horizon(ds.settings.horizon if horizon is None else horizon)
    _check(resamples=resamples, confidence=confidence, min_buyers=min_buyers, move_share=move_share)
    n_label = f"{horizon}-{period}"
    currency = ds.settings.currency
    result = romi(ds, period=period, by=BY, horizon=horizon)
    cells = result.table
    sources = result.tables["sources"]
    at_n = cells[(cells["age"] == horizon - 1) & cells["complete"].astype(bool)]
    used = at_n[at_n["romi"].notna()]
    per_buyer = buyer_gross_profit(
        ds, period=period, horizon=horizon, by=BY, cohorts=sorted(used["cohort"].unique().tolist())
    )
    rows = []
    for _, src in sources.iterrows():
        name = str(src[BY])
        mine = cells[cells[BY] == name]
        mine_used = used[used[BY] == name].sort_values("cohort")
        groups = []
        for _, cell in mine_used.iterrows():
            values = per_buyer.loc[
                (per_buyer[BY] == name) & (per_buyer["cohort"] == cell["cohort"]), "gross_profit"
            ].to_numpy(dtype=float)
            groups.append((values, float(cell["cac"])))
        buyers_used = int(mine_used["buyers"].sum())
        cohorts_used = len(mine_used)
        ltv_cells = at_n[at_n[BY] == name]["ltv"]
        ltv_n = float(ltv_cells.mean()) if len(ltv_cells) else math.nan
        slope, trend_cohorts = _trend(mine, period)
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
            "romi_trend": slope,
            "trend_cohorts": trend_cohorts,
        }
        if src["status"] != "paid":
            row["action"] = "organic" if src["status"] == "organic" else "unattributed"
        else:
            enough = buyers_used >= min_buyers and cohorts_used >= min_cohorts
            interval = (
                bootstrap_romi(
                    groups,
                    resamples=resamples,
                    confidence=confidence,
                    rng=np.random.default_rng(_source_seed(seed, name)),
                )
                if enough
                else Interval(row["romi_n"], math.nan, math.nan, 0)
            )
            row["romi_n_low"], row["romi_n_high"] = interval.low, interval.high
            row["romi_n_check"] = interval.estimate
            row["action"] = decide(
                interval,
                buyers=buyers_used,
                cohorts=cohorts_used,
                min_buyers=min_buyers,
                min_cohorts=min_cohorts,
            )
        row["reason"] = _reason(
            row,
            n_label=n_label,
            confidence=confidence,
            min_buyers=min_buyers,
            min_cohorts=min_cohorts,
            horizon=horizon,
            period=period,
        )
        rows.append(row)
    # Named columns: with no source at all (no buyer in the window) the frame is still typed.
    table = pd.DataFrame(rows, columns=[c for c in _COLUMNS if c != "rank"])
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table[list(_COLUMNS)]
    check = table.pop("romi_n_check")
    _assert_consistent(table, check)
    moves = _moves(table, move_share=move_share, n_label=n_label, currency=currency)
    gap = attribution_gap(ds, by=BY)
    attributed = gap is None
    findings = _findings(
        table,
        moves,
        gap=gap,
        n_label=n_label,
        span=count_of(horizon, period),
        currency=currency,
        move_share=move_share,
    )
    counts = table["action"].value_counts()
    summary: dict[str, SummaryValue] = {
        "grow": int(counts.get("grow", 0)),
        "hold": int(counts.get("hold", 0)),
        "cut": int(counts.get("cut", 0)),
        "too_little_data": int(counts.get("too little data", 0)),
        "moves": len(moves),
        "attributed": attributed,
        "currency": currency,
    }
    params = {
        "horizon": horizon,
        "period": period,
        "seed": seed,
        "resamples": resamples,
        "confidence": confidence,
        "min_buyers": min_buyers,
        "min_cohorts": min_cohorts,
        "move_share": move_share,
    }
    return Result(
        name="recommend_budget",
        title="Budget recommendation",
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"moves": moves},
        params=params,
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
            ),
        ),
        notes=(
            f"Rule: grow when the {confidence:.0%} interval of the {n_label} ROMI lies wholly "
            "above 0, cut "
            "when it lies wholly below 0, hold otherwise. No action (too little data) with fewer "
            "than "
            f"{min_buyers} buyers or fewer than {min_cohorts} complete cohorts behind the figure.",
            f"The interval is a bootstrap over buyers ({resamples:,} resamples, seed {seed}): "
            "buyers are "
            "resampled within their cohort, spend and cohort sizes stay fixed.",
            ASSUMPTION.format(currency_unit=currency, n_label=n_label),
        ),
    )


def _check(*, resamples: int, confidence: float, min_buyers: int, move_share: float) -> None:
    if resamples < 100:
        raise ConfigError(f"resamples must be at least 100; got {resamples}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie between 0 and 1; got {confidence}")
    if min_buyers < 1:
        raise ConfigError(f"min_buyers must be at least 1; got {min_buyers}")
    if not 0 < move_share <= 1:
        raise ConfigError(f"move_share must lie in (0, 1]; got {move_share}")


def _assert_consistent(table: pd.DataFrame, check: pd.Series) -> None:
    # The bootstrap's figure on the original buyers must be the ROMI table's figure; if the
    # per-buyer frame and the cohort tables ever disagree, say so instead of ranking on it.
    both = table["romi_n"].notna() & check.notna()
    gap = (table.loc[both, "romi_n"] - check[both]).abs()
    if len(gap) and float(gap.max()) > 1e-9 * max(
        1.0, float(table.loc[both, "romi_n"].abs().max())
    ):
        raise AssertionError(
            f"per-buyer ROMI disagrees with the cohort table by {float(gap.max()):.3g}"
        )


def _reason(
    row: dict[str, Any],
    *,
    n_label: str,
    confidence: float,
    min_buyers: int,
    min_cohorts: int,
    horizon: int,
    period: Period,
) -> str:
    action = row["action"]
    if action == "organic":
        return "No cost rows: an unpaid source, nothing to move."
    if action == "unattributed":
        return "Buyers whose source is unknown (no session or no source): no spend can be matched."
    spend = f"{share_text(row['share_of_spend'])} of spend"
    if action == "too little data":
        shortfalls = []
        if row["buyers_used"] < min_buyers:
            shortfalls.append(
                f"{count_of(int(row['buyers_used']), 'buyer')} in cohorts complete at the "
                f"{n_label} horizon (need {min_buyers})"
            )
        if row["cohorts_used"] < min_cohorts:
            shortfalls.append(
                f"{count_of(int(row['cohorts_used']), 'complete cohort')} at age {horizon - 1} "
                f"(need {min_cohorts})"
            )
        if not shortfalls:
            shortfalls.append(f"no defined {n_label} ROMI")
        return f"Too little data: {' and '.join(shortfalls)}; {spend}."
    parts = [
        f"{n_label} ROMI {signed(row['romi_n'])} ({confidence:.0%} CI {signed(row['romi_n_low'])} "
        "to "
        f"{signed(row['romi_n_high'])}; {count_of(int(row['buyers_used']), 'buyer')} in "
        f"{count_of(int(row['cohorts_used']), 'complete cohort')})"
    ]
    paid_back = pd.notna(row["payback_age"])
    parts.append(f"pays back at {row['payback']}" if paid_back else f"payback {row['payback']}")
    if math.isfinite(row["romi_trend"]):
        parts.append(
            f"first-{period} ROMI trend {signed(row['romi_trend'])} per {period} over the last "
            f"{row['trend_cohorts']} cohorts"
        )
    parts.append(spend)
    return "; ".join(parts) + "."


def _moves(table: pd.DataFrame, *, move_share: float, n_label: str, currency: str) -> pd.DataFrame:
    columns = [
        "from_source",
        "to_source",
        "moved_cost",
        "lost_buyers",
        "lost_profit",
        "gained_buyers",
        "gained_profit",
        "net_profit",
        "assumption",
    ]
    grow = table[(table["action"] == "grow") & (table["cac"] > 0) & table["ltv_n"].notna()]
    cut = table[(table["action"] == "cut") & (table["cac"] > 0) & table["ltv_n"].notna()]
    if grow.empty or cut.empty:
        return pd.DataFrame(columns=columns)
    # The most certain winner takes the money: highest lower bound of its interval.
    target = grow.sort_values(["romi_n_low", BY], ascending=[False, True], kind="stable").iloc[0]
    assumption = ASSUMPTION.format(currency_unit=currency, n_label=n_label)
    rows = []
    for _, source in cut.iterrows():
        moved = move_share * float(source["cost"])
        lost_buyers = moved / float(source["cac"])
        gained_buyers = moved / float(target["cac"])
        lost = lost_buyers * float(source["ltv_n"])
        gained = gained_buyers * float(target["ltv_n"])
        rows.append(
            {
                "from_source": source[BY],
                "to_source": target[BY],
                "moved_cost": moved,
                "lost_buyers": lost_buyers,
                "lost_profit": lost,
                "gained_buyers": gained_buyers,
                "gained_profit": gained,
                "net_profit": gained - lost,
                "assumption": assumption,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _findings(
    table: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    gap: str | None,
    n_label: str,
    span: str,
    currency: str,
    move_share: float,
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
            )
        )
    if not moves.empty:
        out.append(
            Finding("move_assumption", ASSUMPTION.format(currency_unit=currency, n_label=n_label))
        )
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
