"""Building blocks every domain uses: daily partitions, the staged-parquet IO manager, staged
assets with their blocking input contracts, and the findings-asset factory (one asset check per
clause, findings written to the SQL store)."""


import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Callable

import dagster as dg
import polars as pl

from wxpipeline.checks import contracts
from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.checks.registry import Clause, clauses_for
from wxpipeline.coverage import domain_coverage, with_coverage
from wxpipeline.lineage import Upstream, asset_dep
from wxpipeline.nightly import AS_OF_TAG, CAUSE_TAG
from wxpipeline.policy import PolicyVersion, load_policy
from wxpipeline.resources.calendar import CalendarResource, PrcCalendar
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import file_mode, settings

TZ = "Asia/Shanghai"
OWNERS = ["team:compliance"]
DAILY = dg.DailyPartitionsDefinition(start_date=settings().partitions_start, timezone=TZ)
# One run per partition: Dagster records a partition's check results only from a run that covers
# exactly that partition, and each day then has its own run to inspect or re-execute.
ONE_RUN_PER_DAY = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def partition_day(context) -> date:
    return date.fromisoformat(context.partition_key)


# ---- staged tables ---------------------------------------------------------------------------


class StagedStore:
    """Where staged tables live: WXPIPELINE_HOME/staged/<asset>/<YYYY-MM-DD>.parquet."""

    def __init__(self, base_dir: str | Path):
        self.base = Path(base_dir)

    def path(self, asset: str, partition: str | None) -> Path:
        return self.base / asset / f"{partition}.parquet" if partition else self.base / f"{asset}.parquet"

    def read(self, asset: str, partition: str | None = None) -> pl.DataFrame:
        p = self.path(asset, partition)
        if not p.exists():
            raise FileNotFoundError(f"staged table {asset} {partition or ''} not materialized yet: {p}")
        return pl.read_parquet(p)

    def scan_days(self, asset: str, days: list[date], columns: list[str] | None = None) -> pl.LazyFrame:
        """The staged partitions of `asset` for `days` that exist (a day not staged yet has no
        records to offer), as one lazy frame."""
        files = [p for d in days if (p := self.path(asset, d.isoformat())).exists()]
        if not files:
            return _empty_staged(asset, columns).lazy()
        lf = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore") if len(files) > 1 \
            else pl.scan_parquet(files[0])
        return lf.select(columns) if columns else lf

    def write(self, asset: str, partition: str | None, df: pl.DataFrame | pl.LazyFrame) -> Path:
        """Write-then-rename; a LazyFrame is streamed to the file (never held whole in memory)."""
        p = self.path(asset, partition)
        p.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own per writer: two runs of the same day may stage it at once, and the
        # rename makes whichever finishes last win whole (both wrote the same records)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=".tmp", dir=p.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if isinstance(df, pl.LazyFrame):
                df.sink_parquet(tmp)
            else:
                df.write_parquet(tmp)
            os.chmod(tmp, file_mode())
            os.replace(tmp, p)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return p


def _empty_staged(asset: str, columns: list[str] | None) -> pl.DataFrame:
    from wxpipeline.derive import membership
    from wxpipeline.formats.schemas import SCHEMAS
    from wxpipeline.lineage import STAGED

    schema = dict(membership.SCHEMA) if asset == "wecom_membership_timeline" else SCHEMAS[STAGED[asset][0]]
    df = pl.DataFrame(schema=schema)
    return df.select(columns) if columns else df


class StagedParquetIOManager(dg.ConfigurableIOManager):
    """Stores staged polars frames as parquet, one file per partition, under WXPIPELINE_HOME/staged."""

    base_dir: str

    def _key(self, context) -> tuple[str, str | None]:
        name = context.asset_key.path[-1]
        # has_asset_partitions, not has_partition_key: an unpartitioned asset in a partitioned run
        # still sees the run's partition key.
        return name, (context.asset_partition_key if context.has_asset_partitions else None)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame) -> None:
        path = StagedStore(self.base_dir).write(*self._key(context), obj)
        if isinstance(obj, pl.LazyFrame):  # its size is known once written
            head = pl.scan_parquet(path).head(5).collect()
            context.add_output_metadata({
                "dagster/row_count": dg.MetadataValue.int(pl.scan_parquet(path).select(pl.len()).collect().item()),
                "preview": dg.MetadataValue.md(preview(head)),  # masked: the event log is readable by every UI user
            })

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame:
        """A DataFrame, or a LazyFrame scan when the input is annotated `pl.LazyFrame` (a reader
        that needs a few columns then reads only those)."""
        if context.dagster_type.typing_type is pl.LazyFrame:
            name, partition = self._key(context)
            path = StagedStore(self.base_dir).path(name, partition)
            if not path.exists():
                raise FileNotFoundError(f"staged table {name} {partition or ''} not materialized yet: {path}")
            return pl.scan_parquet(path)
        return StagedStore(self.base_dir).read(*self._key(context))


def pipeline_resources() -> dict:
    """Every resource the assets need, configured from the environment as it is now."""
    from wxpipeline.resources import build_resources

    return {**build_resources(), "staged_io": StagedParquetIOManager(base_dir=str(settings().staged_dir))}


def staged_store() -> StagedStore:
    return StagedStore(settings().staged_dir)


# free text and contact columns stay out of the UI's event log; other cells are masked
PREVIEW_DROPPED = ("source_file", "text", "content", "content_text", "notice", "digest", "phone", "note", "urls")


def preview(df: pl.DataFrame, rows: int = 5) -> str:
    """A few staged rows for the UI, PII masked (the event log is readable by every UI user)."""
    from wxpipeline.reports.masking import mask_text

    head = df.drop(*PREVIEW_DROPPED, strict=False).head(rows)
    masked = head.select(pl.col(c).cast(pl.String).map_elements(mask_text, return_dtype=pl.String)
                         if head.schema[c] == pl.String else pl.col(c) for c in head.columns)
    return markdown_table(masked)


def _ingest_metadata(df: pl.DataFrame | None, files: list[str], rejects: list, new_quarantined: int,
                     encodings: dict | None = None) -> dict:
    refused = sorted({r.file for r in rejects if r.reason.startswith("file rejected")})
    meta = {
        "file_encodings": dg.MetadataValue.json(encodings or {}),
        "refused_files": dg.MetadataValue.json(refused),
        "source_files": dg.MetadataValue.int(len(files)),
        "quarantined_records": dg.MetadataValue.int(len(rejects)),
        "newly_quarantined": dg.MetadataValue.int(new_quarantined),
    }
    if df is not None:  # else the IO manager adds them once the frame is written
        meta["dagster/row_count"] = dg.MetadataValue.int(df.height)
        meta["preview"] = dg.MetadataValue.md(preview(df))
    return meta


def build_staged_asset(name: str, kind: str, group: str, description: str) -> dg.AssetsDefinition:
    """A daily-partitioned staged table: the records of `kind` whose own timestamp is that day."""
    from wxpipeline.assets.exports_specs import export_key

    @dg.asset(
        name=name,
        group_name=group,
        deps=[export_key(kind)],
        partitions_def=DAILY,
        backfill_policy=ONE_RUN_PER_DAY,
        io_manager_key="staged_io",
        kinds={"polars", "parquet"},
        owners=OWNERS,
        description=description,
    )
    def _staged(context: dg.AssetExecutionContext, exports: ExportsFolder, warehouse: Warehouse) -> dg.Output:
        from wxpipeline.arrival import require_exports

        require_exports(exports.exports_dir)  # a missing or empty folder is an error, never a clean day
        # streamed to the staged file by the IO manager, which adds row count and preview
        day, scan = exports.day_lazy(kind, partition_day(context))
        fresh = warehouse.quarantine(kind, scan.rejects, context.run_id)
        if scan.rejects:
            context.log.warning(f"{kind}: {len(scan.rejects)} record(s) in quarantine ({fresh} new); see `quarantine` table")
        return dg.Output(day, metadata=_ingest_metadata(None, scan.files, scan.rejects, fresh, scan.encodings()))

    return _staged


def build_reference_asset(name: str, kind: str, description: str) -> dg.AssetsDefinition:
    """An unpartitioned reference table, read as of the partition day by the rules. Its blocking
    contract stops every run that reads it while it fails (see `reference_blockers`)."""
    from wxpipeline.assets.exports_specs import export_key

    @dg.asset(
        name=name,
        group_name="reference",
        deps=[export_key(kind)],
        io_manager_key="staged_io",
        kinds={"polars", "parquet"},
        owners=OWNERS,
        description=description,
    )
    def _reference(context: dg.AssetExecutionContext, exports: ExportsFolder, warehouse: Warehouse) -> dg.Output:
        scan = exports.scan(kind)
        # staged as read, duplicates included: the blocking contract must see a repeated key
        # (deduplicating first would let the last row win silently)
        df = scan.raw.collect()
        fresh = warehouse.quarantine(kind, scan.rejects, context.run_id)
        return dg.Output(df, metadata=_ingest_metadata(df, scan.files, scan.rejects, fresh, scan.encodings()))

    return _reference


def build_contract_check(asset: dg.AssetsDefinition, table: str) -> dg.AssetChecksDefinition:
    """Blocking input contract (Great Expectations): a malformed export stops the domain here."""
    c = contracts.CONTRACTS[table]

    @dg.asset_check(
        asset=asset,
        name=f"{table}_contract",
        blocking=True,
        partitions_def=asset.partitions_def,  # judge the partition the run staged, not all of them
        description=f"Input contract (Great Expectations), blocking: {c.describe()}",
    )
    def _check(staged: pl.LazyFrame) -> dg.AssetCheckResult:
        r = contracts.validate(table, staged)  # lazy: reads only the columns the contract names
        return dg.AssetCheckResult(
            passed=r.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows": dg.MetadataValue.int(r.rows),
                "failed_expectations": dg.MetadataValue.int(len(r.failures)),
                "failures": dg.MetadataValue.json(r.failures),
            },
        )

    return _check


# ---- findings ---------------------------------------------------------------------------------


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


def markdown_table(df: pl.DataFrame) -> str:
    if df.height == 0:
        return "_none_"
    cols = df.columns
    rows = [[("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ") for v in r] for r in df.rows()]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


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
    for pv in load_policy(policy_location if policy_location is not None else settings().policy or None).versions:
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


def judge_coverage(domain: str, day: date, exports: ExportsFolder, pv: PolicyVersion, context, store: StagedStore):
    """Whether the day's expected inputs have arrived, as of the run's `wxpipeline/as_of` tag
    (a simulated night) or now."""
    from wxpipeline.arrival import inventory

    as_of_tag = context.run.tags.get(AS_OF_TAG)
    as_of = datetime.fromisoformat(as_of_tag) if as_of_tag else datetime.now(ZoneInfo(TZ))
    pay_accounts = store.read("pay_accounts") if store.path("pay_accounts", None).exists() else None
    return domain_coverage(domain, day, inventory(exports), pv, as_of, pay_accounts)


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
        found = []
        for c in clauses:
            if pv.clause(c.id).enabled:
                found.append(c.run(frames, pv.params(c.id), day))
        findings = pl.concat(found) if found else pl.DataFrame(schema=FINDING_SCHEMA)
        severities = {cid: cfg.severity for cid, cfg in pv.clauses.items()}
        cov = judge_coverage(domain, day, exports, pv, context, store)
        cause = context.run.tags.get(CAUSE_TAG)
        diff = warehouse.replace_partition(
            domain, day, findings, severities, pv.version, context.run_id, policy_hash=pv.content_hash,
            coverage_status=cov.status, inputs=cov.inputs_json(), cause=cause,
        )
        triaged = warehouse.triage(domain, day)
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
