"""The production dagster.yaml: selected by WXPIPELINE_DAGSTER_PG_URL alone (README "Production")."""

import os
import uuid

import pytest
import yaml
from sqlalchemy import create_engine, text

from wxpipeline import settings as wx_settings

PG = os.environ.get("WXPIPELINE_TEST_POSTGRES_URL")


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("WXPIPELINE_DAGSTER_PG_URL", raising=False)
    return tmp_path / "home" / "dagster"


def test_environment_selects_the_instance_storage(home, monkeypatch):
    wx_settings.ensure_dagster_home()
    sqlite_cfg = yaml.safe_load((home / "dagster.yaml").read_text())
    assert "storage" not in sqlite_cfg and sqlite_cfg["concurrency"]["runs"]["max_concurrent_runs"] == 2

    monkeypatch.setenv("WXPIPELINE_DAGSTER_PG_URL", "postgresql+psycopg2://u:secret@db/dagster")
    wx_settings.ensure_dagster_home()
    text_written = (home / "dagster.yaml").read_text()
    assert "secret" not in text_written  # the URL stays in the environment
    cfg = yaml.safe_load(text_written)
    assert cfg["storage"]["postgres"]["postgres_url"] == {"env": "WXPIPELINE_DAGSTER_PG_URL"}
    assert cfg["concurrency"]["runs"]["max_concurrent_runs"] == 2
    assert cfg["run_monitoring"]["enabled"] is True and cfg["telemetry"]["enabled"] is False


def test_hand_edited_dagster_yaml_is_left_alone(home, monkeypatch):
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("WXPIPELINE_DAGSTER_PG_URL", "postgresql+psycopg2://u@db/dagster")
    wx_settings.ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


@pytest.mark.skipif(not PG, reason="WXPIPELINE_TEST_POSTGRES_URL not set (no PostgreSQL server)")
def test_production_instance_opens_on_postgresql(home, monkeypatch):
    pytest.importorskip("dagster_postgres", reason="dagster-postgres not installed (pip install .[postgres])")
    db = f"wx_dagster_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {db}"))
    monkeypatch.setenv("WXPIPELINE_DAGSTER_PG_URL", PG.rsplit("/", 1)[0] + f"/{db}")
    try:
        instance = wx_settings.open_dagster_instance()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2
        instance.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        admin.dispose()


def test_sensor_interval_and_run_executor_come_from_the_environment(monkeypatch):
    from wxpipeline.definitions import build_defs

    for var in ("WXPIPELINE_EXPORTS_SENSOR_INTERVAL", "WXPIPELINE_RUN_EXECUTOR"):
        monkeypatch.delenv(var, raising=False)
    defs = build_defs()
    assert defs.get_sensor_def("exports_sensor").minimum_interval_seconds == 300
    assert defs.resolve_job_def("judge_day").executor_def.name == "in_process"

    monkeypatch.setenv("WXPIPELINE_EXPORTS_SENSOR_INTERVAL", "5")
    monkeypatch.setenv("WXPIPELINE_RUN_EXECUTOR", "multiprocess")
    defs = build_defs()
    assert defs.get_sensor_def("exports_sensor").minimum_interval_seconds == 5
    assert defs.resolve_job_def("judge_day").executor_def.name == "multiprocess"

    for var, bad in (("WXPIPELINE_EXPORTS_SENSOR_INTERVAL", "5m"), ("WXPIPELINE_EXPORTS_SENSOR_INTERVAL", "0"),
                     ("WXPIPELINE_RUN_EXECUTOR", "celery")):
        monkeypatch.setenv(var, bad)
        with pytest.raises(ValueError, match=var):
            build_defs()
        monkeypatch.delenv(var)
