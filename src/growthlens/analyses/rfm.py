"""RFM segments of the buyers: ``gl.rfm`` (docs/customers.md, "RFM").

Per buyer with an order in the window: recency (days from the last order to ``at``),
frequency (orders) and monetary value (revenue), from
:func:`growthlens.metrics.customers.rfm_inputs` in the engine; scores 1 … 5 and named
segments from :func:`growthlens.stats.rfm.rfm_scores` (pure). With ``compare=True`` the
buyers are scored again over the previous period of equal length (ending ``L`` days
before, ``L`` the window's length) and the movement between the two periods is counted
(:func:`growthlens.stats.rfm.segment_movement`).

Findings: the biggest segments, where the revenue is, the movement headline and a
suggested action for each leading segment from :data:`ACTIONS` (a fixed rule table,
documented in docs/customers.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.derive.days import DayLike, day_window, to_date, window_label
from growthlens.errors import ConfigError
from growthlens.metrics.customers import rfm_inputs
from growthlens.result import FigureSpec, Finding, Result, Status, SummarySpec, summarize
from growthlens.stats.rfm import (
    ABSENT,
    SEGMENTS,
    Method,
    RFMResult,
    rfm_scores,
    segment_movement,
)
from growthlens.text import count_of, listing, money, share_text

SUMMARY: SummarySpec = {
    "buyers": ("count", "Buyers scored"),
    "champions_share": ("share", "Champions (share of buyers)"),
    "champions_revenue_share": ("share", "Revenue from champions"),
    "at_risk_share": ("share", "At risk (share of buyers)"),
}

ACTIONS: Mapping[str, str] = {
    "champions": "reward them (early access, referral asks); they need no discount",
    "loyal": "offer higher-value products and a loyalty programme",
    "potential loyalist": "invite them to a membership or loyalty offer; recommend "
    "related products",
    "new": "welcome them and nudge a second order soon",
    "promising": "show them the range (brand content, bestsellers) without discounts",
    "need attention": "send a time-limited offer based on what they bought",
    "about to sleep": "reconnect with popular and new products before they lapse",
    "at risk": "send personal win-back messages with what they used to buy",
    "can't lose": "win them back personally (call, best offer): they spent the most",
    "hibernating": "offer relevant products at a discount, at low cost per contact",
    "lost": "try one cheap win-back campaign, then leave them out of paid contact",
}
"""Suggested action per default segment (docs/customers.md: the rule table)."""

SLIPPED = ("at risk", "can't lose", "hibernating", "lost")
"""Segments a previous champion has "slipped" to (the movement headline)."""
REVENUE_AT_RISK = 0.1
"""At-risk and can't-lose buyers are flagged when they brought at least this share of revenue."""
LEADING = 3
"""Suggested actions are given for the largest segments by buyers (this many) and the
segment with the most revenue."""


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`rfm`)."""

    method: Method
    bins: int
    cuts: Mapping[str, tuple[float, ...]] | None
    segments: Mapping[tuple[int, int], str] | None
    span: tuple[date, date]
    at: date
    compare: bool
    previous: tuple[date, date] | None
    previous_at: date | None
    too_short: str
    day_zero: date | None
    currency: str


@dataclass(frozen=True)
class Frames:
    """The engine's answer: RFM inputs of the window and of the previous period."""

    now: pd.DataFrame
    before: pd.DataFrame | None


@dataclass(frozen=True)
class Estimates:
    """Scores of both periods and the movement between them."""

    now: RFMResult
    before: RFMResult | None
    movement: pd.DataFrame
    movement_reason: str


def rfm(
    ds: Dataset,
    *,
    method: Method = "quantile",
    bins: int = 5,
    at: DayLike | None = None,
    window: Sequence[DayLike] | None = None,
    compare: bool = True,
    cuts: Mapping[str, Sequence[float]] | None = None,
    segments: Mapping[tuple[int, int], str] | None = None,
) -> Result:
    """RFM scores and named segments of the buyers (docs/customers.md, "RFM").

    Args:
        ds: a dataset with ``orders``.
        method: ``"quantile"`` (rank-based scores, ties together) or ``"fixed"``
            (``cuts``).
        bins: scores per measure (2 … 10); other than 5 needs ``segments``.
        at: the day recency is measured at (a day number or a date); default the
            window's last day; not before it.
        window: ``(first, last)`` days whose orders count; default the data window.
        compare: also score the previous period of equal length and count the buyers
            moving between segments (table ``movement``).
        cuts: ``method="fixed"`` only: ``{"recency": (...), "frequency": (...),
            "monetary": (...)}``, ``bins − 1`` ascending cut points each.
        segments: ``{(r, fm): name}`` for every cell (default: the 5 × 5 grid).

    Returns:
        A Result: one row per segment (``table``); per-buyer ``scores`` and ``unscored``
        (in ``detail``) and ``movement`` in ``tables``.
    """
    return RFM.run(
        ds,
        method=method,
        bins=bins,
        at=at,
        window=window,
        compare=compare,
        cuts=cuts,
        segments=segments,
    )


def _params(
    ds: Dataset,
    *,
    method: Any,
    bins: Any,
    at: DayLike | None,
    window: Sequence[DayLike] | None,
    compare: Any,
    cuts: Mapping[str, Sequence[float]] | None,
    segments: Mapping[tuple[int, int], str] | None,
) -> Params:
    day_zero = ds.settings.day_zero
    if method not in ("quantile", "fixed"):
        raise ConfigError(f"rfm: method must be 'quantile' or 'fixed'; found {method!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 10:
        raise ConfigError(f"rfm: bins must be a whole number from 2 to 10; found {bins!r}")
    if not isinstance(compare, bool):
        raise ConfigError(f"rfm: compare must be True or False; found {compare!r}")
    if cuts is not None and not isinstance(cuts, Mapping):
        raise ConfigError(
            f"rfm: cuts must map recency/frequency/monetary to cut points; found {cuts!r}"
        )
    try:
        fixed_cuts = (
            None if cuts is None else {str(k): tuple(float(c) for c in v) for k, v in cuts.items()}
        )
    except (TypeError, ValueError):
        raise ConfigError(f"rfm: cuts must be numbers per measure; found {cuts!r}") from None
    if method == "fixed" and fixed_cuts is not None and "recency" in fixed_cuts:
        bins = len(fixed_cuts["recency"]) + 1
    try:  # the statistics check the rest of the options on an empty frame
        rfm_scores(
            pd.DataFrame(columns=["recency", "frequency", "monetary"]),
            method=method,
            bins=bins,
            cuts=fixed_cuts,
            segments=segments,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    span = day_window(window, day_zero, option="rfm: window") if window is not None else ds.window
    if span is None:
        raise ConfigError("rfm needs a window: the data have none; pass window=(first, last)")
    at_day = span[1] if at is None else to_date(at, day_zero, option="rfm: at")
    if at_day < span[1]:
        raise ConfigError(
            "rfm: at must be on or after the window's last day "
            f"({window_label((span[1], span[1]), day_zero)}); "
            f"found {window_label((at_day, at_day), day_zero)}"
        )
    length = (span[1] - span[0]).days + 1
    previous: tuple[date, date] | None = None
    previous_at: date | None = None
    too_short = ""
    if compare:
        data = ds.window
        prev = (span[0] - timedelta(length), span[0] - timedelta(1))
        if data is None or prev[0] < data[0]:
            first = window_label((data[0], data[0]), day_zero) if data else "unknown"
            too_short = (
                f"No movement between periods: the {count_of(length, 'day')} before "
                f"{window_label((span[0], span[0]), day_zero)} would start before the data "
                f"({first}). Pass a window covering at most the later half of the data to "
                "compare two periods of equal length."
            )
        else:
            previous, previous_at = prev, at_day - timedelta(length)
    return Params(
        method=method,
        bins=bins,
        cuts=fixed_cuts,
        segments=segments,
        span=span,
        at=at_day,
        compare=compare,
        previous=previous,
        previous_at=previous_at,
        too_short=too_short,
        day_zero=day_zero,
        currency=ds.settings.currency,
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    now = rfm_inputs(ds, at=p.at, window=p.span)
    before = None
    if p.previous is not None:
        before = rfm_inputs(ds, at=p.previous_at, window=p.previous)
    return Frames(now, before)


def _score(frame: pd.DataFrame, p: Params) -> RFMResult:
    return rfm_scores(frame, method=p.method, bins=p.bins, cuts=p.cuts, segments=p.segments)


def _infer(frames: Frames, p: Params) -> Estimates:
    now = _score(frames.now, p)
    before = None if frames.before is None else _score(frames.before, p)
    reason = p.too_short
    movement = pd.DataFrame(columns=["before", "after", "customers", "share_of_before"])
    if before is not None and p.previous is not None:
        if now.status != "ok":
            reason = "No movement: the current period is not scored."
        elif before.status != "ok":
            reason = (
                f"No movement: the previous period ({window_label(p.previous, p.day_zero)}) "
                f"is not scored ({before.reason})."
            )
        else:
            order = list(now.segments["segment"])
            movement = segment_movement(before.table, now.table, order=order)
            # the heatmap keeps this order (categories sort in their own order)
            labels = [*order, *sorted(set(movement["before"]) - {*order, ABSENT}), ABSENT]
            for col in ("before", "after"):
                movement[col] = pd.Categorical(movement[col], categories=labels, ordered=True)
    elif not p.compare:
        reason = ""
    return Estimates(now, before, movement, reason)


def _segments_table(res: RFMResult) -> pd.DataFrame:
    s = res.segments
    return pd.DataFrame(
        {
            "segment": s["segment"],
            "customers": s["customers"].astype("int64"),
            "share": s["customer_share"],
            "revenue": s["revenue"],
            "revenue_share": s["revenue_share"],
            "mean_recency_days": s["recency"],
            "mean_orders": s["frequency"],
            "mean_revenue": s["monetary"],
        }
    )


def _scores_table(res: RFMResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = res.table
    out = pd.DataFrame(
        {
            "user_id": t["user_id"],
            "recency_days": t["recency"],
            "orders": t["frequency"],
            "revenue": t["monetary"],
            "r": t["r"],
            "f": t["f"],
            "m": t["m"],
            "scores": t["rfm"],
            "segment": t["segment"],
        }
    )
    scored = out["segment"].notna()
    measures = out[["recency_days", "orders", "revenue"]].apply(pd.to_numeric, errors="coerce")
    bad = (measures.isna() | (measures < 0)).any(axis=1)
    return out[scored].reset_index(drop=True), out[bad].reset_index(drop=True)


def _phrase(segment: str) -> str:
    """A segment name before a noun: ``at-risk buyers``, ``can't-lose buyers``."""
    return segment.replace(" ", "-") if segment in ("at risk", "can't lose") else segment


def _movement_findings(e: Estimates, p: Params) -> list[Finding]:
    if e.movement.empty or p.previous is None:
        return [Finding("movement", e.movement_reason)] if e.movement_reason else []
    m = e.movement.assign(
        before=e.movement["before"].astype(str), after=e.movement["after"].astype(str)
    )
    then, now = window_label(p.previous, p.day_zero), window_label(p.span, p.day_zero)
    out: list[Finding] = []
    champs = m[m["before"] == "champions"]
    total = int(champs["customers"].sum())
    if total:
        stayed = int(champs.loc[champs["after"] == "champions", "customers"].sum())
        slipped = int(champs.loc[champs["after"].isin(SLIPPED), "customers"].sum())
        gone = int(champs.loc[champs["after"] == ABSENT, "customers"].sum())
        out.append(
            Finding(
                "champions_movement",
                f"Of the {count_of(total, 'champion')} of {then}, {stayed:,} "
                f"({share_text(stayed / total)}) are champions again in {now}, {slipped:,} "
                f"({share_text(slipped / total)}) slipped to at risk, can't lose, hibernating "
                f"or lost, {gone:,} ({share_text(gone / total)}) ordered nothing in {now}, and "
                f"{total - stayed - slipped - gone:,} moved to other segments.",
                "warning" if slipped + gone > stayed else "info",
                numbers={
                    "champions_before": total,
                    "stayed": stayed,
                    "slipped": slipped,
                    "absent": gone,
                },
            )
        )
    fresh = int(m.loc[m["before"] == ABSENT, "customers"].sum())
    buyers = int(m.loc[m["after"] != ABSENT, "customers"].sum())
    risk = m[(m["after"] == "at risk") & (m["before"].isin(("champions", "loyal")))]
    at_risk_from_best = int(risk["customers"].sum())
    if buyers:
        out.append(
            Finding(
                "new_and_at_risk",
                f"{count_of(fresh, 'buyer')} of {now} ({share_text(fresh / buyers)}) ordered "
                f"nothing in {then}; {at_risk_from_best:,} at-risk buyers were champions or "
                f"loyal in {then}.",
                numbers={"new_buyers": fresh, "at_risk_from_best": at_risk_from_best},
            )
        )
    return out


def _explain(e: Estimates, p: Params) -> Result:
    res = e.now
    table = _segments_table(res)
    scores, unscored = _scores_table(res)
    period = window_label(p.span, p.day_zero)
    at_text = "" if p.at == p.span[1] else f", recency at {window_label((p.at, p.at), p.day_zero)}"
    title = f"RFM segments ({period}{at_text})"
    status: Status = "ok"
    reason = ""
    findings: list[Finding] = []
    summary: dict[str, Any] = {}
    buyers = int(table["customers"].sum())
    if res.status != "ok":
        status = "not_applicable" if res.status == "constant_measure" else "not_enough_data"
        reason = {
            "empty": f"No buyer with an order in {period}.",
            "not_enough_data": f"{count_of(len(res.table) - res.unscored, 'buyer')} in {period}: "
            f"fewer than the {p.bins} scores per measure.",
        }.get(res.status, res.reason[:1].upper() + res.reason[1:] + ".")
        findings.append(Finding("not_scored", reason, "warning"))
    else:
        rows: dict[str, dict[str, Any]] = {
            str(r["segment"]): {str(k): v for k, v in r.items()} for r in table.to_dict("records")
        }
        by_size = sorted(
            (r for r in rows.values() if r["customers"] > 0),
            key=lambda r: -int(r["customers"]),
        )
        top = by_size[:LEADING]
        findings.append(
            Finding(
                "largest_segments",
                f"Of {count_of(buyers, 'buyer')} in {period}, the largest segments are "
                + listing(
                    [
                        f"{r['segment']} ({count_of(int(r['customers']), 'buyer')}, "
                        f"{share_text(r['share'])})"
                        for r in top
                    ]
                )
                + ".",
                numbers={str(r["segment"]): int(r["customers"]) for r in top},
            )
        )
        champ = rows.get("champions")
        if champ is not None and champ["customers"] > 0:
            findings.append(
                Finding(
                    "champions_revenue",
                    f"Champions are {share_text(champ['share'])} of buyers and bring "
                    f"{share_text(champ['revenue_share'])} of revenue "
                    f"({money(champ['revenue'], p.currency)}); each ordered "
                    f"{champ['mean_orders']:.1f} times for "
                    f"{money(champ['mean_revenue'], p.currency)} on average.",
                    numbers={
                        "share": float(champ["share"]),
                        "revenue_share": float(champ["revenue_share"]),
                    },
                )
            )
        richest = max(rows.values(), key=lambda r: float(r["revenue"]))
        if richest["segment"] != "champions":
            findings.append(
                Finding(
                    "revenue_leader",
                    f"The most revenue comes from {richest['segment']}: "
                    f"{share_text(richest['revenue_share'])} of revenue from "
                    f"{share_text(richest['share'])} of buyers.",
                    numbers={"revenue_share": float(richest["revenue_share"])},
                )
            )
        for name in ("at risk", "can't lose"):
            row = rows.get(name)
            if row is not None and row["revenue_share"] >= REVENUE_AT_RISK:
                findings.append(
                    Finding(
                        "revenue_at_risk",
                        f"{_phrase(name).capitalize()} buyers brought "
                        f"{share_text(row['revenue_share'])} of revenue "
                        f"({money(row['revenue'], p.currency)}) but last ordered "
                        f"{row['mean_recency_days']:.0f} days before "
                        f"{window_label((p.at, p.at), p.day_zero)} on average.",
                        "warning",
                        numbers={"revenue_share": float(row["revenue_share"])},
                    )
                )
        findings += _movement_findings(e, p)
        leading = [str(r["segment"]) for r in top] + [str(richest["segment"])]
        for name in dict.fromkeys(leading):
            if name in ACTIONS:
                findings.append(
                    Finding(
                        "suggested_action",
                        f"{name.capitalize()}: {ACTIONS[name]}.",
                        numbers={"segment": name},
                    )
                )

        def value(name: str, col: str) -> float:
            row = rows.get(name)
            return float(row[col]) if row is not None else math.nan

        summary = {
            "buyers": buyers,
            "champions_share": value("champions", "share"),
            "champions_revenue_share": value("champions", "revenue_share"),
            "at_risk_share": value("at risk", "share"),
        }
    if res.unscored:
        findings.append(
            Finding(
                "unscored",
                f"{count_of(res.unscored, 'buyer')} with a negative or missing revenue not "
                "scored (table unscored).",
                "warning",
                numbers={"unscored": res.unscored},
            )
        )
    figures: list[FigureSpec] = []
    if status == "ok":
        shares = table.melt(
            id_vars="segment",
            value_vars=["share", "revenue_share"],
            var_name="measure",
            value_name="value_share",
        )
        shares["measure"] = shares["measure"].map({"share": "Buyers", "revenue_share": "Revenue"})
        figures.append(
            FigureSpec(
                kind="bar",
                table="shares",
                x="segment",
                y="value_share",
                color="measure",
                title=f"Share of buyers and of revenue by RFM segment ({period})",
                labels={"segment": "Segment", "value_share": "Share (%)", "measure": "Share of"},
                value_format=".0%",
            )
        )
    else:
        shares = pd.DataFrame(columns=["segment", "measure", "value_share"])
    if status == "ok" and not e.movement.empty and p.previous is not None:
        then, now = window_label(p.previous, p.day_zero), window_label(p.span, p.day_zero)
        figures.append(
            FigureSpec(
                kind="heatmap",
                table="movement",
                x="after",
                y="before",
                z="customers",
                title=f"Buyers moving between segments: {then} (rows) → {now} (columns)",
                labels={
                    "before": f"Segment in {then}",
                    "after": f"Segment in {now}",
                    "customers": "Buyers",
                },
                value_format=",.0f",
            )
        )
    method = (
        "rank-based quantile scores (ties kept together)"
        if p.method == "quantile"
        else "fixed cut points " + ", ".join(f"{k} {list(v)}" for k, v in (p.cuts or {}).items())
    )
    notes = [
        f"Recency: days from the last order to {window_label((p.at, p.at), p.day_zero)}; "
        f"frequency: orders; monetary: revenue, over {period}. Scores 1–{p.bins} by {method}; "
        "segments from recency and the mean of the frequency and monetary scores "
        "(docs/customers.md).",
        "Suggested actions follow a fixed rule table per segment (docs/customers.md).",
    ]
    if p.previous is not None and p.previous_at is not None:
        relative = (
            " Quantile scores rank buyers within each period, so a buyer can change segment "
            "because others did."
            if p.method == "quantile"
            else ""
        )
        notes.append(
            f"Movement: the same buyers scored over {window_label(p.previous, p.day_zero)} "
            f"(recency at {window_label((p.previous_at, p.previous_at), p.day_zero)}); "
            f"{ABSENT} = no order in that period.{relative}"
        )
    return Result(
        name="rfm",
        title=title,
        table=table,
        tables={
            "shares": shares,
            "movement": e.movement,
            "scores": scores,
            "unscored": unscored,
        },
        detail=("scores", "unscored"),
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        figures=tuple(figures),
        notes=tuple(notes),
        params={
            "method": p.method,
            "bins": p.bins,
            "at": p.at.isoformat(),
            "window": [x.isoformat() for x in p.span],
            "compare": p.compare,
            "previous": [x.isoformat() for x in p.previous] if p.previous else None,
            "cuts": {k: list(v) for k, v in p.cuts.items()} if p.cuts else None,
        },
        status=status,
        status_reason=reason,
    )


def _plan(ds: Dataset) -> Plan:
    """The later half of the data, so that the earlier half gives the movement."""
    span = ds.window
    if span is None:
        return Plan(runs=(), skipped=("RFM needs a data window.",))
    days = (span[1] - span[0]).days + 1
    if days < 28:
        return Plan(runs=({"compare": False},))
    half = days // 2
    first = span[1] - timedelta(half - 1)
    return Plan(runs=({"window": [first.isoformat(), span[1].isoformat()]},))


RFM = register(
    Analysis(
        name="rfm",
        title="RFM segments",
        group="customers",
        needs=("orders",),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    rfm,
)

__all__ = ["ACTIONS", "SEGMENTS", "rfm"]
