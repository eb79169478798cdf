"""Tiny builders for rule tests: frames with the staged schemas, only the columns that matter set."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl

from wxpipeline.formats.schemas import export_schema
from wxpipeline.resources.calendar import PrcCalendar

SH = ZoneInfo("Asia/Shanghai")


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=SH)


def frame(kind: str, rows: list[dict]) -> pl.DataFrame:
    schema = export_schema(kind)
    filled = [{c: r.get(c) for c in schema} for r in rows]
    return pl.DataFrame(filled, schema=schema, strict=False)


def bill(tid: str, at: str, amount: str, account: str = "张伟-财务", direction: str = "支出", status: str = "支付成功"):
    return {"transaction_id": tid, "traded_at": ts(at), "amount": Decimal(amount), "account_nickname": account,
            "direction": direction, "status": status, "trade_type": "商户消费", "counterparty": "京东"}


def bills(*rows) -> pl.DataFrame:
    return frame("wechat_pay", list(rows))


def accounts(*rows) -> pl.DataFrame:
    return frame("pay_accounts", [
        {"account_nickname": n, "employee_id": e, "approved_on": date.fromisoformat(a),
         "revoked_on": date.fromisoformat(r) if r else None}
        for n, e, a, r in rows
    ])


def approvals(*rows) -> pl.DataFrame:
    return frame("pay_approvals", [
        {"approval_id": i, "employee_id": e, "valid_from": date.fromisoformat(f), "valid_to": date.fromisoformat(t),
         "approved_limit": Decimal(lim)}
        for i, e, f, t, lim in rows
    ])


def ledger(*rows) -> pl.DataFrame:
    return frame("ledger", [
        {"entry_id": i, "employee_id": "E0001", "paid_at": ts(at), "amount": Decimal(amt), "transaction_id": tid}
        for i, tid, at, amt in rows
    ])


def calendar(day: date) -> pl.DataFrame:
    return PrcCalendar().frame(day, day)
