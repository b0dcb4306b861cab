"""Groups of similar customers: ``gl.clusters`` (docs/customers.md).

The buyers of a history window are described by their purchases (spend, items, share bought
at a discount, days since the last purchase, favourite product group and colour) and their
profile (age, a personal coefficient, gender, education, city), and grouped by k-prototypes
(:mod:`growthlens.stats.clusters`: numeric and categorical features together, k chosen by
the elbow of the cost curve and the stability of the groups across seeds). Each group is
described in words (what sets it apart from the average buyer), with its share of buyers
and of revenue and a suggested way to work with it.

Only buyers are grouped: a customer without a purchase in the window has no purchase
features (no recency, no discount share), and the findings count them apart.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from growthlens.analyses.registry import Analysis, register
from growthlens.data.dataset import Dataset
from growthlens.derive.days import DayLike, day_window, window_label
from growthlens.errors import ConfigError
from growthlens.metrics.customers import customer_features
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.clusters import Clustering, Profiles, cluster_customers, profile_clusters
from growthlens.text import count_of, listing, money
from growthlens.units import percent

DEFAULT_NUMERIC = ("spend", "lines", "discount_share", "recency", "age", "personal_coef")
"""Numeric features used by default (those present in the data)."""
DEFAULT_CATEGORICAL = ("favourite_group", "favourite_colour", "gender", "education", "city")
"""Categorical features used by default (those present in the data)."""
PURCHASE_NUMERIC = ("spend", "lines", "orders", "discount_share", "recency")
"""Numeric purchase features that can be named in ``features``."""
PURCHASE_CATEGORICAL = ("favourite_group", "favourite_colour")
"""Categorical purchase features that can be named in ``features``."""
CODE_COLUMNS = frozenset({"gender", "sex", "education", "city", "country", "region"})
"""Customers columns read as categories even when stored as numeric codes."""
KINDS = ("numeric", "categorical")
MIN_STABILITY = 0.8
"""Mean adjusted Rand index from which the groups count as reproducible."""

WORDS: dict[str, tuple[str, str]] = {
    "spend": ("lower spend", "higher spend"),
    "lines": ("fewer items", "more items"),
    "orders": ("fewer orders", "more orders"),
    "discount_share": ("rarely buys at a discount", "mostly buys at a discount"),
    "recency": ("bought recently", "last purchase long ago"),
    "age": ("younger", "older"),
}
TEMPLATES: dict[str, str] = {
    "favourite_group": "mostly buys {value}",
    "favourite_colour": "favourite colour {value}",
}
ROLES = {"monetary": "spend", "frequency": "lines", "recency": "recency"}
ROLES_MORE = {"discount": "discount_share"}

SUMMARY: SummarySpec = {
    "k": ("count", "Groups of customers"),
    "stability": ("number", "Stability (mean adjusted Rand index across seeds)"),
    "customers": ("count", "Customers grouped (buyers)"),
    "stable": ("flag", "Groups reproducible across seeds"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`clusters`)."""

    k: int | None
    seed: int
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    span: tuple[date, date]
    sample: int
    day_zero: date | None
    currency: str


@dataclass(frozen=True)
class Frames:
    """The engine's answer: one row per buyer (features, ``recency``), and the non-buyers."""

    buyers: pd.DataFrame
    non_buyers: int


@dataclass(frozen=True)
class Estimates:
    """The clustering and the groups' profiles."""

    frames: Frames
    fit: Clustering | None
    profiles: Profiles | None
    status: Status
    reason: str


def clusters(
    ds: Dataset,
    *,
    k: int | None = None,
    seed: int = 0,
    features: Sequence[str] | Mapping[str, str] | None = None,
    history: Sequence[DayLike] | None = None,
    sample: int = 20_000,
) -> Result:
    """Groups of similar buyers, each described in words with a suggested action.

    Features per buyer (:func:`growthlens.metrics.customers.customer_features` over the
    ``history`` window). By default, of those present in the data:

    - numeric: ``spend`` (revenue), ``lines`` (items bought), ``discount_share`` (share of
      items bought at a discount), ``recency`` (days from the last purchase to the window's
      last day), ``age``, ``personal_coef``;
    - categorical: ``favourite_group``, ``favourite_colour`` (product group and colour of
      most items), ``gender``, ``education``, ``city``.

    Args:
        ds: a dataset with ``orders`` (order lines and ``customers`` add features).
        k: the number of groups (≥ 2); None chooses it in 2..8 by the elbow of the cost
            curve and the stability of the groups across seeds.
        seed: seeds the sample and the fits (same seed, same groups).
        features: the features instead of the defaults: a list of names (purchase
            features above, ``orders``, or customers columns; a customers column is
            numeric when stored as numbers, except codes such as ``gender``, ``city``,
            ``country``) or a mapping name → ``"numeric"`` / ``"categorical"``.
        history: ``(first, last)`` days (inclusive) the purchases are read from; default
            the data window.
        sample: most buyers the model is fitted on (a seeded random sample); every buyer
            is then assigned to the nearest group.
    """
    return CLUSTERS.run(ds, k=k, seed=seed, features=features, history=history, sample=sample)


@dataclass(frozen=True)
class BuyerClusters:
    """The groups :func:`clusters` finds with its defaults, one label per buyer.

    Attributes:
        labels: ``user_id``, ``cluster`` (1..k, numbered as in the clusters' Result); empty
            when no grouping was possible.
        k: the number of groups (0 when none).
        stability: mean adjusted Rand index of the chosen k across seeds (NaN when none).
        status: ``"ok"``, ``"unstable"`` (groups change with the seed), ``"not_enough_data"``
            or ``"not_applicable"`` (nothing tells the buyers apart).
        reason: why there are no groups, in words (empty when there are).
        window: the purchase days the groups were built from.
        non_buyers: customers without a purchase in ``window``: they have no group.
        window_text: ``window`` in words, as the clusters' Result says it (``days 0–58``).
    """

    labels: pd.DataFrame
    k: int
    stability: float
    status: str
    reason: str
    window: tuple[date, date]
    non_buyers: int
    window_text: str = ""


def buyer_clusters(ds: Dataset, *, seed: int = 0) -> BuyerClusters:
    """The buyers' groups as ``gl.clusters(ds, seed=seed)`` finds them with its other defaults.

    The same stages as :func:`clusters` (features of the data window, k chosen by the
    elbow and stability, a sample of at most the default size), so another analysis (e.g.
    ``gl.clv(by="cluster")``) can break its numbers down by the groups the report's
    "Customer groups" shows. Kept on the Dataset (:meth:`Dataset.remember`): asked twice,
    the groups are fitted once.
    """
    signature = inspect.signature(clusters).bind(ds, seed=seed)
    signature.apply_defaults()
    options = {k: v for k, v in signature.arguments.items() if k != "ds"}
    p = _params(ds, **options)

    def fit() -> BuyerClusters:
        e = _estimates(ds, p)
        if e.fit is None or e.status != "ok":
            return BuyerClusters(
                pd.DataFrame({"user_id": [], "cluster": []}),
                0,
                math.nan,
                e.status,
                e.reason,
                p.span,
                e.frames.non_buyers,
                window_label(p.span, p.day_zero),
            )
        labels = pd.DataFrame(
            {
                "user_id": e.frames.buyers["user_id"].to_numpy(),
                "cluster": e.fit.labels.to_numpy(),
            }
        )
        return BuyerClusters(
            labels,
            e.fit.k,
            _stability(e.fit),
            e.fit.status,
            "",
            p.span,
            e.frames.non_buyers,
            window_label(p.span, p.day_zero),
        )

    return ds.remember(("buyer_clusters", p), fit)


def _estimates(ds: Dataset, p: Params) -> Estimates:
    """Features and fit, once per Dataset and options (one fit for two analyses).

    The report's "Customer groups" and ``gl.clv(by="cluster")`` share it.
    """
    return ds.remember(("clusters", p), lambda: _infer(_compute(ds, p), p))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kinds(
    ds: Dataset, features: Sequence[str] | Mapping[str, str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    schema = ds.table("customers").schema() if ds.has("customers") else None
    profile = {} if schema is None else {n: t for n, t in schema.items() if n != "user_id"}
    known = [*PURCHASE_NUMERIC, *PURCHASE_CATEGORICAL, *profile]
    if features is None:
        num = tuple(f for f in DEFAULT_NUMERIC if f in PURCHASE_NUMERIC or f in profile)
        cat = tuple(f for f in DEFAULT_CATEGORICAL if f in PURCHASE_CATEGORICAL or f in profile)
        return num, cat
    if isinstance(features, str) or not isinstance(features, Sequence | Mapping):
        raise ConfigError(
            "clusters: features must be a list of names or a mapping name → kind; "
            f"found {features!r}"
        )
    if not features:
        raise ConfigError("clusters: features must name at least one feature; found none")
    unknown = [f for f in features if f not in known]
    if unknown:
        raise ConfigError(
            f"clusters: unknown features {listing([str(u) for u in unknown])}; expected "
            f"among {', '.join(known)}"
        )
    if isinstance(features, Mapping):
        bad = {f: kind for f, kind in features.items() if kind not in KINDS}
        if bad:
            raise ConfigError(
                f"clusters: feature kinds must be 'numeric' or 'categorical'; found {bad}"
            )
        kinds = dict(features)
        fixed = [f for f in PURCHASE_NUMERIC if kinds.get(f) == "categorical"]
        if fixed:
            raise ConfigError(
                f"clusters: purchase measures are numeric; found {listing(fixed)} as categorical"
            )
    else:
        if len(set(features)) != len(features):
            raise ConfigError(f"clusters: features must name each feature once; found {features}")
        kinds = {}
        for f in features:
            if f in PURCHASE_NUMERIC:
                kinds[f] = "numeric"
            elif f in PURCHASE_CATEGORICAL or f in CODE_COLUMNS:
                kinds[f] = "categorical"
            else:
                kinds[f] = "numeric" if profile[f].is_numeric() else "categorical"
    num = tuple(f for f, kind in kinds.items() if kind == "numeric")
    cat = tuple(f for f, kind in kinds.items() if kind == "categorical")
    return num, cat


def _params(
    ds: Dataset,
    *,
    k: int | None,
    seed: int,
    features: Sequence[str] | Mapping[str, str] | None,
    history: Sequence[DayLike] | None,
    sample: int,
) -> Params:
    if k is not None and (not _is_int(k) or k < 2):
        raise ConfigError(f"clusters: k must be a whole number ≥ 2 or None; found {k!r}")
    if not _is_int(seed):
        raise ConfigError(f"clusters: seed must be a whole number; found {seed!r}")
    if not _is_int(sample) or sample < 10:
        raise ConfigError(f"clusters: sample must be a whole number ≥ 10; found {sample!r}")
    numeric, categorical = _kinds(ds, features)
    day_zero = ds.settings.day_zero
    span = (
        day_window(history, day_zero, option="clusters: history")
        if history is not None
        else ds.window
    )
    if span is None:
        raise ConfigError("clusters needs a window: pass history=(first, last)")
    return Params(
        k=k,
        seed=seed,
        numeric=numeric,
        categorical=categorical,
        span=span,
        sample=sample,
        day_zero=day_zero,
        currency=ds.settings.currency,
    )


def _as_category(column: pd.Series) -> pd.Series:
    """Categories as text; numeric codes without a trailing ``.0`` (1744.0 → ``"1744"``)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        return pd.Series(
            [
                None if not math.isfinite(v) else (str(int(v)) if v.is_integer() else f"{v:g}")
                for v in values
            ],
            index=column.index,
            dtype="object",
        )
    return (
        column.astype("object")
        .where(column.notna(), None)
        .map(lambda v: v if v is None else str(v))
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    table = customer_features(ds, history=p.span)
    bought = table["lines"] > 0
    buyers = table.loc[bought].reset_index(drop=True)
    last = pd.to_datetime(buyers["last_purchase"])
    buyers["recency"] = (pd.Timestamp(p.span[1]) - last).dt.days.astype("float64")
    for col in p.categorical:
        buyers[col] = _as_category(buyers[col])
    for col in p.numeric:
        buyers[col] = pd.to_numeric(buyers[col], errors="coerce").astype("float64")
    keep = ["user_id", *dict.fromkeys([*p.numeric, *p.categorical, "spend"])]
    return Frames(buyers=buyers[keep], non_buyers=int((~bought).sum()))


def _infer(frames: Frames, p: Params) -> Estimates:
    buyers = frames.buyers
    if buyers.empty:
        reason = f"No customer bought anything in {window_label(p.span, p.day_zero)}."
        return Estimates(frames, None, None, "not_enough_data", reason)
    fit = cluster_customers(
        buyers,
        numeric=list(p.numeric),
        categorical=list(p.categorical),
        k=p.k,
        seed=p.seed,
        sample=p.sample,
        min_stability=MIN_STABILITY,
    )
    if fit.status in ("not_enough_data", "no_variation"):
        status: Status = "not_enough_data" if fit.status == "not_enough_data" else "not_applicable"
        reason = (
            f"Too few buyers to form groups: {fit.reason}."
            if fit.status == "not_enough_data"
            else f"Nothing tells the buyers apart: {fit.reason}."
        )
        return Estimates(frames, fit, None, status, reason)
    roles = {r: c for r, c in {**ROLES, **ROLES_MORE}.items() if c in p.numeric}
    profiles = profile_clusters(
        buyers,
        fit.labels,
        numeric=list(p.numeric),
        categorical=list(p.categorical),
        value="spend",
        words=WORDS,
        templates=TEMPLATES,
        roles=roles,
    )
    return Estimates(frames, fit, profiles, "ok", "")


def _stability(fit: Clustering) -> float:
    chosen = fit.selection.loc[fit.selection["chosen"].astype(bool), "stability"]
    return float(chosen.iloc[0]) if len(chosen) else math.nan


def _choice_finding(fit: Clustering, p: Params) -> Finding:
    sel = fit.selection
    stab = _stability(fit)
    if p.k is not None:
        text = (
            f"{count_of(fit.k, 'group')}, as asked (k = {fit.k}); across seeds and "
            f"subsamples the groups agree with an adjusted Rand index of {stab:.2f} "
            f"(1 = identical, reproducible from {MIN_STABILITY:g})."
        )
        return Finding("k_chosen", text, numbers={"k": fit.k, "stability": stab})
    elbow_rows = sel.loc[sel["elbow"].astype(bool), "k"]
    elbow = int(elbow_rows.iloc[0]) if len(elbow_rows) else fit.k
    tried = sel.loc[sel["k"] >= 2, "k"]
    span = f"{int(tried.min())} to {int(tried.max())}"
    at_elbow = float(sel.loc[sel["k"] == elbow, "stability"].astype(float).iloc[0])
    if fit.status == "unstable":
        why = (
            f"k = {elbow} is the elbow of the cost curve (of k = {span}, the point after "
            "which one more group removes much less of the spread), but no k near it gives "
            f"the same groups across seeds (adjusted Rand index {stab:.2f}, below "
            f"{MIN_STABILITY:g})"
        )
    elif elbow == fit.k:
        why = (
            f"k = {fit.k} is the elbow of the cost curve (of k = {span}, the point after "
            "which one more group removes much less of the spread), and its groups come "
            f"out the same across seeds and subsamples (adjusted Rand index {stab:.2f}, "
            f"≥ {MIN_STABILITY:g})"
        )
    else:
        why = (
            f"the elbow of the cost curve is k = {elbow}, but its groups change with the "
            f"seed (adjusted Rand index {at_elbow:.2f}, below {MIN_STABILITY:g}); "
            f"k = {fit.k} is the nearest stable choice ({stab:.2f})"
        )
    return Finding(
        "k_chosen",
        f"The buyers fall into {count_of(fit.k, 'group')}: {why}.",
        numbers={"k": fit.k, "elbow": elbow, "stability": stab},
    )


def _cluster_findings(prof: Profiles, currency: str) -> list[Finding]:
    out: list[Finding] = []
    spend = prof.numeric.loc[prof.numeric["feature"] == "spend"]
    means: dict[int, tuple[float, float]] = {
        int(c): (float(m), float(o))
        for c, m, o in spend[["cluster", "mean", "overall_mean"]].itertuples(index=False)
    }
    c = prof.clusters
    for cluster, size, share, revenue_share, description, action in zip(
        c["cluster"].astype(int),
        c["customers"].astype(int),
        c["share"].astype(float),
        c["revenue_share"].astype(float),
        c["description"].astype(str),
        c["action"].astype(str),
        strict=True,
    ):
        numbers: dict[str, float | int] = {
            "customers": int(size),
            "share": float(share),
            "revenue_share": float(revenue_share),
        }
        average = ""
        if cluster in means:
            mean = means[cluster][0]
            average = f", {money(mean, currency)} average spend"
            numbers["mean_spend"] = mean
        out.append(
            Finding(
                f"cluster_{cluster}",
                f"Group {cluster} ({count_of(int(size), 'buyer')}, {percent(share)} of buyers, "
                f"{percent(revenue_share)} of revenue{average}): {description}. "
                f"Suggested: {_action(action)}.",
                numbers=numbers,
            )
        )
    return out


def _action(text: str) -> str:
    """``"develop: nudge a second purchase"`` → ``"develop (nudge a second purchase)"``."""
    head, sep, tail = text.partition(": ")
    return f"{head} ({tail})" if sep else text


def _sizes(prof: Profiles) -> pd.DataFrame:
    c = prof.clusters
    names = [f"Group {g}" for g in c["cluster"]]
    return pd.concat(
        [
            pd.DataFrame({"group": names, "measure": "Share of buyers", "share": c["share"]}),
            pd.DataFrame(
                {"group": names, "measure": "Share of revenue", "share": c["revenue_share"]}
            ),
        ],
        ignore_index=True,
    )


def _explain(e: Estimates, p: Params) -> Result:
    window = window_label(p.span, p.day_zero)
    findings: list[Finding] = []
    summary: dict[str, Any] = {}
    tables: dict[str, pd.DataFrame] = {}
    figures: list[FigureSpec] = []
    table = pd.DataFrame(
        columns=["cluster", "customers", "share", "revenue_share", "description", "action"]
    )
    fit, prof = e.fit, e.profiles
    if fit is not None and prof is not None:
        table = prof.clusters[list(table.columns)].copy()
        table["action"] = [_action(a) for a in table["action"].astype(str)]
        sel = fit.selection
        tables["selection"] = sel[["k", "cost", "stability", "elbow", "chosen"]].copy()
        tables["stability"] = sel.loc[sel["k"] >= 2, ["k", "stability"]].reset_index(drop=True)
        tables["numeric"] = prof.numeric.rename(columns={"d": "standardised_difference"})
        tables["categories"] = prof.categories
        tables["sizes"] = _sizes(prof)
        tables["labels"] = pd.DataFrame(
            {"user_id": e.frames.buyers["user_id"].to_numpy(), "cluster": fit.labels.to_numpy()}
        )
        tables["features"] = fit.features
        choice = _choice_finding(fit, p)
        spend = prof.numeric.loc[prof.numeric["feature"] == "spend", "overall_mean"]
        if len(spend):
            average = float(spend.astype(float).iloc[0])
            choice = Finding(
                choice.code,
                f"{choice.text} A buyer spent {money(average, p.currency)} on average in {window}.",
                numbers={**choice.numbers, "mean_spend": average},
            )
        findings.append(choice)
        if fit.status == "unstable":
            findings.append(
                Finding(
                    "unstable",
                    "The groups are not reliable: a different seed or sample of buyers gives "
                    "different groups, so the descriptions below should not be acted on. "
                    "Try other features or a longer history.",
                    "warning",
                    numbers={"stability": _stability(fit)},
                )
            )
        findings += _cluster_findings(prof, p.currency)
        summary = {
            "k": fit.k,
            "stability": _stability(fit),
            "customers": fit.customers,
            "stable": fit.status == "ok",
        }
        figures = [
            FigureSpec(
                kind="line",
                table="selection",
                x="k",
                y="cost",
                title="Choosing the number of groups: total distance to the group centres",
                labels={"k": "Number of groups (k)", "cost": "Cost (sum of distances)"},
                value_format=",.0f",
            ),
            FigureSpec(
                kind="line",
                table="stability",
                x="k",
                y="stability",
                title=f"Stability of the groups across seeds (reproducible from {MIN_STABILITY:g})",
                labels={
                    "k": "Number of groups (k)",
                    "stability": "Mean adjusted Rand index (1 = identical)",
                },
                value_format=".2f",
            ),
            FigureSpec(
                kind="bar",
                table="sizes",
                x="group",
                y="share",
                color="measure",
                title="Size of each group: share of buyers and of revenue",
                labels={"group": "Group", "share": "Share (%)", "measure": "Measure"},
                value_format=".1%",
            ),
        ]
    else:
        findings.append(Finding("not_estimated", e.reason, "warning"))
    if e.frames.non_buyers:
        findings.append(
            Finding(
                "non_buyers",
                f"{count_of(e.frames.non_buyers, 'customer')} without a purchase in {window} "
                "are not grouped (they have no purchase history to describe).",
                numbers={"non_buyers": e.frames.non_buyers},
            )
        )
    notes = [
        "Features: numeric "
        + (", ".join(p.numeric) or "none")
        + "; categorical "
        + (", ".join(p.categorical) or "none")
        + f"; purchases of {window}; only buyers are grouped.",
    ]
    if fit is not None:
        notes.append(fit.method)
        notes += fit.notes
    return Result(
        name="clusters",
        title="Customer groups",
        table=table,
        tables=tables,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={
            "k": p.k,
            "seed": p.seed,
            "features": {
                **{f: "numeric" for f in p.numeric},
                **{f: "categorical" for f in p.categorical},
            },
            "history": [x.isoformat() for x in p.span],
            "sample": p.sample,
        },
        detail=("labels",) if "labels" in tables else (),
        status=e.status,
        status_reason=e.reason,
        figures=tuple(figures),
        notes=tuple(notes),
    )


CLUSTERS = register(
    Analysis(
        name="clusters",
        title="Customer groups",
        group="customers",
        needs=("orders",),
        params=_params,
        compute=_estimates,
        explain=_explain,
    ),
    clusters,
)
