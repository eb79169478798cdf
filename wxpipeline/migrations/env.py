"""Alembic environment for the findings store: always handed an open connection by
wxpipeline.migrations (no alembic.ini, no URL here), inside the caller's transaction and lock."""

from alembic import context
from sqlmodel import SQLModel

import wxpipeline.store.tables  # noqa: F401 - registers the tables on SQLModel.metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite: ALTERs it cannot do become copy-and-move
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
