"""Triage: which status a finding has on its day (open, confirmed, false positive, resolved,
waived) and whether it fails its check, and when a re-judgement reopens a case. The rules are
plain functions over the stored rows, testable without Dagster; `triage` and `findings_status`
read the rows (`db` is anything with `.session()`: the `Warehouse` resource or `store.Database`).

A case's status is decided on the finding's *facts*: `facts_hash` leaves out the evidence keys
that restate the policy (a limit, working hours, a window, a deadline computed from a window), so
a policy revision that changes only a parameter keeps a false positive suppressed, while new or
changed facts reopen it, with a `reopened` case event saying why.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from datetime import date

from sqlalchemy import select

from wxpipeline.gcpause import gc_paused
from wxpipeline.store.tables import Case, Finding, Waiver
from wxpipeline.times import local_day

# evidence keys whose values come from policy parameters, not from the exports
POLICY_DERIVED_KEYS = frozenset({
    "limit_yuan", "working_hours", "required_working_days", "required_hours", "window_minutes", "window_hours",
    "window_days", "fine_yuan", "deadline", "allowed_from", "accepted_source_markers",
})


def _h(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def evidence_hash(evidence: str) -> str:
    return _h(evidence)


def facts_hash(evidence: str) -> str:
    """Hash of the evidence without the policy-derived keys (see the module doc)."""
    try:
        data = json.loads(evidence)
    except ValueError:
        return evidence_hash(evidence)
    if not isinstance(data, dict):
        return evidence_hash(evidence)
    facts = {k: v for k, v in data.items() if k not in POLICY_DERIVED_KEYS}
    return _h(json.dumps(facts, sort_keys=True, ensure_ascii=False))


def _fp_still_holds(case: Case, evidence: str) -> bool:
    # cases marked before facts_hash existed stored the hash of the whole evidence
    return case.status_evidence_hash in (None, facts_hash(evidence), evidence_hash(evidence))


def reopen_reason(case: Case | None, evidence: str, day: date, old_evidence: str | None) -> str | None:
    """Why this judgement reopens `case`, or None. Asked only when the finding is new for its day
    or its evidence changed, so that an unchanged re-run writes no event."""
    if case is None or (old_evidence is not None and old_evidence == evidence):
        return None
    if case.status == "false_positive" and not _fp_still_holds(case, evidence):
        return (f"reopened: the finding's facts changed since {case.updated_by or '?'} marked it false_positive "
                f"on {local_day(case.updated_at)}; the case counts again until it is triaged anew")
    if case.status == "resolved" and old_evidence is None and (local_day(case.updated_at) or day) < day:
        return f"reopened: the breach recurred on {day} after the case was resolved on {local_day(case.updated_at)}"
    return None


def waiver_matches(w: Waiver, f: Finding | Case) -> bool:
    if w.fingerprint:
        return w.fingerprint == f.fingerprint
    return w.clause_id == f.clause_id and fnmatch.fnmatchcase(f.subject_id, w.subject_pattern or "")


def glob_escape(text: str) -> str:
    """`text` as an fnmatch pattern matching only itself."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)


def effective_status(f: Finding, case: Case | None, waivers: list[Waiver]) -> tuple[str, Waiver | None]:
    """A finding's triage status on its own day, and the waiver suppressing it (if any).

    * false_positive holds while the finding's evidence is the one it was judged on;
    * resolved holds for days up to the day it was resolved; a later finding reopens it;
    * an open or confirmed finding becomes `waived` when a non-revoked waiver matches it and
      expires after the finding's day (a waiver stops applying on its expiry day).
    """
    status = case.status if case else "open"
    if status == "false_positive" and not _fp_still_holds(case, f.evidence):
        status = "open"  # the facts changed since it was judged a false positive
    if status == "resolved" and (local_day(case.updated_at) or f.partition_date) < f.partition_date:
        status = "open"  # the breach is back after it was resolved
    if status not in ("open", "confirmed"):
        return status, None
    waiver = next(
        (w for w in waivers if w.revoked_at is None and w.expires_on > f.partition_date and waiver_matches(w, f)),
        None,
    )
    return ("waived", waiver) if waiver else (status, None)


def triage(db, domain: str, day: date) -> dict[str, list[dict]]:
    """Each finding of (domain, day) with its case status, waiver and `counted` flag.

    Counted (the check fails) = case open or confirmed, and no waiver in force on `day`.
    A false positive whose evidence changed since it was marked counts again; a resolved
    case counts again on days after the day it was resolved (the breach recurred).
    `case_status` is the effective status, `waived` when a waiver suppresses the finding.
    """
    out: dict[str, list[dict]] = {}
    for r in findings_status(db, [Finding.domain == domain, Finding.partition_date == day]):
        out.setdefault(r["clause_id"], []).append(r)
    return out


# fingerprints looked up per statement: SQLite allows 32,766 parameters in one (999 before 3.32),
# and a busy day has more findings than that
IN_CHUNK = 500


def cases_by_fingerprint(session, fingerprints) -> dict:
    """fingerprint -> its case as a plain row (read only: attribute access by column name, the
    values an ORM object holds), looked up IN_CHUNK fingerprints per statement."""
    wanted = sorted(fingerprints)
    cases: dict = {}
    for i in range(0, len(wanted), IN_CHUNK):
        cases.update({c.fingerprint: c for c in session.execute(
            select(*Case.__table__.c).where(Case.fingerprint.in_(wanted[i:i + IN_CHUNK]))).all()})
    return cases


@gc_paused  # one dict per finding (gcpause.py)
def findings_status(db, where=None) -> list[dict]:
    """Findings (filtered by SQLAlchemy `where` clauses) with their effective triage state,
    judged as of each finding's own day: `case_status`, `waiver_id`, `counted` (fails its
    check), `case_owner`, `case_note`, `first_seen`."""
    # findings and cases as plain rows (attribute access by column name, the values an ORM object
    # holds), not ORM objects: a busy day has thousands of each, read only
    stmt = select(*Finding.__table__.c)
    if where is not None:
        stmt = stmt.where(*where) if isinstance(where, (list, tuple)) else stmt.where(where)
    with db.session() as s:
        result = s.execute(stmt)
        columns = list(result.keys())
        found = result.all()
        cases = cases_by_fingerprint(s, {f.fingerprint for f in found})
        waivers = list(s.exec(select(Waiver).where(Waiver.revoked_at.is_(None))).scalars()) if found else []
    out = []
    for f in found:
        case = cases.get(f.fingerprint)
        status, waiver = effective_status(f, case, waivers)
        out.append({
            # `Row._asdict` costs ~11 us a row (its keys looked up each time): 4,014 findings, 45 -> 5 ms
            **dict(zip(columns, f)),
            "case_status": status,
            "waiver_id": waiver.id if waiver else None,
            "counted": status in ("open", "confirmed"),
            "case_owner": case.owner if case else None,
            "case_note": case.note if case else None,
            "first_seen": case.first_seen if case else f.partition_date,
        })
    return out


def domain_status(db, domain: str) -> list[dict]:
    """Every finding of `domain`, each with its triage as of its own day (as `triage` gives it)."""
    return findings_status(db, [Finding.domain == domain])
