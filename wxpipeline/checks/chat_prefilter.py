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
"""

from __future__ import annotations

from typing import Sequence

import polars as pl

from wxpipeline.checks.chat_01_03_05_content import might_hold_links
from wxpipeline.checks.chat_04_sensitive_data import SensitiveData, may_be_sensitive
from wxpipeline.checks.wordlists import combined_pattern, compiled_terms, contains_any_of


def term_patterns(word_lists: pl.DataFrame) -> list[str]:
    """The normalised terms of every list, as `term_rows` searches them."""
    terms = compiled_terms(word_lists, word_lists["category"].unique().to_list())
    return sorted(set(terms["pattern"]))


def rules_may_read(columns: Sequence[str], *, terms: Sequence[str], departed: Sequence[str],
                   patterns: dict[str, str] | None = None,
                   sensitive: SensitiveData | None = None) -> pl.Expr:
    """True for the rows (with `text_norm`) that a message rule can report or must read: see the
    module doc. `patterns`: CHAT-02's (None when the clause is off), `sensitive`: CHAT-04's
    parameters (None when it is off), `departed`: the userids of `departed_accounts` on the day."""
    norm = pl.col("text_norm")
    keep = might_hold_links(list(columns)) | pl.col("sender").is_in(pl.Series(list(departed), dtype=pl.String).implode())
    if terms:
        keep = keep | contains_any_of(norm, terms).fill_null(False)
    if patterns:
        keep = keep | norm.str.contains(combined_pattern(patterns)).fill_null(False)
    if sensitive is not None:
        keep = keep | may_be_sensitive(sensitive)
    return keep.fill_null(False)
