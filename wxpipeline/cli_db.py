"""`wxpipeline db upgrade` / `db current`: the findings store's schema revision (Alembic)."""

from __future__ import annotations

import argparse
import sys


def _sqlite_file(url: str):
    """The file of a `sqlite:///PATH` URL (None for other databases and in-memory SQLite)."""
    from pathlib import Path

    path = url.removeprefix("sqlite:///").split("?", 1)[0] if url.startswith("sqlite:///") else ""
    return Path(path) if path and path != ":memory:" else None


def _store():
    from sqlalchemy import create_engine

    from wxpipeline.settings import settings

    url = settings().database_url
    if (file := _sqlite_file(url)) is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        from wxpipeline.store.concurrency import serialise_sqlite_writes

        serialise_sqlite_writes(engine)  # BEGIN IMMEDIATE: a migration is one transaction, DDL included
    return engine


def _where(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from wxpipeline import migrations

    engine = _store()
    try:
        before, after, stamped = migrations.upgrade(engine)
    finally:
        engine.dispose()
    if stamped:
        print(f"findings store {_where(engine)}: tables made before migrations, stamped {stamped}")
        before = stamped
    if before == after:
        print(f"findings store {_where(engine)}: already at {after} (head)")
    else:
        print(f"findings store {_where(engine)}: upgraded {before or '(empty)'} -> {after}")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from wxpipeline import migrations
    from wxpipeline.settings import settings

    file = _sqlite_file(settings().database_url)
    if file is not None and not file.exists():  # SQLite would create an empty file (and folders) just to look
        print(f"error: no findings store at {file} (WXPIPELINE_DATABASE_URL / WXPIPELINE_HOME); "
              "`wxpipeline db upgrade` or a run creates it", file=sys.stderr)
        return 1
    engine = _store()
    try:
        rev = migrations.current(engine)
    finally:
        engine.dispose()
    head = migrations.head()
    state = "up to date" if rev == head else f"behind head {head}: run `wxpipeline db upgrade`"
    print(f"findings store {_where(engine)}: {rev or '(no revision: empty or pre-Alembic)'} ({state})")
    return 0


def add_parsers(sub) -> None:
    d = sub.add_parser("db", help="findings store schema: upgrade, current")
    dsub = d.add_subparsers(dest="db_command", required=True)
    u = dsub.add_parser("upgrade", help="migrate the findings store (WXPIPELINE_DATABASE_URL) to the newest schema; "
                                        "keeps every row; also runs when the pipeline opens the store")
    u.set_defaults(fn=cmd_upgrade)
    c = dsub.add_parser("current", help="print the findings store's schema revision")
    c.set_defaults(fn=cmd_current)
