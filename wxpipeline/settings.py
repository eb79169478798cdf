"""Every environment variable wxpipeline reads, in one place, with its default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

# Every environment variable, for `--help` and the README (name, what it sets).
ENVIRONMENT = (
    ("WXPIPELINE_HOME", "data folder: staged tables, findings.db, reports (default ./.wxpipeline)"),
    ("WXPIPELINE_EXPORTS_DIR", "the exports folder (default WXPIPELINE_HOME/exports)"),
    ("WXPIPELINE_DATABASE_URL", "findings store (default sqlite:///WXPIPELINE_HOME/findings.db)"),
    ("WXPIPELINE_DAGSTER_PG_URL", "Dagster instance storage in PostgreSQL (production; default SQLite in DAGSTER_HOME)"),
    ("WXPIPELINE_POLICY", "a policy file or a folder of versions (default: the packaged policy)"),
    ("WXPIPELINE_PARTITIONS_START", "first daily partition (default: WXPIPELINE_HOME/partitions_start)"),
    ("WXPIPELINE_WECOM_WEBHOOK", "WeCom group robot: daily summary, failure alerts (off when unset)"),
    ("WXPIPELINE_EXPORTS_SENSOR_INTERVAL", "seconds between two looks of exports_sensor at the folder (default 300)"),
    ("WXPIPELINE_RUN_EXECUTOR", "in_process (default: a run's steps in one process) or multiprocess (one per step)"),
    ("DAGSTER_HOME", "Dagster instance (default WXPIPELINE_HOME/dagster)"),
)
PARTITIONS_START_FILE = "partitions_start"


@dataclass(frozen=True)
class Settings:
    home: Path
    exports_dir: Path
    database_url: str
    policy: str
    dagster_home: Path
    partitions_start: str
    wecom_webhook: str

    @property
    def staged_dir(self) -> Path:
        return self.home / "staged"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def settings() -> Settings:
    home = Path(os.environ.get("WXPIPELINE_HOME") or ".wxpipeline").resolve()
    return Settings(
        home=home,
        exports_dir=Path(os.environ.get("WXPIPELINE_EXPORTS_DIR") or home / "exports").resolve(),
        database_url=os.environ.get("WXPIPELINE_DATABASE_URL") or f"sqlite:///{home / 'findings.db'}",
        policy=os.environ.get("WXPIPELINE_POLICY") or "",
        dagster_home=Path(os.environ.get("DAGSTER_HOME") or home / "dagster").resolve(),
        # first daily partition; exports before it are ignored by the partitioned assets
        partitions_start=os.environ.get("WXPIPELINE_PARTITIONS_START") or _recorded_start(home),
        wecom_webhook=os.environ.get("WXPIPELINE_WECOM_WEBHOOK") or "",
    )


def _default_start() -> str:
    """No data judged yet: the first day of last month, so yesterday (what the nightly schedule
    judges) always has a partition and a new installation shows weeks, not years, of empty days."""
    from wxpipeline.times import today as local_today

    today = local_today()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()


def _recorded_start(home: Path) -> str:
    f = home / PARTITIONS_START_FILE
    try:
        return date.fromisoformat(f.read_text("utf-8").strip()).isoformat()
    except (OSError, ValueError):
        return _default_start()


def record_partitions_start(day: date | None = None) -> str:
    """Remember where this installation's data begins (WXPIPELINE_HOME/partitions_start): `demo`
    and `run --from` lower it to the first day they write or judge; without a day, the current
    default is recorded once so the partitions stop moving. Must run before the definitions are
    imported to affect them in this process. Returns the start in effect."""
    s = settings()
    f = s.home / PARTITIONS_START_FILE
    current = date.fromisoformat(_recorded_start(s.home))
    if day is None:
        want = current
    else:
        want = min(current, day) if f.exists() else day
    if not f.exists() or want != current:
        s.home.mkdir(parents=True, exist_ok=True)
        f.write_text(want.isoformat() + "\n", "utf-8")
    return os.environ.get("WXPIPELINE_PARTITIONS_START") or want.isoformat()


def exports_sensor_interval() -> int:
    """WXPIPELINE_EXPORTS_SENSOR_INTERVAL: the minimum seconds between two evaluations of
    `exports_sensor` by the daemon (default 300: a file that arrives is staged within ~5 minutes;
    each evaluation lists the whole exports folder). Read when the definitions are loaded."""
    raw = os.environ.get("WXPIPELINE_EXPORTS_SENSOR_INTERVAL") or "300"
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise ValueError(f"WXPIPELINE_EXPORTS_SENSOR_INTERVAL: expected a whole number of seconds >= 1, got {raw!r}")
    return seconds


RUN_EXECUTORS = ("in_process", "multiprocess")


def run_executor() -> str:
    """WXPIPELINE_RUN_EXECUTOR: how a run launched by the daemon or the UI executes its steps.

    `in_process` (default): one after another in the run's own process, as `wxpipeline run` and
    `nightly` always do (and the 10-million-message benchmarks measure). Each step process of the
    `multiprocess` executor imports the whole code location again (~3 s of CPU), which for a day of
    ~30 small steps made a daemon-launched run take minutes on 2 cores; parallelism comes from
    the run queue instead (days side by side, `max_concurrent_runs`). `multiprocess`: one process
    per step, steps of different domains in parallel and a step's memory returned to the system
    when it ends; worth it only with cores to spare beyond the queue's runs."""
    name = os.environ.get("WXPIPELINE_RUN_EXECUTOR") or "in_process"
    if name not in RUN_EXECUTORS:
        raise ValueError(f"WXPIPELINE_RUN_EXECUTOR: expected one of {', '.join(RUN_EXECUTORS)}, got {name!r}")
    return name


def umask() -> int:
    """WXPIPELINE_UMASK (octal, default 077): files and folders the pipeline writes are private
    to its user (0600/0700), as they hold findings, quarantined records and staged PII."""
    return int(os.environ.get("WXPIPELINE_UMASK") or "077", 8) & 0o777


def file_mode() -> int:
    """The mode of files the pipeline writes (0600 by default)."""
    return 0o666 & ~umask()


def secure_process() -> None:
    """Set the umask once at start-up and close WXPIPELINE_HOME (and DAGSTER_HOME) to others:
    every database, staged table, cache file and report beneath is then unreadable to them,
    including files an older version created 0644."""
    os.umask(umask())
    s = settings()
    for folder in (s.home, s.dagster_home):
        try:
            if folder.is_dir():
                os.chmod(folder, 0o777 & ~umask())
        except OSError:
            pass  # a foreign-owned home: the umask still covers new files


def ensure_dagster_home() -> Path:
    """Point Dagster's instance under WXPIPELINE_HOME (unless DAGSTER_HOME is set) so runs persist."""
    secure_process()
    s = settings()
    record_partitions_start()
    s.dagster_home.mkdir(parents=True, exist_ok=True)
    cfg = s.dagster_home / "dagster.yaml"
    wanted = dagster_yaml()
    # a file we generated for the other storage is switched; a hand-edited one is left alone
    if not cfg.exists() or (cfg.read_text("utf-8") in (DAGSTER_YAML, DAGSTER_PG_YAML) and cfg.read_text("utf-8") != wanted):
        tmp = cfg.with_suffix(f".{os.getpid()}.tmp")  # two fresh starts must not interleave writes
        tmp.write_text(wanted, "utf-8")
        os.replace(tmp, cfg)
    os.environ.setdefault("DAGSTER_HOME", str(s.dagster_home))
    return s.dagster_home


# Embedded default instance: SQLite storage beside this file. A UI backfill queues one run per
# day; two at a time fits the 2-core machines this runs on. Production swaps in dagster-postgres.
# Run monitoring (daemon) fails runs stuck STARTING or CANCELING; a STARTED run whose worker
# died is caught by wxpipeline.stale_runs (the default launcher cannot check worker health).
DAGSTER_YAML = """\
concurrency:
  runs:
    max_concurrent_runs: 2
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  poll_interval_seconds: 60
telemetry:
  enabled: false
"""


# Production instance (README "Production"): run, event-log and schedule storage in PostgreSQL
# (dagster-postgres), selected by WXPIPELINE_DAGSTER_PG_URL alone. The URL is read from the
# environment by Dagster at start, never written into the file. Same queue limit and monitoring.
DAGSTER_PG_YAML = """\
storage:
  postgres:
    postgres_url:
      env: WXPIPELINE_DAGSTER_PG_URL
""" + DAGSTER_YAML


def dagster_yaml() -> str:
    """The dagster.yaml this environment selects: PostgreSQL when WXPIPELINE_DAGSTER_PG_URL is set."""
    return DAGSTER_PG_YAML if os.environ.get("WXPIPELINE_DAGSTER_PG_URL") else DAGSTER_YAML


def open_dagster_instance():
    """The persistent Dagster instance, its SQLite storages created under a lock: two processes
    on a fresh home would otherwise both create them ("table secondary_indexes already exists")."""
    import dagster as dg

    from wxpipeline.store.concurrency import file_lock

    home = ensure_dagster_home()
    with file_lock(home / ".init-lock"):
        instance = dg.DagsterInstance.get()
        # touching the storages runs their schema creation/migration now, inside the lock
        instance.run_storage, instance.event_log_storage, instance.schedule_storage  # noqa: B018
        instance.get_runs(limit=1)
    return instance


def relax_sqlite_wal_fsync() -> None:
    """Make SQLite databases in WAL mode cheap to write one small transaction at a time, for the
    rest of this process: commits without an fsync (`synchronous=NORMAL`), and one idle
    connection kept open per database file.

    Dagster's SQLite instance opens a new connection for every event of a run and closes it
    after one transaction. With the defaults each commit waits for the disk, and each close, being
    the last connection, checkpoints and deletes the WAL file, which the next event recreates:
    about 8 ms per event, most of a small day's run. In WAL mode SQLite documents NORMAL as
    safe from corruption (a power cut may lose the last events, never the database); the kept
    connection only defers checkpoints to SQLite's automatic ones and to process exit. Databases
    not in WAL mode (the SQLite findings store) are left alone. WXPIPELINE_SQLITE_FULL_SYNC=1
    turns this off."""
    if os.environ.get("WXPIPELINE_SQLITE_FULL_SYNC") == "1" or _KEPT_OPEN.get("_installed"):
        return
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    # on checkout, not on connect: a connection kept in a pool (dagster_engines.py) may have been
    # opened before Dagster switched its new database to WAL, and is then reused for every event
    @event.listens_for(Pool, "checkout")
    def _cheap_wal_transactions(dbapi_connection, record, _proxy) -> None:
        if record.info.get("wal_relaxed") or not isinstance(dbapi_connection, sqlite3.Connection):
            return
        mode = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            return
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        record.info["wal_relaxed"] = True
        for _seq, name, file in dbapi_connection.execute("PRAGMA database_list").fetchall():
            if name == "main" and file and file not in _KEPT_OPEN:
                keeper = sqlite3.connect(file, check_same_thread=False)
                keeper.execute("PRAGMA schema_version").fetchone()  # attach to the WAL now
                _KEPT_OPEN[file] = keeper

    _KEPT_OPEN["_installed"] = True


_KEPT_OPEN: dict = {}  # database file -> idle connection held for the process's lifetime


def close_kept_sqlite_connections() -> None:
    """Close the idle connections `relax_sqlite_wal_fsync` keeps: the last connection to close
    checkpoints its database's WAL into the file, as at the end of any SQLite use."""
    for file in [f for f in _KEPT_OPEN if f != "_installed"]:
        _KEPT_OPEN.pop(file).close()
