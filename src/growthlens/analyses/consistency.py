"""Do the tables agree with each other? ``gl.consistency`` (docs/reconcile.md).

Cross-table checks, each a finding with exact counts and examples when it finds
something: journey weights that do not sum to 1, journeys with sessions after their
conversion, cost rows with cost and no clicks or fewer impressions than clicks,
zero-revenue conversions, a market whose median revenue is far off the others' (a likely
currency error), and costs and sessions that do not meet by campaign. A check whose
tables or columns are absent does not apply: it is left out, and is no finding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.metrics import consistency as checks
from growthlens.metrics.consistency import Check
from growthlens.result import Finding, Result, Severity, SummarySpec, summarize
from growthlens.text import count_of, listing, money
from growthlens.units import times

CURRENCY_RATIO = 10.0
"""A market whose median revenue is at least this many times the others' (or at most
its inverse) is a likely currency error."""
MIN_MARKET_ORDERS = 5
"""Orders with revenue a market needs before its median is judged."""

SUMMARY: SummarySpec = {
    "checks": ("count", "Cross-table checks run"),
    "problems": ("count", "Checks that found something"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (none yet) and the currency for sentences."""

    currency: str

    def as_dict(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Frames:
    """What the engine returned, by check name (absent: the check did not apply)."""

    results: dict[str, Check]
    markets: pd.DataFrame | None


def consistency(ds: Dataset) -> Result:
    """Cross-table checks: do the tables agree with each other?

    Main table ``checks``: one row per check that applies (``check``, ``table``,
    ``found``, ``checked``, ``amount``, ``examples``). Checks: ``journey_weights``
    (touchpoint weights per conversion not summing to 1 ± 1e-6; amount = conversions
    gained − lost), ``touches_after_conversion``, ``cost_without_clicks`` (cost > 0, 0
    clicks), ``impressions_below_clicks``, ``zero_revenue_orders`` /
    ``zero_revenue_reference``, ``market_currency`` (a market's median revenue ≥ 10× or
    ≤ 0.1× the median of the other markets' medians), ``campaigns_without_sessions``,
    ``campaigns_without_cost``, ``cost_days_without_sessions``. Extra table ``markets``
    (median revenue per market and its ratio). See docs/reconcile.md.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> from growthlens.analyses.consistency import consistency
        >>> costs = pd.DataFrame({"date": ["2024-01-01", "2024-01-02"], "source": "ads",
        ...     "cost": [5.0, 3.0], "clicks": [0, 4], "impressions": [10, 2]})
        >>> r = consistency(gl.load(costs=costs))
        >>> r.table[["check", "found"]].values.tolist()
        [['cost_without_clicks', 1], ['impressions_below_clicks', 1]]
    """
    return CONSISTENCY.run(ds)


def _params(ds: Dataset) -> Params:
    return Params(currency=ds.settings.currency)


CHECKS: tuple[tuple[str, str, Callable[[Dataset], Check | None]], ...] = (
    ("journey_weights", "touchpoints", checks.journey_weights),
    ("touches_after_conversion", "touchpoints", checks.touches_after_conversion),
    ("cost_without_clicks", "costs", checks.cost_without_clicks),
    ("impressions_below_clicks", "costs", checks.impressions_below_clicks),
    ("zero_revenue_orders", "orders", lambda ds: checks.zero_revenue(ds, "orders")),
    (
        "zero_revenue_reference",
        "conversions_reference",
        lambda ds: checks.zero_revenue(ds, "conversions_reference"),
    ),
)
"""Check name, the table it is about, and its engine function."""
CAMPAIGN_TABLES = {
    "campaigns_without_sessions": "costs",
    "campaigns_without_cost": "sessions",
    "cost_days_without_sessions": "costs",
}
"""The campaign checks (computed together: checks.campaign_checks) and their table."""


def _compute(ds: Dataset, p: Params) -> Frames:
    results = {}
    for name, _, run in CHECKS:
        found = run(ds)
        if found is not None:
            results[name] = found
    results.update(checks.campaign_checks(ds) or {})
    return Frames(results, checks.market_medians(ds))


def market_ratios(markets: pd.DataFrame) -> pd.DataFrame:
    """Each judged market's median revenue against the typical market's.

    Markets with fewer than :data:`MIN_MARKET_ORDERS` orders with revenue are not judged
    (``ratio`` NaN). With three or more judged markets, the reference is the median of
    their medians (robust while fewer than half are off); with exactly two, each is
    compared with the other, so both carry the flag (the data cannot say which is off).

    >>> m = pd.DataFrame({"market": ["DE", "JP", "US"], "orders": [9, 9, 9],
    ...     "median": [40.0, 5000.0, 50.0]})
    >>> market_ratios(m)[["market", "ratio", "flag"]].values.tolist()
    [['DE', 0.8, False], ['JP', 100.0, True], ['US', 1.0, False]]
    """
    out = markets.copy()
    judged = out["orders"] >= MIN_MARKET_ORDERS
    medians = out.loc[judged, "median"].astype(float)
    if len(medians) >= 3:
        ratio = out["median"].astype(float) / float(medians.median())
    elif len(medians) == 2:
        first, second = medians.iloc[0], medians.iloc[1]
        ratio = out["median"].astype(float) / out.index.map(
            lambda i: second if i == medians.index[0] else first
        ).astype(float)
    else:
        ratio = pd.Series(math.nan, index=out.index)
    out["ratio"] = ratio.where(judged, math.nan)
    out["flag"] = (out["ratio"] >= CURRENCY_RATIO) | (out["ratio"] <= 1 / CURRENCY_RATIO)
    return out


def _table(frames: Frames) -> pd.DataFrame:
    tables = {name: table for name, table, _ in CHECKS} | CAMPAIGN_TABLES
    rows = [
        {
            "check": name,
            "table": tables[name],
            "found": c.rows,
            "checked": c.checked,
            "amount": c.amount,
            "examples": ", ".join(c.examples),
        }
        for name, c in frames.results.items()
    ]
    return pd.DataFrame(rows, columns=["check", "table", "found", "checked", "amount", "examples"])


def _explain(frames: Frames, p: Params) -> Result:
    findings: list[Finding] = []
    r, cur = frames.results, p.currency
    for name, c in r.items():
        if c.rows:
            findings.append(_finding(name, c, cur))
    markets = market_ratios(frames.markets) if frames.markets is not None else None
    table = _table(frames)
    if markets is not None and (markets["orders"] >= MIN_MARKET_ORDERS).sum() >= 2:
        flagged = markets[markets["flag"]]
        # With two judged markets both carry the flag: one finding names the pair.
        two = int((markets["orders"] >= MIN_MARKET_ORDERS).sum()) == 2
        rows = flagged.sort_values("market").to_dict("records")
        for row in rows[:1] if two else rows:
            findings.append(_currency_finding(row, markets, cur))
        table = pd.concat(
            [
                table,
                pd.DataFrame(
                    [
                        {
                            "check": "market_currency",
                            "table": "orders",
                            "found": int(markets["flag"].sum()),
                            "checked": int((markets["orders"] >= MIN_MARKET_ORDERS).sum()),
                            "amount": 0.0,
                            "examples": ", ".join(map(str, flagged["market"].head(5))),
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
    values = {
        "checks": len(table),
        "problems": int((table["found"] > 0).sum()) if len(table) else 0,
    }
    return Result(
        name="consistency",
        title="Cross-table checks",
        table=table,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={
            "checks": table,
            **({"markets": markets} if markets is not None else {}),
        },
        notes=(
            "Journey weights sum to 1 within 1e-6. A touch is after its conversion when its "
            "session starts later; by calendar day when either time has no time of day.",
            f"A market is a likely currency error when its median revenue (orders with "
            f"revenue > 0, at least {MIN_MARKET_ORDERS}) is at least {CURRENCY_RATIO:g}× or "
            f"at most 1/{CURRENCY_RATIO:g} of the median of the other markets' medians.",
            "Checks whose tables or columns are absent are not run.",
        ),
        params=p.as_dict(),
    )


def _finding(name: str, c: Check, cur: str) -> Finding:
    eg = f", e.g. {listing(list(c.examples))}" if c.examples else ""
    n = c.rows
    severity: Severity = "warning"
    numbers: dict[str, float | int | str | bool | None] = {"rows": n, "checked": c.checked}
    if name == "journey_weights":
        gained, lost = c.extra["gained"], c.extra["lost"]
        text = (
            f"{count_of(n, 'conversion')} of {c.checked:,} have touchpoint weights that do "
            f"not sum to 1 (±1e-6){eg}: the given model credits {gained:.4g} conversions "
            f"too many and {lost:.4g} too few."
        )
        numbers.update(gained=gained, lost=lost)
    elif name == "touches_after_conversion":
        touches = int(c.extra["touches"])
        text = (
            f"{count_of(n, 'journey')} of {c.checked:,} contain sessions after their "
            f"conversion ({count_of(touches, 'touch', 'touches')}){eg}; the given touchpoints "
            "keep them, computed journeys never do."
        )
        numbers["touches"] = touches
    elif name == "cost_without_clicks":
        text = (
            f"{count_of(n, 'cost row')} of {c.checked:,} have cost but 0 clicks "
            f"({money(c.amount, cur)}){eg}: their CPC is undefined."
        )
        numbers["cost"] = c.amount
    elif name == "impressions_below_clicks":
        severity = "error"
        text = (
            f"{count_of(n, 'cost row')} of {c.checked:,} have fewer impressions than clicks "
            f"({c.amount:,.0f} clicks beyond the impressions){eg}: impossible, so CTR and "
            "CPM of those rows are wrong."
        )
        numbers["excess_clicks"] = c.amount
    elif name.startswith("zero_revenue"):
        table = "orders" if name == "zero_revenue_orders" else "conversions_reference"
        keys = int(c.extra["keys"])
        severity = "info"
        text = (
            f"{count_of(n, 'row')} of {c.checked:,} in {table} have zero revenue "
            f"({count_of(keys, 'distinct id')}){eg}; they count as conversions."
        )
        numbers["keys"] = keys
    elif name == "campaigns_without_sessions":
        text = (
            f"{count_of(n, 'campaign')} with cost have no session at all "
            f"({money(c.amount, cur)}){eg}: their spend lands under '(no sessions)'."
        )
        numbers["cost"] = c.amount
    elif name == "campaigns_without_cost":
        sessions = int(c.extra["sessions"])
        text = (
            f"{count_of(n, 'campaign')} of the sessions have no cost "
            f"({count_of(sessions, 'session')}){eg}: missing cost rows, or unpaid."
        )
        numbers["sessions"] = sessions
    else:  # cost_days_without_sessions
        text = (
            f"{count_of(n, 'cost row')} of campaigns with sessions fall on a day with no "
            f"session of the campaign ({money(c.amount, cur)}){eg}: a paused or untracked "
            "campaign."
        )
        numbers["cost"] = c.amount
    return Finding(name, text, severity, numbers)


def _currency_finding(row: Mapping[Any, Any], markets: pd.DataFrame, cur: str) -> Finding:
    ratio = float(row["ratio"])
    judged = markets[markets["orders"] >= MIN_MARKET_ORDERS]
    others = judged[judged["market"] != row["market"]]
    against = (
        f"market {others['market'].iloc[0]}'s ({money(float(others['median'].iloc[0]), cur)})"
        if len(judged) == 2
        else f"the typical market's (the median of {len(judged)} markets' medians)"
    )
    text = (
        f"Market {row['market']}'s median revenue ({money(float(row['median']), cur)}, "
        f"{count_of(int(row['orders']), 'order')}) is {times(ratio)} {against}: a likely "
        "currency error (no conversion is applied unless rates are given)."
    )
    return Finding(
        "market_currency",
        text,
        "warning",
        {"market": str(row["market"]), "median": float(row["median"]), "ratio": ratio},
    )


def _plan(ds: Dataset) -> Plan:
    tables = {"touchpoints", "costs", "orders", "conversions_reference", "sessions"}
    return Plan() if any(ds.has(t) for t in tables) else Plan(runs=())


CONSISTENCY = register(
    Analysis(
        name="consistency",
        title="Cross-table checks",
        group="quality",
        needs=(),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    consistency,
)

__all__ = ["consistency", "market_ratios"]
