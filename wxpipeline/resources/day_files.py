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
* a day whose touched row groups hold fewer than `SMALL_DAY_ROWS` rows (the demo-sized days
  around a judged one) is read whole at once, deduplicated in memory and written by polars from
  there (`_small_day`, `DayRows.data`); another day of fewer rows that is not exactly one cache
  file is collected and written by polars in one piece (`DayRows.write`);
* otherwise (a key repeated, a day split over several files, a corrected re-export) a cache row
  group of at least `day_encode.COPY_ROWS` rows whose every row survives (or a smaller one between
  two such, `day_encode._alone`) is copied byte for byte
  (`parquet_stitch`; a run of a block's rows that later rows of the block replace is a cache row
  group of its own, `exports.block_groups`), and the other row groups holding the day's surviving rows are read with
  pyarrow, the string columns the cache stored with dictionaries read as dictionaries, the
  surviving rows taken and written with the same dictionaries, ~100k rows at a time on a thread
  each (LZ4_RAW, `day_encode.ENCODED_COMPRESSION`; the key and time column uncompressed,
  `day_encode.UNCOMPRESSED`), into in-memory parquet files stitched into the staged file in
  order (`day_encode.write_row_groups`): polars' filter and sink decoded and re-encoded every
  value, ~1.8-1.9 CPU s per million archive messages (most of it the recipient lists, a list
  column then); pyarrow's own writer writes a file on one thread.

`frame` is the same rows as a polars query (what `ExportsFolder.day_lazy` returns); it is also
how a day is written when the plan cannot be made from the footers.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl

from wxpipeline.hashes import DistinctKeys, repeated_rows
from wxpipeline.resources.day_encode import write_row_groups


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


# a day of fewer rows (that is not exactly one cache file) is collected and written by polars
SMALL_DAY_ROWS = 20_000


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
    # columns whose re-encoded row groups are written uncompressed (`day_encode.UNCOMPRESSED`):
    # key and time
    uncompressed: tuple[str, ...] = ()
    # the day's rows in memory when the plan read them whole (a small day, `_small_day`): written
    # from here, and the IO manager's row count and preview are taken from here
    data: pl.DataFrame | None = None

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
            write_row_groups(self.groups, self.frame.collect_schema(), path, uncompressed=self.uncompressed)
        elif self.data is not None:
            self.data.write_parquet(path, compression_level=1)
        elif self.rows is not None and self.rows < SMALL_DAY_ROWS:
            # a small day (the demo-sized days around a judged one): collected and written whole,
            # ~3 ms a table where the row groups' path (pool, pyarrow readers, stitching) costs ~8-15
            self.frame.collect().write_parquet(path, compression_level=1)
        else:
            # zstd level 1: files within 3 % of the default level's size for a quarter less CPU
            self.frame.sink_parquet(path, compression_level=1)


def plan_day(parquet: list[Path], schema: pl.Schema | None, key: list[str], time_column: str, start: datetime,
             end: datetime) -> DayRows | None:
    """The day's rows among the cache files `parquet` (in file order; `schema` is their union's,
    None: the first file's, which is what polars' scan of the files takes, read from the footer
    kept for the process instead of polars reading every file's footer again in every step),
    or None when the plan cannot be made from the files' footers (then the caller's polars
    query is used as it is)."""
    if not parquet:
        return None
    lo, hi = _us(start), _us(end)
    infos = [cache_file(p, time_column) for p in parquet]
    schema = infos[0].schema if schema is None else schema

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
    keyed = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    distinct = tuple(key)
    if sum(n for info in touched for g, n in enumerate(info.group_rows) if may_hold(info, g)) < SMALL_DAY_ROWS:
        return _small_day(lazy.filter(in_day), keyed, distinct, files, touched)
    numbered = lazy.with_row_index("_row").filter(in_day)
    # the day's rows (their position among `files`) and a hash of their key: 8-12 bytes a row
    inside = all(_inside(info, lo, hi) for info in touched)
    if inside:
        # every row of the touched files is on the day (the usual busy day's archive file): no
        # filter, no numbering (4M messages 0.31-0.40 -> 0.22-0.29 CPU s): a row's position is its index
        hashes = lazy.select(keyed.hash()).collect().to_series()
        positions = None
    else:
        hashed = numbered.select("_row", keyed.hash().alias("_h")).collect()
        hashes, positions = hashed["_h"], hashed["_row"]
    # rows whose key hash repeats, found by sorting the hashes (a third of the CPU of polars' `is_duplicated`)
    candidates = repeated_rows(hashes)
    if positions is not None:
        candidates = positions.to_numpy()[candidates]
    dropped = np.empty(0, dtype=np.int64)
    if len(candidates):  # decided on the key itself, in file order
        wanted = pl.Series(candidates, dtype=pl.get_index_type()).implode()
        exact = numbered.filter(pl.col("_row").is_in(wanted)).select("_row", *key).collect()
        dropped = exact.filter(~keyed.is_last_distinct())["_row"].to_numpy()
        frame = numbered.filter(~pl.col("_row").is_in(pl.Series(dropped, dtype=pl.get_index_type()).implode())
                                ).drop("_row")
    else:
        frame = lazy.filter(in_day)
    rows = hashes.len() - len(dropped)
    # every row whose key hash repeats was decided on the key: the surviving rows' keys are distinct
    if rows and len(files) == 1 and rows == touched[0].rows:
        return DayRows(frame, rows=rows, copy_of=files[0], how="copy", distinct_key=distinct)
    if rows < SMALL_DAY_ROWS:  # written by polars in one piece (`DayRows.write`)
        return DayRows(frame, rows=rows, distinct_key=distinct)
    # which of the touched files' rows survive, by position (a boolean per row: a sorted array
    # of positions cost a sort, and a conversion of the whole array per row group's bounds)
    total = sum(info.rows for info in touched)
    if positions is None:
        kept = np.ones(total, dtype=bool)
    else:
        kept = np.zeros(total, dtype=bool)
        kept[positions.to_numpy()] = True
    kept[dropped] = False
    return DayRows(frame, rows=rows, how="row groups", groups=_surviving(touched, kept), distinct_key=distinct,
                   uncompressed=(*key, time_column))


def _small_day(day: pl.LazyFrame, keyed: pl.Expr, distinct: tuple[str, ...], files: list[Path],
               touched: list[CacheFile]) -> DayRows:
    """A day whose touched row groups hold fewer than SMALL_DAY_ROWS rows (the demo-sized days
    around a judged one): read whole at once, the later copy of a key kept in memory, and written
    from there (`DayRows.data`): one read of the files where hashing, comparing and writing read
    them two to four times (each read of a few small files costs ~2 ms of set-up, whatever its
    rows). The same rows as the big day's way: rows whose keys are equal have equal hashes, so
    keeping the last of each key among all rows keeps what keeping it among the repeated hashes' does."""
    data = day.collect()
    last = data.filter(keyed.is_last_distinct())
    if last.height and len(files) == 1 and last.height == touched[0].rows:  # the day is exactly this cache file
        return DayRows(last.lazy(), rows=last.height, copy_of=files[0], how="copy", distinct_key=distinct, data=last)
    return DayRows(last.lazy(), rows=last.height, distinct_key=distinct, data=last)


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

