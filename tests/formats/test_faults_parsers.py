"""Issue 12 #2-#5, one test per reported file: encodings, damaged and wrong-kind files, units."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.ledger import parse_ledger
from wxpipeline.formats.mp_publish import parse_mp_published
from wxpipeline.formats.wechat_pay import parse_wechat_pay_bill
from wxpipeline.formats.wecom_events import parse_wecom_group_events
from wxpipeline.formats.wecom_groups import parse_wecom_group_members, parse_wecom_groups
from wxpipeline.resources.exports import ExportsFolder

from ..assets.exports_fixture import bill_csv

SH = ZoneInfo("Asia/Shanghai")
LEDGER = ("entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
          "L1,E0001,2026-09-22 12:00:00,6000.00,T100,京东,年会采购\n"
          "L2,E0001,2026-09-24 12:00:00,12.00,T101,京东,文具\n")


def _folder(tmp_path: Path) -> ExportsFolder:
    return ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))


def _put(tmp_path: Path, rel: str, data: bytes) -> Path:
    p = tmp_path / "exports" / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


# ---- #2 encodings -------------------------------------------------------------------------------


def test_gbk_ledger_reads_like_its_utf8_original(tmp_path):
    utf8, gbk = tmp_path / "u.csv", tmp_path / "g.csv"
    utf8.write_text(LEDGER, "utf-8")
    gbk.write_bytes(LEDGER.encode("gbk"))
    a, b = parse_ledger(utf8), parse_ledger(gbk)
    assert b.rejects == [] and b.meta["encoding"] == "gb18030"
    assert a.frame.drop("source_file").equals(b.frame.drop("source_file"))
    _put(tmp_path, "ledger/gbk.csv", LEDGER.encode("gbk"))
    _put(tmp_path, "ledger/utf8.csv", LEDGER.replace("L1,", "L3,").replace("L2,", "L4,").encode())
    for _ in range(2):  # parsed, then from the parse cache: the encoding is recorded per file
        assert _folder(tmp_path).scan("ledger").encodings() == {"gb18030": 1, "utf-8": 1}


def test_utf16_bill_with_bom_is_read(tmp_path):
    text = bill_csv("张伟-财务", [("2026-09-22 10:00:00", "6.00", "T1"), ("2026-09-22 11:00:00", "7.00", "T2")])
    p = tmp_path / "bill.csv"
    p.write_bytes(text.encode("utf-16"))
    r = parse_wechat_pay_bill(p)
    assert r.frame["transaction_id"].to_list() == ["T1", "T2"] and r.meta["encoding"].startswith("utf-16")


def test_one_gbk_cell_in_a_utf8_bill_costs_that_line_only(tmp_path):
    rows = [(f"2026-09-22 1{i}:00:00", f"{i + 1}.00", f"T{i}") for i in range(7)]
    lines = bill_csv("张伟-财务", rows).encode("utf-8").split(b"\n")
    bad = len(lines) - 4  # a record near the end, as in the report
    lines[bad] = lines[bad].replace("办公用品".encode("utf-8"), "办公用品".encode("gbk"))
    p = _put(tmp_path, "wechat_pay/bill.csv", b"\n".join(lines))
    r = parse_wechat_pay_bill(p)
    assert r.frame.height == 6 and len(r.rejects) == 1
    reject = r.rejects[0]
    assert reject.line == bad + 1  # a line number, not a byte offset
    assert "bill CSV line not decodable as utf-8" in reject.reason and "gb18030" in reject.reason
    assert "办公用品" in reject.raw  # shown as it reads in GB18030


def test_undecodable_json_names_json_and_its_group_only(tmp_path):
    doc = {"snapshot_time": 1790000000, "group_chat_list": [
        {"chat_id": f"wr{i}", "name": f"群{i}", "owner": "o", "create_time": 1780000000,
         "member_list": [{"userid": f"u{i}", "type": 1, "join_time": 1780000000}]} for i in range(3)]}
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    assert '"群1"'.encode() in data
    data = data.replace('"群1"'.encode(), b'"\xff1"')  # a byte no UTF-8 text holds
    p = _put(tmp_path, "wecom_groups/snap.json", data)
    groups = parse_wecom_groups(p)
    assert sorted(groups.frame["group_id"].to_list()) == ["wr0", "wr2"]
    assert [r.reason for r in groups.rejects] == ["group wr1: holds bytes not decodable as utf-8"]
    assert "CSV" not in groups.rejects[0].reason


# ---- #3 damaged files refused by name, never a crashed domain ----------------------------------


def test_empty_group_snapshot_is_refused_by_name(tmp_path):
    p = _put(tmp_path, "wecom_groups/empty.json", b"")
    with pytest.raises(ExportFormatError, match=r"empty\.json: empty JSON file"):
        parse_wecom_groups(p)
    scan = _folder(tmp_path).scan("wecom_groups")
    assert [(r.file, r.line) for r in scan.rejects] == [(str(p), 0)] and "empty JSON file" in scan.rejects[0].reason


def _damaged_xlsx(tmp_path: Path) -> Path:
    src = Path(__file__).resolve().parents[3] / "shared/real-exports/wechat_pay/deg_example-wechat-records.xlsx"
    if not src.exists():
        pytest.skip("real samples not present")
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]  # the sheet XML is cut: load works, iter_rows fails
            zout.writestr(item, data)
    return _put(tmp_path, "wechat_pay/damaged.xlsx", out.getvalue())


def test_damaged_xlsx_sheet_is_refused_by_name(tmp_path):
    p = _damaged_xlsx(tmp_path)
    with pytest.raises(ExportFormatError, match=r"damaged\.xlsx: damaged XLSX, sheet"):
        parse_wechat_pay_bill(p)
    assert "damaged XLSX" in _folder(tmp_path).scan("wechat_pay").rejects[0].reason


def test_unreadable_file_is_refused_by_name_and_not_cached(tmp_path, monkeypatch):
    p = _put(tmp_path, "ledger/2026-09.csv", LEDGER.encode())
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if self == p else real_read(self))
    scan = _folder(tmp_path).scan("ledger")
    assert scan.rejects[0].file == str(p) and "cannot read the file: Permission denied" in scan.rejects[0].reason
    monkeypatch.setattr(Path, "read_bytes", real_read)
    assert _folder(tmp_path).scan("ledger").frame.collect().height == 2  # readable again: read again


# ---- #4 units -------------------------------------------------------------------------------------


def test_create_time_in_milliseconds_and_implausible_times(tmp_path):
    base = {"Event": "change_external_chat", "ChatId": "wrA", "ChangeType": "update", "UpdateDetail": "add_member",
            "JoinScene": 0, "MemChangeList": ["u1"]}
    lines = [dict(base, CreateTime=1790000000), dict(base, CreateTime=1790000001123, CurMemVer="v2"),
             dict(base, CreateTime=17900000001123456, CurMemVer="v3"), dict(base, CreateTime=42, CurMemVer="v4")]
    p = _put(tmp_path, "wecom_group_events/e.jsonl", "\n".join(json.dumps(x) for x in lines).encode())
    r = parse_wecom_group_events(p)
    assert r.frame["event_time"].to_list() == [datetime.fromtimestamp(1790000000, SH),
                                                datetime.fromtimestamp(1790000001.123, SH)]
    assert r.meta["CreateTime_units"] == {"s": 1, "ms": 1}
    assert [(x.line, x.reason.split(" is not")[0]) for x in r.rejects] == [(3, "CreateTime: 17900000001123456"),
                                                                           (4, "CreateTime: 42")]


def test_update_time_in_milliseconds_is_the_publish_time(tmp_path):
    page = {"item": [{"article_id": "A1", "update_time": 1790000000123,
                      "content": {"news_item": [{"title": "t", "content": "<p>x</p>", "is_deleted": False}]}},
                     {"article_id": "A2", "update_time": 99,
                      "content": {"news_item": [{"title": "u", "content": "<p>y</p>", "is_deleted": False}]}}]}
    p = _put(tmp_path, "mp_published/p.json", json.dumps(page).encode())
    r = parse_mp_published(p)
    assert r.frame["published_at"].to_list() == [datetime.fromtimestamp(1790000000.123, SH)]
    assert r.meta["update_time_units"] == {"ms": 1}
    assert "update_time (item): 99 is not a plausible time" in r.rejects[0].reason


# ---- #5 wrong-kind files, damaged member lists, empty JSON, NUL bytes -----------------------------


def test_groupchat_list_page_is_refused_by_name(tmp_path):
    page = {"errcode": 0, "errmsg": "ok", "group_chat_list": [{"chat_id": "wrA", "status": 0},
                                                              {"chat_id": "wrB", "status": 1}], "next_cursor": "x"}
    p = _put(tmp_path, "wecom_groups/list.json", json.dumps(page).encode())
    with pytest.raises(ExportFormatError, match=r"list\.json:1: a groupchat/list page"):
        parse_wecom_groups(p)


def test_damaged_member_list_is_quarantined_not_a_group_of_zero(tmp_path):
    doc = {"snapshot_time": 1790000000, "group_chat_list": [
        {"chat_id": "wrA", "name": "a", "owner": "o", "member_lisst": [{"userid": "u1"}]},
        {"chat_id": "wrB", "name": "b", "owner": "o", "member_list": [{"userid": "u2"}]}]}
    p = _put(tmp_path, "wecom_groups/s.json", json.dumps(doc).encode())
    groups, members = parse_wecom_groups(p), parse_wecom_group_members(p)
    assert groups.frame["group_id"].to_list() == ["wrB"] and members.frame["userid"].to_list() == ["u2"]
    assert [r.reason for r in groups.rejects] == ["group wrA: member_list missing or not a list"]


def test_material_page_and_empty_json_are_refused_by_name(tmp_path):
    material = {"total_count": 1, "item_count": 1, "item": [{"media_id": "M1", "update_time": 1790000000,
                "content": {"news_item": [{"title": "t", "thumb_media_id": "T", "show_cover_pic": 0,
                                           "content": "c", "url": "u"}]}}]}
    p = _put(tmp_path, "mp_published/material.json", json.dumps(material).encode())
    with pytest.raises(ExportFormatError, match=r"material\.json:1: a material/batchget_material page"):
        parse_mp_published(p)
    e = _put(tmp_path, "mp_published/empty.json", b"  \n")
    with pytest.raises(ExportFormatError, match=r"empty\.json: empty JSON file"):
        parse_mp_published(e)


def test_nul_bytes_in_ids_are_quarantined(tmp_path):
    ledger = tmp_path / "l.csv"
    ledger.write_text(LEDGER.replace("L2,", "L\x002,"), "utf-8")
    r = parse_ledger(ledger)
    assert r.frame["entry_id"].to_list() == ["L1"] and r.rejects[0].reason == "entry_id: contains a NUL byte"
    doc = {"snapshot_time": 1790000000, "group_chat_list": [
        {"chat_id": "wr\x00A", "member_list": []}, {"chat_id": "wrB", "member_list": [{"userid": "u\x001"}]}]}
    p = _put(tmp_path, "wecom_groups/s.json", json.dumps(doc).encode())
    assert sorted(r.reason for r in parse_wecom_group_members(p).rejects) == [
        "group wrB member_list[0]: userid contains a NUL byte", "group_chat_list[0]: chat_id contains a NUL byte"]
    ev = {"Event": "change_external_chat", "ChatId": "wr\x00C", "ChangeType": "create", "CreateTime": 1790000000}
    e = _put(tmp_path, "wecom_group_events/e.jsonl", json.dumps(ev).encode())
    assert [x.reason for x in parse_wecom_group_events(e).rejects] == ["ChatId: contains a NUL byte"]
