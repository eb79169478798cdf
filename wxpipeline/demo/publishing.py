"""Official-account publications (`mp_published/*.json`) and review sign-offs (`mp_reviews/*.csv`).

Publications are written as the `freepublish/batchget` API returns them (see
`real-exports/mp_publish/`): pages of items, newest first, `content.news_item[...]`, unix times,
URLs with the API's `\\/` escapes in some files, `update_time` only inside `content` in others.
Exports are weekly and overlap by two days, so items repeat across files; one article is deleted
after publication and shows `is_deleted: true` in the later export. Sign-offs follow the review
chain of 公司微信公众平台管理制度 第十一条: the submitter files the draft (draft_submitted), the
submitter's department head and the division lead (副总经理 刘芳) review, the editor (王芳) and
proofreader (黄磊) work on it, the platform lead (市场部经理 杨洋) approves on the publish day,
the top leader (总经理 王建国) approves important articles and receives the GM report for expedited
ones.

Ordinary publications are compliant by construction (draft 4-6 days ahead, every stage signed
before publishing, approved on the publish day, compliant text); the planted cases and
near-misses are added on top and recorded on `ctx`. PUB-03 findings land on the day after the
publish day, so those plants are published before the last day of the period.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from wxpipeline.times import TZ

if TYPE_CHECKING:
    from . import DemoContext

SH = TZ
REVIEW_HEADER = ["article_id", "stage", "signer_employee_id", "signed_at", "flags"]
STAGE_ORDER = ["draft_submitted", "dept_head_review", "division_lead_review", "editor", "proofread",
               "platform_lead_approval", "top_leader_approval", "gm_report"]
DIVISION_LEAD, EDITOR, PROOFREADER, PLATFORM_LEAD, TOP_LEADER = "E0002", "E0010", "E0012", "E0011", "E0001"
EXPORT_EVERY_DAYS, EXPORT_OVERLAP_DAYS, PAGE_SIZE = 7, 2, 20

# (title, paragraphs); {dept}, {date}, {leader} are filled in. Compliant text by construction.
ORDINARY = [
    ("公司召开第三季度安全生产工作会议", ["为落实安全生产责任制，公司于{date}召开第三季度安全生产工作会议。",
                                 "会议由{leader}主持，各部门负责人汇报了本季度隐患排查整改情况。",
                                 "会议要求各部门坚持预防为主，做好节前安全检查。"]),
    ("{dept}开展消防应急疏散演练", ["{date}上午，{dept}组织全体员工开展消防应急疏散演练。",
                              "演练模拟办公区域发生火情，员工按照预案有序撤离至集合点。",
                              "安全员现场讲解了灭火器的正确使用方法。"]),
    ("新员工入职培训顺利举行", ["{date}，公司为本月新入职员工举办入职培训。",
                         "培训涵盖企业文化、规章制度、信息安全和业务流程等内容。",
                         "{leader}勉励新员工尽快熟悉岗位，与公司共同成长。"]),
    ("公司与合作伙伴签署战略合作协议", ["{date}，公司与长期合作伙伴在总部签署战略合作协议。",
                                "双方将在产品研发、市场拓展和人才培养等方面深化合作。",
                                "{leader}出席签约仪式并致辞。"]),
    ("{dept}完成业务系统升级", ["经过两个月的准备，{dept}于{date}完成业务系统升级。",
                           "升级后系统响应速度明显提升，审批流程更加便捷。",
                           "感谢各部门在测试期间给予的配合与支持。"]),
    ("中秋佳节慰问一线员工", ["中秋来临之际，{leader}带队走访慰问一线岗位员工。",
                        "慰问组为员工送上月饼和节日祝福，详细了解大家的工作和生活情况。",
                        "公司将继续关心关爱员工，营造温暖和谐的工作氛围。"]),
    ("秋季员工健步走活动圆满结束", ["{date}，公司工会组织秋季员工健步走活动。",
                             "来自各部门的一百余名员工参加活动，全程约八公里。",
                             "活动增强了员工体质，展现了团结向上的精神面貌。"]),
    ("客户满意度调查结果发布", ["公司第三季度客户满意度调查工作已于{date}完成。",
                         "本次调查共回收有效问卷六百余份，综合满意度较上季度有所提升。",
                         "{dept}将针对客户反馈的问题制定改进措施。"]),
    ("财务部开展费用报销制度宣讲", ["为规范费用报销流程，财务部于{date}开展报销制度宣讲。",
                             "宣讲内容包括报销时限、票据要求和审批权限等。",
                             "各部门报销人员积极提问，现场答疑效果良好。"]),
    ("公司篮球友谊赛落下帷幕", ["{date}，公司篮球友谊赛在体育馆落下帷幕。",
                         "经过激烈角逐，{dept}代表队获得冠军。",
                         "比赛丰富了员工业余生活，增进了部门之间的交流。"]),
    ("关于加强办公区域节能管理的通知", ["为倡导绿色办公，公司决定自{date}起加强办公区域节能管理。",
                                "下班前请关闭电脑、空调和照明设备，会议室使用后及时断电。",
                                "行政部将不定期检查落实情况。"]),
    ("{dept}举办业务技能比武", ["{date}，{dept}举办年度业务技能比武。",
                          "比武设置理论考试和实操考核两个环节，参赛员工展现了扎实的专业功底。",
                          "{leader}为获奖员工颁发证书。"]),
]
FOOTERS = ["", "", "<p>（本文为原创，未经授权禁止转载。）</p>", "<p>编辑：市场部</p>"]


@dataclass
class Pub:
    aid: str
    published: datetime
    news: list[dict]
    submitter: str
    flags: str = ""
    flags_on_every_row: bool = True
    chain: list[tuple[str, str, datetime]] = field(default_factory=list)  # (stage, signer, signed_at)
    deleted_after: date | None = None  # exports after this day show is_deleted


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------

def at_time(day: date, h: int, m: int, s: int = 0) -> datetime:
    return datetime.combine(day, time(h, m, s), tzinfo=SH)


class PubBook:
    def __init__(self, ctx: DemoContext):
        self.ctx, self.rng = ctx, ctx.rng
        self.pubs: list[Pub] = []
        self.ids: set[str] = set()
        self.mid = 2247483650
        staff = [r for r in ctx.roster if r["is_leader"] != "true" and not r["leave_date"]
                 and r["hire_date"] <= ctx.start.isoformat()]
        self.staff = sorted(staff, key=lambda r: r["employee_id"])
        self.heads = {r["department"]: r["employee_id"] for r in sorted(ctx.roster, key=lambda r: r["employee_id"])
                      if r["is_leader"] == "true" and r["department"] != "总经办"}

    def new_id(self) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        while True:
            aid = "zjMKVd1g66BkEkpetwml4" + "".join(self.rng.choice(alphabet) for _ in range(22))
            if aid not in self.ids:
                self.ids.add(aid)
                return aid

    def news(self, title: str, paragraphs: list[str], author: str, *, source_url: str = "", footer: str = "",
             digest: str | None = None) -> dict:
        self.mid += 1
        html = "".join(f'<p style="text-indent:2em;">{p}</p>' for p in paragraphs) + footer
        return {
            "title": title, "author": author, "digest": paragraphs[0][:54] if digest is None else digest,
            "content": f'<section data-tools="wxpipeline-demo">{html}</section>', "content_source_url": source_url,
            "thumb_media_id": "HKVdzjkDfooMqBqJtvSs2A" + "".join(self.rng.choice(string.ascii_letters) for _ in range(21)),
            "show_cover_pic": 0,
            "url": f"http://mp.weixin.qq.com/s?__biz=MzkzNjE0NzU2Mg==&mid={self.mid}&idx={{idx}}"
                   f"&sn={self.rng.getrandbits(128):032x}#rd",
            "thumb_url": f"http://mmbiz.qpic.cn/mmbiz_jpg/{self.rng.getrandbits(64):016x}/0?wx_fmt=jpeg",
            "need_open_comment": 1, "only_fans_can_comment": 0, "is_deleted": False,
        }

    def ordinary_news(self, submitter: dict, day: date, footer: str | None = None) -> dict:
        title, paras = self.rng.choice(ORDINARY)
        fill = {"dept": submitter["department"], "date": f"{day.month}月{day.day}日",
                "leader": self.ctx.employee(self.heads.get(submitter["department"], TOP_LEADER))["name"]}
        return self.news(title.format(**fill), [p.format(**fill) for p in paras], f"{submitter['department']} {submitter['name']}",
                         footer=self.rng.choice(FOOTERS) if footer is None else footer)

    def submitter(self) -> dict:
        return self.rng.choice(self.staff)

    def publish_time(self, day: date) -> datetime:
        s = self.rng.randrange(10 * 3600, 17 * 3600 + 1800)
        return at_time(day, s // 3600, s // 60 % 60, s % 60)

    def chain(self, pub: Pub, *, draft_days: int | None = None, skip: tuple[str, ...] = ()) -> None:
        """A compliant review chain for `pub` (see the module doc); `skip` leaves stages out."""
        rng, p, day = self.rng, pub.published, pub.published.date()
        head = self.heads.get(self.ctx.employee(pub.submitter)["department"], DIVISION_LEAD)
        k = draft_days if draft_days is not None else rng.randint(4, 6)
        minute = lambda lo, hi: rng.randrange(lo * 60, hi * 60)  # noqa: E731
        times = {
            "draft_submitted": at_time(day - timedelta(days=k), 9, 0) + timedelta(minutes=minute(0, 2)),
            "dept_head_review": at_time(day - timedelta(days=2), 14, 0) + timedelta(minutes=minute(0, 3)),
            "division_lead_review": at_time(day - timedelta(days=1), 9, 0) + timedelta(minutes=minute(0, 3)),
            "editor": at_time(day - timedelta(days=1), 13, 0) + timedelta(minutes=minute(0, 2)),
            "proofread": at_time(day - timedelta(days=1), 15, 0) + timedelta(minutes=minute(0, 2)),
            "platform_lead_approval": max(p - timedelta(minutes=rng.randint(40, 150)), at_time(day, 8, 0)),
        }
        signers = {"draft_submitted": pub.submitter, "dept_head_review": head, "division_lead_review": DIVISION_LEAD,
                   "editor": EDITOR, "proofread": PROOFREADER, "platform_lead_approval": PLATFORM_LEAD}
        if "important" in pub.flags:
            times["top_leader_approval"] = times["platform_lead_approval"] + (p - times["platform_lead_approval"]) / 2
            signers["top_leader_approval"] = TOP_LEADER
        pub.chain = [(s, signers[s], times[s]) for s in STAGE_ORDER if s in times and s not in skip]

    def expedite(self, pub: Pub, draft_at: datetime) -> None:
        """An expedited chain: filed at `draft_at`, reviewed within the hour, approved 20 minutes
        before publishing (no GM report: the caller decides about it)."""
        self.chain(pub)
        steps = {"draft_submitted": draft_at, "dept_head_review": draft_at + timedelta(minutes=20),
                 "division_lead_review": draft_at + timedelta(minutes=40), "editor": draft_at + timedelta(minutes=50),
                 "proofread": draft_at + timedelta(minutes=60),
                 "platform_lead_approval": pub.published - timedelta(minutes=20)}
        pub.chain = [(s, signer, steps.get(s, at)) for s, signer, at in pub.chain]

    def set(self, pub: Pub, stage: str, at: datetime, signer: str | None = None) -> None:
        default = {"top_leader_approval": TOP_LEADER, "gm_report": TOP_LEADER, "platform_lead_approval": PLATFORM_LEAD}
        pub.chain = [c for c in pub.chain if c[0] != stage] + [(stage, signer or default.get(stage, pub.submitter), at)]

    def add(self, day: date, news: list[dict] | None = None, *, flags: str = "", at: datetime | None = None,
            submitter: dict | None = None) -> Pub:
        who = submitter or self.submitter()
        pub = Pub(self.new_id(), at or self.publish_time(day), news or [self.ordinary_news(who, day)],
                  who["employee_id"], flags, flags_on_every_row=self.rng.random() < 0.5)
        self.chain(pub)
        self.pubs.append(pub)
        return pub


# --------------------------------------------------------------------------------------------
# plants
# --------------------------------------------------------------------------------------------

def _pick(ctx: DemoContext, preferred: date, frac: float, *, before_end: bool = False) -> date | None:
    avoid = {ctx.end} if before_end else set()
    return ctx.pick_workday(preferred, frac, avoid=avoid)


def _plant_signoffs(book: PubBook) -> None:
    ctx = book.ctx
    if day := _pick(ctx, date(2026, 9, 22), 0.15):
        pub = book.add(day)
        pub.chain = [c for c in pub.chain if c[0] != "division_lead_review"]
        ctx.plant("PUB-01", pub.aid)
    if day := _pick(ctx, date(2026, 9, 29), 0.4):  # approved one minute after going out
        pub = book.add(day, at=at_time(day, 10, 30, 0))
        book.set(pub, "platform_lead_approval", at_time(day, 10, 31, 0))
        ctx.plant("PUB-01", pub.aid)
    if day := _pick(ctx, date(2026, 10, 12), 0.75):  # important, no top-leader approval
        pub = book.add(day, flags="important")
        pub.chain = [c for c in pub.chain if c[0] != "top_leader_approval"]
        ctx.plant("PUB-01", pub.aid)
    if day := _pick(ctx, date(2026, 10, 14), 0.85):  # no review record at all
        pub = book.add(day)
        pub.chain = []
        ctx.plant("PUB-01", pub.aid)
        ctx.plant("PUB-02", pub.aid)
    if day := _pick(ctx, date(2026, 9, 24), 0.25):
        pub = book.add(day, flags="important")
        ctx.near_miss("PUB-01", f"{pub.aid}: important, top-leader approval before publishing")
        pub = book.add(day, at=at_time(day, 15, 0, 0))
        book.set(pub, "platform_lead_approval", at_time(day, 14, 59, 59))
        ctx.near_miss("PUB-01", f"{pub.aid}: approved one second before publishing; editor/proofread not needed")
        pub.chain = [c for c in pub.chain if c[0] not in ("editor", "proofread")]


def _plant_lead_time(book: PubBook) -> None:
    ctx = book.ctx
    if day := _pick(ctx, date(2026, 9, 25), 0.3):
        pub = book.add(day)
        book.chain(pub, draft_days=2)
        ctx.plant("PUB-02", pub.aid)
    if day := _pick(ctx, date(2026, 10, 9), 0.6):
        pub = book.add(day, at=at_time(day, 11, 0, 0))
        book.set(pub, "draft_submitted", pub.published - timedelta(hours=72))
        ctx.near_miss("PUB-02", f"{pub.aid}: draft submitted exactly 72 hours ahead")
    if day := _pick(ctx, date(2026, 9, 30), 0.45, before_end=True):  # expedited, GM told the same day
        pub = book.add(day, flags="expedited", at=at_time(day, 11, 20, 0))
        book.expedite(pub, at_time(day, 8, 40, 0))
        book.set(pub, "gm_report", at_time(day, 17, 45, 0))
        ctx.near_miss("PUB-02", f"{pub.aid}: expedited, draft the same morning (exempt)")
        ctx.near_miss("PUB-03", f"{pub.aid}: GM report signed at 17:45 on the publish day")


def _plant_gm_report(book: PubBook) -> None:
    ctx = book.ctx
    if day := _pick(ctx, date(2026, 9, 27), 0.32, before_end=True):  # 9-27 (Sun) is not a working day
        pub = book.add(day, flags="expedited")
        book.expedite(pub, at_time(day, 8, 10, 0) - timedelta(days=1))
        ctx.plant("PUB-03", pub.aid)
    if day := _pick(ctx, date(2026, 10, 13), 0.8, before_end=True):
        pub = book.add(day, flags="expedited", at=at_time(day, 16, 0, 0))
        book.expedite(pub, at_time(day, 9, 5, 0))
        book.set(pub, "gm_report", at_time(day + timedelta(days=1), 9, 30, 0))
        ctx.plant("PUB-03", pub.aid)


def _plant_same_day(book: PubBook) -> None:
    ctx = book.ctx
    if day := _pick(ctx, date(2026, 10, 12), 0.78):  # approved on the working day before
        prev = day - timedelta(days=1)
        while not _is_workday(prev):
            prev -= timedelta(days=1)
        pub = book.add(day, at=at_time(day, 10, 15, 0))
        book.set(pub, "platform_lead_approval", at_time(prev, 17, 40, 0))
        book.set(pub, "proofread", at_time(prev, 15, 10, 0))
        ctx.plant("PUB-04", pub.aid)
    if day := _pick(ctx, date(2026, 9, 28), 0.35):  # important: the top leader's approval is the last one
        pub = book.add(day, flags="important", at=at_time(day, 14, 0, 0))
        book.set(pub, "platform_lead_approval", at_time(day - timedelta(days=1), 18, 20, 0))
        book.set(pub, "top_leader_approval", at_time(day, 9, 10, 0))
        ctx.near_miss("PUB-04", f"{pub.aid}: platform approval the day before, top-leader approval on the day")


def _plant_reposts(book: PubBook) -> None:
    ctx = book.ctx
    policy_news = ["国家发展改革委发布关于促进民营经济发展的若干措施。", "措施从市场准入、要素获取、公平执法等方面提出具体要求。",
                   "公司将认真学习贯彻，持续优化经营管理。"]
    if day := _pick(ctx, date(2026, 9, 23), 0.2):
        who = book.submitter()
        pub = book.add(day, [book.news("政策解读：促进民营经济发展若干措施", policy_news, "市场部")], flags="repost",
                       submitter=who)
        ctx.plant("PUB-05", pub.aid)
    if day := _pick(ctx, date(2026, 10, 10), 0.65):  # 10-10 (Sat) is a make-up working day
        who = book.submitter()
        paras = ["本文转载自行业协会，介绍数字化转型的最新实践。", "越来越多的企业将业务流程迁移到线上，提升协同效率。",
                 "专家建议企业结合自身实际，稳步推进数字化建设。"]
        first = book.ordinary_news(who, day, footer="")
        pub = book.add(day, [first, book.news("行业观察：企业数字化转型实践", paras, "行业协会")], submitter=who)
        ctx.plant("PUB-05", pub.aid)
    if day := _pick(ctx, date(2026, 10, 15), 0.9):
        pub = book.add(day, [book.news("权威发布：国庆假期出行提示", ["交通运输部门提示，假期返程高峰请合理安排出行时间。",
                                                            "出行前请关注天气和路况信息。"],
                                       "市场部", footer="<p>来源：交通运输部</p>")], flags="repost")
        ctx.near_miss("PUB-05", f"{pub.aid}: repost with a 来源： line (full-width colon)")
        pub = book.add(day, [book.news("转载：网络安全宣传周知识问答", ["网络安全为人民，网络安全靠人民。",
                                                          "请员工不要点击来历不明的链接。"], "市场部",
                                       source_url="https://www.cac.gov.cn/")], flags="repost")
        ctx.near_miss("PUB-05", f"{pub.aid}: repost with content_source_url")


def _plant_content(book: PubBook) -> None:
    ctx = book.ctx
    if day := _pick(ctx, date(2026, 9, 21), 0.1):  # a partner's ad pasted in, traditional script
        paras = ["金秋时节，公司为员工准备了丰富的节日福利。", "合作商家推荐：澳門線上娛樂城，百家樂、六 合 彩天天開獎，註冊即送禮金。",
                 "福利领取时间另行通知。"]
        pub = book.add(day, [book.news("员工福利活动预告", paras, "工会")])
        ctx.plant("PUB-06", pub.aid)
    if day := _pick(ctx, date(2026, 10, 16), 0.95):  # in the title
        paras = ["为丰富员工生活，公司将于下周五举办秋季团建活动。", "活动设有游园、抽奖和才艺表演等环节。"]
        pub = book.add(day, [book.news("秋季团建：大师现场算命看风水", paras, "工会")])
        ctx.plant("PUB-06", pub.aid)
    if day := _pick(ctx, date(2026, 9, 29), 0.42):  # in the digest; deleted two days later
        paras = ["近日，某地警方破获一起案件，查获大量违禁物品。", "请员工提高警惕，发现可疑情况及时报警。"]
        news = book.news("警方通报一起案件", paras, "市场部", footer="<p>来源：平安城市</p>",
                         digest="警方查获冰*毒…".replace("*", "\u200b"))
        pub = book.add(day, [news])
        pub.deleted_after = day + timedelta(days=2)
        ctx.plant("PUB-06", pub.aid)
    if day := _pick(ctx, date(2026, 9, 18), 0.0):
        paras = ["禁毒宣传月期间，公司组织员工学习禁毒知识，远离毒品，珍爱生命。", "项目复盘会上大家坦言遇到了不少大麻烦，但都一一解决。",
                 "年会游戏推荐：杀人游戏、你画我猜。各部门表现出色情况良好。"]
        pub = book.add(day, [book.news("九月工作简讯", paras, "市场部")])
        ctx.near_miss("PUB-06", f"{pub.aid}: 远离毒品 / 大麻烦 / 杀人游戏 / 出色情况 (allow-list phrases)")


def _is_workday(d: date) -> bool:
    from . import is_workday

    return is_workday(d)


def generate(ctx: DemoContext) -> None:
    book = PubBook(ctx)
    for day in ctx.workdays():
        if book.rng.random() < 0.7:
            pub = book.add(day)
            if book.rng.random() < 0.2:  # a two-article publication
                pub.news.append(book.ordinary_news(book.ctx.employee(pub.submitter), day))
    _plant_signoffs(book)
    _plant_lead_time(book)
    _plant_gm_report(book)
    _plant_same_day(book)
    _plant_reposts(book)
    _plant_content(book)
    from wxpipeline.demo.publishing_files import write_pages, write_reviews

    write_pages(ctx, book.pubs)
    write_reviews(ctx, book.pubs)
    ctx.shared["mp_publications"] = book.pubs
