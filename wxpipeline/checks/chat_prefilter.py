"""The messages of a day that any message rule (CHAT-01..05, ACC-01) can report, or read to decide.

The chat asset reads a busy day (10 million messages) in slices, normalises each slice and keeps
only the rows this test selects, instead of holding every message with its text twice (original
and normalised) while the rules run. Each rule keeps the same findings on the kept rows as on the
whole day, because each first narrows the day with a test that the one here contains:

* CHAT-01 / CHAT-02 / CHAT-05: the word-list candidates (`term_candidates`: a normalised text
  holding a term of any list) and, for CHAT-02, a text matching one of the policy's patterns;
* CHAT-03: `might_hold_links` (a url, a `.` or `://`: contains `may_hold_links`);
* CHAT-04: `may_be_sensitive` (three digits in a row, or a confidentiality marker);
* ACC-01 (and the asset's look-up of earlier post-departure records): every record of an account
  whose employee had left before the day (`departed_accounts`).

CHAT-06 / CHAT-07 read the day's group records (`group_records`), which the asset builds from
every row of every slice, not from the kept rows.

Every part of the test but ACC-01's and the structured urls is a function of the text alone, and
so is the normalisation: `kept_messages` normalises and tests each distinct text once when a
slice's texts repeat (a busy day repeats its short messages), which gives the same rows, in the
same order, with the same `text_norm` as normalising every row.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

import polars as pl

from wxpipeline.checks.chat_01_03_05_content import MESSAGE_COLUMNS, prepare_messages
from wxpipeline.checks.chat_04_sensitive_data import (MAY_HOLD_A_NUMBER, SensitiveData, marker_patterns,
                                                     may_be_sensitive)
from wxpipeline.checks.chat_links import _has_urls, might_hold_link_text
from wxpipeline.checks.textnorm import normalise
from wxpipeline.checks.wordlists import combined_pattern, compiled_terms, contains_any_of

# Texts are normalised once per distinct text when a sample of this many rows holds at most
# `_DISTINCT_SHARE` distinct ones: below that, the hashing and the join back cost less than the
# normalisation they spare (all distinct, they would add ~40 % to it).
_SAMPLE_ROWS = 50_000
_DISTINCT_SHARE = 0.5
_KNOWN_TEXTS = 200_000  # distinct texts a day's slices share at most (`TextVerdicts`)


def term_patterns(word_lists: pl.DataFrame) -> list[str]:
    """The normalised terms of every list, as `term_rows` searches them."""
    terms = compiled_terms(word_lists, word_lists["category"].unique().to_list())
    return sorted(set(terms["pattern"]))


def text_may_be_read(*, terms: Sequence[str], patterns: dict[str, str] | None = None,
                     sensitive: SensitiveData | None = None) -> pl.Expr:
    """The part of `rules_may_read` that is a function of `text_norm` alone (never null): one
    regular expression holding every test as an alternative (a text matches an alternation where
    one of its branches matches), a quarter cheaper than four scans; the tests one by one when
    the engine refuses the alternation (e.g. its size limit)."""
    one = _one_regex(tuple(sorted(set(terms))), tuple((patterns or {}).values()),
                     tuple(sorted(marker_patterns(sensitive))) if sensitive is not None else None)
    if one is not None:
        return pl.col("text_norm").str.contains(one).fill_null(False)
    norm = pl.col("text_norm")
    keep = might_hold_link_text(["text_norm"])
    if terms:
        keep = keep | contains_any_of(norm, terms).fill_null(False)
    if patterns:
        keep = keep | norm.str.contains(combined_pattern(patterns)).fill_null(False)
    if sensitive is not None:
        keep = keep | may_be_sensitive(sensitive)
    return keep.fill_null(False)


@lru_cache(maxsize=16)
def _one_regex(terms: tuple[str, ...], patterns: tuple[str, ...], markers: tuple[str, ...] | None) -> str | None:
    """`text_may_be_read`'s tests as one pattern: `might_hold_link_text`'s literals, the terms,
    CHAT-02's patterns, CHAT-04's three digits and markers (None when CHAT-04 is off)."""
    literals = ["://", ".", *terms, *(markers or ())]
    if not all(literals):
        return None
    branches = [pl.escape_regex(t) for t in literals] + [f"(?:{p})" for p in patterns]
    if markers is not None:
        branches.append(MAY_HOLD_A_NUMBER)
    pattern = "|".join(branches)
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except Exception:  # the engine's size limit: the tests one by one
        return None
    return pattern


def record_may_be_read(columns: Sequence[str], *, departed: Sequence[str]) -> pl.Expr:
    """The rest of `rules_may_read`: a structured url, or a departed account's record."""
    departed_ids = pl.Series(list(departed), dtype=pl.String).implode()
    return (_has_urls(list(columns)) | pl.col("sender").is_in(departed_ids)).fill_null(False)


def rules_may_read(columns: Sequence[str], *, terms: Sequence[str], departed: Sequence[str],
                   patterns: dict[str, str] | None = None,
                   sensitive: SensitiveData | None = None) -> pl.Expr:
    """True for the rows (with `text_norm`) that a message rule can report or must read: see the
    module doc. `patterns`: CHAT-02's (None when the clause is off), `sensitive`: CHAT-04's
    parameters (None when it is off), `departed`: the userids of `departed_accounts` on the day."""
    return text_may_be_read(terms=terms, patterns=patterns, sensitive=sensitive) | record_may_be_read(
        columns, departed=departed)


def texts_repeat(texts: pl.Series) -> bool:
    """Whether `texts` repeat enough for `kept_messages` to normalise distinct texts only."""
    sample = texts.head(_SAMPLE_ROWS)
    return sample.len() > 0 and sample.hash(seed=0).n_unique() <= _DISTINCT_SHARE * sample.len()


def _text_keys(texts: pl.Series) -> pl.Series:
    return texts.hash(seed=0)


class TextVerdicts:
    """The distinct texts a day's earlier slices normalised and tested (`_key`, `_text`,
    `text_norm`, `_keep`), shared by the slices of one day (a busy day repeats its texts across
    slices: the 10M bench day's twenty slices each held the same ~1,600 texts, normalised and
    tested twenty times). Safe across the asset's slice threads; kept up to `limit` texts."""

    def __init__(self, limit: int = _KNOWN_TEXTS):
        self._lock = threading.Lock()
        self._frame: pl.DataFrame | None = None
        self.limit = limit

    def frame(self) -> pl.DataFrame | None:
        with self._lock:
            return self._frame

    def add(self, fresh: pl.DataFrame) -> None:
        with self._lock:
            if self._frame is None:
                self._frame = fresh.head(self.limit)
            elif self._frame.height < self.limit:
                # a key the table has keeps its text (two slices may normalise one text at once)
                fresh = fresh.filter(~pl.col("_key").is_in(self._frame["_key"].implode()))
                self._frame = pl.concat([self._frame, fresh.head(self.limit - self._frame.height)])


def _judged(texts: pl.DataFrame, text_test: pl.Expr) -> pl.DataFrame:
    return texts.with_columns(normalise(texts["_text"]).alias("text_norm")).with_columns(text_test.alias("_keep"))


def _verdicts(texts: pl.DataFrame, text_test: pl.Expr, known: TextVerdicts | None) -> pl.DataFrame:
    """`texts` (`_key`, `_text`: distinct keys) with `text_norm` and `_keep`; a text `known` holds
    under the same key (compared as text, so a hash shared with another slice's text is
    normalised here) is taken from it, the others are normalised and tested and added to it."""
    seen = known.frame() if known is not None else None
    if seen is None:
        out = _judged(texts, text_test)
        if known is not None:
            known.add(out)
        return out
    both = texts.join(seen.rename({"_text": "_seen"}), on="_key", how="left")
    hit = both["_keep"].is_not_null() & both["_seen"].eq_missing(both["_text"])  # `_keep` is null when unmatched
    missing = both.filter(~hit).select("_key", "_text")
    if missing.height == 0:
        return both.select("_key", "_text", "text_norm", "_keep")
    fresh = _judged(missing, text_test)
    known.add(fresh)
    return pl.concat([both.filter(hit).select(fresh.columns), fresh])


def kept_messages(messages: pl.DataFrame, *, text_test: pl.Expr, record_test: pl.Expr,
                  distinct: bool | None = None, known: TextVerdicts | None = None) -> pl.DataFrame:
    """`prepare_messages(messages)` filtered on `text_test | record_test` (`text_test` reads
    `text_norm` only, `record_test` the other columns). With `distinct` (default: when
    `texts_repeat`), each distinct text is normalised and tested once (once a day with `known`,
    which the day's slices share) and the results joined back to its rows by a 64-bit hash of
    the text; a slice where two texts share a hash goes down the direct path."""
    if distinct is None:
        distinct = texts_repeat(messages["text"])
    if not distinct:
        part = prepare_messages(messages)
        return part.filter(text_test | record_test)
    part = messages.select([c for c in MESSAGE_COLUMNS if c in messages.columns])  # prepare_messages' columns
    keys = _text_keys(part["text"])
    first = keys.is_first_distinct()
    texts = pl.DataFrame({"_key": keys.filter(first), "_text": part["text"].filter(first)})
    # as many distinct hashes as distinct texts (null counted on both sides), or a collision: the
    # exact path. Then a row's verdict is its key's, looked up with `is_in` among the kept keys
    # (joining every row's key to its text and comparing the texts row by row cost ~0.6 CPU s of
    # a 10M-message day; counting the distinct texts ~0.2)
    if part["text"].n_unique() != texts.height:
        return kept_messages(messages, text_test=text_test, record_test=record_test, distinct=False)
    texts = _verdicts(texts, text_test, known)
    keep = keys.is_in(texts.filter(pl.col("_keep"))["_key"].implode()) | part.select(
        record_test.alias("_record")).to_series()
    kept = part.with_columns(keys.alias("_key")).filter(keep)
    return kept.join(texts.select("_key", "text_norm"), on="_key", how="left", maintain_order="left").drop("_key")
