"""Who will buy, and whom a campaign changes: ``gl.propensity`` (docs/customers.md).

Per customer, features from the **history** (every day before the target window by
default: :func:`growthlens.metrics.customers.customer_features`, ids and calendar dates
dropped) plus, when assignments exist, the variant of each **past** experiment (one whose
window, from the settings, ended before the target window). The label: bought the target
(anything, or one product group of :func:`growthlens.derive.products.normalise_products`)
in the target window. A cross-validated classifier
(:func:`growthlens.stats.propensity.fit_propensity`) gives ROC-AUC and PR-AUC with
intervals, gains and lift by decile, a calibration curve and permutation importance; a
feature that predicts the label on its own (ROC-AUC > 0.95) is refused as a leak.

With ``treatment`` (a randomised experiment of the assignments, control ``"control"``):
T- and X-learner uplift over its participants only
(:func:`growthlens.stats.uplift.fit_uplift`, the propensity scores as the comparison
ranking), Qini curves, uplift by decile and by age group, and a target list whose size
maximises value × incremental buyers − cost × contacts. Customers outside the experiment
are scored by models fitted on all participants: extrapolation, and labelled so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.days import DayLike, day_window, window_label
from growthlens.derive.products import normalise_products
from growthlens.errors import ConfigError
from growthlens.metrics.customers import customer_features
from growthlens.metrics.experiments import experiments_of
from growthlens.metrics.fetch import fetch
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.propensity import (
    LEAK_AUC,
    MODELS,
    LeakageError,
    Propensity,
    estimator,
    fit_propensity,
    model_frame,
    prepare,
)
from growthlens.stats.uplift import (
    TargetList,
    Uplift,
    fit_uplift,
    qini_curve,
    segment_uplift,
    target_list,
)
from growthlens.text import count_of, listing, money
from growthlens.units import percent

ANY = "any"
CONTROL = "control"
DROPPED = ("first_purchase", "last_purchase")
"""Feature columns never used: calendar dates (the day numbers stand for them)."""
AGE_BANDS = ((0, 30, "<30"), (30, 50, "30–49"), (50, 200, "50+"))
"""Age groups of the per-segment uplift: [low, high) years and their label."""
MATTERS = 0.005
"""A feature whose shuffling lowers the ROC-AUC by at least this is named as one that matters."""
CURVE_POINTS = 200
"""Qini-curve points kept per ranking for the figure (the curve is thinned evenly)."""
STATUS_OF: dict[str, Status] = {
    "ok": "ok",
    "not_enough_data": "not_enough_data",
    "one_class": "not_enough_data",
    "no_features": "not_applicable",
    "empty_arm": "empty_arm",
}
UPLIFT_COLUMNS = {"low": "uplift_low", "high": "uplift_high", "predicted": "predicted_uplift"}
"""Decile and segment columns renamed so the report shows them as percentages."""
RANKING_NAMES = {
    "t_learner": "T-learner (uplift)",
    "x_learner": "X-learner (uplift)",
    "propensity": "Propensity only",
}

SUMMARY: SummarySpec = {
    "roc_auc": ("ratio", "ROC-AUC (cross-validated)"),
    "pr_auc": ("ratio", "PR-AUC (average precision)"),
    "base_rate": ("share", "Share who bought in the window"),
    "top_decile_lift": ("times", "Lift of the top score decile"),
    "effect": ("share", "Average uplift (treated − control buying rate)"),
    "qini_uplift": ("ratio", "Normalised Qini, best uplift model"),
    "list_size": ("count", "Recommended list size (participants)"),
    "expected_gain": ("money", "Expected gain of the list"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`propensity`)."""

    target: str
    window: tuple[date, date]
    history: tuple[date, date]
    treatment: str | None
    allow: tuple[str, ...]
    model: str
    folds: int
    seed: int
    value: float | None
    cost: float
    day_zero: date | None
    currency: str
    past: tuple[str, ...]
    left_out: tuple[str, ...]


@dataclass(frozen=True)
class Frames:
    """The engine's answer: one row per customer (features, label, arm)."""

    features: pd.DataFrame
    bought: pd.Series
    revenue: pd.Series
    arm: pd.Series | None


@dataclass(frozen=True)
class Estimates:
    """What the statistics said."""

    frames: Frames
    model: Propensity
    uplift: Uplift | None = None
    best: str = ""
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    plan: TargetList | None = None
    value: float = math.nan
    threshold: float = math.nan
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)


def propensity(
    ds: Dataset,
    *,
    target: str = ANY,
    window: Sequence[DayLike],
    history: Sequence[DayLike] | None = None,
    treatment: str | None = None,
    allow: Sequence[str] = (),
    model: str = "gbm",
    folds: int = 5,
    seed: int = 0,
    value: float | None = None,
    cost: float | None = None,
) -> Result:
    """Who buys in a target window, and (with ``treatment``) whom a campaign changes.

    Args:
        ds: a dataset with ``orders`` (order lines for a product-group target) and
            ideally ``customers`` and ``assignments``.
        target: ``"any"`` (any purchase) or a product group (derive/products.py).
        window: the target window ``(first, last)``, day numbers or dates.
        history: the days the features come from (default: every day before the
            window); it may not overlap the window.
        treatment: an experiment of the assignments (control variant ``"control"``):
            uplift over its participants, a target list.
        allow: features exempt from the leak guard (own ROC-AUC above 0.95).
        model: ``"gbm"`` (gradient boosting) or ``"logistic"``.
        folds: cross-validation folds (≥ 2).
        seed: seeds folds, models and shuffles.
        value: worth of one extra buyer (default: mean revenue per buyer of the target
            in the window).
        cost: cost of one contact (default 0).
    """
    return PROPENSITY.run(
        ds,
        target=target,
        window=window,
        history=history,
        treatment=treatment,
        allow=allow,
        model=model,
        folds=folds,
        seed=seed,
        value=value,
        cost=cost,
    )


# ---------------------------------------------------------------- options


def _groups(ds: Dataset) -> list[str]:
    lines = ds.lines
    if lines is None or "product" not in lines.columns:
        return []
    return sorted(set(normalise_products(lines).products["product_group"].dropna()))


def _experiment_windows(ds: Dataset) -> dict[str, tuple[date, date]]:
    """Experiment name → its window, from the settings' experiments."""
    known = experiments_of(ds) if ds.has("assignments") else []
    out: dict[str, tuple[date, date]] = {}
    for spec in ds.settings.experiments:
        name = spec.experiment or (known[0] if len(known) == 1 else None)
        if name is not None and spec.window is not None:
            out[name] = day_window(spec.window, ds.settings.day_zero, option="experiment window")
    return out


def _number(option: str, found: Any) -> float:
    if isinstance(found, bool) or not isinstance(found, int | float) or not found >= 0:
        raise ConfigError(f"propensity: {option} expected a number ≥ 0; found {found!r}")
    return float(found)


def _params(
    ds: Dataset,
    *,
    target: str,
    window: Sequence[DayLike],
    history: Sequence[DayLike] | None,
    treatment: str | None,
    allow: Sequence[str],
    model: str,
    folds: int,
    seed: int,
    value: float | None,
    cost: float | None,
) -> Params:
    day_zero = ds.settings.day_zero
    span = day_window(window, day_zero, option="propensity: window")
    data = ds.window
    if history is None:
        if data is None or data[0] >= span[0]:
            raise ConfigError(
                f"propensity: the target window ({window_label(span, day_zero)}) starts on or "
                "before the data's first day: no history before it; pass a later window"
            )
        past = (data[0], span[0] - timedelta(days=1))
    else:
        past = day_window(history, day_zero, option="propensity: history")
        if past[1] >= span[0]:
            raise ConfigError(
                f"propensity: history ({window_label(past, day_zero)}) overlaps the target "
                f"window ({window_label(span, day_zero)}); expected a history ending before "
                "the window starts"
            )
    if not isinstance(target, str):
        raise ConfigError(f"propensity: target expected 'any' or a product group; found {target!r}")
    if target != ANY:
        groups = _groups(ds)
        if not groups:
            raise ConfigError(
                f"propensity: target {target!r} needs order lines with a product column; "
                "expected target='any'"
            )
        if target not in groups:
            raise ConfigError(
                f"propensity: target expected 'any' or a product group ({listing(groups)}); "
                f"found {target!r}"
            )
    if model not in MODELS:
        raise ConfigError(f"propensity: model expected one of {', '.join(MODELS)}; found {model!r}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"propensity: folds expected an integer ≥ 2; found {folds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"propensity: seed expected an integer; found {seed!r}")
    if isinstance(allow, str):
        allow = (allow,)
    known = experiments_of(ds) if ds.has("assignments") else []
    if treatment is not None:
        if not known:
            raise ConfigError(
                "propensity: treatment needs assignments with an experiment column; "
                f"found none for {treatment!r}"
            )
        by_spec = {s.name: s.experiment for s in ds.settings.experiments if s.experiment}
        treatment = by_spec.get(treatment, treatment)
        if treatment not in known:
            raise ConfigError(
                f"propensity: treatment expected an experiment of the assignments "
                f"({listing(known)}); found {treatment!r}"
            )
    windows = _experiment_windows(ds)
    used, left = [], []
    for name in known:
        if name == treatment:
            continue
        w = windows.get(name)
        if w is None:
            left.append(f"{name} (its window is not in the settings)")
        elif w[1] < span[0]:
            used.append(name)
        else:
            left.append(
                f"{name} (runs {window_label(w, day_zero)}, not before the target window: "
                "a treatment, not a feature)"
            )
    return Params(
        target=target,
        window=span,
        history=past,
        treatment=treatment,
        allow=tuple(str(a) for a in allow),
        model=model,
        folds=folds,
        seed=seed,
        value=None if value is None else _number("value", value),
        cost=0.0 if cost is None else _number("cost", cost),
        day_zero=day_zero,
        currency=ds.settings.currency,
        past=tuple(used),
        left_out=tuple(left),
    )


# ---------------------------------------------------------------- engine


def _bought(ds: Dataset, p: Params) -> pd.DataFrame:
    """Per buyer of the target in the window: ``user_id``, ``revenue``."""
    if p.target == ANY:
        source = ds.table("orders")
    else:
        assert ds.lines is not None  # checked in _params
        source = normalise_products(ds.lines).lines
        source = source.filter(source.product_group == p.target)
    day = source.ts.date()
    inside = source.filter((day >= ibis.literal(p.window[0])) & (day <= ibis.literal(p.window[1])))
    return fetch(inside.group_by("user_id").aggregate(revenue=inside.revenue.sum()), ds)


def _compute(ds: Dataset, p: Params) -> Frames:
    features = customer_features(ds, history=p.history)
    features = features.drop(columns=[c for c in DROPPED if c in features.columns])
    features = features.set_index("user_id")
    arm: pd.Series | None = None
    if p.past or p.treatment:
        a = fetch(ds.table("assignments").select("user_id", "variant", "experiment"), ds)
        a = a.drop_duplicates(["experiment", "user_id"])
        for name in p.past:
            rows = a.loc[a["experiment"] == name].set_index("user_id")["variant"]
            features[f"campaign_{name}"] = rows.reindex(features.index).astype(object)
        if p.treatment:
            rows = a.loc[a["experiment"] == p.treatment].set_index("user_id")["variant"]
            arm = (rows != CONTROL).astype(int).reindex(features.index)
    buyers = _bought(ds, p).set_index("user_id")["revenue"]
    revenue = buyers.reindex(features.index).fillna(0.0).astype(float)
    bought = features.index.isin(buyers.index)
    return Frames(features, pd.Series(bought.astype(int), index=features.index), revenue, arm)


# ---------------------------------------------------------------- statistics


def _fit(p: Params, run: Any) -> Any:
    try:
        return run()
    except LeakageError as exc:
        named = ", ".join(f"{k!r} (own ROC-AUC {v:.3f})" for k, v in exc.features.items())
        raise ConfigError(
            f"propensity: refused likely leak: feature(s) {named} predict the target on "
            f"their own above {LEAK_AUC}; a feature computed from the target window does "
            f"this. Expected features from the history only; if it is legitimate pass "
            f"allow=[{', '.join(repr(k) for k in exc.features)}]"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"propensity: {exc}") from None


def _age_bands(age: pd.Series) -> pd.Series:
    values = pd.to_numeric(age, errors="coerce")
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    for low, high, label in AGE_BANDS:
        out[(values >= low) & (values < high)] = label
    return out


def _extrapolate(
    x: pd.DataFrame, inside: np.ndarray, y: np.ndarray, t: np.ndarray, p: Params
) -> pd.Series:
    """T-learner uplift of the customers outside the experiment, from all participants."""
    prepared, categorical = prepare(x)
    usable = [c for c in prepared.columns if prepared.loc[inside, c].nunique(dropna=False) > 1]
    cats = [c for c in categorical if c in usable]
    frame = model_frame(prepared[usable], p.model, cats)
    numeric = [c for c in usable if c not in cats]
    fitted = []
    for arm in (1, 0):
        rows = inside.copy()
        rows[inside] = t == arm
        m = estimator(p.model, cats, numeric, p.seed).fit(frame.loc[rows], y[t == arm])
        fitted.append(m.predict_proba(frame.loc[~inside])[:, 1])
    return pd.Series(fitted[0] - fitted[1], index=x.index[~inside])


def _infer(f: Frames, p: Params) -> Estimates:
    x, y = f.features, f.bought.to_numpy()
    model = _fit(
        p,
        lambda: fit_propensity(x, y, model=p.model, folds=p.folds, seed=p.seed, allow=p.allow),
    )
    scores = pd.DataFrame({"user_id": x.index, "score": np.nan, "bought": y})
    if model.ok:
        scores["score"] = model.scores.to_numpy()
    est = Estimates(f, model, scores=scores)
    if f.arm is None or not model.ok:
        return est
    inside = f.arm.notna().to_numpy()
    t = f.arm.to_numpy()[inside].astype(int)
    xp, yp = x.loc[inside], y[inside]
    up = _fit(
        p,
        lambda: fit_uplift(
            xp,
            yp,
            t,
            model=p.model,
            folds=p.folds,
            seed=p.seed,
            allow=p.allow,
            baseline=model.scores.to_numpy()[inside],
        ),
    )
    if not up.ok:
        return Estimates(f, model, up, scores=scores)
    best = up.best()
    u = up.scores[best].to_numpy()
    segments = pd.DataFrame()
    if "age" in x.columns:
        segments = segment_uplift(yp, t, _age_bands(x.loc[inside, "age"]), scores=u)
        order = {label: i for i, (_, _, label) in enumerate(AGE_BANDS)}
        segments = segments.sort_values("segment", key=lambda s: s.map(order))
        segments = segments.rename(columns={"segment": "age_group"}).reset_index(drop=True)
    buyers = f.revenue[f.revenue > 0]
    value = p.value if p.value is not None else (float(buyers.mean()) if len(buyers) else 0.0)
    chosen = target_list(u, yp, t, value=value, cost=p.cost)
    if p.cost == 0:
        # no cost per contact: everyone with positive predicted uplift is worth contacting
        size = int((u > 0).sum())
        curve = qini_curve(u, yp, t)
        at = curve.iloc[int(np.searchsorted(curve["targeted"].to_numpy(), size))]
        incremental = float(at["uplift_curve"])
        chosen = TargetList(size, size / len(u), incremental, value * incremental, chosen.curve)
    threshold = float(np.sort(u)[::-1][chosen.size - 1]) if chosen.size else math.inf
    if p.cost == 0:
        threshold = math.nextafter(0.0, 1.0)  # positive uplift, for everyone scored
    uplift = pd.Series(np.nan, index=x.index)
    uplift[inside] = u
    if (~inside).any():
        uplift[~inside] = _extrapolate(x, inside, yp, t, p).to_numpy()
    scores = scores.assign(
        uplift=uplift.to_numpy(),
        participant=inside,
        extrapolated=~inside,
        in_list=(uplift >= threshold).to_numpy(),
    )
    return Estimates(f, model, up, best, segments, chosen, value, threshold, scores)


# ---------------------------------------------------------------- words and charts


def _auc_words(auc: float) -> str:
    if auc >= 0.8:
        return "ranks buyers well"
    if auc >= 0.7:
        return "ranks buyers usefully"
    if auc >= 0.6:
        return "ranks buyers weakly"
    return "hardly ranks buyers better than chance"


def _points(share: float) -> str:
    """A difference of rates in percentage points, signed with a true minus."""
    return f"{share * 100:+.1f}".replace("-", "−")


def _segment_words(row: Mapping[Any, Any]) -> str:
    return (
        f"{row['age_group']}: {_points(row['uplift'])} points ({_points(row['low'])} to "
        f"{_points(row['high'])}, {count_of(int(row['customers']), 'participant')})"
    )


def _quality(m: Propensity) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"metric": "ROC-AUC", "estimate": m.roc_auc, "low": m.roc_auc_low,
             "high": m.roc_auc_high, "interval": "DeLong"},
            {"metric": "PR-AUC (average precision)", "estimate": m.pr_auc, "low": m.pr_auc_low,
             "high": m.pr_auc_high, "interval": "Boyd logit"},
            {"metric": "Base rate (share who bought)", "estimate": m.base_rate, "low": math.nan,
             "high": math.nan, "interval": "none"},
        ]
    )  # fmt: skip


def _curves(up: Uplift) -> pd.DataFrame:
    parts = []
    for name, curve in up.curves.items():
        keep = np.unique(np.linspace(0, len(curve) - 1, CURVE_POINTS).round().astype(int))
        part = curve.iloc[keep][["targeted", "share", "incremental"]].copy()
        part.insert(0, "ranking", RANKING_NAMES.get(name, name))
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _explain(e: Estimates, p: Params) -> Result:
    m, up = e.model, e.uplift
    dz, cur = p.day_zero, p.currency
    what = "anything" if p.target == ANY else f"from {p.target}"
    where = window_label(p.window, dz)
    findings: list[Finding] = []
    summary: dict[str, Any] = {}
    status: Status = STATUS_OF.get(m.status, "not_applicable")
    reason = m.reason
    n = len(e.frames.bought)
    buyers = int(e.frames.bought.sum())
    if m.ok:
        top = float(m.gains["lift"].iloc[0])
        gain3 = float(m.gains["gain"].iloc[min(2, len(m.gains) - 1)])
        findings.append(
            Finding(
                "quality",
                f"Of {count_of(n, 'customer')}, {percent(m.base_rate)} bought {what} in "
                f"{where}. From their history ({window_label(p.history, dz)}) the model "
                f"{_auc_words(m.roc_auc)}: ROC-AUC {m.roc_auc:.2f} (95% CI "
                f"{m.roc_auc_low:.2f}–{m.roc_auc_high:.2f}; 0.5 is chance, 1 perfect), PR-AUC "
                f"{m.pr_auc:.2f} against a base rate of {m.base_rate:.2f}.",
                numbers={"roc_auc": m.roc_auc, "pr_auc": m.pr_auc, "base_rate": m.base_rate},
            )
        )
        findings.append(
            Finding(
                "top_decile_lift",
                f"The top tenth by score buys at {top:.1f}× the average rate; the top three "
                f"tenths hold {percent(gain3)} of the buyers.",
                numbers={"lift": top, "gain_top_3": gain3},
            )
        )
        if len(m.importance):
            imp = m.importance
            lead = imp.loc[imp["importance"] >= MATTERS].head(3)
            named = ", ".join(
                f"{f} ({v:.3f})"
                for f, v in zip(lead["feature"], lead["importance"].astype(float), strict=True)
            )
            findings.append(
                Finding(
                    "importance",
                    (
                        f"Features the ranking leans on (ROC-AUC lost when shuffled): {named}"
                        if len(lead)
                        else "No single feature moves the ROC-AUC by"
                    )
                    + (
                        f"; every other feature moves it by less than {MATTERS}."
                        if len(lead)
                        else f" {MATTERS} or more when shuffled."
                    ),
                )
            )
        summary |= {
            "roc_auc": Entry(m.roc_auc, "ratio", SUMMARY["roc_auc"][1],
                             m.roc_auc_low, m.roc_auc_high, "DeLong 95%"),
            "pr_auc": Entry(m.pr_auc, "ratio", SUMMARY["pr_auc"][1],
                            m.pr_auc_low, m.pr_auc_high, "Boyd logit 95%"),
            "base_rate": m.base_rate,
            "top_decile_lift": top,
        }  # fmt: skip
    else:
        findings.append(
            Finding(
                "not_estimated",
                f"No model: {m.reason} ({count_of(buyers, 'buyer')} of {what} in {where} "
                f"among {count_of(n, 'customer')}).",
                "warning",
                numbers={"customers": n, "buyers": buyers},
            )
        )
    allowed = m.feature_auc.loc[m.feature_auc["allowed"] & (m.feature_auc["auc"] > LEAK_AUC)]
    for feature, auc in zip(allowed["feature"], allowed["auc"].astype(float), strict=True):
        findings.append(
            Finding(
                "leak_allowed",
                f"{feature} predicts the target on its own (ROC-AUC {auc:.3f} > "
                f"{LEAK_AUC}) and would be refused as a leak; it is used because allow= "
                "names it. Check it is known before the window.",
                "warning",
                numbers={"auc": float(auc)},
            )
        )
    if p.past:
        findings.append(
            Finding(
                "past_campaigns",
                f"Past campaigns used as features (variant, missing when not in it): "
                f"{listing(list(p.past))}.",
            )
        )
    if p.left_out:
        findings.append(
            Finding("campaigns_left_out", f"Experiments not used as features: "
                    f"{listing(list(p.left_out))}.")
        )  # fmt: skip
    tables: dict[str, pd.DataFrame] = {
        "quality": _quality(m) if m.ok else pd.DataFrame(),
        "gains": m.gains,
        "calibration": m.calibration,
        "importance": m.importance,
        "feature_auc": m.feature_auc,
        "scores": e.scores,
    }
    detail = ["scores"]
    main = tables["quality"]
    figures: list[FigureSpec] = []
    if m.ok:
        figures += [
            FigureSpec(
                kind="bar",
                table="gains",
                x="decile",
                y="lift",
                title=f"Lift by score decile (1 = highest scores): buying {what} in {where}",
                labels={"decile": "Score decile (1 = highest)",
                        "lift": "Lift (decile's buying rate ÷ average rate, ×)"},
                value_format=".2f",
            ),
            FigureSpec(
                kind="line",
                table="calibration",
                x="predicted",
                y="observed",
                band=("low", "high"),
                title="Calibration: predicted vs observed buying rate per score decile",
                labels={"predicted": "Predicted probability (decile mean)",
                        "observed": "Observed share who bought (95% Wilson)"},
                value_format=".1%",
            ),
        ]  # fmt: skip
    if p.treatment is not None and up is not None:
        if up.ok and e.plan is not None:
            main = up.deciles[e.best].rename(columns=UPLIFT_COLUMNS)
            q = up.qini.set_index("ranking")["qini_normalised"]
            tables |= {
                "quality_uplift": up.qini.assign(ranking=lambda t: t["ranking"].map(RANKING_NAMES)),
                "qini": _curves(up),
                "segments": e.segments.rename(columns=UPLIFT_COLUMNS),
                "target_curve": e.plan.curve,
                "target_list": e.scores[
                    ["user_id", "score", "uplift", "in_list", "participant", "extrapolated"]
                ],
            }
            detail.append("target_list")
            findings.append(
                Finding(
                    "uplift",
                    f"Among the {count_of(len(up.scores), 'participant')} of {p.treatment}, "
                    f"the treated bought {what} in {where} at a rate "
                    f"{abs(up.effect) * 100:.1f} points {'higher' if up.effect >= 0 else 'lower'} "
                    f"than control ({_points(up.effect)} points, 95% CI "
                    f"{_points(up.effect_low)} to {_points(up.effect_high)}).",
                    numbers={
                        "effect": up.effect,
                        "low": up.effect_low,
                        "high": up.effect_high,
                        "p_value": up.effect_p,
                    },
                )
            )
            better = q[e.best] > q["propensity"]
            findings.append(
                Finding(
                    "uplift_vs_propensity",
                    "Ranked by predicted uplift "
                    f"({RANKING_NAMES[e.best].removesuffix(' (uplift)')}), the normalised "
                    f"Qini is {q[e.best]:.3f}; ranked by propensity alone {q['propensity']:.3f} "
                    f"(1 = perfect, 0 = random): "
                    + (
                        "targeting by uplift finds the customers the campaign changes better "
                        "than targeting likely buyers."
                        if better
                        else "targeting by uplift does no better than targeting likely buyers "
                        "on this experiment."
                    ),
                    "info" if better else "warning",
                    numbers={
                        "qini_uplift": float(q[e.best]),
                        "qini_propensity": float(q["propensity"]),
                    },
                )
            )
            if len(e.segments):
                findings.append(
                    Finding(
                        "age_groups",
                        "Uplift by age group (treated − control buying rate, 95% CI): "
                        + "; ".join(_segment_words(r) for r in e.segments.to_dict("records"))
                        + ".",
                    )
                )
            plan = e.plan
            value_words = f"value {money(e.value, cur)} per extra buyer" + (
                " (the mean revenue per buyer in the window)" if p.value is None else ""
            )
            cost_words = (
                "cost 0 per contact, so the list includes everyone with positive uplift: it "
                "stops only where contacting more participants stops adding buyers"
                if p.cost == 0
                else f"cost {money(p.cost, cur)} per contact"
            )
            outside = int((e.scores["in_list"] & e.scores["extrapolated"]).sum())
            if plan.size:
                text = (
                    f"Recommended list: the top {count_of(plan.size, 'participant')} "
                    f"({percent(plan.share)}) by predicted uplift, expected "
                    f"about {plan.incremental:,.0f} extra buyers and a gain of "
                    f"{money(plan.gain, cur)} ({value_words}; {cost_words}; estimated on the "
                    "same participants, so optimistic)."
                )
                if outside:
                    text += (
                        f" Outside the experiment {count_of(outside, 'customer')} pass the same "
                        "threshold: their uplift is extrapolation from the participants."
                    )
            else:
                text = (
                    f"Contacting nobody is best: no list size gains ({value_words}; {cost_words})."
                )
            findings.append(
                Finding(
                    "target_list",
                    text,
                    numbers={
                        "size": plan.size,
                        "share": plan.share,
                        "incremental": plan.incremental,
                        "gain": plan.gain,
                    },
                )
            )
            summary |= {
                "effect": Entry(up.effect, "share", SUMMARY["effect"][1],
                                up.effect_low, up.effect_high, "Newcombe 95%"),
                "qini_uplift": float(q[e.best]),
                "list_size": plan.size,
                "expected_gain": plan.gain,
            }  # fmt: skip
            figures += [
                FigureSpec(
                    kind="line",
                    table="qini",
                    x="share",
                    y="incremental",
                    color="ranking",
                    title="Qini curves: incremental buyers as more participants are targeted",
                    labels={"share": "Share of participants targeted (highest scores first)",
                            "incremental": "Incremental buyers (treated − scaled control)",
                            "ranking": "Ranking"},
                    value_format=",.0f",
                ),
                FigureSpec(
                    kind="bar",
                    table="main",
                    x="decile",
                    y="uplift",
                    band=("uplift_low", "uplift_high"),
                    title=f"Observed uplift by predicted-uplift decile ({RANKING_NAMES[e.best]})",
                    labels={"decile": "Predicted-uplift decile (1 = highest)",
                            "uplift": "Treated − control buying rate (95% Newcombe)"},
                    value_format=".1%",
                ),
            ]  # fmt: skip
        else:
            status = STATUS_OF.get(up.status, "not_applicable")
            reason = f"uplift: {up.reason}"
            findings.append(Finding("uplift_not_estimated", f"No uplift model: {up.reason}.",
                                    "warning"))  # fmt: skip
    title = f"Propensity to buy {what} in {where}"
    if p.treatment:
        title += f", uplift of {p.treatment}"
    return Result(
        name="propensity",
        title=title,
        table=main,
        tables=tables,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={
            "target": p.target,
            "window": [x.isoformat() for x in p.window],
            "history": [x.isoformat() for x in p.history],
            "treatment": p.treatment,
            "allow": list(p.allow),
            "model": p.model,
            "folds": p.folds,
            "seed": p.seed,
            "value": p.value,
            "cost": p.cost,
        },
        detail=tuple(detail),
        downloads=("target_list",) if "target_list" in tables else (),
        status=status,
        status_reason=reason,
        figures=tuple(figures),
        notes=(
            f"Features from {window_label(p.history, dz)} only "
            f"({', '.join(m.params.get('features', []))}); "
            f"{p.folds}-fold cross-validated {p.model}; scores are out of fold.",
        ),
    )


def _plan(ds: Dataset) -> Plan:
    windows = _experiment_windows(ds)
    data = ds.window
    for name, w in windows.items():
        if data is not None and w[0] > data[0]:
            return Plan(runs=({"window": list(w), "treatment": name},))
    if data is None or (data[1] - data[0]).days < 14:
        return Plan(runs=(), skipped=("Propensity needs at least two weeks of orders.",))
    last = (data[1] - timedelta(days=13), data[1])
    return Plan(runs=({"window": list(last)},))


PROPENSITY = register(
    Analysis(
        name="propensity",
        title="Purchase propensity and uplift",
        group="customers",
        needs=("orders",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    propensity,
)
