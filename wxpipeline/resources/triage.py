"""Triage rules shared by the findings store and the reports: which status a finding has on its
day, and when a re-judgement reopens a case.

A case's status is decided on the finding's *facts*: `facts_hash` leaves out the evidence keys
that restate the policy (a limit, working hours, a window, a deadline computed from a window), so
a policy revision that changes only a parameter keeps a false positive suppressed, while new or
changed facts reopen it, with a `reopened` case event saying why.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from wxpipeline.resources.tables import Case, Finding, Waiver

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


def _waiver_matches(w: Waiver, f: Finding | Case) -> bool:
    if w.fingerprint:
        return w.fingerprint == f.fingerprint
    return w.clause_id == f.clause_id and fnmatch.fnmatchcase(f.subject_id, w.subject_pattern or "")


def glob_escape(text: str) -> str:
    """`text` as an fnmatch pattern matching only itself."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)


LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def local_day(at: datetime | None) -> date | None:
    """The Asia/Shanghai day of a stored timestamp (SQLite returns UTC timestamps naive)."""
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(LOCAL_TZ).date()


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
        (w for w in waivers if w.revoked_at is None and w.expires_on > f.partition_date and _waiver_matches(w, f)),
        None,
    )
    return ("waived", waiver) if waiver else (status, None)


def evidence_dict(evidence: str) -> dict:
    try:
        return json.loads(evidence)
    except ValueError:
        return {"raw": evidence}
