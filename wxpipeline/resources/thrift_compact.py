"""The Thrift compact protocol in its generic form, as Parquet footers use it (`parquet_stitch`):
a struct decoded into field id -> (type id, value), its fields kept as read and encoded back to
the same bytes. Only the structs and lists a caller names are decoded into objects; every other
struct, list or set is skipped over and kept as its bytes (`Raw`), written back as it was: most
of a footer (statistics, encodings, paths, the schema) is only copied, and building objects for
it cost most of a busy day's footers' time (pyarrow exposes no Thrift, and none is installed)."""

from __future__ import annotations

import gc
import struct
from dataclasses import dataclass, field

# compact protocol type ids
TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)

class Struct(dict):
    """A decoded Thrift struct: field id -> (type id, value), in the order read."""


@dataclass
class Lst:
    elem: int
    items: list = field(default_factory=list)


class Raw(bytes):
    """A field's value kept as its encoded bytes: a field the stitcher only copies (statistics,
    encodings, paths, the schema, key-value metadata, ...) is skipped over when read and written
    back as it was, not decoded into objects and encoded again (a 10M-message day's footers:
    most of their cost)."""



_INTS = INTS = frozenset((I16, I32, I64))
# a list whose structs are kept `Raw` each (skipped over, one `Raw` per element)
RAW_ITEMS: dict = {}


def _varint_at(data: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = data[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, pos
        shift += 7


def _skip(data: bytes, pos: int, t: int) -> int:
    """Where the value of type `t` that starts at `pos` ends (integers and binaries of a struct's
    fields or a list's elements skipped in place: most of a footer is those)."""
    if t == STRUCT:
        while True:
            head = data[pos]
            pos += 1
            if head == 0:
                return pos
            if not head >> 4:  # a field id of its own
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
            ft = head & 0x0F
            if ft in _INTS:
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
            elif ft == BINARY and data[pos] < 0x80:
                pos += 1 + data[pos]
            elif ft not in (TRUE, FALSE):  # a boolean field's value is its type
                pos = _skip(data, pos, ft)
    if t in _INTS:
        while data[pos] & 0x80:
            pos += 1
        return pos + 1
    if t == BINARY:
        n, pos = _varint_at(data, pos)
        return pos + n
    if t in (LIST, SET):
        n, elem, pos = _list_head(data, pos)
        if elem in _INTS:
            for _ in range(n):
                while data[pos] & 0x80:
                    pos += 1
                pos += 1
        else:
            for _ in range(n):
                pos = _skip(data, pos, elem)
        return pos
    if t in (TRUE, FALSE, BYTE):  # a list's boolean: one byte
        return pos + 1
    if t == DOUBLE:
        return pos + 8
    raise ValueError(f"parquet footer: Thrift type {t} not expected")


def _list_head(data: bytes, pos: int) -> tuple[int, int, int]:
    """(size, element type, position of the first element) of the list or set at `pos`."""
    head = data[pos]
    n, elem = head >> 4, head & 0x0F
    if n == 15:
        n, pos = _varint_at(data, pos + 1)
        return n, elem, pos
    return n, elem, pos + 1


def field_at(data: bytes, pos: int, last: int) -> tuple[int, int, int]:
    """(field id, type id, position of its value) of the struct field whose header is at `pos`
    (`last`: the previous field's id); type 0: the struct's end (its value position: after it)."""
    head = data[pos]
    pos += 1
    if head == 0:
        return 0, 0, pos
    t, delta = head & 0x0F, head >> 4
    if delta:
        return last + delta, t, pos
    n, pos = _varint_at(data, pos)
    return (n >> 1) ^ -(n & 1), t, pos


def int_at(data: bytes, pos: int) -> tuple[int, int]:
    """(value, end) of the integer (i16, i32, i64: a zigzag varint) at `pos`."""
    n, pos = _varint_at(data, pos)
    return (n >> 1) ^ -(n & 1), pos


def skip(data: bytes, pos: int, t: int) -> int:
    """Where a struct field's value of type `t` at `pos` ends (a boolean field has none)."""
    return pos if t in (TRUE, FALSE) else _skip(data, pos, t)


def list_head(data: bytes, pos: int) -> tuple[int, int, int]:
    """(size, element type, position of the first element) of the list or set at `pos`."""
    return _list_head(data, pos)


def int_bytes(n: int) -> bytes:
    """An integer (i16, i32, i64) as encoded."""
    out = bytearray()
    _zigzag(n, out)
    return bytes(out)


def _value_at(data: bytes, pos: int, t: int, fields: dict | None):
    """(value, end) of the value of type `t` at `pos`; a struct, list or set is decoded when
    `fields` says so (None: everything), else kept `Raw`."""
    if t in _INTS:
        n, pos = _varint_at(data, pos)
        return (n >> 1) ^ -(n & 1), pos
    if t == BINARY:
        n, pos = _varint_at(data, pos)
        return data[pos:pos + n], pos + n
    if fields is not None and t in (LIST, SET, STRUCT):
        end = _skip(data, pos, t)
        return Raw(data[pos:end]), end
    if t == STRUCT:
        return _struct_at(data, pos, fields)
    if t in (LIST, SET):
        n, elem, pos = _list_head(data, pos)
        items = []
        for _ in range(n):
            item, pos = _value_at(data, pos, elem, None)
            items.append(item)
        return Lst(elem, items), pos
    if t in (TRUE, FALSE):  # a list's element: one byte
        return data[pos] == TRUE, pos + 1
    if t == BYTE:
        return struct.unpack_from("b", data, pos)[0], pos + 1
    if t == DOUBLE:
        return struct.unpack_from("<d", data, pos)[0], pos + 8
    raise ValueError(f"parquet footer: Thrift type {t} not expected")


def _struct_at(data: bytes, pos: int, fields: dict | None) -> tuple[Struct, int]:
    """A struct and where it ends; `fields`: which of its fields' structs and lists to decode
    (field id -> the same for its own or its elements' fields; None: all of them)."""
    out, last = Struct(), 0
    while True:
        head = data[pos]
        pos += 1
        if head == 0:
            return out, pos
        t, delta = head & 0x0F, head >> 4
        if delta:
            fid = last + delta
        else:
            n, pos = _varint_at(data, pos)
            fid = (n >> 1) ^ -(n & 1)
        if t in _INTS:  # inline: most fields decoded are integers, most of one byte
            n = data[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _varint_at(data, pos)
            out[fid] = (t, (n >> 1) ^ -(n & 1))
        elif t in (TRUE, FALSE):  # a boolean field's value is its type
            out[fid] = (t, t == TRUE)
        elif fields is None or fid not in fields:
            value, pos = _value_at(data, pos, t, fields)
            out[fid] = (t, value)
        elif t == STRUCT:
            value, pos = _struct_at(data, pos, fields[fid])
            out[fid] = (t, value)
        else:  # a list or set of structs to decode
            value, pos = _list_at(data, pos, t, fields[fid])
            out[fid] = (t, value)
        last = fid


def _list_at(data: bytes, pos: int, t: int, fields: dict) -> tuple[Lst, int]:
    if t not in (LIST, SET):
        raise ValueError(f"parquet footer: Thrift type {t} where a list was expected")
    head = data[pos]
    pos += 1
    n, elem = head >> 4, head & 0x0F
    if n == 15:
        n, pos = _varint_at(data, pos)
    items = []
    if fields is RAW_ITEMS:
        for _ in range(n):
            end = _skip(data, pos, elem)
            items.append(Raw(data[pos:end]))
            pos = end
        return Lst(elem, items), pos
    for _ in range(n):
        item, pos = _struct_at(data, pos, fields) if elem == STRUCT else _value_at(data, pos, elem, fields)
        items.append(item)
    return Lst(elem, items), pos


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zigzag(n: int, out: bytearray) -> None:
    _varint((n << 1) ^ (n >> 63), out)


def _value(t: int, v, out: bytearray) -> None:
    if type(v) is Raw:
        out += v
    elif t in (TRUE, FALSE):
        out.append(TRUE if v else FALSE)
    elif t == BYTE:
        out += struct.pack("b", v)
    elif t in (I16, I32, I64):
        _zigzag(v, out)
    elif t == DOUBLE:
        out += struct.pack("<d", v)
    elif t == BINARY:
        _varint(len(v), out)
        out += v
    elif t in (LIST, SET):
        n = len(v.items)
        if n < 15:
            out.append(n << 4 | v.elem)
        else:
            out.append(0xF0 | v.elem)
            _varint(n, out)
        for item in v.items:
            _value(v.elem, item, out)
    elif t == STRUCT:
        _struct(v, out)
    else:
        raise ValueError(f"parquet footer: Thrift type {t} not expected")


def _struct(s: Struct, out: bytearray) -> None:
    last = 0
    for fid in sorted(s):  # the compact protocol's field deltas want ascending ids
        t, v = s[fid]
        if t in (TRUE, FALSE):
            t = TRUE if v else FALSE
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | t)
        else:
            out.append(t)
            _zigzag(fid, out)
        if t not in (TRUE, FALSE):
            _value(t, v, out)
        last = fid
    out.append(0)


def decode(data: bytes, fields: dict | None) -> Struct:
    """The struct encoded in `data` (`fields`: which of its structs and lists to decode, field id
    -> the same for their own fields, `RAW_ITEMS` for a list of structs kept `Raw` each; the rest
    kept `Raw`; None: all), with the cyclic garbage collector paused: a busy day's cache footer
    decodes into ~10^4-10^5 small acyclic objects, whose allocation set off full collections of
    the process's heap (a Dagster process, ~250k objects: a 4M-message day's footer 0.05 s
    without them, 0.06-0.21 s with them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _struct_at(bytes(data), 0, fields)[0]
    finally:
        if enabled:
            gc.enable()


def encode(meta: Struct) -> bytes:
    out = bytearray()
    _struct(meta, out)
    return bytes(out)


def encoded(t: int, v) -> bytes:
    """One value of type `t` as encoded."""
    out = bytearray()
    _value(t, v, out)
    return bytes(out)
