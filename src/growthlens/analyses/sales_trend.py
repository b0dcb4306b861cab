"""Sales trend: daily revenue and orders with a 7-day average, first-order vs repeat revenue.

Definitions: docs/metrics.md, "Sales" → "Sales trend"; the engine part is
growthlens.metrics.sales_trend. Options, the stages and the report plan are registered
once at the bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from growthlens.analyses.registry import Analysis, params_dict, register
from growthlens.data.dataset import Dataset
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.sales_trend import DAYS, daily_sales, first_repeat
from growthlens.result import (
    FigureSpec,
    Finding,
    Result,
    Status,
    SummarySpec,
    SummaryValue,
    summarize,
)
from growthlens.text import count_of, money, period_label, share_text

SUMMARY: SummarySpec = {
    "revenue": ("money", "Revenue"),
    "orders": ("count", "Orders"),
    "repeat_share": ("share", "Repeat orders' share of revenue"),
    "repeat_revenue": ("money", "Revenue from repeat orders"),
    "first_revenue": ("money", "Revenue from first orders"),
    "best_week_revenue": ("money", "Best 7 days: revenue per day"),
    "worst_week_revenue": ("money", "Weakest 7 days: revenue per day"),
    "currency": ("text", "Currency"),
}
AVERAGE = "7-day average"
FIRST, REPEAT = "First order", "Repeat order"


@dataclass(frozen=True)
class Params:
    """Resolved options: the period of the first-order vs repeat table."""

    period: Period


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the daily table, the per-period split and the currency."""

    daily: pd.DataFrame
    periods: pd.DataFrame
    currency: str


def sales_trend(ds: Dataset, *, period: Period | None = None) -> Result:
    """Daily revenue and orders with a trailing 7-day average; first-order vs repeat revenue.

    Definitions (docs/metrics.md, "Sales trend"): every calendar day of the window is a
    row (0 orders and 0 revenue on a day without orders); the 7-day average of day d is
    the mean over days d − 6 .. d, NaN on the window's first 6 days. A buyer's first order
    is their earliest order in the data (ties by timestamp, order id, then the other
    columns): orders before the window are excluded at load, so a buyer whose real first
    order predates the window counts their first in-window order as first, as their LTV
    cohort does. Every other order is a repeat order; repeat share = repeat revenue ÷
    revenue.

    Args:
        ds: a Dataset with orders.
        period: period of the first-order vs repeat table (default: the ``period``
            setting).

    Returns:
        Result whose main table is daily: ``day``, ``orders``, ``revenue``, ``orders_7d``,
        ``revenue_7d``; table ``periods``: ``period``, ``orders``, ``revenue``,
        ``first_orders``, ``first_revenue``, ``repeat_orders``, ``repeat_revenue``,
        ``repeat_share``, ``complete``; tables ``daily_chart`` and ``split_chart`` (long
        forms drawn by the charts).

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> o = pd.DataFrame({"user_id": [1, 1, 2], "revenue": [10.0, 30.0, 20.0],
        ...     "ts": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-02"])})
        >>> r = sales_trend(gl.load(orders=o, window=("2020-01-01", "2020-01-03")))
        >>> r.table["revenue"].tolist(), r.summary["repeat_share"].value
        ([10.0, 50.0, 0.0], 0.5)
    """
    return SALES_TREND.run(ds, period=period)


def _params(ds: Dataset, *, period: Period | None) -> Params:
    return Params(period=check_period(period or ds.settings.period))


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("sales_trend needs a data window; set window = [start, end]")
    return Frames(
        daily=daily_sales(ds, window=window),
        periods=first_repeat(ds, period=p.period, window=window),
        currency=ds.settings.currency,
    )


def _explain(frames: Frames, p: Params) -> Result:
    daily, periods, currency = frames.daily, frames.periods, frames.currency
    orders, revenue = int(daily["orders"].sum()), float(daily["revenue"].sum())
    first_revenue = float(periods["first_revenue"].sum())
    repeat_revenue = float(periods["repeat_revenue"].sum())
    repeat_share = repeat_revenue / revenue if revenue > 0 else math.nan
    status: Status = "ok"
    reason = ""
    if not orders:
        status = "not_enough_data"
        reason = "No order in the data window, so there is no sales trend."
    best, worst = _stretches(daily)
    summary: dict[str, SummaryValue] = {
        "revenue": revenue,
        "orders": orders,
        "repeat_share": repeat_share,
        "repeat_revenue": repeat_revenue,
        "first_revenue": first_revenue,
        "best_week_revenue": math.nan if best is None else float(best["revenue_7d"]),
        "worst_week_revenue": math.nan if worst is None else float(worst["revenue_7d"]),
        "currency": currency,
    }
    findings = (
        [Finding("no_orders", reason, "warning")]
        if reason
        else _findings(periods, p, currency, repeat_share, best, worst, len(daily))
    )
    daily_chart = pd.concat(
        [
            pd.DataFrame({"day": daily["day"], "series": "Revenue", "revenue": daily["revenue"]}),
            pd.DataFrame({"day": daily["day"], "series": AVERAGE, "revenue": daily["revenue_7d"]}),
        ],
        ignore_index=True,
    )
    split_chart = pd.concat(
        [
            pd.DataFrame(
                {"period": periods["period"], "order": FIRST, "revenue": periods["first_revenue"]}
            ),
            pd.DataFrame(
                {
                    "period": periods["period"],
                    "order": REPEAT,
                    "revenue": periods["repeat_revenue"],
                }
            ),
        ],
        ignore_index=True,
    )
    return Result(
        name="sales_trend",
        title="Sales trend: daily revenue, first and repeat orders",
        table=daily,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        tables={"periods": periods, "daily_chart": daily_chart, "split_chart": split_chart},
        params=params_dict(p),
        status=status,
        status_reason=reason,
        figures=(
            FigureSpec(
                kind="line",
                x="day",
                y="revenue",
                color="series",
                table="daily_chart",
                title="Daily revenue and its 7-day average",
                subtitle="7-day average: mean of the 7 days ending that day (none for the "
                "window's first 6 days).",
                labels={"day": "Day", "revenue": f"Revenue ({currency})", "series": ""},
                value_format=",.2f",
            ),
            FigureSpec(
                kind="stacked_bar",
                x="period",
                y="revenue",
                color="order",
                table="split_chart",
                title=f"Revenue per {p.period}: first orders and repeat orders",
                labels={
                    "period": p.period.capitalize(),
                    "revenue": f"Revenue ({currency})",
                    "order": "",
                },
                value_format=",.2f",
            ),
        ),
        notes=(
            "Every day of the window is shown; a day without orders has 0 orders and 0 "
            f"revenue. The {AVERAGE} of a day is the mean of the {DAYS} days ending that day, "
            "so the window's first 6 days have none.",
            "First order = a buyer's earliest order in the window (orders before the window "
            "are not loaded, so a buyer whose real first order came earlier counts their first "
            "order in the window; LTV cohorts use the same rule). Every later order is a "
            "repeat order.",
            "Early periods have fewer repeat orders by construction: buyers acquired before "
            "the window cannot yet be told apart from new ones, and few buyers have had time "
            "to come back, so a rising repeat share at the start of the window is partly the "
            "window, not the business.",
        ),
    )


def _stretches(daily: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The days ending the best and the weakest 7-day stretch (None without one)."""
    defined = daily[daily["revenue_7d"].notna()]
    if defined.empty:
        return None, None
    # The earliest stretch wins a tie: argmax/argmin return the first.
    values = defined["revenue_7d"].to_numpy(dtype=float)
    return defined.iloc[int(values.argmax())], defined.iloc[int(values.argmin())]


def _stretch(row: pd.Series) -> str:
    end: date = pd.Timestamp(row["day"]).date()
    start = (pd.Timestamp(end) - pd.Timedelta(days=DAYS - 1)).date()
    return f"{start.isoformat()} – {end.isoformat()}"


def _findings(
    periods: pd.DataFrame,
    p: Params,
    currency: str,
    repeat_share: float,
    best: pd.Series | None,
    worst: pd.Series | None,
    days: int,
) -> list[Finding]:
    findings: list[Finding] = []
    repeat_orders = int(periods["repeat_orders"].sum())
    orders = int(periods["orders"].sum())
    findings.append(
        Finding(
            "repeat_share",
            f"Repeat orders brought {share_text(repeat_share)} of revenue over the window "
            f"({count_of(repeat_orders, 'repeat order')} of {orders:,}).",
            numbers={"repeat_share": repeat_share, "repeat_orders": repeat_orders},
        )
    )
    full = periods[periods["complete"] & periods["repeat_share"].notna()]
    if len(full) >= 2:
        first, last = full.iloc[0], full.iloc[-1]
        direction = (
            "rose"
            if last["repeat_share"] > first["repeat_share"]
            else ("fell" if last["repeat_share"] < first["repeat_share"] else "stayed")
        )
        findings.append(
            Finding(
                "repeat_share_trend",
                f"Per complete {p.period}, the repeat share {direction} from "
                f"{share_text(first['repeat_share'])} ({period_label(first['period'], p.period)}) "
                f"to {share_text(last['repeat_share'])} "
                f"({period_label(last['period'], p.period)}); "
                f"its range was {share_text(full['repeat_share'].min())} to "
                f"{share_text(full['repeat_share'].max())} (the first {p.period}s read low by "
                "construction: buyers from before the window count as new).",
                numbers={
                    "first": float(first["repeat_share"]),
                    "last": float(last["repeat_share"]),
                },
            )
        )
    if best is not None and worst is not None:
        findings.append(
            Finding(
                "best_worst_week",
                f"The best 7 days were {_stretch(best)}: {money(best['revenue_7d'], currency)} "
                f"of revenue a day on average ({best['orders_7d']:,.1f} orders a day); the "
                f"weakest {_stretch(worst)}: {money(worst['revenue_7d'], currency)} a day "
                f"({worst['orders_7d']:,.1f} orders a day).",
                numbers={
                    "best_end": pd.Timestamp(best["day"]).date().isoformat(),
                    "best_revenue_7d": float(best["revenue_7d"]),
                    "worst_end": pd.Timestamp(worst["day"]).date().isoformat(),
                    "worst_revenue_7d": float(worst["revenue_7d"]),
                },
            )
        )
    else:
        findings.append(
            Finding(
                "window_too_short",
                f"The window has {count_of(days, 'day')}, fewer than {DAYS}: there is no "
                "7-day average.",
            )
        )
    return findings


SALES_TREND = register(
    Analysis(
        name="sales_trend",
        title="Sales trend",
        group="sales",
        needs=("orders",),
        params=_params,
        compute=_compute,
        explain=_explain,
    ),
    sales_trend,
)
