"""Settings and the ``growthlens.toml`` config model.

A config names, for each canonical table, one or more sources, how their columns map to
canonical names, and the duplicate policy; plus dataset-wide settings::

    [settings]
    timezone = "Europe/Moscow"      # naive output timestamps are in this zone
    currency = "USD"
    margin = 0.4                    # gross profit = revenue × margin
    window = ["2017-06-01", "2018-05-31"]

    [sessions]
    path = "visits.csv"
    columns = { user_id = "Uid", start_ts = "Start Ts" }

    [[orders.sources]]              # a table may be the union of several sources
    path = "shop.sqlite"
    table = "orders"
    [[orders.sources]]
    path = "recovered_orders.csv.gz"

    [engine]                        # optional: where the tables live and are aggregated
    backend = "pyspark"             # "duckdb" (default), "pyspark" or an Ibis URL
    [engine.spark]                  # with backend = "pyspark": the session to start
    master = "spark://head:7077"
    driver_memory = "8g"
    conf = { "spark.executor.memory" = "16g" }

Paths are relative to the config file. The table sections are the canonical tables'
declarations (growthlens.data.tables): a new declaration is a new section.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from growthlens.data.tables import TABLES
from growthlens.engine import SPARK, BackendLike, SparkOptions
from growthlens.errors import ConfigError

DuplicatePolicy = Literal["auto", "first", "last", "keep"]
# strptime codes the engines read (DuckDB's list; "%-d" is "%d" without padding).
_STRPTIME_CODES = frozenset("aAbBcdfgGHIjmMnpSuUVwWxXyYzZ%")
Period = Literal["day", "week", "month"]
Acquisition = Literal["first_touch", "last_touch"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    """Dataset-wide settings (all optional).

    Attributes:
        timezone: IANA zone for naive timestamps; tz-aware input is converted to it.
            ``None`` keeps naive input as given and converts tz-aware input to UTC.
        currency: label for money in the report.
        margin: gross profit share of revenue (DESIGN §4 LTV), in (0, 1].
        window: ``(start, end)`` dates overriding the computed data window.
        horizon: N for "N-month" LTV/ROMI figures.
        period: default cohort period.
        acquisition: how a user's acquisition source is chosen.
        complete_periods: drop partial first/last periods from DAU/WAU/MAU.
        null_ids: id texts that mean "no id" (compared after trimming spaces): a row with
            one in a required id column is excluded and counted, never taken as one user.
        max_decompressed_bytes: the most a compressed input (a ``.gz``, a zip member) may
            inflate to; above it the load stops naming the file (a decompression bomb).
        max_compression_ratio: the most bytes out per byte in, checked once more than
            64 MiB have come out (real CSV exports compress 5–30×, bombs 1,000×).
        session_timeout: seconds of inactivity that end a session derived from the events
            when they have no ``session_id`` (30 minutes, as GA and most trackers).
        direct_channels: channel names that count as direct traffic for the
            ``last_non_direct`` attribution model (compared trimmed, in any case).
    """

    timezone: str | None = None
    currency: str = "USD"
    margin: float = Field(default=1.0, gt=0, le=1)
    window: tuple[date, date] | None = None
    horizon: int = Field(default=6, ge=1, le=120)
    period: Period = "month"
    acquisition: Acquisition = "first_touch"
    complete_periods: bool = False
    null_ids: tuple[str, ...] = ("NULL", "None", "nan", "NaN", "null", "-", "")
    max_decompressed_bytes: int = Field(default=50 * 1024**3, gt=0)
    max_compression_ratio: float = Field(default=200.0, gt=1)
    session_timeout: int = Field(default=1800, gt=0)
    direct_channels: tuple[str, ...] = ("direct", "(direct)", "(none)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like 'Europe/Moscow'"
            ) from exc
        return value

    @model_validator(mode="after")
    def _window_order(self) -> Settings:
        if self.window is not None and self.window[0] > self.window[1]:
            raise ValueError(f"window starts after it ends: {self.window[0]} > {self.window[1]}")
        return self


EpochUnit = Literal["s", "ms", "us", "ns"]


class LookupSpec(_Strict):
    """A file joined to every row of a source by a key (a source's ``lookup``).

    Each row takes the lookup's columns from the lookup row with the same key (compared
    as text, spaces trimmed); a row with no such key gets nulls there, so a required
    column mapped from the lookup excludes it, counted. The key must be unique in the
    lookup, else the join would copy rows: the load refuses it, naming the keys.

    Attributes:
        path: the file (any format a source reads); relative as the source's path.
        on: the key column of the source, or ``[source column, lookup column]`` when the
            two are named differently.
        columns: the lookup columns to bring (default: all but the key).
        table, member, sheet, format, delimiter, encoding: as in a source.
    """

    path: str
    on: str | tuple[str, str] = "user_id"
    columns: tuple[str, ...] | None = None
    table: str | None = None
    member: str | None = None
    sheet: str | None = None
    format: Literal["csv", "parquet", "json", "sqlite", "duckdb", "excel"] | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None

    @property
    def keys(self) -> tuple[str, str]:
        """(the source's key column, the lookup's key column)."""
        return (self.on, self.on) if isinstance(self.on, str) else self.on

    def source(self) -> SourceSpec:
        """The lookup as a source of its own, to read it."""
        return SourceSpec(
            path=self.path,
            table=self.table,
            member=self.member,
            sheet=self.sheet,
            format=self.format,
            delimiter=self.delimiter,
            encoding=self.encoding,
        )


class SourceSpec(_Strict):
    """One source of a canonical table.

    Attributes:
        path: file path (CSV, CSV.gz/.zip, Parquet, JSON/JSON lines, SQLite, DuckDB).
        table: table name inside a SQLite/DuckDB file (for a zip without ``member``,
            a member name is accepted here too).
        member: the file inside a ``.zip`` to read, when it holds several.
        format: override the format inferred from the file name.
        columns: canonical name → source column name.
        sheet: the sheet of an Excel workbook to read (required when it has several).
        timestamp_format: strptime format of text timestamps, e.g. ``"%d.%m.%Y %H:%M"``;
            applied to the text as written (the reader's own guess is not used).
        date_format: strptime format of text dates (the costs' ``date``), e.g.
            ``"%d/%m/%Y"``; without it a date column reads ``timestamp_format``, then ISO.
        delimiter: CSV delimiter; without it the header line's ``,``, ``;``, tab or ``|``.
        decimal: decimal separator of text numbers when not ``.`` (e.g. ``","``).
        thousands: thousands separator of text numbers (``","``, ``"."``, ``" "``, ``"'"``,
            ``"_"``, a no-break space), removed before the number is read.
        encoding: the text encoding of a CSV when not UTF-8 (e.g. ``"cp1251"``,
            ``"latin-1"``, ``"utf-16"``); the file is converted to UTF-8 as it is read.
        comment: a CSV whose lines starting with this character are notes, not rows
            (e.g. ``"#"``); they are skipped and counted. Without it every line is a row.
        timestamp_unit: what an integer (or digits-only text) time column counts since
            1970-01-01 00:00 UTC: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``. Without it an
            integer time column is an error, never silently read as seconds (the GA4
            presets state ``"us"`` themselves).
        constants: column → one value for every row of the source, e.g.
            ``{ event = "home_page" }`` for an export with one table per funnel step. A
            canonical name fills that column; any other name adds a property column.
        lookup: another file joined to every row by a key (:class:`LookupSpec`), whose
            columns can then be mapped like the source's own, e.g. the sign-up date of a
            user table as the events' ``ts``.
        params: the GA4 ``event_params`` keys to turn into property columns (the GA4
            BigQuery preset); without it a documented default list (docs/events.md).
        date_time: timestamp column → ``[date column, time-of-day column]``, e.g.
            ``{ start_ts = ["event_date", "event_time"] }``: the timestamp is the date
            plus the time (``HH:MM:SS`` or ``HH:MM`` text, or typed dates and times); the
            two columns are consumed (not kept as extras unless mapped). A stated
            ``timestamp_format`` reads the text ``"<date> <time>"``.
    """

    path: str
    table: str | None = None
    member: str | None = None
    format: Literal["csv", "parquet", "json", "sqlite", "duckdb", "excel"] | None = None
    sheet: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    date_time: dict[str, tuple[str, str]] = Field(default_factory=dict)
    timestamp_format: str | None = None
    date_format: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    decimal: Literal[".", ","] | None = None
    thousands: Literal[",", ".", " ", "'", "_", "\u00a0", "\u202f"] | None = None
    encoding: str | None = None
    comment: str | None = Field(default=None, min_length=1, max_length=1)
    timestamp_unit: EpochUnit | None = None
    constants: dict[str, str | int | float | bool] = Field(default_factory=dict)
    lookup: LookupSpec | None = None
    params: tuple[str, ...] | None = None

    @field_validator("constants")
    @classmethod
    def _constant_names(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for name in value:
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise ValueError(
                    f"constant column {name!r} is not a snake_case name; use e.g. "
                    'constants = { event = "home_page" }'
                )
        return value

    @model_validator(mode="after")
    def _constants_not_mapped(self) -> SourceSpec:
        both = sorted(set(self.constants) & set(self.columns))
        if both:
            raise ValueError(
                f"{', '.join(both)} is given both a constant and a column mapping; keep one"
            )
        return self

    @field_validator("date_time", mode="before")
    @classmethod
    def _date_time_pairs(cls, value: Any) -> Any:
        # The error names the key; _EXPECTED_TABLE adds what a good value looks like.
        if not isinstance(value, Mapping):
            raise ValueError("not a table of timestamp columns")
        for target, pair in value.items():
            ok = isinstance(pair, list | tuple) and len(pair) == 2
            if not ok or not all(isinstance(c, str) and c for c in pair):
                raise ValueError(f"{target} = {pair!r} is not two column names")
        return value

    @model_validator(mode="after")
    def _date_time_targets(self) -> SourceSpec:
        for target, (day, clock) in self.date_time.items():
            if target in self.columns or target in self.constants:
                raise ValueError(
                    f"{target} is given both date_time and a column mapping or constant; keep one"
                )
            if day == clock:
                raise ValueError(
                    f"date_time {target} = [{day!r}, {clock!r}] names one column twice; "
                    'give the date column, then the time column, e.g. start_ts = ["event_date", '
                    '"event_time"]'
                )
        return self

    @field_validator("timestamp_format", "date_format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        # strptime codes the engine understands; a format without one, or with an
        # unknown one, would read nothing or read wrongly.
        codes = re.findall(r"%-?(.)", value)
        unknown = sorted({c for c in codes if c not in _STRPTIME_CODES})
        if not codes or unknown:
            what = (
                f"unknown code(s) {', '.join('%' + c for c in unknown)}"
                if unknown
                else ("no % code")
            )
            raise ValueError(
                f"{what} in the format {value!r}; use strptime codes such as "
                '"%d.%m.%Y %H:%M" (%Y year, %m month, %d day, %H hour, %M minute, %S second)'
            )
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import codecs

        try:
            return codecs.lookup(value).name
        except LookupError as exc:
            raise ValueError(
                f"unknown encoding {value!r}; use a name such as "
                '"utf-8", "cp1251", "cp1252", "latin-1" or "utf-16"'
            ) from exc

    @model_validator(mode="after")
    def _separators_differ(self) -> SourceSpec:
        if self.thousands is not None and self.thousands == (self.decimal or "."):
            raise ValueError(
                f"thousands = {self.thousands!r} is also the decimal separator; "
                'use e.g. decimal = "," with thousands = "." (1.234,5), or the other way round'
            )
        return self

    def time_format(self, kind: str) -> str | None:
        """The format stated for a time column of ``kind`` (``timestamp`` or ``date``)."""
        if kind == "date":
            return self.date_format or self.timestamp_format
        return self.timestamp_format


class TableSpec(_Strict):
    """A canonical table: its sources and the duplicate-key policy.

    ``duplicates``: ``first``/``last`` keep one row per key (by source order, then row
    order within the source is not relied on: ties break on all columns), ``keep``
    keeps all and reports them; ``auto`` is ``first`` when the table has a key column
    or several sources, else ``keep`` (identical rows of one export may be real).
    """

    sources: tuple[SourceSpec, ...]
    duplicates: DuplicatePolicy = "auto"

    @field_validator("sources")
    @classmethod
    def _some_source(cls, value: tuple[SourceSpec, ...]) -> tuple[SourceSpec, ...]:
        if not value:
            raise ValueError("no source given; list at least one, or leave the table out")
        return value

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `[sessions] path = "x.csv"` is shorthand for a single source, and
        # `sources = ["a.csv", "b.csv.gz"]` for sources given by path alone.
        if isinstance(data, Mapping) and "sources" not in data:
            data = dict(data)
            duplicates = data.pop("duplicates", "auto")
            return {"sources": [data], "duplicates": duplicates}
        if isinstance(data, Mapping) and isinstance(data["sources"], list | tuple):
            data = dict(data)
            data["sources"] = [
                {"path": str(s)} if isinstance(s, str | PurePath) else s for s in data["sources"]
            ]
        return data


class SparkSpec(_Strict):
    """The ``[engine.spark]`` section: the Spark session to start (see SparkOptions)."""

    master: str = "local[*]"
    driver_memory: str = "2g"
    app_name: str = "growthlens"
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)


class EngineSpec(_Strict):
    """The ``[engine]`` section: which engine holds and aggregates the tables.

    Attributes:
        backend: ``"duckdb"`` (default), ``"pyspark"`` or an Ibis connection URL. The
            ``backend=`` argument of ``gl.load`` and the CLI's ``--backend`` win over it.
        memory_limit: DuckDB's memory cap (e.g. ``"3GB"``); above it DuckDB spills to disk.
        spark: the Spark session to start (only with ``backend = "pyspark"``).
    """

    backend: str | None = None
    memory_limit: str | None = None
    spark: SparkSpec | None = None

    @model_validator(mode="after")
    def _spark_only_with_pyspark(self) -> EngineSpec:
        chosen = self.backend
        if self.spark is not None and chosen is not None and chosen != SPARK:
            raise ValueError(
                f"[engine.spark] configures Spark, but backend = {chosen!r}; set "
                f'backend = "{SPARK}" or remove [engine.spark]'
            )
        try:
            self.connection()  # SparkOptions checks master, memory and conf keys
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def connection(self) -> BackendLike:
        """What to pass to :func:`growthlens.engine.connect`."""
        if self.spark is not None:
            spark = self.spark
            return SparkOptions(
                master=spark.master,
                driver_memory=spark.driver_memory,
                app_name=spark.app_name,
                conf={
                    k: str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in spark.conf.items()
                },
            )
        return self.backend


class Config(_Strict):
    """A whole ``growthlens.toml``."""

    settings: Settings = Field(default_factory=Settings)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    engine: EngineSpec = Field(default_factory=EngineSpec)
    base_dir: Path = Field(default=Path("."))

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Read and validate a config file; errors name the key and the fix."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        return cls.from_mapping(raw, base_dir=path.parent, origin=str(path))

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, Any], *, base_dir: Path = Path("."), origin: str = "config"
    ) -> Config:
        """Validate a parsed config mapping."""
        unknown = sorted(set(raw) - set(TABLES) - {"settings", "engine"})
        if unknown:
            raise ConfigError(
                f"{origin}: unknown section(s) {', '.join(f'[{u}]' for u in unknown)}; "
                f"known sections: [settings], [engine], {', '.join(f'[{t}]' for t in TABLES)}; "
                "rename or remove it"
            )
        for name in ("settings", "engine", *TABLES):
            if name in raw and not isinstance(raw[name], Mapping):
                example = "timezone = ..." if name == "settings" else 'path = "file.csv"'
                raise ConfigError(
                    f"{origin}: [{name}] must be a section of keys, got {name} = "
                    f"{raw[name]!r}; write it as a line [{name}] followed by e.g. {example}"
                )
        section = "settings"
        try:
            settings = Settings(**raw.get("settings", {}))
            section = "engine"
            engine = EngineSpec.model_validate(raw.get("engine", {}))
            tables = {}
            for name in TABLES:
                if name in raw:
                    section = name
                    tables[name] = TableSpec.model_validate(raw[name])
        except ValidationError as exc:
            raw_section = raw.get(section)
            shorthand = isinstance(raw_section, Mapping) and "sources" not in raw_section
            raise ConfigError(f"{origin}: {_describe(exc, section, shorthand)}") from exc
        except TypeError as exc:  # e.g. a mapping from Python whose keys are not text
            raise ConfigError(f"{origin}: [{section}] must be a table of keys: {exc}") from exc
        return cls(settings=settings, tables=tables, engine=engine, base_dir=base_dir)


def make_settings(**values: Any) -> Settings:
    """Build :class:`Settings`, turning validation errors into :class:`ConfigError`."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "settings")) from exc


_KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "settings": tuple(Settings.model_fields),
    "engine": (*EngineSpec.model_fields, *(f"spark.{k}" for k in SparkSpec.model_fields)),
    "table": ("sources", "duplicates", *SourceSpec.model_fields),
    "source": tuple(SourceSpec.model_fields),
}


def _describe(exc: ValidationError, section: str, shorthand: bool = False) -> str:
    """Turn pydantic errors into "what was wrong, what is allowed, how to fix it".

    ``shorthand``: the table section gave its one source's keys directly (``path = …``),
    which the model reads as ``sources[0]``; errors then name the keys as written.
    """
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if shorthand and loc[:2] == ["sources", "0"]:
            loc = loc[2:]
        where = f"[{section}]" + (f" {'.'.join(loc)}" if loc else "")
        if err["type"] == "extra_forbidden":
            key = loc[-1] if loc else "?"
            if section in ("settings", "engine"):
                known = _KNOWN_KEYS[section]
            elif "sources" in loc:
                known = _KNOWN_KEYS["source"]
            else:
                known = _KNOWN_KEYS["table"]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            parts.append(
                f"unknown key {key!r} in [{section}]; known keys: {', '.join(known)}; "
                f"{hint}rename or remove it"
            )
        else:
            value = err.get("input")
            shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "missing"
            elif err["type"] in ("model_type", "dict_type"):
                # Pydantic names its model class here (SourceSpec), which means nothing to
                # a user: say what a value there may be instead.
                message = "not a source"
            named = [p for p in loc if not p.isdigit()]
            hints = _EXPECTED if section == "settings" else _EXPECTED_TABLE
            expected = (
                hints.get(named[0] if section == "settings" else named[-1], "") if named else ""
            )
            hint = f"; expected {expected}" if expected else ""
            parts.append(f"{where}: {message}{shown}{hint}")
    return "; ".join(parts)


# What a table section's keys look like, for error messages (docs/data.md).
_EXPECTED_TABLE = {
    "path": 'the file\'s path, e.g. path = "visits.csv"',
    "sources": (
        'a list of paths or of source tables, e.g. sources = ["a.csv", { path = "b.csv.gz" }]'
    ),
    "columns": 'canonical names to column headers, e.g. columns = { user_id = "Uid" }',
    "comment": 'one character that starts comment lines, e.g. comment = "#"',
    "delimiter": 'one character, e.g. delimiter = ";"',
    "decimal": 'decimal = "," or decimal = "."',
    "thousands": 'one of ",", ".", " ", "\'", "_", e.g. thousands = " "',
    "encoding": 'a text encoding, e.g. encoding = "cp1251"',
    "sheet": 'a sheet name, e.g. sheet = "Orders"',
    "timestamp_unit": '"s", "ms", "us" or "ns", e.g. timestamp_unit = "us"',
    "constants": 'column names to one value, e.g. constants = { event = "home_page" }',
    "lookup": ('a file joined by a key, e.g. lookup = { path = "users.csv", on = "user_id" }'),
    "on": 'a key column, or [source column, lookup column], e.g. on = "user_id"',
    "params": 'GA4 event_params keys, e.g. params = ["page_location", "value"]',
    "date_time": (
        "a timestamp column to [date column, time column], e.g. date_time = { start_ts = "
        '["event_date", "event_time"] }'
    ),
}

# What each setting looks like, for error messages (docs/data.md, "[settings]").
_EXPECTED = {
    "window": 'two dates, e.g. window = ["2017-06-01", "2018-05-31"]',
    "margin": "a share of revenue in (0, 1], e.g. margin = 0.4",
    "horizon": "a whole number of periods from 1 to 120, e.g. horizon = 6",
    "period": '"day", "week" or "month"',
    "acquisition": '"first_touch" or "last_touch"',
    "complete_periods": "true or false",
    "null_ids": 'a list of texts, e.g. null_ids = ["NULL", "-", "n/a"]',
    "currency": 'a currency code, e.g. currency = "EUR"',
    "timezone": 'an IANA time zone, e.g. timezone = "Europe/Moscow"',
    "max_decompressed_bytes": "a number of bytes, e.g. max_decompressed_bytes = 10_000_000_000",
    "max_compression_ratio": "a number above 1, e.g. max_compression_ratio = 500",
}
