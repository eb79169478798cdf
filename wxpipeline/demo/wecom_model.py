"""The WeCom demo model: groups, stays of members in them, extra events and archive messages.

`wecom.generate` builds the ordinary data on it, clause planters (`wecom.PLANTERS`) add their
cases through its methods, then the files are written from it.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from . import is_workday

from wxpipeline.times import TZ

if TYPE_CHECKING:
    from . import DemoContext

SH = TZ


def at(d: date, t: time | int, minute: int = 0, second: int = 0) -> datetime:
    if isinstance(t, int):
        t = time(t, minute, second)
    return datetime.combine(d, t, SH)


def office_time(rng: random.Random, d: date) -> datetime:
    return at(d, rng.randint(9, 16), rng.randrange(60), rng.randrange(60))


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
        g = self.groups[group_id]
        if not g.alive(ts):
            raise ValueError(f"{userid} cannot join {g.name} at {ts}: the group does not exist then")
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
