"""Answers Dagster's SQLite event log asks again and again, kept while `dagster_engines` keeps the
connections open (`kept_connections`): the index's schema and completed data migrations, and the
materialization a check's own step stored. Installed by `dagster_engines.reuse_sqlite_engines`."""

from __future__ import annotations

from wxpipeline.dagster_engines import _KEEPING, _LOCK, _MATERIALIZED, _SCHEMA


def remember_schema(storage) -> None:
    """While connections are kept: a table or an `asset_keys` column found in the index database
    is taken as there for the rest of the runs. Dagster's event log asks for each asset and check
    event (whether the check, tag and asset-key index tables and columns exist, i.e. whether the
    instance was migrated: ~3 schema queries per step, each on a connection of its own). A
    migration only adds tables and columns, so only a positive answer is kept; a missing one is
    asked again. Forgotten with the kept connections (end of the runs, `wipe`).

    Likewise a completed data migration of the index (`has_secondary_index`: a row of the
    `secondary_indexes` table, which Dagster consults ~9 times a staging run to choose how to read
    asset records: 316 queries, ~0.2 CPU s, in a one-day run); such a row is written once the
    migration is done and never removed but by `wipe` (which forgets the kept answers)."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    has_table = storage.has_table

    def has_table_remembered(self, table_name: str) -> bool:
        key = (self._base_dir, "table", table_name)
        if _KEEPING and key in _SCHEMA:
            return True
        found = has_table(self, table_name)
        if found and _KEEPING:
            with _LOCK:
                _SCHEMA.add(key)
        return found

    has_column = SqlEventLogStorage._has_asset_key_col_on_connection

    def has_column_remembered(self, conn, column_name: str) -> bool:
        base = getattr(self, "_base_dir", None)
        key = (base, "asset_keys column", column_name)
        if base is None or not _KEEPING:
            return has_column(self, conn, column_name)
        if key in _SCHEMA:
            return True
        found = has_column(self, conn, column_name)
        if found:
            with _LOCK:
                _SCHEMA.add(key)
        return found

    has_index = SqlEventLogStorage.has_secondary_index

    def has_index_remembered(self, name: str) -> bool:
        base = getattr(self, "_base_dir", None)
        key = (base, "secondary index", name)
        if base is None or not _KEEPING:
            return has_index(self, name)
        if key in _SCHEMA:
            return True
        found = has_index(self, name)
        if found:
            with _LOCK:
                _SCHEMA.add(key)
        return found

    storage.has_table = has_table_remembered
    storage._has_asset_key_col_on_connection = has_column_remembered
    storage.has_secondary_index = has_index_remembered


def remember_materializations() -> None:
    """While connections are kept, a check of a partition its own run materialized names the
    materialization this process stored (storage id, run id, timestamp) instead of asking the index
    for the partition's latest (Dagster does for every check result: a query, asset details, the
    event deserialised; 202 in a one-day run, 0.42-0.45 -> 0.04-0.05 CPU s). `run` and `nightly`
    materialize a day's table in one run, right before its contract in the same step: the index's
    latest is the one just stored. Any other partition is asked of the index as before."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData)
    from dagster._core.definitions.asset_checks.asset_check_result import AssetCheckResult

    lookup = AssetCheckResult._get_partitioned_target_materialization_data

    def remembered(self, step_context, asset_key, partition_key):
        base = getattr(step_context.instance.event_log_storage, "_base_dir", None)
        hit = _MATERIALIZED.get((base, asset_key, partition_key)) if _KEEPING and base else None
        if hit is None or hit[1] != step_context.run_id:
            return lookup(self, step_context, asset_key, partition_key)
        storage_id, run_id, timestamp = hit
        return AssetCheckEvaluationTargetMaterializationData(storage_id=storage_id, run_id=run_id, timestamp=timestamp)

    AssetCheckResult._get_partitioned_target_materialization_data = remembered
