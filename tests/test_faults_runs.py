"""Issue 12 #1 and #8: a killed run never blocks the queue; overlapping runs on a fresh home agree.

These start real `wxpipeline run` processes (kill -9, two at once), so they are the slowest
tests of the suite; each stops every process it starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from wxpipeline.store.tables import Finding, QuarantineRecord
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.stale_runs import HOST_TAG, PID_TAG, stale_run_sweeper, sweep_stale_runs

from .assets.exports_fixture import write_exports

WXPIPELINE = str(Path(sys.executable).with_name("wxpipeline"))
DAYS = ["--from", "2026-09-21", "--to", "2026-09-23"]


def _env(home: Path, exports: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_HOME", "WXPIPELINE_DATABASE_URL", "WXPIPELINE_POLICY")}
    env.update(WXPIPELINE_HOME=str(home), WXPIPELINE_EXPORTS_DIR=str(exports))
    return env


def _instance(home: Path) -> dg.DagsterInstance:
    """The run's instance, opened under the lock `open_dagster_instance` creates it under: opened
    while the `wxpipeline run` process is still creating its storages, both would stamp the
    schedule database's Alembic version ("more than one head present")."""
    from dagster._core.instance.ref import InstanceRef

    from wxpipeline.store.concurrency import file_lock

    with file_lock(home / "dagster" / ".init-lock"):
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster")))
        instance.run_storage, instance.event_log_storage, instance.schedule_storage  # noqa: B018
    return instance


def _findings(home: Path) -> list[tuple]:
    with Warehouse(database_url=f"sqlite:///{home / 'findings.db'}").session() as s:
        return sorted((f.finding_id, f.clause_id, f.subject_id, str(f.partition_date), f.summary, f.evidence)
                      for f in s.exec(select(Finding)).scalars())


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    write_exports(root, bad_line=True)
    return root


@pytest.fixture(scope="module")
def reference(tmp_path_factory, exports) -> list[tuple]:
    """The findings of one undisturbed run."""
    home = tmp_path_factory.mktemp("reference") / "home"
    done = subprocess.run([WXPIPELINE, "run", *DAYS], env=_env(home, exports), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    found = _findings(home)
    assert {f[1] for f in found} == {"PAY-02", "PAY-03", "PAY-04"}
    return found


def test_killed_run_is_marked_failed_by_the_next_run(tmp_path, exports, reference):
    home = tmp_path / "home"
    proc = subprocess.Popen([WXPIPELINE, "run", *DAYS], env=_env(home, exports),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        started = []
        while time.monotonic() < deadline and not started:
            time.sleep(0.5)
            if (home / "dagster" / "history" / "runs.db").exists():
                with _instance(home) as inst:
                    started = inst.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert started, "the run never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed = started[0].dagster_run.run_id
    with _instance(home) as inst:
        assert inst.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED  # what issue 12 #1 saw

    done = subprocess.run([WXPIPELINE, "run", *DAYS], env=_env(home, exports), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"run {killed[:8]} was left in progress" in done.stdout
    with _instance(home) as inst:
        assert inst.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        failure = inst.get_records_for_run(killed, of_type=dg.DagsterEventType.RUN_FAILURE).records
        assert "is gone" in failure[0].event_log_entry.dagster_event.message
        # nothing is left holding a slot of the run queue
        assert not inst.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert _findings(home) == reference


def test_two_runs_of_the_same_days_at_once_on_a_fresh_home(tmp_path, exports, reference):
    home = tmp_path / "home"  # does not exist yet: both processes initialise it
    procs = [subprocess.Popen([WXPIPELINE, "run", *DAYS], env=_env(home, exports), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    assert _findings(home) == reference
    with Warehouse(database_url=f"sqlite:///{home / 'findings.db'}").session() as s:
        assert len(list(s.exec(select(QuarantineRecord)).scalars())) == 1  # the bad line, once
    # nothing the pipeline wrote is readable by others
    for p in [home, *home.rglob("*")]:
        if p.is_file() or p.is_dir():
            assert p.stat().st_mode & 0o077 == 0 or p.suffix == ".lock", f"{p} is {oct(p.stat().st_mode)}"


def test_sweeper_sensor_fails_runs_whose_process_is_gone(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        gone = subprocess.Popen(["true"])
        gone.wait()
        tags = {PID_TAG: str(gone.pid), HOST_TAG: socket.gethostname()}
        dead = inst.add_run(dg.DagsterRun(job_name="judge_day", run_id="dead0000", status=dg.DagsterRunStatus.STARTED,
                                          tags=tags))
        alive = inst.add_run(dg.DagsterRun(job_name="judge_day", run_id="alive000",
                                           status=dg.DagsterRunStatus.STARTED,
                                           tags={PID_TAG: "1", HOST_TAG: socket.gethostname()}))
        elsewhere = inst.add_run(dg.DagsterRun(job_name="judge_day", run_id="other000",
                                               status=dg.DagsterRunStatus.STARTED,
                                               tags={PID_TAG: str(gone.pid), HOST_TAG: "another-host"}))
        result = stale_run_sweeper(dg.build_sensor_context(instance=inst))
        assert "dead0000" in result.skip_message
        assert inst.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert inst.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED  # pid 1 is alive
        assert inst.get_run_by_id(elsewhere.run_id).status == dg.DagsterRunStatus.STARTED
        assert sweep_stale_runs(inst, "test") == []


def test_sweeper_keeps_a_queued_run_whose_worker_started_after_it_was_created(tmp_path):
    """Issue 15: a run the daemon dequeues after it waited in the queue is STARTING (no start time)
    with a worker younger than the run; the deployment test saw the sweeper fail such a run."""
    from dagster._core.events import EngineEventData  # what the run launcher logs the pid with

    with dg.instance_for_test(temp_dir=str(tmp_path)) as inst:
        run = inst.add_run(dg.DagsterRun(job_name="judge_day", run_id="queued00", status=dg.DagsterRunStatus.STARTING))
        time.sleep(1.5)  # the worker starts more than a second after the run was created
        worker = subprocess.Popen(["sleep", "60"])
        try:
            inst.report_engine_event("Started process for run", run,
                                     EngineEventData(metadata={"pid": dg.MetadataValue.text(str(worker.pid))}))
            assert sweep_stale_runs(inst, "test") == []
            assert inst.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTING
        finally:
            worker.kill()
            worker.wait()
        worker_gone = sweep_stale_runs(inst, "test")
        assert worker_gone == ["queued00"]
