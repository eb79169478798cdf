"""The parse cache of streamed kinds (the WeCom archive): what is written is what was parsed,
row groups carry the statistics the day's staging prunes on, and an empty file caches an empty
table with the full schema."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pyarrow.parquet as pq

from wxpipeline.formats import jsontools
from wxpipeline.formats.schemas import export_schema
from wxpipeline.formats.wecom_archive import parse_wecom_archive
from wxpipeline.resources.exports import ExportsFolder

DAY_MS = 1_790_006_400_000  # 2026-09-22 00:00 Asia/Shanghai (UTC+8) in ms


def _folder(tmp_path) -> ExportsFolder:
    return ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))


def _line(i: int, ms: int) -> str:
    return json.dumps({"msgid": f"m{i}", "action": "send", "from": "zhangsan", "tolist": ["lisi"], "roomid": "",
                       "msgtime": ms, "msgtype": "text", "text": {"content": f"第{i}条"}}, ensure_ascii=False)


def test_cached_archive_equals_the_parse_and_prunes_on_time(tmp_path, monkeypatch):
    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 4000)  # several blocks: several row groups
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    # the day before, then the day: each block's rows on one day
    lines = [_line(i, DAY_MS - 86_400_000 + i) for i in range(100)] + [_line(i, DAY_MS + i) for i in range(100, 200)]
    path = archive / "a.jsonl"
    path.write_text("\n".join(lines) + "\nnot json\n", "utf-8")
    folder = _folder(tmp_path)
    scan = folder.scan("wecom_archive")
    parsed = parse_wecom_archive(path)
    assert scan.raw.collect().equals(parsed.frame) and [r.line for r in scan.rejects] == [201]
    cached = next((tmp_path / "cache" / "wecom_archive").glob("*.parquet"))
    meta = pq.ParquetFile(cached).metadata
    assert meta.num_row_groups > 2
    names = [meta.row_group(0).column(c).path_in_schema for c in range(meta.num_columns)]
    stats = {n: meta.row_group(0).column(c).is_stats_set for c, n in enumerate(names)}
    assert stats["sent_at"] and stats["msgid"] and not stats["text"]
    # dictionaries for the repeating strings, not for the nearly unique key
    encodings = {n: meta.row_group(0).column(c).encodings for c, n in enumerate(names)}
    assert "RLE_DICTIONARY" in encodings["sender"] and "RLE_DICTIONARY" in encodings["recipients"]
    assert "RLE_DICTIONARY" not in encodings["msgid"] and "RLE_DICTIONARY" not in encodings["source_line"]
    # the codecs staging encodes with: the key and the time column uncompressed, LZ4 the rest
    codecs = {n: meta.row_group(0).column(c).compression for c, n in enumerate(names)}
    assert codecs["msgid"] == codecs["sent_at"] == "UNCOMPRESSED"
    assert codecs["text"] == codecs["recipients"] == codecs["urls.list.element"] == "LZ4"
    day, _ = folder.day("wecom_archive", date(2026, 9, 22))
    assert day["msgid"].to_list() == [f"m{i}" for i in range(100, 200)]


def test_an_archive_without_records_caches_an_empty_table(tmp_path):
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    (archive / "empty.jsonl").write_text("\n\n", "utf-8")
    frame = _folder(tmp_path).scan("wecom_archive").raw.collect()
    assert frame.height == 0 and frame.schema == pl.Schema(export_schema("wecom_archive"))
    assert frame.schema == parse_wecom_archive(archive / "empty.jsonl").frame.schema


def test_a_cache_entry_of_the_previous_parser_version_is_parsed_again(tmp_path):
    # v2 cached `recipients` as List[String]: its entry must be neither read nor mixed with v3 ones
    import hashlib

    from wxpipeline.formats.registry import EXPORT_KINDS

    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    path = archive / "a.jsonl"
    path.write_text("\n".join(_line(i, DAY_MS + i) for i in range(5)) + "\n", "utf-8")
    st = path.stat()
    assert EXPORT_KINDS["wecom_archive"].version == "3"
    old_key = hashlib.sha256(f"2|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    old = tmp_path / "cache" / "wecom_archive" / old_key
    old.parent.mkdir(parents=True)
    stale = parse_wecom_archive(path).frame.with_columns(pl.col("recipients").str.json_decode(pl.List(pl.String)))
    stale.write_parquet(old.with_suffix(".parquet"))
    old.with_suffix(".rejects.json").write_text("[]", "utf-8")
    folder = _folder(tmp_path)
    scan = folder.scan("wecom_archive")
    assert scan.parquet and old.with_suffix(".parquet") not in scan.parquet
    assert scan.raw.collect()["recipients"].to_list() == ['["lisi"]'] * 5
    day, _ = folder.day("wecom_archive", date(2026, 9, 22))
    assert day.schema["recipients"] == pl.String and day.height == 5



def test_the_cache_entry_follows_the_file_although_its_path_is_resolved_once(tmp_path):
    import os

    from wxpipeline.formats.registry import EXPORT_KINDS

    kind = EXPORT_KINDS["wecom_archive"]
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    path = archive / "a.jsonl"
    path.write_text("\n".join(_line(i, DAY_MS + i) for i in range(5)) + "\n", "utf-8")
    folder = _folder(tmp_path)
    assert folder.scan("wecom_archive").raw.collect().height == 5
    first = folder._cache_base(kind, path, path.stat())
    assert folder._cache_base(kind, path, path.stat()) == first  # the same file: the same entry
    # rewritten in place with more records, its mtime set back to the old one: the size tells
    mtime = path.stat().st_mtime_ns
    path.write_text("\n".join(_line(i, DAY_MS + i) for i in range(7)) + "\n", "utf-8")
    os.utime(path, ns=(mtime, mtime))
    assert folder._cache_base(kind, path, path.stat()) != first
    assert folder.scan("wecom_archive").raw.collect().height == 7
    # reached through another folder (a symlink): resolved to the same file, the same entry
    link = tmp_path / "linked"
    link.symlink_to(tmp_path / "exports", target_is_directory=True)
    via = link / "wecom_archive" / "a.jsonl"
    assert folder._cache_base(kind, via, via.stat()) == folder._cache_base(kind, path, path.stat())


def test_the_process_caches_keep_one_entry_a_path_and_follow_the_file(tmp_path):
    # a long-lived sensor process sees many versions of a file: the resolved cache key and the
    # complete entry read are remembered once a path, each version still read as itself
    from wxpipeline.formats.registry import EXPORT_KINDS
    from wxpipeline.resources import exports

    kind = EXPORT_KINDS["wecom_archive"]
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    path = archive / "a.jsonl"
    folder = _folder(tmp_path)
    bases = set()
    for n in range(1, 6):
        path.write_text("\n".join(_line(i, DAY_MS + i) for i in range(n)) + "\n", "utf-8")
        bases.add(folder._cache_base(kind, path, path.stat()))
        folder._cached(kind, path)  # parses the new version
        cached, _, meta = folder._cached(kind, path)  # read back: remembered
        assert meta["records"] == n and pl.read_parquet(cached).height == n
    assert len(bases) == 5  # each version its own cache entry
    assert sum(1 for where in exports._CACHE_BASES if where[1] == str(path)) == 1
    assert sum(1 for where in exports._COMPLETE if where[1] == str(path)) == 1


def test_xlsx_bill_period_is_kept_beside_its_cache_entry(tmp_path, monkeypatch):
    """An XLSX bill's period (`arrival.bill_period`, which needs openpyxl) is read once per file
    version and kept beside its parse-cache entry: the next inventory reads the kept one (the same
    FileInfo), a changed file is read again, and a CSV bill is always read from the file."""
    from datetime import datetime

    from wxpipeline import arrival
    from wxpipeline.demo.payments import Tx
    from wxpipeline.demo.payments_files import _bill_csv, _bill_xlsx

    pay = tmp_path / "exports" / "wechat_pay"
    pay.mkdir(parents=True)
    tx = Tx("t1", "m1", "吴静-财务", "E1", datetime(2026, 10, 3, 9, 0), "商户消费", "店", "文具", "支出", 1250, "零钱", "支付成功")
    path = pay / "wxpay_wu_20261001-20261010.xlsx"
    path.write_bytes(_bill_xlsx("吴静-财务", date(2026, 10, 1), date(2026, 10, 10), datetime(2026, 10, 11, 9), [tx]))
    folder = _folder(tmp_path)
    first = arrival.file_info(folder, "wechat_pay", path)
    assert first.accounts["吴静-财务"][1] == "2026-10-11T00:00:00+08:00"  # the period's end, past the record
    assert len(list((tmp_path / "cache" / "wechat_pay").glob("*.bill.json"))) == 1
    read = []
    monkeypatch.setattr(arrival, "bill_period", lambda p: read.append(p) or (None, None))
    assert arrival.file_info(folder, "wechat_pay", path) == first and read == []
    path.write_bytes(_bill_xlsx("吴静-财务", date(2026, 10, 1), date(2026, 10, 12), datetime(2026, 10, 13, 9), [tx]))
    changed = arrival.file_info(folder, "wechat_pay", path)
    assert read == [path] and changed.accounts["吴静-财务"][1] == "2026-10-03T09:00:00+08:00"  # records only
    csv = pay / "wxpay_wu_20261001-20261010.csv"
    csv.write_bytes(_bill_csv("吴静-财务", date(2026, 10, 1), date(2026, 10, 10), datetime(2026, 10, 11, 9), [tx], "trim21"))
    assert not arrival.file_info(folder, "wechat_pay", csv).rejected
    arrival.file_info(folder, "wechat_pay", csv)
    assert read == [path, csv, csv]
