"""`recipients` of the WeCom archive: one text a message, the recipient list as canonical JSON
(`canonical_recipients`: `["zhangsan","lisi"]`, names stripped, non-ASCII as written, `[]` for
none), so that the column is a few repeated texts (684 distinct in a generated day of a million
messages) that Parquet and the staged re-encode keep dictionary-encoded, instead of ~15 list
elements a message (that generated day: 14.8M elements, ~70 % of its staging re-encode and half
its parse cache's write).
No rule reads it; a reader gets the lists back with
`pl.col("recipients").str.json_decode(pl.List(pl.String))`.

The fast path cuts each line's `tolist` array out of the block before the NDJSON reader reads it
(`split_tolists`, `sentinel_read`), and decodes and canonicalises each distinct array text once (`decode_recipients`),
shared by the file's blocks (`TolistCache`): per row only a lookup and a gather. The paths that
read `tolist` as a list (a block the text path cannot take, the line-isolating path) give each
row the same text through the same function. Used by `wecom_archive`."""

from __future__ import annotations

import secrets
import threading

import numpy as np
import polars as pl
import pyarrow as pa

from .jsontools import Block, join_segments

S = pl.String

# `tolist` is not given to the NDJSON reader at all: the reader builds every element of a list
# it reads (as a list, or as text, which it writes out again) and that was a third of its cost
# (20 blocks, 0.7M lines: 2.20 CPU s with `tolist` as text, 1.39 without, 3.28 as a list). Nor
# does it see the arrays: it parses every value of a line, asked for or not, and the arrays are
# most of a line's values (8 blocks of the generated 1M day, one thread, load ~4: 1.9-2.4 CPU s per
# million lines as written, 1.3 with the arrays cut out). The arrays' texts are cut out of the
# block instead (`split_tolists`: a few byte searches, one copy) while a day holds few distinct
# recipient lists (684 in a million generated messages), each decoded once by the list reader. A
# block whose lists that cannot take is read again with `tolist` as a list.
# When most lists are distinct the decoding costs more than the list reader (every list
# distinct: +1.6 CPU s per million messages): once a block of a file has more distinct lists than
# this share of its rows, the file's later blocks read `tolist` as a list.
DISTINCT_TOLISTS_MAX = 0.2
_KEY = '"tolist":'
# What the NDJSON reader reads in place of each `tolist` array (`split_tolists`): drawn per process,
# so no file holds it where an array was not replaced; 19 digits (an Int64, never an inline view).
TOLIST_SENTINEL = 10**18 + secrets.randbelow(8 * 10**18)
_SENTINEL_TEXT = str(TOLIST_SENTINEL).encode()
_JSON_SPACE = " \t\r\n"
NO_RECIPIENTS = "[]"  # a message without `tolist` (or with `"tolist": null`)
_WRAP = "r"  # the struct field the lists are encoded under (its key is cut off again)
# A NUL in a recipient id, in canonical text: the escape `\u0000` after an even number of
# backslashes (after an odd number it is the text `\u0000` behind an escaped backslash).
_NUL_IN_TEXT = r"(?:^|[^\\])(?:\\\\)*\\u0000"


def canonical_recipients(lists: pl.Expr) -> pl.Expr:
    """The staged text of each list of `lists` (List[String] as the list reader decodes `tolist`):
    names stripped, as one JSON array without spaces, non-ASCII characters as they are, quotes,
    backslashes and control characters escaped (what `json.dumps(names, ensure_ascii=False,
    separators=(",", ":"))` writes; a null name stays `null`); a null list (no `tolist`, or
    `"tolist": null`) gives `[]`. The one place the text is made: every parse path calls it."""
    names = lists.list.eval(pl.element().str.strip_chars()).fill_null(pl.lit([], pl.List(S)))
    encoded = pl.struct(names.alias(_WRAP)).struct.json_encode()
    return encoded.str.strip_prefix(f'{{"{_WRAP}":').str.strip_suffix("}")


def nul_in_recipients(text: pl.Expr) -> pl.Expr:
    """Whether a recipient id of a `canonical_recipients` text holds a NUL character."""
    return text.str.contains(_NUL_IN_TEXT)


def split_tolists(block: Block, lines: pl.Series) -> tuple[bytes, pl.Series, np.ndarray] | None:
    """Each line's `tolist` array cut out of the block: (the block with every array replaced by
    `TOLIST_SENTINEL`, for the NDJSON reader; the arrays' texts as written, for
    `decode_recipients`, null for a line left as written; which lines' arrays were replaced). An
    array runs from after the line's first `"tolist":` to the line's first `]` when that follows
    and the value starts `[` or ` [` (else the line is left as written: the reader reads a `null`
    as no list, and refuses any other value but an integer, which `sentinel_read` refuses);
    `decode_recipients` refuses a text that is not an array of plain strings (a `]` inside a
    string, a nested list). `lines`: the block's lines, line endings kept
    (`Block.lines(strip=False)`). Whether each key found was the line's top-level `tolist` is told
    by the reader (`sentinel_read`). The texts' bytes are not checked to be UTF-8 here:
    `decode_recipients` checks those of the texts it has not seen. None when the block is empty
    (the caller then reads `tolist` as a list)."""
    if not block.data:  # an empty block (a blank line alone between two blocks): nothing to cut
        return None
    key = lines.str.find(_KEY, literal=True)
    bracket = lines.str.find("]", literal=True)
    at = key.fill_null(0).cast(pl.Int64).to_numpy() + len(_KEY)
    close = bracket.fill_null(-1).cast(pl.Int64).to_numpy()  # the array's last byte
    starts = block.starts[:-1]
    data = np.frombuffer(block.data, np.uint8)
    first, second = (data[np.minimum(starts + at + i, len(data) - 1)] for i in (0, 1))
    replaced = (key.is_not_null().to_numpy() & (close >= at)
                & ((first == ord("[")) | ((first == ord(" ")) & (second == ord("[")))))
    views = join_segments(block.data, starts + at, np.where(replaced, close - at + 1, 0), valid=replaced)
    # as String without a UTF-8 check (neither Arrow nor polars checks a view array's bytes): a text
    # equal to one known from earlier blocks is UTF-8, the others are checked by
    # `decode_recipients` (checking every row's was ~0.05 CPU s per million messages)
    texts = pl.from_arrow(pa.Array.from_buffers(pa.string_view(), len(views), views.buffers()))
    # the block with each replaced array's bytes [a, c) replaced by the sentinel: the bytes between
    # two arrays (the end of one line, the lines left as written, the start of the next) are one
    # range, then the sentinel, and so on: two ranges an array instead of three a line (~0.05 CPU s
    # per million lines less)
    rows = np.flatnonzero(replaced)
    a, c = starts[rows] + at[rows], starts[rows] + close[rows] + 1
    offsets = np.empty(2 * len(rows) + 1, np.int64)
    offsets[0::2] = np.concatenate(([0], c))
    offsets[1::2] = -1
    lengths = np.empty_like(offsets)
    lengths[0::2] = np.concatenate((a, [len(block.data)])) - offsets[0::2]
    lengths[1::2] = len(_SENTINEL_TEXT)
    stripped = join_segments(block.data, offsets, lengths, _SENTINEL_TEXT).cast(pa.large_binary())
    return stripped.buffers()[2][:int(lengths.sum())].to_pybytes(), texts.alias("tolist"), replaced


def sentinel_read(tolist: pl.Series, replaced: np.ndarray) -> bool:
    """Whether the reader read `TOLIST_SENTINEL` as the `tolist` of exactly the rows whose lines
    `split_tolists` replaced the array of (`replaced`, one per row) and nothing as the others': then the
    key it replaced the array after was each line's top-level `tolist` (not a key of a nested
    object, nor the end of another key, nor after a `tolist` spelled otherwise: the reader reads a
    key's first value, as the list reader does), and the other values read are the line's own (an
    array replaced by a number leaves the rest of a JSON object as it was). The sentinel is drawn
    per process, so a line cannot hold it in its own right."""
    return bool((tolist.is_not_null() == pl.Series(replaced)).all()) and bool(
        (tolist.drop_nulls() == TOLIST_SENTINEL).all())


class TolistCache:
    """The recipient texts a file's blocks made, by the text of their `tolist` array, shared by
    the file's blocks (parsed in threads): a day's few hundred distinct lists recur in every
    block, and a block then only casts its texts to an Enum of the known ones (one hash lookup a
    row) instead of finding its distinct texts, decoding them and mapping each row to its own
    (unique, replace_strict and a read_ndjson call: ~0.3 CPU s per million messages). Holds at
    most `MAX_TEXTS` texts (a file of mostly distinct lists decodes them block by block)."""

    MAX_TEXTS = 20_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (texts, their `canonical_recipients`, an Enum of the texts or None when empty): replaced, never changed
        self.known: tuple[pl.Series, pl.Series, pl.Enum | None] = (pl.Series("t", [], S), pl.Series("c", [], S), None)

    def add(self, texts: pl.Series, canonical: pl.Series) -> None:
        """Remember `texts` (distinct, not known when the caller looked) and their canonical texts."""
        with self._lock:
            known_texts, known_canonical, _ = self.known
            if len(known_texts) >= self.MAX_TEXTS:
                return
            fresh = ~texts.is_in(known_texts.implode())  # another block may have added some meanwhile
            # one chunk each: a gather from a Series of many chunks (one per block that added
            # texts) cost ~10x one from a single chunk (~0.07 CPU s per million messages)
            known_texts = pl.concat([known_texts, texts.filter(fresh).alias("t")], rechunk=True)
            known_canonical = pl.concat([known_canonical, canonical.filter(fresh).alias("c")], rechunk=True)
            self.known = (known_texts, known_canonical, pl.Enum(known_texts))


def _codes(tolist: pl.Series, enum: pl.Enum | None) -> pl.Series:
    """Each row's index among `enum`'s texts (UInt32), null for a text it lacks or no `tolist`."""
    if enum is None:
        return pl.repeat(None, len(tolist), dtype=pl.UInt32, eager=True)
    return tolist.cast(enum, strict=False).to_physical().cast(pl.UInt32)


def decode_recipients(tolist: pl.Series, cache: TolistCache | None = None,
                      scan: str | None = None) -> tuple[pl.Series | None, int, pl.Series | None]:
    """`recipients` (`canonical_recipients` text, `[]` for a row without `tolist`) from the text
    of each row's `tolist` array (`split_tolists`): each distinct text decoded once, by the list
    reader reading it as the `tolist` of a line of its own, made canonical and gathered back
    (texts the file's earlier blocks decoded are taken from `cache`). None when that might not
    give what the list reader gives for the block's lines: a text that is not an array, or one
    the list reader refuses (an array cut short at a `]` inside it), or a new text whose bytes are
    not UTF-8 (`split_tolists` does not check them; the reader checks the others). Also the count of the
    block's distinct texts, and with `scan` (a regex), whether each row's array text holds a
    match: searched once per distinct text (a few hundred) rather than in every row's array;
    None when no row's does (or without `scan`)."""
    found = None
    cache = TolistCache() if cache is None else cache
    known_texts, known_canonical, enum = cache.known
    codes = _codes(tolist, enum)
    # known texts passed the checks below when first seen; a text decodes the same on its own
    # (one line of its own), so only the new ones are checked and decoded
    new = tolist.filter(codes.is_null()).drop_nulls().unique()
    seen = codes.drop_nulls().to_numpy()
    distinct = len(new) + (int(np.count_nonzero(np.bincount(seen))) if len(seen) else 0)
    if not distinct:  # no row with `tolist`
        return pl.repeat(NO_RECIPIENTS, len(tolist), dtype=S, eager=True).alias("_recipients"), 0, None
    # the texts are the lines' own, escapes included: decoded alone, each gives what the list
    # reader gives for its line
    try:  # the texts not known from earlier blocks: UTF-8? (only then are they searched as text)
        new.cast(pl.Binary).cast(S)
    except pl.exceptions.PolarsError:
        return None, distinct, None
    if not new.str.strip_chars_start(_JSON_SPACE).str.starts_with("[").all():
        return None, distinct, None
    if len(new):
        wrapped = new.to_frame("t").select(pl.concat_str(pl.lit('{"tolist":'), "t", pl.lit("}")).str.join("\n"))
        try:
            decoded = pl.read_ndjson(wrapped.item().encode(), schema={"tolist": pl.List(S)})
        except pl.exceptions.PolarsError:
            return None, distinct, None
        if decoded.height != new.len():
            return None, distinct, None
        canonical = decoded.select(canonical_recipients(pl.col("tolist"))).to_series()
        cache.add(new, canonical)
        known_texts = pl.concat([known_texts, new.alias("t")])
        known_canonical = pl.concat([known_canonical, canonical.alias("c")])
        codes = _codes(tolist, pl.Enum(known_texts))
    codes = codes.fill_null(len(known_texts))
    if scan is not None and (hits := known_texts.str.contains(scan)).any():
        found = pl.concat([hits, pl.Series([False])], rechunk=True).gather(codes)
        found = found if found.any() else None  # texts known from other blocks matched
    texts = pl.concat([known_canonical, pl.Series("c", [NO_RECIPIENTS], S)], rechunk=True)  # one chunk: see `add`
    return texts.gather(codes).alias("_recipients"), distinct, found
