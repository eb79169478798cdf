"""The findings store's SQLModel tables. Names and columns are an interface (DESIGN.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Finding(SQLModel, table=True):
    __tablename__ = "findings"

    finding_id: str = Field(primary_key=True, description="hash of clause_id, subject_id, partition_date")
    fingerprint: str = Field(index=True, description="hash of clause_id, subject_id")
    clause_id: str = Field(index=True)
    domain: str = Field(index=True)
    partition_date: date = Field(index=True)
    subject_id: str
    employee_id: Optional[str] = Field(default=None, index=True)
    group_id: Optional[str] = Field(default=None, index=True)
    severity: str
    summary: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    policy_version: str
    run_id: str
    detected_at: datetime


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    fingerprint: str = Field(primary_key=True)
    clause_id: str = Field(index=True)
    subject_id: str
    domain: str
    first_seen: date
    last_seen: date
    status: str = Field(default="open", index=True)
    owner: Optional[str] = None
    note: Optional[str] = Field(default=None, sa_column=Column(Text))
    # evidence the status was decided on: a false positive stays suppressed while it is unchanged
    status_evidence_hash: Optional[str] = None
    updated_at: Optional[datetime] = None
    updated_by: Optional[str] = None


class CaseEvent(SQLModel, table=True):
    __tablename__ = "case_events"

    id: Optional[int] = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True)
    clause_id: str
    subject_id: str
    partition_date: Optional[date] = Field(default=None, index=True)
    event: str = Field(index=True, description="new | resolved | kept (on a policy revision) | status | waiver")
    old_status: Optional[str] = None
    new_status: Optional[str] = None
    old_policy_version: Optional[str] = None
    policy_version: Optional[str] = None
    who: str
    at: datetime
    run_id: Optional[str] = Field(default=None, index=True)
    note: Optional[str] = Field(default=None, sa_column=Column(Text))
    # re-judged because these export files arrived, changed or were removed (late data explained)
    cause: Optional[str] = Field(default=None, sa_column=Column(Text))


class Waiver(SQLModel, table=True):
    __tablename__ = "waivers"

    id: Optional[int] = Field(default=None, primary_key=True)
    fingerprint: Optional[str] = Field(default=None, index=True)
    clause_id: Optional[str] = None
    subject_pattern: Optional[str] = None
    reason: str = Field(sa_column=Column(Text, nullable=False))
    approver: str
    expires_on: date
    created_at: datetime
    revoked_at: Optional[datetime] = None
    revoked_by: Optional[str] = None


class QuarantineRecord(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("file", "line", "reason", name="uq_quarantine_file_line_reason"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(index=True, description="export kind, e.g. wechat_pay")
    file: str
    line: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(default="", sa_column=Column(Text, nullable=False))
    first_seen_at: datetime
    run_id: Optional[str] = None


class Judgement(SQLModel, table=True):
    """One row per (run, domain, partition day) judged: which policy judged it and what changed.

    The previous judgement of the same (domain, day) tells a re-judgement's old policy version even
    when that day had no findings; `wxpipeline revision-report` reads these rows.
    """

    __tablename__ = "judgements"

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    domain: str = Field(index=True)
    partition_date: date = Field(index=True)
    policy_version: str
    policy_hash: str
    old_policy_version: Optional[str] = None
    old_policy_hash: Optional[str] = None
    findings: int
    new: int
    resolved: int
    kept: int
    at: datetime
    # what the day was judged with: {export kind: {files, latest_record, status, missing}} (JSON),
    # and the overall coverage: complete | awaiting_data | overdue (never "passed" unless complete)
    coverage_status: Optional[str] = Field(default=None, index=True)
    inputs: Optional[str] = Field(default=None, sa_column=Column(Text))
    cause: Optional[str] = Field(default=None, sa_column=Column(Text))  # files that triggered this judgement
