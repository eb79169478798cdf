"""The row groups of a staged day's file, written from the cache's (`day_files.DayRows.write`
when the plan names row groups): a cache row group whose every row survives copied byte for byte
(`parquet_stitch`), the others read with pyarrow, their surviving rows taken and encoded on
threads into in-memory parquet files stitched into the staged file in order
(`write_row_groups`); the codec of the encoded ones (`ENCODED_COMPRESSION`, `UNCOMPRESSED`).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from wxpipeline.resources.day_files import CacheFile


def _plain(dt):
    """`dt` with string views as Arrow strings (pyarrow has no take or filter kernel for views)."""
    import pyarrow as pa

    if pa.types.is_string_view(dt):
        return pa.large_string()
    if pa.types.is_large_list(dt) or pa.types.is_list(dt):
        return pa.large_list(pa.field(dt.value_field.name, _plain(dt.value_type)))
    return dt


def _take(table, rows: np.ndarray):
    """The rows `rows` (sorted positions) of `table`, column by column, by a boolean filter: a
    group keeps nearly all its rows, and the filter copies runs of them (a gather by position
    costs 2-10x as much per column now that `recipients` is a dictionary column, not a list: the
    busy 10M day's 40 first encoded groups 0.11-0.12 -> 0.06-0.08 CPU s, the same tables). A
    column of string views (the key, and any column whose dictionary overflowed) is filtered by
    polars, whose strings are the same views: only the 16-byte views are copied, the strings stay
    in the read buffers (pyarrow has no filter or take kernel for views: a cast to Arrow strings
    and back copied every string three times)."""
    import pyarrow as pa

    keep = np.zeros(table.num_rows, dtype=bool)
    keep[rows] = True
    mask, polars_mask = pa.array(keep), None
    columns = []
    for column, f in zip(table.columns, table.schema):
        if pa.types.is_string_view(f.type):
            polars_mask = pl.Series(keep) if polars_mask is None else polars_mask
            columns.append(pl.from_arrow(column, rechunk=False).filter(polars_mask)
                           .to_arrow(compat_level=pl.CompatLevel.newest()))
            continue
        plain = _plain(f.type)
        columns.append(column.filter(mask) if plain == f.type else column.cast(plain).filter(mask).cast(f.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


# rows per staged row group when pieces are merged (polars' own writer makes ~90k-row groups of
# this table; the cache's are ~35k rows, a block's)
GROUP_ROWS = 100_000
# a cache row group whose every row survives is copied whole when it holds at least this many
# rows (the archive's blocks are ~35k rows; the parts of a block around a run of replaced rows,
# `exports.block_groups`, fewer); smaller ones are merged with their neighbours, so a day of many
# small files is not left as many small row groups, unless both neighbours are copied (`_alone`)
COPY_ROWS = 6_000


# The codec of the row groups encoded here (copied ones keep the cache's): LZ4_RAW. A busy day's
# staged file is read again by its contract, by the chat rules (a slice at a time) and by the next
# days' look-backs. Against zstd level 1, the whole 4M-message staged file rewritten each way (round
# 5, `recipients` then a list column; load ~4): read by the contract 0.57-0.73 -> 0.42-0.45 CPU s,
# in the chat rules' slices 0.45-0.55 -> 0.30-0.35; encoding alone, one thread, 0.60 -> 0.52 CPU s
# per million rows (in the whole write at load 7-10 that gain was within the noise); the staged file
# 110 -> 167 MB. Back to zstd: {"compression": "zstd", "compression_level": 1}.
ENCODED_COMPRESSION: dict = {"compression": "lz4"}
# Except for the key and the time column (`day_files.plan_day` names them): nearly unique values,
# which LZ4 shrinks least and spends most on. A 4M-message day's encoded pieces, one thread,
# recipients left out: message ids 0.154 -> 0.044 CPU s per 1.4M rows for 36 -> 54 MB, times 0.039
# -> 0.013 for 9 -> 11 MB; texts, URLs and dictionaries' indices keep LZ4 (2-3x smaller for a few
# ms). The whole write (load ~1.7; `recipients` still a list column): one thread 4.3-4.8 -> 3.5-4.1
# CPU s, two threads within the noise (3.9-4.5 -> 3.8-4.3); the staged file 167 -> 212 MB.
UNCOMPRESSED = "none"


def encode_threads() -> int:
    """Threads that encode a staged day's row groups at once: polars' pool size (the cores this
    process may use; POLARS_MAX_THREADS sets it)."""
    return max(1, pl.thread_pool_size())


def write_row_groups(groups: list[tuple[CacheFile, int, np.ndarray | None]], schema: pl.Schema, path: Path,
                      threads: int | None = None, uncompressed: tuple[str, ...] = ()) -> None:
    """Write the surviving rows of `groups` to `path`, in order.

    A cache row group of at least COPY_ROWS rows whose every row survives (or a smaller one
    between two such, `_alone`) is copied byte for byte (its column chunks and their footer
    entry, `parquet_stitch`), nothing decoded. The
    others are read, their surviving rows taken and encoded ~GROUP_ROWS rows at a time, on
    `threads` threads at once (the same bytes whatever their number), each into an in-memory
    parquet file whose column chunks are then appended to the staged file (pyarrow's writer
    writes one file on one thread). The string columns every touched cache file stored with
    dictionaries are read as Arrow dictionaries and written through with them (the writer
    writes their indices; a group's rows keep its dictionary), so no string is decoded, hashed
    or re-encoded; LZ4 (`ENCODED_COMPRESSION`) but for the `uncompressed` columns (the key and the
    time column: `UNCOMPRESSED`), and statistics only where every cache file has
    them (for the archive the time column, which staged readers prune on, and the key). The file's Arrow
    schema is the one polars writes for `schema`, so readers see the same column types as from
    a polars-written file."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    import pyarrow as pa
    import pyarrow.parquet as pq

    from wxpipeline.resources import parquet_stitch as stitch

    threads = threads or encode_threads()
    infos = list({id(info): info for info, _, _ in groups}.values())
    dictionary = sorted(frozenset.intersection(*(info.dictionary for info in infos)))
    statistics = sorted(frozenset.intersection(*(info.statistics for info in infos)))
    arrow_schema = base64.b64encode(pl.DataFrame(schema=schema).to_arrow().schema.serialize().to_pybytes())
    local = threading.local()  # a pyarrow reader per thread and file (a reader is not shared)
    opened: list = []

    def reader(info: CacheFile):
        files = local.__dict__.setdefault("files", {})
        if id(info) not in files:
            files[id(info)] = pq.ParquetFile(info.path, read_dictionary=dictionary)
            opened.append(files[id(info)])
        return files[id(info)]

    with pq.ParquetFile(infos[0].path, read_dictionary=dictionary) as first:
        target = first.schema_arrow  # the Arrow types every piece is written with
        leaves = [first.metadata.schema.column(i).path for i in range(first.metadata.num_columns)]
    compression = dict(ENCODED_COMPRESSION)
    if uncompressed:  # per column (a level, if any, only for the compressed ones: pyarrow refuses it for none)
        packed = [leaf for leaf in leaves if leaf.split(".")[0] not in uncompressed]
        compression["compression"] = {leaf: compression["compression"] if leaf in packed else UNCOMPRESSED
                                      for leaf in leaves}
        if "compression_level" in compression:
            compression["compression_level"] = {leaf: compression["compression_level"] for leaf in packed}

    def parquet_file(table) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        with pq.ParquetWriter(sink, target, **compression,
                              use_dictionary=dictionary or False, write_statistics=statistics or False,
                              store_schema=False) as writer:
            if table is None:
                writer.add_key_value_metadata({"ARROW:schema": arrow_schema})
            else:
                writer.write_table(table, row_group_size=max(table.num_rows, 1))
        return sink.getvalue()

    def load(info: CacheFile, g: int, rows: np.ndarray | None):
        # each encoding thread reads its own pieces: pyarrow's column threads would only compete
        table = reader(info).read_row_group(g, use_threads=threads == 1)
        if rows is not None:
            table = _take(table, rows)
        return table if table.schema == target else table.cast(target)

    def encode(pieces) -> pa.Buffer:
        tables = [load(*piece) for piece in pieces]
        # one dictionary per column for merged pieces (their dictionaries are small): the writer
        # then writes each piece's indices, as for a single piece (pieces with different
        # dictionaries in one row group are decoded and hashed again; combining the chunks into
        # one would copy every value)
        return parquet_file(tables[0] if len(tables) == 1 else pa.concat_tables(tables).unify_dictionaries())

    template, _ = stitch.footer_of(parquet_file(None))
    footers = _copyable(groups, template)
    units = _units(groups, footers)
    with ExitStack() as stack:
        # the pool is shut down (its encodings ended) before the readers it opened are closed
        stack.callback(lambda: [r.close() for r in opened])
        out = stack.enter_context(open(path, "wb"))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads))
        sink = stitch.Stitcher(out, template)
        sources: dict[int, object] = {}
        ahead: dict[int, object] = {}  # encodings in flight: at most threads + 1
        for i, unit in enumerate(units):
            for j in range(i, min(len(units), i + threads + 1)):
                if j not in ahead and isinstance(units[j], list):
                    ahead[j] = pool.submit(encode, units[j])
            if isinstance(unit, list):
                sink.add_file(memoryview(ahead.pop(i).result()))
            else:
                info, g = unit
                if id(info) not in sources:
                    sources[id(info)] = stack.enter_context(open(info.path, "rb"))
                sink.add_group(sources[id(info)], footers[id(info), g])
        sink.close()


def _copyable(groups: list[tuple[CacheFile, int, np.ndarray | None]], template) -> dict[tuple[int, int], object]:
    """The footer entries (`parquet_stitch.locate`), by (id of the cache file, row group), of the cache row groups
    to copy whole: every row surviving, in a file of `template`'s Parquet schema, movable (no page
    index, bloom filter, ...), and either at least COPY_ROWS rows or a smaller group that would be
    encoded as a row group of its own anyway (`_alone`). Only the whole surviving row groups are
    walked, in one walk of their file's footer (`parquet_stitch.locate_groups`): a busy day's cache
    file has ~700, the others are only skipped over."""
    from wxpipeline.resources import parquet_stitch as stitch

    # every whole surviving group of a file located in one walk of its footer (those of COPY_ROWS
    # rows or more, and the smaller ones `_alone` may pick)
    whole: dict[int, tuple[CacheFile, set[int]]] = {}
    for info, g, kept in groups:
        if kept is None:
            whole.setdefault(id(info), (info, set()))[1].add(g)
    schema = stitch.schema_bytes(template)
    located: dict[tuple[int, int], object] = {}
    for info, wanted in whole.values():
        with open(info.path, "rb") as fh:
            encoded, found = stitch.locate_groups(fh, wanted)
        if encoded == schema:
            located.update(((id(info), g), group) for g, group in found.items() if group.movable)
    big = {i for i, (info, g, kept) in enumerate(groups)
           if kept is None and info.group_rows[g] >= COPY_ROWS and (id(info), g) in located}
    chosen = big | set(_alone(groups, big))
    return {(id(groups[i][0]), groups[i][1]): located[id(groups[i][0]), groups[i][1]] for i in sorted(chosen)
            if (id(groups[i][0]), groups[i][1]) in located}


def _alone(groups: list[tuple[CacheFile, int, np.ndarray | None]], copied: set[int]) -> list[int]:
    """The whole surviving groups of fewer than COPY_ROWS rows (by index in `groups`) whose
    neighbours are both copied (or the ends): `_units` would encode each as a unit, i.e. a row
    group, of its own, so copying it leaves the staged file's row groups as they were. A busy day's
    cache file holds such pieces of blocks around their replaced runs (`exports.block_groups`): the
    10M bench day's 71 of them (213k rows) were encoded, ~0.5 CPU s."""
    last = len(groups) - 1
    return [i for i, (_, _, kept) in enumerate(groups)
            if kept is None and i not in copied and (i == 0 or i - 1 in copied) and (i == last or i + 1 in copied)]


def _units(groups: list[tuple[CacheFile, int, np.ndarray | None]], copyable) -> list:
    """What the staged file is written from, in order: (cache file, row group) to copy whole, or
    a list of pieces to read, filter and encode together (~GROUP_ROWS rows)."""
    units: list = []
    pending: list = []
    rows = 0
    for info, g, kept in groups:
        if (id(info), g) in copyable:
            if pending:
                units.append(pending)
                pending, rows = [], 0
            units.append((info, g))
            continue
        pending.append((info, g, kept))
        rows += info.group_rows[g] if kept is None else len(kept)
        if rows >= GROUP_ROWS:
            units.append(pending)
            pending, rows = [], 0
    if pending:
        units.append(pending)
    return units
