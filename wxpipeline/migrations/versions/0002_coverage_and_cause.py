"""Nightly operation: what each judgement was judged with (coverage_status, inputs) and why it
ran (cause), and the export files behind a case event (case_events.cause).

Revision ID: 0002_coverage_and_cause
Revises: 0001_baseline
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_coverage_and_cause"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot alter most things in place; new nullable columns are plain ALTERs
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("cause", sa.Text(), nullable=True))
    with op.batch_alter_table("judgements") as batch:
        batch.add_column(sa.Column("coverage_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column("inputs", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cause", sa.Text(), nullable=True))
        batch.create_index(batch.f("ix_judgements_coverage_status"), ["coverage_status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("judgements") as batch:
        batch.drop_index(batch.f("ix_judgements_coverage_status"))
        batch.drop_column("cause")
        batch.drop_column("inputs")
        batch.drop_column("coverage_status")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("cause")
