"""A small WeCom exports folder written by hand, so that the domain test knows every record."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
ROOM = "wrOgQhDgAAfixture0000000AAAA"


ROSTER_HEADER = "employee_id,name,department,position,phone,hire_date,leave_date,wecom_userid,is_leader\n"
REGISTRY_HEADER = "group_id,group_name,group_type,owner_employee_id,registered_on,work_item_end,allows_external\n"


def write_wecom_reference(root: Path, roster_rows: str, registry_rows: str) -> None:
    """The export folders the WeCom domains read, and a reference folder with the given roster and
    group registry rows (no pay accounts or approvals)."""
    for sub in ("reference", "wecom_archive", "wecom_groups", "wecom_group_events"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "reference/roster.csv").write_text(ROSTER_HEADER + roster_rows, "utf-8")
    (root / "reference/group_registry.csv").write_text(REGISTRY_HEADER + registry_rows, "utf-8")
    (root / "reference/pay_accounts.csv").write_text("account_nickname,employee_id,approved_on,revoked_on\n", "utf-8")
    (root / "reference/pay_approvals.csv").write_text(
        "approval_id,employee_id,valid_from,valid_to,approved_limit,reason,approver_employee_id\n", "utf-8")


def ms(day: int, hh: int, mm: int = 0) -> int:
    return int(datetime(2026, 10, day, hh, mm, tzinfo=SH).timestamp() * 1000)


def s(day: int, hh: int, mm: int = 0) -> int:
    return ms(day, hh, mm) // 1000


def msg(msgid: str, at: int, msgtype: str, body: dict | None, body_key: str | None = None, room: str = ROOM) -> str:
    rec = {"msgid": msgid, "action": "send", "from": "zhangwei", "tolist": ["lina"], "roomid": room,
           "msgtime": at, "msgtype": msgtype}
    if body is not None:
        rec[body_key or msgtype] = body
    return json.dumps(rec, ensure_ascii=False)


MIXED = {"item": [{"type": "text", "content": json.dumps({"content": "请看附件"}, ensure_ascii=False)},
                  {"type": "image", "content": json.dumps({"md5sum": "ab", "filesize": 12, "sdkfileid": "x"})}]}
LINK = {"title": "季度会议通知", "description": "周五下午三点", "link_url": "https://mp.weixin.qq.com/s/abc",
        "image_url": "https://wework.qpic.cn/x/0"}
CHATRECORD = {"title": "群聊的聊天记录", "item": [
    {"type": "ChatRecordText", "msgtime": s(12, 9), "content": json.dumps({"content": "第一句"}, ensure_ascii=False),
     "from_chatroom": True},
    {"type": "ChatRecordText", "msgtime": s(12, 9, 1), "content": json.dumps({"content": "第二句"}, ensure_ascii=False),
     "from_chatroom": True}]}

ARCHIVE_A = [
    msg("M1", ms(12, 9), "text", {"content": "早上好"}),
    msg("M2", ms(12, 10), "mixed", MIXED),
    msg("M3", ms(12, 11), "link", LINK),
    msg("M4", ms(12, 12), "chatrecord", CHATRECORD),
    msg("M5", ms(12, 13), "meeting", {"topic": "周会", "meetingid": 11101571002822706744}),
    msg("M6", ms(12, 14), "text", {"content": "收到"})[:45],  # line 6: truncated by a crashed writer
    json.dumps({"action": "send", "from": "lina", "msgtime": ms(12, 15), "msgtype": "text",
                "text": {"content": "没有 msgid"}}, ensure_ascii=False),  # line 7
    msg("M8", ms(12, 23, 59), "text", {"content": "晚安"}, room=""),
    msg("M9", ms(13, 0, 1), "text", {"content": "过了午夜"}),  # the batch runs past midnight
    msg("M10", ms(13, 9), "docmsg", {"title": "周报", "link_url": "https://doc.weixin.qq.com/x"}, body_key="doc"),
]
# a re-pulled batch: repeats M3..M5 and M8, M9, adds M11
ARCHIVE_B = [ARCHIVE_A[2], ARCHIVE_A[3], ARCHIVE_A[4], ARCHIVE_A[7], ARCHIVE_A[8],
             msg("M11", ms(13, 10), "text", {"content": "补拉的消息"})]


def member(userid: str, joined: int, nick: str, type_: int = 1) -> dict:
    return {"userid": userid, "type": type_, "join_time": joined, "join_scene": 1, "invitor": {"userid": "zhangwei"},
            "group_nickname": nick, "name": nick}


def snapshot(at: int, members: list[dict]) -> str:
    chat = {"chat_id": ROOM, "name": "财务部工作群", "owner": "zhangwei", "create_time": s(1, 9),
            "notice": "", "member_list": members, "admin_list": []}
    return json.dumps({"snapshot_time": at, "group_chat_list": [chat]}, ensure_ascii=False)


def event(at: int, detail: str, *who: str) -> dict:
    return {"ToUserName": "ww1", "FromUserName": "sys", "CreateTime": at, "MsgType": "event",
            "Event": "change_external_chat", "ChatId": ROOM, "ChangeType": "update", "UpdateDetail": detail,
            "MemChangeCnt": len(who), "MemChangeList": list(who), **({"JoinScene": 0} if detail == "add_member" else {})}


def write_wecom_exports(root: Path) -> Path:
    for sub in ("wecom_archive", "wecom_groups", "wecom_group_events"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "wecom_archive/a.jsonl").write_text("\n".join(ARCHIVE_A) + "\n", "utf-8")
    (root / "wecom_archive/b.jsonl").write_text("\n".join(ARCHIVE_B) + "\n", "utf-8")
    old = s(1, 9, 5)
    zw, ln = member("zhangwei", s(1, 9), "张伟-会计"), member("lina", old, "李娜-经理")
    (root / "wecom_groups/s11.json").write_text(snapshot(s(11, 23, 30), [zw, ln]), "utf-8")
    # 10-12: wangfang joins at 10:00 (event), lina is removed at 16:00 (event lost)
    (root / "wecom_groups/s12.json").write_text(
        snapshot(s(12, 23, 30), [zw, member("wangfang", s(12, 10), "王芳-出纳")]), "utf-8")
    (root / "wecom_groups/s13.json").write_text(
        snapshot(s(13, 23, 30), [{**zw, "group_nickname": "张伟-财务主管"}, member("wangfang", s(12, 10), "王芳-出纳")]),
        "utf-8")
    events = [event(s(12, 10), "add_member", "wangfang"), event(s(13, 11), "add_member", "guest")]
    (root / "wecom_group_events/e1.jsonl").write_text(json.dumps(events[0], ensure_ascii=False) + "\n", "utf-8")
    # re-sent: the 10-12 event again, plus a visitor who joins and leaves on 10-13 between snapshots
    again = [events[0], events[1], event(s(13, 11, 30), "del_member", "guest")]
    (root / "wecom_group_events/e2.jsonl").write_text("\n".join(json.dumps(e) for e in again) + "\n", "utf-8")
    return root
