"""Participant lists: a text file of ids, however messy, read with every token accounted for.

A list exported by hand (a campaign's participants, its control group) is rarely a clean
CSV: a header word, ids separated by commas, semicolons, spaces, tabs and line breaks in
any mix, duplicates, stray words (``NaN``, ``—``, a note in Cyrillic) and quotes. This
module splits such a text into tokens and sorts each token into exactly one pile: a new
id, a duplicate of an earlier id, or a non-id token (counted by its text), so that
``tokens == len(ids) + duplicates + sum(non_ids.values())`` always holds.

Rules (stated, not guessed):

- **Separators**: any run of commas, semicolons and Unicode whitespace (``str.isspace``:
  spaces, tabs, CR/LF, no-break and other Unicode spaces), zero-width spaces and
  byte-order marks. Empty lines and repeated separators make no tokens.
- **Quotes**: a token wrapped in a matching pair of quotes (``"…"``, ``'…'``, ``«…»``,
  ``“…”``, ``„…“``, ``‘…’``) is unwrapped before it is classified; the count of such
  tokens is :attr:`IdList.quoted`. Separators inside quotes still separate (a list is not
  a CSV; a quoted id never contains one).
- **numeric=True** (ids are integers, as in the customers table): an id is a token of
  ASCII digits whose value fits a signed 64-bit integer, read as that integer, so
  ``"007"`` and ``"7"`` are the same id. An Excel artefact ``"123.0"`` (digits, a point,
  zeros only) is read as 123 and counted in :attr:`IdList.decimals`; ``"123.5"``,
  ``"-5"``, ``"+5"``, ``"1e6"`` and non-ASCII digits are non-id tokens.
- **numeric=False** (string ids): every token is an id except the missing-value markers
  of :data:`MISSING_MARKERS` (case-insensitive) and an empty quoted token, which are
  non-ids; the first token is a header only when it is one of :data:`HEADER_WORDS`.
- **Header**: with ``numeric=True``, the first token when it is not an id; it is also
  counted among the non-ids (a header word repeated later is counted again there).
- **Files** (:func:`read_id_list`): read up to ``max_bytes`` (a larger file is an
  error, not a truncated list); decoded as UTF-8 (a byte-order mark stripped), else
  UTF-16 when it starts with a UTF-16 byte-order mark, else Windows-1251 (the encoding of
  Russian Excel exports); the encoding used is :attr:`IdList.encoding`. A file with NUL
  bytes (binary, compressed) or one valid in none of these is a DataError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from growthlens.errors import DataError

# One run of separators: \s on str patterns is Unicode whitespace (str.isspace); zero-width
# spaces and stray byte-order marks (two files pasted together) are not, but separate too.
_SEPARATORS = re.compile("[,;\\s\u200b\u2060\ufeff]+")
_INT64_MAX = 2**63 - 1
_NUL = b"\x00"
_DECIMAL_ZERO = re.compile(r"([0-9]+)\.0+")
_QUOTE_PAIRS = {'"': '"', "'": "'", "«": "»", "“": "”", "„": "“", "‘": "’"}

MISSING_MARKERS = frozenset({"nan", "none", "null", "na", "n/a", "#n/a", "nil", "-", "—", "–", "?"})
"""Tokens that mean "no value" (compared case-insensitively); non-ids when ``numeric=False``."""

HEADER_WORDS = frozenset(
    {"id", "ids", "user_id", "userid", "user", "uid", "client_id", "customer_id", "customer"}
)
"""First tokens taken as a header when ``numeric=False`` (compared case-insensitively)."""


@dataclass(frozen=True)
class IdList:
    """One participant list: its distinct ids and how every token of it was classified.

    Invariant: ``tokens == len(ids) + duplicates + sum(non_ids.values())``.
    """

    path: str
    """Where it came from (``"<text>"`` or the ``source`` given to :func:`parse_id_list`)."""
    ids: tuple[int | str, ...]
    """Distinct ids in first-occurrence order (``int`` when ``numeric=True``)."""
    tokens: int
    """Every token read."""
    duplicates: int
    """Id tokens repeating an earlier id of this list."""
    non_ids: dict[str, int]
    """Every other token (header word, NaN, —, Cyrillic text …) → count, first-seen order.
    Keyed by the unwrapped text (the raw token when unwrapping leaves nothing)."""
    header: str | None
    """The first token when it is not an id (also counted in :attr:`non_ids`)."""
    quoted: int = 0
    """Tokens that were wrapped in quotes (unwrapped before classifying)."""
    decimals: int = 0
    """Id tokens written as ``"123.0"`` (read as 123)."""
    encoding: str | None = None
    """The encoding a file was decoded with (``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``,
    ``"cp1251"``); None for a text given as a string."""
    non_id_examples: tuple[str, ...] = field(default=())
    """Up to five distinct raw non-id tokens as written (quotes included), first seen first."""
    repeats: dict[int | str, int] = field(default_factory=dict)
    """Each repeated id → its tokens beyond the first (``sum(repeats.values()) ==
    duplicates``), first-repeated order: what leaves an arm with an id listed twice."""


def _unquote(token: str) -> tuple[str, bool]:
    if len(token) >= 2 and _QUOTE_PAIRS.get(token[0]) == token[-1]:
        return token[1:-1], True
    return token, False


def _as_int(text: str) -> tuple[int | None, bool]:
    """The id an integer token stands for (None if it is not one) and whether it was ``n.0``."""
    decimal = False
    if not (text.isascii() and text.isdigit()):
        match = _DECIMAL_ZERO.fullmatch(text)
        if match is None:
            return None, False
        text, decimal = match.group(1), True
    value = int(text)
    return (value, decimal) if value <= _INT64_MAX else (None, False)


def parse_id_list(text: str, *, numeric: bool = True, source: str = "<text>") -> IdList:
    r"""Split a list's text into ids, duplicates and non-id tokens (rules in the module doc).

    >>> r = parse_id_list('id\n101, 102;102 "103"\nNaN\n')
    >>> r.ids, r.tokens, r.duplicates, r.non_ids, r.header, r.quoted
    ((101, 102, 103), 6, 1, {'id': 1, 'NaN': 1}, 'id', 1)
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    seen: dict[int | str, None] = {}
    non_ids: dict[str, int] = {}
    examples: dict[str, None] = {}
    repeats: dict[int | str, int] = {}
    tokens = duplicates = quoted = decimals = 0
    header: str | None = None
    for raw in _SEPARATORS.split(text):
        if not raw:  # the empty ends of a text starting or ending with separators
            continue
        tokens += 1
        token, was_quoted = _unquote(raw)
        quoted += was_quoted
        key: int | str | None
        is_header = False
        if numeric:
            key, decimal = _as_int(token)
            decimals += decimal and key is not None
        else:
            lowered = token.lower()
            is_header = tokens == 1 and lowered in HEADER_WORDS
            key = None if (not token or lowered in MISSING_MARKERS or is_header) else token
        if key is None:
            label = token or raw
            non_ids[label] = non_ids.get(label, 0) + 1
            if len(examples) < 5:
                examples.setdefault(raw, None)
            if tokens == 1 and (numeric or is_header):
                header = label
        elif key in seen:
            duplicates += 1
            repeats[key] = repeats.get(key, 0) + 1
        else:
            seen[key] = None
    return IdList(
        path=source,
        ids=tuple(seen),
        tokens=tokens,
        duplicates=duplicates,
        non_ids=non_ids,
        header=header,
        quoted=quoted,
        decimals=decimals,
        encoding=None,
        non_id_examples=tuple(examples),
        repeats=repeats,
    )


def _decode(data: bytes, label: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise DataError(
                f"the file starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                f"(byte {exc.start})",
                source=label,
                expected="a text file of ids in UTF-8, UTF-16 or Windows-1251",
                fix="save the list again as UTF-8 text",
            ) from None
    if _NUL in data:
        raise DataError(
            "the file has NUL bytes: it is binary (compressed, a spreadsheet), not a text list",
            source=label,
            expected="a text file of ids (UTF-8 or Windows-1251)",
            found=f"a NUL byte at offset {data.index(_NUL):,}",
            fix="export the list as plain text (one id per line, or separated by commas)",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DataError(
        "the file is valid in none of the encodings tried",
        source=label,
        expected=" or ".join(encodings),
        fix="save the list again as UTF-8 text",
    )


def read_id_list(path: str | Path, *, numeric: bool = True, max_bytes: int = 1 << 30) -> IdList:
    """Read a participant-list file and classify its tokens (rules in the module doc).

    Raises:
        DataError: the file is missing, is a folder, is larger than ``max_bytes``, is
            binary, or decodes in none of UTF-8, UTF-16 (with a byte-order mark) and
            Windows-1251.
    """
    file = Path(path)
    label = str(file)
    if not file.is_file():
        raise DataError(
            "no such file" if not file.exists() else "a folder, not a file",
            source=label,
            expected="a text file of ids",
        )
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DataError(
            f"the list is larger than max_bytes = {max_bytes:,}; nothing was read",
            source=label,
            expected=f"at most {max_bytes:,} bytes",
            found=f"{file.stat().st_size:,} bytes",
            fix="raise max_bytes if the file is genuine",
        )
    text, encoding = _decode(data, label)
    parsed = parse_id_list(text, numeric=numeric, source=label)
    return replace(parsed, encoding=encoding)
