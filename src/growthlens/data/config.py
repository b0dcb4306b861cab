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
from datetime import date, datetime, timedelta
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from growthlens.data.tables import TABLES
from growthlens.engine import SPARK, BackendLike, SparkOptions
from growthlens.errors import ConfigError

DuplicatePolicy = Literal["auto", "first", "last", "keep", "combine"]
# strptime codes the engines read (DuckDB's list; "%-d" is "%d" without padding).
_STRPTIME_CODES = frozenset("aAbBcdfgGHIjmMnpSuUVwWxXyYzZ%")
Period = Literal["day", "week", "month"]
Acquisition = Literal["first_touch", "last_touch"]
DayOrDate = int | date
"""A day: a day number (days since ``day_zero``) or a calendar date."""
EPOCH_DAY = date(1970, 1, 1)
"""Day 0 of day-number data when ``day_zero`` is not set."""
CampaignMetric = Literal["orders", "items", "revenue", "buyers"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _day_value(value: Any, what: str) -> Any:
    """Refuse what pydantic would read wrongly as a day: a bool, a fractional number.

    Pydantic reads an integer given for a ``date`` as seconds since 1970, so fields that
    take days are typed ``int | date`` and checked here before it sees them.
    """
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{what} {value!r} is neither a day number nor a date")
    if isinstance(value, float):
        return int(value)
    if isinstance(value, datetime):
        return value.date()
    return value


def _day_pair(value: Any, what: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"{what} must be two days (first, last), got {value!r}")
    return tuple(_day_value(v, what) for v in value)


def as_date(day: DayOrDate, day_zero: date | None) -> date:
    """A day as a calendar date: a day number counts from ``day_zero``.

    >>> as_date(5, date(2023, 1, 1)), as_date(date(2023, 1, 9), None)
    (datetime.date(2023, 1, 6), datetime.date(2023, 1, 9))

    Raises:
        ConfigError: a day number without ``day_zero``.
    """
    if isinstance(day, date):
        return day
    if day_zero is None:
        raise ConfigError(
            f"day {day} is a day number, but day_zero is not known; set day_zero = "
            "2023-01-01 (the date of day 0) under [settings], or give dates"
        )
    return day_zero + timedelta(days=day)


def day_number(day: DayOrDate, day_zero: date) -> int:
    """A day as a day number: days since ``day_zero`` (negative before it).

    >>> day_number(date(2023, 1, 6), date(2023, 1, 1)), day_number(7, date(2023, 1, 1))
    (5, 7)
    """
    return day if isinstance(day, int) else (day - day_zero).days


class ExperimentSpec(_Strict):
    """One A/B test the report runs (``[[settings.experiments]]``).

    Attributes:
        name: its title in the report, e.g. ``"Email discount"``.
        experiment: the assignments' ``experiment`` value it reads (``None``: the only one).
        window: first and last day of the test, inclusive (day numbers or dates);
            ``None``: the whole data window.
        pre_window: the period before the test whose metric is the CUPED covariate.
        control: the control variant's name.
    """

    name: str = Field(min_length=1)
    experiment: str | None = None
    window: tuple[DayOrDate, DayOrDate] | None = None
    pre_window: tuple[DayOrDate, DayOrDate] | None = None
    control: str = "control"

    @field_validator("window", "pre_window", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return _day_pair(value, "a window day")

    @model_validator(mode="after")
    def _ordered(self) -> ExperimentSpec:
        for key in ("window", "pre_window"):
            pair = getattr(self, key)
            if pair is None:
                continue
            if isinstance(pair[0], int) != isinstance(pair[1], int):
                raise ValueError(
                    f"{key} mixes a day number and a date ({pair[0]!r}, {pair[1]!r}); "
                    "give two day numbers or two dates"
                )
            if pair[0] > pair[1]:  # type: ignore[operator]
                raise ValueError(f"{key} starts after it ends: {pair[0]} > {pair[1]}")
        return self

    def days(self) -> tuple[DayOrDate, ...]:
        """Every day the spec names (window and pre-window), for the day-number check."""
        return (*(self.window or ()), *(self.pre_window or ()))


class CampaignSpec(_Strict):
    """One campaign that was not randomised (``[[settings.campaigns]]``).

    Attributes:
        name: its title in the report.
        treated: customers column → the value (or values) of the treated customers,
            e.g. ``{ city = 1134 }``; several columns must all match.
        period: the campaign days: day numbers or dates, and ``[first, last]`` ranges
            (inclusive), e.g. ``[15, 45]`` (days 15 and 45) or ``[[5, 16]]`` (days 5–16).
        metric: the daily metric compared: ``orders``, ``items``, ``revenue`` or
            ``buyers`` (distinct customers who bought that day).
    """

    name: str = Field(min_length=1)
    treated: dict[str, int | float | str | list[int | float | str]]
    period: list[DayOrDate | tuple[DayOrDate, DayOrDate]]
    metric: CampaignMetric = "orders"

    def __hash__(self) -> int:
        # The dict and lists are not hashable; Settings (which holds this) must be.
        return hash((self.name, repr(sorted(self.treated.items())), repr(self.period), self.metric))

    @field_validator("treated")
    @classmethod
    def _some_column(
        cls, value: dict[str, int | float | str | list[int | float | str]]
    ) -> dict[str, int | float | str | list[int | float | str]]:
        if not value:
            raise ValueError("no customers column given")
        for column, chosen in value.items():
            if isinstance(chosen, list) and not chosen:
                raise ValueError(f"{column} = [] selects no customer")
        return value

    @field_validator("period", mode="before")
    @classmethod
    def _period_days(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not value:
            raise ValueError(f"must be a list of days or [first, last] ranges, got {value!r}")
        out = []
        for item in value:
            if isinstance(item, list | tuple):
                pair = _day_pair(item, "a period day")
                if isinstance(pair[0], int) != isinstance(pair[1], int) or pair[0] > pair[1]:
                    raise ValueError(f"the range {list(item)!r} is not [first, last]")
                out.append(pair)
            else:
                out.append(_day_value(item, "a period day"))
        return out

    def days(self) -> tuple[DayOrDate, ...]:
        """Every day or range end the period names."""
        return tuple(
            d for item in self.period for d in (item if isinstance(item, tuple) else (item,))
        )

    def day_numbers(self, day_zero: date) -> tuple[int, ...]:
        """The campaign days as sorted distinct day numbers (ranges expanded)."""
        out: set[int] = set()
        for item in self.period:
            if isinstance(item, tuple):
                first, last = day_number(item[0], day_zero), day_number(item[1], day_zero)
                out.update(range(first, last + 1))
            else:
                out.add(day_number(item, day_zero))
        return tuple(sorted(out))


class ShareLimits(_Strict):
    """The shares of a table's rows and of its money from which a finding has a severity.

    Attributes:
        rows: share of the table's rows the finding concerns, in [0, 1].
        revenue: share of the table's money (revenue of orders, spend of costs), in [0, 1].
    """

    rows: float = Field(ge=0, le=1)
    revenue: float = Field(ge=0, le=1)


SEVERITY_DEFAULTS: dict[str, dict[str, float]] = {
    # 0.1%: below what a share rounded to one decimal shows; one order of 100,000 is a fact.
    "warning": {"rows": 0.001, "revenue": 0.001},
    # 5% of rows moves a count-based rate (conversion, retention) by 5% of itself; 1% of
    # revenue moves revenue, LTV and ROMI by more than a reader rounds away.
    "error": {"rows": 0.05, "revenue": 0.01},
}


class SeverityThresholds(_Strict):
    """``[settings.severity]``: from which shares a load finding is a warning or an error.

    A finding concerning at least ``error.rows`` of its table's rows or ``error.revenue``
    of its money is an error; else at least the ``warning`` shares, a warning; else info
    (growthlens.data.severity). A level given in part takes the other share's default.

    Attributes:
        warning: the shares from which a finding is a warning.
        error: the shares from which it is an error (each at least the warning's).
    """

    warning: ShareLimits = ShareLimits(**SEVERITY_DEFAULTS["warning"])
    error: ShareLimits = ShareLimits(**SEVERITY_DEFAULTS["error"])

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        # error = { rows = 0.1 } keeps the default revenue share of the level.
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for level, shares in SEVERITY_DEFAULTS.items():
            if isinstance(out.get(level), Mapping):
                out[level] = {**shares, **out[level]}
        return out

    @model_validator(mode="after")
    def _ordered(self) -> SeverityThresholds:
        for share in ("rows", "revenue"):
            low, high = getattr(self.warning, share), getattr(self.error, share)
            if low > high:
                raise ValueError(
                    f"warning.{share} = {low:g} is above error.{share} = {high:g}: a finding "
                    "cannot be an error before it is a warning"
                )
        return self


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
        day_zero: the calendar date of day 0 when the data's time is day numbers
            (integers counting days): any integer time column is then read as days since
            it, and windows may be given as day numbers. Unset, day-number data (a source
            with ``timestamp_unit = "D"``) counts from 1970-01-01, and the loaded
            Dataset's ``settings.day_zero`` is that date: ``ds.settings.day_zero is not
            None`` exactly when the data's time is day numbers.
        order_lines: the orders source has one row per item bought (an order line);
            ``ds.table("orders")`` is then one row per order with ``items`` (its line
            count), and ``ds.lines`` the accepted lines.
        experiments: the A/B tests the report runs (:class:`ExperimentSpec`).
        campaigns: the campaigns that were not randomised (:class:`CampaignSpec`).
        severity: the shares of rows and money from which a load finding is a warning or
            an error (:class:`SeverityThresholds`).
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
    day_zero: date | None = None
    order_lines: bool = False
    experiments: tuple[ExperimentSpec, ...] = ()
    campaigns: tuple[CampaignSpec, ...] = ()
    severity: SeverityThresholds = SeverityThresholds()

    @field_validator("day_zero", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        # Pydantic would read a number as seconds since 1970: only a date (or its text).
        if isinstance(value, datetime):
            return value.date()
        if value is not None and not isinstance(value, date | str):
            raise ValueError(f"{value!r} is not a date")
        return value

    @model_validator(mode="before")
    @classmethod
    def _window_days(cls, data: Any) -> Any:
        # window = [5, 16]: day numbers, read as dates from day_zero.
        if not isinstance(data, Mapping) or data.get("window") is None:
            return data
        pair = data["window"]
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return data  # the field's own validation words it
        if not any(isinstance(v, int) and not isinstance(v, bool) for v in pair):
            return data
        zero = data.get("day_zero")
        if isinstance(zero, str):
            try:
                zero = date.fromisoformat(zero)
            except ValueError:
                return data  # day_zero's own error says what is wrong
        if not isinstance(zero, date):
            raise ValueError(
                f"window = {list(pair)!r} gives day numbers, which need day_zero (the date of "
                "day 0); set day_zero = 2023-01-01 under [settings], or give dates"
            )
        if isinstance(zero, datetime):
            zero = zero.date()
        days = []
        for v in pair:
            if isinstance(v, bool) or not isinstance(v, int | date):
                return data
            days.append(as_date(v, zero) if isinstance(v, int) else v)
        return {**data, "window": tuple(days)}

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
TimeUnit = Literal["s", "ms", "us", "ns", "D"]
"""What an integer time counts: an epoch unit, or ``"D"``: days since ``day_zero``."""


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
        path: file path (CSV, CSV.gz/.zip, Parquet, JSON/JSON lines, SQLite, DuckDB); or
            a folder or glob pattern whose data files, of one format, are read as one
            source, with Hive ``key=value`` folders as text columns
            (growthlens.data.readers.list_file_set; docs/data.md).
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
            presets state ``"us"`` themselves). ``"D"``: day numbers, days since the
            ``day_zero`` setting (1970-01-01 when unset); with ``day_zero`` set, any
            integer time column is read so without this key.
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
    timestamp_unit: TimeUnit | None = None
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
    ``combine`` (customers only; their ``auto`` with several sources) makes one row per
    id, each attribute from the first source listed that has a value for it
    (growthlens.data.combine).
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


class ListsSpec(_Strict):
    """Assignments from participant lists (one file of ids per variant), or from a rule.

    ``[assignments] lists = { treatment = "a.txt", control = "b.txt" }``, or
    ``gl.load(assignments={"treatment": "a.txt", "control": "b.txt"})``. Each file is
    read by :func:`growthlens.data.idlist.read_id_list` (ids separated by any mix of
    commas, semicolons, spaces and line breaks; every token accounted for).
    ``[assignments] rule = { city = 1134 }`` (``gl.load(assignments={"rule": {"city":
    1134}})``) makes every customer matching the rule a participant of the ``treatment``
    variant instead; with no control group, ``gl.ab_test`` draws a matched one.

    Attributes:
        lists: variant name → the file of its participants' ids.
        rule: customers column → the value or values that make a customer a participant
            (all columns must match).
        experiment: the ``experiment`` value of the rows (default: the file names' common
            stem without the words ``ids``/``list``, e.g. ``first_company`` for
            ``ids_first_company_positive.txt`` and ``ids_first_company_negative.txt``;
            ``experiment`` when they share none; for a rule, the rule in words).
    """

    lists: dict[str, str] = Field(default_factory=dict)
    rule: dict[str, int | float | str | list[int | float | str]] | None = None
    experiment: str | None = Field(default=None, min_length=1)

    def __hash__(self) -> int:
        rule = tuple((k, str(v)) for k, v in (self.rule or {}).items())
        return hash((tuple(self.lists.items()), rule, self.experiment))

    @field_validator("lists", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(
                "not a table of variant names to files, e.g. lists = "
                '{ treatment = "ids_positive.txt", control = "ids_negative.txt" }'
            )
        out = {}
        for variant, path in value.items():
            if not isinstance(path, str | PurePath) or not str(path).strip():
                raise ValueError(f"{variant} = {path!r} is not a file path")
            if not str(variant).strip():
                raise ValueError("a variant name is empty")
            out[str(variant)] = str(path)
        return out

    @model_validator(mode="after")
    def _one_kind(self) -> ListsSpec:
        if bool(self.lists) == bool(self.rule):
            raise ValueError(
                "give either lists (variant names to files) or a rule (customers column to "
                'value), e.g. lists = { treatment = "ids_positive.txt" } or rule = { city = 1134 }'
            )
        return self


LISTS_KEYS = frozenset(ListsSpec.model_fields)


class Config(_Strict):
    """A whole ``growthlens.toml``.

    Experiments and campaigns may be written under ``[settings]``
    (``[[settings.experiments]]``) or at the top level (``[[experiments]]``); both mean
    the same, and giving them in both places is an error.
    """

    settings: Settings = Field(default_factory=Settings)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    engine: EngineSpec = Field(default_factory=EngineSpec)
    base_dir: Path = Field(default=Path("."))
    lists: ListsSpec | None = None

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
        unknown = sorted(set(raw) - set(TABLES) - {"settings", "engine", *_SPEC_SECTIONS})
        if unknown:
            raise ConfigError(
                f"{origin}: unknown section(s) {', '.join(f'[{u}]' for u in unknown)}; "
                f"known sections: [settings], [engine], {', '.join(f'[{t}]' for t in TABLES)}, "
                "[[experiments]], [[campaigns]]; rename or remove it"
            )
        raw = _specs_into_settings(raw, origin)
        lists: ListsSpec | None = None
        assignments = raw.get("assignments")
        if isinstance(assignments, Mapping) and ("lists" in assignments or "rule" in assignments):
            extra = sorted(set(assignments) - LISTS_KEYS)
            if extra:
                raise ConfigError(
                    f"{origin}: [assignments] with lists or a rule takes only lists, rule and "
                    "experiment; "
                    f"found {', '.join(extra)}; remove it (the lists' ids are read as they are)"
                )
            try:
                lists = ListsSpec.model_validate(assignments)
            except ValidationError as exc:
                raise ConfigError(f"{origin}: {_describe_lists(exc)}") from exc
            raw = {k: v for k, v in raw.items() if k != "assignments"}
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
        return cls(settings=settings, tables=tables, engine=engine, base_dir=base_dir, lists=lists)


_SPEC_SECTIONS = ("experiments", "campaigns")


def _specs_into_settings(raw: Mapping[str, Any], origin: str) -> Mapping[str, Any]:
    """Top-level ``[[experiments]]``/``[[campaigns]]`` moved under ``[settings]``."""
    given = [k for k in _SPEC_SECTIONS if k in raw]
    if not given:
        return raw
    settings = raw.get("settings", {})
    if not isinstance(settings, Mapping):
        return raw  # the [settings] check words it
    out = {k: v for k, v in raw.items() if k not in _SPEC_SECTIONS}
    moved = dict(settings)
    for key in given:
        if key in settings:
            raise ConfigError(
                f"{origin}: {key} are given both as [[{key}]] and as [[settings.{key}]]; "
                "keep one of them"
            )
        if not isinstance(raw[key], list | tuple):
            raise ConfigError(
                f"{origin}: [{key}] must be a list of tables; write each as [[{key}]] "
                'followed by its keys, e.g. name = "..."'
            )
        moved[key] = raw[key]
    out["settings"] = moved
    return out


def _describe_lists(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(
            f"[assignments] {loc}: {message}; expected lists = "
            '{ treatment = "ids_positive.txt", control = "ids_negative.txt" } and optionally '
            'experiment = "name"'
        )
    return "; ".join(parts)


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
    "experiments": tuple(ExperimentSpec.model_fields),
    "campaigns": tuple(CampaignSpec.model_fields),
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
            if section == "settings" and loc and loc[0] in ("experiments", "campaigns"):
                known = _KNOWN_KEYS[loc[0]]
                where = f"[[settings.{loc[0]}]]"
            elif section in ("settings", "engine"):
                known = _KNOWN_KEYS[section]
            elif "sources" in loc:
                known = _KNOWN_KEYS["source"]
            else:
                known = _KNOWN_KEYS["table"]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            shown_section = where if where.startswith("[[") else f"[{section}]"
            parts.append(
                f"unknown key {key!r} in {shown_section}; known keys: {', '.join(known)}; "
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
            if (
                section == "settings"
                and len(named) > 1
                and named[0] in ("experiments", "campaigns")
            ):
                # A key of one test or campaign: what that key looks like.
                expected = _EXPECTED_SPEC.get(named[1], expected)
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
    "timestamp_unit": '"s", "ms", "us", "ns" or "D" (day numbers), e.g. timestamp_unit = "us"',
    "constants": 'column names to one value, e.g. constants = { event = "home_page" }',
    "lookup": ('a file joined by a key, e.g. lookup = { path = "users.csv", on = "user_id" }'),
    "on": 'a key column, or [source column, lookup column], e.g. on = "user_id"',
    "params": 'GA4 event_params keys, e.g. params = ["page_location", "value"]',
    "date_time": (
        "a timestamp column to [date column, time column], e.g. date_time = { start_ts = "
        '["event_date", "event_time"] }'
    ),
}

# What a key of one experiment or campaign looks like, for error messages.
_EXPECTED_SPEC = {
    "name": 'a title, e.g. name = "Email discount"',
    "experiment": 'the assignments\' experiment value, e.g. experiment = "first_company"',
    "window": "two day numbers or two dates, first and last, e.g. window = [5, 16]",
    "pre_window": "two day numbers or two dates, first and last, e.g. pre_window = [0, 4]",
    "control": 'the control variant\'s name, e.g. control = "control"',
    "treated": "customers column to value(s), e.g. treated = { city = 1134 }",
    "period": "days and [first, last] ranges, e.g. period = [15, 45] or period = [[5, 16]]",
    "metric": '"orders", "items", "revenue" or "buyers"',
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
    "day_zero": "the date of day 0, e.g. day_zero = 2023-01-01",
    "order_lines": "true or false",
    "severity": (
        "shares in [0, 1], warning at most error, e.g. [settings.severity] "
        "warning = { rows = 0.001, revenue = 0.001 } error = { rows = 0.05, revenue = 0.01 }"
    ),
    "experiments": (
        'a list of tests, e.g. [[settings.experiments]] name = "Email discount" '
        "window = [5, 16] pre_window = [0, 4]"
    ),
    "campaigns": (
        '[[settings.campaigns]] name = "Billboards" treated = { city = 1134 } period = [15, 45] '
        'metric = "orders"'
    ),
}
