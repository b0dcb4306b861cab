"""Did a randomised test move the metrics? ``gl.ab_test`` (docs/experiments.md).

Participants come from the ``assignments`` table (a variant column, or one participant
list per variant); what they did comes from the orders inside the stated window, with no
purchase counted as 0. Every variant is compared with the control on every metric:

- per variant: participants, the metric and its interval;
- the effect: absolute and relative difference with intervals and a p-value, the method
  named (z test for conversion, Welch for means, the delta method and Fieller for the
  average check), Holm or Benjamini–Hochberg across metrics and variants;
- beside it: Mann–Whitney U, a bootstrap interval for revenue, CUPED with a pre-period (the
  variance it removed), the Bayesian probability to beat control and expected loss, an
  always-valid interval for a test watched while running, the power and the minimum
  detectable effect at the observed size, and the sample-ratio check;
- a verdict on the primary metric in words and what to do next (roll out, stop, keep
  testing with the sample needed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.assignments import PRESET as LISTS_PRESET
from growthlens.data.dataset import Dataset
from growthlens.derive.days import DayLike, day_axis, day_window, window_label
from growthlens.errors import ConfigError
from growthlens.metrics.experiments import (
    Outcomes,
    experiments_of,
    outsider_outcomes,
    participant_outcomes,
    universe,
    variants_of,
)
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.bayes import bayes_means, bayes_proportions
from growthlens.stats.bootstrap import bootstrap_difference
from growthlens.stats.comparison import (
    Comparison,
    compare_means,
    compare_proportions,
    compare_ratio,
    z_quantile,
)
from growthlens.stats.cuped import cuped
from growthlens.stats.matching import match_strata
from growthlens.stats.multiple import benjamini_hochberg, holm
from growthlens.stats.power import mde, power, sample_size
from growthlens.stats.ranks import mann_whitney
from growthlens.stats.sequential import sequential_means
from growthlens.stats.srm import sample_ratio
from growthlens.text import count_of
from growthlens.units import chance, format_unit, p_phrase, percent

Kind = Literal["proportion", "mean", "ratio"]


@dataclass(frozen=True)
class MetricDef:
    """One A/B metric: how it is computed per participant and how it is compared."""

    kind: Kind
    unit: str
    label: str
    column: str  # the per-participant column (numerator for a ratio)


METRICS: dict[str, MetricDef] = {
    "revenue": MetricDef("mean", "money", "Revenue per participant", "revenue"),
    "conversion": MetricDef("proportion", "share", "Conversion (bought at least once)", "orders"),
    "orders": MetricDef("mean", "count", "Orders per participant", "orders"),
    "items": MetricDef("mean", "count", "Items per participant", "items"),
    "average_check": MetricDef("ratio", "money", "Average check (revenue ÷ orders)", "revenue"),
    "revenue_per_buyer": MetricDef("mean", "money", "Revenue per buyer", "revenue"),
}
"""The named metrics (docs/metrics.md, "Experiments"); any other name is an orders column."""

DEFAULT_METRICS = ("revenue", "conversion", "orders", "items", "average_check", "revenue_per_buyer")
ALPHA_POWER = 0.8
"""Power at which the minimum detectable effect and the sample needed are stated."""
MATCHED = "matched control"
"""The control drawn from non-participants when there is no control group."""
SHORT_METHOD: dict[Kind, str] = {
    "mean": "Welch t",
    "proportion": "Newcombe",
    "ratio": "delta method",
}
"""The interval method of a summary card, in a word or two (the table has the full text)."""
SKEWED = ("revenue", "revenue_per_buyer")
"""Metrics that also get a bootstrap interval (heavy right tail)."""

SUMMARY: SummarySpec = {
    "participants": ("count", "Participants"),
    "effect": ("number", "Effect on the primary metric (treatment − control)"),
    "relative_effect": ("share", "Relative effect on the primary metric"),
    "p_value": ("p_value", "p-value of the primary metric (adjusted)"),
    "prob_beat": ("share", "Probability that treatment beats control (primary metric)"),
    "power": ("share", "Power to detect the observed effect"),
    "srm_p_value": ("p_value", "Sample-ratio check p-value"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`ab_test`)."""

    metrics: tuple[str, ...]
    window: tuple[date, date]
    pre_window: tuple[date, date] | None
    covariate: str | None
    experiment: str | None
    control: str
    confidence: float
    correction: Literal["holm", "bh"]
    split: Mapping[str, float] | None
    name: str
    day_zero: date | None = field(default=None)
    currency: str = "USD"
    matched: bool = False


@dataclass(frozen=True)
class Frames:
    """The engine's answer: per-participant outcomes and the list's quality counts.

    ``outsiders``: with a matched control, the outcomes of everyone in no experiment.
    """

    outcomes: Outcomes
    variants: tuple[str, ...]
    lists: pd.DataFrame
    outsiders: pd.DataFrame | None = None


@dataclass(frozen=True)
class Estimates:
    """Everything inferred: the comparison table, arms, checks and the verdict."""

    table: pd.DataFrame
    arms: pd.DataFrame
    robustness: pd.DataFrame
    srm: pd.DataFrame
    daily: pd.DataFrame
    lists: pd.DataFrame
    status: Status
    reason: str
    srm_flagged: bool
    srm_p: float
    participants: int
    matching: pd.DataFrame = field(default_factory=pd.DataFrame)
    matched_share: float = math.nan


def ab_test(
    ds: Dataset,
    *,
    metric: str | Sequence[str] | None = None,
    window: Sequence[DayLike] | None = None,
    pre_window: Sequence[DayLike] | None = None,
    covariate: str | None = None,
    experiment: str | None = None,
    control: str = "control",
    confidence: float = 0.95,
    correction: Literal["holm", "bh"] = "holm",
    split: Mapping[str, float] | None = None,
    name: str | None = None,
) -> Result:
    """Compare each variant with the control on each metric (docs/experiments.md).

    Args:
        ds: a dataset with ``assignments`` and ``orders``.
        metric: a metric name or a list (the first is the primary one, on which the verdict
            rests): ``revenue`` (per participant, non-buyers as 0), ``conversion``,
            ``orders``, ``items`` (order lines), ``average_check`` (revenue ÷ orders, a
            ratio metric), ``revenue_per_buyer`` (buyers only: not randomised, read with
            care), or a numeric orders column (summed per participant). Default: all that
            apply, revenue first.
        window: the test's first and last day, inclusive (dates, or day numbers with
            day-number data); default the data window.
        pre_window: the days before the test whose value of the same metric is CUPED's
            covariate; default none.
        covariate: a numeric customers column as CUPED's covariate instead.
        experiment: which experiment of the assignments (needed when there are several).
        control: the control variant's name.
        confidence: confidence level of every interval.
        correction: ``"holm"`` (family-wise) or ``"bh"`` (false discovery rate) across
            metrics and variants.
        split: the planned share of each variant (default equal) for the sample-ratio check.
        name: a title for the report (default: the experiment's name).
    """
    return AB_TEST.run(
        ds,
        metric=metric,
        window=window,
        pre_window=pre_window,
        covariate=covariate,
        experiment=experiment,
        control=control,
        confidence=confidence,
        correction=correction,
        split=split,
        name=name,
    )


def _params(
    ds: Dataset,
    *,
    metric: str | Sequence[str] | None,
    window: Sequence[DayLike] | None,
    pre_window: Sequence[DayLike] | None,
    covariate: str | None,
    experiment: str | None,
    control: str,
    confidence: float,
    correction: str,
    split: Mapping[str, float] | None,
    name: str | None,
) -> Params:
    day_zero = ds.settings.day_zero
    orders = ds.table("orders").columns
    if metric is None:
        metrics = tuple(m for m in DEFAULT_METRICS if m != "items" or "items" in orders)
    else:
        metrics = (metric,) if isinstance(metric, str) else tuple(metric)
    if not metrics:
        raise ConfigError("ab_test: metric: expected at least one metric; found none")
    for m in metrics:
        if m == "items" and "items" not in orders:
            raise ConfigError(
                "ab_test: metric 'items' needs order lines (one row per item); load the "
                "orders with order_lines = true, or drop 'items'"
            )
        if m not in METRICS and m not in orders:
            raise ConfigError(
                f"ab_test: metric {m!r} is neither a known metric ({', '.join(METRICS)}) nor "
                f"a column of the orders ({', '.join(orders)})"
            )
    if ds.window is None and window is None:
        raise ConfigError("ab_test needs a window: pass window=(first, last)")
    resolved = (
        day_window(window, day_zero, option="ab_test: window") if window is not None else ds.window
    )
    assert resolved is not None
    pre = day_window(pre_window, day_zero, option="ab_test: pre_window") if pre_window else None
    if pre is not None and pre[1] >= resolved[0]:
        raise ConfigError(
            f"ab_test: pre_window must end before the window starts ({pre[1]} ≥ {resolved[0]})"
        )
    if covariate is not None:
        if pre is not None:
            raise ConfigError("ab_test: give pre_window or covariate, not both")
        if not ds.has("customers") or covariate not in ds.table("customers").columns:
            raise ConfigError(f"ab_test: covariate {covariate!r} is not a customers column")
    known = experiments_of(ds)
    if experiment is None and len(known) > 1:
        raise ConfigError(
            f"ab_test: the assignments hold several experiments ({', '.join(known)}); "
            "pass experiment=..."
        )
    if experiment is not None and known and experiment not in known:
        raise ConfigError(
            f"ab_test: experiment {experiment!r} not in the assignments ({', '.join(known)})"
        )
    if not 0 < confidence < 1:
        raise ConfigError(f"ab_test: confidence must lie in (0, 1); found {confidence}")
    chosen = experiment if experiment is not None else (known[0] if known else None)
    variants = variants_of(ds, chosen)
    matched = control == MATCHED or (control not in variants and len(variants) == 1)
    if matched:
        if universe(ds) is None:
            raise ConfigError(
                "ab_test: there is no control group and no table of everyone who could have "
                "taken part (customers, sessions or events) to draw a matched control from; "
                "load one, or a control list"
            )
        if pre is None:
            start = ds.window[0] if ds.window else resolved[0]
            if start >= resolved[0]:
                raise ConfigError(
                    "ab_test: a matched control needs days before the window to match on; "
                    "the data start with the window (pass pre_window=...)"
                )
            pre = (start, resolved[0] - timedelta(days=1))
        control = MATCHED
    if correction not in ("holm", "bh"):
        raise ConfigError(f"ab_test: correction must be 'holm' or 'bh'; found {correction!r}")
    title = name or (f"A/B test: {experiment}" if experiment else "A/B test")
    return Params(
        metrics=metrics,
        window=resolved,
        pre_window=pre,
        covariate=covariate,
        experiment=chosen,
        control=control,
        confidence=confidence,
        correction="holm" if correction == "holm" else "bh",
        split=dict(split) if split else None,
        name=title,
        day_zero=day_zero,
        currency=ds.settings.currency,
        matched=matched,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    outcomes = participant_outcomes(
        ds,
        experiment=p.experiment,
        window=p.window,
        pre_window=p.pre_window,
        covariate=p.covariate,
        extra=tuple(m for m in p.metrics if m not in METRICS),
    )
    variants = tuple(sorted(outcomes.users["variant"].dropna().unique()))
    outsiders = None
    if p.matched and p.pre_window is not None:
        outsiders = outsider_outcomes(
            ds,
            window=p.window,
            pre_window=p.pre_window,
            extra=tuple(m for m in p.metrics if m not in METRICS),
        )
    return Frames(outcomes, variants, _list_quality(ds), outsiders)


def _list_quality(ds: Dataset) -> pd.DataFrame:
    """The assignments' token accounting, as the load counted it."""
    counts = ds.quality.table_counts("assignments")
    if counts.preset != LISTS_PRESET:
        return pd.DataFrame(columns=["check", "count"])
    rows = [
        {"check": "read", "count": counts.loaded},
        {"check": "accepted", "count": counts.accepted},
    ]
    rows += [{"check": k, "count": v} for k, v in counts.excluded_by_reason.items()]
    return pd.DataFrame(rows)


# -- infer -----------------------------------------------------------------------------


def _values(users: pd.DataFrame, name: str, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-participant values (numerator, denominator) of metric ``name`` in one arm."""
    arm = users.loc[users["variant"] == variant]
    if name == "conversion":
        return (arm["orders"].to_numpy() > 0).astype(float), np.ones(len(arm))
    if name == "average_check":
        return arm["revenue"].to_numpy(float), arm["orders"].to_numpy(float)
    if name == "revenue_per_buyer":
        buyers = arm.loc[arm["orders"] > 0]
        return buyers["revenue"].to_numpy(float), np.ones(len(buyers))
    column = METRICS[name].column if name in METRICS else name
    return arm[column].to_numpy(float), np.ones(len(arm))


def _pre_values(users: pd.DataFrame, name: str, variant: str) -> np.ndarray | None:
    """CUPED's covariate for metric ``name`` in one arm (``None``: not defined)."""
    arm = users.loc[users["variant"] == variant]
    if "covariate" in users.columns:
        x = arm["covariate"].astype(float)
        return x.fillna(users["covariate"].astype(float).mean()).to_numpy()
    if name == "conversion" and "pre_orders" in users.columns:
        return (arm["pre_orders"].to_numpy() > 0).astype(float)
    column = f"pre_{METRICS[name].column if name in METRICS else name}"
    if name in ("average_check", "revenue_per_buyer") or column not in users.columns:
        return None
    return arm[column].to_numpy(float)


def _compare(
    name: str, t: tuple[np.ndarray, np.ndarray], c: tuple[np.ndarray, np.ndarray], confidence: float
) -> Comparison:
    kind = METRICS[name].kind if name in METRICS else "mean"
    if kind == "proportion":
        return compare_proportions(
            int(t[0].sum()), len(t[0]), int(c[0].sum()), len(c[0]), confidence=confidence
        )
    if kind == "ratio":
        return compare_ratio(t[0], t[1], c[0], c[1], confidence=confidence)
    return compare_means(t[0], c[0], confidence=confidence)


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


def _strata(frame: pd.DataFrame, edges: np.ndarray) -> pd.Series:
    """Pre-period activity as a stratum: orders 0 … 5, 6+ and, for buyers, revenue quartile."""
    orders = frame["pre_orders"].clip(upper=6).astype(int).astype(str)
    band = np.searchsorted(edges, frame["pre_revenue"].to_numpy(float), side="right")
    return orders + np.where(frame["pre_orders"] > 0, ":" + pd.Series(band).astype(str), "")


def _matched(frames: Frames, p: Params) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Participants plus a control drawn from outsiders stratum by stratum (stats/matching)."""
    users = frames.outcomes.users
    pool = frames.outsiders
    if pool is None or pool.empty:
        return users, pd.DataFrame(), math.nan
    buyers = users.loc[users["pre_orders"] > 0, "pre_revenue"].to_numpy(float)
    edges = np.quantile(buyers, [0.25, 0.5, 0.75]) if len(buyers) >= 4 else np.array([])
    drawn = match_strata(_strata(users, edges).tolist(), _strata(pool, edges).tolist())
    control = pool.iloc[drawn.chosen].assign(variant=MATCHED)
    return (
        pd.concat([users, control[users.columns]], ignore_index=True),
        drawn.strata,
        (drawn.matched_share),
    )


def _infer(frames: Frames, p: Params) -> Estimates:
    matching, matched_share = pd.DataFrame(), math.nan
    users = frames.outcomes.users
    if p.matched:
        users, matching, matched_share = _matched(frames, p)
        frames = replace(frames, outcomes=replace(frames.outcomes, users=users))
    variants = tuple(sorted(users["variant"].dropna().unique()))
    n_by = users.groupby("variant").size()
    counts = [int(n_by.get(v, 0)) for v in variants]
    expected = [float(p.split.get(v, 0.0)) for v in variants] if p.split else None
    # A drawn control has the participants' size by construction: no split to check.
    srm = sample_ratio(counts, expected) if len(variants) > 1 and not p.matched else None
    srm_table = pd.DataFrame(
        {
            "variant": list(variants),
            "participants": counts,
            "observed_share": list(srm.observed) if srm else [1.0] * len(variants),
            "expected_share": list(srm.expected) if srm else [1.0] * len(variants),
        }
    )
    rows: list[dict[str, Any]] = []
    arms: list[dict[str, Any]] = []
    robust: list[dict[str, Any]] = []
    treatments = [v for v in variants if v != p.control]
    status: Status = "ok"
    reason = ""
    if p.control not in variants:
        status, reason = (
            "empty_arm",
            (
                f"No participant is in the control variant {p.control!r} "
                f"(variants: {', '.join(variants) or 'none'}); pass control=... to name it."
            ),
        )
    elif not treatments:
        status, reason = "empty_arm", "Only the control variant has participants."
    else:
        for name in p.metrics:
            c = _values(users, name, p.control)
            for v in treatments:
                t = _values(users, name, v)
                comp = _compare(name, t, c, p.confidence)
                row = _row(name, v, comp, t, c, p)
                rows.append(row)
                robust.extend(_robust(name, v, t, c, users, p))
                for arm_name, arm in ((v, comp.treatment), (p.control, comp.control)):
                    arms.append(
                        {
                            "metric": name,
                            "variant": arm_name,
                            "n": arm.n,
                            "value": arm.value,
                            "low": arm.low,
                            "high": arm.high,
                        }
                    )
    table = pd.DataFrame(rows)
    if not table.empty:
        pvals = table["p_value"].to_numpy(float)
        table["p_adjusted"] = holm(pvals) if p.correction == "holm" else benjamini_hochberg(pvals)
        primary = table["metric"] == p.metrics[0]
        if not (table.loc[primary, "status"] == "ok").any():
            status = "not_enough_data" if status == "ok" else status
            reason = reason or str(table.loc[primary, "reason"].iloc[0])
    arms_frame = (
        pd.DataFrame(arms).drop_duplicates(["metric", "variant"]) if arms else pd.DataFrame()
    )
    return Estimates(
        table=table,
        arms=arms_frame,
        robustness=pd.DataFrame(robust),
        srm=srm_table,
        daily=_daily(frames, p, n_by),
        lists=frames.lists,
        status=status,
        reason=reason,
        srm_flagged=bool(srm.flagged) if srm else False,
        srm_p=float(srm.p_value) if srm else math.nan,
        participants=int(sum(counts)),
        matching=matching,
        matched_share=matched_share,
    )


def _row(
    name: str,
    variant: str,
    comp: Comparison,
    t: tuple[np.ndarray, np.ndarray],
    c: tuple[np.ndarray, np.ndarray],
    p: Params,
) -> dict[str, Any]:
    kind = METRICS[name].kind if name in METRICS else "mean"
    if kind == "proportion":
        bayes = bayes_proportions(int(t[0].sum()), len(t[0]), int(c[0].sum()), len(c[0]))
    else:
        per_t = t[0] / np.where(t[1] > 0, t[1], np.nan) if kind == "ratio" else t[0]
        per_c = c[0] / np.where(c[1] > 0, c[1], np.nan) if kind == "ratio" else c[0]
        bayes = bayes_means(per_t[~np.isnan(per_t)], per_c[~np.isnan(per_c)])
    seq = sequential_means(t[0], c[0], confidence=p.confidence) if kind != "ratio" else None
    sd_t, sd_c = _sd(t[0]), _sd(c[0])
    if kind == "ratio":
        # The ratio's own standard deviation per participant, from its delta-method interval
        # (of the stated confidence, not always 95%).
        z = z_quantile(p.confidence)
        sd_t = (
            (comp.treatment.high - comp.treatment.low)
            / (2 * z)
            * math.sqrt(max(comp.treatment.n, 1))
        )
        sd_c = (comp.control.high - comp.control.low) / (2 * z) * math.sqrt(max(comp.control.n, 1))
    n_t, n_c = comp.treatment.n, comp.control.n
    alpha = 1 - p.confidence
    detectable = (
        mde(sd_t, sd_c, n_t, n_c, alpha=alpha, power=ALPHA_POWER)
        if n_t > 1 and n_c > 1
        else math.nan
    )
    if comp.status == "ok" and np.isfinite(comp.difference) and comp.difference != 0:
        need_t, need_c = sample_size(
            abs(comp.difference),
            sd_t,
            sd_c,
            alpha=alpha,
            power=ALPHA_POWER,
            ratio=n_c / n_t if n_t else 1.0,
        )
        achieved = power(abs(comp.difference), sd_t, sd_c, n_t, n_c, alpha=alpha)
    else:
        need_t = need_c = -1
        achieved = math.nan
    return {
        "metric": name,
        "label": METRICS[name].label if name in METRICS else f"{name} per participant",
        "unit": METRICS[name].unit if name in METRICS else "number",
        "variant": variant,
        "control": p.control,
        "n_treatment": n_t,
        "n_control": n_c,
        "treatment_value": comp.treatment.value,
        "control_value": comp.control.value,
        "difference": comp.difference,
        "low": comp.low,
        "high": comp.high,
        "relative": comp.relative,
        "rel_low": comp.rel_low,
        "rel_high": comp.rel_high,
        "p_value": comp.p_value,
        "prob_beat": bayes.prob_beat,
        "expected_loss": bayes.expected_loss_treatment,
        "seq_low": seq.low if seq else math.nan,
        "seq_high": seq.high if seq else math.nan,
        "power": achieved,
        "mde": detectable,
        "needed_treatment": need_t,
        "needed_control": need_c,
        "method": comp.method,
        "status": comp.status,
        "reason": comp.reason,
    }


def _robust(
    name: str,
    variant: str,
    t: tuple[np.ndarray, np.ndarray],
    c: tuple[np.ndarray, np.ndarray],
    users: pd.DataFrame,
    p: Params,
) -> list[dict[str, Any]]:
    """The other methods on the same metric: rank test, bootstrap, CUPED."""
    kind = METRICS[name].kind if name in METRICS else "mean"
    out: list[dict[str, Any]] = []
    base = {"metric": name, "variant": variant}
    if kind == "mean" and len(t[0]) and len(c[0]):
        rank = mann_whitney(t[0], c[0])
        out.append(
            base
            | {
                "method": "Mann–Whitney U (rank test)",
                "estimate": rank.superiority,
                "estimate_is": "P(treatment > control) + ½ P(tie)",
                "low": math.nan,
                "high": math.nan,
                "p_value": rank.p_value,
                "variance_reduction": math.nan,
            }
        )
    if (name in SKEWED or name not in METRICS) and len(t[0]) > 1 and len(c[0]) > 1:
        boot = bootstrap_difference(t[0], c[0], confidence=p.confidence)
        out.append(
            base
            | {
                "method": boot.method,
                "estimate": float(np.mean(t[0]) - np.mean(c[0])),
                "estimate_is": "difference of means",
                "low": boot.low,
                "high": boot.high,
                "p_value": math.nan,
                "variance_reduction": math.nan,
            }
        )
    if name != "revenue_per_buyer" and kind != "ratio":
        x_t = _pre_values(users, name, variant)
        x_c = _pre_values(users, name, p.control)
        if x_t is not None and x_c is not None:
            adjusted = cuped(t[0], x_t, c[0], x_c, confidence=p.confidence)
            comp = adjusted.comparison
            out.append(
                base
                | {
                    "method": "CUPED ("
                    + ("pre-period" if p.pre_window else str(p.covariate))
                    + ")",
                    "estimate": comp.difference,
                    "estimate_is": "difference of adjusted means",
                    "low": comp.low,
                    "high": comp.high,
                    "p_value": comp.p_value,
                    "variance_reduction": adjusted.variance_reduction,
                }
            )
    return out


def _daily(frames: Frames, p: Params, n_by: pd.Series) -> pd.DataFrame:
    """Revenue, orders and buyers per participant per day and variant (the chart)."""
    daily = frames.outcomes.daily.copy()
    if daily.empty:
        return daily
    daily["participants"] = daily["variant"].map(n_by).astype(float)
    for col in ("revenue", "orders", "buyers"):
        daily[f"{col}_per_participant"] = daily[col] / daily["participants"]
    daily["in_window"] = [p.window[0] <= d <= p.window[1] for d in daily["day"]]
    axis = [day_axis(d, p.day_zero) for d in daily.pop("day")]
    daily.insert(1, "day_number" if p.day_zero is not None else "date", axis)
    return daily


# -- explain ---------------------------------------------------------------------------


def _fmt(value: float, unit: str, currency: str) -> str:
    return format_unit(value, unit, currency=currency)  # type: ignore[arg-type]


def _verdict(row: pd.Series, e: Estimates, p: Params) -> tuple[str, str, str]:
    """(verdict code, sentence, recommendation) for the primary metric of one variant."""
    unit, cur = str(row["unit"]), p.currency
    alpha = 1 - p.confidence
    what = str(row["label"]).lower()
    effect = (
        f"{_fmt(row['difference'], unit, cur)} "
        f"({round(p.confidence * 100)}% CI {_fmt(row['low'], unit, cur)} to "
        f"{_fmt(row['high'], unit, cur)}; {percent(row['relative'])} relative, "
        f"{p_phrase(row['p_adjusted'])} after "
        f"{'Holm' if p.correction == 'holm' else 'Benjamini–Hochberg'}, "
        f"probability to beat control {chance(row['prob_beat'])})"
    )
    head = f"{row['variant']} against {row['control']} on {what}: {effect}."
    if e.srm_flagged:
        return (
            "check_split",
            head + f" The split of participants is off (sample-ratio {p_phrase(e.srm_p)}),"
            " so the assignment may be broken and the effect is not trusted.",
            "Find why the groups differ in size before acting on this test.",
        )
    if row["status"] != "ok":
        return ("cannot_tell", f"{head} {row['reason']}", "Collect more data.")
    if row["p_adjusted"] < alpha:
        if row["difference"] > 0:
            return (
                "roll_out",
                f"{row['variant']} raised {what}: {effect}.",
                f"Roll out {row['variant']}: the gain is unlikely to be chance.",
            )
        return (
            "stop",
            f"{row['variant']} lowered {what}: {effect}.",
            f"Stop {row['variant']}: it does harm.",
        )
    needed = int(row["needed_treatment"]) if row["needed_treatment"] > 0 else -1
    have = int(row["n_treatment"])
    mde_text = _fmt(row["mde"], unit, cur)
    if needed > 0 and needed <= 10 * have:
        return (
            "keep_testing",
            f"No clear effect of {row['variant']} on {what} yet: {effect}. The test could "
            f"detect {mde_text} with 80% power; the observed effect needs about "
            f"{count_of(needed, 'participant')} per variant.",
            f"Keep testing up to about {needed:,} participants per variant "
            "(or decide the observed effect is too small to matter).",
        )
    return (
        "no_effect",
        f"No effect of {row['variant']} on {what} that this test could find: {effect}. It "
        f"could detect {mde_text} with 80% power; an effect as small as the observed one "
        + (
            f"would need about {count_of(needed, 'participant')} per variant."
            if needed > 0
            else "cannot be told from zero."
        ),
        f"Stop {row['variant']}, unless an effect smaller than {mde_text} would still pay.",
    )


def _explain(e: Estimates, p: Params) -> Result:
    window = window_label(p.window, p.day_zero)
    findings: list[Finding] = []
    summary: dict[str, Any] = {"participants": e.participants, "srm_p_value": e.srm_p}
    if e.srm_flagged:
        findings.append(
            Finding(
                "sample_ratio_mismatch",
                "The groups' sizes differ more than chance allows (sample-ratio mismatch, "
                f"{p_phrase(e.srm_p)}): "
                + ", ".join(
                    f"{v} {int(n):,} ({percent(float(o))} vs {percent(float(x))} planned)"
                    for v, n, o, x in e.srm[
                        ["variant", "participants", "observed_share", "expected_share"]
                    ].itertuples(index=False)
                )
                + ".",
                "error",
                numbers={"p_value": e.srm_p},
            )
        )
    if p.matched:
        n_control = int(e.matching["drawn"].sum()) if not e.matching.empty else 0
        assert p.pre_window is not None
        findings.append(
            Finding(
                "control_matched",
                "There is no control group, so the control is "
                f"{count_of(n_control, 'non-participant')} drawn at random, stratum by stratum, "
                "to match the participants' orders and revenue band in the pre-period "
                f"({window_label(p.pre_window, p.day_zero)}); "
                f"{chance(e.matched_share)} of the participants found a full match. This "
                "balances past purchases only: the comparison is not randomised, and anything "
                "else that made people participants can bias it.",
                "warning",
                numbers={"control": float(n_control), "matched_share": e.matched_share},
            )
        )
    verdicts: list[str] = []
    if e.status == "ok" and not e.table.empty:
        primary = e.table.loc[e.table["metric"] == p.metrics[0]]
        for _, row in primary.iterrows():
            code, sentence, advice = _verdict(row, e, p)
            verdicts.append(code)
            findings.append(
                Finding(
                    f"verdict_{code}",
                    sentence,
                    "warning" if code == "stop" else "info",
                    numbers={
                        "difference": float(row["difference"]),
                        "p_value": float(row["p_adjusted"]),
                    },
                )
            )
            findings.append(Finding("recommendation", advice))
        first = primary.iloc[0]
        kind = METRICS[p.metrics[0]].kind if p.metrics[0] in METRICS else "mean"
        interval = f"{round(p.confidence * 100)}% {SHORT_METHOD[kind]}"
        summary |= {
            "effect": Entry(
                float(first["difference"]),
                str(first["unit"]),  # type: ignore[arg-type]
                f"{first['label']}: treatment − control",
                float(first["low"]),
                float(first["high"]),
                interval,
            ),
            "relative_effect": Entry(
                float(first["relative"]),
                "percent",
                f"{first['label']}: relative effect",
                float(first["rel_low"]),
                float(first["rel_high"]),
                interval,
            ),
            "p_value": float(first["p_adjusted"]),
            "prob_beat": float(first["prob_beat"]),
            "power": float(first["power"]),
        }
        others = e.table.loc[
            (e.table["metric"] != p.metrics[0]) & (e.table["p_adjusted"] < 1 - p.confidence)
        ]
        for _, row in others.iterrows():
            unit = str(row["unit"])
            findings.append(
                Finding(
                    "secondary_effect",
                    f"{row['variant']} also moved {str(row['label']).lower()}: "
                    f"{_fmt(row['difference'], unit, p.currency)} "
                    f"({percent(row['relative'])}, {p_phrase(row['p_adjusted'])} adjusted).",
                )
            )
        cuped_rows = (
            e.robustness.loc[e.robustness["method"].str.startswith("CUPED")]
            if not e.robustness.empty
            else e.robustness
        )
        if not cuped_rows.empty:
            best = cuped_rows["variance_reduction"].max()
            source = (
                f"pre-period {window_label(p.pre_window, p.day_zero)}"
                if p.pre_window
                else f"covariate {p.covariate}"
            )
            findings.append(
                Finding(
                    "cuped",
                    f"CUPED with the {source} removed up to {percent(best)} of the variance.",
                    numbers={"variance_reduction": float(best)},
                )
            )
    else:
        findings.append(Finding("not_tested", e.reason or "Nothing to compare.", "warning"))
    findings.extend(_list_findings(e.lists))
    figures = [
        FigureSpec(
            kind="bar",
            table="main",
            x="metric",
            y="relative",
            color="variant",
            band=("rel_low", "rel_high"),
            title=f"Relative effect with its {round(p.confidence * 100)}% interval",
            labels={"relative": "Treatment vs control", "metric": "Metric"},
            value_format=".1%",
        )
    ]
    if not e.daily.empty:
        x = "day_number" if p.day_zero is not None else "date"
        figures.append(
            FigureSpec(
                kind="line",
                table="daily",
                x=x,
                y="revenue_per_participant",
                color="variant",
                title=f"Revenue per participant per day (test window {window})",
                labels={
                    x: "Day" if p.day_zero is not None else "Date",
                    "revenue_per_participant": f"Revenue per participant ({p.currency})",
                },
                value_format=",.2f",
            )
        )
    words = ["label", "unit", "control", "method", "reason"]
    main = e.table.drop(columns=words) if not e.table.empty else e.table
    methods = e.table[["metric", "variant", *words]] if not e.table.empty else e.table
    return Result(
        name="ab_test",
        title=p.name,
        table=main,
        tables={
            "methods": methods,
            "matching": e.matching,
            "arms": e.arms,
            "robustness": e.robustness,
            "srm": e.srm,
            "daily": e.daily,
            "lists": e.lists,
        },
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params=_params_dict(p),
        status=e.status,
        status_reason=e.reason,
        figures=tuple(figures),
        notes=(
            f"Window {window}; participants who did not buy count as 0.",
            "Revenue per buyer compares buyers only: who buys may itself depend on the "
            "variant, so it is not a randomised comparison.",
            "Power is stated for the observed effect as if it were the true one (80% power "
            "and the minimum detectable effect are what to plan a next test with).",
        ),
    )


LIST_WORDS = {
    "duplicate_id": ("repeated id", "repeated ids"),
    "not_an_id": ("token that is not an id", "tokens that are not ids"),
    "in_several_lists": (
        "entry of an id listed under two variants",
        "entries of ids listed under two variants",
    ),
    "unknown_id": ("id found in no table", "ids found in no table"),
}
"""The participant lists' exclusion reasons in words (data/assignments.py names them)."""


def _list_findings(lists: pd.DataFrame) -> list[Finding]:
    """What the participant lists held and what was left out, when lists were read."""
    if lists.empty:
        return []
    counts = dict(zip(lists["check"], lists["count"].astype(int), strict=True))
    left = {k: n for k, n in counts.items() if k not in ("read", "accepted") and n}
    if not left:
        return []
    parts = [
        count_of(n, *LIST_WORDS.get(k, (k, k)))
        for k, n in sorted(left.items(), key=lambda kv: -kv[1])
    ]
    text = (
        f"Of {count_of(counts.get('read', 0), 'entry', 'entries')} in the participant lists, "
        f"{counts.get('accepted', 0):,} are participants; left out: "
        + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
        + "."
    )
    return [Finding("participant_lists", text, numbers={k: float(n) for k, n in counts.items()})]


def _params_dict(p: Params) -> dict[str, Any]:
    return {
        "metrics": list(p.metrics),
        "window": [d.isoformat() for d in p.window],
        "pre_window": [d.isoformat() for d in p.pre_window] if p.pre_window else None,
        "covariate": p.covariate,
        "experiment": p.experiment,
        "control": p.control,
        "confidence": p.confidence,
        "correction": p.correction,
        "split": dict(p.split) if p.split else None,
        "name": p.name,
    }


def _plan(ds: Dataset) -> Plan:
    specs = ds.settings.experiments
    if specs:
        runs = tuple(
            {
                "name": s.name,
                "experiment": s.experiment,
                "window": s.window,
                "pre_window": s.pre_window,
                "control": s.control,
            }
            for s in specs
        )
        return Plan(runs=runs)
    return Plan()


AB_TEST = register(
    Analysis(
        name="ab_test",
        title="A/B test",
        group="experiments",
        needs=("assignments", "orders"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    ab_test,
)
