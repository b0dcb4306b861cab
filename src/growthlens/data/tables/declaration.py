"""What a canonical table declaration says (DESIGN §3), and the kept-row check it may carry.

One :class:`TableModel` per canonical table, in the module named after it; from these the
``gl.load`` keywords (checked by a test), the CLI's table options, the config sections,
the validation and the overview's wording are derived. docs/architecture.md, "How to add
a table", walks through adding one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import ibis.expr.types as ir

from growthlens.data.quality import Action

ColumnKind = Literal["id", "timestamp", "date", "number", "text"]

FIRST_VISITS = "_first_visits"
"""Check-time table: the first visit (``first_user``, ``first_visit``) of buyers to check."""
SEEN_SOURCES = "_seen_sources"
"""Check-time table: the distinct session sources (``seen_source``) the load saw."""


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Attributes:
        name: canonical snake_case name.
        kind: how values are coerced: ``id`` (uint64 when every value is a
            non-negative integer that fits, else string), ``timestamp`` (naive, in the
            dataset time zone), ``date``, ``number`` (float64) or ``text``.
        required: a table without it cannot be loaded; a row with a null in it is
            excluded (``missing_<name>``).
        aliases: normalised header names recognised as this column.
        negative: the exclusion reason of a row whose value is below 0 (``None``: a
            negative value is allowed).
    """

    name: str
    kind: ColumnKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    negative: str | None = None


@dataclass(frozen=True)
class FlagRule:
    """A kept-row check: rows are counted and left in, or left out of named metrics.

    ``condition`` gives the flagged rows from the tables (and ``FIRST_VISITS``, when
    sessions and orders are both loaded: the first visit, ``first_user`` /
    ``first_visit``, of each buyer who ordered before it or has none). A rule also gives
    ``where``, a test on one row of ``base`` (by default the table itself), so all rules
    over the same base are counted in one scan. A sessions rule may instead give
    ``on_lengths``, the same test on the load's per-length counts (growthlens.data.lengths),
    which answer it without a scan. ``text`` says what is wrong with the flagged rows,
    ``text_one`` the same of a single row.
    """

    check: str
    needs: tuple[str, ...]
    condition: Callable[[Mapping[str, ir.Table]], ir.Table]
    text: str
    text_one: str
    action: Action
    effect: str
    where: Callable[[ir.Table], ir.BooleanValue] | None = None
    base: Callable[[Mapping[str, ir.Table]], ir.Table] | None = None
    on_lengths: Callable[[ir.Table], ir.BooleanValue] | None = None


@dataclass(frozen=True)
class TableModel:
    """One canonical table, declared once.

    Attributes:
        name: canonical table name (the ``gl.load`` keyword, the config section, the CLI
            option ``--<name>`` with ``-`` for ``_``).
        description: what a row is, in one sentence (CLI help, docs).
        row: what rows are called in sentences, plural (``"cost rows"``).
        row_one: the same, singular (``"cost row"``).
        columns: known columns (others are kept as extra dimensions).
        time_column: the column that places a row in time (defines the data window).
        key: columns identifying a row for the duplicate policy; ``None`` means the
            whole row.
        settings: the dataset settings that change how this table is read or counted.
        flags: its kept-row checks (:class:`FlagRule`).
        per_day_by: a column the load's one scan also counts accepted rows by, per day
            (sessions per day and source), when the table has it.
        sets_window: whether the table's time range takes part in the data window (the
            period all tables cover). A copy kept for comparison (conversions_reference)
            does not: a backend export covering fewer days must not cut the others.
    """

    name: str
    description: str
    row: str
    row_one: str
    columns: tuple[Column, ...]
    time_column: str | None
    key: tuple[str, ...] | None = None
    settings: tuple[str, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    per_day_by: str | None = None
    sets_window: bool = True

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The canonical column called ``name``, if the model has one."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def option(self) -> str:
        """The command-line option of this table (``--conversions-reference``)."""
        return "--" + self.name.replace("_", "-")

    def rows(self, n: int) -> str:
        """``n`` rows in words: ``1 cost row``, ``2,000 cost rows``."""
        return f"{n:,} {self.row_one if n == 1 else self.row}"


USER = Column("user_id", "id", True, ("uid", "user", "userid", "client_id", "visitor_id"))
"""The user id column most tables share."""


def snake_case(header: str) -> str:
    """Normalise a source header: ``"Start Ts"`` → ``"start_ts"``, ``"sourceId"`` → ``"source_id"``.

    >>> snake_case("Start Ts"), snake_case("sourceId"), snake_case(" Buy-Ts ")
    ('start_ts', 'source_id', 'buy_ts')
    """
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header.strip())
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return text or "column"
