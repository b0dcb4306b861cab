"""Appending Arrow tables to one demo file: CSV like the real exports, or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

Format = Literal["csv", "parquet"]


class TableWriter:
    """Appends tables to one CSV (Afisha-style unquoted header) or Parquet file."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: Format) -> None:
        self.path = path
        self.fmt = fmt
        self._file: IO[bytes] | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._file = path.open("wb")
            self._file.write((",".join(schema.names) + "\n").encode())
            # No value holds a comma or a quote, so write them bare, like the real export.
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            self._csv = pa_csv.CSVWriter(self._file, schema, write_options=options)
        else:
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (of the writer's schema)."""
        if self._csv is not None:
            self._csv.write_table(table)
        elif self._parquet is not None:
            self._parquet.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._csv is not None:
            self._csv.close()
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()
