"""Session lengths: how many accepted sessions have each exact length.

Built once at load from the accepted sessions and shared by two readers:

- the load's kept-row checks: a session that ends before it starts has a negative
  length, one without an end time a null length, so both counts are sums over this small
  table. The load's reason scan then does not read ``end_ts`` at all (about 0.5 s of
  its 1.4 s at 50M sessions);
- the session-length statistics (growthlens.metrics.activity), exact quantiles
  included, which read the non-negative lengths.

Lengths are whole microseconds (the timestamps' resolution), so grouping on them is
exact and cheaper than on fractional seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir

KEY = "session_lengths"
LENGTH = "length_us"


def length_counts(sessions: ir.Table, keys: Sequence[str] = ()) -> ir.Table:
    """Sessions per (``keys``, length), null lengths included.

    Columns: ``keys``, ``length_us`` (``end_ts − start_ts`` in microseconds, null without
    ``end_ts``) and ``n``.
    """
    # A microsecond difference is exact (a second-level DATE_DIFF counts boundaries).
    length = sessions.end_ts.delta(sessions.start_ts, unit="microsecond").cast("int64")
    with_length = sessions.mutate(**{LENGTH: length})
    return with_length.group_by([*keys, LENGTH]).aggregate(n=with_length.count())
