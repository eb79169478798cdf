"""Reference data: roster, group registry, pay accounts, pay approvals (`reference/*.csv`).

The roster is built first (`build_roster`) so that every domain generator sees it on the
context; `generate` writes it together with the other reference files and leaves the
structured data on `ctx.shared` for later domains:

* `ctx.shared["groups"]`        group registry rows (dates as `date`, flags as bool)
* `ctx.shared["pay_accounts"]`  every WeChat Pay account that appears in bills, registered or not
* `ctx.shared["pay_approvals"]` pay_approvals rows
* `ctx.shared["pay_plan"]`      who / which day the payment violations are planted on
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import DemoContext

ROSTER_HEADER = [
    "employee_id", "name", "department", "position", "phone",
    "hire_date", "leave_date", "wecom_userid", "is_leader",
]
GROUP_HEADER = [
    "group_id", "group_name", "group_type", "owner_employee_id",
    "registered_on", "work_item_end", "allows_external",
]
PAY_ACCOUNT_HEADER = ["account_nickname", "employee_id", "approved_on", "revoked_on"]
PAY_APPROVAL_HEADER = [
    "approval_id", "employee_id", "valid_from", "valid_to",
    "approved_limit", "reason", "approver_employee_id",
]

# Fixed people: the ones the planted cases are about. (id, name, pinyin, department, position,
# leader, hire_date)
KEY_PEOPLE: list[tuple[str, str, str, str, str, bool, date]] = [
    ("E0001", "王建国", "wangjianguo", "总经办", "总经理", True, date(2012, 3, 1)),
    ("E0002", "刘芳", "liufang", "总经办", "副总经理", True, date(2014, 7, 14)),
    ("E0003", "周杰", "zhoujie", "总经办", "总经理助理", False, date(2019, 5, 6)),
    ("E0004", "张伟", "zhangwei", "财务部", "出纳", False, date(2018, 9, 3)),
    ("E0005", "陈静", "chenjing", "财务部", "经理", True, date(2013, 4, 15)),
    ("E0006", "吴静", "wujing", "财务部", "会计", False, date(2017, 2, 20)),
    ("E0007", "李娜", "lina", "行政部", "主管", False, date(2016, 10, 10)),
    ("E0008", "赵强", "zhaoqiang", "行政部", "经理", True, date(2015, 6, 1)),
    ("E0009", "孙丽", "sunli", "行政部", "专员", False, date(2020, 8, 17)),
    ("E0010", "王芳", "wangfang", "市场部", "主管", False, date(2018, 3, 12)),
    ("E0011", "杨洋", "yangyang", "市场部", "经理", True, date(2014, 11, 3)),
    ("E0012", "黄磊", "huanglei", "市场部", "专员", False, date(2021, 7, 5)),
    ("E0013", "陈刚", "chengang", "销售部", "经理", True, date(2013, 9, 9)),
    ("E0014", "马强", "maqiang", "销售部", "销售代表", False, date(2022, 2, 21)),
    ("E0015", "刘洋", "liuyang", "技术部", "工程师", False, date(2019, 12, 2)),
    ("E0016", "郑涛", "zhengtao", "技术部", "经理", True, date(2015, 1, 19)),
    ("E0017", "赵敏", "zhaomin", "人力资源部", "专员", False, date(2023, 4, 10)),
    ("E0018", "林海燕", "linhaiyan", "人力资源部", "经理", True, date(2016, 5, 23)),
]
N_EMPLOYEES = 60

# Filler: department weights and non-leader positions.
DEPARTMENTS: dict[str, tuple[int, list[str]]] = {
    "技术部": (10, ["工程师", "高级工程师", "测试工程师", "运维工程师", "主管"]),
    "销售部": (9, ["销售代表", "客户经理", "主管", "专员"]),
    "市场部": (6, ["专员", "策划", "设计师", "主管"]),
    "行政部": (4, ["专员", "前台", "司机"]),
    "人力资源部": (3, ["专员", "招聘主管", "培训专员"]),
    "财务部": (3, ["会计", "出纳", "财务专员"]),
    "总经办": (1, ["秘书"]),
}
# New hires inside the period (id, preferred hire date, fraction fallback, department, position).
# 2026-09-29 is followed by the National Day holiday: the group clauses' 3-working-day wait.
NEW_HIRES = [
    ("E0058", date(2026, 9, 29), 0.40, "技术部", "工程师"),
    ("E0059", date(2026, 10, 12), 0.83, "销售部", "销售代表"),
    ("E0060", date(2026, 9, 21), 0.10, "市场部", "专员"),
]
# Leavers inside the period (id, preferred leave date, fraction fallback).
LEAVERS = [
    ("E0024", date(2026, 9, 25), 0.25),
    ("E0033", date(2026, 9, 30), 0.40),
    ("E0045", date(2026, 10, 9), 0.70),
    ("E0051", date(2026, 10, 14), 0.87),
]

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("田", "tian"), ("董", "dong"), ("潘", "pan"), ("蒋", "jiang"), ("蔡", "cai"),
]
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
    ("建华", "jianhua"), ("文", "wen"), ("华", "hua"), ("玉兰", "yulan"), ("晓明", "xiaoming"),
    ("海燕", "haiyan"), ("志强", "zhiqiang"), ("婷", "ting"), ("雪", "xue"), ("鹏", "peng"),
    ("浩", "hao"), ("宇", "yu"), ("欣怡", "xinyi"), ("子轩", "zixuan"), ("思雨", "siyu"),
    ("俊杰", "junjie"), ("嘉怡", "jiayi"), ("晨", "chen"), ("亮", "liang"), ("红梅", "hongmei"),
    ("永辉", "yonghui"), ("佳琪", "jiaqi"), ("梓涵", "zihan"), ("国栋", "guodong"), ("慧", "hui"),
]
PHONE_PREFIXES = (
    [f"13{i}" for i in range(10)]
    + [f"15{i}" for i in range(10) if i != 4]
    + [f"18{i}" for i in range(10)]
)

# (nickname, employee_id, approved_on or None for "pick", slug, payment method)
# Registered accounts; approved_on None means "approved inside the period" (赵敏-人事).
PAY_ACCOUNTS: list[tuple[str, str, date | None, str, str]] = [
    ("老周", "E0003", date(2021, 4, 12), "laozhou", "零钱"),  # old account, revoked long ago
    ("周杰-总经办", "E0003", date(2024, 3, 1), "zhoujie-zongjingban", "零钱"),
    ("张伟-财务", "E0004", date(2023, 6, 12), "zhangwei-caiwu", "招商银行储蓄卡(6621)"),
    ("小张", "E0004", date(2025, 2, 20), "xiaozhang", "零钱"),
    ("吴静-财务", "E0006", date(2023, 6, 12), "wujing-caiwu", "工商银行储蓄卡(3390)"),
    ("李娜-行政", "E0007", date(2022, 11, 3), "lina-xingzheng", "零钱通"),
    ("孙丽", "E0009", date(2024, 7, 15), "sunli", "零钱"),
    ("行政采购-孙丽", "E0009", date(2025, 5, 8), "xingzhengcaigou-sunli", "建设银行储蓄卡(1208)"),
    ("王芳-市场", "E0010", date(2023, 9, 1), "wangfang-shichang", "中国银行储蓄卡(7745)"),
    ("黄磊-市场", "E0012", date(2024, 10, 10), "huanglei-shichang", "零钱"),
    ("陈刚-销售", "E0013", date(2022, 4, 18), "chengang-xiaoshou", "招商银行信用卡(0937)"),
    ("刘洋", "E0015", date(2023, 3, 22), "liuyang", "零钱"),
    ("赵敏-人事", "E0017", None, "zhaomin-renshi", "零钱"),
]
UNREGISTERED_ACCOUNTS = [("阿强", "E0014", "aqiang", "零钱")]


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


# --------------------------------------------------------------------------------------------
# roster
# --------------------------------------------------------------------------------------------

def build_roster(ctx: DemoContext, rng: random.Random) -> list[dict[str, str]]:
    """~60 employees; key people fixed, the rest drawn from `rng`. Values are CSV strings."""
    used_names = {p[1] for p in KEY_PEOPLE}
    used_userids = {p[2] for p in KEY_PEOPLE}
    used_phones: set[str] = set()

    def phone() -> str:
        while True:
            p = rng.choice(PHONE_PREFIXES) + "".join(rng.choice(string.digits) for _ in range(8))
            if p not in used_phones:
                used_phones.add(p)
                return p

    def name() -> tuple[str, str]:
        while True:
            (s, sp), (g, gp) = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
            if s + g in used_names:
                continue
            used_names.add(s + g)
            userid, n = sp + gp, 2
            while userid in used_userids:
                userid, n = f"{sp}{gp}{n}", n + 1
            used_userids.add(userid)
            return s + g, userid

    rows: list[dict[str, str]] = []
    for eid, nm, userid, dept, pos, leader, hired in KEY_PEOPLE:
        rows.append(_row(eid, nm, dept, pos, phone(), hired, None, userid, leader))

    dept_names = list(DEPARTMENTS)
    weights = [DEPARTMENTS[d][0] for d in dept_names]
    new_hires = {h[0]: h for h in NEW_HIRES}
    leavers = {lv[0]: lv for lv in LEAVERS}
    for i in range(len(KEY_PEOPLE) + 1, N_EMPLOYEES + 1):
        eid = f"E{i:04d}"
        nm, userid = name()
        if eid in new_hires:
            _, preferred, frac, dept, pos = new_hires[eid]
            hired = ctx.pick_day(preferred, frac)
        else:
            dept = rng.choices(dept_names, weights)[0]
            pos = rng.choice(DEPARTMENTS[dept][1])
            hired = date(2014, 1, 1) + timedelta(days=rng.randrange(0, 11 * 365))
            hired = min(hired, ctx.start - timedelta(days=120))
        left = ctx.pick_day(leavers[eid][1], leavers[eid][2]) if eid in leavers else None
        rows.append(_row(eid, nm, dept, pos, phone(), hired, left, userid, False))
    return rows


def _row(eid, nm, dept, pos, phone, hired, left, userid, leader) -> dict[str, str]:
    return {
        "employee_id": eid, "name": nm, "department": dept, "position": pos, "phone": phone,
        "hire_date": _iso(hired), "leave_date": _iso(left), "wecom_userid": userid,
        "is_leader": "true" if leader else "false",
    }


# --------------------------------------------------------------------------------------------
# group registry
# --------------------------------------------------------------------------------------------

def _group_id(rng: random.Random, used: set[str]) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        gid = "wrOgQhDgAA" + "".join(rng.choice(alphabet) for _ in range(16)) + "AAAA"
        if gid not in used:
            used.add(gid)
            return gid


def build_groups(ctx: DemoContext) -> list[dict[str, Any]]:
    rng, used = ctx.rng, set()
    s = ctx.start
    spec = [
        # name, type, owner, registered_on, work_item_end, allows_external
        ("公司全员通知群", "company", "E0008", date(2020, 3, 16), None, False),
        ("财务部工作群", "department", "E0005", date(2020, 4, 1), None, False),
        ("技术部工作群", "department", "E0016", date(2020, 4, 1), None, False),
        ("市场部工作群", "department", "E0011", date(2020, 4, 2), None, False),
        ("销售部工作群", "department", "E0013", date(2020, 4, 2), None, False),
        ("人力资源部工作群", "department", "E0018", date(2021, 1, 11), None, False),
        ("行政部工作群", "department", "E0008", date(2021, 1, 11), None, False),
        ("华东区客户对接群", "special", "E0013", date(2024, 6, 3), None, True),
        ("年度审计专项群", "special", "E0005", s - timedelta(days=30), None, False),
        ("秋季展会筹备群", "temporary", "E0045", s - timedelta(days=8),
         ctx.pick_day(date(2026, 9, 30), 0.4), True),
        ("国庆值班临时群", "temporary", "E0008", ctx.pick_day(date(2026, 9, 22), 0.15),
         ctx.pick_day(date(2026, 10, 8), 0.7), False),
    ]
    return [
        {
            "group_id": _group_id(rng, used), "group_name": name, "group_type": gtype,
            "owner_employee_id": owner, "registered_on": reg, "work_item_end": wend,
            "allows_external": ext,
        }
        for name, gtype, owner, reg, wend, ext in spec
    ]


# --------------------------------------------------------------------------------------------
# pay accounts, approvals and the payment plan
# --------------------------------------------------------------------------------------------

def build_pay_plan(ctx: DemoContext) -> dict[str, Any]:
    """Days of the planted PAY-01 / PAY-03 cases; the approvals and accounts depend on them."""
    plan: dict[str, Any] = {
        # PAY-01: > 5000 only when two accounts are summed (violation)
        "limit_two_accounts": ("E0004", ctx.pick_workday(date(2026, 9, 22), 0.2)),
        # PAY-01: 6000 covered by an approval of 8000 (compliant)
        "limit_approved": ("E0007", ctx.pick_workday(date(2026, 9, 29), 0.45)),
        # PAY-01: exactly 5000.00 (compliant)
        "limit_exact": ("E0010", ctx.pick_workday(date(2026, 10, 9), 0.6)),
        # PAY-01: 7000 with an approval of only 6000 (violation)
        "limit_over_approval": ("E0013", ctx.pick_workday(date(2026, 10, 13), 0.8)),
    }
    # PAY-03: account approved inside the period, spending before approved_on
    approved_on = ctx.pick_workday(date(2026, 9, 28), 0.4) or ctx.pick_day(date(2026, 9, 28), 0.4)
    before = [d for d in ctx.workdays() if d < approved_on]
    plan["approved_mid_period"] = ("赵敏-人事", approved_on,
                                   date(2026, 9, 24) if date(2026, 9, 24) in before else (before[-1] if before else None))
    # PAY-03: account revoked inside the period, spending after revoked_on
    revoked_on = ctx.pick_workday(date(2026, 10, 9), 0.6) or ctx.pick_day(date(2026, 10, 9), 0.6)
    after = [d for d in ctx.workdays() if d > revoked_on]
    plan["revoked_mid_period"] = ("刘洋", revoked_on,
                                  date(2026, 10, 12) if date(2026, 10, 12) in after else (after[0] if after else None))
    return plan


def build_pay_accounts(ctx: DemoContext, plan: dict[str, Any]) -> list[dict[str, Any]]:
    _, approved_mid, _ = plan["approved_mid_period"]
    _, revoked_mid, _ = plan["revoked_mid_period"]
    accounts = []
    for nick, eid, approved, slug, method in PAY_ACCOUNTS:
        revoked = None
        if nick == "老周":
            revoked = date(2024, 3, 1)
        elif nick == "刘洋":
            revoked = revoked_mid
        accounts.append({
            "nickname": nick, "employee_id": eid, "approved_on": approved or approved_mid,
            "revoked_on": revoked, "registered": True, "slug": slug, "method": method,
        })
    for nick, eid, slug, method in UNREGISTERED_ACCOUNTS:
        accounts.append({
            "nickname": nick, "employee_id": eid, "approved_on": None, "revoked_on": None,
            "registered": False, "slug": slug, "method": method,
        })
    return accounts


def build_pay_approvals(ctx: DemoContext, plan: dict[str, Any]) -> list[dict[str, Any]]:
    approvals: list[dict[str, Any]] = []

    def add(eid: str, frm: date, to: date, limit: int, reason: str, approver: str) -> None:
        approvals.append({
            "approval_id": f"SP{frm:%Y%m%d}{len(approvals) + 1:03d}", "employee_id": eid,
            "valid_from": frm, "valid_to": to, "approved_limit": limit, "reason": reason,
            "approver_employee_id": approver,
        })

    s = ctx.start
    one = timedelta(days=1)
    # expired long before the period
    add("E0003", s - timedelta(days=39), s - timedelta(days=37), 10000, "总经理出差行程预订", "E0001")
    eid, day = plan["limit_approved"]
    if day:
        add(eid, day - one, day + one, 8000, "国庆活动物资集中采购", "E0001")
    eid, day = plan["limit_two_accounts"]
    if day:  # an approval for the same person that does NOT cover the violating day
        add(eid, day + 5 * one, day + 6 * one, 8000, "季度办公设备采购", "E0005")
    eid, day = plan["limit_over_approval"]
    if day:
        add(eid, day, day, 6000, "重要客户接待", "E0001")
    return approvals


# --------------------------------------------------------------------------------------------
# generator
# --------------------------------------------------------------------------------------------

def generate(ctx: DemoContext) -> None:
    ctx.write_csv(
        "reference/roster.csv", ROSTER_HEADER,
        [[r[k] for k in ROSTER_HEADER] for r in ctx.roster],
    )

    groups = build_groups(ctx)
    ctx.shared["groups"] = groups
    ctx.write_csv(
        "reference/group_registry.csv", GROUP_HEADER,
        [[g["group_id"], g["group_name"], g["group_type"], g["owner_employee_id"],
          _iso(g["registered_on"]), _iso(g["work_item_end"]),
          "true" if g["allows_external"] else "false"] for g in groups],
    )

    plan = build_pay_plan(ctx)
    accounts = build_pay_accounts(ctx, plan)
    approvals = build_pay_approvals(ctx, plan)
    ctx.shared.update(pay_plan=plan, pay_accounts=accounts, pay_approvals=approvals)
    ctx.write_csv(
        "reference/pay_accounts.csv", PAY_ACCOUNT_HEADER,
        [[a["nickname"], a["employee_id"], _iso(a["approved_on"]), _iso(a["revoked_on"])]
         for a in accounts if a["registered"]],
    )
    ctx.write_csv(
        "reference/pay_approvals.csv", PAY_APPROVAL_HEADER,
        [[a["approval_id"], a["employee_id"], _iso(a["valid_from"]), _iso(a["valid_to"]),
          a["approved_limit"], a["reason"], a["approver_employee_id"]] for a in approvals],
    )
