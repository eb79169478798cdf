"""Every environment variable wxpipeline reads, in one place, with its default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    exports_dir: Path
    database_url: str
    policy: str
    dagster_home: Path
    partitions_start: str

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
        partitions_start=os.environ.get("WXPIPELINE_PARTITIONS_START") or "2025-01-01",
    )


def ensure_dagster_home() -> Path:
    """Point Dagster's instance under WXPIPELINE_HOME (unless DAGSTER_HOME is set) so runs persist."""
    s = settings()
    s.dagster_home.mkdir(parents=True, exist_ok=True)
    cfg = s.dagster_home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML, "utf-8")
    os.environ.setdefault("DAGSTER_HOME", str(s.dagster_home))
    return s.dagster_home


# Embedded default instance: SQLite storage beside this file. A UI backfill queues one run per
# day; two at a time fits the 2-core machines this runs on. Production swaps in dagster-postgres.
DAGSTER_YAML = """\
concurrency:
  runs:
    max_concurrent_runs: 2
telemetry:
  enabled: false
"""


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
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _cheap_wal_transactions(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        mode = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            return
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        for _seq, name, file in dbapi_connection.execute("PRAGMA database_list").fetchall():
            if name == "main" and file and file not in _KEPT_OPEN:
                keeper = sqlite3.connect(file, check_same_thread=False)
                keeper.execute("PRAGMA schema_version").fetchone()  # attach to the WAL now
                _KEPT_OPEN[file] = keeper

    _KEPT_OPEN["_installed"] = True


_KEPT_OPEN: dict = {}  # database file -> idle connection held for the process's lifetime
