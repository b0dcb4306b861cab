"""LTV by buyer cohort: cumulative gross profit per buyer (docs/metrics.md, "LTV").

Options, the stages and the report plan, registered once at the bottom (the pattern of
growthlens.analyses.retention).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import (
    MIN_COHORTS,
    Average,
    check_average,
    cohort_curve,
    horizon_mean,
)
from growthlens.metrics.revenue import by_keys, ltv_table
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of, money

SUMMARY: SummarySpec = {
    "ltv_{n}": ("money", "LTV after {n} periods (mean over complete cohorts)"),
    "ltv_{n}_cells": ("count", "Complete cohorts in the {n}-period LTV"),
    "buyers": ("count", "Buyers"),
    "margin": ("share", "Margin"),
    "currency": ("text", "Currency"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: cohort period, margin, dimension to split by, horizon, average rule."""

    period: Period
    margin: float
    by: str | None
    horizon: int
    average: Average


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the long LTV table, and the currency of its money."""

    table: pd.DataFrame
    currency: str


def ltv(
    ds: Dataset,
    *,
    period: Period | None = None,
    margin: float | None = None,
    by: str | None = None,
    average: Average = "balanced",
) -> Result:
    """LTV(c, k): cumulative gross profit of cohort c's buyers over ages 0..k ÷ its buyers.

    Gross profit = revenue × margin (``margin`` or the dataset setting). Buyer cohort =
    period of the first order. See docs/metrics.md, "LTV".

    The average curve (table ``curve``) is the unweighted mean over cohorts at each age.
    With ``average="balanced"`` (default) every point averages one fixed set of cohorts:
    those observed (complete) at every age 0..N−1, N = the ``horizon`` setting, so the
    curve cannot fall because young cohorts drop out; with fewer than 3 such cohorts the
    curve is shortened to the longest span that 3 cohorts cover (a finding says so), and
    a curve on fewer than 3 cohorts carries a warning. ``average="all"`` is the each-age
    mean over every complete cohort at every observed age (the set changes with age).

    Returns:
        Result whose table has ``cohort``, ``age``, ``buyers``, ``ltv``, ``complete`` (and
        ``by``); table ``curve``: [``by``], ``age``, ``ltv``, ``cohorts`` (cohorts
        averaged at that age); summary ``ltv_<N>`` = mean over complete cohorts at age N−1.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> orders = pd.DataFrame({"user_id": [1, 1, 2], "revenue": [10.0, 5.0, 4.0],
        ...     "ts": pd.to_datetime(["2020-01-05", "2020-02-03", "2020-01-20"])})
        >>> r = gl.ltv(gl.load(orders=orders, window=("2020-01-01", "2020-02-29")))
        >>> r.table[["age", "buyers", "ltv"]].to_dict("records")
        [{'age': 0, 'buyers': 2, 'ltv': 7.0}, {'age': 1, 'buyers': 2, 'ltv': 9.5}]
    """
    return LTV.run(ds, period=period, margin=margin, by=by, average=average)


def _params(
    ds: Dataset,
    *,
    period: Period | None,
    margin: float | None,
    by: str | None,
    average: Average,
) -> Params:
    margin = ds.settings.margin if margin is None else _check_margin(margin)
    by_keys(ds, by)  # raises ConfigError for a dimension the sessions lack
    return Params(
        period=check_period(period or ds.settings.period),
        margin=margin,
        by=by,
        horizon=ds.settings.horizon,
        average=check_average(average),
    )


def _check_margin(margin: float) -> float:
    if not 0 < margin <= 1:
        raise ConfigError(f"margin must be in (0, 1]; got {margin}")
    return float(margin)


def _compute(ds: Dataset, p: Params) -> Frames:
    table = ltv_table(ds, period=p.period, by=p.by, margin=p.margin)
    return Frames(table, ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    table, currency, horizon, unit = frames.table, frames.currency, p.horizon, p.period
    keys = [p.by] if p.by else []
    overall = horizon_mean(table, "ltv", horizon=horizon)
    value = float(overall["ltv"].iloc[0])
    used = int(overall["cells"].iloc[0])
    summary: dict[str, SummaryValue] = {
        f"ltv_{horizon}": value,
        f"ltv_{horizon}_cells": used,
        "buyers": int(table.drop_duplicates(["cohort", *keys])["buyers"].sum()),
        "margin": p.margin,
        "currency": currency,
    }
    status: Status = "ok"
    reason = ""
    if not summary["buyers"]:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no buyer cohort to follow."
    curve = cohort_curve(table, "ltv", horizon=horizon, keys=keys, average=p.average)
    findings = _findings(table, p, currency, value=value, used=used, reason=reason)
    charted: dict[str, pd.DataFrame] = {}
    if p.by:
        sizes = table[table["age"] == 0].groupby(p.by, dropna=False)["buyers"].sum()
        charted["curve_chart"] = with_weight(curve, p.by, sizes)
    if not keys:
        findings.extend(curve_findings(curve, "LTV", horizon, unit, p.average))
    return Result(
        name="ltv",
        title="Lifetime value (LTV) by buyer cohort",
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"curve": curve} | charted,
        detail=tuple(charted),  # the chart's rows: the curve above, with each curve's weight
        params=params_dict(p),
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="heatmap",
                x="age",
                y="cohort",
                z="ltv",
                title=f"LTV by cohort and age ({unit}s), {currency} per buyer",
                labels={"age": f"Age ({unit}s)", "cohort": "Cohort (first order)", "ltv": "LTV"},
                value_format=",.2f",
            ),
            FigureSpec(
                kind="line",
                x="age",
                y="ltv",
                table="curve_chart" if p.by else "curve",
                color=keys[0] if keys else None,
                title="Average LTV curve over cohorts",
                subtitle=curve_subtitle(curve, unit, p.average, by=p.by),
                labels={
                    "age": f"Age ({unit}s)",
                    "ltv": f"LTV ({currency} per buyer)",
                    "cohorts": "Cohorts averaged",
                    "buyers": "buyers",
                },
                value_format=",.2f",
                hover=("cohorts",),
                rank="buyers" if p.by else None,
            ),
        ),
        notes=(
            "LTV(c, k) = cumulative gross profit (revenue × margin) of cohort c's buyers over "
            "ages 0..k ÷ cohort buyers; cohort = period of the first order.",
            "Cells past the data window do not exist; `complete` marks cells whose period lies "
            f"wholly inside it. The {horizon}-{unit} LTV averages complete cohorts only.",
            average_note(p.average, horizon, unit),
        ),
    )


def _findings(
    table: pd.DataFrame, p: Params, currency: str, *, value: float, used: int, reason: str
) -> list[Finding]:
    horizon, unit, margin, by = p.horizon, p.period, p.margin, p.by
    keys = [by] if by else []
    findings: list[Finding] = []
    if reason:
        findings.append(Finding("no_buyers", reason, "warning"))
    elif used:
        findings.append(
            Finding(
                "ltv_horizon",
                f"A buyer brings {money(value, currency)} of gross profit in their "
                f"first {count_of(horizon, unit)} on average (mean over "
                f"{count_of(used, 'complete cohort')}, margin {margin:.0%}).",
                numbers={"ltv": value, "horizon": horizon, "cohorts": used, "margin": margin},
            )
        )
    else:
        findings.append(
            Finding(
                "no_cohort_at_horizon",
                f"No cohort is old enough for a {horizon}-{unit} LTV yet: the window holds no "
                f"complete cohort at age {horizon - 1}.",
                numbers={"horizon": horizon},
            )
        )
    if keys and used:
        per = horizon_mean(table, "ltv", horizon=horizon, group=keys).dropna(subset=["ltv"])
        if len(per) > 1:
            ranked = per.sort_values("ltv")
            best, worst = ranked.iloc[-1], ranked.iloc[0]
            findings.append(
                Finding(
                    "ltv_spread",
                    f"{horizon}-{unit} LTV ranges from {money(worst['ltv'], currency)} "
                    f"({by} {worst[keys[0]]}) to {money(best['ltv'], currency)} "
                    f"({by} {best[keys[0]]}).",
                    numbers={
                        "lowest": str(worst[keys[0]]),
                        "lowest_ltv": float(worst["ltv"]),
                        "highest": str(best[keys[0]]),
                        "highest_ltv": float(best["ltv"]),
                    },
                )
            )
    return findings


def curve_basis(curve: pd.DataFrame, unit: Period, average: Average) -> str:
    """What one average curve (no split) averages, in words.

    >>> c = pd.DataFrame({"age": [0, 1], "cohorts": [6, 6]})
    >>> curve_basis(c, "month", "balanced")
    'average of the 6 cohorts observed for 2 months'
    >>> curve_basis(c.assign(cohorts=[7, 4]), "month", "all")
    "each age's mean over the cohorts observed at it (4 to 7 cohorts)"
    """
    if curve.empty:
        return "no complete cohort to average"
    counts = curve["cohorts"].astype(int)
    if average == "all":
        low, high = int(counts.min()), int(counts.max())
        span = count_of(high, "cohort") if low == high else f"{low:,} to {high:,} cohorts"
        return f"each age's mean over the cohorts observed at it ({span})"
    n, ages = int(counts.iloc[0]), int(curve["age"].max()) + 1
    lead = "the only cohort" if n == 1 else f"average of the {count_of(n, 'cohort')}"
    return f"{lead} observed for {count_of(ages, unit)}"


def with_weight(curve: pd.DataFrame, by: str, weights: pd.Series) -> pd.DataFrame:
    """``curve`` with each ``by`` value's weight (``weights``, indexed by value) as a column.

    The weight ranks the curves when a chart has too many of them (FigureSpec.rank):
    hundreds of sources draw the ones with the most users, buyers or spend.
    """
    return curve.merge(weights.reset_index(), on=by, how="left")


def curve_subtitle(curve: pd.DataFrame, unit: Period, average: Average, *, by: str | None) -> str:
    """The chart's line under the title: what each point averages (count in the tooltip)."""
    if by is None:
        return curve_basis(curve, unit, average).capitalize()
    if average == "all":
        return "Each point: the mean over the cohorts observed at that age (count in the tooltip)"
    return (
        f"Each {by.replace('_', ' ')}'s curve: one fixed set of cohorts, those observed at "
        "every plotted age (count in the tooltip)"
    )


def curve_findings(
    curve: pd.DataFrame, what: str, horizon: int, unit: Period, average: Average
) -> list[Finding]:
    """Warnings on an average curve (no split) that rests on few cohorts or was shortened."""
    if curve.empty or average == "all":
        return []
    n, ages = int(curve["cohorts"].iloc[0]), int(curve["age"].max()) + 1
    numbers: dict[str, SummaryValue] = {"cohorts": n, "ages": ages, "horizon": horizon}
    if n < MIN_COHORTS:
        return [
            Finding(
                "curve_few_cohorts",
                f"The average {what} curve rests on {count_of(n, 'cohort')} only (observed for "
                f"{count_of(ages, unit)}): too few to call it typical.",
                "warning",
                numbers=numbers,
            )
        ]
    if ages < horizon:
        return [
            Finding(
                "curve_shortened",
                f"Fewer than {MIN_COHORTS} cohorts are observed for {count_of(horizon, unit)}, "
                f"so the average {what} curve stops at {count_of(ages, unit)}: the "
                f"{count_of(n, 'cohort')} observed that long.",
                numbers=numbers,
            )
        ]
    return []


def average_note(average: Average, horizon: int, unit: Period) -> str:
    """The note on how the average curve is made."""
    if average == "all":
        return (
            "Average curve (average='all'): at each age the unweighted mean over the cohorts "
            "observed at that age, so older ages rest on fewer, older cohorts."
        )
    return (
        "Average curve: the unweighted mean over one fixed set of cohorts at every age, those "
        f"observed (complete) at every age up to {horizon - 1}, so a cumulative curve cannot fall "
        f"because young cohorts drop out; shorter when fewer than {MIN_COHORTS} cohorts are "
        f"observed for {count_of(horizon, unit)}. Column `cohorts` of the curve table (and the "
        "chart's tooltip) gives the cohorts behind each point."
    )


LTV = register(
    Analysis(
        name="ltv",
        title="Lifetime value (LTV)",
        group="sales",
        needs=("orders",),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    ltv,
)
