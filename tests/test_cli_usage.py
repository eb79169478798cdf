"""The command line says when it was asked something wrong (exit 2, valid values listed), lines
up Chinese text, fits the terminal and stays quiet on a closed pipe."""

import argparse
import csv
import io
import subprocess
import sys

import pytest

from wxpipeline.resources import warehouse
from wxpipeline.cli import build_parser, main
from wxpipeline.cli_table import display_width, render
from wxpipeline.settings import settings

from .reports.store_fixture import DAY, fill
from wxpipeline.store import findings as findings_store


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WXPIPELINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("WXPIPELINE_POLICY", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    settings().home.mkdir(parents=True)
    wh = warehouse()
    fill(wh)
    return wh


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, listed", [
    (["findings", "--clause", "PAY-9"], "PAY-01, PAY-02"),
    (["findings", "--domain", "payment"], "payments (微信支付)"),
    (["findings", "--from", "2026-10-15", "--to", "2026-10-01"], "before --from"),
    (["case", "list", "--clause", "GRP-99"], "GRP-01"),
    (["waiver", "add", "--clause", "PAY-9", "--subject", "x", "--reason", "r", "--approver", "a",
      "--expires", "2026-12-01"], "PAY-04"),
    (["report", "--date", "2026-10-15", "--to", "2026-10-01"], "before --date"),
])
def test_wrong_values_exit_2_listing_valid_ones(store, capsys, argv, listed):
    code, out, err = run(capsys, *argv)
    assert code == 2 and listed in err and not out


def test_unknown_status_lists_choices(store, capsys):
    with pytest.raises(SystemExit) as e:
        main(["findings", "--status", "closed"])
    assert e.value.code == 2
    assert "false_positive" in capsys.readouterr().err


@pytest.mark.parametrize("spelling", ["PAY-02", "PAY_02", "pay-02", "pay_02"])
def test_clause_spellings_are_accepted(store, capsys, spelling):
    code, out, _ = run(capsys, "findings", "--clause", spelling, "--date", str(DAY), "--format", "csv")
    assert code == 0 and out.count("PAY-02") == 1 and "T-late" in out


def test_missing_store_is_an_error_naming_the_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("WXPIPELINE_DATABASE_URL", raising=False)
    for argv in (["findings"], ["case", "list"], ["waiver", "list"], ["case", "show", "abcd"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and str(tmp_path / "elsewhere" / "findings.db") in err, argv
    assert not (tmp_path / "elsewhere").exists()


def test_waiver_matching_nothing_warns(store, capsys):
    code, _, err = run(capsys, "waiver", "add", "--clause", "PAY_02", "--subject", "T-nope", "--reason", "出差",
                       "--approver", "王芳", "--expires", "2026-12-01")
    assert code == 0 and "matches no PAY-02 case" in err
    code, _, err = run(capsys, "waiver", "add", "--clause", "PAY-02", "--pattern", "T-*", "--reason", "出差",
                       "--approver", "王芳", "--expires", "2026-12-01")
    assert code == 0 and "matches no" not in err


def test_fingerprint_prefix(store, capsys):
    code, out, _ = run(capsys, "case", "list", "--format", "csv", "--clause", "PAY-02")
    fp = next(csv.DictReader(io.StringIO(out)))["fingerprint"]
    code, out, err = run(capsys, "case", "show", fp[:8])
    assert code == 0 and fp in out
    code, out, err = run(capsys, "case", "set", fp[:10], "--status", "confirmed", "--by", "王芳")
    assert code == 0 and "confirmed" in out
    code, _, err = run(capsys, "case", "show", "ffffffffff")
    assert code == 2 and "no case" in err


def test_cjk_rows_have_equal_display_width_and_fit():
    rows = [["PAY-02", "工作时间支付", "交易 T1 于 2026-10-12 19:42 支付 ¥1,280.00，超出工作时间" * 3, 12],
            ["GRP-01", "群昵称实名", "群昵称「小王」不是「姓名-部门」格式", 3],
            ["ACC-01", "离职后账号仍在使用", "", 0]]
    for width in (80, 120, 160):
        lines = render(rows, ["clause", "title", "summary", "n"], width=width).splitlines()
        widths = {display_width(line) for line in lines}
        assert len(widths) == 1 and widths.pop() <= width, width
    assert "…" in render(rows, ["clause", "title", "summary", "n"], width=80)


def _actions(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                yield from _actions(sub)
        elif not isinstance(a, argparse._HelpAction):
            yield parser.prog, a


def test_every_option_has_help_and_help_names_environment():
    missing = [f"{prog} {a.dest}" for prog, a in _actions(build_parser()) if not a.help]
    assert missing == []
    text = build_parser().format_help()
    assert "WXPIPELINE_HOME" in text and "WXPIPELINE_WECOM_WEBHOOK" in text


def test_broken_pipe_is_quiet():
    cmd = f"{sys.executable} -m wxpipeline.cli policy show --date 2026-10-08 | head -1"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert r.stdout.startswith("policy in effect") and "Traceback" not in r.stderr and "Broken" not in r.stderr


def test_impossible_policy_date_is_a_clean_error(tmp_path, monkeypatch, capsys):
    from wxpipeline.policy import PACKAGED_POLICY_DIR

    text = (PACKAGED_POLICY_DIR / "default.yaml").read_text("utf-8")
    bad = tmp_path / "policy.yaml"
    bad.write_text("\n".join("effective_from: 2025-13-01" if line.startswith("effective_from:") else line
                             for line in text.splitlines()), "utf-8")
    monkeypatch.setenv("WXPIPELINE_POLICY", str(bad))
    code, _, err = run(capsys, "policy", "show")
    assert code == 2 and "'2025-13-01' is not a calendar date" in err and str(bad) in err and "line" in err


def test_findings_csv_cells_are_formula_safe(store, capsys):
    import json as _json

    from wxpipeline.resources.warehouse import Warehouse as _W
    from .reports.store_fixture import frame

    findings_store.replace_partition(_W(database_url=settings().database_url), "payments", DAY, frame([dict(
        clause_id="PAY-03", subject_id="=cmd|' /C calc'!A0", partition_date=DAY, summary="@SUM(1+1)",
        evidence=_json.dumps({"account": "-2+3"}))]), {"PAY-03": "high"}, "2026.1", "run-x")
    code, out, _ = run(capsys, "findings", "--date", str(DAY), "--format", "csv")
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["clause_id"] == "PAY-03")
    assert row["subject_id"].startswith("'=") and row["summary"].startswith("'@")
