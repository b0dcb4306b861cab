"""Row files made safe to read: capped decompression, conversion to UTF-8, line counts.

A ``.gz`` (alone or inside a zip) is inflated into the load's work folder under two caps
(``max_decompressed_bytes``, ``max_compression_ratio``), so a small bomb stops with an
error naming the file instead of filling the disk; the engine then reads the plain copy
(in parallel, which it cannot do for gzip). A CSV in another encoding is converted to UTF-8
on the way. One pass over the plain text then counts the lines the CSV reader skips
without a word (blank lines, comment lines), with the line numbers of the first ones.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from growthlens.errors import DataError

_CHUNK = 8 * 1024 * 1024
# Bombs inflate 1,000× and more; real exports 5–30×. Below this much output a high ratio
# is harmless (a small, very repetitive file).
RATIO_FLOOR = 64 * 1024**2
EXAMPLE_LINES = 3


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class Limits:
    """Caps on what a compressed input may inflate to (from the load's settings)."""

    max_bytes: int = 50 * 1024**3
    max_ratio: float = 200.0


def copy_capped(
    src: _Readable, dst: BinaryIO, *, packed: int, limits: Limits, label: str, what: str
) -> int:
    """Copy a decompressing stream, stopping at the caps; returns the bytes written.

    ``packed``: the compressed size the output is measured against. ``what`` names the
    stream in the error (``"the gzip"``, ``"the member 'a.csv'"``).

    Raises:
        DataError: the output passes ``limits.max_bytes``, or its ratio to ``packed``
            passes ``limits.max_ratio`` beyond :data:`RATIO_FLOOR` bytes.
    """
    out = 0
    while chunk := src.read(1024 * 1024):
        out += len(chunk)
        too_big = out > limits.max_bytes
        if too_big or (out > RATIO_FLOOR and out > limits.max_ratio * max(packed, 1)):
            cap = (
                f"max_decompressed_bytes = {limits.max_bytes:,}"
                if too_big
                else f"max_compression_ratio = {limits.max_ratio:g} (bytes out per byte in)"
            )
            limit = limits.max_bytes if too_big else int(limits.max_ratio * max(packed, 1))
            raise DataError(
                f"{what} inflates to more than {limit:,} bytes from {packed:,}, past {cap}; "
                "stopped there (a decompression bomb, or a file larger than allowed)",
                source=label,
                expected=f"at most {limits.max_bytes:,} bytes and "
                f"{limits.max_ratio:g}× the compressed size",
                fix="if the file is genuine, raise the cap under [settings] (or pass it to "
                "gl.load), or decompress it yourself and point growthlens at the plain file",
            )
        dst.write(chunk)
    return out


def inflate_gzip(path: Path, target: Path, *, limits: Limits, label: str) -> Path:
    """Decompress ``path`` (gzip) into ``target`` under the caps; returns ``target``."""
    try:
        with gzip.open(path, "rb") as src, target.open("wb") as dst:
            copy_capped(
                src,
                dst,
                packed=path.stat().st_size,
                limits=limits,
                label=label,
                what="the gzip",
            )
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        target.unlink(missing_ok=True)
        raise DataError(
            f"the gzip cannot be decompressed: {exc}",
            source=label,
            expected="a complete gzip file",
            fix="download or export the file again (it is truncated or not gzip)",
        ) from exc
    return target


def to_utf8(path: Path, target: Path, *, encoding: str, label: str) -> Path:
    """Convert a text file from ``encoding`` to UTF-8, line breaks untouched.

    Raises:
        DataError: a byte sequence is not valid in ``encoding`` (naming the line).
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(_CHUNK)
            try:
                dst.write(decoder.decode(chunk, final=not chunk))
            except UnicodeError as exc:
                if isinstance(exc, UnicodeDecodeError):
                    at = line + chunk[: max(exc.start, 0)].count(b"\n")
                    where = (
                        f"{exc.reason} at line {at} (bytes {chunk[exc.start : exc.start + 4]!r})"
                    )
                else:
                    where = str(exc)
                raise DataError(
                    f"the file is not valid {encoding} text: {where}",
                    source=label,
                    expected=f"text in the stated encoding = {encoding!r}",
                    fix="set encoding to the file's real one (utf-8, cp1251, cp1252, "
                    "latin-1, utf-16 …)",
                ) from exc
            if not chunk:
                break
            line += chunk.count(b"\n")
    return target


@dataclass(frozen=True)
class LineScan:
    """Lines of a text file the CSV reader skips by itself.

    Attributes:
        blank: empty lines (nothing, or only a carriage return, between two line breaks).
        blank_lines: the first of their 1-based line numbers.
        comments: lines starting (after spaces) with the comment character.
        comment_lines: the first of their line numbers.
        breaks: line breaks in the file; ``crlf`` of them are CR LF (Windows).
        lines: lines in the file (a last line without a line break counts).
    """

    blank: int
    blank_lines: tuple[int, ...]
    comments: int
    comment_lines: tuple[int, ...]
    breaks: int = 0
    crlf: int = 0
    lines: int = 0

    @property
    def mixed_line_ends(self) -> bool:
        """Some lines end CR LF, others LF alone: the CSV reader cannot choose one."""
        return 0 < self.crlf < self.breaks


def scan_lines(path: Path, comment: str | None = None, *, blanks: bool = True) -> LineScan:
    """Count blank lines (and comment lines when ``comment`` is given) in one pass.

    ``blanks=False`` counts only lines and line ends (a cheaper pass): enough to see that
    a file's lines are all rows, the usual case, before looking for blank ones.

    A blank line inside a quoted field is counted too: the pass does not parse quotes
    (such fields are rare in exports, and then the count says more than the reader left).
    """
    # A match is the line break before the line; the lookahead keeps "\n\n\n" two lines.
    patterns = [re.compile(rb"\n(?=(\r?\n))")]
    if comment:
        patterns.append(re.compile(rb"\n(?=([ \t]*" + re.escape(comment.encode()) + rb"))"))
    found: list[list[int]] = [[] for _ in patterns]
    counts = [0] * len(patterns)
    breaks = crlf = 0
    last = b""
    for text, seen, breaks_before in _windows(path):
        last = text[-1:]
        breaks += text.count(b"\n", seen)
        # Each search is a pass over the text: the cheap one (a byte) says if the others
        # are needed; most exports have no carriage return, or no blank line at all.
        has_cr = text.find(b"\r", seen - 1) != -1
        if has_cr:
            crlf += text.count(b"\r\n", seen - 1)
        if not blanks:
            continue
        if not comment and b"\n\n" not in text and not (has_cr and b"\n\r\n" in text):
            continue  # the usual case: no blank line in this part, nothing to find
        for i, pattern in enumerate(patterns):
            for match in pattern.finditer(text):
                p = match.start()
                if match.end(1) <= seen:  # wholly inside the previous window: counted there
                    continue
                counts[i] += 1
                if len(found[i]) < EXAMPLE_LINES:
                    found[i].append(breaks_before + text.count(b"\n", 0, p + 1) + 1)
    return LineScan(
        blank=counts[0],
        blank_lines=tuple(found[0]),
        comments=counts[1] if comment else 0,
        comment_lines=tuple(found[1]) if comment else (),
        breaks=breaks,
        crlf=crlf,
        lines=breaks + (1 if last not in (b"", b"\n") else 0),
    )


def unify_line_ends(path: Path, target: Path) -> Path:
    """Copy a text file with every CR LF made LF (for files that mix the two)."""
    with path.open("rb") as src, target.open("wb") as dst:
        held = b""
        while chunk := src.read(_CHUNK):
            text = held + chunk
            # A "\r" at the end may be the first half of a "\r\n" split by the chunk.
            held = b"\r" if text.endswith(b"\r") else b""
            dst.write(text[: len(text) - len(held)].replace(b"\r\n", b"\n"))
        dst.write(held)
    return target


_TAIL = 64


def _windows(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """Per chunk of the file: (text, where its new part starts, line breaks before it).

    Each text begins with the end of the one before (before the file: a virtual line
    break, so the first line can match too), so a pattern across a boundary is whole once.
    """
    tail, breaks_before, total = b"\n", -1, 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            text = tail + chunk
            yield text, len(tail), breaks_before
            total += chunk.count(b"\n")
            tail = text[-_TAIL:]
            breaks_before = total - tail.count(b"\n")


def locate_values(
    path: Path,
    delimiter: str,
    wanted: Mapping[str, Sequence[str]],
    *,
    budget: int = 256 * 1024**2,
) -> dict[str, dict[str, int]]:
    """Per header, the line of the first row whose column holds each of its values.

    For error messages only, so it reads at most ``budget`` bytes, once for all the
    columns; values not met by then have no line. Lines count from 1 (the header), as an
    editor shows them.
    """
    found: dict[str, dict[str, int]] = {}
    with path.open("rb") as binary:
        file = io.TextIOWrapper(
            io.BufferedReader(_Budget(binary, budget)),
            encoding="utf-8",
            errors="replace",
            newline="",
        )
        rows = csv.reader(file, delimiter=delimiter)
        head = [h.strip() for h in next(rows, [])]
        columns = {
            head.index(h.strip()): (h, {v.strip() for v in values})
            for h, values in wanted.items()
            if h.strip() in head
        }
        left = sum(len(values) for _, values in columns.values())
        for row in rows:
            if not left:
                break
            for at, (header, values) in columns.items():
                value = row[at].strip() if at < len(row) else None
                lines = found.setdefault(header, {})
                if value in values and value not in lines:
                    lines[value] = rows.line_num
                    left -= 1
    return found


class _Budget(io.RawIOBase):
    """A binary file that ends after ``budget`` bytes."""

    def __init__(self, file: BinaryIO, budget: int) -> None:
        self._file, self._left = file, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        data = self._file.read(size)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


__all__ = [
    "RATIO_FLOOR",
    "Limits",
    "LineScan",
    "copy_capped",
    "inflate_gzip",
    "locate_values",
    "scan_lines",
    "to_utf8",
]
