"""Cross-table checks in the engine (docs/reconcile.md, "Cross-table checks").

Each check reads the tables it needs and returns one small :class:`Check` (counts, an
amount and at most :data:`EXAMPLES` examples, the first in text order), or ``None`` when a
table or column it needs is absent (the check does not apply; that is not a finding):

- :func:`journey_weights`: conversions whose touchpoint weights do not sum to 1;
- :func:`touches_after_conversion`: journeys with a session after their conversion;
- :func:`cost_without_clicks`, :func:`impressions_below_clicks`: impossible cost rows;
- :func:`zero_revenue`: zero-revenue rows of orders or conversions_reference;
- :func:`market_medians`: median revenue per market (the rule is the analysis');
- :func:`campaign_checks`: costs and sessions that do not meet by campaign (three checks
  from growthlens.metrics.campaign_costs, the computation ``gl.channels`` reads too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.metrics.campaign_costs import campaign_costs
from growthlens.metrics.fetch import fetch
from growthlens.metrics.reconcile import has_time_of_day

EXAMPLES = 5
"""Examples kept per check (the first in text order)."""
WEIGHT_TOLERANCE = 1e-6
"""A journey's weights sum to 1 when within this of it."""


@dataclass(frozen=True)
class Check:
    """One check's result.

    Attributes:
        rows: what the check counts (rows, conversions or campaigns; see each function).
        checked: how many it looked at.
        amount: a total that goes with the count (cost, revenue, weight), 0 if none.
        extra: other numbers by name.
        examples: the first offending items, as text.
    """

    rows: int
    checked: int
    amount: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    examples: tuple[str, ...] = ()


def _has(ds: Dataset, table: str, *columns: str) -> bool:
    return ds.has(table) and all(c in ds.table(table).columns for c in columns)


def _first(expr: ir.Table, column: str) -> tuple[str, ...]:
    """The first values of a text column, in text order."""
    picked = fetch(expr.select(_e=expr[column]).distinct().order_by("_e").limit(EXAMPLES))
    return tuple(str(v) for v in picked["_e"])


def _row(expr: ir.Table) -> dict[str, float]:
    values: dict[str, float] = expr.to_pyarrow().to_pylist()[0]
    return {k: (0 if v is None else v) for k, v in values.items()}


def journey_weights(ds: Dataset) -> Check | None:
    """Conversions whose touchpoint weights (null as 0) differ from 1 by more than 1e-6.

    ``rows``: such conversions; ``checked``: conversions with touchpoints; ``extra``:
    ``gained`` (Σ of the excess over 1) and ``lost`` (Σ of the shortfall), in
    conversions; examples ``id (sum)``.
    """
    if not _has(ds, "touchpoints", "weight"):
        return None
    t = ds.table("touchpoints")
    per = t.group_by(conv=t.conversion_id.cast("string")).aggregate(
        total=t.weight.cast("float64").fill_null(0.0).sum()
    )
    off = (per.total - 1).abs() > WEIGHT_TOLERANCE
    row = _row(
        per.aggregate(
            n=per.count(),
            bad=off.cast("int64").sum(),
            gained=ibis.ifelse(off & (per.total > 1), per.total - 1, 0.0).sum(),
            lost=ibis.ifelse(off & (per.total < 1), 1 - per.total, 0.0).sum(),
        )
    )
    bad = per.filter(off)
    picked = fetch(bad.order_by("conv").limit(EXAMPLES))
    examples = tuple(f"{c} ({w:.6g})" for c, w in zip(picked["conv"], picked["total"], strict=True))
    return Check(
        rows=int(row["bad"]),
        checked=int(row["n"]),
        amount=float(row["gained"]) - float(row["lost"]),
        extra={"gained": float(row["gained"]), "lost": float(row["lost"])},
        examples=examples,
    )


def touches_after_conversion(ds: Dataset) -> Check | None:
    """Journeys holding a session that starts after their conversion.

    The touch time is the session's start (sessions joined on ``session_id``), else the
    touchpoint's own ``ts``; the conversion time is the order's (``order_id`` =
    ``conversion_id``, its earliest row). Compared by calendar day when either time has
    no time of day (a conversion dated 2024-05-01 is not before a visit at 14:00 that
    day), else exactly. ``rows``: such conversions; ``checked``: conversions with a
    known conversion and touch time; ``extra``: ``touches`` after their conversion.
    """
    if not _has(ds, "touchpoints") or not _has(ds, "orders", "order_id"):
        return None
    t = ds.table("touchpoints")
    if _has(ds, "sessions", "session_id"):
        s = ds.table("sessions")
        starts = s.group_by(_sid=s.session_id.cast("string")).aggregate(_st=s.start_ts.min())
        touches = t.left_join(starts, t.session_id.cast("string") == starts._sid).select(
            conv=t.conversion_id.cast("string"),
            touch=starts._st.fill_null(t.ts) if "ts" in t.columns else starts._st,
        )
    elif "ts" in t.columns:
        touches = t.select(conv=t.conversion_id.cast("string"), touch=t.ts)
    else:
        return None
    o = ds.table("orders")
    convs = o.group_by(conv=o.order_id.cast("string")).aggregate(_ct=o.ts.min())
    # A view of the touches: joining the projection of a join would extend that join,
    # whose predicates then no longer find their relation (Ibis raises IntegrityError).
    j = (
        touches.view()
        .inner_join(convs, "conv")
        .filter(ibis._.touch.notnull() & ibis._._ct.notnull())
    )
    timed = j.aggregate(a=has_time_of_day(j.touch), b=has_time_of_day(j._ct))
    both = _row(timed)
    later = (j.touch > j._ct) if both["a"] and both["b"] else (j.touch.date() > j._ct.date())
    flagged = j.mutate(_late=later)
    per = flagged.group_by("conv").aggregate(late=flagged._late.cast("int64").sum())
    row = _row(
        per.aggregate(n=per.count(), bad=(per.late > 0).cast("int64").sum(), touches=per.late.sum())
    )
    return Check(
        rows=int(row["bad"]),
        checked=int(row["n"]),
        extra={"touches": float(row["touches"])},
        examples=_first(per.filter(per.late > 0), "conv"),
    )


def _cost_example(c: ir.Table) -> ir.StringValue:
    what = c.campaign.cast("string") if "campaign" in c.columns else c.source.cast("string")
    return c.date.cast("string") + " " + what.fill_null("(none)")


def cost_without_clicks(ds: Dataset) -> Check | None:
    """Cost rows with cost > 0 and 0 clicks: ``rows``, their ``amount`` (cost)."""
    if not _has(ds, "costs", "clicks"):
        return None
    c = ds.table("costs")
    bad = c.filter((c.cost > 0) & (c.clicks == 0))
    row = _row(c.aggregate(n=c.count()))
    found = _row(bad.aggregate(n=bad.count(), cost=bad.cost.sum()))
    return Check(
        rows=int(found["n"]),
        checked=int(row["n"]),
        amount=float(found["cost"]),
        examples=_first(bad.mutate(_x=_cost_example(bad)), "_x"),
    )


def impressions_below_clicks(ds: Dataset) -> Check | None:
    """Cost rows with fewer impressions than clicks: ``rows``, ``amount`` = the excess clicks."""
    if not _has(ds, "costs", "clicks", "impressions"):
        return None
    c = ds.table("costs")
    bad = c.filter(c.impressions < c.clicks)
    row = _row(c.aggregate(n=c.count()))
    found = _row(bad.aggregate(n=bad.count(), x=(bad.clicks - bad.impressions).sum()))
    return Check(
        rows=int(found["n"]),
        checked=int(row["n"]),
        amount=float(found["x"]),
        examples=_first(bad.mutate(_x=_cost_example(bad)), "_x"),
    )


def zero_revenue(ds: Dataset, table: str) -> Check | None:
    """Rows of ``table`` with revenue 0: ``rows``; ``extra["keys"]``: distinct order ids."""
    if not _has(ds, table):
        return None
    t = ds.table(table)
    zero = t.filter(t.revenue == 0)
    keyed = "order_id" in t.columns
    row = _row(
        zero.aggregate(
            n=zero.count(),
            keys=zero.order_id.nunique() if keyed else zero.count(),
        )
    )
    label = zero.order_id.cast("string") if keyed else zero.user_id.cast("string")
    label = label.fill_null("(no id: user " + zero.user_id.cast("string") + ")")
    return Check(
        rows=int(row["n"]),
        checked=int(_row(t.aggregate(n=t.count()))["n"]),
        extra={"keys": float(row["keys"])},
        examples=_first(zero.mutate(_x=label), "_x"),
    )


def market_medians(ds: Dataset) -> pd.DataFrame | None:
    """Per market of the orders: ``orders`` with revenue > 0 and their ``median`` revenue."""
    if not _has(ds, "orders", "market"):
        return None
    o = ds.table("orders")
    paid = o.filter(o.revenue > 0)
    per = paid.group_by(market=paid.market.cast("string").fill_null("(unknown)")).aggregate(
        orders=paid.count(), median=paid.revenue.median()
    )
    return fetch(per.order_by("market"))


def campaign_checks(ds: Dataset) -> dict[str, Check] | None:
    """Costs and sessions that do not meet by campaign: three checks by name.

    All three come from one :func:`growthlens.metrics.campaign_costs.campaign_costs`
    (its module has the definitions; ``gl.channels`` reads the same computation):

    - ``campaigns_without_sessions``: ``rows`` paid campaigns (a cost row with cost > 0)
      that no session has, of ``checked`` paid campaigns; ``amount`` their cost;
    - ``campaigns_without_cost``: ``rows`` session campaigns without a cost row of cost > 0
      (none, or cost 0 in all), of ``checked`` session campaigns; ``extra["sessions"]``
      their sessions;
    - ``cost_days_without_sessions``: ``rows`` paid cost rows of campaigns that have
      sessions, on a day with no session of theirs, of ``checked`` such paid rows;
      ``amount`` their cost; examples ``date campaign``. A campaign with no session at
      all is the first check's, not counted again here.

    None when costs or sessions lack a campaign column (the checks do not apply).
    """
    cc = campaign_costs(ds, examples=EXAMPLES)
    if not cc.available:
        return None
    lost, free = cc.without_sessions, cc.without_cost
    return {
        "campaigns_without_sessions": Check(
            rows=len(lost),
            checked=cc.paid_campaigns,
            amount=float(lost["cost"].sum()),
            examples=_names(lost),
        ),
        "campaigns_without_cost": Check(
            rows=len(free),
            checked=cc.session_campaigns,
            extra={"sessions": float(free["sessions"].sum())},
            examples=_names(free),
        ),
        "cost_days_without_sessions": Check(
            rows=cc.idle_rows,
            checked=cc.paid_rows,
            amount=cc.idle_cost,
            examples=cc.idle_examples,
        ),
    }


def _names(frame: pd.DataFrame) -> tuple[str, ...]:
    """The first campaigns of a small per-campaign table, in text order."""
    return tuple(sorted(str(c) for c in frame["campaign"])[:EXAMPLES])
