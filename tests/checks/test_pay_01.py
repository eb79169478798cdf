"""PAY-01 daily limit: violating cases and near-misses."""

from datetime import date
from decimal import Decimal

from wxpipeline.checks.pay_01_04_payments import DailyLimit, pay_01_daily_limit
from wxpipeline.checks.registry import CLAUSES

from .frames import accounts, approvals, bill, bills

DAY = date(2026, 9, 22)
ACCTS = accounts(("张伟-财务", "E0001", "2026-01-01", None), ("小张", "E0001", "2026-01-01", None),
                 ("李娜", "E0002", "2026-01-01", None))
PARAMS = DailyLimit(daily_limit_yuan=Decimal("5000"))


def run(b, appr=None):
    return CLAUSES["PAY-01"].run(
        {"bills": b, "pay_accounts": ACCTS, "pay_approvals": appr if appr is not None else approvals()}, PARAMS, DAY
    )


def test_total_over_two_accounts_fires():
    out = run(bills(bill("t1", "2026-09-22 10:00:00", "3000.00"), bill("t2", "2026-09-22 11:00:00", "2000.01", "小张")))
    assert out["subject_id"].to_list() == ["E0001/2026-09-22"]
    assert out["partition_date"].to_list() == [DAY]
    assert '"total_yuan":"5000.01"' in out["evidence"][0]


def test_exactly_limit_does_not_fire():
    assert run(bills(bill("t1", "2026-09-22 10:00:00", "5000.00"))).height == 0


def test_covered_by_approval_does_not_fire():
    appr = approvals(("A1", "E0001", "2026-09-20", "2026-09-25", "8000"))
    assert run(bills(bill("t1", "2026-09-22 10:00:00", "6000.00")), appr).height == 0


def test_approval_too_small_or_expired_fires():
    small = approvals(("A1", "E0001", "2026-09-20", "2026-09-25", "6000"))
    assert run(bills(bill("t1", "2026-09-22 10:00:00", "7000.00")), small).height == 1
    expired = approvals(("A2", "E0001", "2026-09-01", "2026-09-21", "9000"))
    assert run(bills(bill("t1", "2026-09-22 10:00:00", "7000.00")), expired).height == 1


def test_refunds_failures_and_income_do_not_count():
    out = run(bills(
        bill("t1", "2026-09-22 10:00:00", "4000.00"),
        bill("t2", "2026-09-22 11:00:00", "3000.00", status="已全额退款"),
        bill("t3", "2026-09-22 12:00:00", "3000.00", status="支付失败"),
        bill("t4", "2026-09-22 13:00:00", "3000.00", direction="收入"),
        bill("t5", "2026-09-21 13:00:00", "3000.00"),  # another day
    ))
    assert out.height == 0


def test_policy_threshold_is_used():
    out = CLAUSES["PAY-01"].run(
        {"bills": bills(bill("t1", "2026-09-22 10:00:00", "3500.00")), "pay_accounts": ACCTS,
         "pay_approvals": approvals()},
        DailyLimit(daily_limit_yuan=Decimal("3000")), DAY,
    )
    assert out["subject_id"].to_list() == ["E0001/2026-09-22"]


def test_rule_function_is_pure_and_registered():
    assert CLAUSES["PAY-01"].rule is pay_01_daily_limit
