"""First rows per user: users' first sessions and buyers' first sessions (DESIGN §4).

Ties break by timestamp, then id, then the remaining columns as text, so the same data
gives the same first touch on every backend. Buyers' first order times and first sessions
(``buyer_visits``) are built at load, where the order checks need them, and kept for the
marketing analyses.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

BUYER_VISITS = "buyer_visits"
FIRST_ORDERS = "first_orders"


def first_rows(table: ir.Table, *, key: str, order: list[str], latest: bool = False) -> ir.Table:
    """One row per ``key``: the first by ``order``, ties broken by every other column as text.

    Deterministic on every backend (DESIGN §4: ties break by timestamp, then id, then
    the remaining columns as text). ``latest=True`` takes the last by ``order`` instead
    (ties still break ascending on the remaining columns).

    Ranking every row is costly (a sort per key over text casts of all columns), so the
    earliest (latest) ``order[0]`` of each key is found with a min (max) first; only keys
    with several rows at that value, or none with a value, are ranked.
    """
    at_best = _at_extreme(table, key=key, column=order[0], latest=latest)
    return _first_at_best(at_best, key=key, order=order, latest=latest)


def _first_at_best(at_best: ir.Table, *, key: str, order: list[str], latest: bool) -> ir.Table:
    """One row per key of rows already at their key's extreme ``order[0]``."""
    counted = at_best.mutate(_rows=at_best[key].count().over(group_by=at_best[key]))
    single = counted.filter(counted._rows == 1).select(*at_best.columns)
    tied = counted.filter(counted._rows > 1).select(*at_best.columns)
    return single.union(_ranked_first(tied, key=key, order=order, latest=latest))


def _at_extreme(table: ir.Table, *, key: str, column: str, latest: bool) -> ir.Table:
    """Rows at their key's earliest (``latest``: last) ``column``.

    A key whose ``column`` is always null keeps all its rows.
    """
    best = table[column].max() if latest else table[column].min()
    # A window in the expression, not a group-by joined back: written as a join, ``table``
    # is read twice, so DuckDB stores it whole first (0.4-0.6 s of the load's 1.5 s buyer
    # step at 50M sessions). DuckDB may still run the window as an aggregate joined back.
    marked = table.mutate(_best=best.over(group_by=table[key]))
    at_best = marked.filter((marked[column] == marked._best) | marked._best.isnull())
    return at_best.select(*table.columns)


def _at_earliest_joined(table: ir.Table, *, key: str, column: str) -> ir.Table:
    """Rows at their key's earliest ``column``, as :func:`_at_extreme`, by a join.

    Each key's minimum from a narrow group-by, joined back. ``table`` is read twice, so
    this suits a stored table (an expression read twice is stored first; see
    :func:`_at_extreme`). That function's window sorts every row with all its columns; at 50M
    sessions with 6.5 a user (shape ``loyal``) that sort spilled and took 21 s, the join
    8 s. Where users have about one session it costs a little more (50M: 10.2 → 11.3 s on
    the demo, 18.5 → 20.3 s on ``oneshot``; at 10M ±0.2 s). Null keys and null minima
    keep the window's meaning: a null key is a key, a key without a value keeps its rows.
    """
    best = table.group_by(key).aggregate(_best=table[column].min())
    joined = table.inner_join(best, table[key].identical_to(best[key]))
    at_best = joined.filter((joined[column] == joined._best) | joined._best.isnull())
    return at_best.select(*table.columns)


def _ranked_first(table: ir.Table, *, key: str, order: list[str], latest: bool) -> ir.Table:
    rest = [c for c in table.columns if c not in (key, *order)]
    ordered = [ibis.desc(table[c]) if latest else table[c] for c in order]
    ordering = ordered + [table[c].cast("string") for c in rest]
    ranked = table.mutate(_rn=ibis.row_number().over(group_by=table[key], order_by=ordering))
    return ranked.filter(ranked._rn == 0).drop("_rn")


def first_sessions(sessions: ir.Table, *, may_tie: ir.Table | None = None) -> ir.Table:
    """Each user's first session (first touch): earliest ``start_ts``, then ``session_id``.

    ``may_tie``: the ``user_id`` of every user who may start two sessions at one instant
    (the activity profiles' users with more sessions than active days; growthlens.data.
    profile). Any other user has one session at their earliest instant, so only the
    listed users' rows there are counted per user and ranked: the same rows, without a
    second pass over every user (1.9 → 1.3 s at 10M sessions).
    """
    order = ["start_ts"] + (["session_id"] if "session_id" in sessions.columns else [])
    if may_tie is None:
        return first_rows(sessions, key="user_id", order=order)
    at_best = _at_earliest_joined(sessions, key="user_id", column="start_ts")
    ids = may_tie.select(_tie_id="user_id")
    marked = at_best.left_join(ids, at_best.user_id == ids._tie_id)
    alone = marked.filter(marked._tie_id.isnull()).select(*sessions.columns)
    tied = marked.filter(marked._tie_id.notnull()).select(*sessions.columns)
    return alone.union(_first_at_best(tied, key="user_id", order=order, latest=False))


def unique_first_sessions(sessions: ir.Table, *, ordered_aggregates: bool) -> ir.Table:
    """Each user's first session, for users who never start two sessions at one instant.

    Without ties the earliest ``start_ts`` alone picks the row, so no tie-break on the
    other columns is needed (the same row as :func:`first_sessions`). The load knows these
    users: those with at most one session a day (growthlens.data.profile).

    ``ordered_aggregates`` (the engine's capability): the row is one aggregate per user,
    the first of the row's columns packed together by start time. Otherwise rows are
    ranked with a window.
    """
    if ordered_aggregates:
        # A window sorts every row with all its columns: at 50M sessions with 6.5 a
        # buyer (shape ``loyal``) the sort spilled beside the load's other tables and took
        # 6.3-7.5 s; the aggregate keeps one row per user, 2.9 s. Where rows are few per
        # user it costs a little more (50M demo sessions: 1.7 → 2.1 s).
        rest = [c for c in sessions.columns if c != "user_id"]
        packed = ibis.struct({c: sessions[c] for c in rest})
        per_user = sessions.group_by("user_id").aggregate(
            _first=packed.first(order_by=sessions.start_ts)
        )
        return per_user.select(
            *[per_user.user_id if c == "user_id" else per_user._first[c].name(c)
              for c in sessions.columns]
        )  # fmt: skip
    # A row number ordered by start time alone: DuckDB runs the windowed minimum of
    # :func:`_at_extreme` as an aggregate joined back, 0.2 s slower on 7.5M sessions.
    ranked = sessions.mutate(
        _rn=ibis.row_number().over(group_by=sessions.user_id, order_by=sessions.start_ts)
    )
    return ranked.filter(ranked._rn == 0).drop("_rn")


def first_orders(orders: ir.Table, *, count: bool = False) -> ir.Table:
    """Each buyer's first order time: ``user_id``, ``first_order_ts`` [and ``orders``].

    Only the time is used (cohort, lag), and it is the same whichever order wins a tie,
    so a min suffices: no ranking of orders. ``count`` adds each buyer's number of
    orders (the load's duplicate check reads only buyers with two or more).
    """
    counts = {"orders": orders.count()} if count else {}
    return orders.group_by("user_id").aggregate(first_order_ts=orders.ts.min(), **counts)


def buyer_first_sessions(tables: Mapping[str, ir.Table]) -> ir.Table:
    """Each buyer's first session (all its columns).

    Only buyers' sessions are ranked: a few buyers among many visitors, so this is far
    cheaper than ranking everyone's sessions.
    """
    sessions, orders = tables["sessions"], tables["orders"]
    return first_sessions(sessions.semi_join(orders, "user_id"))


def buyer_visits(first_orders: ir.Table, first_sessions: ir.Table) -> ir.Table:
    """Each buyer's first order time with their first session: one row per buyer.

    Columns: ``user_id``, ``first_order_ts`` and the other columns of ``first_sessions``
    (all null, ``start_ts`` included, for a buyer without a session).
    """
    rest = [c for c in first_sessions.columns if c != "user_id"]
    joined = first_orders.left_join(first_sessions, "user_id")
    return joined.select("user_id", "first_order_ts", *rest)


def with_sessionless_buyers(visits: ir.Table, first_orders: ir.Table) -> ir.Table:
    """Buyers' first sessions plus a row, its session columns null, per buyer without one.

    ``visits``: buyers' first sessions, each with ``first_order_ts``, in the columns of
    :func:`buyer_visits`; ``first_orders``: every buyer. The load builds the first
    sessions with the order time attached, so when every buyer has a session (the counts
    agree) it skips this step.
    """
    missing = first_orders.anti_join(visits, "user_id")
    nulls = {c: ibis.null(visits[c].type()) for c in visits.columns if c not in missing.columns}
    return visits.union(missing.mutate(**nulls).select(*visits.columns))
