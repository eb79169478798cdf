"""Issue 12 #9: a false positive survives a revision that changes only a parameter restated in
its evidence; a change of the facts reopens it, with a case event saying why."""

import dagster as dg
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.resources import build_resources
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.store.tables import CaseEvent, Finding

from .exports_fixture import write_exports
from wxpipeline.store import cases as case_store
from wxpipeline.store import triage as triage_store

DAY = "2026-09-22"


def judge():
    r = dg.materialize([*reference_assets, *payments_assets, *reference_checks, *payments_checks],
                       partition_key=DAY, resources=build_resources(), raise_on_error=False)
    assert r.success


def pay02(wh):
    return next(r for r in triage_store.findings_status(wh, [Finding.clause_id == "PAY-02"]) if r["subject_id"].startswith("T101"))


def test_false_positive_survives_a_parameter_revision_and_reopens_on_new_facts(tmp_path, policy_folder):
    pol = policy_folder
    exports = write_exports(tmp_path / "exports")
    judge()
    wh = warehouse()
    finding = pay02(wh)
    assert '"working_hours":"09:00:00-18:00:00"' in finding["evidence"]
    case_store.set_case_status(wh, finding["fingerprint"], "false_positive", "加班审批在纸面上", "王芳")

    # revision: working day ends at 19:00; 20:30 is still after hours, the evidence restates 19:00
    text = (pol / "default.yaml").read_text("utf-8")
    (pol / "v2.yaml").write_text(text.replace('version: "2026.1"', 'version: "2026.2"')
                                 .replace("effective_from: 2025-01-01", "effective_from: 2026-09-01")
                                 .replace('working_hours_end: "18:00:00"', 'working_hours_end: "19:00:00"'), "utf-8")
    judge()
    after = pay02(wh)
    assert '"working_hours":"09:00:00-19:00:00"' in after["evidence"] and after["policy_version"] == "2026.2"
    assert after["case_status"] == "false_positive" and not after["counted"]

    # the facts change: the amount of the payment differs from what was triaged
    bill = exports / "wechat_pay/a.csv"
    bill.write_text(bill.read_text("utf-8").replace("¥12.00", "¥13.00"), "utf-8")
    judge()
    reopened = pay02(wh)
    assert reopened["case_status"] == "open" and reopened["counted"]
    with wh.session() as s:
        events = [e for e in s.exec(select(CaseEvent).where(CaseEvent.fingerprint == finding["fingerprint"]))
                  .scalars() if e.event == "reopened"]
    assert len(events) == 1 and "facts changed" in events[0].note and "王芳" in events[0].note
    judge()  # an unchanged re-run writes no second event
    with wh.session() as s:
        assert len([e for e in s.exec(select(CaseEvent).where(CaseEvent.fingerprint == finding["fingerprint"]))
                    .scalars() if e.event == "reopened"]) == 1
