"""Independent, separately seeded jobs side by side on threads.

The models' inner loops are numpy array operations, which release the GIL, and while a
model fits the engine is idle, so two such jobs use both cores of a small machine. Each job
draws from its own generator, seeded from its own inputs, so the results are those of a
plain loop, in the same order, whatever the scheduling.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def thread_map(job: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[job(x) for x in items]``, run on up to one thread per core.

    ``job`` must not share mutable state or a random generator between items.

    >>> thread_map(lambda x: x * x, [3, 1, 2])
    [9, 1, 4]
    """
    todo = list(items)
    workers = max(1, min(len(todo), os.cpu_count() or 1))
    if workers == 1:
        return [job(x) for x in todo]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, todo))
