"""Issue 12 #7: policy values that validate but make no sense are refused, naming file, key and problem."""

import re
import shutil
from pathlib import Path

import pytest

from wxpipeline.policy import PACKAGED_POLICY_DIR, PolicyError, load_policy


def policy_dir(tmp_path: Path) -> Path:
    d = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return d


def edit(d: Path, old: str, new: str) -> Path:
    p = d / "default.yaml"
    text = p.read_text("utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), "utf-8")
    return p


@pytest.mark.parametrize("old, new, expected", [
    ("daily_limit_yuan: 5000", "daily_limit_yuan: -5000", r"clauses\.PAY-01\.params\.daily_limit_yuan: must not be negative"),
    ("amount_tolerance_yuan: 0", "amount_tolerance_yuan: -0.5",
     r"clauses\.PAY-04\.params\.amount_tolerance_yuan: must not be negative"),
    ("removal_hours: 48", "removal_hours: -48", r"removal_hours: must not be negative"),
    ('working_hours_start: "09:00:00"', 'working_hours_start: "19:00:00"',
     r"clauses\.PAY-02\.params\.working_hours_start: 19:00:00 is not before working_hours_end 18:00:00"),
    ("card_min_digits: 16", "card_min_digits: 20", r"card_min_digits: 20 is above card_max_digits 19"),
    # the last of two keys would win silently: a limit nobody reaches turns PAY-01 off
    ("daily_limit_yuan: 5000", "daily_limit_yuan: 5000\n      daily_limit_yuan: 50000000",
     r"clauses\.PAY-01\.params\.daily_limit_yuan: key 'daily_limit_yuan' is given twice \(lines 19 and 20\)"),
])
def test_nonsense_values_are_refused(tmp_path, old, new, expected):
    p = edit(policy_dir(tmp_path), old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(p)
    assert str(p) in str(err.value)
    assert re.search(expected, str(err.value)), str(err.value)


def test_two_files_with_one_version_string_are_refused(tmp_path):
    d = policy_dir(tmp_path)
    text = (d / "default.yaml").read_text("utf-8")
    (d / "later.yaml").write_text(text.replace("effective_from: 2025-01-01", "effective_from: 2026-10-01")
                                  .replace("daily_limit_yuan: 5000", "daily_limit_yuan: 3000"), "utf-8")
    with pytest.raises(PolicyError, match=r"later\.yaml: version: '2026\.1' is also the version of .*default\.yaml"):
        load_policy(d)
