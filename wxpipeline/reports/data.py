"""Everything a daily report shows, read from the findings store into plain Python values.

`collect_report` is the only place that queries: the HTML and workbook writers only format a
`ReportData`. Counts follow the findings checks: a finding is *open* (counted, fails its check)
when its case is open or confirmed and no waiver is in force on its day; false positives,
resolved cases and waived findings are *suppressed* (recorded, not counted).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Iterable

import polars as pl

from wxpipeline.checks.registry import CLAUSES, clauses_for, load_all
from wxpipeline.reports.labels import SEVERITY_ORDER, domain_label
from wxpipeline.reports.masking import evidence_text, mask_text
from wxpipeline.store.tables import Finding
from wxpipeline.store import cases as case_store
from wxpipeline.store import findings as findings_store
from wxpipeline.store import triage as triage_store
from wxpipeline import times
from wxpipeline.gcpause import gc_paused

if TYPE_CHECKING:  # the report code never needs Dagster; the resource is only a findings store here
    from wxpipeline.policy import PolicyVersion
    from wxpipeline.resources.warehouse import Warehouse

WINDOW_DAYS = 30
TOP_N = 10
EXPIRY_WARNING_DAYS = 7
NOT_IN_ROSTER = "（花名册中无此员工）"


@dataclass
class ClauseSummary:
    domain: str
    clause_id: str
    title: str
    text: str
    source: str
    severity: str | None
    enabled: bool
    findings: int = 0
    failing: int = 0
    suppressed: int = 0
    new: int = 0
    resolved: int = 0
    coverage: str | None = None  # the domain-day's input coverage (None: judged before coverage was kept)

    @property
    def awaiting(self) -> bool:
        return self.coverage in ("awaiting_data", "overdue")

    @property
    def passed(self) -> bool:
        return self.failing == 0 and not self.awaiting  # a day without its inputs never passes

    @property
    def outcome(self) -> str:
        if not self.enabled:
            return "未启用"
        if self.awaiting:
            return {"awaiting_data": "等待数据", "overdue": "数据逾期"}[self.coverage]
        return "通过" if self.passed else "未通过"


@dataclass
class DomainTrend:
    domain: str
    dates: list[date]
    by_clause: dict[str, list[int]]  # clause_id -> findings per day (recorded)
    failing: list[int]  # open (counted) findings per day


@dataclass
class ReportData:
    day: date
    generated_at: datetime
    domains: list[str]
    clauses: list[ClauseSummary]
    findings: list[dict]  # the day's findings, masked, with department and status
    new: list[dict]  # on the day, not on the day before
    resolved: list[dict]  # on the day before, not on the day
    trends: list[DomainTrend]
    departments: list[dict]
    groups: list[dict]
    expiring_waivers: list[dict]
    unattributed_open: int = 0  # open findings with no employee (not in the department ranking)
    calendar_note: str | None = None
    policy_version: str | None = None
    window_days: int = WINDOW_DAYS
    clause_titles: dict[str, str] = field(default_factory=dict)
    coverage: list[dict] = field(default_factory=list)  # per domain: status, missing inputs, files
    late_changes: list[dict] = field(default_factory=list)  # findings that appeared/disappeared on re-judging

    @property
    def yesterday(self) -> date:
        return self.day - timedelta(days=1)

    def clauses_of(self, domain: str) -> list[ClauseSummary]:
        return [c for c in self.clauses if c.domain == domain]

    def findings_of(self, domain: str) -> list[dict]:
        return [f for f in self.findings if f["domain"] == domain]

    def domain_label(self, domain: str) -> str:
        return domain_label(domain)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "findings": len(self.findings),
            "failing": sum(1 for f in self.findings if f["counted"]),
            "suppressed": sum(1 for f in self.findings if not f["counted"]),
            "new": len(self.new),
            "resolved": len(self.resolved),
            "clauses_failed": sum(1 for c in self.clauses if c.enabled and not c.passed),
            "clauses": sum(1 for c in self.clauses if c.enabled),
        }

    def summary_rows(self) -> list[dict]:
        """One row per clause: what the asset metadata table and the workbook summary show."""
        return [
            {
                "domain": c.domain, "clause_id": c.clause_id, "title": c.title, "severity": c.severity,
                "findings": c.findings, "failing": c.failing, "suppressed": c.suppressed, "new": c.new,
                "resolved": c.resolved, "outcome": c.outcome, "text": c.text, "source": c.source,
            }
            for c in self.clauses
        ]


def _lookup(frame: pl.DataFrame | None, key: str, cols: Iterable[str]) -> dict[str, dict]:
    if frame is None or frame.height == 0 or key not in frame.columns:
        return {}
    keep = [key, *[c for c in cols if c in frame.columns]]
    return {r[key]: r for r in frame.select(keep).unique(key, keep="last").iter_rows(named=True)}


class _Masked:
    """`mask_text` of a summary and `evidence_text` of (evidence, clause), each worked out once per
    distinct value of one report (pure functions of their arguments; the 10M bench day's 4,014
    findings hold 29 distinct evidence texts, whose masking and wording per finding cost ~0.3 CPU
    s; a day whose evidence is all distinct pays one dict look-up more per finding)."""

    def __init__(self):
        self.summaries: dict = {}
        self.evidence: dict = {}

    def summary(self, text):
        if text not in self.summaries:
            self.summaries[text] = mask_text(text)
        return self.summaries[text]

    def evidence_text(self, evidence, clause_id):
        key = (evidence, clause_id)
        if key not in self.evidence:
            self.evidence[key] = evidence_text(evidence, clause_id)
        return self.evidence[key]


def _decorate(row: dict, employees: dict[str, dict], groups: dict[str, dict], masked: _Masked) -> dict:
    emp = employees.get(row["employee_id"]) if row.get("employee_id") else None
    grp = groups.get(row["group_id"]) if row.get("group_id") else None
    clause = CLAUSES.get(row["clause_id"])
    return {
        **row,
        "clause_title": clause.title if clause else row["clause_id"],
        "employee_name": (emp or {}).get("name"),
        "department": ((emp or {}).get("department") or NOT_IN_ROSTER) if row.get("employee_id") else None,
        "group_name": (grp or {}).get("group_name"),
        "summary": masked.summary(row["summary"]),
        "evidence_text": masked.evidence_text(row["evidence"], row["clause_id"]),
    }


def _sort_key(r: dict):
    return (r["domain"], r["clause_id"], not r["counted"], SEVERITY_ORDER.get(r.get("severity"), 9), r["subject_id"])


@gc_paused  # thousands of finding dicts on a busy day (gcpause.py)
def collect_report(
    warehouse: "Warehouse",
    day: date,
    domains: list[str] | None = None,
    *,
    roster: pl.DataFrame | None = None,
    group_registry: pl.DataFrame | None = None,
    policy: "PolicyVersion | None" = None,
    calendar_known: bool = True,
    window_days: int = WINDOW_DAYS,
    generated_at: datetime | None = None,
) -> ReportData:
    """Read what the report for `day` shows. `domains`: the findings domains to cover (default:
    every domain in the clause registry or the findings table)."""
    load_all()
    start = day - timedelta(days=window_days - 1)
    where = [Finding.partition_date >= start, Finding.partition_date <= day]
    if domains is not None:
        where.append(Finding.domain.in_(list(domains)))
    rows = triage_store.findings_status(warehouse, where)
    if domains is None:
        domains = sorted({c.domain for c in CLAUSES.values()} | {r["domain"] for r in rows})
    domains = list(dict.fromkeys(domains))

    employees = _lookup(roster, "employee_id", ("name", "department"))
    group_names = _lookup(group_registry, "group_id", ("group_name",))
    masked = _Masked()
    today = sorted((_decorate(r, employees, group_names, masked) for r in rows if r["partition_date"] == day), key=_sort_key)
    before = {r["fingerprint"]: r for r in rows if r["partition_date"] == day - timedelta(days=1)}
    today_fps = {r["fingerprint"] for r in today}
    for r in today:
        r["since_yesterday"] = "持续" if r["fingerprint"] in before else "新增"
    new = [r for r in today if r["fingerprint"] not in before]
    resolved = sorted(
        (_decorate(r, employees, group_names, masked) for fp, r in before.items() if fp not in today_fps), key=_sort_key
    )

    # per-clause summary, in registry order, plus any clause the store has that the registry lost
    summaries: list[ClauseSummary] = []
    for d in domains:
        known = clauses_for(d)
        extra = sorted({r["clause_id"] for r in today + resolved if r["domain"] == d} - {c.id for c in known})
        for c in known:
            cfg = policy.clauses.get(c.id) if policy is not None else None
            summaries.append(ClauseSummary(
                d, c.id, c.title, c.text, c.source, cfg.severity if cfg else None, cfg.enabled if cfg else True,
            ))
        summaries += [ClauseSummary(d, cid, cid, "（登记表中无此条款）", "", None, True) for cid in extra]
    by_id = {(s.domain, s.clause_id): s for s in summaries}
    for r in today:
        s = by_id[(r["domain"], r["clause_id"])]
        s.findings += 1
        s.failing += r["counted"]
        s.suppressed += not r["counted"]
        if s.severity is None:
            s.severity = r["severity"]
    for r in new:
        by_id[(r["domain"], r["clause_id"])].new += 1
    for r in resolved:
        by_id[(r["domain"], r["clause_id"])].resolved += 1

    # 30-day trend per domain
    dates = [start + timedelta(days=i) for i in range(window_days)]
    index = {d: i for i, d in enumerate(dates)}
    trends = []
    for d in domains:
        by_clause = {s.clause_id: [0] * window_days for s in summaries if s.domain == d}
        failing = [0] * window_days
        for r in rows:
            if r["domain"] == d:
                by_clause.setdefault(r["clause_id"], [0] * window_days)[index[r["partition_date"]]] += 1
                failing[index[r["partition_date"]]] += r["counted"]
        trends.append(DomainTrend(d, dates, by_clause, failing))

    # departments and groups with most open findings: on the day, and distinct cases in the window
    dept_day, dept_window = Counter(), defaultdict(set)
    grp_day, grp_window = Counter(), defaultdict(set)
    unattributed = 0
    for r in rows:
        if not r["counted"]:
            continue
        if r.get("employee_id"):
            dept = (employees.get(r["employee_id"]) or {}).get("department") or NOT_IN_ROSTER
            dept_window[dept].add(r["fingerprint"])
            if r["partition_date"] == day:
                dept_day[dept] += 1
        elif r["partition_date"] == day:
            unattributed += 1
        if r.get("group_id"):
            grp_window[r["group_id"]].add(r["fingerprint"])
            if r["partition_date"] == day:
                grp_day[r["group_id"]] += 1
    departments = sorted(
        ({"department": k, "today": dept_day[k], "window": len(v)} for k, v in dept_window.items()),
        key=lambda x: (-x["today"], -x["window"], x["department"]),
    )[:TOP_N]
    groups = sorted(
        (
            {"group_id": k, "group_name": (group_names.get(k) or {}).get("group_name"), "today": grp_day[k],
             "window": len(v)}
            for k, v in grp_window.items()
        ),
        key=lambda x: (-x["today"], -x["window"], x["group_id"]),
    )[:TOP_N]

    waivers = []
    for w in case_store.waivers_expiring(warehouse, day, EXPIRY_WARNING_DAYS):
        covers = sum(1 for r in today if r["waiver_id"] == w.id)
        waivers.append({
            "id": w.id, "clause_id": w.clause_id, "scope": w.subject_pattern if not w.fingerprint else None,
            "subject": _unescape(w.subject_pattern) if w.fingerprint else None, "reason": w.reason,
            "approver": w.approver, "expires_on": w.expires_on, "last_day": w.expires_on - timedelta(days=1),
            "days_left": (w.expires_on - day).days, "covers_today": covers,
        })

    coverage = findings_store.coverage_rows(warehouse, day, day)
    by_domain = {c["domain"]: c["coverage_status"] for c in coverage}
    for s_ in summaries:
        s_.coverage = by_domain.get(s_.domain)
    late = [{**e, "summary": mask_text(e["summary"] or "")} for e in findings_store.late_changes(warehouse, day)]

    note = None
    if not calendar_known:
        note = (
            f"节假日库未收录 {day.year} 年：本日报中涉及工作日的判断（如 PAY-02 工作时间、入职满 3 个工作日等）"
            "按周一至周五为工作日、周六日为休息日处理，未计入法定节假日和调休。请在政策文件的 calendar 中补充当年安排。"
        )

    return ReportData(
        day=day,
        generated_at=generated_at or times.now(),
        domains=domains,
        clauses=summaries,
        findings=today,
        new=new,
        resolved=resolved,
        trends=trends,
        departments=departments,
        groups=groups,
        expiring_waivers=waivers,
        unattributed_open=unattributed,
        calendar_note=note,
        policy_version=policy.version if policy is not None else None,
        window_days=window_days,
        clause_titles={c.clause_id: c.title for c in summaries},
        coverage=[c for c in coverage if domains is None or c["domain"] in domains],
        late_changes=late,
    )


def _unescape(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    return pattern.replace("[*]", "*").replace("[?]", "?").replace("[[]", "[")
