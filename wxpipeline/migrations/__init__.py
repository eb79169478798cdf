"""Schema migrations of the findings store (Alembic), shipped in the package.

`upgrade(engine)` brings any store to the newest revision: a fresh database gets every table, an
older one gets the columns added since, and a store `create_all` made before Alembic existed (tables
but no `alembic_version`) is first stamped with the revision its columns match. It runs under an
exclusive lock (a file lock beside a SQLite file, an advisory lock on PostgreSQL) so two processes
starting on the same store do not both migrate it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from wxpipeline.store.concurrency import file_lock

BASELINE = "0001_baseline"
_COVERAGE = "0002_coverage_and_cause"  # the newest schema create_all could have made (pre-Alembic)
_PG_LOCK = 4242001  # the advisory lock key the store's schema changes have always used


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The store's revision: None for an empty database or a pre-Alembic store."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _pre_alembic_revision(conn: Connection) -> str | None:
    """The revision a store made by create_all matches, or None if it has no tables yet."""
    insp = inspect(conn)
    tables = set(insp.get_table_names())
    if "alembic_version" in tables or "findings" not in tables:
        return None
    columns = {c["name"] for c in insp.get_columns("judgements")} if "judgements" in tables else set()
    return _COVERAGE if "coverage_status" in columns else BASELINE


def upgrade(engine: Engine) -> tuple[str | None, str, str | None]:
    """Migrate the store to head under the store's lock; returns (revision before, revision after,
    the revision a pre-Alembic store was stamped with or None)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
        with file_lock(f"{database}.init-lock"):
            return _upgrade_locked(engine)
    return _upgrade_locked(engine)


def _upgrade_locked(engine: Engine) -> tuple[str | None, str, str | None]:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
        before = MigrationContext.configure(conn).get_current_revision()
        cfg = config(conn)
        stamped = _pre_alembic_revision(conn) if before is None else None
        if stamped:
            command.stamp(cfg, stamped)
        if before != head():
            command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after, stamped
