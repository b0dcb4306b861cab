"""Choosing one named part of a source that holds several: a database's table, a sheet."""

from __future__ import annotations

from growthlens.errors import DataError


def choose_member(
    names: list[str], wanted: str | None, label: str, *, kind: str, container: str
) -> str:
    """``wanted`` if it is one of ``names``, else the only name; a DataError otherwise.

    ``kind`` is what a name names and the source key that chooses it (``table``,
    ``sheet``); ``container`` what holds them (``database``, ``workbook``).

    >>> choose_member(["orders"], None, "shop.sqlite", kind="table", container="database")
    'orders'
    >>> choose_member(["a", "b"], None, "book.xlsx", kind="sheet", container="workbook")
    Traceback (most recent call last):
    ...
    growthlens.errors.DataError: book.xlsx: the workbook holds several sheets; say which one
      found: a, b
      fix: set sheet = "<name>" in the source
    """
    found = ", ".join(names) or f"no {kind}s"
    if wanted is not None:
        if wanted not in names:
            raise DataError(
                f"no {kind} {wanted!r} in the {container}",
                source=label,
                found=found,
                fix=f'set {kind} = "<name>" to one of the {kind}s found',
            )
        return wanted
    if len(names) != 1:
        raise DataError(
            f"the {container} holds several {kind}s; say which one"
            if names
            else f"the {container} holds no {kind}s",
            source=label,
            found=found,
            fix=f'set {kind} = "<name>" in the source',
        )
    return names[0]
