"""A throw-away PostgreSQL database per test, on the server `.ci/run` starts
(WXPIPELINE_TEST_POSTGRES_URL); tests skip when it is not set."""

import contextlib
import os
import uuid

import pytest
from sqlalchemy import create_engine, text

PG = os.environ.get("WXPIPELINE_TEST_POSTGRES_URL")


@contextlib.contextmanager
def scratch_database(prefix: str = "wx"):
    """Create a database, yield its URL, then drop it (and the engines wxpipeline cached for it)."""
    if not PG:
        pytest.skip("WXPIPELINE_TEST_POSTGRES_URL not set (no PostgreSQL server)")
    db = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {db}"))
    try:
        yield PG.rsplit("/", 1)[0] + f"/{db}"
    finally:
        from wxpipeline.store.engine import engine_for as _engine

        _engine.cache_clear()  # forget its pooled engine; FORCE ends the connections still open
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        admin.dispose()
