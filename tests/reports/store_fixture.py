"""A findings store filled directly (no Dagster) with two domains over a few days, so report
tests know every row: payments (PAY-02 every day for one subject, PAY-03 once) and a `groups`
domain with group ids and evidence holding personal data that the report must mask."""

import json
from datetime import date, timedelta

import polars as pl

from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store import findings as findings_store

DAY = date(2026, 10, 15)
PHONE, ID_NO, CARD = "13812345678", "11010519491231002X", "6222021234567890128"

ROSTER = pl.DataFrame({
    "employee_id": ["E1", "E2", "E3"],
    "name": ["张伟", "李娜", "王强"],
    "department": ["财务部", "市场部", "市场部"],
})
REGISTRY = pl.DataFrame({"group_id": ["wrG1", "wrG2"], "group_name": ["财务部工作群", "市场部工作群"]})
SEVERITIES = {"PAY-01": "high", "PAY-02": "medium", "PAY-03": "high", "PAY-04": "medium", "GRP-01": "low",
              "GRP-04": "high"}


def frame(rows: list[dict]) -> pl.DataFrame:
    full = [{"employee_id": None, "group_id": None, **r} for r in rows]
    return pl.DataFrame(full, schema=FINDING_SCHEMA)


def ev(**kw) -> str:
    return json.dumps(kw, ensure_ascii=False)


def day_rows(domain: str, day: date) -> list[dict]:
    if domain == "payments":
        rows = [dict(clause_id="PAY-02", subject_id="T-late", partition_date=day, employee_id="E1",
                     summary=f"交易 T-late 于 {day} 20:00 支付", evidence=ev(traded_at=f"{day} 20:00:00"))]
        if day == DAY:
            rows.append(dict(clause_id="PAY-03", subject_id="T-anon", partition_date=day, employee_id=None,
                             summary="账户未登记", evidence=ev(account="阿强")))
        if day == DAY - timedelta(days=1):
            rows.append(dict(clause_id="PAY-03", subject_id="T-gone", partition_date=day, employee_id="E2",
                             summary="账户已撤销", evidence=ev(account="刘洋")))
        return rows
    rows = [dict(clause_id="GRP-01", subject_id=f"wrG2/u{i}", partition_date=day, employee_id="E3", group_id="wrG2",
                 summary=f"群昵称不规范 u{i}", evidence=ev(nickname=f"小王{i}", phone=PHONE)) for i in range(3)]
    rows.append(dict(clause_id="GRP-04", subject_id="wrG1/ext", partition_date=day, group_id="wrG1",
                     summary=f"外部人员 {PHONE} 在群中",
                     evidence=ev(note=f"身份证 {ID_NO} 卡号 {CARD}", mobile="139-1234-5678")))
    return rows


def fill(wh: Warehouse, days: int = 3) -> None:
    for i in range(days - 1, -1, -1):
        d = DAY - timedelta(days=i)
        for domain in ("payments", "groups"):
            findings_store.replace_partition(wh, domain, d, frame(day_rows(domain, d)), SEVERITIES, "2026.1", f"run-{d}")
