"""`wxpipeline run` through Dagster on a persistent instance: summary, idempotence, exit codes."""

import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.cli import main
from wxpipeline.store.tables import Case, Finding
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import settings

from .assets.exports_fixture import write_exports
from wxpipeline.store import cases as case_store


@pytest.fixture()
def env(tmp_path, monkeypatch):
    for var in ("WXPIPELINE_DATABASE_URL", "WXPIPELINE_POLICY"):
        monkeypatch.delenv(var, raising=False)
    # `run` sets DAGSTER_HOME when unset; pin it so that it is restored after the test
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(tmp_path / "exports"))
    write_exports(tmp_path / "exports")
    return tmp_path


def rows():
    with warehouse().session() as s:
        return sorted((f.finding_id, f.clause_id, f.subject_id, str(f.partition_date), f.summary, f.evidence)
                      for f in s.exec(select(Finding)).scalars())


def test_run_twice_changes_nothing_and_keeps_triage(env, capsys):
    empty = env / "exports/wecom_groups/empty.json"  # issue 12 #3: refused by name, the run goes on
    empty.parent.mkdir()
    empty.write_bytes(b"")
    assert main(["run", "--from", "2026-09-22", "--to", "2026-09-23"]) == 0
    out, err = capsys.readouterr()
    assert f"{empty}: file rejected: empty JSON file" in err
    assert "[2/2] 2026-09-23  ok" in out and "PAY-04" in out
    first = rows()
    assert {r[1] for r in first} == {"PAY-02", "PAY-03", "PAY-04"}
    fp = next(r for r in first if r[1] == "PAY-04")
    wh = warehouse()
    with wh.session() as s:
        fingerprint = s.exec(select(Finding.fingerprint).where(Finding.finding_id == fp[0])).scalars().one()
    case_store.set_case_status(wh, fingerprint, "false_positive", "entered on paper", "auditor")
    assert main(["run", "--from", "2026-09-22", "--to", "2026-09-23"]) == 0
    assert rows() == first
    with wh.session() as s:
        assert s.get(Case, fingerprint).status == "false_positive"
    assert (settings().home / "dagster" / "dagster.yaml").exists()  # runs persist under WXPIPELINE_HOME


def test_blocked_contract_exits_non_zero(env, capsys):
    bad = env / "exports/reference/group_registry.csv"
    bad.write_text(bad.read_text("utf-8").replace(",department,", ",committee,"), "utf-8")
    assert main(["run", "--from", "2026-09-22", "--to", "2026-09-22"]) == 1
    out, err = capsys.readouterr()
    assert "group_registry_contract" in out
    # issue 12 #6: no day is judged (and reported ok) on reference data that failed its contract
    assert "no day judged" in err and "2026-09-22" not in out
    assert rows() == []


def test_run_reaches_back_to_the_records_its_first_day_reads(tmp_path):
    """Partitions begin where the data the period reads begins: judging 2026-09-24 alone reads the
    bill of 09-22 that ledger entry L2 (booked on the 24th) pays for, so `run` lowers the recorded
    partition start to 09-22 and stages it; otherwise L2 would be a false PAY-04 finding. In a
    subprocess: the definitions take the partition start when they are imported."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("WXPIPELINE_PARTITIONS_START", "WXPIPELINE_DATABASE_URL", "WXPIPELINE_POLICY")}
    env.update(WXPIPELINE_HOME=str(tmp_path / "home"), WXPIPELINE_EXPORTS_DIR=str(tmp_path / "exports"),
               DAGSTER_HOME=str(tmp_path / "home" / "dagster"))
    write_exports(tmp_path / "exports")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from wxpipeline.cli import main; "
         "sys.exit(main(['run', '--from', '2026-09-24', '--to', '2026-09-24']))"],
        env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "home" / "partitions_start").read_text().strip() <= "2026-09-22"
    assert "stage 2026-09-22" in done.stdout
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'home' / 'findings.db'}")
    with wh.session() as s:
        found = [(f.clause_id, f.subject_id) for f in s.exec(select(Finding)).scalars()]
    assert not [f for f in found if f[0] == "PAY-04" and ("L2" in f[1] or "T101" in f[1])], found
