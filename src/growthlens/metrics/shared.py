"""Derived tables that several analyses need, built once per Dataset and kept in the engine.

Activity profiles (growthlens.data.profile), buyers with their cohort and acquisition
source, buyers' first sessions, order and buyer cells feed activity, retention, conversion
lag, LTV, CAC and ROMI alike. Computing each once (and storing it in the backend) instead
of once per analysis is what keeps the whole unit-economics set fast on tens of millions of
sessions. The load stores the first two it builds for its own checks here too.
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
