"""A small exports folder delivered the way real exports arrive, night by night: daily archive
pulls that skip the holiday (1–3 Oct come as one batch on the 4th), group snapshots the same way,
monthly bill exports (September's arrives on 1 Oct, October's so far on the 4th), a ledger entry
booked three days after its payment, a weekly sign-off sheet arriving after the article it
approves, and a corrected re-export of September's bills. Six nights keep the test small; the
demo (`wxpipeline demo`) writes the same patterns over a month.

`ARRIVALS[night]` lists (path, content) present from `wxpipeline nightly --date night` on.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
ROOM = "wrOgQhDgAAnightly00000000AAAA"
FIRST, LAST = date(2026, 9, 29), date(2026, 10, 4)
NIGHTS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def ms(s: str) -> int:
    return int(datetime.fromisoformat(s).replace(tzinfo=SH).timestamp() * 1000)


def msg(msgid: str, at: str, sender: str, text: str) -> str:
    return json.dumps({"msgid": msgid, "action": "send", "from": sender, "tolist": ["lina"], "roomid": ROOM,
                       "msgtime": ms(at), "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)


def archive(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def snapshot(day: date) -> str:
    old = ms("2026-09-01 09:00:00") // 1000
    members = [{"userid": u, "type": 1, "join_time": old, "join_scene": 1, "group_nickname": n, "name": n}
               for u, n in (("zhangwei", "张伟-会计"), ("lina", "李娜-经理"))]
    chat = {"chat_id": ROOM, "name": "财务部工作群", "owner": "lina", "create_time": old, "notice": "",
            "member_list": members, "admin_list": []}
    at = ms(f"{day} 23:30:00") // 1000
    return json.dumps({"snapshot_time": at, "group_chat_list": [chat]}, ensure_ascii=False)


def bill(period: tuple[str, str], rows: list[tuple[str, str, str]]) -> str:
    head = ("微信支付账单明细,,,,,,,,,,\n微信昵称：[张伟-财务],,,,,,,,,,\n"
            f"起始时间：[{period[0]}] 终止时间：[{period[1]}],,,,,,,,,,\n"
            "导出类型：[全部],,,,,,,,,,\n,,,,,,,,,,\n"
            "----------------------微信支付账单明细列表--------------------,,,,,,,,,,\n"
            "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注\n")
    return head + "".join(f'{t},商户消费,京东,"办公用品",支出,¥{amt},零钱,支付成功,{tid}\t,M{tid}\t,/\n'
                          for t, amt, tid in rows)


LEDGER_HEAD = "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
SEPT = ("2026-09-01 00:00:00", "2026-09-30 23:59:59")
REFERENCE = {
    "reference/roster.csv": "employee_id,name,department,position,phone,hire_date,leave_date,wecom_userid,is_leader\n"
                            "E0001,张伟,财务部,会计,13800001111,2020-01-01,,zhangwei,false\n"
                            "E0002,李娜,财务部,经理,13900002222,2019-05-01,,lina,true\n",
    "reference/group_registry.csv": "group_id,group_name,group_type,owner_employee_id,registered_on,work_item_end,"
                                    f"allows_external\n{ROOM},财务部工作群,department,E0002,2024-01-01,,false\n",
    "reference/pay_accounts.csv": "account_nickname,employee_id,approved_on,revoked_on\n张伟-财务,E0001,2026-01-01,\n",
    "reference/pay_approvals.csv": "approval_id,employee_id,valid_from,valid_to,approved_limit,reason,"
                                   "approver_employee_id\n",
}
PUBLICATION = json.dumps({"item": [{"article_id": "P1", "update_time": ms("2026-10-02 10:00:00") // 1000, "content": {
    "create_time": ms("2026-10-01 10:00:00") // 1000, "news_item": [{
        "title": "国庆值班安排", "author": "办公室", "digest": "", "content": "<p>公司新闻。</p>", "content_source_url": "",
        "thumb_media_id": "x", "show_cover_pic": 0, "url": "http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1",
        "thumb_url": "", "need_open_comment": 0, "only_fans_can_comment": 0, "is_deleted": False}]}}],
    "total_count": 1, "item_count": 1}, ensure_ascii=False)

ARRIVALS: dict[date, list[tuple[str, str]]] = {
    date(2026, 9, 29): [
        *REFERENCE.items(),
        ("wecom_archive/pull_0929.jsonl", archive(msg("m1", "2026-09-29 10:00:00", "zhangwei", "收到"),
                                                  msg("m2", "2026-09-30 00:30:00", "lina", "早"))),
        ("wecom_groups/snap_0929.json", snapshot(date(2026, 9, 29))),
        ("ledger/ledger_2026-09.csv", LEDGER_HEAD + "L2,E0001,2026-09-30 15:00:00,50.00,T2,京东,文具\n"),
    ],
    date(2026, 9, 30): [
        ("wecom_archive/pull_0930.jsonl", archive(
            msg("m3", "2026-09-30 09:00:00", "zhangwei", "好的"),
            msg("m4", "2026-09-30 23:50:00", "lina", "@张伟-会计\u2005明早把报表给我"),  # CHAT-06: reply by 00:20
            msg("m5", "2026-10-01 00:05:00", "lina", "节日快乐"))),
        ("wecom_groups/snap_0930.json", snapshot(date(2026, 9, 30))),
    ],
    date(2026, 10, 1): [  # September's bills, exported by the employee once the month ended
        ("wechat_pay/bill_2026-09.csv", bill(SEPT, [("2026-09-29 10:00:00", "100.00", "T1"),
                                                    ("2026-09-30 20:30:00", "50.00", "T2")])),
    ],
    date(2026, 10, 2): [
        # T1 (paid 09-29) booked on 10-02, three days later
        ("ledger/ledger_2026-10b.csv", LEDGER_HEAD + "L1,E0001,2026-10-02 11:00:00,100.00,T1,京东,办公用品\n"),
        ("mp_published/freepublish_20261002.json", PUBLICATION),
    ],
    date(2026, 10, 3): [
        # the weekly sign-off sheet, after the article it approves
        ("mp_reviews/signoffs_week40.csv", "article_id,stage,signer_employee_id,signed_at,flags\n"
         "P1,draft_submitted,E0001,2026-09-29 08:00:00,\nP1,dept_head_review,E0002,2026-10-01 10:00:00,\n"
         "P1,division_lead_review,E0002,2026-10-01 11:00:00,\nP1,platform_lead_approval,E0002,2026-10-02 09:00:00,\n"),
        # corrected re-export: T2 was at 14:30, not 20:30
        ("wechat_pay/bill_2026-09.csv", bill(SEPT, [("2026-09-29 10:00:00", "100.00", "T1"),
                                                    ("2026-09-30 14:30:00", "50.00", "T2")])),
    ],
    date(2026, 10, 4): [  # the holiday batch (archive and snapshots of 1–3 Oct), October's bills, the 4th's pull
        ("wecom_archive/holiday_1001_1003.jsonl", archive(
            msg("h1", "2026-10-01 00:10:00", "zhangwei", "好的，马上"),
            msg("h2", "2026-10-02 10:00:00", "zhangwei", "周末去赌 博吗"),  # CHAT-01
            msg("h3", "2026-10-03 18:00:00", "lina", "明天见"),
            msg("h4", "2026-10-04 00:20:00", "lina", "晚安"))),
        *((f"wecom_groups/snap_{d:%m%d}.json", snapshot(d)) for d in (date(2026, 10, k) for k in range(1, 4))),
        ("wecom_archive/pull_1004.jsonl", archive(msg("m6", "2026-10-04 09:30:00", "zhangwei", "收到"),
                                                  msg("m7", "2026-10-05 00:10:00", "lina", "早"))),
        ("wecom_groups/snap_1004.json", snapshot(date(2026, 10, 4))),
        ("wechat_pay/bill_2026-10.csv", bill(("2026-10-01 00:00:00", "2026-10-04 23:59:59"),
                                             [("2026-10-04 10:00:00", "30.00", "T3")])),  # never booked: PAY-04
    ],
}
