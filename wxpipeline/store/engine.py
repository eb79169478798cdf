"""The findings store's engine: SQLite (default) or PostgreSQL (same code, URL only), its schema
migrated on first use; and `Database`, an engine + session without Dagster (CLI, tests)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from wxpipeline.store.concurrency import serialise_sqlite_writes


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    kwargs = {}
    if url.startswith("sqlite"):
        # Partitions may run in parallel processes; wait for the writer instead of failing.
        kwargs["connect_args"] = {"timeout": 60}
    engine = create_engine(url, **kwargs)
    serialise_sqlite_writes(engine)
    # schema changes are Alembic migrations (wxpipeline/migrations), run under the store's lock:
    # create_all would add missing tables but never a missing column
    from wxpipeline.migrations import upgrade

    upgrade(engine)
    return engine

def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class Database:
    """The findings store at `url`, for code that runs outside Dagster."""

    def __init__(self, url: str):
        self.database_url = url

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    def session(self) -> Session:
        return Session(self.engine)
