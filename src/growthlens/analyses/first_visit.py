"""Revenue by weekday and hour of the first visit (docs/metrics.md, "First-visit timing").

When do the users who later pay arrive? Users are placed by the weekday and hour their
first session started; per slot: how many arrived, how many bought, the conversion with
its Wilson interval, and revenue per user. A chi-square test says whether conversion
differs between weekdays more than chance would make it.

Added through the registry as docs/architecture.md, "How to add an analysis" describes:
one derived table (``first_visit_times``), one metrics function, one statistics module
(:mod:`growthlens.stats.proportions`) and this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.first_visit import DAY_NAMES, first_visit_slots
from growthlens.result import (
    Entry,
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.stats.means import Welch, mean_interval, welch
from growthlens.stats.proportions import Homogeneity, homogeneity, wilson
from growthlens.text import count_of, money
from growthlens.units import p_value

SUMMARY: SummarySpec = {
    "users": ("count", "Users with a first visit"),
    "buyers": ("count", "Of them, buyers"),
    "revenue": ("money", "Their revenue"),
    "best_day": ("text", "Weekday whose first visitors bring most per user"),
    "best_day_revenue_per_user": ("money", "Revenue per user of that weekday"),
    "weekend_share_of_revenue": ("share", "Revenue from users who arrived on a weekend"),
    "weekday_p_value": ("p_value", "Conversion differs by weekday (chi-square p-value)"),
}
# A weekday needs this many first visitors before it is ranked: fewer say too little.
MIN_USERS = 30
DAY_WORDS = dict(
    zip(
        DAY_NAMES,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


@dataclass(frozen=True)
class Params:
    """Resolved options: the confidence level of the conversion intervals, the currency."""

    confidence: float
    currency: str


@dataclass(frozen=True)
class Frames:
    """The 168 weekday × hour slots from the engine."""

    slots: pd.DataFrame


@dataclass(frozen=True)
class Estimates:
    """Slots and weekdays with intervals, the weekday test, the best day's lead (Welch)."""

    slots: pd.DataFrame
    weekdays: pd.DataFrame
    conversion: Entry
    test: Homogeneity
    lead: Welch | None  # the best weekday's revenue per user against the runner-up's
    runner_up: str | None


def revenue_by_first_visit(ds: Dataset, *, confidence: float = 0.95) -> Result:
    """Users, buyers, conversion and revenue per user by weekday and hour of the first visit.

    A user's slot is the weekday (ISO: 1 = Monday) and hour of their first session's start,
    in the dataset's time zone; buyers and revenue are their orders over the window.
    Conversion = buyers ÷ users with a Wilson interval at ``confidence``; a Pearson
    chi-square test compares conversion across weekdays. See docs/metrics.md,
    "First-visit timing".

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> s = pd.DataFrame({"user_id": [1, 2, 3], "start_ts": pd.to_datetime(
        ...     ["2024-01-01 09:10", "2024-01-01 09:50", "2024-01-06 20:00"])})
        >>> o = pd.DataFrame({"user_id": [1], "ts": pd.to_datetime(["2024-01-02"]),
        ...     "revenue": [30.0]})
        >>> r = gl.revenue_by_first_visit(gl.load(sessions=s, orders=o,
        ...     window=("2024-01-01", "2024-01-07")))
        >>> r.tables["weekdays"][["day", "users", "buyers", "revenue"]].head(1).to_dict("records")
        [{'day': 'Mon', 'users': 2, 'buyers': 1, 'revenue': 30.0}]
    """
    return FIRST_VISIT.run(ds, confidence=confidence)


def _params(ds: Dataset, *, confidence: float) -> Params:
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie strictly between 0 and 1; got {confidence}")
    return Params(confidence=confidence, currency=ds.settings.currency)


def _compute(ds: Dataset, p: Params) -> Frames:
    return Frames(first_visit_slots(ds))


def _rates(frame: pd.DataFrame, confidence: float) -> pd.DataFrame:
    out = frame.copy()
    users = out["users"].where(out["users"] > 0)
    out["conversion"] = out["buyers"] / users
    out["conversion_low"], out["conversion_high"] = wilson(
        out["buyers"], out["users"], confidence=confidence
    )
    out["revenue_per_user"] = out["revenue"] / users
    out["revenue_per_user_low"], out["revenue_per_user_high"] = mean_interval(
        out["revenue"], out["revenue_sq"], out["users"], confidence=confidence
    )
    return out.drop(columns="revenue_sq")


def _infer(frames: Frames, p: Params) -> Estimates:
    slots = _rates(frames.slots, p.confidence)
    per_day = frames.slots.groupby(["weekday", "day"], as_index=False, observed=True)[
        ["users", "buyers", "revenue", "revenue_sq"]
    ].sum()
    weekdays = _rates(per_day, p.confidence)
    ranked = per_day[per_day["users"] >= MIN_USERS].copy()
    ranked["mean"] = ranked["revenue"] / ranked["users"]
    ranked = ranked.sort_values(["mean", "weekday"], ascending=[False, True])
    lead = (
        welch(*(tuple(ranked.iloc[i][["revenue", "revenue_sq", "users"]]) for i in (0, 1)))
        if len(ranked) >= 2
        else None
    )
    users, buyers = int(weekdays["users"].sum()), int(weekdays["buyers"].sum())
    low, high = wilson([buyers], [users], confidence=p.confidence)
    conversion = Entry(
        buyers / users if users else math.nan,
        "share",
        "Conversion of first visitors",
        low=float(low[0]),
        high=float(high[0]),
        method=f"Wilson {p.confidence:.0%}",
    )
    runner_up = str(ranked.iloc[1]["day"]) if len(ranked) >= 2 else None
    return Estimates(
        slots,
        weekdays,
        conversion,
        homogeneity(weekdays["buyers"], weekdays["users"]),
        lead,
        runner_up,
    )


def _explain(est: Estimates, p: Params) -> Result:
    weekdays = est.weekdays
    users, buyers = int(weekdays["users"].sum()), int(weekdays["buyers"].sum())
    revenue = float(weekdays["revenue"].sum())
    ranked = weekdays[weekdays["users"] >= MIN_USERS].sort_values(
        ["revenue_per_user", "weekday"], ascending=[False, True]
    )
    best = ranked.iloc[0] if len(ranked) else None
    weekend = float(weekdays.loc[weekdays["weekday"] >= 6, "revenue"].sum())
    values: dict[str, SummaryValue | Entry] = {
        "users": users,
        "buyers": buyers,
        "revenue": revenue,
        "conversion": est.conversion,
        "best_day": None if best is None else str(best["day"]),
        "best_day_revenue_per_user": None
        if best is None
        else Entry(
            float(best["revenue_per_user"]),
            "money",
            SUMMARY["best_day_revenue_per_user"][1],
            low=float(best["revenue_per_user_low"]),
            high=float(best["revenue_per_user_high"]),
            method=f"Student t {p.confidence:.0%}",
        ),
        "weekend_share_of_revenue": weekend / revenue if revenue > 0 else math.nan,
        "weekday_p_value": est.test.p_value,
    }
    status: Status = "ok"
    reason = ""
    if not users or not buyers:
        status = "not_enough_data"
        reason = (
            "No user has a first visit in the window."
            if not users
            else "None of the users with a first visit bought anything, so there is no "
            "revenue to place."
        )
    return Result(
        name="revenue_by_first_visit",
        title="Revenue by weekday and hour of the first visit",
        table=est.slots,
        summary=summarize(values, SUMMARY),
        findings=tuple(_findings(est, p, best, status, reason)),
        tables={"weekdays": weekdays},
        figures=(
            FigureSpec(
                kind="heatmap",
                x="hour",
                y="day",
                z="revenue_per_user",
                title=f"Revenue per user by first-visit weekday and hour ({p.currency})",
                labels={
                    "hour": "Hour of the first visit",
                    "day": "Weekday",
                    "revenue_per_user": "Revenue per user",
                },
                value_format=",.2f",
            ),
            FigureSpec(
                kind="bar",
                x="day",
                y="conversion",
                table="weekdays",
                title="Conversion of first visitors by weekday",
                labels={"day": "Weekday of the first visit", "conversion": "Conversion"},
                value_format=".1%",
            ),
        ),
        notes=(
            "A user's slot is the weekday and hour their first session started (dataset time "
            "zone); buyers and revenue are their orders in the window. Users who ordered "
            "without any session are not placed.",
            f"Revenue per user intervals: Student t, {p.confidence:.0%}, from each group's "
            "sums; revenue is skewed, so they hold their coverage only with enough buyers "
            "(about 91% for a nominal 95% at 50 buyers, 94% at 500: docs/metrics.md). The "
            "best weekday is compared with the next by Welch's t test.",
            f"Conversion intervals: Wilson score, {p.confidence:.0%}. Weekday differences: "
            "Pearson chi-square test of one conversion rate for all weekdays (weekdays "
            "without users left out); the approximation is doubtful when an expected count "
            f"is below 5. Weekdays are ranked only with at least {MIN_USERS} first visitors.",
        ),
        params=params_dict(p),
        status=status,
        status_reason=reason,
    )


def _findings(
    est: Estimates, p: Params, best: pd.Series | None, status: Status, reason: str
) -> list[Finding]:
    if status != "ok":
        return [Finding("not_enough_data", reason, "warning")]
    out: list[Finding] = []
    if best is not None:
        out.append(
            Finding(
                "best_weekday",
                f"Users who first arrive on a {DAY_WORDS[str(best['day'])]} bring the most: "
                f"{money(float(best['revenue_per_user']), p.currency)} per user "
                f"({p.confidence:.0%} interval "
                f"{money(float(best['revenue_per_user_low']), p.currency)}–"
                f"{money(float(best['revenue_per_user_high']), p.currency)}), "
                f"{count_of(int(best['buyers']), 'buyer')} of "
                f"{count_of(int(best['users']), 'user')} "
                f"(conversion {best['conversion']:.1%}, {p.confidence:.0%} interval "
                f"{best['conversion_low']:.1%}–{best['conversion_high']:.1%})." + _lead_words(est),
                numbers={
                    "day": str(best["day"]),
                    "revenue_per_user": float(best["revenue_per_user"]),
                    "revenue_per_user_low": float(best["revenue_per_user_low"]),
                    "revenue_per_user_high": float(best["revenue_per_user_high"]),
                    "conversion": float(best["conversion"]),
                    "conversion_low": float(best["conversion_low"]),
                    "conversion_high": float(best["conversion_high"]),
                    **(
                        {"lead_p_value": est.lead.p_value}
                        if est.lead is not None and est.lead.defined
                        else {}
                    ),
                },
            )
        )
    test = est.test
    if test.defined:
        verdict = (
            "differs between weekdays more than chance alone would explain"
            if test.p_value < 0.05
            else "does not differ between weekdays beyond what chance would explain"
        )
        shown = p_value(test.p_value)
        shown = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
        caveat = (
            " (some expected counts are below 5, so the p-value is approximate)"
            if test.min_expected < 5
            else ""
        )
        out.append(
            Finding(
                "weekday_difference",
                f"Conversion {verdict} (chi-square {test.statistic:.1f} on {test.dof} degrees "
                f"of freedom, {shown}){caveat}.",
                "info",
                {"statistic": test.statistic, "dof": test.dof, "p_value": test.p_value},
            )
        )
    return out


def _lead_words(est: Estimates) -> str:
    """Whether the best weekday's lead over the next one is more than chance."""
    if est.lead is None or not est.lead.defined or est.runner_up is None:
        return ""
    shown = p_value(est.lead.p_value)
    shown = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
    runner_up = DAY_WORDS[est.runner_up]
    if est.lead.p_value < 0.05:
        return f" Its lead over {runner_up}, the next, is more than chance (Welch t test, {shown})."
    return (
        f" Its lead over {runner_up}, the next, is within chance (Welch t test, {shown}): "
        "the ranking of the top two is not settled."
    )


FIRST_VISIT = register(
    Analysis(
        name="revenue_by_first_visit",
        title="Revenue by first-visit weekday and hour",
        group="sales",
        needs=("sessions", "orders"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
    ),
    revenue_by_first_visit,
)
