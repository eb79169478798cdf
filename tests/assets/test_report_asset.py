"""The daily report asset in Dagster over the payments domain, and the triage workflow through the
CLI: a false positive stays suppressed across re-runs; a waiver stops on its expiry day."""

import json

import dagster as dg
import pytest
from openpyxl import load_workbook

from wxpipeline import cli
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.assets.reports import build_daily_report
from wxpipeline.settings import settings

from .conftest import materialize_day, stage
from .exports_fixture import write_exports

EXTRA = [
    ("2026-09-23 21:00:00", "15.00", "T104"),  # PAY-02 on the 23rd (and PAY-04: no ledger entry)
    ("2026-09-24 20:00:00", "18.00", "T103"),  # PAY-02 on the 24th, the waiver's expiry day
]
ASSETS = [*reference_assets, *payments_assets]
REPORT = build_daily_report(["payments"])


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_exports(tmp_path / "exports", extra_bill_rows=EXTRA)
    return tmp_path


def materialize(day: str):
    stage(ASSETS, *(f"2026-09-{d}" for d in range(21, 27)))  # PAY-04 reconciles across the days
    result = materialize_day([*ASSETS, REPORT, *reference_checks, *payments_checks], day)
    assert result.success
    return result

def checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def run_cli(capsys, *argv) -> str:
    capsys.readouterr()
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_report_depends_on_every_findings_asset():
    report = build_daily_report(["payments", "chat"])
    deps = {k.to_user_string() for k in report.asset_deps[report.key]}
    assert deps == {"payments_findings", "chat_findings", "roster", "group_registry"}


def test_definitions_report_covers_all_domains():
    from wxpipeline.checks.registry import domains
    from wxpipeline.definitions import defs

    graph = defs.get_repository_def().asset_graph
    report = dg.AssetKey("daily_report")
    findings_keys = {k for k in graph.get_all_asset_keys() if k.path[-1].endswith("_findings")}
    assert findings_keys == {dg.AssetKey(f"{d}_findings") for d in domains()}
    assert findings_keys <= graph.get(report).parent_keys


def test_report_files_and_metadata(env):
    materialize("2026-09-22")
    result = materialize("2026-09-23")
    folder = settings().reports_dir / "2026-09-23"
    html = (folder / "report.html").read_text("utf-8")
    assert "合规日报" in html and "PAY-04" in html and "账单与台账核对" in html
    wb = load_workbook(folder / "findings.xlsx")
    assert wb.sheetnames == ["汇总", "微信支付"]
    assert wb["汇总"].max_row == 1 + 4  # PAY-01..04
    assert wb["微信支付"].max_row == 1 + 3  # PAY-02 T104, PAY-04 T102 and T104
    mat = next(
        m.event_specific_data.materialization for m in result.get_asset_materialization_events()
        if m.event_specific_data.materialization.asset_key == dg.AssetKey("daily_report")
    )
    md = mat.metadata
    assert "| 微信支付 | PAY-04 | 账单与台账核对 | 未通过 | 2 | 2 |" in md["summary"].value
    assert md["report_html"].value == str(folder / "report.html")
    assert md["report_xlsx"].value == str(folder / "findings.xlsx")
    assert (md["findings"].value, md["new"].value, md["resolved"].value) == (3, 3, 2)


def test_false_positive_kept_across_reruns(env, capsys):
    materialize("2026-09-23")
    rows = json.loads(run_cli(capsys, "findings", "--date", "2026-09-23", "--clause", "PAY-04", "--format", "json"))
    fp = next(r["fingerprint"] for r in rows if r["subject_id"] == "bill:T102")
    run_cli(capsys, "case", "set", fp, "--status", "false_positive", "--note", "纸质凭证已入账", "--by", "王芳")
    result = materialize("2026-09-23")  # re-run the same partition
    cases = {c["fingerprint"]: c for c in json.loads(run_cli(capsys, "case", "list", "--clause", "PAY-04",
                                                               "--format", "json"))}
    assert cases[fp]["status"] == "false_positive" and cases[fp]["updated_by"] == "王芳"
    assert not checks(result)["PAY_04"]  # T104 is still open...
    other = next(k for k, c in cases.items() if c["subject_id"] == "bill:T104")
    run_cli(capsys, "case", "set", other, "--status", "false_positive", "--note", "测试账户", "--by", "李娜")
    result = materialize("2026-09-23")
    assert checks(result)["PAY_04"]  # ...and with both marked, the check passes for the day
    out = json.loads(run_cli(capsys, "findings", "--date", "2026-09-23", "--status", "false_positive",
                             "--format", "json"))
    assert sorted(r["subject_id"] for r in out) == ["bill:T102", "bill:T104"]
    history = run_cli(capsys, "case", "show", other)
    assert "李娜" in history and "open -> false_positive" in history and "测试账户" in history
    assert "王芳" in run_cli(capsys, "case", "show", fp)


def test_waiver_applies_only_before_its_expiry_day(env, capsys):
    out = run_cli(capsys, "waiver", "add", "--clause", "PAY-02", "--pattern", "T10*", "--reason", "系统时钟偏差",
                  "--approver", "王芳", "--expires", "2026-09-24")
    assert "waiver #1" in out
    passed = {d: checks(materialize(d))["PAY_02"] for d in ("2026-09-22", "2026-09-23", "2026-09-24")}
    assert passed == {"2026-09-22": True, "2026-09-23": True, "2026-09-24": False}
    rows = json.loads(run_cli(capsys, "findings", "--clause", "PAY-02", "--format", "json"))
    status = {r["subject_id"]: (r["partition_date"], r["case_status"], r["waiver_id"]) for r in rows}
    assert status == {
        "T101": ("2026-09-22", "waived", 1),
        "T104": ("2026-09-23", "waived", 1),
        "T103": ("2026-09-24", "open", None),
    }
    # the report of the 23rd lists the waiver as expiring within 7 days
    html = (settings().reports_dir / "2026-09-23" / "report.html").read_text("utf-8")
    assert "系统时钟偏差" in html
    listed = json.loads(run_cli(capsys, "waiver", "list", "--on", "2026-09-23", "--format", "json"))
    assert [(w["id"], w["state"]) for w in listed] == [(1, "active")]
    run_cli(capsys, "waiver", "revoke", "1", "--by", "王芳", "--note", "时钟已校准")
    assert not checks(materialize("2026-09-22"))["PAY_02"]  # revoked: applies to no day
    assert json.loads(run_cli(capsys, "waiver", "list", "--format", "json")) == []


def test_findings_cli_filters_and_formats(env, capsys, tmp_path):
    materialize("2026-09-22")
    materialize("2026-09-23")
    table = run_cli(capsys, "findings", "--from", "2026-09-22", "--to", "2026-09-23")
    assert "5 finding(s)" in table  # 22nd: PAY-02 T101, PAY-03 T300; 23rd: PAY-02 T104, PAY-04 T102, T104
    csv_out = run_cli(capsys, "findings", "--from", "2026-09-22", "--to", "2026-09-23", "--domain", "payments",
                      "--clause", "PAY-02", "--employee", "E0001", "--format", "csv")
    lines = csv_out.splitlines()
    assert lines[0].startswith("partition_date,domain,clause_id,subject_id,employee_id")
    assert [ln.split(",")[3] for ln in lines[1:]] == ["T101", "T104"]
    assert "1 finding(s)" in run_cli(capsys, "findings", "--date", "2026-09-22", "--clause", "PAY-03")
    assert json.loads(run_cli(capsys, "findings", "--group", "nope", "--format", "json")) == []
    out = tmp_path / "f.xlsx"
    run_cli(capsys, "findings", "--from", "2026-09-22", "--to", "2026-09-23", "--format", "xlsx", "--out", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "微信支付"] and wb["微信支付"].max_row == 1 + 5
