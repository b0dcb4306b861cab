"""Bad inputs: a growthlens error that names the file, the column and the fix — never a
library traceback, never silently lost rows."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

import growthlens as gl

from .conftest import ORDERS


def _message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    assert isinstance(exc.value, gl.GrowthlensError)
    # Our errors are raised by growthlens, not re-raised library errors.
    assert type(exc.value).__module__ == "growthlens.errors"
    return str(exc.value)


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Amount Paid,Uid\n2017-06-01 10:00:00,1.0,1\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "orders.csv" in text
    assert "'revenue'" in text
    assert "found: Buy Ts, Amount Paid, Uid" in text
    assert 'columns = { revenue = "Amount Paid" }' in text


def test_mapping_to_absent_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    with pytest.raises(gl.DataError) as err:
        gl.load(orders={"path": str(path), "columns": {"revenue": "Revenu"}})
    text = _message(err)
    assert "'Revenu'" in text and "orders.csv" in text and 'revenue = "Revenue"' in text


def test_non_numeric_revenue(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Revenue,Uid\n2017-06-01 10:00:00,1.5,1\n2017-06-02 10:00:00,twelve,2\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "orders.csv" in text and "'Revenue'" in text
    assert "1 of 2 values cannot be read as a number" in text
    assert "'twelve'" in text
    assert "fix:" in text


def test_unparseable_timestamp_suggests_format(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Revenue,Uid\n2017-06-01 10:00:00,1,1\nyesterday,2,2\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "'Buy Ts'" in text and "'yesterday'" in text and "timestamp_format" in text


def test_timestamp_format_option(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Revenue,Uid\n31.05.2018 10:00,1,1\n01.06.2018 11:30,2,2\n")
    ds = gl.load(orders={"path": str(path), "timestamp_format": "%d.%m.%Y %H:%M"})
    assert ds.quality.table_counts("orders").first.isoformat() == "2018-05-31"


def test_truncated_gzip(tmp_path: Path) -> None:
    body = "Buy Ts,Revenue,Uid\n" + "".join(
        f"2017-06-01 10:00:00,{i}.5,{i}\n" for i in range(20_000)
    )
    data = gzip.compress(body.encode())
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "orders.csv.gz" in text and "gzip" in text.lower()
    assert "fix:" in text


def test_zip_with_path_traversal_member(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.csv", ORDERS)
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "evil.zip" in text and "'../evil.csv'" in text and "unsafe" in text
    assert not (tmp_path.parent / "evil.csv").exists()


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "orders.csv" in text and "empty" in text and "re-export" in text


def test_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Buy Ts,Revenue,Uid\n")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    text = _message(err)
    assert "orders.csv" in text and "no rows" in text and "Buy Ts, Revenue, Uid" in text


def test_wrong_delimiter_is_detected(tmp_path: Path) -> None:
    """`;` is auto-detected; the rows load exactly."""
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS.replace(",", ";"))
    counts = gl.load(orders=path).quality.table_counts("orders")
    assert (counts.loaded, counts.accepted) == (3, 3)


def test_forced_wrong_delimiter_suggests_the_right_one(tmp_path: Path) -> None:
    """A config that forces `,` on a `;` file sees one header: the message says which to use."""
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS.replace(",", ";"))
    with pytest.raises(gl.DataError) as err:
        gl.load(orders={"path": str(path), "delimiter": ","})
    text = _message(err)
    assert "orders.csv" in text and 'delimiter = ";"' in text


def test_non_existent_path(tmp_path: Path) -> None:
    (tmp_path / "orders_log.csv").write_text(ORDERS)
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=tmp_path / "orders_logs.csv")
    text = _message(err)
    assert "orders_logs.csv" in text and "not found" in text
    assert "orders_log.csv" in text  # what is there instead


def test_unknown_config_key(tmp_path: Path) -> None:
    config = tmp_path / "growthlens.toml"
    config.write_text('[orders]\npath = "orders.csv"\ncolumn = { revenue = "x" }\n')
    with pytest.raises(gl.ConfigError) as err:
        gl.load(config)
    text = _message(err)
    assert "growthlens.toml" in text and "'column'" in text and "'columns'" in text


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"window": "2017"}, 'expected two dates, e.g. window = ["2017-06-01", "2018-05-31"]'),
        ({"margin": "high"}, "expected a share of revenue in (0, 1], e.g. margin = 0.4"),
        ({"horizon": 0}, "expected a whole number of periods from 1 to 120, e.g. horizon = 6"),
    ],
)
def test_bad_setting_says_what_it_should_look_like(
    setting: dict[str, object], expected: str
) -> None:
    """The engine's wording names the problem; ours adds what a good value looks like."""
    with pytest.raises(gl.ConfigError) as err:
        gl.load(orders="x.csv", **setting)
    text = str(err.value)
    ((key, value),) = setting.items()
    assert text.startswith(f"[settings] {key}: ") and f"(got {value!r})" in text
    assert text.endswith(expected)


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (
            'sessions = "s.csv"\n',
            "[sessions] must be a section of keys, got sessions = 's.csv'; write it as a "
            'line [sessions] followed by e.g. path = "file.csv"',
        ),
        (
            "[orders]\npath = 5\n",
            "[orders] path: Input should be a valid string (got 5); "
            'expected the file\'s path, e.g. path = "visits.csv"',
        ),
        (
            '[sessions]\nsources = ["a.csv", 5]\n',
            "[sessions] sources.1: not a source (got 5); expected a list of paths or of source "
            'tables, e.g. sources = ["a.csv", { path = "b.csv.gz" }]',
        ),
    ],
)
def test_bad_table_section_names_keys_as_written(tmp_path: Path, toml: str, says: str) -> None:
    """Errors in a table section name the keys the user wrote, not the model's internals
    (``sources.0.path`` for the ``path`` shorthand, the ``TableSpec``/``SourceSpec``
    classes), and say what a good value looks like."""
    config = tmp_path / "growthlens.toml"
    config.write_text(toml)
    with pytest.raises(gl.ConfigError) as err:
        gl.load(config)
    text = str(err.value)
    assert text == f"{config}: {says}"
    assert "Spec" not in text and "sources.0" not in text


def test_missing_path_in_a_table_given_to_load() -> None:
    """The same names for a table passed to ``gl.load`` as a mapping."""
    with pytest.raises(gl.ConfigError) as err:
        gl.load(sessions={"paht": "visits.csv"})
    text = str(err.value)
    assert text.startswith("[sessions] path: missing; expected the file's path")
    assert "unknown key 'paht'" in text and "did you mean 'path'?" in text


def test_unknown_setting_and_section(tmp_path: Path) -> None:
    config = tmp_path / "growthlens.toml"
    config.write_text('[settings]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(gl.ConfigError, match="Mars/Olympus"):
        gl.load(config)
    config.write_text('[visits]\npath = "v.csv"\n')
    with pytest.raises(gl.ConfigError) as err:
        gl.load(config)
    assert "[visits]" in _message(err) and "[sessions]" in str(err.value)
    with pytest.raises(gl.ConfigError) as err:
        gl.load(orders="x.csv", marginn=0.5)
    assert "'marginn'" in _message(err) and "'margin'" in str(err.value)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "orders.xls.bak"
    path.write_bytes(b"PK")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    assert "orders.xls.bak" in _message(err) and 'format = "csv"' in str(err.value)
    assert ".xlsx" in str(err.value)  # workbooks are read: the list says so


def test_a_broken_workbook_says_what_the_reader_found(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(gl.DataError) as err:
        gl.load(orders=path)
    assert "orders.xlsx: cannot read the file as an Excel workbook" in _message(err)
    assert "invalid Zip archive" in str(err.value) and "save the sheet as CSV" in str(err.value)


def test_ragged_csv_line(tmp_path: Path) -> None:
    """A line with extra fields is not a row: counted as excluded, shown with its line number
    (issue "Trust the input": it used to stop the load, and a few could mislead the delimiter
    guess)."""
    path = tmp_path / "orders.csv"
    text = ORDERS + "2017-06-04 10:00:00,1.0,7,extra,fields\n"
    path.write_text(text)
    ds = gl.load(orders=path)
    counts = ds.quality.table_counts("orders")
    assert counts.excluded_by_reason == {"unreadable_line": 1}
    assert counts.loaded == len(text.splitlines()) - 1  # every line but the header
    finding = next(f for f in ds.quality.findings if f.check == "unreadable_line")
    (example,) = finding.examples
    assert example["line"] == len(text.splitlines())
    assert example["problem"] == "TOO MANY COLUMNS" and example["source"] == "orders.csv"


def test_row_level_problems_are_counted_not_raised(tmp_path: Path) -> None:
    """Null id, null revenue, negative revenue, future date: each excluded with its reason.

    6 rows: 2 good, 1 without Uid, 1 without revenue, 1 negative, 1 in 2999.
    """
    path = tmp_path / "orders.csv"
    path.write_text(
        "Buy Ts,Revenue,Uid\n"
        "2017-06-01 10:00:00,1.0,1\n"
        "2017-06-02 10:00:00,2.0,2\n"
        "2017-06-02 11:00:00,3.0,\n"
        "2017-06-02 12:00:00,,3\n"
        "2017-06-02 13:00:00,-4.0,4\n"
        "2999-01-01 00:00:00,5.0,5\n"
    )
    ds = gl.load(orders=path)
    counts = ds.quality.table_counts("orders")
    assert counts.loaded == 6 and counts.accepted == 2
    assert counts.excluded_by_reason == {
        "missing_user_id": 1,
        "missing_revenue": 1,
        "negative_revenue": 1,
        "future_timestamp": 1,
    }
    by_check = {f.check: f for f in ds.quality.findings}
    assert by_check["negative_revenue"].examples[0]["revenue"] == -4.0
    assert all(by_check[c].action == "excluded" for c in counts.excluded_by_reason)
