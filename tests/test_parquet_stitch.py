"""`parquet_stitch`: a parquet file assembled from in-memory files and row groups copied from
another file reads back as the concatenation of their rows, for polars and pyarrow."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wxpipeline.resources import parquet_stitch as stitch

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("at", pa.timestamp("us", tz="UTC")),
    ("room", pa.dictionary(pa.int32(), pa.string())),
    ("tolist", pa.large_list(pa.string())),
    ("n", pa.int64()),
])
WRITER = dict(compression="zstd", compression_level=1, use_dictionary=["room", "tolist.list.element"],
              write_statistics=["id", "at"], store_schema=False)


def _table(lo: int, hi: int) -> pa.Table:
    base = int(datetime(2026, 9, 22, tzinfo=timezone.utc).timestamp() * 1_000_000)
    return pa.table({
        "id": [f"m{i}" for i in range(lo, hi)],
        "at": pa.array([base + i * 60_000_000 for i in range(lo, hi)], pa.timestamp("us", tz="UTC")),
        "room": pa.array([f"room{i % 5}" if i % 3 else None for i in range(lo, hi)]).dictionary_encode(),
        "tolist": [[f"u{i % 7}", f"u{i % 11}"][: i % 3] for i in range(lo, hi)],
        "n": list(range(lo, hi)),
    }, schema=SCHEMA)


def _parquet(table: pa.Table | None, **kw) -> bytes:
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, SCHEMA, **{**WRITER, **kw}) as writer:
        if table is not None:
            writer.write_table(table, row_group_size=kw.get("row_group_size", 250))
    return sink.getvalue()


def test_a_footer_is_encoded_back_to_its_own_bytes():
    data = _parquet(_table(0, 1000))
    meta, start = stitch.footer_of(data)
    assert stitch.encode(meta) == data[start:-8]
    assert len(stitch.row_groups(meta)) == 4


def test_row_groups_from_memory_and_from_a_file_read_back_in_order(tmp_path):
    source = tmp_path / "cache.parquet"
    source.write_bytes(_parquet(_table(5000, 6000)))
    template, _ = stitch.footer_of(_parquet(None))
    out = tmp_path / "staged.parquet"
    with open(out, "wb") as fh, open(source, "rb") as src:
        groups = stitch.row_groups(stitch.read_footer(src))
        assert stitch.same_schema(stitch.read_footer(src), template)
        sink = stitch.Stitcher(fh, template)
        sink.add_file(_parquet(_table(0, 600)))
        sink.add_group(src, groups[2])  # rows 5500-5749
        sink.add_file(memoryview(_parquet(_table(2000, 2100))))
        sink.add_group(src, groups[0])  # rows 5000-5249
        sink.close()
    expected = pa.concat_tables([_table(0, 600), _table(5500, 5750), _table(2000, 2100), _table(5000, 5250)])
    assert pq.read_table(out).equals(expected.cast(pq.read_table(out).schema))
    assert pl.read_parquet(out).equals(pl.from_arrow(expected))
    meta = pq.read_metadata(out)
    assert meta.num_rows == 1200 and meta.num_row_groups == 3 + 1 + 1 + 1
    # statistics moved with their chunks: a time filter prunes and reads the right rows
    at = datetime(2026, 9, 22, tzinfo=timezone.utc) + timedelta(minutes=5600)
    assert pl.scan_parquet(out).filter(pl.col("at") >= at).collect()["n"].to_list() == list(range(5600, 5750))
    copied = pq.ParquetFile(out).metadata.row_group(5).column(1).statistics
    assert copied.min == datetime(2026, 9, 22, tzinfo=timezone.utc) + timedelta(minutes=5000)


def test_a_row_group_with_a_page_index_is_not_moved(tmp_path):
    data = _parquet(_table(0, 300), write_page_index=True)
    meta, _ = stitch.footer_of(data)
    assert not any(stitch.movable(g) for g in stitch.row_groups(meta))
    template, _ = stitch.footer_of(_parquet(None))
    with pytest.raises(ValueError, match="cannot be moved"):
        stitch.Stitcher(io.BytesIO(), template).add_file(data)
    other = io.BytesIO()
    pq.write_table(pa.table({"id": ["a"], "n": [1]}), other)
    assert not stitch.same_schema(stitch.footer_of(other.getvalue())[0], template)


def test_fields_only_copied_are_kept_as_their_bytes_and_encoded_back_unchanged():
    """A footer decodes into objects only the row groups, chunks and chunk metadata staging moves;
    statistics, encodings and the schema stay `Raw` and encode back to the same bytes, as the whole
    footer decoded into objects does; a lazily read footer's row group decodes to the same."""
    data = _parquet(_table(0, 1000))
    meta, start = stitch.footer_of(data)
    full = stitch.decode(data[start:-8], None)
    chunk_meta = stitch.chunks(stitch.row_groups(meta)[0])[0][3][1]
    assert isinstance(meta[2][1], stitch.Raw) and isinstance(chunk_meta[12][1], stitch.Raw)  # schema, statistics
    assert not isinstance(full[2][1], stitch.Raw) and not isinstance(stitch.row_groups(full)[0], stitch.Raw)
    assert stitch.encode(meta) == stitch.encode(full) == data[start:-8]
    assert stitch.same_schema(meta, full) and stitch.same_schema(full, meta)
    lazy = stitch.decode(data[start:-8], stitch.LAZY_GROUPS)
    raw = stitch.row_groups(lazy)
    assert all(isinstance(g, stitch.Raw) for g in raw) and stitch.encode(lazy) == data[start:-8]
    assert [stitch.encode(stitch.row_group(g)) for g in raw] == [stitch.encode(g) for g in stitch.row_groups(meta)]
    assert [stitch.chunk_span(c) for c in stitch.chunks(stitch.row_group(raw[3]))] == \
        [stitch.chunk_span(c) for c in stitch.chunks(stitch.row_groups(meta)[3])]


@pytest.mark.parametrize("kernel", ["copy_file_range", "refused", "no file"])
def test_a_copied_row_group_is_the_same_bytes_whether_the_kernel_copies_it_or_not(tmp_path, monkeypatch, kernel):
    """Copied chunks go through `os.copy_file_range` where it works, else they are read and written
    (a file system that refuses it, a target that is not a file): the same file either way."""
    import errno
    import os

    source = tmp_path / "cache.parquet"
    source.write_bytes(_parquet(_table(5000, 6000)))
    template, _ = stitch.footer_of(_parquet(None))
    if kernel == "refused":
        def refuse(*_a, **_k):
            raise OSError(errno.EXDEV, "cross-device")
        monkeypatch.setattr(os, "copy_file_range", refuse)

    def stitch_into(fh) -> stitch.Stitcher:
        with open(source, "rb") as src:
            sink = stitch.Stitcher(fh, template)
            sink.add_file(_parquet(_table(0, 300)))
            groups = stitch.row_groups(stitch.read_footer(src))
            sink.add_group(src, groups[3])
            sink.add_file(_parquet(_table(2000, 2100)))
            sink.add_group(src, groups[1])
            sink.close()
        return sink

    out = io.BytesIO()
    with (open(tmp_path / "staged.parquet", "w+b") if kernel != "no file" else out) as fh:
        assert stitch_into(fh).kernel_copy == (kernel == "copy_file_range")
        fh.seek(0)
        written = fh.read()
    expected = pa.concat_tables([_table(0, 300), _table(5750, 6000), _table(2000, 2100), _table(5250, 5500)])
    assert pl.read_parquet(io.BytesIO(written)).equals(pl.from_arrow(expected))
    reference = tmp_path / "reference.parquet"
    if kernel != "copy_file_range":  # the same bytes as the kernel's copy
        monkeypatch.undo()
        with open(reference, "wb") as fh:
            stitch_into(fh)
        assert reference.read_bytes() == written


def test_a_row_group_is_moved_by_splicing_its_offsets_into_its_bytes():
    """`locate(...).moved` rewrites only the offsets' varints in the row group's bytes (a delta may
    lengthen one): the bytes of the decoded group with its chunks' offsets moved, its file_offset
    set to its first chunk's new start and its ordinal renumbered, encoded again."""
    data = _parquet(_table(0, 1000), write_statistics=True)  # binary min/max for the walk to skip
    full, _ = stitch.footer_of(data, None)
    lazy, _ = stitch.footer_of(data, stitch.LAZY_GROUPS)
    for group, raw in zip(stitch.row_groups(full), stitch.row_groups(lazy), strict=True):
        located = stitch.locate(raw)
        assert located.movable and located.rows == group[3][1] == 250
        assert list(located.spans) == [stitch.chunk_span(c) for c in stitch.chunks(group)]
        deltas = [1 << (7 * c) for c in range(len(located.spans))]  # new varints of 1 to 5 bytes
        expected = stitch.decode(stitch.encode(group), None)
        for c, chunk in enumerate(stitch.chunks(expected)):
            meta = chunk[3][1]
            for fid in (9, 10, 11):  # data, index and dictionary page offsets
                if fid in meta and meta[fid][1] > 0:
                    meta[fid] = (meta[fid][0], meta[fid][1] + deltas[c])
            if 2 in chunk and chunk[2][1] > 0:
                chunk[2] = (chunk[2][0], chunk[2][1] + deltas[c])
        if 5 in expected:
            expected[5] = (expected[5][0], located.spans[0][0] + deltas[0])
        if 7 in expected:
            expected[7] = (expected[7][0], 9)
        assert located.moved(deltas, 9) == stitch.encode(expected)
    assert stitch.locate(stitch.row_groups(full)[1]) == stitch.locate(stitch.row_groups(lazy)[1])  # decoded or raw


def test_the_wanted_row_groups_are_located_in_one_walk_of_the_footer(tmp_path):
    """`locate_groups`: the file's encoded schema (what `same_schema` compares) and exactly the
    wanted row groups, each as `locate` finds it in the footer read with `LAZY_GROUPS`."""
    path = tmp_path / "f.parquet"
    path.write_bytes(_parquet(_table(0, 1000), write_statistics=True))
    with open(path, "rb") as fh:
        lazy = stitch.read_footer(fh, stitch.LAZY_GROUPS)
        schema, found = stitch.locate_groups(fh, {0, 2, 3})
    template, _ = stitch.footer_of(_parquet(None))
    assert schema == stitch.schema_bytes(template) == stitch.schema_bytes(lazy)
    assert sorted(found) == [0, 2, 3]
    assert all(found[g] == stitch.locate(stitch.row_groups(lazy)[g]) for g in found)
