"""Work-group clauses in the demo: planted GRP-01..GRP-08 violations beside compliant groups.

The ordinary WeCom data is compliant by construction (see `wecom.py`). The violations live in
groups of their own, added to the WeCom model by `plant` (one of `wecom.PLANTERS`, so they reach
the snapshot, event and archive files the WeCom generator writes) with their own random stream:
the ordinary groups, members and messages, and the message clauses' cases, stay as they are.
`generate` (in `GENERATORS` after the WeCom generator) then rewrites `reference/group_registry.csv`
with the registered ones added; when `plant` did not run it changes nothing.

Default period 2026-09-18..10-17 (other periods move or skip the cases that do not fit):

* 华南区项目协调群 (special, no externals, created before the period):
  GRP-01 a member named 「小马」 (from the first day) and one renamed to the company-group form
  「黄磊-市场部」 on 10-12; near-misses 「 刘洋 － 工程师 」 and 「…—专员」.
  GRP-02 a leaver (left 09-30) removed on 10-03 10:15, 58 h after the end of the leave day;
  near-miss a leaver (left 09-25) removed 47 hours after the end of the leave day.
  GRP-03 a new hire (hired 09-29, allowed from 10-09 after the National Day holiday) added on
  10-08; near-miss a new hire added on the first allowed day.
  GRP-04 an external customer added on 09-24 and an account missing from the roster on 10-13.
* 新品发布筹备群 (temporary, owned by a leaver who left 10-14 without handing it over):
  GRP-06 on 10-15, and the owner still a member on 10-17: GRP-02.
* 中秋慰问临时群 (temporary, work item ended 09-28, never dismissed): GRP-07 on 10-04.
* 客户答谢会临时群 (temporary, externals allowed, work item ended 10-02, dismissed 10-09): GRP-07
  on 10-08; its notice names the date but no 操作人: GRP-08 on 10-09.
* 周末羽毛球群 (not registered, created 10-10, dismissed 10-16 without any notice): GRP-05 on
  10-10, GRP-08 on 10-16.
* 双十一备战群 (created 10-12, registered 10-14): GRP-05 on 10-12.
* Q4预算编制群 (created and registered 10-13; notice with reason, date 2026-10-16 and operator,
  dismissed 10-16): near-misses of GRP-05 and GRP-08.
"""

from __future__ import annotations

import random
import string
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from . import is_workday
from . import wecom_text as T
from .reference import KEY_PEOPLE

if TYPE_CHECKING:
    from . import DemoContext
    from .wecom import Group, WecomModel


def _at(d: date, h: int, m: int = 0, s: int = 0) -> datetime:
    from .wecom import at

    return at(d, time(h, m, s))


class Planter:
    def __init__(self, ctx: DemoContext, model: WecomModel, rng: random.Random):
        self.ctx, self.model, self.rng = ctx, model, rng
        self.registry: list[dict[str, Any]] = []
        self.used = {g["group_id"] for g in ctx.shared.get("groups", [])} | set(model.groups)
        self.leavers = sorted((date.fromisoformat(r["leave_date"]), r["employee_id"]) for r in ctx.roster
                              if r["leave_date"])

    # --- helpers ---------------------------------------------------------------------------------
    def row(self, employee_id: str) -> dict[str, str]:
        return self.model.by_employee[employee_id]

    def uid(self, employee_id: str) -> str:
        return self.model.userid(employee_id)

    def nick(self, employee_id: str, group_type: str, by: str | None = None) -> str:
        r = self.row(employee_id)
        by = by or ("department" if group_type == "company" else "position")
        return f"{r['name']}-{r[by]}"

    def steady(self, department: str, n: int, avoid: set[str] = frozenset()) -> list[str]:
        """`n` employees of a department, hired long before and not leaving, in roster order (not
        the key people, whom the cases name)."""
        key = {p[0] for p in KEY_PEOPLE}
        out = [r["employee_id"] for r in self.ctx.roster if r["department"] == department and not r["leave_date"]
               and r["employee_id"] not in key
               and r["hire_date"] < (self.ctx.start - timedelta(days=60)).isoformat()
               and r["is_leader"] == "false" and r["employee_id"] not in avoid]
        return out[:n]

    def group_id(self, registered: bool) -> str:
        alphabet = string.ascii_letters + string.digits
        while True:
            body = "".join(self.rng.choice(alphabet) for _ in range(16 if registered else 24))
            gid = f"wrOgQhDgAA{body}AAAA" if registered else f"wr{body}AAAA"
            if gid not in self.used:
                self.used.add(gid)
                return gid

    def group(self, name: str, gtype: str | None, owner: str, created: datetime, *, registered_on: date | None = None,
              work_item_end: date | None = None, allows_external: bool = False) -> Group:
        registered = gtype is not None
        g = self.model.add_group(name, self.uid(owner), created, group_id=self.group_id(registered),
                                 group_type=gtype, notice=f"{name}：请使用实名昵称，文明沟通。")
        if registered:
            self.registry.append({
                "group_id": g.group_id, "group_name": name, "group_type": gtype, "owner_employee_id": owner,
                "registered_on": registered_on or created.date(), "work_item_end": work_item_end,
                "allows_external": allows_external,
            })
        return g

    def found(self, g: Group, members: list[tuple[str, str]]) -> None:
        """Members in the group from its creation (they come with the create event)."""
        for eid, nickname in members:
            self.model.join(g.group_id, self.uid(eid), g.created, nickname, event=False,
                            invitor=None if self.uid(eid) == g.owners[0][1] else g.owners[0][1])

    def chatter(self, g: Group, days: list[date], n: int = 3) -> None:
        """A few ordinary messages from members who are active employees that day."""
        for d in days:
            for i in range(n):
                ts = _at(d, 10 + 2 * i, self.rng.randrange(60), self.rng.randrange(60))
                if not g.alive(ts):
                    continue
                senders = [s.userid for s in self.model.stays_at(g.group_id, ts) if self.model.active(s.userid, d)]
                if senders:
                    self.model.say(ts, self.rng.choice(senders), T.chat_line(self.rng), roomid=g.group_id)

    def day(self, preferred: date, frac: float) -> date:
        return self.ctx.pick_day(preferred, frac)

    def workday_before(self, d: date) -> date:
        d -= timedelta(days=1)
        while not is_workday(d):
            d -= timedelta(days=1)
        return d

    # --- the special project group: GRP-01..04 -------------------------------------------------------
    def project_group(self) -> None:
        ctx, model = self.ctx, self.model
        created = _at(ctx.start - timedelta(days=20), 10, 12, 40)
        g = self.group("华南区项目协调群", "special", "E0013", created)
        gid = g.group_id
        leaving = {eid for _, eid in self.leavers}
        sales = self.steady("销售部", 2, avoid=leaving)
        self.found(g, [("E0013", self.nick("E0013", "special")), ("E0014", "小马"),
                       ("E0015", f" {self.row('E0015')['name']} － {self.row('E0015')['position']} "),
                       ("E0012", self.nick("E0012", "special").replace("-", "—")),
                       *[(e, self.nick(e, "special")) for e in sales]])
        ctx.plant("GRP-01", f"{gid}/{self.uid('E0014')}")
        ctx.near_miss("GRP-01", f"{gid}/{self.uid('E0015')}: 「 {self.row('E0015')['name']} － …」 with － and spaces")
        ctx.near_miss("GRP-01", f"{gid}/{self.uid('E0012')}: separator —")
        renamed = self.day(date(2026, 10, 12), 0.8)
        stay = model.stay(gid, self.uid("E0012"), _at(renamed, 12))
        model.rename(stay, _at(renamed, 12), self.nick("E0012", "company"))  # the company-group form
        ctx.plant("GRP-01", f"{gid}/{self.uid('E0012')}")

        # GRP-02: two leavers, one removed 58 h and one 47 h after the end of their leave day
        early = [(left, eid) for left, eid in self.leavers if left - timedelta(days=2) >= created.date()]
        late = next(((left, eid) for left, eid in early if eid == "E0033"), early[1] if len(early) > 1 else None)
        near = next(((left, eid) for left, eid in early if eid == "E0024" and (left, eid) != late), None)
        for case, hours in ((late, 58.25), (near, 47)):
            if case is None:
                continue
            left, eid = case
            s = model.join(gid, self.uid(eid), created + timedelta(minutes=3), self.nick(eid, "special"), event=False)
            removal = _at(left + timedelta(days=1), 0) + timedelta(hours=hours)
            if removal <= _at(ctx.end, 23, 59):
                model.leave(s, removal, quit_scene=1)
            if hours > 48 and ctx.in_period(left + timedelta(days=3)):
                ctx.plant("GRP-02", f"{gid}/{self.uid(eid)}")
            elif hours <= 48:
                ctx.near_miss("GRP-02", f"{gid}/{self.uid(eid)} removed {removal:%Y-%m-%d %H:%M}, 47 h after the "
                                        f"end of the leave day {left}")

        # GRP-03: a new hire added the working day before the first allowed day; another on it
        from .wecom import earliest_join

        hires = sorted((date.fromisoformat(r["hire_date"]), r["employee_id"]) for r in ctx.roster
                       if ctx.in_period(date.fromisoformat(r["hire_date"])))
        planted = next((h for h in hires if h[1] == "E0058"), hires[0] if hires else None)
        near = next((h for h in hires if h[1] == "E0059" and h != planted), None)
        for i, (hired, eid) in enumerate(h for h in (planted, near) if h):
            allowed = earliest_join(hired)
            ts = _at(self.workday_before(allowed.date()), 10, 30) if i == 0 else allowed + timedelta(hours=9, minutes=5)
            if not ctx.in_period(ts.date()) or ts < _at(hired, 0):
                continue
            model.join(gid, self.uid(eid), ts, self.nick(eid, "special"), invitor=self.uid("E0013"))
            if i == 0:
                ctx.plant("GRP-03", f"{gid}/{self.uid(eid)}")
            else:
                ctx.near_miss("GRP-03", f"{gid}/{self.uid(eid)} added {ts:%Y-%m-%d %H:%M}, the first allowed moment "
                                        f"{allowed:%Y-%m-%d %H:%M}")

        # GRP-04: an external customer and an account that is not on the roster
        d = ctx.pick_workday(date(2026, 9, 24), 0.2)
        if d:
            customer = model.external("林女士", "林总（客户）")
            model.join(gid, customer, _at(d, 15, 20), "林总（客户）", scene=2, invitor=self.uid("E0014"))
            ctx.plant("GRP-04", f"{gid}/{customer}")
        d = ctx.pick_workday(date(2026, 10, 13), 0.85)
        if d:
            model.join(gid, "zhangming_temp", _at(d, 10, 2), "张明-实习", scene=3)
            ctx.plant("GRP-04", f"{gid}/zhangming_temp")
        self.chatter(g, [x for x in ctx.workdays()[::4]])

    # --- temporary groups: GRP-06, GRP-07, GRP-08 ---------------------------------------------------
    def launch_group(self) -> None:
        """Owned by a leaver who never hands it over (GRP-06), and still in it (GRP-02)."""
        ctx = self.ctx
        owner = next((eid for left, eid in reversed(self.leavers) if ctx.in_period(left + timedelta(days=1))), None)
        if owner is None:
            return
        left = date.fromisoformat(self.row(owner)["leave_date"])
        created = _at(min(ctx.start, left) - timedelta(days=5), 14, 3, 11)
        g = self.group("新品发布筹备群", "temporary", owner, created, work_item_end=ctx.end + timedelta(days=3))
        dept = self.row(owner)["department"]
        members = [(owner, self.nick(owner, "temporary", "department"))]
        for i, eid in enumerate(self.steady(dept, 2, {owner}) + self.steady("市场部", 2)):
            members.append((eid, self.nick(eid, "temporary", "department" if i % 2 else "position")))
        self.found(g, members)
        ctx.near_miss("GRP-01", f"{g.group_id}: temporary group, both nickname forms")
        ctx.plant("GRP-06", g.group_id)
        if ctx.in_period(left + timedelta(days=3)):
            ctx.plant("GRP-02", f"{g.group_id}/{self.uid(owner)}")
        self.chatter(g, [d for d in ctx.workdays() if d <= left][-2:])

    def temporary_groups(self) -> None:
        ctx, model = self.ctx, self.model
        # never dismissed
        end_c = self.day(date(2026, 9, 28), 0.35)
        g = self.group("中秋慰问临时群", "temporary", "E0008", _at(ctx.start - timedelta(days=10), 9, 40, 5),
                       work_item_end=end_c)
        self.found(g, [("E0008", self.nick("E0008", "temporary"))]
                   + [(e, self.nick(e, "temporary", "department")) for e in self.steady("行政部", 2)])
        if ctx.in_period(end_c + timedelta(days=6)):
            ctx.plant("GRP-07", g.group_id)
        # dismissed two days late, after a notice without 操作人
        end_d = self.day(date(2026, 10, 2), 0.5)
        created = _at(min(ctx.start, end_d) - timedelta(days=3), 11, 5, 20)
        g = self.group("客户答谢会临时群", "temporary", "E0011", created, work_item_end=end_d, allows_external=True)
        self.found(g, [("E0011", self.nick("E0011", "temporary"))]
                   + [(e, self.nick(e, "temporary")) for e in self.steady("市场部", 2)])
        guest = model.external("周先生", "周总（客户）")
        model.join(g.group_id, guest, created + timedelta(hours=1), "周总（客户）", scene=2, invitor=self.uid("E0011"),
                   event=ctx.in_period(created.date()))
        ctx.near_miss("GRP-04", f"{g.group_id}/{guest}: externals allowed")
        dismissed = end_d + timedelta(days=7)
        if ctx.in_period(end_d + timedelta(days=6)):
            ctx.plant("GRP-07", g.group_id)
        if dismissed <= ctx.end:
            model.say(_at(dismissed - timedelta(days=1), 10, 12, 7), self.uid("E0011"),
                      f"客户答谢会已圆满结束，本群将于{dismissed.month}月{dismissed.day}日解散，请大家及时保存资料。",
                      roomid=g.group_id)
            model.dismiss(g.group_id, _at(dismissed, 15, 4, 51))
            ctx.plant("GRP-08", g.group_id)
        self.chatter(g, [d for d in ctx.workdays() if d < dismissed][:2])

    # --- unregistered and late-registered groups: GRP-05, GRP-08 -------------------------------------------
    def unregistered_groups(self) -> None:
        ctx, model = self.ctx, self.model
        day_e = self.day(date(2026, 10, 10), 0.75)
        g = self.group("周末羽毛球群", None, "E0016", _at(day_e, 9, 20, 9))
        self.found(g, [("E0016", "郑涛"), ("E0015", "刘洋"), *[(e, self.row(e)["name"]) for e in self.steady("技术部", 2)]])
        self.chatter(g, [day_e], n=2)
        ctx.plant("GRP-05", g.group_id)
        gone = day_e + timedelta(days=6)
        if gone <= ctx.end:
            model.dismiss(g.group_id, _at(gone, 20, 30, 2))
            ctx.plant("GRP-08", g.group_id)

        day_f = self.day(date(2026, 10, 12), 0.8)
        g = self.group("双十一备战群", "special", "E0013", _at(day_f, 9, 30, 44), registered_on=day_f + timedelta(days=2))
        self.found(g, [("E0013", self.nick("E0013", "special"))]
                   + [(e, self.nick(e, "special")) for e in self.steady("销售部", 3)[1:]])
        ctx.plant("GRP-05", g.group_id)

        day_g = self.day(date(2026, 10, 13), 0.85)
        g = self.group("Q4预算编制群", "special", "E0005", _at(day_g, 10, 0, 31))
        self.found(g, [("E0005", self.nick("E0005", "special"))]
                   + [(e, self.nick(e, "special")) for e in self.steady("财务部", 2)])
        ctx.near_miss("GRP-05", f"{g.group_id}: registered on the day it was created")
        gone = day_g + timedelta(days=3)
        if gone <= ctx.end:
            owner = self.row("E0005")["name"]
            model.say(_at(gone - timedelta(days=1), 11, 0, 12), self.uid("E0005"),
                      f"因Q4预算编制工作已完成，本群将于{gone.isoformat()}解散，请各位提前保存资料。操作人：{owner}",
                      roomid=g.group_id)
            model.dismiss(g.group_id, _at(gone, 17, 0, 3))
            ctx.near_miss("GRP-08", f"{g.group_id}: notice with reason, date {gone} and operator")


def plant(ctx: DemoContext, model: WecomModel) -> None:
    """The WeCom planter hook: add the work-group cases to the model (own random stream)."""
    rng = random.Random(f"wxpipeline-demo/{ctx.seed}/{__name__}.plant")
    saved, model.rng = model.rng, rng
    try:
        p = Planter(ctx, model, rng)
        for g in list(model.groups.values()):
            for since, owner in g.owners[1:]:
                ctx.near_miss("GRP-06", f"{g.group_id}: handed over to {owner} on {since:%Y-%m-%d} before leaving")
        p.project_group()
        p.launch_group()
        p.temporary_groups()
        p.unregistered_groups()
        ctx.shared["grp_registry"] = p.registry
    finally:
        model.rng = saved


def generate(ctx: DemoContext) -> None:
    """Rewrite the group registry with the registered groups `plant` added (if it ran)."""
    extra = ctx.shared.get("grp_registry")
    if not extra:
        return
    from .reference import GROUP_HEADER, _iso

    groups = [*ctx.shared.get("groups", []), *extra]
    ctx.shared["groups"] = groups
    ctx.write_csv(
        "reference/group_registry.csv", GROUP_HEADER,
        [[g["group_id"], g["group_name"], g["group_type"], g["owner_employee_id"], _iso(g["registered_on"]),
          _iso(g["work_item_end"]), "true" if g["allows_external"] else "false"] for g in groups],
    )
