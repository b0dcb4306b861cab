"""Database presets: a SQLite file (plain or zipped) whose tables a known schema explains.

``gl.load("challenge.sqlite")`` or ``gl.load("challenge.zip")`` loads with no config when
the database's table names say what it is (docs/data.md, "Company X database"):

- **Company X** (``company_x``): ``conversions``, ``conversions_backend``,
  ``session_sources``, ``attribution_customer_journey`` and ``api_adwords_costs``; at
  least two of them must be there (one name alone, such as ``conversions``, is too common
  to be sure). Each becomes a canonical table; a table the file lacks (or that holds no
  row) is not loaded.
- **Shop** (``shop``): ``personal_data`` and ``purchases`` (profiles and purchase lines
  with day numbers), with ``personal_data.csv.gz`` and the ``ids_*_positive.txt`` /
  ``ids_*_negative.txt`` participant lists beside a plain database file
  (growthlens.data.shop).
- **Canonical names**: tables named after canonical tables (``sessions``, ``orders``,
  ``costs``, …) load as those tables, their columns found by name and alias.

The preset is a :class:`Config`, the same a ``growthlens.toml`` gives: the equivalent file
is documented, and loading either gives the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from growthlens.data.config import Config
from growthlens.data.readers import (
    extract_member,
    member_format,
    sqlite_empty_tables,
    sqlite_tables,
    zip_data_members,
)
from growthlens.data.shop import is_shop, shop_mapping
from growthlens.data.tables import TABLES
from growthlens.data.textfile import Limits
from growthlens.errors import ConfigError, DataError

COMPANY_X = "company_x"
DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db")

# Database table → (canonical table, its source keys). Columns not named are found by
# name (clicks, impressions, revenue, user_id, session_id) or kept as extra dimensions
# (market, campaign_name, cpc).
COMPANY_X_TABLES: dict[str, tuple[str, dict[str, Any]]] = {
    "session_sources": (
        "sessions",
        {
            "columns": {"source": "channel_name", "campaign": "campaign_id"},
            "date_time": {"start_ts": ["event_date", "event_time"]},
        },
    ),
    "conversions": (
        "orders",
        # The schema's key is (conv_id, user_id, conv_date): rows sharing a conv_id are
        # distinct rows there, kept and reported (the reconciliation classes them).
        {"columns": {"order_id": "conv_id", "ts": "conv_date"}, "duplicates": "keep"},
    ),
    "conversions_backend": (
        "conversions_reference",
        {"columns": {"order_id": "conv_id", "ts": "conv_date"}, "duplicates": "keep"},
    ),
    "attribution_customer_journey": (
        "touchpoints",
        {"columns": {"conversion_id": "conv_id", "weight": "ihc"}},
    ),
    "api_adwords_costs": (
        # No source column: each row takes its campaign's sessions' source at load.
        "costs",
        {"columns": {"date": "event_date", "campaign": "campaign_id"}},
    ),
}
# The fewest Company X tables that identify the schema.
COMPANY_X_MIN = 2


def is_database(path: Path) -> bool:
    """A SQLite file, or a zip (which may hold one), by name."""
    return path.name.lower().endswith((*DATABASE_SUFFIXES, ".zip"))


def database_config(path: Path, *, workdir: Path, limits: Limits) -> Config:
    """The config of a database (or a zip holding one) whose tables a preset explains.

    A zip's database member is extracted once, into ``workdir`` (the load's work folder,
    under ``limits``); the load's readers then reuse that copy for every table.

    Raises:
        DataError: the zip holds no database or several, has an unsafe member path, or the
            file is not a SQLite database.
        ConfigError: no preset recognises the database's tables (the message lists them
            and the growthlens.toml to write instead).
    """
    member: str | None = None
    database = path
    if path.name.lower().endswith(".zip"):
        members = zip_data_members(path)
        databases = [m for m in members if member_format(m) == "sqlite"]
        if len(databases) != 1:
            found = ", ".join(members) or "no data files"
            raise DataError(
                "the archive holds several databases; say which one"
                if databases
                else "the archive holds no SQLite database (.sqlite, .sqlite3, .db)",
                source=path.name,
                expected="one SQLite database inside the zip",
                found=found,
                fix="extract the database you mean and load it, or write a growthlens.toml "
                'naming it in each table: path = "<zip>", member = "<database>", '
                'table = "<table>" (docs/data.md)',
            )
        member = databases[0]
        database = extract_member(path, member, workdir=workdir, limits=limits)
    label = path.name if member is None else f"{path.name}:{member}"
    tables = sqlite_tables(database, label)
    if is_shop(tables):
        # Files beside a plain database belong to the case; inside a zip, only the database.
        siblings = path.parent if member is None else None
        shop = shop_mapping(str(path.resolve()), tables, member=member, folder=siblings)
        return Config.from_mapping(shop, base_dir=path.parent, origin=f"{label} (shop layout)")
    raw = preset_mapping(str(path.resolve()), tables, member=member)
    if raw is None:
        raise ConfigError(
            f"{label}: no known layout recognises this database's tables "
            f"({', '.join(tables) or 'none'}); a database loads with no config when its "
            f"tables are those of the Company X schema (at least {COMPANY_X_MIN} of "
            f"{', '.join(COMPANY_X_TABLES)}), those of the shop case (personal_data and "
            "purchases), or are named after canonical tables "
            f"({', '.join(TABLES)}). Write a growthlens.toml naming each table instead: "
            '[orders] path = "<file>", table = "<table>" (docs/data.md)'
        )
    # An empty table is left out like an absent one: it has no rows to load.
    empty = sqlite_empty_tables(database, [spec["table"] for spec in raw.values()], label)
    if len(empty) == len(raw):
        raise DataError(
            "the database's tables hold no rows",
            source=label,
            found=", ".join(empty),
            fix="export the database again with its rows",
        )
    raw = {name: spec for name, spec in raw.items() if spec["table"] not in empty}
    return Config.from_mapping(raw, base_dir=path.parent, origin=f"{label} (database layout)")


def preset_mapping(
    path: str, tables: list[str], *, member: str | None = None
) -> dict[str, Any] | None:
    """The config mapping (as a growthlens.toml would parse) for a database's tables.

    ``path`` is the file the sources read (a zip or the database), ``member`` the database
    inside a zip. ``None`` when no preset recognises the tables.

    >>> raw = preset_mapping("x.sqlite", ["conversions", "conversions_backend"])
    >>> sorted(raw), raw["orders"]["table"]
    (['conversions_reference', 'orders'], 'conversions')
    >>> preset_mapping("x.sqlite", ["conversions"]) is None
    True
    """
    where: dict[str, Any] = {"path": path}
    if member is not None:
        where["member"] = member
    known = [t for t in COMPANY_X_TABLES if t in tables]
    if len(known) >= COMPANY_X_MIN:
        raw: dict[str, Any] = {}
        for name in known:
            canonical, keys = COMPANY_X_TABLES[name]
            raw[canonical] = {**where, "table": name, **_copy(keys)}
        return raw
    canonical_names = [t for t in TABLES if t in tables]
    if canonical_names:
        return {name: {**where, "table": name} for name in canonical_names}
    return None


def _copy(keys: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh copy of a preset's keys (nested tables included), so no call shares them."""
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in keys.items()}


__all__ = [
    "COMPANY_X",
    "COMPANY_X_TABLES",
    "database_config",
    "is_database",
    "preset_mapping",
]
