"""Checks on a source's header line that every reader shares."""

from __future__ import annotations

from collections.abc import Sequence

from growthlens.errors import DataError


def check_unique_headers(headers: Sequence[str], label: str) -> None:
    """A DataError when two columns share a name: which one a mapping reads is a guess.

    >>> check_unique_headers(["uid", "ts", "uid"], "orders.csv")
    Traceback (most recent call last):
    ...
    growthlens.errors.DataError: orders.csv: two columns are both called 'uid' (columns 1 and 3)
      expected: one name per column
      found: uid, ts, uid
      fix: rename one of them in the file, or drop the one you do not need
    """
    seen: dict[str, int] = {}
    for position, name in enumerate(headers, start=1):
        if name in seen:
            raise DataError(
                f"two columns are both called {name!r} (columns {seen[name]} and {position})",
                source=label,
                expected="one name per column",
                found=", ".join(str(h) for h in headers),
                fix="rename one of them in the file, or drop the one you do not need",
            )
        seen[name] = position
