"""Predicted customer lifetime value: ``gl.clv`` (docs/customers.md, "Predicted lifetime value").

Per buyer, the purchase days of the data (``growthlens.metrics.customers.clv_inputs``) feed a
BG/NBD model of how often they buy and whether they are still active, and a Gamma-Gamma model
of what a purchase is worth (``growthlens.stats.clv``). CLV over the horizon = margin ×
expected value per purchase × expected purchases in the horizon. The main table sums it per
RFM segment (``growthlens.stats.rfm`` on ``rfm_inputs``) and, with ``by``, per value of a
customers column. With ``holdout`` the model is also fitted without the last days and its
prediction of those days compared with what the customers did.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.customers import clv_inputs, rfm_inputs
from growthlens.metrics.fetch import fetch
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats import clv as model
from growthlens.stats.rfm import SEGMENTS, rfm_scores
from growthlens.text import count_of, money
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
    by: str | None
    discount: float
    currency: str
    days: int


@dataclass(frozen=True)
class Frames:
    """The engine's answer: per-buyer model inputs, RFM inputs and the ``by`` column."""

    inputs: pd.DataFrame
    rfm: pd.DataFrame
    calibration: pd.DataFrame | None
    groups: pd.DataFrame | None


@dataclass(frozen=True)
class Estimates:
    """The fits and per-customer predictions."""

    customers: pd.DataFrame
    fit: model.CLV | None
    holdout: model.Holdout | None
    status: Status
    reason: str


def clv(
    ds: Dataset,
    *,
    horizon: int | str = "90d",
    margin: float | None = None,
    holdout: int | str | None = None,
    by: str | None = None,
    discount: float = 0.0,
) -> Result:
    """Predicted lifetime value of each buyer over the next ``horizon`` (docs/customers.md).

    Args:
        ds: a dataset with ``orders`` (``customers`` for ``by``).
        horizon: days after the data window: ``"90d"``, ``"12w"`` or a number of days.
        margin: share of revenue kept as profit, in (0, 1]; default the dataset setting.
        holdout: check the model by fitting it without the last days of the window
            (``"14d"``, ``"2w"`` or a number of days) and predicting them.
        by: a customers column to sum CLV by (e.g. ``"city"``), beside the RFM segments.
        discount: discount rate per day (0 = none), ≥ 0.

    Returns:
        Result whose table sums per group (``dimension`` = ``segment`` or ``by``):
        ``customers``, ``expected_purchases``, ``clv_total``, ``clv_mean``,
        ``active_share`` (mean P(alive)); tables ``customers`` (per buyer, detail), ``parameters``,
        ``holdout`` (with a hold-out), ``p_alive`` (distribution).
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


def _params(
    ds: Dataset,
    *,
    horizon: int | str,
    margin: float | None,
    holdout: int | str | None,
    by: str | None,
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
    if by is not None:
        columns = ds.table("customers").columns if ds.has("customers") else []
        if by not in columns or by == "user_id":
            raise ConfigError(
                f"clv: by must name a customers column "
                f"({', '.join(c for c in columns if c != 'user_id') or 'no customers table'}); "
                f"found {by!r}"
            )
    return Params(
        horizon=_days(horizon, "horizon"),
        margin=float(margin),
        holdout=held,
        by=by,
        discount=float(discount),
        currency=ds.settings.currency,
        days=days,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    groups = None
    if p.by is not None:
        customers = ds.table("customers")
        groups = fetch(customers.select("user_id", p.by))
    return Frames(
        inputs=clv_inputs(ds),
        rfm=rfm_inputs(ds),
        calibration=clv_inputs(ds, holdout=p.holdout) if p.holdout else None,
        groups=groups,
    )


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
    if frames.groups is not None and p.by is not None:
        customers = customers.merge(frames.groups, on="user_id", how="left")
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
    return Estimates(customers, fit, check, status, reason)


def _group_table(customers: pd.DataFrame, column: str, order: list[Any] | None) -> pd.DataFrame:
    known = customers.loc[customers[column].notna()]
    out = known.groupby(column, sort=order is None).agg(
        customers=("clv", "size"),
        expected_purchases=("expected_purchases", "sum"),
        clv_total=("clv", "sum"),
        clv_mean=("clv", "mean"),
        active_share=("p_alive", "mean"),
    )
    if order is not None:
        out = out.reindex([g for g in order if g in out.index])
    out = out.reset_index().rename(columns={column: "group"})
    out.insert(0, "dimension", column)
    out["group"] = [_label(g) for g in out["group"]]
    return out


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
    main = pd.DataFrame(
        columns=[
            "dimension",
            "group",
            "customers",
            "expected_purchases",
            "clv_total",
            "clv_mean",
            "active_share",
        ]
    )
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
        if p.by is not None:
            parts.append(_group_table(c, p.by, None))
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
        if p.by is not None:
            grouped = main.loc[main["dimension"] == p.by].reset_index(drop=True)
            tables["by"] = grouped
            if len(grouped) > 1:
                ranked = grouped.sort_values("clv_mean")
                low, high = ranked.iloc[0], ranked.iloc[-1]
                findings.append(
                    Finding(
                        "by_spread",
                        f"Per buyer, predicted value ranges from {money(low['clv_mean'], cur)} "
                        f"({p.by} {low['group']}) to {money(high['clv_mean'], cur)} "
                        f"({p.by} {high['group']}).",
                        numbers={
                            "lowest": float(low["clv_mean"]),
                            "highest": float(high["clv_mean"]),
                        },
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
        detail=("customers", "p_alive", "by"),
        figures=tuple(figures),
        params=params_dict(p),
        status=e.status,
        status_reason=e.reason,
        notes=(
            "BG/NBD (Fader, Hardie & Lee 2005) predicts each buyer's purchase days and whether "
            "they are still active; Gamma-Gamma their value per purchase day; CLV = margin × "
            "value × expected purchase days over the horizon (docs/customers.md).",
            "A purchase day is a day with at least one order; its value is that day's revenue. "
            "Buyers with one purchase day get the mean value of all buyers.",
        ),
    )


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
    span = ds.window
    if span is None:
        return Plan(runs=(), skipped=("CLV needs a data window.",))
    days = (span[1] - span[0]).days + 1
    holdout = days // 4 if days >= 28 else None
    return Plan(runs=({"holdout": holdout},))


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
