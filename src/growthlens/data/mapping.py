"""Header → canonical column mapping: explicit config, named presets, then aliases."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from growthlens.data.tables import TableModel, snake_case
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
    # A flat GA4-like event export (docs/events.md): event_timestamp as ISO text, or as
    # integer microseconds since 1970 UTC, as GA4 writes it (PRESET_UNITS).
    "ga4_flat": {
        "events": {"user_id": "user_pseudo_id", "event": "event_name", "ts": "event_timestamp"},
    },
}
# What integer times count in a preset's layout (a source's timestamp_unit wins).
PRESET_UNITS: dict[str, str] = {"ga4_flat": "us"}


@dataclass(frozen=True)
class ColumnMapping:
    """How one source's headers map to canonical columns.

    Attributes:
        canonical: canonical name → source header.
        extras: source header → snake_case name for columns kept as extra dimensions.
        preset: name of the recognised preset, if any.
        epoch_unit: what integer times count in the preset's layout (``"us"`` for GA4).
    """

    canonical: Mapping[str, str]
    extras: Mapping[str, str]
    preset: str | None
    epoch_unit: str | None = None


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
    known = {c.name for c in model.columns}
    unknown_targets = sorted(set(explicit) - known)
    if unknown_targets and model.name != "customers":
        raise DataError(
            f"the mapping names unknown canonical column(s) {unknown_targets} "
            f"for table {model.name!r}",
            source=source,
            expected="canonical names on the left: " + ", ".join(sorted(known)),
            found=", ".join(unknown_targets),
            fix='use the canonical names on the left, e.g. columns = { user_id = "Uid" }; '
            "other columns are kept as extra dimensions without mapping",
        )
    for target, header in explicit.items():
        if header not in found:
            close = difflib.get_close_matches(header, found, n=1, cutoff=0.5)
            raise DataError(
                f"the mapping {target} = {header!r} names a column that is not there",
                source=source,
                column=header,
                expected=f"one of the headers: {', '.join(found)}",
                found=", ".join(found),
                fix=f'correct `{target} = "{close[0] if close else "…"}"` under '
                f"[{model.name}] columns",
            )
    # Customer attributes are free-form: a mapping to a new name renames an extra.
    renamed = {header: target for target, header in explicit.items() if target not in known}
    explicit = {target: header for target, header in explicit.items() if target in known}
    canonical: dict[str, str] = dict(explicit)
    preset_name = None
    for name, layouts in PRESETS.items():
        layout = layouts.get(model.name)
        if layout and all(h in found for h in layout.values()):
            used = set(canonical.values()) | set(renamed)
            for target, header in layout.items():
                if target not in canonical and header not in used:
                    canonical[target] = header
            preset_name = name
            break
    taken = set(canonical.values()) | set(renamed)
    by_snake: dict[str, str] = {}
    for header in found:
        by_snake.setdefault(snake_case(header), header)
    for column in model.columns:
        if column.name in canonical:
            continue
        for candidate in (column.name, *column.aliases):
            match = by_snake.get(candidate)
            if match is not None and match not in taken:
                canonical[column.name] = match
                taken.add(match)
                break
    missing = [name for name in model.required if name not in canonical]
    if missing:
        first = missing[0]
        free = [h for h in found if h not in taken]
        close = difflib.get_close_matches(first, [snake_case(h) for h in free], n=1, cutoff=0.3)
        suggestion = next(
            (h for h in free if close and snake_case(h) == close[0]),
            free[0] if free else "<source column>",
        )
        delimiter_hint = ""
        if len(found) == 1:
            sep = next((s for s in (";", "\t", "|", ",") if s in found[0]), None)
            if sep is not None:
                shown = "\\t" if sep == "\t" else sep
                delimiter_hint = (
                    f" (the header {found[0]!r} looks like one column: the file seems to use "
                    f'{shown!r} as delimiter; set delimiter = "{shown}" in the source)'
                )
        raise DataError(
            f"required column {first!r} of table {model.name!r} not found{delimiter_hint}",
            source=source,
            column=first,
            expected=f"columns {', '.join(model.required)} (or a mapping to them)",
            found=", ".join(found) or "no columns",
            fix=(
                f"map it in growthlens.toml: [{model.name}] "
                f'columns = {{ {first} = "{suggestion}" }} (or pass '
                f"{model.name}={{'path': ..., 'columns': {{'{first}': '{suggestion}'}}}} "
                "to gl.load)"
            ),
        )
    canonical_names = {c.name for c in model.columns}
    extras: dict[str, str] = {}
    used = set(canonical_names)
    for header in found:
        if header in taken and header not in renamed:
            continue
        name = renamed.get(header) or snake_case(header)
        while name in used:
            name = f"{name}_extra"
        used.add(name)
        extras[header] = name
    return ColumnMapping(
        canonical=canonical,
        extras=extras,
        preset=preset_name,
        epoch_unit=PRESET_UNITS.get(preset_name) if preset_name else None,
    )
