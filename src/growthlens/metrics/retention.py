"""Retention by cohort of first session (docs/metrics.md, "Retention")."""

from __future__ import annotations

import math

import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.derive.periods import Period, check_period
from growthlens.errors import ConfigError
from growthlens.metrics.cohorts import horizon_mean, observed_grid
from growthlens.metrics.profiles import cohort_cells
from growthlens.result import FigureSpec, Finding, Result, SummarySpec, SummaryValue, summarize
from growthlens.text import count_of

AGES = (1, 2, 3)
SUMMARY: SummarySpec = {
    "users": ("count", "Users (cohort members)"),
    "cohorts": ("count", "Cohorts"),
    "retention_{k}": ("share", "Mean retention at age {k} (complete cohorts)"),
    "cells_{k}": ("count", "Complete cohorts averaged at age {k}"),
}


def retention(ds: Dataset, *, period: Period | None = None, by: str | None = None) -> Result:
    """Retention: users of cohort c active in period c + k ÷ size of c.

    Cohort = period of a user's first session; ``by`` splits cohorts by the first
    session's dimension (null → ``(unknown)``). Cells past the window do not exist;
    observed cells without activity are 0.

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> s = pd.DataFrame({"user_id": [1, 2, 1], "start_ts": pd.to_datetime(
        ...     ["2020-01-03", "2020-01-20", "2020-02-05"])})
        >>> r = gl.retention(gl.load(sessions=s, window=("2020-01-01", "2020-02-29")))
        >>> r.table[["age", "users", "retention"]].to_dict("records")
        [{'age': 0, 'users': 2, 'retention': 1.0}, {'age': 1, 'users': 2, 'retention': 0.5}]
    """
    ds.require("sessions")
    period = check_period(period or ds.settings.period)
    window = ds.window
    if window is None:
        raise ConfigError("retention needs a data window; set window = [start, end]")
    keys = [by] if by else []
    if by is not None and by not in session_dimensions(ds):
        raise ConfigError(
            f"cannot break down by {by!r}: not a session dimension "
            f"(dimensions: {', '.join(session_dimensions(ds)) or 'none'})"
        )
    # Cohorts and activity both come from the activity profiles (first active period =
    # period of the first session, since every accepted session lies in the window).
    cells, _ = cohort_cells(ds, period, by=by)
    cells = cells.rename(columns={"users": "active_users"})
    sizes = cells[cells["age"] == 0].drop(columns="age").rename(columns={"active_users": "users"})
    sizes = sizes[["cohort", *keys, "users"]].reset_index(drop=True)
    grid = observed_grid(sizes, window=window, period=period, keys=keys)
    table = grid.merge(cells, on=["cohort", *keys, "age"], how="left", validate="one_to_one")
    table["active_users"] = table["active_users"].fillna(0).astype("int64")
    table["retention"] = table["active_users"] / table["users"]
    table = table[["cohort", *keys, "age", "users", "active_users", "retention", "complete"]]

    summary: dict[str, SummaryValue] = {
        "users": int(sizes["users"].sum()),
        "cohorts": int(sizes["cohort"].nunique()),
    }
    for k in AGES:
        mean = horizon_mean(table, "retention", horizon=k + 1)
        summary[f"retention_{k}"] = float(mean["retention"].iloc[0])
        summary[f"cells_{k}"] = int(mean["cells"].iloc[0])
    curve = (
        table[table["complete"]]
        .groupby([*keys, "age"])["retention"]
        .agg(["mean", "size"])
        .reset_index()
    )
    curve = curve.rename(columns={"mean": "retention", "size": "cells"})
    findings = _findings(summary, curve, by, period)
    unit = period
    figures = [
        FigureSpec(
            kind="heatmap",
            x="age",
            y="cohort",
            z="retention",
            title=f"Retention by {period}ly cohort and age"
            + (f" ({by}: see curves)" if by else ""),
            labels={
                "age": f"Age ({unit}s)",
                "cohort": "Cohort (first session)",
                "retention": "Retention",
            },
            value_format=".1%",
        ),
        FigureSpec(
            kind="line",
            x="age",
            y="retention",
            table="curve",
            color=by,
            title="Mean retention by age (complete cohorts)" + (f" by {by}" if by else ""),
            labels={
                "age": f"Age ({unit}s)",
                "retention": "Retention",
                **({by: by.capitalize()} if by else {}),
            },
            value_format=".1%",
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
        table=table,
        summary=summarize(summary, SUMMARY),
        findings=tuple(findings),
        params={"period": period, "by": by},
        tables={"curve": curve},
        figures=tuple(figures),
        notes=(
            "retention(c, k) = distinct users of cohort c with a session in period c + k ÷ "
            "cohort size; cohort = period of the user's first session.",
            "Age-k summaries average complete cells only and state how many cells they used.",
        ),
    )


def _findings(
    summary: dict[str, SummaryValue], curve: pd.DataFrame, by: str | None, period: Period
) -> list[Finding]:
    r1 = summary["retention_1"]
    out: list[Finding] = []
    if isinstance(r1, float) and not math.isnan(r1):
        cells = int(summary["cells_1"])  # type: ignore[arg-type]
        r3 = float(summary["retention_3"])  # type: ignore[arg-type]
        later = (
            f"{r3:.1%} are still active in their fourth"
            if not math.isnan(r3)
            else f"no complete cohort has a fourth {period} yet"
        )
        out.append(
            Finding(
                "returning_users",
                f"{r1:.1%} of users come back in their second {period} (mean over "
                f"{count_of(cells, 'complete cohort')}); {later}.",
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
