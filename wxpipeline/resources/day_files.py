"""One day of an export kind, written to its staged parquet file from the parse cache.

The staged file holds the records whose own timestamp falls on the day, once per natural key
(the later file's copy winning, in file order). Here:

* which cache files can hold the day is read from their row-group statistics on the time column
  (footers read once per process: a cache file never changes once written);
* which of the day's rows lose to a later copy of their key is decided from a 64-bit hash of the
  key (12 bytes a row in memory), and only the rows whose hash repeats are compared on the key
  itself (a `n_unique` and an `is_last_distinct` over every key cost 2.5 times as much);
* when the day is exactly one cache file (every row on that day, no key repeated: the usual
  day's archive file), the staged file is a byte copy of it;
* otherwise (a key repeated, a day split over several files, a corrected re-export) the row
  groups holding the day's surviving rows are read with pyarrow one at a time, the string
  columns the cache stored with dictionaries read as dictionaries, filtered to the surviving
  rows and written with the same dictionaries (`_write_row_groups`): polars' filter and sink
  decoded and re-encoded every value, ~1.8-1.9 CPU s per million archive messages (most of it
  the recipient lists), this ~1.2.

`frame` is the same rows as a polars query (what `ExportsFolder.day_lazy` returns); it is also
how a day is written when the plan cannot be made from the footers.
"""

from __future__ import annotations

import base64
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl


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
        times = []
        dictionary = {n for i, n in enumerate(names) if meta.schema.column(i).physical_type == "BYTE_ARRAY"}
        statistics = set(names)
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            st = group.column(col).statistics if usable else None
            times.append((st.min_raw, st.max_raw) if st is not None and st.has_min_max else (None, None))
            dictionary &= {n for i, n in enumerate(names) if _whole_dictionary(group.column(i))}
            statistics &= {n for i, n in enumerate(names) if group.column(i).is_stats_set}
        _FOOTERS[key] = CacheFile(path, pl.read_parquet_schema(path), tuple(meta.row_group(g).num_rows
                                                                             for g in range(meta.num_row_groups)),
                                  tuple(times), frozenset(dictionary), frozenset(statistics))
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

    def write(self, path: Path) -> None:
        if self.copy_of is not None:
            shutil.copyfile(self.copy_of, path)
        elif self.groups:
            _write_row_groups(self.groups, self.frame.collect_schema(), path)
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
    hashed = numbered.select("_row", keyed.hash().alias("_h")).collect()
    # hashes seen twice, found by sorting them (a third of the CPU of polars' `is_duplicated`)
    ordered = np.sort(hashed["_h"].to_numpy())
    repeated = pl.Series(np.unique(ordered[1:][ordered[1:] == ordered[:-1]]), dtype=pl.UInt64)
    candidates = hashed.filter(pl.col("_h").is_in(repeated.implode()))["_row"]
    dropped = hashed["_row"].clear()
    if candidates.len():  # rows whose key hash repeats: decided on the key itself, in file order
        exact = numbered.filter(pl.col("_row").is_in(candidates.implode())).select("_row", *key).collect()
        dropped = exact.filter(~keyed.is_last_distinct())["_row"]
        frame = numbered.filter(~pl.col("_row").is_in(dropped.implode())).drop("_row")
    else:
        frame = lazy.filter(in_day)
    rows = hashed.height - dropped.len()
    if rows and len(files) == 1 and rows == touched[0].rows:
        return DayRows(frame, rows=rows, copy_of=files[0], how="copy")
    if not rows:
        return DayRows(frame, rows=0)
    kept = hashed["_row"].to_numpy()
    if dropped.len():
        kept = kept[~np.isin(kept, dropped.to_numpy(), assume_unique=True)]
    return DayRows(frame, rows=rows, how="row groups", groups=_surviving(touched, np.sort(kept)))


def _surviving(files: list[CacheFile], kept: np.ndarray) -> list[tuple[CacheFile, int, np.ndarray | None]]:
    """The row groups holding the rows `kept` (sorted positions among `files`' rows, numbered in
    file order), each with its surviving rows (None: all of them)."""
    out = []
    offset = 0
    for info in files:
        for g, n in enumerate(info.group_rows):
            lo, hi = np.searchsorted(kept, [offset, offset + n])
            if hi > lo:
                out.append((info, g, None if hi - lo == n else kept[lo:hi] - offset))
            offset += n
    return out


def _plain_strings(t):
    """`t` with string views as Arrow strings (pyarrow's filter has no kernel for views)."""
    import pyarrow as pa

    def plain(dt):
        if pa.types.is_string_view(dt):
            return pa.large_string()
        if pa.types.is_large_list(dt) or pa.types.is_list(dt):
            return pa.large_list(pa.field(dt.value_field.name, plain(dt.value_type)))
        return dt

    return pa.schema([f.with_type(plain(f.type)) for f in t.schema])


# rows per staged row group when pieces are merged (polars' own writer makes ~90k-row groups of
# this table; the cache's are ~35k rows)
GROUP_ROWS = 100_000


def _write_row_groups(groups: list[tuple[CacheFile, int, np.ndarray | None]], schema: pl.Schema, path: Path) -> None:
    """Write the surviving rows of `groups` to `path`, a row group per ~GROUP_ROWS rows.

    The string columns every touched cache file stored with dictionaries are read as Arrow
    dictionaries and written through with them (the writer writes their indices; a group's rows
    keep its dictionary), so no string is decoded, hashed or re-encoded; zstd level 1 and
    statistics only where every cache file has them (for the archive the time column, which
    staged readers prune on, and the key). The file's Arrow schema is the one polars writes for `schema`,
    so readers see the same column types as from a polars-written file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    infos = list({id(info): info for info, _, _ in groups}.values())
    dictionary = sorted(frozenset.intersection(*(info.dictionary for info in infos)))
    statistics = sorted(frozenset.intersection(*(info.statistics for info in infos)))
    readers = {id(info): pq.ParquetFile(info.path, read_dictionary=dictionary) for info in infos}
    arrow_schema = base64.b64encode(pl.DataFrame(schema=schema).to_arrow().schema.serialize().to_pybytes())

    def load(info: CacheFile, g: int, rows: np.ndarray | None):
        table = readers[id(info)].read_row_group(g)
        if rows is not None:
            mask = np.zeros(table.num_rows, dtype=bool)
            mask[rows] = True
            views = table.schema
            table = table.cast(_plain_strings(table)).filter(pa.array(mask)).cast(views)
        return table

    writer = None
    pending: list = []  # tables of the next output row group

    def flush() -> None:
        nonlocal writer
        # one dictionary per column for the merged pieces (their dictionaries are small): the
        # writer then writes each piece's indices, as for a single piece (pieces with different
        # dictionaries in one row group are decoded and hashed again; combining the chunks into
        # one would copy every value)
        table = pending[0] if len(pending) == 1 else pa.concat_tables(pending).unify_dictionaries()
        pending.clear()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=1,
                                      use_dictionary=dictionary or False, write_statistics=statistics or False,
                                      store_schema=False)
        writer.write_table(table, row_group_size=max(table.num_rows, 1))

    # the next cache row group is read while this one is written (pyarrow releases the GIL for
    # both); pieces are merged up to GROUP_ROWS rows (a corrected re-export leaves small ones)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(load, *groups[0])
            for i in range(len(groups)):
                table = ahead.result()
                if i + 1 < len(groups):
                    ahead = pool.submit(load, *groups[i + 1])
                if pending and table.schema != pending[0].schema:  # same columns in other Arrow types
                    table = table.cast(pending[0].schema)
                elif writer is not None and table.schema != writer.schema:
                    table = table.cast(writer.schema)
                pending.append(table)
                if sum(t.num_rows for t in pending) >= GROUP_ROWS:
                    flush()
            if pending:
                flush()
            writer.add_key_value_metadata({"ARROW:schema": arrow_schema})
    finally:
        if writer is not None:
            writer.close()
        for reader in readers.values():
            reader.close()
