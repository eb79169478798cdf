"""The production deployment end to end, as the README's "Production" section sets it up: the
Dagster instance and the findings store in PostgreSQL, `dagster-webserver` and `dagster-daemon`
started as services, the `nightly_audit` schedule and the `exports_sensor` launching runs through
the queued run coordinator (2 at a time). The findings must equal those of the SQLite
`wxpipeline run` over the same days and folder.

One scenario (services start once; ~2 minutes on an idle 2-core machine, 5-12 under heavy load; the
daemon's sensor and queue poll every few seconds: SENSOR_INTERVAL, RUN_QUEUE):

1. `wxpipeline demo` writes three days D1..D3 (D3: the day the last 02:00 tick judges). The
   company's exports folder starts without the WeChat Pay bills (they arrive late).
2. The README's commands: `db upgrade`, `db current`, the backfill `run --from D1 --to D2`.
3. The webserver starts; through its GraphQL API the test checks the code location, queues two
   `daily_audit` runs of D3 (the same day, first judgement: they run side by side once the daemon
   dequeues them) and starts `nightly_audit`, whose start the test rewinds through the instance
   to just before the last 02:00 tick: the daemon finds the tick due, as after a restart.
4. The daemon starts: the schedule launches `daily_audit` for D3, the queue runs the two same-day
   runs together, the sensor records its baseline.
5. The bills arrive: the sensor requests `stage_day` runs, then `judge_day` runs for the days
   that read them; the queue runs different days side by side.
6. Every run succeeded; findings and coverage of D1..D3 equal the SQLite reference; no lost
   update in `cases` / `case_events` (events alternate new/resolved per case-day and end where
   the findings are; each case's first/last seen are its first/last day found).

Skips without WXPIPELINE_TEST_POSTGRES_URL (`.ci/run` starts a server) or dagster-postgres.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from wxpipeline.settings import DAGSTER_PG_YAML

from ..scratch_postgres import PG, scratch_database
from .readme import expand, production_steps, with_option
from .services import GraphQL, Service, free_port, wait_for

pytestmark = pytest.mark.skipif(not PG, reason="WXPIPELINE_TEST_POSTGRES_URL not set (no PostgreSQL server)")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the project's virtualenv: wxpipeline, dagster-daemon, dagster-webserver
SH = ZoneInfo("Asia/Shanghai")
LATE = "wechat_pay"  # export folder that arrives after the daemon is up
SENSOR_INTERVAL = "5"  # seconds (production default 300)
# the daemon's queue: looks every second (default 5) and launches what it dequeues side by side,
# not one launch after the other; ~10 waves of two runs here
RUN_QUEUE = "run_queue:\n  dequeue_interval_seconds: 1\n  dequeue_use_threads: true\n"
TIMEOUT = 600  # seconds for each wait on the daemon: a guard against a hang, not a timing (load 8: ~250 s)


def last_tick() -> datetime:
    """The last 02:00 Asia/Shanghai the nightly schedule fired at (it judges the day before)."""
    now = datetime.now(SH)
    tick = now.replace(hour=2, minute=0, second=0, microsecond=0)
    return tick if tick <= now else tick - timedelta(days=1)


def base_env() -> dict[str, str]:
    """This process's environment without any wxpipeline/Dagster setting, venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXPIPELINE_") and k != "DAGSTER_HOME"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def sh(cmd: list[str], env: dict, timeout: int = 300) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def findings(url: str, d1: date, d3: date) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            # SQLite hands dates back as text
            return sorted((*r[:4], str(r[4]), *r[5:]) for r in c.execute(text(
                "SELECT finding_id, fingerprint, clause_id, domain, partition_date, subject_id, severity, summary, "
                "evidence, policy_version FROM findings WHERE partition_date BETWEEN :a AND :b"), {"a": d1, "b": d3}))
    finally:
        engine.dispose()


def coverage(url: str, d1: date, d3: date) -> dict:
    """(domain, day) -> coverage status of its latest judgement."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text(
                "SELECT domain, partition_date, coverage_status FROM judgements "
                "WHERE partition_date BETWEEN :a AND :b ORDER BY id"), {"a": d1, "b": d3})
            return {(r[0], str(r[1])): r[2] for r in rows}
    finally:
        engine.dispose()


def assert_no_lost_updates(url: str) -> list[tuple]:
    """Per (case, day) the new/resolved events alternate from `new` and end where the findings
    are; each case's first/last seen are the first/last day it was found. Returns the events
    (fingerprint, day, new|resolved, cause)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            events = c.execute(text(
                "SELECT fingerprint, partition_date, event, cause FROM case_events "
                "WHERE event IN ('new', 'resolved') ORDER BY at, id")).all()
            present = {(r[0], r[1]) for r in c.execute(text("SELECT fingerprint, partition_date FROM findings"))}
            cases = {r[0]: (r[1], r[2]) for r in c.execute(text("SELECT fingerprint, first_seen, last_seen FROM cases"))}
    finally:
        engine.dispose()
    seq: dict[tuple, list[str]] = {}
    for fp, day, kind, _cause in events:
        seq.setdefault((fp, day), []).append(kind)
    for key, kinds in seq.items():
        assert kinds == (["new", "resolved"] * len(kinds))[: len(kinds)], (key, kinds)
        assert (kinds[-1] == "new") == (key in present), (key, kinds)
    assert present <= set(seq), sorted(present - set(seq))[:5]  # every finding has its `new` event
    found_days: dict[str, list[date]] = {}
    for fp, day in seq:
        found_days.setdefault(fp, []).append(day)
    assert set(found_days) == set(cases), sorted(set(found_days) ^ set(cases))[:5]
    for fp, days in found_days.items():
        assert cases[fp] == (min(days), max(days)), (fp, cases[fp], sorted(days))
    return events


def overlapping(instance, records) -> bool:
    """The runs were in progress at the same time: launched by the queue (RUN_STARTING) before the
    other ended. A small day's judge run executes for ~3 s after its worker's ~3 s import, so
    two runs the queue launched together need not execute their steps at the same moment."""
    spans = [run_span(instance, r) for r in records]
    return len(spans) >= 2 and max(a for a, _ in spans) < min(b for _, b in spans)


def run_span(instance, record) -> tuple[float, float]:
    import dagster as dg

    (event,) = instance.get_records_for_run(record.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_STARTING).records
    return event.timestamp, record.end_time


def describe_runs(instance, t0: float) -> str:
    """Every run: job, partition, status, created/started/ended (s after t0), why it failed."""
    import dagster as dg

    lines = []
    for r in sorted(instance.get_run_records(), key=lambda r: r.create_timestamp):
        run = r.dagster_run
        start = f"{r.start_time - t0:.0f}" if r.start_time else "-"
        end = f"{r.end_time - t0:.0f}" if r.end_time else "-"
        line = (f"{run.job_name:<17} {run.tags.get('dagster/partition', ''):<10} {run.status.value:<8} "
                f"created {r.create_timestamp.timestamp() - t0:.0f} started {start} ended {end} {run.run_id[:8]}")
        if run.status != dg.DagsterRunStatus.SUCCESS:
            for kind in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
                for e in instance.get_records_for_run(run.run_id, of_type=kind).records:
                    data = e.event_log_entry.dagster_event.event_specific_data
                    err = getattr(data, "error", None)
                    line += f"\n    {kind.value}: {e.event_log_entry.dagster_event.message or ''} {err.message if err else ''}"
        lines.append(line)
    return "\n".join(lines)


REPOSITORIES = """{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
  name location { name } schedules { name } sensors { name minIntervalSeconds } jobs { name } } }
  ... on PythonError { message } } }"""
SCHEDULE_STATE = """query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) {
  ... on Schedule { scheduleState { id status } } } }"""
STOP_SCHEDULE = """mutation($id: String!) { stopRunningSchedule(id: $id) { __typename
  ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""
START_SCHEDULE = """mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename
  ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""
LAUNCH_RUN = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId status } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
RUNS = """{ runsOrError { ... on Runs { results { runId jobName status } } } }"""


@pytest.fixture()
def timings():
    """Seconds since the start at each milestone, printed at the end, failed or not (`-s` shows them)."""
    marks: dict[str, float] = {}
    yield marks
    print("\ndeployment test timings (s since start): " + ", ".join(f"{k} {v:.0f}" for k, v in marks.items()))


def test_daemon_schedule_and_sensor_on_postgresql_equal_a_sqlite_run(tmp_path, monkeypatch, request, timings):
    pytest.importorskip("dagster_postgres", reason="dagster-postgres not installed (pip install .[postgres])")
    import dagster as dg
    from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData

    t0, wall0 = time.monotonic(), time.time()
    tick = last_tick()
    d3 = tick.date() - timedelta(days=1)
    d1, d2 = d3 - timedelta(days=2), d3 - timedelta(days=1)
    steps = production_steps()

    # the company's exports (demo), and the SQLite reference over the whole folder
    vendor = tmp_path / "vendor-exports"
    ref_env = {**base_env(), "WXPIPELINE_HOME": str(tmp_path / "ref"), "WXPIPELINE_EXPORTS_DIR": str(vendor)}
    sh(["wxpipeline", "demo", "--days", "3", "--end", d3.isoformat()], ref_env)
    # in the background while the deployment is set up (stopped at teardown if still running)
    reference = Service("reference-run", ["wxpipeline", "run", "--from", d1.isoformat(), "--to", d3.isoformat()],
                        ref_env, ROOT, tmp_path)
    request.addfinalizer(reference.stop)

    with scratch_database("wx15_deploy_findings") as findings_url, scratch_database("wx15_deploy_dagster") as dagster_url:
        # the README's environment, every variable it exports given this test's value
        home = tmp_path / "srv"
        values = {"WXPIPELINE_HOME": str(home / "wxpipeline"), "WXPIPELINE_EXPORTS_DIR": str(home / "exports"),
                  "WXPIPELINE_DATABASE_URL": findings_url, "WXPIPELINE_DAGSTER_PG_URL": dagster_url,
                  "WXPIPELINE_EXPORTS_SENSOR_INTERVAL": SENSOR_INTERVAL}
        env = base_env()
        for name, written in steps.env.items():
            assert name in values or "$" in written, f"README Production exports {name}: the test has no value for it"
            env[name] = values.get(name) or expand(written, env)
        assert set(values) <= set(steps.env), f"not in README Production: {set(values) - set(steps.env)}"
        exports = Path(env["WXPIPELINE_EXPORTS_DIR"])
        shutil.copytree(vendor, exports, ignore=lambda d, names: [LATE] if Path(d) == vendor else [])

        out = sh(steps.command("wxpipeline", "db", "upgrade"), env)
        assert "upgraded (empty) ->" in out, out
        out = sh(steps.command("wxpipeline", "db", "current"), env)
        assert "(up to date)" in out, out
        backfill = steps.command("wxpipeline", "run")
        sh(with_option(with_option(backfill, "--from", d1.isoformat()), "--to", d2.isoformat()), env)
        timings["backfill (PostgreSQL)"] = time.monotonic() - t0
        # the production dagster.yaml the backfill generated, plus the test's queue polling (wxpipeline
        # leaves an edited file alone)
        config = Path(env["DAGSTER_HOME"]) / "dagster.yaml"
        assert config.read_text("utf-8") == DAGSTER_PG_YAML
        config.write_text(DAGSTER_PG_YAML + RUN_QUEUE, "utf-8")

        # the test reads the same instance the services use
        for name in ("WXPIPELINE_DAGSTER_PG_URL", "DAGSTER_HOME"):
            monkeypatch.setenv(name, env[name])
        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
        services: list[Service] = []
        try:
            port = free_port()
            services.append(Service("webserver", with_option(steps.command("dagster-webserver"), "-p", str(port)),
                                    env, ROOT, tmp_path))
            gql = GraphQL(port)
            wait_for("the webserver", gql.ready, TIMEOUT, services)
            repo = gql(REPOSITORIES)["repositoriesOrError"]
            assert repo["__typename"] == "RepositoryConnection", repo
            (node,) = repo["nodes"]
            assert {"nightly_audit"} <= {s["name"] for s in node["schedules"]}
            sensors = {s["name"]: s["minIntervalSeconds"] for s in node["sensors"]}
            assert sensors["exports_sensor"] == int(SENSOR_INTERVAL)  # the setting reached the code location
            where = {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"]}

            run_ids = []
            # the same day twice, queued before the daemon is up: dequeued together. `daily_audit` (the
            # nightly job: stage, then judge), as an operator re-launching the night would: the backfill of
            # D1..D2 stages of D3 only the tables its rules read there, so a bare `judge_day` of D3 would
            # find D3's other staged tables missing
            for _ in range(2):
                launched = gql(LAUNCH_RUN, p={
                    "selector": {**where, "jobName": "daily_audit"},
                    "executionMetadata": {"tags": [{"key": "dagster/partition", "value": d3.isoformat()}]},
                })["launchRun"]
                assert launched["__typename"] == "LaunchRunSuccess", launched
                assert launched["run"]["status"] == "QUEUED"
                run_ids.append(launched["run"]["runId"])

            # an operator stops and starts the schedule in the UI (running by default, it has no stored
            # state until then) ...
            schedule = {**where, "scheduleName": "nightly_audit"}
            state_id = gql(SCHEDULE_STATE, s=schedule)["scheduleOrError"]["scheduleState"]["id"]
            stopped = gql(STOP_SCHEDULE, id=state_id)["stopRunningSchedule"]
            assert stopped.get("scheduleState", {}).get("status") == "STOPPED", stopped
            started = gql(START_SCHEDULE, s=schedule)["startSchedule"]
            assert started.get("scheduleState", {}).get("status") == "RUNNING", started
            (state,) = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
                        if s.instigator_name == "nightly_audit"]
            # ... and the test moves its start to a minute before the last 02:00: the daemon finds that tick due
            instance.update_instigator_state(state.with_data(ScheduleInstigatorData(
                state.instigator_data.cron_schedule, start_timestamp=tick.timestamp() - 60)))
            timings["webserver up, runs queued"] = time.monotonic() - t0

            services.append(Service("daemon", steps.command("dagster-daemon"), env, ROOT, tmp_path))

            def sensor_cursor() -> dict:
                states = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
                          if s.instigator_name == "exports_sensor"]
                data = states[0].instigator_data if states else None
                return json.loads(data.cursor) if data is not None and data.cursor else {}

            def records(**filters):
                return instance.get_run_records(dg.RunsFilter(**filters))

            def quiet() -> bool:
                return not records(statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                             dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])

            def first_night_done():
                # (a test running across 02:00 Asia/Shanghai also sees the next night's tick)
                scheduled = records(tags={"dagster/schedule_name": "nightly_audit", "dagster/partition": d3.isoformat()})
                return scheduled if scheduled and quiet() and "manifest" in sensor_cursor() else None

            (scheduled,) = wait_for("the schedule's run, the two queued runs and the sensor's baseline",
                                    first_night_done, TIMEOUT, services)
            assert scheduled.dagster_run.job_name == "daily_audit"
            assert scheduled.dagster_run.tags["dagster/partition"] == d3.isoformat()
            same_day = records(run_ids=run_ids)
            assert overlapping(instance, same_day), describe_runs(instance, wall0)
            timings["schedule tick + same-day runs"] = time.monotonic() - t0

            # the bills arrive: the sensor stages the days they hold, then judges the days reading them
            delivered_at = datetime.now().astimezone()
            shutil.copytree(vendor / LATE, exports / LATE, dirs_exist_ok=True)
            late_files = {f"{LATE}/{p.name}" for p in (vendor / LATE).iterdir()}

            def sensor_batch_done():
                cursor = sensor_cursor()
                judged = records(job_name="judge_day", created_after=delivered_at)
                return (late_files <= set(cursor.get("manifest", {})) and not cursor.get("pending")
                        and judged and quiet())

            wait_for("the exports sensor's stage and judge runs", sensor_batch_done, TIMEOUT, services)
            # the webserver serves the runs to ops; every run succeeded
            runs = gql(RUNS)["runsOrError"]["results"]
            assert len(runs) == len(records())
            assert runs and {r["status"] for r in runs} == {"SUCCESS"}, describe_runs(instance, wall0)
            staged = records(job_name="stage_day", created_after=delivered_at)
            judged = records(job_name="judge_day", created_after=delivered_at)
            assert {d1.isoformat(), d2.isoformat(), d3.isoformat()} <= {r.dagster_run.tags["dagster/partition"]
                                                                         for r in staged}
            judged_days = {r.dagster_run.tags["dagster/partition"] for r in judged}
            assert {d1.isoformat(), d2.isoformat(), d3.isoformat()} <= judged_days
            assert all(LATE in r.dagster_run.tags.get("wxpipeline/cause", "") for r in judged)
            # days side by side through the queue (2 at a time), each run after the staging
            assert any(overlapping(instance, [a, b]) for a in judged for b in judged
                       if a.dagster_run.tags["dagster/partition"] != b.dagster_run.tags["dagster/partition"]), (
                describe_runs(instance, wall0))
            assert max(r.end_time for r in staged) <= min(r.start_time for r in judged)
            timings[f"sensor batch ({len(staged)} stage, {len(judged)} judge runs; {len(runs)} daemon/UI runs in all)"] = (
                time.monotonic() - t0)

        finally:
            for service in reversed(services):
                service.stop()
            instance.dispose()
        timings["services stopped"] = time.monotonic() - t0

        wait_for("the SQLite reference run", lambda: not reference.alive(), TIMEOUT)
        assert reference.proc.returncode == 0, reference.tail()
        reference_url = f"sqlite:///{tmp_path / 'ref' / 'findings.db'}"
        expected = findings(reference_url, d1, d3)
        assert expected and {f[2] for f in expected} >= {"PAY-01", "PAY-02"}  # the late bills were judged
        got = findings(findings_url, d1, d3)
        assert got == expected, (sorted(set(got) - set(expected))[:3], sorted(set(expected) - set(got))[:3])
        assert coverage(findings_url, d1, d3) == coverage(reference_url, d1, d3)
        events = assert_no_lost_updates(findings_url)
        # the bills' findings appeared when the sensor's runs re-judged the days, with the files as cause
        assert any(kind == "new" and LATE in (cause or "") for _fp, _day, kind, cause in events)
