"""In-process materialization of the chat domain on a small exports folder written by hand: content
findings on the day of the message, a 23:50 mention judged the next day against the evening's
messages and the evening's membership (read from the exports, not from a staged partition), and
ACC-01 once per account."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.assets.chat import chat_assets, chat_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.assets.wecom import wecom_assets, wecom_checks
from wxpipeline.store.tables import Finding

from .conftest import materialize_day, stage
from .wecom_fixture import write_wecom_reference

SH = ZoneInfo("Asia/Shanghai")
ROOM = "wrOgQhDgAAchatdomain00000AAAA"


def unix(day: int, hh: int, mm: int = 0) -> int:
    return int(datetime(2026, 10, day, hh, mm, tzinfo=SH).timestamp())


def msg(msgid: str, day: int, hh: int, mm: int, sender: str, text: str, room: str = ROOM, to: str = "lina") -> str:
    return json.dumps({"msgid": msgid, "action": "send", "from": sender, "tolist": [to], "roomid": room,
                       "msgtime": unix(day, hh, mm) * 1000, "msgtype": "text", "text": {"content": text}},
                      ensure_ascii=False)


def snapshot(day: int) -> str:
    members = [{"userid": u, "type": 1, "join_time": unix(1, 9), "join_scene": 1, "group_nickname": n, "name": n}
               for u, n in (("zhangwei", "张伟-会计"), ("lina", "李娜-经理"), ("wujing", "吴静-出纳"))]
    chat = {"chat_id": ROOM, "name": "财务部工作群", "owner": "lina", "create_time": unix(1, 9), "notice": "",
            "member_list": members, "admin_list": []}
    return json.dumps({"snapshot_time": unix(day, 23, 30), "group_chat_list": [chat]}, ensure_ascii=False)


ARCHIVE = [
    msg("C1", 12, 10, 0, "zhangwei", "周末去赌 博吗"),
    msg("C2", 12, 10, 5, "wujing", "兼职刷单，加微信 abc12345", room=""),
    msg("C3", 12, 11, 0, "lina", "@张伟-会计\u2005报表今天给我"),
    msg("C3r", 12, 11, 20, "zhangwei", "好的"),
    msg("C5", 12, 14, 0, "wangfang", "在吗", room="", to="zhangwei"),
    msg("C6", 12, 15, 0, "zhangwei", "活动链接 http://t.cn/A6abc"),
    msg("C7", 12, 16, 0, "zhangwei", "客户电话 13812345678 13987654321 15012345678"),
    msg("C8", 12, 16, 30, "wujing", "你个蠢货", room="", to="zhangwei"),
    msg("C9", 12, 9, 0, "lina", "@所有人 明天全员大会"),
    msg("C9a", 12, 9, 10, "zhangwei", "收到"),
    msg("C4", 12, 23, 50, "lina", "@吴静-出纳\u2005明早确认付款"),
    msg("D1", 13, 9, 30, "wujing", "收到"),
    msg("D2", 13, 10, 0, "wangfang", "你好", room="", to="zhangwei"),
    msg("E1", 14, 0, 5, "zhangwei", "早"),  # the archive reaches past the 13th: its inputs are complete
]


def write_chat_exports(root: Path) -> None:
    write_wecom_reference(root, (
        "E0001,张伟,财务部,会计,13800001111,2020-01-01,,zhangwei,false\n"
        "E0002,李娜,财务部,经理,13900002222,2019-05-01,,lina,true\n"
        "E0003,王芳,财务部,出纳,13700003333,2018-03-01,2026-10-01,wangfang,false\n"
        "E0004,吴静,财务部,出纳,13600004444,2021-03-01,,wujing,false\n"
    ), (
        f"{ROOM},财务部工作群,department,E0002,2024-01-01,,false\n"
    ))
    (root / "wecom_archive/a.jsonl").write_text("\n".join(ARCHIVE) + "\n", "utf-8")
    for day in (11, 12, 13):
        (root / f"wecom_groups/s{day}.json").write_text(snapshot(day), "utf-8")


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_chat_exports(tmp_path / "exports")
    return tmp_path


def materialize(day: str):
    return materialize_day(
        [*reference_assets, *wecom_assets, *chat_assets, *reference_checks, *wecom_checks, *chat_checks], day)

def findings(day: str) -> list[tuple[str, str]]:
    with warehouse().session() as s:
        rows = s.exec(select(Finding)).scalars()
        return sorted((f.clause_id, f.subject_id) for f in rows if str(f.partition_date) == day)


@pytest.mark.parametrize("slice_rows", [None, 2])
def test_two_days_of_chat(env, slice_rows, monkeypatch):
    if slice_rows:  # the asset reads a day a slice at a time: the same findings from slices of 2 messages
        monkeypatch.setattr("wxpipeline.assets.chat.SLICE_ROWS", slice_rows)
    # the days are staged first (as `run` and the exports sensor do); then the 13th is judged before
    # the 12th: wangfang writes again on the 13th, but ACC-01 finds her message of the 12th in the
    # staged 12th (declared upstream) and reports nothing
    stage([*wecom_assets], "2026-10-11", "2026-10-12", "2026-10-13")
    result = materialize("2026-10-13")
    assert result.success
    assert findings("2026-10-13") == [("CHAT-06", "C4/wujing"), ("CHAT-07", "C9/wujing")]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["CHAT_06"] is False and checks["CHAT_01"] is True and checks["ACC_01"] is True

    result = materialize("2026-10-12")
    assert result.success
    assert findings("2026-10-12") == [
        ("ACC-01", "wangfang"), ("CHAT-01", "C1"), ("CHAT-02", "C2"), ("CHAT-03", "C6"), ("CHAT-04", "C7"),
        ("CHAT-05", "C8"),
    ]
    with warehouse().session() as s:
        f = next(f for f in s.exec(select(Finding)).scalars() if f.clause_id == "CHAT-04")
        assert "13812345678" not in f.evidence and f.employee_id == "E0001" and f.group_id == ROOM
        acc = next(f for f in s.exec(select(Finding)).scalars() if f.clause_id == "ACC-01")
        assert acc.employee_id == "E0003" and json.loads(acc.evidence)["first_msgid"] == "C5"
