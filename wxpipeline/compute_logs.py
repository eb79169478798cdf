"""Captured stdout/stderr of runs executed in process, without two helper processes per stream.

Dagster's local compute-log manager captures a run's stdout and stderr into files (shown in the
UI) and mirrors them to the terminal by starting `tail -F` on each file plus a Python watcher
that kills the tail if this process dies: four processes per run (~80 ms and ~35 ms of CPU a run,
paid by each of the ~65 runs of a 30-day `wxpipeline run`), and output the tail had not read
yet when it is stopped is lost (dagster issue 23336). Here the streams are redirected to the same
files in the same way, and what a run wrote is copied to the terminal when its capture ends: same
files for the UI, nothing lost, no process started. Installed only by `wxpipeline run` and
`nightly` (cli_nightly.py).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

_INSTALLED: list[bool] = []


@contextmanager
def mirror_stream_to_file_at_end(stream, filepath):
    """Dagster's `mirror_stream_to_file`, copying to `stream` once at the end instead of tailing."""
    from dagster._core.execution.compute_logs import _fileno, redirect_to_file
    from dagster._utils import ensure_file

    ensure_file(filepath)
    start = os.path.getsize(filepath)
    try:
        with redirect_to_file(stream, filepath):
            yield None
    finally:
        fd = _fileno(stream)
        if fd is not None:  # else nothing was redirected (a test runner's stub stream)
            stream.flush()
            with open(filepath, "rb") as captured, os.fdopen(os.dup(fd), "wb") as out:
                captured.seek(start)
                shutil.copyfileobj(captured, out)


def capture_without_tail_processes() -> None:
    """Patch the local compute-log manager to mirror at the end (idempotent)."""
    if _INSTALLED:
        return
    from dagster._core.storage import local_compute_log_manager

    local_compute_log_manager.mirror_stream_to_file = mirror_stream_to_file_at_end
    _INSTALLED.append(True)
