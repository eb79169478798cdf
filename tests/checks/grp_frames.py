"""Builders for the work-group rule tests: roster, registry, snapshots, stays, events, messages."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from wxpipeline.checks.grp_people import SIGHTING_SCHEMA
from wxpipeline.checks.registry import CLAUSES
from wxpipeline.derive.membership import SCHEMA as TIMELINE_SCHEMA
from wxpipeline.policy import load_policy
from wxpipeline.resources.calendar import PrcCalendar

from .frames import frame, ts

POLICY = load_policy().for_day(date(2026, 10, 1))
G = "wrOgQhDgAAgrptest00000000AAAA"  # a registered department group (no externals)
OPEN = "wrOgQhDgAAgrpopen00000000AAAA"  # a registered special group that allows externals

# employee_id, name, department, position, wecom_userid, hire_date, leave_date
PEOPLE = [
    ("E0001", "王建国", "总经办", "总经理", "wangjianguo", "2012-03-01", None),
    ("E0004", "张伟", "财务部", "出纳", "zhangwei", "2018-09-03", None),
    ("E0005", "陈静", "财务部", "经理", "chenjing", "2013-04-15", None),
    ("E0024", "宋嘉怡", "财务部", "会计", "songjiayi", "2024-10-28", "2026-09-25"),
    ("E0051", "吴雪", "技术部", "运维工程师", "wuxue", "2019-01-06", "2026-10-14"),
]


def roster(*extra: tuple) -> pl.DataFrame:
    rows = [{"employee_id": e, "name": n, "department": d, "position": p, "phone": "13800000000",
             "hire_date": date.fromisoformat(h), "leave_date": date.fromisoformat(lv) if lv else None,
             "wecom_userid": u, "is_leader": False} for e, n, d, p, u, h, lv in [*PEOPLE, *extra]]
    return frame("roster", rows)


def registry(*extra: dict) -> pl.DataFrame:
    rows = [
        {"group_id": G, "group_name": "财务部工作群", "group_type": "department", "owner_employee_id": "E0005",
         "registered_on": date(2020, 4, 1), "allows_external": False},
        {"group_id": OPEN, "group_name": "华东区客户对接群", "group_type": "special", "owner_employee_id": "E0005",
         "registered_on": date(2024, 6, 3), "allows_external": True},
        *extra,
    ]
    return frame("group_registry", rows)


def reg(group_id: str, name: str, group_type: str, *, registered_on: str = "2026-01-05",
        work_item_end: str | None = None, allows_external: bool = False) -> dict:
    return {"group_id": group_id, "group_name": name, "group_type": group_type, "owner_employee_id": "E0005",
            "registered_on": date.fromisoformat(registered_on),
            "work_item_end": date.fromisoformat(work_item_end) if work_item_end else None,
            "allows_external": allows_external}


def member(userid: str, nickname: str | None, at: str, *, group: str = G, joined: str = "2025-01-06 09:00:00",
           member_type: int = 1, name: str = "财务部工作群") -> dict:
    """One member row of a snapshot taken at `at`."""
    return {"group_id": group, "userid": userid, "snapshot_time": ts(at), "join_time": ts(joined),
            "member_type": member_type, "group_nickname": nickname, "group_name": name}


def snapshot_members(*rows: dict) -> pl.DataFrame:
    return frame("wecom_group_members", list(rows))


def snap(group: str, at: str, owner: str = "chenjing", *, name: str = "财务部工作群",
         source_format: str = "externalcontact") -> dict:
    return {"group_id": group, "snapshot_time": ts(at), "group_name": name, "owner": owner,
            "source_format": source_format}


def snapshots(*rows: dict) -> pl.DataFrame:
    return frame("wecom_groups", list(rows))


def stay(userid: str, *, day: str, joined: str = "2025-01-06 09:00:00", left: str | None = None,
         left_source: str | None = None, first_seen: str | None = "2026-09-01 23:30:00",
         last_seen: str | None = None, group: str = G, member_type: int | None = 1,
         join_source: str = "snapshot", nickname: str | None = None) -> dict:
    """One row of the membership timeline of `day`."""
    return {"day": date.fromisoformat(day), "group_id": group, "userid": userid, "joined_at": ts(joined),
            "join_source": join_source, "left_at": ts(left) if left else None,
            "left_source": left_source or ("event" if left else None),
            "first_seen_at": ts(first_seen) if first_seen else None,
            "last_seen_at": ts(last_seen) if last_seen else None,
            "member_type": member_type, "group_nickname": nickname, "group_name": "财务部工作群", "owner": "chenjing"}


def members(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c) for c in TIMELINE_SCHEMA.names()} for r in rows], schema=TIMELINE_SCHEMA)


def event(at: str, change_type: str, detail: str | None = None, *who: str, group: str = G) -> dict:
    return {"event_time": ts(at), "group_id": group, "change_type": change_type, "update_detail": detail,
            "members": list(who)}


def events(*rows: dict) -> pl.DataFrame:
    return frame("wecom_group_events", list(rows))


def msg(text: str | None, at: str, *, room: str = G, msgid: str | None = None, sender: str = "chenjing",
        action: str = "send", revoked: str | None = None) -> dict:
    return {"msgid": msgid or f"m-{at}-{room[-8:]}", "action": action, "sender": sender, "roomid": room,
            "sent_at": ts(at), "msgtype": "text", "text": text, "revoked_msgid": revoked}


def messages(*rows: dict) -> pl.DataFrame:
    return frame("wecom_archive", list(rows))


def sighting(group: str, first_seen: str, *, seen_in: str = "snapshot", first_snapshot: str | None = None,
             name: str | None = None) -> dict:
    return {"group_id": group, "group_name": name, "first_seen_at": ts(first_seen), "seen_in": seen_in,
            "first_snapshot_at": ts(first_snapshot) if first_snapshot else None}


def sightings(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SIGHTING_SCHEMA)


def calendar(start: str, end: str, **overrides) -> pl.DataFrame:
    return PrcCalendar(**overrides).frame(date.fromisoformat(start), date.fromisoformat(end))


def run(clause_id: str, day: str, *, params=None, **frames: pl.DataFrame) -> pl.DataFrame:
    d = date.fromisoformat(day)
    defaults = {
        "members": members(), "snapshot_members": snapshot_members(), "snapshots": snapshots(),
        "events": events(), "sightings": sightings(), "notice_messages": messages(), "roster": roster(),
        "group_registry": registry(), "calendar": PrcCalendar().frame(d, d),
    }
    return CLAUSES[clause_id].run({**defaults, **frames}, params or POLICY.params(clause_id), d)


def subjects(out: pl.DataFrame) -> list[str]:
    return out["subject_id"].to_list()


def evidence(out: pl.DataFrame, i: int = 0) -> dict:
    return json.loads(out["evidence"][i])
