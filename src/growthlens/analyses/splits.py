"""The session dimensions the report splits product analyses by, and what it says when absent."""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.derive.acquisition import session_dimensions
from growthlens.derive.activity import SPLITS


def session_splits(ds: Dataset) -> tuple[list[str], tuple[str, ...]]:
    """The splits the sessions have, and a sentence for each they lack (for a report plan)."""
    dims = session_dimensions(ds)
    present = [d for d in SPLITS if d in dims]
    missing = tuple(
        f"Splits by {d}: the sessions have no {d} column." for d in SPLITS if d not in dims
    )
    return present, missing
