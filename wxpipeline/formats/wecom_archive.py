"""企业微信会话内容存档: decrypted archive messages, one JSON object a line (`wecom_archive/*.jsonl`).

Envelope (doc 91774): `msgid, action (send|recall|switch), from, tolist, roomid ("" for
one-to-one, absent in some types), msgtime (ms, UTC), msgtype`, and the body under a key that
is usually the msgtype but not always: `docmsg`→`doc`, `markdown`/`news`/`qydiskfile`→`info`,
`external_redpacket`→`redpacket`. `switch` records carry `time` (ms) and `user` instead and no
msgtype. `mixed` and `chatrecord` items hold their own body as a JSON-encoded *string*. Some
numbers (meeting ids, file sizes) exceed int64: every leaf but the times is decoded as text, so
nothing is rounded and nothing overflows (`msgtime`/`time` are read as integers first, and a block
holding a time that is not an int64 is read again with them as text).

Older SDK wrappers write `msgtime` in seconds: a value below 1e11 is taken as seconds (decided
per value, counted in the parse meta); a time before 1970 or after 2100 is quarantined, as is a
NUL character in an id. Lines in GB18030 rather than UTF-8 are decoded, not rejected.

Output: one row per message with the envelope and one `text` column holding every
human-readable text the message carries, in body order, joined with newlines, so that the
content rules read one column whatever the msgtype. Structured URLs go to `urls`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from itertools import chain
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from .common import ParseResult, Reject
from .jsontools import Block, block_lines, decode_json, read_blocks, read_ndjson_block
from .schemas import SCHEMAS
from .wecom_bodies import BODIES, rich_content
from .wecom_recipients import (DISTINCT_TOLISTS_MAX, TOLIST_SENTINEL, TolistCache, decode_recipients, sentinel_read,
                               split_tolists)
from .wecom_rows import stage_rows

S = pl.String


# the line-isolating path decodes whole records (every leaf as text)
RECORD = pl.Struct({
    "msgid": S, "action": S, "from": S, "tolist": pl.List(S), "roomid": S, "msgtime": S, "msgtype": S,
    "time": S, "user": S, **BODIES,
})
SCHEMA = pl.Schema(SCHEMAS["wecom_messages"])  # the staged table's columns (formats/schemas.py)


# The fast path's schema: the envelope and the text body most rows carry. Whether a row carries
# any other body is read from its msgtype (a rich body's type) or else from its line (a JSON token
# `"link"` etc.): declaring the other bodies to the reader, even as presence-only structs, more
# than doubles its cost (`revoke`, on ~1% of rows, cost the reader 7%). A token found inside a
# text (rare: a string value equal to a body key), or a rich type without its body, only sends
# that row to the full decode.
ENVELOPE = pl.Schema({
    "msgid": S, "action": S, "from": S, "tolist": pl.List(S), "roomid": S, "msgtime": S, "msgtype": S,
    "time": S, "user": S, "text": BODIES["text"],
})
# Times read as integers first: formatting every number as text was a fifth of the reader's cost.
# The reader refuses a block holding any other time (a float, a string, beyond int64): that block
# is read again with the times as text, which is what `as_int` then parses.
ENVELOPE_INT_TIMES = pl.Schema({**ENVELOPE, "msgtime": pl.Int64, "time": pl.Int64})


def _envelope(int_times: bool, tolist: pl.DataType) -> pl.Schema:
    """The reader's schema: times as integers or as text, `tolist` as a list or, read where
    `split_tolists` replaced each array, as `TOLIST_SENTINEL` (an Int64)."""
    return pl.Schema({**(ENVELOPE_INT_TIMES if int_times else ENVELOPE), "tolist": tolist})


def _read_envelope(block: Block, tolist: pl.DataType, data: bytes | None = None) -> pl.DataFrame | None:
    """`read_ndjson_block` of the block (or of `data`, its lines with the arrays replaced), the times as
    integers, else as text; None if the reader refuses both."""
    flat = read_ndjson_block(block, _envelope(True, tolist), data)
    return flat if flat is not None else read_ndjson_block(block, _envelope(False, tolist), data)


_RICH = [b for b in BODIES if b != "text"]
# A rich row's envelope is already read (with the same types): its full decode reads the bodies
# only (decoding `tolist` again, a list, was half the cost of that decode).
BODIES_ONLY = pl.Struct(BODIES)
_RICH_TOKENS = [f'"{b}"' for b in _RICH]
# A NUL in a string reaches the fast path as this escape (a raw NUL byte fails the reader).
NUL_ESCAPE = "\\u0000"
_RICH_SCAN = [*_RICH_TOKENS, NUL_ESCAPE]
# The same search as a regex alternation of the literal tokens (a match exactly when one of them
# occurs): on the 1M bench day's lines the regex engine took 0.22-0.24 CPU s where `contains_any`
# took 0.78-0.89 (one thread).
_RICH_PATTERN = "|".join(map(re.escape, _RICH_SCAN))
# the msgtypes of the rich bodies: their names and those whose body key differs (module docstring)
_RICH_TYPES = [*_RICH, "docmsg", "markdown", "news", "qydiskfile", "external_redpacket"]

PARSE_THREADS_MAX = 4


def _stripped_lines(block: Block, data: bytes, texts: pl.Series, replaced: np.ndarray) -> pl.Series | None:
    """The block's lines as `split_tolists` left them for the reader (`data`: each replaced
    `tolist` array, `texts`, one a line, is the sentinel), line endings kept, as a zero-copy Arrow
    array over `data`; None if their lengths do not add up to `data`'s (they always should).
    Once the reader took `data` and `sentinel_read` and `decode_recipients` took the arrays (each
    cut was its line's top-level `tolist`, a whole JSON array), such a line holds the same bodies,
    byte for byte, as the line as written: a body's decode from it is the same, for about half
    the bytes (the arrays) less to parse."""
    starts = block.starts
    lengths = np.diff(np.append(starts[:-1], len(block.data)))
    cut = texts.str.len_bytes().fill_null(0).cast(pl.Int64).to_numpy() - len(str(TOLIST_SENTINEL))
    offsets = np.concatenate(([0], np.cumsum(lengths - np.where(replaced, cut, 0))))
    if offsets[-1] != len(data):
        return None
    return pl.from_arrow(pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data)))


def _with_lines(rejects: list[Reject], block: Block, lines: pl.Series) -> list[Reject]:
    """`rejects` of the block's rows with each one's line as written (line ending removed)."""
    at = np.array([r.line - block.first_line for r in rejects], dtype=np.int64)
    raw = lines.gather(at).str.strip_suffix("\n").str.strip_suffix("\r").to_list()
    return [replace(r, raw=text) for r, text in zip(rejects, raw)]


def _fast_block(block: Block, file: str, tolist_text: bool = True,
                mode: dict | None = None) -> tuple[pl.DataFrame, list[Reject]] | None:
    """Stage one block through polars' NDJSON reader: the envelope and text body of every row;
    rows carrying another body (~13–16 % of the demo mix; found by their msgtype or a body key in
    their line) are decoded in full from their lines.
    None if the block needs the line-isolating path. With `tolist_text`, the reader reads the block
    with its `tolist` arrays cut out and their texts' distinct values are decoded
    (`split_tolists`, `decode_recipients`); a block that cannot take that is read again with
    `tolist` as a list. `mode["tolist_text"]` is cleared
    when the block's lists are mostly distinct (`DISTINCT_TOLISTS_MAX`)."""
    split = None  # `split_tolists` of the block, if the reader read it so
    in_arrays = None  # which rows' `tolist` arrays hold a match of `_RICH_PATTERN` (None: no row's)
    if tolist_text:
        # only byte searches until the bytes are known to be UTF-8 (the arrays' by `split_tolists`,
        # the rest by the reader); a line ending is JSON whitespace. A block the reader refuses (a
        # bad line) is read twice more, with `tolist` as a list, before the line-isolating path.
        lines = block.lines(strip=False, utf8=True)
        split = split_tolists(block, lines)
        flat = None if split is None else _read_envelope(block, pl.Int64, split[0])
        recipients, distinct = None, 0
        if flat is not None:
            _, texts, replaced = split
            if flat.height != len(texts):  # blank lines are no rows
                texts, replaced = texts.gather(flat["_line"]), replaced[flat["_line"].to_numpy()]
            if sentinel_read(flat["tolist"], replaced):
                recipients, distinct, in_arrays = decode_recipients(
                    texts, None if mode is None else mode.get("tolists"), _RICH_PATTERN)
        if mode is not None and flat is not None and distinct > DISTINCT_TOLISTS_MAX * flat.height:
            mode["tolist_text"] = False
        if recipients is None:
            return _fast_block(block, file, tolist_text=False)
        flat = flat.drop("tolist").with_columns(recipients)
    else:
        flat = _read_envelope(block, pl.List(S))
        if flat is None:
            return None
        lines = block.lines(strip=False, utf8=True)  # the reader took the block; line endings are JSON whitespace
    # Rich rows are decoded from the lines without their arrays if the reader read those
    # (`_stripped_lines`: the 1M bench day's rich rows 0.76-0.96 -> 0.49-0.59 CPU s, making those
    # lines 0.07), else from the lines; a line ending is JSON whitespace.
    stripped = None if split is None else _stripped_lines(block, *split)
    scanned = lines if stripped is None else stripped
    # A row is rich by its msgtype or by a body key in its line, searched for in the same scan as
    # the NUL escape (such a line is decoded in full too: it adds nothing then). A typed row without
    # its body, or a line with the escape, stages the same either way. The lines without their
    # arrays are scanned (every one: no gather), the arrays by their distinct texts
    # (`decode_recipients`): a third fewer bytes, ~0.15 CPU s per million less than scanning the
    # lines as written.
    found = scanned.str.contains(_RICH_PATTERN)
    if len(found) != flat.height:  # blank lines are no rows
        found = found.gather(flat["_line"])
    rich = flat["msgtype"].is_in(_RICH_TYPES).fill_null(False) | found
    if in_arrays is not None:
        rich = rich | in_arrays
    flat = flat.with_columns(rich.alias("_rich"), _obj=pl.lit(True), raw=pl.lit(None, S))
    # A NUL in an id: a raw NUL byte (memchr over the block's bytes, 3x cheaper than over the
    # lines), or the escape in a rich row's line (searched in the lines gathered for the decode)
    # or in an array (any array match: the rows' reasons then look for a NUL exactly).
    has_nul = b"\x00" in block.data or in_arrays is not None
    rich_at = flat.select(pl.col("_line").filter(pl.col("_rich"))).to_series().to_numpy()
    raw = scanned.gather(rich_at)
    if not has_nul and len(rich_at):
        has_nul = raw.str.contains(NUL_ESCAPE, literal=True).any()
    staged, rejects = stage_rows(flat, file, keep=("_line", "_rich"), nul=has_nul)
    if rejects:  # the reader kept no line: a quarantined row carries it, as on the line-isolating path
        rejects = _with_lines(rejects, block, lines)
        rich_at = staged.select(pl.col("_line").filter(pl.col("_rich"))).to_series().to_numpy()  # rows were dropped
        raw = scanned.gather(rich_at)
    if len(rich_at):
        try:
            decoded = raw.to_frame("raw").select(pl.col("raw").str.json_decode(BODIES_ONLY).alias("_j"))
        except pl.exceptions.PolarsError:
            return None  # a body of the wrong shape: let the slow path name its line
        content = rich_content(decoded, revoked=True)
        # Written into the rich rows' places: text and revoked_msgid by position (scatter), urls
        # (a list: no scatter) as the content of the row's rank among the rich rows, and elsewhere
        # an empty list appended to them (a gather without nulls: ~0.03 CPU s per million less than
        # filling them). ~0.05 CPU s per million less than a when/then over every row.
        at = np.flatnonzero(staged["_rich"].to_numpy())
        rank = staged.select(
            pl.when(pl.col("_rich")).then(pl.col("_rich").cum_sum() - 1).otherwise(content.height)).to_series()
        urls = pl.concat([content["urls"], pl.Series([[]], dtype=content["urls"].dtype)], rechunk=True)
        staged = staged.with_columns(
            staged["text"].scatter(at, content["text"]),
            staged["revoked_msgid"].scatter(at, content["revoked_msgid"]),
            urls.gather(rank).alias("urls"),
        )
    return staged.select(*SCHEMA, "_in_seconds"), rejects


def _slow_block(data: bytes, first_line: int, file: str, recoded: list[int]) -> tuple[pl.DataFrame, list[Reject]]:
    """The line-isolating path: lines decoded one block at a time (GB18030 lines recoded, lines
    in no encoding rejected), a JSON decode bisected down to the bad lines."""
    lines, bad_bytes = block_lines(data, first_line, file, "gb18030", recoded)
    decoded, bad_json = decode_json(lines, RECORD, file)
    flat = decoded.with_columns(pl.col("_j").is_not_null().alias("_obj"), _i=pl.int_range(pl.len()))
    staged, bad_values = stage_rows(flat.unnest("_j"), file, keep=("_i",))
    content = rich_content(decoded.select("_j")).with_row_index("_i")
    staged = staged.drop("text", "urls").join(content, on="_i", how="left", maintain_order="left")
    return staged.select(*SCHEMA, "_in_seconds"), bad_bytes + bad_json + bad_values


def _parse_block(data: bytes, first_line: int, newlines: np.ndarray, file: str,
                 mode: dict | None = None) -> tuple[pl.DataFrame, list[Reject], bool, int]:
    """(staged rows, rejects, whether the slow path was taken, lines recoded from GB18030) of one
    block (`newlines`: the offsets of its newlines; `mode`: the file's, see `_fast_block`)."""
    mode = {"tolist_text": True} if mode is None else mode
    staged = _fast_block(Block(data, first_line, newlines), file, mode["tolist_text"], mode)
    if staged is not None:
        return *staged, False, 0
    recoded: list[int] = []
    return *_slow_block(data, first_line, file, recoded), True, len(recoded)


def parse_threads() -> int:
    """Blocks parsed at once: polars releases the GIL for most of a block's work, so one block per
    core (capped: each block in flight holds a few hundred MB at its peak)."""
    return max(1, min(PARSE_THREADS_MAX, pl.thread_pool_size()))


def _parsed_blocks(path: Path | str, file: str) -> Iterator[tuple[pl.DataFrame, list[Reject], bool, int]]:
    """`_parse_block` of each block, in file order: in a small thread pool, at most
    `parse_threads() + 2` blocks ahead of the one yielded (those beyond the threads wait as their
    16 MB of bytes); a file of one block (a small file) is parsed in the calling thread, without a
    thread to start and hand over to."""
    blocks = read_blocks(path, newlines=True)
    first = next(blocks, None)
    second = next(blocks, None) if first is not None else None
    if second is None:
        if first is not None:
            yield _parse_block(*first, file)
        return
    blocks = chain((first, second), blocks)
    threads = parse_threads()
    mode = {"tolist_text": True, "tolists": TolistCache()}  # shared by the file's blocks (threads)
    pending: deque[Future] = deque()

    def submit() -> None:  # the next block, if any, to the pool
        if (block := next(blocks, None)) is not None:
            pending.append(pool.submit(_parse_block, *block, file, mode))

    with ThreadPoolExecutor(threads, thread_name_prefix="wecom-archive") as pool:
        try:
            # Two blocks queued beyond the threads, and the next one queued before the consumer
            # writes the block it is handed: a thread that finishes finds its next block read.
            # Refilled after the write with one queued, a thread waited for the read (~15 ms) and
            # the write (~20 ms): 0.3-0.4 s of 29 blocks' 1M messages, ~0.1 s with one queued
            # before the write, none with two (two threads, load 4-6).
            for _ in range(threads + 2):
                submit()
            while pending:
                done = pending.popleft().result()
                submit()
                yield done
        finally:  # a consumer that stops early (or a failed block) leaves no work queued
            for future in pending:
                future.cancel()


def iter_wecom_archive(path: Path | str, rejects: list[Reject], meta: dict) -> Iterator[pl.DataFrame]:
    """`parse_wecom_archive` one block at a time, in file order (bounded memory: the caller writes
    each block out); `rejects` and `meta` are filled as the blocks go by. Blocks are parsed in a
    small thread pool (`_parsed_blocks`)."""
    file = str(path)
    meta.update(records=0, msgtime_in_seconds=0, gb18030_lines=0, slow_blocks=0)
    with closing(_parsed_blocks(path, file)) as parsed:  # closed at once if the consumer stops early
        for frame, bad, slow, recoded in parsed:
            meta["slow_blocks"] += slow
            meta["records"] += frame.height + len(bad)
            meta["msgtime_in_seconds"] += int(frame["_in_seconds"].sum())
            meta["gb18030_lines"] += recoded
            rejects += bad
            yield frame.drop("_in_seconds").match_to_schema(SCHEMA)


def parse_wecom_archive(path: Path | str) -> ParseResult:
    """Parse one decrypted archive file (JSON lines).

    Columns: msgid, action (send|recall|switch), sender (`from`, or `user` of a switch),
    recipients (`tolist` as one canonical JSON array text, `[]` for none: see
    `wecom_recipients`), roomid (null for one-to-one), sent_at Datetime(us,
    Asia/Shanghai) from msgtime/time (ms UTC; a value below 1e11 is taken as seconds, counted in
    meta `msgtime_in_seconds`), msgtype (`switch` for switch records), text (every
    human-readable text, newline-joined; null if none), urls List[String] (link, doc, news and
    item URLs), revoked_msgid (a revoke's pre_msgid), source_file, source_line.

    Blocks go through polars' NDJSON reader; a block it refuses (a bad line, a body of the wrong
    shape, bytes that are not UTF-8) is re-read line by line so that only its bad lines are
    quarantined. Lines in GB18030 are decoded (meta `gb18030_lines`), not rejected.
    """
    rejects: list[Reject] = []
    meta: dict = {}
    frames = list(iter_wecom_archive(path, rejects, meta))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    rejects.sort(key=lambda r: r.line)
    return ParseResult(frame=frame, rejects=rejects, meta=meta)
