"""JSON machinery shared by the WeCom formats: JSON-lines files read in blocks.

A JSONL file is read in blocks of about `CHUNK_BYTES`, cut after the last newline. The fast path
(`read_ndjson_block`) hands a block to polars' native NDJSON reader with an explicit schema: one
row per non-blank line, exact 1-based line numbers, no Python object per line. When the reader
refuses a block (a truncated line, a line that is not an object, a value of the wrong shape,
bytes that are not UTF-8), `read_lines` splits it into physical lines and `decode_json` decodes
them with one `str.json_decode` against a struct schema whose leaves are strings (ids beyond
int64 stay exact), bisecting until the bad lines are isolated: they become `Reject`s with
polars' reason and the rest of the block is kept.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from .common import Reject
from .csvtools import TIMESTAMP, text_lines

# Bounds peak memory of a decode; a 10M-line day file is ~300 chunks. 16 MB rather than 32: a block
# is passed over several times (reader, line search, gathers), and two blocks in flight then fit in
# a 32 MB L3 cache: ~10% less CPU per archive message (measured at 8-32 MB, load 4-6).
CHUNK_BYTES = 16 << 20


def _decode_line(b: bytes, fallback: str | None) -> tuple[str | None, str | int]:
    """(text, encoding used) of one line, or (None, offset of the first bad UTF-8 byte)."""
    try:
        return b.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if fallback:
            try:
                return b.decode(fallback), fallback
            except UnicodeDecodeError:
                pass
        return None, exc.start


def _decode_block(data: bytes, first_line: int, file: str, fallback: str | None = None,
                  recoded: list[int] | None = None) -> tuple[pl.DataFrame, list[Reject]]:
    """Lines of one block (`source_line`, `raw`); an undecodable line becomes a Reject.

    With `fallback` (e.g. "gb18030", which older WeCom SDK wrappers write), a line that is not
    UTF-8 is decoded in that encoding instead of rejected; its line number goes to `recoded`.
    """
    try:
        lines = text_lines(data.decode("utf-8"))
        rejects: list[Reject] = []
    except UnicodeDecodeError:
        # rare path: find the offending lines one by one, keep the others
        raws, rejects = [], []
        for i, b in enumerate(data.split(b"\n")):
            text, how = _decode_line(b, fallback)
            if text is None:
                raws.append("")
                nor = f" nor {fallback}" if fallback else ""
                rejects.append(Reject(file, first_line + i, f"not UTF-8{nor} (byte offset {how} in line)",
                                      b.decode("utf-8", "replace")))
                continue
            if how != "utf-8" and recoded is not None:
                recoded.append(first_line + i)
            raws.append(text)
        lines = text_lines("\n".join(raws))
    return lines.with_columns(pl.col("source_line") + (first_line - 1)), rejects


_PROBE_BYTES = 64 << 10


def _last_newline(fd: int, start: int, end: int) -> int:
    """File offset of the last newline in `[start, end)`, or -1: read backwards in small pieces
    (one, unless a line is longer than a piece)."""
    while end > start:
        begin = max(start, end - _PROBE_BYTES)
        at = os.pread(fd, end - begin, begin).rfind(b"\n")
        if at >= 0:
            return begin + at
        end = begin
    return -1


def read_blocks(path: Path | str, chunk_bytes: int | None = None,
                newlines: bool = False) -> Iterator[tuple[bytes, int] | tuple[bytes, int, np.ndarray]]:
    """Yield (bytes, first 1-based line number) blocks of about `chunk_bytes`, cut after a newline
    (the newline itself is dropped), a leading BOM removed. With `newlines`, each block comes with
    the offsets of its newlines (`Block` needs them; counting the lines is then no second pass).
    A block ends at the last newline within `chunk_bytes` of what the previous ones read (a line
    longer than that joins the next stretch)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    line = 1
    with open(path, "rb", buffering=0) as fh:
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        pos = 3 if os.pread(fd, 3, 0) == b"\xef\xbb\xbf" else 0  # a BOM is not part of the first record
        read = min(3, size)  # how far the blocks so far reached, their partial last line included
        scratch = np.empty(0, np.bool_)
        while True:
            got = min(chunk_bytes, size - read)
            read += got
            if got:
                cut = _last_newline(fd, pos, read)
                if cut < 0:  # no line ends yet: the next stretch joins
                    continue
            elif read > pos:  # the last line, no newline after it
                cut = read
            else:
                return
            # the block's bytes found first, then read once into a bytes object of their own:
            # no buffer zeroed, sliced or resized (~0.2 CPU s per million lines, 16 MB blocks)
            data = os.pread(fd, cut - pos, pos)
            if len(data) != cut - pos:
                raise OSError(f"{path}: file shrank while read")
            pos = cut + 1
            if newlines:
                if len(scratch) < len(data):  # the newline search's flags: one array, reused
                    scratch = np.empty(len(data), np.bool_)
                flags = np.equal(np.frombuffer(data, np.uint8), 10, out=scratch[:len(data)])
                nl = np.flatnonzero(flags)
                yield data, line, nl
                line += len(nl) + 1
            else:
                yield data, line
                line += data.count(b"\n") + 1
            if not got:
                return


def block_lines(data: bytes, first_line: int, file: str, fallback: str | None = None,
                recoded: list[int] | None = None) -> tuple[pl.DataFrame, list[Reject]]:
    """(`source_line` Int64, `raw` String) of one block's non-blank lines, and its undecodable
    lines as Rejects (see `_decode_block` for `fallback` and `recoded`)."""
    frame, rejects = _decode_block(data, first_line, file, fallback, recoded)
    return frame.filter(pl.col("raw").str.strip_chars() != ""), rejects


def read_lines(path: Path | str, chunk_bytes: int | None = None, fallback: str | None = None,
               recoded: list[int] | None = None) -> Iterator[tuple[pl.DataFrame, list[Reject]]]:
    """Yield (`source_line` Int64, `raw` String) frames of non-blank lines, block by block."""
    file = str(path)
    for data, line in read_blocks(path, chunk_bytes):
        yield block_lines(data, line, file, fallback, recoded)


class Block:
    """One block of a JSON-lines file: its bytes and the 1-based number of its first line.

    Lines are located with numpy and handed to polars through a zero-copy Arrow array, so a
    block never becomes a Python string nor one Python object per line."""

    def __init__(self, data: bytes, first_line: int, newlines: np.ndarray | None = None):
        """`newlines`: the offsets of the block's newlines, if known (`read_blocks(newlines=True)`)."""
        self.data, self.first_line = data, first_line
        self._starts: np.ndarray | None = None
        self._newlines = newlines

    @property
    def line_count(self) -> int:
        return len(self.starts) - 1

    @property
    def starts(self) -> np.ndarray:
        """Byte offset of each line's start, plus one past the end (as if a newline followed)."""
        if self._starts is None:
            nl = self._newlines
            if nl is None:
                nl = np.flatnonzero(np.frombuffer(self.data, dtype=np.uint8) == 10)
            self._starts = np.concatenate(([0], nl + 1, [len(self.data) + 1])).astype(np.int64)
        return self._starts

    def lines(self, index: np.ndarray | None = None, strip: bool = True, utf8: bool = False) -> pl.Series | None:
        """The lines (0-based indices into the block; all by default) as String, line endings
        removed (kept with `strip=False`, which saves a copy); None if one of them is not UTF-8.
        `utf8`: the bytes become strings without being checked (~0.05-0.1 CPU s per million lines):
        the caller knows every byte of the block is UTF-8 (polars' NDJSON reader took it: it
        refuses a block holding any other byte, in a value or key it was not asked for too), or
        only searches the lines for bytes until it knows (`wecom_archive._fast_block`)."""
        starts = self.starts
        # each line keeps its "\n" inside the Arrow array (offsets must be contiguous): stripped below
        ends = np.append(starts[1:-1], len(self.data))
        buffers = [None, pa.py_buffer(np.append(starts[:1], ends)), pa.py_buffer(self.data)]
        if utf8:
            text = pl.from_arrow(pa.LargeStringArray.from_buffers(len(ends), *buffers[1:]))
            if index is not None:
                text = text.gather(index)
        else:
            raw = pl.from_arrow(pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(ends), buffers))
            if index is not None:
                raw = raw.gather(index)
            try:
                text = raw.cast(pl.String)
            except pl.exceptions.PolarsError:
                return None
        return text.str.strip_suffix("\n").str.strip_suffix("\r") if strip else text


def join_segments(data: bytes, offsets: np.ndarray, lengths: np.ndarray, extra: bytes = b"",
                  valid: np.ndarray | None = None) -> pa.Array:
    """The byte ranges `[offsets, offsets + lengths)` of `data` as an Arrow `binary_view` array
    over `data` (and `extra`, for an offset of -1; longer than 12 bytes): no byte copied, no
    Python object per range. `valid`: false for a null row. Cast it to `large_binary` for the
    ranges' bytes end to end."""
    views = np.zeros((len(offsets), 4), np.int32)  # Arrow's view: length, 12 inline bytes or prefix, buffer, offset
    views[:, 0] = lengths
    from_extra = offsets < 0
    inline = lengths <= 12
    # a range's first 4 bytes at any byte offset: an unaligned int32 view of the bytes
    padded = data if len(data) >= 4 else bytes(data).ljust(4, b"\0")
    prefixes = np.ndarray((len(padded) - 3,), "<i4", buffer=padded, strides=(1,))
    extra_prefix = np.frombuffer(extra[:4].ljust(4, b"\0"), "<i4")[0]
    views[:, 1] = np.where(from_extra, extra_prefix, np.where(inline, 0, prefixes[np.where(from_extra | inline, 0, offsets)]))
    views[:, 2] = from_extra
    views[:, 3] = np.where(from_extra | inline, 0, offsets)
    inline &= lengths > 0  # an empty range's view is all zeros already
    if inline.any():  # the bytes themselves, zero-padded
        rows, begin = np.flatnonzero(inline), offsets[inline]
        # the 12 bytes from each range's start as three unaligned int32 words (not 12 gathered
        # bytes: ~0.015 CPU s per million lines less); a range within 12 bytes of the end, bytewise
        whole = begin <= len(padded) - 12
        words = prefixes[begin[whole, None] + np.arange(0, 12, 4)]
        short = np.empty((len(rows), 12), np.uint8)
        short[whole] = words.view(np.uint8)
        if not whole.all():
            at = begin[~whole, None] + np.arange(12)
            short[~whole] = np.frombuffer(padded, np.uint8)[np.minimum(at, len(padded) - 1)]
        short[np.arange(12) >= lengths[rows, None]] = 0
        views.view(np.uint8)[rows, 4:] = short
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.binary_view(), len(offsets),
                                 [validity, pa.py_buffer(views), pa.py_buffer(data), pa.py_buffer(extra or b" ")])


def read_ndjson_block(block: Block, schema: pl.Schema, data: bytes | None = None) -> pl.DataFrame | None:
    """Polars' native NDJSON reader on one block: the fast path, one row per non-blank line, with
    `source_line` and `_line` (0-based index in the block). None when the block cannot take it (a
    line that is not a JSON object of the schema's shape, or not UTF-8); the caller then isolates
    the bad lines with `read_lines`. `data`: read instead of the block's bytes, the same lines
    (the same blank ones) with some values replaced."""
    try:
        frame = pl.read_ndjson(io.BytesIO(block.data) if data is None else data, schema=schema)
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    count = block.line_count  # newline offsets: needed anyway to fetch the rows decoded in full
    if frame.height == count:
        index = pl.int_range(count, dtype=pl.Int64)
    else:  # the reader skips blank lines: number the non-blank ones (rare: blocks holding blanks)
        lines = block.lines(utf8=True)
        kept = lines.str.strip_chars() != ""
        if int(kept.sum()) != frame.height:
            return None
        index = pl.lit(pl.int_range(count, dtype=pl.Int64, eager=True).filter(kept))
    return frame.with_columns(index.alias("_line")).with_columns(
        (pl.col("_line") + block.first_line).alias("source_line"))


def _first_line(msg: str) -> str:
    text = msg.strip().splitlines()[0] if msg.strip() else "cannot decode"
    return text.removeprefix("error deserializing JSON: ")


def decode_json(lines: pl.DataFrame, dtype: pl.Struct, file: str) -> tuple[pl.DataFrame, list[Reject]]:
    """Decode `raw` into struct column `_j`; lines that fail are bisected out as Rejects."""
    try:
        return lines.with_columns(pl.col("raw").str.json_decode(dtype).alias("_j")), []
    except pl.exceptions.PolarsError as exc:
        if lines.height <= 1:
            return (
                lines.clear().with_columns(pl.lit(None, dtype).alias("_j")),
                [Reject(file, int(ln), f"not a valid JSON record: {_first_line(str(exc))}", raw)
                 for ln, raw in lines.select("source_line", "raw").iter_rows()],
            )
    mid = lines.height // 2
    a, ra = decode_json(lines.slice(0, mid), dtype, file)
    b, rb = decode_json(lines.slice(mid), dtype, file)
    return pl.concat([a, b]), ra + rb


def as_int(expr: pl.Expr) -> pl.Expr:
    """JSON number text (`1603875615723`, `1.6e12`, `"42"`) -> Int64; anything else -> null."""
    s = expr.str.strip_chars()
    return pl.coalesce(s.cast(pl.Int64, strict=False), s.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False))


def epoch(expr: pl.Expr, unit: str) -> pl.Expr:
    """Unix time in `unit` ("s" or "ms") -> Datetime(us, Asia/Shanghai); vendor times are UTC."""
    utc = pl.from_epoch(expr, time_unit=unit).dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    return utc.dt.convert_time_zone(TIMESTAMP.time_zone)


def nonempty(expr: pl.Expr) -> pl.Expr:
    """Stripped string; empty -> null."""
    s = expr.str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)



def untrimmed(frame: pl.DataFrame, columns: tuple[str, ...],
              clean: dict[str, tuple[str, ...]] | None = None) -> tuple[set[str], set[str]]:
    """Those of `columns` (String, where present) that hold an empty value, and those that hold one
    with surrounding whitespace: on a column in neither `nonempty` is the identity, on one with
    empty values only it is `pl.when(col != "").then(col)` (no strip: ~0.05 CPU s per million
    archive messages less on `roomid`, empty in one-to-one chats). One pass costs a third less
    than applying `nonempty`. `clean`: values known to be neither, by column: a column holding
    only those (or nulls) is found clean by a lookup, 2-3x cheaper than the check (which the
    others get)."""
    present = [c for c in columns if c in frame.columns]
    clean = clean or {}
    looked_up = [c for c in present if c in clean]
    if looked_up:
        found = frame.select(pl.col(c).is_in(clean[c]).all() for c in looked_up).row(0)
        present = [c for c in present if c not in clean or not found[looked_up.index(c)]]
    if not present:
        return set(), set()
    # lengths compared, not the stripped strings: ~10 % less (an empty value: the shortest)
    row = frame.select(
        *((pl.col(c).str.len_bytes().min() == 0).alias(f"e{i}") for i, c in enumerate(present)),
        *((pl.col(c).str.strip_chars().str.len_bytes() != pl.col(c).str.len_bytes()).any().alias(f"w{i}")
          for i, c in enumerate(present)),
    ).row(0)
    n = len(present)
    return ({c for c, e in zip(present, row[:n]) if e}, {c for c, w in zip(present, row[n:]) if w})


def needs_nonempty(frame: pl.DataFrame, columns: tuple[str, ...]) -> set[str]:
    """Those of `columns` (String, where present) on which `nonempty` is not the identity (see
    `untrimmed`)."""
    empty, padded = untrimmed(frame, columns)
    return empty | padded
