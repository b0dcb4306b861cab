"""Read one source (a file, a frame, an Ibis table) into the backend, headers untouched.

Readers return the table with its own headers; :mod:`growthlens.data.canonical` then maps
and types it. Id columns are read as text so ids above 2**63 never pass through a float.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from growthlens.config import SourceSpec
from growthlens.engine import backend_name
from growthlens.errors import DataError

# Zip safety: refuse members that would escape the extraction folder and archives that
# inflate beyond these limits (zip bombs).
MAX_UNZIPPED_BYTES = 50 * 1024**3
MAX_RATIO = 200

_SQLITE_BATCH = 100_000
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
}


@dataclass(frozen=True)
class RawSource:
    """A source as read.

    Attributes:
        table: the rows with the source's own headers.
        label: what messages call it (a file name, ``"orders frame"``).
        columnar: reading it again is cheap (Parquet, database tables, Ibis tables),
            so the load need not materialise it.
    """

    table: ir.Table
    label: str
    columnar: bool


HeaderResolver = Callable[[Sequence[str]], Sequence[str]]
"""Given a source's headers, returns those that hold ids (read as text)."""


def read_spec(
    con: BaseBackend, spec: SourceSpec, *, base_dir: Path, id_headers: HeaderResolver, workdir: Path
) -> RawSource:
    """Read a file source described by ``spec``."""
    path = Path(spec.path)
    if not path.is_absolute():
        path = base_dir / path
    label = path.name
    if not path.exists():
        raise DataError("file not found", source=str(path), fix="check the path (relative paths are resolved against the config file's folder)")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)", source=label, expected="a header line and rows", found="nothing", fix="re-export the table")
    fmt = spec.format or _format_of(path)
    if fmt == "zip":
        path, fmt = _unzip(path, spec.table, workdir)
        label = f"{label}:{path.name}"
    try:
        if fmt == "csv":
            return _read_csv(con, path, spec, label, id_headers)
        if fmt == "parquet":
            return RawSource(_on_backend(con, lambda c: c.read_parquet(str(path)), label), label, True)
        if fmt == "json":
            return RawSource(_on_backend(con, lambda c: c.read_json(str(path)), label), label, False)
        if fmt == "sqlite":
            return _read_sqlite(con, path, spec.table, label, id_headers)
        if fmt == "duckdb":
            return _read_duckdb_file(con, path, spec.table, label)
    except DataError:
        raise
    except Exception as exc:  # engine errors: truncated gzip, bad quoting, corrupt parquet, …
        raise DataError(f"cannot read the file as {fmt}: {_first_line(exc)}", source=label, fix="check that the file is complete and of the stated format") from exc
    raise DataError(f"unknown format {fmt!r}", source=label, expected="csv, parquet, json, sqlite or duckdb")


def read_object(con: BaseBackend, obj: Any, *, label: str) -> RawSource:
    """Read an in-memory frame (pandas, Polars, Arrow) or adopt an Ibis table."""
    if isinstance(obj, ir.Table):
        return RawSource(obj, label, True)
    arrow = _to_arrow(obj, label)
    name = ibis.util.gen_name("growthlens_frame")
    return RawSource(con.create_table(name, arrow, temp=_supports_temp(con)), label, True)


def _to_arrow(obj: Any, label: str) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        # preserve_index=False: a RangeIndex is not data.
        return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        return obj.to_arrow()
    raise DataError(
        f"cannot use an object of type {type(obj).__name__} as a table",
        source=label,
        expected="a path, a dict with 'path', a list of those, a pandas/Polars/Arrow frame or an Ibis table",
        found=type(obj).__name__,
    )


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
        expected="a name ending in .csv, .csv.gz, .zip, .parquet, .json, .jsonl, .sqlite, .db or .duckdb",
        fix="rename the file or set format = \"csv\" (or parquet, json, sqlite, duckdb) in its source",
    )


def _unzip(path: Path, member: str | None, workdir: Path) -> tuple[Path, str]:
    """Extract one data member of a zip safely; return its path and format."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataError("not a valid zip archive (truncated or corrupt)", source=path.name) from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        for info in infos:
            _check_member(info, path.name)
        total = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if total > MAX_UNZIPPED_BYTES or total / packed > MAX_RATIO and total > 100 * 1024**2:
            raise DataError(
                f"the archive would inflate to {total:,} bytes from {packed:,}; refusing a possible zip bomb",
                source=path.name,
                fix="extract it yourself and point growthlens at the file",
            )
        data = [i for i in infos if _member_format(i.filename) is not None and not i.filename.startswith("__MACOSX")]
        if member is not None:
            data = [i for i in data if i.filename == member or PurePosixPath(i.filename).name == member]
        if len(data) != 1:
            names = [i.filename for i in infos]
            raise DataError(
                "cannot choose the data file inside the archive" if data else "no data file inside the archive",
                source=path.name,
                expected="exactly one .csv/.parquet/.json/.sqlite member, or `table = \"member name\"`",
                found=", ".join(names) or "an empty archive",
                fix="name the member with table = \"<member>\" in the source",
            )
        info = data[0]
        target_dir = Path(tempfile.mkdtemp(dir=workdir))
        target = target_dir / PurePosixPath(info.filename).name
        try:
            with archive.open(info) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DataError(f"the archive member {info.filename!r} cannot be extracted: {exc}", source=path.name) from exc
        fmt = _member_format(info.filename)
        assert fmt is not None
        return target, fmt


def _check_member(info: zipfile.ZipInfo, label: str) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise DataError(
            f"the archive has a member with an unsafe path {info.filename!r} (it would be written outside the extraction folder)",
            source=label,
            fix="re-create the archive with plain relative member names",
        )


def _member_format(name: str) -> str | None:
    try:
        fmt = _format_of(Path(name))
    except DataError:
        return None
    return None if fmt == "zip" else fmt


def _read_csv(con: BaseBackend, path: Path, spec: SourceSpec, label: str, id_headers: HeaderResolver) -> RawSource:
    options: dict[str, Any] = {"header": True}
    if spec.delimiter:
        options["delim"] = spec.delimiter
    elif path.suffix.lower() == ".tsv" or path.name.lower().endswith(".tsv.gz"):
        options["delim"] = "\t"
    if path.suffix.lower() == ".gz":
        _check_gzip(path, label)
    headers = _csv_headers(path, options, label)
    ids = {h: "VARCHAR" for h in id_headers(headers)}

    table = _on_backend(con, lambda c: c.read_csv(str(path), types=ids or None, **options), label)
    return RawSource(table, label, False)


def _csv_headers(path: Path, options: dict[str, Any], label: str) -> list[str]:
    import duckdb

    probe = duckdb.connect()
    try:
        rel = probe.read_csv(str(path), all_varchar=True, **{k: v for k, v in options.items() if k != "delim"}, **({"sep": options["delim"]} if "delim" in options else {}))
        headers = list(rel.columns)
        has_rows = rel.limit(1).fetchall()
    except duckdb.Error as exc:
        raise DataError(f"cannot read the file as CSV: {_first_line(exc)}", source=label, fix="check that the file is complete CSV text (a gzip must not be truncated)") from exc
    finally:
        probe.close()
    if not has_rows:
        raise DataError("the file has a header but no rows", source=label, found=", ".join(headers), fix="re-export the table with its rows")
    return headers


def _check_gzip(path: Path, label: str) -> None:
    """Read the gzip stream to the end once: a truncated export must fail here, loudly."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(8 * 1024 * 1024):
                pass
    except (EOFError, OSError, gzip.BadGzipFile) as exc:
        raise DataError(
            f"the gzip file is truncated or corrupt ({exc})",
            source=label,
            fix="download or export the file again; no rows were loaded from it",
        ) from exc


def _read_sqlite(con: BaseBackend, path: Path, table: str | None, label: str, id_headers: HeaderResolver) -> RawSource:
    # DuckDB's sqlite extension is downloaded at run time, which cannot be relied on;
    # stream the rows through Arrow batches with the standard library instead.
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open the SQLite file: {exc}", source=label) from exc
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name")]
    except sqlite3.DatabaseError as exc:
        db.close()
        raise DataError(f"not a SQLite database: {exc}", source=label) from exc
    chosen = _choose_table(names, table, label)
    columns = [r[1] for r in db.execute(f"PRAGMA table_info({_sqlite_ident(chosen)})")]
    ids = set(id_headers(columns))
    select = ", ".join(
        f"CAST({_sqlite_ident(c)} AS TEXT) AS {_sqlite_ident(c)}" if c in ids else _sqlite_ident(c) for c in columns
    )
    cursor = db.execute(f"SELECT {select} FROM {_sqlite_ident(chosen)}")
    batches = []
    while rows := cursor.fetchmany(_SQLITE_BATCH):
        batches.append(pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows]))
    db.close()
    if not batches:
        raise DataError(f"the table {chosen!r} has no rows", source=label)
    arrow = pa.concat_tables(batches, promote_options="permissive")
    name = ibis.util.gen_name("growthlens_sqlite")
    return RawSource(con.create_table(name, arrow, temp=_supports_temp(con)), f"{label}:{chosen}", True)


def _read_duckdb_file(con: BaseBackend, path: Path, table: str | None, label: str) -> RawSource:
    import duckdb

    try:
        db = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataError(f"cannot open the DuckDB file: {_first_line(exc)}", source=label) from exc
    try:
        names = [r[0] for r in db.sql("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        chosen = _choose_table(names, table, label)
        arrow = db.table(chosen).to_arrow_table()
    finally:
        db.close()
    name = ibis.util.gen_name("growthlens_duckdb")
    return RawSource(con.create_table(name, arrow, temp=_supports_temp(con)), f"{label}:{chosen}", True)


def _choose_table(names: list[str], table: str | None, label: str) -> str:
    if table is not None:
        if table not in names:
            raise DataError(f"no table {table!r} in the database", source=label, found=", ".join(names) or "no tables", fix="set table = \"<name>\" to one of the tables found")
        return table
    if len(names) != 1:
        raise DataError(
            "the database holds several tables; say which one" if names else "the database holds no tables",
            source=label,
            found=", ".join(names) or "no tables",
            fix="set table = \"<name>\" in the source",
        )
    return names[0]


def _sqlite_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _on_backend(con: BaseBackend, read: Callable[[BaseBackend], ir.Table], label: str) -> ir.Table:
    """Read natively on DuckDB; elsewhere read with a private DuckDB and hand over Arrow."""
    if backend_name(con) == "duckdb":
        return read(con)
    local = ibis.duckdb.connect()
    arrow = read(local).to_pyarrow()
    # Backends without unsigned integers (Spark, Postgres) get ids as text later anyway.
    name = ibis.util.gen_name("growthlens_src")
    return con.create_table(name, arrow, temp=_supports_temp(con))


def _supports_temp(con: BaseBackend) -> bool:
    return backend_name(con) == "duckdb"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
