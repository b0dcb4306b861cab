"""Return on marketing investment by cohort × age (per source), over the window, payback.

Definitions: docs/metrics.md, "Marketing" → "ROMI and payback"; the engine part is
:mod:`growthlens.metrics.marketing.romi`. Options, the stages and the report plan are
registered once at the bottom (docs/architecture.md, "How to add an analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from growthlens.analyses.cac import per_source_plan
from growthlens.analyses.ltv import (
    average_note,
    curve_basis,
    curve_findings,
    curve_subtitle,
    with_weight,
)
from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.figures import shared_range
from growthlens.metrics.cohorts import MIN_COHORTS, Average, check_average
from growthlens.metrics.marketing.romi import ALL_SOURCES, Romi, check_horizon, romi_frames
from growthlens.metrics.marketing.spend import check_by
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import (
    age_unit,
    count_of,
    listing,
    period_label,
    romi_text,
    share_text,
)

# At most this many per-source heatmaps (largest spend first) keep the report readable.
MAX_HEATMAPS = 8
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
    "payback_cohorts": ("count", "Cohorts behind the payback"),
    "currency": ("text", "Currency"),
    "sources": ("count", "Sources"),
    "paid_back": ("count", "Sources paid back at the horizon"),
    "attributed": ("flag", "Buyers attributed to a source"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options: cohort period, costs column to split by, horizon N, average rule."""

    period: Period
    by: str | None
    horizon: int
    average: Average


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the ROMI frames, the margin and the currency."""

    romi: Romi
    margin: float
    currency: str


def romi(
    ds: Dataset,
    *,
    period: Period | None = None,
    by: str | None = "source",
    horizon: int | None = None,
    average: Average = "balanced",
) -> Result:
    """Return on marketing investment by cohort × age (per source), over the window, payback.

    Definitions: docs/metrics.md, "Marketing" → "ROMI and payback". ROMI(c, k) =
    LTV(c, k) ÷ CAC(c) − 1 (0 = paid back), per source with that source's LTV and CAC;
    ROMI over the window = gross profit of the source's buyers ÷ its cost − 1; N-period
    ROMI (N = ``horizon``) = unweighted mean of ROMI(c, N−1) over complete cells; payback =
    first age with ROMI ≥ 0 (on the mean curve for all sources and for a source; on the
    observed cells for a cohort). Undefined cells (organic, zero CAC) are NaN.

    Mean curves (``average="balanced"``, default): each curve averages one fixed set of
    cohorts at every age 0..N−1, those with complete, defined cells at all of them, so the
    curve cannot fall because young cohorts drop out; with fewer than 3 such cohorts the
    curve stops at the longest span 3 cohorts cover (or, failing that, rests on the 1 or 2
    there are, with a warning). Payback is read off that curve and stated with its count
    of cohorts. ``average="all"``: at each observed age the mean over the cohorts observed
    at it (the set changes with age).

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
            setting); the balanced curves span ages 0..N−1.
        average: ``balanced`` (one fixed set of cohorts per curve) or ``all`` (each age's
            own cohorts).

    Returns:
        The ROMI Result; ``summary``: ``cost``, ``gross_profit``, ``romi`` (window, all
        sources), ``romi_n``, ``cohorts_used``, ``payback_age``, ``payback``,
        ``payback_cohorts`` (cohorts behind the payback), ``horizon``.

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
    return ROMI.run(ds, period=period, by=by, horizon=horizon, average=average)


def _params(
    ds: Dataset,
    *,
    period: Period | None,
    by: str | None,
    horizon: int | None,
    average: Average,
) -> Params:
    period = check_period(period or ds.settings.period)
    horizon = check_horizon(ds.settings.horizon if horizon is None else horizon)
    check_by(ds, by)
    return Params(period=period, by=by, horizon=horizon, average=check_average(average))


def _compute(ds: Dataset, p: Params) -> Frames:
    frames = romi_frames(ds, period=p.period, by=p.by, horizon=p.horizon, average=p.average)
    return Frames(frames, ds.settings.margin, ds.settings.currency)


def _explain(frames: Frames, p: Params) -> Result:
    r, currency = frames.romi, frames.currency
    period, by, horizon = p.period, p.by, p.horizon
    findings: list[Finding] = []
    overall = r.cohorts
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
    summary: dict[str, SummaryValue] = {
        "horizon": horizon,
        "cost": r.cost,
        "gross_profit": r.gross_profit,
        "margin": frames.margin,
        "romi": r.romi,
        "romi_n": r.romi_n,
        "cohorts_used": r.cohorts_used,
        "payback_age": r.payback_age,
        "payback": r.payback,
        "payback_cohorts": r.payback_cohorts,
        "currency": currency,
    }
    n_label = f"{horizon}-{period}"
    findings.extend(_overall_romi_sentences(summary, n_label, period, r.curve, p.average))
    findings.extend(curve_findings(r.curve, "ROMI", horizon, period, p.average))

    if by is None:
        return Result(
            name="romi",
            title="Return on marketing investment (ROMI)",
            table=overall,
            summary=summarize(summary, SUMMARY),
            findings=tuple(findings),
            tables={"curves": r.curve, "payback": r.cohort_payback},
            params=params_dict(p),
            figures=(
                _heatmap_spec("main", "ROMI by cohort and age (all sources)", period),
                _curve_spec("curves", None, period, r.curve, p.average),
            ),
            notes=_romi_notes(horizon, period, p.average),
        )

    # ---- per source
    main, sources = r.cells, r.sources
    paid = set(r.acquisition.spend.paid)
    zero = main[(main["cac"] == 0) & main[by].isin(paid)]
    if len(zero):
        examples = sorted(
            {f"{by} {c[by]} in {period_label(c['cohort'], period)}" for _, c in zero.iterrows()}
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
    findings.extend(_source_romi_sentences(sources, by, n_label, horizon, period, r.attributed))
    tables: dict[str, pd.DataFrame] = {
        "sources": sources,
        "cohorts": overall,
        "curves": r.curves,
        "payback": r.paybacks,
    }
    ranked_paid = sources[(sources["status"] == "paid") & (sources["buyers"] > 0)].sort_values(
        "cost", ascending=False, kind="stable"
    )
    parts: dict[str, pd.DataFrame] = {}
    for source in ranked_paid[by].head(MAX_HEATMAPS):
        part = main[main[by] == source][
            ["cohort", "age", "buyers", "ltv", "cac", "romi", "complete"]
        ]
        parts[f"heatmap:{source}"] = part.reset_index(drop=True)
    # One colour scale for the overall and every per-source heatmap: the same colour is
    # the same ROMI in all of them (the range of every cell they show).
    zrange = shared_range(overall["romi"], *(part["romi"] for part in parts.values()))
    figures = [_heatmap_spec("cohorts", "ROMI by cohort and age (all sources)", period, zrange)]
    for key, part in parts.items():
        tables[key] = part
        source = key.removeprefix("heatmap:")
        figures.append(
            _heatmap_spec(key, f"ROMI by cohort and age — {by} {source}", period, zrange)
        )
    # The chart's curves weighed by spend; the all-sources curve by all of it, so it stays.
    spend = sources.groupby(by, dropna=False)["cost"].sum()
    spend[ALL_SOURCES] = float(sources["cost"].sum())
    tables["curves_chart"] = with_weight(r.curves, by, spend)
    figures.append(_curve_spec("curves_chart", by, period, r.curves, p.average))
    return Result(
        name="romi",
        title="Return on marketing investment (ROMI)",
        table=main,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params=params_dict(p),
        tables=tables,
        detail=("curves_chart",),  # the curves above with each source's spend
        figures=tuple(figures),
        notes=_romi_notes(horizon, period, p.average),
    )


def _overall_romi_sentences(
    summary: dict[str, SummaryValue],
    n_label: str,
    period: Period,
    curve: pd.DataFrame,
    average: Average,
) -> list[Finding]:
    out: list[Finding] = []
    romi_w = float(summary["romi"])  # type: ignore[arg-type]
    if math.isfinite(romi_w):
        out.append(
            Finding(
                "romi_window",
                f"Over the window, buyers' gross profit is {share_text(romi_w + 1)} of marketing "
                "spend "
                f"(ROMI {romi_text(romi_w)}).",
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
                f"acquisition cost on average ({n_label} ROMI {romi_text(romi_n)}, mean of "
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
    backing = int(summary["payback_cohorts"])  # type: ignore[arg-type]
    basis = _payback_basis(curve, period, average, backing, summary["payback_age"])
    # A payback read off one or two cohorts is their story, not a typical cohort's.
    few = " Too few cohorts to rely on." if 0 < backing < MIN_COHORTS else ""
    numbers: dict[str, SummaryValue] = {"cohorts": backing}
    if summary["payback_age"] is not None:
        k = int(summary["payback_age"])  # type: ignore[arg-type]
        out.append(
            Finding(
                "payback",
                f"On average, cohorts pay back at age {k}, i.e. within {k + 1} "
                f"{age_unit(period, k + 1)} of their first order ({basis}).{few}",
                "warning" if few else "info",
                numbers={"payback_age": k, **numbers},
            )
        )
    elif summary["payback"] != "undefined" and len(curve):
        last = curve.dropna(subset=["romi"]).iloc[-1]
        last_age, last_romi = int(last["age"]), float(last["romi"])
        out.append(
            Finding(
                "not_paid_back",
                f"On average, cohorts have not paid back by age {last_age}: ROMI "
                f"{romi_text(last_romi)} there ({basis}).{few}",
                "warning",
                numbers={"last_age": last_age, "last_romi": last_romi, **numbers},
            )
        )
    return out


def _payback_basis(
    curve: pd.DataFrame, period: Period, average: Average, backing: int, payback_age: SummaryValue
) -> str:
    """The cohorts behind the payback, in words."""
    if average == "balanced":
        return curve_basis(curve, period, average)
    at = "the payback age" if payback_age is not None else "the last age"
    return f"mean of the {count_of(backing, 'cohort')} observed at {at}"


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


def _heatmap_spec(
    table: str, title: str, period: Period, zrange: tuple[float, float] | None = None
) -> FigureSpec:
    """A ROMI heatmap: red below 0 (not paid back), white at 0, green above (see zmid)."""
    return FigureSpec(
        kind="heatmap",
        x="age",
        y="cohort",
        z="romi",
        table=table,
        title=title,
        labels={"age": f"Age ({period}s since first order)", "cohort": "Cohort", "romi": "ROMI"},
        value_format=".0%",
        zrange=zrange,
        zmid=0.0,
    )


def _curve_spec(
    table: str, by: str | None, period: Period, curve: pd.DataFrame, average: Average
) -> FigureSpec:
    return FigureSpec(
        kind="line",
        x="age",
        y="romi",
        color=by,
        table=table,
        title="ROMI curves: average over cohorts",
        subtitle=curve_subtitle(curve, period, average, by=by),
        labels={
            "age": f"Age ({period}s since first order)",
            "romi": "ROMI (0 = paid back)",
            "cohorts": "Cohorts averaged",
            "cost": "spend",
        }
        | ({by: by.replace("_", " ").capitalize()} if by else {}),
        value_format=".0%",
        hover=("cohorts",),
        rank="cost" if by else None,
    )


def _romi_notes(horizon: int, period: Period, average: Average) -> tuple[str, ...]:
    return (
        "ROMI(c, k) = LTV(c, k) ÷ CAC(c) − 1: 0 means the cohort's gross profit has paid back "
        "what it cost to acquire; −60% means 40% has come back.",
        f"The {horizon}-{period} ROMI is the unweighted mean of ROMI at age {horizon - 1} over "
        "complete cohorts; payback is the first age where the average curve reaches 0.",
        average_note(average, horizon, period),
        "Organic sources and cells without spend have undefined ROMI (blank), never 0.",
    )


def _plan(ds: Dataset) -> Plan:
    """As CAC's (per source, or per cohort with the reason), at the dataset's horizon."""
    return per_source_plan(ds, horizon=ds.settings.horizon)


ROMI = register(
    Analysis(
        name="romi",
        title="Return on marketing investment (ROMI)",
        group="marketing",
        needs=("orders", "costs"),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    romi,
)
