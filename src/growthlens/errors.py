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
        problems: Sequence[DataError] = (),
    ) -> None:
        self.problem = problem
        self.source = source
        self.column = column
        self.expected = expected
        self.found = found
        self.examples = tuple(examples)
        self.fix = fix
        self.problems = tuple(problems)
        super().__init__(self._render())

    @classmethod
    def combine(cls, errors: Sequence[DataError]) -> DataError:
        """One error listing every problem found, so files are not fixed one at a time.

        A single error is returned as it is. Problems of one kind (the same words, e.g.
        the same missing column in 40 files) are shown up to :data:`SHOWN_PER_KIND`
        times; the rest are counted.
        """
        flat = [p for e in errors for p in (e.problems or (e,))]
        if len(flat) == 1:
            return flat[0]
        files = {p.source for p in flat if p.source}
        where = f" in {len(files)} files" if len(files) > 1 else ""
        return cls(f"{len(flat)} problems{where}; nothing was loaded", problems=flat)

    def _render(self) -> str:
        if self.problems:
            return self._render_all()
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

    def _render_all(self) -> str:
        lines = [self.problem]
        shown: dict[str, int] = {}
        hidden: dict[str, int] = {}
        for problem in self.problems:
            kind = problem.problem
            if shown.get(kind, 0) >= SHOWN_PER_KIND:
                hidden[kind] = hidden.get(kind, 0) + 1
                continue
            shown[kind] = shown.get(kind, 0) + 1
            first, *rest = problem._render().splitlines()
            lines.append(f"- {first}")
            lines += [f"  {line}" for line in rest]
        for kind, n in hidden.items():
            lines.append(f"- … and {n} more: {kind}")
        return "\n".join(lines)


SHOWN_PER_KIND = 5


class MissingTableError(GrowthlensError):
    """An analysis needs a canonical table that the Dataset does not have."""


class MissingExtraError(GrowthlensError):
    """An optional dependency is missing; the message names the pip extra."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: pip install 'growthlens[{extra}]'"
        )
