"""Retention by cohort of first session (docs/metrics.md, "Retention").

The worked example of docs/architecture.md, "How to add an analysis": options, the three
stages and the report plan, registered once at the bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from growthlens.analyses.ltv import curve_subtitle, with_weight
from growthlens.analyses.registry import Analysis, Plan, params_dict, register
from growthlens.analyses.splits import session_splits
from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import check_dimension
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import Average, check_average, cohort_curve, horizon_mean
from growthlens.metrics.retention import retention_table
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import count_of

AGES = (1, 2, 3)
SUMMARY: SummarySpec = {
    "users": ("count", "Users (cohort members)"),
    "cohorts": ("count", "Cohorts"),
    "retention_{k}": ("share", "Mean retention at age {k} (complete cohorts)"),
    "cells_{k}": ("count", "Complete cohorts averaged at age {k}"),
}


def summary_spec(by: str | None) -> SummarySpec:
    """The summary's units and labels: under a split, each averaged cell is a cohort × value.

    Split by ``by``, a mean over "12 cohorts" would miscount 12 month × source cells.
    """
    if by is None:
        return SUMMARY
    cells = f"complete cohort × {by} cells".replace("{", "{{").replace("}", "}}")
    return {
        **SUMMARY,
        "retention_{k}": ("share", f"Mean retention at age {{k}} ({cells})"),
        "cells_{k}": ("count", f"{cells[0].upper()}{cells[1:]} averaged at age {{k}}"),
    }


@dataclass(frozen=True)
class Params:
    """Resolved options: the cohort period, the dimension to split by, the average rule."""

    period: Period
    by: str | None
    average: Average


@dataclass(frozen=True)
class Frames:
    """What the engine returned: the long cohort table and the data window."""

    table: pd.DataFrame
    window: tuple[date, date]


def retention(
    ds: Dataset,
    *,
    period: Period | None = None,
    by: str | None = None,
    average: Average = "balanced",
) -> Result:
    """Retention: users of cohort c active in period c + k ÷ size of c.

    Cohort = period of a user's first session; ``by`` splits cohorts by the first
    session's dimension (null → ``(unknown)``). Cells past the window do not exist;
    observed cells without activity are 0.

    The mean curve (table ``curve``: ``age``, ``retention``, ``cohorts``) follows
    docs/metrics.md, "Average curves over cohorts": with ``average="balanced"``
    (default) every age averages one fixed set of complete cohorts (those observed at
    every plotted age, at least 3 when there are), so a later age is never the mean of
    other, older cohorts; ``average="all"`` averages each age over its own cohorts.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> s = pd.DataFrame({"user_id": [1, 2, 1], "start_ts": pd.to_datetime(
        ...     ["2020-01-03", "2020-01-20", "2020-02-05"])})
        >>> r = gl.retention(gl.load(sessions=s, window=("2020-01-01", "2020-02-29")))
        >>> r.table[["age", "users", "retention"]].to_dict("records")
        [{'age': 0, 'users': 2, 'retention': 1.0}, {'age': 1, 'users': 2, 'retention': 0.5}]
    """
    return RETENTION.run(ds, period=period, by=by, average=average)


def _params(
    ds: Dataset, *, period: Period | None, by: str | None, average: Average = "balanced"
) -> Params:
    check_dimension(ds, by)
    return Params(
        period=check_period(period or ds.settings.period), by=by, average=check_average(average)
    )


def _compute(ds: Dataset, p: Params) -> Frames:
    window = ds.window
    if window is None:
        raise ConfigError("retention needs a data window; set window = [start, end]")
    return Frames(retention_table(ds, period=p.period, by=p.by, window=window), window)


def _explain(frames: Frames, p: Params) -> Result:
    table, by, period = frames.table, p.by, p.period
    keys = [by] if by else []
    sizes = table[table["age"] == 0]
    summary: dict[str, SummaryValue] = {
        "users": int(sizes["users"].sum()),
        "cohorts": int(sizes["cohort"].nunique()),
    }
    for k in AGES:
        mean = horizon_mean(table, "retention", horizon=k + 1)
        summary[f"retention_{k}"] = float(mean["retention"].iloc[0])
        summary[f"cells_{k}"] = int(mean["cells"].iloc[0])
    ages = int(table["age"].max()) + 1 if len(table) else 1
    curve = cohort_curve(table, "retention", horizon=ages, keys=keys, average=p.average)
    charted = curve[curve["age"] >= 1].reset_index(drop=True)
    if by:
        charted = with_weight(charted, by, sizes.groupby(by, dropna=False)["users"].sum())
    figures = [
        FigureSpec(
            kind="heatmap",
            table="heatmap",
            x="age",
            y="cohort",
            z="retention",
            # Age 0 is 100% by definition: it would take the top of the colour scale.
            title=f"Retention by {period}ly cohort and age, from age 1 (age 0 is 100%)"
            + (f" ({by}: see curves)" if by else ""),
            labels={
                "age": f"Age ({period}s)",
                "cohort": "Cohort (first session)",
                "retention": "Retention",
            },
            value_format=".1%",
        ),
        FigureSpec(
            kind="line",
            x="age",
            y="retention",
            table="curve_from_1",
            color=by,
            title="Mean retention by age, from age 1" + (f" by {by}" if by else ""),
            subtitle=curve_subtitle(curve, period, p.average, by=by) + _empty_note(charted, table),
            labels={
                "age": f"Age ({period}s)",
                "retention": "Retention",
                "cohorts": "Cohorts averaged",
                "users": "users",
                **({by: by.capitalize()} if by else {}),
            },
            hover=("cohorts",),
            value_format=".1%",
            rank="users" if by else None,
        ),
    ]
    if by is not None:
        # A heatmap mixing segments is unreadable; the curves carry the breakdown.
        figures = figures[1:]
    return Result(
        # Unique per period and split: a report section holds several and keys JSON by name.
        name="retention"
        + ("" if period == "month" else f"_{period}")
        + (f"_by_{by}" if by else ""),
        title=f"Retention ({period}ly cohorts)" + (f" by first-session {by}" if by else ""),
        table=table.reset_index(drop=True),
        summary=summarize(summary, summary_spec(by)),
        findings=tuple(_findings(summary, curve, by, period)),
        tables={
            "curve": curve,
            "heatmap": table[table["age"] >= 1].reset_index(drop=True),
            "curve_from_1": charted,
        },
        detail=("heatmap", "curve_from_1"),  # the charts' rows, already in the tables above
        figures=tuple(figures),
        notes=(
            "retention(c, k) = distinct users of cohort c with a session in period c + k ÷ "
            "cohort size; cohort = period of the user's first session.",
            "Age-k summaries average complete cells only and state how many cells they used.",
        ),
        params=params_dict(p),
    )


def _empty_note(charted: pd.DataFrame, table: pd.DataFrame) -> str:
    """Why a chart from age 1 is empty while the table has later cells (a line of its own)."""
    if len(charted) or not (table["age"] >= 1).any():
        return ""
    return (
        "\nNo curve reaches age 1: the cohorts a curve averages are observed together only "
        "at age 0 (the table has every cell)."
    )


def _findings(
    summary: dict[str, SummaryValue], curve: pd.DataFrame, by: str | None, period: Period
) -> list[Finding]:
    r1 = summary["retention_1"]
    out: list[Finding] = []
    if isinstance(r1, float) and not math.isnan(r1):
        cells = int(summary["cells_1"])  # type: ignore[arg-type]
        r3 = float(summary["retention_3"])  # type: ignore[arg-type]
        # Split by a dimension, each averaged cell is one cohort of one value of it.
        unit = "complete cohort" if by is None else f"complete cohort × {by} cell"
        later = (
            f"{r3:.1%} are still active in their fourth"
            if not math.isnan(r3)
            else f"no complete cohort has a fourth {period} yet"
        )
        out.append(
            Finding(
                "returning_users",
                f"{r1:.1%} of users come back in their second {period} (mean over "
                f"{count_of(cells, unit)}); {later}.",
                numbers={"retention_1": r1, "retention_3": r3, "cohorts": cells},
            )
        )
    else:
        out.append(Finding("no_second_period", f"No complete cohort has a second {period} yet."))
    if by is not None:
        age1 = curve[curve["age"] == 1].sort_values("retention", ascending=False)
        if len(age1) > 1:
            best, worst = age1.iloc[0], age1.iloc[-1]
            out.append(
                Finding(
                    "retention_spread",
                    f"By first-session {by}, {by} {best[by]} returns most ({best['retention']:.1%} "
                    f"in the second {period}) and {by} {worst[by]} least "
                    f"({worst['retention']:.1%}).",
                    numbers={
                        "best": str(best[by]),
                        "best_retention_1": float(best["retention"]),
                        "worst": str(worst[by]),
                        "worst_retention_1": float(worst["retention"]),
                    },
                )
            )
    return out


def _plan(ds: Dataset) -> Plan:
    """Monthly and weekly cohorts, and monthly ones by first-session device and source."""
    splits, missing = session_splits(ds)
    return Plan(
        runs=(
            {"period": "month"},
            {"period": "week"},
            *({"period": "month", "by": d} for d in splits),
        ),
        skipped=missing,
    )


RETENTION = register(
    Analysis(
        name="retention",
        title="Retention",
        group="product",
        needs=("sessions",),
        params=_params,
        compute=_compute,
        explain=_explain,
        plan=_plan,
    ),
    retention,
)
