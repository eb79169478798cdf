"""One parquet file assembled from row groups encoded elsewhere: in-memory parquet files written
by other threads, or row groups of another file copied byte for byte.

pyarrow's `ParquetWriter` writes one file on one thread; a staged day is written faster on
several cores when its row groups are encoded at once into in-memory files and their column
chunks then appended to the staged file in order. A parquet file is its column chunks followed
by a footer (Thrift compact protocol) that records each chunk's absolute offset: the footer of
the assembled file is theirs with those offsets moved, which pyarrow cannot do, so the footer
is decoded and encoded here (`decode`/`encode`: the compact protocol's generic form, every field
kept as read, only the offsets rewritten).
"""

from __future__ import annotations

import gc
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

MAGIC = b"PAR1"

# compact protocol type ids
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)

# parquet.thrift field ids
_FILE_SCHEMA, _FILE_NUM_ROWS, _FILE_ROW_GROUPS = 2, 3, 4
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_PATH, _CHUNK_FILE_OFFSET, _CHUNK_META = 1, 2, 3
_CHUNK_INDEXES = (4, 6)  # offset and column index offsets: the page index
_CHUNK_CRYPTO = (8, 9)
_META_TOTAL_COMPRESSED, _META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE = 7, 9, 10, 11
_META_BLOOM = 14


class Struct(dict):
    """A decoded Thrift struct: field id -> (type id, value), in the order read."""


@dataclass
class Lst:
    elem: int
    items: list = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = memoryview(data), 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        out = shift = 0
        while True:
            b = self.byte()
            out |= (b & 0x7F) << shift
            if b < 0x80:
                return out
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t: int):
        if t in (_TRUE, _FALSE):  # a list's element: one byte
            return self.byte() == _TRUE
        if t == _BYTE:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if t in (_I16, _I32, _I64):
            return self.zigzag()
        if t == _DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if t == _BINARY:
            n = self.varint()
            self.pos += n
            return bytes(self.data[self.pos - n:self.pos])
        if t in (_LIST, _SET):
            head = self.byte()
            n, elem = head >> 4, head & 0x0F
            if n == 15:
                n = self.varint()
            return Lst(elem, [self.value(elem) for _ in range(n)])
        if t == _STRUCT:
            return self.struct()
        raise ValueError(f"parquet footer: Thrift type {t} not expected")

    def struct(self) -> Struct:
        out, last = Struct(), 0
        while True:
            head = self.byte()
            if head == 0:
                return out
            t, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            # a boolean field's value is its type
            out[fid] = (t, t == _TRUE) if t in (_TRUE, _FALSE) else (t, self.value(t))
            last = fid


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zigzag(n: int, out: bytearray) -> None:
    _varint((n << 1) ^ (n >> 63), out)


def _value(t: int, v, out: bytearray) -> None:
    if t in (_TRUE, _FALSE):
        out.append(_TRUE if v else _FALSE)
    elif t == _BYTE:
        out += struct.pack("b", v)
    elif t in (_I16, _I32, _I64):
        _zigzag(v, out)
    elif t == _DOUBLE:
        out += struct.pack("<d", v)
    elif t == _BINARY:
        _varint(len(v), out)
        out += v
    elif t in (_LIST, _SET):
        n = len(v.items)
        if n < 15:
            out.append(n << 4 | v.elem)
        else:
            out.append(0xF0 | v.elem)
            _varint(n, out)
        for item in v.items:
            _value(v.elem, item, out)
    elif t == _STRUCT:
        _struct(v, out)
    else:
        raise ValueError(f"parquet footer: Thrift type {t} not expected")


def _struct(s: Struct, out: bytearray) -> None:
    last = 0
    for fid in sorted(s):  # the compact protocol's field deltas want ascending ids
        t, v = s[fid]
        if t in (_TRUE, _FALSE):
            t = _TRUE if v else _FALSE
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | t)
        else:
            out.append(t)
            _zigzag(fid, out)
        if t not in (_TRUE, _FALSE):
            _value(t, v, out)
        last = fid
    out.append(0)


def decode(footer: bytes) -> Struct:
    """The footer's Thrift, with the cyclic garbage collector paused: a busy day's cache footer
    decodes into ~10^5 small acyclic objects, whose allocation set off full collections of the
    process's heap (a Dagster process, ~250k objects: a 4M-message day's footer 0.05 s without
    them, 0.06-0.21 s with them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Reader(footer).struct()
    finally:
        if enabled:
            gc.enable()


def encode(meta: Struct) -> bytes:
    out = bytearray()
    _struct(meta, out)
    return bytes(out)


def footer_of(data: bytes | memoryview) -> tuple[Struct, int]:
    """The decoded footer of a whole parquet file held in memory, and where its footer starts."""
    n = struct.unpack("<I", data[-8:-4])[0]
    if bytes(data[-4:]) != MAGIC or bytes(data[:4]) != MAGIC:
        raise ValueError("not a parquet file")
    start = len(data) - 8 - n
    return decode(bytes(data[start:len(data) - 8])), start


def read_footer(fh: BinaryIO) -> Struct:
    fh.seek(-8, 2)
    tail = fh.read(8)
    if tail[4:] != MAGIC:
        raise ValueError("not a parquet file")
    n = struct.unpack("<I", tail[:4])[0]
    fh.seek(-8 - n, 2)
    return decode(fh.read(n))


def same_schema(a: Struct, b: Struct) -> bool:
    """Whether two footers describe the same Parquet schema (names, types, nesting)."""
    return a[_FILE_SCHEMA] == b[_FILE_SCHEMA]


def row_groups(meta: Struct) -> list[Struct]:
    return meta[_FILE_ROW_GROUPS][1].items if _FILE_ROW_GROUPS in meta else []


def chunks(group: Struct) -> list[Struct]:
    """A row group's column chunks."""
    return group[_GROUP_COLUMNS][1].items


def chunk_span(chunk: Struct) -> tuple[int, int]:
    """(start, length) of a column chunk's pages in its file."""
    meta = chunk[_CHUNK_META][1]
    start = meta[_META_DATA_PAGE][1]
    if _META_DICTIONARY_PAGE in meta and 0 < meta[_META_DICTIONARY_PAGE][1] < start:
        start = meta[_META_DICTIONARY_PAGE][1]
    return start, meta[_META_TOTAL_COMPRESSED][1]


def movable(group: Struct) -> bool:
    """Whether a row group's chunks can be moved by rewriting their offsets: no page index, bloom
    filter, encryption or chunk in another file (none of which our writers produce)."""
    for chunk in group[_GROUP_COLUMNS][1].items:
        if any(f in chunk for f in (_CHUNK_FILE_PATH, *_CHUNK_INDEXES, *_CHUNK_CRYPTO, )):
            return False
        if _CHUNK_META not in chunk or _META_BLOOM in chunk[_CHUNK_META][1]:
            return False
    return True


def _moved(group: Struct, delta_of) -> Struct:
    """A copy of `group` with each chunk's offsets moved by `delta_of(chunk)`."""
    out = Struct(group)
    chunks = []
    for chunk in group[_GROUP_COLUMNS][1].items:
        d = delta_of(chunk)
        new, meta = Struct(chunk), Struct(chunk[_CHUNK_META][1])
        for fid in (_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE):
            if fid in meta and meta[fid][1] > 0:
                meta[fid] = (meta[fid][0], meta[fid][1] + d)
        new[_CHUNK_META] = (_STRUCT, meta)
        if _CHUNK_FILE_OFFSET in new and new[_CHUNK_FILE_OFFSET][1] > 0:
            new[_CHUNK_FILE_OFFSET] = (_I64, new[_CHUNK_FILE_OFFSET][1] + d)
        chunks.append(new)
    out[_GROUP_COLUMNS] = (_LIST, Lst(_STRUCT, chunks))
    if _GROUP_FILE_OFFSET in out:
        out[_GROUP_FILE_OFFSET] = (_I64, chunk_span(chunks[0])[0])
    return out


class Stitcher:
    """Writes a parquet file from row groups appended in order; `template` is the decoded footer
    of a file written with the same schema and writer settings (its schema, column orders,
    created_by and key-value metadata are the file's)."""

    def __init__(self, fh: BinaryIO, template: Struct):
        self.fh, self.template = fh, template
        self.groups: list[Struct] = []
        self.rows = 0
        fh.write(MAGIC)
        self.pos = len(MAGIC)

    def _add(self, group: Struct) -> None:
        group = Struct(group)
        if _GROUP_ORDINAL in group:  # optional (pyarrow writes none)
            group[_GROUP_ORDINAL] = (_I16, len(self.groups))
        self.groups.append(group)
        self.rows += group[_GROUP_NUM_ROWS][1]

    def add_file(self, data: bytes | memoryview) -> None:
        """Every row group of a whole parquet file held in memory (its chunks are contiguous
        from just after the magic to its footer)."""
        meta, end = footer_of(data)
        groups = row_groups(meta)
        if not all(movable(g) for g in groups):
            raise ValueError("row group cannot be moved")
        self.fh.write(data[len(MAGIC):end])
        delta = self.pos - len(MAGIC)
        for g in groups:
            self._add(_moved(g, lambda _c: delta))
        self.pos += end - len(MAGIC)

    def add_group(self, src: BinaryIO, group: Struct) -> None:
        """One row group of another file (`group`: from its decoded footer), its chunks copied
        byte for byte."""
        if not movable(group):
            raise ValueError("row group cannot be moved")
        starts = {}
        for chunk in group[_GROUP_COLUMNS][1].items:
            start, length = chunk_span(chunk)
            src.seek(start)
            data = src.read(length)
            if len(data) != length:
                raise ValueError("parquet column chunk beyond the end of its file")
            self.fh.write(data)
            starts[id(chunk)] = self.pos - start
            self.pos += length
        self._add(_moved(group, lambda c: starts[id(c)]))

    def close(self) -> None:
        meta = Struct(self.template)
        meta[_FILE_NUM_ROWS] = (_I64, self.rows)
        meta[_FILE_ROW_GROUPS] = (_LIST, Lst(_STRUCT, self.groups))
        footer = encode(meta)
        self.fh.write(footer)
        self.fh.write(struct.pack("<I", len(footer)))
        self.fh.write(MAGIC)
