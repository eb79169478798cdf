"""Findings-store migrations (Alembic): fresh stores, stores of the previous release, and stores
create_all made before Alembic, on SQLite and (when WXPIPELINE_TEST_POSTGRES_URL is set) PostgreSQL."""

from datetime import date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from wxpipeline import migrations
from wxpipeline.cli import main

from .scratch_postgres import scratch_database
from wxpipeline.store import cases as case_store



@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'findings.db'}"
        monkeypatch.setenv("WXPIPELINE_DATABASE_URL", url)
        yield url
        return
    with scratch_database("wx_mig") as url:
        monkeypatch.setenv("WXPIPELINE_DATABASE_URL", url)
        yield url


def _diffs(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    return diffs


def _make_baseline_store(url: str, keep_version: bool = True) -> None:
    """The previous release's schema, with rows a company would have: findings, a false-positive
    case with its evidence hash, its events, a judgement and a waiver."""
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
        at = datetime(2026, 10, 3, 2, 0)
        conn.execute(text(
            "INSERT INTO findings VALUES ('f1','fp1','PAY-01','payments',:d,'emp:E1','E1',NULL,'high',"
            "'转账超限 ****1234','{\"amount\": 60000}','2026.1','run-a',:at)"), {"d": date(2026, 10, 2), "at": at})
        conn.execute(text(
            "INSERT INTO cases VALUES ('fp1','PAY-01','emp:E1','payments',:d,:d,'false_positive','王芳',"
            "'approved transfer','evhash1',:at,'王芳')"), {"d": date(2026, 10, 2), "at": at})
        conn.execute(text(
            "INSERT INTO case_events (fingerprint, clause_id, subject_id, partition_date, event, old_status,"
            " new_status, who, at, run_id, note) VALUES ('fp1','PAY-01','emp:E1',:d,'status','open',"
            "'false_positive','王芳',:at,NULL,'approved transfer')"), {"d": date(2026, 10, 2), "at": at})
        conn.execute(text(
            "INSERT INTO judgements (run_id, domain, partition_date, policy_version, policy_hash, findings, new,"
            " resolved, kept, at) VALUES ('run-a','payments',:d,'2026.1','h1',1,1,0,0,:at)"),
            {"d": date(2026, 10, 2), "at": at})
        conn.execute(text(
            "INSERT INTO waivers (fingerprint, reason, approver, expires_on, created_at) VALUES"
            " ('fp9','pilot','李雷',:e,:at)"), {"e": date(2026, 12, 31), "at": at})
        if not keep_version:  # what create_all of the old tables left: no alembic_version
            conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


def _assert_rows_kept(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        case = conn.execute(text("SELECT status, owner, note, status_evidence_hash, updated_by FROM cases")).all()
        assert [tuple(r) for r in case] == [("false_positive", "王芳", "approved transfer", "evhash1", "王芳")]
        finding = conn.execute(text("SELECT finding_id, summary, evidence FROM findings")).all()
        assert [tuple(r) for r in finding] == [("f1", "转账超限 ****1234", '{"amount": 60000}')]
        events = conn.execute(text("SELECT event, new_status, note, cause FROM case_events")).all()
        assert [tuple(r) for r in events] == [("status", "false_positive", "approved transfer", None)]
        judged = conn.execute(text("SELECT run_id, findings, coverage_status, inputs, cause FROM judgements")).all()
        assert [tuple(r) for r in judged] == [("run-a", 1, None, None, None)]
        assert conn.execute(text("SELECT count(*) FROM waivers")).scalar() == 1
    engine.dispose()


def test_fresh_store_upgrades_to_head_and_matches_the_tables(store_url, capsys):
    assert main(["db", "upgrade"]) == 0
    assert f"-> {migrations.head()}" in capsys.readouterr().out
    assert _diffs(store_url) == []
    assert main(["db", "current"]) == 0
    assert f"{migrations.head()} (up to date)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at" in capsys.readouterr().out


def test_previous_release_store_keeps_every_row_and_its_triage(store_url, capsys):
    _make_baseline_store(store_url)
    assert main(["db", "current"]) == 0
    assert f"{migrations.BASELINE} (behind head" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"{migrations.BASELINE} -> {migrations.head()}" in capsys.readouterr().out
    _assert_rows_kept(store_url)
    assert _diffs(store_url) == []
    # the pipeline's own store reads the triage back through the new columns
    from wxpipeline.resources.warehouse import Warehouse
    from wxpipeline.store.engine import engine_for as _engine

    _engine.cache_clear()
    cases = case_store.list_cases(Warehouse(database_url=store_url), status="false_positive")
    assert [c["fingerprint"] for c in cases] == ["fp1"]


def test_pre_alembic_store_is_stamped_then_upgraded_when_the_pipeline_opens_it(store_url):
    _make_baseline_store(store_url, keep_version=False)
    from wxpipeline.store.engine import engine_for as _engine

    _engine.cache_clear()
    _engine(store_url)  # what every run does first: stamps 0001_baseline, then upgrades
    assert migrations.current(create_engine(store_url)) == migrations.head()
    _assert_rows_kept(store_url)
    assert _diffs(store_url) == []


def test_pre_alembic_store_of_the_current_tables_is_stamped_at_head(store_url):
    engine = create_engine(store_url)
    SQLModel.metadata.create_all(engine)
    assert "alembic_version" not in inspect(engine).get_table_names()
    assert migrations.upgrade(engine) == (None, migrations.head(), migrations.head())
    assert _diffs(store_url) == []
    engine.dispose()


def test_db_current_on_a_missing_sqlite_store_creates_nothing(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("WXPIPELINE_HOME", str(home))
    monkeypatch.delenv("WXPIPELINE_DATABASE_URL", raising=False)
    assert main(["db", "current"]) == 1
    assert f"no findings store at {home / 'findings.db'}" in capsys.readouterr().err
    assert not home.exists()  # neither the file nor its folder
    assert main(["db", "upgrade"]) == 0 and main(["db", "current"]) == 0
    assert "(up to date)" in capsys.readouterr().out
