"""One parquet file assembled from row groups encoded elsewhere: in-memory parquet files written
by other threads, or row groups of another file copied byte for byte.

pyarrow's `ParquetWriter` writes one file on one thread; a staged day is written faster on
several cores when its row groups are encoded at once into in-memory files and their column
chunks then appended to the staged file in order. A parquet file is its column chunks followed
by a footer (Thrift compact protocol) that records each chunk's absolute offset: the footer of
the assembled file is theirs with those offsets moved, which pyarrow cannot do, so the footer
is decoded and encoded here (`decode`/`encode`, `thrift_compact`: the compact protocol's generic
form, every field kept as read, only the offsets rewritten; the fields staging only copies are
kept as their bytes). A row group is moved by walking its bytes once for its offsets and splicing
the moved offsets in (`locate`, `GroupBytes.moved`).
"""

from __future__ import annotations

import errno
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from wxpipeline.resources import thrift_compact as thrift
from wxpipeline.resources.thrift_compact import I64 as _I64
from wxpipeline.resources.thrift_compact import LIST as _LIST
from wxpipeline.resources.thrift_compact import RAW_ITEMS, Lst, Raw, Struct, encode, encoded
from wxpipeline.resources.thrift_compact import STRUCT as _STRUCT

MAGIC = b"PAR1"

# what `os.copy_file_range` raises where it cannot copy between two files (then they are read
# and written)
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}

# parquet.thrift field ids
_FILE_SCHEMA, _FILE_NUM_ROWS, _FILE_ROW_GROUPS = 2, 3, 4
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_PATH, _CHUNK_FILE_OFFSET, _CHUNK_META = 1, 2, 3
_CHUNK_INDEXES = (4, 6)  # offset and column index offsets: the page index
_CHUNK_CRYPTO = (8, 9)
_META_TOTAL_COMPRESSED, _META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE = 7, 9, 10, 11
_META_BLOOM = 14


# what a footer's decode builds objects for (field id -> the same for its struct or list of
# structs); every other struct, list or set is kept `Raw`, scalars are always decoded: the row
# groups, their column chunks and the chunks' metadata (offsets, sizes, presence of a page index,
# bloom filter or encryption: `movable`, `_moved`)
_GROUP_FIELDS = {_GROUP_COLUMNS: {_CHUNK_META: {}}}
_FOOTER_FIELDS = {_FILE_ROW_GROUPS: _GROUP_FIELDS}
# a footer whose row groups are kept as their bytes, to be decoded one at a time (`row_group`):
# a busy day's cache file has ~300 row groups, of which staging copies a few
LAZY_GROUPS = {_FILE_ROW_GROUPS: RAW_ITEMS}


def decode(footer: bytes, fields: dict | None = _FOOTER_FIELDS) -> Struct:
    """A footer's Thrift: its row groups, their chunks and the chunks' metadata decoded, the
    rest kept `Raw` (`fields`: otherwise; None: everything)."""
    return thrift.decode(footer, fields)


def footer_of(data: bytes | memoryview, fields: dict | None = _FOOTER_FIELDS) -> tuple[Struct, int]:
    """The decoded footer of a whole parquet file held in memory, and where its footer starts."""
    n = struct.unpack("<I", data[-8:-4])[0]
    if bytes(data[-4:]) != MAGIC or bytes(data[:4]) != MAGIC:
        raise ValueError("not a parquet file")
    start = len(data) - 8 - n
    return decode(bytes(data[start:len(data) - 8]), fields), start


def row_group(raw: Raw) -> Struct:
    """One row group of a footer read with `LAZY_GROUPS`, decoded as `decode` decodes them."""
    return decode(raw, _GROUP_FIELDS)


def _footer_bytes(fh: BinaryIO) -> bytes:
    """The encoded footer of the parquet file `fh`."""
    fh.seek(-8, 2)
    tail = fh.read(8)
    if tail[4:] != MAGIC:
        raise ValueError("not a parquet file")
    n = struct.unpack("<I", tail[:4])[0]
    fh.seek(-8 - n, 2)
    return fh.read(n)


def read_footer(fh: BinaryIO, fields: dict | None = _FOOTER_FIELDS) -> Struct:
    return decode(_footer_bytes(fh), fields)


def same_schema(a: Struct, b: Struct) -> bool:
    """Whether two footers describe the same Parquet schema (names, types, nesting), compared as
    encoded (a schema may be decoded or kept `Raw`)."""
    return encoded(*a[_FILE_SCHEMA]) == encoded(*b[_FILE_SCHEMA])


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


@dataclass(frozen=True)
class GroupBytes:
    """A row group's Thrift as read, and where in it are the offsets a move rewrites (`locate`):
    moved by splicing the new offsets' varints into its bytes (`moved`), without building objects
    for its fields and encoding them again (the 10M-message bench day's ~620 copied groups of 12
    chunks: ~0.6 CPU s that way)."""

    raw: bytes
    rows: int
    spans: tuple[tuple[int, int], ...]  # per column chunk, (start, length) of its pages (`chunk_span`)
    # (start, end, value, column chunk; -1: the row group's own file_offset) of each offset's varint
    offsets: tuple[tuple[int, int, int, int], ...]
    ordinal: tuple[int, int] | None  # (start, end) of the ordinal's varint, if any
    movable: bool  # what `movable` says of the decoded group

    def moved(self, deltas: list[int], ordinal: int) -> Raw:
        """The row group with each chunk's offsets (those > 0) moved by its delta, its file_offset
        set to its first chunk's moved start, its ordinal (if any) to `ordinal`: the bytes
        `encode` writes for the decoded group so moved."""
        patches = []
        for start, end, value, chunk in self.offsets:
            if chunk < 0:
                patches.append((start, end, thrift.int_bytes(self.spans[0][0] + deltas[0])))
            elif value > 0:
                patches.append((start, end, thrift.int_bytes(value + deltas[chunk])))
        if self.ordinal is not None:
            patches.append((*self.ordinal, thrift.int_bytes(ordinal)))
        patches.sort()
        out, done = bytearray(), 0
        for start, end, value in patches:
            out += self.raw[done:start]
            out += value
            done = end
        out += self.raw[done:]
        return Raw(out)


def locate(group: bytes | Struct) -> GroupBytes:
    """A row group (its Thrift, or decoded) walked once for what moving it needs."""
    raw = encode(group) if isinstance(group, Struct) else bytes(group)
    return _locate_at(raw, 0)[0]


def _locate_at(data: bytes, start: int) -> tuple[GroupBytes, int]:
    """The row group whose Thrift starts at `start` in `data` (`locate`), and where it ends."""
    rows, spans, offsets, ordinal, movable = 0, [], [], None, True
    pos, last = start, 0
    while True:
        fid, t, pos = thrift.field_at(data, pos, last)
        if not t:
            if start:  # positions within the group's own bytes
                offsets = [(a - start, b - start, value, c) for a, b, value, c in offsets]
                ordinal = None if ordinal is None else (ordinal[0] - start, ordinal[1] - start)
            raw = data if start == 0 and pos == len(data) else data[start:pos]
            return GroupBytes(raw, rows, tuple(spans), tuple(offsets), ordinal, movable), pos
        last = fid
        if fid == _GROUP_COLUMNS and t == _LIST:
            n, elem, pos = thrift.list_head(data, pos)
            if elem != _STRUCT:
                raise ValueError("parquet footer: a row group's columns are not structs")
            for c in range(n):
                pos, span, ok = _locate_chunk(data, pos, c, offsets)
                spans.append(span)
                movable = movable and ok
        elif t in thrift.INTS:
            at = pos
            value, pos = thrift.int_at(data, pos)
            if fid == _GROUP_NUM_ROWS:
                rows = value
            elif fid == _GROUP_FILE_OFFSET:
                offsets.append((at, pos, value, -1))
            elif fid == _GROUP_ORDINAL:
                ordinal = (at, pos)
        else:
            pos = thrift.skip(data, pos, t)


def locate_groups(fh: BinaryIO, wanted: set[int]) -> tuple[bytes, dict[int, GroupBytes]]:
    """The encoded Parquet schema of the file `fh` (what `same_schema` compares) and its row
    groups `wanted` (by index), located (`locate`), in one walk of its footer: the other row
    groups are skipped over, the wanted ones walked once (reading the footer with `LAZY_GROUPS`
    and then locating them walked those twice: a busy 10M day's ~500 copied groups ~0.1 CPU s)."""
    data = _footer_bytes(fh)
    schema, groups = b"", {}
    pos = last = 0
    while True:
        fid, t, pos = thrift.field_at(data, pos, last)
        if not t:
            return schema, groups
        last = fid
        if fid == _FILE_ROW_GROUPS and t == _LIST:
            count, elem, pos = thrift.list_head(data, pos)
            if elem != _STRUCT:
                raise ValueError("parquet footer: the row groups are not structs")
            for g in range(count):
                if g in wanted:
                    groups[g], pos = _locate_at(data, pos)
                else:
                    pos = thrift.skip(data, pos, elem)
        else:
            end = thrift.skip(data, pos, t)
            if fid == _FILE_SCHEMA:
                schema = data[pos:end]
            pos = end


def schema_bytes(meta: Struct) -> bytes:
    """A decoded footer's Parquet schema as encoded (`locate_groups`' first value)."""
    return encoded(*meta[_FILE_SCHEMA])


def _locate_chunk(raw: bytes, pos: int, c: int, offsets: list) -> tuple[int, tuple[int, int], bool]:
    """(end, span, movable) of the column chunk `c` at `pos`; its offsets appended to `offsets`."""
    span, movable, last = None, True, 0
    while True:
        fid, t, pos = thrift.field_at(raw, pos, last)
        if not t:
            if span is None:
                raise ValueError("parquet footer: a column chunk without metadata")
            return pos, span, movable
        last = fid
        if fid in (_CHUNK_FILE_PATH, *_CHUNK_INDEXES, *_CHUNK_CRYPTO):
            movable = False
        if fid == _CHUNK_META and t == _STRUCT:
            pos, span, bloom = _locate_meta(raw, pos, c, offsets)
            movable = movable and not bloom
        elif t in thrift.INTS:
            start = pos
            value, pos = thrift.int_at(raw, pos)
            if fid == _CHUNK_FILE_OFFSET:
                offsets.append((start, pos, value, c))
        else:
            pos = thrift.skip(raw, pos, t)


def _locate_meta(raw: bytes, pos: int, c: int, offsets: list) -> tuple[int, tuple[int, int], bool]:
    """(end, span, has a bloom filter) of the column metadata at `pos`."""
    data_page, dictionary_page, total, bloom, last = None, 0, None, False, 0
    while True:
        fid, t, pos = thrift.field_at(raw, pos, last)
        if not t:
            if data_page is None or total is None:
                raise ValueError("parquet footer: a column chunk without its pages' offset or size")
            start = dictionary_page if 0 < dictionary_page < data_page else data_page
            return pos, (start, total), bloom
        last = fid
        bloom = bloom or fid == _META_BLOOM
        if t in thrift.INTS:
            start = pos
            value, pos = thrift.int_at(raw, pos)
            if fid in (_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE):
                offsets.append((start, pos, value, c))
            if fid == _META_DATA_PAGE:
                data_page = value
            elif fid == _META_DICTIONARY_PAGE:
                dictionary_page = value
            elif fid == _META_TOTAL_COMPRESSED:
                total = value
        else:
            pos = thrift.skip(raw, pos, t)


class Stitcher:
    """Writes a parquet file from row groups appended in order; `template` is the decoded footer
    of a file written with the same schema and writer settings (its schema, column orders,
    created_by and key-value metadata are the file's)."""

    def __init__(self, fh: BinaryIO, template: Struct):
        self.fh, self.template = fh, template
        self.groups: list[Raw] = []  # the moved row groups' Thrift
        self.rows = 0
        self.kernel_copy = hasattr(os, "copy_file_range")
        fh.write(MAGIC)
        self.pos = len(MAGIC)

    def _add(self, group: GroupBytes, deltas: list[int]) -> None:
        # the ordinal is optional (pyarrow writes none)
        self.groups.append(group.moved(deltas, len(self.groups)))
        self.rows += group.rows

    def add_file(self, data: bytes | memoryview) -> None:
        """Every row group of a whole parquet file held in memory (its chunks are contiguous
        from just after the magic to its footer)."""
        meta, end = footer_of(data, LAZY_GROUPS)
        groups = [locate(g) for g in row_groups(meta)]
        if not all(g.movable for g in groups):
            raise ValueError("row group cannot be moved")
        self.fh.write(data[len(MAGIC):end])
        delta = self.pos - len(MAGIC)
        for g in groups:
            self._add(g, [delta] * len(g.spans))
        self.pos += end - len(MAGIC)

    def add_group(self, src: BinaryIO, group: GroupBytes | Struct | Raw) -> None:
        """One row group of another file (`group`: from its footer, located or decoded), its
        chunks copied byte for byte (contiguous chunks at once, by the kernel where it can: `_copy`)."""
        if not isinstance(group, GroupBytes):
            group = locate(group)
        if not group.movable:
            raise ValueError("row group cannot be moved")
        deltas = []
        runs: list[list[int]] = []  # [start, length] of the source's contiguous runs of chunks
        for start, length in group.spans:
            if runs and runs[-1][0] + runs[-1][1] == start:
                runs[-1][1] += length
            else:
                runs.append([start, length])
            deltas.append(self.pos - start)
            self.pos += length
        for start, length in runs:
            self._copy(src, start, length)
        self._add(group, deltas)

    def _copy(self, src: BinaryIO, start: int, length: int) -> None:
        """`length` bytes of `src` from `start` appended to the file: `os.copy_file_range` (the
        bytes never pass through this process) where both are files it supports, else read and
        written."""
        try:
            fd_in, fd_out = src.fileno(), self.fh.fileno()
        except (AttributeError, OSError, ValueError):  # e.g. an in-memory file
            self.kernel_copy = False
        if self.kernel_copy:
            self.fh.flush()  # the descriptor's offset is where the next bytes go
            done = 0
            try:
                while done < length:
                    n = os.copy_file_range(fd_in, fd_out, length - done, start + done)
                    if n == 0:
                        raise ValueError("parquet column chunk beyond the end of its file")
                    done += n
                return
            except OSError as e:
                if done or e.errno not in _NO_KERNEL_COPY:
                    raise
                self.kernel_copy = False  # e.g. another file system on an old kernel: read and written
        src.seek(start)
        data = src.read(length)
        if len(data) != length:
            raise ValueError("parquet column chunk beyond the end of its file")
        self.fh.write(data)

    def close(self) -> None:
        meta = Struct(self.template)
        meta[_FILE_NUM_ROWS] = (_I64, self.rows)
        meta[_FILE_ROW_GROUPS] = (_LIST, Lst(_STRUCT, self.groups))
        footer = encode(meta)
        self.fh.write(footer)
        self.fh.write(struct.pack("<I", len(footer)))
        self.fh.write(MAGIC)
