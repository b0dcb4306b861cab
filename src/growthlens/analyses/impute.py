"""A missing customer attribute predicted by a model, labelled: ``gl.impute`` (docs/customers.md).

Customers from several sources often lack an attribute in one of them (the shop's profiles
recovered from a file without gender). Per customer of the customers table, features from
the whole data window (:func:`growthlens.metrics.customers.customer_features`: purchases,
favourite group and colour, discount share, every other customers column; plus
:func:`growthlens.metrics.imputation.line_shares`: the mix of the customer's lines over
low-cardinality line columns such as ``product_sex``) feed a cross-validated classifier
(:func:`growthlens.stats.imputation.fit_imputation`) trained where the attribute is known.
The Result reports its accuracy against guessing the most common value, per value
precision and recall, the confusion matrix and, in its ``imputed`` table, the predicted
value and probability of every customer without one. Nothing is written into the data:
:func:`apply_imputation` returns a copy of the dataset with the values filled and
flagged, on request.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from growthlens.analyses.clusters import CODE_COLUMNS
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.customers import customer_features
from growthlens.metrics.fetch import fetch
from growthlens.metrics.imputation import attribute_summary, line_shares, with_imputed
from growthlens.result import Entry, FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.imputation import MODELS, Imputation, fit_imputation
from growthlens.text import count_of, listing
from growthlens.units import p_phrase, percent

MAX_VALUES = 20
"""An attribute with more distinct values than this is not imputed (not a category)."""
PREFERRED = "gender"
"""The column the report imputes when it qualifies (else the one with most missing)."""
DROPPED = ("user_id", "first_purchase", "last_purchase", "has_profile")
"""Feature columns never used: the id, calendar dates (day numbers stand for them) and the
profile flag (every customer of the customers table has a profile)."""
SIGNIFICANCE = 0.05
"""The McNemar p-value under which the model counts as better than guessing."""
SHIFT = 0.1
"""A gap in mean predicted probability (known vs imputed) from which a warning is given."""
STATUS_OF: dict[str, Status] = {
    "ok": "ok",
    "not_enough_data": "not_enough_data",
    "one_class": "not_enough_data",
    "no_features": "not_applicable",
    "nothing_to_impute": "not_applicable",
}
SUMMARY: SummarySpec = {
    "customers": ("count", "Customers"),
    "known": ("count", "Customers with the value"),
    "missing": ("count", "Customers without it"),
    "missing_share": ("share", "Share without it"),
    "accuracy": ("share", "Cross-validated accuracy"),
    "baseline": ("share", "Accuracy of guessing the most common value"),
    "imputed": ("count", "Values imputed"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`impute`)."""

    column: str
    integer: bool
    model: str
    folds: int
    seed: int
    min_accuracy: float | None


@dataclass(frozen=True)
class Frames:
    """The engine's answer: one row per customer of the customers table."""

    features: pd.DataFrame
    target: pd.Series


@dataclass(frozen=True)
class Estimates:
    """The fitted imputation with the frames it came from."""

    frames: Frames
    fit: Imputation


def impute(
    ds: Dataset,
    *,
    column: str = PREFERRED,
    model: str = "gbm",
    folds: int = 5,
    seed: int = 0,
    min_accuracy: float | None = None,
) -> Result:
    """Predict a customers column where it is missing, with the model's measured accuracy.

    Args:
        ds: a dataset with ``customers`` (``orders`` and order lines add features).
        column: the customers column to impute: categorical, at most 20 distinct values.
        model: ``"gbm"`` (gradient boosting) or ``"logistic"``.
        folds: stratified cross-validation folds (≥ 2).
        seed: seeds folds, models and samples.
        min_accuracy: impute only when the cross-validated accuracy reaches this share
            (in (0, 1]); None: always, with a warning when the model does not beat
            guessing the most common value.
    """
    return IMPUTE.run(
        ds, column=column, model=model, folds=folds, seed=seed, min_accuracy=min_accuracy
    )


# ---------------------------------------------------------------- options


def _eligible(summary: pd.DataFrame) -> pd.DataFrame:
    """Columns the report may impute: some (not all) missing, 2..20 values, not dates."""
    keep = (
        (summary["missing"] > 0)
        & (summary["known"] > 0)
        & summary["values"].between(2, MAX_VALUES)
        & ~summary["temporal"].astype(bool)
    )
    return summary.loc[keep]


def _params(
    ds: Dataset,
    *,
    column: str,
    model: str,
    folds: int,
    seed: int,
    min_accuracy: float | None,
) -> Params:
    summary = attribute_summary(ds).set_index("column")
    if not isinstance(column, str) or column not in summary.index:
        raise ConfigError(
            f"impute: column expected a customers column ({listing(list(summary.index))}); "
            f"found {column!r}"
        )
    row: dict[Any, Any] = summary.loc[column].to_dict()
    if row["temporal"]:
        raise ConfigError(
            f"impute: column expected a categorical customers column; found {column!r} of "
            f"type {row['type']}"
        )
    if int(row["values"]) > MAX_VALUES:
        raise ConfigError(
            f"impute: column expected a categorical customers column (at most {MAX_VALUES} "
            f"distinct values); found {int(row['values'])} values in {column!r}"
        )
    if model not in MODELS:
        raise ConfigError(f"impute: model expected one of {', '.join(MODELS)}; found {model!r}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"impute: folds expected an integer ≥ 2; found {folds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"impute: seed expected an integer; found {seed!r}")
    if min_accuracy is not None and (
        isinstance(min_accuracy, bool)
        or not isinstance(min_accuracy, int | float)
        or not 0 < min_accuracy <= 1
    ):
        raise ConfigError(
            f"impute: min_accuracy expected a share in (0, 1] or None; found {min_accuracy!r}"
        )
    integer = ds.table("customers").schema()[column].is_integer()
    return Params(
        column=column,
        integer=bool(integer),
        model=model,
        folds=folds,
        seed=seed,
        min_accuracy=None if min_accuracy is None else float(min_accuracy),
    )


# ---------------------------------------------------------------- engine


def _compute(ds: Dataset, p: Params) -> Frames:
    if ds.has("orders") and ds.window is not None:
        frame = customer_features(ds)
        frame = frame.loc[frame["has_profile"]]
        shares = line_shares(ds)
        frame = frame.merge(shares, on="user_id", how="left")
        counts = [c for c in shares.columns if c.endswith("_lines")]
        frame[counts] = frame[counts].fillna(0)  # no purchase: no line with a value
    else:
        frame = fetch(ds.table("customers"), ds)  # one row per customer already
    frame = frame.set_index("user_id", drop=False)
    target = frame[p.column]
    if p.integer:
        target = target.astype("Int64")  # codes, not 0.0 / 1.0
    features = frame.drop(columns=[p.column, *[c for c in DROPPED if c in frame.columns]])
    for name in features.columns:
        values = features[name]
        if name in CODE_COLUMNS and pd.api.types.is_numeric_dtype(values):
            # codes (city, gender …) are categories, not quantities
            whole = values.dropna()
            if (whole == np.round(whole)).all():
                codes = values.astype("Int64").astype(object)
                features[name] = codes.where(values.notna(), None)
    return Frames(features, target)


# ---------------------------------------------------------------- statistics


def _infer(frames: Frames, p: Params) -> Estimates:
    try:
        fit = fit_imputation(
            frames.features, frames.target, model=p.model, folds=p.folds, seed=p.seed
        )
    except ValueError as exc:
        raise ConfigError(f"impute: {exc}") from None
    return Estimates(frames, fit)


# ---------------------------------------------------------------- explain


def _value(value: Any) -> str:
    return str(value)


def _imputed_table(e: Estimates, p: Params, keep: bool) -> pd.DataFrame:
    pred = e.fit.predictions
    values = pd.Series(pred["predicted"].to_numpy(), dtype=object)
    if p.integer:
        values = values.astype("Int64")
    table = pd.DataFrame(
        {
            "user_id": pred.index.to_numpy(),
            p.column: values.array,
            "probability": pred["probability"].to_numpy(dtype=float),
            "imputed": True,
        }
    )
    if not keep:
        table = table.iloc[:0]
    return table.sort_values("user_id", kind="stable").reset_index(drop=True)


def _explain(e: Estimates, p: Params) -> Result:
    f, col = e.fit, p.column
    n = f.known + f.missing
    share_missing = f.missing / n if n else math.nan
    findings: list[Finding] = []
    summary: dict[str, Any] = {
        "customers": n,
        "known": f.known,
        "missing": f.missing,
        "missing_share": share_missing,
    }
    quality = pd.DataFrame(
        columns=["measure", "accuracy", "accuracy_low", "accuracy_high", "customers"]
    )
    gated = False
    figures: list[FigureSpec] = []
    if f.ok:
        gated = p.min_accuracy is not None and f.accuracy < p.min_accuracy
        better = f.accuracy > f.baseline and f.p_value < SIGNIFICANCE
        findings.append(
            Finding(
                "imputation",
                f"{col} is missing for {f.missing:,} of {count_of(n, 'customer')} "
                f"({percent(share_missing)}); a model predicts it with {percent(f.accuracy)} "
                f"accuracy (95% CI {percent(f.accuracy_low)}–{percent(f.accuracy_high)}, "
                f"cross-validated over the {f.known:,} customers where it is known) against "
                f"{percent(f.baseline)} by always guessing the most common value "
                f"({_value(f.baseline_class)}); imputed values are labelled and never mixed "
                "silently into the data.",
                numbers={
                    "missing": f.missing,
                    "known": f.known,
                    "accuracy": f.accuracy,
                    "accuracy_low": f.accuracy_low,
                    "accuracy_high": f.accuracy_high,
                    "baseline": f.baseline,
                },
            )
        )
        findings.append(
            Finding(
                "versus_guessing",
                (
                    f"The model is right more often than the guess on the same customers "
                    f"(one-sided McNemar test, {p_phrase(f.p_value)})."
                    if better
                    else f"The model is not clearly better than guessing the most common "
                    f"value ({_value(f.baseline_class)}) on the same customers (one-sided "
                    f"McNemar test, {p_phrase(f.p_value)}): its imputed values say little "
                    f"more than that guess; do not split customers by them."
                ),
                "info" if better else "warning",
                numbers={"p_value": f.p_value, "better": bool(better)},
            )
        )
        rows = f.per_class.to_dict("records")
        findings.append(
            Finding(
                "per_value",
                "Per value, the share of its customers the model finds (recall) and the share "
                "of its predictions that are right (precision): "
                + "; ".join(
                    f"{_value(r['value'])}: recall {percent(r['recall'])}, precision "
                    + ("n/a" if pd.isna(r["precision"]) else percent(r["precision"]))
                    for r in rows
                )
                + ".",
            )
        )
        if gated:
            findings.append(
                Finding(
                    "below_min_accuracy",
                    f"Nothing imputed: the accuracy {percent(f.accuracy)} is below the "
                    f"required {percent(p.min_accuracy or 0.0)} (min_accuracy).",
                    "warning",
                    numbers={"accuracy": f.accuracy, "min_accuracy": p.min_accuracy},
                )
            )
        else:
            split = ", ".join(f"{int(r['imputed']):,} as {_value(r['value'])}" for r in rows)
            shift = f.probability_known - f.probability_missing
            text = (
                f"Imputed for {count_of(f.missing, 'customer')}: {split}. The model's mean "
                f"probability for its prediction is {f.probability_missing:.2f} on them against "
                f"{f.probability_known:.2f} on the known customers (out of fold)"
            )
            if abs(shift) >= SHIFT:
                text += (
                    f": the customers without {col} look unlike those with it, so the accuracy "
                    "above may not hold for them."
                )
            else:
                text += (
                    f". The accuracy holds for them if they resemble the customers with {col} "
                    "who look the same (missing at random given the features)."
                )
            findings.append(
                Finding(
                    "imputed",
                    text,
                    "warning" if abs(shift) >= SHIFT else "info",
                    numbers={
                        "imputed": f.missing,
                        "probability_missing": f.probability_missing,
                        "probability_known": f.probability_known,
                    },
                )
            )
            findings.append(
                Finding(
                    "labelled",
                    f"The values are in the table 'imputed' (imputed = true), not in the "
                    f"data; apply_imputation(ds, result) returns a dataset whose customers "
                    f"table has them filled in, flagged by {col}_imputed and "
                    f"{col}_probability.",
                )
            )
        summary |= {
            "accuracy": Entry(f.accuracy, "share", SUMMARY["accuracy"][1],
                              f.accuracy_low, f.accuracy_high, "Wilson 95%"),
            "baseline": f.baseline,
            "imputed": 0 if gated else f.missing,
        }  # fmt: skip
        quality = pd.DataFrame(
            [
                {"measure": "Model (cross-validated)", "accuracy": f.accuracy,
                 "accuracy_low": f.accuracy_low, "accuracy_high": f.accuracy_high,
                 "customers": f.known},
                {"measure": f"Guessing the most common value ({_value(f.baseline_class)})",
                 "accuracy": f.baseline, "accuracy_low": math.nan, "accuracy_high": math.nan,
                 "customers": f.known},
            ]
        )  # fmt: skip
        figures += [
            FigureSpec(
                kind="bar",
                table="main",
                x="measure",
                y="accuracy",
                band=("accuracy_low", "accuracy_high"),
                title=f"Accuracy predicting {col}: model against guessing",
                labels={"measure": "", "accuracy": "Share predicted right (95% Wilson)"},
                value_format=".1%",
            ),
            FigureSpec(
                kind="heatmap",
                table="confusion",
                x="predicted",
                y="actual",
                z="share_of_actual",
                title=f"Out-of-fold predictions of {col}: share of each actual value",
                labels={"predicted": f"Predicted {col}", "actual": f"Actual {col}",
                        "share_of_actual": "Share of the actual value"},
                value_format=".1%",
            ),
        ]  # fmt: skip
    else:
        findings.append(
            Finding(
                "not_estimated",
                f"No imputation of {col}: {f.reason} ({f.known:,} customers with it, "
                f"{f.missing:,} without).",
                "info" if f.status == "nothing_to_impute" else "warning",
                numbers={"known": f.known, "missing": f.missing},
            )
        )
    classes = f.per_class.rename(columns={"value": col})
    confusion = f.confusion
    if len(confusion) and p.integer:
        confusion = confusion.assign(
            actual=confusion["actual"].astype("Int64"),
            predicted=confusion["predicted"].astype("Int64"),
        )
    if p.integer and len(classes):
        classes[col] = classes[col].astype("Int64")
    used = [
        c for c in f.params.get("features", []) if c not in f.params.get("dropped_constant", [])
    ]
    return Result(
        name="impute",
        title=f"Imputing {col} with a model",
        table=quality,
        tables={
            "quality": quality,
            "classes": classes,
            "confusion": confusion,
            "imputed": _imputed_table(e, p, f.ok and not gated),
        },
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={
            "column": col,
            "model": p.model,
            "folds": p.folds,
            "seed": p.seed,
            "min_accuracy": p.min_accuracy,
        },
        detail=("imputed",),
        status=STATUS_OF.get(f.status, "not_applicable"),
        status_reason=f.reason,
        figures=tuple(figures),
        notes=(
            f"{p.folds}-fold stratified cross-validated {p.model} on the customers with "
            f"{col}; features: {', '.join(used) or 'none'}.",
        ),
    )


def _plan(ds: Dataset) -> Plan:
    if not ds.has("customers"):
        return Plan(runs=(), skipped=("Imputation needs a customers table.",))
    eligible = _eligible(attribute_summary(ds))
    if eligible.empty:
        return Plan(
            runs=(),
            skipped=(
                "Imputation: no customers column has some (not all) values missing with "
                f"2 to {MAX_VALUES} distinct values.",
            ),
        )
    if PREFERRED in set(eligible["column"]):
        chosen = PREFERRED
    else:
        order = np.argsort(-eligible["missing"].to_numpy(), kind="stable")
        chosen = str(eligible["column"].iloc[int(order[0])])
    others = [
        f"{c} ({m:,} missing)"
        for c, m in zip(eligible["column"], eligible["missing"], strict=True)
        if c != chosen
    ]
    skipped = (
        (f"Also missing, not imputed in the report: {listing(others)}; run "
         "gl.impute(ds, column=...) for one of them.",)
        if others
        else ()
    )  # fmt: skip
    return Plan(runs=({"column": chosen},), skipped=skipped)


def apply_imputation(ds: Dataset, result: Result) -> Dataset:
    """A copy of ``ds`` whose customers table has the imputed values of ``result`` filled in.

    Known values are never replaced. Two columns are added: ``<column>_imputed`` (true
    where the model's value is used) and ``<column>_probability`` (its probability, null
    elsewhere). ``ds`` itself is unchanged; the copy shares its engine and derived-table
    store (its tables differ, so nothing built for ``ds``'s customers is reused).

    Raises:
        ConfigError: ``result`` is not an ``impute`` result with imputed values (not
            ``ok``, or gated by ``min_accuracy``), or ``ds`` has no such column, or it was
            applied already.
    """
    if not isinstance(result, Result) or result.name != "impute":
        raise ConfigError(
            "apply_imputation: expected the Result of gl.impute; found "
            f"{getattr(result, 'name', type(result).__name__)!r}"
        )
    column = str(result.params.get("column"))
    table = result.tables.get("imputed", pd.DataFrame())
    if result.status != "ok" or table.empty:
        raise ConfigError(
            f"apply_imputation: expected a result with imputed values; found none for "
            f"{column!r} ({result.status_reason or 'nothing imputed: see its findings'})"
        )
    ds.require("customers")
    customers = ds.table("customers")
    if column not in customers.columns:
        raise ConfigError(
            f"apply_imputation: expected a customers column {column!r}; found "
            f"{listing(list(customers.columns))}"
        )
    try:
        filled = with_imputed(customers, table, column)
    except ValueError as exc:
        raise ConfigError(f"apply_imputation: {exc}") from None
    return dataclasses.replace(ds, tables={**ds.tables, "customers": filled})


IMPUTE = register(
    Analysis(
        name="impute",
        title="Imputing a missing customer attribute",
        group="customers",
        needs=("customers",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    impute,
)
