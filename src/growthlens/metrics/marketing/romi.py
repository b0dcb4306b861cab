"""Return on marketing investment by cohort × age, and payback (DESIGN §4, "Marketing").

Definitions: docs/metrics.md, "Marketing" → "ROMI". ROMI(c, k) = LTV(c, k) ÷ CAC(c) − 1,
per source with that source's LTV and CAC; over the window ROMI(source) = gross profit
of its buyers ÷ its cost − 1; the N-period ROMI is the unweighted mean of ROMI(c, N−1)
over complete cells; payback = first age with ROMI ≥ 0. Only cohort × age × source
aggregates (and, for the budget bootstrap, one row per buyer) leave the engine.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import buyers, order_cells, session_dimensions
from growthlens.derive.periods import (
    UNKNOWN,
    Period,
    age,
    check_period,
    period_start,
)
from growthlens.derive.periods import dates as _dates
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch
from growthlens.metrics.marketing.cac import Acquisition, acquisition_costs, ratio
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import (
    age_unit,
    count_of,
    listing,
    natural_key,
    period_label,
    share_text,
    signed,
    sort_key,
)

# Label of the all-sources rows in curve and payback tables (parenthesised like "(unknown)"
# so it cannot be mistaken for a real source name).
ALL_SOURCES = "(all sources)"
# At most this many per-source heatmaps (largest spend first) keep the report readable.
MAX_HEATMAPS = 8


def check_horizon(horizon: int) -> int:
    """The horizon N, a whole number of periods ≥ 1."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ConfigError(f"horizon must be a whole number of periods ≥ 1; got {horizon!r}")
    return horizon


def gross_profit_by(ds: Dataset, *, by: str | None) -> pd.DataFrame:
    """Gross profit (revenue × margin) of all orders in the window per acquiring ``by``."""
    cells = order_cells(ds)
    name = by or "_all"
    key: ir.Value = cells[by] if by is not None and by in cells.columns else ibis.literal(UNKNOWN)
    frame: pd.DataFrame = (
        cells.group_by(**{name: key}).aggregate(revenue=cells.revenue.sum()).pipe(fetch)
    )
    frame["gross_profit"] = frame["revenue"].astype(float) * ds.settings.margin
    return frame[[name, "gross_profit"]]


def buyer_gross_profit(
    ds: Dataset, *, period: Period, horizon: int, by: str, cohorts: list[Any] | None = None
) -> pd.DataFrame:
    """Per-buyer gross profit over ages 0..horizon−1 of the buyer's cohort.

    A per-user feature table (one row per buyer, not per order), for the budget bootstrap:
    ``user_id``, ``cohort``, ``<by>``, ``gross_profit``. ``cohorts`` restricts it to those
    cohort start dates (in the engine). The mean over a cohort's buyers is LTV(c, horizon−1).
    """
    b = buyers(ds, period=period)
    key: ir.Value = b[by] if by in b.columns else ibis.literal(UNKNOWN)
    b = b.select("user_id", "cohort", **{by: key})
    if cohorts is not None:
        wanted = [pd.Timestamp(c).date() for c in cohorts]
        if not wanted:
            return pd.DataFrame({"user_id": [], "cohort": [], by: [], "gross_profit": []})
        b = b.filter(b.cohort.isin(wanted))
    orders = ds.table("orders")
    joined = orders.inner_join(b, "user_id")
    joined = joined.filter(age(joined.cohort, period_start(joined.ts, period), period) < horizon)
    frame: pd.DataFrame = (
        joined.group_by(["user_id", "cohort", by])
        .aggregate(revenue=joined.revenue.sum())
        .pipe(fetch)
    )
    frame["cohort"] = _dates(frame["cohort"])
    frame["gross_profit"] = frame["revenue"].astype(float) * ds.settings.margin
    # Engines return rows in any order; the bootstrap indexes buyers by position, so a fixed
    # order (cohort, source, user) is what makes its intervals reproducible. Ids compare as
    # text: they are uint64 on DuckDB but text on Spark, and both must give the same order.
    frame["_order"] = frame["user_id"].astype(str)
    frame = frame.sort_values(["cohort", by, "_order"], kind="stable").reset_index(drop=True)
    return frame[["user_id", "cohort", by, "gross_profit"]]


def _with_romi(cells: pd.DataFrame, cac_cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    merged = cells.merge(cac_cells, on=keys, how="left")
    cac_ = merged["cac"].astype(float)
    merged["romi"] = (merged["ltv"].astype(float).where(cac_ > 0) / cac_.where(cac_ > 0)) - 1.0
    return merged


def mean_curve(cells: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Unweighted mean of ROMI over complete, defined cells per ``group`` + age, with count."""
    used = cells[cells["complete"].astype(bool) & cells["romi"].notna()]
    curve = used.groupby([*group, "age"], as_index=False).agg(
        romi=("romi", "mean"), cells=("romi", "size")
    )
    return curve


def payback(ages: list[int], values: list[float]) -> tuple[int | None, str, float, int | None]:
    """First age with ROMI ≥ 0, else "not yet" with the last value, else "undefined".

    ``ages``/``values`` are one curve's defined points in age order. Returns
    ``(payback_age, text, last_romi, last_age)``.

    >>> payback([0, 1, 2], [-0.5, 0.1, 0.3])[:2]
    (1, 'age 1')
    >>> payback([0, 1, 2, 3, 4], [-0.9, -0.7, -0.5, -0.4, -0.35])[1]
    'not yet (last −0.35 at age 4)'
    >>> payback([], [])[1]
    'undefined'
    """
    pairs = [(a, v) for a, v in zip(ages, values, strict=True) if math.isfinite(v)]
    if not pairs:
        return None, "undefined", math.nan, None
    for a, v in pairs:
        if v >= 0:
            return int(a), f"age {int(a)}", pairs[-1][1], int(pairs[-1][0])
    last_age, last = pairs[-1]
    return None, f"not yet (last {signed(last)} at age {int(last_age)})", last, int(last_age)


def _payback_rows(curve: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    rows = []
    for keys, part in curve.sort_values("age").groupby(group, sort=False):
        key_values = keys if isinstance(keys, tuple) else (keys,)
        found, text, last, last_age = payback(
            part["age"].astype(int).tolist(), part["romi"].astype(float).tolist()
        )
        rows.append(
            {
                **dict(zip(group, key_values, strict=True)),
                "payback_age": found,
                "payback": text,
                "last_age": last_age,
                "last_romi": last,
            }
        )
    frame = pd.DataFrame(rows, columns=[*group, "payback_age", "payback", "last_age", "last_romi"])
    if not rows:  # typed like the curve, so callers can merge on the group columns
        frame = frame.astype({c: curve[c].dtype for c in group})
    frame["payback_age"] = frame["payback_age"].astype("Int64")
    frame["last_age"] = frame["last_age"].astype("Int64")
    frame["last_romi"] = frame["last_romi"].astype(float)
    return frame


def _ltv_table(ds: Dataset, *, period: Period, by: str | None) -> pd.DataFrame:
    from growthlens.metrics.revenue import ltv

    table: pd.DataFrame = ltv(ds, period=period, by=by).table.copy()
    table["cohort"] = _dates(table["cohort"])
    table["age"] = table["age"].astype(int)
    return table


SUMMARY: SummarySpec = {
    "horizon": ("count", "Horizon (periods)"),
    "cost": ("money", "Spend over the window"),
    "gross_profit": ("money", "Gross profit over the window"),
    "margin": ("share", "Margin"),
    "romi": ("percent", "ROMI over the window"),
    "romi_n": ("percent", "ROMI at the horizon (mean over complete cohorts)"),
    "cohorts_used": ("count", "Complete cohorts at the horizon"),
    "payback_age": ("plain", "Payback age"),
    "payback": ("text", "Payback"),
    "currency": ("text", "Currency"),
    "sources": ("count", "Sources"),
    "paid_back": ("count", "Sources paid back at the horizon"),
    "attributed": ("flag", "Buyers attributed to a source"),
}


def romi(
    ds: Dataset,
    *,
    period: Period | None = None,
    by: str | None = "source",
    horizon: int | None = None,
) -> Result:
    """Return on marketing investment by cohort × age (per source), over the window, payback.

    Definitions: docs/metrics.md, "Marketing" → "ROMI and payback". ROMI(c, k) =
    LTV(c, k) ÷ CAC(c) − 1 (0 = paid back), per source with that source's LTV and CAC;
    ROMI over the window = gross profit of the source's buyers ÷ its cost − 1; N-period
    ROMI (N = ``horizon``) = unweighted mean of ROMI(c, N−1) over complete cells; payback =
    first age with ROMI ≥ 0 (on the mean curve of complete cells for a source; on the
    observed cells for a cohort). Undefined cells (organic, zero CAC) are NaN.

    Main table (``by`` given): ``cohort``, ``age``, ``<by>``, ``buyers``, ``ltv``, ``cac``,
    ``romi``, ``complete`` (only observed cells). Extra tables: ``sources`` (ranking:
    ``rank``, ``<by>``, ``status``, ``cost``, ``share_of_spend``, ``buyers``, ``cac``,
    ``gross_profit``, ``romi`` (window), ``romi_n``, ``cohorts_used``, ``payback_age``,
    ``payback``), ``cohorts`` (the same long table over all sources, no ``<by>``),
    ``curves`` (``<by>``, ``age``, ``romi``, ``cells``: mean over complete cells; the
    all-sources curve is labelled ``(all sources)``), ``payback`` (``cohort``, ``<by>``,
    ``payback_age``, ``payback``, ``last_age``, ``last_romi``) and ``heatmap:<source>``
    per paid source (largest spend first). With ``by=None`` the main table is
    ``cohorts`` and there is no ``sources`` table.

    Args:
        ds: a Dataset with orders and costs (sessions give buyers their source).
        period: cohort period: ``day``, ``week`` or ``month`` (default: the dataset's
            ``period`` setting).
        by: text column of the costs table matched with the buyer's acquiring session;
            ``None`` for all sources together.
        horizon: N of the "N-period ROMI" (the age N−1 cell; default: the ``horizon``
            setting).

    Returns:
        The ROMI Result; ``summary``: ``cost``, ``gross_profit``, ``romi`` (window, all
        sources), ``romi_n``, ``cohorts_used``, ``payback_age``, ``payback``, ``horizon``.

    Example:
        Two buyers bring 40 of revenue, half of it gross profit, for 16 of spend:

        >>> import pandas as pd, growthlens as gl
        >>> sales = pd.DataFrame({"user_id": [7, 8, 8], "revenue": [10.0, 20.0, 10.0],
        ...     "ts": ["2020-03-02", "2020-03-09", "2020-03-20"]})
        >>> spend = pd.DataFrame({"date": ["2020-03-02", "2020-03-20"], "source": "tv",
        ...     "cost": [6.0, 10.0]})
        >>> ds = gl.load(orders=sales, costs=spend, margin=0.5)
        >>> round(gl.romi(ds, by=None).summary["romi"].value, 3)  # 20 / 16 − 1
        0.25
    """
    period = check_period(period or ds.settings.period)
    horizon = check_horizon(ds.settings.horizon if horizon is None else horizon)
    acq = acquisition_costs(ds, period=period, by=by)
    currency = ds.settings.currency
    findings: list[Finding] = []

    overall = _with_romi(
        _ltv_table(ds, period=period, by=None)[["cohort", "age", "buyers", "ltv", "complete"]],
        acq.cohorts[["cohort", "cac"]],
        ["cohort"],
    )
    overall = overall[["cohort", "age", "buyers", "ltv", "cac", "romi", "complete"]]
    overall = overall.sort_values(["cohort", "age"]).reset_index(drop=True)
    zero_cac = overall[(overall["cac"] == 0) & overall["ltv"].notna()]
    if len(zero_cac):
        labels = sorted({period_label(c, period) for c in zero_cac["cohort"]})
        findings.append(
            Finding(
                "zero_cac_cohorts",
                f"{'Cohort' if len(labels) == 1 else 'Cohorts'} {listing(labels)} "
                f"{'has' if len(labels) == 1 else 'have'} buyers but no spend (CAC 0): "
                f"{'its' if len(labels) == 1 else 'their'} ROMI divides "
                f"by zero and is undefined (NaN).",
                "warning",
            )
        )
    overall_curve = mean_curve(overall, [])
    overall_curve.insert(0, "_group", ALL_SOURCES)
    found, text, _, _ = payback(overall_curve["age"].tolist(), overall_curve["romi"].tolist())
    at_horizon = overall_curve[overall_curve["age"] == horizon - 1]
    romi_n = float(at_horizon["romi"].iloc[0]) if len(at_horizon) else math.nan
    cohorts_used = int(at_horizon["cells"].iloc[0]) if len(at_horizon) else 0
    total_cost = float(acq.cohorts["cost"].sum())
    total_gp = float(gross_profit_by(ds, by=None)["gross_profit"].sum())
    window_romi = total_gp / total_cost - 1 if total_cost > 0 else math.nan
    summary: dict[str, SummaryValue] = {
        "horizon": horizon,
        "cost": total_cost,
        "gross_profit": total_gp,
        "margin": ds.settings.margin,
        "romi": window_romi,
        "romi_n": romi_n,
        "cohorts_used": cohorts_used,
        "payback_age": found,
        "payback": text,
        "currency": currency,
    }
    n_label = f"{horizon}-{period}"
    findings.extend(_overall_romi_sentences(summary, n_label, period))

    overall_payback = _cohort_payback(overall, [])
    if by is None:
        curves = overall_curve.drop(columns="_group")
        return Result(
            name="romi",
            title="Return on marketing investment (ROMI)",
            table=overall,
            summary=summarize(summary, SUMMARY),
            findings=tuple(findings),
            tables={"curves": curves, "payback": overall_payback},
            params={"period": period, "by": by, "horizon": horizon},
            figures=(
                _heatmap_spec("main", "ROMI by cohort and age (all sources)", period),
                _curve_spec("curves", None, period),
            ),
            notes=_romi_notes(horizon, period),
        )

    # ---- per source
    attributed = by in session_dimensions(ds)
    if attributed:
        cells = _ltv_table(ds, period=period, by=by)
    else:
        cells = _ltv_table(ds, period=period, by=None)
        cells[by] = UNKNOWN
    cells = cells[["cohort", "age", by, "buyers", "ltv", "complete"]]
    cac_cells = acq.by_cohort[["cohort", by, "cac"]]
    main = _with_romi(cells, cac_cells, ["cohort", by])
    main = main[["cohort", "age", by, "buyers", "ltv", "cac", "romi", "complete"]]
    main = main.sort_values([by, "cohort", "age"], key=sort_key).reset_index(drop=True)
    paid = set(acq.spend.paid)
    zero = main[(main["cac"] == 0) & main[by].isin(paid)]
    if len(zero):
        examples = sorted(
            {f"{by} {r[by]} in {period_label(r['cohort'], period)}" for _, r in zero.iterrows()}
        )
        findings.append(
            Finding(
                "zero_cac_cells",
                f"{count_of(len(examples), f'cohort × {by} cell')} with buyers but no spend "
                "(CAC 0): their ROMI "
                f"divides by zero and is undefined (NaN): {listing(examples)}.",
                "warning",
            )
        )
    curves = mean_curve(main, [by])
    sources = _romi_sources(ds, acq, curves, horizon, by)
    findings.extend(_source_romi_sentences(sources, by, n_label, horizon, period, attributed))
    all_curve = overall_curve.rename(columns={"_group": by})
    curves = pd.concat([all_curve, curves], ignore_index=True)[[by, "age", "romi", "cells"]]
    payback_cells = pd.concat(
        [overall_payback.assign(**{by: ALL_SOURCES}), _cohort_payback(main, [by])],
        ignore_index=True,
    )[["cohort", by, "payback_age", "payback", "last_age", "last_romi"]]
    tables: dict[str, pd.DataFrame] = {
        "sources": sources,
        "cohorts": overall,
        "curves": curves,
        "payback": payback_cells,
    }
    figures = [_heatmap_spec("cohorts", "ROMI by cohort and age (all sources)", period)]
    ranked_paid = sources[(sources["status"] == "paid") & (sources["buyers"] > 0)].sort_values(
        "cost", ascending=False, kind="stable"
    )
    for source in ranked_paid[by].head(MAX_HEATMAPS):
        key = f"heatmap:{source}"
        part = main[main[by] == source][
            ["cohort", "age", "buyers", "ltv", "cac", "romi", "complete"]
        ]
        tables[key] = part.reset_index(drop=True)
        figures.append(_heatmap_spec(key, f"ROMI by cohort and age — {by} {source}", period))
    figures.append(_curve_spec("curves", by, period))
    return Result(
        name="romi",
        title="Return on marketing investment (ROMI)",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={"period": period, "by": by, "horizon": horizon},
        tables=tables,
        figures=tuple(figures),
        notes=_romi_notes(horizon, period),
    )


def _cohort_payback(cells: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    observed = cells[cells["romi"].notna()]
    frame = _payback_rows(observed, [*group, "cohort"])
    # Cohorts whose every cell is undefined (no spend) are "undefined", not missing.
    every = cells[[*group, "cohort"]].drop_duplicates()
    frame = every.merge(frame, on=[*group, "cohort"], how="left")
    frame["payback"] = frame["payback"].fillna("undefined")
    return frame.sort_values([*group, "cohort"], key=sort_key).reset_index(drop=True)


def _romi_sources(
    ds: Dataset, acq: Acquisition, curves: pd.DataFrame, horizon: int, by: str
) -> pd.DataFrame:
    sources = acq.sources.copy()
    profit = gross_profit_by(ds, by=by).rename(columns={by: by})
    sources = sources.merge(profit, on=by, how="left")
    sources["gross_profit"] = sources["gross_profit"].fillna(0.0)
    paid = sources["status"] == "paid"
    sources["romi"] = (ratio(sources["gross_profit"], sources["cost"]) - 1.0).where(paid)
    at_n = curves[curves["age"] == horizon - 1][[by, "romi", "cells"]].rename(
        columns={"romi": "romi_n", "cells": "cohorts_used"}
    )
    sources = sources.merge(at_n, on=by, how="left")
    sources["cohorts_used"] = sources["cohorts_used"].fillna(0).astype(int)
    paybacks = _payback_rows(curves, [by])[[by, "payback_age", "payback"]] if len(curves) else None
    if paybacks is not None:
        sources = sources.merge(paybacks, on=by, how="left")
    else:
        sources["payback_age"] = pd.array([pd.NA] * len(sources), dtype="Int64")
        sources["payback"] = None
    sources["payback"] = sources["payback"].where(paid & sources["payback"].notna(), "undefined")
    sources.loc[~paid, "payback_age"] = pd.NA
    sources["payback_age"] = sources["payback_age"].astype("Int64")
    status_rank = {"paid": 0, "organic": 1, "unknown": 2}
    order = sorted(
        range(len(sources)),
        key=lambda i: (
            status_rank[sources["status"].iloc[i]],
            -_finite_or(sources["romi_n"].iloc[i], -math.inf),
            -_finite_or(sources["romi"].iloc[i], -math.inf),
            natural_key(sources[by].iloc[i]),
        ),
    )
    sources = sources.iloc[order].reset_index(drop=True)
    sources.insert(0, "rank", range(1, len(sources) + 1))
    return sources[
        [
            "rank",
            by,
            "status",
            "cost",
            "share_of_spend",
            "buyers",
            "cac",
            "gross_profit",
            "romi",
            "romi_n",
            "cohorts_used",
            "payback_age",
            "payback",
        ]
    ]


def _finite_or(value: Any, default: float) -> float:
    return (
        float(value)
        if value is not None and not pd.isna(value) and math.isfinite(float(value))
        else default
    )


def _overall_romi_sentences(
    summary: dict[str, SummaryValue], n_label: str, period: Period
) -> list[Finding]:
    out: list[Finding] = []
    romi_w = float(summary["romi"])  # type: ignore[arg-type]
    if math.isfinite(romi_w):
        out.append(
            Finding(
                "romi_window",
                f"Over the window, buyers' gross profit is {share_text(romi_w + 1)} of marketing "
                "spend "
                f"(ROMI {signed(romi_w)}).",
            )
        )
    romi_n = float(summary["romi_n"])  # type: ignore[arg-type]
    cells = int(summary["cohorts_used"])  # type: ignore[arg-type]
    horizon = int(summary["horizon"])  # type: ignore[arg-type]
    if math.isfinite(romi_n):
        out.append(
            Finding(
                "romi_horizon",
                f"After {count_of(horizon, period)}, cohorts have returned "
                f"{share_text(romi_n + 1)} "
                "of their "
                f"acquisition cost on average ({n_label} ROMI {signed(romi_n)}, mean of "
                f"{count_of(cells, 'complete cohort')}).",
            )
        )
    else:
        out.append(
            Finding(
                "no_cohort_at_horizon",
                f"No cohort is complete at the {n_label} horizon yet, so the {n_label} ROMI is "
                "undefined.",
            )
        )
    if summary["payback_age"] is not None:
        k = int(summary["payback_age"])  # type: ignore[arg-type]
        out.append(
            Finding(
                "payback",
                f"On average, cohorts pay back at age {k}, i.e. within {k + 1} "
                f"{age_unit(period, k + 1)} "
                "of their first order.",
            )
        )
    elif summary["payback"] != "undefined":
        out.append(
            Finding(
                "not_paid_back",
                f"On average, cohorts have not paid back: {summary['payback']}.",
                "warning",
            )
        )
    return out


def _source_romi_sentences(
    sources: pd.DataFrame, by: str, n_label: str, horizon: int, period: Period, attributed: bool
) -> list[Finding]:
    if not attributed or not (sources["status"] != "unknown").any():
        return [
            Finding(
                "not_attributed",
                f"No buyer has a known {by}, so ROMI per {by} cannot be computed; ROMI per cohort "
                f"over all {by}s is in the table 'cohorts'.",
                "warning",
            )
        ]
    out: list[Finding] = []
    paid = sources[sources["status"] == "paid"].sort_values("cost", ascending=False, kind="stable")
    span = f"{horizon} {age_unit(period, horizon)}"
    for _, row in paid.head(3).iterrows():
        lead = f"{by.capitalize()} {row[by]} took {share_text(row['share_of_spend'])} of spend"
        if math.isfinite(row["romi_n"]):
            out.append(
                Finding(
                    "source_romi",
                    f"{lead}; its buyers have returned {share_text(row['romi_n'] + 1)} of their "
                    "cost "
                    f"after {span}.",
                )
            )
        elif math.isfinite(row["romi"]):
            out.append(
                Finding(
                    "source_romi_window",
                    f"{lead}; over the window its buyers have returned "
                    f"{share_text(row['romi'] + 1)} "
                    "of its "
                    f"cost (no complete cohort at {span} yet).",
                )
            )
    back = paid[paid["payback_age"].notna()].sort_values("payback_age", kind="stable")
    if len(back):
        first = back.iloc[0]
        out.append(
            Finding(
                "fastest_payback",
                f"{by.capitalize()} {first[by]} pays back fastest: its mean ROMI reaches 0 at age "
                f"{first['payback_age']}.",
            )
        )
    never = paid[paid["payback"].str.startswith("not yet")]
    if len(never):
        names = [f"{r[by]} ({r['payback'].removeprefix('not yet (')}" for _, r in never.iterrows()]
        out.append(
            Finding(
                "sources_not_paid_back",
                f"Not paid back on average: {by}s {listing(names)}.",
                "warning",
            )
        )
    return out


def _heatmap_spec(table: str, title: str, period: Period) -> FigureSpec:
    return FigureSpec(
        kind="heatmap",
        x="age",
        y="cohort",
        z="romi",
        table=table,
        title=title,
        labels={"age": f"Age ({period}s since first order)", "cohort": "Cohort", "romi": "ROMI"},
        value_format=".0%",
    )


def _curve_spec(table: str, by: str | None, period: Period) -> FigureSpec:
    return FigureSpec(
        kind="line",
        x="age",
        y="romi",
        color=by,
        table=table,
        title="ROMI curves: mean over complete cohorts",
        labels={"age": f"Age ({period}s since first order)", "romi": "ROMI (0 = paid back)"}
        | ({by: by.replace("_", " ").capitalize()} if by else {}),
        value_format=".0%",
    )


def _romi_notes(horizon: int, period: Period) -> tuple[str, ...]:
    return (
        "ROMI(c, k) = LTV(c, k) ÷ CAC(c) − 1: 0 means the cohort's gross profit has paid back "
        "what it cost to acquire; −0.6 means 40% has come back.",
        f"The {horizon}-{period} ROMI is the unweighted mean of ROMI at age {horizon - 1} over "
        "complete cohorts; payback is the first age where the mean curve reaches 0.",
        "Organic sources and cells without spend have undefined ROMI (blank), never 0.",
    )
