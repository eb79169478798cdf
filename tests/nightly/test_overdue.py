"""A day judged while awaiting data becomes *overdue* once the policy's tolerated delay passes:
`nightly` and `exports_sensor` re-judge it then, once, so its checks and the report say so."""

from datetime import date, datetime

from wxpipeline import nightly
from wxpipeline.times import TZ
from wxpipeline.policy import load_policy

POLICY = load_policy(None)  # packaged: ledger tolerated 10 days, bills 35, archive 2


def _row(domain, day, status, inputs):
    return {"domain": domain, "partition_date": day, "coverage_status": status, "inputs": inputs}


def test_awaiting_day_past_its_tolerated_delay_is_rejudged_for_its_domain_only():
    day = date(2026, 10, 3)
    ledger_delay = POLICY.for_day(day).arrival["ledger"].tolerated_delay_days
    rows = [
        _row("payments", day, "awaiting_data", {"ledger": {"status": "awaiting_data"},
                                                "wechat_pay": {"status": "complete"}}),
        _row("chat", day, "complete", {"wecom_archive": {"status": "complete"}}),
    ]
    as_of = datetime(2026, 10, 4 + ledger_delay, 0, 1, tzinfo=TZ)  # one minute past end of day + delay
    plan = nightly.Plan()
    nightly.plan_overdue(plan, rows, POLICY.for_day, as_of)
    assert set(plan.judge) == {day}
    assert plan.assets[day] == {"payments_findings"}
    (why,) = plan.judge[day]
    assert "ledger" in why and f"{ledger_delay} day(s)" in why


def test_awaiting_day_within_its_tolerated_delay_or_already_overdue_is_left_alone():
    day = date(2026, 10, 3)
    ledger_delay = POLICY.for_day(day).arrival["ledger"].tolerated_delay_days
    at_deadline = datetime(2026, 10, 4 + ledger_delay, 0, 0, tzinfo=TZ)  # exactly the tolerated delay: not late
    plan = nightly.Plan()
    awaiting = _row("payments", day, "awaiting_data", {"ledger": {"status": "awaiting_data"}})
    nightly.plan_overdue(plan, [awaiting], POLICY.for_day, at_deadline)
    assert plan.empty
    later = datetime(2026, 12, 1, tzinfo=TZ)
    overdue = _row("payments", day, "overdue", {"ledger": {"status": "overdue"}})
    nightly.plan_overdue(plan, [overdue], POLICY.for_day, later)  # already says overdue: nothing to do
    assert plan.empty
