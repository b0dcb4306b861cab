"""Paths around an event: hand-built sequences (ties, end of data, repeats, first
occurrence, previous direction, predicates, sessions), top/other grouping and the Sankey
flows, the plain-Python oracle on generated logs, and degenerate input (docs/paths.md)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import growthlens as gl
from growthlens.analyses import paths
from growthlens.analyses.paths import PATHS
from tests.oracle import paths as oracle

WINDOW = ("2024-01-01", "2024-03-31")
T0 = datetime(2024, 1, 1, 10, 0, 0)


def _ds(rows: Sequence[tuple[Any, float, str]], **extra: list[Any]) -> gl.Dataset:
    """Rows of (user, seconds after T0, event)."""
    frame = pd.DataFrame(
        {
            "user_id": [u for u, _, _ in rows],
            "ts": [T0 + timedelta(seconds=s) for _, s, _ in rows],
            "event": [e for _, _, e in rows],
            **extra,
        }
    )
    return gl.load(events=frame, window=WINDOW)


def _cells(result: gl.Result) -> dict[tuple[int, str], int]:
    t = result.table
    return {
        (int(s), str(e)): int(u) for s, e, u in zip(t["step"], t["event"], t["users"], strict=True)
    }


def _flows(result: gl.Result) -> set[tuple[int, str, str, int]]:
    f = result.tables["flows"]
    return {
        (int(s), str(a), str(b), int(v))
        for s, a, b, v in zip(f["step"], f["source"], f["target"], f["users"], strict=True)
    }


# One user per case, each path written out below.
HAND = [
    # u1: a tie at 10 s is read in event-name order: a before b.
    (1, 0, "x"),
    (1, 10, "b"),
    (1, 10, "a"),
    (1, 20, "c"),
    # u2: x between a and y in the same second (name order a, x, y).
    (2, 0, "y"),
    (2, 0, "x"),
    (2, 0, "a"),
    # u3: nothing after x: the path ends at once.
    (3, 0, "x"),
    # u4: repeats, the anchor's own included.
    (4, 0, "x"),
    (4, 5, "x"),
    (4, 6, "b"),
    (4, 7, "b"),
    (4, 8, "c"),
    # u5: from the first x only; a later x is an ordinary event of the path.
    (5, 0, "b"),
    (5, 10, "x"),
    (5, 20, "c"),
    (5, 30, "x"),
    (5, 40, "d"),
    # u6: never does x: no path.
    (6, 0, "a"),
]


def test_next_paths_by_hand() -> None:
    """u1 a,b,c · u2 y,end · u3 end · u4 b,c,end · u5 c,x,d (u6 has no x)."""
    r = paths(_ds(HAND), around="x", depth=3)
    assert r.summary["users"].value == 5
    assert _cells(r) == {
        (1, "c"): 1,
        (1, "a"): 1,
        (1, "b"): 1,
        (1, "y"): 1,
        (1, "(end)"): 1,
        (2, "b"): 1,
        (2, "c"): 1,
        (2, "x"): 1,
        (2, "(end)"): 2,
        (3, "c"): 1,
        (3, "d"): 1,
        (3, "(end)"): 3,
    }
    assert r.table.groupby("step")["share"].sum().round(12).eq(1.0).all()
    assert _flows(r) == {
        (1, "x", "a", 1),
        (1, "x", "b", 1),
        (1, "x", "c", 1),
        (1, "x", "y", 1),
        (1, "x", "(end)", 1),
        (2, "a", "b", 1),
        (2, "y", "(end)", 1),
        (2, "b", "c", 1),
        (2, "c", "x", 1),
        (3, "b", "c", 1),
        (3, "c", "(end)", 1),
        (3, "x", "d", 1),
    }


def test_repeats_kept_without_collapse() -> None:
    """u4 without collapsing: x, b, b after the first x."""
    r = paths(_ds([row for row in HAND if row[0] == 4]), around="x", depth=3, collapse=False)
    assert _cells(r) == {(1, "x"): 1, (2, "b"): 1, (3, "b"): 1}


def test_previous_paths_by_hand() -> None:
    """Before the first x, closest first: u1 end · u2 a,end · u3 end · u4 end · u5 b,end."""
    r = paths(_ds(HAND), around="x", direction="previous", depth=2)
    assert _cells(r) == {(1, "a"): 1, (1, "b"): 1, (1, "(end)"): 3, (2, "(end)"): 5}
    assert r.name == "paths_previous" and "before" in r.title
    # Repeats before the anchor collapse too: c, c, b, b, x → b, c.
    r = paths(
        _ds([(7, 0, "c"), (7, 1, "c"), (7, 2, "b"), (7, 3, "b"), (7, 4, "x")]),
        around="x",
        direction="previous",
        depth=3,
    )
    assert _cells(r) == {(1, "b"): 1, (2, "c"): 1, (3, "(end)"): 1}


def test_top_groups_the_rest_as_other() -> None:
    """Step 1 after x: a ×3, b ×2, c ×2, d ×1; top=2 keeps a and b (c ties with b and
    loses on the name), the rest is (other) — in the flows too."""
    rows: list[tuple[Any, float, str]] = []
    for user, nxt in enumerate(["a", "a", "a", "b", "b", "c", "c", "d"]):
        rows += [(user, 0, "x"), (user, 1, nxt)]
    r = paths(_ds(rows), around="x", depth=2, top=2)
    assert _cells(r) == {(1, "a"): 3, (1, "b"): 2, (1, "(other)"): 3, (2, "(end)"): 8}
    assert _flows(r) == {
        (1, "x", "a", 3),
        (1, "x", "b", 2),
        (1, "x", "(other)", 3),
        (2, "a", "(end)", 3),
        (2, "b", "(end)", 2),
        (2, "(other)", "(end)", 3),
    }
    assert r.summary["top_event"].value == "a" and r.summary["top_share"].value == 3 / 8


def test_predicate_anchor_and_sessions() -> None:
    """Anchor page_view on /cart: u1's earlier page_view on / is not the anchor; the
    checkout page_view right after it is a repeat of the event name and collapses; with
    unit='session' each session has its own path."""
    rows = [(1, 0, "page_view"), (1, 1, "page_view"), (1, 2, "page_view"), (1, 3, "buy")]
    ds = _ds(rows, page=["/", "/cart", "/checkout", None], session_id=["s", "s", "t", "t"])
    around = {"event": "page_view", "page": "/cart"}
    r = paths(ds, around=around, depth=2)
    assert _cells(r) == {(1, "buy"): 1, (2, "(end)"): 1}
    assert r.params["around"] == "page_view (page=/cart)"
    r = paths(ds, around=around, depth=2, collapse=False)
    assert _cells(r) == {(1, "page_view"): 1, (2, "buy"): 1}
    r = paths(ds, around=around, depth=2, unit="session")
    assert _cells(r) == {(1, "(end)"): 1, (2, "(end)"): 1}
    r = paths(ds, around="page_view", depth=1, unit="session", collapse=False)
    assert _cells(r) == {(1, "page_view"): 1, (1, "buy"): 1}


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_the_plain_python_oracle(seed: int) -> None:
    """Random logs with ties, repeats, predicates and sessions: the paths table and the
    flows equal the oracle's per-unit walk exactly, in both directions, with and without
    collapsing, per user and per session."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for user in range(120):
        for _ in range(rng.randint(1, 12)):
            rows.append(
                {
                    "user_id": user,
                    "session_id": f"s{rng.randint(0, 2)}",
                    "ts": T0 + timedelta(seconds=rng.choice([0, 1, 2, 60]) * rng.randint(0, 5)),
                    "event": rng.choice(["a", "b", "b", "c", "d", "e", "x", "x"]),
                    "page": rng.choice(["/", "/cart", None]),
                }
            )
    ds = gl.load(events=pd.DataFrame(rows), window=WINDOW)
    anchors: list[tuple[Any, Any]] = [
        ("x", lambda row: row["event"] == "x"),
        (
            {"event": "b", "page": "/cart"},
            lambda row: row["event"] == "b" and row["page"] == "/cart",
        ),
    ]
    cases = [
        ("next", True, ("user_id",)),
        ("previous", True, ("user_id",)),
        ("next", False, ("user_id",)),
        ("previous", False, ("user_id", "session_id")),
        ("next", True, ("user_id", "session_id")),
    ]
    for (around, match), (direction, collapse, keys) in [(a, c) for a in anchors for c in cases]:
        unit = "session" if len(keys) == 2 else "user"
        r = paths(
            ds,
            around=around,
            direction=direction,  # type: ignore[arg-type]
            depth=4,
            top=3,
            unit=unit,  # type: ignore[arg-type]
            collapse=collapse,
        )
        walks = oracle.all_paths(
            rows, match, direction=direction, depth=4, keys=keys, collapse=collapse
        )
        table, flows = oracle.paths_tables(
            walks, depth=4, top=3, anchor_label=str(r.params["around"])
        )
        assert r.summary["users"].value == len(walks)
        assert _cells(r) == {(s, e): u for s, e, u in table}, (around, direction, collapse, keys)
        assert _flows(r) == set(flows), (around, direction, collapse, keys)
        # The table lists each step's events most first, then (other), then (end).
        assert list(r.table.itertuples(index=False, name=None)) == [
            (s, e, u, u / len(walks)) for s, e, u in table
        ]


def test_degenerate_input_is_a_status_or_a_clear_error() -> None:
    ds = _ds([(1, 0, "view")])
    r = paths(ds, around="buy")
    assert r.status == "not_enough_data" and "buy" in r.status_reason
    assert r.table.empty and r.tables["flows"].empty
    r.figure()  # draws "No data", no exception
    with pytest.raises(gl.ConfigError, match="direction"):
        paths(ds, around="view", direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(gl.ConfigError, match="depth"):
        paths(ds, around="view", depth=0)
    with pytest.raises(gl.ConfigError, match="top"):
        paths(ds, around="view", top=0)
    with pytest.raises(gl.ConfigError, match="'page'"):
        paths(ds, around={"event": "view", "page": "/"})


def test_plan_asks_for_paths_around_conversion_when_the_log_has_it() -> None:
    shop = _ds([(1, 0, "page_view"), (1, 1, "add_to_cart"), (1, 2, "purchase")])
    assert PATHS.plan(shop).runs == (
        {"around": "purchase", "direction": "previous"},
        {"around": "add_to_cart"},
    )
    other = _ds([(1, 0, "open"), (2, 0, "open"), (2, 1, "edit")])
    assert PATHS.plan(other).runs == ({"around": "open"},)


def test_the_worked_example_of_the_docs() -> None:
    """docs/paths.md: 1 view, cart, cart, buy · 2 cart, view, cart · 3 cart · 4 view."""
    rows = [(1, 0, "view"), (1, 1, "cart"), (1, 2, "cart"), (1, 3, "buy")]
    rows += [(2, 0, "cart"), (2, 1, "view"), (2, 2, "cart"), (3, 0, "cart"), (4, 0, "view")]
    r = paths(_ds(rows), around="cart", depth=2)
    assert _cells(r) == {
        (1, "buy"): 1,
        (1, "view"): 1,
        (1, "(end)"): 1,
        (2, "cart"): 1,
        (2, "(end)"): 2,
    }
    assert _flows(r) == {
        (1, "cart", "buy", 1),
        (1, "cart", "view", 1),
        (1, "cart", "(end)", 1),
        (2, "buy", "(end)", 1),
        (2, "view", "cart", 1),
    }
    before = paths(_ds(rows), around="cart", direction="previous", depth=2)
    assert _cells(before) == {(1, "view"): 1, (1, "(end)"): 2, (2, "(end)"): 3}


def test_sessions_are_cut_by_inactivity_without_a_session_id() -> None:
    """No session_id: a gap of more than 30 minutes starts a session. Per user the path
    after the first view is cart, view, buy; per session it is cart (then the end) and
    buy."""
    ds = _ds([(1, 0, "view"), (1, 60, "cart"), (1, 7260, "view"), (1, 7300, "buy")])
    per_user = paths(ds, around="view", depth=3)
    assert _cells(per_user) == {(1, "cart"): 1, (2, "view"): 1, (3, "buy"): 1}
    per_session = paths(ds, around="view", depth=1, unit="session")
    assert _cells(per_session) == {(1, "buy"): 1, (1, "cart"): 1}
