"""Runs a kill, crash or reboot left in progress are marked failed, so they never hold a slot of
the run queue (`max_concurrent_runs`) for good.

A run's worker process is known from the run itself: `wxpipeline run` tags its runs with
`wxpipeline/pid` and `wxpipeline/host`; runs launched by the daemon or the UI record their
worker's pid in an engine event (`Started process for run (pid: N)`, or the in-process
executor's `Executing steps in process (pid: N)`). A run is stale when that process no longer
exists on this host, or exists but started after the run did (the pid was reused after a
reboot). Runs of another host are left alone: only that host can tell.

Dagster's own run monitoring (`run_monitoring` in dagster.yaml) fails runs stuck STARTING or
CANCELING, but the default run launcher cannot check a STARTED run's worker, and in-process
runs of `wxpipeline run` have no launcher at all; hence this sweep, run by `wxpipeline run`
before it starts and by the daemon's `stale_run_sweeper` sensor.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone

import dagster as dg

PID_TAG, HOST_TAG = "wxpipeline/pid", "wxpipeline/host"
IN_PROGRESS = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING)


def run_tags() -> dict[str, str]:
    """Tags `wxpipeline run` puts on its runs so that a later sweep can find their process."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_start(pid: int) -> float | None:
    """Unix time the process started, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])  # field 22 (starttime), counted after the `(comm)` field
        with open("/proc/stat", "rb") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith(b"btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError, StopIteration):  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0  # exists; start unknown


def _worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int | None, str | None, float | None]:
    """(pid, host, when that pid was recorded: None for a `wxpipeline run` tag, set before the run)."""
    if PID_TAG in run.tags:
        return int(run.tags[PID_TAG]), run.tags.get(HOST_TAG), None
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data if record.event_log_entry.dagster_event else None
        pid = (getattr(data, "metadata", None) or {}).get("pid")
        if pid is not None:
            return int(getattr(pid, "value", pid)), None, record.event_log_entry.timestamp  # this host's code server
    return None, None, None


def sweep_stale_runs(instance: dg.DagsterInstance, who: str) -> list[str]:
    """Mark every in-progress run whose worker process is gone as failed; returns their ids."""
    host = socket.gethostname()
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(IN_PROGRESS))):
        run = record.dagster_run
        pid, run_host, recorded_at = _worker_pid(instance, run)
        if pid is None or (run_host and run_host != host) or pid == os.getpid():
            continue
        # a worker the daemon launched after the run waited in the queue starts after the run was
        # created (and, STARTING, has no start time yet): it must have started before its pid was logged
        started = recorded_at or record.start_time or record.create_timestamp.timestamp()
        proc_start = _process_start(pid)
        if proc_start is not None and proc_start <= started + 1:
            continue  # still running
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        reason = ("no such process" if proc_start is None
                  else "that pid now belongs to a process started after the run (machine restarted?)")
        instance.report_run_failed(
            run,
            f"Run worker process {pid} on {run_host or host} is gone ({reason}): the run was killed, crashed "
            f"or the machine restarted while it was {run.status.value}. Marked failed by {who} at {at} "
            "so that it no longer holds a slot of the run queue. Re-run its partition to judge the day.",
        )
        failed.append(run.run_id)
    return failed


@dg.sensor(
    name="stale_run_sweeper",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose worker process is gone (killed, crashed, machine restarted) as failed, "
                "with the reason on the run, so that they free their slot of the run queue. Runs within a "
                "minute of the daemon starting.",
)
def stale_run_sweeper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = sweep_stale_runs(context.instance, "the stale_run_sweeper sensor")
    return dg.SkipReason(f"marked {len(failed)} stale run(s) failed: {', '.join(failed)}" if failed
                         else "no stale runs")
