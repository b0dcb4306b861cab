"""How a derived table is declared, and the registry of every declared one.

A derived table is a named intermediate table built in the engine from the canonical
tables (first orders, buyers, activity profiles, …). It is declared once, with
:func:`declare`, in the module of :mod:`growthlens.derive` that holds its concept;
callers ask for it through the Dataset's one door::

    table = ds.derived(BUYERS(period="month", acquisition="first_touch"))

The Dataset builds it on first use, caches it in the engine and keeps it for its lifetime
(:class:`growthlens.data.dataset.DerivedStore`), so every analysis of a report shares one
copy. The load files the tables it built for its own checks under the same names (first
orders, buyers' first visits, activity profiles, session lengths): they are reused as they
are, as long as the Dataset's tables and settings are the loaded ones.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import ibis.expr.types as ir

from growthlens.data.dataset import Dataset

Builder = Callable[..., ir.Table]


@dataclass(frozen=True)
class DerivedTable:
    """The declaration of one derived table.

    Attributes:
        name: registry name (``"buyers"``).
        doc: what a row is and its columns, in one or two sentences.
        needs: canonical tables it is built from.
        builder: ``builder(ds, **params) -> ir.Table``.
    """

    name: str
    doc: str
    needs: tuple[str, ...]
    builder: Builder

    def __call__(self, **params: Hashable) -> DerivedKey:
        """A request for this table with ``params`` (the Dataset builds or reuses it)."""
        return DerivedKey(self, tuple(sorted(params.items())))


@dataclass(frozen=True)
class DerivedKey:
    """A request: a declared table and its parameters (see :meth:`Dataset.derived`)."""

    table: DerivedTable
    params: tuple[tuple[str, Hashable], ...] = ()

    @property
    def key(self) -> Hashable:
        """The table's name and parameters."""
        return (self.table.name, self.params)

    def build(self, ds: Dataset) -> ir.Table:
        """The table's expression over ``ds``'s canonical tables."""
        ds.require(*self.table.needs)
        return self.table.builder(ds, **dict(self.params))


DERIVED: dict[str, DerivedTable] = {}
"""Every declared derived table, by name (docs/architecture.md lists them)."""


def declare(
    name: str,
    doc: str,
    *,
    needs: tuple[str, ...],
    builder: Builder,
) -> DerivedTable:
    """Declare a derived table once; a second declaration of a name is an error."""
    if name in DERIVED:
        raise ValueError(f"derived table {name!r} is declared twice")
    table = DerivedTable(name, doc, needs, builder)
    DERIVED[name] = table
    return table
