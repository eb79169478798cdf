"""Policy files: schema errors name file, key and problem; versions by effective date; diffs."""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from wxpipeline.factories.findings import findings_code_version
from wxpipeline.policy import PACKAGED_POLICY_DIR, PolicyError, load_policy
from wxpipeline.policy.diff import diff_versions


def policy_dir(tmp_path: Path) -> Path:
    d = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return d


def revise(d: Path, version: str, effective_from: str, old: str, new: str, name: str = "v2.yaml") -> Path:
    text = (d / "default.yaml").read_text("utf-8")
    text = text.replace('version: "2026.1"', f'version: "{version}"')
    text = text.replace("effective_from: 2025-01-01", f"effective_from: {effective_from}")
    assert old in text
    (d / name).write_text(text.replace(old, new), "utf-8")
    return d / name


def test_packaged_policy_loads():
    pv = load_policy().for_day(date(2026, 10, 1))
    assert pv.params("PAY-01").daily_limit_yuan == Decimal("5000")


def test_error_names_file_key_and_problem(tmp_path):
    d = policy_dir(tmp_path)
    p = d / "default.yaml"
    p.write_text(p.read_text("utf-8").replace("daily_limit_yuan: 5000", "daily_limit_yuan: lots"), "utf-8")
    with pytest.raises(PolicyError) as e:
        load_policy(d)
    msg = str(e.value)
    assert str(p) in msg and "clauses.PAY-01.params.daily_limit_yuan" in msg and "lots" in msg


def test_unknown_key_and_missing_clause_are_errors(tmp_path):
    d = policy_dir(tmp_path)
    p = d / "default.yaml"
    text = p.read_text("utf-8")
    p.write_text(text.replace("  PAY-03:\n", "  PAY-33:\n"), "utf-8")
    with pytest.raises(PolicyError) as e:
        load_policy(d)
    assert "clauses.PAY-33: unknown clause id" in str(e.value)
    assert "clauses.PAY-03: missing" in str(e.value)


def test_each_day_judged_by_version_in_effect(tmp_path):
    d = policy_dir(tmp_path)
    revise(d, "2026.2", "2026-10-01", "daily_limit_yuan: 5000", "daily_limit_yuan: 3000")
    ps = load_policy(d)
    assert ps.for_day(date(2026, 9, 30)).version == "2026.1"
    assert ps.for_day(date(2026, 10, 1)).params("PAY-01").daily_limit_yuan == Decimal("3000")
    rows = diff_versions(ps.by_version("2026.1"), ps.by_version("2026.2"))
    assert rows == [{"scope": "PAY-01", "key": "daily_limit_yuan", "old": "5000", "new": "3000"}]


def test_two_versions_on_one_date_is_an_error(tmp_path):
    d = policy_dir(tmp_path)
    revise(d, "2026.2", "2025-01-01", "daily_limit_yuan: 5000", "daily_limit_yuan: 3000")
    with pytest.raises(PolicyError, match="effective_from"):
        load_policy(d)


def test_code_version_follows_policy_content_only(tmp_path):
    d = policy_dir(tmp_path)
    before = findings_code_version("payments", str(d))
    assert findings_code_version("payments", str(d)) == before
    p = d / "default.yaml"
    p.write_text(p.read_text("utf-8") + "\n# a comment changes nothing judged\n", "utf-8")
    assert findings_code_version("payments", str(d)) == before
    revise(d, "2026.2", "2026-10-01", "daily_limit_yuan: 5000", "daily_limit_yuan: 3000")
    assert findings_code_version("payments", str(d)) != before
