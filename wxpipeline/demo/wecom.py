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
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from . import is_workday
from . import wecom_text as T

if TYPE_CHECKING:
    from . import DemoContext

SH = ZoneInfo("Asia/Shanghai")
CORP_ID = "ww5a9c3e1f7b2d4e60"
SNAPSHOT_AT = time(23, 30)
INTERNAL_SNAPSHOT_AT = time(23, 35)
BATCH_CUT = time(3, 0)  # archive pulls run at 03:00: one file per 03:00..03:00 span
INTERNAL_GROUPS = {"年度审计专项群"}  # internal groups: snapshotted through the 会话存档 API

# (msgtype, weight) of ordinary traffic
MSGTYPES = [
    ("text", 700), ("image", 80), ("emotion", 40), ("file", 30), ("link", 30), ("mixed", 20), ("voice", 20),
    ("revoke", 15), ("chatrecord", 10), ("docmsg", 10), ("video", 8), ("markdown", 6), ("news", 4),
    ("location", 5), ("card", 4), ("redpacket", 3), ("weapp", 3), ("calendar", 3), ("meeting", 3),
]


def at(d: date, t: time | int, minute: int = 0, second: int = 0) -> datetime:
    if isinstance(t, int):
        t = time(t, minute, second)
    return datetime.combine(d, t, SH)


def earliest_join(hired: date) -> datetime:
    """GRP-03: hire day is working day 1 if it is one; joining is allowed from 00:00 of the
    next working day after the 3rd working day."""
    d, count = hired, 0
    while True:
        count += is_workday(d)
        if count == 3:
            break
        d += timedelta(days=1)
    d += timedelta(days=1)
    while not is_workday(d):
        d += timedelta(days=1)
    return at(d, 0)


# --------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------

@dataclass
class Stay:
    """One member's stay in one group: [joined, left)."""

    group_id: str
    userid: str
    joined: datetime
    nicknames: list[tuple[datetime, str]]
    member_type: int = 1
    join_scene: int = 1  # groupchat/get scale: 1 invited, 2 invite link, 3 QR code
    invitor: str | None = None
    name: str = ""  # the member's display name (groupchat/get `name`)
    left: datetime | None = None
    quit_scene: int = 1  # 0 left by themselves, 1 removed
    add_event: bool = True
    del_event: bool = True

    def present(self, ts: datetime) -> bool:
        return self.joined <= ts and (self.left is None or ts < self.left)

    def nickname(self, ts: datetime) -> str:
        current = self.nicknames[0][1]
        for since, nick in self.nicknames:
            if since <= ts:
                current = nick
        return current


@dataclass
class Group:
    group_id: str
    name: str
    created: datetime
    owners: list[tuple[datetime, str]]
    notices: list[tuple[datetime, str]] = field(default_factory=list)
    dismissed: datetime | None = None
    internal: bool = False  # snapshotted through the 会话存档 API
    group_type: str | None = None  # registry type; None = not registered
    create_event: bool = True

    def alive(self, ts: datetime) -> bool:
        return self.created <= ts and (self.dismissed is None or ts < self.dismissed)

    def _as_of(self, history: list[tuple[datetime, str]], ts: datetime) -> str:
        value = history[0][1] if history else ""
        for since, v in history:
            if since <= ts:
                value = v
        return value

    def owner(self, ts: datetime) -> str:
        return self._as_of(self.owners, ts)

    def notice(self, ts: datetime) -> str:
        return self._as_of(self.notices, ts)


class WecomModel:
    """Groups, stays, extra events and messages; files are written from it at the end."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.rng = ctx.rng
        self.groups: dict[str, Group] = {}
        self.stays: list[Stay] = []
        self.events: list[dict[str, Any]] = []  # change_owner / change_notice / change_name
        self.messages: list[tuple[datetime, dict[str, Any]]] = []
        self.externals: dict[str, dict[str, str]] = {}  # userid -> {"name", "nickname"}
        self.by_userid = {r["wecom_userid"]: r for r in ctx.roster}
        self.by_employee = {r["employee_id"]: r for r in ctx.roster}
        self._event_seconds: set[tuple[str, int]] = set()
        self._stays_by_group: dict[str, list[Stay]] = {}

    # --- people ------------------------------------------------------------------------------
    def userid(self, employee_id: str) -> str:
        return self.by_employee[employee_id]["wecom_userid"]

    def active(self, userid: str, d: date) -> bool:
        """An employee active on `d` (externals never are)."""
        r = self.by_userid.get(userid)
        if r is None:
            return False
        return r["hire_date"] <= d.isoformat() and (not r["leave_date"] or d.isoformat() <= r["leave_date"])

    def external(self, name: str, nickname: str) -> str:
        alphabet = string.ascii_letters + string.digits
        uid = "wm" + "".join(self.rng.choice(alphabet) for _ in range(24)) + "AAAA"
        self.externals[uid] = {"name": name, "nickname": nickname}
        return uid

    def display_name(self, userid: str) -> str:
        r = self.by_userid.get(userid)
        return r["name"] if r else self.externals.get(userid, {}).get("name", userid)

    # --- groups ------------------------------------------------------------------------------
    def add_group(self, name: str, owner: str, created: datetime, *, group_id: str | None = None,
                  group_type: str | None = None, internal: bool = False, notice: str = "") -> Group:
        gid = group_id or "wr" + "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(24)) + "AAAA"
        g = Group(gid, name, created, [(created, owner)], [(created, notice)] if notice else [],
                  internal=internal, group_type=group_type)
        self.groups[gid] = g
        return g

    def group(self, name_or_id: str) -> Group:
        if name_or_id in self.groups:
            return self.groups[name_or_id]
        return next(g for g in self.groups.values() if g.name == name_or_id)

    def stays_of(self, group_id: str) -> list[Stay]:
        return self._stays_by_group.get(group_id, [])

    def stays_at(self, group_id: str, ts: datetime) -> list[Stay]:
        return [s for s in self.stays_of(group_id) if s.present(ts)]

    def stay(self, group_id: str, userid: str, ts: datetime) -> Stay | None:
        return next((s for s in self.stays_of(group_id) if s.userid == userid and s.present(ts)), None)

    def _free_second(self, group_id: str, ts: datetime) -> datetime:
        # two events of one group in one second would share the DESIGN.md natural key
        while (group_id, int(ts.timestamp())) in self._event_seconds:
            ts += timedelta(seconds=1)
        self._event_seconds.add((group_id, int(ts.timestamp())))
        return ts

    def join(self, group_id: str, userid: str, ts: datetime, nickname: str, *, scene: int = 1,
             invitor: str | None = None, event: bool = True, member_type: int | None = None) -> Stay:
        ts = self._free_second(group_id, ts) if event else ts
        ext = userid in self.externals
        s = Stay(group_id, userid, ts, [(ts, nickname)], member_type or (2 if ext else 1), scene,
                 invitor, self.display_name(userid), add_event=event)
        self.stays.append(s)
        self._stays_by_group.setdefault(group_id, []).append(s)
        return s

    def leave(self, stay: Stay, ts: datetime, *, quit_scene: int = 1, event: bool = True) -> None:
        stay.left = self._free_second(stay.group_id, ts) if event else ts
        stay.quit_scene, stay.del_event = quit_scene, event

    def rename(self, stay: Stay, ts: datetime, nickname: str) -> None:
        stay.nicknames.append((ts, nickname))
        stay.nicknames.sort()

    def set_owner(self, group_id: str, ts: datetime, userid: str, *, event: bool = True) -> None:
        g = self.groups[group_id]
        g.owners.append((ts, userid))
        if event:
            self._extra_event(group_id, ts, "change_owner")

    def set_notice(self, group_id: str, ts: datetime, text: str, *, event: bool = True) -> None:
        self.groups[group_id].notices.append((ts, text))
        if event:
            self._extra_event(group_id, ts, "change_notice")

    def dismiss(self, group_id: str, ts: datetime, *, event: bool = True) -> None:
        g = self.groups[group_id]
        g.dismissed = ts
        for s in self.stays_at(group_id, ts):
            s.left, s.del_event = ts, False  # dismissal ends every stay; no del_member events
        if event:
            self.events.append({"time": self._free_second(group_id, ts), "group_id": group_id, "change": "dismiss"})

    def _extra_event(self, group_id: str, ts: datetime, detail: str) -> None:
        self.events.append({"time": self._free_second(group_id, ts), "group_id": group_id, "change": "update",
                            "detail": detail})

    # --- messages ----------------------------------------------------------------------------
    def send(self, ts: datetime, sender: str, msgtype: str, body: dict[str, Any] | None = None, *,
             roomid: str | None = None, to: list[str] | None = None, body_key: str | None = None,
             action: str = "send") -> str:
        """One archive record; in a group, `tolist` is (unless given) everyone else present at `ts`."""
        if roomid and to is None:
            to = [s.userid for s in self.stays_at(roomid, ts) if s.userid != sender]
        to = to or []
        external = not roomid and any(u in self.externals for u in [sender, *to])
        msgid = f"{self.rng.getrandbits(63)}_{int(ts.timestamp())}" + ("_external" if external else "")
        rec: dict[str, Any] = {"msgid": msgid, "action": action, "from": sender, "tolist": to,
                               "roomid": roomid or "", "msgtime": int(ts.timestamp() * 1000), "msgtype": msgtype}
        if body is not None:
            rec[body_key or msgtype] = body
        self.messages.append((ts, rec))
        return msgid

    def say(self, ts: datetime, sender: str, text: str, *, roomid: str | None = None,
            to: list[str] | None = None) -> str:
        return self.send(ts, sender, "text", {"content": text}, roomid=roomid, to=to)


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


def _office_time(rng: random.Random, d: date) -> datetime:
    return at(d, rng.randint(9, 16), rng.randrange(60), rng.randrange(60))


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
                ts = _office_time(rng, d)
                scene = rng.choice([1, 1, 1, 2, 3])
                invitor = owner_uid if scene != 3 else None
            if ts >= end:
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


def handle_temporary_groups(model: WecomModel) -> None:
    """Temporary groups: a notice the day before, dismissal two days after the work item ends."""
    ctx, rng = model.ctx, model.rng
    for reg in ctx.shared.get("groups", []):
        if reg["group_type"] != "temporary" or not reg["work_item_end"]:
            continue
        day = reg["work_item_end"] + timedelta(days=2)
        if day > ctx.end:
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
# ordinary messages
# --------------------------------------------------------------------------------------------

def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _sdkfileid(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(96)).decode()


def _body(model: WecomModel, msgtype: str, ts: datetime, sender: str) -> tuple[str, dict[str, Any], str | None]:
    """(msgtype, body, body key if not the msgtype) of an ordinary message."""
    rng = model.rng
    media = {"md5sum": _hex(rng), "sdkfileid": _sdkfileid(rng)}
    if msgtype == "image":
        return msgtype, {**media, "filesize": rng.randint(20_000, 900_000)}, None
    if msgtype == "emotion":
        return msgtype, {"type": rng.choice([1, 2]), "width": 240, "height": 240,
                         "imagesize": rng.randint(5_000, 90_000), **media}, None
    if msgtype == "voice":
        return msgtype, {"voice_size": rng.randint(3_000, 60_000), "play_length": rng.randint(2, 50), **media}, None
    if msgtype == "video":
        return msgtype, {"filesize": rng.randint(500_000, 30_000_000), "play_length": rng.randint(5, 120), **media}, None
    if msgtype == "file":
        name = T.file_name(rng)
        return msgtype, {"filename": name, "fileext": name.rsplit(".", 1)[1],
                         "filesize": rng.randint(10_000, 5_000_000), **media}, None
    if msgtype == "link":
        title, desc, url = rng.choice(T.LINKS)
        return msgtype, {"title": title, "description": desc, "link_url": T.fill(rng, url),
                         "image_url": "https://wework.qpic.cn/wwpic/" + _hex(rng, 16) + "/0"}, None
    if msgtype == "mixed":
        items = [{"type": "text", "content": json.dumps({"content": T.chat_line(rng)}, ensure_ascii=False)},
                 {"type": "image", "content": json.dumps({**media, "filesize": rng.randint(20_000, 400_000)})}]
        return msgtype, {"item": items}, None
    if msgtype == "chatrecord":
        items = [{"type": "ChatRecordText", "msgtime": int(ts.timestamp()) - 600 + 30 * i,
                  "content": json.dumps({"content": T.chat_line(rng)}, ensure_ascii=False),
                  "from_chatroom": True} for i in range(rng.randint(2, 4))]
        return msgtype, {"title": "群聊的聊天记录", "item": items}, None
    if msgtype == "docmsg":
        return msgtype, {"title": f"{rng.choice(T.PROJECTS)}{rng.choice(T.DOCS)}", "doc_creator": sender,
                         "link_url": f"https://doc.weixin.qq.com/txdoc/excel?docid=e2_{_hex(rng, 20)}"}, "doc"
    if msgtype == "markdown":
        return msgtype, {"content": T.fill(rng, rng.choice(T.MARKDOWN))}, "info"
    if msgtype == "news":
        title, desc, url = rng.choice(T.NEWS)
        return msgtype, {"item": [{"title": title, "description": desc, "url": T.fill(rng, url),
                                   "picurl": "https://wework.qpic.cn/wwpic/" + _hex(rng, 16) + "/0"}]}, "info"
    if msgtype == "location":
        title, address = rng.choice(T.LOCATIONS)
        return msgtype, {"longitude": 121.59 + rng.random() / 100, "latitude": 31.2 + rng.random() / 100,
                         "address": address, "title": title, "zoom": 15}, None
    if msgtype == "card":
        other = rng.choice(model.ctx.roster)["wecom_userid"]
        return msgtype, {"corpname": "示例科技有限公司", "userid": other}, None
    if msgtype == "redpacket":
        n = rng.randint(1, 10)
        return msgtype, {"type": 2, "wish": rng.choice(T.WISHES), "totalcnt": n, "totalamount": 100 * n}, None
    if msgtype == "weapp":
        return msgtype, {"title": "会议室预订", "description": "查看本周会议室空闲时段", "username": "gh_3f2a1b0c9d8e@app",
                         "displayname": "行政服务"}, None
    start = int((ts + timedelta(days=1)).replace(hour=10, minute=0, second=0).timestamp())
    if msgtype == "calendar":
        return msgtype, {"title": f"{rng.choice(T.PROJECTS)}评审会", "creatorname": model.display_name(sender),
                         "attendeename": [], "starttime": start, "endtime": start + 3600,
                         "place": rng.choice(T.ROOMS), "remarks": ""}, None
    # meeting: meeting ids run past int64, as in the vendor samples
    return "meeting", {"topic": f"{rng.choice(T.PROJECTS)}沟通会", "starttime": start, "endtime": start + 3600,
                       "address": "", "remarks": "", "meetingtype": 102,
                       "meetingid": rng.randrange(10**18, 2 * 10**19), "status": 1}, None


def _day_times(rng: random.Random, d: date) -> list[datetime]:
    n = rng.randint(2200, 2800) if is_workday(d) else rng.randint(120, 260)
    out = []
    for _ in range(n):
        r = rng.random()
        lo, hi = (8.5, 18.5) if r < 0.85 else (18.5, 22.5) if r < 0.98 else (7.0, 8.5)
        s = int((lo + rng.random() * (hi - lo)) * 3600)
        out.append(at(d, time(s // 3600, s // 60 % 60, s % 60)) + timedelta(microseconds=rng.randrange(1000) * 1000))
    return sorted(out)


def _conversation(model: WecomModel, ts: datetime, day: dict[str, Any], active: list[str],
                  active_set: set[str]) -> tuple[str, str | None, list[str]] | None:
    """(sender, roomid, tolist) of one ordinary message at `ts`, or None if nobody can send."""
    rng = model.rng
    if rng.random() < 0.62:
        if not day["groups"]:
            return None
        g = rng.choices(day["groups"], cum_weights=day["cum_weights"])[0]
        if not g.alive(ts):
            return None
        # whole-day stays need no time check; only active employees and externals post
        present = [s.userid for s, whole in day["stays"][g.group_id] if whole or s.present(ts)]
        senders = [u for u in present if u in active_set or u in model.externals]
        if len(senders) < 2:
            return None
        sender = rng.choice(senders)
        return sender, g.group_id, [u for u in present if u != sender]
    sender = rng.choice(active)
    if day["externals"] and rng.random() < 0.15:
        customer = rng.choice(day["externals"])
        return (customer, None, [sender]) if rng.random() < 0.4 else (sender, None, [customer])
    other = rng.choice(active)
    return (sender, None, [other]) if other != sender else None


def _day_plan(model: WecomModel, d: date) -> dict[str, Any]:
    """Who can talk where on day `d`: stays overlapping the day (flagged whole-day), groups
    weighted by size for picking."""
    lo, hi = at(d, 0), at(d + timedelta(days=1), 0)
    stays = {gid: [(s, s.joined <= lo and (s.left is None or s.left >= hi)) for s in model.stays_of(gid)
                   if s.joined < hi and (s.left is None or s.left > lo)] for gid in model.groups}
    groups = [g for g in model.groups.values() if len(stays[g.group_id]) >= 2]
    weights = [len(stays[g.group_id]) ** 0.7 for g in groups]
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    return {"stays": stays, "groups": groups, "cum_weights": cum, "externals": sorted(model.externals)}


def build_messages(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    kinds, weights = zip(*MSGTYPES)
    cum_weights = [sum(weights[: i + 1]) for i in range(len(weights))]
    employees = [r["wecom_userid"] for r in ctx.roster]
    recent: dict[tuple[str, str], list[str]] = {}  # (sender, conversation) -> msgids, for revokes
    for d in ctx.period():
        active = [u for u in employees if model.active(u, d)]
        active_set = set(active)
        day = _day_plan(model, d)
        for ts in _day_times(rng, d):
            conv = _conversation(model, ts, day, active, active_set)
            if conv is None:
                continue
            sender, room, to = conv
            key = (sender, room or "|".join(sorted([sender, *to])))
            kind = rng.choices(kinds, cum_weights=cum_weights)[0]
            if kind == "revoke" and recent.get(key):
                model.send(ts, sender, "revoke", {"pre_msgid": recent[key].pop()}, roomid=room, to=to, action="recall")
                continue
            if kind in ("text", "revoke"):
                msgid = model.say(ts, sender, T.chat_line(rng), roomid=room, to=to)
            else:
                msgtype, body, body_key = _body(model, kind, ts, sender)
                msgid = model.send(ts, sender, msgtype, body, roomid=room, to=to, body_key=body_key)
            recent.setdefault(key, []).append(msgid)
            del recent[key][:-3]
        if is_workday(d):  # a few users switch enterprise log-ins during the day
            for u in rng.sample(active, min(2, len(active))):
                ts = _office_time(rng, d)
                model.messages.append((ts, {"msgid": str(rng.randrange(10**20, 10**21)), "action": "switch",
                                            "time": int(ts.timestamp() * 1000), "user": u}))


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
