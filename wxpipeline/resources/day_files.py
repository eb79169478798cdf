"""One day of an export kind, written to its staged parquet file from the parse cache.

The staged file holds the records whose own timestamp falls on the day, once per natural key
(the later file's copy winning, in file order). Here:

* which cache files can hold the day is read from their row-group statistics on the time column
  (footers read once per process: a cache file never changes once written);
* which of the day's rows lose to a later copy of their key is decided from a 64-bit hash of the
  key (12 bytes a row in memory), and only the rows whose hash repeats are compared on the key
  itself (a `n_unique` and an `is_last_distinct` over every key cost 2.5 times as much); when the
  statistics say every row of the touched files is on the day, the keys are hashed without a
  filter. The surviving rows' keys are thus distinct: the written file carries that proof to its
  contract (`DayRows.key_proof`, `hashes.DistinctKeys`);
* when the day is exactly one cache file (every row on that day, no key repeated: the usual
  day's archive file), the staged file is a byte copy of it;
* a day of fewer than `SMALL_DAY_ROWS` rows that is not exactly one cache file is collected and
  written by polars in one piece (`DayRows.write`);
* otherwise (a key repeated, a day split over several files, a corrected re-export) a cache row
  group of at least `COPY_ROWS` rows whose every row survives is copied byte for byte
  (`parquet_stitch`), and the other row groups holding the day's surviving rows are read with
  pyarrow, the string columns the cache stored with dictionaries read as dictionaries, the
  surviving rows taken and written with the same dictionaries, ~100k rows at a time on a thread
  each (LZ4_RAW, `ENCODED_COMPRESSION`; the key and time column uncompressed, `UNCOMPRESSED`),
  into in-memory parquet files stitched into the staged
  file in order (`_write_row_groups`): polars' filter and sink decoded and re-encoded every
  value, ~1.8-1.9 CPU s per million archive messages (most of it the recipient lists); pyarrow's
  own writer writes a file on one thread.

`frame` is the same rows as a polars query (what `ExportsFolder.day_lazy` returns); it is also
how a day is written when the plan cannot be made from the footers.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl

from wxpipeline.hashes import DistinctKeys, repeated_hashes


@dataclass(frozen=True)
class CacheFile:
    """What the parquet footer of one cache file says: its columns, row groups and the raw
    min/max of the time column per row group (microseconds since the epoch, UTC; None: no
    statistics)."""

    path: Path
    schema: pl.Schema
    group_rows: tuple[int, ...]
    group_times: tuple[tuple[int | None, int | None], ...]
    # string columns (Parquet paths: a list's strings are `<name>.list.element`) whose every
    # row group has a dictionary page, and the columns whose every row group has statistics
    dictionary: frozenset[str] = frozenset()
    statistics: frozenset[str] = frozenset()
    # per row group, whether its statistics say the time column has no null (False: unknown)
    group_times_full: tuple[bool, ...] = ()

    @property
    def rows(self) -> int:
        return sum(self.group_rows)


# A cache file never changes once written (its name holds the export's size and mtime): its
# footer is read once per process.
_FOOTERS: dict[tuple[str, str], CacheFile] = {}


def cache_file(path: Path, time_column: str) -> CacheFile:
    key = (str(path), time_column)
    if key not in _FOOTERS:
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        arrow = meta.schema.to_arrow_schema()
        names = [meta.schema.column(i).path for i in range(meta.num_columns)]
        col = names.index(time_column) if time_column in names else None
        ftype = arrow.field(time_column).type if time_column in arrow.names else None
        # raw statistics are comparable only for a tz-aware microsecond timestamp (stored as UTC)
        usable = (col is not None and meta.schema.column(col).physical_type == "INT64"
                  and pa.types.is_timestamp(ftype) and ftype.unit == "us" and ftype.tz is not None)
        times, full = [], []
        dictionary = {n for i, n in enumerate(names) if meta.schema.column(i).physical_type == "BYTE_ARRAY"}
        statistics = set(names)
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            st = group.column(col).statistics if usable else None
            times.append((st.min_raw, st.max_raw) if st is not None and st.has_min_max else (None, None))
            full.append(st is not None and st.has_min_max and st.has_null_count and st.null_count == 0)
            dictionary &= {n for i, n in enumerate(names) if _whole_dictionary(group.column(i))}
            statistics &= {n for i, n in enumerate(names) if group.column(i).is_stats_set}
        _FOOTERS[key] = CacheFile(path, pl.read_parquet_schema(path), tuple(meta.row_group(g).num_rows
                                                                             for g in range(meta.num_row_groups)),
                                  tuple(times), frozenset(dictionary), frozenset(statistics), tuple(full))
    return _FOOTERS[key]


# pyarrow's writer stops adding to a column chunk's dictionary at a 1 MB dictionary page and
# writes its later pages plain; a chunk larger than a whole dictionary page (with some slack)
# plus 8 bytes per value (an index and its levels) must hold such pages
_DICTIONARY_PAGE_BYTES = 1_300_000


def _whole_dictionary(chunk) -> bool:
    """Whether a column chunk looks dictionary-encoded throughout: reading one that is not as an
    Arrow dictionary would hash its plain values (at 1M distinct texts that cost more than
    reading them plain: 2.05 instead of 1.51 CPU s for the day)."""
    return chunk.has_dictionary_page and chunk.total_uncompressed_size <= _DICTIONARY_PAGE_BYTES + 8 * chunk.num_values


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _us(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


@dataclass
class DayRows:
    """The day's records of one export kind: `frame` as a polars query, and how to write them
    to the staged file without it when possible."""

    frame: pl.LazyFrame
    rows: int | None = None  # known once planned
    copy_of: Path | None = None  # the day is exactly this cache file
    how: str = "polars"  # for the step's metadata: "copy", "row groups" or "polars"
    # (cache file, row group, the group's surviving rows or None: all of them), in file order
    groups: list[tuple[CacheFile, int, np.ndarray | None]] = field(default_factory=list)
    written: Path | None = None  # the staged file, once `StagedStore.write` wrote it (the contract reads it)
    # the key the rows are distinct on when `plan_day` decided which rows survive by it, and the
    # written file's identity (`hashes.file_identity`) right after `StagedStore.write` put it in place
    distinct_key: tuple[str, ...] = ()
    written_identity: tuple | None = None
    # columns whose re-encoded row groups are written uncompressed (`UNCOMPRESSED`): key and time
    uncompressed: tuple[str, ...] = ()

    def key_proof(self) -> DistinctKeys | None:
        """Staging's proof that the written file's key is distinct, for its contract (None: no
        proof, the contract checks the key on its values)."""
        if not self.distinct_key or self.rows is None or self.written is None or self.written_identity is None:
            return None
        return DistinctKeys(self.distinct_key, self.rows, self.written, self.written_identity)

    def write(self, path: Path) -> None:
        if self.copy_of is not None:
            shutil.copyfile(self.copy_of, path)
        elif self.groups:
            _write_row_groups(self.groups, self.frame.collect_schema(), path, uncompressed=self.uncompressed)
        elif self.rows is not None and self.rows < SMALL_DAY_ROWS:
            # a small day (the demo-sized days around a judged one): collected and written whole,
            # ~3 ms a table where the row groups' path (pool, pyarrow readers, stitching) costs ~8-15
            self.frame.collect().write_parquet(path, compression_level=1)
        else:
            # zstd level 1: files within 3 % of the default level's size for a quarter less CPU
            self.frame.sink_parquet(path, compression_level=1)


def plan_day(parquet: list[Path], schema: pl.Schema, key: list[str], time_column: str, start: datetime,
             end: datetime) -> DayRows | None:
    """The day's rows among the cache files `parquet` (in file order; `schema` is their union's),
    or None when the plan cannot be made from the files' footers (then the caller's polars
    query is used as it is)."""
    if not parquet:
        return None
    lo, hi = _us(start), _us(end)
    infos = [cache_file(p, time_column) for p in parquet]

    def may_hold(info: CacheFile, g: int) -> bool:
        mn, mx = info.group_times[g]
        return mn is None or (mx >= lo and mn < hi)

    touched = [info for info in infos if any(may_hold(info, g) for g in range(len(info.group_rows)))]
    if any(list(info.schema.items()) != list(schema.items()) for info in touched):
        return None  # columns differ between cache files: polars aligns them
    in_day = pl.col(time_column).is_between(start, end, closed="left")
    if not touched:
        return DayRows(pl.scan_parquet(parquet[0]).filter(in_day), rows=0)
    files = [info.path for info in touched]
    lazy = pl.scan_parquet(files) if len(files) > 1 else pl.scan_parquet(files[0])
    numbered = lazy.with_row_index("_row").filter(in_day)
    keyed = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    # the day's rows (their position among `files`) and a hash of their key: 12 bytes a row
    if all(_inside(info, lo, hi) for info in touched):
        # every row of the touched files is on the day (the usual busy day's archive file): no
        # filter, no numbering in the scan (4M messages 0.31-0.40 -> 0.22-0.29 CPU s)
        hashed = lazy.select(keyed.hash().alias("_h")).collect().with_row_index("_row")
    else:
        hashed = numbered.select("_row", keyed.hash().alias("_h")).collect()
    # hashes seen twice, found by sorting them (a third of the CPU of polars' `is_duplicated`)
    repeated = repeated_hashes(hashed["_h"])
    candidates = hashed.filter(pl.col("_h").is_in(repeated.implode()))["_row"]
    dropped = hashed["_row"].clear()
    if candidates.len():  # rows whose key hash repeats: decided on the key itself, in file order
        exact = numbered.filter(pl.col("_row").is_in(candidates.implode())).select("_row", *key).collect()
        dropped = exact.filter(~keyed.is_last_distinct())["_row"]
        frame = numbered.filter(~pl.col("_row").is_in(dropped.implode())).drop("_row")
    else:
        frame = lazy.filter(in_day)
    rows = hashed.height - dropped.len()
    # every row whose key hash repeats was decided on the key: the surviving rows' keys are distinct
    distinct = tuple(key)
    if rows and len(files) == 1 and rows == touched[0].rows:
        return DayRows(frame, rows=rows, copy_of=files[0], how="copy", distinct_key=distinct)
    if rows < SMALL_DAY_ROWS:  # written by polars in one piece (`DayRows.write`)
        return DayRows(frame, rows=rows, distinct_key=distinct)
    # which of the touched files' rows survive, by position (a boolean per row: a sorted array
    # of positions cost a sort, and a conversion of the whole array per row group's bounds)
    kept = np.zeros(sum(info.rows for info in touched), dtype=bool)
    kept[hashed["_row"].to_numpy()] = True
    if dropped.len():
        kept[dropped.to_numpy()] = False
    return DayRows(frame, rows=rows, how="row groups", groups=_surviving(touched, kept), distinct_key=distinct,
                   uncompressed=(*key, time_column))


def _inside(info: CacheFile, lo: int, hi: int) -> bool:
    """Whether the statistics say every row of the cache file has its time in [lo, hi), none null."""
    return len(info.group_times_full) == len(info.group_rows) and all(info.group_times_full) and all(
        mn is not None and mx is not None and lo <= mn and mx < hi for mn, mx in info.group_times)


def _surviving(files: list[CacheFile], kept: np.ndarray) -> list[tuple[CacheFile, int, np.ndarray | None]]:
    """The row groups holding surviving rows (`kept`: a boolean per row of `files`, in file
    order), each with its surviving rows' positions in the group (None: all of them)."""
    out = []
    offset = 0
    for info in files:
        for g, n in enumerate(info.group_rows):
            mask = kept[offset:offset + n]
            alive = int(np.count_nonzero(mask))
            if alive:
                out.append((info, g, None if alive == n else np.flatnonzero(mask)))
            offset += n
    return out


def _plain(dt):
    """`dt` with string views as Arrow strings (pyarrow has no take or filter kernel for views)."""
    import pyarrow as pa

    if pa.types.is_string_view(dt):
        return pa.large_string()
    if pa.types.is_large_list(dt) or pa.types.is_list(dt):
        return pa.large_list(pa.field(dt.value_field.name, _plain(dt.value_type)))
    return dt


def _take(table, rows: np.ndarray):
    """The rows `rows` (sorted positions) of `table`, column by column: a gather by position
    (a boolean filter of the recipient lists cost three times as much). A column of string views
    (the key, and any column whose dictionary overflowed) is gathered by polars, whose strings are
    the same views: only the 16-byte views are copied, the strings stay in the read buffers
    (pyarrow has no take kernel for views: a cast to Arrow strings, a take and a cast back copied
    every string three times; a 4M-message day's message ids 0.05 -> 0.03 CPU s)."""
    import pyarrow as pa

    at = pa.array(rows)
    positions = pl.Series(rows)
    columns = []
    for column, f in zip(table.columns, table.schema):
        if pa.types.is_string_view(f.type):
            columns.append(pl.from_arrow(column, rechunk=False).gather(positions)
                           .to_arrow(compat_level=pl.CompatLevel.newest()))
            continue
        plain = _plain(f.type)
        columns.append(column.take(at) if plain == f.type else column.cast(plain).take(at).cast(f.type))
    return pa.Table.from_arrays(columns, schema=table.schema)


# rows per staged row group when pieces are merged (polars' own writer makes ~90k-row groups of
# this table; the cache's are ~35k rows)
GROUP_ROWS = 100_000
# a cache row group whose every row survives is copied whole when it holds at least this many
# rows (the archive's blocks are ~35k rows); smaller ones are merged with their neighbours, so
# a day of many small files is not left as many small row groups
COPY_ROWS = 20_000
# a day of fewer rows (that is not exactly one cache file) is collected and written by polars
SMALL_DAY_ROWS = 20_000


# The codec of the row groups encoded here (copied ones keep the cache's): LZ4_RAW. A busy day's
# staged file is read again by its contract, by the chat rules (a slice at a time) and by the next
# days' look-backs. Against zstd level 1, the whole 4M-message staged file rewritten each way (load
# ~4): read by the contract 0.57-0.73 -> 0.42-0.45 CPU s, in the chat rules' slices 0.45-0.55 ->
# 0.30-0.35; encoding alone, one thread, 0.60 -> 0.52 CPU s per million rows (in the whole write
# at load 7-10 that gain was within the noise); the staged file 110 -> 167 MB. Back to zstd:
# {"compression": "zstd", "compression_level": 1}.
ENCODED_COMPRESSION: dict = {"compression": "lz4"}
# Except for the key and the time column (`plan_day` names them): nearly unique values, which LZ4
# shrinks least and spends most on. A 4M-message day's encoded pieces, one thread, recipients
# left out: message ids 0.154 -> 0.044 CPU s per 1.4M rows for 36 -> 54 MB, times 0.039 -> 0.013
# for 9 -> 11 MB; texts, URLs and dictionaries' indices keep LZ4 (2-3x smaller for a few ms). The
# whole write (load ~1.7): one thread 4.3-4.8 -> 3.5-4.1 CPU s, two threads within the noise
# (3.9-4.5 -> 3.8-4.3); the staged file 167 -> 212 MB.
UNCOMPRESSED = "none"


def encode_threads() -> int:
    """Threads that encode a staged day's row groups at once: polars' pool size (the cores this
    process may use; POLARS_MAX_THREADS sets it)."""
    return max(1, pl.thread_pool_size())


def _write_row_groups(groups: list[tuple[CacheFile, int, np.ndarray | None]], schema: pl.Schema, path: Path,
                      threads: int | None = None, uncompressed: tuple[str, ...] = ()) -> None:
    """Write the surviving rows of `groups` to `path`, in order.

    A cache row group of at least COPY_ROWS rows whose every row survives is copied byte for
    byte (its column chunks and their footer entry, `parquet_stitch`), nothing decoded. The
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
    footers = _copyable(infos, template) if any(kept is None for _, _, kept in groups) else {}
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
                sink.add_group(sources[id(info)], footers[id(info)][g])
        sink.close()


def _copyable(infos: list[CacheFile], template) -> dict[int, list]:
    """The cache files (by id) whose row groups can be copied into a file of `template`'s footer
    (the same Parquet schema, no row group that cannot be moved), with their footers' row groups."""
    from wxpipeline.resources import parquet_stitch as stitch

    out = {}
    for info in infos:
        with open(info.path, "rb") as fh:
            meta = stitch.read_footer(fh)
        groups = stitch.row_groups(meta)
        if stitch.same_schema(meta, template) and all(stitch.movable(g) for g in groups):
            out[id(info)] = groups
    return out


def _units(groups: list[tuple[CacheFile, int, np.ndarray | None]], copyable) -> list:
    """What the staged file is written from, in order: (cache file, row group) to copy whole, or
    a list of pieces to read, filter and encode together (~GROUP_ROWS rows)."""
    units: list = []
    pending: list = []
    rows = 0
    for info, g, kept in groups:
        if kept is None and id(info) in copyable and info.group_rows[g] >= COPY_ROWS:
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
