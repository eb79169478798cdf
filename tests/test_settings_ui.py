"""Where the daily partitions start, and `tasks.py ui` stopping its whole process group."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from wxpipeline import settings as s

ROOT = Path(__file__).resolve().parents[1]


def test_partitions_start_is_recorded_and_lowered(tmp_path, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path))
    monkeypatch.delenv("WXPIPELINE_PARTITIONS_START", raising=False)
    default = date.fromisoformat(s.settings().partitions_start)
    assert default.day == 1 and (date.today() - default).days < 63  # weeks of empty days, not years
    assert s.record_partitions_start(date(2026, 9, 18)) == "2026-09-18"  # demo / run --from on a new home
    assert s.record_partitions_start(date(2026, 10, 1)) == "2026-09-18"  # a later day never raises it
    assert s.record_partitions_start(date(2026, 8, 1)) == "2026-08-01"  # an earlier one lowers it
    assert (tmp_path / "partitions_start").read_text().strip() == "2026-08-01"
    assert s.settings().partitions_start == "2026-08-01"
    monkeypatch.setenv("WXPIPELINE_PARTITIONS_START", "2025-06-01")
    assert s.settings().partitions_start == "2025-06-01"


def test_ui_process_group_stops_on_sigterm(tmp_path):
    pidfile = tmp_path / "child.pid"
    inner = ("import os, subprocess, time; p = subprocess.Popen(['sleep', '300']); "
             f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(300)")
    wrapper = ("import sys, tasks; "
               f"sys.exit(tasks.run_process_group([sys.executable, '-c', {inner!r}], dict(__import__('os').environ),"
               " grace_s=5))")
    proc = subprocess.Popen([sys.executable, "-c", wrapper], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.1)
        grandchild = int(pidfile.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        for _ in range(50):  # the whole group is gone, the grandchild included
            try:
                os.kill(grandchild, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("a process of the UI's group outlived it")
    finally:
        if proc.poll() is None:
            proc.kill()
