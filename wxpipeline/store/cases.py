"""Cases and waivers: status changes by compliance staff, waivers added and revoked (each a case
event), listings for the CLI and the report. `db` is anything with `.session()`: the `Warehouse` resource or a plain `store.Database`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from wxpipeline.store.engine import now_utc
from wxpipeline.store.findings import fingerprint_of
from wxpipeline.store.statuses import CASE_STATUSES
from wxpipeline.store.tables import Case, CaseEvent, Finding, Waiver
from wxpipeline.store.triage import waiver_matches, facts_hash, glob_escape
from wxpipeline.times import today


def set_case_status(db, fingerprint: str, status: str, note: str | None, by: str, owner: str | None = None) -> Case:
    if status not in CASE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(CASE_STATUSES)}, got {status!r}")
    with db.session() as s, s.begin():
        case = s.get(Case, fingerprint)
        if case is None:
            raise KeyError(f"no case with fingerprint {fingerprint}")
        latest = s.exec(
            select(Finding).where(Finding.fingerprint == fingerprint).order_by(Finding.partition_date.desc())
        ).scalars().first()
        s.add(
            CaseEvent(
                fingerprint=fingerprint, clause_id=case.clause_id, subject_id=case.subject_id, event="status",
                old_status=case.status, new_status=status, who=by, at=now_utc(), note=note,
            )
        )
        case.status, case.note, case.updated_by, case.updated_at = status, note, by, now_utc()
        if owner is not None:
            case.owner = owner
        case.status_evidence_hash = facts_hash(latest.evidence) if latest else None
        s.flush()
        s.expunge(case)
    return case

def active_waivers(db, day: date, session: Session | None = None) -> list[Waiver]:
    """Waivers in force on `day`: not revoked and expiring after it (a waiver stops on its expiry day)."""
    stmt = select(Waiver).where(Waiver.revoked_at.is_(None), Waiver.expires_on > day)
    if session is not None:
        return list(session.exec(stmt).scalars())
    with db.session() as s:
        return list(s.exec(stmt).scalars())

def list_cases(db, status: str | None = None, clause_id: str | None = None, domain: str | None = None,
               on: date | None = None) -> list[dict]:
    """Cases with their stored status and the waiver covering them on `on` (default today,
    Asia/Shanghai). `status="waived"` selects the cases such a waiver covers."""
    stmt = select(Case)
    if clause_id:
        stmt = stmt.where(Case.clause_id == clause_id)
    if domain:
        stmt = stmt.where(Case.domain == domain)
    if status and status != "waived":
        stmt = stmt.where(Case.status == status)
    with db.session() as s:
        cases = list(s.exec(stmt.order_by(Case.last_seen.desc(), Case.clause_id, Case.subject_id)).scalars())
        waivers = active_waivers(db, on or today(), session=s)
    out = []
    for c in cases:
        w = next((w for w in waivers if waiver_matches(w, c)), None)
        if status == "waived" and w is None:
            continue
        out.append({**c.model_dump(), "waiver_id": w.id if w else None})
    return out

def case_history(db, fingerprint: str) -> tuple[Case, list[CaseEvent]]:
    """A case and its `case_events`, oldest first."""
    with db.session() as s:
        case = s.get(Case, fingerprint)
        if case is None:
            raise KeyError(f"no case with fingerprint {fingerprint}")
        events = list(s.exec(
            select(CaseEvent).where(CaseEvent.fingerprint == fingerprint).order_by(CaseEvent.at, CaseEvent.id)
        ).scalars())
        s.expunge_all()
    return case, events

def add_waiver(
    db,
    clause_id: str,
    reason: str,
    approver: str,
    expires_on: date,
    subject_id: str | None = None,
    pattern: str | None = None,
    by: str | None = None,
) -> Waiver:
    """A waiver for one subject (matched by fingerprint) or for a glob of one clause's subjects.
    It suppresses findings on days before `expires_on`. Every existing case it covers gets a
    `waiver` event in `case_events`."""
    if (subject_id is None) == (pattern is None):
        raise ValueError("give exactly one of a subject id or a subject pattern")
    if not reason.strip() or not approver.strip():
        raise ValueError("a waiver needs a reason and an approver")
    at = now_utc()
    with db.session() as s, s.begin():
        w = Waiver(
            fingerprint=fingerprint_of(clause_id, subject_id) if subject_id is not None else None,
            clause_id=clause_id,
            subject_pattern=glob_escape(subject_id) if subject_id is not None else pattern,
            reason=reason, approver=approver, expires_on=expires_on, created_at=at,
        )
        s.add(w)
        s.flush()
        _waiver_events(db, s, w, "waiver", by or approver, at,
                            f"豁免 #{w.id}（审批人 {approver}，{expires_on} 起失效）：{reason}")
        s.flush()
        s.expunge(w)
    return w

def revoke_waiver(db, waiver_id: int, by: str, note: str | None = None) -> Waiver:
    """Revoke a waiver: it stops applying to every day, including re-runs of past days."""
    at = now_utc()
    with db.session() as s, s.begin():
        w = s.get(Waiver, waiver_id)
        if w is None:
            raise KeyError(f"no waiver #{waiver_id}")
        if w.revoked_at is not None:
            raise ValueError(f"waiver #{waiver_id} was already revoked by {w.revoked_by} at {w.revoked_at}")
        w.revoked_at, w.revoked_by = at, by
        _waiver_events(db, s, w, "waiver_revoked", by, at, f"撤销豁免 #{w.id}" + (f"：{note}" if note else ""))
        s.flush()
        s.expunge(w)
    return w

def _waiver_events(db, s: Session, w: Waiver, kind: str, who: str, at: datetime, note: str) -> None:
    if w.fingerprint:
        stmt = select(Case).where(Case.fingerprint == w.fingerprint)
    else:
        stmt = select(Case).where(Case.clause_id == w.clause_id)
    for c in s.exec(stmt).scalars():
        if waiver_matches(w, c):
            s.add(CaseEvent(
                fingerprint=c.fingerprint, clause_id=c.clause_id, subject_id=c.subject_id, event=kind,
                old_status=c.status, new_status=c.status, who=who, at=at, note=note,
            ))

def list_waivers(db, include_revoked: bool = False) -> list[Waiver]:
    stmt = select(Waiver).order_by(Waiver.expires_on, Waiver.id)
    if not include_revoked:
        stmt = stmt.where(Waiver.revoked_at.is_(None))
    with db.session() as s:
        out = list(s.exec(stmt).scalars())
        s.expunge_all()
    return out

def waivers_expiring(db, day: date, within_days: int = 7) -> list[Waiver]:
    """Waivers in force on `day` that stop applying within `within_days` days
    (expires_on in day+1 .. day+within_days)."""
    with db.session() as s:
        out = list(s.exec(
            select(Waiver).where(
                Waiver.revoked_at.is_(None), Waiver.expires_on > day,
                Waiver.expires_on <= day + timedelta(days=within_days),
            ).order_by(Waiver.expires_on, Waiver.id)
        ).scalars())
        s.expunge_all()
    return out


def case_subjects(db, clause_id: str) -> list[str]:
    """The subject ids of every case of `clause_id`."""
    with db.session() as s:
        return list(s.exec(select(Case.subject_id).where(Case.clause_id == clause_id)).scalars())


def fingerprints_starting(db, prefix: str, limit: int) -> list[str]:
    """Up to `limit` case fingerprints beginning with `prefix`."""
    with db.session() as s:
        return list(s.exec(select(Case.fingerprint).where(Case.fingerprint.startswith(prefix)).limit(limit)).scalars())
