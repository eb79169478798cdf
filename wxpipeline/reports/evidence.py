"""A finding's evidence for people: Chinese sentences and labelled Chinese fields, one place for
every clause (the HTML report, the workbooks and the CLI table all use `format_evidence`).

The rules store evidence as a JSON object with English keys (an interface for tools); a
compliance officer reads e.g. `付款时间 2026-10-12 19:42，超出工作时间 09:00–18:00；金额 468.00 元`.
Each clause may open with a sentence (`LEADS`); the remaining keys are shown as `标签 值` in the
order the rule wrote them. Keys labelled None are technical and left out; a key missing here shows as 其他 (never raw);
`tests/reports/test_evidence.py` checks a real finding of every clause.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from wxpipeline.checks.wordlists import CATEGORY_LABELS

SEP = "；"
UNLABELLED = "其他"  # a key a new rule added without a label here: its value is shown, its key never

# key -> label; a key mapped to None is technical (offsets, ids of the rule's own bookkeeping)
LABELS: dict[str, str | None] = {
    # time
    "sent_at": "发送时间", "traded_at": "付款时间", "paid_at": "台账付款时间", "published_at": "发布时间",
    "joined_at": "入群时间", "left_at": "移出时间", "seen_at": "快照时间", "last_seen_at": "最后一次出现",
    "first_seen_at": "首次出现", "first_evidence_at": "最早入群证据", "first_message_at": "离职后首条消息",
    "mentioned_at": "@ 时间", "notified_at": "通知时间", "deadline": "期限", "first_post_after": "此后首次发言",
    "dismissed_at": "解散时间", "notice_sent_at": "通知发送时间", "approved_at": "审批时间",
    "draft_submitted_at": "草稿提交时间", "gm_report_at": "向总经理报告时间", "allowed_from": "最早可入群日",
    "approved_on": "账户批准日", "revoked_on": "账户撤销日", "registered_on": "登记日", "hire_date": "入职日",
    "leave_date": "离职日", "work_item_end": "工作事项结束日",
    # people, groups, accounts
    "sender": "发送人", "userid": "企业微信账号", "member": "成员", "leader": "领导", "leader_employee_id": "领导工号",
    "owner": "群主", "invitor": "邀请人", "notice_sender": "通知发送人", "account": "付款账户",
    "accounts": "付款账户", "counterparty": "交易对方", "draft_submitted_by": "草稿提交人", "approved_by": "审批人",
    "gm_report_by": "报告人", "roomid": "群", "group_name": "群名", "group_type": "群类型",
    "nickname": "群昵称", "expected": "应为", "mentioned_as": "被 @ 为", "matched_label": "匹配到",
    "label_kind": "匹配方式", "member_type": "成员类型", "in_roster": "在花名册中", "join_method": "入群方式",
    "allows_external": "允许外部成员", "status": "状态",
    # amounts
    "total_yuan": "当日合计（元）", "limit_yuan": "限额（元）", "amount_yuan": "金额（元）",
    "ledger_amount_yuan": "台账金额（元）", "approved_limit_yuan": "审批额度（元）", "approval_id": "审批单",
    "transactions": "交易笔数", "transaction_ids": "交易单号", "transaction_id": "交易单号",
    "ledger_entries": "台账记录", "purpose": "用途", "fine_yuan": "罚款（元）",
    # message content
    "msgtype": "消息类型", "msgtypes": "消息类型", "hit_count": "命中处数", "categories": "类别", "hits": "命中",
    "link_count": "链接数", "kinds": "类型", "links": "链接", "id_numbers": "身份证号", "bank_cards": "银行卡号",
    "mobiles": "手机号", "mobile_count": "手机号个数", "markers": "涉密标识", "records_today": "当日消息数",
    "groups": "所在群", "one_to_one": "单聊消息数", "days_after_leave": "离职后天数",
    # reasons and counts
    "reason": "原因", "kind": "类型", "is_workday": "工作日", "calendar_known": "节假日库已收录",
    "working_hours": "工作时间", "window_minutes": "时限（分钟）", "window_hours": "时限（小时）",
    "window_days": "通知时限（天）", "hours_after_leave_day": "离职日结束后（小时）",
    "working_days_completed": "已满工作日", "required_working_days": "要求工作日", "join_source": "入群依据",
    "left_source": "移出依据", "seen_in": "出现于", "registered": "已登记", "source_format": "数据来源",
    "carried_in": "此前已存在", "missing": "缺少", "notice_text": "通知内容",
    # publishing
    "title": "标题", "important": "重要", "expedited": "加急", "missing_stages": "缺少签字",
    "late_stages": "晚于发布的签字", "is_deleted": "已删除", "lead_hours": "提前（小时）",
    "required_hours": "要求提前（小时）", "approval_stage": "最后审批", "days_publish_after_approval": "审批后天数",
    "items": "文章", "content_source_url": "原文链接", "accepted_source_markers": "认可的来源标注",
    "field": "位置", "idx": "第几篇", "category": "类别", "snippet": "上下文", "url": "链接", "reasons": "原因",
    # technical: left out
    "offsets_in": None, "offset_basis": None, "offset": None, "length": None, "first_msgid": None,
    "mention_msgid": None, "notice_msgid": None, "term": None, "host": None, "path": None,
}

# enumerated values the rules write in English
VALUES: dict[str, str] = {
    **CATEGORY_LABELS, "pattern": "招揽模式",
    "blocked_host": "黑名单域名", "ip_literal": "IP 地址直连", "shortener": "短链接", "executable": "可执行/安装文件",
    "id_number": "身份证号", "bank_card": "银行卡号", "mobiles": "多个手机号", "confidential": "涉密标识",
    "missing_in_ledger": "账单有、台账无", "duplicate_in_ledger": "台账重复记录", "amount_mismatch": "金额不一致",
    "missing_in_bill": "台账有、账单无",
    "draft_submitted": "提交草稿", "dept_head_review": "部门负责人审核", "division_lead_review": "分管领导复核",
    "editor": "责任编辑", "proofread": "校对", "platform_lead_approval": "平台主管领导审批",
    "top_leader_approval": "主要领导审批", "gm_report": "向总经理报告",
    "company": "公司群", "department": "部门群", "special": "专项群", "temporary": "临时群",
    "event": "退群事件", "snapshot": "群快照", "chat": "聊天记录", "group_nickname": "群昵称", "name": "姓名",
    "invite": "邀请入群", "qrcode": "扫码入群", "externalcontact": "客户群接口", "text": "文字",
    "content_text": "正文", "digest": "摘要", "author": "作者",
}

_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def value_text(v: Any) -> str:
    if v is None or v == "":
        return "无"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "、".join(value_text(x) for x in v) if v else "无"
    if isinstance(v, dict):
        return "，".join(fields(v))
    s = str(v)
    m = _TS.match(s)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    return VALUES.get(s, s)


def fields(data: dict, skip: set[str] = frozenset()) -> list[str]:
    """`标签 值` for each labelled key (technical keys and keys in `skip` left out)."""
    out = []
    for k, v in data.items():
        if k in skip:
            continue
        if k in LABELS and LABELS[k] is None:
            continue
        out.append(f"{LABELS.get(k) or UNLABELLED} {_special(k, v)}")
    return out


def _special(key: str, v: Any) -> str:
    if key == "hits" and isinstance(v, list):
        return "、".join(_hit(h) for h in v if isinstance(h, dict)) or "无"
    if key == "links" and isinstance(v, list):
        return "、".join(f"{h.get('url')}（{value_text(h.get('reasons'))}）" for h in v if isinstance(h, dict)) or "无"
    if key == "items" and isinstance(v, list):
        return "、".join(f"第 {h.get('idx')} 篇《{h.get('title')}》：{h.get('reason')}" for h in v
                        if isinstance(h, dict)) or "无"
    if key == "first_post_after" and v is None:
        return "未发言"
    if key == "member_type":
        return {1: "企业成员", 2: "外部联系人"}.get(v, value_text(v))
    return value_text(v)


def _hit(h: dict) -> str:
    where = f"{VALUES.get(h.get('field'), h.get('field'))}，" if h.get("field") else ""
    return f"{value_text(h.get('category'))}（{where}{h.get('snippet') or ''}）"


def _hm(v: Any) -> str:
    """`09:00:00-18:00:00` -> `09:00–18:00`."""
    parts = str(v or "").split("-")
    return "–".join(p[:5] for p in parts) if len(parts) == 2 else value_text(v)


def _pay01(d: dict) -> tuple[str, set[str]]:
    approval = (f"审批单 {d['approval_id']} 额度 {d.get('approved_limit_yuan')} 元不足" if d.get("approval_id")
                else "无审批")
    return (f"当日合计 {d.get('total_yuan')} 元，超过限额 {d.get('limit_yuan')} 元，{approval}",
            {"total_yuan", "limit_yuan", "approval_id", "approved_limit_yuan"})


def _pay02(d: dict) -> tuple[str, set[str]]:
    when = f"付款时间 {value_text(d.get('traded_at'))}"
    if d.get("is_workday") is False:
        lead = f"{when}，当日为休息日"
        if "非工作时间" in str(d.get("reason") or ""):
            lead += f"且超出工作时间 {_hm(d.get('working_hours'))}"
    else:
        lead = f"{when}，超出工作时间 {_hm(d.get('working_hours'))}"
    if d.get("calendar_known") is False:
        lead += "（节假日库未收录该年，按周一至周五判断）"
    return lead, {"traded_at", "reason", "is_workday", "working_hours", "calendar_known"}


def _pay03(d: dict) -> tuple[str, set[str]]:
    return f"付款账户「{d.get('account')}」{d.get('reason')}", {"account", "reason"}


def _pay04(d: dict) -> tuple[str, set[str]]:
    return value_text(d.get("kind")), {"kind"}


def _grp01(d: dict) -> tuple[str, set[str]]:
    return (f"群昵称「{d.get('nickname')}」，应为「{value_text(d.get('expected'))}」", {"nickname", "expected"})


def _deadline_lead(what: str, done_key: str, done_label: str) -> Callable[[dict], tuple[str, set[str]]]:
    def lead(d: dict) -> tuple[str, set[str]]:
        done = d.get(done_key)
        tail = f"{done_label} {value_text(done)}" if done else f"截至报告时未{done_label.removesuffix('时间')}"
        return f"{what}期限 {value_text(d.get('deadline'))}，{tail}", {"deadline", done_key}

    return lead


def _chat06(d: dict) -> tuple[str, set[str]]:
    return (f"{value_text(d.get('mentioned_at'))} 被 @ 为「{d.get('mentioned_as')}」，应在 "
            f"{value_text(d.get('deadline'))} 前回复，此后首次发言 {_special('first_post_after', d.get('first_post_after'))}",
            {"mentioned_at", "mentioned_as", "deadline", "first_post_after"})


def _chat07(d: dict) -> tuple[str, set[str]]:
    return (f"{value_text(d.get('notified_at'))} 发布 @所有人 通知，应在 {value_text(d.get('deadline'))} 前回复，"
            f"此后首次发言 {_special('first_post_after', d.get('first_post_after'))}",
            {"notified_at", "deadline", "first_post_after"})


def _pub02(d: dict) -> tuple[str, set[str]]:
    return (f"草稿提前 {value_text(d.get('lead_hours'))} 小时提交，要求至少 {value_text(d.get('required_hours'))} 小时",
            {"lead_hours", "required_hours"})


LEADS: dict[str, Callable[[dict], tuple[str, set[str]]]] = {
    "PAY-01": _pay01, "PAY-02": _pay02, "PAY-03": _pay03, "PAY-04": _pay04,
    "GRP-01": _grp01,
    "GRP-02": _deadline_lead("移出", "left_at", "移出时间"),
    "GRP-07": _deadline_lead("解散", "dismissed_at", "解散时间"),
    "CHAT-06": _chat06, "CHAT-07": _chat07,
    "PUB-02": _pub02,
}


def format_evidence(clause_id: str | None, data: dict | str) -> str:
    """Masked evidence (a dict from `masking.masked_evidence`, or text) as Chinese for people."""
    if isinstance(data, str):
        return data
    if not data:
        return ""
    lead, used = LEADS[clause_id](data) if clause_id in LEADS else ("", set())
    if not used & data.keys():  # evidence of an older rule version: fields only
        lead, used = "", set()
    parts = ([lead] if lead else []) + fields(data, used)
    return SEP.join(parts)
