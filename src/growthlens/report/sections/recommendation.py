"""Report section "Budget recommendation": grow, hold or cut per source, and suggested moves.

Present when the dataset has costs and orders. Without a known acquisition source for any
buyer there is nothing to rank, so the section says why and shows no table.
"""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.metrics.marketing import attribution_gap
from growthlens.report.model import Section
from growthlens.stats.budget import recommend_budget

BY = "source"


def build(ds: Dataset) -> Section | None:
    """The recommendation section, or ``None`` without costs and orders."""
    if not ds.has("costs", "orders"):
        return None
    intro = (
        "Which sources to grow, hold or cut, decided on each source's ROMI at the horizon and the "
        "uncertainty around it; suggested moves of money are priced under a stated assumption."
    )
    if (why := attribution_gap(ds, by=BY)) is not None:
        return Section(
            id="recommendation",
            title="Budget recommendation",
            results=(),
            intro=intro,
            skipped=(
                f"Budget recommendation per {BY}: nothing is recommended, because {why}; ROMI "
                f"per {BY} cannot be computed.",
            ),
        )
    result = recommend_budget(ds, horizon=ds.settings.horizon, period=ds.settings.period)
    return Section(
        id="recommendation", title="Budget recommendation", results=(result,), intro=intro
    )
