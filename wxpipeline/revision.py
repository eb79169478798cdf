"""The effect of the last policy revision on a date range, from `judgements` and `case_events`.

For each (domain, day) in the range, the latest judgement made under a different policy than the
one before it is that day's revision; its `new`, `resolved` and `kept` events give the clause
counts before (resolved + kept) and after (new + kept). Days whose latest judgement was made with
a policy other than the one now in effect are listed as still waiting for a backfill.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from wxpipeline.policy import PolicySet
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store import findings as findings_store


def revision_report(warehouse: Warehouse, policies: PolicySet, start: date, end: date) -> dict:
    latest, revision, events = findings_store.revisions(warehouse, start, end)
    per_clause: dict[str, dict] = defaultdict(lambda: {"new": 0, "resolved": 0, "kept": 0, "examples": []})
    for e in events:
        row = per_clause[e.clause_id]
        row[e.event] += 1
        if e.event != "kept" and len(row["examples"]) < 5:
            row["examples"].append(f"{e.partition_date} {e.event} {e.subject_id}")
    clauses = [
        {
            "clause_id": cid,
            "before": r["resolved"] + r["kept"],
            "after": r["new"] + r["kept"],
            "new": r["new"],
            "resolved": r["resolved"],
            "examples": r["examples"],
        }
        for cid, r in sorted(per_clause.items())
    ]
    stale = sorted(
        f"{domain} {day}"
        for (domain, day), j in latest.items()
        if j.policy_hash != policies.for_day(day).content_hash
    )
    transitions = sorted({f"{j.old_policy_version} -> {j.policy_version}" for j in revision.values()})
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "transitions": transitions,
        "partitions_rejudged": len(revision),
        "partitions_awaiting_backfill": stale,
        "clauses": clauses,
    }
