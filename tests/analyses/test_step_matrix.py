"""Step matrix: a hand-worked matrix (ties, repeats, end of paths, top/other), a start
event, the plain-Python oracle on generated logs, and degenerate input (docs/paths.md)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses import step_matrix
from tests.oracle import paths as oracle

WINDOW = ("2024-01-01", "2024-03-31")
T0 = datetime(2024, 1, 1, 10, 0, 0)


def _ds(rows: Sequence[tuple[Any, float, str]]) -> gl.Dataset:
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [T0 + timedelta(seconds=s) for _, s, _ in rows],
            "event": [e for _, _, e in rows],
        }
    )
    return gl.load(events=frame, window=WINDOW)


def _cells(result: gl.Result) -> dict[tuple[int, str], int]:
    t = result.table
    return {
        (int(s), str(e)): int(u) for s, e, u in zip(t["step"], t["event"], t["users"], strict=True)
    }


ROWS = [
    # u1: view, view (collapsed), cart, buy
    (1, 0, "view"),
    (1, 1, "view"),
    (1, 2, "cart"),
    (1, 3, "buy"),
    # u2: cart and view in the same second → cart first (name order), then view
    (2, 0, "view"),
    (2, 0, "cart"),
    # u3: view, search
    (3, 0, "view"),
    (3, 5, "search"),
]


def test_hand_worked_matrix() -> None:
    """Paths: u1 view, cart, buy · u2 cart, view · u3 view, search. Totals over the steps:
    view 3, cart 2, buy 1, search 1 → top=2 keeps view and cart; buy and search are
    (other)."""
    r = step_matrix(_ds(ROWS), steps=4, top=2)
    assert _cells(r) == {
        (1, "view"): 2,
        (1, "cart"): 1,
        (1, "(other)"): 0,
        (1, "(end)"): 0,
        (2, "view"): 1,
        (2, "cart"): 1,
        (2, "(other)"): 1,
        (2, "(end)"): 0,
        (3, "view"): 0,
        (3, "cart"): 0,
        (3, "(other)"): 1,
        (3, "(end)"): 2,
        (4, "view"): 0,
        (4, "cart"): 0,
        (4, "(other)"): 0,
        (4, "(end)"): 3,
    }
    assert r.table.groupby("step")["share"].sum().round(12).eq(1.0).all()
    assert r.summary["ended_share_3"].value == 2 / 3
    # Without collapsing, u1's second view is step 2.
    flat = step_matrix(_ds(ROWS), steps=2, top=5, collapse=False)
    assert _cells(flat)[(2, "view")] == 2 and _cells(flat)[(2, "cart")] == 0
    assert "(other)" not in set(flat.table["event"])
    flat.figure()


def test_start_event_anchors_step_one() -> None:
    """From the first cart: u1 cart, buy · u2 cart, view; u3 has no cart and is left out."""
    r = step_matrix(_ds(ROWS), steps=2, start="cart")
    assert r.summary["users"].value == 2
    cells = {k: v for k, v in _cells(r).items() if v}
    assert cells == {(1, "cart"): 2, (2, "buy"): 1, (2, "view"): 1}
    assert r.title == "Step matrix from cart"


@pytest.mark.parametrize("seed", [4, 5])
def test_matches_the_plain_python_oracle(seed: int) -> None:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for user in range(150):
        for _ in range(rng.randint(1, 10)):
            rows.append(
                {
                    "user_id": user,
                    "ts": T0 + timedelta(seconds=rng.choice([0, 1, 30]) * rng.randint(0, 6)),
                    "event": rng.choice("abcdefgh"),
                }
            )
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    for start, match, collapse in (
        (None, None, True),
        (None, None, False),
        ("c", lambda row: row["event"] == "c", True),
    ):
        r = step_matrix(ds, steps=6, top=4, start=start, collapse=collapse)
        walks = oracle.all_paths(rows, match, depth=6, collapse=collapse, include_anchor=True)
        assert r.summary["users"].value == len(walks)
        assert _cells(r) == oracle.step_matrix(walks, steps=6, top=4), (start, collapse)


def test_degenerate_input_is_a_status_or_a_clear_error() -> None:
    ds = _ds([(1, 0, "view")])
    r = step_matrix(ds, start="buy")
    assert r.status == "not_enough_data" and "buy" in r.status_reason
    with pytest.raises(gl.ConfigError, match="steps"):
        step_matrix(ds, steps=0)
    with pytest.raises(gl.ConfigError, match="top"):
        step_matrix(ds, top=0)
