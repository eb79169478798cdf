"""Findings and what changed: a (domain, day)'s findings replaced in one transaction with its
cases, case events and `judgements` row; coverage and late changes read back. `db` is anything with `.session()`: the `Warehouse` resource or a plain `store.Database`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

import polars as pl
from sqlalchemy import bindparam, delete, insert, select

from wxpipeline.gcpause import gc_paused
from wxpipeline.store.concurrency import domain_lock
from wxpipeline.store.engine import now_utc
from wxpipeline.store.tables import Case, CaseEvent, Finding, Judgement
from wxpipeline.store.triage import cases_by_fingerprint, reopen_reason


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

@gc_paused  # a busy day's findings, cases and events as dicts (gcpause.py)
def replace_partition(
    db,
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
    with db.session() as s, s.begin():
        domain_lock(s, domain)
        prev = s.exec(
            select(Judgement)
            .where(Judgement.domain == domain, Judgement.partition_date == day)
            .order_by(Judgement.id.desc())
        ).scalars().first()
        old_version = prev.policy_version if prev else None
        revised = prev is not None and (prev.policy_version, prev.policy_hash) != (policy_version, policy_hash)
        diff.old_policy_version, diff.policy_version = old_version, policy_version
        # the previous findings as plain rows (the columns read below), not ORM objects: a busy
        # day has thousands, and the session would track each until the commit
        old = {
            f.fingerprint: f
            for f in s.execute(
                select(Finding.fingerprint, Finding.clause_id, Finding.subject_id, Finding.summary, Finding.evidence)
                .where(Finding.domain == domain, Finding.partition_date == day)
            ).all()
        }
        new_fps = {r["fingerprint"] for r in rows}
        s.execute(delete(Finding).where(Finding.domain == domain, Finding.partition_date == day))
        if rows:  # one executemany, not one ORM object per finding
            # into the Core table: the ORM's bulk insert groups rows by which keys hold None and starts
            # a new statement at every change, e.g. 892 statements for a 4M-message day's 1,612 chat
            # findings (one-to-one and group messages alternate employee/group ids)
            s.execute(Finding.__table__.insert(), rows)
        # the cases as plain rows (read only; their first/last seen days updated below by one
        # executemany of the changed ones), not ORM objects the session would track and flush
        cases = cases_by_fingerprint(s, new_fps | set(old))

        # new cases and case events go in as one executemany each (in this order of events), not as
        # one ORM object per row: a busy day has thousands of findings
        new_cases: list[dict] = []
        seen: list[dict] = []  # existing cases whose first or last seen day moves
        events: list[dict] = []

        def event(kind: str, fp: str, clause_id: str, subject_id: str, note: str) -> None:
            events.append(dict(
                fingerprint=fp, clause_id=clause_id, subject_id=subject_id, partition_date=day, event=kind,
                old_policy_version=old_version, policy_version=policy_version, who=who, at=at, run_id=run_id,
                note=note, cause=cause if kind in ("new", "resolved") and prev is not None else None,
            ))

        for r in rows:
            fp = r["fingerprint"]
            case = cases.get(fp)
            if case is None:
                new_cases.append(dict(
                    fingerprint=fp, clause_id=r["clause_id"], subject_id=r["subject_id"], domain=domain,
                    first_seen=day, last_seen=day, status="open",
                ))
            else:
                if not case.first_seen <= day <= case.last_seen:
                    seen.append({"_fp": fp, "_first": min(case.first_seen, day), "_last": max(case.last_seen, day)})
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
        if new_cases:
            s.execute(insert(Case), new_cases)
        if seen:
            table = Case.__table__
            s.execute(table.update().where(table.c.fingerprint == bindparam("_fp"))
                      .values(first_seen=bindparam("_first"), last_seen=bindparam("_last")), seen)
        if events:
            s.execute(insert(CaseEvent), events)
        s.add(Judgement(
            run_id=run_id, domain=domain, partition_date=day, policy_version=policy_version,
            policy_hash=policy_hash, old_policy_version=old_version,
            old_policy_hash=prev.policy_hash if prev else None, findings=len(rows),
            new=len(diff.new), resolved=len(diff.resolved), kept=len(diff.kept), at=at,
            coverage_status=coverage_status, inputs=inputs, cause=cause,
        ))
    return diff

def coverage_rows(db, start: date, end: date) -> list[dict]:
    """The latest judgement of every (domain, day) in [start, end] with its coverage."""
    with db.session() as s:
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

def late_changes(db, day: date) -> list[dict]:
    """Findings of `day` that appeared or disappeared after its first judgement because
    inputs arrived or changed: the events carrying a cause."""
    with db.session() as s:
        events = list(s.exec(
            select(CaseEvent).where(CaseEvent.partition_date == day, CaseEvent.cause.is_not(None),
                                    CaseEvent.event.in_(["new", "resolved"]))
            .order_by(CaseEvent.at, CaseEvent.id)
        ).scalars())
    return [{"event": e.event, "clause_id": e.clause_id, "subject_id": e.subject_id, "summary": e.note,
             "cause": e.cause, "at": e.at, "fingerprint": e.fingerprint} for e in events]

def findings_frame(db, where=None) -> pl.DataFrame:
    """Findings as a frame with the fixed `FINDINGS_FRAME_SCHEMA`: never inferred from the
    first rows (on a busy day the first hundred findings may all lack a group id)."""
    columns = [Finding.__table__.c[name] for name in FINDINGS_FRAME_SCHEMA]
    stmt = select(*columns)
    if where is not None:
        stmt = stmt.where(*where) if isinstance(where, (list, tuple)) else stmt.where(where)
    with db.session() as s:
        rows = s.execute(stmt).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=FINDINGS_FRAME_SCHEMA, orient="row")
    return frame


def revisions(db, start: date, end: date) -> tuple[dict, dict, list]:
    """For each (domain, day) in [start, end]: its latest judgement, the latest judgement made
    under a different policy than the one before it (the day's revision), and the new, resolved
    and kept case events of those revision runs."""
    with db.session() as s:
        judgements = list(s.exec(
            select(Judgement)
            .where(Judgement.partition_date >= start, Judgement.partition_date <= end)
            .order_by(Judgement.id)
        ).scalars())
        latest: dict[tuple, Judgement] = {}
        revision: dict[tuple, Judgement] = {}
        for j in judgements:
            key = (j.domain, j.partition_date)
            latest[key] = j
            if j.old_policy_version is not None and (j.old_policy_version, j.old_policy_hash) != (
                j.policy_version, j.policy_hash
            ):
                revision[key] = j
        run_days = {(j.run_id, j.partition_date) for j in revision.values()}
        events = [
            e for e in s.exec(
                select(CaseEvent).where(
                    CaseEvent.run_id.in_({r for r, _ in run_days}),
                    CaseEvent.event.in_(["new", "resolved", "kept"]),
                )
            ).scalars()
            if (e.run_id, e.partition_date) in run_days
        ]
    return latest, revision, events
