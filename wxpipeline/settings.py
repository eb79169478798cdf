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
    """Let SQLite databases in WAL mode commit without an fsync (`synchronous=NORMAL`) for the
    rest of this process.

    Dagster's SQLite instance writes every event of a run in its own transaction, and with the
    default `synchronous=FULL` each commit waits for the disk (measured ~4 s of a 22-step daily
    run). In WAL mode SQLite documents NORMAL as safe from corruption; a power cut may lose the
    last events, never the database. Databases not in WAL mode (the SQLite findings store) keep
    their setting. Set WXPIPELINE_SQLITE_FULL_SYNC=1 to keep every commit durable."""
    if os.environ.get("WXPIPELINE_SQLITE_FULL_SYNC") == "1":
        return
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(relax_sqlite_wal_fsync, "_done", False):
        return

    @event.listens_for(Engine, "connect")
    def _normal_sync_in_wal(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            mode = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
            if mode and str(mode[0]).lower() == "wal":
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    relax_sqlite_wal_fsync._done = True
