"""`wxpipeline run`/`nightly` keep the Dagster SQLite connections open and copy each run's event-log
database from a template (dagster_engines.py): what another process reads must not change."""

import sqlite3

import dagster as dg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from wxpipeline import dagster_engines
from wxpipeline.settings import relax_sqlite_wal_fsync


@dg.asset
def tiny() -> int:
    return 1


@dg.asset_check(asset=tiny, blocking=True)
def tiny_positive(tiny: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=tiny > 0)


JOB = dg.define_asset_job("tiny_job", selection=[tiny])
DEFS = dg.Definitions(assets=[tiny], asset_checks=[tiny_positive], jobs=[JOB])


def _events_on_disk(instance: dg.DagsterInstance, run_id: str) -> int:
    """What the webserver or the daemon, in another process, sees of a run: a plain connection."""
    path = instance.event_log_storage.path_for_shard(run_id)
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from event_logs").fetchone()[0]


def test_kept_connections_write_what_another_reader_sees(tmp_path):
    relax_sqlite_wal_fsync()
    dagster_engines.reuse_sqlite_engines()
    opened = []
    count = lambda *_: opened.append(1)  # noqa: E731
    try:
        # opening (here: creating) the instance stays as Dagster does it; then runs keep connections
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance, dagster_engines.kept_connections():
            event.listen(Pool, "connect", count)
            job = DEFS.resolve_job_def("tiny_job")
            runs = [job.execute_in_process(instance=instance) for _ in range(4)]
            assert all(r.success for r in runs)
            for r in runs:
                logs = instance.all_logs(r.run_id)
                assert len(logs) > 10 and _events_on_disk(instance, r.run_id) == len(logs)
                path = instance.event_log_storage.path_for_shard(r.run_id)
                with sqlite3.connect(path) as conn:  # the copied template: WAL, Dagster's revision stamped
                    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
                    assert conn.execute("select count(*) from alembic_version").fetchone()[0] == 1
            # the check's result reached the cross-run index, as the UI reads it
            evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                [dg.AssetCheckKey(dg.AssetKey("tiny"), "tiny_positive")])
            assert evaluation[dg.AssetCheckKey(dg.AssetKey("tiny"), "tiny_positive")].run_id == runs[-1].run_id
            # a few connections per run (its own event log, a watcher), not several per event
            assert len(opened) < 10 * len(runs), len(opened)  # NullPool: ~5 per event, ~100 a run here
            assert len([k for k in dagster_engines._RUN_SHARDS]) <= dagster_engines.KEEP_RUN_SHARDS

            instance.event_log_storage.wipe()  # deletes the per-run files: kept connections closed first
            assert not dagster_engines._RUN_SHARDS
            after = job.execute_in_process(instance=instance)
            assert after.success and _events_on_disk(instance, after.run_id) == len(instance.all_logs(after.run_id))
        assert not [key for key in dagster_engines._ENGINES if key[0]]  # all closed at the end
    finally:
        event.remove(Pool, "connect", count)



def test_schema_answers_kept_only_while_connections_are_and_only_positive(tmp_path):
    dagster_engines.reuse_sqlite_engines()
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        check_key = dg.AssetCheckKey(dg.AssetKey("tiny"), "tiny_positive")
        with dagster_engines.kept_connections():
            job = DEFS.resolve_job_def("tiny_job")
            assert job.execute_in_process(instance=instance).success
            # the run's check and asset events asked: the answers are kept
            assert (storage._base_dir, "table", "asset_check_executions") in dagster_engines._SCHEMA
            assert (storage._base_dir, "asset_keys column", "last_materialization_timestamp") in dagster_engines._SCHEMA
            assert storage.has_table("asset_check_executions") and storage.has_asset_key_index_cols()
            # a missing table is asked again every time, never kept
            assert not storage.has_table("no_such_table") and not storage.has_table("no_such_table")
            assert (storage._base_dir, "table", "no_such_table") not in dagster_engines._SCHEMA
            second = job.execute_in_process(instance=instance)
            assert second.success  # its check result indexed as before, with the kept answers
            assert storage.get_latest_asset_check_execution_by_key([check_key])[check_key].run_id == second.run_id
        assert not dagster_engines._SCHEMA  # forgotten with the kept connections
        assert storage.has_table("asset_check_executions")  # asked of the database again
        assert not dagster_engines._SCHEMA  # and not kept outside `kept_connections`


def test_a_completed_index_migration_is_asked_once_while_connections_are_kept(tmp_path):
    dagster_engines.reuse_sqlite_engines()
    asked = []
    count = lambda conn, cursor, statement, *_: asked.append(1) if "secondary_indexes" in statement else None  # noqa: E731
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        with dagster_engines.kept_connections():
            assert DEFS.resolve_job_def("tiny_job").execute_in_process(instance=instance).success
            assert (storage._base_dir, "secondary index", "asset_key_index_columns") in dagster_engines._SCHEMA
            event.listen(Engine, "before_cursor_execute", count)
            try:
                assert storage.has_secondary_index("asset_key_index_columns")  # kept: not asked
                assert not asked
                assert not storage.has_secondary_index("no_such_migration")  # a missing one: asked each time
                assert not storage.has_secondary_index("no_such_migration") and len(asked) == 2
            finally:
                event.remove(Engine, "before_cursor_execute", count)
        assert not dagster_engines._SCHEMA  # forgotten with the kept connections
        assert storage.has_secondary_index("asset_key_index_columns")  # asked of the database again


def _rows(path: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("select dagster_event_type, step_key, asset_key, partition, length(event) > 0 "
                            "from event_logs order by id").fetchall()


def test_events_stored_as_parameters_are_the_rows_dagster_writes(tmp_path):
    dagster_engines.reuse_sqlite_engines()
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage, job = instance.event_log_storage, DEFS.resolve_job_def("tiny_job")
        plain = job.execute_in_process(instance=instance)  # Dagster's own store_event
        with dagster_engines.kept_connections():
            kept = job.execute_in_process(instance=instance)
        assert plain.success and kept.success
        assert _rows(storage.path_for_shard(kept.run_id)) == _rows(storage.path_for_shard(plain.run_id))
        # and mirrored in the index alike: asset, check and run-status events
        index = _rows(storage.path_for_shard("index"))
        with sqlite3.connect(storage.path_for_shard("index")) as conn:
            per_run = dict(conn.execute("select run_id, count(*) from event_logs group by run_id").fetchall())
        assert per_run[kept.run_id] == per_run[plain.run_id] >= 4 and len(index) == 2 * per_run[kept.run_id]


def test_a_check_event_is_serialized_once_for_its_row_and_its_check_execution(tmp_path, monkeypatch):
    """Dagster serializes a check's planned and evaluation events again for the check execution's
    row; with kept connections the text stored with the event is reused: the same rows."""
    from dagster._core.events import ASSET_CHECK_EVENTS
    from dagster._core.events.log import EventLogEntry
    from dagster_shared.serdes import serdes

    dagster_engines.reuse_sqlite_engines()
    serialized = []
    transform = serdes._transform_for_serialization

    def counted(val, *args, **kwargs):
        if isinstance(val, EventLogEntry) and val.dagster_event_type in ASSET_CHECK_EVENTS:
            serialized.append(val)  # held: no other event can take its id
        return transform(val, *args, **kwargs)

    monkeypatch.setattr(serdes, "_transform_for_serialization", counted)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        job = DEFS.resolve_job_def("tiny_job")
        assert job.execute_in_process(instance=instance).success  # Dagster's own store_event
        plain, serialized[:] = list(serialized), []
        with dagster_engines.kept_connections():
            assert job.execute_in_process(instance=instance).success
        with sqlite3.connect(instance.event_log_storage.path_for_shard("index")) as conn:
            rows = conn.execute("select c.evaluation_event = e.event, c.execution_status from asset_check_executions c "
                                "join event_logs e on e.id = c.evaluation_event_storage_id order by c.id").fetchall()
    assert len(plain) == 4 and len({id(e) for e in plain}) == 2  # planned and evaluation events, each twice
    assert len(serialized) == 2 and len({id(e) for e in serialized}) == 2  # each once
    assert rows == [(1, "SUCCEEDED"), (1, "SUCCEEDED")]  # each run's row holds its evaluation event's text


def test_a_kept_connection_is_reused_and_holds_no_transaction_between_uses(tmp_path):
    dagster_engines.reuse_sqlite_engines()
    relax_sqlite_wal_fsync()
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.run_storage
        with dagster_engines.kept_connections():
            with storage.connect() as first:
                first.exec_driver_sql("create table probe (x integer)")
            # another process writes meanwhile: no lock held, and the next transaction sees it
            with sqlite3.connect(str(tmp_path / "history" / "runs.db"), timeout=0) as other:
                other.execute("insert into probe values (1)")
            with storage.connect() as second:
                assert second is first  # no pool checkout: the same Connection
                assert second.exec_driver_sql("select count(*) from probe").scalar() == 1
            try:  # a transaction left by an error is rolled back, not kept open
                with storage.connect() as third:
                    third.exec_driver_sql("insert into probe values (2)")
                    raise RuntimeError
            except RuntimeError:
                pass
            with sqlite3.connect(str(tmp_path / "history" / "runs.db"), timeout=0) as other:
                assert other.execute("select count(*) from probe").fetchone()[0] == 1
                other.execute("insert into probe values (3)")  # would fail "locked" under an open write
        assert first.closed  # closed with the kept connections


DAYS = dg.DailyPartitionsDefinition(start_date="2026-10-01")


@dg.asset(partitions_def=DAYS, check_specs=[dg.AssetCheckSpec("daily_positive", asset="daily_tiny")])
def daily_tiny():
    yield dg.Output(1)
    yield dg.AssetCheckResult(passed=True)  # evaluated in the step that materialized the partition


DAILY_DEFS = dg.Definitions(assets=[daily_tiny], jobs=[dg.define_asset_job("daily_job", selection=[daily_tiny])])


def _target(result) -> tuple:
    [ev] = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    t = ev.target_materialization_data
    return t.storage_id, t.run_id, t.timestamp


def test_a_check_names_the_materialization_its_step_stored_as_the_index_does(tmp_path, monkeypatch):
    from dagster._core.storage.event_log.base import AssetRecordsFilter

    dagster_engines.reuse_sqlite_engines()
    job = DAILY_DEFS.resolve_job_def("daily_job")
    asked = []
    fetch = dg.DagsterInstance.fetch_materializations
    monkeypatch.setattr(dg.DagsterInstance, "fetch_materializations",
                        lambda self, *a, **k: asked.append(1) or fetch(self, *a, **k))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        plain = job.execute_in_process(instance=instance, partition_key="2026-10-02")  # Dagster's lookup
        assert asked
        asked.clear()
        with dagster_engines.kept_connections():
            kept = [job.execute_in_process(instance=instance, partition_key=day)
                    for day in ("2026-10-02", "2026-10-02")]
            assert not asked  # no index query for the check's target
        assert not dagster_engines._MATERIALIZED  # forgotten with the kept connections
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=dg.AssetKey("daily_tiny")), limit=10, ascending=True).records
        stored = {r.event_log_entry.run_id: (r.storage_id, r.event_log_entry.run_id, r.timestamp) for r in records}
        for r in [plain, *kept]:  # each names its own materialization, as the index's latest was then
            assert r.success and _target(r) == stored[r.run_id]
