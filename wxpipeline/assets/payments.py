"""Payments domain: WeChat Pay bills and the finance ledger, judged against PAY-01..PAY-04."""

from datetime import timedelta

import polars as pl

from wxpipeline.factories.findings import JudgeContext, build_findings_asset
from wxpipeline.factories.staged import build_staged_asset
from wxpipeline.assets.reference import pay_accounts, pay_approvals, roster
from wxpipeline.times import day_start

pay_bills = build_staged_asset(
    "pay_bills", "wechat_pay", "payments",
    "微信支付账单明细 from wechat_pay/*.csv|xlsx (the WeChat app's bill export), one row per transaction "
    "whose 交易时间 falls on the partition day, deduplicated on 交易单号 across overlapping exports. "
    "Unreadable rows go to the quarantine table.",
)
ledger_entries = build_staged_asset(
    "ledger_entries", "ledger", "payments",
    "财务台账 from ledger/*.csv, one row per entry whose paid_at falls on the partition day, "
    "deduplicated on entry_id.",
)


def payments_frames(jc: JudgeContext) -> dict[str, pl.DataFrame]:
    """The day's bills and ledger, plus the rows of the days around it they reconcile against
    (PAY-04 matches ignore dates: entries are booked days after the payment), within the policy's
    `windows.payment_match_days` either side, fetched by transaction id from those staged
    partitions (declared upstream with that mapping)."""
    bills_day = jc.staged.read("pay_bills", jc.partition_key)
    ledger_day = jc.staged.read("ledger_entries", jc.partition_key)
    width = timedelta(days=jc.policy.windows.payment_match_days)
    start = day_start(jc.day)
    lo, hi = start - width, start + timedelta(days=1) + width
    ids_in_ledger = ledger_day["transaction_id"].drop_nulls().unique()
    bills_elsewhere = jc.upstream.window("pay_bills", lo, hi).filter(
        pl.col("transaction_id").is_in(ids_in_ledger.implode())).collect()
    ledger_elsewhere = jc.upstream.window("ledger_entries", lo, hi).filter(
        pl.col("transaction_id").is_in(bills_day["transaction_id"].unique().implode())
    ).collect()
    return {
        "bills": pl.concat([bills_day, bills_elsewhere], how="diagonal_relaxed").unique("transaction_id", keep="first"),
        "ledger": pl.concat([ledger_day, ledger_elsewhere], how="diagonal_relaxed").unique("entry_id", keep="first"),
        "pay_accounts": jc.staged.read("pay_accounts"),
        "pay_approvals": jc.staged.read("pay_approvals"),
        "roster": jc.staged.read("roster"),
    }


payments_findings = build_findings_asset(
    "payments",
    deps=[pay_bills, ledger_entries, pay_accounts, pay_approvals, roster],
    build_frames=payments_frames,
    uses_calendar=True,
    description=(
        "微信支付合规发现 (PAY-01 单日限额, PAY-02 工作时间, PAY-03 授权账户, PAY-04 账单台账核对) for the "
        "partition day, written to the `findings` table (re-running replaces the day's rows; case "
        "status survives). One asset check per clause: WARN when unwaived findings remain."
    ),
)

payments_assets = [pay_bills, ledger_entries, payments_findings]
payments_checks: list = []  # the tables' contracts are checks of the tables themselves (factories/staged.py)
