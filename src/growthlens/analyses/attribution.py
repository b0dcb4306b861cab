"""Attribution: every model side by side, with bootstrap intervals (docs/attribution.md).

Journeys (:mod:`growthlens.derive.journeys`) are credited by each model
(:mod:`growthlens.metrics.attribution`): first touch, last touch, last non-direct, linear,
time decay, position-based, Markov chain of order 1–3 (removal effects solved exactly,
:mod:`growthlens.stats.markov`), Shapley and given weights. Intervals: a multinomial
bootstrap over conversions; the spread between models is shown beside them as the larger
uncertainty to keep in mind.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from growthlens.analyses.funnel import parse_window
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.journeys import NO_TOUCH, dates_only, given_touchpoints
from growthlens.errors import ConfigError
from growthlens.metrics.attribution import (
    MODELS,
    JourneyCounts,
    PathCounts,
    check_given,
    check_position,
    credit_by_group,
    journey_counts,
    null_journey_count,
    path_counts,
)
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.markov import MarkovChain, MarkovResult, check_order
from growthlens.text import count_of
from growthlens.text import credit as credit_text

GROUPS_MAX = 1000
"""Bootstrap resamples at most this many random groups of conversions (see the notes)."""
SPREAD_FINDINGS = 3
"""At most this many channels are named as depending most on the model."""

LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "last_non_direct": "Last non-direct",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position-based",
    "markov": "Markov chain",
    "shapley": "Shapley",
    "given": "Given weights",
}

SUMMARY: SummarySpec = {
    "conversions": ("count", "Conversions"),
    "revenue": ("money", "Revenue of the conversions"),
    "journeys": ("count", "Conversions with at least one touch"),
    "touches": ("count", "Touches in their journeys"),
    "touches_per_journey": ("ratio", "Touches per journey (mean)"),
    "no_touch": ("count", "Conversions without any touch"),
    "null_journeys": ("count", "Journeys without conversion (used by the Markov chain)"),
    "models": ("count", "Models compared"),
    "channels": ("count", "Channels credited"),
    "p_conversion": ("share", "Markov chain: probability of converting from the start"),
    "most_model_dependent": ("text", "Channel whose credit depends most on the model"),
}

CREDIT_COLUMNS = [
    "model",
    "channel",
    "conversions",
    "low",
    "high",
    "revenue",
    "revenue_low",
    "revenue_high",
    "share",
]


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`attribution`)."""

    models: tuple[str, ...]
    lookback_s: int
    half_life_s: int
    position: tuple[float, float, float]
    markov_order: int
    bootstrap: int
    confidence: float
    seed: int
    normalise_weights: bool
    given_journeys: bool
    by_day: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "lookback_s": self.lookback_s,
            "half_life_s": self.half_life_s,
            "position": list(self.position),
            "markov_order": self.markov_order,
            "bootstrap": self.bootstrap,
            "confidence": self.confidence,
            "seed": self.seed,
            "normalise_weights": self.normalise_weights,
            "journeys_from": "touchpoints" if self.given_journeys else "sessions",
            "compared_by_day": self.by_day,
        }


def attribution(
    ds: Dataset,
    *,
    models: Sequence[str] | None = None,
    lookback: str | int | timedelta = "30d",
    half_life: str | int | timedelta = "7d",
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
    markov_order: int = 1,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    normalise_weights: bool = False,
) -> Result:
    """Conversions and revenue credited to each channel by every attribution model.

    Journeys come from the ``touchpoints`` table when one is loaded (as given), else from
    each user's sessions in the ``lookback`` before each conversion (a session counts for
    the user's first conversion at or after it, never an earlier one). Each model's credit
    sums to 1 per conversion (``given`` weights are used as stored unless
    ``normalise_weights``); revenue credit = credit × the conversion's revenue. Each
    channel's credit gets a percentile interval from a multinomial bootstrap over
    conversions (the Markov chain refitted in each replicate). See docs/attribution.md.

    Args:
        ds: a Dataset with ``orders``, and ``sessions`` or ``touchpoints``.
        models: the models to compare (default: every model the data allows; ``given``
            only with a touchpoints table with weights). Names: first_touch, last_touch,
            last_non_direct, linear, time_decay, position_based, markov, shapley, given.
        lookback: how far before a conversion its sessions count ("30d"; built journeys
            only) — also the span of the non-converting journeys before the data's end.
        half_life: time decay's half-life ("7d").
        position: position-based shares (first, middle, last), summing to 1.
        markov_order: order of the Markov chain, 1 to 3.
        bootstrap: replicates (0 = no intervals).
        confidence: level of the intervals.
        seed: seed of the bootstrap.
        normalise_weights: rescale given weights to sum to 1 per conversion.

    Example:
        >>> import pandas as pd
        >>> from growthlens import load
        >>> t = pd.Timestamp("2024-01-10")
        >>> sessions = pd.DataFrame({"user_id": [1, 1, 2], "session_id": ["a", "b", "c"],
        ...     "start_ts": [t - pd.Timedelta(days=2), t - pd.Timedelta(days=1), t],
        ...     "source": ["ads", "seo", "seo"]})
        >>> orders = pd.DataFrame({"user_id": [1, 2], "order_id": ["o1", "o2"], "ts": [t, t],
        ...     "revenue": [100.0, 50.0]})
        >>> ds = load(sessions=sessions, orders=orders, window=("2024-01-01", "2024-01-31"))
        >>> r = attribution(ds, models=["first_touch", "linear"], bootstrap=0)
        >>> r.table[["channel", "first_touch", "linear"]].values.tolist()
        [['seo', 1.0, 1.5], ['ads', 1.0, 0.5]]
    """
    return ATTRIBUTION.run(
        ds,
        models=models,
        lookback=lookback,
        half_life=half_life,
        position=position,
        markov_order=markov_order,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        normalise_weights=normalise_weights,
    )


def default_models(ds: Dataset) -> tuple[str, ...]:
    """Every model the data allows: ``given`` only with weighted touchpoints."""
    weighted = ds.has("touchpoints") and "weight" in ds.table("touchpoints").columns
    return tuple(m for m in MODELS if m != "given" or weighted)


def _params(
    ds: Dataset,
    *,
    models: Sequence[str] | None,
    lookback: str | int | timedelta,
    half_life: str | int | timedelta,
    position: tuple[float, float, float],
    markov_order: int,
    bootstrap: int,
    confidence: float,
    seed: int,
    normalise_weights: bool,
) -> Params:
    if not ds.has("sessions") and not ds.has("touchpoints"):
        raise ConfigError(
            "attribution needs journeys: a sessions table (journeys built from each user's "
            "sessions) or a touchpoints table; this dataset has neither"
        )
    if models is None:
        chosen = default_models(ds)
    else:
        if isinstance(models, str) or not isinstance(models, Sequence) or not models:
            raise ConfigError(
                f"models must be a non-empty list of model names ({', '.join(MODELS)}); "
                f"got {models!r}"
            )
        unknown = [m for m in models if m not in MODELS]
        if unknown:
            raise ConfigError(
                f"models: unknown model(s) {unknown}; the models are {', '.join(MODELS)}"
            )
        chosen = tuple(m for m in MODELS if m in models)
        if "given" in chosen:
            check_given(ds)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ConfigError(f"bootstrap must be a whole number ≥ 0 (replicates); got {bootstrap!r}")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not (0 < confidence < 1)
    ):
        raise ConfigError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a whole number ≥ 0; got {seed!r}")
    if not isinstance(normalise_weights, bool):
        raise ConfigError(f"normalise_weights must be True or False; got {normalise_weights!r}")
    return Params(
        models=chosen,
        lookback_s=_duration("lookback", lookback),
        half_life_s=_duration("half_life", half_life),
        position=check_position(position),
        markov_order=check_order(markov_order),
        bootstrap=bootstrap,
        confidence=float(confidence),
        seed=seed,
        normalise_weights=normalise_weights,
        given_journeys=given_touchpoints(ds),
        by_day=dates_only(ds),
    )


def _duration(name: str, value: str | int | timedelta) -> int:
    try:
        return parse_window(value)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}".replace("window must", "it must")) from None


@dataclass(frozen=True)
class Frames:
    """What the engine gives: journey counts, credit per group, the Markov paths."""

    counts: JourneyCounts
    credit: pd.DataFrame
    paths: PathCounts | None
    groups: int
    null_groups: int


def _compute(ds: Dataset, p: Params) -> Frames:
    counts = journey_counts(ds, p.lookback_s)
    groups = max(1, min(counts.conversions, GROUPS_MAX))
    rules = [m for m in p.models if m != "markov"]
    credit = credit_by_group(
        ds,
        # The Markov chain's "(no touch)" rows are the same in every model: take them
        # from linear when no other model is asked for.
        rules or ["linear"],
        lookback_s=p.lookback_s,
        half_life_s=p.half_life_s,
        position=p.position,
        normalise_weights=p.normalise_weights,
        groups=groups,
        seed=p.seed,
    )
    paths = None
    null_groups = 1
    if "markov" in p.models:
        null_groups = max(1, min(null_journey_count(ds, p.lookback_s), GROUPS_MAX))
        paths = path_counts(
            ds, lookback_s=p.lookback_s, groups=groups, null_groups=null_groups, seed=p.seed
        )
    return Frames(counts, credit, paths, groups, null_groups)


@dataclass(frozen=True)
class Estimates:
    """Credit with intervals, the model comparison and the Markov chain's removal effects."""

    credit: pd.DataFrame
    comparison: pd.DataFrame
    removal: pd.DataFrame
    counts: JourneyCounts
    markov: MarkovResult | None
    markov_groups: tuple[int, int] = (1, 1)
    notes: tuple[str, ...] = field(default=())


def _matrix(frame: pd.DataFrame, groups: int, channels: Sequence[str], value: str) -> np.ndarray:
    """Groups × channels sums of ``value`` (dense: both are small)."""
    k = len(channels)
    if frame.empty:
        return np.zeros((groups, k))
    col = {c: i for i, c in enumerate(channels)}
    flat = frame["group"].to_numpy(dtype="int64") * k + frame["channel"].map(col).to_numpy(
        dtype="int64"
    )
    sums = np.bincount(flat, weights=frame[value].to_numpy(dtype=float), minlength=groups * k)
    return sums.reshape(groups, k)


def _percentiles(reps: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1 - confidence) / 2
    q = [100 * alpha, 100 * (1 - alpha)]
    # Columns without NaN in one vectorised call (nanpercentile loops over columns in
    # Python: 1 s for 500 channels); the same numbers as nanpercentile on them.
    bounds = np.full((2, reps.shape[1]), np.nan)
    whole = ~np.isnan(reps).any(axis=0)
    if len(reps) and whole.any():
        bounds[:, whole] = np.percentile(reps[:, whole], q, axis=0)
    if (~whole).any():
        # A channel with no finite replicate (a degenerate chain) keeps NaN, silently.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bounds[:, ~whole] = np.nanpercentile(reps[:, ~whole], q, axis=0)
    return bounds[0], bounds[1]


def _infer(frames: Frames, p: Params) -> Estimates:
    rng = np.random.default_rng(p.seed)
    g = frames.groups
    # One set of conversion weights for every model: replicate r resamples the same
    # conversions in each, so the models' intervals are comparable.
    weights = (
        rng.multinomial(g, np.full(g, 1.0 / g), size=p.bootstrap).astype(float)
        if p.bootstrap
        else np.zeros((0, g))
    )
    rows: list[pd.DataFrame] = []
    rules = [m for m in p.models if m != "markov"]
    for model in rules:
        part = frames.credit[frames.credit["model"] == model]
        channels = sorted(part["channel"].unique())
        rows.append(_model_rows(model, part, channels, g, weights, p))
    markov: MarkovResult | None = None
    removal = pd.DataFrame(
        columns=["channel", "removal_effect", "removal_effect_low", "removal_effect_high",
                 "share", "conversions", "revenue"]
    )  # fmt: skip
    if "markov" in p.models and frames.paths is not None:
        no_touch = frames.credit[
            (frames.credit["model"] == frames.credit["model"].iloc[0])
            & (frames.credit["channel"] == NO_TOUCH)
        ] if not frames.credit.empty else frames.credit  # fmt: skip
        markov_rows, markov, removal = _markov(frames, no_touch, weights, rng, p)
        rows.insert(min(len(rows), MODELS.index("markov")), markov_rows)
    credit = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=CREDIT_COLUMNS)
    credit["model"] = pd.Categorical(credit["model"], categories=list(p.models), ordered=True)
    comparison = _comparison(credit, p)
    order = {c: i for i, c in enumerate(comparison["channel"])}
    credit["_o"] = credit["channel"].map(order)
    credit = credit.sort_values(["model", "_o"], kind="stable").drop(columns="_o")
    credit["model"] = credit["model"].astype(str)
    return Estimates(
        credit.reset_index(drop=True)[CREDIT_COLUMNS],
        comparison,
        removal,
        frames.counts,
        markov,
        (frames.groups, frames.null_groups),
    )


def _model_rows(
    model: str,
    part: pd.DataFrame,
    channels: Sequence[str],
    groups: int,
    weights: np.ndarray,
    p: Params,
) -> pd.DataFrame:
    conv = _matrix(part, groups, channels, "conversions")
    rev = _matrix(part, groups, channels, "revenue")
    total_c, total_r = conv.sum(axis=0), rev.sum(axis=0)
    nan = np.full(len(channels), math.nan)
    low = high = rlow = rhigh = nan
    if len(weights):
        low, high = _percentiles(weights @ conv, p.confidence)
        rlow, rhigh = _percentiles(weights @ rev, p.confidence)
    return _rows(model, channels, total_c, low, high, total_r, rlow, rhigh)


def _rows(
    model: str,
    channels: Sequence[str],
    conv: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rev: np.ndarray,
    rlow: np.ndarray,
    rhigh: np.ndarray,
) -> pd.DataFrame:
    total = float(np.nansum(conv))
    return pd.DataFrame(
        {
            "model": model,
            "channel": list(channels),
            "conversions": conv,
            "low": low,
            "high": high,
            "revenue": rev,
            "revenue_low": rlow,
            "revenue_high": rhigh,
            "share": conv / total if total > 0 else np.full(len(channels), math.nan),
        },
        columns=CREDIT_COLUMNS,
    )


def _sparse(frame: pd.DataFrame, groups: int, paths: int, value: str) -> sparse.csr_matrix:
    return sparse.csr_matrix(
        (
            frame[value].to_numpy(dtype=float),
            (frame["group"].to_numpy(dtype="int64"), frame["path"].to_numpy(dtype="int64")),
        ),
        shape=(groups, paths),
    )


def _markov(
    frames: Frames,
    no_touch: pd.DataFrame,
    weights: np.ndarray,
    rng: np.random.Generator,
    p: Params,
) -> tuple[pd.DataFrame, MarkovResult, pd.DataFrame]:
    pc = frames.paths
    assert pc is not None
    n_paths = len(pc.paths)
    conv_g = _sparse(pc.conversions, frames.groups, n_paths, "conversions")
    rev_g = _sparse(pc.conversions, frames.groups, n_paths, "revenue")
    null_g = _sparse(pc.nulls, frames.null_groups, n_paths, "nulls")
    chain = MarkovChain.prepare(pc.paths, p.markov_order)
    conv = np.asarray(conv_g.sum(axis=0)).ravel()
    rev = np.asarray(rev_g.sum(axis=0)).ravel()
    nulls = np.asarray(null_g.sum(axis=0)).ravel()
    fit = chain.fit(conv, nulls)
    channels = list(chain.channels)
    nt_c = float(no_touch["conversions"].sum()) if len(no_touch) else 0.0
    nt_r = float(no_touch["revenue"].sum()) if len(no_touch) else 0.0
    has_nt = nt_c > 0
    names = channels + ([NO_TOUCH] if has_nt else [])

    def totals(result: MarkovResult, c: np.ndarray, r: np.ndarray) -> tuple[Any, Any]:
        if result.status != "ok":
            nan = np.full(len(channels), math.nan)
            return nan, nan
        m = result.credit_matrix
        return np.asarray(m.T @ c).ravel(), np.asarray(m.T @ r).ravel()

    point_c, point_r = totals(fit, conv, rev)
    nt_group_c = _matrix(no_touch, frames.groups, [NO_TOUCH], "conversions")[:, 0]
    nt_group_r = _matrix(no_touch, frames.groups, [NO_TOUCH], "revenue")[:, 0]
    k = len(names)
    low = high = rlow = rhigh = np.full(k, math.nan)
    re_low = re_high = np.full(len(channels), math.nan)
    if len(weights):
        null_weights = rng.multinomial(
            frames.null_groups, np.full(frames.null_groups, 1.0 / frames.null_groups),
            size=len(weights),
        ).astype(float)  # fmt: skip
        reps_c = np.full((len(weights), k), math.nan)
        reps_r = np.full((len(weights), k), math.nan)
        reps_re = np.full((len(weights), len(channels)), math.nan)
        conv_w = np.asarray(conv_g.T @ weights.T).T  # replicates × paths
        rev_w = np.asarray(rev_g.T @ weights.T).T
        null_w = np.asarray(null_g.T @ null_weights.T).T
        for r in range(len(weights)):
            rep = chain.fit(conv_w[r], null_w[r])
            c, rv = totals(rep, conv_w[r], rev_w[r])
            reps_c[r, : len(channels)], reps_r[r, : len(channels)] = c, rv
            if rep.status == "ok":
                reps_re[r] = [rep.removal_effect[ch] for ch in channels]
            if has_nt:
                reps_c[r, -1] = weights[r] @ nt_group_c
                reps_r[r, -1] = weights[r] @ nt_group_r
        low, high = _percentiles(reps_c, p.confidence)
        rlow, rhigh = _percentiles(reps_r, p.confidence)
        re_low, re_high = _percentiles(reps_re, p.confidence)
    all_c = np.concatenate([point_c, [nt_c] if has_nt else []])
    all_r = np.concatenate([point_r, [nt_r] if has_nt else []])
    rows = _rows("markov", names, all_c, low, high, all_r, rlow, rhigh)
    touched_conv, touched_rev = float(conv.sum()), float(rev.sum())
    share = np.array([fit.share.get(c, math.nan) for c in channels], dtype=float)
    removal = pd.DataFrame(
        {
            "channel": channels,
            "removal_effect": [fit.removal_effect.get(c, math.nan) for c in channels],
            "removal_effect_low": re_low,
            "removal_effect_high": re_high,
            "share": share,
            # ChannelAttribution's global allocation: all conversions × the RE share.
            "conversions": share * touched_conv,
            "revenue": share * touched_rev,
        }
    ).sort_values(["removal_effect", "channel"], ascending=[False, True], kind="stable")
    return rows, fit, removal.reset_index(drop=True)


def _comparison(credit: pd.DataFrame, p: Params) -> pd.DataFrame:
    if credit.empty:
        return pd.DataFrame(columns=["channel", *p.models, "min", "max", "spread"])
    wide = credit.pivot_table(
        index="channel", columns="model", values="conversions", aggfunc="sum", observed=False
    )
    wide = wide.reindex(columns=list(p.models)).fillna(0.0)
    wide.columns = [str(c) for c in wide.columns]
    values = wide.to_numpy(dtype=float)
    out = wide.reset_index()
    out["min"] = np.nanmin(values, axis=1)
    out["max"] = np.nanmax(values, axis=1)
    out["spread"] = out["max"] - out["min"]
    # Channels by their mean credit over the models; "(no touch)" last.
    out["_mean"] = np.nanmean(values, axis=1)
    out["_last"] = out["channel"] == NO_TOUCH
    out = out.sort_values(["_last", "_mean", "channel"], ascending=[True, False, True])
    return out.drop(columns=["_mean", "_last"]).reset_index(drop=True)


def _journeys_table(c: JourneyCounts) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"measure": "touches", "value": c.lengths["touches"], "journeys":
                      c.lengths["journeys"]}),
        pd.DataFrame({"measure": "channels", "value": c.channel_counts["channels"],
                      "journeys": c.channel_counts["journeys"]}),
    ]  # fmt: skip
    table = pd.concat(parts, ignore_index=True)
    table["value"] = table["value"].astype("int64")
    table["journeys"] = table["journeys"].astype("int64")
    total = table.groupby("measure")["journeys"].transform("sum")
    table["share"] = table["journeys"] / total.where(total > 0)
    return table


def _explain(est: Estimates, p: Params) -> Result:
    c = est.counts
    status: Status = "ok"
    reason = ""
    findings: list[Finding] = []
    if c.conversions == 0:
        status = "not_enough_data"
        reason = "There is no conversion (order) to attribute."
    elif c.touched == 0:
        status = "not_enough_data"
        reason = f"None of the {count_of(c.conversions, 'conversion')} has a touch " + (
            "in the touchpoints table."
            if p.given_journeys
            else f"(a session of its user in the {p.lookback_s // 86400:g} days before it)."
        )
    if status != "ok":
        findings.append(Finding("not_enough_data", reason, "warning"))
    comparison = est.comparison
    spread = comparison[comparison["channel"] != NO_TOUCH].sort_values(
        ["spread", "channel"], ascending=[False, True], kind="stable"
    )
    top = spread.iloc[0] if status == "ok" and len(spread) and len(p.models) > 1 else None
    if top is not None and top["spread"] > 0:
        for row in spread.head(SPREAD_FINDINGS).to_dict("records"):
            if row["spread"] <= 0:
                break
            findings.append(_spread_finding(row, p))
    findings += _data_findings(c, p)
    if est.markov is not None and est.markov.status != "ok" and status == "ok":
        findings.append(
            Finding(
                "markov_" + est.markov.status,
                f"The Markov chain gives no removal effects: {est.markov.status_reason}.",
                "warning",
            )
        )
    values: dict[str, Any] = {
        "conversions": c.conversions,
        "revenue": c.revenue,
        "journeys": c.touched,
        "touches": c.touches,
        "touches_per_journey": c.touches / c.touched if c.touched else math.nan,
        "no_touch": c.conversions - c.touched,
        "null_journeys": c.null_journeys,
        "models": len(p.models),
        "channels": int((comparison["channel"] != NO_TOUCH).sum()),
    }
    if est.markov is not None:
        values["p_conversion"] = est.markov.p_conversion
    if top is not None:
        values["most_model_dependent"] = str(top["channel"])
    credit = est.credit
    tables = {
        "credit": credit,
        "comparison": comparison,
        "removal_effects": est.removal,
        "journeys": _journeys_table(c),
    }
    return Result(
        name="attribution",
        title="Attribution: every model side by side",
        table=comparison,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        figures=(
            FigureSpec(
                kind="bar",
                table="credit",
                x="channel",
                y="conversions",
                color="model",
                title="Conversions credited to each channel, by model"
                + (f" ({p.confidence:.0%} bootstrap intervals)" if p.bootstrap else ""),
                labels={
                    "channel": "Channel",
                    "conversions": "Conversions credited",
                    "model": "Model",
                },
                value_format=",.1f",
                band=("low", "high") if p.bootstrap else None,
            ),
        ),
        notes=_notes(est, p),
        params=p.as_dict(),
        status=status,
        status_reason=reason,
    )


def _spread_finding(row: Mapping[Any, Any], p: Params) -> Finding:
    values = {m: float(row[m]) for m in p.models}
    # Ties: the model listed first (min and max keep the first of equals).
    low_m = min(p.models, key=lambda m: values[m])
    high_m = max(p.models, key=lambda m: values[m])
    return Finding(
        "model_dependent_credit",
        f"{row['channel']} is credited with {credit_text(values[low_m])} conversions under "
        f"{LABELS[low_m].lower()} and {credit_text(values[high_m])} under "
        f"{LABELS[high_m].lower()}: a spread of {credit_text(row['spread'])} between models, "
        "an uncertainty the bootstrap "
        "intervals do not include: how the channel is judged depends on the model chosen.",
        "info",
        numbers={
            "channel": str(row["channel"]),
            "spread": float(row["spread"]),
            "min_model": low_m,
            "min": values[low_m],
            "max_model": high_m,
            "max": values[high_m],
        },
    )


def _data_findings(c: JourneyCounts, p: Params) -> list[Finding]:
    out: list[Finding] = []
    if c.weight_off:
        gained = "gained" if c.weight_gain >= 0 else "lost"
        out.append(
            Finding(
                "journey_weights_not_one",
                f"{count_of(c.weight_off, 'journey')} of the touchpoints table "
                f"{'has weights' if c.weight_off == 1 else 'have weights'} not summing to 1 "
                f"(±1e-6): used as stored, they give {abs(c.weight_gain):,.4g} conversions "
                f"{gained} in the given model"
                + (" (normalise_weights=True rescales them)." if not p.normalise_weights
                   else "; rescaled here (normalise_weights=True)."),
                "warning",
                numbers={"journeys": c.weight_off, "conversions_gained": c.weight_gain},
            )
        )  # fmt: skip
    if c.null_weights:
        out.append(
            Finding(
                "journey_weights_missing",
                f"{count_of(c.null_weights, 'touchpoint')} without a weight, counted as 0 "
                "in the given model.",
                "warning",
                numbers={"touchpoints": c.null_weights},
            )
        )
    if c.after_touches:
        out.append(
            Finding(
                "sessions_after_conversion",
                f"{count_of(c.after_touches, 'touch', 'touches')} of the touchpoints table "
                f"{'lies' if c.after_touches == 1 else 'lie'} after the conversion they are "
                f"credited to ({count_of(c.after_conversions, 'conversion')}); kept as given.",
                "warning",
                numbers={"touches": c.after_touches, "conversions": c.after_conversions},
            )
        )
    if c.unmatched_touchpoints:
        out.append(
            Finding(
                "touchpoints_without_conversion",
                f"{count_of(c.unmatched_touchpoints, 'touchpoint')} "
                f"({count_of(c.unmatched_ids, 'conversion id')}) name no conversion of the "
                "orders table; left out.",
                "warning",
                numbers={"touchpoints": c.unmatched_touchpoints, "ids": c.unmatched_ids},
            )
        )
    if c.unknown_channel:
        out.append(
            Finding(
                "touch_without_channel",
                f"{count_of(c.unknown_channel, 'touch', 'touches')} without a channel (no "
                "source, or a session id found in no session): credited to (unknown).",
                "warning",
                numbers={"touches": c.unknown_channel},
            )
        )
    no_touch = c.conversions - c.touched
    if no_touch and c.touched:
        out.append(
            Finding(
                "conversions_without_touch",
                f"{count_of(no_touch, 'conversion')} ({no_touch / c.conversions:.1%}) "
                f"{'has' if no_touch == 1 else 'have'} no touch"
                + (" in the touchpoints table" if p.given_journeys else
                   f" in the {p.lookback_s / 86400:g} days before"
                   ) + f": credited to {NO_TOUCH} in every model.",
                "info",
                numbers={"conversions": no_touch},
            )
        )  # fmt: skip
    return out


def _notes(est: Estimates, p: Params) -> tuple[str, ...]:
    c = est.counts
    src = (
        "Journeys: the touchpoints table as given (touch time and channel its own, else "
        "its session's)."
        if p.given_journeys
        else f"Journeys: each user's sessions in the {p.lookback_s / 86400:g} days before "
        "a conversion (edge included), each session credited to the user's first conversion "
        "at or after it, so never to two conversions."
        + (" Orders have dates only: times are compared by day." if p.by_day else "")
    )
    notes = [
        src,
        "Rules: last non-direct skips channels named direct/(direct)/(none) (all direct → "
        f"last touch); time decay halves a touch's weight every {p.half_life_s / 86400:g} days "
        f"before the conversion; position-based gives {p.position[0]:.0%} / "
        f"{p.position[1]:.0%} / {p.position[2]:.0%} to first / middle / last (two touches: "
        "first and last share the ends' weights in proportion, 50/50 by default, as Google "
        "Analytics). Shapley: the exact value of v(S) = conversions whose channel set ⊆ S, "
        "i.e. each conversion split equally over its distinct channels.",
    ]
    if est.markov is not None:
        notes.append(
            f"Markov chain of order {p.markov_order}: removal effects solved exactly on the "
            f"absorbing chain, fitted on {count_of(c.touched, 'converting journey')} and "
            f"{count_of(c.null_journeys, 'journey')} of users who never converted (sessions "
            f"in the {p.lookback_s / 86400:g} days before the data's end). Per conversion, "
            "credit ∝ the removal effects of its channels; the removal_effects table shows "
            "ChannelAttribution's allocation (all conversions × the removal-effect share)."
        )
    if p.bootstrap:
        g, gn = est.markov_groups
        notes.append(
            f"Intervals: {p.confidence:.0%} percentiles of {p.bootstrap:,} multinomial "
            f"bootstrap replicates over conversions (seed {p.seed}), the same resample for "
            "every model; the Markov chain is refitted in each, its non-converting journeys "
            "resampled apart. "
            + (
                f"The conversions are dealt at random into {g:,} groups of equal size ± 1, "
                "and the groups are resampled (with more than "
                f"{GROUPS_MAX:,} conversions, to keep the bootstrap fast)."
                if c.conversions > GROUPS_MAX or gn < c.null_journeys
                else "Each conversion is resampled on its own."
            )
            + " The spread between models is usually the larger uncertainty."
        )
    return tuple(notes)


def _plan(ds: Dataset) -> Plan:
    if not ds.has("orders") or not (ds.has("sessions") or ds.has("touchpoints")):
        return Plan(
            runs=(),
            skipped=(
                "Attribution: it needs orders and journeys (sessions or a touchpoints table).",
            ),
        )
    return Plan()


ATTRIBUTION = register(
    Analysis(
        name="attribution",
        title="Attribution models compared",
        group="attribution",
        needs=("orders",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    attribution,
)


def removal_effects(
    ds: Dataset, *, lookback_s: int = 30 * 86400, order: int = 1
) -> dict[str, float]:
    """Channel → Markov removal effect (order 1–3), for ``touch_credit(ds, "markov", …)``.

    Fitted on the journeys with touches and the non-converting journeys, exactly as
    :func:`attribution` does. NaN for every channel when no journey with a touch converted.
    Computed once per Dataset and arguments (the report's channel tables each ask for it).
    """
    order = check_order(order)
    key = ("growthlens.removal_effects", int(lookback_s), order)
    return dict(ds.remember(key, lambda: _removal_effects(ds, lookback_s, order)))


def _removal_effects(ds: Dataset, lookback_s: int, order: int) -> dict[str, float]:
    pc = path_counts(ds, lookback_s=lookback_s)
    n = len(pc.paths)
    conv = np.bincount(
        pc.conversions["path"].to_numpy(dtype="int64"),
        weights=pc.conversions["conversions"].to_numpy(dtype=float),
        minlength=n,
    )
    nulls = np.bincount(
        pc.nulls["path"].to_numpy(dtype="int64"),
        weights=pc.nulls["nulls"].to_numpy(dtype=float),
        minlength=n,
    )
    if n == 0:
        return {}
    fit = MarkovChain.prepare(pc.paths, order).fit(conv, nulls)
    return {c: float(fit.removal_effect[c]) for c in fit.channels}


__all__ = ["ATTRIBUTION", "attribution", "default_models", "removal_effects"]
