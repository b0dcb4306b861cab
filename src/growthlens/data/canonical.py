"""Map a raw source to canonical names and types, in the engine.

Type problems that make a column unusable (text in a revenue column, dates that do not
parse) are :class:`DataError` with examples. One aggregate query per source finds them
and, in the same pass, profiles the id columns (are they all plain non-negative integers?).

Ids: a column whose every value is a plain decimal integer that fits 64 unsigned bits
becomes ``uint64`` (on backends that have it); anything else (``"u1"``, ``"007"``, a
negative number) stays text, so ids are never wrapped, rounded or merged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from growthlens.data.config import EPOCH_DAY, EpochUnit, SourceSpec
from growthlens.data.layouts import epoch_bounds, epoch_to_timestamp, guess_unit
from growthlens.data.mapping import ColumnMapping
from growthlens.data.readers import RawSource
from growthlens.data.tables import Column, TableModel
from growthlens.data.textfile import locate_values
from growthlens.engine import Capabilities
from growthlens.errors import DataError

SOURCE_RANK = "_growthlens_source"
# A plain id: no sign, no leading zero (which "007" vs "7" would lose), at most 20 digits.
_PLAIN_INTEGER = r"^(0|[1-9][0-9]{0,19})$"
# A text timestamp that carries its own offset: converted, not read as local time.
_OFFSET = r"([+-][0-9]{2}(:?[0-9]{2})?|[zZ]| UTC)$"
ID_COLUMNS = ("user_id", "session_id", "order_id", "conversion_id")
# Text columns that hold identifiers (campaign ids such as '00123'): read as text, trimmed,
# and blank means none ('' is how exports write "no campaign"), never a campaign of its own.
BLANK_IS_NULL = ("campaign",)


def id_type(backend: Capabilities) -> dt.DataType:
    """Numeric id type on this backend: ``uint64`` where it stores unsigned ids, else text."""
    return dt.uint64 if backend.unsigned_ids else dt.string


@dataclass(frozen=True)
class CanonicalSource:
    """One source in canonical names and types.

    Attributes:
        table: canonical columns (+ extras, + the source rank).
        numeric_ids: per id column, whether this source's ids are numeric (``uint64``).
        day_numbers: whether a time column was read from day numbers.
    """

    table: ir.Table
    numeric_ids: Mapping[str, bool]
    day_numbers: bool = False


def canonicalize(
    raw: RawSource,
    model: TableModel,
    mapping: ColumnMapping,
    spec: SourceSpec | None,
    *,
    rank: int,
    backend: Capabilities,
    null_ids: Sequence[str] = (),
    day_zero: date | None = None,
) -> CanonicalSource:
    """Select, rename and type ``raw`` into ``model``'s canonical columns (+ extras).

    Time columns holding day numbers (the source's ``timestamp_unit = "D"``, or any
    integer time column when ``day_zero`` is given) become midnight of ``day_zero`` +
    that many days (1970-01-01 when ``day_zero`` is ``None``), in the engine.

    Raises:
        DataError: a mapped column has a type that cannot become the canonical one, or
            some non-empty values cannot be parsed (the message shows examples).
    """
    table = raw.table
    schema = table.schema()
    numeric = id_type(backend)
    exprs: dict[str, ir.Value] = {}
    checks: list[_ParseCheck] = []
    id_probes: dict[str, tuple[ir.Value, ir.BooleanValue | None]] = {}
    epochs: list[tuple[str, ir.NumericValue, str]] = []
    days: list[tuple[str, ir.NumericValue]] = []
    zero = day_zero or EPOCH_DAY
    for column in model.columns:
        header = mapping.canonical.get(column.name)
        if header is None:
            continue
        source = table[header]
        dtype = schema[header]
        if column.kind == "id":
            text, bad = _id_profile(source, dtype, backend, null_ids)
            id_probes[column.name] = (text, bad)
            exprs[column.name] = text
            continue
        fmt = spec.time_format(column.kind) if spec else None
        unit = (spec.timestamp_unit if spec else None) or mapping.epoch_unit
        numeric_time = dtype.is_integer() or dtype.is_floating()
        if column.kind in ("timestamp", "date") and (
            unit == "D" or (unit is None and day_zero is not None and numeric_time)
        ):
            counted = _day_numbers(source, dtype, column, zero, fmt)
            if counted is not None:
                value, number, parsed_from_text = counted
                days.append((header, number))
                if parsed_from_text:
                    checks.append(
                        _ParseCheck(column.name, header, source, value, _expectation(column, fmt))
                    )
                exprs[column.name] = value
                continue
        if column.kind in ("timestamp", "date") and unit is not None and unit != "D":
            epoch = _epoch(source, dtype, column, unit, fmt)
            if epoch is not None:
                value, number, parsed_from_text = epoch
                epochs.append((header, number, unit))
                if parsed_from_text:
                    checks.append(
                        _ParseCheck(column.name, header, source, value, _expectation(column, fmt))
                    )
                exprs[column.name] = value
                continue
        value, parsed_from_text = _coerce(source, dtype, column, spec, raw.label, header)
        if parsed_from_text:
            checks.append(
                _ParseCheck(column.name, header, source, value, _expectation(column, fmt))
            )
        exprs[column.name] = value
    for header, name in mapping.extras.items():
        exprs[name] = table[header]

    numeric_ok = {name: bad is None for name, (_, bad) in id_probes.items()}
    probed = {n: bad for n, (_, bad) in id_probes.items() if bad is not None}
    # Ids that went through a float column: each must be a whole number that fits 64
    # unsigned bits, on every backend, or the id would silently become other text.
    floats = {n for n in probed if schema[mapping.canonical[n]].is_floating()}
    if checks or (probed and not numeric.is_string()) or floats:
        try:
            counts = _profile(table, checks, probed, counted=floats)
        except Exception as exc:  # the engine's parse error: keep all of its words
            formats = {spec.time_format(k) for k in ("timestamp", "date")} if spec else set()
            raise _unreadable(exc, raw.label, sorted(f for f in formats if f)) from exc
        problems = _unparseable(table, checks, counts, raw, model.name)
        for name in sorted(floats):
            if counts[f"id_{name}"]:
                header = mapping.canonical[name]
                n = counts[f"id_{name}"]
                problems.append(_float_ids(table, header, probed[name], n, raw.label))
        if problems:
            raise DataError.combine(problems)
        numeric_ok.update({name: not counts[f"id_{name}"] for name in probed})
    if epochs:
        _check_epochs(table, epochs, raw.label)
    if days:
        _check_days(table, days, zero, raw.label)
    if numeric.is_string():
        numeric_ok = dict.fromkeys(numeric_ok, False)
    for name, (text, _) in id_probes.items():
        if numeric_ok[name]:
            header = mapping.canonical[name]
            exprs[name] = _to_numeric(table[header], schema[header], text, numeric)
    exprs[SOURCE_RANK] = ibis.literal(rank, type="int32")
    typed = table.select(**{name: value.name(name) for name, value in exprs.items()})
    return CanonicalSource(typed, numeric_ok, day_numbers=bool(days))


@dataclass(frozen=True)
class _ParseCheck:
    name: str
    header: str
    source: ir.Value
    value: ir.Value
    expected: str

    def failed(self) -> ir.BooleanValue:
        text = self.source.cast("string").strip()
        return self.source.notnull() & (text != "") & self.value.isnull()


def _float_ids(table: ir.Table, header: str, bad: ir.BooleanValue, n: int, label: str) -> DataError:
    examples = table.filter(bad).select(header).limit(3).to_pyarrow().column(0).to_pylist()
    return DataError(
        f"{n:,} id(s) in a number column are not whole numbers from 0 to 2**64 − 1, so they "
        "name no user exactly",
        source=label,
        column=header,
        expected="ids as text, or as whole non-negative numbers below 2**64",
        found=", ".join(repr(v) for v in examples),
        fix="export the id column as text (or as integers), not as decimal numbers",
    )


def _unreadable(exc: Exception, label: str, formats: Sequence[str]) -> DataError:
    message = " ".join(line.strip() for line in str(exc).strip().splitlines())
    if formats and "format specifier" in message:
        stated = " or ".join(repr(f) for f in formats)
        return DataError(
            f"a value does not match the stated format {stated}",
            source=label,
            expected=f"every time value written as {stated}",
            found=message,
            fix="correct timestamp_format (or date_format) to how the file writes its times "
            "(strptime codes), or remove it to let growthlens read ISO times",
        )
    return DataError(f"the values cannot be read: {message}", source=label)


def _profile(
    table: ir.Table,
    checks: Sequence[_ParseCheck],
    id_probes: Mapping[str, ir.BooleanValue],
    *,
    counted: Collection[str] = (),
) -> dict[str, Any]:
    """Failed rows per parse check (``bad_i``) and per id probe (``id_name``).

    ``counted``: the probes whose number is needed (float ids, for the error message).
    With no parse check and no such probe, each id probe only has to say whether any
    value fails, and asks for one failing row: a scan that stops at the first one. Text
    ids such as ``u3f…`` fail on the first row, where counting read every row (50M
    sessions with text ids: 12.7 s).
    """
    if not checks and not set(id_probes) & set(counted):
        return {
            f"id_{name}": int(table.filter(bad).limit(1).count().to_pyarrow().as_py() or 0)
            for name, bad in id_probes.items()
        }
    aggs: dict[str, ir.Value] = {f"bad_{i}": c.failed().sum() for i, c in enumerate(checks)}
    for name, bad in id_probes.items():
        aggs[f"id_{name}"] = bad.sum()
    aggs["rows"] = table.count()
    row: dict[str, Any] = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    # sum() over zero rows is NULL.
    return {k: int(v or 0) for k, v in row.items()}


def _stripped(text: ir.StringValue, backend: Capabilities) -> ir.StringValue:
    """``text.strip()``, handing the engine's trim only the texts that may need it.

    Where the engine trims only ASCII whitespace (``ascii_trim``), a text whose first and
    last characters are above 32 is already trimmed.
    """
    if not backend.ascii_trim:
        return text.strip()
    clean = (text.ascii_str() > 32) & (text.right(1).ascii_str() > 32)
    return ibis.ifelse(clean, text, text.strip())


def _id_profile(
    source: ir.Value, dtype: dt.DataType, backend: Capabilities, null_ids: Sequence[str] = ()
) -> tuple[ir.Value, ir.BooleanValue | None]:
    """Return (the ids as text, "this value is not a plain non-negative integer").

    ``None`` instead of the condition: every value is one, no need to look. Text ids in
    ``null_ids`` (``NULL``, ``-`` …) become null: they name no user, and merged they
    would make one large fake user.
    """
    # A type wide enough for any uint64 id: the type itself where the backend has it,
    # else a 20-digit decimal (Spark, Postgres have no unsigned integers).
    wide = dt.uint64 if backend.unsigned_ids else dt.Decimal(20, 0)
    if dtype.is_unsigned_integer():
        return source.cast("string"), None
    if dtype.is_integer():
        return source.cast("string"), source < 0
    if dtype.is_floating():
        # Integral floats (ids that went through a float column) keep their digits. No
        # floor(): engines return it as a signed 64-bit integer, which overflows at 2**63.
        integral = ((source % 1.0) == 0) & (source >= 0) & (source < 2.0**64)
        as_text = ibis.ifelse(integral, source.try_cast(wide).cast("string"), source.cast("string"))
        return as_text, source.notnull() & ~integral
    text = _stripped(source.cast("string"), backend).nullif("")
    if null_ids:
        # A simple CASE on the value, not isin(): DuckDB turns isin() on a computed value
        # into a mark join that computes it twice (10M string ids: 13.6 CPU-s against 4.0;
        # equalities joined by OR, 5.1).
        text = text.substitute({token: ibis.null("string") for token in null_ids})
    plain = text.re_search(_PLAIN_INTEGER) & text.try_cast(wide).notnull()
    return text, text.notnull() & ~plain


def _to_numeric(
    source: ir.Value, dtype: dt.DataType, text: ir.Value, numeric: dt.DataType
) -> ir.Value:
    if dtype.is_integer() or dtype.is_floating():
        return source.cast(numeric)
    return text.try_cast(numeric)


def unify_ids(tables: dict[str, ir.Table], backend: Capabilities) -> dict[str, ir.Table]:
    """Give every id column one type across tables, so joins on ``user_id`` work.

    If any table's ids are text (e.g. ``"u1"``), all become text; otherwise they stay
    numeric (uint64 where the backend has it).
    """
    out = dict(tables)
    for col in ID_COLUMNS:
        holders = [n for n, t in tables.items() if col in t.columns]
        if any(tables[n][col].type().is_string() for n in holders):
            for n in holders:
                if not out[n][col].type().is_string():
                    out[n] = out[n].mutate(**{col: out[n][col].cast("string")})
    return out


def union_sources(parts: Sequence[CanonicalSource], model: TableModel) -> ir.Table:
    """Union the sources of one table; columns missing from a source are null there.

    A column typed differently by two sources becomes float64 when both are numeric,
    else text, so the union never fails on a cast.
    """
    if len(parts) == 1:
        return parts[0].table
    types: dict[str, list[dt.DataType]] = {}
    for part in parts:
        for name, typ in part.table.schema().items():
            types.setdefault(name, []).append(typ)
    target: dict[str, dt.DataType] = {}
    for name, found in types.items():
        distinct = set(found)
        if len(distinct) == 1:
            target[name] = found[0]
        elif all(t.is_numeric() for t in distinct) and not (set(ID_COLUMNS) & {name}):
            target[name] = dt.float64
        elif all(t.is_timestamp() for t in distinct):
            target[name] = dt.Timestamp()
        else:
            target[name] = dt.string
    aligned = []
    for part in parts:
        t = part.table
        exprs = {}
        for name, typ in target.items():
            if name not in t.columns:
                exprs[name] = ibis.null(typ)
            elif t[name].type() == typ:
                exprs[name] = t[name]
            else:
                exprs[name] = t[name].cast(typ)
        aligned.append(t.select(**exprs))
    try:
        return ibis.union(*aligned, distinct=False)
    except Exception as exc:  # pragma: no cover - types are aligned above
        raise DataError(
            f"the sources of {model.name} cannot be combined: {exc}",
            fix="map the same columns in every source",
        ) from exc


def _coerce(
    source: ir.Value,
    dtype: dt.DataType,
    column: Column,
    spec: SourceSpec | None,
    label: str,
    header: str,
) -> tuple[ir.Value, bool]:
    """Return (typed expression, whether it was parsed from text and needs checking)."""
    kind = column.kind
    fmt = spec.time_format(kind) if spec else None
    if kind == "text":
        if column.name in BLANK_IS_NULL:
            return source.cast("string").strip().nullif(""), False
        return source.cast("string"), False
    if kind == "number":
        if dtype.is_numeric() or dtype.is_boolean():
            return source.cast("float64"), False
        if dtype.is_string():
            return _number(source.strip().nullif(""), spec), True
        raise _type_error(column, dtype, label, header)
    if kind in ("timestamp", "date") and (dtype.is_integer() or dtype.is_floating()):
        # Never read as seconds by guess: a number of what since when is the user's to say.
        raise DataError(
            f"the column mapped to {column.name!r} holds numbers ({dtype}), not times",
            source=label,
            column=header,
            expected=_expectation(column, None) + ", or numbers since 1970 with their unit",
            found=str(dtype),
            fix='state what the numbers count: timestamp_unit = "s", "ms", "us" or "ns" in the '
            "source (10 digits are seconds, 13 milliseconds, 16 microseconds as in GA4, "
            '19 nanoseconds), or "D" for day numbers (small integers such as 0 to 58), with '
            "day_zero = <the date of day 0> under [settings]",
        )
    if kind == "timestamp":
        if dtype.is_timestamp():
            # tz-aware → naive in the session time zone (set from `timezone`).
            return (source.cast(dt.Timestamp()) if dtype.timezone else source), False
        if dtype.is_date():
            return source.cast(dt.Timestamp()), False
        if dtype.is_string():
            return _parse_timestamp(source.strip().nullif(""), fmt), True
        raise _type_error(column, dtype, label, header)
    if kind == "date":
        if dtype.is_date():
            return source, False
        if dtype.is_timestamp():
            local = source.cast(dt.Timestamp()) if dtype.timezone else source
            return local.date(), False
        if dtype.is_string():
            text = source.strip().nullif("")
            if fmt:
                return text.as_timestamp(fmt).date(), True
            # A date column may hold full timestamps; the calendar date is what counts.
            return ibis.coalesce(text.try_cast(dt.date), _parse_timestamp(text, None).date()), True
        raise _type_error(column, dtype, label, header)
    raise AssertionError(kind)


def date_time_header(day: str, clock: str) -> str:
    """The name of the column built from a date and a time column (named in messages)."""
    return f"{day} + {clock}"


def combine_date_time(
    table: ir.Table,
    date_time: Mapping[str, tuple[str, str]],
    *,
    keep: Sequence[str] = (),
    label: str,
) -> ir.Table:
    """``table`` with one text column ``"<date> + <time>"`` per entry of ``date_time``.

    The value is the date as ``YYYY-MM-DD`` (or as written, when text), a space and the
    time of day, so the timestamp is then read (and its failures counted) like any other
    text timestamp. A null or blank part makes the whole value null (a missing time, not
    an unreadable one). The two source columns are dropped unless listed in ``keep``.

    Raises:
        DataError: a named column is not there, or has a type that holds no date (time).
    """
    names = [c for pair in date_time.values() for c in pair]
    missing = [c for c in dict.fromkeys(names) if c not in table.columns]
    if missing:
        raise DataError(
            f"date_time names column(s) {', '.join(map(repr, missing))} that are not there",
            source=label,
            column=missing[0],
            expected="the date column and the time column of the source, e.g. "
            'date_time = { start_ts = ["event_date", "event_time"] }',
            found=", ".join(table.columns),
            fix="name existing columns in date_time",
        )
    schema = table.schema()
    built: dict[str, ir.Value] = {}
    for day, clock in date_time.values():
        day_text = _part_text(table[day], schema[day], "date", label, day)
        clock_text = _part_text(table[clock], schema[clock], "time", label, clock)
        both = day_text.notnull() & clock_text.notnull()
        joined = day_text + " " + clock_text  # type: ignore[operator]
        built[date_time_header(day, clock)] = ibis.ifelse(both, joined, ibis.null("string"))
    dropped = set(names) - set(keep)
    return table.select(*[c for c in table.columns if c not in dropped], **built)


def _part_text(
    value: ir.Value, dtype: dt.DataType, part: str, label: str, header: str
) -> ir.StringValue:
    """A date (``part="date"``) or a time of day as text; blank text is null."""
    if dtype.is_string():
        return value.cast("string").strip().nullif("")  # type: ignore[no-any-return]
    if part == "date" and dtype.is_date():
        return value.cast("string")  # type: ignore[no-any-return]
    if part == "date" and dtype.is_timestamp():
        return value.date().cast("string")  # type: ignore[attr-defined,no-any-return]
    if part == "time" and dtype.is_time():
        return value.cast("string")  # type: ignore[no-any-return]
    if part == "time" and dtype.is_timestamp():
        # Spreadsheets store a time of day as a timestamp on a dummy date.
        return value.time().cast("string")  # type: ignore[attr-defined,no-any-return]
    raise DataError(
        f"the {part} column of date_time has type {dtype}",
        source=label,
        column=header,
        expected="a date (2017-06-01) or its text"
        if part == "date"
        else "a time of day (HH:MM:SS or HH:MM) or its text",
        found=str(dtype),
        fix="name the right column in date_time, or convert it before loading",
    )


_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def _epoch(
    source: ir.Value, dtype: dt.DataType, column: Column, unit: str, fmt: str | None
) -> tuple[ir.Value, ir.NumericValue, bool] | None:
    """(typed time, the raw number, parsed from text) for epoch integers, else ``None``.

    Numbers count ``unit`` since 1970-01-01 UTC; text counts too when it is digits only
    and no format is stated (other text is then read as a time, e.g. ISO).
    """
    epoch_unit: EpochUnit = unit  # type: ignore[assignment]
    if dtype.is_integer():
        number: ir.NumericValue = source.cast("int64")
    elif dtype.is_floating():
        # Fractional seconds (1700000000.25): whole microseconds of the value.
        factor = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}[unit]
        number = (source * factor).round().cast("int64")  # type: ignore[operator]
        epoch_unit = "us"
    elif dtype.is_string() and fmt is None:
        text = source.strip().nullif("")
        digits = text.re_search(r"^-?[0-9]{1,19}$")
        number = ibis.ifelse(digits, text.try_cast("int64"), ibis.null("int64"))
        as_time = epoch_to_timestamp(number, epoch_unit)
        value = ibis.ifelse(digits, as_time, _parse_timestamp(text, None))
        if column.kind == "date":
            value = value.date()
        return value, number, True
    else:
        return None
    value = epoch_to_timestamp(number, epoch_unit)
    if dtype.is_floating():
        number = source  # type: ignore[assignment]
    return (value.date() if column.kind == "date" else value), number, False


# Day numbers must give dates in this range: outside it they are not day numbers (seconds
# since 1970 read as days land tens of thousands of years away).
_DAY_RANGE = (date(1900, 1, 1), date(2200, 1, 1))


def _day_numbers(
    source: ir.Value, dtype: dt.DataType, column: Column, zero: date, fmt: str | None
) -> tuple[ir.Value, ir.NumericValue, bool] | None:
    """(typed time, the day number, parsed from text) for day numbers, else ``None``.

    Integers count whole days; a float is a day number with a fraction of a day (kept to
    the microsecond); text counts when it is digits only and no format is stated (other
    text is read as a time, e.g. ISO).
    """
    base = ibis.literal(datetime.combine(zero, datetime.min.time()), type=dt.Timestamp())
    parsed_from_text = False
    if dtype.is_integer():
        number: ir.NumericValue = source.cast("int64")
        value: ir.Value = base + number.as_interval("D")  # type: ignore[attr-defined]
    elif dtype.is_floating():
        number = source  # type: ignore[assignment]
        micros = (source * 86_400_000_000).round().cast("int64")  # type: ignore[operator]
        value = base + micros.as_interval("us")
    elif dtype.is_string() and fmt is None:
        text = source.strip().nullif("")
        digits = text.re_search(r"^-?[0-9]{1,9}$")
        number = ibis.ifelse(digits, text.try_cast("int64"), ibis.null("int64"))
        value = ibis.ifelse(digits, base + number.as_interval("D"), _parse_timestamp(text, None))
        parsed_from_text = True
    else:
        return None
    return (value.date() if column.kind == "date" else value), number, parsed_from_text  # type: ignore[attr-defined]


def _check_days(
    table: ir.Table, days: Sequence[tuple[str, ir.NumericValue]], zero: date, label: str
) -> None:
    """Refuse day numbers whose dates fall outside 1900–2200: they are not day numbers."""
    low, high = ((d - zero).days for d in _DAY_RANGE)
    aggs: dict[str, ir.Value] = {}
    for i, (_, number) in enumerate(days):
        aggs[f"bad_{i}"] = ((number < low) | (number >= high)).sum()
        aggs[f"min_{i}"] = number.min()
        aggs[f"max_{i}"] = number.max()
    row = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    problems = []
    for i, (header, _) in enumerate(days):
        bad = int(row[f"bad_{i}"] or 0)
        if not bad:
            continue
        problems.append(
            DataError(
                f"{bad:,} values read as day numbers (days since {zero}) give dates outside "
                "the years 1900–2200, so they are not day numbers",
                source=label,
                column=header,
                expected=f"days since day_zero = {zero}, e.g. 0 to 58",
                found=f"numbers from {row[f'min_{i}']} to {row[f'max_{i}']}",
                fix="if the numbers count seconds (or ms, us, ns) since 1970, set timestamp_unit = "
                '"s" (or "ms", "us", "ns") in the source; else correct day_zero under [settings]',
            )
        )
    if problems:
        raise DataError.combine(problems)


def _check_epochs(
    table: ir.Table, epochs: Sequence[tuple[str, ir.NumericValue, str]], label: str
) -> None:
    """Refuse epoch times outside 1971–2200: the stated unit is not the file's."""
    aggs: dict[str, ir.Value] = {}
    for i, (_, number, unit) in enumerate(epochs):
        low, high = epoch_bounds(unit)  # type: ignore[arg-type]
        aggs[f"bad_{i}"] = ((number < low) | (number >= high)).sum()
        aggs[f"min_{i}"] = number.min()
        aggs[f"max_{i}"] = number.max()
    row = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    problems = []
    for i, (header, _, unit) in enumerate(epochs):
        bad = int(row[f"bad_{i}"] or 0)
        if not bad:
            continue
        low, high = row[f"min_{i}"], row[f"max_{i}"]
        guess = guess_unit(int(high if abs(high) >= abs(low) else low))
        problems.append(
            DataError(
                f"{bad:,} values read as {_UNIT_WORDS[unit]} since 1970 fall outside the "
                "years 1971–2200, so the unit is not the file's",
                source=label,
                column=header,
                expected=f"{_UNIT_WORDS[unit]} since 1970-01-01 UTC (timestamp_unit = {unit!r})",
                found=f"numbers from {low} to {high}",
                fix=f'set timestamp_unit = "{guess}" in the source ({_UNIT_WORDS[guess]}: '
                "10 digits are seconds, 13 milliseconds, 16 microseconds, 19 nanoseconds)",
            )
        )
    if problems:
        raise DataError.combine(problems)


def _number(text: ir.StringValue, spec: SourceSpec | None) -> ir.Value:
    """A text number read with the source's separators: ``1.234,5`` with thousands "."."""
    if spec is not None and spec.thousands:
        text = text.replace(spec.thousands, "")
    if spec is not None and spec.decimal == ",":
        text = text.replace(",", ".")
    return text.try_cast("float64")


def _parse_timestamp(text: ir.StringValue, fmt: str | None) -> ir.Value:
    if fmt:
        # Wall-clock text gives a naive time; Ibis labels the result UTC, the cast (a no-op
        # in the engines' SQL) makes it naive like every other timestamp.
        return text.as_timestamp(fmt).cast(dt.Timestamp())
    # Offsets ("+03:00", "Z") are honoured: the instant is converted to the session time
    # zone. Without an offset the wall-clock time is kept as given.
    aware = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp())
    return ibis.ifelse(text.re_search(_OFFSET), aware, text.try_cast(dt.Timestamp()))


def _unparseable(
    table: ir.Table,
    checks: Sequence[_ParseCheck],
    counts: Mapping[str, int],
    raw: RawSource,
    table_name: str,
) -> list[DataError]:
    """One error per column with values that cannot be read, each with its examples."""
    failing = [(i, check) for i, check in enumerate(checks) if counts[f"bad_{i}"]]
    examples = {
        i: [
            str(v)
            for v in table.filter(check.failed())
            .select(v=check.source.cast("string"))
            .limit(5)
            .to_pyarrow()["v"]
            .to_pylist()
        ]
        for i, check in failing
    }
    # One pass over the file finds the lines of every column's examples.
    located = (
        locate_values(*raw.text, {check.header: examples[i] for i, check in failing})
        if raw.text and failing
        else {}
    )
    problems: list[DataError] = []
    for i, check in failing:
        bad = counts[f"bad_{i}"]
        lines = located.get(check.header, {})
        found = ", ".join(
            repr(e) + (f" (line {lines[e.strip()]})" if e.strip() in lines else "")
            for e in examples[i][:3]
        )
        if "timestamp" in check.expected or "date" in check.expected:
            setting = "date_format" if "date" in check.expected else "timestamp_format"
            fix = (
                f'set {setting} = "%d.%m.%Y %H:%M" (your format, strptime codes) in the '
                f"source, or map another column to {check.name} under [{table_name}] columns"
            )
        else:
            fix = _number_fix(examples[i]) or (
                f"clean the column, or map another column to {check.name} "
                f'under [{table_name}] columns = {{ {check.name} = "<column>" }}'
            )
        problems.append(
            DataError(
                f"{bad:,} of {counts['rows']:,} values cannot be read as {check.expected}; "
                "no rows were loaded",
                source=raw.label,
                column=check.header,
                expected=check.expected,
                found="text such as " + found,
                examples=examples[i],
                fix=fix,
            )
        )
    return problems


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}([,.' \u00a0\u202f])\d{3}(\1\d{3})*([.,]\d+)?$")


def _number_fix(examples: Sequence[str]) -> str | None:
    """What the separators in text numbers say: a thousands separator, a decimal comma."""
    texts = [e.strip() for e in examples]
    grouped = [m for t in texts if (m := _THOUSANDS.match(t))]
    if grouped:
        sep = grouped[0].group(1)
        decimals = {m.group(3)[0] for m in grouped if m.group(3)}
        if decimals and decimals != {sep}:
            decimal = decimals.pop()
            return (
                f"the numbers group thousands with {sep!r} and use {decimal!r} for decimals: "
                f"set thousands = {sep!r}"
                + (' and decimal = ","' if decimal == "," else "")
                + " in the source"
            )
        if sep == "," and all(len(t.rsplit(",", 1)[-1]) == 3 for t in texts):
            return (
                "the commas may group thousands (1,234 = 1234) or be decimal commas "
                '(1,234 = 1.234): set thousands = "," or decimal = "," in the source, '
                "whichever the export means"
            )
        return f"the numbers group thousands with {sep!r}: set thousands = {sep!r} in the source"
    if any(re.fullmatch(r"[-+]?\d*,\d+", t) for t in texts):
        return 'the values use a decimal comma: set decimal = "," in the source'
    return None


def _expectation(column: Column, fmt: str | None) -> str:
    if column.kind == "number":
        return "a number"
    what = "a timestamp" if column.kind == "timestamp" else "a date"
    return f"{what} in the format {fmt!r}" if fmt else f"{what} (e.g. 2017-06-01 00:01:00)"


def _type_error(column: Column, dtype: dt.DataType, label: str, header: str) -> DataError:
    return DataError(
        f"the column mapped to {column.name!r} has type {dtype}",
        source=label,
        column=header,
        expected=_expectation(column, None),
        found=str(dtype),
        fix=f"map a column of the right type to {column.name}, or convert it before loading",
    )


__all__ = [
    "ID_COLUMNS",
    "SOURCE_RANK",
    "CanonicalSource",
    "canonicalize",
    "combine_date_time",
    "date_time_header",
    "id_type",
    "unify_ids",
    "union_sources",
]
