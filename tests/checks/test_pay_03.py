"""PAY-03 authorised payer."""

from datetime import date

from wxpipeline.checks.registry import CLAUSES, NoParams

from .frames import accounts, bill, bills

DAY = date(2026, 9, 22)
ACCTS = accounts(
    ("张伟-财务", "E0001", "2026-01-01", None),
    ("新账户", "E0002", "2026-09-23", None),
    ("旧账户", "E0003", "2026-01-01", "2026-09-22"),
    ("明日撤销", "E0004", "2026-01-01", "2026-09-23"),
    ("今日批准", "E0005", "2026-09-22", None),
)


def run(account: str):
    b = bills(bill("t1", "2026-09-22 10:00:00", "10.00", account))
    return CLAUSES["PAY-03"].run({"bills": b, "pay_accounts": ACCTS}, NoParams(), DAY)


def test_unregistered_fires():
    out = run("陌生人")
    assert out["subject_id"].to_list() == ["t1"] and "未登记" in out["summary"][0]


def test_not_yet_approved_fires():
    assert "尚未批准" in run("新账户")["summary"][0]


def test_revoked_on_the_day_fires():
    assert "已撤销" in run("旧账户")["summary"][0]


def test_near_misses():
    assert run("张伟-财务").height == 0
    assert run("明日撤销").height == 0
    assert run("今日批准").height == 0
