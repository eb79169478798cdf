"""Factories for the staged side of a domain: a daily staged table cut from one export kind and an
unpartitioned reference table, each with its blocking input contract (Great Expectations).

The contract is an asset check of the table evaluated in the table's own step, right after the
table is written (`check_specs`), not a step of its own: a day's staging run of n tables runs n
steps, not 2n. A step costs Dagster ~5 event-log writes besides the check's evaluation (start,
input, loaded input, output, success), its context and the input's load: for the demo-sized days
around a judged day about a sixth of each staging run. The check is the same to ops: one per
contract, with its name, description, partitions and metadata, blocking (a failed contract fails
the table's step, so the tables and findings after it in the run do not run, and `Executor`
counts the run as blocked), evaluated against the materialization the step just recorded.
"""

import dagster as dg
import polars as pl

from wxpipeline.checks import contracts
from wxpipeline.factories import OWNERS
from wxpipeline.partitions import DAILY, ONE_RUN_PER_DAY, partition_day
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.staged_io import preview
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store import quarantine as quarantine_store


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


def column_schema(schema: dict[str, pl.DataType]) -> dg.TableSchema:
    """A staged table's columns for the UI (`dagster/column_schema`)."""
    return dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in schema.items()])


def parser_definition(kind: str) -> dict:
    """What a table cut from `kind` depends on besides the exports: its parser's version (bumped
    when the parser's output changes, so the UI marks the staged table changed) and its columns."""
    from wxpipeline.formats.registry import EXPORT_KINDS
    from wxpipeline.formats.schemas import export_schema

    return {"code_version": f"parser-v{EXPORT_KINDS[kind].version}",
            "metadata": {"dagster/column_schema": column_schema(export_schema(kind)), "export_kind": kind}}


def build_staged_asset(name: str, kind: str, group: str, description: str) -> dg.AssetsDefinition:
    """A daily-partitioned staged table: the records of `kind` whose own timestamp is that day,
    with the blocking contract of the table of the same name."""
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
        check_specs=[contract_spec(name, name, DAILY)],
        **parser_definition(kind),
    )
    def _staged(context: dg.AssetExecutionContext, exports: ExportsFolder, warehouse: Warehouse):
        from wxpipeline.arrival import require_exports

        require_exports(exports.exports_dir)  # a missing or empty folder is an error, never a clean day
        # streamed to the staged file by the IO manager, which adds row count and preview
        day, scan = exports.day_rows(kind, partition_day(context))
        fresh = quarantine_store.record(warehouse, kind, scan.rejects, context.run_id)
        if scan.rejects:
            context.log.warning(f"{kind}: {len(scan.rejects)} record(s) in quarantine ({fresh} new); see `quarantine` table")
        yield dg.Output(day, metadata=_ingest_metadata(None, scan.files, scan.rejects, fresh, scan.encodings()))
        # the IO manager has written the day when the step resumes here: the contract reads that
        # file, and takes staging's proof that its keys are distinct if it is still that file
        yield contract_result(name, pl.scan_parquet(day.written), day.key_proof())

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
        check_specs=[contract_spec(name, name, None)],
        **parser_definition(kind),
    )
    def _reference(context: dg.AssetExecutionContext, exports: ExportsFolder, warehouse: Warehouse):
        scan = exports.scan(kind)
        # staged as read, duplicates included: the blocking contract must see a repeated key
        # (deduplicating first would let the last row win silently)
        df = scan.raw.collect()
        fresh = quarantine_store.record(warehouse, kind, scan.rejects, context.run_id)
        yield dg.Output(df, metadata=_ingest_metadata(df, scan.files, scan.rejects, fresh, scan.encodings()))
        yield contract_result(name, df)  # the frame the IO manager has just written

    return _reference


def contract_spec(asset: str, table: str, partitions_def) -> dg.AssetCheckSpec:
    """The blocking input contract (Great Expectations) of a staged or reference table: a malformed
    export stops the domain here."""
    c = contracts.CONTRACTS[table]
    return dg.AssetCheckSpec(
        name=f"{table}_contract",
        asset=asset,
        blocking=True,
        partitions_def=partitions_def,  # judge the partition the run staged, not all of them
        description=f"Input contract (Great Expectations), blocking: {c.describe()}",
    )


def contract_result(table: str, staged: pl.DataFrame | pl.LazyFrame, proven=None) -> dg.AssetCheckResult:
    """The contract's verdict on `staged`; `proven`: staging's proof that the file's key is
    distinct (`hashes.DistinctKeys`), used only while it holds for that very file."""
    import time

    started = time.monotonic()
    r = contracts.validate(table, staged, proven)  # lazy: reads only the columns the contract names
    return dg.AssetCheckResult(
        # the check's asset named (the table of the same name, as in `contract_spec`): Dagster
        # then takes the check's key as given instead of resolving it from an evaluation built
        # for that purpose, whose target materialization it looks up in the event log (a query
        # per contract besides the evaluation's own)
        asset_key=dg.AssetKey(table),
        check_name=f"{table}_contract",
        passed=r.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": dg.MetadataValue.int(r.rows),
            # the contract's share of the table's step (it has no step of its own)
            "seconds": dg.MetadataValue.float(round(time.monotonic() - started, 3)),
            "failed_expectations": dg.MetadataValue.int(len(r.failures)),
            "failures": dg.MetadataValue.json(r.failures),
            # who established that the unique key is distinct over every row: "contract" or
            # "staging" (the plan that wrote this very file decided its surviving rows by the key)
            **({"unique_key_proven_by": dg.MetadataValue.text(r.unique_proven_by)} if r.unique_proven_by else {}),
        },
    )
