"""Source layouts that need more than a header mapping (docs/events.md).

- **GA4 BigQuery export** (nested): one row per event with ``event_params`` as a list of
  ``{key, value: {string_value, int_value, float_value, double_value}}`` records and
  ``device``, ``geo``, ``traffic_source`` structs. :func:`flatten_ga4` turns it into flat
  event columns in the engine (struct field access and array filters, no unnesting into
  pandas), so the events mapping then finds every canonical column by name.
- **Lookups** (a source's ``lookup``): another file's columns joined to every row by a key,
  e.g. a user table's sign-up date as the time of the events of a table-per-step export.
- **Constants** (a source's ``constants``): one value for every row, e.g. the event name of
  a table that holds the users who reached one funnel step.
- **Folder presets**: a folder whose files a known layout explains loads with no config
  (:func:`folder_config`): a table-per-step export (a user table plus one two-column table
  per step) and the Olist marketing funnel (leads and closed deals).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from growthlens.data.config import Config, EpochUnit, LookupSpec
from growthlens.data.tables import snake_case
from growthlens.errors import ConfigError, DataError

GA4_BIGQUERY = "ga4_bigquery"
GA4_NESTED_HEADERS = ("event_timestamp", "event_name", "user_pseudo_id", "event_params")
# event_params kept by default: the page, the session and its engagement (GA4's automatic
# parameters on web streams). ``params = [...]`` in the source replaces the list.
DEFAULT_PARAMS = (
    "ga_session_id",
    "ga_session_number",
    "page_location",
    "page_title",
    "page_referrer",
    "engagement_time_msec",
)
# Parameters GA4 always writes as int_value: kept as integers, every other one as text
# (whichever of the value fields it uses), so a key written two ways never loses a value.
INT_PARAMS = frozenset({"ga_session_id", "ga_session_number", "engagement_time_msec", "entrances"})
# Struct fields taken as property columns: (struct, path inside it, column name).
GA4_FIELDS = (
    ("device", ("category",), "device"),
    ("device", ("operating_system",), "os"),
    ("device", ("web_info", "browser"), "browser"),
    ("geo", ("country",), "country"),
    ("geo", ("region",), "region"),
    ("geo", ("city",), "city"),
    ("traffic_source", ("source",), "source"),
    ("traffic_source", ("medium",), "medium"),
    ("traffic_source", ("name",), "campaign"),
)
MAX_PARAMS = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1}
# A plausible range for epoch times: a wrong unit puts them in 1970 or past the year 2200.
PLAUSIBLE = (datetime(1971, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def epoch_to_timestamp(value: ir.IntegerValue, unit: EpochUnit) -> ir.TimestampValue:
    """Integers counting ``unit`` since 1970-01-01 UTC → naive time in the session zone."""
    micros = value // 1000 if unit == "ns" else value * _MICROS[unit]
    aware = ibis.literal(_EPOCH) + micros.as_interval("us")
    return aware.cast(dt.Timestamp())  # type: ignore[no-any-return]


def epoch_bounds(unit: EpochUnit) -> tuple[int, int]:
    """The raw integers, in ``unit``, of the plausible range (1971 – 2200)."""
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    return tuple(int(d.timestamp()) * per_second for d in PLAUSIBLE)  # type: ignore[return-value]


def guess_unit(magnitude: int) -> EpochUnit:
    """The unit under which an epoch integer of this size is a date of our times."""
    for unit in ("s", "ms", "us", "ns"):
        low, high = epoch_bounds(unit)  # type: ignore[arg-type]
        if low <= abs(magnitude) < high:
            return unit  # type: ignore[return-value]
    return "s"


def is_ga4_nested(table: ir.Table) -> bool:
    """The GA4 BigQuery export layout: its headers, with ``event_params`` a list of records."""
    if not all(h in table.columns for h in GA4_NESTED_HEADERS):
        return False
    params = table.schema()["event_params"]
    return bool(params.is_array() and params.value_type.is_struct())  # type: ignore[attr-defined]


def flatten_ga4(table: ir.Table, params: Sequence[str] | None, label: str) -> ir.Table:
    """One flat row per GA4 event: ``ts``, ``event``, ``user_id``, ``session_id``, properties.

    ``ts`` is ``event_timestamp`` (microseconds since 1970-01-01 UTC; digits as text, as
    some JSON exports write INT64, are read the same), ``user_id`` is ``user_pseudo_id``
    (GA4's own ``user_id``, the signed-in id, is kept as ``ga_user_id``), ``session_id`` is
    ``user_pseudo_id`` + ``-`` + the ``ga_session_id`` parameter (GA4 session ids are
    unique per user only). The chosen ``event_params`` become columns named by their key;
    device, geo and traffic-source fields become ``device``, ``os``, ``browser``,
    ``country``, ``region``, ``city``, ``source``, ``medium``, ``campaign``. Other top-level
    scalar columns (``event_date``, ``platform``, …) are kept; nested ones are left out.
    """
    schema = table.schema()
    stamp = table.event_timestamp
    if schema["event_timestamp"].is_string():
        stamp = stamp.strip().try_cast("int64")
    elif not schema["event_timestamp"].is_integer():
        raise DataError(
            "event_timestamp of the GA4 export is not an integer",
            source=label,
            column="event_timestamp",
            expected="microseconds since 1970-01-01 UTC (INT64), as BigQuery exports it",
            found=str(schema["event_timestamp"]),
            fix="export event_timestamp unchanged, or load the file as a flat export with "
            "columns = { ts = ... } and timestamp_unit",
        )
    keys = tuple(dict.fromkeys(params if params is not None else DEFAULT_PARAMS))
    value_fields = set(schema["event_params"].value_type.fields["value"].names)  # type: ignore[attr-defined]
    out: dict[str, ir.Value] = {
        "ts": epoch_to_timestamp(stamp, "us"),
        "event": table.event_name.cast("string"),
        "user_id": table.user_pseudo_id.cast("string"),
    }
    longest = int(table.event_params.length().max().to_pyarrow().as_py() or 0)
    if longest > MAX_PARAMS:
        raise DataError(
            f"an event has {longest:,} event_params, more than the {MAX_PARAMS} a GA4 event "
            "carries",
            source=label,
            column="event_params",
            expected=f"at most {MAX_PARAMS} parameters per event",
            found=f"{longest:,}",
            fix="check that the file is a GA4 BigQuery export, or flatten it before loading",
        )
    extracted = {key: _param(table.event_params, key, value_fields, longest) for key in keys}
    session = _param(table.event_params, "ga_session_id", value_fields, longest)
    user = table.user_pseudo_id.cast("string")
    out["session_id"] = ibis.ifelse(
        session.isnull() | user.isnull(), ibis.null("string"), user + "-" + session.cast("string")
    )
    for struct, path, name in GA4_FIELDS:
        field = _field(table, struct, path)
        if field is not None:
            out[name] = field
    if "user_id" in table.columns and not schema["user_id"].is_nested():
        out["ga_user_id"] = table.user_id.cast("string")
    for column, dtype in schema.items():
        if column in GA4_NESTED_HEADERS or column == "user_id" or dtype.is_nested():
            continue
        out.setdefault(column, table[column])
    for key, value in extracted.items():
        out["param_" + key if key in out else key] = value
    return table.select(**out)


def _param(params: ir.ArrayValue, key: str, fields: set[str], length: int) -> ir.Value:
    """The value of one ``event_params`` key (null when the event lacks it).

    Positions are read one by one (``params[i].key == key``) up to the longest list:
    array lambdas compile to a syntax some engine versions refuse, plain indexing
    compiles everywhere, and GA4 events carry a few dozen parameters at most. The value
    record is found first, then its fields read once.
    """
    if not length:
        return ibis.null("int64" if key in INT_PARAMS else "string")
    hits = [
        ibis.ifelse(params[i].key == key, params[i].value, ibis.null())  # type: ignore[attr-defined]
        for i in range(length)
    ]
    value = ibis.coalesce(*hits) if len(hits) > 1 else hits[0]
    if key in INT_PARAMS and "int_value" in fields:
        ints = value["int_value"]  # type: ignore[index]
        if "string_value" in fields:
            ints = ints.coalesce(value["string_value"].try_cast("int64"))  # type: ignore[index]
        return ints  # type: ignore[no-any-return]
    order = ("string_value", "int_value", "double_value", "float_value")
    parts = [value[f].cast("string") for f in order if f in fields]  # type: ignore[index]
    return ibis.coalesce(*parts) if len(parts) > 1 else parts[0]


def _field(table: ir.Table, struct: str, path: Sequence[str]) -> ir.Value | None:
    if struct not in table.columns:
        return None
    value: ir.Value = table[struct]
    for name in path:
        dtype = value.type()
        if not dtype.is_struct() or name not in dtype.names:  # type: ignore[attr-defined]
            return None
        value = value[name]  # type: ignore[index]
    return value.cast("string")


LOOKUP_KEY = "_growthlens_lookup_key"


def lookup_rows(lookup: ir.Table, spec: LookupSpec, *, label: str) -> ir.Table:
    """The lookup's key (as trimmed text) and the columns to bring, one row per key.

    Raises:
        DataError: the key or a listed column is missing, or keys repeat (a join would
            copy the source's rows).
    """
    theirs = spec.keys[1]
    wanted = (
        list(spec.columns)
        if spec.columns is not None
        else [c for c in lookup.columns if c != theirs]
    )
    for name in (theirs, *wanted):
        if name not in lookup.columns:
            what = "key column" if name == theirs else "column"
            raise DataError(
                f"the lookup {what} {name!r} is not there",
                source=label,
                column=name,
                expected=f"a column {name!r}",
                found=", ".join(lookup.columns),
                fix='name the key: on = "<column>", or on = ["<source column>", "<lookup '
                'column>"] when they differ; list only existing columns in columns = [...]',
            )
    right = lookup.select(
        **{LOOKUP_KEY: lookup[theirs].cast("string").strip().nullif("")},
        **{c: lookup[c] for c in wanted},
    )
    right = right.filter(right[LOOKUP_KEY].notnull())
    repeated = right.group_by(LOOKUP_KEY).aggregate(n=right.count()).filter(lambda t: t.n > 1)
    stats = repeated.aggregate(keys=repeated.count(), rows=repeated.n.sum()).to_pyarrow()
    keys = int(stats["keys"][0].as_py() or 0)
    if keys:
        top = repeated.order_by(ibis.desc("n"), LOOKUP_KEY).limit(3).to_pyarrow()
        examples = top[LOOKUP_KEY].to_pylist()
        raise DataError(
            f"{keys:,} key(s) appear more than once in the lookup, so its rows cannot be "
            "joined one to one (the source's rows would be copied)",
            source=label,
            column=theirs,
            expected=f"one row per {theirs}",
            found=f"{int(stats['rows'][0].as_py()):,} rows share {keys:,} keys, e.g. "
            + ", ".join(map(repr, examples)),
            examples=examples,
            fix="remove the repeated rows from the lookup file (or point the lookup at a "
            "table with one row per key)",
        )
    return right


def join_lookup(table: ir.Table, right: ir.Table, spec: LookupSpec, *, label: str) -> ir.Table:
    """``table`` with the lookup's columns from the row of the same key (left join).

    ``right`` comes from :func:`lookup_rows`; a row whose key is not there gets nulls.

    Raises:
        DataError: the source lacks its key column, or has a column the lookup brings.
    """
    mine = spec.keys[0]
    if mine not in table.columns:
        raise DataError(
            f"the lookup key column {mine!r} is not there",
            source=label,
            column=mine,
            expected=f"a column {mine!r}",
            found=", ".join(table.columns),
            fix='name the key: on = "<column>", or on = ["<source column>", "<lookup column>"] '
            "when they differ",
        )
    wanted = [c for c in right.columns if c != LOOKUP_KEY]
    clash = [c for c in wanted if c in table.columns]
    if clash:
        raise DataError(
            f"the lookup's column(s) {', '.join(map(repr, clash))} are also in the source",
            source=label,
            column=clash[0],
            expected="lookup columns with names the source does not use",
            found=", ".join(clash),
            fix="list the columns to bring in the lookup, e.g. columns = "
            f"[{', '.join(repr(c) for c in wanted if c not in clash)}]",
        )
    joined = table.left_join(right, table[mine].cast("string").strip() == right[LOOKUP_KEY])
    return joined.select(*table.columns, *wanted)


def add_constants(
    table: ir.Table, constants: Mapping[str, str | int | float | bool], *, label: str
) -> ir.Table:
    """``table`` with one column per constant, the same value on every row.

    Raises:
        DataError: the source already has a column of that name.
    """
    clash = [name for name in constants if name in table.columns]
    if clash:
        raise DataError(
            f"constants = {{ {clash[0]} = ... }} names a column the source already has",
            source=label,
            column=clash[0],
            expected="a constant for a column the file does not have",
            found=", ".join(table.columns),
            fix=f'map the file\'s column instead (columns = {{ {clash[0]} = "<column>" }}) '
            "or remove the constant",
        )
    return table.mutate(**{k: ibis.literal(v) for k, v in constants.items()})


# -- folder presets --------------------------------------------------------------------

OLIST_LEADS = "olist_marketing_qualified_leads_dataset.csv"
OLIST_DEALS = "olist_closed_deals_dataset.csv"
# A user table's sign-up time column, by snake_case name, in order of preference.
_SIGNUP = ("signup_date", "sign_up_date", "registration_date", "created_at", "date", "ts")


def folder_config(folder: Path) -> Config:
    """The config of a folder whose files a known layout explains.

    Raises:
        ConfigError: no layout recognises the folder's files (the message lists them and
            the growthlens.toml to write instead).
    """
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith((".csv", ".csv.gz"))
    )
    headers = {p.name: _csv_header(p) for p in files}
    raw = _olist(headers) or _table_per_step(headers)
    if raw is None:
        listing = ", ".join(
            f"{name} ({', '.join(h[:6])}{', …' if len(h) > 6 else ''})"
            for name, h in headers.items()
        )
        raise ConfigError(
            f"{folder}: no known layout recognises this folder's files "
            f"({listing or 'no CSV files'}); known folder layouts: a table-per-step export "
            "(a user table with user_id and a sign-up date, plus one user_id + page table "
            f"per funnel step) and the Olist marketing funnel ({OLIST_LEADS}, {OLIST_DEALS}). "
            "Write a growthlens.toml naming the files instead (docs/data.md, docs/events.md)"
        )
    return Config.from_mapping(raw, base_dir=folder, origin=f"{folder} (folder layout)")


GA4_HEADERS = ("event_timestamp", "event_name", "user_pseudo_id")
_DATA_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".json", ".jsonl", ".ndjson")


def is_data_file(path: Path) -> bool:
    """A file growthlens reads as a table (not a growthlens.toml)."""
    return path.name.lower().endswith(_DATA_SUFFIXES)


def file_config(path: Path) -> Config:
    """The config of one data file whose layout a preset recognises (GA4 event exports).

    Raises:
        ConfigError: no preset recognises the file's columns.
    """
    headers = _headers(path)
    if all(h in headers for h in GA4_HEADERS):
        raw = {"events": {"path": path.name}}
        return Config.from_mapping(raw, base_dir=path.parent, origin=f"{path} (GA4 layout)")
    raise ConfigError(
        f"{path}: no known layout recognises this file's columns "
        f"({', '.join(headers[:8]) or 'none read'}); a single file loads with no config "
        "when it is a GA4 event export (event_timestamp, event_name, user_pseudo_id). "
        "Name its table instead: gl.load(events=...) / gl.load(sessions=...), or write a "
        "growthlens.toml"
    )


def _headers(path: Path) -> list[str]:
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if name.endswith((".json", ".jsonl", ".ndjson")):
            with path.open("rb") as handle:
                first = json.loads(handle.readline(16 * 1024**2) or b"{}")
            return [str(k) for k in first] if isinstance(first, dict) else []
    except (OSError, ValueError):
        return []
    return _csv_header(path)


def _csv_header(path: Path) -> list[str]:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            first = handle.readline(64 * 1024)
    except OSError:
        return []
    text = first.decode("utf-8-sig", errors="replace")
    row = next(csv.reader(io.StringIO(text)), [])
    return [h.strip() for h in row]


def _olist(headers: Mapping[str, list[str]]) -> dict[str, Any] | None:
    leads, deals = headers.get(OLIST_LEADS), headers.get(OLIST_DEALS)
    if not leads or not deals:
        return None
    if not {"mql_id", "first_contact_date", "origin"} <= set(leads):
        return None
    if not {"mql_id", "won_date"} <= set(deals):
        return None
    return {
        "events": {
            "sources": [
                {
                    "path": OLIST_LEADS,
                    "columns": {"user_id": "mql_id", "ts": "first_contact_date"},
                    "constants": {"event": "first_contact"},
                    "timestamp_format": "%d-%m-%Y",
                },
                {
                    "path": OLIST_DEALS,
                    "columns": {"user_id": "mql_id", "ts": "won_date"},
                    "constants": {"event": "won"},
                },
            ]
        }
    }


def _table_per_step(headers: Mapping[str, list[str]]) -> dict[str, Any] | None:
    """A user table (user_id, a sign-up date, attributes) and ≥ 2 two-column step tables."""
    users: list[tuple[str, str]] = []
    steps: list[tuple[str, str]] = []
    for name, found in headers.items():
        snake = [snake_case(h) for h in found]
        if "user_id" not in snake:
            return None
        key = found[snake.index("user_id")]
        if len(found) == 2:
            steps.append((name, next(h for h in found if h != key)))
            continue
        signup = next((found[snake.index(s)] for s in _SIGNUP if s in snake), None)
        if signup is None:
            return None
        users.append((name, signup))
    if len(users) != 1 or len(steps) < 2:
        return None
    user_file, signup = users[0]
    user_key = next(h for h in headers[user_file] if snake_case(h) == "user_id")
    sources = []
    for name, page in steps:
        key = next(h for h in headers[name] if snake_case(h) == "user_id")
        sources.append(
            {
                "path": name,
                # The step's column holds the page's name on every row: the event name.
                "columns": {"user_id": key, "event": page, "ts": signup},
                "lookup": {
                    "path": user_file,
                    "on": [key, user_key],
                    "columns": [h for h in headers[user_file] if h != user_key],
                },
            }
        )
    return {"events": {"sources": sources}, "customers": {"path": user_file}}


__all__ = [
    "DEFAULT_PARAMS",
    "GA4_BIGQUERY",
    "add_constants",
    "epoch_bounds",
    "epoch_to_timestamp",
    "file_config",
    "flatten_ga4",
    "folder_config",
    "guess_unit",
    "is_data_file",
    "is_ga4_nested",
    "join_lookup",
    "lookup_rows",
]
