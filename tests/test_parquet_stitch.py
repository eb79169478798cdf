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
