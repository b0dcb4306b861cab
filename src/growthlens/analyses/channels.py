"""Channel and campaign economics: what each channel, campaign or market earned and cost.

Definitions: docs/channels.md and DESIGN §4 ("Marketing": CPC, CPM, CTR, CPA, ROAS;
"Attribution": channel economics); the engine part is :mod:`growthlens.metrics.channels`.
Options, the stages and the report plan are registered once at the bottom
(docs/architecture.md, "How to add an analysis").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from growthlens.analyses.attribution import removal_effects
from growthlens.analyses.funnel import parse_window
from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.derive.journeys import NO_TOUCH
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.attribution import MODELS, check_given, check_model
from growthlens.metrics.campaign_costs import CampaignCosts
from growthlens.metrics.channels import (
    NO_SESSIONS,
    REVENUE_SOURCES,
    SPECIAL,
    Economics,
    RevenueSource,
    check_view,
    economics,
    reference_revenue,
)
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.text import count_of, credit, listing, money, natural_key, period_label

SUMMARY: SummarySpec = {
    "model": ("text", "Attribution model of conversions, revenue, CPA and ROAS"),
    "values": ("count", "Rows (values of the dimension)"),
    "sessions": ("count", "Sessions"),
    "users": ("count", "Users"),
    "conversions": ("number", "Attributed conversions"),
    "revenue": ("money", "Attributed revenue"),
    "cost": ("money", "Cost"),
    "clicks": ("count", "Clicks"),
    "impressions": ("count", "Impressions"),
    "cpc": ("money", "Cost per click (CPC)"),
    "cpm": ("money", "Cost per 1,000 impressions (CPM)"),
    "ctr": ("share", "Click-through rate (CTR)"),
    "cpa": ("money", "Cost per attributed conversion (CPA)"),
    "roas": ("ratio", "Return on ad spend (ROAS = revenue ÷ cost)"),
    "cost_without_sessions": ("money", "Cost of campaigns no session has"),
    "unmatched_cost_rows": (
        "count",
        "Cost rows (cost > 0) of campaigns with sessions on a day with none of theirs",
    ),
    "idle_days": ("count", "Campaign-days with cost and no session of the campaign"),
    "campaigns_without_cost": ("count", "Session campaigns with no cost (none, or 0 in all)"),
}

TOP = 10
"""Values drawn in the charts (largest cost, then revenue); the tables hold every one."""

RATIO_WORDS = {
    "cpc": ("CPC", "clicks", "cost"),
    "cpm": ("CPM", "impressions", "cost"),
    "ctr": ("CTR", "impressions", "clicks"),
    "cpa": ("CPA", "attributed conversions", "cost"),
    "roas": ("ROAS", "cost", "attributed revenue"),
}
"""ratio → (name, what its denominator counts, what its numerator counts)."""

DENOMINATOR = {
    "cpc": "clicks",
    "cpm": "impressions",
    "ctr": "impressions",
    "cpa": "conversions",
    "roas": "cost",
}
NUMERATOR = {"cpc": "cost", "cpm": "cost", "ctr": "clicks", "cpa": "cost", "roas": "revenue"}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`channels`)."""

    model: str
    by: str
    period: Period | None
    lookback_s: int
    models: tuple[str, ...]
    revenue: RevenueSource = "orders"


def channels(
    ds: Dataset,
    *,
    model: str = "linear",
    by: str = "channel",
    period: Period | None = None,
    lookback: str | int | timedelta = "30d",
    revenue: str = "orders",
) -> Result:
    """Channel (campaign, market …) economics: traffic, attributed results, cost and ratios.

    Per value of ``by`` (and per period when given): ``sessions``, ``users`` (distinct),
    ``new_users`` (users whose first session has that value and starts in that period),
    ``conversions`` and ``revenue`` attributed by ``model`` (credit of the touches whose
    session has the value, in the period of the conversion), ``cost``, ``clicks``,
    ``impressions``, ``cpc`` = cost ÷ clicks, ``cpm`` = cost ÷ impressions × 1000, ``ctr``
    = clicks ÷ impressions, ``cpa`` = cost ÷ attributed conversions (undefined for a value
    with no cost row: unpaid), ``roas`` = attributed revenue ÷ cost, and ``roas_<m>`` for
    every other model the data allows (their revenue in the ``models`` table). A zero
    denominator gives NaN and a finding, never inf. Cost rows of a campaign belong to the
    channel of that campaign's sessions; those of campaigns no session has form the row
    ``(no sessions)``, so the rows' cost adds up to the total. See docs/channels.md.

    Args:
        ds: a Dataset with sessions (orders for conversions, costs for cost).
        model: the attribution model of ``conversions``, ``revenue``, ``cpa`` and ``roas``
            (growthlens.metrics.attribution.MODELS).
        by: ``channel`` (the session's source), ``campaign``, ``market`` or any other
            session column.
        period: ``day``, ``week`` or ``month``; None: one row per value over the window.
        lookback: the journeys' lookback window (``"30d"``), as for ``gl.attribution``.
        revenue: ``"orders"`` (each conversion's own revenue) or ``"reference"``: the
            revenue the trusted copy (``conversions_reference``) has for it, matched by
            order id (duplicated keys by the tie rule, as ``gl.reconcile``); a conversion
            the reference lacks counts 0 and a finding says how many and what the orders
            table had for them.

    Returns:
        The Result: main table per value (× period); ``totals`` (one row, the whole
        window); ``models`` (``<by>``, ``model``, ``revenue``, ``cost``, ``roas`` of each
        value under every model, over the window); with a period also ``values`` (per
        value over the window) and ``periods`` (per period); the campaign checks of the
        costs (``unmatched_costs``, ``campaigns_without_sessions``,
        ``campaigns_without_cost``).

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> from growthlens.analyses.channels import channels
        >>> s = pd.DataFrame({"user_id": ["a", "b"], "session_id": ["s1", "s2"],
        ...     "start_ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 12:00"]),
        ...     "source": ["ads", "seo"]})
        >>> o = pd.DataFrame({"user_id": ["a"], "order_id": ["o1"],
        ...     "ts": pd.to_datetime(["2024-01-01 11:00"]), "revenue": [90.0]})
        >>> c = pd.DataFrame({"date": ["2024-01-01"], "source": ["ads"], "cost": [30.0],
        ...     "clicks": [15]})
        >>> r = channels(gl.load(sessions=s, orders=o, costs=c))
        >>> columns = ["channel", "sessions", "conversions", "cost", "cpc", "roas"]
        >>> r.table[columns].to_dict("records")[0]
        {'channel': 'ads', 'sessions': 1, 'conversions': 1.0, 'cost': 30.0, 'cpc': 2.0, 'roas': 3.0}
    """
    return CHANNELS.run(ds, model=model, by=by, period=period, lookback=lookback, revenue=revenue)


def _params(
    ds: Dataset,
    *,
    model: str,
    by: str,
    period: Period | None,
    lookback: str | int | timedelta,
    revenue: str,
) -> Params:
    check_model(model)
    if revenue not in REVENUE_SOURCES:
        raise ConfigError(f"revenue must be 'orders' or 'reference'; got {revenue!r}")
    if revenue == "reference":
        reference_revenue(ds)  # the tables it needs, checked before any work
    if model == "given":
        check_given(ds)
    if not isinstance(by, str):
        raise ConfigError(f"by must be a session column name such as 'channel'; got {by!r}")
    check_view(ds, by)
    if by == "period" and period is not None:
        raise ConfigError(
            "by='period' clashes with the period column of a per-period view; rename the "
            "sessions column or leave period=None"
        )
    try:
        lookback_s = parse_window(lookback)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("window", "lookback", 1)) from None
    return Params(
        model=model,
        by=by,
        period=None if period is None else check_period(period),
        lookback_s=lookback_s,
        models=tuple(m for m in MODELS if m != model),
        revenue="reference" if revenue == "reference" else "orders",
    )


def _compute(ds: Dataset, p: Params) -> tuple[Economics, str]:
    effects = None
    if ds.has("orders") and "markov" in (p.model, *p.models):
        # touch_credit needs the first-order chain's removal effects, fitted in stats.
        try:
            effects = removal_effects(ds, lookback_s=p.lookback_s, order=1)
        except ConfigError:
            if p.model == "markov":
                raise
    e = economics(
        ds,
        by=p.by,
        period=p.period,
        model=p.model,
        models=p.models,
        lookback_s=p.lookback_s,
        removal_effects=effects,
        revenue=p.revenue,
    )
    return e, ds.settings.currency


def _explain(computed: tuple[Economics, str], p: Params) -> Result:
    e, currency = computed
    by = e.by
    total = e.total.iloc[0]
    values = e.values
    status: Status = "ok"
    reason = ""
    if total["sessions"] == 0 and not (total["cost"] > 0) and not (total["conversions"] > 0):
        status = "not_enough_data"
        reason = "No session, attributed conversion or cost inside the data window."
    findings: list[Finding] = []
    if status != "ok":
        findings.append(Finding("not_enough_data", reason, "warning"))
    else:
        findings.extend(_headline(e, currency, p))
        findings.extend(_model_spread(e))
        findings.extend(_special_rows(e, currency))
        findings.extend(_undefined(e))
        findings.extend(_cost_findings(e.checks, currency))
        findings.extend(_reference_findings(e, currency))
    checks = e.checks
    summary: dict[str, Any] = {
        "model": e.model,
        "values": int((~values[by].isin(SPECIAL)).sum()),
        **{k: _plain(total[k]) for k in ("sessions", "users", "conversions", "revenue")},
        **{k: _plain(total[k]) for k in ("cost", "clicks", "impressions")},
        **{k: _plain(total[k]) for k in ("cpc", "cpm", "ctr", "cpa", "roas")},
        "cost_without_sessions": float(checks.without_sessions["cost"].sum()),
        "unmatched_cost_rows": checks.idle_rows,
        "idle_days": checks.idle_days,
        "campaigns_without_cost": len(checks.without_cost),
    }
    if not checks.available:
        # Without campaigns on both sides these checks do not apply: no headline at all.
        for key in (
            "cost_without_sessions",
            "unmatched_cost_rows",
            "idle_days",
            "campaigns_without_cost",
        ):
            del summary[key]
    tables: dict[str, pd.DataFrame] = {"totals": e.total}
    if e.period is not None:
        tables["values"] = e.values
        tables["periods"] = e.periods
    tables["models"] = _model_table(e)
    tables["chart"] = _bar_table(e)
    figures = [_bar_figure(e, currency)]
    if e.period is not None:
        tables["trend"] = _trend_table(e)
        figures.extend(_trend_figures(e, currency))
    if checks.available:
        tables["unmatched_costs"] = checks.idle
        tables["campaigns_without_sessions"] = checks.without_sessions
        tables["campaigns_without_cost"] = checks.without_cost
    noun = by.replace("_", " ")
    return Result(
        name="channels"
        + ("" if by == "channel" else f"_by_{by}")
        + ("" if e.period is None else f"_{e.period}"),
        title=f"{noun.capitalize()} economics"
        + ("" if e.period is None else f" per {e.period}")
        + f" ({e.model.replace('_', ' ')} attribution)",
        table=e.rows.drop(columns=[f"revenue_{m}" for m in e.models]),
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables=tables,
        # ROAS per model is in the main table's roas_<model> columns; the long form is
        # for the API and the JSON.
        detail=("models",),
        figures=tuple(figures),
        notes=_notes(e),
        params={
            "model": p.model,
            "by": p.by,
            "period": p.period,
            "lookback_s": p.lookback_s,
            "models": list(e.models),
        },
        status=status,
        status_reason=reason,
    )


def _plain(value: Any) -> float | int | None:
    """A frame cell as a plain number; NaN stays NaN (undefined), never 0."""
    if value is None:
        return None
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(value.dtype)):
        return int(value)
    return float(value)


def _records(frame: pd.DataFrame, by: str) -> dict[str, dict[str, Any]]:
    """The rows of ``frame`` by their ``by`` value."""
    return {str(r[by]): {str(k): x for k, x in r.items()} for r in frame.to_dict("records")}


def _label(row: pd.Series, by: str, period: Period | None) -> str:
    name = str(row[by])
    return name if period is None else f"{name} ({period_label(row['period'], period)})"


def _headline(e: Economics, currency: str, p: Params) -> list[Finding]:
    total = e.total.iloc[0]
    by = e.by
    values = e.values[~e.values[by].isin(SPECIAL)]
    parts = [f"{count_of(int(total['sessions']), 'session')} from {count_of(len(values), by)}"]
    if e.has_conversions:
        parts.append(
            f"{credit(float(total['conversions']))} conversions and "
            f"{money(total['revenue'], currency)} "
            f"of revenue ({e.model.replace('_', ' ')} attribution)"
        )
    if not math.isnan(total["cost"]):
        parts.append(f"{money(total['cost'], currency)} of cost")
    text = "Over the window: " + ", ".join(parts) + "."
    if math.isfinite(total["roas"]):
        text += (
            f" Each {money(1, currency)} of cost brought {money(total['roas'], currency)} of "
            f"attributed revenue (ROAS {total['roas']:.2f})."
        )
    out = [
        Finding(
            "channel_totals",
            text,
            numbers={
                k: _plain(total[k]) for k in ("sessions", "conversions", "revenue", "cost", "roas")
            },
        )
    ]
    paid = values[(values["cost"] > 0) & values["roas"].notna()]
    if len(paid) >= 2:
        ranked = paid.sort_values(["roas", by], ascending=[False, True], kind="stable")
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        out.append(
            Finding(
                "roas_range",
                f"Among {count_of(len(paid), f'paid {by}')}, {by} {best[by]} returned the most "
                f"per unit of cost (ROAS {best['roas']:.2f} on {money(best['cost'], currency)}) "
                f"and {by} {worst[by]} the least (ROAS {worst['roas']:.2f} on "
                f"{money(worst['cost'], currency)}).",
                "warning" if worst["roas"] < 1 else "info",
                numbers={
                    "best": str(best[by]),
                    "best_roas": float(best["roas"]),
                    "worst": str(worst[by]),
                    "worst_roas": float(worst["roas"]),
                },
            )
        )
    return out


def _reference_findings(e: Economics, currency: str) -> list[Finding]:
    """Where the revenue comes from with ``revenue="reference"``, and what it leaves out."""
    r = e.reference
    if r is None:
        return []
    text = (
        f"Revenue is the reference copy's: {count_of(r.matched, 'attributed conversion')} "
        f"of {r.conversions:,} have a reference row, worth {money(r.reference_revenue, currency)} "
        f"there against {money(r.orders_revenue, currency)} in the orders table."
    )
    if r.unmatched:
        text += (
            f" {count_of(r.unmatched, 'conversion')} the reference lacks count 0 "
            f"({money(r.unmatched_orders_revenue, currency)} in the orders table); "
            "gl.reconcile lists them."
        )
    return [
        Finding(
            "reference_revenue",
            text,
            "warning" if r.unmatched else "info",
            {
                "conversions": r.conversions,
                "matched": r.matched,
                "unmatched": r.unmatched,
                "unmatched_orders_revenue": r.unmatched_orders_revenue,
                "orders_revenue": r.orders_revenue,
                "reference_revenue": r.reference_revenue,
            },
        )
    ]


def _nine_digits(value: float) -> float:
    """``value`` rounded to 9 significant digits (NaN stays NaN)."""
    return float(f"{value:.9g}")


def _model_spread(e: Economics) -> list[Finding]:
    """The paid value whose ROAS moves most with the attribution model."""
    if not e.models:
        return []
    by = e.by
    columns = ["roas", *(f"roas_{m}" for m in e.models)]
    values = e.values[(e.values["cost"] > 0) & ~e.values[by].isin(SPECIAL)]
    if values.empty:
        return []
    # Ranked at 9 significant digits: engines add floats in another order, and two models
    # tied on one engine must not differ by the last bit on another.
    frame = values[columns].astype(float).map(_nine_digits)
    low, high = frame.min(axis=1, skipna=True), frame.max(axis=1, skipna=True)
    spread = (high - low).fillna(0.0).map(_nine_digits)
    if not (spread > 0).any():
        return []
    i = int(spread.to_numpy().argmax())
    row = values.iloc[i]
    models = [e.model, *e.models]
    by_model = dict(zip(models, frame.iloc[i].tolist(), strict=True))
    lo_model = min(by_model, key=lambda m: (by_model[m], m))
    hi_model = max(by_model, key=lambda m: (by_model[m], m))
    return [
        Finding(
            "roas_model_spread",
            f"The attribution model matters most for {by} {row[by]}: its ROAS ranges from "
            f"{by_model[lo_model]:.2f} ({lo_model.replace('_', ' ')}) to "
            f"{by_model[hi_model]:.2f} ({hi_model.replace('_', ' ')}) across "
            f"{len(models)} models. Read its ROAS as a range, not a point.",
            "warning",
            numbers={
                by: str(row[by]),
                "low": by_model[lo_model],
                "low_model": lo_model,
                "high": by_model[hi_model],
                "high_model": hi_model,
            },
        )
    ]


def _special_rows(e: Economics, currency: str) -> list[Finding]:
    by = e.by
    out: list[Finding] = []
    v = _records(e.values, by)
    lost = v.get(NO_SESSIONS)
    if lost is not None and _num(lost["cost"]) > 0:
        cost = _num(lost["cost"])
        share = cost / _num(e.total["cost"].iloc[0])
        campaigns = e.checks.without_sessions["campaign"].astype(str).tolist()
        out.append(
            Finding(
                "cost_without_sessions",
                f"{money(cost, currency)} ({share:.1%} of cost) was spent on "
                f"{count_of(len(campaigns), 'campaign')} that no session comes from "
                f"({listing(campaigns)}): it is shown as {NO_SESSIONS} so that the channels' "
                "cost adds up to the total; untracked traffic or a wrong campaign id?",
                "warning",
                {"cost": cost, "campaigns": len(campaigns)},
            )
        )
    untouched = v.get(NO_TOUCH)
    if untouched is not None and _num(untouched["conversions"]) > 0:
        n, revenue = _num(untouched["conversions"]), _num(untouched["revenue"])
        out.append(
            Finding(
                "conversions_without_touch",
                f"{n:,.0f} conversions have no touch in their journey: they are shown as "
                f"{NO_TOUCH} with {money(revenue, currency)} of revenue, credited to no "
                "channel.",
                "warning",
                {"conversions": n, "revenue": revenue},
            )
        )
    if e.cost_split == "none":
        out.append(
            Finding(
                "cost_not_split",
                f"The costs have no {by} column, so cost per {by} is unknown: cost, CPC, CPM, "
                f"CTR, CPA and ROAS per {by} are left undefined (NaN); the totals hold all "
                f"{money(_num(e.total['cost'].iloc[0]), currency)}.",
                "info",
                {"cost": _num(e.total["cost"].iloc[0])},
            )
        )
    return out


def _undefined(e: Economics) -> list[Finding]:
    """One finding per ratio left undefined by a zero denominator (never inf)."""
    by, period = e.by, e.period
    rows = e.rows
    out: list[Finding] = []
    for ratio, denominator in DENOMINATOR.items():
        numerator = NUMERATOR[ratio]
        if rows[denominator].isna().all() or rows[numerator].isna().all():
            continue  # the data has no such column: a note, not a division by zero
        zero = rows[(rows[denominator] == 0) & (rows[numerator] != 0) & rows[numerator].notna()]
        if ratio == "cpa":
            zero = zero[zero["cost"] > 0]
        if zero.empty:
            continue
        name, below, above = RATIO_WORDS[ratio]
        labels = [_label(r, by, period) for _, r in zero.iterrows()]
        noun = f"{by}-{period}" if period else by
        out.append(
            Finding(
                f"{ratio}_undefined",
                f"{name} is undefined (NaN) for {count_of(len(zero), noun)} with {above} but "
                f"no {below}: {listing(labels)}.",
                "info" if ratio == "roas" else "warning",
                {"rows": len(zero)},
            )
        )
    return out


def _cost_findings(checks: CampaignCosts, currency: str) -> list[Finding]:
    """The day and no-cost checks (campaigns without sessions: :func:`_special_rows`)."""
    if not checks.available:
        return []
    out: list[Finding] = []
    if checks.idle_rows:
        names = checks.idle["campaign"].astype(str).tolist()
        out.append(
            Finding(
                "cost_days_without_traffic",
                f"{count_of(checks.idle_rows, 'cost row')} "
                f"({money(checks.idle_cost, currency)}) of "
                f"{count_of(len(names), 'campaign')} with sessions "
                f"({listing(names)}) fall on {count_of(checks.idle_days, 'campaign-day')} "
                "with no session of the campaign: a paused campaign still billed, or traffic "
                "that is not tracked.",
                "warning",
                {
                    "rows": checks.idle_rows,
                    "days": checks.idle_days,
                    "cost": checks.idle_cost,
                    "campaigns": len(names),
                },
            )
        )
    free = checks.without_cost
    if len(free):
        names = free["campaign"].astype(str).tolist()
        sessions = int(free["sessions"].sum())
        zero = int((free["cost_rows"] > 0).sum())
        some = f" ({zero} of them only with cost rows of 0)" if zero else ""
        verb = "has" if len(free) == 1 else "have"
        out.append(
            Finding(
                "campaigns_without_cost",
                f"{count_of(len(free), 'session campaign')} ({count_of(sessions, 'session')}) "
                f"{verb} no cost{some}: {listing(names)}. Their ROAS in the campaign view "
                "is undefined; is their spend missing from the cost export?",
                "warning",
                {"campaigns": len(free), "sessions": sessions},
            )
        )
    return out


def _top(e: Economics) -> list[str]:
    """The values drawn: largest cost, then revenue, then name; special rows last."""
    v = e.values
    order = sorted(
        range(len(v)),
        key=lambda i: (
            v[e.by].iloc[i] in SPECIAL,
            -_num(v["cost"].iloc[i]),
            -_num(v["revenue"].iloc[i]),
            natural_key(v[e.by].iloc[i]),
        ),
    )
    return [str(v[e.by].iloc[i]) for i in order[:TOP]]


def _num(value: Any) -> float:
    x = float(value)
    return 0.0 if math.isnan(x) else x


def _model_table(e: Economics) -> pd.DataFrame:
    """Attributed revenue and ROAS of each value under every model, over the window (long)."""
    frames = []
    for m in (e.model, *e.models):
        suffix = "" if m == e.model else f"_{m}"
        part = e.values[[e.by, f"revenue{suffix}", "cost", f"roas{suffix}"]]
        part = part.set_axis([e.by, "revenue", "cost", "roas"], axis=1)
        frames.append(part.assign(model=m))
    table = pd.concat(frames, ignore_index=True)
    return table[[e.by, "model", "revenue", "cost", "roas"]]


def _bar_table(e: Economics) -> pd.DataFrame:
    """Cost and attributed revenue per value (the top ones), long for a grouped bar."""
    v = _records(e.values, e.by)
    rows = [
        {e.by: name, "measure": measure, "amount": _num(v[name][measure])}
        for name in _top(e)
        for measure in ("cost", "revenue")
    ]
    return pd.DataFrame(rows, columns=[e.by, "measure", "amount"])


def _bar_figure(e: Economics, currency: str) -> FigureSpec:
    label = e.by.replace("_", " ").capitalize()
    return FigureSpec(
        kind="bar",
        table="chart",
        x=e.by,
        y="amount",
        color="measure",
        title=f"Cost and attributed revenue by {e.by.replace('_', ' ')} "
        f"({e.model.replace('_', ' ')})",
        labels={e.by: label, "amount": currency, "measure": ""},
        value_format=",.0f",
    )


def _trend_table(e: Economics) -> pd.DataFrame:
    """CPC, CPA and ROAS per period of the top paid values."""
    paid = e.values[(e.values["cost"] > 0) & ~e.values[e.by].isin(SPECIAL)][e.by]
    top = [name for name in _top(e) if name in set(paid)]
    rows = e.rows[e.rows[e.by].isin(top)]
    return rows[["period", e.by, "cpc", "cpa", "roas"]].reset_index(drop=True)


def _trend_figures(e: Economics, currency: str) -> list[FigureSpec]:
    period = e.period or "period"
    label = e.by.replace("_", " ").capitalize()
    out = []
    for column, title, fmt in (
        ("cpc", f"Cost per click (CPC, {currency})", ",.2f"),
        ("cpa", f"Cost per attributed conversion (CPA, {currency})", ",.2f"),
        ("roas", "Return on ad spend (ROAS)", ",.2f"),
    ):
        out.append(
            FigureSpec(
                kind="line",
                table="trend",
                x="period",
                y=column,
                color=e.by,
                title=f"{title} per {period}",
                labels={"period": period.capitalize(), column: title, e.by: label},
                value_format=fmt,
            )
        )
    return out


def _notes(e: Economics) -> tuple[str, ...]:
    by = e.by
    notes = [
        f"Sessions and users by the {by} of the session (users: distinct per row; a user "
        f"with sessions of several {by}s counts in each). New users: users whose first "
        f"session has the {by}" + (f" and starts in the {e.period}" if e.period else "") + ".",
        f"Conversions and revenue: credit of the {e.model.replace('_', ' ')} model summed over "
        f"the touches whose session has the {by}"
        + (f", in the {e.period} of the conversion (not of the touch)" if e.period else "")
        + f"; conversions without a touch are {NO_TOUCH}.",
        "CPC = cost ÷ clicks, CPM = cost ÷ impressions × 1000, CTR = clicks ÷ impressions, "
        "CPA = cost ÷ attributed conversions (undefined for a value without any cost row: "
        "unpaid), ROAS = attributed revenue ÷ cost. A zero denominator leaves the ratio "
        "undefined (NaN), never infinite.",
    ]
    if e.cost_split == "channel":
        notes.append(
            "A cost row with a campaign counts for the channel of that campaign's sessions "
            "(their most frequent source); campaigns no session has are "
            f"{NO_SESSIONS}; rows without a campaign count for their own source."
        )
    if e.cost_split == "absent":
        notes.append("The dataset has no costs table: cost and the cost ratios are undefined.")
    elif not e.has_clicks or not e.has_impressions:
        missing = [
            c
            for c, have in (("clicks", e.has_clicks), ("impressions", e.has_impressions))
            if not have
        ]
        notes.append(
            f"The costs have no {' or '.join(missing)} column: "
            + ", ".join(
                r
                for r, d in (("CPC", "clicks"), ("CPM", "impressions"), ("CTR", "impressions"))
                if d in missing
            )
            + " undefined."
        )
    if not e.has_conversions:
        notes.append("The dataset has no orders: conversions, revenue, CPA and ROAS undefined.")
    if e.models:
        notes.append(
            "roas_<model>: the ROAS under each other model ("
            + ", ".join(m.replace("_", " ") for m in e.models)
            + ")."
        )
    for m, why in e.skipped.items():
        notes.append(f"No ROAS under {m.replace('_', ' ')}: {why}")
    return tuple(notes)


def _plan(ds: Dataset) -> Plan:
    """By channel over the window and per period; by campaign and market when sessions have them."""
    if not ds.has("sessions"):
        return Plan(runs=())
    if not (ds.has("orders") or ds.has("costs")):
        return Plan(
            runs=(),
            skipped=("Channel economics: it needs orders or costs beside the sessions.",),
        )
    dims = session_dimensions(ds)
    runs: list[dict[str, Any]] = []
    if "source" in dims:
        runs += [{"by": "channel"}, {"by": "channel", "period": ds.settings.period}]
    runs += [{"by": d} for d in ("campaign", "market") if d in dims]
    return Plan(runs=tuple(runs))


CHANNELS = register(
    Analysis(
        name="channels",
        title="Channel economics",
        group="attribution",
        needs=("sessions",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    channels,
)

__all__ = ["channels"]
