"""Finding links in messages, shared by CHAT-03 (`chat_01_03_05_content.py`) and the prefilters:
the cheap tests a day's messages pass through first, then the links themselves (structured `urls`
and links written in the text) with their host and path.

`text_mask` evaluates a test that reads one text column once per distinct text when a day's texts
repeat (CHAT-02, CHAT-03 and CHAT-04 use it).
"""

from __future__ import annotations

import polars as pl

from wxpipeline.checks.textnorm import fold_width

# A link in text: with a scheme, `www.`, or a bare host (name or IPv4) followed by a path. Chinese
# characters and CJK punctuation end it (links are usually written straight into a sentence).
_URL_END = r"\s<>\"'`\p{Han}。、「」『』【】《》〈〉（）“”‘’…"
URL_IN_TEXT = (
    rf"(?i)(?:[a-z][a-z0-9+.\-]*://[^{_URL_END}]+"
    rf"|www\.[^{_URL_END}]+"
    rf"|(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{{2,}}(?::[0-9]{{1,5}})?/[^{_URL_END}]*"
    rf"|(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}}(?::[0-9]{{1,5}})?/[^{_URL_END}]*)"
)


def _link_in_text(columns: list[str]) -> pl.Expr:
    """The cheap test on every message for a link in its text: on the normalised text
    (width-folded) if the frame has it."""
    on = pl.col("text_norm") if "text_norm" in columns else fold_width(pl.col("text").fill_null(""))
    return on.str.contains(r"(?i)://|www\.|[a-z0-9]\.[a-z0-9]+(?::[0-9]+)?/").fill_null(False)


def _repeat(texts: pl.Series) -> bool:
    from wxpipeline.checks.chat_prefilter import texts_repeat  # (it imports this module)

    return texts_repeat(texts)


def text_mask(frame: pl.DataFrame, test: pl.Expr, on: str) -> pl.Series:
    """`frame.select(test)` for a boolean `test` (never null) that reads column `on` only: evaluated
    once per distinct value of `on` when the values repeat (a busy day's link-like texts: the
    10M bench day's 438k link candidates hold 128 texts), the rows then matched to the values
    that passed (`is_in`, compared as text)."""
    values = frame[on]
    if not _repeat(values):
        return frame.select(test.alias("_test")).to_series()
    distinct = values.unique().to_frame()
    return values.is_in(distinct.filter(test)[on].implode(), nulls_equal=True).alias("_test")


def _has_urls(columns: list[str]) -> pl.Expr:
    return (pl.col("urls").list.len() > 0).fill_null(False) if "urls" in columns else pl.lit(False)


def may_hold_links(columns: list[str]) -> pl.Expr:
    """The messages `extract_links` can find a link in (a structured url or a link-like text);
    the others yield no link."""
    return _link_in_text(columns) | _has_urls(columns)


def might_hold_links(columns: list[str]) -> pl.Expr:
    """A cheap superset of `may_hold_links` for a first pass over the day: every link-like text
    holds `://` or a `.` (a literal search, a fifth of the link regex's cost over Chinese text)."""
    return might_hold_link_text(columns) | _has_urls(columns)


def might_hold_link_text(columns: list[str]) -> pl.Expr:
    """The text half of `might_hold_links` (a function of the text alone)."""
    on = pl.col("text_norm") if "text_norm" in columns else fold_width(pl.col("text").fill_null(""))
    return on.str.contains_any(["://", "."]).fill_null(False)


def extract_links(msgs: pl.DataFrame) -> pl.DataFrame:
    """(msgid, url, host, path): every link of each message, structured (`urls`) or in its text."""
    links = link_urls(msgs)
    return links.join(url_parts(links.select("url").unique()), on="url", how="left", maintain_order="left")


def link_urls(msgs: pl.DataFrame) -> pl.DataFrame:
    """(msgid, url): `extract_links` without host and path."""
    text = fold_width(pl.col("text").fill_null(""))
    # the columns first: an eager filter copies every column it is given (the 10M bench day's
    # CHAT-03: 438k messages with a structured url, 891 with a link in their text)
    on = "text_norm" if "text_norm" in msgs.columns else "text"  # what `_link_in_text` reads
    texts = msgs.select(*dict.fromkeys(["msgid", "text", on]))
    in_text = (
        texts.filter(text_mask(texts, _link_in_text(texts.columns), on))
        .select("msgid", text.str.extract_all(URL_IN_TEXT).alias("url"))
        .explode("url")
    )
    structured = (
        msgs.select("msgid", pl.col("urls").alias("url")).filter(pl.col("url").list.len() > 0)
        .explode("url")
        if "urls" in msgs.columns else pl.DataFrame(schema={"msgid": pl.String, "url": pl.String})
    )
    links = (
        pl.concat([structured, in_text])
        .filter(pl.col("url").is_not_null() & (pl.col("url") != ""))
        .with_columns(pl.col("url").str.strip_chars().str.strip_chars_end(".,;:!?)]}'\""))
        .unique(["msgid", "url"], maintain_order=True)
    )
    return links


def url_parts(urls: pl.DataFrame) -> pl.DataFrame:
    """(url, host, path) for each row of `urls` (distinct urls: a day's links repeat many)."""
    rest = (pl.col("url").str.to_lowercase().str.replace(r"^[a-z][a-z0-9+.\-]*://", "")
            .str.replace(r"^[^/?#@]*@", ""))
    return urls.select("url").with_columns(
        rest.str.extract(r"^(\[[^\]]*\]|[^/?#:]*)", 1).str.strip_chars_end(".").alias("host"),
        rest.str.extract(r"^(?:\[[^\]]*\]|[^/?#]*)(/[^?#]*)", 1).fill_null("").alias("path"),
    )


def _suffix_match(hosts: list[str]) -> pl.Expr:
    """Per host: it or one of its parent domains is in `hosts` (needs `_suffixes`)."""
    if not hosts:
        return pl.lit(False)
    return pl.col("_suffixes").list.eval(pl.element().is_in(hosts)).list.any()
