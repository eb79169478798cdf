"""The exports folder: files in, deduplicated polars frames out.

Each file is parsed once and cached as parquet under WXPIPELINE_HOME/cache, keyed by the
file's path, size and mtime; a changed file is parsed again. A scan of an export kind is a
lazy union of the cached parquet files, deduplicated on the kind's natural key, so judging one
day reads only that day's rows (predicate pushdown) instead of re-parsing all history.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from wxpipeline.formats.common import ExportFormatError, Reject
from wxpipeline.formats.registry import EXPORT_KINDS, ExportKind
from wxpipeline.resources.day_files import DayRows, plan_day
from wxpipeline.times import day_bounds


@dataclass
class Scan:
    """The records of one export kind plus what could not be read."""

    raw: pl.LazyFrame  # every parsed record, duplicates included
    key: list[str]
    files: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # per file, what its parser recorded: encoding, timestamp units decided per value, ...
    meta: dict[str, dict] = field(default_factory=dict)
    parquet: list[Path] = field(default_factory=list)  # the cache files `raw` reads, in file order

    def encodings(self) -> dict[str, int]:
        """How many files were read in each encoding (recorded per file)."""
        out: dict[str, int] = {}
        for m in self.meta.values():
            if m.get("encoding"):
                out[m["encoding"]] = out.get(m["encoding"], 0) + 1
        return out

    @property
    def frame(self) -> pl.LazyFrame:
        """Once per natural key; later files win (a corrected re-export)."""
        return dedupe(self.raw, self.key)


def dedupe(lf: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """Keep the last row of each key, in file order. A filter on `is_last_distinct` rather than
    `unique(keep="last", maintain_order=True)`: same rows, but no second copy of the frame
    (at 4M messages 1.9 GB peak instead of 4.3 GB, a quarter of the write time)."""
    last = pl.col(key[0]).is_last_distinct() if len(key) == 1 else pl.struct(key).is_last_distinct()
    return lf.filter(last)


# Complete cache entries this process has read: every findings asset takes the inventory of the
# exports folder for its coverage (one entry per file, its rejects and meta JSON read each time:
# 0.2 s per asset at the demo's size, every day). An entry never changes once complete (its name
# holds the file's size and mtime); one stat tells that it is still there. One entry a path (kind,
# path, cache folder), replaced when the file changes: a long-lived sensor process sees many versions.
_COMPLETE: dict[tuple, tuple[str, tuple[Path | None, list[Reject], dict]]] = {}
# (kind, path, cache folder) -> ((version, device, inode, size, mtime), the cache entry's base path):
# one entry a path, replaced when the file changes (a long-lived sensor process sees many versions)
_CACHE_BASES: dict[tuple, tuple[tuple, Path]] = {}


class ExportsFolder(dg.ConfigurableResource):
    """The folder where WeChat / WeCom exports land (WXPIPELINE_EXPORTS_DIR), in the DESIGN.md
    layout, and the parse cache under WXPIPELINE_HOME."""

    exports_dir: str
    cache_dir: str

    def files(self, kind: ExportKind) -> list[Path]:
        root = Path(self.exports_dir)
        found = {p for g in kind.globs for p in root.glob(g) if p.is_file() and not p.name.startswith((".", "~$"))}
        return sorted(found)

    def _cache_base(self, kind: ExportKind, path: Path, st) -> Path:
        """The parse cache's files of `path` as it is now (`st`), without their suffix."""
        # `resolve` costs an lstat per path component, for every file of the kind in every
        # staging step (~30 files a step): once per process per file as it is (same inode, size
        # and mtime; a path that now leads to another file is resolved again)
        where, stamp = (kind.name, str(path), self.cache_dir), (kind.version, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        known = _CACHE_BASES.get(where)
        if known is not None and known[0] == stamp:
            return known[1]
        key = hashlib.sha256(f"{kind.version}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
        base = Path(self.cache_dir) / kind.name / key
        _CACHE_BASES[where] = (stamp, base)
        return base

    def is_cached(self, kind: ExportKind, path: Path) -> bool:
        """Whether `path`, as it is now, has been parsed into the cache (refused files included)."""
        try:
            return self._cache_base(kind, path, path.stat()).with_suffix(".rejects.json").exists()
        except OSError:
            return False

    def _cached(self, kind: ExportKind, path: Path) -> tuple[Path | None, list[Reject], dict]:
        """(cached parquet or None when the file was refused, rejects, the parser's meta)."""
        try:
            st = path.stat()
        except OSError as e:  # gone between listing and reading
            return None, [Reject(str(path), 0, f"file rejected: cannot read the file: {e.strerror or e}")], {}
        base = self._cache_base(kind, path, st)
        pq, rj = base.with_suffix(".parquet"), base.with_suffix(".rejects.json")
        mj = base.with_suffix(".meta.json")
        meta: dict = {}
        where = (kind.name, str(path), self.cache_dir)
        if (known := _COMPLETE.get(where)) is not None and known[0] == str(base) and rj.exists():
            cached, rejects, meta = known[1]
            return cached, list(rejects), dict(meta)
        if rj.exists():
            rejects = [Reject(**r) for r in json.loads(rj.read_text("utf-8"))]
            meta = json.loads(mj.read_text("utf-8")) if mj.exists() else {}
            _COMPLETE[where] = str(base), ((pq if pq.exists() else None), rejects, meta)
            return (pq if pq.exists() else None), list(rejects), dict(meta)
        base.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: partitions running in parallel may parse the same file
        tmp = pq.with_suffix(f".{os.getpid()}.tmp")
        written = False
        try:
            if kind.stream_parser is not None:  # parsed block by block: never all in memory
                rejects = []
                _write_blocks(kind.stream_parser(path, rejects, meta), tmp, kind)
                rejects.sort(key=lambda r: r.line)
            else:
                result = kind.parser(path)
                rejects = list(result.rejects)
                meta = result.meta
                result.frame.write_parquet(tmp)
            meta = json.loads(json.dumps(meta, default=str))
            written = True
        except ExportFormatError as e:
            tmp.unlink(missing_ok=True)
            rejects = [Reject(str(path), e.line or 0, f"file rejected: {e.problem}")]
            if e.transient:  # not cached: a chmod does not change the file's mtime
                return None, rejects, {}
        # not cached: a chmod or a fixed parser must be picked up without the file changing
        except OSError as e:
            tmp.unlink(missing_ok=True)
            return None, [Reject(str(path), 0, f"file rejected: cannot read the file: {e.strerror or e}")], {}
        except Exception as e:  # noqa: BLE001 - a parser bug on one odd file must not fail every day of a domain
            tmp.unlink(missing_ok=True)
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            return None, [Reject(str(path), 0, f"file rejected: the {kind.name} parser failed on it "
                                               f"({type(e).__name__}: {first})")], {}
        if written:
            os.replace(tmp, pq)
        tmp = mj.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        os.replace(tmp, mj)
        tmp = rj.with_suffix(f".{os.getpid()}.tmp")  # last: its presence means the entry is complete
        tmp.write_text(json.dumps([r.__dict__ for r in rejects], ensure_ascii=False), "utf-8")
        os.replace(tmp, rj)
        return (pq if written else None), rejects, meta

    def scan(self, kind_name: str) -> Scan:
        """Every record of an export kind across all its files, once per natural key."""
        kind = EXPORT_KINDS[kind_name]
        parquet, rejects, files, meta = [], [], [], {}
        for path in self.files(kind):
            pq, rj, meta[str(path)] = self._cached(kind, path)
            files.append(str(path))
            rejects.extend(rj)
            if pq is not None:
                parquet.append(pq)
        key = list(kind.natural_key)
        if not parquet:
            return Scan(_empty_frame(kind).lazy(), key, files, rejects, meta)
        return Scan(pl.scan_parquet(parquet, missing_columns="insert", extra_columns="ignore"), key, files, rejects,
                    meta, parquet)

    def window(self, kind_name: str, lo: datetime | None, hi: datetime) -> pl.LazyFrame:
        """The records whose own timestamp is in [lo, hi) (lo None: all before hi), once per natural key.

        Filtered before deduplicating: copies of a record share its timestamp, and a range on the
        bare column is checked against parquet row-group statistics, so other days are never
        read (measured: 0.2 s instead of 1.1 s for a day among 2M archived messages with
        `.dt.date() == day`, and the gap grows with the history).
        """
        kind = EXPORT_KINDS[kind_name]
        scan = self.scan(kind_name)
        ts = pl.col(kind.time_column)
        in_window = ts < hi if lo is None else ts.is_between(lo, hi, closed="left")
        return dedupe(scan.raw.filter(in_window), scan.key)

    def day(self, kind_name: str, day) -> tuple[pl.DataFrame, Scan]:
        """The records whose own timestamp falls on `day` (Asia/Shanghai), once per natural key."""
        lazy, scan = self.day_lazy(kind_name, day)
        return lazy.collect(), scan

    def day_lazy(self, kind_name: str, day) -> tuple[pl.LazyFrame, Scan]:
        """`day` as a streamable query (the same rows `day_rows` writes)."""
        rows, scan = self.day_rows(kind_name, day)
        return rows.frame, scan

    def day_rows(self, kind_name: str, day) -> tuple[DayRows, Scan]:
        """`day`, to be written to its staged file: which rows lose to a later copy of their key
        is decided first from a hash of the key columns, then the day is copied from the parse
        cache (one cache file that is exactly the day), re-encoded from the row groups holding
        it, or streamed through a polars filter, so the whole day is never held in memory with
        its copies (see `day_files`)."""
        kind = EXPORT_KINDS[kind_name]
        start, end = day_bounds(day)
        scan = self.scan(kind_name)
        # the scan's columns are its first file's: taken from the footers `plan_day` keeps
        planned = plan_day(scan.parquet, None, scan.key, kind.time_column, start, end)
        if planned is not None:
            return planned, scan
        in_day = pl.col(kind.time_column).is_between(start, end, closed="left")
        key = pl.col(scan.key[0]) if len(scan.key) == 1 else pl.struct(scan.key)
        rows, keys = scan.raw.filter(in_day).select(pl.len(), key.n_unique()).collect().row(0)
        if rows == keys:  # a count of distinct keys is cheaper than numbering the rows
            return DayRows(scan.raw.filter(in_day)), scan
        numbered = scan.raw.with_row_index("_row").filter(in_day)
        dropped = numbered.select("_row", *scan.key).filter(~key.is_last_distinct()).select("_row").collect()["_row"]
        return DayRows(numbered.filter(~pl.col("_row").is_in(dropped.implode())).drop("_row")), scan


def _write_blocks(blocks, path: Path, kind: ExportKind) -> None:
    """Write the parsed blocks into one parquet file as they arrive, a row group per block but
    for the runs of rows a later copy in the block replaces, each a row group of its own
    (`block_groups`): a file's records are never all in memory at once, and the write of one block
    overlaps the parse of the next (pyarrow releases the GIL while it encodes).

    Statistics only for the time column and the key: the day's staging prunes row groups on the
    time column, and min/max of every text column cost a quarter of the write. Dictionaries for the
    string columns other than the key (senders, rooms, types and the archive's recipient texts
    repeat; ids are nearly unique and a dictionary only slows them; pyarrow falls back to plain
    pages when one grows past 1 MB), and for the strings of list columns: 1M generated archive
    messages (recipients then a list) wrote in ~0.83 CPU s instead of ~0.92 without any (polars'
    sink: 1.5 s), 27 MB instead of 37 MB, and read back in 0.34 CPU s instead of 0.60 (load ~5;
    without the text column's dictionary 0.93 s, 30 MB, 0.37 s: the demo's texts repeat).

    The codecs of the staged row groups staging encodes itself (`_codecs`): a busy day's staged
    file is this file copied (or its row groups copied), read again by the contract, the chat
    rules and later days' look-backs.

    Frames go to Arrow as string views (polars' own layout, zero-copy): the default conversion to
    plain Arrow strings copied every string, 0.4-0.7 CPU s per million messages; the file's
    columns are the same Parquet strings either way.
    """
    import pyarrow.parquet as pq

    views = pl.CompatLevel.newest()
    empty = _empty_frame(kind)
    schema = empty.to_arrow(compat_level=views).schema
    stats = [kind.time_column, *kind.natural_key] if kind.time_column else list(kind.natural_key)
    # named by Parquet column path: a list's strings are its `.list.element` (`urls`; `recipients`
    # is a String column, one JSON text a message)
    leaves = {c: c if not isinstance(dt, pl.List) else f"{c}.list.element" for c, dt in empty.schema.items()}
    repeating = [leaves[c] for c, dt in empty.schema.items()
                 if c not in kind.natural_key and dt in (pl.String, pl.List(pl.String))]
    with pq.ParquetWriter(path, schema, **_codecs(list(leaves.values()), stats), use_dictionary=repeating,
                          write_statistics=[c for c in stats if c in schema.names]) as writer:
        for frame in blocks:
            if frame.height:
                table, start = frame.to_arrow(compat_level=views), 0
                for rows in block_groups(frame, list(kind.natural_key)):
                    writer.write_table(table.slice(start, rows), row_group_size=rows)
                    start += rows


# A run of at least this many rows of a parsed block that later rows of the block replace (a
# retry's or an overlapping re-export's earlier copies, which the day's staging drops) is a row
# group of its own, at most MAX_SPLIT_RUNS runs a block. The day's staging copies a cache row
# group whose every row survives byte for byte and re-encodes the others (`day_encode`) at ~3x the
# CPU of their first write: the bench day's 200-line retries (one every 44,912 lines) left 224 of
# its 282 ~35.7k-row groups to re-encode, each holding such a run; split out, the run's group is
# dropped whole and the groups around it copied: 4 of 503 groups re-encoded (runs across two
# blocks), the staged write 5.6-6.2 -> 1.1-1.3 CPU s, the whole `stage_day` step in process
# 10.3-11.0 -> 4.9-5.3 CPU s (2026-12-01, load 8-10). The cost, at the parse (1M bench file, one
# thread, load 8-10): the check below ~0.03 CPU s per million messages without repeats, ~0.05
# with them, and the cache write of a block of three groups instead of one; readers of a staged
# file of more, smaller row groups (the chat rules' slices) ~+0.2 CPU s at 10M.
MIN_SPLIT_RUN = 64
MAX_SPLIT_RUNS = 8


def block_groups(frame: pl.DataFrame, key: list[str]) -> list[int]:
    """Row counts, in order, of the row groups a parsed block is written as: the whole block, but
    the runs of at least MIN_SPLIT_RUN rows whose key a later row of the block repeats (the first
    MAX_SPLIT_RUNS) each a group of their own. A block whose key hashes are distinct is one group
    after one hash and sort of its keys."""
    from wxpipeline.hashes import repeated_hashes

    n = frame.height
    if not key or n < MIN_SPLIT_RUN:
        return [n]
    keyed = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    hashes = frame.select(keyed.hash()).to_series()
    repeated = repeated_hashes(hashes)
    if not repeated.len():
        return [n]
    # only the rows whose key hash repeats compared on the key (a third of the block's CPU here)
    candidates = np.flatnonzero(hashes.is_in(repeated.implode()).to_numpy())
    replaced = candidates[frame[candidates].select(~keyed.is_last_distinct()).to_series().to_numpy()]
    if not len(replaced):  # the hashes collided
        return [n]
    runs = np.split(replaced, np.flatnonzero(np.diff(replaced) != 1) + 1)
    cuts = [0]
    for run in [r for r in runs if len(r) >= MIN_SPLIT_RUN][:MAX_SPLIT_RUNS]:
        cuts += [int(run[0]), int(run[-1]) + 1]
    cuts.append(n)
    return [b - a for a, b in zip(cuts, cuts[1:]) if b > a]


def _codecs(leaves: list[str], uncompressed: list[str]) -> dict:
    """The writer's compression arguments per column: `day_encode.ENCODED_COMPRESSION` (LZ4), the
    key and time column (`uncompressed`) left uncompressed (`day_encode.UNCOMPRESSED`), as staging
    encodes row groups. Against zstd level 1 for every column, the 1M-message bench day's parsed
    blocks (2026-12-01, load 6.4-7.6, medians of 5-6 alternated runs, one thread and default
    threads alike): written in 0.38-0.43 instead of 0.62-0.68 CPU s (the ids' compression was a
    fifth of the write), read back whole by polars in 0.18-0.20 instead of 0.29-0.30; 57 MB
    instead of 25 MB."""
    from wxpipeline.resources.day_encode import ENCODED_COMPRESSION, UNCOMPRESSED

    packed = [leaf for leaf in leaves if leaf.split(".")[0] not in uncompressed]
    codec = ENCODED_COMPRESSION["compression"]
    out: dict = {"compression": {leaf: codec if leaf in packed else UNCOMPRESSED for leaf in leaves}}
    if "compression_level" in ENCODED_COMPRESSION:  # a level only for the compressed columns
        out["compression_level"] = {leaf: ENCODED_COMPRESSION["compression_level"] for leaf in packed}
    return out


_EMPTY_CACHE: dict[str, pl.DataFrame] = {}


def _empty_frame(kind: ExportKind) -> pl.DataFrame:
    """A zero-row frame with the parser's schema, for a kind with no files yet."""
    if kind.name not in _EMPTY_CACHE:
        from wxpipeline.formats import schemas

        _EMPTY_CACHE[kind.name] = pl.DataFrame(schema=schemas.export_schema(kind.name))
    return _EMPTY_CACHE[kind.name]
