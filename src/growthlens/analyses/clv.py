"""Predicted customer lifetime value: ``gl.clv`` (docs/customers.md, "Predicted lifetime value").

Per buyer, the purchase days of the data (``growthlens.metrics.customers.clv_inputs``) feed a
BG/NBD model of how often they buy and whether they are still active, and a Gamma-Gamma model
of what a purchase is worth (``growthlens.stats.clv``). CLV over the horizon = margin ×
expected value per purchase × expected purchases in the horizon. The main table sums it per
RFM segment (``growthlens.stats.rfm`` on ``rfm_inputs``) and, with ``by``, per group of
buyers: the groups ``gl.clusters`` finds (``"cluster"``), the acquisition source
(``"source"``) or any customers column. With ``holdout`` the model is also fitted without the
last days and its prediction of those days compared with what the customers did.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthlens.analyses.clusters import BuyerClusters, buyer_clusters
from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.derive.periods import UNKNOWN
from growthlens.errors import ConfigError
from growthlens.metrics.customers import NO_SESSION, acquisition_sources, clv_inputs, rfm_inputs
from growthlens.metrics.fetch import fetch
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats import clv as model
from growthlens.stats.rfm import SEGMENTS, rfm_scores
from growthlens.text import count_of, money, natural_key
from growthlens.units import percent

SUMMARY: SummarySpec = {
    "clv_total": ("money", "Predicted value of all buyers over the horizon"),
    "clv_mean": ("money", "Predicted value per buyer over the horizon"),
    "customers": ("count", "Buyers"),
    "active_share": ("share", "Buyers still active (mean P(alive))"),
    "expected_purchases": ("number", "Expected purchase days over the horizon"),
    "horizon_days": ("days", "Horizon"),
    "margin": ("share", "Margin"),
    "holdout_error": ("percent", "Hold-out: predicted ÷ actual purchases − 1"),
    "currency": ("text", "Currency"),
}
HORIZON = re.compile(r"^\s*(\d+)\s*([dw])\s*$")
CLUSTER = "cluster"
"""``by`` value: the groups ``gl.clusters`` finds with its defaults."""
SOURCE = "source"
"""``by`` value: the acquisition source (the source of the buyer's acquiring session)."""
NO_GROUP = "(no group)"
"""Cluster of a buyer the clustering did not label (none is expected: every buyer is)."""
GROUP_COLUMNS = (
    "dimension",
    "group",
    "customers",
    "clv_total",
    "clv_mean",
    "share",
    "expected_purchases",
    "active_share",
)
"""Columns of the main table and of each per-dimension table."""
ALIVE_BINS = 10
"""P(alive) is shown in this many equal bins of 0–1."""
FIT_WORDS = {
    "no_dropout": (
        "info",
        "Nobody seems to stop buying in these {days}: the purchase model reduces to a constant "
        "purchase rate per buyer (the NBD), so every buyer counts as still active (P(alive) = 1) "
        "and the predictions assume they keep buying at their rate.",
    ),
    "boundary": (
        "warning",
        "The purchase model could not pin down one of its parameters ({reason}); its "
        "predictions are the best fit but less certain than the table's standard errors say.",
    ),
    "no_standard_errors": (
        "warning",
        "The purchase model's parameters have no standard errors ({reason}); read the "
        "predictions as rough.",
    ),
}
GG_WORDS = {
    "frequency_value_correlated": (
        "warning",
        "Buyers who buy more often spend {direction} per purchase (correlation {rho:.2f}); the "
        "value model assumes the two are unrelated, so values per purchase are less reliable.",
    ),
    "boundary": (
        "info",
        "Spend per purchase barely differs between buyers beyond chance: every buyer's "
        "expected value per purchase is close to the mean of all buyers.",
    ),
    "no_standard_errors": (
        "warning",
        "The value model's parameters have no standard errors ({reason}).",
    ),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`clv`)."""

    horizon: int
    margin: float
    holdout: int | None
    by: tuple[str, ...]
    discount: float
    currency: str
    days: int


@dataclass(frozen=True)
class Frames:
    """The engine's answer: per-buyer model inputs, RFM inputs and the ``by`` groups.

    ``groups`` holds one frame per ``by`` name (``user_id`` and that name); ``clusters`` the
    buyers' groups when ``by`` asks for them.
    """

    inputs: pd.DataFrame
    rfm: pd.DataFrame
    calibration: pd.DataFrame | None
    groups: dict[str, pd.DataFrame]
    clusters: BuyerClusters | None = None


@dataclass(frozen=True)
class Estimates:
    """The fits and per-customer predictions."""

    customers: pd.DataFrame
    fit: model.CLV | None
    holdout: model.Holdout | None
    status: Status
    reason: str
    clusters: BuyerClusters | None = None


def clv(
    ds: Dataset,
    *,
    horizon: int | str = "90d",
    margin: float | None = None,
    holdout: int | str | None = None,
    by: str | Sequence[str] | None = None,
    discount: float = 0.0,
) -> Result:
    """Predicted lifetime value of each buyer over the next ``horizon`` (docs/customers.md).

    Args:
        ds: a dataset with ``orders`` (``customers`` for ``by``).
        horizon: days after the data window: ``"90d"``, ``"12w"`` or a number of days.
        margin: share of revenue kept as profit, in (0, 1]; default the dataset setting.
        holdout: check the model by fitting it without the last days of the window
            (``"14d"``, ``"2w"`` or a number of days) and predicting them.
        by: what else to sum CLV by, beside the RFM segments; one name or a list of them:

            - ``"cluster"``: the groups ``gl.clusters(ds)`` finds with its defaults (k
              chosen by elbow and stability, seed 0); every buyer of the window has one;
            - ``"source"``: the acquisition source, the ``source`` of the buyer's acquiring
              session as CAC and ROMI define it (first session by default; needs
              sessions); ``(no session)`` for buyers without one;
            - any other customers column (e.g. ``"city"``); buyers without a profile or a
              value are ``(unknown)``.

            These two names always mean the breakdowns above, even when the customers
            table has a column so named.
        discount: discount rate per day (0 = none), ≥ 0.

    Returns:
        Result whose table sums per group (``dimension`` = ``segment``, ``cluster``,
        ``source`` or the column): ``customers``, ``clv_total``, ``clv_mean``, ``share`` (of
        all buyers' CLV), ``expected_purchases``, ``active_share`` (mean P(alive)); tables
        ``segments`` and ``by_<name>`` (its rows of each dimension), ``customers`` (per
        buyer, detail), ``parameters``, ``holdout`` (with a hold-out), ``p_alive``
        (distribution). Each ``by`` table sums to the total.
    """
    return CLV_ANALYSIS.run(
        ds, horizon=horizon, margin=margin, holdout=holdout, by=by, discount=discount
    )


def _days(value: Any, option: str) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int | np.integer) and value > 0:
        return int(value)
    if isinstance(value, str) and (match := HORIZON.match(value)) and int(match[1]) > 0:
        return int(match[1]) * (7 if match[2] == "w" else 1)
    raise ConfigError(
        f'clv: {option} must be a positive number of days, "<n>d" or "<n>w" '
        f'(e.g. "90d", "12w"); found {value!r}'
    )


def _by(ds: Dataset, by: str | Sequence[str] | None) -> tuple[str, ...]:
    """``by`` as a checked tuple of names (see :func:`clv`)."""
    columns = [
        c for c in (ds.table("customers").columns if ds.has("customers") else []) if c != "user_id"
    ]
    choices = (
        f"{CLUSTER!r}, {SOURCE!r} (needs sessions with a source) or a customers column ("
        + (", ".join(c for c in columns if c not in (CLUSTER, SOURCE, "segment")) or "none")
        + ")"
    )
    if by is None:
        return ()
    names = (by,) if isinstance(by, str) else by
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise ConfigError(
            f"clv: by must be a name or a list of names among {choices}; found {by!r}"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"clv: by must name each breakdown once; found {list(names)}")
    for name in names:
        if name == SOURCE:
            if SOURCE not in session_dimensions(ds):
                found = (
                    "this dataset has no sessions"
                    if not ds.has("sessions")
                    else "its sessions have no source column"
                )
                raise ConfigError(
                    "clv: by='source' (the acquisition source: the source of the buyer's "
                    f"first session) needs a sessions table with a source column; {found}"
                )
        elif name == "segment":
            raise ConfigError(
                "clv: by='segment' is not needed: the RFM segments are always summed; "
                f"by takes {choices}"
            )
        elif name != CLUSTER and name not in columns:
            raise ConfigError(f"clv: by must be {choices}; found {name!r}")
    return tuple(names)


def _params(
    ds: Dataset,
    *,
    horizon: int | str,
    margin: float | None,
    holdout: int | str | None,
    by: str | Sequence[str] | None,
    discount: float,
) -> Params:
    span = ds.window
    if span is None:
        raise ConfigError("clv needs a data window: load the orders with window=(first, last)")
    days = (span[1] - span[0]).days + 1
    margin = ds.settings.margin if margin is None else margin
    if not isinstance(margin, int | float) or not 0 < margin <= 1:
        raise ConfigError(f"clv: margin must be a share in (0, 1]; found {margin!r}")
    if not isinstance(discount, int | float) or not math.isfinite(discount) or discount < 0:
        raise ConfigError(f"clv: discount must be a daily rate ≥ 0; found {discount!r}")
    held = None if holdout is None else _days(holdout, "holdout")
    if held is not None and held >= days - 1:
        raise ConfigError(
            f"clv: holdout must leave at least 2 calibration days of the {days}-day window; "
            f"found {held} days"
        )
    return Params(
        horizon=_days(horizon, "horizon"),
        margin=float(margin),
        holdout=held,
        by=_by(ds, by),
        discount=float(discount),
        currency=ds.settings.currency,
        days=days,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    groups: dict[str, pd.DataFrame] = {}
    clusters = None
    for name in p.by:
        if name == CLUSTER:
            # The groups of gl.clusters (fitted once per Dataset and kept): the same labels
            # as the report's "Customer groups", not a second clustering.
            clusters = buyer_clusters(ds)
            groups[name] = clusters.labels.rename(columns={"cluster": name})
        elif name == SOURCE:
            groups[name] = acquisition_sources(ds)
        else:
            groups[name] = fetch(ds.table("customers").select("user_id", name), ds)
    return Frames(
        inputs=clv_inputs(ds),
        rfm=rfm_inputs(ds),
        calibration=clv_inputs(ds, holdout=p.holdout) if p.holdout else None,
        groups=groups,
        clusters=clusters,
    )


def _grouped(customers: pd.DataFrame, name: str, groups: pd.DataFrame) -> pd.Series:
    """Each buyer's group of breakdown ``name`` as text; every buyer gets one.

    Clusters are ``Group 1`` … (the numbering of ``gl.clusters``), a buyer the clustering
    did not label ``(no group)``; sources come labelled (``(no session)``, ``(unknown)``);
    a customers column's missing value or missing profile is ``(unknown)`` (DESIGN §4).
    """
    values = customers[["user_id"]].merge(
        groups.drop_duplicates("user_id"), on="user_id", how="left"
    )[name]
    # Labelled once per distinct value: a million buyers have a handful of groups.
    known = values.dropna().unique()
    if name == CLUSTER:
        labels = {v: f"Group {int(v)}" for v in known}
    else:
        labels = {v: _label(v) for v in known}
    out = values.astype("object").map(labels)
    missing = NO_GROUP if name == CLUSTER else UNKNOWN
    return out.where(values.notna(), missing).astype("object").reset_index(drop=True)


def _infer(frames: Frames, p: Params) -> Estimates:
    inputs = frames.inputs
    empty = pd.DataFrame()
    if len(inputs) < model.MIN_CUSTOMERS:
        reason = (
            f"Only {count_of(len(inputs), 'buyer')} in the data; the models need at least "
            f"{model.MIN_CUSTOMERS}."
        )
        return Estimates(empty, None, None, "not_enough_data", reason)
    fit = model.clv(
        inputs.assign(monetary=inputs["monetary"].fillna(0.0)),
        horizon=p.horizon,
        margin=p.margin,
        daily_discount=p.discount,
    )
    table = fit.table
    customers = pd.DataFrame(
        {
            "user_id": inputs["user_id"].to_numpy(),
            "purchases": inputs["purchases"].to_numpy(),
            "frequency": inputs["frequency"].to_numpy(),
            "recency": inputs["recency"].to_numpy(),
            "T": inputs["T"].to_numpy(),
            "monetary": inputs["monetary"].to_numpy(),
            "p_alive": table["p_alive"].to_numpy(),
            "expected_purchases": table["purchases"].to_numpy(),
            "value": table["value"].to_numpy(),
            "clv": table["clv"].to_numpy(),
        }
    )
    scored = rfm_scores(frames.rfm)
    segments = scored.table[["user_id", "segment"]] if scored.status == "ok" else None
    if segments is not None:
        customers = customers.merge(segments, on="user_id", how="left")
    else:
        customers["segment"] = None
    for name, groups in frames.groups.items():
        if name == CLUSTER and frames.clusters is not None and not frames.clusters.k:
            continue  # no groups: a finding says why
        customers[name] = _grouped(customers, name, groups).to_numpy()
    check = None
    if frames.calibration is not None and p.holdout is not None:
        calibration = frames.calibration
        if len(calibration) >= model.MIN_CUSTOMERS:
            check = model.holdout(calibration, horizon=p.holdout, actual="holdout_purchases")
    status: Status = "ok"
    reason = ""
    if fit.bgnbd.status in ("not_enough_data", "no_repeat_buyers", "not_converged"):
        status = "not_enough_data"
        reason = (
            "No buyer bought on a second day, so how often buyers return cannot be estimated."
            if fit.bgnbd.status == "no_repeat_buyers"
            else f"The purchase model could not be fitted: {fit.bgnbd.reason}."
        )
    elif fit.gamma_gamma.status == "not_enough_data":
        status = "not_enough_data"
        reason = (
            f"Fewer than {model.MIN_CUSTOMERS} buyers bought on a second day with revenue, so "
            "the value of a purchase cannot be estimated."
        )
    elif not np.isfinite(customers["clv"].to_numpy(float)).any():
        # Gamma-Gamma's mean value per purchase p·γ/(q − 1) exists only for q > 1.
        status = "not_applicable"
        reason = (
            "The value model finds no finite mean value per purchase (Gamma-Gamma q = "
            f"{fit.gamma_gamma.q:.2f}, needs q > 1: spend per purchase varies too much between "
            "buyers), so lifetime values cannot be computed."
        )
    return Estimates(customers, fit, check, status, reason, frames.clusters)


def _group_table(customers: pd.DataFrame, column: str, order: list[Any] | None) -> pd.DataFrame:
    """CLV summed per value of ``column`` (``order``: fixed order; else natural text order).

    ``share`` is the group's part of every buyer's CLV, so over a breakdown where every
    buyer has a group (clusters, sources, columns) the shares add up to 1.
    """
    known = customers.loc[customers[column].notna()]
    out = known.groupby(column, sort=False).agg(
        customers=("clv", "size"),
        clv_total=("clv", "sum"),
        clv_mean=("clv", "mean"),
        expected_purchases=("expected_purchases", "sum"),
        active_share=("p_alive", "mean"),
    )
    if order is not None:
        out = out.reindex([g for g in order if g in out.index])
    else:
        out = out.sort_index(key=lambda index: index.map(natural_key))
    total = float(customers["clv"].sum())
    out.insert(3, "share", out["clv_total"] / total if total > 0 else math.nan)
    out = out.reset_index().rename(columns={column: "group"})
    out.insert(0, "dimension", column)
    out["group"] = [_label(g) for g in out["group"]]
    return out[list(GROUP_COLUMNS)]


def _label(value: Any) -> str:
    """A group value as text; whole floats (a numeric column with gaps) without ``.0``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _alive_bins(customers: pd.DataFrame) -> pd.DataFrame:
    edges = np.linspace(0, 1, ALIVE_BINS + 1)
    index = np.clip(
        np.floor(customers["p_alive"].to_numpy(float) * ALIVE_BINS), 0, ALIVE_BINS - 1
    ).astype(int)
    counts = np.bincount(index, minlength=ALIVE_BINS)
    return pd.DataFrame(
        {
            "p_alive": [f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(ALIVE_BINS)],
            "customers": counts,
        }
    )


def _parameters(fit: model.CLV) -> pd.DataFrame:
    rows = []
    for name, part in (("BG/NBD", fit.bgnbd), ("Gamma-Gamma", fit.gamma_gamma)):
        names = model.BGNBD_NAMES if name == "BG/NBD" else model.GG_NAMES
        for parameter in names:
            rows.append(
                {
                    "model": name,
                    "parameter": parameter,
                    "estimate": float(getattr(part, parameter)),
                    "se": float(part.se.get(parameter, math.nan)),
                    "status": part.status,
                }
            )
    return pd.DataFrame(rows)


def _holdout_means(check: model.Holdout) -> pd.DataFrame:
    table = check.table.loc[check.table["customers"] > 0]
    long = table.melt(
        id_vars=["group", "customers"],
        value_vars=["predicted_mean", "actual_mean"],
        var_name="series",
        value_name="purchases_per_customer",
    )
    long["series"] = long["series"].map({"predicted_mean": "predicted", "actual_mean": "actual"})
    return long


def _fit_findings(fit: model.CLV, p: Params) -> list[Finding]:
    findings: list[Finding] = []
    bg, gg = fit.bgnbd, fit.gamma_gamma
    if bg.status in FIT_WORDS:
        severity, text = FIT_WORDS[bg.status]
        findings.append(
            Finding(
                f"purchase_model_{bg.status}",
                text.format(days=count_of(p.days, "day"), reason=bg.reason),
                "warning" if severity == "warning" else "info",
            )
        )
    if gg.status in GG_WORDS:
        severity, text = GG_WORDS[gg.status]
        rho = gg.correlation
        findings.append(
            Finding(
                f"value_model_{gg.status}",
                text.format(
                    reason=gg.reason,
                    rho=rho if math.isfinite(rho) else 0.0,
                    direction="more" if rho > 0 else "less",
                ),
                "warning" if severity == "warning" else "info",
                numbers={"correlation": rho},
            )
        )
    return findings


def _explain(e: Estimates, p: Params) -> Result:
    cur = p.currency
    horizon = count_of(p.horizon, "day")
    findings: list[Finding] = []
    summary: dict[str, Any] = {"horizon_days": p.horizon, "margin": p.margin, "currency": cur}
    tables: dict[str, pd.DataFrame] = {}
    figures: list[FigureSpec] = []
    main = pd.DataFrame(columns=list(GROUP_COLUMNS))
    fit = e.fit
    if e.status != "ok" or fit is None:
        findings.append(Finding("not_estimated", e.reason, "warning"))
    else:
        c = e.customers
        total, mean = float(c["clv"].sum()), float(c["clv"].mean())
        alive = float(c["p_alive"].mean())
        purchases = float(c["expected_purchases"].sum())
        summary |= {
            "clv_total": total,
            "clv_mean": mean,
            "customers": len(c),
            "active_share": alive,
            "expected_purchases": purchases,
        }
        profit = "revenue" if p.margin == 1 else f"gross profit (margin {percent(p.margin)})"
        discounted = f", discounted at {p.discount:.2%} a day" if p.discount else ""
        findings.append(
            Finding(
                "clv_total",
                f"Over the next {horizon} the {count_of(len(c), 'buyer')} are expected to bring "
                f"{money(total, cur)} of {profit}{discounted}: {money(mean, cur)} per buyer, "
                f"from {purchases:,.0f} purchase days.",
                numbers={"clv_total": total, "clv_mean": mean, "purchases": purchases},
            )
        )
        parts = []
        if c["segment"].notna().any():
            parts.append(_group_table(c, "segment", list(SEGMENTS)))
        parts += [_group_table(c, name, None) for name in p.by if name in c.columns]
        if parts:
            main = pd.concat(parts, ignore_index=True)
        segments = main.loc[main["dimension"] == "segment"]
        if len(segments):
            top = segments.sort_values("clv_total", ascending=False).iloc[0]
            share = float(top["clv_total"]) / total if total > 0 else math.nan
            findings.append(
                Finding(
                    "top_segment",
                    f"The {top['group']} segment ({count_of(int(top['customers']), 'buyer')}) "
                    f"holds {percent(share)} of the predicted value, {money(top['clv_mean'], cur)} "
                    "per buyer.",
                    numbers={"segment": str(top["group"]), "share": share},
                )
            )
            tables["segments"] = segments.reset_index(drop=True)
            figures.append(
                FigureSpec(
                    kind="bar",
                    table="segments",
                    x="group",
                    y="clv_mean",
                    title=f"Predicted value per buyer over {horizon}, by RFM segment",
                    labels={"group": "RFM segment", "clv_mean": f"CLV per buyer ({cur})"},
                    value_format=",.0f",
                )
            )
        for name in p.by:
            if name == CLUSTER and (e.clusters is None or not e.clusters.k):
                reason = e.clusters.reason if e.clusters is not None else ""
                findings.append(
                    Finding(
                        "by_cluster_missing",
                        f"Predicted value is not broken down by customer group: {reason}",
                        "warning",
                    )
                )
                continue
            grouped = main.loc[main["dimension"] == name].reset_index(drop=True)
            tables[f"by_{name}"] = grouped
            findings += _breakdown_findings(grouped, name, e.clusters, cur)
            figures.append(
                FigureSpec(
                    kind="bar",
                    table=f"by_{name}",
                    x="group",
                    y="clv_mean",
                    title=f"Predicted value per buyer over {horizon}, by {_what(name)}",
                    labels={"group": _what(name, axis=True), "clv_mean": f"CLV per buyer ({cur})"},
                    value_format=",.0f",
                )
            )
        if fit.bgnbd.status != "no_dropout":
            findings.append(
                Finding(
                    "active_share",
                    f"On average a buyer is still active with probability {percent(alive)}; "
                    f"{percent(float((c['p_alive'] < 0.5).mean()))} of buyers are more likely "
                    "gone than not.",
                    numbers={"active_share": alive},
                )
            )
        findings += _fit_findings(fit, p)
        tables["customers"] = c
        tables["parameters"] = _parameters(fit)
        tables["p_alive"] = _alive_bins(c)
        if fit.bgnbd.status != "no_dropout":  # else everyone is in the top bin (a finding)
            figures.append(
                FigureSpec(
                    kind="histogram",
                    table="p_alive",
                    x="p_alive",
                    y="customers",
                    title="Buyers by probability of still being active",
                    labels={"p_alive": "P(alive), probability", "customers": "Buyers"},
                    value_format=",.0f",
                )
            )
    check = e.holdout
    if check is not None:
        tables["holdout"] = check.table
        tables["holdout_means"] = _holdout_means(check)
        summary["holdout_error"] = check.total_error
        findings.append(
            Finding(
                "holdout",
                f"Fitted without the last {count_of(p.holdout or 0, 'day')}, the model predicts "
                f"{check.predicted:,.0f} purchase days in them; buyers made {check.actual:,.0f} "
                f"({_signed_percent(check.total_error)}); per frequency group it is off by "
                f"{check.group_mae:.2f} purchase days per buyer on average{_worst(check)}.",
                "info" if abs(check.total_error) <= 0.2 else "warning",
                numbers={
                    "predicted": check.predicted,
                    "actual": check.actual,
                    "total_error": check.total_error,
                    "group_mae": check.group_mae,
                },
            )
        )
        figures.append(
            FigureSpec(
                kind="bar",
                table="holdout_means",
                x="group",
                y="purchases_per_customer",
                color="series",
                title="Hold-out check: purchase days per buyer in the last "
                f"{count_of(p.holdout or 0, 'day')}, predicted vs actual",
                labels={
                    "group": "Repeat purchase days before the hold-out",
                    "purchases_per_customer": "Purchase days per buyer",
                    "series": "",
                },
                value_format=",.2f",
            )
        )
    return Result(
        name="clv",
        title="Predicted customer lifetime value (CLV)",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        detail=("customers", "p_alive"),
        figures=tuple(figures),
        params=params_dict(p) | {"by": list(p.by) or None},
        status=e.status,
        status_reason=e.reason,
        notes=(
            "BG/NBD (Fader, Hardie & Lee 2005) predicts each buyer's purchase days and whether "
            "they are still active; Gamma-Gamma their value per purchase day; CLV = margin × "
            "value × expected purchase days over the horizon (docs/customers.md).",
            "A purchase day is a day with at least one order; its value is that day's revenue. "
            "Buyers with one purchase day get the mean value of all buyers.",
            *_breakdown_notes(p, e.clusters),
        ),
    )


def _breakdown_notes(p: Params, clusters: BuyerClusters | None) -> list[str]:
    """How each ``by`` breakdown assigns buyers to groups, in words."""
    notes = []
    for name in p.by:
        if name == CLUSTER and clusters is not None and clusters.k:
            notes.append(
                f"Customer groups: gl.clusters with its defaults (seed 0, k = {clusters.k}, "
                f"stability {clusters.stability:.2f}); every buyer of the window is in one."
            )
        elif name == SOURCE:
            notes.append(
                "Acquisition source: the source of the buyer's first session (the session the "
                "acquisition setting names, as in CAC and ROMI); (no session) = buyers without "
                "any session, (unknown) = a session without a source."
            )
        elif name != CLUSTER:
            notes.append(f"{name}: from the customers table; (unknown) = no profile or no value.")
    return notes


def _what(name: str, *, axis: bool = False) -> str:
    """A breakdown in words: for a chart title, or (``axis``) for its axis."""
    if name == CLUSTER:
        return "Customer group (as in Customer groups)" if axis else "customer group"
    if name == SOURCE:
        return "Acquisition source (first session)" if axis else "acquisition source"
    return name


def _member(name: str, group: str) -> str:
    """One group in a sentence: ``Group 2``, ``source ads``, ``no session``, ``city unknown``."""
    if name == CLUSTER or group == NO_SESSION:
        return group.strip("()")
    return f"{name} unknown" if group == UNKNOWN else f"{name} {group}"


def _breakdown_findings(
    grouped: pd.DataFrame, name: str, clusters: BuyerClusters | None, cur: str
) -> list[Finding]:
    """What a ``by`` table says: where its groups come from, the spread, the biggest group."""
    out: list[Finding] = []
    if name == CLUSTER and clusters is not None:
        window = clusters.window_text
        stable = clusters.status == "ok"
        out.append(
            Finding(
                "by_cluster_groups",
                f"Customer groups are the {count_of(clusters.k, 'group')} that gl.clusters finds "
                f"with its defaults (k = {clusters.k} chosen by the elbow of the cost curve and "
                f"stability across seeds, adjusted Rand index {clusters.stability:.2f}; "
                f"purchases of {window}), numbered as in Customer groups"
                + (
                    "."
                    if stable
                    else ": they change with the seed (adjusted Rand index below 0.8), so "
                    "read this breakdown with care."
                ),
                "info" if stable else "warning",
                numbers={"k": clusters.k, "stability": clusters.stability},
            )
        )
    if len(grouped) > 1:
        ranked = grouped.sort_values("clv_mean")
        low, high = ranked.iloc[0], ranked.iloc[-1]
        top = grouped.sort_values("clv_total", ascending=False).iloc[0]
        out.append(
            Finding(
                f"by_{name}_spread",
                f"Per buyer, predicted value ranges from {money(low['clv_mean'], cur)} "
                f"({_member(name, low['group'])}) to {money(high['clv_mean'], cur)} "
                f"({_member(name, high['group'])}); {_member(name, top['group'])} "
                f"({count_of(int(top['customers']), 'buyer')}) holds "
                f"{percent(float(top['share']))} of the total.",
                numbers={
                    "lowest": float(low["clv_mean"]),
                    "highest": float(high["clv_mean"]),
                    "top_group": str(top["group"]),
                    "top_share": float(top["share"]),
                },
            )
        )
    return out


def _worst(check: model.Holdout) -> str:
    """The frequency group the hold-out prediction misses most, as a clause (or nothing)."""
    table = check.table.loc[check.table["customers"] > 0].dropna(subset=["error"])
    if table.empty:
        return ""
    row = table.iloc[int(np.argmax(table["error"].abs().to_numpy()))]
    if abs(float(row["error"])) < 0.1:
        return ""
    side = "under" if row["error"] < 0 else "over"
    return (
        f", most for buyers with {row['group']} repeat purchase days, where it {side}-predicts "
        f"({row['predicted_mean']:.2f} against {row['actual_mean']:.2f} per buyer)"
    )


def _signed_percent(share: float) -> str:
    if not math.isfinite(share):
        return "nothing to compare with"
    return f"the prediction is {percent(abs(share))} {'above' if share >= 0 else 'below'}"


def _plan(ds: Dataset) -> Plan:
    """The report's run: hold-out, customer groups and sources.

    A hold-out of a quarter of the window (≥ 28 days); by customer group always (a grouping
    that cannot be fitted is a finding); by acquisition source when sessions have a source.
    """
    span = ds.window
    if span is None:
        return Plan(runs=(), skipped=("CLV needs a data window.",))
    days = (span[1] - span[0]).days + 1
    holdout = days // 4 if days >= 28 else None
    by = [CLUSTER] + ([SOURCE] if SOURCE in session_dimensions(ds) else [])
    return Plan(runs=({"holdout": holdout, "by": by},))


CLV_ANALYSIS = register(
    Analysis(
        name="clv",
        title="Predicted lifetime value (CLV)",
        group="customers",
        needs=("orders",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    clv,
)
