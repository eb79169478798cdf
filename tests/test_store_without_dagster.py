"""The store package is plain SQL over the findings tables: a day's findings are written,
triaged, marked a false positive and waived with no Dagster imported (the `Warehouse` resource
is only an engine and sessions around the same functions)."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    from datetime import date

    import polars as pl

    from wxpipeline.checks.findings import FINDING_SCHEMA
    from wxpipeline.store import cases, findings, triage
    from wxpipeline.store.engine import Database

    day = date(2026, 9, 23)
    db = Database(sys.argv[1])
    rows = [("PAY-02", "T1", day, "E1", None, "off hours", "{}"), ("PAY-02", "T2", day, "E2", None, "off hours", "{}")]
    diff = findings.replace_partition(db, "payments", day, pl.DataFrame(rows, schema=FINDING_SCHEMA, orient="row"),
                                      {"PAY-02": "medium"}, "2026.1", "run1")
    assert len(diff.new) == 2, diff
    fp = findings.fingerprint_of("PAY-02", "T1")
    cases.set_case_status(db, fp, "false_positive", "approved on paper", "auditor")
    cases.add_waiver(db, "PAY-02", "project period", "manager", date(2026, 9, 30), subject_id="T2")
    counted = {r["subject_id"]: (r["case_status"], r["counted"]) for r in triage.triage(db, "payments", day)["PAY-02"]}
    assert counted == {"T1": ("false_positive", False), "T2": ("waived", False)}, counted
    assert "dagster" not in sys.modules, "the store imported Dagster"
    print("ok")
""")


def test_triage_without_dagster(tmp_path):
    r = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'f.db'}"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
