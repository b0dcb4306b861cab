"""Per-customer tables built in the engine: RFM inputs and customer features.

Both aggregate row-level orders (and order lines) in the engine; only one row per
customer leaves it, the input of :mod:`growthlens.stats.rfm`, clustering and propensity.

- :func:`rfm_inputs`: per buyer in a window, **recency** = days from the last order's day
  to ``at`` (0 when the last order is on ``at``), **frequency** = orders, **monetary** =
  revenue (sum of the orders' revenue), from ``ds.table("orders")``.
- :func:`customer_features`: per customer, purchase-history features from the order lines
  (``ds.lines``; the orders themselves when the data has no lines) in a ``history``
  window, products normalised by :func:`growthlens.derive.products.normalise_products`,
  joined to the customers table's attributes.
- :func:`acquisition_sources`: per buyer, the source of the acquiring session (the
  definition CAC and ROMI use), ``(no session)`` for a buyer without one.

Days are the orders' calendar days (``ts`` as a date). Cleaning is the load's: exact
duplicate lines and negative prices never reach these tables; zero-price lines do (they
count as lines and add nothing to spend).

A customer's money (spend, monetary value, a purchase day's revenue) is a sum of
floating-point amounts rounded to :data:`MONEY_DECIMALS` decimals in the engine
(:func:`money_total`): float addition depends on the order of the rows, which engines do not
fix (on the Afisha orders DuckDB and Spark gave 2,252 and 2,230 distinct spends for the
same buyers, 4.880000000000001 beside 4.88), and the models read those last bits: a
quantile score's ties, a boosted tree's bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.data.lines import order_keys
from growthlens.derive.acquisition import buyers, session_dimensions
from growthlens.derive.days import DayLike, day_window, to_date
from growthlens.derive.products import maps_from_counts, merged_groups, original_counts
from growthlens.metrics.fetch import fetch

RFM_COLUMNS = ("user_id", "recency", "frequency", "monetary", "first_order", "last_order")
FEATURE_COLUMNS = (
    "user_id",
    "spend",
    "lines",
    "orders",
    "favourite_group",
    "favourite_colour",
    "discount_share",
    "first_purchase",
    "last_purchase",
    "first_day",
    "last_day",
    "has_profile",
)
"""The purchase-history columns of :func:`customer_features` (profile attributes follow)."""
MONEY_DECIMALS = 6
"""Decimals a customer's money sums keep: below any currency's unit, above the rounding
noise of a float sum up to 10^8 (module doc)."""


def money_total(amounts: ir.NumericColumn) -> ir.FloatingScalar:
    """The sum of ``amounts`` rounded to :data:`MONEY_DECIMALS`: the same on every engine."""
    return amounts.sum().round(MONEY_DECIMALS)


def _window(ds: Dataset, window: Sequence[DayLike] | None, option: str) -> tuple[date, date] | None:
    if window is not None:
        return day_window(window, ds.settings.day_zero, option=option)
    return ds.window


def _in_window(table: ir.Table, span: tuple[date, date]) -> ir.Table:
    day = table.ts.date()
    return table.filter((day >= ibis.literal(span[0])) & (day <= ibis.literal(span[1])))


def rfm_inputs(
    ds: Dataset,
    *,
    at: DayLike | None = None,
    window: Sequence[DayLike] | None = None,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per buyer (definitions: module doc).

    Args:
        ds: a Dataset with an ``orders`` table.
        at: the day recency is measured at (a date or a day number); default the window's
            last day. It may not precede the window's last day (orders after ``at``
            would give negative recency).
        window: ``(first, last)`` days whose orders count (inclusive); default the data
            window.

    Returns:
        One row per customer with at least one order in the window: ``user_id``,
        ``recency`` (days, int), ``frequency`` (orders, int), ``monetary`` (revenue,
        float), ``first_order`` and ``last_order`` (dates); sorted by ``user_id``. Empty
        (those columns) when the window holds no orders.

    Raises:
        ValueError: ``at`` before the window's last day, or no window known.
    """
    orders = ds.table("orders")
    span = _window(ds, window, "rfm: window")
    if span is None:
        raise ValueError("rfm: expected a window (the dataset has no data window); found none")
    at_day = span[1] if at is None else to_date(at, ds.settings.day_zero, option="rfm: at")
    if at_day < span[1]:
        raise ValueError(
            f"rfm: expected `at` on or after the window's last day {span[1]}; found {at_day}"
        )
    inside = _in_window(orders, span)
    per = inside.group_by("user_id").aggregate(
        frequency=inside.count(),
        monetary=money_total(inside.revenue),
        first_order=inside.ts.min().date(),
        last_order=inside.ts.max().date(),
    )
    frame = fetch(per.order_by("user_id"), ds)
    last = pd.to_datetime(frame["last_order"])
    frame["recency"] = (pd.Timestamp(at_day) - last).dt.days.astype("int64")
    frame["frequency"] = frame["frequency"].astype("int64")
    frame["monetary"] = frame["monetary"].astype("float64")
    for col in ("first_order", "last_order"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame[list(RFM_COLUMNS)].reset_index(drop=True)


def _favourite(cells: ir.Table, column: str, name: str) -> ir.Table:
    """Per customer, the value of ``column`` on most lines (ties: the smallest value).

    ``cells`` counts lines in ``_lines``; rows with a null value are not counted.
    """
    valued = cells.filter(cells[column].notnull())
    counts = valued.group_by(["user_id", column]).aggregate(_n=valued._lines.sum())
    rank = ibis.row_number().over(
        group_by=counts.user_id, order_by=[ibis.desc(counts._n), counts[column]]
    )
    top = counts.mutate(_rank=rank)
    return top.filter(top._rank == 0).select("user_id", **{name: top[column]})


def _cells(ds: Dataset, span: tuple[date, date]) -> tuple[ir.Table, list[str], bool]:
    """One pass over the lines in ``span``: rows per customer, name, colour [and order].

    Returns the aggregate (lines ``_lines``, ``spend``, zero-price lines ``_zero``,
    discounted lines ``_discount``, first and last ``ts``), its order-key columns, and
    whether each source row is an order (no order lines).
    """
    is_orders = ds.lines is None
    source = ds.table("orders") if ds.lines is None else ds.lines
    lines = _in_window(source, span)
    keys: dict[str, ir.Value] = {"user_id": lines.user_id}
    if "product" in lines.columns:
        keys["product"] = lines["product"].cast("string")
    if "colour" in lines.columns:
        keys["colour"] = lines["colour"].cast("string")
    order_columns: list[str] = []
    if not is_orders:
        for key, value in order_keys(lines).items():
            if key != "user_id":
                keys[f"_order_{key}"] = value
                order_columns.append(f"_order_{key}")
    aggs: dict[str, ir.Value] = {
        "_lines": lines.count(),
        "spend": lines.revenue.sum(),
        "_zero": (lines.revenue == 0).cast("int64").sum(),
        "_first": lines.ts.min(),
        "_last": lines.ts.max(),
    }
    if "base_sale" in lines.columns:
        flag = lines.base_sale.cast("float64").fill_null(0) != 0
        aggs["_discount"] = flag.cast("int64").sum()
    return lines.group_by(**keys).aggregate(**aggs), order_columns, is_orders


def customer_features(
    ds: Dataset,
    *,
    history: Sequence[DayLike] | None = None,
    groups: Mapping[str, str] | None = None,
    buyers_only: bool = False,
) -> pd.DataFrame:
    """Per-customer purchase-history features and profile attributes.

    Args:
        ds: a Dataset with ``orders`` (and ideally order lines and ``customers``).
        history: ``(first, last)`` days (inclusive) the features are computed from;
            default the data window. Nothing after ``last`` is read, so features are safe
            to use for a target window that starts later.
        groups: product-group mapping entries added to the default (see
            :func:`growthlens.derive.products.normalise_products`).
        buyers_only: keep only customers with a purchase in ``history``; by default every
            customer of the customers table is a row too (with zero spend, lines and
            orders, and nulls for the rest).

    Returns:
        One row per customer, sorted by ``user_id``:

        - ``spend``: sum of the lines' revenue (0 without purchases);
        - ``lines``: purchase rows (items); ``orders``: distinct orders among them (an
          order as ``ds.table("orders")`` defines it: its order id, else its customer and
          day; growthlens.data.lines); without order lines each row is an order;
        - ``favourite_group`` / ``favourite_colour``: the product group / primary colour
          on most of the customer's lines (ties: the smallest value; lines without a
          colour are not counted; null when the data has no such column or no lines);
        - ``discount_share``: lines with ``base_sale`` set (non-zero) ÷ lines (null
          without lines or without a ``base_sale`` column);
        - ``first_purchase`` / ``last_purchase``: days of the first and last line;
          ``first_day`` / ``last_day`` the same as day numbers (days since ``day_zero``
          for day-number data, else since the history window's first day);
        - ``has_profile``: the customer is in the customers table;
        - then every customers-table column (profile attributes, coefficients).

    One pass over the lines (grouped per customer, name, colour and order, kept in the
    engine while the features are read from it); products are normalised on the distinct
    names and colours (:func:`growthlens.derive.products.maps_from_counts`).

    Raises:
        ValueError: no window known, or a bad ``groups`` entry.
    """
    span = _window(ds, history, "customer_features: history")
    if span is None:
        raise ValueError("customer_features: expected a history window; found none")
    merged_groups(groups)  # bad options fail before any engine work
    table, order_columns, is_orders = _cells(ds, span)
    with table.cache() as cells:
        per = cells.group_by("user_id").aggregate(
            spend=money_total(cells.spend),
            lines=cells._lines.sum(),
            first_purchase=cells._first.min().date(),
            last_purchase=cells._last.max().date(),
            **({"_discount": cells._discount.sum()} if "_discount" in cells.columns else {}),
        )
        if is_orders:
            per = per.mutate(orders=per.lines)
        else:
            distinct = cells.select("user_id", *order_columns).distinct()
            per_orders = distinct.group_by("user_id").aggregate(orders=distinct.count())
            per = per.left_join(per_orders, "user_id").drop("user_id_right")
        if "product" in cells.columns:
            counts = original_counts(cells, lines="_lines", zero="_zero")
            maps = maps_from_counts(counts, groups=groups, has_colour="colour" in cells.columns)
            mapped = maps.apply(cells)
            fav = _favourite(mapped, "product_group", "favourite_group")
            per = per.left_join(fav, "user_id").drop("user_id_right")
            if "colour" in cells.columns:
                col = _favourite(mapped, "primary_colour", "favourite_colour")
                per = per.left_join(col, "user_id").drop("user_id_right")
        frame = _with_profiles(ds, per, buyers_only)

    n = len(frame)
    frame["spend"] = frame["spend"].astype("float64").fillna(0.0)
    frame["lines"] = frame["lines"].fillna(0).astype("int64")
    frame["orders"] = frame["orders"].fillna(0).astype("int64")
    if "_discount" in frame:
        lines = frame["lines"].where(frame["lines"] > 0).astype("float64")
        frame["discount_share"] = frame.pop("_discount").astype("float64") / lines
    else:
        frame["discount_share"] = np.full(n, np.nan)
    for name in ("favourite_group", "favourite_colour"):
        if name not in frame:
            frame[name] = pd.Series([None] * n, dtype="object")
    origin = ds.settings.day_zero or span[0]
    for col, day in (("first_purchase", "first_day"), ("last_purchase", "last_day")):
        stamps = pd.to_datetime(frame[col])
        frame[col] = stamps.dt.date.where(stamps.notna(), None)
        frame[day] = (stamps - pd.Timestamp(origin)).dt.days.astype("Int64")
    frame["has_profile"] = frame["has_profile"].astype(bool)
    attributes = [c for c in frame.columns if c not in FEATURE_COLUMNS]
    return frame[[*FEATURE_COLUMNS, *attributes]]


def _with_profiles(ds: Dataset, per: ir.Table, buyers_only: bool) -> pd.DataFrame:
    """``per`` joined to the customers table's attributes (every profile, unless buyers only)."""
    if not ds.has("customers"):
        table = per.mutate(has_profile=ibis.literal(False))
        return fetch(table.order_by("user_id"), ds).reset_index(drop=True)
    customers = ds.table("customers")
    attributes = [c for c in customers.columns if c != "user_id"]
    marked = customers.mutate(has_profile=ibis.literal(True))
    if buyers_only:
        joined = per.left_join(marked, per.user_id == marked.user_id)
        ids = joined.user_id
    else:
        joined = marked.outer_join(per, marked.user_id == per.user_id)
        ids = ibis.coalesce(joined.user_id, joined.user_id_right)
    table = joined.select(
        ids.name("user_id"),
        *[joined[c] for c in per.columns if c != "user_id"],
        joined.has_profile.fill_null(False).name("has_profile"),
        *[joined[c] for c in attributes],
    )
    return fetch(table.order_by("user_id"), ds).reset_index(drop=True)


CLV_COLUMNS = ("user_id", "first_purchase", "purchases", "frequency", "recency", "T", "monetary")
"""The columns of :func:`clv_inputs` (``holdout_purchases`` follows with a hold-out)."""


def clv_inputs(
    ds: Dataset,
    *,
    holdout: int | None = None,
    window: Sequence[DayLike] | None = None,
) -> pd.DataFrame:
    """BG/NBD and Gamma-Gamma inputs per buyer (:mod:`growthlens.stats.clv`), in days.

    A purchase day is a calendar day with at least one order of the customer; its revenue
    is the sum of that day's orders. The calibration period is the window, or with
    ``holdout`` = h all but its last h days (those form the hold-out period).

    Args:
        ds: a Dataset with an ``orders`` table.
        holdout: days at the end of the window kept out of the calibration period (≥ 1,
            shorter than the window); None: no hold-out.
        window: ``(first, last)`` days (inclusive); default the data window.

    Returns:
        One row per customer with a purchase in the calibration period, sorted by
        ``user_id``: ``first_purchase`` (date), ``purchases`` (purchase days),
        ``frequency`` x = purchase days − 1, ``recency`` t_x = last − first purchase day,
        ``T`` = last calibration day − first purchase day, ``monetary`` m = mean revenue of
        the purchase days after the first (NaN when x = 0); with a hold-out also
        ``holdout_purchases`` (purchase days in the hold-out period). Empty (those
        columns) without orders.

    Raises:
        ValueError: no window known, or a hold-out not shorter than the window.

    >>> import pandas as pd, growthlens as gl
    >>> orders = pd.DataFrame({"user_id": [1, 1, 1, 2], "revenue": [10.0, 5.0, 7.0, 4.0],
    ...     "ts": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-04", "2020-01-03"])})
    >>> ds = gl.load(orders=orders, window=("2020-01-01", "2020-01-10"))
    >>> clv_inputs(ds)[["frequency", "recency", "T", "monetary"]].to_dict("records")
    [{'frequency': 1, 'recency': 3, 'T': 9, 'monetary': 7.0}, \
{'frequency': 0, 'recency': 0, 'T': 7, 'monetary': nan}]
    """
    span = _window(ds, window, "clv_inputs: window")
    if span is None:
        raise ValueError(
            "clv_inputs: expected a window (the dataset has no data window); found none"
        )
    length = (span[1] - span[0]).days + 1
    if holdout is not None and not 1 <= holdout < length:
        raise ValueError(
            f"clv_inputs: expected a hold-out of 1 to {length - 1} days (the window has "
            f"{length}); found {holdout}"
        )
    end = span[1] - timedelta(days=holdout or 0)
    orders = _in_window(ds.table("orders"), span)
    days = orders.group_by(orders.user_id, day=orders.ts.date()).aggregate(
        revenue=money_total(orders.revenue)
    )
    calibration = days.filter(days.day <= ibis.literal(end))
    first = calibration.group_by("user_id").aggregate(first_purchase=calibration.day.min())
    marked = calibration.join(first, "user_id")
    later = marked.day > marked.first_purchase
    per = marked.group_by("user_id").aggregate(
        first_purchase=marked.first_purchase.min(),
        last_purchase=marked.day.max(),
        purchases=marked.count(),
        repeat_revenue=money_total(later.ifelse(marked.revenue, 0)),
    )
    if holdout is not None:
        after = days.filter(days.day > ibis.literal(end))
        counted = after.group_by("user_id").aggregate(holdout_purchases=after.count())
        per = per.left_join(counted, "user_id").drop("user_id_right")
    frame = fetch(per.order_by("user_id"), ds).reset_index(drop=True)
    first_day = pd.to_datetime(frame["first_purchase"])
    last_day = pd.to_datetime(frame["last_purchase"])
    frame["purchases"] = frame["purchases"].astype("int64")
    frame["frequency"] = frame["purchases"] - 1
    frame["recency"] = (last_day - first_day).dt.days.astype("int64")
    frame["T"] = (pd.Timestamp(end) - first_day).dt.days.astype("int64")
    repeat = frame["frequency"].where(frame["frequency"] > 0).astype("float64")
    frame["monetary"] = frame["repeat_revenue"].astype("float64") / repeat
    frame["first_purchase"] = first_day.dt.date
    columns = list(CLV_COLUMNS)
    if holdout is not None:
        frame["holdout_purchases"] = frame["holdout_purchases"].fillna(0).astype("int64")
        columns.append("holdout_purchases")
    return frame[columns]


NO_SESSION = "(no session)"
"""The acquisition source of a buyer without any session."""


def acquisition_sources(ds: Dataset, *, column: str = "source") -> pd.DataFrame:
    """Each buyer's acquisition source, as the unit economics define it (DESIGN §4, Marketing).

    The source is the ``column`` of the buyer's acquiring session: their first session
    under the dataset's ``acquisition`` setting ``first_touch`` (default), or the last
    session starting at or before their first order under ``last_touch``. It is the
    per-buyer table CAC and ROMI are built from
    (:func:`growthlens.derive.acquisition.buyers`), so "buyers of source X" means the same
    buyers here and there.

    Args:
        ds: a Dataset with ``orders`` and ``sessions``.
        column: the session dimension to read (``source`` by default).

    Returns:
        One row per buyer (a user with an order), sorted by ``user_id``: ``user_id`` and
        ``column`` as text. A buyer without any session gets ``(no session)``; a session
        whose value is null gives ``(unknown)`` (DESIGN §4). Every buyer has one row, so
        sums over sources add up to the total.

    Raises:
        ValueError: no sessions table, or ``column`` is not one of its dimensions.
    """
    dims = session_dimensions(ds)
    if column not in dims:
        found = (
            "the dataset has no sessions"
            if not ds.has("sessions")
            else f"session dimensions: {', '.join(dims) or 'none'}"
        )
        raise ValueError(
            f"acquisition_sources: expected a sessions table with a {column!r} column; "
            f"found {found}"
        )
    table = buyers(ds)
    # The buyers table writes (unknown) both for a null value and for no session at all;
    # a buyer with no first visit is told apart here.
    value = table.first_visit_ts.isnull().ifelse(ibis.literal(NO_SESSION), table[column])
    frame = fetch(table.select("user_id", value.name(column)).order_by("user_id"), ds)
    frame[column] = frame[column].astype("object")
    return frame.reset_index(drop=True)


__all__ = [
    "CLV_COLUMNS",
    "FEATURE_COLUMNS",
    "NO_SESSION",
    "RFM_COLUMNS",
    "acquisition_sources",
    "clv_inputs",
    "customer_features",
    "rfm_inputs",
]
