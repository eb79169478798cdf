"""Repeated 64-bit key hashes, found by sorting them, and staging's proof that a staged file's
key is distinct.

Deduplicating millions of keys (a day's message ids) with a hash table of the keys themselves
grows past the CPU caches; sorting their 64-bit hashes costs a third to a fifth of polars'
`is_duplicated`/`n_unique`, and only the rows whose hash repeats (the real repeats, and a
collision now and then) need comparing on the key. Used by the day's staging (keep-last), the
contracts' unique-key check and CHAT-06/07's group records."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl


def _sorted_repeats(hashes: pl.Series) -> np.ndarray:
    ordered = np.sort(hashes.drop_nulls().to_numpy())
    return ordered[1:][ordered[1:] == ordered[:-1]]


def repeated_hashes(hashes: pl.Series) -> pl.Series:
    """The distinct values of `hashes` (UInt64) that occur more than once."""
    return pl.Series(np.unique(_sorted_repeats(hashes)), dtype=pl.UInt64)


def repeated_rows(hashes: pl.Series) -> np.ndarray:
    """The positions (ascending) of the values of `hashes` (UInt64) that occur more than once.
    One copy of the hashes, sorted in place, and one `is_in` over them: `repeated_hashes` and then a
    row index and a filter of both columns by `is_in` made two more 10M-row copies (the busy 10M
    bench day, one thread: 0.37-0.72 -> ~0.27 CPU s)."""
    if hashes.null_count():
        found = hashes.is_in(repeated_hashes(hashes).implode())
        return np.flatnonzero(found.fill_null(False).to_numpy())
    ordered = hashes.to_numpy(writable=True)  # a copy of polars' memory: sorted in place
    ordered.sort()
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeats):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(hashes.is_in(pl.Series(np.unique(repeats), dtype=pl.UInt64).implode()).to_numpy())


def repeat_count(hashes: pl.Series) -> int:
    """How many of `hashes` equal another one (0: all distinct)."""
    return int(len(_sorted_repeats(hashes)))


def file_identity(path: Path) -> tuple:
    """What changes whenever a file is replaced or written to: device, inode, size, modification
    and change times (ns; a writer cannot set a change time back) and a digest of its last bytes
    (a parquet file's footer: every column chunk's offsets, sizes and statistics), which tells a
    rewrite of other content apart even within one tick of the file system's clock."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        fh.seek(max(0, st.st_size - 8))
        tail = fh.read(8)
        footer = int.from_bytes(tail[:4], "little") + 8 if tail[4:] == b"PAR1" else 65_536
        fh.seek(max(0, st.st_size - footer))
        digest = hashlib.blake2b(fh.read(footer), digest_size=16).digest()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest


@dataclass(frozen=True)
class DistinctKeys:
    """Staging's proof that the values of `key` are distinct (nulls aside) over the `rows` rows
    of the staged file `path`, bound to that file as written (`identity`, `file_identity`).

    The day's staging decides which rows survive by the key itself (`day_files.plan_day`: distinct
    64-bit hashes prove distinct keys, rows whose hash repeats are compared on the key and all but
    the last dropped), so the surviving rows it writes have distinct keys. The messages contract
    reads this instead of hashing and sorting the key again, only for the very file written: a
    file replaced or written to since (another identity) or holding another number of rows is
    checked on its values as any other (`contracts.validate`)."""

    key: tuple[str, ...]
    rows: int
    path: Path
    identity: tuple

    def holds(self, key: tuple[str, ...]) -> bool:
        """Whether this proof is about `key` and the file at `path` is still the one written (the
        caller compares the row count it reads with `rows`)."""
        try:
            return tuple(key) == self.key and file_identity(self.path) == self.identity
        except OSError:
            return False
