"""Message clauses in the demo: planted CHAT-01..CHAT-07 / ACC-01 violations and near-misses.

Two hooks, because the messages must be in the archive files the WeCom generator writes, and what
CHAT-06/07 find depends on every post of the final archive:

* `plant(ctx, model)` is one of `wecom.PLANTERS`: it runs on the WeCom model after the ordinary
  traffic is built and before the archive is written, and adds the planted messages with
  `model.say` / `model.send` (drawing from its own random stream, so the WeCom generator's own
  output is unchanged). Content violations (CHAT-01..05) and ACC-01 are recorded there.
* `generate(ctx)` runs in `GENERATORS` after the WeCom generator, when every planter is done, and
  records the CHAT-06/07 subjects by reading the clauses naively over the final model: an
  obligated member without a post in the group in (mention, mention + window] whose window ends
  inside the period.

Planted (every clause), next to near-misses that must not fire:

* CHAT-01: a plain term, traditional characters (賭博), separators inside a term (六😀合😀彩, 冰*毒),
  a one-to-one message; near-misses 大麻烦, 禁毒宣传 (allow list).
* CHAT-02: list terms and the 加微信 / 加V + id patterns, full-width digits, traditional text;
  near-misses 加了客户微信 (no id), 兼职员工, an anti-fraud reminder (谨防刷单).
* CHAT-03: block-listed host with an installer, a short link, an IP literal in a link message, an
  .apk; near-misses the official installer on qq.com (allow list wins), an ordinary article link.
* CHAT-04: a valid ID number, a grouped card number after 工资卡, three mobiles, 內部資料
  (traditional); near-misses a wrong check digit, a Luhn-invalid card, two mobiles, 机密性.
* CHAT-05: an insult, one with a separator, one in traditional; near-miss 固体废物.
* CHAT-06: a leader's @nickname answered after 31 minutes, and one after 29 (near-miss); a 23:50
  mention answered at 00:10 (near-miss) and an unanswered 23:50 one (lands on the next day); an
  @name in the internal audit group (no nicknames there: resolved by roster name); a non-leader's
  @ (near-miss).
* CHAT-07: a leader's @所有人 that one member never answers, one that everybody answers, and a
  non-leader's @所有人 (near-miss).
* ACC-01: a leaver's account writing to a colleague and a customer on two days after the leave
  date (one finding, on the first day); a leaver posting on the leave date itself (near-miss).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import DemoContext
    from .wecom import WecomModel

WINDOW_06 = timedelta(minutes=30)  # the default policy's windows (CHAT-06 / CHAT-07)
WINDOW_07 = timedelta(hours=24)
QUIET_SEARCH = [time(h, m) for h in range(9, 18) for m in range(0, 60, 5)]


def _at(d: date, t: time) -> datetime:
    from .wecom import at

    return at(d, t)


def _valid_id(rng: random.Random, born: date) -> str:
    from stdnum.cn import ric

    while True:
        base = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = base + ric.calc_check_digit(base + "0")
        if ric.is_valid(number):
            return number


def _luhn(rng: random.Random, prefix: str, length: int) -> str:
    from stdnum import luhn

    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


class Planter:
    def __init__(self, ctx: DemoContext, model: WecomModel, rng: random.Random):
        self.ctx, self.model, self.rng = ctx, model, rng
        self.uid = {r["employee_id"]: r["wecom_userid"] for r in ctx.roster}
        self.groups = {g["group_name"]: g["group_id"] for g in ctx.shared.get("groups", [])}
        self.plan: list[dict[str, Any]] = []  # CHAT-06/07 mentions, judged by `generate`

    # --- helpers -------------------------------------------------------------------------------
    def day(self, preferred: date, frac: float, avoid: tuple[date, ...] = ()) -> date | None:
        return self.ctx.pick_workday(preferred, frac, avoid)

    def member(self, group: str, employee_id: str, ts: datetime) -> bool:
        gid = self.groups.get(group)
        return bool(gid) and self.model.stay(gid, self.uid[employee_id], ts) is not None

    def say(self, ts: datetime, employee_id: str, text: str, group: str | None = None,
            to: str | None = None) -> str | None:
        """A text message; in a group only if the sender is a member then, else one-to-one."""
        sender = self.uid.get(employee_id, employee_id)
        if group and self.groups.get(group) and self.model.stay(self.groups[group], sender, ts):
            return self.model.say(ts, sender, text, roomid=self.groups[group])
        other = to or next(u for u in self.uid.values() if u != sender and self.model.active(u, ts.date()))
        return self.model.say(ts, sender, text, to=[other])

    def posts(self, room: str, userid: str) -> list[datetime]:
        return sorted(ts for ts, rec in self.model.messages
                      if rec.get("roomid") == room and rec.get("from") == userid and rec.get("action") == "send")

    def quiet(self, room: str, userid: str, d: date, length: timedelta, after: time = time(0)) -> datetime | None:
        """The first office-hours time on `d` (from `after`) after which `userid` has no post in
        `room` for `length`."""
        posts = self.posts(room, userid)
        for t in (t for t in QUIET_SEARCH if t >= after):
            start = _at(d, t)
            if not any(start < p <= start + length for p in posts) and self.model.stay(room, userid, start):
                return start
        return None

    def nickname(self, room: str, userid: str, ts: datetime) -> str:
        """How the member appears in the group that day: the snapshot's nickname, else the name."""
        s = self.model.stay(room, userid, ts)
        g = self.model.groups[room]
        if s is None or g.internal:
            return self.model.display_name(userid)
        return s.nickname(_at(ts.date(), time(23, 30))).strip()

    def content(self, clause: str, ts: datetime, employee_id: str, text: str, group: str | None,
                to: str | None = None) -> None:
        msgid = self.say(ts, employee_id, text, group, to)
        if msgid:
            self.ctx.plant(clause, msgid)

    # --- CHAT-01..05 ---------------------------------------------------------------------------
    def content_clauses(self) -> None:
        ctx, rng = self.ctx, self.rng
        d1 = self.day(date(2026, 9, 23), 0.2)
        d2 = self.day(date(2026, 10, 13), 0.85)
        if not d1 or not d2:
            return
        t = lambda d, h, m: _at(d, time(h, m, rng.randrange(60)))  # noqa: E731
        # CHAT-01 prohibited content
        self.content("CHAT-01", t(d1, 12, 14), "E0015", "周末有人一起去玩百家乐吗？", "技术部工作群")
        self.content("CHAT-01", t(d1, 20, 3), "E0014", "聽說老王在網上賭博輸了不少錢", "销售部工作群")
        self.content("CHAT-01", t(d2, 19, 41), "E0012", "六😀合😀彩今晚开奖，要不要一起买", "市场部工作群")
        self.content("CHAT-01", t(d2, 21, 5), "E0015", "有人问我要不要冰*毒，吓死了", None, to=self.uid["E0016"])
        self.say(t(d1, 15, 2), "E0016", "这次数据库迁移真是个大麻烦，今晚要加班了", "技术部工作群")
        self.say(t(d2, 10, 11), "E0008", "下周开展禁毒宣传月活动，请各部门组织学习", "公司全员通知群")
        ctx.near_miss("CHAT-01", "大麻烦 / 禁毒宣传 are allow-list phrases")
        # CHAT-02 advertising and solicitation
        self.content("CHAT-02", t(d1, 13, 26), "E0014", "宝妈在家兼职，手机刷单日结300，有意者加微信 xq2026abc",
                     "销售部工作群")
        self.content("CHAT-02", t(d2, 12, 48), "E0012", "招代理，一件代发，加 V：８８６６９９", "市场部工作群")
        self.content("CHAT-02", t(d2, 20, 17), "E0015", "誠招兼職打字員，日結工資，詳情私聊", "技术部工作群")
        self.say(t(d1, 11, 9), "E0013", "我加了客户微信，稍后确认一下需求", "销售部工作群")
        self.say(t(d2, 9, 40), "E0018", "兼职员工的考勤另行通知；近期刷单诈骗多发，请大家谨防刷单诈骗", "人力资源部工作群")
        ctx.near_miss("CHAT-02", "加了客户微信 (no id), 兼职员工, 谨防刷单诈骗 (allow list)")
        # CHAT-03 suspicious links
        self.content("CHAT-03", t(d1, 10, 37), "E0015",
                     "新版报销插件从这里下载安装：http://update.f3322.net/tools/reimburse_setup.exe", "技术部工作群")
        self.content("CHAT-03", t(d2, 14, 22), "E0012", "秋季活动报名 t.cn/A6xYzQ9p 点开就能填", "市场部工作群")
        msgid = self.model.send(t(d2, 16, 3), self.uid["E0014"], "link",
                                {"title": "OA 系统升级，请重新登录", "description": "账号密码与原来一致",
                                 "link_url": "http://103.45.67.89:8080/oa/login"},
                                roomid=self.groups.get("销售部工作群"))
        ctx.plant("CHAT-03", msgid)
        self.content("CHAT-03", t(d1, 17, 50), "E0009", "手机考勤新版本：https://cdn.kq-app.net/kaoqin-v2.apk",
                     None, to=self.uid["E0007"])
        self.say(t(d1, 9, 31), "E0016", "电脑版微信请从官网下载 https://dldir1.qq.com/weixin/Windows/WeChatSetup.exe",
                 "技术部工作群")
        ctx.near_miss("CHAT-03", "WeChatSetup.exe on dldir1.qq.com: the allow list wins")
        # CHAT-04 sensitive data
        ident = _valid_id(rng, date(1990, 3, 7))
        card = _luhn(rng, "622202", 16)
        self.content("CHAT-04", t(d1, 14, 5), "E0017", f"新同事入职材料已收到，身份证号 {ident}，请录入系统", None,
                     to=self.uid["E0018"])
        grouped = " ".join(card[i:i + 4] for i in range(0, 16, 4))
        self.content("CHAT-04", t(d2, 11, 27), "E0014", f"报销款打到我的工资卡：{grouped}，谢谢", None,
                     to=self.uid["E0006"])
        self.content("CHAT-04", t(d2, 15, 44), "E0013",
                     "华东区客户联系人：13812345678、13987654321、15012345678，大家分头跟进", "销售部工作群")
        self.content("CHAT-04", t(d1, 16, 12), "E0010", "这份是內部資料，请勿转发到外部群", "市场部工作群")
        wrong = ident[:-1] + ("0" if ident[-1] != "0" else "1")
        bad_card = card[:-1] + str((int(card[-1]) + 1) % 10)
        self.say(t(d1, 14, 40), "E0017", f"上一条身份证号录错了，系统里是 {wrong}", None, to=self.uid["E0018"])
        self.say(t(d2, 11, 50), "E0006", f"卡号 {bad_card} 校验不通过，请再核对", None, to=self.uid["E0014"])
        self.say(t(d2, 16, 2), "E0013", "客户电话 13812345678，备用 13987654321", "销售部工作群")
        self.say(t(d1, 16, 30), "E0016", "请注意数据的机密性和完整性", "技术部工作群")
        ctx.near_miss("CHAT-04", "wrong check digit, Luhn-invalid card, two mobiles, 机密性")
        # CHAT-05 abuse
        self.content("CHAT-05", t(d1, 18, 52), "E0014", "你是不是傻逼，这点事都办不好", "销售部工作群")
        self.content("CHAT-05", t(d2, 13, 3), "E0012", "蠢 货，又把报价发错了", None, to=self.uid["E0010"])
        self.content("CHAT-05", t(d2, 17, 36), "E0015", "滾蛋，别来烦我", "技术部工作群")
        self.say(t(d2, 10, 58), "E0008", "固体废物处理合同已续签", "行政部工作群")
        ctx.near_miss("CHAT-05", "固体废物 (allow list)")

    # --- CHAT-06 / CHAT-07 ---------------------------------------------------------------------
    def mention(self, clause: str, ts: datetime, leader: str, room: str, text: str,
                targets: list[str] | None, window: timedelta) -> str:
        msgid = self.model.say(ts, self.uid[leader], text, roomid=room)
        self.plan.append({"clause": clause, "msgid": msgid, "room": room, "ts": ts, "sender": self.uid[leader],
                          "targets": targets, "window": window})
        return msgid

    def chat_06(self) -> None:
        ctx, model = self.ctx, self.model
        room = self.groups.get("财务部工作群")
        if not room:
            return
        leader, a, b = "E0005", self.uid["E0004"], self.uid["E0006"]
        d = self.day(date(2026, 9, 24), 0.25)
        if d:
            for who, gap, why, after in ((a, timedelta(minutes=31), "violation", time(9)),
                                         (b, timedelta(minutes=29), "near-miss", time(14))):
                ts = self.quiet(room, who, d, gap, after)
                if ts is None:
                    continue
                text = f"@{self.nickname(room, who, ts)}\u2005九月的银行对账单整理好发我一下"
                msgid = self.mention("CHAT-06", ts, leader, room, text, [who], WINDOW_06)
                model.say(ts + gap, who, "好的，已发到您邮箱", roomid=room)
                if why == "near-miss":
                    ctx.near_miss("CHAT-06", f"{msgid}: answered after 29 minutes")
        # 23:50 mentions: answered at 00:10 (acknowledged), and unanswered (lands on the next day)
        for pref, frac, who, answered in ((date(2026, 10, 12), 0.8, a, True), (date(2026, 10, 13), 0.85, b, False)):
            d = ctx.pick_day(pref, frac)
            if d + timedelta(days=1) > ctx.end:
                continue
            ts = _at(d, time(23, 50))
            if not model.stay(room, who, ts):
                continue
            text = f"@{self.nickname(room, who, ts)}\u2005明早九点的付款单今晚确认一下"
            msgid = self.mention("CHAT-06", ts, leader, room, text, [who], WINDOW_06)
            if answered:
                model.say(_at(d + timedelta(days=1), time(0, 10)), who, "确认无误", roomid=room)
                ctx.near_miss("CHAT-06", f"{msgid}: 23:50 mention answered at 00:10")
        # by roster name in the internal audit group (its snapshots carry no nicknames)
        audit = self.groups.get("年度审计专项群")
        d = self.day(date(2026, 10, 15), 0.9)
        if audit and d:
            present = [s.userid for s in model.stays_at(audit, _at(d, time(9)))]
            names = [model.display_name(u) for u in present]
            staff = [u for u in present if u != self.uid[leader] and model.active(u, d) and names.count(
                model.display_name(u)) == 1 and model.by_userid.get(u, {}).get("is_leader") == "false"]
            slots = [(ts, u) for u in staff if (ts := self.quiet(audit, u, d, WINDOW_06, time(15)))]
            if slots:
                ts, who = min(slots)
                self.mention("CHAT-06", ts, leader, audit, f"@{model.display_name(who)} 审计底稿明天上午前提交",
                             [who], WINDOW_06)
        # a non-leader's @ starts no clock
        d = self.day(date(2026, 9, 25), 0.3)
        if d:
            ts = _at(d, time(11, 3))
            if model.stay(room, a, ts) and model.stay(room, b, ts):
                model.say(ts, a, f"@{self.nickname(room, b, ts)}\u2005发票我放你桌上了", roomid=room)
                ctx.near_miss("CHAT-06", "an @ by a member who is not a leader")

    def chat_07(self) -> None:
        ctx, model = self.ctx, self.model
        for group, leader, pref, everyone in (("人力资源部工作群", "E0018", date(2026, 9, 30), False),
                                             ("行政部工作群", "E0008", date(2026, 10, 14), True)):
            room = self.groups.get(group)
            if not room:
                continue
            sender = self.uid[leader]
            # from the preferred day on (then earlier days): the first notice someone would leave unanswered
            days = sorted((d for d in ctx.period() if d + timedelta(days=1) <= ctx.end),
                          key=lambda d: (d < pref, abs((d - pref).days)))
            for d in days:
                ts = _at(d, time(16, 30))
                deadline = ts + WINDOW_07
                if not model.stay(room, sender, ts) or not model.active(sender, d):
                    continue
                owed = [s.userid for s in model.stays_at(room, ts) if s.userid != sender
                        and model.active(s.userid, d) and (s.left is None or s.left > deadline)]
                silent = [u for u in owed if not any(ts < p <= deadline for p in self.posts(room, u))]
                if owed and (silent or everyone):
                    break
            else:
                continue
            msgid = self.mention("CHAT-07", ts, leader, room, "@所有人 本月考勤请在明天下班前确认，确认后在群里回复收到",
                                 None, WINDOW_07)
            keep_silent = [] if everyone else silent[-1:]
            for i, u in enumerate(silent):
                if u not in keep_silent:
                    model.say(ts + timedelta(minutes=20 + 7 * i), u, "收到", roomid=room)
            if everyone:
                ctx.near_miss("CHAT-07", f"{msgid}: every member answered within 24 hours")
        room = self.groups.get("技术部工作群")
        d = self.day(date(2026, 10, 9), 0.7)
        if room and d:
            member = next((s.userid for s in model.stays_at(room, _at(d, time(10)))
                           if model.by_userid.get(s.userid, {}).get("is_leader") == "false"
                           and model.active(s.userid, d)), None)
            if member:
                model.say(_at(d, time(10, 12)), member, "@所有人 中午一起订餐的报名", roomid=room)
                ctx.near_miss("CHAT-07", "@所有人 by a member who is not a leader")

    # --- ACC-01 ------------------------------------------------------------------------------------
    def acc_01(self) -> None:
        ctx, model = self.ctx, self.model
        leavers = sorted((date.fromisoformat(r["leave_date"]), r["wecom_userid"]) for r in ctx.roster
                         if r["leave_date"] and ctx.in_period(date.fromisoformat(r["leave_date"])))
        used = next(((left, u) for left, u in leavers[1:] + leavers[:1]
                     if left + timedelta(days=5) <= ctx.end), None)
        if used:
            left, u = used
            dept = model.by_userid[u]["department"]
            active = [r["wecom_userid"] for r in ctx.roster
                      if r["wecom_userid"] != u and model.active(r["wecom_userid"], ctx.end)]
            colleague = next((x for x in active if model.by_userid[x]["department"] == dept), active[0])
            customer = next(iter(sorted(model.externals)), colleague)
            model.say(_at(left + timedelta(days=3), time(20, 15, 9)), u, "我这边还有几份客户资料，明天发你",
                      to=[colleague])
            model.say(_at(left + timedelta(days=5), time(10, 2, 44)), u, "王总您好，后续合作可以直接联系我",
                      to=[customer])
            ctx.plant("ACC-01", u)
        for left, u in leavers:
            if (left, u) != used:
                other = next(r["wecom_userid"] for r in ctx.roster
                             if r["wecom_userid"] != u and model.active(r["wecom_userid"], left))
                model.say(_at(left, time(17, 5, 31)), u, "交接文档已放共享盘，感谢大家照顾", to=[other])
                ctx.near_miss("ACC-01", f"{u} writes on the leave date {left}, still active")
                break

def plant(ctx: DemoContext, model: WecomModel) -> None:
    """The WeCom planter hook: add the message-clause cases to the model (own random stream)."""
    rng = random.Random(f"wxpipeline-demo/{ctx.seed}/{__name__}.plant")
    saved, model.rng = model.rng, rng
    try:
        p = Planter(ctx, model, rng)
        p.content_clauses()
        p.chat_06()
        p.chat_07()
        p.acc_01()
        ctx.shared["chat_plan"] = p.plan
    finally:
        model.rng = saved


def generate(ctx: DemoContext) -> None:
    """Record the CHAT-06/07 subjects from the final archive (after every planter ran)."""
    model = ctx.shared.get("wecom")
    posts: dict[tuple[str, str], list[datetime]] = {}
    for ts, rec in model.messages if model else []:
        if rec.get("roomid") and rec.get("action") == "send":
            posts.setdefault((rec["roomid"], rec["from"]), []).append(ts)
    for m in ctx.shared.get("chat_plan", []):
        deadline = m["ts"] + m["window"]
        if not ctx.in_period(deadline.date()):
            continue
        d = m["ts"].date()
        if m["targets"] is None:
            owed = [s.userid for s in model.stays_at(m["room"], m["ts"]) if s.userid != m["sender"]]
        else:
            owed = [u for u in m["targets"] if model.stay(m["room"], u, m["ts"])]
        for u in owed:
            stay = model.stay(m["room"], u, m["ts"])
            if not model.active(u, d) or (stay.left is not None and stay.left <= deadline):
                continue
            answered = any(m["ts"] < ts <= deadline for ts in posts.get((m["room"], u), []))
            if not answered:
                ctx.plant(m["clause"], f"{m['msgid']}/{u}")

