"""Quarantined records: rejected export lines stored once per (file, line, reason), PII-masked.
`db` is anything with `.session()`: the `Warehouse` resource or a plain `store.Database`."""

from __future__ import annotations

from sqlalchemy import select

from wxpipeline.store.concurrency import insert_ignoring_duplicates
from wxpipeline.store.engine import now_utc
from wxpipeline.store.tables import QuarantineRecord


def counts(db) -> dict[str, int]:
    from sqlalchemy import func

    with db.session() as s:
        rows = s.execute(select(QuarantineRecord.source, func.count()).group_by(QuarantineRecord.source)).all()
    return {src: n for src, n in rows}

def record(db, source: str, rejects: list, run_id: str | None) -> int:
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
    with db.session() as s, s.begin():
        return insert_ignoring_duplicates(s, QuarantineRecord.__table__, list(fresh.values()))
