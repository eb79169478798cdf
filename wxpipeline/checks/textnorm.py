"""Chinese text normalisation before any word-list match (CLAUSES.md, conventions).

Steps, in order: traditional -> simplified (OpenCC `t2s`), full-width -> half-width, lower-case,
and separators (whitespace, punctuation, symbols incl. emoji, zero-width / format characters,
combining marks such as emoji variation selectors) removed where they stand *between two
Chinese characters*, so that `赌 博`, `賭博`, `赌*博`, `赌\u200b博` and `赌😀博` all read `赌博`.

Two implementations of the same function, built from the same character tables:

* `normalise(series)` - vectorised over a whole column (polars expressions; OpenCC is called
  once per chunk of rows that hold a character it would change). This is what matching runs on.
* `normalise_text(s)` - one string, in Python, returning the normalised text *and* the index in
  `s` of every normalised character. Matching never uses it; it maps the (rare) hits back to
  offsets in the original text for evidence.

Every step but the separator removal keeps the length, which is what makes that mapping exact:
t2s falls back to character-by-character conversion for a row whose phrase conversion would
change its length, and `İ` (the one character whose lower case is two characters) is folded
to `I` first.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import polars as pl

# Script=Han blocks: 々 〇, Ext A, URO, compatibility ideographs, Ext B..H.
_HAN_RANGES = ((0x3005, 0x3005), (0x3007, 0x3007), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
               (0xF900, 0xFAFF), (0x20000, 0x3134F))
_HAN_CLASS = "".join(f"\\U{a:08X}" if a == b else f"\\U{a:08X}-\\U{b:08X}" for a, b in _HAN_RANGES)
# Separators. The regex class and `_is_sep` below must describe the same set: explicit
# control whitespace instead of \s (Python's isspace() and Unicode White_Space differ).
_SEP_CONTROLS = "\t\n\x0b\x0c\r\x85"
_SEP_CLASS = r"\t\n\x0B\x0C\r\x85\p{Z}\p{P}\p{S}\p{Cf}\p{Mn}\p{Me}"
_SEP_BETWEEN_HAN = f"([{_HAN_CLASS}])[{_SEP_CLASS}]+([{_HAN_CLASS}])"

# Full-width ASCII variants and the ideographic space; İ folded so lower-casing keeps length.
_WIDE = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000", "\u0130"]
_NARROW = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" ", "I"]
_WIDTH_TABLE = str.maketrans(dict(zip(_WIDE, _NARROW)))

# Characters that lower-casing leaves as they are, whatever their context: ASCII but A-Z, CJK
# symbols and punctuation, kana, the unified ideographs, half-/full-width forms but Ａ-Ｚ (folded
# before lower-casing anyway). A row made only of these needs no lower-casing.
_CASELESS = r"\x00-\x40\x5B-\x7F\x{3000}-\x{30FF}\x{4E00}-\x{9FFF}\x{FF00}-\x{FF20}\x{FF3B}-\x{FFEF}"

_SLICE_ROWS = 500_000  # rows normalised at a time at most (a day of 10M messages: twenty slices)
_MIN_CHUNK_ROWS = 10_000  # smaller chunks on average are joined before normalising

_JOIN = "\ue000"  # private-use row delimiter for batched OpenCC calls; in no dictionary
_CHUNK_CHARS = 4_000_000


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return any(a <= o <= b for a, b in _HAN_RANGES)


def _is_sep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "PSZ" or cat in ("Cf", "Mn", "Me") or ch in _SEP_CONTROLS


@lru_cache(maxsize=1)
def _converter():
    import opencc  # OpenCC ships its dictionaries inside the wheel: no download at run time

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def traditional_chars() -> tuple[str, ...]:
    """Every Han character that t2s changes on its own (a few thousand). A row holding none of
    them is left as it is, which spares OpenCC most of a simplified-Chinese day."""
    cands = [chr(o) for a, b in _HAN_RANGES for o in range(a, b + 1)]
    out = _converter().convert("\n".join(cands)).split("\n")
    if len(out) != len(cands):  # pragma: no cover - would mean OpenCC joined across newlines
        out = [_converter().convert(c) for c in cands]
    return tuple(c for c, s in zip(cands, out) if s != c)


def _char_level(s: str) -> str:
    conv = _converter()
    return "".join(d if len(d := conv.convert(c)) == 1 else c for c in s)


def to_simplified_text(s: str) -> str:
    """t2s for one string, always the same length as `s` (see module doc)."""
    if not any(c in _trad_set() for c in s):
        return s
    out = _converter().convert(s)
    return out if len(out) == len(s) else _char_level(s)


@lru_cache(maxsize=1)
def _trad_set() -> frozenset[str]:
    return frozenset(traditional_chars())


@lru_cache(maxsize=1)
def _traditional_class() -> str:
    """`traditional_chars()` as one regex character class of code point ranges: finding the rows
    that hold one is a DFA scan, a third cheaper than an Aho-Corasick automaton of 4,000 strings."""
    points = sorted(ord(c) for c in traditional_chars())
    if not points:
        return "[^\\x00-\\x{10FFFF}]"  # matches nothing
    ranges, lo, hi = [], points[0], points[0]
    for o in points[1:]:
        if o == hi + 1:
            hi = o
        else:
            ranges.append((lo, hi))
            lo = hi = o
    ranges.append((lo, hi))
    return "[" + "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def to_simplified(texts: pl.Series) -> pl.Series:
    """t2s over a column; same result per row as `to_simplified_text`."""
    texts = texts.cast(pl.String)
    need = texts.str.contains(_traditional_class()).fill_null(False)
    idx = need.arg_true()
    if idx.len() == 0:
        return texts
    rows = texts.gather(idx).to_list()
    converted: list[str] = []
    batch: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        if any(_JOIN in r for r in batch):
            converted.extend(to_simplified_text(r) for r in batch)
        else:
            out = _converter().convert(_JOIN.join(batch)).split(_JOIN)
            if len(out) != len(batch):  # pragma: no cover - defensive
                out = [_converter().convert(r) for r in batch]
            converted.extend(o if len(o) == len(r) else _char_level(r) for o, r in zip(out, batch))
        batch, size = [], 0

    for r in rows:
        batch.append(r)
        size += len(r)
        if size >= _CHUNK_CHARS:
            flush()
    flush()
    return texts.scatter(idx, pl.Series(converted, dtype=pl.String))


def fold_width(expr: pl.Expr) -> pl.Expr:
    """Full-width -> half-width (`来源：` -> `来源:`), keeping the length."""
    return expr.str.replace_many(_WIDE, _NARROW)


def _fold_case_and_separators(expr: pl.Expr) -> pl.Expr:
    lowered = fold_width(expr).str.to_lowercase()
    # A match consumes the Han character after the separators, so a chain `a b c` needs a
    # second pass; two passes always suffice (the runs left after the first are disjoint).
    once = lowered.str.replace_all(_SEP_BETWEEN_HAN, "${1}${2}")
    return once.str.replace_all(_SEP_BETWEEN_HAN, "${1}${2}")


def _where(texts: pl.Series, pattern: str, step) -> pl.Series:
    """`step` applied to the rows of `texts` that match `pattern` only (the rest are left as they
    are, which is what `step` would do to them): a DFA scan is several times cheaper than
    lower-casing or a capturing replace over every row."""
    idx = texts.str.contains(pattern).fill_null(False).arg_true()
    if idx.len() == 0:
        return texts
    return texts.scatter(idx, step(texts.gather(idx)))


def normalise(texts: pl.Series) -> pl.Series:
    """The normalised form of every text in a column (null stays null); the same result as
    `_fold_case_and_separators` over the simplified column, each step run only on the rows it can
    change: lower-casing on rows holding a character outside `_CASELESS` (about 1 % of a Chinese
    chat day), the second separator pass on rows the first left a match in (a handful). A long
    column is normalised in pieces, so the steps' intermediate copies stay the size of a piece, not
    of the day: one piece per chunk of `texts` (a parquet row group; slices of `_SLICE_ROWS` of a
    longer chunk). The result then has the chunks of `texts`, so a frame holding both columns is
    not copied whole to align them at its first filter (a full copy of a 10M-message day)."""
    if texts.n_chunks() == 1 and texts.len() <= _SLICE_ROWS:
        return _normalise(texts)
    if texts.len() < _MIN_CHUNK_ROWS * texts.n_chunks():  # many small chunks: per-call costs would add up
        texts = texts.rechunk()
    parts = []
    for chunk in texts.get_chunks():
        parts += [_normalise(chunk.slice(i, _SLICE_ROWS)) for i in range(0, chunk.len(), _SLICE_ROWS)]
    return pl.concat(parts, rechunk=False).alias(texts.name) if parts else _normalise(texts)


@lru_cache(maxsize=1)
def _rare_class() -> str:
    """A character that t2s or lower-casing may change: a traditional one, or one outside
    `_CASELESS`. Width folding maps every `_CASELESS` character to one (`test_textnorm` checks
    every code point), so a row holding neither kind needs neither step, before or after folding."""
    return f"[^{_CASELESS}]|{_traditional_class()}"


def _normalise(texts: pl.Series) -> pl.Series:
    # one scan finds the rows (about 1 % of a Chinese chat day) that t2s or lower-casing can
    # change; both steps (each with its own finer scan) run on those rows only
    texts = texts.cast(pl.String)  # an all-null column comes typed Null
    rare = texts.str.contains(_rare_class()).fill_null(False).arg_true()
    simplified = texts.scatter(rare, to_simplified(texts.gather(rare))) if rare.len() else texts
    folded = pl.select(fold_width(pl.lit(simplified))).to_series()
    if rare.len():
        lowered = folded.scatter(rare, _where(folded.gather(rare), f"[^{_CASELESS}]", lambda s: s.str.to_lowercase()))
    else:
        lowered = folded
    once = lowered.str.replace_all(_SEP_BETWEEN_HAN, "${1}${2}")
    twice = _where(once, _SEP_BETWEEN_HAN, lambda s: s.str.replace_all(_SEP_BETWEEN_HAN, "${1}${2}"))
    return twice.alias(texts.name)


def normalise_text(s: str) -> tuple[str, list[int]]:
    """(normalised text, index in `s` of each normalised character)."""
    t = to_simplified_text(s).translate(_WIDTH_TABLE)
    low = t.lower()  # whole-string, like polars (final sigma); İ is folded so length holds
    lowered = list(low if len(low) == len(t) else "".join(c if len(c.lower()) != 1 else c.lower() for c in t))
    keep = [True] * len(lowered)
    i, n = 0, len(lowered)
    while i < n:
        if _is_sep(lowered[i]):
            j = i
            while j < n and _is_sep(lowered[j]):
                j += 1
            if i > 0 and j < n and _is_han(lowered[i - 1]) and _is_han(lowered[j]):
                for k in range(i, j):
                    keep[k] = False
            i = j
        else:
            i += 1
    origin = [k for k in range(n) if keep[k]]
    return "".join(lowered[k] for k in origin), origin
