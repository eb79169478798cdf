"""What the exports folder holds, file by file: which days each file's records fall on, the
latest record time, and (bills) which pay accounts it covers until when. Read from the parse
cache (a file is parsed once), kept beside it as a small JSON so a night with no change reads no
parquet at all.

Used by the exports sensor and `wxpipeline nightly` (which files changed, which staged
partitions they touch), by `wxpipeline run` (which days around the period to stage) and by the
findings assets (coverage: have a day's expected inputs arrived).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from wxpipeline.formats.registry import EXPORT_KINDS
from wxpipeline.times import TZ, TZ_NAME


class ExportsFolderError(RuntimeError):
    """The exports folder is missing or holds no export file: nothing can be judged."""


@dataclass
class FileInfo:
    """One export file as one kind reads it."""

    kind: str
    path: str  # relative to the exports folder
    signature: str  # size and mtime: a change means the file changed
    days: list[str] = field(default_factory=list)  # ISO days its records fall on (partitioned kinds)
    latest: str | None = None  # ISO latest record time
    accounts: dict[str, list[str]] = field(default_factory=dict)  # bills: account -> [first, last] record time
    rejected: bool = False  # the whole file was refused (wrong kind, unreadable)


def signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _summarise(kind_name: str, pq: Path | None) -> dict:
    kind = EXPORT_KINDS[kind_name]
    if pq is None or kind.time_column is None:
        return {}
    ts = pl.col(kind.time_column)
    lf = pl.scan_parquet(pq)
    # one read of the file for both (a cold parse summarises every file of the folder)
    days, latest = lf.select(ts.dt.convert_time_zone(TZ_NAME).dt.date().unique().sort().drop_nulls().implode(),
                             ts.max().alias("_latest")).collect().row(0)
    out = {"days": [d.isoformat() for d in days], "latest": latest.isoformat() if latest else None}
    if kind_name == "wechat_pay":
        acc = lf.group_by("account_nickname").agg(ts.min().alias("a"), ts.max().alias("b")).collect()
        out["accounts"] = {r["account_nickname"] or "": [r["a"].isoformat(), r["b"].isoformat()]
                           for r in acc.iter_rows(named=True) if r["a"] is not None}
    return out


_PERIOD_END = re.compile(r"终止时间：\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\]")
_NICKNAME = re.compile(r"微信昵称：\[(.*?)\]")


def bill_period(path: Path) -> tuple[str | None, datetime | None]:
    """(微信昵称, 终止时间) from a bill export's preamble: the export covers its account up to the
    period end even where the account made no payment (a monthly export covers the whole month)."""
    try:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            try:
                text = "\n".join(str(row[0]) for row in wb.active.iter_rows(max_row=20, values_only=True) if row and row[0])
            finally:
                wb.close()
        else:
            raw = path.open("rb").read(4096)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", errors="replace")
    except Exception:  # an unreadable preamble only means the records alone tell the coverage
        return None, None
    nick, end = _NICKNAME.search(text), _PERIOD_END.search(text)
    return (nick.group(1) if nick else None,
            datetime.fromisoformat(end.group(1)).replace(tzinfo=TZ) + timedelta(seconds=1) if end else None)


def _kept_json(kept: Path | None, compute):
    """`compute()`'s JSON value, kept at `kept` (beside a parse-cache entry, whose key names the file
    as it is: path, size, mtime; a changed file has another entry) by the first process that works
    it out; None from `compute` is not kept (worked out again next time). `kept` None: not kept."""
    if kept is not None:
        try:
            return json.loads(kept.read_text("utf-8"))
        except (OSError, ValueError):  # not kept yet (or unreadable): work it out
            pass
    value = compute()
    if kept is not None and value is not None:
        tmp = kept.with_suffix(f".{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(value), "utf-8")
            os.replace(tmp, kept)
        except OSError:  # a cache that cannot be written costs only the next read
            tmp.unlink(missing_ok=True)
    return value


def _kept_bill_period(path: Path, pq: Path | None) -> tuple[str | None, datetime | None]:
    """`bill_period(path)`, kept beside the file's parse-cache entry (`<key>.bill.json`) by the
    first process that reads it (in `run`/`nightly` the exports read, usually the process that
    parsed the bill): an XLSX bill's preamble needs openpyxl, ~0.25-0.45 CPU s to import, which a
    process reading the kept period (the judging one) then never imports. A CSV bill's preamble
    costs no more to read than the kept copy, and a preamble without both values (perhaps not read)
    is read again next time, as before."""
    if pq is None or path.suffix.lower() != ".xlsx":
        return bill_period(path)

    def period() -> list[str] | None:
        nick, end = bill_period(path)
        return None if nick is None or end is None else [nick, end.isoformat()]

    kept = _kept_json(pq.with_suffix(".bill.json"), period)
    if not (isinstance(kept, list) and len(kept) == 2):
        return None, None
    return kept[0], datetime.fromisoformat(kept[1]).astimezone(TZ)


def file_info(exports, kind_name: str, path: Path) -> FileInfo:
    """The file's days and latest record time (parsing it into the cache if needed)."""
    kind = EXPORT_KINDS[kind_name]
    pq, rejects, _meta = exports._cached(kind, path)  # (parquet, rejects, parser meta) since issue 16
    rel = str(path.relative_to(exports.exports_dir))
    data = _kept_json(pq.with_suffix(".days.json") if pq else None, lambda: _summarise(kind_name, pq))
    info = FileInfo(kind=kind_name, path=rel, signature=signature(path), rejected=pq is None, **data)
    if kind_name == "wechat_pay":
        nick, end = _kept_bill_period(path, pq)
        if nick is not None and end is not None:
            first, last = info.accounts.get(nick, [end.isoformat(), end.isoformat()])
            info.accounts[nick] = [first, max(datetime.fromisoformat(last), end).isoformat()]
    return info


def list_files(exports) -> dict[str, list[tuple[str, Path]]]:
    """relative path -> [(kind, absolute path)] for every export file the kinds' globs match."""
    out: dict[str, list[tuple[str, Path]]] = {}
    root = Path(exports.exports_dir)
    for kind in EXPORT_KINDS.values():
        for p in exports.files(kind):
            out.setdefault(str(p.relative_to(root)), []).append((kind.name, p))
    return out


def require_exports(exports_dir: str | Path) -> None:
    """Refuse to judge anything over a missing or empty exports folder (it would look all clear)."""
    root = Path(exports_dir)
    if not root.is_dir():
        raise ExportsFolderError(f"exports folder {root} does not exist (WXPIPELINE_EXPORTS_DIR)")
    if not _holds_an_export(root):
        raise ExportsFolderError(
            f"exports folder {root} holds no export files (expected e.g. wecom_archive/*.jsonl, "
            "wechat_pay/*.csv, reference/roster.csv; see DESIGN.md)")


def _holds_an_export(root: Path) -> bool:
    """Whether any kind's glob matches an export file: stops at the first one (every staged
    asset asks, ~180 times in a one-day run; listing every file of every kind took 7 ms each)."""
    for kind in EXPORT_KINDS.values():
        for g in kind.globs:
            if any(p.is_file() and not p.name.startswith((".", "~$")) for p in root.glob(g)):
                return True
    return False


def inventory(exports) -> dict[str, list[FileInfo]]:
    """relative path -> what each kind reads from it, for every export file now in the folder
    (in `list_files` order). Files are read smallest first; `wxpipeline run` and `nightly` have
    them parsed by two processes first (`StagePool.read_exports`: the stage helper takes the
    largest) and then read this from the cache. The kinds reading one file are read one after
    the other (a group snapshot is decoded once for both)."""
    listed = list_files(exports)
    order = smallest_first(listed)
    expect(exports, listed, order)
    infos = {rel: [file_info(exports, k, p) for k, p in listed[rel]] for rel in order}
    return {rel: infos[rel] for rel in listed}


def expect(exports, listed: dict[str, list[tuple[str, Path]]], order: list[str]) -> None:
    """Announce the files about to be parsed, in `order`, to the parsers that parse many small
    files together (`ExportKind.expect`): only those missing from the parse cache (a file parsed
    before is read from the cache, never parsed again with a batch)."""
    by_parser: dict[str, dict[Path, None]] = {}  # one announcement per parser, in `order`
    for kind in EXPORT_KINDS.values():
        if kind.expect_path is not None:
            by_parser.setdefault(kind.expect_path, {})
    for rel in order:
        for name, path in listed[rel]:
            kind = EXPORT_KINDS[name]
            if kind.expect_path is not None and not exports.is_cached(kind, path):
                by_parser[kind.expect_path][path] = None
    for target, paths in by_parser.items():
        next(k for k in EXPORT_KINDS.values() if k.expect_path == target).expect(list(paths))


def smallest_first(listed: dict[str, list[tuple[str, Path]]]) -> list[str]:
    """The relative paths of `list_files` by size, smallest first (ties and vanished files keep
    their listed order; a vanished file is reported by `file_info` as before)."""
    def size(rel: str) -> int:
        try:
            return listed[rel][0][1].stat().st_size
        except OSError:
            return -1
    return sorted(listed, key=size)


def manifest(inv: dict[str, list[FileInfo]]) -> dict[str, dict]:
    """A compact, JSON-able record of the folder (the sensor cursor / nightly state)."""
    return {rel: {"sig": infos[0].signature, "kinds": [asdict(i) for i in infos]} for rel, infos in inv.items()}


def kind_days(entry: dict) -> dict[str, set[date]]:
    out: dict[str, set[date]] = {}
    for k in entry["kinds"]:
        out.setdefault(k["kind"], set()).update(date.fromisoformat(d) for d in k["days"])
    return out


@dataclass
class Change:
    path: str
    what: str  # new | changed | removed
    kinds: dict[str, set[date]]  # kind -> days touched (old and new records for a changed file)


def diff(old: dict[str, dict], new: dict[str, dict]) -> list[Change]:
    """Files new, changed (size or mtime) or removed between two manifests."""
    changes = []
    for rel in sorted(set(old) | set(new)):
        o, n = old.get(rel), new.get(rel)
        if o is not None and n is not None and o["sig"] == n["sig"]:
            continue
        what = "new" if o is None else "removed" if n is None else "changed"
        days: dict[str, set[date]] = {}
        for entry in (o, n):
            if entry is not None:
                for k, ds in kind_days(entry).items():
                    days.setdefault(k, set()).update(ds)
        for entry in (o, n):  # reference kinds: no days, still a change
            for k in (entry or {"kinds": []})["kinds"]:
                days.setdefault(k["kind"], set())
        changes.append(Change(rel, what, days))
    return changes


def local_now() -> datetime:
    return datetime.now(TZ)
