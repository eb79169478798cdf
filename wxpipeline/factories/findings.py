"""The findings-asset factory: `{domain}_findings` runs every clause of a domain for the partition
day, writes the findings to the SQL store and reports one asset check per clause."""

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

import dagster as dg
import polars as pl

from wxpipeline import times
from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.checks.registry import Clause, clauses_for
from wxpipeline.coverage import domain_coverage, with_coverage
from wxpipeline.factories import OWNERS
from wxpipeline.lineage import Upstream, asset_dep
from wxpipeline.nightly import AS_OF_TAG, CAUSE_TAG
from wxpipeline.partitions import DAILY, ONE_RUN_PER_DAY, partition_day
from wxpipeline.policy import PolicyVersion
from wxpipeline.reports.markdown import markdown_table
from wxpipeline.resources.calendar import CalendarResource, PrcCalendar
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.staged_io import StagedStore, staged_store
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import settings
from wxpipeline.store import findings as findings_store
from wxpipeline.store import triage as triage_store


def reference_blockers(instance: dg.DagsterInstance, deps: list) -> list[str]:
    """Contracts of the reference tables among `deps` whose latest evaluation failed.

    Reference tables are refreshed by their own run (`refresh_reference`, or the nightly job),
    so a day's judgement cannot rely on the asset graph's blocking alone: it asks the instance.
    """
    keys = [dg.AssetCheckKey(d.key, f"{d.key.path[-1]}_contract") for d in deps
            if isinstance(d, dg.AssetsDefinition) and d.group_names_by_key.get(d.key) == "reference"]
    if not keys:
        return []
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    return sorted(k.name for k, rec in latest.items() if rec.status == AssetCheckExecutionRecordStatus.FAILED)


@dataclass
class JudgeContext:
    """What a domain's frame builder gets to assemble the frames its rules read."""

    day: date
    partition_key: str
    policy: PolicyVersion
    calendar: PrcCalendar
    exports: ExportsFolder
    staged: StagedStore
    upstream: "Upstream | None" = None  # the staged partitions the findings asset declared

def check_name(clause_id: str) -> str:
    """Dagster names allow only [A-Za-z0-9_], so clause PAY-01 is check PAY_01."""
    return clause_id.replace("-", "_")


def findings_code_version(domain: str, policy_location: str | None = None) -> str:
    """What a domain's findings depend on besides the exports: every policy version's settings for
    the domain's clauses, calendar overrides and word lists, plus the rules' versions. A policy
    revision therefore marks the findings asset changed in the UI, and editing another domain's
    clause does not."""
    clauses = clauses_for(domain)
    h = hashlib.sha256()
    from wxpipeline.resources.policy import loaded_policy  # one load per process for the four domains

    for pv in loaded_policy(policy_location if policy_location is not None else settings().policy or "").versions:
        h.update(f"{pv.version}|{pv.effective_from}|{pv.calendar.model_dump_json()}".encode())
        for c in clauses:
            h.update(f"{c.id}|{c.rule_version}|{pv.clauses[c.id].model_dump_json()}".encode())
        for category in sorted(pv.word_lists):
            h.update(category.encode() + pv.word_list_path(category).read_bytes())
    if not clauses:
        h.update(domain.encode())
    return h.hexdigest()[:12]


def _check_result(clause: Clause, policy: PolicyVersion, rows: list[dict], diff, enabled: bool,
                  day: date) -> dg.AssetCheckResult:
    counted = [r for r in rows if r["counted"]]
    new, resolved, kept = diff.for_clause(clause.id)
    examples = pl.DataFrame(
        [{k: r[k] for k in ("subject_id", "employee_id", "group_id", "summary", "case_status")} for r in rows[:20]],
        schema={"subject_id": pl.String, "employee_id": pl.String, "group_id": pl.String,
                "summary": pl.String, "case_status": pl.String},
    )
    return dg.AssetCheckResult(
        check_name=check_name(clause.id),
        passed=not counted,
        severity=dg.AssetCheckSeverity.WARN,
        # the UI's check history shows this line per day
        description=(f"{day} {clause.id} {clause.title}：" + (
            f"{len(counted)} 条未关闭" + (f"（另有 {len(rows) - len(counted)} 条已抑制）" if len(rows) > len(counted) else "")
            if counted else ("无未关闭发现" if enabled else "本日政策未启用该条款"))),
        metadata={
            "day": dg.MetadataValue.text(day.isoformat()),
            "findings": dg.MetadataValue.int(len(rows)),
            "failing": dg.MetadataValue.int(len(counted)),
            "suppressed": dg.MetadataValue.int(len(rows) - len(counted)),
            "new": dg.MetadataValue.int(len(new)),
            "resolved": dg.MetadataValue.int(len(resolved)),
            "kept": dg.MetadataValue.int(len(kept)),
            "new_subjects": dg.MetadataValue.json([r["subject_id"] for r in new][:50]),
            "resolved_subjects": dg.MetadataValue.json([r["subject_id"] for r in resolved][:50]),
            "kept_subjects": dg.MetadataValue.json([r["subject_id"] for r in kept][:50]),
            "previous_policy_version": dg.MetadataValue.text(diff.old_policy_version or "(first judgement)"),
            "examples": dg.MetadataValue.md(markdown_table(examples)),
            "clause": dg.MetadataValue.text(clause.text),
            "source": dg.MetadataValue.text(clause.source),
            "policy_version": dg.MetadataValue.text(policy.version),
            "enabled": dg.MetadataValue.bool(enabled),
        },
    )


# The findings assets of a run (and of every day of a `wxpipeline run` period, one process) take the
# same exports inventory for their coverage; building it costs ~0.1 s per asset at the demo's size (a
# parse-cache lookup and sidecar read per file, the preamble of every bill). It is reused while every
# listed file keeps its size, mtime, ctime and mode (ctime also moves on a chmod, which can make a
# refused file readable); any other change to the folder builds it again.
_INVENTORY: dict[tuple, dict] = {}


def exports_inventory(exports: ExportsFolder) -> dict:
    """`arrival.inventory(exports)`, reused while the folder's files are unchanged."""
    from wxpipeline.arrival import inventory, list_files

    key: list = [exports.exports_dir, exports.cache_dir]
    for rel, pairs in sorted(list_files(exports).items()):
        try:
            st = pairs[0][1].stat()
        except OSError:  # gone while listing: build it afresh, keep nothing
            return inventory(exports)
        key.append((rel, tuple(k for k, _ in pairs), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode))
    frozen = tuple(key)
    if frozen not in _INVENTORY:
        _INVENTORY.clear()
        _INVENTORY[frozen] = inventory(exports)
    return _INVENTORY[frozen]


def judge_coverage(domain: str, day: date, exports: ExportsFolder, pv: PolicyVersion, context, store: StagedStore):
    """Whether the day's expected inputs have arrived, as of the run's `wxpipeline/as_of` tag
    (a simulated night) or now."""
    as_of_tag = context.run.tags.get(AS_OF_TAG)
    as_of = datetime.fromisoformat(as_of_tag) if as_of_tag else times.now()
    pay_accounts = store.read("pay_accounts") if store.path("pay_accounts", None).exists() else None
    return domain_coverage(domain, day, exports_inventory(exports), pv, as_of, pay_accounts)


CLAUSE_WORKERS = 2  # clauses judged at a time (the machine this runs on has two cores)


def run_clauses(clauses: list[Clause], frames: dict[str, pl.DataFrame], pv: PolicyVersion,
                day: date) -> list[pl.DataFrame]:
    """Each clause's findings, in the order of `clauses`. Two clauses at a time: a rule is a pure
    function of frames nobody mutates, and most of a rule's polars work is one-threaded (small
    frames, string kernels on one chunk), so the second core takes the next clause (polars
    releases the GIL; no rule calls back into Python from polars' threads)."""
    if len(clauses) < 2:
        return [c.run(frames, pv.params(c.id), day) for c in clauses]
    with ThreadPoolExecutor(max_workers=CLAUSE_WORKERS) as pool:
        return list(pool.map(lambda c: c.run(frames, pv.params(c.id), day), clauses))


def build_findings_asset(
    domain: str,
    *,
    deps: list,
    build_frames: Callable[[JudgeContext], dict[str, pl.DataFrame]],
    description: str,
    uses_calendar: bool = False,
) -> dg.AssetsDefinition:
    """`{domain}_findings`: runs every clause of the domain for the partition day, replaces that
    day's findings in the SQL store in one transaction, and reports one asset check per clause."""
    clauses = clauses_for(domain)
    asset_name = f"{domain}_findings"
    # partitions_def on each spec: without it Dagster stores the result with no day and leaves the
    # day's planned execution PLANNED for ever (the asset's partitions are not inherited).
    specs = [
        dg.AssetCheckSpec(name=check_name(c.id), asset=asset_name, partitions_def=DAILY,
                          description=f"{c.id} {c.title}：{c.text}（来源：{c.source}）")
        for c in clauses
    ]
    if uses_calendar:
        specs.append(dg.AssetCheckSpec(
            name="calendar_known", asset=asset_name, partitions_def=DAILY,
            description="The PRC calendar library knows the partition year (else Monday–Friday is assumed).",
        ))

    @dg.asset(
        name=asset_name,
        group_name=domain,
        partitions_def=DAILY,
        backfill_policy=ONE_RUN_PER_DAY,
        # other days through partition mappings whose widths come from the policy (lineage.py)
        deps=[asset_dep(a, asset_name) for a in deps],
        check_specs=specs,
        kinds={"polars", "sql"},
        owners=OWNERS,
        code_version=findings_code_version(domain),
        description=description,
    )
    def _findings(
        context: dg.AssetExecutionContext,
        exports: ExportsFolder,
        warehouse: Warehouse,
        policy: PolicyResource,
        calendar: CalendarResource,
    ):
        day = partition_day(context)
        blockers = reference_blockers(context.instance, deps)
        if blockers:
            raise dg.Failure(
                description=f"{domain} {day} not judged: reference contract(s) {', '.join(blockers)} failed on the "
                            "last refresh of the reference data; fix reference/ and re-run (see the check's failures)",
                metadata={"failed_contracts": dg.MetadataValue.json(blockers)},
            )
        pv = policy.for_day(day)
        cal = calendar.for_policy(pv)
        store = staged_store()
        jc = JudgeContext(day, context.partition_key, pv, cal, exports, store, Upstream(asset_name, day, store))
        frames = build_frames(jc)
        if uses_calendar:
            frames.setdefault("calendar", cal.frame(day, day))
        found = run_clauses([c for c in clauses if pv.clause(c.id).enabled], frames, pv, day)
        findings = pl.concat(found) if found else pl.DataFrame(schema=FINDING_SCHEMA)
        severities = {cid: cfg.severity for cid, cfg in pv.clauses.items()}
        cov = judge_coverage(domain, day, exports, pv, context, store)
        cause = context.run.tags.get(CAUSE_TAG)
        diff = findings_store.replace_partition(warehouse, 
            domain, day, findings, severities, pv.version, context.run_id, policy_hash=pv.content_hash,
            coverage_status=cov.status, inputs=cov.inputs_json(), cause=cause,
        )
        triaged = triage_store.triage(warehouse, domain, day)
        context.log.info(
            f"{domain} {day}: {findings.height} finding(s), {len(diff.new)} new, {len(diff.resolved)} resolved "
            f"(policy {pv.version})"
        )
        checks = [with_coverage(_check_result(c, pv, triaged.get(c.id, []), diff, pv.clause(c.id).enabled, day), cov)
                  for c in clauses]
        if not cov.complete:
            context.log.warning(f"{domain} {day}: {cov.status}: {cov.missing()}")
        if uses_calendar:
            known = bool(cal.frame(day, day)["calendar_known"].all())
            checks.append(dg.AssetCheckResult(
                check_name="calendar_known", passed=known, severity=dg.AssetCheckSeverity.WARN,
                metadata={"note": dg.MetadataValue.text(
                    "calendar library covers this day" if known
                    else f"{day.year} 不在节假日库中：按周一至周五作为工作日判断，调休未计入")},
            ))
        per_clause = {f"findings_{c.id}": dg.MetadataValue.int(len(triaged.get(c.id, []))) for c in clauses}
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(findings.height),
                "new": dg.MetadataValue.int(len(diff.new)),
                "resolved": dg.MetadataValue.int(len(diff.resolved)),
                "policy_version": dg.MetadataValue.text(pv.version),
                "previous_policy_version": dg.MetadataValue.text(diff.old_policy_version or "(first judgement)"),
                "coverage": dg.MetadataValue.text(cov.status),
                "inputs": dg.MetadataValue.json(json.loads(cov.inputs_json())),
                **({"rejudged_because_of": dg.MetadataValue.text(cause)} if cause else {}),
                **per_clause,
            },
            check_results=checks,
        )

    return _findings
