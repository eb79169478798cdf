"""Triage rules of the findings store: which findings fail their check, waivers and their expiry,
false positives, resolved cases recurring, and the audit trail in case_events."""

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy import select

from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.store.tables import CaseEvent
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store.findings import fingerprint_of

from .scratch_postgres import scratch_database
from wxpipeline.store import cases as case_store
from wxpipeline.store import findings as findings_store
from wxpipeline.store import triage as triage_store

D = date(2026, 10, 12)


@pytest.fixture(params=["sqlite", "postgresql"])
def wh(request, tmp_path):
    """The same rules on SQLite and, when `.ci/run` started a server, on PostgreSQL."""
    if request.param == "sqlite":
        yield Warehouse(database_url=f"sqlite:///{tmp_path / 'f.db'}")
        return
    with scratch_database() as url:
        yield Warehouse(database_url=url)


def write(wh: Warehouse, day: date, subjects: dict[str, str], clause: str = "PAY-02") -> None:
    df = pl.DataFrame(
        [{"clause_id": clause, "subject_id": s, "partition_date": day, "employee_id": None, "group_id": None,
          "summary": s, "evidence": ev} for s, ev in subjects.items()],
        schema=FINDING_SCHEMA,
    )
    findings_store.replace_partition(wh, "payments", day, df, {clause: "medium"}, "2026.1", f"run-{day}")


def status(wh: Warehouse, day: date) -> dict[str, tuple[str, bool]]:
    return {r["subject_id"]: (r["case_status"], r["counted"]) for rows in triage_store.triage(wh, "payments", day).values()
            for r in rows}


def test_false_positive_holds_while_evidence_unchanged(wh):
    write(wh, D, {"A": '{"v": 1}'})
    case_store.set_case_status(wh, fingerprint_of("PAY-02", "A"), "false_positive", "ok", "auditor")
    write(wh, D, {"A": '{"v": 1}'})  # re-run, same evidence
    assert status(wh, D) == {"A": ("false_positive", False)}
    write(wh, D + timedelta(days=1), {"A": '{"v": 2}'})  # evidence changed: counts again
    assert status(wh, D + timedelta(days=1)) == {"A": ("open", True)}


def test_resolved_reopens_on_later_days_only(wh):
    old = date(2020, 1, 6)  # resolving happens "today", long after this day
    write(wh, old, {"A": "{}"})
    case_store.set_case_status(wh, fingerprint_of("PAY-02", "A"), "resolved", "fixed", "auditor")
    write(wh, old, {"A": "{}"})
    assert status(wh, old) == {"A": ("resolved", False)}
    future = date.today() + timedelta(days=2)
    write(wh, future, {"A": "{}"})
    assert status(wh, future) == {"A": ("open", True)}


def test_waiver_expiry_boundary_subject_escape_and_revoke(wh):
    days = [D + timedelta(days=i) for i in range(3)]
    for d in days:
        write(wh, d, {"x*": "{}", "xy": "{}"})
    w = case_store.add_waiver(wh, "PAY-02", "reason", "王芳", days[2], subject_id="x*", by="李娜")
    # the subject is exact: `x*` does not cover `xy`; the waiver covers days before its expiry day
    assert [status(wh, d) for d in days] == [
        {"x*": ("waived", False), "xy": ("open", True)},
        {"x*": ("waived", False), "xy": ("open", True)},
        {"x*": ("open", True), "xy": ("open", True)},
    ]
    assert [x.id for x in case_store.waivers_expiring(wh, days[0])] == [w.id]  # expires in 2 days
    assert case_store.waivers_expiring(wh, days[2]) == [] and case_store.waivers_expiring(wh, days[0] - timedelta(days=6)) == []
    assert [c["subject_id"] for c in case_store.list_cases(wh, status="waived", on=days[1])] == ["x*"]
    case_store.revoke_waiver(wh, w.id, "王芳", "no longer needed")
    assert status(wh, days[0])["x*"] == ("open", True)
    with wh.session() as s:
        events = [(e.event, e.who) for e in s.exec(select(CaseEvent).where(CaseEvent.subject_id == "x*")).scalars()
                  if e.event.startswith("waiver")]
    assert events == [("waiver", "李娜"), ("waiver_revoked", "王芳")]


def test_confirmed_counts_and_status_change_is_audited(wh):
    write(wh, D, {"A": "{}"})
    fp = fingerprint_of("PAY-02", "A")
    case_store.set_case_status(wh, fp, "confirmed", "told the clerk", "auditor", owner="财务部")
    assert status(wh, D) == {"A": ("confirmed", True)}
    case, events = case_store.case_history(wh, fp)
    assert case.owner == "财务部"
    assert [(e.event, e.old_status, e.new_status, e.who) for e in events] == [
        ("new", None, None, "pipeline"), ("status", "open", "confirmed", "auditor"),
    ]
    assert all(e.at is not None for e in events)


def test_a_day_with_more_findings_than_one_lookup_of_cases(wh):
    """The cases of a busy day are read in several statements (SQLite bounds a statement's
    parameters): a case past the first chunk still keeps its status and reopens on new facts."""
    subjects = {f"T{i:05d}": '{"v": 1}' for i in range(1_200)}
    write(wh, D, subjects)
    last = max(subjects)
    case_store.set_case_status(wh, fingerprint_of("PAY-02", last), "false_positive", "ok", "auditor")
    write(wh, D, subjects)  # re-run: same facts, still suppressed, first_seen kept
    assert status(wh, D)[last] == ("false_positive", False)
    write(wh, D, {**subjects, last: '{"v": 2}'})
    got = status(wh, D)
    assert got[last] == ("open", True) and sum(counted for _, counted in got.values()) == 1_200
    with wh.session() as s:
        events = s.exec(select(CaseEvent.event).where(CaseEvent.subject_id == last)).scalars().all()
    assert events.count("reopened") == 1


def test_cases_first_and_last_seen_move_with_the_days_judged(wh):
    from wxpipeline.store.tables import Case

    write(wh, D, {"A": "{}", "B": "{}"})
    write(wh, D + timedelta(days=2), {"A": "{}"})
    write(wh, D - timedelta(days=1), {"A": "{}"})
    write(wh, D + timedelta(days=1), {"A": "{}"})  # inside the span: nothing moves
    with wh.session() as s:
        seen = {c.subject_id: (c.first_seen, c.last_seen) for c in s.exec(select(Case)).scalars()}
    assert seen == {"A": (D - timedelta(days=1), D + timedelta(days=2)), "B": (D, D)}
