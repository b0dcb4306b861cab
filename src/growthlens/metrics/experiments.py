"""What an experiment's participants did, and a campaign's per-unit daily panel, in the engine.

Two shapes leave the engine here, both small next to the rows they summarise:

- :func:`participant_outcomes`: **one row per participant** of an experiment (the per-user
  frame the tests need: Mann–Whitney, bootstrap and CUPED work on unit values), with the
  participant's orders, items and revenue inside the test window (0 when none) and, when
  asked, the same over a pre-period or a customer attribute as covariate; plus per-variant
  daily totals for the chart.
- :func:`unit_panel`: a campaign's **unit × day panel** (e.g. city × day) of a metric,
  every unit and day present (0 where nothing happened), with each unit's customer count.

Windows are inclusive calendar days ``(first, last)``; an order belongs to a day by its
timestamp. Orders are one row per order: with ``order_lines`` the Dataset's ``orders``
carries ``items`` (lines per order); without it ``items`` is not defined here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.metrics.fetch import fetch

OUTCOMES = ("orders", "items", "revenue")
"""What is summed per participant (``items`` only when the orders carry it)."""

PANEL_METRICS = ("orders", "items", "revenue", "buyers")
"""What a campaign panel can count per unit and day."""

Window = tuple[date, date]


def _bounds(window: Window) -> tuple[datetime, datetime]:
    """The half-open timestamp range ``[first 00:00, last + 1 day 00:00)`` of a day window."""
    return datetime.combine(window[0], time()), datetime.combine(window[1] + timedelta(1), time())


def _in(o: ir.Table, window: Window) -> ir.Table:
    start, end = _bounds(window)
    return o.filter((o.ts >= start) & (o.ts < end))


def _sums(
    o: ir.Table, window: Window, prefix: str, items: bool, extra: Sequence[str] = ()
) -> ir.Table:
    w = _in(o, window)
    measures: dict[str, ir.Value] = {
        f"{prefix}orders": w.count(),
        f"{prefix}revenue": w.revenue.sum().cast("float64"),
    }
    if items:
        measures[f"{prefix}items"] = w["items"].sum().cast("int64")
    for name in extra:
        measures[f"{prefix}{name}"] = w[name].sum().cast("float64")
    return w.group_by("user_id").aggregate(**measures)


def _participants(ds: Dataset, experiment: str | None) -> ir.Table:
    a = ds.table("assignments")
    if experiment is not None and "experiment" in a.columns:
        a = a.filter(a.experiment == experiment)
    return a.select("user_id", variant=a.variant.cast("string"))


def experiments_of(ds: Dataset) -> list[str]:
    """The distinct experiment names of the assignments (empty without that column)."""
    a = ds.table("assignments")
    if "experiment" not in a.columns:
        return []
    names = fetch(a.select("experiment").distinct())["experiment"].dropna()
    return sorted(str(n) for n in names)


def variants_of(ds: Dataset, experiment: str | None) -> list[str]:
    """The distinct variants of one experiment (every row when ``experiment`` is None)."""
    people = _participants(ds, experiment)
    return sorted(str(v) for v in fetch(people.select("variant").distinct())["variant"].dropna())


@dataclass(frozen=True)
class Outcomes:
    """One experiment's participants and what they did.

    Attributes:
        users: one row per participant: ``variant``, ``orders``, ``revenue`` (and ``items``
            with order lines) in the window; ``pre_orders``, ``pre_revenue`` (``pre_items``)
            over the pre-period when one was given; ``covariate`` when a customers column
            was named.
        daily: per variant and day of the data window: ``variant``, ``day``, ``buyers``,
            ``orders``, ``revenue`` (``items``).
    """

    users: pd.DataFrame
    daily: pd.DataFrame


def participant_outcomes(
    ds: Dataset,
    *,
    experiment: str | None,
    window: Window,
    pre_window: Window | None = None,
    covariate: str | None = None,
    extra: Sequence[str] = (),
    span: Window | None = None,
) -> Outcomes:
    """Per-participant outcomes over ``window`` (and ``pre_window``), and daily totals.

    Args:
        ds: the dataset (needs assignments and orders).
        experiment: the assignments' experiment to take (``None``: every row).
        window: the test window, inclusive days.
        pre_window: the pre-period, inclusive days (CUPED's covariate), or ``None``.
        covariate: a numeric ``customers`` column to bring per participant (null when the
            participant has no customer row).
        extra: numeric orders columns to sum per participant too (with ``pre_`` over the
            pre-period).
        span: the days of the daily table (default: the data window, else ``window``).
    """
    orders = ds.table("orders")
    items = "items" in orders.columns
    people = _participants(ds, experiment)
    users = people.left_join(_sums(orders, window, "", items, extra), "user_id")
    fill: dict[str, int | float] = {"orders": 0, "revenue": 0.0} | {n: 0.0 for n in extra}
    keep = ["variant", "orders", "revenue", *extra]
    if items:
        fill["items"] = 0
        keep.append("items")
    if pre_window is not None:
        users = users.left_join(_sums(orders, pre_window, "pre_", items, extra), "user_id")
        fill |= {"pre_orders": 0, "pre_revenue": 0.0} | {f"pre_{n}": 0.0 for n in extra}
        keep += ["pre_orders", "pre_revenue", *(f"pre_{n}" for n in extra)]
        if items:
            fill["pre_items"] = 0
            keep.append("pre_items")
    if covariate is not None:
        c = ds.table("customers")
        users = users.left_join(
            c.select("user_id", covariate=c[covariate].cast("float64")), "user_id"
        )
        keep.append("covariate")
    users = users.select(*keep).fill_null(fill)
    days = span or ds.window or window
    joined = _in(orders, days).inner_join(people, "user_id")
    daily_measures: dict[str, ir.Value] = {
        "buyers": joined.user_id.nunique(),
        "orders": joined.count(),
        "revenue": joined.revenue.sum().cast("float64"),
    }
    if items:
        daily_measures["items"] = joined["items"].sum().cast("int64")
    daily = joined.group_by("variant", day=joined.ts.date()).aggregate(**daily_measures)
    return Outcomes(fetch(users, ds), fetch(daily.order_by("variant", "day")))


@dataclass(frozen=True)
class Panel:
    """A campaign's unit × day panel.

    Attributes:
        values: ``unit``, ``day`` (date), ``value``: every unit with customers and every
            day of the span, 0 where nothing happened.
        customers: ``unit``, ``customers`` (customer rows per unit).
        unassigned: orders in the span whose buyer has no customer row or no value in the
            unit column (left out of the panel, counted).
    """

    values: pd.DataFrame
    customers: pd.DataFrame
    unassigned: int


def unit_panel(ds: Dataset, *, column: str, metric: str, span: Window) -> Panel:
    """The daily ``metric`` of every value of the customers' ``column`` over ``span``.

    ``metric``: ``orders`` (orders placed), ``items`` (lines; order lines only),
    ``revenue`` (Σ revenue) or ``buyers`` (distinct buyers that day).
    """
    if metric not in PANEL_METRICS:
        raise ValueError(f"metric must be one of {PANEL_METRICS}; got {metric!r}")
    c = ds.table("customers")
    units = c.select("user_id", unit=c[column]).filter(lambda t: t.unit.notnull())
    o = _in(ds.table("orders"), span)
    joined = o.left_join(units, "user_id")
    measures: dict[str, ir.Value] = {
        "orders": joined.count(),
        "revenue": joined.revenue.sum().cast("float64"),
        "buyers": joined.user_id.nunique(),
    }
    if metric == "items":
        measures["items"] = joined["items"].sum().cast("int64")
    counted = joined.group_by("unit", day=joined.ts.date()).aggregate(value=measures[metric])
    frame = fetch(counted)
    sizes = fetch(units.group_by("unit").aggregate(customers=units.count()))
    lost = int(fetch(joined.filter(joined.unit.isnull()).aggregate(n=ibis._.count()))["n"][0])
    frame = frame.loc[frame["unit"].notna()]
    days = pd.date_range(span[0], span[1], freq="D").date
    grid = pd.MultiIndex.from_product([sizes["unit"], days], names=["unit", "day"])
    values = (
        frame.set_index(["unit", "day"])["value"].reindex(grid, fill_value=0).astype(float)
    ).reset_index()
    return Panel(values, sizes.sort_values("unit", ignore_index=True), lost)


def unit_values(ds: Dataset, column: str) -> list[object]:
    """The distinct non-null values of a customers column (for checking ``treated``)."""
    c = ds.table("customers")
    frame = fetch(c.select(value=c[column]).filter(lambda t: t.value.notnull()).distinct())
    return list(frame["value"])


def universe(ds: Dataset) -> ir.Table | None:
    """Everyone who could have been a participant: the customers, else the visitors.

    ``None`` when the dataset knows only buyers (orders alone): non-participants who never
    bought would be invisible there, so no fair control can be drawn from it.
    """
    for name in ("customers", "sessions", "events"):
        if ds.has(name):
            t = ds.table(name)
            return t.select("user_id").distinct()
    return None


def outsider_outcomes(
    ds: Dataset,
    *,
    window: Window,
    pre_window: Window,
    extra: Sequence[str] = (),
) -> pd.DataFrame | None:
    """Per-user outcomes of everyone in :func:`universe` who is in no experiment.

    The same columns as :func:`participant_outcomes`' ``users`` (with ``pre_`` columns over
    ``pre_window``) and ``variant`` null; ``None`` when there is no universe.
    """
    people = universe(ds)
    if people is None:
        return None
    a = ds.table("assignments")
    outsiders = people.anti_join(a.select("user_id"), "user_id")
    orders = ds.table("orders")
    items = "items" in orders.columns
    users = outsiders.left_join(_sums(orders, window, "", items, extra), "user_id")
    users = users.left_join(_sums(orders, pre_window, "pre_", items, extra), "user_id")
    keep = ["orders", "revenue", *extra, "pre_orders", "pre_revenue"]
    keep += [f"pre_{n}" for n in extra]
    if items:
        keep += ["items", "pre_items"]
    fill: dict[str, int | float] = {k: 0 for k in keep}
    return fetch(users.select(*keep).fill_null(fill), ds)
