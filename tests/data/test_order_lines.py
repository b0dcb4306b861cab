"""Order lines: checked and counted as lines, grouped into one row per order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl

# user, day, product, cost, city: lines of a purchase log without order ids.
LINES = (
    "id,dt,product,cost,city\n"
    "1,0,ball,100,7\n"
    "1,0,shoe,50,7\n"
    "1,0,ball,100,7\n"  # an exact copy of line 1: excluded
    "1,3,sock,0,7\n"  # zero cost: kept, flagged
    "2,1,shoe,-5,8\n"  # negative: excluded
    "2,1,cap,20,8\n"
    "2,2,cap,20,8\n"
    ",2,cap,20,8\n"  # no user: excluded
    "3,4,ball,30,9\n"
)


def _load(tmp_path: Path, text: str = LINES, **settings: object) -> gl.Dataset:
    path = tmp_path / "purchases.csv"
    path.write_text(text)
    source = {"path": str(path), "columns": {"user_id": "id", "ts": "dt", "revenue": "cost"}}
    return gl.load(orders=source, order_lines=True, day_zero="2023-01-01", **settings)


def test_lines_are_counted_and_grouped(tmp_path: Path) -> None:
    ds = _load(tmp_path)
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (9, 6)
    assert dict(counts.excluded_by_reason) == {
        "duplicate_key": 1,
        "negative_revenue": 1,
        "missing_user_id": 1,
    }
    orders = ds.table("orders").order_by(["user_id", "ts"]).to_pandas()
    assert list(orders.columns) == ["user_id", "ts", "revenue", "items", "city"]
    got = [
        (int(r.user_id), r.ts.strftime("%Y-%m-%d"), r.revenue, int(r["items"]), int(r.city))
        for _, r in orders.iterrows()
    ]
    assert got == [
        (1, "2023-01-01", 150.0, 2, 7),
        (1, "2023-01-04", 0.0, 1, 7),
        (2, "2023-01-02", 20.0, 1, 8),
        (2, "2023-01-03", 20.0, 1, 8),
        (3, "2023-01-05", 30.0, 1, 9),
    ]
    assert ds.lines is not None
    lines = ds.lines.to_pandas()
    assert len(lines) == 6 and sorted(lines["product"]) == [
        "ball",
        "ball",
        "cap",
        "cap",
        "shoe",
        "sock",
    ]


def test_findings_say_order_lines(tmp_path: Path) -> None:
    ds = _load(tmp_path)
    messages = {f.check: f.message for f in ds.quality.findings_for("orders")}
    assert messages["duplicate_key"].startswith(
        "1 of 9 order lines (11.1%) repeat another order line exactly"
    )
    assert messages["negative_revenue"].startswith("1 of 9 order lines")
    assert messages["zero_revenue"] == "1 of 6 order lines (16.7%) have zero revenue."


def test_order_ids_group_lines_across_days(tmp_path: Path) -> None:
    text = (
        "id,order,dt,cost,channel\n"
        "1,a,0,10,web\n"
        "1,a,1,5,web\n"  # same order, later line: ts stays the first line's
        "1,b,1,7,app\n"
        "1,,1,1,app\n"  # no order id: an order of its user and day
        "1,,1,2,web\n"
    )
    path = tmp_path / "lines.csv"
    path.write_text(text)
    columns = {"user_id": "id", "ts": "dt", "revenue": "cost", "order_id": "order"}
    ds = gl.load(
        orders={"path": str(path), "columns": columns}, order_lines=True, day_zero="2023-01-01"
    )
    orders = ds.table("orders").order_by(["ts", "revenue"]).to_pandas()
    # channel differs within the id-less order of day 1: not an order's column.
    assert list(orders.columns) == ["user_id", "ts", "revenue", "order_id", "items"]
    got = [
        (None if pd.isna(r.order_id) else r.order_id, r.ts.day, r.revenue, int(r["items"]))
        for _, r in orders.iterrows()
    ]
    assert got == [("a", 1, 15.0, 2), (None, 2, 3.0, 2), ("b", 2, 7.0, 1)]


def test_without_order_lines_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(LINES)
    source = {"path": str(path), "columns": {"user_id": "id", "ts": "dt", "revenue": "cost"}}
    ds = gl.load(orders=source, day_zero="2023-01-01")
    assert ds.lines is None
    assert "items" not in ds.table("orders").columns
    counts = ds.quality.table_counts("orders")
    # Without a key, identical rows of one export are kept (policy "auto" → "keep").
    assert (counts.loaded, counts.accepted) == (9, 7)


def test_window_cuts_lines_and_counts_them(tmp_path: Path) -> None:
    ds = _load(tmp_path, window=[1, 3])
    counts = ds.quality.table_counts("orders")
    assert counts.excluded_by_reason["out_of_window"] == 3  # days 0, 0 and 4
    assert counts.accepted == 3
    assert ds.table("orders").count().to_pyarrow().as_py() == 3


@pytest.mark.parametrize("policy", ["keep"])
def test_a_stated_policy_is_kept(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(LINES)
    source = {
        "path": str(path),
        "columns": {"user_id": "id", "ts": "dt", "revenue": "cost"},
        "duplicates": policy,
    }
    ds = gl.load(orders=source, order_lines=True, day_zero="2023-01-01")
    counts = ds.quality.table_counts("orders")
    assert counts.accepted == 7 and "duplicate_key" not in counts.excluded_by_reason
    first = ds.table("orders").order_by(["user_id", "ts"]).to_pandas().iloc[0]
    assert (first.revenue, int(first["items"])) == (250.0, 3)


def test_orders_of_lines_equal_pandas_grouping(tmp_path: Path) -> None:
    """An independent oracle: pandas groupby on the accepted lines."""
    ds = _load(tmp_path)
    assert ds.lines is not None
    lines = ds.lines.to_pandas()
    lines["day"] = lines.ts.dt.date
    expected = (
        lines.groupby(["user_id", "day"])
        .agg(revenue=("revenue", "sum"), items=("revenue", "size"), ts=("ts", "min"))
        .reset_index()
        .sort_values(["user_id", "ts"])
    )
    orders = ds.table("orders").order_by(["user_id", "ts"]).to_pandas()
    pd.testing.assert_series_equal(
        orders.revenue.reset_index(drop=True), expected.revenue.reset_index(drop=True)
    )
    assert orders["items"].tolist() == expected["items"].tolist()


def test_cross_table_checks_count_lines(tmp_path: Path) -> None:
    """The sessions checks read the lines: user 3 has no session, user 2 buys before it."""
    sessions = pd.DataFrame(
        {
            "user_id": [1, 2],
            "start_ts": pd.to_datetime(["2023-01-01 00:00", "2023-01-03 10:00"]),
            "source": ["a", "b"],
        }
    )
    ds = _load(tmp_path, sessions=sessions, window=[0, 4])
    found = {f.check: f for f in ds.quality.findings_for("orders")}
    # User 2's day-1 line (day 2's order is on the visit's day, not before it).
    assert found["order_before_first_visit"].rows == 1
    assert found["order_before_first_visit"].message.startswith("1 of 6 order lines")
    assert found["orders_without_session"].rows == 1  # user 3's one line
    counts = ds.quality.table_counts("orders")
    assert counts.loaded == counts.accepted + counts.excluded == 9
