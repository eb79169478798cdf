"""Overlapping runs on one home: the nightly sensor and a person's backfill may judge the same
or different days at once, and two processes may start on a fresh home together.

* `file_lock`: an exclusive advisory lock (fcntl) on a file, for one-time initialisation
  (creating the findings tables, Dagster's SQLite storages) that is not safe to race;
* `serialise_sqlite_writes`: SQLite transactions begin IMMEDIATE, so two writers queue on the
  busy timeout instead of failing when both upgrade a read lock ("database is locked");
* `domain_lock`: on PostgreSQL, an advisory transaction lock per domain, so two judgements of
  one domain (which share cases) take turns;
* `insert_ignoring_duplicates`: INSERT .. ON CONFLICT DO NOTHING on SQLite and PostgreSQL, for
  quarantine rows two processes may both find new.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine


@contextlib.contextmanager
def file_lock(path: Path | str):
    """Hold an exclusive lock on `path` (created 0600 if missing) for the block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def serialise_sqlite_writes(engine: Engine) -> None:
    """pysqlite's own BEGIN handling is replaced by an explicit BEGIN IMMEDIATE (SQLAlchemy's
    documented recipe), so a write transaction takes the write lock when it starts."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def domain_lock(session, domain: str) -> None:
    """PostgreSQL: serialise judgements of one domain until the transaction ends (SQLite is
    already serialised by BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"wxpipeline:{domain}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def insert_ignoring_duplicates(session, table, rows: list[dict]) -> int:
    """Insert rows, skipping those that violate a unique constraint; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(dialect)
    result = session.execute(insert(table).on_conflict_do_nothing(), rows)
    return max(result.rowcount or 0, 0)
