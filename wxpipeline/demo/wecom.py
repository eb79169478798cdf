"""WeCom demo exports: group snapshots, group change events and the message archive.

Written in the vendor formats the parsers read (see `wxpipeline/formats/wecom_*.py`):

* `wecom_groups/snapshot_YYYYMMDD.json`: the nightly 23:30 snapshot of the customer groups
  (`{"snapshot_time", "group_chat_list": [groupchat/get group_chat...]}`); the collector missed
  one night. `wecom_groups/internal_YYYYMMDD.json`: the internal group(s), as 会话存档
  groupchat/get responses (`roomname, creator, members[memberid, jointime]`, no nicknames).
* `wecom_group_events/events_*.jsonl`: change_external_chat callbacks as JSON, two files that
  overlap by two days (a re-sent export), lines slightly out of order, one add_member lost;
  `callbacks_YYYYMMDD.xml`: one busy day's callbacks again, as the raw decrypted XML.
* `wecom_archive/archive_YYYYMMDD.jsonl`: decrypted 会话内容存档 messages pulled in batches from
  03:00 to 03:00 (so a file spans two calendar days), a few thousand a working day, mixed
  msgtypes, plus one re-pulled batch (`*_retry.jsonl`) repeating a file's tail.

The groups are the registry's (`ctx.shared["groups"]`: company, department, special, temporary)
with their members: everyone in the company group, each department in its group, chosen people
(and external customers where `allows_external`) in the special and temporary ones. Ordinary
data is compliant by construction: real-name nicknames in each group type's format, new hires
join after their 3 working days, leavers are removed the day after leaving, owners hand over
before they leave, temporary groups are dismissed two days after their work item ends with a
notice (`解散`, date, `操作人`) the day before, only active employees post, chat text is benign.

Hooks for the clause generators: the model is left on `ctx.shared["wecom"]` (`WecomModel`: join,
leave, rename, set_owner, dismiss, add_group, say, send ...) and every function in `PLANTERS`
runs on it after the ordinary data is built and before the files are written.

Modules: `wecom_model` (the model), `wecom_messages` (ordinary traffic), `wecom_text` (benign
chat lines); this one builds the groups and writes the files.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Callable

from . import is_workday
from .wecom_messages import build_messages
from .wecom_model import SH, Group, Stay, WecomModel, at, earliest_join, office_time

if TYPE_CHECKING:
    from . import DemoContext

__all__ = ["PLANTERS", "Group", "Stay", "WecomModel", "at", "earliest_join", "generate"]

CORP_ID = "ww5a9c3e1f7b2d4e60"
SNAPSHOT_AT = time(23, 30)
INTERNAL_SNAPSHOT_AT = time(23, 35)
BATCH_CUT = time(3, 0)  # archive pulls run at 03:00: one file per 03:00..03:00 span
INTERNAL_GROUPS = {"年度审计专项群"}  # internal groups: snapshotted through the 会话存档 API

Planter = Callable[["DemoContext", WecomModel], None]
# Violation planters of the group and message clauses append themselves here.
PLANTERS: list[Planter] = []


# --------------------------------------------------------------------------------------------
# ordinary groups and members
# --------------------------------------------------------------------------------------------

def _nickname(row: dict[str, str], group_type: str, rng: random.Random, sep: str = "-") -> str:
    by_dept = f"{row['name']}{sep}{row['department']}"
    by_pos = f"{row['name']}{sep}{row['position']}"
    if group_type == "company":
        return by_dept
    if group_type == "temporary":
        return rng.choice([by_dept, by_pos])
    return by_pos


def _members_of(model: WecomModel, g: dict[str, Any]) -> list[str]:
    """Employee ids of a registry group's members (the owner first)."""
    roster, rng = model.ctx.roster, model.rng
    dept_of = {r["employee_id"]: r["department"] for r in roster}
    owner = g["owner_employee_id"]
    if g["group_type"] == "company":
        ids = [r["employee_id"] for r in roster]
    elif g["group_type"] == "department":
        dept = next((d for d in sorted(set(dept_of.values())) if g["group_name"].startswith(d)), dept_of.get(owner))
        ids = [e for e, d in dept_of.items() if d == dept]
    else:
        def some(dept: str, n: int) -> list[str]:
            pool = [e for e, d in dept_of.items() if d == dept and e != owner]
            return rng.sample(pool, min(n, len(pool)))
        picks = {"华东区客户对接群": some("销售部", 4), "年度审计专项群": some("财务部", 5) + ["E0001", "E0002"],
                 "秋季展会筹备群": some("市场部", 4) + some("销售部", 2), "国庆值班临时群": some("行政部", 3) + some("技术部", 3)}
        ids = picks.get(g["group_name"]) or some(dept_of.get(owner, ""), 4)
    return [owner] + [e for e in ids if e != owner]


def build_groups(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    end = at(ctx.end + timedelta(days=1), 0)
    lost_event = False
    for reg in ctx.shared.get("groups", []):
        owner_uid = model.userid(reg["owner_employee_id"])
        created = at(reg["registered_on"], 9, rng.randrange(10, 50), rng.randrange(60))
        g = model.add_group(reg["group_name"], owner_uid, created, group_id=reg["group_id"],
                            group_type=reg["group_type"], internal=reg["group_name"] in INTERNAL_GROUPS,
                            notice=f"{reg['group_name']}：请使用实名昵称，文明沟通。")
        g.create_event = ctx.start <= created.date()
        dismissal = _dismissal_day(ctx, reg)
        for i, eid in enumerate(_members_of(model, reg)):
            row = model.by_employee[eid]
            hired = date.fromisoformat(row["hire_date"])
            if row["leave_date"] and date.fromisoformat(row["leave_date"]) < created.date():
                continue
            allowed = earliest_join(hired)
            if i == 0 or allowed <= created:
                ts, scene, invitor = created, 1, None if i == 0 else owner_uid
            else:
                d = allowed.date() + timedelta(days=rng.choice([0, 0, 1, 3, 10]) if hired < ctx.start else 0)
                while not is_workday(d):
                    d += timedelta(days=1)
                ts = office_time(rng, d)
                scene = rng.choice([1, 1, 1, 2, 3])
                invitor = owner_uid if scene != 3 else None
            if ts >= end or (dismissal and ts.date() >= dismissal):
                continue
            if hired >= ctx.start - timedelta(days=7) and ctx.in_period(ts.date()):
                ctx.near_miss("GRP-03", f"{g.group_id}/{row['wecom_userid']} joins {ts:%Y-%m-%d %H:%M}, "
                                        f"allowed from {allowed:%Y-%m-%d %H:%M}")
            # a group created inside the period: the founding members come with the create event
            event = not (ts == created and g.create_event)
            if event and not lost_event and reg["group_type"] == "department" and ctx.in_period(ts.date()):
                event, lost_event = False, True  # the callback of this join never arrived
            model.join(g.group_id, row["wecom_userid"], ts, _nickname(row, reg["group_type"], rng),
                       scene=scene, invitor=invitor, event=event)
        if reg["allows_external"]:
            for n in range(3 if reg["group_type"] == "special" else 1):
                surname = rng.choice("王李张刘陈杨赵黄周吴")
                uid = model.external(f"{surname}先生" if n % 2 else f"{surname}女士", f"{surname}总（客户）")
                ts = max(created, at(ctx.start - timedelta(days=40), 10)) + timedelta(minutes=5 + n)
                model.join(g.group_id, uid, ts, model.externals[uid]["nickname"], scene=2, invitor=owner_uid,
                           event=ctx.in_period(ts.date()))
    _separator_variants(model)


def _separator_variants(model: WecomModel) -> None:
    """Compliant nicknames written with other separators (GRP-01 treats -, －, — and spaces alike)."""
    variants = ["－", "—", None]  # None: the right separator inside surrounding spaces
    candidates = [s for s in model.stays if s.member_type == 1 and "-" in s.nicknames[0][1]
                  and model.groups[s.group_id].group_type in ("company", "department")]
    for s, sep in zip(model.rng.sample(candidates, min(3, len(candidates))), variants):
        nick = s.nicknames[0][1]
        s.nicknames[0] = (s.nicknames[0][0], f" {nick} " if sep is None else nick.replace("-", sep))
        model.ctx.near_miss("GRP-01", f"{s.group_id}/{s.userid}: nickname {s.nicknames[0][1]!r}")


def handle_leavers(model: WecomModel) -> None:
    """Leavers hand their groups over and are removed the day after their leave date."""
    ctx, rng = model.ctx, model.rng
    for row in ctx.roster:
        if not row["leave_date"]:
            continue
        left = date.fromisoformat(row["leave_date"])
        uid = row["wecom_userid"]
        handover = at(left, 17, rng.randrange(30), rng.randrange(60))
        for g in model.groups.values():
            if g.alive(handover) and g.owner(handover) == uid:
                heirs = [s.userid for s in model.stays_at(g.group_id, handover)
                         if s.userid != uid and model.active(s.userid, left + timedelta(days=30))]
                if heirs:
                    model.set_owner(g.group_id, handover, heirs[0])
        removal = at(left + timedelta(days=1), rng.randint(9, 15), rng.randrange(60), rng.randrange(60))
        for s in list(model.stays):
            if s.userid == uid and s.present(removal):
                model.leave(s, removal, quit_scene=1)


def _leaver_near_misses(model: WecomModel) -> None:
    """GRP-02 near-misses: leavers removed the day after leaving (well inside 48 hours)."""
    for s in model.stays:
        row = model.by_userid.get(s.userid)
        if row and row["leave_date"] and s.left and s.del_event and model.ctx.in_period(s.left.date()):
            model.ctx.near_miss("GRP-02", f"{s.group_id}/{s.userid} removed {s.left:%Y-%m-%d %H:%M}, "
                                          f"left {row['leave_date']}")


def _dismissal_day(ctx: DemoContext, reg: dict[str, Any]) -> date | None:
    """Temporary groups are dismissed two days after their work item ends (if in the period)."""
    if reg["group_type"] != "temporary" or not reg["work_item_end"]:
        return None
    day = reg["work_item_end"] + timedelta(days=2)
    return day if day <= ctx.end else None


def handle_temporary_groups(model: WecomModel) -> None:
    """Temporary groups: a notice the day before, dismissal two days after the work item ends."""
    ctx, rng = model.ctx, model.rng
    for reg in ctx.shared.get("groups", []):
        day = _dismissal_day(ctx, reg)
        if day is None:
            continue
        g = model.groups[reg["group_id"]]
        notice_at = at(day - timedelta(days=1), 10, rng.randrange(30), rng.randrange(60))
        owner = g.owner(notice_at)
        model.say(notice_at, owner, f"各位同事：本群工作事项已完成，群将于{day.month}月{day.day}日解散，"
                                    f"请提前保存群内文件。操作人：{model.display_name(owner)}", roomid=g.group_id)
        model.dismiss(g.group_id, at(day, 16, rng.randrange(60), rng.randrange(60)))
        ctx.near_miss("GRP-07", f"{g.group_id} dismissed {day}, work item ended {reg['work_item_end']}")
        ctx.near_miss("GRP-08", f"{g.group_id} notice {notice_at:%Y-%m-%d %H:%M}")


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------

def _md5(*parts: Any) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


def _group_chat(model: WecomModel, g: Group, ts: datetime) -> tuple[dict[str, Any], int]:
    stays = sorted(model.stays_at(g.group_id, ts), key=lambda s: (s.joined, s.userid))
    if g.internal:  # 会话存档 groupchat/get response (plus the roomid the collector asked for)
        return {"roomid": g.group_id, "roomname": g.name, "creator": g.owners[0][1],
                "room_create_time": int(g.created.timestamp()), "notice": g.notice(ts),
                "members": [{"memberid": s.userid, "jointime": int(s.joined.timestamp())} for s in stays],
                "errcode": 0, "errmsg": "ok"}, len(stays)
    members = []
    for s in stays:
        m: dict[str, Any] = {"userid": s.userid, "type": s.member_type, "join_time": int(s.joined.timestamp()),
                             "join_scene": s.join_scene}
        if s.invitor:
            m["invitor"] = {"userid": s.invitor}
        if s.member_type == 2:
            m["unionid"] = "o" + _md5(s.userid)[:27]
        m.update(group_nickname=s.nickname(ts), name=s.name)
        members.append(m)
    admins = [{"userid": s.userid} for s in stays[1:2]]
    return {"chat_id": g.group_id, "name": g.name, "owner": g.owner(ts), "create_time": int(g.created.timestamp()),
            "notice": g.notice(ts), "member_list": members, "admin_list": admins,
            "member_version": _md5(g.group_id, *[s.userid for s in stays])}, len(stays)


def write_snapshots(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    days = ctx.period()
    missed = days[int(len(days) * 0.6)] if len(days) >= 5 else None
    for i, d in enumerate(days):
        if d == missed:
            continue
        for internal, hhmm, prefix in ((False, SNAPSHOT_AT, "snapshot"), (True, INTERNAL_SNAPSHOT_AT, "internal")):
            ts = at(d, hhmm) + timedelta(seconds=rng.randrange(1, 40))
            chats, rows = [], 0
            for g in model.groups.values():
                if g.internal == internal and g.alive(ts):
                    chat, n = _group_chat(model, g, ts)
                    chats.append(chat)
                    rows += n
            if not chats:
                continue
            doc = {"snapshot_time": int(ts.timestamp()), "group_chat_list": chats}
            indent = 2 if i % 7 == 3 else None  # the collector's pretty-print setting changed once a week
            ctx.write_bytes(f"wecom_groups/{prefix}_{d:%Y%m%d}.json",
                            json.dumps(doc, ensure_ascii=False, indent=indent).encode(), rows)


def _events(model: WecomModel) -> list[dict[str, Any]]:
    """Every change_external_chat callback of the period, as JSON records in time order."""
    ctx = model.ctx
    lo, hi = at(ctx.start, 0), at(ctx.end + timedelta(days=1), 0)
    raw: list[tuple[datetime, str, str, str, list[str], dict[str, int]]] = []
    external = {g.group_id for g in model.groups.values() if not g.internal}  # callbacks: customer groups only
    for g in model.groups.values():
        if g.create_event and lo <= g.created < hi and g.group_id in external:
            raw.append((g.created, g.group_id, "create", "", [], {}))
    for s in model.stays:
        if s.group_id not in external:
            continue
        if s.add_event and lo <= s.joined < hi:
            raw.append((s.joined, s.group_id, "update", "add_member", [s.userid], {"JoinScene": 3 if s.join_scene == 3 else 0}))
        if s.left and s.del_event and lo <= s.left < hi:
            raw.append((s.left, s.group_id, "update", "del_member", [s.userid], {"QuitScene": s.quit_scene}))
    for e in model.events:
        if lo <= e["time"] < hi and e["group_id"] in external:
            raw.append((e["time"], e["group_id"], e["change"], e.get("detail", ""), [], {}))
    out = []
    for ts, gid, change, detail, who, extra in sorted(raw, key=lambda r: (r[0], r[1], r[3])):
        rec: dict[str, Any] = {"ToUserName": CORP_ID, "FromUserName": "sys", "CreateTime": int(ts.timestamp()),
                               "MsgType": "event", "Event": "change_external_chat", "ChatId": gid, "ChangeType": change}
        if change == "update":
            rec["UpdateDetail"] = detail
            rec.update(extra)
            if who:
                rec.update(MemChangeCnt=len(who), MemChangeList=who)
            rec.update(LastMemVer=_md5(gid, ts, "last"), CurMemVer=_md5(gid, ts, "cur"))
        out.append(rec)
    return out


def _xml(rec: dict[str, Any]) -> str:
    """A record back in its raw decrypted XML form (CDATA strings, <Item> member list)."""
    lines = ["<xml>"]
    for k, v in rec.items():
        if k == "MemChangeList":
            lines.append("<MemChangeList>" + "".join(f"<Item><![CDATA[{u}]]></Item>" for u in v) + "</MemChangeList>")
        elif isinstance(v, int):
            lines.append(f"<{k}>{v}</{k}>")
        else:
            lines.append(f"<{k}><![CDATA[{v}]]></{k}>")
    return "\n".join(lines + ["</xml>"])


def write_events(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    events = _events(model)
    if not events:
        return
    days = [datetime.fromtimestamp(e["CreateTime"], SH).date() for e in events]
    lines = list(zip([json.dumps(e, ensure_ascii=False) for e in events], days))
    for i in range(len(lines) - 1):  # callbacks are logged as they arrive: a few out of order
        if rng.random() < 0.08:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    mid = ctx.start + timedelta(days=ctx.days // 2)
    first = [(ln, d) for ln, d in lines if d < mid]
    second = [(ln, d) for ln, d in lines if d >= mid - timedelta(days=2)]  # re-sends two days
    for part in (first, second):
        if part:
            a, b = min(d for _, d in part), max(d for _, d in part)
            ctx.write_bytes(f"wecom_group_events/events_{a:%Y%m%d}_{b:%Y%m%d}.jsonl",
                            ("\n".join(ln for ln, _ in part) + "\n").encode(), len(part))
    busiest = max(sorted(set(days)), key=days.count)
    xml = [_xml(e) for e, d in zip(events, days) if d == busiest]
    ctx.write_bytes(f"wecom_group_events/callbacks_{busiest:%Y%m%d}.xml", "\n".join(xml).encode(), len(xml))


def write_archive(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    batches: dict[date, list[str]] = {}
    for ts, rec in sorted(model.messages, key=lambda m: (m[0], m[1]["msgid"])):
        batch = ts.date() if ts.time() >= BATCH_CUT else ts.date() - timedelta(days=1)
        batches.setdefault(batch, []).append(json.dumps(rec, ensure_ascii=False))
    retry = ctx.pick_day(ctx.start + timedelta(days=ctx.days // 3), 0.3)
    for d, lines in sorted(batches.items()):
        ctx.write_bytes(f"wecom_archive/archive_{d:%Y%m%d}.jsonl", ("\n".join(lines) + "\n").encode(), len(lines))
        if d == retry:  # the pull of this batch's tail failed and was repeated
            tail = lines[-min(200, len(lines)):]
            ctx.write_bytes(f"wecom_archive/archive_{d:%Y%m%d}_retry.jsonl", ("\n".join(tail) + "\n").encode(),
                            len(tail))


def generate(ctx: DemoContext) -> None:
    model = WecomModel(ctx)
    ctx.shared["wecom"] = model
    build_groups(model)
    handle_leavers(model)
    handle_temporary_groups(model)
    _leaver_near_misses(model)
    build_messages(model)
    for plant in PLANTERS:
        plant(ctx, model)
    write_snapshots(model)
    write_events(model)
    write_archive(model)
