"""Baseline: the findings store as the last release before Alembic (commit 8c86cd0) created it.

Revision ID: 0001_baseline
Revises:
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('clause_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('partition_date', sa.Date(), nullable=True),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('old_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('old_policy_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('who', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_events_event'), 'case_events', ['event'], unique=False)
    op.create_index(op.f('ix_case_events_fingerprint'), 'case_events', ['fingerprint'], unique=False)
    op.create_index(op.f('ix_case_events_partition_date'), 'case_events', ['partition_date'], unique=False)
    op.create_index(op.f('ix_case_events_run_id'), 'case_events', ['run_id'], unique=False)
    op.create_table('cases',
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('clause_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_seen', sa.Date(), nullable=False),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status_evidence_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('fingerprint')
    )
    op.create_index(op.f('ix_cases_clause_id'), 'cases', ['clause_id'], unique=False)
    op.create_index(op.f('ix_cases_status'), 'cases', ['status'], unique=False)
    op.create_table('findings',
    sa.Column('finding_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('clause_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('partition_date', sa.Date(), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employee_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('finding_id')
    )
    op.create_index(op.f('ix_findings_clause_id'), 'findings', ['clause_id'], unique=False)
    op.create_index(op.f('ix_findings_domain'), 'findings', ['domain'], unique=False)
    op.create_index(op.f('ix_findings_employee_id'), 'findings', ['employee_id'], unique=False)
    op.create_index(op.f('ix_findings_fingerprint'), 'findings', ['fingerprint'], unique=False)
    op.create_index(op.f('ix_findings_group_id'), 'findings', ['group_id'], unique=False)
    op.create_index(op.f('ix_findings_partition_date'), 'findings', ['partition_date'], unique=False)
    op.create_table('judgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('partition_date', sa.Date(), nullable=False),
    sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('policy_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('old_policy_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('old_policy_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('kept', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_judgements_domain'), 'judgements', ['domain'], unique=False)
    op.create_index(op.f('ix_judgements_partition_date'), 'judgements', ['partition_date'], unique=False)
    op.create_index(op.f('ix_judgements_run_id'), 'judgements', ['run_id'], unique=False)
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file', 'line', 'reason', name='uq_quarantine_file_line_reason')
    )
    op.create_index(op.f('ix_quarantine_source'), 'quarantine', ['source'], unique=False)
    op.create_table('waivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('clause_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('subject_pattern', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approver', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_waivers_fingerprint'), 'waivers', ['fingerprint'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_waivers_fingerprint'), table_name='waivers')
    op.drop_table('waivers')
    op.drop_index(op.f('ix_quarantine_source'), table_name='quarantine')
    op.drop_table('quarantine')
    op.drop_index(op.f('ix_judgements_run_id'), table_name='judgements')
    op.drop_index(op.f('ix_judgements_partition_date'), table_name='judgements')
    op.drop_index(op.f('ix_judgements_domain'), table_name='judgements')
    op.drop_table('judgements')
    op.drop_index(op.f('ix_findings_partition_date'), table_name='findings')
    op.drop_index(op.f('ix_findings_group_id'), table_name='findings')
    op.drop_index(op.f('ix_findings_fingerprint'), table_name='findings')
    op.drop_index(op.f('ix_findings_employee_id'), table_name='findings')
    op.drop_index(op.f('ix_findings_domain'), table_name='findings')
    op.drop_index(op.f('ix_findings_clause_id'), table_name='findings')
    op.drop_table('findings')
    op.drop_index(op.f('ix_cases_status'), table_name='cases')
    op.drop_index(op.f('ix_cases_clause_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_index(op.f('ix_case_events_run_id'), table_name='case_events')
    op.drop_index(op.f('ix_case_events_partition_date'), table_name='case_events')
    op.drop_index(op.f('ix_case_events_fingerprint'), table_name='case_events')
    op.drop_index(op.f('ix_case_events_event'), table_name='case_events')
    op.drop_table('case_events')
