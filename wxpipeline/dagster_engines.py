"""One SQLAlchemy engine per SQLite file of the Dagster instance, for the whole process.

Dagster's SQLite storages create a new engine for every connection they open (one or more per
event of a run: ~5 per event). The connection itself is cheap; the engine is not, and each new
engine starts with an empty compiled-statement cache, so every INSERT of every event is compiled
again: about a third of the event log's cost, and the event log is most of a small day's run.
Reusing the engine (still `NullPool`: a fresh connection each time, closed after its
transaction, as Dagster expects) keeps the compiled statements. Used by `wxpipeline run` and
`nightly` (cli_nightly.py), which execute dozens of runs in one process.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_INSTALLED: list[bool] = []


def reuse_sqlite_engines() -> None:
    """Patch Dagster's SQLite run, event-log and schedule storages to reuse one engine per
    connection string (idempotent)."""
    if _INSTALLED:
        return
    from dagster._core.storage import sql
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.schedules.sqlite import sqlite_schedule_storage

    engines: dict = {}
    original = sql.create_engine

    def create_engine(conn_string, *args, **kwargs):
        key = (conn_string, repr(args), repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        with _LOCK:
            engine = engines.get(key)
            if engine is None:
                engine = engines[key] = original(conn_string, *args, **kwargs)
            return engine

    for module in (sqlite_event_log, sqlite_run_storage, sqlite_schedule_storage):
        module.create_engine = create_engine
    _INSTALLED.append(True)
