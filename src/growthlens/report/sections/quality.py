"""Report section "Data quality": every counted problem of the load and what was done."""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.metrics.overview import quality
from growthlens.report.model import Section


def build(ds: Dataset) -> Section:
    """The data-quality section (always present, also when nothing was found)."""
    return Section(
        id="quality",
        title="Data quality",
        results=(quality(ds),),
        intro=(
            "Problems found while loading, with how many rows each concerns and whether the "
            "rows were excluded or kept, so every number in this report traces back to row "
            "counts that add up."
        ),
    )
