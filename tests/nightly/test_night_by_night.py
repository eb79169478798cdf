"""Night by night: exports revealed as they would arrive, `wxpipeline nightly --date D` each night,
ending with exactly the findings one `run` over all files produces; the early false PAY-04 finding
is resolved with a case event naming the ledger file; no day with missing inputs ever passes."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.cli import main
from wxpipeline.policy import PACKAGED_POLICY_DIR
from wxpipeline.store.tables import CaseEvent, Finding, Judgement

from .arrival_fixture import ARRIVALS, FIRST, LAST, NIGHTS

# narrow windows keep the re-judged days few (the mechanism is the same at the default widths)
WINDOWS = {"payment_match_days": 3, "membership_days": 2, "first_seen_days": 3, "leaver_history_days": 3,
           "publish_lookback_days": 2, "signoff_lookback_days": 7, "reference_rejudge_days": 2}


def policy_folder(dest: Path) -> Path:
    shutil.copytree(PACKAGED_POLICY_DIR, dest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (dest / "default.yaml").read_text("utf-8")
    for key, value in WINDOWS.items():
        text, n = re.subn(rf"^(\s+{key}:) \d+", rf"\g<1> {value}", text, flags=re.M)
        assert n == 1, key
    (dest / "default.yaml").write_text(text, "utf-8")
    return dest


def use_home(monkeypatch, home: Path, exports: Path, policy: Path) -> None:
    monkeypatch.setenv("WXPIPELINE_HOME", str(home))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(exports))
    monkeypatch.setenv("WXPIPELINE_POLICY", str(policy))
    monkeypatch.setenv("WXPIPELINE_PARTITIONS_START", FIRST.isoformat())
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.delenv("WXPIPELINE_DATABASE_URL", raising=False)


def deliver(root: Path, night, tick: list[int]) -> None:
    for rel, text in ARRIVALS.get(night, []):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
        tick[0] += 10  # a replaced file gets a new mtime even within one clock tick
        os.utime(p, ns=(tick[0] * 10**9, tick[0] * 10**9))


def findings() -> set[tuple[str, str, str]]:
    with warehouse().session() as s:
        return {(f.clause_id, f.subject_id, str(f.partition_date)) for f in s.exec(select(Finding)).scalars()}


def test_nights_end_where_one_run_ends(tmp_path, monkeypatch, capsys):
    policy = policy_folder(tmp_path / "policy")
    exports = tmp_path / "exports"
    use_home(monkeypatch, tmp_path / "nightly-home", exports, policy)
    tick = [1_780_000_000]
    outputs = {}
    for night in NIGHTS:
        deliver(exports, night, tick)
        capsys.readouterr()
        assert main(["nightly", "--date", night.isoformat()]) == 0, night
        outputs[night] = capsys.readouterr().out
    nightly_findings = findings()

    # the holiday batch re-judged the days it covers, and said why
    assert re.search(r"judge 2026-10-02 because of: .*wecom_archive/holiday_1001_1003.jsonl \(new\)", outputs[LAST])
    assert "awaiting_data" in outputs[FIRST + timedelta(days=2)]  # on holiday: no archive yet

    wh = warehouse()
    with wh.session() as s:
        events = list(s.exec(select(CaseEvent)).scalars())
        judgements = list(s.exec(select(Judgement)).scalars())
    resolved = [e for e in events if e.event == "resolved" and e.clause_id == "PAY-04" and e.subject_id == "bill:T1"]
    assert resolved and "ledger/ledger_2026-10b.csv" in resolved[0].cause
    pub = [e for e in events if e.event == "resolved" and e.clause_id == "PUB-01"]
    assert pub and "mp_reviews/signoffs_week40.csv" in pub[0].cause
    chat06 = [e for e in events if e.event == "resolved" and e.clause_id == "CHAT-06"]
    assert chat06 and "holiday_1001_1003.jsonl" in chat06[0].cause
    corrected = [e for e in events if e.event == "resolved" and e.clause_id == "PAY-02"]
    assert corrected and "wechat_pay/bill_2026-09.csv (changed)" in corrected[0].cause

    # no day with missing inputs reported passed: every judgement short of its inputs failed its checks
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        incomplete = [j for j in judgements if j.coverage_status != "complete"]
        assert incomplete
        for j in incomplete:
            evals = [e.dagster_event.event_specific_data for e in instance.all_logs(
                j.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
            ours = [e for e in evals if e.asset_key.path[-1] == f"{j.domain}_findings" and e.check_name != "calendar_known"]
            assert ours and not any(e.passed for e in ours), (j.domain, j.partition_date, j.coverage_status)

    # one run over all the files, in a fresh home
    use_home(monkeypatch, tmp_path / "batch-home", exports, policy)
    assert main(["run", "--from", FIRST.isoformat(), "--to", LAST.isoformat()]) == 0
    assert findings() == nightly_findings
    assert ("PAY-04", "bill:T3", "2026-10-04") in nightly_findings and ("CHAT-01", "h2", "2026-10-02") in nightly_findings
    assert not any(f[0] == "PAY-04" and f[1] == "bill:T1" for f in nightly_findings)
