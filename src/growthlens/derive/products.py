"""Products normalised: one spelling per name, a product group, a primary colour.

Free-text product names and colours on order lines (the shop case's ``purchases``:
``"Футболка Nike"``, ``"футболка  nike"``, ``"ФУТБОЛКА NIKE"``; ``"чёрный/белый"``) are
normalised in three steps: one aggregate in the engine reduces the lines to their
distinct (name, colour) originals with line counts (a small frame: the only thing that
leaves the engine); keys, spellings, groups and primary colours are worked out on those
originals with Python's Unicode rules (the same on every backend); the lines gain their
columns by a null-safe join to that mapping, back in the engine.

Definitions (docs/customers.md, "Products"):

- **key** of a text: lower-case (``str.lower``), every run of Unicode whitespace
  (including the no-break space) collapsed to one space, trimmed, and ``ё`` written
  ``е``. Two names with one key are one product.
- **spelling** (``product_name``) of a key: its most frequent original, counted in lines,
  whitespace trimmed and collapsed (case and ``ё`` kept, so the spelling is one a person
  wrote); ties go to the smallest text (code-point order).
- **product group**: the key's leading word looked up in a mapping, :data:`DEFAULT_GROUPS`
  (Russian sporting goods) updated with the caller's ``groups``. A mapping entry may also
  be a phrase of several words (``"спортивный костюм"``): the longest entry that the key
  starts with (whole words) wins. Entries are keyed the same way as names, so
  ``"Футболка"`` and ``"футболка"`` are one entry. A key with no entry gets
  :data:`UNMAPPED` and is listed in :attr:`ProductMapping.unmapped`; a line without a name
  (null or blank) gets no spelling and :data:`UNMAPPED` too.
- **primary colour**: the key of the colour's first part before ``/`` (``"Белый/синий"``
  → ``"белый"``; ``"чёрный"`` and ``"черный"`` → ``"черный"``); null for a null or blank
  colour.

Cleaning is the load's (exact duplicate lines and negative prices are excluded there and
counted in ``ds.quality``); lines with a zero price are accepted by the load, and
:attr:`ProductMapping.zero_price_lines` counts them among the lines given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import ibis
import ibis.expr.types as ir
import pandas as pd

UNMAPPED = "(unmapped)"
"""The product group of a name whose leading word has no mapping entry (or no name)."""

DEFAULT_GROUPS: Mapping[str, str] = {
    # t-shirts and tops
    "футболка": "t-shirts",
    "футболки": "t-shirts",
    "майка": "t-shirts",
    "поло": "t-shirts",
    "лонгслив": "t-shirts",
    "топ": "t-shirts",
    # footwear
    "кроссовки": "footwear",
    "кеды": "footwear",
    "бутсы": "footwear",
    "ботинки": "footwear",
    "сандалии": "footwear",
    "шлепанцы": "footwear",
    "сланцы": "footwear",
    "слипоны": "footwear",
    # shorts and trousers
    "шорты": "shorts",
    "брюки": "trousers",
    "леггинсы": "trousers",
    "лосины": "trousers",
    "тайтсы": "trousers",
    "штаны": "trousers",
    "джоггеры": "trousers",
    # sweatshirts and outerwear
    "толстовка": "sweatshirts",
    "худи": "sweatshirts",
    "свитшот": "sweatshirts",
    "джемпер": "sweatshirts",
    "олимпийка": "sweatshirts",
    "куртка": "outerwear",
    "ветровка": "outerwear",
    "пуховик": "outerwear",
    "жилет": "outerwear",
    "парка": "outerwear",
    # suits
    "костюм": "tracksuits",
    "спортивный костюм": "tracksuits",
    # headwear, socks, bags
    "кепка": "headwear",
    "бейсболка": "headwear",
    "шапка": "headwear",
    "панама": "headwear",
    "повязка": "headwear",
    "носки": "socks",
    "гетры": "socks",
    "гольфы": "socks",
    "рюкзак": "bags",
    "сумка": "bags",
    # equipment and accessories
    "мяч": "balls",
    "бутылка": "accessories",
    "перчатки": "accessories",
    "очки": "accessories",
    "полотенце": "accessories",
    "шейкер": "accessories",
    "скакалка": "equipment",
    "коврик": "equipment",
    "гантели": "equipment",
    "гантель": "equipment",
    "ракетка": "equipment",
    "эспандер": "equipment",
}
"""Leading word (or phrase) of a product key → product group; covers the demo catalogue."""


def text_key(text: object) -> str | None:
    r"""The key of a text (see the module doc); ``None`` for a null or blank text.

    Python's Unicode rules (``str.lower``, ``str.split`` on every Unicode space), applied
    to the distinct originals only, so every backend gets the same keys.

    >>> text_key("  ЧЁРНЫЙ\xa0 Nike "), text_key("Спортивный  костюм"), text_key("  ")
    ('черный nike', 'спортивный костюм', None)
    """
    if not isinstance(text, str):
        return None
    key = " ".join(text.lower().split()).replace("ё", "е")
    return key or None


def _spelling(text: object) -> str | None:
    """An original with whitespace trimmed and collapsed (case and ``ё`` kept)."""
    if not isinstance(text, str) or not text.split():
        return None
    return " ".join(text.split())


def _primary(colour: object) -> str | None:
    """The key of the colour's part before the first ``/``."""
    return text_key(colour.split("/")[0]) if isinstance(colour, str) else None


@dataclass(frozen=True)
class ProductMaps:
    """The mappings of product names and colours, with their row counts (small frames).

    Attributes:
        names: one row per original name: ``original``, ``product_name``,
            ``product_group``, ``lines`` (rows with that original); sorted by
            ``product_name`` then ``lines`` descending.
        products: one row per spelling: ``product_name``, ``product_group``, ``spellings``
            (distinct originals), ``lines``.
        colours: one row per original colour: ``original``, ``primary_colour``, ``lines``
            (empty when the lines have no colour column).
        unmapped: one row per key without a group entry: ``product_name``,
            ``leading_word``, ``lines``; blank or null names as ``product_name`` null.
        groups: the mapping used (keys normalised), leading word or phrase → group.
        zero_price_lines: lines with a price (``revenue``) of exactly 0 among the lines
            given, or ``None`` without a ``revenue`` column.
        total_lines: lines given.
    """

    names: pd.DataFrame
    products: pd.DataFrame
    colours: pd.DataFrame
    unmapped: pd.DataFrame
    groups: Mapping[str, str]
    zero_price_lines: int | None
    total_lines: int

    def apply(
        self, table: ir.Table, *, product: str = "product", colour: str = "colour"
    ) -> ir.Table:
        """``table`` with ``product_name``, ``product_group`` and ``primary_colour`` added.

        In the engine: a left join on the original name (and colour) to the mapping,
        null-safe, so a row count never changes. Originals missing from the mapping get
        no spelling, group :data:`UNMAPPED` and no primary colour.
        """
        names = ibis.memtable(
            pd.DataFrame(
                {
                    "_gl_name": self.names["original"].astype(object),
                    "product_name": self.names["product_name"].astype(object),
                    "product_group": self.names["product_group"].astype(object),
                }
            ),
            schema={"_gl_name": "string", "product_name": "string", "product_group": "string"},
        )
        base = table.mutate(_gl_name=table[product].cast("string"))
        out = base.left_join(names, base._gl_name.identical_to(names._gl_name)).select(
            *table.columns,
            "product_name",
            product_group=names.product_group.fill_null(UNMAPPED),
        )
        if colour not in table.columns:
            return out.mutate(primary_colour=ibis.null("string"))
        colours = ibis.memtable(
            pd.DataFrame(
                {
                    "_gl_colour": self.colours["original"].astype(object),
                    "primary_colour": self.colours["primary_colour"].astype(object),
                }
            ),
            schema={"_gl_colour": "string", "primary_colour": "string"},
        )
        keyed = out.mutate(_gl_colour=out[colour].cast("string"))
        return keyed.left_join(colours, keyed._gl_colour.identical_to(colours._gl_colour)).select(
            *out.columns, "primary_colour"
        )


@dataclass(frozen=True)
class ProductMapping(ProductMaps):
    """:class:`ProductMaps` and the lines expression with the three columns added.

    Attributes:
        lines: the lines with ``product_name`` (spelling), ``product_group`` and
            ``primary_colour`` added (engine-side; nothing is computed until used).
    """

    lines: ir.Table


def merged_groups(groups: Mapping[str, str] | None, *, defaults: bool = True) -> dict[str, str]:
    """The mapping used: :data:`DEFAULT_GROUPS` (unless ``defaults=False``) updated with ``groups``.

    Keys are normalised with :func:`text_key`.

    Raises:
        ValueError: a key or group that is not a non-empty text.

    >>> merged_groups({"Велосипед": "bikes", "ФУТБОЛКА": "tops"})["футболка"]
    'tops'
    """
    out: dict[str, str] = {}
    items = [*(DEFAULT_GROUPS.items() if defaults else ()), *(groups or {}).items()]
    for word, group in items:
        key = text_key(word)
        if key is None:
            raise ValueError(f"groups: expected non-empty text keys; found {word!r}")
        if not isinstance(group, str) or not group.strip():
            raise ValueError(
                f"groups: expected a non-empty group name for {word!r}; found {group!r}"
            )
        out[key] = group.strip()
    return out


def group_of(key: str | None, mapping: Mapping[str, str]) -> str:
    """The group of a key: the longest mapping entry the key starts with (whole words).

    >>> group_of("спортивный костюм reebok", {"спортивный": "x", "спортивный костюм": "y"})
    'y'
    >>> group_of("гамак", {"мяч": "balls"}), group_of(None, {})
    ('(unmapped)', '(unmapped)')
    """
    if key is None:
        return UNMAPPED
    words = key.split(" ")
    for n in range(len(words), 0, -1):
        found = mapping.get(" ".join(words[:n]))
        if found is not None:
            return found
    return UNMAPPED


def original_counts(
    table: ir.Table,
    *,
    product: str = "product",
    colour: str = "colour",
    lines: str | None = None,
    zero: str | None = None,
) -> pd.DataFrame:
    """Rows per distinct (name, colour) original, from one aggregate in the engine.

    ``table`` is order lines (each row a line), or already-grouped rows whose ``lines``
    column counts lines and ``zero`` column counts zero-price lines. Returns ``name``,
    ``colour`` (absent column: null), ``lines`` and, with ``revenue`` (or ``zero``),
    ``zero_price``.

    Raises:
        ValueError: no ``product`` column.
    """
    if product not in table.columns:
        raise ValueError(
            f"normalise_products: expected a {product!r} column on the lines; found "
            f"{', '.join(table.columns)}"
        )
    keys = {
        "name": table[product].cast("string"),
        "colour": table[colour].cast("string") if colour in table.columns else ibis.null("string"),
    }
    aggs: dict[str, ir.Value] = {"lines": table.count() if lines is None else table[lines].sum()}
    if zero is not None:
        aggs["zero_price"] = table[zero].sum()
    elif lines is None and "revenue" in table.columns:
        aggs["zero_price"] = (table.revenue == 0).cast("int64").sum()
    frame: pd.DataFrame = table.group_by(**keys).aggregate(**aggs).to_pyarrow().to_pandas()
    return frame


def maps_from_counts(
    counts: pd.DataFrame,
    *,
    groups: Mapping[str, str] | None = None,
    defaults: bool = True,
    has_colour: bool = True,
) -> ProductMaps:
    """The mappings from :func:`original_counts` (definitions: module doc).

    Raises:
        ValueError: a bad ``groups`` entry.
    """
    mapping = merged_groups(groups, defaults=defaults)
    counts = counts.astype({"lines": "int64"})
    per_name = counts.groupby("name", dropna=False, as_index=False).agg(lines=("lines", "sum"))
    # Plain Python lists: pandas may turn a None into NaN inside a text column.
    originals: list[str | None] = [v if isinstance(v, str) else None for v in per_name["name"]]
    n_lines = [int(v) for v in per_name["lines"]]
    keys = [text_key(v) for v in originals]
    cleaned = [_spelling(v) for v in originals]
    tally: dict[tuple[str, str], int] = {}
    for key, spelled, n in zip(keys, cleaned, n_lines, strict=True):
        if key is not None and spelled is not None:
            tally[(key, spelled)] = tally.get((key, spelled), 0) + n
    spelling: dict[str, str] = {}
    for (key, spelled), _n in sorted(tally.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        spelling.setdefault(key, spelled)  # most lines first, then the smallest text
    names = pd.DataFrame(
        {
            "original": pd.Series(originals, dtype=object),
            "product_name": pd.Series(
                [spelling[k] if k is not None else None for k in keys], dtype=object
            ),
            "product_group": [group_of(k, mapping) for k in keys],
            "lines": pd.Series(n_lines, dtype="int64"),
            "leading_word": pd.Series(
                [k.split(" ")[0] if k is not None else None for k in keys], dtype=object
            ),
        }
    ).sort_values(
        ["product_name", "lines", "original"], ascending=[True, False, True], na_position="last"
    )
    miss = names[names["product_group"] == UNMAPPED]
    unmapped = (
        miss.groupby(["product_name", "leading_word"], as_index=False, dropna=False)
        .agg(lines=("lines", "sum"))
        .sort_values(["lines", "product_name"], ascending=[False, True], na_position="last")
        .reset_index(drop=True)
    )
    names = names.drop(columns="leading_word").reset_index(drop=True)
    products = (
        names.dropna(subset=["product_name"])
        .groupby(["product_name", "product_group"], as_index=False)
        .agg(spellings=("original", "nunique"), lines=("lines", "sum"))
        .sort_values(["lines", "product_name"], ascending=[False, True])
        .reset_index(drop=True)
    )
    if has_colour:
        per_colour = counts.groupby("colour", dropna=False, as_index=False).agg(
            lines=("lines", "sum")
        )
        original = per_colour["colour"].astype(object).where(per_colour["colour"].notna(), None)
        colours = pd.DataFrame(
            {
                "original": original,
                "primary_colour": [_primary(v) for v in original],
                "lines": per_colour["lines"].astype("int64"),
            }
        ).sort_values(
            ["primary_colour", "lines", "original"],
            ascending=[True, False, True],
            na_position="last",
        )
        colours = colours.reset_index(drop=True)
    else:
        colours = pd.DataFrame(
            {
                "original": pd.Series(dtype="object"),
                "primary_colour": pd.Series(dtype="object"),
                "lines": pd.Series(dtype="int64"),
            }
        )
    zero = int(counts["zero_price"].sum()) if "zero_price" in counts else None
    return ProductMaps(
        names=names,
        products=products,
        colours=colours,
        unmapped=unmapped,
        groups=mapping,
        zero_price_lines=zero,
        total_lines=int(counts["lines"].sum()),
    )


def normalise_products(
    lines: ir.Table,
    *,
    groups: Mapping[str, str] | None = None,
    defaults: bool = True,
    product: str = "product",
    colour: str = "colour",
) -> ProductMapping:
    """Normalise product names and colours of order lines (definitions: module doc).

    Args:
        lines: order lines (``ds.lines``), one row per item, with a ``product`` column and
            optionally ``colour`` and ``revenue``.
        groups: leading word (or phrase) → product group, added to (and overriding)
            :data:`DEFAULT_GROUPS`.
        defaults: start from :data:`DEFAULT_GROUPS` (``False``: ``groups`` alone).
        product: the column holding the product name.
        colour: the column holding the colour.

    One aggregate leaves the engine: the distinct (name, colour) originals with their line
    counts. Keys, spellings and groups are worked out on those originals; the lines gain
    their columns by a join to the mapping, in the engine (:meth:`ProductMaps.apply`).

    Raises:
        ValueError: the name column is missing, or a bad ``groups`` entry.

    >>> t = ibis.memtable({"product": ["Футболка Nike", "футболка  nike", "Футболка Nike",
    ...                                "Гамак"], "colour": ["Чёрный/белый", "черный", None, ""],
    ...                    "revenue": [1.0, 0.0, 2.0, 3.0]})
    >>> m = normalise_products(t)
    >>> for row in m.names.itertuples(index=False):
    ...     print(repr(row.original), row.product_name, row.product_group, row.lines)
    'Гамак' Гамак (unmapped) 1
    'Футболка Nike' Футболка Nike t-shirts 2
    'футболка  nike' Футболка Nike t-shirts 1
    >>> sorted(m.lines.to_pandas().primary_colour.dropna().tolist()), m.zero_price_lines
    (['черный', 'черный'], 1)
    """
    merged_groups(groups, defaults=defaults)  # bad options fail before any engine work
    counts = original_counts(lines, product=product, colour=colour)
    maps = maps_from_counts(
        counts, groups=groups, defaults=defaults, has_colour=colour in lines.columns
    )
    return ProductMapping(
        **{f.name: getattr(maps, f.name) for f in fields(maps)},
        lines=maps.apply(lines, product=product, colour=colour),
    )


__all__ = [
    "DEFAULT_GROUPS",
    "UNMAPPED",
    "ProductMapping",
    "ProductMaps",
    "group_of",
    "maps_from_counts",
    "merged_groups",
    "normalise_products",
    "original_counts",
    "text_key",
]
