"""Reference data (unpartitioned): roster, group registry, pay accounts, pay approvals.

Rules read these as of the partition day (e.g. "active on day D" from hire/leave dates).
"""

from wxpipeline.factories.staged import build_reference_asset

roster = build_reference_asset(
    "roster", "roster",
    "员工花名册 reference/roster.csv: one row per employee (employee_id, name, department, position, "
    "masked phone in reports, hire/leave dates, WeCom userid, is_leader). Defines who is an employee "
    "and who is a leader on any day.",
)
group_registry = build_reference_asset(
    "group_registry", "group_registry",
    "工作群登记表 reference/group_registry.csv: registered work groups with type (company, department, "
    "special, temporary), owner, registration date, work-item end and whether externals are allowed.",
)
pay_accounts = build_reference_asset(
    "pay_accounts", "pay_accounts",
    "微信支付账户登记 reference/pay_accounts.csv: which WeChat nickname (the bill's 微信昵称) belongs to "
    "which employee, approved and revoked dates.",
)
pay_approvals = build_reference_asset(
    "pay_approvals", "pay_approvals",
    "支付限额审批 reference/pay_approvals.csv: approvals that raise an employee's daily WeChat Pay limit "
    "for a date range.",
)

reference_assets = [roster, group_registry, pay_accounts, pay_approvals]
reference_checks: list = []  # each table's contract is a check of the table itself (factories/staged.py)
