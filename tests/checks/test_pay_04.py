"""PAY-04 reconciliation between bills and ledger."""

import json
from datetime import date
from decimal import Decimal

from wxpipeline.checks.pay_01_04_payments import Reconciliation
from wxpipeline.checks.registry import CLAUSES

from .frames import accounts, bill, bills, ledger

DAY = date(2026, 9, 22)
ACCTS = accounts(("张伟-财务", "E0001", "2026-01-01", None))
P = Reconciliation(amount_tolerance_yuan=Decimal("0"))


def run(b, l, day=DAY):
    return CLAUSES["PAY-04"].run({"bills": b, "ledger": l, "pay_accounts": ACCTS}, P, day)


def kinds(out):
    return {r["subject_id"]: json.loads(r["evidence"])["kind"] for r in out.to_dicts()}


def test_all_kinds_fire():
    b = bills(
        bill("t-miss", "2026-09-22 10:00:00", "10.00"),
        bill("t-dup", "2026-09-22 10:00:00", "20.00"),
        bill("t-amt", "2026-09-22 10:00:00", "30.00"),
    )
    l = ledger(
        ("L1", "t-dup", "2026-09-22 12:00:00", "20.00"),
        ("L2", "t-dup", "2026-09-23 12:00:00", "20.00"),
        ("L3", "t-amt", "2026-09-22 12:00:00", "31.00"),
        ("L4", "t-ghost", "2026-09-22 12:00:00", "5.00"),
        ("L5", None, "2026-09-22 12:00:00", "6.00"),
    )
    assert kinds(run(b, l)) == {
        "bill:t-miss": "missing_in_ledger",
        "bill:t-dup": "duplicate_in_ledger",
        "bill:t-amt": "amount_mismatch",
        "ledger:L4": "missing_in_bill",
        "ledger:L5": "missing_in_bill",
    }


def test_entry_booked_days_later_matches():
    b = bills(bill("t1", "2026-09-22 10:00:00", "10.00"))
    l = ledger(("L1", "t1", "2026-09-25 09:00:00", "10.00"))
    assert run(b, l).height == 0
    # judged on the ledger's day too: the entry finds its transaction of an earlier day
    assert run(b, l, date(2026, 9, 25)).height == 0


def test_ledger_finding_lands_on_paid_at_day():
    l = ledger(("L9", "t-none", "2026-09-25 09:00:00", "10.00"))
    assert run(bills(), l).height == 0
    assert run(bills(), l, date(2026, 9, 25))["partition_date"].to_list() == [date(2026, 9, 25)]


def test_entry_for_refunded_transaction_is_missing_in_bill():
    b = bills(bill("t1", "2026-09-22 10:00:00", "10.00", status="已全额退款"))
    l = ledger(("L1", "t1", "2026-09-22 12:00:00", "10.00"))
    assert kinds(run(b, l)) == {"ledger:L1": "missing_in_bill"}
