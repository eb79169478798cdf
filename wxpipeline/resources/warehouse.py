"""The findings store: a SQLModel engine on SQLite (default) or PostgreSQL (same code, URL only).

Writing a partition's findings, updating cases, recording what changed, and deciding which
findings still fail their check (not false positive, not waived) all happen here, so every
domain's findings asset shares one mechanism.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import dagster as dg
import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from wxpipeline.resources.concurrency import (
    domain_lock,
    insert_ignoring_duplicates,
    serialise_sqlite_writes,
)
from wxpipeline.resources.triage import (  # noqa: F401 - re-exported: callers import them from here
    LOCAL_TZ,
    _waiver_matches,
    effective_status,
    evidence_dict,
    evidence_hash,
    facts_hash,
    glob_escape,
    local_day,
    local_today,
    reopen_reason,
)
from wxpipeline.resources.tables import (
    CASE_STATUSES,
    Case,
    CaseEvent,
    Finding,
    Judgement,
    QuarantineRecord,
    Waiver,
)


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def fingerprint_of(clause_id: str, subject_id: str) -> str:
    return _h(clause_id, subject_id)


def finding_id_of(clause_id: str, subject_id: str, day: date) -> str:
    return _h(clause_id, subject_id, day.isoformat())


# `findings` as a polars frame (DESIGN.md columns); naive datetimes as the store returns them.
FINDINGS_FRAME_SCHEMA = pl.Schema({
    "finding_id": pl.String, "fingerprint": pl.String, "clause_id": pl.String, "domain": pl.String,
    "partition_date": pl.Date, "subject_id": pl.String, "employee_id": pl.String, "group_id": pl.String,
    "severity": pl.String, "summary": pl.String, "evidence": pl.String, "policy_version": pl.String,
    "run_id": pl.String, "detected_at": pl.Datetime("us"),
})


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    kwargs = {}
    if url.startswith("sqlite"):
        # Partitions may run in parallel processes; wait for the writer instead of failing.
        kwargs["connect_args"] = {"timeout": 60}
    engine = create_engine(url, **kwargs)
    serialise_sqlite_writes(engine)
    # schema changes are Alembic migrations (wxpipeline/migrations), run under the store's lock:
    # create_all would add missing tables but never a missing column
    from wxpipeline.migrations import upgrade

    upgrade(engine)
    return engine


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PartitionDiff:
    """What one re-judgement of a (domain, day) changed, by fingerprint."""

    new: list[dict] = field(default_factory=list)
    resolved: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)
    old_policy_version: str | None = None  # None: first judgement of this (domain, day)
    policy_version: str | None = None

    def for_clause(self, clause_id: str) -> tuple[list[dict], list[dict], list[dict]]:
        pick = lambda rows: [r for r in rows if r["clause_id"] == clause_id]  # noqa: E731
        return pick(self.new), pick(self.resolved), pick(self.kept)


class Warehouse(dg.ConfigurableResource):
    """The findings store (findings, cases, case_events, waivers, quarantine) at
    WXPIPELINE_DATABASE_URL: SQLite under WXPIPELINE_HOME by default, PostgreSQL in production."""

    database_url: str

    @property
    def engine(self) -> Engine:
        return _engine(self.database_url)

    def session(self) -> Session:
        return Session(self.engine)

    # ---- findings -------------------------------------------------------------------------

    def replace_partition(
        self,
        domain: str,
        day: date,
        findings: pl.DataFrame,
        severities: dict[str, str],
        policy_version: str,
        run_id: str,
        who: str = "pipeline",
        policy_hash: str = "",
        coverage_status: str | None = None,
        inputs: str | None = None,
        cause: str | None = None,
    ) -> PartitionDiff:
        """Replace the (domain, day) findings in one transaction, update cases, and record the
        diff against the previous judgement of that day in `case_events` and `judgements`.

        Findings that stayed are logged as `kept` events only when the judging policy changed,
        so re-running an unchanged partition appends nothing but its `judgements` row. `cause`
        (the export files whose arrival or change made this re-judgement) goes on every new and
        resolved event; `coverage_status` and `inputs` (what the day was judged with) on the
        `judgements` row.
        """
        at = now_utc()
        rows = [
            {
                **r,
                "finding_id": finding_id_of(r["clause_id"], r["subject_id"], day),
                "fingerprint": fingerprint_of(r["clause_id"], r["subject_id"]),
                "domain": domain,
                "partition_date": day,
                "severity": severities[r["clause_id"]],
                "policy_version": policy_version,
                "run_id": run_id,
                "detected_at": at,
            }
            for r in findings.filter(pl.col("partition_date") == day).to_dicts()
        ]
        diff = PartitionDiff()
        with self.session() as s, s.begin():
            domain_lock(s, domain)
            prev = s.exec(
                select(Judgement)
                .where(Judgement.domain == domain, Judgement.partition_date == day)
                .order_by(Judgement.id.desc())
            ).scalars().first()
            old_version = prev.policy_version if prev else None
            revised = prev is not None and (prev.policy_version, prev.policy_hash) != (policy_version, policy_hash)
            diff.old_policy_version, diff.policy_version = old_version, policy_version
            old = {
                f.fingerprint: f
                for f in s.exec(select(Finding).where(Finding.domain == domain, Finding.partition_date == day)).scalars()
            }
            new_fps = {r["fingerprint"] for r in rows}
            s.execute(delete(Finding).where(Finding.domain == domain, Finding.partition_date == day))
            if rows:  # one executemany, not one ORM object per finding
                s.execute(insert(Finding), rows)
            cases = {
                c.fingerprint: c
                for c in s.exec(select(Case).where(Case.fingerprint.in_(list(new_fps | set(old))))).scalars()
            }

            def event(kind: str, fp: str, clause_id: str, subject_id: str, note: str) -> None:
                s.add(CaseEvent(
                    fingerprint=fp, clause_id=clause_id, subject_id=subject_id, partition_date=day, event=kind,
                    old_policy_version=old_version, policy_version=policy_version, who=who, at=at, run_id=run_id,
                    note=note, cause=cause if kind in ("new", "resolved") and prev is not None else None,
                ))

            for r in rows:
                fp = r["fingerprint"]
                case = cases.get(fp)
                if case is None:
                    s.add(Case(
                        fingerprint=fp, clause_id=r["clause_id"], subject_id=r["subject_id"], domain=domain,
                        first_seen=day, last_seen=day, status="open",
                    ))
                else:
                    case.first_seen = min(case.first_seen, day)
                    case.last_seen = max(case.last_seen, day)
                    why = reopen_reason(case, r["evidence"], day, old[fp].evidence if fp in old else None)
                    if why:
                        event("reopened", fp, r["clause_id"], r["subject_id"], why)
                info = {"fingerprint": fp, "clause_id": r["clause_id"], "subject_id": r["subject_id"]}
                if fp in old:
                    diff.kept.append(info)
                    if revised:
                        event("kept", fp, r["clause_id"], r["subject_id"], r["summary"])
                else:
                    diff.new.append(info)
                    event("new", fp, r["clause_id"], r["subject_id"], r["summary"])
            for fp, f in old.items():
                if fp not in new_fps:
                    diff.resolved.append({"fingerprint": fp, "clause_id": f.clause_id, "subject_id": f.subject_id})
                    event("resolved", fp, f.clause_id, f.subject_id, f.summary)
            s.add(Judgement(
                run_id=run_id, domain=domain, partition_date=day, policy_version=policy_version,
                policy_hash=policy_hash, old_policy_version=old_version,
                old_policy_hash=prev.policy_hash if prev else None, findings=len(rows),
                new=len(diff.new), resolved=len(diff.resolved), kept=len(diff.kept), at=at,
                coverage_status=coverage_status, inputs=inputs, cause=cause,
            ))
        return diff

    def coverage_rows(self, start: date, end: date) -> list[dict]:
        """The latest judgement of every (domain, day) in [start, end] with its coverage."""
        with self.session() as s:
            rows = list(s.exec(
                select(Judgement).where(Judgement.partition_date >= start, Judgement.partition_date <= end)
                .order_by(Judgement.id)
            ).scalars())
        latest = {(j.domain, j.partition_date): j for j in rows}
        out = []
        for (domain, day), j in sorted(latest.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            inputs = json.loads(j.inputs) if j.inputs else {}
            missing = "; ".join(f"{k}: {v.get('missing')}" for k, v in inputs.items()
                                if v.get("status") in ("awaiting_data", "overdue"))
            out.append({"domain": domain, "partition_date": day, "coverage_status": j.coverage_status,
                        "inputs": inputs, "missing": missing, "run_id": j.run_id, "at": j.at})
        return out

    def late_changes(self, day: date) -> list[dict]:
        """Findings of `day` that appeared or disappeared after its first judgement because
        inputs arrived or changed: the events carrying a cause."""
        with self.session() as s:
            events = list(s.exec(
                select(CaseEvent).where(CaseEvent.partition_date == day, CaseEvent.cause.is_not(None),
                                        CaseEvent.event.in_(["new", "resolved"]))
                .order_by(CaseEvent.at, CaseEvent.id)
            ).scalars())
        return [{"event": e.event, "clause_id": e.clause_id, "subject_id": e.subject_id, "summary": e.note,
                 "cause": e.cause, "at": e.at, "fingerprint": e.fingerprint} for e in events]

    def findings_frame(self, where=None) -> pl.DataFrame:
        """Findings as a frame with the fixed `FINDINGS_FRAME_SCHEMA`: never inferred from the
        first rows (on a busy day the first hundred findings may all lack a group id)."""
        columns = [Finding.__table__.c[name] for name in FINDINGS_FRAME_SCHEMA]
        stmt = select(*columns)
        if where is not None:
            stmt = stmt.where(*where) if isinstance(where, (list, tuple)) else stmt.where(where)
        with self.session() as s:
            rows = s.execute(stmt).all()
        frame = pl.DataFrame([tuple(r) for r in rows], schema=FINDINGS_FRAME_SCHEMA, orient="row")
        return frame

    # ---- triage: which findings fail their check --------------------------------------------

    def triage(self, domain: str, day: date) -> dict[str, list[dict]]:
        """Each finding of (domain, day) with its case status, waiver and `counted` flag.

        Counted (the check fails) = case open or confirmed, and no waiver in force on `day`.
        A false positive whose evidence changed since it was marked counts again; a resolved
        case counts again on days after the day it was resolved (the breach recurred).
        `case_status` is the effective status, `waived` when a waiver suppresses the finding.
        """
        out: dict[str, list[dict]] = {}
        for r in self.findings_status([Finding.domain == domain, Finding.partition_date == day]):
            out.setdefault(r["clause_id"], []).append(r)
        return out

    def findings_status(self, where=None) -> list[dict]:
        """Findings (filtered by SQLAlchemy `where` clauses) with their effective triage state,
        judged as of each finding's own day: `case_status`, `waiver_id`, `counted` (fails its
        check), `case_owner`, `case_note`, `first_seen`."""
        stmt = select(Finding)
        if where is not None:
            stmt = stmt.where(*where) if isinstance(where, (list, tuple)) else stmt.where(where)
        with self.session() as s:
            found = list(s.exec(stmt).scalars())
            fps = sorted({f.fingerprint for f in found})
            cases: dict[str, Case] = {}
            for i in range(0, len(fps), 500):  # stay under SQLite's bound-parameter limit
                chunk = fps[i:i + 500]
                cases.update({c.fingerprint: c for c in s.exec(select(Case).where(Case.fingerprint.in_(chunk))).scalars()})
            waivers = list(s.exec(select(Waiver).where(Waiver.revoked_at.is_(None))).scalars()) if found else []
        out = []
        for f in found:
            case = cases.get(f.fingerprint)
            status, waiver = effective_status(f, case, waivers)
            out.append({
                **f.model_dump(),
                "case_status": status,
                "waiver_id": waiver.id if waiver else None,
                "counted": status in ("open", "confirmed"),
                "case_owner": case.owner if case else None,
                "case_note": case.note if case else None,
                "first_seen": case.first_seen if case else f.partition_date,
            })
        return out

    # ---- cases and waivers ----------------------------------------------------------------------

    def set_case_status(self, fingerprint: str, status: str, note: str | None, by: str, owner: str | None = None) -> Case:
        if status not in CASE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CASE_STATUSES)}, got {status!r}")
        with self.session() as s, s.begin():
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

    def active_waivers(self, day: date, session: Session | None = None) -> list[Waiver]:
        """Waivers in force on `day`: not revoked and expiring after it (a waiver stops on its expiry day)."""
        stmt = select(Waiver).where(Waiver.revoked_at.is_(None), Waiver.expires_on > day)
        if session is not None:
            return list(session.exec(stmt).scalars())
        with self.session() as s:
            return list(s.exec(stmt).scalars())

    def list_cases(self, status: str | None = None, clause_id: str | None = None, domain: str | None = None,
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
        with self.session() as s:
            cases = list(s.exec(stmt.order_by(Case.last_seen.desc(), Case.clause_id, Case.subject_id)).scalars())
            waivers = self.active_waivers(on or local_today(), session=s)
        out = []
        for c in cases:
            w = next((w for w in waivers if _waiver_matches(w, c)), None)
            if status == "waived" and w is None:
                continue
            out.append({**c.model_dump(), "waiver_id": w.id if w else None})
        return out

    def case_history(self, fingerprint: str) -> tuple[Case, list[CaseEvent]]:
        """A case and its `case_events`, oldest first."""
        with self.session() as s:
            case = s.get(Case, fingerprint)
            if case is None:
                raise KeyError(f"no case with fingerprint {fingerprint}")
            events = list(s.exec(
                select(CaseEvent).where(CaseEvent.fingerprint == fingerprint).order_by(CaseEvent.at, CaseEvent.id)
            ).scalars())
            s.expunge_all()
        return case, events

    def add_waiver(
        self,
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
        with self.session() as s, s.begin():
            w = Waiver(
                fingerprint=fingerprint_of(clause_id, subject_id) if subject_id is not None else None,
                clause_id=clause_id,
                subject_pattern=glob_escape(subject_id) if subject_id is not None else pattern,
                reason=reason, approver=approver, expires_on=expires_on, created_at=at,
            )
            s.add(w)
            s.flush()
            self._waiver_events(s, w, "waiver", by or approver, at,
                                f"豁免 #{w.id}（审批人 {approver}，{expires_on} 起失效）：{reason}")
            s.flush()
            s.expunge(w)
        return w

    def revoke_waiver(self, waiver_id: int, by: str, note: str | None = None) -> Waiver:
        """Revoke a waiver: it stops applying to every day, including re-runs of past days."""
        at = now_utc()
        with self.session() as s, s.begin():
            w = s.get(Waiver, waiver_id)
            if w is None:
                raise KeyError(f"no waiver #{waiver_id}")
            if w.revoked_at is not None:
                raise ValueError(f"waiver #{waiver_id} was already revoked by {w.revoked_by} at {w.revoked_at}")
            w.revoked_at, w.revoked_by = at, by
            self._waiver_events(s, w, "waiver_revoked", by, at, f"撤销豁免 #{w.id}" + (f"：{note}" if note else ""))
            s.flush()
            s.expunge(w)
        return w

    def _waiver_events(self, s: Session, w: Waiver, kind: str, who: str, at: datetime, note: str) -> None:
        if w.fingerprint:
            stmt = select(Case).where(Case.fingerprint == w.fingerprint)
        else:
            stmt = select(Case).where(Case.clause_id == w.clause_id)
        for c in s.exec(stmt).scalars():
            if _waiver_matches(w, c):
                s.add(CaseEvent(
                    fingerprint=c.fingerprint, clause_id=c.clause_id, subject_id=c.subject_id, event=kind,
                    old_status=c.status, new_status=c.status, who=who, at=at, note=note,
                ))

    def list_waivers(self, include_revoked: bool = False) -> list[Waiver]:
        stmt = select(Waiver).order_by(Waiver.expires_on, Waiver.id)
        if not include_revoked:
            stmt = stmt.where(Waiver.revoked_at.is_(None))
        with self.session() as s:
            out = list(s.exec(stmt).scalars())
            s.expunge_all()
        return out

    def waivers_expiring(self, day: date, within_days: int = 7) -> list[Waiver]:
        """Waivers in force on `day` that stop applying within `within_days` days
        (expires_on in day+1 .. day+within_days)."""
        with self.session() as s:
            out = list(s.exec(
                select(Waiver).where(
                    Waiver.revoked_at.is_(None), Waiver.expires_on > day,
                    Waiver.expires_on <= day + timedelta(days=within_days),
                ).order_by(Waiver.expires_on, Waiver.id)
            ).scalars())
            s.expunge_all()
        return out

    # ---- quarantine -----------------------------------------------------------------------------

    def quarantine_counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.session() as s:
            rows = s.execute(select(QuarantineRecord.source, func.count()).group_by(QuarantineRecord.source)).all()
        return {src: n for src, n in rows}

    def quarantine(self, source: str, rejects: list, run_id: str | None) -> int:
        """Store rejected records once per (file, line, reason), raw line and reason PII-masked;
        returns how many were new. Concurrent runs quarantining the same rejects both succeed."""
        if not rejects:
            return 0
        from wxpipeline.reports.masking import mask_text

        at = now_utc()
        fresh: dict[tuple, dict] = {}
        for r in rejects:
            row = {"source": source, "file": r.file, "line": r.line, "reason": mask_text(r.reason),
                   "raw": mask_text(r.raw[:2000]), "first_seen_at": at, "run_id": run_id}
            fresh.setdefault((row["file"], row["line"], row["reason"]), row)
        with self.session() as s, s.begin():
            return insert_ignoring_duplicates(s, QuarantineRecord.__table__, list(fresh.values()))
