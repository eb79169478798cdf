"""WeChat Pay clauses PAY-01..PAY-04 (公司微信支付管理制度).

Frames (staged columns, see wxpipeline/formats): `bills` (pay-bill rows, deduplicated on
transaction_id), `pay_accounts`, `pay_approvals`, `ledger`, `calendar` (date, is_workday,
calendar_known).
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import polars as pl

from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.registry import Params, clause

SOURCE = "公司微信支付管理制度"
NOT_SPENDING_STATUS = ["支付失败", "已全额退款"]


def spending(bills: pl.DataFrame) -> pl.DataFrame:
    """Rows that count as spending: 支出 that neither failed nor was fully refunded."""
    return bills.filter(
        (pl.col("direction") == "支出") & ~pl.col("status").str.strip_chars().is_in(NOT_SPENDING_STATUS)
    ).with_columns(pl.col("traded_at").dt.date().alias("trade_day"))


def _money(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Decimal(18, 2)).cast(pl.String)


def _employee_of_account(df: pl.DataFrame, pay_accounts: pl.DataFrame) -> pl.DataFrame:
    return df.join(
        pay_accounts.select("account_nickname", "employee_id"), on="account_nickname", how="left"
    )


class DailyLimit(Params):
    daily_limit_yuan: Decimal


@clause(
    "PAY-01",
    domain="payments",
    title="单日支付限额",
    text="员工单日微信支付支出合计不得超过政策限额（默认 5000 元），除非有覆盖当日且批准额度不低于合计金额的审批。",
    source=f"{SOURCE} 第九条, 第十条",
    subject="{employee_id}/{YYYY-MM-DD}",
    params=DailyLimit,
)
def pay_01_daily_limit(
    bills: pl.DataFrame, pay_accounts: pl.DataFrame, pay_approvals: pl.DataFrame, params: DailyLimit, day: date
) -> pl.DataFrame:
    spent = _employee_of_account(spending(bills).filter(pl.col("trade_day") == day), pay_accounts)
    totals = (
        spent.filter(pl.col("employee_id").is_not_null())
        .group_by("employee_id", "trade_day")
        .agg(
            pl.col("amount").sum().alias("total"),
            pl.len().alias("transactions"),
            pl.col("account_nickname").unique().sort().alias("accounts"),
            pl.col("transaction_id").sort().head(20).alias("transaction_ids"),
        )
    )
    covering = (
        pay_approvals.filter((pl.col("valid_from") <= day) & (pl.col("valid_to") >= day))
        .sort("approved_limit", descending=True)
        .group_by("employee_id")
        .agg(pl.col("approved_limit").first(), pl.col("approval_id").first())
    )
    limit = pl.lit(params.daily_limit_yuan).cast(pl.Decimal(18, 2))
    breaches = totals.join(covering, on="employee_id", how="left").filter(
        (pl.col("total") > limit)
        & (pl.col("approved_limit").is_null() | (pl.col("approved_limit") < pl.col("total")))
    )
    return breaches.select(
        pl.concat_str(pl.col("employee_id"), pl.lit("/"), pl.col("trade_day").dt.strftime("%Y-%m-%d")).alias(
            "subject_id"
        ),
        pl.col("trade_day").alias("partition_date"),
        "employee_id",
        pl.format(
            "员工 {} 当日微信支付合计 {} 元，超过限额 {} 元{}",
            "employee_id",
            _money("total"),
            limit.cast(pl.String),
            pl.when(pl.col("approval_id").is_null())
            .then(pl.lit("且无审批"))
            .otherwise(pl.format("（审批 {} 额度仅 {} 元）", "approval_id", _money("approved_limit"))),
        ).alias("summary"),
        evidence_json(
            total_yuan=_money("total"),
            limit_yuan=limit.cast(pl.String),
            approval_id=pl.col("approval_id"),
            approved_limit_yuan=_money("approved_limit"),
            transactions=pl.col("transactions"),
            accounts=pl.col("accounts"),
            transaction_ids=pl.col("transaction_ids"),
        ),
    )


class WorkingHours(Params):
    working_hours_start: time
    working_hours_end: time
    require_working_day: bool


@clause(
    "PAY-02",
    domain="payments",
    title="工作时间支付",
    text="微信支付支出须发生在工作日（含调休上班日）09:00:00 至 18:00:00（含）之间。",
    source=f"{SOURCE} 第八条2",
    subject="{transaction_id}",
    params=WorkingHours,
)
def pay_02_working_hours(
    bills: pl.DataFrame, pay_accounts: pl.DataFrame, calendar: pl.DataFrame, params: WorkingHours, day: date
) -> pl.DataFrame:
    spent = spending(bills).filter(pl.col("trade_day") == day)
    judged = _employee_of_account(spent, pay_accounts).join(
        calendar.rename({"date": "trade_day"}), on="trade_day", how="left"
    )
    t = pl.col("traded_at").dt.time()
    off_day = pl.lit(params.require_working_day) & ~pl.col("is_workday").fill_null(False)
    off_hours = (t < params.working_hours_start) | (t > params.working_hours_end)
    reason = (
        pl.when(off_day & off_hours)
        .then(pl.lit("非工作日且非工作时间"))
        .when(off_day)
        .then(pl.lit("非工作日"))
        .otherwise(pl.lit("非工作时间"))
    )
    return judged.filter(off_day | off_hours).select(
        pl.col("transaction_id").alias("subject_id"),
        pl.col("trade_day").alias("partition_date"),
        "employee_id",
        pl.format(
            "交易 {} 于 {} 支付 {} 元（{}）：{}",
            "transaction_id",
            pl.col("traded_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            _money("amount"),
            "account_nickname",
            reason,
        ).alias("summary"),
        evidence_json(
            traded_at=pl.col("traded_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            reason=reason,
            is_workday=pl.col("is_workday"),
            calendar_known=pl.col("calendar_known"),
            working_hours=pl.lit(f"{params.working_hours_start}-{params.working_hours_end}"),
            amount_yuan=_money("amount"),
            account=pl.col("account_nickname"),
            counterparty=pl.col("counterparty"),
        ),
    )


@clause(
    "PAY-03",
    domain="payments",
    title="授权支付账户",
    text="付款账户须已在支付账户登记表中登记，批准日期不晚于交易日，且未在交易日或之前被撤销。",
    source=f"{SOURCE} 第四条, 第七条",
    subject="{transaction_id}",
)
def pay_03_authorised_payer(bills: pl.DataFrame, pay_accounts: pl.DataFrame, params, day: date) -> pl.DataFrame:
    spent = spending(bills).filter(pl.col("trade_day") == day)
    judged = spent.join(
        pay_accounts.select("account_nickname", "employee_id", "approved_on", "revoked_on"),
        on="account_nickname",
        how="left",
    )
    reason = (
        pl.when(pl.col("approved_on").is_null())
        .then(pl.lit("账户未登记"))
        .when(pl.col("approved_on") > pl.col("trade_day"))
        .then(pl.lit("账户尚未批准"))
        .when(pl.col("revoked_on") <= pl.col("trade_day"))
        .then(pl.lit("账户已撤销"))
    )
    return judged.filter(reason.is_not_null()).select(
        pl.col("transaction_id").alias("subject_id"),
        pl.col("trade_day").alias("partition_date"),
        "employee_id",
        pl.format(
            "交易 {} 由账户「{}」支付 {} 元：{}", "transaction_id", "account_nickname", _money("amount"), reason
        ).alias("summary"),
        evidence_json(
            account=pl.col("account_nickname"),
            reason=reason,
            approved_on=pl.col("approved_on").cast(pl.String),
            revoked_on=pl.col("revoked_on").cast(pl.String),
            traded_at=pl.col("traded_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            amount_yuan=_money("amount"),
        ),
    )


class Reconciliation(Params):
    amount_tolerance_yuan: Decimal


@clause(
    "PAY-04",
    domain="payments",
    title="账单与台账核对",
    text="每笔微信支付支出须在财务台账中有且仅有一条交易单号与金额相同的记录；每条台账记录须对应一笔支出（不要求同日）。",
    source=f"{SOURCE} 第七条4",
    subject="bill:{transaction_id} 或 ledger:{entry_id}",
    params=Reconciliation,
)
def pay_04_reconciliation(
    bills: pl.DataFrame, ledger: pl.DataFrame, pay_accounts: pl.DataFrame, params: Reconciliation, day: date
) -> pl.DataFrame:
    spent = _employee_of_account(spending(bills), pay_accounts)
    tol = pl.lit(params.amount_tolerance_yuan).cast(pl.Decimal(18, 2))

    per_tx = ledger.filter(pl.col("transaction_id").is_not_null()).group_by("transaction_id").agg(
        pl.len().alias("entries"),
        pl.col("entry_id").sort().alias("entry_ids"),
        pl.col("amount").first().alias("ledger_amount"),
    )
    bill_side = spent.filter(pl.col("trade_day") == day).join(per_tx, on="transaction_id", how="left")
    kind = (
        pl.when(pl.col("entries").is_null())
        .then(pl.lit("missing_in_ledger"))
        .when(pl.col("entries") > 1)
        .then(pl.lit("duplicate_in_ledger"))
        .when((pl.col("ledger_amount") - pl.col("amount")).abs() > tol)
        .then(pl.lit("amount_mismatch"))
    )
    kind_zh = {"missing_in_ledger": "台账无记录", "duplicate_in_ledger": "台账重复记账", "amount_mismatch": "金额不符"}
    bill_findings = bill_side.with_columns(kind.alias("kind")).filter(pl.col("kind").is_not_null()).select(
        pl.concat_str(pl.lit("bill:"), pl.col("transaction_id")).alias("subject_id"),
        pl.col("trade_day").alias("partition_date"),
        "employee_id",
        pl.format(
            "支出 {}（{} 元）{}",
            "transaction_id",
            _money("amount"),
            pl.col("kind").replace_strict(kind_zh, return_dtype=pl.String),
        ).alias("summary"),
        evidence_json(
            kind=pl.col("kind"),
            amount_yuan=_money("amount"),
            ledger_amount_yuan=_money("ledger_amount"),
            ledger_entries=pl.col("entry_ids"),
            traded_at=pl.col("traded_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            account=pl.col("account_nickname"),
        ),
    )

    entries_today = ledger.filter(pl.col("paid_at").dt.date() == day)
    orphans = entries_today.join(
        spent.select("transaction_id"), on="transaction_id", how="anti", nulls_equal=False
    )
    ledger_findings = orphans.select(
        pl.concat_str(pl.lit("ledger:"), pl.col("entry_id")).alias("subject_id"),
        pl.col("paid_at").dt.date().alias("partition_date"),
        "employee_id",
        pl.format(
            "台账记录 {}（{} 元）{}",
            "entry_id",
            _money("amount"),
            pl.when(pl.col("transaction_id").is_null())
            .then(pl.lit("无交易单号"))
            .otherwise(pl.format("的交易单号 {} 在微信支付账单中无对应支出", "transaction_id")),
        ).alias("summary"),
        evidence_json(
            kind=pl.lit("missing_in_bill"),
            transaction_id=pl.col("transaction_id"),
            amount_yuan=_money("amount"),
            paid_at=pl.col("paid_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            purpose=pl.col("purpose"),
        ),
    )
    return pl.concat([bill_findings, ledger_findings], how="diagonal_relaxed")
