"""Header → canonical column mapping: explicit config, named presets, then aliases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from growthlens.data.model import TableModel, snake_case
from growthlens.errors import DataError

# Known export layouts, recognised by their exact headers. Aliases in the data model
# would find most of these too; naming them makes the overview say what was recognised.
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "yandex_afisha": {
        "sessions": {
            "user_id": "Uid",
            "device": "Device",
            "start_ts": "Start Ts",
            "end_ts": "End Ts",
            "source": "Source Id",
        },
        "orders": {"ts": "Buy Ts", "revenue": "Revenue", "user_id": "Uid"},
        "costs": {"source": "source_id", "date": "dt", "cost": "costs"},
    },
}


@dataclass(frozen=True)
class ColumnMapping:
    """How one source's headers map to canonical columns.

    Attributes:
        canonical: canonical name → source header.
        extras: source header → snake_case name for columns kept as extra dimensions.
        preset: name of the recognised preset, if any.
    """

    canonical: Mapping[str, str]
    extras: Mapping[str, str]
    preset: str | None


def resolve(
    model: TableModel,
    headers: Sequence[str],
    explicit: Mapping[str, str],
    *,
    source: str,
) -> ColumnMapping:
    """Map a source's headers to ``model``'s canonical columns.

    Order of precedence: explicit ``columns`` from the config, a preset whose headers
    are all present, then the canonical name or an alias (after snake-casing).

    Raises:
        DataError: an explicit mapping names a missing header, or a required column
            cannot be found; the message lists the headers found and the config line to add.
    """
    found = list(headers)
    unknown_targets = sorted(set(explicit) - {c.name for c in model.columns})
    if unknown_targets and model.name != "customers":
        raise DataError(
            f"the mapping names unknown canonical column(s) {unknown_targets} for table {model.name!r}",
            source=source,
            expected=", ".join(c.name for c in model.columns),
            fix="use the canonical names on the left: columns = { user_id = \"Uid\" }",
        )
    for target, header in explicit.items():
        if header not in found:
            raise DataError(
                f"the mapping {target} = {header!r} names a column that is not there",
                source=source,
                column=header,
                expected=f"one of the headers: {', '.join(found)}",
                found=", ".join(found),
                fix=f"correct `{target} = \"…\"` under [{model.name}] columns",
            )
    canonical: dict[str, str] = dict(explicit)
    preset_name = None
    for name, layouts in PRESETS.items():
        layout = layouts.get(model.name)
        if layout and all(h in found for h in layout.values()):
            for target, header in layout.items():
                canonical.setdefault(target, header)
            preset_name = name
            break
    taken = set(canonical.values())
    by_snake: dict[str, str] = {}
    for header in found:
        by_snake.setdefault(snake_case(header), header)
    for column in model.columns:
        if column.name in canonical:
            continue
        for candidate in (column.name, *column.aliases):
            header = by_snake.get(candidate)
            if header is not None and header not in taken:
                canonical[column.name] = header
                taken.add(header)
                break
    missing = [name for name in model.required if name not in canonical]
    if missing:
        first = missing[0]
        suggestion = next((h for h in found if h not in taken), "<source column>")
        delimiter_hint = ""
        if len(found) == 1 and any(sep in found[0] for sep in (";", "\t", "|")):
            delimiter_hint = " (the file seems to use another delimiter: set delimiter = \";\")"
        raise DataError(
            f"required column {first!r} of table {model.name!r} not found{delimiter_hint}",
            source=source,
            column=first,
            expected=f"columns {', '.join(model.required)} (or a mapping to them)",
            found=", ".join(found) or "no columns",
            fix=(
                f"map it in growthlens.toml: [{model.name}] columns = {{ {first} = \"{suggestion}\" }}"
                f" (or pass {model.name}={{'path': ..., 'columns': {{'{first}': '{suggestion}'}}}} to gl.load)"
            ),
        )
    canonical_names = {c.name for c in model.columns}
    extras: dict[str, str] = {}
    used = set(canonical_names)
    for header in found:
        if header in taken:
            continue
        name = snake_case(header)
        while name in used:
            name = f"{name}_extra"
        used.add(name)
        extras[header] = name
    return ColumnMapping(canonical=canonical, extras=extras, preset=preset_name)
