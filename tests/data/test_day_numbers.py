"""Day numbers as time: days since day_zero (1970-01-01 unset), typed in the engine."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.errors import DataError

CSV = "uid,day,amount\n1,0,10\n2,5,20\n3,58,30\n"


def _write(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "purchases.csv"
    path.write_text(text)
    return path


def _source(path: Path, **keys: object) -> dict[str, object]:
    return {
        "path": str(path),
        "columns": {"user_id": "uid", "ts": "day", "revenue": "amount"},
        **keys,
    }


def test_unit_d_without_day_zero_counts_from_1970(tmp_path: Path) -> None:
    ds = gl.load(orders=_source(_write(tmp_path), timestamp_unit="D"))
    ts = ds.table("orders").order_by("user_id").ts.to_pandas().tolist()
    assert ts == [
        pd.Timestamp("1970-01-01"),
        pd.Timestamp("1970-01-06"),
        pd.Timestamp("1970-02-28"),
    ]
    # The Dataset says its time is day numbers.
    assert ds.settings.day_zero == date(1970, 1, 1)
    assert ds.window == (date(1970, 1, 1), date(1970, 2, 28))


def test_day_zero_reads_any_integer_time_column(tmp_path: Path) -> None:
    ds = gl.load(orders=_source(_write(tmp_path)), day_zero=date(2023, 1, 1), window=[5, 58])
    orders = ds.table("orders").order_by("user_id").to_pandas()
    assert orders.ts.tolist() == [pd.Timestamp("2023-01-06"), pd.Timestamp("2023-02-28")]
    counts = ds.quality.table_counts("orders")
    assert (counts.loaded, counts.accepted, dict(counts.excluded_by_reason)) == (
        3,
        2,
        {"out_of_window": 1},
    )
    assert ds.settings.day_zero == date(2023, 1, 1)


def test_dates_are_not_day_numbers(tmp_path: Path) -> None:
    text = "uid,day,amount\n1,2023-01-01,10\n"
    ds = gl.load(orders=_source(_write(tmp_path, text)))
    assert ds.settings.day_zero is None


def test_fractional_day_numbers_keep_the_time_of_day() -> None:
    frame = pd.DataFrame({"user_id": [1, 2], "ts": [1.5, 2.25], "revenue": [1.0, 1.0]})
    ds = gl.load(orders={"sources": [frame]}, day_zero="2023-01-01")
    ts = ds.table("orders").order_by("user_id").ts.to_pandas().tolist()
    assert ts == [datetime(2023, 1, 2, 12), datetime(2023, 1, 3, 6)]


def test_seconds_read_as_days_are_refused(tmp_path: Path) -> None:
    text = "uid,day,amount\n1,1700000000,10\n2,5,20\n"
    with pytest.raises(DataError) as caught:
        gl.load(orders=_source(_write(tmp_path, text), timestamp_unit="D"))
    message = str(caught.value)
    assert "column 'day' in purchases.csv" in message
    assert "1 values read as day numbers" in message
    assert 'timestamp_unit = "s"' in message


def test_integer_time_without_a_unit_says_day_numbers_are_an_option(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r'"D" for day numbers.*day_zero'):
        gl.load(orders=_source(_write(tmp_path)))


def test_an_epoch_unit_is_not_day_numbers(tmp_path: Path) -> None:
    text = "uid,day,amount\n1,1672531200,10\n"  # 2023-01-01 00:00 UTC in seconds
    ds = gl.load(orders=_source(_write(tmp_path, text), timestamp_unit="s"))
    assert ds.table("orders").ts.to_pandas().tolist() == [pd.Timestamp("2023-01-01")]
    assert ds.settings.day_zero is None
