"""One day of an export kind, written to its staged parquet file from the parse cache.

The staged file holds the records whose own timestamp falls on the day, once per natural key
(the later file's copy winning, in file order). Here:

* which cache files can hold the day is read from their row-group statistics on the time column
  (footers read once per process: a cache file never changes once written);
* which of the day's rows lose to a later copy of their key is decided from a 64-bit hash of the
  key (12 bytes a row in memory), and only the rows whose hash repeats are compared on the key
  itself (a `n_unique` and an `is_last_distinct` over every key cost 2.5 times as much);
* when the day is exactly one cache file (every row on that day, no key repeated: the usual
  day's archive file), the staged file is a byte copy of it: decoding and encoding the day again
  cost about 2 CPU s per million archive messages, most of it the recipient lists;
* otherwise the day is streamed through a polars filter into the staged file (`frame`). That
  filter is also what `ExportsFolder.day_lazy` returns, so both hold the same rows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

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
        for g in range(meta.num_row_groups):
            st = meta.row_group(g).column(col).statistics if usable else None
            times.append((st.min_raw, st.max_raw) if st is not None and st.has_min_max else (None, None))
        _FOOTERS[key] = CacheFile(path, pl.read_parquet_schema(path), tuple(meta.row_group(g).num_rows
                                                                             for g in range(meta.num_row_groups)),
                                  tuple(times))
    return _FOOTERS[key]


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
    how: str = "polars"  # for the step's metadata: "copy" or "polars"

    def write(self, path: Path) -> None:
        if self.copy_of is not None:
            shutil.copyfile(self.copy_of, path)
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
    candidates = hashed.filter(pl.col("_h").is_duplicated())["_row"]
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
    return DayRows(frame, rows=rows)
