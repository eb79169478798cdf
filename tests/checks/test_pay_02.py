"""PAY-02 working hours on PRC working days (调休 included)."""

from datetime import date, time

from wxpipeline.checks.pay_01_04_payments import WorkingHours
from wxpipeline.checks.registry import CLAUSES

from .frames import accounts, bill, bills, calendar

ACCTS = accounts(("张伟-财务", "E0001", "2026-01-01", None))
PARAMS = WorkingHours(working_hours_start=time(9), working_hours_end=time(18), require_working_day=True)


def run(at: str):
    day = date.fromisoformat(at[:10])
    return CLAUSES["PAY-02"].run(
        {"bills": bills(bill("t1", at, "10.00")), "pay_accounts": ACCTS, "calendar": calendar(day)}, PARAMS, day
    )


def test_evening_payment_fires():
    out = run("2026-09-22 20:15:00")
    assert out["subject_id"].to_list() == ["t1"]
    assert "非工作时间" in out["summary"][0]
    assert out["employee_id"].to_list() == ["E0001"]


def test_national_holiday_fires():
    out = run("2026-10-05 10:00:00")
    assert out.height == 1 and "非工作日" in out["summary"][0]


def test_plain_weekend_fires():
    assert run("2026-09-26 10:00:00").height == 1  # Saturday


def test_makeup_working_sunday_does_not_fire():
    assert run("2026-09-20 10:00:00").height == 0


def test_bounds_are_inclusive():
    assert run("2026-09-22 09:00:00").height == 0
    assert run("2026-09-22 18:00:00").height == 0
    assert run("2026-09-22 18:00:01").height == 1
    assert run("2026-09-22 08:59:59").height == 1


def test_unknown_year_falls_back_to_weekdays():
    day = date(2027, 3, 3)  # a Wednesday the library does not know
    cal = calendar(day)
    assert cal["calendar_known"].to_list() == [False]
    out = CLAUSES["PAY-02"].run(
        {"bills": bills(bill("t1", "2027-03-03 10:00:00", "10.00")), "pay_accounts": ACCTS, "calendar": cal},
        PARAMS, day,
    )
    assert out.height == 0
