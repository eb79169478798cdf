"""One SQLAlchemy engine per SQLite file of the Dagster instance, for the whole process, keeping
its connections open.

Dagster's SQLite storages create a new engine with `NullPool` for every connection they open
(one or more per event of a run: ~5 per event, ~500 for a small day's staging run) and the event
log disposes of it after each transaction. A new engine starts with an empty compiled-statement
cache (every INSERT of every event compiled again), and `NullPool` opens a new sqlite3 connection
per transaction (open, PRAGMAs, close: ~0.6 ms each, ~0.3 s a run). Here each file keeps one
engine whose pool keeps its connections: a transaction takes an idle connection from the pool and
gives it back (rolled back if unfinished) when done.

Why this stays correct with the daemon and the webserver reading and writing the same files: the
Dagster databases are in WAL mode, where an idle connection holds no lock and each new
transaction sees everything committed before it, by any process; a connection given back to the
pool has no open transaction (SQLAlchemy resets it). What an open connection does change: a file
deleted behind it would be written on the deleted inode, so `wipe` (the only Dagster SQLite call
that deletes database files) closes every kept connection first; and the databases of single
runs (one file per run) keep theirs only for the last few runs.

A new run's event-log database is not built statement by statement (21 DDL statements, each
synced to disk before the file is in WAL mode, and Alembic loading its ~90 migration scripts to
stamp the revision: ~85 ms a run) but copied from an empty one Dagster built once per process the
same way (`_initdb`): same tables, indexes, WAL mode and stamped revision.

While connections are kept, a table or `asset_keys` column found in the index database, or a
data migration found completed there, is not asked for again (`dagster_remembered.remember_schema`): the event log
asks for each asset and check event.

Used only by `wxpipeline run` and `nightly` (cli_nightly.py), which execute dozens of runs in one
process, and only while they execute them (`kept_connections`): opening or creating the instance
is left to Dagster as it is. The daemon and the webserver keep Dagster's own connection handling.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager

_LOCK = threading.Lock()
_INSTALLED: list[bool] = []
_ENGINES: dict = {}  # (pooled?, conn string, args) -> engine
_KEEPING: list[bool] = []  # inside `kept_connections()`: pooled engines for the database files
_RUN_SHARDS: OrderedDict = OrderedDict()  # key of a per-run event-log engine -> None, oldest first
# per-run event-log databases whose connections stay open: the run being executed and its predecessor
KEEP_RUN_SHARDS = 2
# the instance-wide databases: every other *.db file is one run's event log
_SHARED_FILES = {"index.db", "runs.db", "schedules.db"}
# (event-log directory, table or asset-key column) found in the index database while connections
# are kept: an event's write asks again for each asset or check event (see `dagster_remembered.remember_schema`)
_SCHEMA: set[tuple] = set()
# (event-log directory, asset key, partition) -> (index storage id, run id, timestamp) of the last
# materialization this process stored there while connections are kept (see `dagster_remembered.remember_materializations`)
_MATERIALIZED: dict[tuple, tuple] = {}
_SERIALIZED = threading.local()  # .event: (the event this thread stores, its text)


def _sqlite_file(conn_string) -> str | None:
    text = str(conn_string)
    if not text.startswith("sqlite:///") or "mode=memory" in text or text.endswith(":memory:"):
        return None
    return text[len("sqlite:///"):]


def _close(engine) -> None:
    """Really close the engine's idle connections (the instance's own `dispose` is a no-op)."""
    keeper = getattr(engine, "_wx_keeper", None)
    if keeper is not None:
        keeper.close()  # its threads' idle Connections back to the pool first
    type(engine).dispose(engine)


class _Keeper:
    """A pooled engine's idle SQLAlchemy Connection per thread, reused by that thread's next
    `engine.connect()`: no pool checkout and return (the pool's proxy, its checkout and checkin
    events, the reset) per transaction. Dagster opens a connection for each transaction of each
    event, ~5,000 in a one-day run, and ~0.15 ms of each went to that round trip. A Connection
    is given back only as the pool would get it: its transaction rolled back if unfinished, not
    invalidated, with the engine's execution options; otherwise it is closed as before. Between
    transactions it holds no transaction (WAL: no lock, and the next one sees every commit)."""

    def __init__(self, engine):
        self.engine = engine
        self.idle: dict[int, object] = {}
        self.lock = threading.Lock()
        self.closed = False

    def connect(self):
        with self.lock:
            conn = self.idle.pop(threading.get_ident(), None)
        return conn if conn is not None else _connection_class()(self.engine)

    def give_back(self, conn) -> bool:
        """True if kept for the thread's next transaction (else the caller closes it)."""
        if conn._transaction is not None:
            conn._transaction.close()  # rolls back, as `Connection.close` does
        if conn.invalidated or conn.closed or conn._execution_options != self.engine._execution_options:
            return False
        with self.lock:
            tid = threading.get_ident()
            if self.closed or tid in self.idle:
                return False
            self.idle[tid] = conn
        return True

    def close(self) -> None:
        with self.lock:
            self.closed, conns = True, list(self.idle.values())
            self.idle.clear()
        for conn in conns:
            conn.close_for_good()


_CONNECTION: list = []


def _connection_class():
    """`sqlalchemy.engine.Connection` whose `close` gives it back to its engine's `_Keeper`."""
    if _CONNECTION:
        return _CONNECTION[0]
    from sqlalchemy.engine import Connection

    class KeptConnection(Connection):
        def close(self) -> None:
            keeper = getattr(self.engine, "_wx_keeper", None)
            if keeper is None or not keeper.give_back(self):
                Connection.close(self)

        def close_for_good(self) -> None:
            Connection.close(self)

    _CONNECTION[:] = [KeptConnection]
    return KeptConnection


def close_kept_connections() -> None:
    """Close every connection kept open (engines in use stay usable and reopen on demand)."""
    with _LOCK:
        engines = [engine for key, engine in _ENGINES.items() if key[0]]
        for key in [key for key in _ENGINES if key[0]]:
            del _ENGINES[key]
        _RUN_SHARDS.clear()
        _SCHEMA.clear()
        _MATERIALIZED.clear()
    for engine in engines:
        _close(engine)


@contextmanager
def kept_connections():
    """Keep the Dagster SQLite connections open while executing runs (after the instance and its
    databases were opened or created, which stays as Dagster does it); all closed at the end."""
    _KEEPING.append(True)
    try:
        yield
    finally:
        _KEEPING.pop()
        if not _KEEPING:
            close_kept_connections()


_TEMPLATE: list[bytes] = []  # an empty run event-log database, built once per process


def _template(initdb, storage) -> bytes:
    """An empty per-run event-log database as Dagster's own `_initdb` builds it, checkpointed
    into one file (no WAL beside it)."""
    import sqlite3
    import tempfile

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    with _LOCK:
        if _TEMPLATE:
            return _TEMPLATE[0]
    with tempfile.TemporaryDirectory(prefix="wxpipeline-runlog-") as tmp:
        file = os.path.join(tmp, "template.db")
        engine = create_engine(f"sqlite:///{file}", poolclass=NullPool)
        initdb(storage, engine)
        engine.dispose()
        conn = sqlite3.connect(file)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        data = open(file, "rb").read()  # noqa: SIM115
    if data[18:20] != b"\x02\x02":  # file format 2/2: the database is in WAL mode
        raise RuntimeError("template event-log database is not in WAL mode")
    with _LOCK:
        _TEMPLATE[:] = [data]
    return data


def _copy_template(initdb, storage, file: str) -> bool:
    """Create a run's event-log database as a copy of the template; False if the file appeared
    meanwhile (then Dagster's own initialisation, which tolerates a concurrent one, runs)."""
    data = _template(initdb, storage)
    tmp = f"{file}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:  # created with the process umask, like SQLite's own files
        f.write(data)
    try:
        os.link(tmp, file)  # never over a file another process created meanwhile
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def reuse_sqlite_engines() -> None:
    """Patch Dagster's SQLite run, event-log and schedule storages to reuse one engine per
    connection string, with a connection pool for the database files (idempotent)."""
    if _INSTALLED:
        return
    from dagster._core.storage import sql
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.schedules.sqlite import sqlite_schedule_storage
    from sqlalchemy.pool import NullPool, QueuePool

    original = sql.create_engine

    def create_engine(conn_string, *args, **kwargs):
        file = _sqlite_file(conn_string)
        pooled = bool(_KEEPING) and bool(file) and kwargs.get("poolclass") is NullPool
        key = (pooled, str(conn_string), repr(args), repr(sorted(kwargs.items(), key=lambda kv: kv[0])))
        evicted = []
        with _LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                if pooled:
                    # one connection per thread at a time is what Dagster uses; a second thread
                    # (a watcher) gets its own, closed when given back beyond pool_size
                    connect_args = {**kwargs.get("connect_args", {}), "check_same_thread": False}
                    engine = original(conn_string, *args, **{**kwargs, "poolclass": QueuePool, "pool_size": 1,
                                                             "max_overflow": 8, "connect_args": connect_args})
                    # the event log disposes of its engine after every transaction: keep the pool
                    engine.dispose = lambda close=True: None
                    # and each thread's Connection between its transactions
                    engine._wx_keeper = _Keeper(engine)
                    engine.connect = engine._wx_keeper.connect
                    if os.path.basename(file) not in _SHARED_FILES:
                        _RUN_SHARDS[key] = None
                        while len(_RUN_SHARDS) > KEEP_RUN_SHARDS:
                            old, _ = _RUN_SHARDS.popitem(last=False)
                            evicted.append(_ENGINES.pop(old))
                else:
                    engine = original(conn_string, *args, **kwargs)
                _ENGINES[key] = engine
        for old_engine in evicted:  # a run executed before the last ones: its file stays closed
            _close(old_engine)
        return engine

    for module in (sqlite_event_log, sqlite_run_storage, sqlite_schedule_storage):
        module.create_engine = create_engine

    storage = sqlite_event_log.SqliteEventLogStorage
    initdb = storage._initdb

    def initdb_from_template(self, engine, for_index_shard=False) -> None:
        file = _sqlite_file(engine.url)
        if for_index_shard or not file or os.path.exists(file) or not _copy_template(initdb, self, file):
            initdb(self, engine, for_index_shard=for_index_shard)

    storage._initdb = initdb_from_template
    wipe = storage.wipe

    def wipe_closing_connections(self) -> None:
        close_kept_connections()  # wipe deletes the per-run files: no connection may outlive them
        wipe(self)

    storage.wipe = wipe_closing_connections
    storage.store_event = _store_event_with_parameters(storage.store_event)
    from wxpipeline.dagster_remembered import remember_materializations, remember_schema

    remember_schema(storage)
    remember_materializations()
    _INSTALLED.append(True)


def _store_event_with_parameters(store_event):
    """Dagster's `SqliteEventLogStorage.store_event` (dagster 1.13.27, pinned), the event's row
    inserted as parameters of one constant INSERT instead of a new `insert().values(row)`: the
    same row, columns and SQL, without SQLAlchemy building, cache-keying and coercing a new
    statement of seven literal values for each of the ~2,800 inserts of a one-day run (the event
    itself, then its copy in the index for asset, check and run-status events): ~0.33 -> ~0.11
    ms an insert, measured. Only while connections are kept (`kept_connections`); else Dagster's own.

    And the event is serialized once: a check's events were again for their check execution's row
    (the same text: the event is immutable; only the object this thread stores takes it)."""
    from dagster._core.events import (ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
                                      DagsterEventType)
    from dagster._core.errors import DagsterInvariantViolationError
    from dagster._core.storage.event_log import sql_event_log
    from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

    insert = SqlEventLogStorageTable.insert()
    serialize = sql_event_log.serialize_value

    def serialize_value(val, *args, **kwargs):
        kept = getattr(_SERIALIZED, "event", None)
        if kept is not None and kept[0] is val and not args and not kwargs:
            return kept[1]
        return serialize(val, *args, **kwargs)

    sql_event_log.serialize_value = serialize_value  # as `store_asset_check_event` finds it

    def store_event_with_parameters(self, event) -> None:
        if not _KEEPING:
            return store_event(self, event)
        row = self._event_to_row(event)
        # held until the next event (a reference: no other object can take its place)
        _SERIALIZED.event = (event, row["event"])
        with self.run_connection(event.run_id) as conn:
            conn.execute(insert, row)
        kind = event.dagster_event_type if event.is_dagster_event else None
        if kind in ASSET_EVENTS:
            with self.index_transaction() as conn:  # mirrored in the cross-run index database
                with conn.execute(insert, row) as result:
                    event_id = result.inserted_primary_key[0]
                if event_id is None:
                    raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")
                self._store_asset_event_tags(conn, [event], [event_id])
                self._store_asset_event(conn, event, event_id)
            if kind == DagsterEventType.ASSET_MATERIALIZATION and getattr(self, "_base_dir", None):
                dagster_event = event.dagster_event
                _MATERIALIZED[(self._base_dir, dagster_event.asset_key, dagster_event.partition)] = (
                    event_id, event.run_id, event.timestamp)
        if kind in ASSET_CHECK_EVENTS:
            with self.index_connection() as conn, conn.execute(insert, row) as result:
                event_id = result.inserted_primary_key[0]
            self.store_asset_check_event(event, event_id)
        if kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS:  # run status changes mirrored in the index
            with self.index_connection() as conn:
                conn.execute(insert, row)

    return store_event_with_parameters
