"""In-process materialization of the groups domain on a small exports folder written by hand: one
partition where every GRP clause fires, the day before read from the exports (not staged)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.resources import build_resources
from wxpipeline.assets.groups import groups_assets, groups_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.assets.wecom import wecom_assets, wecom_checks
from wxpipeline.store.tables import Finding

from .wecom_fixture import write_wecom_reference

SH = ZoneInfo("Asia/Shanghai")
ROOM = "wrOgQhDgAAgrpdomain000000AAAA"  # department group, no externals
TEMP = "wrOgQhDgAAgrpdomaintmp000AAAA"  # temporary group, work item ended 10-06, owned by a leaver
UNREG = "wrgrpdomainunregistered0AAAA"  # not registered, dismissed on 10-12


def unix(day: int, hh: int, mm: int = 0) -> int:
    return int(datetime(2026, 10, day, hh, mm, tzinfo=SH).timestamp())


def member(userid: str, nick: str, joined: int, type_: int = 1) -> dict:
    return {"userid": userid, "type": type_, "join_time": joined, "join_scene": 1, "group_nickname": nick, "name": nick}


def chat(chat_id: str, name: str, owner: str, members: list[dict]) -> dict:
    return {"chat_id": chat_id, "name": name, "owner": owner, "create_time": unix(1, 9), "notice": "",
            "member_list": members, "admin_list": []}


def write_exports(root: Path) -> None:
    write_wecom_reference(root, (
        "E0001,张伟,财务部,会计,13800001111,2020-01-01,,zhangwei,false\n"
        "E0002,李娜,财务部,经理,13900002222,2019-05-01,,lina,true\n"
        "E0003,王芳,财务部,出纳,13700003333,2018-03-01,2026-10-09,wangfang,false\n"
        "E0004,赵敏,财务部,专员,13600004444,2026-10-12,,zhaomin,false\n"
    ), (
        f"{ROOM},财务部工作群,department,E0002,2024-01-01,,false\n"
        f"{TEMP},国庆值班临时群,temporary,E0003,2026-09-20,2026-10-06,false\n"
    ))
    old = unix(1, 9)
    lina, wangfang = member("lina", "李娜-经理", old), member("wangfang", "王芳-出纳", old)
    night11 = [chat(ROOM, "财务部工作群", "lina", [member("zhangwei", "张伟-会计", old), lina, wangfang])]
    night12 = [
        chat(ROOM, "财务部工作群", "lina", [member("zhangwei", "小张", old), lina, wangfang,
                                         member("zhaomin", "赵敏-专员", unix(12, 10)),
                                         member("wmGuest0001", "刘总", unix(12, 11), type_=2)]),
        chat(TEMP, "国庆值班临时群", "wangfang", [wangfang, member("lina", "李娜-财务部", old)]),
    ]
    for day, chats in ((11, night11), (12, night12)):
        doc = {"snapshot_time": unix(day, 23, 30), "group_chat_list": chats}
        (root / f"wecom_groups/s{day}.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    events = [
        {"CreateTime": unix(12, 10), "ChatId": ROOM, "ChangeType": "update", "UpdateDetail": "add_member",
         "JoinScene": 0, "MemChangeCnt": 1, "MemChangeList": ["zhaomin"]},
        {"CreateTime": unix(12, 11), "ChatId": ROOM, "ChangeType": "update", "UpdateDetail": "add_member",
         "JoinScene": 0, "MemChangeCnt": 1, "MemChangeList": ["wmGuest0001"]},
        {"CreateTime": unix(12, 18), "ChatId": UNREG, "ChangeType": "dismiss"},
    ]
    lines = [json.dumps({"Event": "change_external_chat", **e}, ensure_ascii=False) for e in events]
    (root / "wecom_group_events/e.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    msgs = [("A1", ROOM, 11, 9, "zhangwei", "收到"), ("A2", UNREG, 12, 9, "zhangwei", "本群将于10月12日解散，请保存资料"),
            ("A3", ROOM, 12, 10, "lina", "好的")]
    records = [{"msgid": i, "action": "send", "from": who, "tolist": ["lina"], "roomid": room,
                "msgtime": unix(d, h) * 1000, "msgtype": "text", "text": {"content": text}}
               for i, room, d, h, who, text in msgs]
    (root / "wecom_archive/a.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_exports(tmp_path / "exports")
    return tmp_path


def test_one_day_with_every_group_clause(env):
    resources = build_resources()
    result = dg.materialize(
        [*reference_assets, *wecom_assets, *groups_assets, *reference_checks, *wecom_checks, *groups_checks],
        partition_key="2026-10-12", resources=resources, selection=dg.AssetSelection.all(), raise_on_error=False,
    )
    assert result.success
    with warehouse().session() as s:
        rows = list(s.exec(select(Finding)).scalars())
    assert sorted((f.clause_id, f.subject_id) for f in rows) == [
        ("GRP-01", f"{ROOM}/zhangwei"),  # renamed today (yesterday's snapshot, read from the exports, was fine)
        ("GRP-02", f"{ROOM}/wangfang"), ("GRP-02", f"{TEMP}/wangfang"),  # left 10-09: due by 10-11 23:59:59
        ("GRP-03", f"{ROOM}/zhaomin"),  # hired today
        ("GRP-04", f"{ROOM}/wmGuest0001"),
        ("GRP-05", UNREG),  # first seen in chat
        ("GRP-06", TEMP),  # owned by a leaver
        ("GRP-07", TEMP),  # work item ended 10-06
        ("GRP-08", UNREG),  # the notice names no operator
    ]
    assert all(str(f.partition_date) == "2026-10-12" and f.domain == "groups" for f in rows)
    notice = next(f for f in rows if f.clause_id == "GRP-08")
    assert json.loads(notice.evidence)["missing"] == ["操作人"]
    nick = next(f for f in rows if f.clause_id == "GRP-01")
    assert nick.employee_id == "E0001" and nick.group_id == ROOM
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert {k: v for k, v in checks.items() if k.startswith("GRP")} == {f"GRP_0{i}": False for i in range(1, 9)}
    assert checks["calendar_known"] is True
