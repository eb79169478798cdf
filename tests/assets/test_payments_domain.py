"""In-process materialization of the payments domain on a small exports folder."""


import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.store.tables import Case, CaseEvent, Finding, QuarantineRecord
from wxpipeline.settings import settings

from .conftest import materialize_day, stage
from .exports_fixture import write_exports
from wxpipeline.store import cases as case_store


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_exports(tmp_path / "exports", bad_line=True)
    return tmp_path


def materialize(day: str):
    # the neighbouring days PAY-04 reconciles against, staged first (as `run` and the sensor do)
    stage([*reference_assets, *payments_assets], "2026-09-22", "2026-09-23", "2026-09-24")
    return materialize_day([*reference_assets, *payments_assets, *reference_checks, *payments_checks], day)

def findings(wh):
    with wh.session() as s:
        return sorted((f.clause_id, f.subject_id, str(f.partition_date)) for f in s.exec(select(Finding)).scalars())


def test_day_materializes_findings_checks_and_quarantine(env):
    result = materialize("2026-09-22")
    assert result.success
    wh = warehouse()
    assert findings(wh) == [
        ("PAY-02", "T101", "2026-09-22"),
        ("PAY-03", "T300", "2026-09-22"),
    ]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["PAY_01"] and not checks["PAY_02"] and not checks["PAY_03"] and checks["PAY_04"]
    assert checks["pay_bills_contract"] and checks["calendar_known"]
    with wh.session() as s:
        q = list(s.exec(select(QuarantineRecord)).scalars())
    assert [(r.line, "金额" in r.reason) for r in q] == [(21, True)]
    assert q[0].file.endswith("a.csv")
    bills = __import__("polars").read_parquet(settings().staged_dir / "pay_bills" / "2026-09-22.parquet")
    assert sorted(bills["transaction_id"].to_list()) == ["T100", "T101", "T300"]  # T100 sent twice, once here


def test_rerun_is_idempotent_and_keeps_triage(env):
    materialize("2026-09-23")
    wh = warehouse()
    first = findings(wh)
    assert first == [("PAY-04", "bill:T102", "2026-09-23")]
    with wh.session() as s:
        fp = s.exec(select(Finding)).scalars().one().fingerprint
    case_store.set_case_status(wh, fp, "false_positive", "booked on paper", "auditor")
    result = materialize("2026-09-23")
    assert findings(wh) == first
    with wh.session() as s:
        assert s.get(Case, fp).status == "false_positive"
        events = [e.event for e in s.exec(select(CaseEvent)).scalars()]
    assert events == ["new", "status"]  # the re-run added nothing new, resolved nothing
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["PAY_04"].passed  # suppressed as false positive
    md = checks["PAY_04"].metadata
    assert md["findings"].value == 1 and md["failing"].value == 0


def test_ledger_side_lands_on_its_own_day(env):
    materialize("2026-09-24")
    wh = warehouse()
    assert findings(wh) == []  # L2 matches T101 booked two days later


def test_broken_contract_blocks_findings(env, monkeypatch):
    from wxpipeline.checks import contracts

    stage([*reference_assets, *payments_assets], "2026-09-23", "2026-09-24")  # under the real contract
    bad = contracts.Contract("pay_bills", contracts.CONTRACTS["pay_bills"].schema, ranges={"amount": (0, 100)})
    monkeypatch.setitem(contracts.CONTRACTS, "pay_bills", bad)
    result = materialize_day([*reference_assets, *payments_assets, *reference_checks, *payments_checks], "2026-09-22")
    evals = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evals["pay_bills_contract"] is False
    mats = {m.asset_key.path[-1] for m in result.get_asset_materialization_events() if True for m in [m.event_specific_data.materialization]}
    assert "payments_findings" not in mats
    assert findings(warehouse()) == []
