from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.formats.wecom_groups import (
    GROUPS_SCHEMA,
    MEMBERS_SCHEMA,
    parse_wecom_group_members,
    parse_wecom_groups,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-exports"
SH = ZoneInfo("Asia/Shanghai")


def real(folder: str, name: str) -> Path:
    if not REAL.exists():
        pytest.skip(f"real export samples not present at {REAL}")
    return REAL / folder / name


def ts(s: int) -> datetime:
    return datetime.fromtimestamp(s, SH)


def test_externalcontact_groupchat_get_response(tmp_path):
    src = real("wecom_groupchat", "doc_externalcontact_groupchat_get_response.json")
    path = tmp_path / "resp.json"
    path.write_bytes(src.read_bytes())
    os.utime(path, (1790000000, 1790000000))  # a bare response is dated by its file
    groups, members = parse_wecom_groups(path), parse_wecom_group_members(path)
    assert groups.rejects == [] and members.rejects == []
    assert groups.frame.schema == GROUPS_SCHEMA and dict(GROUPS_SCHEMA) == SCHEMAS["wecom_groups"]
    assert members.frame.schema == MEMBERS_SCHEMA and dict(MEMBERS_SCHEMA) == SCHEMAS["wecom_group_members"]
    g = groups.frame.row(0, named=True)
    assert (g["group_id"], g["group_name"], g["owner"], g["notice"]) == (
        "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", "销售客服群", "ZhuShengBen", "文明沟通,拒绝脏话")
    assert (g["create_time"], g["member_count"], g["admins"], g["source_format"]) == (
        ts(1572505490), 2, ["sam", "pony"], "externalcontact")
    assert g["snapshot_time"] == ts(1790000000) and groups.meta["snapshot_time_from"] == "file mtime"
    rows = members.frame.select("userid", "member_type", "join_time", "join_scene", "join_method", "invitor",
                                "group_nickname", "member_name").rows()
    assert rows == [
        ("abel", 1, ts(1572505491), 1, "invite", "jack", "客服小张", "张三丰"),
        ("wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", 2, ts(1572505491), 1, "invite", None, "顾客老王", "王语嫣"),
    ]
    assert members.frame["source_line"].to_list() == [5, 5]  # the line of the group's chat_id


def test_msgaudit_internal_group_response_named_after_its_file():
    path = real("wecom_msgaudit", "doc_msgaudit_groupchat_get_response.json")
    groups, members = parse_wecom_groups(path), parse_wecom_group_members(path)
    assert groups.rejects == [] and members.rejects == []
    g = groups.frame.row(0, named=True)
    assert (g["group_id"], g["group_name"], g["owner"], g["create_time"], g["source_format"]) == (
        "doc_msgaudit_groupchat_get_response", "蓦然回首", "ZhangWenChao", ts(1592361604), "msgaudit")
    assert members.frame.select("userid", "join_time", "group_nickname", "member_type").rows() == [
        ("ZhangWenChao", ts(1592361605), None, None), ("xujinsheng", ts(1592377076), None, None)]


def snapshot(tmp_path: Path, chats: list, name: str = "snap.json", t: int = 1790000000, indent=None) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"snapshot_time": t, "group_chat_list": chats}, ensure_ascii=False, indent=indent), "utf-8")
    return p


def chat(cid: str, *userids: str, **extra) -> dict:
    return {"chat_id": cid, "name": f"群{cid}", "owner": userids[0] if userids else "", "create_time": 1700000000,
            "member_list": [{"userid": u, "type": 1, "join_time": 1700000100, "join_scene": 3,
                             "group_nickname": f"{u}-部"} for u in userids], **extra}


def test_design_snapshot_with_all_three_item_shapes(tmp_path):
    items = [
        chat("wrA", "a", "b"),
        {"errcode": 0, "errmsg": "ok", "group_chat": chat("wrB", "c")},  # a whole response
        {"roomid": "wrC", "roomname": "内部群", "creator": "d", "room_create_time": 1600000000,
         "members": [{"memberid": "d", "jointime": 1600000001}]},
        chat("wrE"),  # no members (all left)
    ]
    path = snapshot(tmp_path, items, indent=2)
    groups, members = parse_wecom_groups(path), parse_wecom_group_members(path)
    assert groups.rejects == []
    assert groups.frame.select("group_id", "member_count", "source_format").rows() == [
        ("wrA", 2, "externalcontact"), ("wrB", 1, "externalcontact"), ("wrC", 1, "msgaudit"), ("wrE", 0, "externalcontact")]
    assert set(groups.frame["snapshot_time"]) == {ts(1790000000)}
    assert members.frame.select("group_id", "userid", "join_method").rows() == [
        ("wrA", "a", "qrcode"), ("wrA", "b", "qrcode"), ("wrB", "c", "qrcode"), ("wrC", "d", None)]
    text = path.read_text("utf-8").splitlines()
    line_a = next(i for i, ln in enumerate(text, 1) if '"wrA"' in ln)
    assert members.frame["source_line"][0] == line_a


def test_bad_groups_and_members_are_rejected_the_rest_kept(tmp_path):
    bad_member = chat("wrA", "a", "b")
    bad_member["member_list"][1]["userid"] = ""
    bad_member["member_list"][0]["join_time"] = "yesterday"
    items = [bad_member, {"errcode": 40001, "errmsg": "invalid secret"}, chat("", "x"), chat("wrD", "d")]
    path = snapshot(tmp_path, items)
    groups, members = parse_wecom_groups(path), parse_wecom_group_members(path)
    assert groups.frame["group_id"].to_list() == ["wrA", "wrD"]
    assert members.frame.select("group_id", "userid").rows() == [("wrD", "d")]
    reasons = sorted(r.reason for r in members.rejects)
    assert reasons == sorted([
        "group_chat_list[1]: groupchat/get error 40001 invalid secret",
        "group_chat_list[2]: chat_id missing",
        "group wrA member a: join_time: cannot parse 'yesterday' as a unix time",
        "group wrA member_list[1]: userid missing",
    ])
    assert groups.rejects == members.rejects  # one decode, both tables report the same rejects


def test_odd_shape_rejects_only_that_group(tmp_path):
    odd = chat("wrB", "b")
    odd["member_list"] = "b"  # not a list
    path = snapshot(tmp_path, [chat("wrA", "a"), odd])
    res = parse_wecom_group_members(path)
    assert res.frame["group_id"].to_list() == ["wrA"]
    assert [r.reason.split(":")[0] for r in res.rejects] == ["group_chat_list[1]"]


def test_not_json_rejects_the_file_with_its_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"snapshot_time": 1790000000,\n "group_chat_list": [\n {"chat_id": "wrA",', "utf-8")
    with pytest.raises(ExportFormatError) as e:
        parse_wecom_groups(path)
    assert e.value.line == 3
