"""A policy revision in the middle of a period: re-judging changes only the days it governs,
records the diff with both versions, and keeps triage on untouched cases."""

from datetime import date

import dagster as dg
import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.resources import build_resources
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.policy import load_policy
from wxpipeline.store.tables import Case, CaseEvent, Finding
from wxpipeline.revision import revision_report

from .conftest import stage
from .exports_fixture import write_exports
from wxpipeline.store import cases as case_store

DAYS = ["2026-09-21", "2026-09-22", "2026-09-23", "2026-09-24"]


@pytest.fixture()
def env(tmp_path, policy_folder):
    pol = policy_folder
    # 3500 yuan on the 21st and on the 24th: compliant under 5000, a breach under 3000
    write_exports(tmp_path / "exports", extra_bill_rows=[
        ("2026-09-21 15:00:00", "3500.00", "T400"), ("2026-09-24 15:00:00", "3500.00", "T401"),
    ])
    ledger = tmp_path / "exports/ledger/2026-09.csv"
    ledger.write_text(ledger.read_text("utf-8") + "L4,E0001,2026-09-21 16:00:00,3500.00,T400,京东,设备\n"
                      "L5,E0001,2026-09-24 16:00:00,3500.00,T401,京东,设备\n", "utf-8")
    return pol


def run_all():
    stage([*reference_assets, *payments_assets], *DAYS)  # PAY-04 reconciles across the days
    resources = build_resources()
    for day in DAYS:
        r = dg.materialize([*reference_assets, *payments_assets, *reference_checks, *payments_checks],
                           partition_key=day, resources=resources, raise_on_error=False)
        assert r.success


def snapshot(wh):
    with wh.session() as s:
        return {(f.partition_date.isoformat(), f.clause_id, f.subject_id): f.policy_version
                for f in s.exec(select(Finding)).scalars()}


def test_threshold_lowered_mid_period(env):
    run_all()
    wh = warehouse()
    before = snapshot(wh)
    assert not any(k[1] == "PAY-01" for k in before)
    confirmed = next(f for f in before if f[1] == "PAY-04")  # T102 on the 23rd, untouched by the revision
    with wh.session() as s:
        fp = s.exec(select(Finding.fingerprint).where(Finding.subject_id == confirmed[2])).scalars().one()
    case_store.set_case_status(wh, fp, "confirmed", "ledger clerk informed", "auditor")

    text = (env / "default.yaml").read_text("utf-8")
    (env / "2026.2.yaml").write_text(
        text.replace('version: "2026.1"', 'version: "2026.2"')
        .replace("effective_from: 2025-01-01", "effective_from: 2026-09-23")
        .replace("daily_limit_yuan: 5000", "daily_limit_yuan: 3000"),
        "utf-8",
    )
    run_all()
    after = snapshot(wh)

    # the days before the revision: same findings, same version
    old_days = ("2026-09-21", "2026-09-22")
    assert {k: v for k, v in after.items() if k[0] in old_days} == {
        k: v for k, v in before.items() if k[0] in old_days
    }
    assert all(v == "2026.1" for k, v in after.items() if k[0] in old_days)
    # the days it governs: the new breach, judged by 2026.2
    assert after[("2026-09-24", "PAY-01", "E0001/2026-09-24")] == "2026.2"
    assert ("2026-09-21", "PAY-01", "E0001/2026-09-21") not in after  # 3500 on a 2026.1 day
    with wh.session() as s:
        events = list(s.exec(select(CaseEvent).where(CaseEvent.event != "status")).scalars())
        assert s.get(Case, fp).status == "confirmed"
    new_pay01 = [e for e in events if e.clause_id == "PAY-01" and e.event == "new"]
    assert [(e.subject_id, e.old_policy_version, e.policy_version) for e in new_pay01] == [
        ("E0001/2026-09-24", "2026.1", "2026.2")
    ]
    kept = [e for e in events if e.event == "kept"]
    assert {(e.subject_id, e.old_policy_version, e.policy_version) for e in kept} >= {
        (confirmed[2], "2026.1", "2026.2")
    }
    assert not [e for e in events if e.partition_date <= date(2026, 9, 22) and e.event == "kept"]

    report = revision_report(wh, load_policy(env), date(2026, 9, 21), date(2026, 9, 24))
    assert report["transitions"] == ["2026.1 -> 2026.2"]
    assert report["partitions_rejudged"] == 2 and report["partitions_awaiting_backfill"] == []
    pay01 = next(c for c in report["clauses"] if c["clause_id"] == "PAY-01")
    assert (pay01["before"], pay01["after"], pay01["new"]) == (0, 1, 1)
