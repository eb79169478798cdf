"""`recipients` of the WeCom archive's fast path: the reader gives each row's `tolist` as the
text of its JSON array, and each distinct text is decoded once (`decode_recipients`), by the file's
blocks together (`TolistCache`). Used by `wecom_archive._fast_block`."""

from __future__ import annotations

import threading

import numpy as np
import polars as pl

S = pl.String

# `tolist` read as the text of its JSON array (the reader writes it out again): decoding it as a
# list was a third of the reader's cost (1M messages: 4.56 -> 4.02 CPU s), while a day holds few
# distinct recipient lists (684 in a million generated messages), each decoded once
# (`decode_recipients`). A block whose lists that cannot take is read again with `tolist` as a list.
# When most lists are distinct the decoding costs more than the list reader (every list
# distinct: +1.6 CPU s per million messages): once a block of a file has more distinct lists than
# this share of its rows, the file's later blocks read `tolist` as a list.
DISTINCT_TOLISTS_MAX = 0.2
TOLIST_TEXT = {"tolist": S}
# A `tolist` written as a JSON string is taken by the text reader as its content: one that begins
# with `[` would pass for an array. Lines that can hold one (a string value beginning with `[`,
# written plainly or escaped) have their `tolist` read as a list, as the list reader would.
_STRING_BRACKET = ('"[', '"\\u005')


class TolistCache:
    """The recipient lists a file's blocks decoded, by the text of their `tolist` array, shared by
    the file's blocks (parsed in threads): a day's few hundred distinct lists recur in every
    block, and a block then only casts its texts to an Enum of the known ones (one hash lookup a
    row) instead of finding its distinct texts, decoding them and mapping each row to its own
    (unique, replace_strict and a read_ndjson call: ~0.3 CPU s per million messages). Holds at
    most `MAX_TEXTS` texts (a file of mostly distinct lists decodes them block by block)."""

    MAX_TEXTS = 20_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (texts, their lists stripped, an Enum of the texts or None when empty): replaced, never changed
        self.known: tuple[pl.Series, pl.Series, pl.Enum | None] = (
            pl.Series("t", [], S), pl.Series("l", [], pl.List(S)), None)

    def add(self, texts: pl.Series, lists: pl.Series) -> None:
        """Remember `texts` (distinct, not known when the caller looked) and their decoded lists."""
        with self._lock:
            known_texts, known_lists, _ = self.known
            if len(known_texts) >= self.MAX_TEXTS:
                return
            fresh = ~texts.is_in(known_texts.implode())  # another block may have added some meanwhile
            known_texts = pl.concat([known_texts, texts.filter(fresh).alias("t")])
            known_lists = pl.concat([known_lists, lists.filter(fresh).alias("l")])
            self.known = (known_texts, known_lists, pl.Enum(known_texts))


def _codes(tolist: pl.Series, enum: pl.Enum | None) -> pl.Series:
    """Each row's index among `enum`'s texts (UInt32), null for a text it lacks or no `tolist`."""
    if enum is None:
        return pl.repeat(None, len(tolist), dtype=pl.UInt32, eager=True)
    return tolist.cast(enum, strict=False).to_physical().cast(pl.UInt32)


def decode_recipients(tolist: pl.Series, lines: pl.Series,
                cache: TolistCache | None = None) -> tuple[pl.Series | None, int]:
    """`recipients` (List[String], elements stripped, [] for a row without `tolist`) from the
    text the reader gave for each row's `tolist` array: each distinct text decoded once, by the
    same reader reading it as a list, and gathered back (texts the file's earlier blocks decoded
    are taken from `cache`). None when that might not give what the list reader gives for the
    block's lines: a value that is not an array, a text holding a backslash or one the reader
    cannot read back (it writes control characters unescaped), or a line that may hold a string
    `tolist` beginning with `[` whose list read fails (the list reader refuses the block). Also
    the count of the block's distinct texts."""
    cache = TolistCache() if cache is None else cache
    known_texts, known_lists, enum = cache.known
    codes = _codes(tolist, enum)
    # known texts passed the checks below when first seen; a text decodes the same on its own
    # (one line of its own), so only the new ones are checked and decoded
    new = tolist.filter(codes.is_null()).drop_nulls().unique()
    seen = codes.drop_nulls().to_numpy()
    distinct = len(new) + (int(np.count_nonzero(np.bincount(seen))) if len(seen) else 0)
    if not distinct:  # no row with `tolist`
        return pl.Series("_recipients", [[]], pl.List(S)).gather(pl.zeros(len(tolist), pl.UInt32, eager=True)), 0
    # the reader writes a backslash in a string as is (`a\\nb` comes back as a newline): any text
    # holding one (an escaped quote or newline, too) is left to the list reader
    if not new.str.starts_with("[").all() or new.str.contains("\\", literal=True).any():
        return None, distinct
    maybe_string = lines.str.contains(_STRING_BRACKET[0], literal=True)
    maybe_string = maybe_string | lines.str.contains(_STRING_BRACKET[1], literal=True)
    if maybe_string.any():
        try:
            pl.read_ndjson(lines.filter(maybe_string).str.join("")[0].encode(), schema={"tolist": pl.List(S)})
        except pl.exceptions.PolarsError:
            return None, distinct
    if len(new):
        wrapped = new.to_frame("t").select(pl.concat_str(pl.lit('{"tolist": '), "t", pl.lit("}")).str.join("\n"))
        try:
            decoded = pl.read_ndjson(wrapped.item().encode(), schema={"tolist": pl.List(S)})["tolist"]
        except pl.exceptions.PolarsError:
            return None, distinct
        if decoded.len() != new.len():
            return None, distinct
        decoded = decoded.list.eval(pl.element().str.strip_chars())
        cache.add(new, decoded)
        known_texts = pl.concat([known_texts, new.alias("t")])
        known_lists = pl.concat([known_lists, decoded.alias("l")])
        codes = _codes(tolist, pl.Enum(known_texts))
    lists = pl.concat([known_lists, pl.Series("l", [[]], dtype=pl.List(S))])
    return lists.gather(codes.fill_null(len(known_texts))).alias("_recipients"), distinct
