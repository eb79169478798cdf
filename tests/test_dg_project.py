"""The project is a `dg` project: `dg check defs` and `dg list defs` load the code location that
`[tool.dg]` in pyproject.toml names (what CI runs, through `python3 tasks.py test`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).parent / "dg"


def dg(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "WXPIPELINE_HOME": str(home),
           "WXPIPELINE_PARTITIONS_START": "2026-09-01", "DAGSTER_HOME": str(home / "dagster")}
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    return subprocess.run([str(DG), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.skipif(not DG.exists(), reason="dagster-dg-cli not installed in this environment")
def test_dg_check_and_list_defs(tmp_path):
    check = dg("check", "defs", "--use-active-venv", home=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr

    listed = dg("list", "defs", "--json", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    defs = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in defs["assets"]}
    assert {"pay_bills", "payments_findings", "daily_report", "exports/wecom_archive"} <= set(assets)
    assert {j["name"] for j in defs["jobs"]} == {"daily_audit", "refresh_reference", "stage_day", "judge_day",
                                                "period_summaries"}
    assert {s["name"] for s in defs["schedules"]} == {"nightly_audit"}
    assert {"exports_sensor"} <= {s["name"] for s in defs["sensors"]}
