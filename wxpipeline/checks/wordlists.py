"""The project's one word-list matcher (PUB-06 and the CHAT clauses).

Word lists are UTF-8 files beside the policy file, one term per line, `#` starts a comment,
named in the policy's `word_lists:` mapping (category -> file). `load_word_lists` reads them
into a frame the asset hands to a rule, so that rules stay pure:

    wl = load_word_lists(policy)                      # category, term, file, line
    hits = find_terms(texts, text="text", word_lists=wl,
                      categories=["gambling", "drugs"], allow=["allow"], context=8)

`find_terms` normalises the whole text column at once (`textnorm.normalise`), runs one
Aho-Corasick automaton (polars `str.find_many`/`extract_many`) holding the normalised terms
of the chosen categories and the allow-list phrases over the rows that contain any of them,
drops a hit lying inside an occurrence of an allow-list phrase (`大麻烦` covers `大麻`) or
inside a longer hit of the same category, and returns one row per hit:

    <every column of `texts` but the text> , category, term (as written in the list),
    offset, length (in characters), offset_basis, matched (masked), snippet (masked)

`offset_basis` is `original` when offset/length point into the text as given (the normal
case: the per-hit Python re-normalisation maps the normalised match back through removed
separators), or `normalised` when that mapping did not reproduce the vectorised text exactly,
in which case offset/length point into the normalised text and the snippet is taken from it.
Snippets keep `context` characters each side, mask all but the first character of the match
and all but the last 4 digits of any number of 7+ digits, also one written in groups
(`6222 0212 3456 7890`: phone, ID and card numbers), and fold newlines. `find_patterns` gives
the same hits shape for the regular expressions of a policy (CHAT-02).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import polars as pl

from wxpipeline.checks.textnorm import normalise, normalise_text

WORDLIST_SCHEMA = {"category": pl.String, "term": pl.String, "file": pl.String, "line": pl.Int64}

HIT_COLUMNS = {
    "category": pl.String, "term": pl.String, "offset": pl.Int64, "length": pl.Int64,
    "offset_basis": pl.String, "matched": pl.String, "snippet": pl.String,
}

# Labels for summaries; a category not listed here is shown by its key.
CATEGORY_LABELS = {
    "politics": "政治", "pornography": "色情", "gambling": "赌博", "drugs": "毒品",
    "violence_terror": "暴恐/枪支", "cult_superstition": "邪教/迷信",
    "advertising": "广告/招揽", "abuse": "辱骂",
}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


# ---- word-list files --------------------------------------------------------------------------


def read_word_list(path: Path | str, category: str) -> pl.DataFrame:
    """One list file -> (category, term, file, line). A `#` after whitespace, or at the start
    of a line, begins a comment; blank lines are skipped."""
    path = Path(path)
    rows = []
    for n, raw in enumerate(path.read_text("utf-8-sig").splitlines(), 1):
        term = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()
        if term:
            rows.append((category, term, str(path), n))
    return pl.DataFrame(rows, schema=WORDLIST_SCHEMA, orient="row")


def load_word_lists(policy, categories: Sequence[str] | None = None) -> pl.DataFrame:
    """Every list named in the policy's `word_lists:` mapping (or only `categories`)."""
    wanted = list(policy.word_lists) if categories is None else list(categories)
    frames = [read_word_list(policy.word_list_path(c), c) for c in wanted]
    return pl.concat(frames) if frames else pl.DataFrame(schema=WORDLIST_SCHEMA)


# Normalising a list's terms costs ~10 ms per call and every judged day asks again for the same
# lists; the result depends on the (category, term) rows alone, so it is kept per process.
_COMPILED: dict[tuple, pl.DataFrame] = {}


def compiled_terms(word_lists: pl.DataFrame, categories: Sequence[str]) -> pl.DataFrame:
    """(category, term, pattern): each term of `categories` with its normalised pattern."""
    picked = word_lists.filter(pl.col("category").is_in(list(categories)))
    key = (tuple(picked["category"].to_list()), tuple(picked["term"].to_list()))
    if (known := _COMPILED.get(key)) is not None:
        return known
    compiled = (
        picked.with_columns(normalise(picked["term"]).alias("pattern"))
        .filter(pl.col("pattern").str.len_chars() > 0)
        .unique(["category", "pattern"], keep="first", maintain_order=True)
        .select("category", "term", "pattern")
    )
    if len(_COMPILED) >= 32:  # edited lists in a long-lived process: keep the cache bounded
        _COMPILED.clear()
    _COMPILED[key] = compiled
    return compiled


# ---- matching ---------------------------------------------------------------------------------

_LITERALS_REGEX: dict[tuple[str, ...], str | None] = {}


def contains_any_of(expr: pl.Expr, literals: Sequence[str]) -> pl.Expr:
    """`expr.str.contains_any(literals)` (a row holds one of the strings), as one regular expression
    of the escaped literals when it compiles: over a day of Chinese text the regex engine's literal
    search is ~40 % cheaper than polars' Aho-Corasick (650 word-list terms: 0.45 s instead of 0.71 s
    at 4M messages). Same rows either way; an alternation too big for the engine falls back."""
    key = tuple(sorted(set(literals)))
    if key not in _LITERALS_REGEX:
        pattern = "|".join(pl.escape_regex(t) for t in key) if key and all(key) else None
        if pattern is not None:
            try:
                pl.select(pl.lit("").str.contains(pattern))
            except Exception:  # e.g. the engine's size limit: the automaton does it
                pattern = None
        if len(_LITERALS_REGEX) >= 64:
            _LITERALS_REGEX.clear()
        _LITERALS_REGEX[key] = pattern
    pattern = _LITERALS_REGEX[key]
    return expr.str.contains(pattern) if pattern is not None else expr.str.contains_any(list(literals))


def term_rows(texts: pl.DataFrame, *, key: str, normalised: str, word_lists: pl.DataFrame) -> pl.DataFrame:
    """(key, category): the rows of `texts` whose normalised text holds a term of that category,
    for every category of `word_lists` (allow lists too), from one Aho-Corasick scan with the terms
    of all lists (overlapping: a term inside a longer term of another list is found too).

    Rules that match different lists over the same texts each search only their candidate rows
    (a handful) instead of every row: `find_terms` over those rows gives exactly the hits it gives
    over all of them, since a row holding no term of its categories yields none. Allow-list
    phrases are not applied here (they only ever remove a hit)."""
    terms = compiled_terms(word_lists, word_lists["category"].unique().to_list())
    empty = pl.DataFrame(schema={key: texts.schema[key], "category": pl.String})
    if texts.height == 0 or terms.height == 0:
        return empty
    patterns = sorted(set(terms["pattern"]))
    cand = texts.lazy().select(key, normalised).filter(contains_any_of(pl.col(normalised), patterns).fill_null(False))
    return (
        cand.select(key, pl.col(normalised).str.extract_many(patterns, overlapping=True).alias("pattern"))
        .explode("pattern")
        .join(terms.lazy().select("pattern", "category"), on="pattern", how="inner")
        .select(key, "category")
        .unique(maintain_order=True)
        .collect()
    )


def empty_hits(texts: pl.DataFrame, text: str) -> pl.DataFrame:
    base = {c: t for c, t in texts.schema.items() if c != text}
    return pl.DataFrame(schema={**base, **HIT_COLUMNS})


def find_terms(
    texts: pl.DataFrame,
    *,
    text: str,
    word_lists: pl.DataFrame,
    categories: Sequence[str],
    allow: Sequence[str] = (),
    context: int = 8,
    normalised: str | None = None,
) -> pl.DataFrame:
    """Every word-list hit in `texts[text]`, allow-list suppressed; see the module doc.

    `normalised` names a column of `texts` that already holds `normalise(texts[text])`, so that
    several rules over one day's messages normalise it once; it is not repeated in the output."""
    clash = sorted(set(texts.columns) & (set(HIT_COLUMNS) | {"_row", "_norm"}))
    if clash:
        raise ValueError(f"find_terms: rename the input column(s) {clash}; the hits frame adds them")
    # a category named in the policy but absent from the lists would silently match nothing
    unknown = sorted((set(categories) | set(allow)) - set(word_lists["category"].unique()))
    if unknown:
        raise ValueError(f"find_terms: no word list loaded for categories {unknown} "
                         f"(loaded: {sorted(word_lists['category'].unique())}); check the policy's word_lists")
    terms = compiled_terms(word_lists, categories)
    allowed = compiled_terms(word_lists, allow).select("pattern").unique()
    if normalised is not None:
        texts = texts.rename({normalised: "_norm"})
    if texts.height == 0 or terms.height == 0:
        return empty_hits(texts.drop("_norm", strict=False), text)
    patterns = sorted(set(terms["pattern"]) | set(allowed["pattern"]))

    rows = texts.with_row_index("_row")
    if normalised is None:
        rows = rows.with_columns(normalise(texts[text]).alias("_norm"))
    texts = texts.drop("_norm", strict=False)
    cand = rows.filter(pl.col("_norm").str.contains_any(patterns).fill_null(False))
    if cand.height == 0:
        return empty_hits(texts, text)
    occ = (
        cand.select(
            "_row",
            pl.col("_norm").str.extract_many(patterns, overlapping=True).alias("pattern"),
            pl.col("_norm").str.find_many(patterns, overlapping=True).alias("start"),
        )
        .explode("pattern", "start")
        .drop_nulls("pattern")
        .with_columns(
            pl.col("start").cast(pl.Int64),
            (pl.col("start").cast(pl.Int64) + pl.col("pattern").str.len_bytes().cast(pl.Int64)).alias("end"),
        )
    )
    hits = occ.join(terms, on="pattern", how="inner")
    covers = occ.join(allowed, on="pattern", how="semi").select("_row", a_start="start", a_end="end")
    # an allow-list phrase containing the match suppresses it
    hits = hits.join(
        hits.join(covers, on="_row")
        .filter((pl.col("a_start") <= pl.col("start")) & (pl.col("a_end") >= pl.col("end")))
        .select("_row", "start", "end", "pattern").unique(),
        on=["_row", "start", "end", "pattern"], how="anti",
    )
    # a hit inside a longer hit of the same category adds nothing (`赌博` in `网络赌博`)
    longer = hits.select("_row", "category", o_start="start", o_end="end")
    inner = (
        hits.join(longer, on=["_row", "category"])
        .filter((pl.col("o_start") <= pl.col("start")) & (pl.col("o_end") >= pl.col("end"))
                & ((pl.col("o_end") - pl.col("o_start")) > (pl.col("end") - pl.col("start"))))
        .select("_row", "category", "start", "end").unique()
    )
    hits = hits.join(inner, on=["_row", "category", "start", "end"], how="anti").sort("_row", "start", "category")
    if hits.height == 0:
        return empty_hits(texts, text)
    located = _locate(hits, cand.filter(pl.col("_row").is_in(hits["_row"].unique().implode())), text, context)
    out = cand.drop(text, "_norm").join(located, on="_row", how="inner").sort("_row", "offset", "category")
    return out.drop("_row").select(*[c for c in texts.columns if c != text], *HIT_COLUMNS)


def combined_pattern(patterns: Mapping[str, str]) -> str:
    """One regular expression matching where any of `patterns` does."""
    return "|".join(f"(?:{p})" for p in patterns.values())


def find_patterns(
    texts: pl.DataFrame,
    *,
    text: str,
    patterns: Mapping[str, str],
    context: int = 8,
    normalised: str | None = None,
) -> pl.DataFrame:
    """The first match of each regular expression in the normalised `texts[text]`, in the shape of
    `find_terms`' hits: category `pattern`, term = the pattern's name, matched / snippet masked.

    `patterns` maps a name to a regular expression (polars / Rust `regex` syntax) written against
    normalised text (simplified, half-width, lower case, no separators between Chinese characters).
    Rows are first filtered with all patterns at once; only the candidates are searched per pattern.
    """
    clash = sorted(set(texts.columns) & (set(HIT_COLUMNS) | {"_row", "_norm"}))
    if clash:
        raise ValueError(f"find_patterns: rename the input column(s) {clash}; the hits frame adds them")
    if normalised is not None:
        texts = texts.rename({normalised: "_norm"})
    if texts.height == 0 or not patterns:
        return empty_hits(texts.drop("_norm", strict=False), text)
    rows = texts.with_row_index("_row")
    if normalised is None:
        rows = rows.with_columns(normalise(texts[text]).alias("_norm"))
    texts = texts.drop("_norm", strict=False)
    cand = rows.filter(pl.col("_norm").str.contains(combined_pattern(patterns)).fill_null(False))
    if cand.height == 0:
        return empty_hits(texts, text)
    hits = pl.concat([
        cand.select(
            "_row",
            pl.lit("pattern").alias("category"),
            pl.lit(name).alias("term"),
            pl.col("_norm").str.extract(f"({p})", 1).alias("pattern"),
            pl.col("_norm").str.find(p).cast(pl.Int64).alias("start"),
        )
        for name, p in patterns.items()
    ]).filter(pl.col("pattern").str.len_chars() > 0).sort("_row", "start")
    if hits.height == 0:
        return empty_hits(texts, text)
    located = _locate(hits, cand.filter(pl.col("_row").is_in(hits["_row"].unique().implode())), text, context)
    out = cand.drop(text, "_norm").join(located, on="_row", how="inner").sort("_row", "offset", "term")
    return out.drop("_row").select(*[c for c in texts.columns if c != text], *HIT_COLUMNS)


def _locate(hits: pl.DataFrame, rows: pl.DataFrame, text: str, context: int) -> pl.DataFrame:
    """Map byte offsets in the normalised text to character offsets in the original (Python,
    over the hit rows only)."""
    by_row = {r: (orig, norm) for r, orig, norm in rows.select("_row", text, "_norm").iter_rows()}
    cache: dict[int, tuple[str, list[int]] | None] = {}
    out = []
    for r, start, pattern, category, term in hits.select("_row", "start", "pattern", "category", "term").iter_rows():
        orig, norm = by_row[r]
        if r not in cache:
            py_norm, origin = normalise_text(orig)
            cache[r] = (py_norm, origin) if py_norm == norm else None
        c0 = len(norm.encode("utf-8")[:start].decode("utf-8", errors="ignore"))
        c1 = c0 + len(pattern)
        mapped = cache[r]
        if mapped is not None:
            origin = mapped[1]
            o0, o1, basis, source = origin[c0], origin[c1 - 1] + 1, "original", orig
        else:
            o0, o1, basis, source = c0, c1, "normalised", norm
        out.append((r, category, term, o0, o1 - o0, basis, mask_match(source[o0:o1]),
                    snippet(source, o0, o1, context)))
    return pl.DataFrame(out, schema={"_row": pl.UInt32, **HIT_COLUMNS}, orient="row")


# ---- evidence masking ---------------------------------------------------------------------------

# A number of 7+ digits, also when written in groups of 3+ (`6222 0212 3456 7890`, `138-0013-8000`).
_LONG_DIGITS = re.compile(r"\d{3,}(?:[ \-]\d{3,})*")


def mask_match(s: str) -> str:
    """Keep the first character of a matched span, mask the rest."""
    return s[:1] + "*" * (len(s) - 1)


def _mask_digits(m: re.Match) -> str:
    """All but the last 4 digits of a 7+-digit number become `*`; group separators stay."""
    g = m.group()
    hide = sum(c.isdigit() for c in g) - 4
    if hide < 3:
        return g
    out = []
    for c in g:
        if c.isdigit() and hide > 0:
            out.append("*")
            hide -= 1
        else:
            out.append(c)
    return "".join(out)


def _mask_numbers(s: str) -> str:
    return _LONG_DIGITS.sub(_mask_digits, s)


def mask_numbers(s: str) -> str:
    """`s` with every number of 7+ digits masked but its last 4 digits (evidence text, URLs)."""
    return _mask_numbers(s)


def snippet(source: str, start: int, end: int, context: int) -> str:
    """`…before【m***】after…`; numbers are masked in the whole text first (keeping its length),
    so a window that cuts a phone number never shows more than its last 4 digits."""
    masked = _mask_numbers(source)
    before = masked[max(0, start - context):start]
    after = masked[end:end + context]
    pre = "…" if start - context > 0 else ""
    post = "…" if end + context < len(source) else ""
    body = before + "【" + mask_match(source[start:end]) + "】" + after
    return re.sub(r"\s+", " ", pre + body + post)
