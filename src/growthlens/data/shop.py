"""The shop preset: a retailer's SQLite database of profiles and purchase lines, with lists.

``gl.load(folder)`` (a folder holding ``shop_database.db``) or
``gl.load("shop_database.db")`` loads with no config when the database has the tables
``personal_data`` and ``purchases`` (docs/data.md, "The shop case"):

- **customers**: ``personal_data(id, gender, age, education, city, country)``, then
  ``personal_data.csv.gz`` beside the database when present (profiles lost from the
  database), then ``personal_data_coeffs(id, …)`` when present; combined by id (each
  attribute from the first source that has it: the policy ``combine``);
- **orders**: ``purchases(id, product, colour, cost, product_sex, base_sale, dt)`` as
  order lines (``order_lines = true``): ``id`` → ``user_id``, ``dt`` → ``ts`` read as day
  numbers (``timestamp_unit = "D"``: days since ``day_zero``, 1970-01-01 when unset),
  ``cost`` → ``revenue``; the other columns are kept on the lines;
- **assignments**: ``ids_<name>_positive.txt`` (variant ``treatment``) and
  ``ids_<name>_negative.txt`` (variant ``control``) beside the database, as participant
  lists of the experiment ``<name>`` (growthlens.data.assignments).

The preset is a config mapping, the one :data:`SHOP_TOML` spells out as a growthlens.toml.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from growthlens.errors import ConfigError

SHOP = "shop"
SHOP_TABLES = ("personal_data", "purchases")
"""The tables that identify the shop schema (both must be there)."""
PROFILES_CSV = "personal_data.csv.gz"
COEFFICIENTS = "personal_data_coeffs"
_LIST = re.compile(r"^ids_(?P<name>.+)_(?P<kind>positive|negative)\.txt$", re.IGNORECASE)
VARIANTS = {"positive": "treatment", "negative": "control"}

SHOP_TOML = """\
[settings]
order_lines = true

[customers]
sources = [
  { path = "shop_database.db", table = "personal_data", columns = { user_id = "id" } },
  { path = "personal_data.csv.gz", columns = { user_id = "id" } },
  { path = "shop_database.db", table = "personal_data_coeffs", columns = { user_id = "id" } },
]

[orders]
path = "shop_database.db"
table = "purchases"
columns = { user_id = "id", ts = "dt", revenue = "cost" }
timestamp_unit = "D"

[assignments]
lists = { treatment = "ids_first_company_positive.txt", control = "ids_first_company_negative.txt" }
"""
"""The growthlens.toml equivalent to the preset on the case's folder (docs/data.md)."""


def is_shop(tables: Sequence[str]) -> bool:
    """The database has the shop schema's tables.

    >>> is_shop(["personal_data", "purchases", "personal_data_coeffs"]), is_shop(["purchases"])
    (True, False)
    """
    return all(t in tables for t in SHOP_TABLES)


def shop_mapping(
    path: str, tables: Sequence[str], *, member: str | None = None, folder: Path | None = None
) -> dict[str, Any]:
    """The config mapping of a shop database (and the files beside it in ``folder``).

    ``path`` is the file the database sources read (a zip or the database), ``member``
    the database inside a zip; ``folder`` the folder whose ``personal_data.csv.gz`` and
    id lists join the load (``None``: the database alone).

    Raises:
        ConfigError: the folder holds lists of several experiments (the preset cannot
            choose; a growthlens.toml names the pair).
    """
    where: dict[str, Any] = {"path": path}
    if member is not None:
        where["member"] = member
    by_id = {"columns": {"user_id": "id"}}
    sources: list[dict[str, Any]] = [{**where, "table": "personal_data", **by_id}]
    if folder is not None and (folder / PROFILES_CSV).is_file():
        sources.append({"path": str(folder / PROFILES_CSV), "columns": {"user_id": "id"}})
    if COEFFICIENTS in tables:
        sources.append({**where, "table": COEFFICIENTS, "columns": {"user_id": "id"}})
    raw: dict[str, Any] = {
        "settings": {"order_lines": True},
        "customers": {"sources": sources},
        "orders": {
            **where,
            "table": "purchases",
            "columns": {"user_id": "id", "ts": "dt", "revenue": "cost"},
            "timestamp_unit": "D",
        },
    }
    lists = id_lists(folder) if folder is not None else None
    if lists is not None:
        raw["assignments"] = lists
    return raw


def id_lists(folder: Path) -> dict[str, Any] | None:
    """The ``[assignments]`` lists of the ``ids_<name>_positive/negative.txt`` files, if any.

    Raises:
        ConfigError: lists of several experiments.
    """
    found: dict[str, dict[str, str]] = {}
    for file in sorted(folder.iterdir()):
        match = _LIST.match(file.name)
        if match and file.is_file():
            kind = VARIANTS[match.group("kind").lower()]
            found.setdefault(match.group("name"), {})[kind] = str(file)
    if not found:
        return None
    if len(found) > 1:
        raise ConfigError(
            f"{folder}: participant lists of several experiments ({', '.join(sorted(found))}); "
            "the shop preset reads one pair. Write a growthlens.toml naming it: "
            '[assignments] lists = { treatment = "ids_<name>_positive.txt", '
            'control = "ids_<name>_negative.txt" }'
        )
    # One list alone (participants without a control list) is read too: the analysis
    # then forms the control itself and says so.
    name, lists = next(iter(found.items()))
    return {"lists": lists, "experiment": name}


__all__ = ["SHOP", "SHOP_TABLES", "SHOP_TOML", "id_lists", "is_shop", "shop_mapping"]
