"""The exception tree of growthlens.

::

    GrowthlensError             every error growthlens raises on purpose
    ├── ConfigError             a setting or config file is wrong (unknown key, bad value)
    ├── DataError               an input cannot be read or does not fit the data model
    │                           (missing column, unparseable type, unreadable file)
    ├── MissingTableError       an analysis needs a canonical table the Dataset lacks
    └── MissingExtraError       an optional dependency is not installed

Row-level problems (a negative revenue, an order outside the data window) are not
exceptions: they are counted findings in ``gl.quality(ds)``.
"""

from __future__ import annotations

from collections.abc import Sequence


class GrowthlensError(Exception):
    """Root of every error growthlens raises on purpose."""


class ConfigError(GrowthlensError):
    """A setting or the TOML config is invalid."""


class DataError(GrowthlensError):
    """An input cannot be read or does not fit the canonical data model.

    The message names the file, the column, what was expected, what was found,
    a few example values and how to fix it.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        column: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        examples: Sequence[object] = (),
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.column = column
        self.expected = expected
        self.found = found
        self.examples = tuple(examples)
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.column and self.source:
            where = f"column {self.column!r} in {self.source}: "
        elif self.source:
            where = f"{self.source}: "
        elif self.column:
            where = f"column {self.column!r}: "
        lines = [f"{where}{self.problem}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.found:
            lines.append(f"  found: {self.found}")
        if self.examples:
            shown = ", ".join(repr(v) for v in self.examples[:5])
            lines.append(f"  examples: {shown}")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


class MissingTableError(GrowthlensError):
    """An analysis needs a canonical table that the Dataset does not have."""


class MissingExtraError(GrowthlensError):
    """An optional dependency is missing; the message names the pip extra."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: pip install 'growthlens[{extra}]'"
        )
