"""`recipients` of the WeCom archive: one text a message, the recipient list as canonical JSON
(`canonical_recipients`: `["zhangsan","lisi"]`, names stripped, non-ASCII as written, `[]` for
none), so that the column is a few repeated texts (684 distinct in a generated day of a million
messages) that Parquet and the staged re-encode keep dictionary-encoded, instead of ~15 list
elements a message (that generated day: 14.8M elements, ~70 % of its staging re-encode and half
its parse cache's write).
No rule reads it; a reader gets the lists back with
`pl.col("recipients").str.json_decode(pl.List(pl.String))`.

The fast path takes each line's `tolist` array as written, from the line itself
(`tolist_texts`), and decodes and canonicalises each distinct text once (`decode_recipients`),
shared by the file's blocks (`TolistCache`): per row only a lookup and a gather. The paths that
read `tolist` as a list (a block the text path cannot take, the line-isolating path) give each
row the same text through the same function. Used by `wecom_archive`."""

from __future__ import annotations

import threading

import numpy as np
import polars as pl

S = pl.String

# `tolist` is not given to the NDJSON reader at all: the reader builds every element of a list
# it reads (as a list, or as text, which it writes out again) and that was a third of its cost
# (20 blocks, 0.7M lines: 2.20 CPU s with `tolist` as text, 1.39 without, 3.28 as a list). The
# arrays' texts are sliced out of the lines instead (~0.37 s for the same lines, its guards
# included) while a day holds few distinct recipient lists (684 in a million generated
# messages), each decoded once by the list reader. A block whose lists that cannot take is read
# again with `tolist` as a list.
# When most lists are distinct the decoding costs more than the list reader (every list
# distinct: +1.6 CPU s per million messages): once a block of a file has more distinct lists than
# this share of its rows, the file's later blocks read `tolist` as a list.
DISTINCT_TOLISTS_MAX = 0.2
_KEY = '"tolist":'
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


def tolist_texts(lines: pl.Series) -> pl.Series | None:
    """Each line's `tolist` value as written, from after the `"tolist":` key to the first `]`
    (whitespace before the `[` kept; null for a line without the key), for `decode_recipients`
    (which refuses a text that is not an array of plain strings: a `]` inside a string, a nested
    list or a value that is no array cut there do not decode, or do not start with `[`).
    None when a line may hold its top-level `tolist` where this does not look: the key spelled
    otherwise (`"tolist" :`, with escapes), twice, after a `{` other than the line's own (a key of
    a nested object), or with a backslash before it; the caller then reads the lists with the
    NDJSON reader."""
    frame = lines.to_frame("l").lazy().with_columns(
        _pos=pl.col("l").str.find(_KEY, literal=True), _b=pl.col("l").cast(pl.Binary),
    ).with_columns(  # byte offsets: `bin.slice`, not `str.slice` (characters)
        # null where there is no key (a null length would slice to the end)
        _head=pl.when(pl.col("_pos").is_not_null()).then(pl.col("_b").bin.slice(0, pl.col("_pos"))).cast(S),
        _tail=pl.col("_b").bin.slice(pl.col("_pos") + len(_KEY)).cast(S),
    ).select(
        pl.col("_tail").cast(pl.Binary).bin.slice(0, pl.col("_tail").str.find("]", literal=True) + 1).cast(S)
        .alias("tolist"),
        "_tail",
        ((pl.col("_head").str.count_matches("{", literal=True) != 1) | pl.col("_head").str.ends_with("\\")
         | pl.col("_tail").str.contains('"tolist"', literal=True)).alias("_odd"),
    ).collect(engine="in-memory")
    if frame["_odd"].any():
        return None
    texts, tail = frame["tolist"], frame["_tail"]
    irregular = ~(texts.str.starts_with("[") | texts.str.starts_with(" [")).fill_null(False)
    if not irregular.any():
        return texts
    # rare: no `tolist` key (switch records), or a value that is no array of the usual spelling
    valued = irregular & tail.is_not_null()
    if valued.any():
        if not tail.filter(valued).str.strip_chars_start(_JSON_SPACE).str.starts_with("null").all():
            return None  # not null: `decode_recipients` takes no other value either
        texts = texts.set(valued, None)  # JSON null: no recipients, as the list reader gives
    absent = tail.is_null()
    if absent.any():  # the key may be spelled otherwise (`"tolist" :`, escapes): the reader says
        try:
            spelled = pl.read_ndjson(lines.filter(absent).str.join("").item().encode(), schema={"tolist": pl.Null})
        except pl.exceptions.PolarsError:  # a value, which `pl.Null` does not take
            return None
        if spelled.height != int(absent.sum()):
            return None
    return texts


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
            known_texts = pl.concat([known_texts, texts.filter(fresh).alias("t")])
            known_canonical = pl.concat([known_canonical, canonical.filter(fresh).alias("c")])
            self.known = (known_texts, known_canonical, pl.Enum(known_texts))


def _codes(tolist: pl.Series, enum: pl.Enum | None) -> pl.Series:
    """Each row's index among `enum`'s texts (UInt32), null for a text it lacks or no `tolist`."""
    if enum is None:
        return pl.repeat(None, len(tolist), dtype=pl.UInt32, eager=True)
    return tolist.cast(enum, strict=False).to_physical().cast(pl.UInt32)


def decode_recipients(tolist: pl.Series, cache: TolistCache | None = None) -> tuple[pl.Series | None, int]:
    """`recipients` (`canonical_recipients` text, `[]` for a row without `tolist`) from the text
    of each row's `tolist` array (`tolist_texts`): each distinct text decoded once, by the list
    reader reading it as the `tolist` of a line of its own, made canonical and gathered back
    (texts the file's earlier blocks decoded are taken from `cache`). None when that might not
    give what the list reader gives for the block's lines: a text that is not an array, or one
    the list reader refuses (an array cut short at a `]` inside it). Also the count of the
    block's distinct texts."""
    cache = TolistCache() if cache is None else cache
    known_texts, known_canonical, enum = cache.known
    codes = _codes(tolist, enum)
    # known texts passed the checks below when first seen; a text decodes the same on its own
    # (one line of its own), so only the new ones are checked and decoded
    new = tolist.filter(codes.is_null()).drop_nulls().unique()
    seen = codes.drop_nulls().to_numpy()
    distinct = len(new) + (int(np.count_nonzero(np.bincount(seen))) if len(seen) else 0)
    if not distinct:  # no row with `tolist`
        return pl.repeat(NO_RECIPIENTS, len(tolist), dtype=S, eager=True).alias("_recipients"), 0
    # the texts are the lines' own, escapes included: decoded alone, each gives what the list
    # reader gives for its line
    if not new.str.strip_chars_start(_JSON_SPACE).str.starts_with("[").all():
        return None, distinct
    if len(new):
        wrapped = new.to_frame("t").select(pl.concat_str(pl.lit('{"tolist":'), "t", pl.lit("}")).str.join("\n"))
        try:
            decoded = pl.read_ndjson(wrapped.item().encode(), schema={"tolist": pl.List(S)})
        except pl.exceptions.PolarsError:
            return None, distinct
        if decoded.height != new.len():
            return None, distinct
        canonical = decoded.select(canonical_recipients(pl.col("tolist"))).to_series()
        cache.add(new, canonical)
        known_texts = pl.concat([known_texts, new.alias("t")])
        known_canonical = pl.concat([known_canonical, canonical.alias("c")])
        codes = _codes(tolist, pl.Enum(known_texts))
    texts = pl.concat([known_canonical, pl.Series("c", [NO_RECIPIENTS], S)])
    return texts.gather(codes.fill_null(len(known_texts))).alias("_recipients"), distinct
