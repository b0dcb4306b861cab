"""Report section "Data overview": what was loaded, from where, over which window."""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.metrics.overview import overview
from growthlens.report.model import Section


def build(ds: Dataset) -> Section:
    """The data-overview section (always present)."""
    return Section(
        id="overview",
        title="Data overview",
        results=(overview(ds),),
        intro=(
            "What was loaded: rows per table, the dates they cover, distinct users, the "
            "columns and how they were mapped, and the data window every metric uses."
        ),
    )
