"""JSON machinery shared by the WeCom formats: JSON-lines files read in vectorised chunks.

A JSONL file is read in blocks of about `CHUNK_BYTES`, cut at the last newline, and split into
physical lines by polars (exact 1-based line numbers, no Python object per line). Each chunk is
decoded with one `str.json_decode` against a fixed struct schema whose leaves are strings (so
ids beyond int64 stay exact and numbers arrive as their JSON text). When a chunk does not decode
(a truncated line, a line that is not an object, a value of the wrong shape) the chunk is
bisected until the bad lines are isolated: they become `Reject`s with polars' reason, the rest
of the chunk is decoded normally. A clean file therefore costs one decode per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from .common import Reject
from .csvtools import TIMESTAMP, text_lines

CHUNK_BYTES = 32 << 20  # bounds peak memory of a decode; a 10M-line day file is ~150 chunks


def _decode_block(data: bytes, first_line: int, file: str) -> tuple[pl.DataFrame, list[Reject]]:
    """Lines of one block (`source_line`, `raw`); an undecodable line becomes a Reject."""
    try:
        lines = text_lines(data.decode("utf-8"))
        rejects: list[Reject] = []
    except UnicodeDecodeError:
        # rare path: find the offending lines one by one, keep the others
        raws, rejects = [], []
        for i, b in enumerate(data.split(b"\n")):
            try:
                raws.append(b.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raws.append("")
                rejects.append(Reject(file, first_line + i, f"not UTF-8 (byte offset {exc.start} in line)",
                                      b.decode("utf-8", "replace")))
        lines = text_lines("\n".join(raws))
    return lines.with_columns(pl.col("source_line") + (first_line - 1)), rejects


def read_lines(path: Path | str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[pl.DataFrame, list[Reject]]]:
    """Yield (`source_line` Int64, `raw` String) frames of non-blank lines, block by block."""
    file = str(path)
    line = 1
    carry = b""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head != b"\xef\xbb\xbf":  # a BOM is not part of the first record
            carry = head
        while True:
            block = fh.read(chunk_bytes)
            data = carry + block
            if block:
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut + 1:]
            elif not data:
                return
            frame, rejects = _decode_block(data, line, file)
            line += data.count(b"\n") + 1
            yield frame.filter(pl.col("raw").str.strip_chars() != ""), rejects
            if not block:
                return


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

