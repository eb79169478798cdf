"""Staged column schemas per export kind: what each parser returns (and an empty kind yields)."""

import polars as pl

TS = pl.Datetime("us", "Asia/Shanghai")
MONEY = pl.Decimal(18, 2)
SOURCE = {"source_file": pl.String, "source_line": pl.Int64}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "wechat_pay": {
        "transaction_id": pl.String, "merchant_order_id": pl.String, "traded_at": TS, "trade_type": pl.String,
        "counterparty": pl.String, "goods": pl.String, "direction": pl.String, "amount": MONEY,
        "payment_method": pl.String, "status": pl.String, "refunded_amount": MONEY, "note": pl.String,
        "account_nickname": pl.String, **SOURCE,
    },
    "ledger": {
        "entry_id": pl.String, "employee_id": pl.String, "paid_at": TS, "amount": MONEY,
        "transaction_id": pl.String, "counterparty": pl.String, "purpose": pl.String, **SOURCE,
    },
    "roster": {
        "employee_id": pl.String, "name": pl.String, "department": pl.String, "position": pl.String,
        "phone": pl.String, "hire_date": pl.Date, "leave_date": pl.Date, "wecom_userid": pl.String,
        "is_leader": pl.Boolean, **SOURCE,
    },
    "group_registry": {
        "group_id": pl.String, "group_name": pl.String, "group_type": pl.String, "owner_employee_id": pl.String,
        "registered_on": pl.Date, "work_item_end": pl.Date, "allows_external": pl.Boolean, **SOURCE,
    },
    "pay_accounts": {
        "account_nickname": pl.String, "employee_id": pl.String, "approved_on": pl.Date, "revoked_on": pl.Date,
        **SOURCE,
    },
    "pay_approvals": {
        "approval_id": pl.String, "employee_id": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
        "approved_limit": MONEY, "reason": pl.String, "approver_employee_id": pl.String, **SOURCE,
    },
}
