"""Coverage: have a domain-day's expected inputs arrived? A day judged before its inputs arrive is
*awaiting data* (its findings are provisional and its checks do not pass), and *overdue* once the
policy's tolerated delay for the missing export kind has passed (`arrival:` in the policy).

Judged from the exports folder's inventory (arrival.py: each file's record days and latest record
time, from the parse cache), not from the records themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dagster as dg
import polars as pl

from wxpipeline.arrival import FileInfo
from wxpipeline.lineage import DOMAIN_KINDS
from wxpipeline.times import day_start

COMPLETE, AWAITING, OVERDUE, NOT_EXPECTED = "complete", "awaiting_data", "overdue", "not_expected"
LABELS_ZH = {COMPLETE: "数据齐全", AWAITING: "等待数据", OVERDUE: "数据逾期", NOT_EXPECTED: "不要求"}


@dataclass
class KindCoverage:
    kind: str
    status: str
    files: list[str] = field(default_factory=list)  # files with records on the day
    latest: str | None = None  # latest record time of the kind in the folder
    missing: str = ""  # what has not arrived, for ops

    def as_dict(self) -> dict:
        return {"files": self.files, "latest_record": self.latest, "status": self.status, "missing": self.missing}


@dataclass
class Coverage:
    status: str
    kinds: list[KindCoverage]

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE

    def inputs_json(self) -> str:
        return json.dumps({k.kind: k.as_dict() for k in self.kinds}, ensure_ascii=False)

    def missing(self) -> str:
        return "; ".join(f"{k.kind}: {k.missing}" for k in self.kinds if k.status in (AWAITING, OVERDUE))


def _registered_accounts(pay_accounts: pl.DataFrame | None, day: date) -> list[str]:
    if pay_accounts is None or pay_accounts.height == 0:
        return []
    active = pay_accounts.filter(
        (pl.col("approved_on").is_null() | (pl.col("approved_on") <= day))
        & (pl.col("revoked_on").is_null() | (pl.col("revoked_on") > day))
    )
    return sorted(active["account_nickname"].drop_nulls().to_list())


def kind_coverage(kind: str, files: list[FileInfo], day: date, expectation, as_of: datetime,
                  pay_accounts: pl.DataFrame | None = None) -> KindCoverage:
    iso = day.isoformat()
    on_day = sorted(f.path for f in files if iso in f.days)
    latests = [datetime.fromisoformat(f.latest) for f in files if f.latest]
    latest = max(latests) if latests else None
    start, end = day_start(day), day_start(day + timedelta(days=1))
    rule = expectation.coverage if expectation is not None else "none"
    missing = ""
    if rule == "none":
        status = NOT_EXPECTED
    else:
        if rule == "reaches_day_end":
            ok = latest is not None and latest >= end
            missing = "" if ok else f"no record at or after {end:%Y-%m-%d %H:%M} (latest {latest or 'none'})"
        elif rule == "snapshot_on_or_after":
            ok = latest is not None and latest >= start
            missing = "" if ok else f"no snapshot on or after {day} (latest {latest or 'none'})"
        else:  # per_pay_account: every registered account's bills reach the end of the day
            reach: dict[str, datetime] = {}
            for f in files:
                for acc, (_, last) in f.accounts.items():
                    t = datetime.fromisoformat(last)
                    reach[acc] = max(reach.get(acc, t), t)
            short = [a for a in _registered_accounts(pay_accounts, day) if reach.get(a, start) < end]
            ok = not short
            missing = "" if ok else f"no bill export reaching the end of {day} for {len(short)} account(s): " + \
                ", ".join(short[:5]) + (" …" if len(short) > 5 else "")
        if ok:
            status = COMPLETE
        else:
            delay = timedelta(days=expectation.tolerated_delay_days)
            status = OVERDUE if as_of > end + delay else AWAITING
    return KindCoverage(kind, status, on_day, latest.isoformat() if latest else None, missing)


def domain_coverage(domain: str, day: date, inventory: dict[str, list[FileInfo]], policy, as_of: datetime,
                    pay_accounts: pl.DataFrame | None = None) -> Coverage:
    by_kind: dict[str, list[FileInfo]] = {}
    for infos in inventory.values():
        for info in infos:
            if not info.rejected:
                by_kind.setdefault(info.kind, []).append(info)
    kinds = [
        kind_coverage(k, by_kind.get(k, []), day, policy.arrival.get(k), as_of, pay_accounts)
        for k in DOMAIN_KINDS.get(domain, ())
    ]
    statuses = {k.status for k in kinds}
    status = OVERDUE if OVERDUE in statuses else AWAITING if AWAITING in statuses else COMPLETE
    return Coverage(status, kinds)


def with_coverage(result: dg.AssetCheckResult, cov: Coverage) -> dg.AssetCheckResult:
    """A clause check on a day whose inputs have not all arrived: never passed. WARN, because the
    findings so far stand (they are provisional); the metadata says what is missing."""
    meta = dict(result.metadata or {})
    meta["coverage"] = dg.MetadataValue.text(cov.status)
    if not cov.complete:
        meta["missing_inputs"] = dg.MetadataValue.text(cov.missing())
    return dg.AssetCheckResult(
        check_name=result.check_name,
        passed=bool(result.passed) and cov.complete,
        severity=result.severity,
        metadata=meta,
        description=result.description if cov.complete
        else f"{result.description or result.check_name}（{LABELS_ZH[cov.status]}：{cov.missing()}）",
    )
