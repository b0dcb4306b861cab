"""Write the hostile-input corpus of tests/corpus (issue "Trust the input").

The files are checked in; this script documents every byte of them and regenerates them:

    .venv/bin/python tests/corpus/make_corpus.py

Each file is small on purpose (the whole folder stays under 300 KB): the huge ones (a very
long line, decompression bombs) are gzip or zip files of repeated text. ``cases.toml`` says
what growthlens must do with each file; ``tests/data/test_corpus.py`` runs the cases through
``gl.load`` and ``growthlens check``.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ORDERS_HEADER = "Uid,Buy Ts,Revenue\n"
GOOD_ORDERS = ORDERS_HEADER + "1,2020-01-14 10:00:00,5\n2,2020-01-15 11:00:00,7.5\n"

# Fixed zip timestamps, so a rerun writes the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def text(name: str, content: str, *, encoding: str = "utf-8") -> None:
    """Write ``content`` byte for byte (no newline translation)."""
    (HERE / name).write_bytes(content.encode(encoding))


def gz(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))


def zipped(name: str, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    (HERE / name).write_bytes(buffer.getvalue())


def parquet(name: str, table: pa.Table) -> None:
    pq.write_table(table, HERE / name, compression="snappy")


def sqlite(name: str, script: str) -> None:
    path = HERE / name
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(script)
        db.commit()
    finally:
        db.close()


def text_files() -> None:
    # '#' starts a source's name, not a comment (no comment setting): 2 rows.
    text("costs_hash_row.csv", "source_id,dt,costs\n#1 partner,2020-01-14,5\n2,2020-01-14,3\n")
    # Two real comment lines: skipped and counted only with comment = "#".
    text(
        "costs_comment_lines.csv",
        "source_id,dt,costs\n# exported 2020-01-16\n# by the ad system\n2,2020-01-14,3\n",
    )
    # 5 non-finite revenues (nan, NaN, inf, -inf, Infinity) and 2 good rows.
    text(
        "orders_nonfinite_revenue.csv",
        ORDERS_HEADER
        + "1,2020-01-14 10:00:00,nan\n2,2020-01-14 11:00:00,NaN\n3,2020-01-14 12:00:00,inf\n"
        "4,2020-01-14 13:00:00,-inf\n5,2020-01-14 14:00:00,Infinity\n"
        "6,2020-01-14 15:00:00,5\n7,2020-01-15 15:00:00,7\n",
    )
    # Costs: one good, nan, inf, -inf cost, one empty cost.
    text(
        "costs_nonfinite_cost.csv",
        "dt,source_id,costs\n2020-01-14,a,1.5\n2020-01-14,b,nan\n2020-01-14,c,inf\n"
        "2020-01-14,d,-inf\n2020-01-14,e,\n",
    )
    # Clicks: good, negative, non-finite.
    text(
        "costs_negative_clicks.csv",
        "dt,source_id,costs,clicks\n2020-01-14,a,1,10\n2020-01-14,b,2,-3\n2020-01-14,c,3,inf\n",
    )
    # Null-like ids (8 rows: NULL, None, nan, NaN, null, -, empty, ' nan ') and 2 real ids.
    text(
        "orders_null_ids.csv",
        ORDERS_HEADER
        + "NULL,2020-01-14 10:00:00,5\nNone,2020-01-14 10:01:00,5\nnan,2020-01-14 10:02:00,5\n"
        "NaN,2020-01-14 10:03:00,5\nnull,2020-01-14 10:04:00,5\n-,2020-01-14 10:05:00,5\n"
        ",2020-01-14 10:06:00,5\n nan ,2020-01-14 10:07:00,5\n"
        "u1,2020-01-14 11:00:00,5\nu2,2020-01-15 11:00:00,5\n",
    )
    text("orders_duplicate_header.csv", "Uid,Buy Ts,Revenue,Uid\n1,2020-01-14 10:00:00,5,2\n")
    # Line 3 has a field too many, line 4 one too few.
    text(
        "orders_ragged.csv",
        ORDERS_HEADER
        + "1,2020-01-14 10:00:00,5\n2,2020-01-14 10:00:00,5,9\n3,2020-01-14 11:00:00\n"
        "4,2020-01-15 13:00:00,7\n",
    )
    # Line 3 opens a quote it never closes; lines 4 and 5 are good rows.
    text(
        "orders_broken_quote.csv",
        ORDERS_HEADER
        + '1,2020-01-14 10:00:00,5\n2,"2020-01-14 11:00:00,5\n3,2020-01-14 12:00:00,6\n'
        "4,2020-01-15 13:00:00,7\n",
    )
    # Quoted ids, one with the delimiter inside, and line 4 opening a quote it never closes:
    # the quotes of lines 2 and 3 are CSV quoting, not part of the ids.
    text(
        "orders_quoted_ids.csv",
        ORDERS_HEADER + '"u1",2020-01-14 10:00:00,5\n"u,2",2020-01-14 11:00:00,6\n'
        '"u3,2020-01-15 12:00:00,7\n4,2020-01-15 13:00:00,8\n',
    )
    # Quoted ids and a quoted comma, every quote closed: the quotes are CSV quoting.
    text(
        "orders_quoted_ids_closed.csv",
        ORDERS_HEADER + '"u1",2020-01-14 10:00:00,5\n"u,2",2020-01-14 11:00:00,6\n'
        '4,2020-01-15 13:00:00,"8"\n',
    )
    # Every revenue infinite: the column is still a number column (not dates: DuckDB reads
    # "infinity" as a date too).
    text(
        "orders_infinite_revenue_only.csv",
        ORDERS_HEADER + "1,2020-01-14 10:00:00,inf\n2,2020-01-15 11:00:00,-Infinity\n",
    )
    text("orders_header_only.csv", ORDERS_HEADER)
    text("orders_empty.csv", "")
    text("orders.dat", GOOD_ORDERS)  # good CSV, unknown suffix
    # Day/month order that does not follow the stated "%d.%m.%Y %H:%M".
    text("orders_slash_dates.csv", ORDERS_HEADER + "1,01/02/2020 10:00,5\n")
    text(
        "orders_text_revenue.csv",
        ORDERS_HEADER + "1,2020-01-14 10:00:00,1.5\n2,2020-01-15 10:00:00,twelve\n",
    )
    # A decimal comma in a ';' file: 5,5 + 7,25 = 12.75.
    text(
        "orders_decimal_comma.csv",
        "Uid;Buy Ts;Revenue\n1;2020-01-14 10:00:00;5,5\n2;2020-01-15 10:00:00;7,25\n",
    )
    # A thousands separator in quoted values: 1,234.50 + 2,000.00 = 3234.5.
    text(
        "orders_thousands.csv",
        ORDERS_HEADER + '1,2020-01-14 10:00:00,"1,234.50"\n2,2020-01-15 10:00:00,"2,000.00"\n',
    )
    # Rich markup and emoji codes in values that end up in an error message.
    text("orders_markup.csv", ORDERS_HEADER + "1,:x:,5\n2,[red]boom[/red],5\n")
    # ... and in a line that is shown as an unreadable line (line 3).
    text(
        "orders_markup_ragged.csv",
        ORDERS_HEADER
        + "1,2020-01-14 10:00:00,5\n[red]boom[/red],:x:,5,:warning:\n2,2020-01-15 10:00:00,7\n",
    )
    # HTML in ids: kept as the exact text, never interpreted.
    text(
        "orders_html_ids.csv",
        ORDERS_HEADER + "<script>alert(1)</script>,2020-01-14 10:00:00,5\n"
        "<b>u2</b>,2020-01-14 11:00:00,5\n&amp;u3,2020-01-15 10:00:00,5\n",
    )
    text("orders_bom.csv", "\ufeff" + GOOD_ORDERS)
    text("orders_crlf.csv", GOOD_ORDERS.replace("\n", "\r\n"))
    text("orders.tsv", GOOD_ORDERS.replace(",", "\t"))
    text("orders_semicolon.csv", GOOD_ORDERS.replace(",", ";"))
    # JSON lines: line 2 is not JSON.
    text(
        "orders_bad_line.jsonl",
        '{"Uid": "1", "Buy Ts": "2020-01-14 10:00:00", "Revenue": 5}\n'
        '{"Uid": "2", "Buy Ts": \n'
        '{"Uid": "3", "Buy Ts": "2020-01-15 10:00:00", "Revenue": 7}\n',
    )
    # cp1251 source names (Cyrillic): not UTF-8.
    text(
        "costs_cp1251.csv",
        "source_id,dt,costs\nЯндекс,2020-01-14,5\nВКонтакте,2020-01-14,3\nMail,2020-01-15,1\n",
        encoding="cp1251",
    )
    # Blank lines between rows (lines 3 and 5): read, so counted.
    text(
        "orders_blank_lines.csv",
        ORDERS_HEADER + "1,2020-01-14 10:00:00,5\n\n2,2020-01-14 11:00:00,6\n\n"
        "3,2020-01-15 12:00:00,7\n",
    )
    # Revenue column called "Amount Paid": no column maps to revenue.
    text("orders_missing_column.csv", "Buy Ts,Amount Paid,Uid\n2020-01-14 10:00:00,1.0,1\n")
    # One order dated 2999 (after the time of loading).
    text(
        "orders_future.csv",
        ORDERS_HEADER
        + "1,2020-01-14 10:00:00,5\n2,2020-01-15 10:00:00,6\n3,2999-01-01 00:00:00,7\n",
    )
    # A NUL byte inside a value on line 3.
    text(
        "orders_nul_byte.csv",
        ORDERS_HEADER + "1,2020-01-14 10:00:00,5\nu\x002,2020-01-14 11:00:00,6\n"
        "3,2020-01-15 12:00:00,7\n",
    )
    # Not a SQLite database, whatever the name says.
    text("orders_not_sqlite.sqlite", GOOD_ORDERS)
    # A final line without a newline.
    text("orders_no_final_newline.csv", GOOD_ORDERS + "3,2020-01-15 12:00:00,8")
    # Only the sources = [] config below.
    text("sources_empty.toml", "[orders]\nsources = []\n")
    # A config whose path is relative to the config file's folder (this folder).
    text("relative_path.toml", '[orders]\npath = "orders_crlf.csv"\n')


def binary_files() -> None:
    parquet(
        "orders_float_ids.parquet",
        pa.table(
            {
                "user_id": pa.array([1.0, 2.0**63 + 2048, 2.0**64 - 4096], pa.float64()),
                "ts": ["2020-01-14 10:00:00", "2020-01-14 11:00:00", "2020-01-15 12:00:00"],
                "revenue": [1.0, 2.0, 3.0],
            }
        ),
    )
    parquet(
        "orders_fractional_ids.parquet",
        pa.table(
            {
                "user_id": pa.array([1.5, 2.0, -3.0], pa.float64()),
                "ts": ["2020-01-14 10:00:00"] * 3,
                "revenue": [1.0, 1.0, 1.0],
            }
        ),
    )
    parquet(
        "orders_nonfinite.parquet",
        pa.table(
            {
                "user_id": ["1", "2", "3", "4"],
                "ts": ["2020-01-14 10:00:00"] * 2 + ["2020-01-15 10:00:00"] * 2,
                "revenue": pa.array([float("nan"), float("inf"), 5.0, 7.0], pa.float64()),
            }
        ),
    )
    # The first half of a valid Parquet file: the footer is missing.
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"user_id": list(range(200)), "ts": ["2020-01-14"] * 200, "revenue": [1.0] * 200}),
        buffer,
    )
    (HERE / "orders_corrupt.parquet").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    body = ORDERS_HEADER + "".join(f"{i},2020-01-14 10:00:00,{i}.5\n" for i in range(20_000))
    data = gzip.compress(body.encode(), compresslevel=9, mtime=0)
    (HERE / "orders_truncated.csv.gz").write_bytes(data[: len(data) // 2])

    # Line 3 is 3 MB long (over DuckDB's default 2 MB line limit).
    gz(
        "orders_long_line.csv.gz",
        (
            ORDERS_HEADER
            + "1,2020-01-14 10:00:00,5\n"
            + "2,2020-01-14 11:00:00,"
            + "9" * 3_000_000
            + "\n3,2020-01-15 12:00:00,7\n"
        ).encode(),
    )
    # Decompression bombs: 8 MB of one repeated row from a few kB (loaded with a 1 MB cap).
    bomb = (ORDERS_HEADER + "1,2020-01-14 10:00:00,5\n" * 350_000).encode()
    gz("orders_bomb.csv.gz", bomb)
    zipped("orders_bomb.zip", {"orders.csv": bomb})

    zipped("orders_traversal.zip", {"../evil.csv": GOOD_ORDERS.encode()})
    zipped(
        "orders_two_members.zip",
        {"orders_2019.csv": GOOD_ORDERS.encode(), "orders_2020.csv": GOOD_ORDERS.encode()},
    )
    zipped("orders_no_data.zip", {"README.md": b"# nothing here\n"})
    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("orders.csv", date_time=_ZIP_TIME)
        archive.writestr(info, (GOOD_ORDERS * 50).encode(), compress_type=zipfile.ZIP_DEFLATED)
    (HERE / "orders_truncated.zip").write_bytes(whole.getvalue()[:60])

    sqlite(
        "orders_tables.sqlite",
        "CREATE TABLE orders (user_id TEXT, ts TEXT, revenue REAL);"
        "INSERT INTO orders VALUES ('1', '2020-01-14 10:00:00', 5.0),"
        " ('2', '2020-01-14 11:00:00', 6.0), ('3', '2020-01-15 12:00:00', 7.0);"
        "CREATE TABLE refunds (user_id TEXT, ts TEXT, amount REAL);"
        "INSERT INTO refunds VALUES ('1', '2020-01-16 10:00:00', 5.0);",
    )

    excel()


def excel() -> None:
    """A workbook with two sheets: 'Orders' (the data) and 'Notes'."""
    import xlsxwriter  # type: ignore[import-untyped]

    path = HERE / "orders_workbook.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": datetime(2020, 1, 1)})
    notes = book.add_worksheet("Notes")
    notes.write_row(0, 0, ["exported by the shop"])
    orders = book.add_worksheet("Orders")
    rows = [
        ["Uid", "Buy Ts", "Revenue"],
        ["1", "2020-01-14 10:00:00", 5.0],
        ["2", "2020-01-14 11:00:00", 6.0],
        ["3", "2020-01-15 12:00:00", 7.0],
    ]
    for i, row in enumerate(rows):
        orders.write_row(i, 0, row)
    book.close()
    # Two bytes of a zip: an .xlsx that is not a workbook.
    (HERE / "orders_broken.xlsx").write_bytes(b"PK")


def main() -> None:
    text_files()
    binary_files()
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
    print(f"corpus: {total:,} bytes in {sum(1 for _ in HERE.iterdir())} files")


if __name__ == "__main__":
    main()
