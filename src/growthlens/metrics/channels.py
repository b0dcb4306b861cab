"""Channel and campaign economics, in the engine (docs/channels.md, DESIGN §4 "Attribution").

Per value of a session dimension (``by``: the channel = ``sessions.source``, the campaign,
the market or any other session column), and per period when asked:

- **sessions** and **users** (distinct) of the sessions with that value, by the period of
  the session's start;
- **new_users**: users whose first session (DESIGN §4 tie rule) has that value and starts
  in that period, so new users add up over rows to all users;
- **conversions** and **revenue** attributed by a model: the sum of ``credit`` and
  ``revenue_credit`` (growthlens.metrics.attribution.touch_credit) of the touches whose
  session has that value, by the period of the **conversion** (not of the touch), so a
  conversion's credit stays in one period; conversions without any touch are the row
  ``(no touch)``;
- **cost**, **clicks**, **impressions** by the period of the cost row's date. In the
  channel view a cost row with a campaign belongs to the channel of that campaign's
  sessions (their most frequent source; ties → the smallest as text, known sources before
  unknown), to ``(no sessions)`` when no session has that campaign, and a row without a
  campaign to its own ``source``; so channel cost adds up to the total cost. In the
  campaign view costs are split by their campaign; in any other view by the costs' column
  of that name, and when the costs have none the rows' cost is undefined (NaN) while the
  totals keep it;
- **cpc** = cost ÷ clicks, **cpm** = cost ÷ impressions × 1000, **ctr** = clicks ÷
  impressions, **cpa** = cost ÷ attributed conversions, **roas** = attributed revenue ÷
  cost and ``roas_<model>`` for the other models: a zero denominator gives NaN (never inf).

Everything is aggregated in the engine: additive measures per (period, value) from one
union of the sessions, credit and cost parts, then rolled up per value, per period and in
total; distinct users are counted at each level from the sessions. Only those small tables
come to pandas. The cells are kept on the Dataset per period, and the whole-window table
sums the per-month cells, so a report asking for both builds the credit joins once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.tables.costs import campaign_sources
from growthlens.derive.acquisition import first_touch, session_dimensions
from growthlens.derive.activity import session_users
from growthlens.derive.journeys import NO_TOUCH
from growthlens.derive.periods import UNKNOWN, Period, dimension, period_start
from growthlens.derive.periods import dates as _dates
from growthlens.engine import capabilities
from growthlens.errors import ConfigError
from growthlens.metrics.attribution import check_model, touch_credit
from growthlens.metrics.campaign_costs import CampaignCosts, campaign_costs
from growthlens.metrics.fetch import fetch
from growthlens.text import natural_key

NO_SESSIONS = "(no sessions)"
"""Row of the cost of campaigns that no session has (channel view)."""
TOTAL = "(total)"

VIEWS = {"channel": "source", "source": "source"}
"""``by`` names that mean the channel of a session (``sessions.source``)."""

COUNTS = ("sessions", "users", "new_users")
MONEY = ("conversions", "revenue", "cost", "clicks", "impressions")
RATIOS = ("cpc", "cpm", "ctr", "cpa", "roas")

CostSplit = Literal["channel", "column", "none", "absent"]
"""How costs reach the rows: by the campaign's channel (channel view), by the costs'
column of the view's name, not at all (the costs lack that column), or no costs table."""


@dataclass(frozen=True)
class Economics:
    """Channel economics of one dataset (small frames; see the module docstring).

    Attributes:
        by: the name of the dimension column in the frames (``channel``, ``campaign`` …).
        column: the sessions column it reads (``source`` for the channel).
        period: the period of ``rows`` (None: one row per value over the window).
        model: the attribution model of ``conversions``, ``revenue``, ``cpa``, ``roas``.
        models: the other models, each with ``revenue_<m>`` and ``roas_<m>`` columns.
        skipped: models asked for that the data does not allow, with the reason.
        rows: ``[period,] <by>``, the measures and ratios, one row per value (× period)
            with any session, credit or cost.
        values: the same per value over the window (equal to ``rows`` without a period).
        periods: the same per period over all values (empty without a period).
        total: one row: the whole window.
        cost_split: how costs reach the rows (:data:`CostSplit`).
        has_conversions: attribution ran (the dataset has orders).
        has_clicks: the costs have a clicks column.
        has_impressions: the costs have an impressions column.
        checks: the campaign checks of the costs (growthlens.metrics.campaign_costs).
    """

    by: str
    column: str
    period: Period | None
    model: str
    models: tuple[str, ...]
    skipped: dict[str, str]
    rows: pd.DataFrame
    values: pd.DataFrame
    periods: pd.DataFrame
    total: pd.DataFrame
    cost_split: CostSplit
    has_conversions: bool
    has_clicks: bool
    has_impressions: bool
    checks: CampaignCosts
    revenue_source: RevenueSource = "orders"
    reference: ReferenceRevenue | None = None


RevenueSource = Literal["orders", "reference"]
REVENUE_SOURCES: tuple[RevenueSource, ...] = ("orders", "reference")


@dataclass(frozen=True)
class ReferenceRevenue:
    """How the attributed conversions met the reference copy (``revenue="reference"``).

    Attributes:
        conversions: attributed conversions (distinct ids of the model's credit).
        matched: of them, those with a reference row (their revenue is the reference's).
        unmatched: those without one (revenue 0 in the credit).
        unmatched_orders_revenue: what the orders table says those carried.
        orders_revenue: the orders revenue of all attributed conversions.
        reference_revenue: the reference revenue of the matched ones.
    """

    conversions: int
    matched: int
    unmatched: int
    unmatched_orders_revenue: float
    orders_revenue: float
    reference_revenue: float


def reference_revenue(ds: Dataset) -> ir.Table:
    """One row per reference key: ``key`` (order id as text) and its ``revenue``.

    Duplicated keys keep their first row by the tie rule of DESIGN §4 (earliest ``ts``,
    then the other columns as text), as ``gl.reconcile`` matches them.

    Raises:
        ConfigError: no ``conversions_reference`` table, or no ``order_id`` on either side.
    """
    if not ds.has("conversions_reference"):
        raise ConfigError(
            'revenue="reference" needs a conversions_reference table (the trusted copy of '
            "the conversions); this dataset has none"
        )
    ref = ds.table("conversions_reference")
    if "order_id" not in ref.columns or "order_id" not in ds.table("orders").columns:
        raise ConfigError(
            'revenue="reference" matches conversions by order_id; the orders and the '
            "conversions_reference tables both need one"
        )
    rest = [c for c in ref.columns if c not in ("order_id", "ts")]
    ranked = ref.mutate(
        key=ref.order_id.cast("string"),
        _rn=ibis.row_number().over(
            group_by=ref.order_id.cast("string"),
            order_by=[ref.ts, *(ref[c].cast("string") for c in rest)],
        ),
    )
    first = ranked.filter(ranked._rn == 0)
    return first.select("key", revenue=first.revenue.cast("float64"))


def _with_reference(credit: ir.Table, reference: ir.Table) -> ir.Table:
    """``credit`` whose ``revenue_credit`` is credit × the reference revenue (0 unmatched)."""
    ref = reference.view()
    joined = credit.left_join(ref, credit.conversion_id == ref.key)
    out = joined.mutate(revenue_credit=joined.credit * joined.revenue.fill_null(0.0))
    return out.select(*credit.columns)


def _reference_counts(credit: ir.Table, reference: ir.Table, ds: Dataset) -> ReferenceRevenue:
    """Attributed conversions met with the reference: counts and both revenues."""
    conv = credit.filter(credit.conversion_id.notnull()).select("conversion_id").distinct()
    orders = ds.table("orders")
    own = orders.group_by(key=orders.order_id.cast("string")).aggregate(
        own=orders.revenue.sum().cast("float64")
    )
    ref = reference.view()
    j = conv.left_join(own, conv.conversion_id == own.key).select("conversion_id", "own")
    j = j.left_join(ref, j.conversion_id == ref.key).select(
        "own", matched=ref.key.notnull(), revenue=ref.revenue
    )
    row = fetch(
        j.aggregate(
            n=j.count(),
            m=j.matched.cast("int64").sum(),
            lost=j.own.fill_null(0.0).sum(where=~j.matched),
            own=j.own.fill_null(0.0).sum(),
            ref=j.revenue.fill_null(0.0).sum(),
        )
    ).iloc[0]
    n, m = int(row["n"]), int(row["m"] or 0)
    return ReferenceRevenue(
        conversions=n,
        matched=m,
        unmatched=n - m,
        unmatched_orders_revenue=float(row["lost"] or 0.0),
        orders_revenue=float(row["own"] or 0.0),
        reference_revenue=float(row["ref"] or 0.0),
    )


def check_view(ds: Dataset, by: str) -> str:
    """The sessions column that ``by`` reads; a ConfigError naming the usable ones."""
    dims = session_dimensions(ds)
    column = VIEWS.get(by, by)
    if column not in dims:
        usable = ["channel"] * ("source" in dims) + [d for d in dims if d != "source"]
        raise ConfigError(
            f"by={by!r} is not a dimension of the sessions table; usable: "
            f"{', '.join(usable) or 'none (the sessions have no dimension column)'}"
            + (" (by='channel' reads sessions.source)" if column == "source" else "")
        )
    return column


def economics(
    ds: Dataset,
    *,
    by: str,
    period: Period | None,
    model: str,
    models: Sequence[str] = (),
    lookback_s: int = 30 * 86400,
    removal_effects: Mapping[str, float] | None = None,
    revenue: RevenueSource = "orders",
) -> Economics:
    """Channel economics per ``by`` value (× ``period``); see the module docstring.

    Args:
        ds: a Dataset with sessions (orders for attribution, costs for cost).
        by: ``channel`` (= ``source``), ``campaign``, ``market`` or any session column.
        period: ``day``, ``week``, ``month`` or None (the whole window).
        model: the attribution model of conversions and revenue.
        models: other models to compute ROAS for (``model`` itself is left out; a model
            the data does not allow, e.g. ``given`` without weights, is listed in
            ``skipped``).
        lookback_s: the journeys' lookback window in seconds (touch_credit).
        removal_effects: the Markov chain's removal effect per channel, which touch_credit
            needs for ``markov`` (fitted in the statistics layer, so passed in).
        revenue: ``"orders"`` (the conversions' own revenue) or ``"reference"``: each
            attributed conversion's revenue from the trusted copy
            (``conversions_reference``, matched by order id, duplicates by the tie rule),
            0 for a conversion the reference lacks (counted in ``reference``).
    """
    column = check_view(ds, by)
    check_model(model)
    has_conversions = ds.has("orders")
    wanted = tuple(check_model(m) for m in dict.fromkeys(models) if m != model)
    costs = ds.table("costs") if ds.has("costs") else None
    has_clicks = costs is not None and "clicks" in costs.columns
    has_impressions = costs is not None and "impressions" in costs.columns
    split: CostSplit
    if costs is None:
        split = "absent"
    elif column == "source":
        split = "channel"
    elif column in costs.columns:
        split = "column"
    else:
        split = "none"

    credit: dict[str, ir.Table] = {}
    skipped: dict[str, str] = {}
    if has_conversions:
        credit[model] = touch_credit(
            ds, model, lookback_s=lookback_s, removal_effects=removal_effects
        )
        for m in wanted:
            try:
                credit[m] = touch_credit(
                    ds, m, lookback_s=lookback_s, removal_effects=removal_effects
                )
            except ConfigError as exc:  # a model the data does not allow (given, markov)
                skipped[m] = str(exc)
    if revenue not in REVENUE_SOURCES:
        raise ConfigError(f"revenue must be 'orders' or 'reference'; got {revenue!r}")
    matched: ReferenceRevenue | None = None
    if revenue == "reference" and has_conversions:
        ref = reference_revenue(ds)
        credit = {m: _with_reference(t, ref) for m, t in credit.items()}
        matched = _reference_counts(credit[model], ref, ds)
    others = tuple(m for m in wanted if m in credit)
    # A measure the data has is 0 where no row contributes; one it lacks stays null (NaN).
    lacking = {
        "conversions": not has_conversions,
        "revenue": not has_conversions,
        "cost": costs is None,
        "clicks": not has_clicks,
        "impressions": not has_impressions,
    }
    measures = (*MONEY, *(f"revenue_{m}" for m in others))
    view = _View(by, column, period, measures, tuple(m for m in measures if lacking.get(m)))
    # The cells are kept per period on the Dataset (per month for the whole window, summed
    # here): the report asks for both tables, and the joins behind the credit then run once.
    base = replace(view, period=period or "month")
    key = (by, base.period, model, others, lookback_s, _effects_key(removal_effects), revenue)
    cells = ds.remember(
        ("channel_cells", *key), lambda: _stored(ds, _cells(ds, base, credit, model, costs, split))
    )
    if period is None:
        cells = cells.group_by(view.keys).aggregate(**{m: cells[m].sum() for m in view.additive})
    rows = _level(ds, cells, view, view.keys, others)
    values = rows if period is None else _level(ds, cells, view, [by], others)
    periods = rows.iloc[0:0] if period is None else _level(ds, cells, view, ["period"], others)
    total = _level(ds, cells, view, [], others)
    if split == "none":
        # Costs cannot be split by this column: undefined per row, kept in the totals.
        for frame in (rows, values):
            frame.loc[:, ["cost", "clicks", "impressions", *_cost_ratios(others)]] = float("nan")
    return Economics(
        by=by,
        column=column,
        period=period,
        model=model,
        models=others,
        skipped=skipped,
        rows=_sorted(rows, view.keys, by),
        values=_sorted(values, [by], by),
        periods=periods.sort_values("period", ignore_index=True) if period else periods,
        total=total,
        cost_split=split,
        has_conversions=has_conversions,
        has_clicks=has_clicks,
        has_impressions=has_impressions,
        checks=campaign_costs(ds),
        revenue_source=revenue,
        reference=matched,
    )


def _cells(
    ds: Dataset,
    view: _View,
    credit: Mapping[str, ir.Table],
    model: str,
    costs: ir.Table | None,
    split: CostSplit,
) -> ir.Table:
    """The additive measures per (period, value): one union of every part, summed."""
    parts = [_session_part(ds, view), _new_user_part(ds, view)]
    for m, table in credit.items():
        parts.append(_credit_part(ds, view, table, "" if m == model else f"_{m}"))
    if costs is not None:
        parts.append(_cost_part(ds, costs, view, split))
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    return view.filled(
        union.group_by(view.keys).aggregate(**{m: union[m].sum() for m in view.additive})
    )


def _stored(ds: Dataset, table: ir.Table) -> ir.Table:
    """``table`` stored for the Dataset's lifetime where caching is eager (DuckDB)."""
    return table.cache() if capabilities(ds.backend).eager_cache else table


def _effects_key(effects: Mapping[str, float] | None) -> tuple[tuple[str, float], ...] | None:
    """The removal effects as a hashable key (the Markov credit depends on them)."""
    return None if effects is None else tuple(sorted(effects.items()))


@dataclass(frozen=True)
class _View:
    """The dimension, period and additive measures every part is shaped to."""

    by: str
    column: str
    period: Period | None
    measures: tuple[str, ...]
    lacking: tuple[str, ...]
    """Measures the data has no column for: null (NaN), never 0."""

    def filled(self, table: ir.Table) -> ir.Table:
        """``table`` with 0 where no row contributed to a measure the data has."""
        return table.mutate(
            **{m: table[m].fill_null(0) for m in self.additive if m not in self.lacking}
        )

    @property
    def keys(self) -> list[str]:
        return ["period"] * (self.period is not None) + [self.by]

    @property
    def additive(self) -> tuple[str, ...]:
        return ("sessions", "new_users", "cost_rows", *self.measures)

    def shape(self, table: ir.Table) -> ir.Table:
        """``table`` (keys and some measures) with every additive measure, null if absent."""
        out: dict[str, ir.Value] = {k: table[k] for k in self.keys}
        for m in self.additive:
            kind = dt.int64 if m in ("sessions", "new_users", "cost_rows") else dt.float64
            out[m] = table[m].cast(kind) if m in table.columns else ibis.null().cast(kind)
        return table.select(**out)

    def group(self, table: ir.Table, key: ir.Value, when: ir.Value) -> dict[str, ir.Value]:
        """The group-by columns: the period of ``when`` (if any) and the dimension ``key``."""
        out: dict[str, ir.Value] = {}
        if self.period is not None:
            out["period"] = period_start(when, self.period)
        out[self.by] = key
        return out


def _session_part(ds: Dataset, view: _View) -> ir.Table:
    s = ds.table("sessions")
    grouped = s.group_by(**view.group(s, dimension(s[view.column]), s.start_ts))
    return view.shape(grouped.aggregate(sessions=s.count()))


def _new_user_part(ds: Dataset, view: _View) -> ir.Table:
    f = first_touch(ds)
    grouped = f.group_by(**view.group(f, dimension(f[view.column]), f.start_ts))
    return view.shape(grouped.aggregate(new_users=f.count()))


def _credit_part(ds: Dataset, view: _View, credit: ir.Table, suffix: str) -> ir.Table:
    t = _with_dimension(ds, credit, view.column)
    if view.column == "source":
        key = dimension(t.channel)
    else:
        # A conversion without any touch has no session, so no campaign or market either.
        untouched = (t.channel == NO_TOUCH) & t.session_id.isnull()
        key = ibis.ifelse(untouched, NO_TOUCH, dimension(t[view.column]))
    grouped = t.group_by(**view.group(t, key, t.conv_ts))
    if suffix:
        return view.shape(grouped.aggregate(**{f"revenue{suffix}": t.revenue_credit.sum()}))
    return view.shape(grouped.aggregate(conversions=t.credit.sum(), revenue=t.revenue_credit.sum()))


def _with_dimension(ds: Dataset, credit: ir.Table, column: str) -> ir.Table:
    """The credit rows with the session column ``column`` (joined from the sessions if needed).

    By session id; sessions without ids by (user, start time), as the journeys built from
    them name each touch. One value per session (the smallest as text), so a repeated id
    cannot copy credit.
    """
    if column == "source" or column in credit.columns:
        return credit
    s = ds.table("sessions")
    value = s[column].cast("string").min()
    if "session_id" in s.columns:
        per = s.group_by(_sid=s.session_id.cast("string")).aggregate(_dim=value)
        joined = credit.left_join(per, credit.session_id == per._sid)
    else:
        per = s.group_by(_uid=s.user_id, _ts=s.start_ts).aggregate(_dim=value)
        joined = credit.left_join(per, [credit.user_id == per._uid, credit.ts == per._ts])
    return joined.select(*credit.columns, **{column: joined._dim})


def _campaign_channels(sessions: ir.Table) -> ir.Table:
    """``_campaign`` → ``_channel``: the source the load gives the campaign's cost rows.

    That is ``campaign_sources`` (the most frequent, ties → the smallest as text); a
    campaign whose sessions have no source at all is ``(unknown)``.
    """
    known = sessions.filter(sessions.campaign.notnull())
    campaigns = known.select(_campaign=known.campaign.cast("string")).distinct()
    sources = campaign_sources(sessions)
    joined = campaigns.left_join(sources, campaigns._campaign == sources.fill_campaign)
    return joined.select("_campaign", _channel=dimension(joined.fill_source))


def _cost_key(ds: Dataset, costs: ir.Table, view: _View, split: CostSplit) -> ir.Table:
    """The cost rows with ``_key``: the row's value of the view (null when not split)."""
    if split == "none":
        # Null marks cost that no row can take; it counts in the per-period and total levels.
        return costs.mutate(_key=ibis.null().cast("string"))
    if split == "column":
        return costs.mutate(_key=dimension(costs[view.column]))
    sessions = ds.table("sessions")
    if "campaign" not in costs.columns or "campaign" not in sessions.columns:
        return costs.mutate(_key=dimension(costs.source))
    channels = _campaign_channels(sessions)
    joined = costs.left_join(channels, costs.campaign.cast("string") == channels._campaign)
    key = ibis.ifelse(
        joined.campaign.isnull(),
        dimension(joined.source),
        joined._channel.fill_null(NO_SESSIONS),
    )
    return joined.select(*costs.columns, _key=key)


def _cost_part(ds: Dataset, costs: ir.Table, view: _View, split: CostSplit) -> ir.Table:
    c = _cost_key(ds, costs, view, split)
    measures: dict[str, ir.Value] = {"cost": c.cost.sum(), "cost_rows": c.count()}
    for extra in ("clicks", "impressions"):
        if extra in c.columns:
            measures[extra] = c[extra].sum()
    return view.shape(c.group_by(**view.group(c, c._key, c.date)).aggregate(**measures))


def _cost_ratios(others: Sequence[str]) -> list[str]:
    return ["cpc", "cpm", "ctr", "cpa", "roas", *(f"roas_{m}" for m in others)]


def _div(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator ÷ denominator``, null (NaN) when the denominator is 0 — never inf."""
    result: ir.FloatingValue = numerator.cast("float64") / denominator.cast("float64").nullif(0)
    return result


def _level(
    ds: Dataset, cells: ir.Table, view: _View, keys: list[str], others: Sequence[str]
) -> pd.DataFrame:
    """``cells`` rolled up to ``keys``, with distinct users and the ratios, to pandas.

    ``keys`` = the view's keys: the cells as they are; fewer keys: their sums. The
    distinct users come from the derived ``session_users`` (shared by the whole-window and
    per-period tables).
    """
    sums = {m: cells[m].sum() for m in view.additive}
    if keys == view.keys:
        rolled = cells
    elif keys:
        rolled = cells.group_by(keys).aggregate(**sums)
    else:
        rolled = view.filled(cells.aggregate(**sums))  # no cell at all: sums are null
    if view.by in keys:
        # Unsplit cost (null key) belongs to no value; it counts in periods and the total.
        rolled = rolled.filter(rolled[view.by].notnull())
    named = tuple("value" if k == view.by else k for k in keys)
    users = session_users(ds, view.column, named, view.period).rename(
        _users="users", **{k: "value" for k in keys if k == view.by}
    )
    if keys:
        joined = rolled.left_join(users, [rolled[k] == users[k] for k in keys])
        t = joined.select(
            *[rolled[k] for k in keys], *view.additive, users=joined._users.fill_null(0)
        )
    else:
        joined = rolled.cross_join(users)
        t = joined.select(*view.additive, users=joined._users.fill_null(0))
    if view.by in keys:
        # A value with no cost row in the window is unpaid (organic): its CPA is undefined,
        # not 0, as the CAC of an unpaid source (DESIGN §4).
        t = t.mutate(_paid=t.cost_rows.sum().over(ibis.window(group_by=view.by)) > 0)
        cpa = ibis.ifelse(t._paid, _div(t.cost, t.conversions), ibis.null("float64"))
    else:
        cpa = _div(t.cost, t.conversions)
    t = t.mutate(
        cpc=_div(t.cost, t.clicks),
        cpm=_div(t.cost, t.impressions) * 1000,
        ctr=_div(t.clicks, t.impressions),
        cpa=cpa,
        roas=_div(t.revenue, t.cost),
        **{f"roas_{m}": _div(t[f"revenue_{m}"], t.cost) for m in others},
    )
    order = [*keys, *COUNTS, *MONEY, *RATIOS]
    order += [c for m in others for c in (f"revenue_{m}", f"roas_{m}")]
    frame = fetch(t.select(*order))
    if "period" in frame.columns:
        frame["period"] = _dates(frame["period"])
    if not keys:
        frame.insert(0, view.by, TOTAL)
    for c in order[len(keys) :]:
        frame[c] = frame[c].astype("int64" if c in COUNTS else "float64")
    return frame


SPECIAL = (NO_TOUCH, NO_SESSIONS, UNKNOWN)
"""Rows that are not a value of the dimension: listed after the values."""


def _sorted(frame: pd.DataFrame, keys: list[str], by: str) -> pd.DataFrame:
    """Per period: values by cost, then attributed conversions (largest first), then name."""
    if frame.empty:
        return frame.reset_index(drop=True)
    order = pd.DataFrame(
        {
            "period": frame["period"] if "period" in keys else 0,
            "special": frame[by].isin(SPECIAL),
            "cost": -frame["cost"].fillna(0),
            "conversions": -frame["conversions"].fillna(0),
            "name": frame[by].map(natural_key),
        },
        index=frame.index,
    ).sort_values(["period", "special", "cost", "conversions", "name"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)
