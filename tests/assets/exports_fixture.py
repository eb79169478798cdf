"""A small exports folder in the DESIGN.md layout, written by hand so domain tests know every record."""

from pathlib import Path

PREAMBLE = """微信支付账单明细,,,,,,,,,,
微信昵称：[{nick}],,,,,,,,,,
起始时间：[2026-09-21 00:00:00] 终止时间：[2026-09-23 23:59:59],,,,,,,,,,
导出类型：[全部],,,,,,,,,,
导出时间：[2026-09-24 10:00:00],,,,,,,,,,
,,,,,,,,,,
共{n}笔记录,,,,,,,,,,
收入：0笔 0.00元,,,,,,,,,,
支出：{n}笔 0.00元,,,,,,,,,,
中性交易：0笔 0.00元,,,,,,,,,,
注：,,,,,,,,,,
1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,,,
2. 本明细仅展示当前账单中的交易，不包括已删除的记录,,,,,,,,,,
3. 本明细仅供个人对账使用,,,,,,,,,,
,,,,,,,,,,
----------------------微信支付账单明细列表--------------------,,,,,,,,,,
交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注
"""


def bill_csv(nick: str, rows: list[tuple[str, str, str]]) -> str:
    """rows: (time, amount, transaction_id)."""
    body = "".join(
        f'{t},商户消费,京东,"办公用品",支出,¥{amt},零钱,支付成功,{tid}\t,M{tid}\t,/\n' for t, amt, tid in rows
    )
    return PREAMBLE.format(nick=nick, n=len(rows)) + body


def write_exports(root: Path, extra_bill_rows: list[tuple[str, str, str]] = (), bad_line: bool = False) -> Path:
    (root / "reference").mkdir(parents=True, exist_ok=True)
    (root / "wechat_pay").mkdir(exist_ok=True)
    (root / "ledger").mkdir(exist_ok=True)
    (root / "reference/roster.csv").write_text(
        "employee_id,name,department,position,phone,hire_date,leave_date,wecom_userid,is_leader\n"
        "E0001,张伟,财务部,会计,13800001111,2020-01-01,,zhangwei,false\n"
        "E0002,李娜,市场部,经理,13900002222,2019-05-01,,lina,true\n",
        "utf-8",
    )
    (root / "reference/group_registry.csv").write_text(
        "group_id,group_name,group_type,owner_employee_id,registered_on,work_item_end,allows_external\n"
        "wrOgQhDgAAa1,财务部工作群,department,E0001,2024-01-01,,false\n",
        "utf-8",
    )
    (root / "reference/pay_accounts.csv").write_text(
        "account_nickname,employee_id,approved_on,revoked_on\n张伟-财务,E0001,2026-01-01,\n", "utf-8"
    )
    (root / "reference/pay_approvals.csv").write_text(
        "approval_id,employee_id,valid_from,valid_to,approved_limit,reason,approver_employee_id\n"
        "A1,E0001,2026-09-22,2026-09-22,8000,年会采购,E0002\n",
        "utf-8",
    )
    rows = [
        ("2026-09-22 10:00:00", "6000.00", "T100"),  # over 5000 but approved to 8000
        ("2026-09-22 20:30:00", "12.00", "T101"),  # PAY-02 after hours
        ("2026-09-23 10:00:00", "30.00", "T102"),  # ledger missing -> PAY-04
        *extra_bill_rows,
    ]
    text = bill_csv("张伟-财务", rows)
    if bad_line:
        text += "2026-09-22 11:00:00,商户消费,京东,坏行,支出,¥abc,零钱,支付成功,T199\t,/\t,/\n"
    (root / "wechat_pay/a.csv").write_text(text, "utf-8")
    # a re-sent overlapping export: T100 again, plus an unregistered account's payment
    (root / "wechat_pay/b.csv").write_text("\ufeff" + bill_csv("张伟-财务", rows[:1]).replace("\n", "\r\n"), "utf-8")
    (root / "wechat_pay/c.csv").write_text(bill_csv("陌生人", [("2026-09-22 11:00:00", "8.00", "T300")]), "utf-8")
    (root / "ledger/2026-09.csv").write_text(
        "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
        "L1,E0001,2026-09-22 12:00:00,6000.00,T100,京东,年会\n"
        "L2,E0001,2026-09-24 12:00:00,12.00,T101,京东,文具\n"
        "L3,E0001,2026-09-22 12:00:00,8.00,T300,京东,文具\n",
        "utf-8",
    )
    return root
