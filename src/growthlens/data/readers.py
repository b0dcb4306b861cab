"""Read one source (a file, a frame, an Ibis table) into the backend, headers untouched.

Readers return the table with its own headers; :mod:`growthlens.data.canonical` then maps
and types it. Id columns are read as text so ids above 2**63 never pass through a float.

Row-oriented files (CSV, JSON) are read once into a backend table, so a truncated gzip,
a ragged line or a value the type sniffer did not expect fails here, naming the file,
instead of inside a later query. Columnar sources (Parquet, DuckDB files, Ibis tables)
stay lazy.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import glob
import hashlib
import importlib.util
import json
import os
import re
import sqlite3
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from growthlens.data.config import SourceSpec
from growthlens.data.excel import read_excel
from growthlens.data.headers import check_unique_headers
from growthlens.data.members import choose_member
from growthlens.data.textfile import (
    Limits,
    copy_capped,
    inflate_gzip,
    scan_lines,
    to_utf8,
    unify_line_ends,
)
from growthlens.engine import capabilities
from growthlens.errors import DataError

_SQLITE_BATCH = 100_000
# ADBC's SQLite driver builds Arrow in C; the standard library is the fallback without it.
_SQLITE_READER = "adbc" if importlib.util.find_spec("adbc_driver_sqlite") else "sqlite3"
DEFAULT_LIMITS = Limits()
# DuckDB would take key=value folders in a file's path as columns by itself; partitions
# are read only for a folder or glob source, the same way on every engine (_join_parts).
_NO_HIVE = {"hive_partitioning": False}
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
    ".duckdb": "duckdb",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".ods": "excel",
}
_SUFFIX_HELP = (
    ".csv, .csv.gz, .tsv, .zip, .parquet, .json, .jsonl, .sqlite, .db, .duckdb, .xlsx, .xls or .ods"
)


@dataclass(frozen=True)
class RawSource:
    """A source as read.

    Attributes:
        table: the rows with the source's own headers.
        label: what messages call it (a file name, ``"the orders frame"``).
        columnar: reading it again is cheap (Parquet, database tables, frames, Ibis
            tables, row files already copied into the backend).
        owned: name of a backend table the reader created for this source alone; the
            loader may drop it once it has stored its own typed copy.
        skipped: lines the reader left out, by reason (``blank_line``: empty lines;
            ``comment_line``: lines starting with the source's ``comment`` character;
            ``unreadable_line``: lines that are not rows of the table, e.g. with too many
            fields); counted as rows read and excluded, so rows read = accepted + excluded.
        skipped_examples: per reason, the first skipped lines: ``line`` (1-based, the
            header is line 1) and, for unreadable lines, ``problem``, ``text`` and the
            reader's ``detail``; in a file set (a folder, a glob) also the ``source`` file.
        text: the CSV as UTF-8 text with its delimiter, for finding the line numbers of
            values that cannot be read (``None`` for other formats).
        sniffed: header → the non-ISO date or time format the CSV reader chose for it by
            itself (e.g. ``%d/%m/%Y``), to be said where another reading would also fit.
        spanning: line breaks inside quoted values (the CSV has that many more lines than
            rows and skipped lines), to be said: rows read are then fewer than lines.
        also_owned: further backend tables created for this source (the files of a
            folder or glob read one by one), to be dropped with ``owned``.
    """

    table: ir.Table
    label: str
    columnar: bool
    owned: str | None = None
    skipped: Mapping[str, int] = field(default_factory=dict)
    skipped_examples: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    text: tuple[Path, str] | None = None
    sniffed: Mapping[str, str] = field(default_factory=dict)
    spanning: int = 0
    also_owned: tuple[str, ...] = ()

    @property
    def owned_tables(self) -> tuple[str, ...]:
        """Every backend table the reader created for this source (one per file of a set)."""
        return ((self.owned,) if self.owned is not None else ()) + self.also_owned


HeaderResolver = Callable[[Sequence[str]], Mapping[str, str]]
"""Given a source's headers, the type some must be read as: ``VARCHAR`` (ids, values whose
format the user states) or ``DOUBLE`` (numbers, so no reader guesses ``inf`` is a date)."""


def text_headers(types: Mapping[str, str]) -> list[str]:
    """The headers a resolver wants read as text."""
    return [h for h, t in types.items() if t == "VARCHAR"]


def read_spec(
    con: BaseBackend,
    spec: SourceSpec,
    *,
    base_dir: Path,
    id_headers: HeaderResolver,
    workdir: Path,
    limits: Limits = DEFAULT_LIMITS,
) -> RawSource:
    """Read a file source described by ``spec``: one file, a folder or a glob.

    Compressed input (``.gz``, zip members) is inflated into ``workdir`` under ``limits``
    (per file). A folder or a glob pattern is a file set (:func:`list_file_set`): every
    data file of it is read and the rows joined, as one source (:func:`_read_file_set`).

    Raises:
        DataError: the file is missing, empty, of an unknown format, unsafe (a zip member
            escaping the folder, a decompression bomb) or unreadable (truncated gzip,
            malformed CSV, text not in its encoding); a file set is empty, mixes formats
            or column sets, or reaches outside its folder.
    """
    path = Path(spec.path).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if path.is_dir() or (is_pattern(spec.path) and not path.exists()):
        return _read_file_set(
            con, spec, path, id_headers=id_headers, workdir=workdir, limits=limits
        )
    return _read_file(
        con, spec, path, id_headers=id_headers, workdir=workdir, limits=limits, empty_ok=False
    )


def _read_file(
    con: BaseBackend,
    spec: SourceSpec,
    path: Path,
    *,
    id_headers: HeaderResolver,
    workdir: Path,
    limits: Limits,
    empty_ok: bool,
) -> RawSource:
    """Read one file (``empty_ok``: a CSV with a header and no rows is 0 rows, not an error)."""
    label = path.name
    if not path.exists():
        raise DataError(
            "file not found",
            source=str(path),
            found=_nearby_files(path),
            fix="check the path; in growthlens.toml relative paths are resolved against the "
            "config file's folder, in gl.load(...) against the working directory",
        )
    if path.is_dir():
        raise DataError(
            "the path is a folder, not a file",
            source=str(path),
            found=_nearby_files(path / "x"),
            fix="point the source at one file inside it",
        )
    if path.stat().st_size == 0:
        raise DataError(
            "the file is empty (0 bytes)",
            source=label,
            expected="a header line and rows",
            found="nothing",
            fix="re-export the table; no rows were loaded from it",
        )
    fmt = spec.format or _format_of(path)
    inner_table = spec.table
    if fmt == "zip":
        path, fmt, table_was_member = _unzip(path, spec.member, spec.table, workdir, limits)
        label = f"{label}:{path.name}"
        if table_was_member:
            inner_table = None
    if path.name.lower().endswith(".gz"):
        # Inflated under the caps first: the engine would expand a bomb without limit.
        plain = Path(tempfile.mkdtemp(dir=workdir)) / path.name[: -len(".gz")]
        path = inflate_gzip(path, plain, limits=limits, label=label)
    try:
        if fmt == "csv":
            return _read_csv(con, path, spec, label, id_headers, workdir, empty_ok=empty_ok)
        if fmt == "parquet":
            table = _on_backend(con, lambda c: c.read_parquet(str(path), **_NO_HIVE), label)
            return RawSource(table, label, columnar=True)
        if fmt == "json":
            return _read_json(con, path, label)
        if fmt == "sqlite":
            return _read_sqlite(con, path, inner_table, label, id_headers)
        if fmt == "duckdb":
            return _read_duckdb_file(con, path, inner_table, label)
        if fmt == "excel":
            arrow, sheet = read_excel(
                path,
                sheet=spec.sheet,
                label=label,
                text_columns=lambda headers: text_headers(id_headers(headers)),
            )
            name = ibis.util.gen_name("growthlens_sheet")
            table = upload(con, name, _without_null_types(arrow))
            return RawSource(table, f"{label}:{sheet}", columnar=True, owned=name)
    except DataError:
        raise
    except Exception as exc:  # engine errors: bad quoting, corrupt parquet, …
        bad_line = _first_bad_json_line(path) if fmt == "json" else None
        raise DataError(
            f"cannot read the file as {fmt}"
            + (f": line {bad_line[0]} is not one JSON value" if bad_line else ""),
            source=label,
            found=f"line {bad_line[0]}: {bad_line[1]}" if bad_line else engine_message(exc),
            fix="check that the file is complete and of the stated format (export it "
            'again, or set format = "csv" | "parquet" | "json" | "sqlite" | "duckdb" | '
            '"excel" in its source)',
        ) from exc
    raise DataError(
        f"unknown format {fmt!r}",
        source=label,
        expected="csv, parquet, json, sqlite, duckdb or excel",
        fix='set format = "csv" (or parquet, json, sqlite, duckdb, excel) in the source',
    )


def read_object(con: BaseBackend, obj: Any, *, label: str) -> RawSource:
    """Read an in-memory frame (pandas, Polars, Arrow) or adopt an Ibis table."""
    if isinstance(obj, ir.Table):
        return RawSource(obj, label, columnar=True)
    arrow = _to_arrow(obj, label)
    if arrow.num_rows == 0:
        raise DataError(
            "the frame has no rows",
            source=label,
            found=", ".join(arrow.column_names) or "no columns",
            fix="pass a frame with rows, or leave the table out",
        )
    name = ibis.util.gen_name("growthlens_frame")
    table = upload(con, name, arrow)
    return RawSource(table, label, columnar=True, owned=name)


def _to_arrow(obj: Any, label: str) -> pa.Table:
    table = _without_null_types(_as_arrow(obj, label))
    check_unique_headers(table.column_names, label)
    return table


def _without_null_types(table: pa.Table) -> pa.Table:
    """An all-empty column has Arrow type null, which engines cannot store: make it text."""
    for i, column in enumerate(table.schema):
        if pa.types.is_null(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
    return table


def _as_arrow(obj: Any, label: str) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    try:
        if module == "pandas" and hasattr(obj, "columns"):
            check_unique_headers([str(c) for c in obj.columns], label)
            # preserve_index=False: a RangeIndex is not data.
            return pa.Table.from_pandas(obj, preserve_index=False)
        if module == "polars" and hasattr(obj, "to_arrow"):
            if hasattr(obj, "collect"):  # a LazyFrame
                obj = obj.collect()
            return obj.to_arrow()
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise DataError(
            "cannot convert the frame to Arrow",
            found=engine_message(exc),
            source=label,
            fix="give every column one type (e.g. ids all text or all integers)",
        ) from exc
    raise DataError(
        f"cannot use an object of type {type(obj).__name__} as a table",
        source=label,
        expected="a path, a dict with 'path', a list of those, "
        "a pandas/Polars/Arrow frame or an Ibis table",
        found=type(obj).__name__,
        fix="pass a file path or a DataFrame",
    )


def _nearby_files(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"no folder {folder}"
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    if not names:
        return f"no files in {folder}"
    close = difflib.get_close_matches(path.name, names, n=5, cutoff=0.4)
    shown = close or names[:8]
    more = "" if close or len(names) <= 8 else f" (and {len(names) - 8} more)"
    return f"in {folder}: " + ", ".join(shown) + more


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".zip":
        return "zip"
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise DataError(
        "cannot tell the file format from its name",
        source=path.name,
        expected=f"a name ending in {_SUFFIX_HELP}",
        found=path.suffix or "no suffix",
        fix='rename the file or set format = "csv" (or parquet, json, sqlite, duckdb, excel) in '
        "its source",
    )


def is_excel(spec: SourceSpec) -> bool:
    """Whether the source is a workbook (its cells carry their own types)."""
    if spec.format is not None:
        return spec.format == "excel"
    # The same reading of the name as the reader's (a member of a zip names the format).
    return _member_format(spec.member or spec.path) == "excel"


def _member_fix(archive: str, candidates: list[str]) -> str:
    """How to name the member, in the config, in Python and on the command line."""
    if not candidates:
        return "put the data file into the archive, or pass the file itself"
    example = candidates[0]
    return (
        f'name it in growthlens.toml: path = "{archive}" and member = "{example}" in the '
        f'table\'s section; in Python: {{"path": "{archive}", "member": "{example}"}}; '
        "on the command line, which takes whole files, extract it and pass the file"
    )


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The archive, or a DataError saying it is not a valid zip."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(
            "not a valid zip archive (truncated or corrupt)",
            source=path.name,
            fix="download or export the archive again",
        ) from exc


def _checked_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The archive's files, each path checked before anything is extracted."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    for info in infos:
        _check_member(info, name)
    return infos


def _unzip(
    path: Path, member: str | None, table: str | None, workdir: Path, limits: Limits
) -> tuple[Path, str, bool]:
    """Extract one data member of a zip safely.

    ``member`` names the member; without it ``table`` may name one (older configs) or a
    table inside a zipped database. Returns the extracted path, its format and whether
    ``table`` was used as the member name.
    """
    with _open_zip(path) as archive:
        infos = _checked_members(archive, path.name)
        data = [
            i
            for i in infos
            if _member_format(i.filename) is not None and not i.filename.startswith("__MACOSX")
        ]
        table_was_member = False
        if member is not None:
            data = [i for i in data if member in (i.filename, PurePosixPath(i.filename).name)]
        elif table is not None:
            named = [i for i in data if table in (i.filename, PurePosixPath(i.filename).name)]
            if named:
                data, table_was_member = named, True
        if len(data) != 1:
            names = [i.filename for i in infos]
            raise DataError(
                "cannot choose the data file inside the archive"
                if data
                else "no data file inside the archive",
                source=path.name,
                expected="exactly one .csv/.parquet/.json/.sqlite/.duckdb member, "
                'or member = "<name>" in the source',
                found=", ".join(names) or "an empty archive",
                fix=_member_fix(path.name, [i.filename for i in data]),
            )
        info = data[0]
        target = _extract(archive, info, path, workdir, limits)
        fmt = _member_format(info.filename)
        if fmt is None:  # pragma: no cover - filtered above
            raise AssertionError(info.filename)
        return target, fmt, table_was_member


def _extract(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, workdir: Path, limits: Limits
) -> Path:
    """Extract one member under the caps, once per load.

    A database whose tables are read one by one (or named in several sections of a
    config) is then not inflated again for each. The copy's folder is named after the
    archive (path, size, time) and the member, and the copy is renamed into place only
    when complete, so a reused copy is always whole.
    """
    stat = path.stat()
    stamp = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{info.filename}|{info.CRC}"
    target_dir = workdir / f"zip-{hashlib.sha256(stamp.encode()).hexdigest()[:20]}"
    target = target_dir / PurePosixPath(info.filename).name
    if target.is_file():
        return target
    target_dir.mkdir(exist_ok=True)
    partial = target_dir / (target.name + ".partial")
    try:
        # The sizes the archive declares can lie: the caps hold on what comes out.
        with archive.open(info) as src, partial.open("wb") as dst:
            copy_capped(
                src,
                dst,
                packed=stat.st_size,
                limits=limits,
                label=path.name,
                what=f"the member {info.filename!r}",
            )
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"the archive member {info.filename!r} cannot be extracted: {exc}",
            source=path.name,
            fix="download or export the archive again",
        ) from exc
    except BaseException:  # a cap reached: nothing half-written stays behind
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return target


def zip_data_members(path: Path) -> list[str]:
    """The data files inside a zip (by name), after checking every member's path.

    Raises:
        DataError: the file is not a zip, or a member's path would escape the
            extraction folder (nothing is extracted then).
    """
    with _open_zip(path) as archive:
        infos = _checked_members(archive, path.name)
        return [
            i.filename
            for i in infos
            if _member_format(i.filename) is not None and not i.filename.startswith("__MACOSX")
        ]


def extract_member(path: Path, member: str, *, workdir: Path, limits: Limits) -> Path:
    """Extract the zip member named ``member`` as a source naming it would (cached per load)."""
    extracted, _, _ = _unzip(path, member, None, workdir, limits)
    return extracted


def member_format(name: str) -> str | None:
    """The format a file of this name is read as (``sqlite``, ``csv``, …), if any."""
    return _member_format(name)


def sqlite_tables(path: Path, label: str) -> list[str]:
    """The tables and views of a SQLite file, by name.

    Raises:
        DataError: the file cannot be opened or is not a SQLite database.
    """
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open the SQLite file: {exc}", source=label) from exc
    try:
        return _sqlite_names(db, label)
    finally:
        db.close()


def sqlite_empty_tables(path: Path, tables: Sequence[str], label: str) -> list[str]:
    """Those of ``tables`` (present in the SQLite file) that hold no row."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open the SQLite file: {exc}", source=label) from exc
    try:
        return [
            t
            for t in tables
            if db.execute(f"SELECT 1 FROM {_sqlite_ident(t)} LIMIT 1").fetchone() is None
        ]
    except sqlite3.DatabaseError as exc:
        raise DataError(f"cannot read the SQLite file: {exc}", source=label) from exc
    finally:
        db.close()


def _sqlite_names(db: sqlite3.Connection, label: str) -> list[str]:
    try:
        return [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name"
            )
        ]
    except sqlite3.DatabaseError as exc:
        raise DataError(
            f"not a SQLite database: {exc}",
            source=label,
            fix='set format = "csv" (or the real format) in the source',
        ) from exc


def _check_member(info: zipfile.ZipInfo, label: str) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise DataError(
            f"the archive has a member with an unsafe path {info.filename!r} "
            "(it would be written outside the extraction folder); nothing was extracted",
            source=label,
            fix="re-create the archive with plain relative member names",
        )


def _member_format(name: str) -> str | None:
    try:
        fmt = _format_of(Path(name))
    except DataError:
        return None
    return None if fmt == "zip" else fmt


def _read_csv(
    con: BaseBackend,
    path: Path,
    spec: SourceSpec,
    label: str,
    id_headers: HeaderResolver,
    workdir: Path,
    *,
    empty_ok: bool = False,
) -> RawSource:
    if spec.encoding and spec.encoding != "utf-8":
        # Converted to UTF-8 first, so every reader after this sees the text as written.
        utf8 = Path(tempfile.mkdtemp(dir=workdir)) / path.name
        path = to_utf8(path, utf8, encoding=spec.encoding, label=label)
    # No comment character unless the source names one: DuckDB would otherwise guess one
    # and drop every line that starts with it ("#1 partner" is a source name, not a note).
    # Quotes are '"' (doubled inside a value), as CSV says: a sniffer that saw a broken
    # quote would otherwise read the whole file without quoting, keeping '"u1"' as an id.
    options: dict[str, Any] = {
        "header": True,
        "comment": spec.comment or "",
        "quote": '"',
        "escape": '"',
    }
    if spec.delimiter:
        options["delim"] = spec.delimiter
    elif path.name.lower().endswith(".tsv"):
        options["delim"] = "\t"
    elif (delimiter := _header_delimiter(path)) is not None:
        # Chosen from the header line: DuckDB's sniffer reads a sample of rows, and a few
        # ragged lines there can make it guess another delimiter for the whole file.
        options["delim"] = delimiter
    # Lines the reader skips by itself (blank, comment) are counted, with where: first the
    # lines alone (cheap); blank lines are looked for when the lines are more than the rows.
    scan = scan_lines(path, spec.comment, blanks=bool(spec.comment))
    if scan.mixed_line_ends:  # the reader needs one line end; the lines stay as they are
        path = unify_line_ends(path, Path(tempfile.mkdtemp(dir=workdir)) / path.name)
    headers, sniffable = _csv_headers(path, options, label)
    types = dict(id_headers(headers))
    # Lines that are not rows of the table (too many or too few fields, a broken quote)
    # are set aside by DuckDB with their line numbers, then counted and shown: never
    # dropped unseen. A value of the wrong type is not such a line: the typed read then
    # starts again as text, and the canonical typing names the column.
    reader = con if capabilities(con).native_files else ibis.duckdb.connect()
    # A file the sniffer cannot read (a quote left open, a line over its size limit) is
    # read as text with the columns of its header line: its bad lines are then set aside.
    unsniffed = {"auto_detect": False, "columns": dict.fromkeys(headers, "VARCHAR")}
    for typed in (True, False) if sniffable else (False,):
        rejects = ibis.util.gen_name("growthlens_rejects")
        kind: dict[str, Any] = (
            {"types": types or None} if typed else {"all_varchar": True} if sniffable else unsniffed
        )

        def read(c: BaseBackend, kind: dict[str, Any] = kind, rejects: str = rejects) -> ir.Table:
            return c.read_csv(
                str(path),
                **kind,
                **options,
                **_NO_HIVE,
                ignore_errors=True,
                store_rejects=True,
                rejects_table=rejects,
                rejects_scan=f"{rejects}_scan",
            )

        raw = _materialize(con, read, label, reader=reader)
        bad = _rejected_lines(reader, rejects)
        if not (typed and any(line["problem"] == "CAST" for line in bad)):
            break
        _drop_table(con, raw.owned)
    lines = [line for line in bad if line["problem"] != "CAST"]
    _refuse_invalid_text(lines, label)
    _refuse_open_quote(lines, label)
    rows = int(raw.table.count().to_pyarrow().as_py())
    if not spec.comment and scan.lines - 1 > rows + len(lines):
        scan = scan_lines(path)
    skipped = {"blank_line": scan.blank}
    examples: dict[str, tuple[Mapping[str, Any], ...]] = {
        "blank_line": tuple({"line": n, "problem": "blank line"} for n in scan.blank_lines)
    }
    if spec.comment:
        skipped["comment_line"] = scan.comments
        examples["comment_line"] = tuple(
            {"line": n, "problem": "comment line"} for n in scan.comment_lines
        )
    if not lines and not scan.comments and not rows and not empty_ok:
        raise DataError(
            "the file has a header but no rows",
            source=label,
            found="header " + ", ".join(headers),
            fix="re-export the table with its rows, or leave the table out",
        )
    skipped["unreadable_line"] = len(lines)
    examples["unreadable_line"] = tuple(lines[:EXAMPLE_LINES])
    return replace(
        raw,
        skipped={k: n for k, n in skipped.items() if n},
        skipped_examples={k: v for k, v in examples.items() if skipped.get(k)},
        text=(path, options.get("delim", ",")),
        sniffed=_sniffed_formats(path, options, raw.table) if typed else {},
        # Lines beyond rows and skipped lines: line breaks inside quoted values.
        spanning=max(0, scan.lines - 1 - rows - len(lines) - scan.blank - scan.comments),
    )


EXAMPLE_LINES = 3


def _refuse_open_quote(lines: Sequence[Mapping[str, Any]], label: str) -> None:
    """A quote opened and never closed makes the rest of the file one value: say where."""
    open_quote = [line for line in lines if "\n" in str(line["text"])]
    if not open_quote:
        return
    first = open_quote[0]
    spans = str(first["text"]).count("\n") + 1
    raise DataError(
        f"line {first['line']} opens a quote that is never closed, so the {spans} lines from "
        "there on would be read as one value",
        source=label,
        expected='a closing " for every opening one (a " inside a value written as "")',
        found=f"line {first['line']}: {str(first['text']).splitlines()[0][:200]!r}",
        fix="correct the quote on that line (or remove it), then load again",
    )


def _refuse_invalid_text(lines: Sequence[Mapping[str, Any]], label: str) -> None:
    """Bytes that are not UTF-8 mean the whole file is in another encoding: say which."""
    invalid = [line for line in lines if line["problem"] in ("INVALID ENCODING", "INVALID UNICODE")]
    if not invalid:
        return
    first = invalid[0]
    raise DataError(
        f"the file is not UTF-8 text: {len(invalid):,} line(s) hold bytes that are not "
        f"UTF-8, the first at line {first['line']}",
        source=label,
        expected="UTF-8 text, or the file's encoding stated in its source",
        found=f"line {first['line']}: {first['text']!r} ({first['detail']})",
        fix='set encoding = "cp1251" (Cyrillic Windows exports), "cp1252" (Western '
        'European), "latin-1" or "utf-16" in the source: whichever the file was saved in',
    )


def _sniffed_formats(path: Path, options: Mapping[str, Any], table: ir.Table) -> dict[str, str]:
    """Headers of columns the CSV reader typed as dates or times from day/month text."""
    timed = [n for n, t in table.schema().items() if t.is_date() or t.is_timestamp()]
    if not timed:
        return {}
    import duckdb

    args = "".join(f", {k} = {_sql_literal(v)}" for k, v in options.items() if k not in ("header",))
    probe = duckdb.connect()
    try:
        query = (
            "SELECT DateFormat, TimestampFormat, Columns "
            f"FROM sniff_csv('{_sql_string(str(path))}'{args}, ignore_errors = true)"
        )
        row = probe.execute(query).fetchone()
    except duckdb.Error:
        return {}  # the read succeeded; without the sniffer's formats nothing more to say
    finally:
        probe.close()
    if row is None:
        return {}
    date_format, timestamp_format, columns = row
    kinds = {c["name"]: c["type"] for c in columns}
    found: dict[str, str] = {}
    for header in timed:
        fmt = date_format if kinds.get(header) == "DATE" else timestamp_format
        if fmt and _day_month_first(str(fmt)):
            found[header] = str(fmt)
    return found


def _day_month_first(fmt: str) -> bool:
    """A format with day and month before the year (03/04/2020), unlike ISO's year first."""
    year = max(fmt.find("%Y"), fmt.find("%y"))
    return "%d" in fmt and "%m" in fmt and year > max(fmt.index("%d"), fmt.index("%m"))


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{_sql_string(str(value))}'"


def _rejected_lines(reader: BaseBackend, rejects: str) -> list[dict[str, Any]]:
    """The lines DuckDB set aside, in file order: line number, problem and the text."""
    rows = reader.raw_sql(  # type: ignore[attr-defined]
        f'SELECT line, error_type, csv_line, error_message FROM "{rejects}" ORDER BY line'
    ).fetchall()
    # DuckDB may report one line more than once (once per extra field): one line, once.
    first: dict[int, dict[str, Any]] = {}
    for line, kind, text, detail in rows:
        first.setdefault(
            int(line),
            {
                "line": int(line),
                "problem": str(kind),
                # Kept whole when it spans lines (an open quote): its line count is the news.
                "text": str(text).strip("\r\n")
                if "\n" in str(text).strip("\r\n")
                else str(text).strip("\r\n")[:200],
                "detail": str(detail),
            },
        )
    for name in (rejects, f"{rejects}_scan"):
        _drop_table(reader, name)
    return list(first.values())


def _drop_table(con: BaseBackend, name: str | None) -> None:
    if name is not None:
        with contextlib.suppress(Exception):  # a leftover temp table is harmless
            con.drop_table(name, force=True)


def _header_delimiter(path: Path) -> str | None:
    """The delimiter the header line uses most (``,``, ``;``, tab or ``|``), if any."""
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as lines:
            header = lines.readline()
    except OSError:
        return None  # the reader reports what is wrong with the file
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else None


def _first_bad_json_line(path: Path, budget: int = 256 * 1024**2) -> tuple[int, str] | None:
    """For JSON lines: the first line that is not one JSON value, and why (error path only).

    The engine's parser reads past a broken line's end and names the line after it.
    """
    if not path.name.lower().endswith((".jsonl", ".ndjson")):
        return None
    read = 0
    with path.open(encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            read += len(line)
            if read > budget:
                return None
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError as exc:
                return number, f"{line.strip()[:200]!r} ({exc})"
    return None


def _read_json(con: BaseBackend, path: Path, label: str) -> RawSource:
    # JSON lines are one object per line: said, so an error names the line it is on
    # (guessing the layout, the reader counts lines differently).
    lines = path.name.lower().endswith((".jsonl", ".ndjson"))
    options = {"format": "newline_delimited"} if lines else {}

    def read(c: BaseBackend) -> ir.Table:
        table = c.read_json(str(path), **options, **_NO_HIVE)
        # A field null in every record (GA4's float_value) has no type a table can store:
        # it becomes text, at any depth of nesting.
        typed = {name: _typed_nulls(t) for name, t in table.schema().items()}
        changed = {name: t for name, t in typed.items() if t != table.schema()[name]}
        return table.cast(changed) if changed else table

    return _materialize(con, read, label)


def _typed_nulls(dtype: dt.DataType) -> dt.DataType:
    """``dtype`` with every null type inside it replaced by text."""
    if dtype.is_null():
        return dt.string
    if dtype.is_struct():
        return dt.Struct({k: _typed_nulls(v) for k, v in dtype.fields.items()})  # type: ignore[attr-defined]
    if dtype.is_array():
        return dt.Array(_typed_nulls(dtype.value_type))  # type: ignore[attr-defined]
    if dtype.is_map():
        return dt.Map(_typed_nulls(dtype.key_type), _typed_nulls(dtype.value_type))  # type: ignore[attr-defined]
    return dtype


def _materialize(
    con: BaseBackend,
    read: Callable[[BaseBackend], ir.Table],
    label: str,
    *,
    reader: BaseBackend | None = None,
) -> RawSource:
    """Copy a row-oriented file into a backend table: one full read, errors named here.

    ``reader``: the DuckDB connection that reads the file when ``con`` cannot read files
    itself (a fresh one by default).
    """
    name = ibis.util.gen_name("growthlens_raw")
    if capabilities(con).native_files:
        table = con.create_table(name, read(con), temp=True)
    else:
        table = upload(con, name, read(reader or ibis.duckdb.connect()).to_pyarrow())
    return RawSource(table, label, columnar=True, owned=name)


def _csv_headers(path: Path, options: dict[str, Any], label: str) -> tuple[list[str], bool]:
    """The header names, and whether DuckDB's sniffer can read the file."""
    import duckdb

    # The Python API names some options differently from SQL's read_csv.
    renamed = {"delim": "sep", "quote": "quotechar", "escape": "escapechar"}
    probe_options = {renamed.get(k, k): v for k, v in options.items()}
    # Lines that are not rows are the read's to count; here they must not stop the probe.
    probe_options["ignore_errors"] = True
    probe = duckdb.connect()
    try:
        rel = probe.read_csv(str(path), all_varchar=True, **probe_options)
        headers = list(rel.columns)
        # DuckDB renames a repeated header ("a", "a_1"); the header line as written says
        # whether two columns really share a name.
        written = probe.read_csv(str(path), all_varchar=True, **{**probe_options, "header": False})
        first = written.limit(1).fetchall()
    except duckdb.Error as exc:
        # The sniffer reads a sample of rows; one line there can defeat it (a quote left
        # open, a line over its size limit). The header line alone gives the columns.
        own = _written_header(path, options.get("delim", ","))
        if len(own) < 2:
            raise DataError(
                "cannot read the file as CSV",
                source=label,
                found=engine_message(exc),
                fix="check that the file is complete CSV text; if it is not UTF-8, set its "
                'encoding (e.g. encoding = "cp1251") in the source',
            ) from exc
        check_unique_headers(own, label)
        return own, False
    finally:
        probe.close()
    if first and len(first[0]) == len(headers):
        check_unique_headers([str(h).strip() for h in first[0]], label)
    return headers, True


def _written_header(path: Path, delimiter: str) -> list[str]:
    """The header line's names as written (blank ones named as DuckDB does, ``column<i>``)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as file:
        names = next(csv.reader(file, delimiter=delimiter), [])
    return [name.strip() or f"column{i}" for i, name in enumerate(names)]


def _read_sqlite(
    con: BaseBackend, path: Path, table: str | None, label: str, id_headers: HeaderResolver
) -> RawSource:
    # DuckDB's sqlite extension is downloaded at run time (and pip's builds are tied to
    # older DuckDB versions), so it cannot be relied on: the rows come through Arrow.
    uri = f"file:{path}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open the SQLite file: {exc}", source=label) from exc
    try:
        names = _sqlite_names(db, label)
        chosen = choose_member(names, table, label, kind="table", container="database")
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({_sqlite_ident(chosen)})")]
        ids = set(text_headers(id_headers(columns)))
        plan = _sqlite_plan(db, chosen, columns, ids)
        if plan.rows == 0:
            raise DataError(
                f"the table {chosen!r} has no rows",
                source=label,
                fix='choose another table with table = "<name>", or leave the table out',
            )
        batches = (
            _adbc_batches(uri, plan) if _SQLITE_READER == "adbc" else _sqlite_batches(db, plan)
        )
        try:
            first = next(batches)
            name = ibis.util.gen_name("growthlens_sqlite")
            result = upload_batches(con, name, first, batches)
        finally:
            batches.close()
    finally:
        db.close()
    return RawSource(result, f"{label}:{chosen}", columnar=True, owned=name)


_Batches = Generator[pa.RecordBatch, None, None]


@dataclass(frozen=True)
class _SqlitePlan:
    """How one SQLite table is read: per column, the SQL value and its Arrow field.

    ``nullable``: whether the column holds a NULL (from the probe's ``count``).
    """

    table: str
    values: tuple[str, ...]
    schema: pa.Schema
    nullable: tuple[bool, ...]
    rows: int

    def select(self) -> str:
        """The SELECT of the columns under their own names."""
        named = zip(self.values, self.schema, strict=True)
        parts = [f"{value} AS {_sqlite_ident(f.name)}" for value, f in named]
        return f"SELECT {', '.join(parts)} FROM {_sqlite_ident(self.table)}"

    def flagged_select(self) -> str:
        """The SELECT for a reader that types each column from its first batch (ADBC).

        A column holding a NULL comes as its value with NULL replaced by a filler of its
        type (``v<i>``) and a flag of where the NULL was (``n<i>``): a first batch of NULLs
        alone would otherwise be typed integer, and the column's first text fail later.
        """
        fill = {pa.string(): "''", pa.float64(): "0.0", pa.int64(): "0"}
        parts: list[str] = []
        for i, (value, field_, nulls) in enumerate(
            zip(self.values, self.schema, self.nullable, strict=True)
        ):
            if nulls:
                parts += [
                    f"coalesce({value}, {fill[field_.type]}) AS v{i}",
                    f"{value} IS NULL AS n{i}",
                ]
            else:
                parts.append(f"{value} AS v{i}")
        return f"SELECT {', '.join(parts)} FROM {_sqlite_ident(self.table)}"

    def unflag(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """A batch of :meth:`flagged_select` as the table's columns, NULLs restored.

        Raises:
            pyarrow.ArrowInvalid: a text value is not valid UTF-8 (the standard library's
                reader refuses it too).
        """
        arrays: list[pa.Array] = []
        for i, (field_, nulls) in enumerate(zip(self.schema, self.nullable, strict=True)):
            values = batch.column(f"v{i}")
            if values.type != field_.type:
                values = values.cast(field_.type)
            if nulls:
                where = pc.not_equal(batch.column(f"n{i}"), 0)
                values = pc.if_else(where, pa.scalar(None, field_.type), values)
            if field_.type == pa.string():
                values.validate(full=True)
            arrays.append(values)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _sqlite_plan(
    db: sqlite3.Connection, table: str, columns: list[str], ids: set[str]
) -> _SqlitePlan:
    """One SQL value and Arrow type per column, from the values actually stored.

    SQLite columns can mix storage classes, so the declared type is not enough: one
    aggregate pass finds each column's classes, then it becomes int64, float64 or text:
    text when any value is text or a blob, or when every value is NULL; else float64 when
    any is real; else int64. Id columns are always text. The pass takes the least and
    greatest ``typeof`` per column: in text order blob < integer < null < real < text, so
    text shows as the greatest, a blob as the least, a real (with no text) as the
    greatest and an integer (with no blob) as the least.
    """
    ident = {c: _sqlite_ident(c) for c in columns}
    typed = [c for c in columns if c not in ids]
    probes = [
        "count(*)",
        *(f"count({ident[c]})" for c in columns),
        *(f"{f}(typeof({ident[c]}))" for c in typed for f in ("min", "max")),
    ]
    row = db.execute(f"SELECT {', '.join(probes)} FROM {_sqlite_ident(table)}").fetchone()
    rows = int(row[0])
    present = dict(zip(columns, row[1 : 1 + len(columns)], strict=True))
    bounds = {
        c: row[1 + len(columns) + 2 * i : 3 + len(columns) + 2 * i] for i, c in enumerate(typed)
    }
    values: list[str] = []
    fields: list[pa.Field] = []
    for column in columns:
        name = ident[column]
        if column in ids:
            # Integral reals (ids written through a float) keep their digits as text.
            expr = (
                f"CASE WHEN typeof({name}) = 'real' AND {name} = CAST({name} AS INTEGER) "
                f"THEN CAST(CAST({name} AS INTEGER) AS TEXT) ELSE CAST({name} AS TEXT) END"
            )
            typ = pa.string()
        else:
            low, high = bounds[column]
            if high == "text" or low == "blob" or not (low == "integer" or high == "real"):
                expr, typ = f"CAST({name} AS TEXT)", pa.string()
            elif high == "real":
                expr, typ = f"CAST({name} AS REAL)", pa.float64()
            else:
                expr, typ = name, pa.int64()
        values.append(expr)
        fields.append(pa.field(column, typ))
    nullable = tuple(int(present[c]) < rows for c in columns)
    return _SqlitePlan(table, tuple(values), pa.schema(fields), nullable, rows)


def _sqlite_batches(db: sqlite3.Connection, plan: _SqlitePlan) -> _Batches:
    """The rows through the standard library (the reader when ADBC is not installed)."""
    cursor = db.execute(plan.select())
    while rows := cursor.fetchmany(_SQLITE_BATCH):
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(col, type=f.type) for col, f in zip(columns, plan.schema, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, schema=plan.schema)


def _adbc_batches(uri: str, plan: _SqlitePlan) -> _Batches:
    """The rows through ADBC's SQLite driver: Arrow batches built in C, about 6× faster.

    The same SQL values as :func:`_sqlite_batches` (so the same text, numbers and NULLs),
    read by :meth:`_SqlitePlan.flagged_select`.
    """
    from adbc_driver_sqlite import StatementOptions, dbapi

    with (
        contextlib.closing(dbapi.connect(uri, autocommit=True)) as connection,
        contextlib.closing(connection.cursor()) as cursor,
    ):
        cursor.adbc_statement.set_options(**{StatementOptions.BATCH_ROWS.value: str(_SQLITE_BATCH)})
        cursor.execute(plan.flagged_select())
        for batch in cursor.fetch_record_batch():
            yield plan.unflag(batch)


def _read_duckdb_file(con: BaseBackend, path: Path, table: str | None, label: str) -> RawSource:
    if capabilities(con).native_files:
        # Attach read-only: the table stays in the file and is scanned lazily.
        alias = ibis.util.gen_name("growthlens_db")
        con.raw_sql(f"ATTACH '{_sql_string(str(path))}' AS \"{alias}\" (READ_ONLY)")
        found = con.raw_sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_catalog = '{alias}' ORDER BY 1, 2"
        ).fetchall()
        schemas = {name: schema for schema, name in found}
        chosen = choose_member(sorted(schemas), table, label, kind="table", container="database")
        attached = con.table(chosen, database=(alias, schemas[chosen]))
        return RawSource(attached, f"{label}:{chosen}", columnar=True)

    import duckdb

    try:
        db = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataError(
            "cannot open the DuckDB file", source=label, found=engine_message(exc)
        ) from exc
    try:
        names = [
            r[0]
            for r in db.sql(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        ]
        chosen = choose_member(names, table, label, kind="table", container="database")
        arrow = db.table(chosen).to_arrow_table()
    finally:
        db.close()
    name = ibis.util.gen_name("growthlens_duckdb")
    result = upload(con, name, arrow)
    return RawSource(result, f"{label}:{chosen}", columnar=True, owned=name)


def _sqlite_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def _on_backend(con: BaseBackend, read: Callable[[BaseBackend], ir.Table], label: str) -> ir.Table:
    """Read in place where the backend reads files itself; else via a private DuckDB + Arrow."""
    if capabilities(con).native_files:
        return read(con)
    local = ibis.duckdb.connect()
    arrow = read(local).to_pyarrow()
    # Backends without unsigned integers (Spark, Postgres) get ids as text later anyway.
    name = ibis.util.gen_name("growthlens_src")
    return upload(con, name, arrow)


def upload(con: BaseBackend, name: str, arrow: pa.Table) -> ir.Table:
    """Store an Arrow table in the backend under ``name``.

    On Spark, Ibis would go through pandas, where a null in a float or text column turns
    into NaN; Spark's own Arrow path keeps nulls as nulls (a temp view, no files).
    An engine without unsigned integers gets them widened first, losslessly
    (:func:`signed_arrow`).
    """
    if not capabilities(con).unsigned_ids:
        arrow = signed_arrow(arrow)
    if capabilities(con).arrow_views:
        con._session.createDataFrame(arrow).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, arrow, temp=_supports_temp(con))


def signed_arrow(arrow: pa.Table) -> pa.Table:
    """Unsigned integer columns widened to types every engine stores, values unchanged.

    ``uint8``/``uint16`` → ``int32``, ``uint32`` → ``int64``, ``uint64`` → ``decimal(20, 0)``
    (every 64-bit unsigned value fits; Spark cannot take unsigned Arrow types at all). Ids
    among them are turned into the canonical id type by the load afterwards.

    >>> t = signed_arrow(pa.table({"id": pa.array([2**64 - 1], pa.uint64())}))
    >>> t.schema.field("id").type, t["id"][0].as_py()
    (Decimal128Type(decimal128(20, 0)), Decimal('18446744073709551615'))
    """
    columns = []
    changed = False
    for field_, column in zip(arrow.schema, arrow.columns, strict=True):
        kind = field_.type
        if pa.types.is_unsigned_integer(kind):
            wide = (
                pa.decimal128(20, 0)
                if kind.bit_width == 64
                else pa.int64()
                if kind.bit_width == 32
                else pa.int32()
            )
            column = column.cast(wide)
            changed = True
        columns.append(column)
    if not changed:
        return arrow
    return pa.table(columns, names=arrow.column_names)


def upload_batches(
    con: BaseBackend, name: str, first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]
) -> ir.Table:
    """Store a stream of Arrow batches (``first``, then ``rest``) in the backend as ``name``.

    Where the engine takes Arrow itself (``arrow_views``: Spark), the batches are joined
    into one Arrow table and stored by :func:`upload`: Ibis's ``create_table`` and
    ``insert`` would pass them through pandas, where an integer column with a null becomes
    float64 and Spark then stores every value of it as null. Elsewhere the first batch
    creates the table and the others are appended, so one batch at a time is in memory.
    """
    if capabilities(con).arrow_views:
        return upload(con, name, pa.Table.from_batches([first, *rest]))
    table = con.create_table(name, pa.Table.from_batches([first]), temp=_supports_temp(con))
    for batch in rest:
        con.insert(name, pa.Table.from_batches([batch]))
    return table


def _supports_temp(con: BaseBackend) -> bool:
    return capabilities(con).temp_tables


def engine_message(exc: BaseException) -> str:
    """The engine's whole message on one line (its detail is often past the first line).

    Without the SQL it echoes (``LINE 1: SELECT …``), and with long runs of data (a 3 MB
    line it quotes) cut to their start.
    """
    text = str(exc).strip().split("\nLINE 1:")[0]
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    text = re.sub(r"\S{120,}", lambda m: f"{m.group()[:80]}… ({len(m.group()):,} characters)", text)
    return text[:2000] or type(exc).__name__


# A file set: a folder of data files, or a glob pattern, read as one source.

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
"""The partition value Spark and Hive write for a null key; read as null."""
_PATTERN = re.compile(r"[*?\[]")
_PARTITION = re.compile(r"([^=]+)=(.*)")
_FROM_FILE = "_growthlens_file_"  # a partition column also in the files, until checked


def is_pattern(text: str) -> bool:
    """Whether a source path is a glob pattern (holds ``*``, ``?`` or ``[``)."""
    return bool(_PATTERN.search(text))


def _side_file(relative: PurePosixPath) -> bool:
    """Whether a file is written beside the data, not data.

    Spark's and Hadoop's ``_SUCCESS``, ``_committed_*``, ``_temporary/``, ``.crc``
    checksums, hidden files: a name or folder starting with ``_`` or ``.``.
    """
    return any(p.startswith(("_", ".")) for p in relative.parts) or relative.name.lower().endswith(
        ".crc"
    )


@dataclass(frozen=True)
class FileSet:
    """The files of a folder or glob source, as they are read.

    Attributes:
        shown: the folder (``visits/``) or the pattern as the source gives it.
        root: the folder every file must lie in: the folder itself, or the pattern's
            leading folders before the first wildcard.
        files: the data files, in sorted path order.
        fmt: their one format (``parquet``, ``csv``, …).
        keys: Hive partition keys, from ``key=value`` folders, outermost first.
        partitions: per file, its partition values as text (``None`` for
            ``__HIVE_DEFAULT_PARTITION__``), URL-decoded as Spark writes them.
        ignored: side files and linked folders left out, relative to ``root``.
        empty: data files of 0 bytes, left out (they hold no rows).
    """

    shown: str
    root: Path
    files: tuple[Path, ...]
    fmt: str
    keys: tuple[str, ...] = ()
    partitions: tuple[tuple[str | None, ...], ...] = ()
    ignored: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()

    def relative(self, file: Path) -> str:
        """A file's path within the set, as messages show it."""
        return file.relative_to(self.root).as_posix()

    def describe(self, *notes: str) -> str:
        """The set in words, e.g. ``visits/ (3 parquet files; ignored: _SUCCESS, 3 .crc)``.

        ``notes``: further words, after the counts.

        >>> FileSet("visits/", Path("visits"), (Path("visits/a.csv"),), "csv",
        ...         ignored=("_SUCCESS", ".a.csv.crc")).describe()
        'visits/ (1 csv file; ignored: _SUCCESS, 1 .crc)'
        """
        n = len(self.files)
        words = [f"{n} {self.fmt} file{'s' if n != 1 else ''}"]
        if self.keys:
            words[0] += " partitioned by " + ", ".join(self.keys)
        crc = sum(1 for name in self.ignored if name.lower().endswith(".crc"))
        others = [name for name in self.ignored if not name.lower().endswith(".crc")]
        left_out = others[:3] + ([f"{len(others) - 3} more"] if len(others) > 3 else [])
        left_out += [f"{crc} .crc"] if crc else []
        if left_out:
            words.append("ignored: " + ", ".join(left_out))
        if self.empty:
            words.append(f"{len(self.empty)} empty file{'s' if len(self.empty) != 1 else ''}")
        words += notes
        return f"{self.shown} ({'; '.join(words)})"


def list_file_set(path: Path, *, shown: str, fmt: str | None = None) -> FileSet:
    """The data files of a folder (``path``) or a glob pattern (``path`` with wildcards).

    Rules: a folder is walked whole (its subfolders too); a pattern is Python's
    ``glob`` (``**`` spans folders; a matched folder is walked). Side files, any part of
    whose path starts with ``_`` or ``.`` or which end in ``.crc``, are ignored and
    counted; so are 0-byte files. Every other file must be of one format (``fmt``, else
    from its name). A file, or a linked folder, whose real path lies outside the folder
    (the pattern's folder before its first wildcard) is refused: a link must not make a
    source read files its folder does not hold. ``key=value`` folders are Hive
    partitions; every file must have the same keys.

    Raises:
        DataError: no data file, formats mixed, partition keys differing between files,
            or a path leaving the folder.
    """
    pattern = not path.is_dir()
    if pattern:
        fixed = list(_fixed_parts(path.parts))
        root = Path(*fixed) if fixed else Path(".")
        found = _glob_files(path, root, shown)
    else:
        root = path
        found = _walk(path, root, shown)
    real_root = root.resolve()
    files: list[Path] = []
    ignored: list[str] = []
    empty: list[str] = []
    for file in sorted(set(found), key=lambda p: p.as_posix()):
        rel = PurePosixPath(os.path.normpath(file.relative_to(root).as_posix()))
        if rel.parts[:1] == ("..",) or not file.resolve().is_relative_to(real_root):
            raise _escape_error(file, root, shown)
        if _side_file(rel) or file.is_dir():  # a linked folder inside: read where it is
            ignored.append(rel.as_posix())
        elif file.stat().st_size == 0:
            empty.append(rel.as_posix())
        else:
            files.append(file)
    if not files:
        raise DataError(
            "no file matches the pattern" if pattern else "the folder holds no data file",
            source=shown,
            expected="at least one data file (.parquet, .csv, .csv.gz, .json, …)",
            found=", ".join([*ignored, *empty][:8])
            or (_nearby_files(path) if pattern else "nothing"),
            fix="check the path and the pattern (relative paths are resolved against the config "
            "file's folder, or the working directory in gl.load(...)); side files (_SUCCESS, "
            ".crc, names starting with _ or .) and empty files are never read",
        )
    formats: dict[str, list[str]] = {}
    for file in files:
        formats.setdefault(fmt or _member_format(file.name) or "unknown", []).append(
            file.relative_to(root).as_posix()
        )
    if len(formats) > 1 or "unknown" in formats:
        raise DataError(
            "the files are not all of one known format",
            source=shown,
            expected="data files of one format (all .parquet, or all .csv/.csv.gz, …)",
            found="; ".join(
                f"{len(names)} {kind} ({', '.join(names[:2])}{', …' if len(names) > 2 else ''})"
                for kind, names in sorted(formats.items())
            ),
            fix="move the other files out of the folder, narrow the pattern (e.g. "
            "visits/*.parquet), or give each kind of file its own source; files without a "
            'known suffix need format = "parquet" (or csv, json) in the source',
        )
    keys, partitions = _partitions(files, root, shown)
    return FileSet(
        shown=shown,
        root=root,
        files=tuple(files),
        fmt=next(iter(formats)),
        keys=keys,
        partitions=partitions,
        ignored=tuple(ignored),
        empty=tuple(empty),
    )


def _fixed_parts(parts: Sequence[str]) -> Iterator[str]:
    """The leading parts of a path without wildcards (the folder a pattern lives in)."""
    for part in parts[:-1]:
        if is_pattern(part):
            return
        yield part


def _glob_files(path: Path, root: Path, shown: str) -> list[Path]:
    found: list[Path] = []
    for match in glob.glob(str(path), recursive=True):
        hit = Path(match)
        found += _walk(hit, root, shown) if hit.is_dir() else [hit] if hit.is_file() else []
    return found


def _walk(folder: Path, root: Path, shown: str) -> list[Path]:
    """Every file under ``folder``; linked folders are checked, never followed."""
    real_root = root.resolve()
    found: list[Path] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        for name in list(dirs):
            sub = Path(here) / name
            if sub.is_symlink():
                if not sub.resolve().is_relative_to(real_root):
                    raise _escape_error(sub, root, shown)
                found.append(sub)  # listed as ignored: its files are read where they are
                dirs.remove(name)
        found += [Path(here) / name for name in names]
    return found


def _escape_error(file: Path, root: Path, shown: str) -> DataError:
    return DataError(
        "a file of the set lies outside its folder (through a link or '..')",
        source=shown,
        expected=f"files inside {root}",
        found=f"{file} → {file.resolve()}",
        fix="point the source at the real folder, or copy the files into this one",
    )


def _partitions(
    files: Sequence[Path], root: Path, shown: str
) -> tuple[tuple[str, ...], tuple[tuple[str | None, ...], ...]]:
    """The Hive partition keys, and each file's values (text; the null marker → None)."""
    keys: tuple[str, ...] | None = None
    values: list[tuple[str | None, ...]] = []
    first = ""
    for file in files:
        folders = PurePosixPath(file.relative_to(root).as_posix()).parts[:-1]
        pairs = [m.groups() for part in folders if (m := _PARTITION.fullmatch(part))]
        these = tuple(urllib.parse.unquote(k) for k, _ in pairs)
        if keys is None:
            keys, first = these, file.relative_to(root).as_posix()
        elif these != keys:
            raise DataError(
                "the files are not all partitioned by the same keys",
                source=shown,
                expected="every file under the same key=value folders (e.g. date=…/source=…/)",
                found=f"{first}: {', '.join(keys) or 'no keys'}; "
                f"{file.relative_to(root).as_posix()}: {', '.join(these) or 'no keys'}",
                fix="point the source at one layout (a narrower folder or pattern)",
            )
        values.append(tuple(None if v == HIVE_NULL else urllib.parse.unquote(v) for _, v in pairs))
    return keys or (), tuple(values)


def _read_file_set(
    con: BaseBackend,
    spec: SourceSpec,
    path: Path,
    *,
    id_headers: HeaderResolver,
    workdir: Path,
    limits: Limits,
) -> RawSource:
    """Read every file of a folder or glob and join their rows as one source.

    Parquet files are read by the engine in one scan per partition and schema
    (:func:`_read_parquet_files`); other files one by one as single files would be (a
    CSV with a header and no rows is 0 rows here). Partition keys become text columns.
    """
    shown = spec.path if is_pattern(spec.path) else f"{path.name or path.resolve().name}/"
    fs = list_file_set(path, shown=shown, fmt=spec.format)
    label = fs.describe()
    parts: list[tuple[tuple[str | None, ...], RawSource]] = []
    if fs.fmt == "parquet":
        groups: dict[tuple[Any, ...], list[Path]] = {}
        plain = [_inflated(f, workdir, limits, fs.relative(f)) for f in fs.files]
        for values, file in zip(fs.partitions, plain, strict=True):
            groups.setdefault((values, _parquet_schema(file, label)), []).append(file)
        through_driver = 0
        for (values, schema), files in groups.items():
            table, owned = _read_parquet_files(con, files, label, schema)
            parts.append((values, RawSource(table, label, columnar=True, owned=owned)))
            through_driver += len(files) if owned is not None else 0
        if through_driver and _engine_reads_parquet(con):
            label = fs.describe(
                f"{through_driver} read through the driver: nanosecond timestamps, which "
                "the engine's Parquet reader refuses"
            )
    else:
        for values, file in zip(fs.partitions, fs.files, strict=True):
            one = spec.model_copy(update={"path": str(file), "format": fs.fmt})
            try:
                raw = _read_file(
                    con,
                    one,
                    file,
                    id_headers=id_headers,
                    workdir=workdir,
                    limits=limits,
                    empty_ok=True,
                )
            except DataError as exc:  # named by its place in the set, not its name alone
                raise _in_set(exc, f"{fs.shown} {fs.relative(file)}") from exc
            many = len(fs.files) > 1
            if many and raw.text is not None and raw.owned and raw.text[0].is_relative_to(workdir):
                raw.text[0].unlink(missing_ok=True)  # its rows are in the engine now
            rel = fs.relative(file)
            named = {
                k: tuple({**e, "source": rel} for e in v) for k, v in raw.skipped_examples.items()
            }
            parts.append((values, replace(raw, label=rel, skipped_examples=named)))
    table = _join_parts(parts, fs, label)
    created = [table_name for _, raw in parts for table_name in raw.owned_tables]
    skipped: dict[str, int] = {}
    examples: dict[str, tuple[Mapping[str, Any], ...]] = {}
    sniffed: dict[str, str] = {}
    for _, raw in parts:
        for reason, n in raw.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
        for reason, lines in raw.skipped_examples.items():
            examples[reason] = (*examples.get(reason, ()), *lines)[:EXAMPLE_LINES]
        sniffed = {**raw.sniffed, **sniffed}
    return RawSource(
        table,
        label,
        columnar=all(raw.columnar for _, raw in parts),
        owned=created[0] if created else None,
        also_owned=tuple(created[1:]),
        skipped=skipped,
        skipped_examples=examples,
        sniffed=sniffed,
        # One file's lines can be searched for bad values; a set's line numbers would not
        # say which file.
        text=parts[0][1].text if len(fs.files) == 1 else None,
        spanning=sum(raw.spanning for _, raw in parts),
    )


def _in_set(exc: DataError, source: str) -> DataError:
    """``exc`` with ``source`` naming the file within its set."""
    return DataError(
        exc.problem,
        source=source,
        column=exc.column,
        expected=exc.expected,
        found=exc.found,
        examples=exc.examples,
        fix=exc.fix,
        problems=exc.problems,
    )


def _inflated(file: Path, workdir: Path, limits: Limits, label: str) -> Path:
    """A ``.gz`` file inflated into ``workdir`` under the caps (each file on its own)."""
    if not file.name.lower().endswith(".gz"):
        return file
    plain = Path(tempfile.mkdtemp(dir=workdir)) / file.name[: -len(".gz")]
    return inflate_gzip(file, plain, limits=limits, label=label)


def _parquet_schema(file: Path, label: str) -> pa.Schema:
    """A Parquet file's schema from its footer (files of one schema are read together)."""
    try:
        return pq.read_schema(file)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            "cannot read the file as parquet",
            source=f"{label}: {file.name}",
            found=engine_message(exc),
            fix="check that the file is complete Parquet (write it again), or move it out",
        ) from exc


def _read_parquet_files(
    con: BaseBackend, files: Sequence[Path], label: str, schema: pa.Schema | None = None
) -> tuple[ir.Table, str | None]:
    """Parquet files of one ``schema`` as one table, and the backend table created, if any.

    Read by the engine itself where it can (DuckDB, lazily; Spark's own reader, by its
    workers, so the rows never pass through the driver; Spark 4 reads ``uint64`` columns
    as ``decimal(20,0)``, the type :func:`signed_arrow` gives them too). Elsewhere, and on
    Spark for files with nanosecond timestamps (which its reader refuses:
    ``PARQUET_TYPE_ILLEGAL``; pandas writes them by default), by a private DuckDB and
    uploaded through Arrow.
    """
    paths = [str(f) for f in files]
    caps = capabilities(con)
    try:
        if caps.native_files:
            return con.read_parquet(paths, **_NO_HIVE), None
        if _engine_reads_parquet(con) and not (schema is not None and _has_nanos(schema)):
            name = ibis.util.gen_name("growthlens_parquet")
            con._session.read.parquet(*paths).createOrReplaceTempView(name)  # type: ignore[attr-defined]
            return con.table(name), None
        arrow = ibis.duckdb.connect().read_parquet(paths, **_NO_HIVE).to_pyarrow()
    except Exception as exc:  # a corrupt file, a type the engine cannot read
        raise DataError(
            "cannot read the parquet files",
            source=label,
            found=engine_message(exc),
            fix="check that the files are complete Parquet (write them again)",
        ) from exc
    name = ibis.util.gen_name("growthlens_parquet")
    return upload(con, name, arrow), name


def _engine_reads_parquet(con: BaseBackend) -> bool:
    """Whether the engine reads Parquet files by path itself (a Spark session).

    The capability ``parquet_files`` when growthlens.engine declares it; until then the
    engines that take Arrow through their own session (``arrow_views``: Spark) are the
    ones whose session reads files.
    """
    caps = capabilities(con)
    return bool(getattr(caps, "parquet_files", caps.arrow_views)) and hasattr(con, "_session")


def _has_nanos(schema: pa.Schema) -> bool:
    """Whether any column, at any depth, is a nanosecond timestamp or time of day."""

    def nanos(kind: pa.DataType) -> bool:
        if pa.types.is_timestamp(kind) or pa.types.is_time64(kind):
            return kind.unit == "ns"  # type: ignore[attr-defined, no-any-return]
        return any(nanos(kind.field(i).type) for i in range(kind.num_fields))

    return any(nanos(f.type) for f in schema)


def _join_parts(
    parts: Sequence[tuple[tuple[str | None, ...], RawSource]], fs: FileSet, label: str
) -> ir.Table:
    """The parts' rows as one table, with the partition columns.

    Every part must have the same columns (in any order); a column whose type differs
    between parts is read as text, which the canonical typing then reads as it reads a
    CSV. A column both in the files and in the folder names must hold the same values
    (compared as text) in every row: then one is kept, else :class:`DataError`.
    """
    columns = parts[0][1].table.columns
    for _, raw in parts[1:]:
        if set(raw.table.columns) != set(columns):
            missing = [c for c in columns if c not in raw.table.columns]
            extra = [c for c in raw.table.columns if c not in columns]
            raise DataError(
                "the files do not all have the same columns",
                source=label,
                expected=f"the columns of {parts[0][1].label if len(parts) else ''}: "
                + ", ".join(columns),
                found=f"{raw.label}: "
                + "; ".join(
                    [f"missing {', '.join(missing)}"] * bool(missing)
                    + [f"extra {', '.join(extra)}"] * bool(extra)
                ),
                fix="give files of another layout their own source, or export them again "
                "with one set of columns",
            )
    schemas = [raw.table.schema() for _, raw in parts]
    mixed = {c for c in columns if len({s[c].copy(nullable=True) for s in schemas}) > 1}
    overlap = [k for k in fs.keys if k in columns]
    tables: list[ir.Table] = []
    for values, raw in parts:
        table = raw.table.select(
            *(raw.table[c].cast("string").name(c) if c in mixed else raw.table[c] for c in columns)
        )
        table = table.rename({f"{_FROM_FILE}{k}": k for k in overlap})
        table = table.mutate(
            **{k: ibis.literal(v, type="string") for k, v in zip(fs.keys, values, strict=True)}
        )
        tables.append(table)
    joined = tables[0] if len(tables) == 1 else ibis.union(*tables, distinct=False)
    for key in overlap:
        joined = _same_as_folders(joined, key, label)
    return joined


def _same_as_folders(table: ir.Table, key: str, label: str) -> ir.Table:
    """The table without the file's copy of ``key``, after checking it equals the folders'."""
    own = table[f"{_FROM_FILE}{key}"].cast("string")
    differ = table.filter(~own.identical_to(table[key]))
    bad = differ.select(file=own, folder=table[key]).limit(3).to_pyarrow().to_pylist()
    if bad:
        n = int(differ.count().to_pyarrow().as_py())
        raise DataError(
            f"the column {key!r} is both in the files and in their folder names "
            f"({key}=…), and {n:,} row(s) differ",
            source=label,
            column=key,
            expected="the same value in the file as in the folder name, or the column in one "
            "place only",
            found="; ".join(f"{r['file']!r} in the file under {key}={r['folder']}" for r in bad),
            fix=f"remove or rename {key!r} in the files or in the folder names; growthlens does "
            "not guess which one is right",
        )
    return table.drop(f"{_FROM_FILE}{key}")
