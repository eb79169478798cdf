"""The bodies of WeCom archive messages (`formats/wecom_archive.py`): which fields carry text and
URLs, and `rich_content`, the `text` and `urls` of records decoded in full.

A body sits under a key that is usually the msgtype (see the archive module's docstring);
`mixed` and `chatrecord` items hold their own body as a JSON-encoded string.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from .jsontools import nonempty

S = pl.String


def _st(**fields: pl.DataType) -> pl.Struct:
    return pl.Struct(fields)


_ITEMS = pl.List(_st(type=S, content=S))  # mixed / chatrecord items: content is a JSON string

# Only what is staged is declared; other fields of the record are ignored by the decoder.
BODIES: dict[str, pl.Struct] = {
    "text": _st(content=S),
    "link": _st(title=S, description=S, link_url=S),
    "weapp": _st(title=S, description=S),
    "file": _st(filename=S),
    "voip_doc_share": _st(filename=S),
    "doc": _st(title=S, link_url=S),
    "info": _st(content=S, filename=S, item=pl.List(_st(title=S, description=S, url=S))),
    "mixed": _st(item=_ITEMS),
    "chatrecord": _st(title=S, item=_ITEMS),
    "collect": _st(title=S, details=pl.List(_st(ques=S))),
    "calendar": _st(title=S, place=S, remarks=S),
    "meeting": _st(topic=S, address=S, remarks=S),
    "location": _st(title=S, address=S),
    "redpacket": _st(wish=S),
    "sphfeed": _st(sph_name=S, feed_desc=S),
    "todo": _st(title=S, content=S),
    "vote": _st(votetitle=S, voteitem=pl.List(S)),
    "meeting_voice_call": _st(demofiledata=pl.List(_st(filename=S))),
    "revoke": _st(pre_msgid=S),
}

# Text-bearing paths, in the order they are joined: (body, field); a list field is flattened.
_TEXT_FIELDS = [
    ("text", "content"), ("link", "title"), ("link", "description"), ("weapp", "title"),
    ("weapp", "description"), ("file", "filename"), ("voip_doc_share", "filename"), ("doc", "title"),
    ("info", "content"), ("info", "filename"), ("chatrecord", "title"), ("collect", "title"),
    ("calendar", "title"), ("calendar", "place"), ("calendar", "remarks"), ("meeting", "topic"),
    ("meeting", "address"), ("meeting", "remarks"), ("location", "title"), ("location", "address"),
    ("redpacket", "wish"), ("sphfeed", "sph_name"), ("sphfeed", "feed_desc"), ("todo", "title"),
    ("todo", "content"), ("vote", "votetitle"),
]
# inside an item's JSON-encoded body: text (`content`), link (`title`, `description`), file, doc
_ITEM_TEXT = ("$.content", "$.title", "$.description", "$.filename")
_ITEM_URLS = ("$.link_url", "$.url")


def body_field(body: str, field: str) -> pl.Expr:
    return pl.col(body).struct.field(field)


def given_text(s: pl.Expr) -> pl.Expr:
    return pl.when(s != "").then(s)


# `mixed` and `chatrecord` items, adjacent in both lists below: one explode and one parse per
# path of their items together (a row's mixed items first), not one per body (half the branches
# of the query; a block's rich rows carry both bodies).
_ITEM_BODIES = ("mixed", "chatrecord")

# List-valued bodies, as (body, list, item field or None, JSON paths inside a JSON-encoded item
# or None), in the order their strings join the text. They are exploded to one row per item
# rather than evaluated per row (`list.eval`), which is ~50x slower on this shape.
_LIST_TEXT = [
    ("info", "item", "title", None), ("info", "item", "description", None),
    (_ITEM_BODIES, "item", "content", _ITEM_TEXT),
    ("collect", "details", "ques", None), ("vote", "voteitem", None, None),
    ("meeting_voice_call", "demofiledata", "filename", None),
]
_URL_FIELDS = [("link", "link_url"), ("doc", "link_url")]
_LIST_URLS = [("info", "item", "url", None), (_ITEM_BODIES, "item", "content", _ITEM_URLS)]


def _may_hold(item: pl.Expr, path: str) -> pl.Expr:
    """Whether a JSON-encoded item can hold `path` ("$.key"): its text spells the key, or holds an
    escape (a key may be written with \\u escapes). Only such items are parsed for the path: a
    parse per path and item was most of the cost of mixed and chatrecord bodies. A regex
    alternation of the two literals: cheaper than `contains_any` (`rich_content` on the 1M bench
    day's rich rows 0.50-0.56 -> 0.45-0.50 CPU s, one thread)."""
    return item.str.contains(re.escape(f'"{path.removeprefix("$.")}"') + r"|\\u")


# The query's expressions are the same every block: built once (a block's query is still built)
_LISTED = pl.col("_v").list.len() > 0


@lru_cache(maxsize=None)
def _field_expr(body: str, field: str | None, alias: str) -> pl.Expr:
    col = pl.col("_v") if body == "_v" else pl.col(body)
    return (col if field is None else col.struct.field(field)).alias(alias)


@lru_cache(maxsize=None)
def _path_exprs(q: int, path: str) -> tuple[pl.Expr, ...]:
    """(filter, then selection) of an item's JSON path number `q`."""
    return (_may_hold(pl.col("_c"), path),
            (pl.col("_r"), pl.lit(q, pl.UInt8).alias("_q"), pl.col("_i"), pl.col("_c").str.json_path_match(path).alias("value")))


def _list_strings(typed: pl.LazyFrame, present: set[str], specs: list,
                  scalars: list[tuple[str, str]] = ()) -> pl.LazyFrame | None:
    """(`_i` row index, `value`): every non-empty string the list bodies of a row carry (after
    the `scalars` fields, if any); a row's strings are in order among themselves (frames are
    concatenated in join order and an aggregation keeps the order within a group, so nothing is
    sorted). None if no row carries any of them."""
    frames = [typed.select("_i", _field_expr(body, field, "value")) for body, field in scalars if body in present]
    for body, lst, field, paths in specs:
        # several bodies' items: concatenated after the explode, body by body (their strings join
        # a row's text in that order as before: `_r` numbers the items in that order)
        if not (bodies := [b for b in (body if isinstance(body, tuple) else (body,)) if b in present]):
            continue
        items = pl.concat([typed.select("_i", _field_expr(b, lst, "_v")).filter(_LISTED).explode("_v") for b in bodies])
        if paths is None:
            frames.append(items.select("_i", _field_expr("_v", field, "value")))
        else:  # an item's paths in order (`_r` numbers the items in row order)
            items = items.select("_i", _field_expr("_v", field, "_c")).with_row_index("_r")
            found = [items.filter(may).select(*sel) for may, sel in (_path_exprs(q, p) for q, p in enumerate(paths))]
            frames.append(pl.concat(found).sort("_r", "_q").select("_i", "value"))
    if not frames:
        return None
    return pl.concat(frames).filter(pl.col("value").is_not_null() & (pl.col("value") != ""))


def _present(typed: pl.DataFrame) -> set[str]:
    """The bodies some row of `typed` carries: the others add nothing to any row's text or URLs
    (a block's rows decoded in full carry a handful of the 19 bodies)."""
    counts = typed.select(pl.col(b).null_count() for b in BODIES if b in typed.columns).row(0, named=True)
    return {b for b, nulls in counts.items() if nulls < typed.height}


@lru_cache(maxsize=256)  # built once per set of bodies: ~80 expression objects, ~1 ms a block
def _text(present: frozenset[str]) -> pl.Expr:
    # concat_str of per-part strings: an order of magnitude faster than concat_list + join
    parts = [given_text(body_field(b, f)) for b, f in _TEXT_FIELDS if b in present]
    if not parts:  # a column, not a literal: `select` would give one row
        return pl.repeat(None, pl.len(), dtype=S)
    # "" (no part) is made null by the caller, on the column: `given_text` of this expression
    # evaluates it twice (the 1M bench day's rich rows: 0.12 CPU s more)
    return pl.concat_str(parts, separator="\n", ignore_nulls=True)


def rich_content(decoded: pl.DataFrame, revoked: bool = False) -> pl.DataFrame:
    """`text` and `urls` (and with `revoked`, `revoked_msgid`) of fully decoded records (`_j`):
    every body's text, in body order. One lazy query: a block's few thousand rich rows are cheap,
    the overhead of some 60 eager operations on them was not (half the CPU of this step)."""
    typed = decoded.unnest("_j")
    present = _present(typed)
    lazy = typed.lazy().with_row_index("_i")
    out = lazy.select(
        "_i", _text(frozenset(present)).alias("text"),
        *((nonempty(body_field("revoke", "pre_msgid")).alias("revoked_msgid"),) if revoked else ()),
    ).with_columns(given_text(pl.col("text")))  # each concatenation a column first (see `_text`)
    urls = pl.lit([], pl.List(S))
    if (texts := _list_strings(lazy, present, _LIST_TEXT)) is not None:
        texts = texts.group_by("_i").agg(pl.col("value").str.join("\n").alias("_lt"))
        out = out.join(texts, on="_i", how="left", maintain_order="left").with_columns(
            pl.concat_str(["text", "_lt"], separator="\n", ignore_nulls=True).alias("text")
        ).with_columns(given_text(pl.col("text")))
    if (listed := _list_strings(lazy, present, _LIST_URLS, _URL_FIELDS)) is not None:
        listed = listed.group_by("_i").agg(pl.col("value").alias("_lu"))
        out = out.join(listed, on="_i", how="left", maintain_order="left")
        urls = pl.col("_lu").fill_null([])
    # the in-memory engine: polars 2's default (streaming) costs a third more on a block's rich rows
    return out.select("text", urls.alias("urls"), *(("revoked_msgid",) if revoked else ())).collect(engine="in-memory")
