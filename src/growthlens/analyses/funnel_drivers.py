"""What explains drop-off at a funnel step: funnel correlation (docs/funnel_drivers.md).

Among the units (users or sessions) that reached step ``at − 1`` with a complete window,
those that went on to step ``at`` (converted) are compared with those that did not
(dropped): for each event they did in between and each property value of their step-1
event (and each customer attribute), the odds ratio of converting with the feature against
without it, with Woolf's interval and a p-value (Fisher's exact test for small cells,
Pearson's chi-square otherwise), corrected over all the features tested (Holm by default).
Like PostHog's correlation analysis; an association, never proof of cause.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.analyses.funnel import (
    Order,
    StepInput,
    Unit,
    check_distinct_steps,
    data_end,
    default_steps,
    funnel_options,
    parse_window,
    step_label,
    unit_events,
)
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.funnel import Exclusion, StepRule
from growthlens.metrics.funnel_drivers import (
    CUSTOMER,
    EVENT,
    DriverCounts,
    driver_counts,
)
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.multiple import benjamini_hochberg, holm
from growthlens.stats.odds import odds_ratios
from growthlens.stats.proportions import wilson
from growthlens.text import count_of

Correction = Literal["holm", "bh"]

CORRECTIONS = {
    "holm": "Holm (family-wise error rate)",
    "bh": "Benjamini–Hochberg (false discovery rate)",
}
FINDINGS_MAX = 3
"""At most this many drivers are put in words (the table and chart hold the rest)."""

SUMMARY: SummarySpec = {
    "step": ("text", "Step whose drop-off is explained"),
    "reached": ("count", "Reached the previous step (complete windows)"),
    "converted": ("count", "Went on to the step"),
    "dropped": ("count", "Dropped off"),
    "features_tested": ("count", "Events and property values tested"),
    "features_untested": ("count", "Too rare or too common to test"),
    "significant": ("count", "Significant after correction"),
}

COLUMNS = [
    "kind",
    "feature",
    "value",
    "converted_with",
    "dropped_with",
    "converted_without",
    "dropped_without",
    "conversion_with",
    "conversion_without",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "p_value",
    "test",
    "p_adjusted",
    "significant",
]


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`funnel_drivers`); ``at`` None = the largest drop-off."""

    steps: tuple[StepRule, ...]
    window_s: int
    order: Order
    unit: Unit
    at: int | None
    confidence: float
    min_units: int
    top: int
    correction: Correction
    exclusions: tuple[Exclusion, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return ("user_id",) + (("session_id",) if self.unit == "session" else ())

    @property
    def noun(self) -> str:
        return "session" if self.unit == "session" else "user"

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": [step_label(s) for s in self.steps],
            "window_s": self.window_s,
            "order": self.order,
            "unit": self.unit,
            "at": self.at,
            "confidence": self.confidence,
            "min_units": self.min_units,
            "top": self.top,
            "correction": self.correction,
            "exclude": [
                {"event": step_label(e.rule), "between": [e.pairs[0], e.pairs[-1] + 1]}
                for e in self.exclusions
            ],
        }


def funnel_drivers(
    ds: Dataset,
    steps: Sequence[StepInput],
    *,
    at: int | str | None = None,
    window: str | int | timedelta = "7d",
    order: Order = "ordered",
    unit: Unit = "user",
    exclude: Sequence[StepInput] = (),
    confidence: float = 0.95,
    min_units: int = 10,
    top: int = 10,
    correction: Correction = "holm",
) -> Result:
    """Which events and properties go with converting at a funnel step, and which with dropping.

    The units that reached step ``at − 1`` (complete windows only, as the funnel's rates)
    are split into converted (reached step ``at``) and dropped. Features: each event name
    other than the funnel's steps, done between entering the funnel (step 1) and converting
    (exclusive) — or, for those who dropped, the end of their window (inclusive); each
    ``column = value`` of the step-1 event; each customer attribute when a ``customers``
    table is loaded. Per feature: the 2 × 2 counts, the conversion with and without it,
    the odds ratio with Woolf's interval, a p-value (Fisher's exact test when an expected
    cell is below 5, chi-square otherwise) and the p-value corrected over every feature
    tested. See docs/funnel_drivers.md.

    Args:
        ds: a Dataset with an ``events`` table (``customers`` optional).
        steps: the funnel's steps, as for ``gl.funnel``.
        at: the step to explain, by position (2 … number of steps) or name; None → the
            step with the largest drop-off (complete units; ties: the earlier step).
        window: conversion window, as for ``gl.funnel``.
        order: ``ordered``, ``strict`` or ``unordered``, as for ``gl.funnel``.
        unit: ``user`` or ``session``.
        exclude: exclusion steps, as for ``gl.funnel`` (ordered mode): a unit whose chain
            they void counts as dropped.
        confidence: level of the intervals; 1 − confidence is the significance level of
            the corrected p-values.
        min_units: a feature is tested when at least this many compared units have it and
            this many do not; the analysis needs this many converters and droppers.
        top: features shown in the chart (the table holds every feature tested).
        correction: ``holm`` (family-wise error rate, any dependence between tests) or
            ``bh`` (Benjamini–Hochberg false discovery rate).

    Example:
        >>> import pandas as pd
        >>> from growthlens import load
        >>> from growthlens.analyses.funnel_drivers import funnel_drivers
        >>> rows = [(u, 0, "view") for u in range(40)] + [(u, 60, "reviews") for u in range(20)]
        >>> rows += [(u, 120, "buy") for u in range(15)] + [(u, 120, "buy") for u in range(20, 25)]
        >>> events = pd.DataFrame({"user_id": [r[0] for r in rows], "event": [r[2] for r in rows],
        ...     "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta([r[1] for r in rows], unit="s")})
        >>> r = funnel_drivers(load(events=events, window=("2024-01-01", "2024-01-31")),
        ...     ["view", "buy"], window="1d")
        >>> row = r.table.iloc[0]
        >>> row["feature"], int(row["converted_with"]), int(row["dropped_with"])
        ('reviews', 15, 5)
        >>> round(float(row["odds_ratio"]), 1), r.summary["significant"].value
        (9.0, 1)
    """
    return FUNNEL_DRIVERS.run(
        ds,
        steps=steps,
        at=at,
        window=window,
        order=order,
        unit=unit,
        confidence=confidence,
        min_units=min_units,
        top=top,
        correction=correction,
        exclude=exclude,
    )


def _params(
    ds: Dataset,
    steps: Sequence[StepInput],
    *,
    at: int | str | None,
    window: str | int | timedelta,
    order: str,
    unit: str,
    confidence: float,
    min_units: int,
    top: int,
    correction: str,
    exclude: Sequence[StepInput],
) -> Params:
    rules, exclusions = funnel_options(
        ds, steps, order=order, unit=unit, exclude=exclude, confidence=confidence
    )
    if isinstance(min_units, bool) or not isinstance(min_units, int) or min_units < 1:
        raise ConfigError(f"min_units must be a whole number of at least 1; got {min_units!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a whole number of at least 1; got {top!r}")
    if correction not in CORRECTIONS:
        raise ConfigError(f"correction must be 'holm' or 'bh'; got {correction!r}")
    return Params(
        rules,
        parse_window(window),
        order,  # type: ignore[arg-type]
        unit,  # type: ignore[arg-type]
        _step_position(at, rules),
        confidence,
        min_units,
        top,
        correction,  # type: ignore[arg-type]
        exclusions,
    )


def _step_position(at: int | str | None, rules: Sequence[StepRule]) -> int | None:
    """``at`` as a step position 2..k: given as one, or as a step's name (label or event)."""
    k = len(rules)
    if at is None:
        return None
    if isinstance(at, str):
        names = [step_label(r) for r in rules]
        matches = [j for j, r in enumerate(rules, start=1) if at in (step_label(r), r.event)]
        if len(matches) != 1:
            raise ConfigError(
                f"at={at!r} must name exactly one step; the steps: {', '.join(names)}"
            )
        at = matches[0]
    if isinstance(at, bool) or not isinstance(at, int) or not 2 <= at <= k:
        raise ConfigError(
            f"at must be a step after the first (2 … {k}) or a step's name; got {at!r} "
            "(step 1 has no drop-off: every unit that enters has reached it)"
        )
    return at


def _compute(ds: Dataset, p: Params) -> DriverCounts:
    check_distinct_steps(ds, p.steps)
    end = data_end(ds)
    return driver_counts(
        ds,
        p.steps,
        at=p.at,
        window_s=p.window_s,
        order=p.order,
        keys=p.keys,
        end=end,
        min_units=p.min_units,
        # As the funnel: strict chains already have no event between steps.
        exclusions=p.exclusions if p.order == "ordered" else (),
        events=unit_events(ds, p.unit),
    )


@dataclass(frozen=True)
class Estimates:
    """The tested features with their statistics, sorted, and the counts behind them."""

    table: pd.DataFrame
    counts: DriverCounts


def _infer(counts: DriverCounts, p: Params) -> Estimates:
    return Estimates(driver_table(counts, confidence=p.confidence, correction=p.correction), counts)


def driver_table(
    counts: DriverCounts, *, confidence: float = 0.95, correction: Correction = "holm"
) -> pd.DataFrame:
    """Per feature: the 2 × 2 counts, conversions, odds ratio, interval and p-values.

    Sorted: significant features first by the size of the effect (|log odds ratio|),
    then the rest by p-value; ties by kind, feature and value.
    """
    f = counts.features
    a = f["converted_with"].to_numpy(dtype="int64")
    b = f["units_with"].to_numpy(dtype="int64") - a
    c = counts.converted - a
    d = counts.dropped - b
    stats = odds_ratios(a, b, c, d, confidence=confidence)
    adjust = holm if correction == "holm" else benjamini_hochberg
    adjusted = adjust(stats.p_value)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "kind": f["kind"].astype(str).to_numpy(),
                "feature": f["feature"].astype(str).to_numpy(),
                # Object dtype: events have no value (None), not a missing string.
                "value": pd.Series(
                    [None if pd.isna(v) else str(v) for v in f["value"]], dtype=object
                ),
                "converted_with": a,
                "dropped_with": b,
                "converted_without": c,
                "dropped_without": d,
                "conversion_with": a / (a + b),
                "conversion_without": c / (c + d),
                "odds_ratio": stats.odds_ratio,
                "odds_ratio_low": stats.low,
                "odds_ratio_high": stats.high,
                "p_value": stats.p_value,
                "test": stats.test.astype(str),
                "p_adjusted": adjusted,
                "significant": np.nan_to_num(adjusted, nan=1.0) <= 1 - confidence,
            },
            columns=COLUMNS,
        )
        effect = np.abs(np.log(table["odds_ratio"].to_numpy(dtype=float)))
    order = pd.DataFrame(
        {
            "rest": ~table["significant"],
            "effect": np.where(table["significant"], -effect, 0.0),
            "p": np.where(table["significant"], 0.0, table["p_value"].fillna(2.0)),
            "kind": table["kind"],
            "feature": table["feature"],
            "value": table["value"].fillna(""),
        }
    ).sort_values(["rest", "effect", "p", "kind", "feature", "value"], kind="stable")
    return table.loc[order.index].reset_index(drop=True)


def describe(row: Mapping[Any, Any], p: Params) -> str:
    """Who has the feature, in words: ``users who did view_reviews``."""
    noun = p.noun + "s"
    if row["kind"] == EVENT:
        return f"{noun} who did {row['feature']} after entering the funnel"
    if row["kind"] == CUSTOMER:
        return f"{noun} whose customer {row['feature']} is {row['value']}"
    return f"{noun} whose {step_label(p.steps[0])} event had {row['feature']} = {row['value']}"


def label(row: Mapping[Any, Any]) -> str:
    """A feature as a short chart label: ``did view_reviews``, ``device = mobile``."""
    if row["kind"] == EVENT:
        return f"did {row['feature']}"
    if row["kind"] == CUSTOMER:
        return f"customer {row['feature']} = {row['value']}"
    return f"{row['feature']} = {row['value']}"


def ratio_text(value: float) -> str:
    """An odds ratio with two significant digits in words: 2.1, 0.45, 12.

    >>> ratio_text(2.134), ratio_text(0.4521), ratio_text(12.4), ratio_text(0.0123)
    ('2.1', '0.45', '12', '0.012')
    """
    if not math.isfinite(value):
        return "—"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"


def _chart(table: pd.DataFrame, p: Params) -> pd.DataFrame:
    top = table.head(p.top)
    # The bar's side says the direction; the colour says whether it survived the correction.
    significance = np.where(top["significant"], "significant", "not significant")
    with np.errstate(divide="ignore", invalid="ignore"):
        log2 = np.log2(top["odds_ratio"].to_numpy(dtype=float))
    return pd.DataFrame(
        {
            "label": [label(r) for r in top.to_dict("records")],
            "log2_odds_ratio": log2,
            "odds_ratio": top["odds_ratio"].to_numpy(),
            "significance": significance,
        }
    )


def _explain(est: Estimates, p: Params) -> Result:
    counts, table = est.counts, est.table
    at = counts.at
    before, after = step_label(p.steps[at - 2]), step_label(p.steps[at - 1])
    noun = p.noun
    reached = counts.converted + counts.dropped
    status: Status = "ok"
    reason = ""
    if reached == 0:
        status = "not_enough_data"
        reason = f"No {noun} reached {before} with its whole window inside the data."
    elif counts.converted < p.min_units or counts.dropped < p.min_units:
        status = "not_enough_data"
        reason = (
            f"Of {count_of(reached, noun)} who reached {before}, {counts.converted:,} went on "
            f"to {after} and {counts.dropped:,} dropped off: comparing them needs at least "
            f"{p.min_units:,} of each (min_units)."
        )
    elif table.empty:
        status = "not_enough_data"
        reason = (
            f"No event or property value is shared by at least {p.min_units:,} and missing "
            f"for at least {p.min_units:,} of the {count_of(reached, noun)} who reached "
            f"{before}, so none could be tested (min_units)."
        )
    if status != "ok":
        table = table.iloc[0:0]
    significant = table[table["significant"]]
    level = 1 - p.confidence
    conversion = counts.converted / reached if reached else math.nan
    low, high = wilson([counts.converted], [reached], confidence=p.confidence)
    values: dict[str, Any] = {
        "step": f"{before} → {after}",
        "reached": reached,
        "converted": counts.converted,
        "dropped": counts.dropped,
        "conversion": Entry(
            conversion,
            "share",
            f"Went on from {before} to {after}",
            low=float(low[0]),
            high=float(high[0]),
            method=f"Wilson {p.confidence:.0%}",
        ),
        "features_tested": len(table),
        "features_untested": counts.untested,
        "significant": len(significant),
    }
    findings: list[Finding] = []
    if status != "ok":
        findings.append(Finding("not_enough_data", reason, "warning"))
    else:
        for row in significant.head(FINDINGS_MAX).to_dict("records"):
            findings.append(_driver_finding(row, p, before, after))
        if significant.empty:
            findings.append(
                Finding(
                    "no_driver",
                    f"None of the {len(table):,} events and property values tested changes "
                    f"the odds of going on from {before} to {after} significantly "
                    f"({CORRECTIONS[p.correction].split(' (')[0]}-corrected, level {level:.0%}).",
                    numbers={"tested": len(table)},
                )
            )
    return Result(
        name="funnel_drivers",
        title=f"What explains drop-off: {before} → {after}",
        table=table.reset_index(drop=True),
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={"chart": _chart(table, p)},
        figures=(
            FigureSpec(
                kind="bar",
                table="chart",
                x="log2_odds_ratio",
                y="label",
                color="significance",
                orientation="h",
                title=f"What changes the odds of going on to {after} (log₂ odds ratio)",
                labels={
                    "log2_odds_ratio": "log₂ odds ratio (+1 = twice the odds, −1 = half)",
                    "label": "Feature",
                    "significance": "After "
                    + ("Holm" if p.correction == "holm" else "Benjamini–Hochberg")
                    + " correction",
                },
                value_format=".2f",
            ),
        ),
        notes=_notes(p, counts, before, after),
        params={**p.as_dict(), "at": at},
        status=status,
        status_reason=reason,
    )


def _driver_finding(row: Mapping[Any, Any], p: Params, before: str, after: str) -> Finding:
    who = describe(row, p)
    ratio = float(row["odds_ratio"])
    direction = "raises" if ratio >= 1 else "lowers"
    text = (
        f"{who[0].upper()}{who[1:]} had {ratio_text(ratio)}× the odds of going on from "
        f"{before} to {after} ({p.confidence:.0%} CI {ratio_text(row['odds_ratio_low'])}–"
        f"{ratio_text(row['odds_ratio_high'])}): {row['conversion_with']:.0%} of them did, "
        f"against {row['conversion_without']:.0%} of the others. An association, not "
        "necessarily the cause."
    )
    return Finding(
        f"driver_{direction}",
        text,
        "warning" if ratio < 1 else "info",
        numbers={
            "kind": str(row["kind"]),
            "feature": str(row["feature"]),
            "value": row["value"],
            "odds_ratio": ratio,
            "odds_ratio_low": float(row["odds_ratio_low"]),
            "odds_ratio_high": float(row["odds_ratio_high"]),
            "p_adjusted": float(row["p_adjusted"]),
        },
    )


def _notes(p: Params, counts: DriverCounts, before: str, after: str) -> tuple[str, ...]:
    noun = p.noun
    return (
        f"Compared: the {noun}s whose counted chain reached {before} with the whole "
        f"{p.window_s:,}-second window inside the data; converted = went on to {after} "
        f"(order: {p.order}). Events: done from entering the funnel until converting "
        "(exclusive) or, for those who dropped, until the window ended (inclusive); the "
        "funnel's own step events are left out. Properties: the step-1 event's values; "
        "customer attributes when a customers table is loaded.",
        "Odds ratio with the Haldane–Anscombe correction (0.5 added to every cell) when a "
        f"cell is 0; Woolf (logit) {p.confidence:.0%} interval, not adjusted for multiple "
        "testing. p-value: Fisher's exact test when an expected cell is below 5, Pearson's "
        f"chi-square otherwise; corrected by {CORRECTIONS[p.correction]} over the "
        f"{count_of(len(counts.features), 'feature')} tested (each with at least "
        f"{p.min_units:,} {noun}s with it and {p.min_units:,} without; "
        f"{counts.untested:,} others left out).",
        "An association is not a cause: those who do an event may differ in intent from those "
        "who do not, and droppers had the whole window to do events while converters are "
        "counted only until they converted.",
    )


def _plan(ds: Dataset) -> Plan:
    # Like the funnel: which steps matter is the analyst's question; the report explains
    # the largest drop of GA4's e-commerce steps when the log has them.
    if not ds.has("events"):
        return Plan(runs=())
    steps = default_steps(ds)
    if not steps:
        return Plan(
            runs=(),
            skipped=(
                "What explains drop-off: it needs the funnel's steps, e.g. "
                "gl.funnel_drivers(ds, ['view_item', 'add_to_cart', 'purchase'], window='7d').",
            ),
        )
    return Plan(runs=({"steps": list(steps), "window": "7d"},))


FUNNEL_DRIVERS = register(
    Analysis(
        name="funnel_drivers",
        title="What explains drop-off",
        group="funnels",
        needs=("events",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    funnel_drivers,
)

__all__ = ["driver_table", "funnel_drivers"]
