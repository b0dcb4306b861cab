"""Property: on any generated orders CSV, every line is accounted for, and exactly the rows
an independent pure-Python reading of the rules accepts are accepted.

The rules re-implemented here (DESIGN §3, docs/data.md): a row is excluded for the first
reason that applies — missing user id, missing revenue, negative revenue, a duplicate of an
earlier valid row's order_id (policy "first"; rows without an order_id are duplicates only
of identical rows; within one source the kept copy is the smallest by the columns as text),
then outside the explicit window.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import growthlens as gl

WINDOW = (date(2020, 1, 5), date(2020, 1, 25))
Row = tuple[int | None, datetime, float | None, str | None]  # user, ts, revenue, order_id

rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 30), st.integers(2**63, 2**64 - 1)),
        st.builds(
            datetime,
            st.just(2020),
            st.just(1),
            st.integers(1, 31),
            st.integers(0, 23),
            st.sampled_from([0, 30]),
        ),
        st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.25, 2.0, 10.0, -1.5, -0.25])),
        st.one_of(st.none(), st.sampled_from([f"o{i}" for i in range(8)])),
    ),
    min_size=1,
    max_size=40,
)


def write_csv(path: Path, rows: list[Row]) -> None:
    lines = ["user_id,ts,revenue,order_id"]
    for user, ts, revenue, order_id in rows:
        lines.append(
            ",".join(
                [
                    "" if user is None else str(user),
                    ts.strftime("%Y-%m-%d %H:%M:%S"),
                    "" if revenue is None else repr(revenue),
                    order_id or "",
                ]
            )
        )
    path.write_text("\n".join(lines) + "\n")


def expected_accepted(rows: list[Row]) -> tuple[list[Row], dict[str, int]]:
    reasons: dict[str, int] = defaultdict(int)
    valid: list[Row] = []
    for row in rows:
        user, _, revenue, _ = row
        if user is None:
            reasons["missing_user_id"] += 1
        elif revenue is None:
            reasons["missing_revenue"] += 1
        elif revenue < 0:
            reasons["negative_revenue"] += 1
        else:
            valid.append(row)
    groups: dict[object, list[Row]] = defaultdict(list)
    for row in valid:
        user, ts, revenue, order_id = row
        groups[order_id if order_id is not None else (user, ts, revenue)].append(row)
    accepted = []
    for members in groups.values():
        members.sort(key=_as_text)
        reasons["duplicate_key"] += len(members) - 1
        kept = members[0]
        if WINDOW[0] <= kept[1].date() <= WINDOW[1]:
            accepted.append(kept)
        else:
            reasons["out_of_window"] += 1
    return accepted, {k: v for k, v in reasons.items() if v}


def _as_text(row: Row) -> tuple[str, str, str, str]:
    """The engine's tie-break: every column cast to text, compared in column order."""
    user, ts, revenue, order_id = row
    return (str(user), ts.strftime("%Y-%m-%d %H:%M:%S"), repr(revenue), order_id or "")


@settings(max_examples=30, deadline=None)
@given(rows=rows_strategy, repeats=st.lists(st.integers(0, 39), max_size=10))
def test_every_line_is_accepted_or_excluded_for_one_reason(
    rows: list[Row], repeats: list[int]
) -> None:
    rows = rows + [rows[i % len(rows)] for i in repeats]  # exact duplicate lines
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        write_csv(path, rows)
        ds = gl.load(orders=path, window=WINDOW)
        counts = ds.quality.table_counts("orders")
        got = ds.table("orders").to_pyarrow().to_pylist()

    assert counts.loaded == len(rows)  # every data line written
    assert counts.loaded == counts.accepted + counts.excluded
    accepted, reasons = expected_accepted(rows)
    assert dict(counts.excluded_by_reason) == reasons
    assert counts.accepted == len(accepted) == len(got)

    def order(r: Row) -> tuple[int, datetime, float, str]:
        return (r[0] or 0, r[1], r[2] or 0.0, r[3] or "")

    as_tuples = [(int(r["user_id"]), r["ts"], r["revenue"], r["order_id"]) for r in got]
    assert sorted(as_tuples, key=order) == sorted(accepted, key=order)
