"""Report section "Marketing": spend, CAC and ROMI per source and cohort, payback.

Present whenever the dataset has costs. Without sessions (or without a source on them) no
buyer can be matched to the spend of a source: CAC and ROMI are then shown per cohort over
all sources, and the per-source analyses are listed as skipped with the reason.
"""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.metrics.marketing import attribution_gap, cac, costs, romi
from growthlens.report.model import Section
from growthlens.result import Result

BY = "source"


def build(ds: Dataset) -> Section | None:
    """The marketing section, or ``None`` without a costs table."""
    if not ds.has("costs"):
        return None
    period = ds.settings.period
    horizon = ds.settings.horizon
    results: list[Result] = [costs(ds, period=period, by=BY)]
    skipped: list[str] = []
    if not ds.has("orders"):
        skipped.append("CAC, ROMI and payback need orders; this dataset has costs but no orders.")
    elif (why := attribution_gap(ds, by=BY)) is None:
        results.append(cac(ds, period=period, by=BY))
        results.append(romi(ds, period=period, by=BY, horizon=horizon))
    else:
        results.append(cac(ds, period=period, by=None))
        results.append(romi(ds, period=period, by=None, horizon=horizon))
        skipped.append(
            f"CAC, ROMI and payback per {BY}: not shown, because {why}. CAC and ROMI are shown "
            f"per cohort over all {BY}s instead."
        )
    return Section(
        id="marketing",
        title="Marketing: spend, CAC and ROMI",
        results=tuple(results),
        intro=(
            "Where the marketing money went, what a buyer cost to acquire, and how much of that "
            "cost each cohort's gross profit has returned so far (ROMI 0 = paid back)."
        ),
        skipped=tuple(skipped),
    )
