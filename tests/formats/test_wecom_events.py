from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.formats.wecom_events import SCHEMA, parse_wecom_group_events

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-exports"
SH = ZoneInfo("Asia/Shanghai")
COLS = ("event_time", "group_id", "change_type", "update_detail", "join_scene", "join_method", "quit_scene",
        "members", "member_change_count")


def real(name: str) -> Path:
    if not REAL.exists():
        pytest.skip(f"real export samples not present at {REAL}")
    return REAL / "wecom_groupchat" / name


def ts(s: int) -> datetime:
    return datetime.fromtimestamp(s, SH)


def one(path: Path) -> dict:
    res = parse_wecom_group_events(path)
    assert res.rejects == [] and res.frame.height == 1 and res.frame.schema == SCHEMA
    return {k: v for k, v in res.frame.row(0, named=True).items() if k in COLS}


def test_real_callbacks_parse():
    assert dict(SCHEMA) == SCHEMAS["wecom_group_events"]
    assert one(real("doc_change_external_chat_update_add_member.xml")) == {
        "event_time": ts(1403610513), "group_id": "wrx7HUARsKwGRaQBVKPBTcEyzdHA4HrQ", "change_type": "update",
        "update_detail": "add_member", "join_scene": 1, "join_method": "invite", "quit_scene": None,
        "members": ["Jack", "Rose"], "member_change_count": 10}
    # third-party form: TimeStamp instead of CreateTime, InfoType instead of Event
    third = one(real("doc_change_external_chat_thirdparty_update.xml"))
    assert (third["event_time"], third["group_id"], third["members"]) == (ts(1403610513), "CHAT_ID", ["Jack", "Rose"])
    # no QuitScene element, CDATA versions, a JoinScene that means nothing on change_name
    name = one(real("senparc_change_external_chat_update_change_name.xml"))
    assert (name["update_detail"], name["join_scene"], name["quit_scene"], name["members"]) == (
        "change_name", None, None, [])


def lines(tmp_path: Path, rows: list, name: str = "e.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return p


EV = {"CreateTime": 1790000000, "ChatId": "wr1", "ChangeType": "update", "UpdateDetail": "add_member",
      "JoinScene": 3, "MemChangeCnt": 1, "MemChangeList": ["a"]}


def test_jsonl_forms_scales_and_rejects(tmp_path):
    xml = ("<xml><CreateTime>1790000500</CreateTime><Event><![CDATA[change_external_chat]]></Event>"
           "<ChatId><![CDATA[wr2]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>"
           "<UpdateDetail><![CDATA[del_member]]></UpdateDetail><QuitScene>0</QuitScene>"
           "<MemChangeList><![CDATA[x, y]]></MemChangeList></xml>")
    path = lines(tmp_path, [
        EV,
        {**EV, "CreateTime": "1790000100", "UpdateDetail": "del_member", "QuitScene": 1, "JoinScene": 0,
         "MemChangeList": "a,b"},
        {"CreateTime": 1790000200, "ChatId": "wr1", "ChangeType": "dismiss"},
        json.dumps(EV)[:30],
        {**EV, "Event": "change_external_contact"},
        {**EV, "ChatId": ""},
        {**EV, "ChangeType": "update", "UpdateDetail": None},
        xml,
        "<xml><CreateTime>1</Create",
    ])
    res = parse_wecom_group_events(path)
    got = [tuple(r[c] for c in ("group_id", "update_detail", "join_method", "quit_method", "members"))
           for r in res.frame.iter_rows(named=True)]
    assert got == [
        ("wr1", "add_member", "qrcode", None, ["a"]),
        ("wr1", "del_member", None, "removed", ["a", "b"]),
        ("wr1", "", None, None, []),  # dismiss: empty detail, so the natural key has no null
        ("wr2", "del_member", None, "self", ["x", "y"]),
    ]
    assert res.frame["source_line"].to_list() == [1, 2, 3, 8]
    assert [(r.line, r.reason.split(":")[0]) for r in res.rejects] == [
        (4, "not a valid JSON record"), (5, "not a change_external_chat event"), (6, "ChatId missing"),
        (7, "UpdateDetail missing on an update"), (9, "not well-formed XML callback")]


def test_xml_file_with_several_callbacks(tmp_path):
    a = real("doc_change_external_chat_update_add_member.xml").read_text("utf-8")
    b = real("senparc_change_external_chat_update_change_name.xml").read_text("utf-8")
    path = tmp_path / "callbacks.xml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + a + "\n" + b, "utf-8")
    res = parse_wecom_group_events(path)
    assert res.rejects == []
    assert res.frame.select("update_detail", "source_line").rows() == [("add_member", 2), ("change_name", 2 + a.count("\n") + 1)]


def test_broken_xml_file_is_rejected_whole(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text("<xml><ChatId>wr1</ChatId>\n<ChangeType>update", "utf-8")
    with pytest.raises(ExportFormatError):
        parse_wecom_group_events(path)
