"""Report section "Product": activity, session length and retention, split by device and source."""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.metrics.activity import activity
from growthlens.analyses.retention import retention
from growthlens.report.model import Section
from growthlens.result import Result

SPLITS = ("device", "source")


def build(ds: Dataset) -> Section | None:
    """The product section, or ``None`` without sessions."""
    if not ds.has("sessions"):
        return None
    dims = session_dimensions(ds)
    splits = [d for d in SPLITS if d in dims]
    results: list[Result] = [activity(ds)]
    results += [activity(ds, by=d) for d in splits]
    results.append(retention(ds, period="month"))
    results.append(retention(ds, period="week"))
    results += [retention(ds, period="month", by=d) for d in splits]
    skipped = [f"Splits by {d}: the sessions have no {d} column." for d in SPLITS if d not in dims]
    return Section(
        id="product",
        title="Product: activity and retention",
        results=tuple(results),
        intro=(
            "How many people use the product per day, week and month, how long sessions last, "
            "and how many users come back after their first visit."
        ),
        skipped=tuple(skipped),
    )
