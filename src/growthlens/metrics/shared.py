"""Derived tables that several analyses need, built once per Dataset and kept in the engine.

Buyers with their cohort and acquisition source, users' first sessions and per-user-day
activity feed retention, activity, conversion lag, LTV, CAC and ROMI alike. Computing each
once (and storing it in the backend) instead of once per analysis is what keeps the whole
unit-economics set fast on tens of millions of sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import ibis.expr.types as ir

from growthlens.data.dataset import Dataset


def derived(ds: Dataset, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
    """The table ``build()`` makes, stored in the backend the first time it is asked for."""
    cache = ds._derived
    if key not in cache:
        cache[key] = build().cache()
    return cache[key]
