"""Builders for the message rule tests: archive records, roster, membership stays."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl

from wxpipeline.checks.chat_01_03_05_content import prepare_messages, term_candidates
from wxpipeline.checks.chat_06_07_replies import EARLIER_COLUMNS, group_records
from wxpipeline.checks.registry import CLAUSES
from wxpipeline.checks.wordlists import load_word_lists
from wxpipeline.derive.membership import SCHEMA as TIMELINE_SCHEMA
from wxpipeline.policy import load_policy

from .frames import frame, ts

DAY = date(2026, 10, 12)
ROOM = "wrOgQhDgAAchattest000000AAAA"
POLICY = load_policy().for_day(DAY)
WORD_LISTS = load_word_lists(POLICY)

_n = iter(range(1, 10**9))


def msg(text: str | None, at: str = "2026-10-12 10:00:00", *, sender: str = "zhangwei", room: str | None = ROOM,
        msgid: str | None = None, msgtype: str = "text", action: str = "send", urls: list[str] | None = None,
        revoked: str | None = None) -> dict:
    return {"msgid": msgid or f"m{next(_n)}", "action": action, "sender": sender, "recipients": "[]", "roomid": room,
            "sent_at": ts(at), "msgtype": msgtype, "text": text, "urls": urls or [], "revoked_msgid": revoked}


def messages(*rows: dict) -> pl.DataFrame:
    return frame("wecom_archive", list(rows))


# employee_id, name, wecom_userid, is_leader, hire_date, leave_date
PEOPLE = [
    ("E0001", "王建国", "wangjianguo", True, "2012-03-01", None),
    ("E0004", "张伟", "zhangwei", False, "2018-09-03", None),
    ("E0005", "陈静", "chenjing", True, "2013-04-15", None),
    ("E0006", "吴静", "wujing", False, "2017-02-20", None),
    ("E0007", "李娜", "lina", False, "2016-10-10", None),
    ("E0024", "赵磊", "zhaolei", False, "2019-01-07", "2026-09-25"),
    ("E0031", "张伟", "zhangwei2", False, "2020-05-06", None),
]


def roster(*extra: tuple) -> pl.DataFrame:
    rows = [{"employee_id": e, "name": n, "department": "财务部", "position": "会计", "phone": "13800000000",
             "hire_date": date.fromisoformat(h), "leave_date": date.fromisoformat(lv) if lv else None,
             "wecom_userid": u, "is_leader": lead} for e, n, u, lead, h, lv in [*PEOPLE, *extra]]
    return frame("roster", rows)


def stay(userid: str, nickname: str | None, day: date = DAY, *, joined: str = "2026-01-01 09:00:00",
         left: str | None = None, group: str = ROOM) -> dict:
    return {"day": day, "group_id": group, "userid": userid, "joined_at": ts(joined),
            "left_at": ts(left) if left else None, "group_nickname": nickname, "group_name": "财务部工作群"}


def members(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in TIMELINE_SCHEMA.names()} for r in rows], schema=TIMELINE_SCHEMA)


def run(clause_id: str, msgs: pl.DataFrame, *, day: date = DAY, params=None, earlier: pl.DataFrame | None = None,
        stays: pl.DataFrame | None = None, history: pl.DataFrame | None = None,
        people: pl.DataFrame | None = None) -> pl.DataFrame:
    prepared = prepare_messages(msgs)
    before = earlier.select(EARLIER_COLUMNS) if earlier is not None else messages().select(EARLIER_COLUMNS)
    frames = {
        "messages": prepared,
        "term_candidates": term_candidates(prepared, WORD_LISTS),
        "group_messages": group_records(prepared, before),
        "members": stays if stays is not None else members(),
        "leaver_history": history if history is not None
        else pl.DataFrame(schema={"sender": pl.String, "sent_at": pl.Datetime("us", "Asia/Shanghai"),
                                  "msgid": pl.String}),
        "roster": people if people is not None else roster(),
        "word_lists": WORD_LISTS,
    }
    return CLAUSES[clause_id].run(frames, params or POLICY.params(clause_id), day)


def evidence(out: pl.DataFrame, i: int = 0) -> dict:
    return json.loads(out["evidence"][i])


def subjects(out: pl.DataFrame) -> list[str]:
    return out["subject_id"].to_list()


def at(s: str) -> datetime:
    return ts(s)
