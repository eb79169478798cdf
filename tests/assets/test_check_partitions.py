"""Clause checks belong to their day in the Dagster instance: every execution record of a
findings check carries its partition and ends SUCCEEDED/FAILED (none without a day, none left
PLANNED), so the UI's check history lists days."""

import dagster as dg
import pytest

from wxpipeline.resources import build_resources
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks

from .exports_fixture import write_exports

FINAL = {"SUCCEEDED", "FAILED"}  # AssetCheckExecutionRecordStatus values (not exported by dagster)


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_exports(tmp_path / "exports")
    return tmp_path


def test_clause_check_executions_carry_their_day(env):
    days = ["2026-09-22", "2026-09-23"]
    (env / "dagster").mkdir()
    with dg.DagsterInstance.local_temp(str(env / "dagster")) as instance:
        for day in days:
            result = dg.materialize(
                [*reference_assets, *payments_assets, *reference_checks, *payments_checks],
                partition_key=day, resources=build_resources(), instance=instance, raise_on_error=False,
            )
            assert result.success
        storage = instance.event_log_storage
        for name in ("PAY_01", "PAY_02", "calendar_known", "pay_bills_contract"):
            asset = "pay_bills" if name.endswith("_contract") else "payments_findings"
            records = storage.get_asset_check_execution_history(dg.AssetCheckKey(dg.AssetKey(asset), name), limit=50)
            assert sorted(r.partition for r in records) == days, name
            assert {r.status.value for r in records} <= FINAL, name
        pay02 = storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("payments_findings"), "PAY_02"), limit=50)
        failing = [r for r in pay02 if r.status.value == "FAILED"]
        assert failing, "the planted out-of-hours payment fails PAY_02 on its day"
        for r in failing:
            evaluation = r.event.dagster_event.event_specific_data
            assert evaluation.partition == r.partition
            assert evaluation.metadata["day"].value == r.partition
        # a contract's evaluation targets the materialization its own step recorded for that day
        for r in storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey("pay_bills"), "pay_bills_contract"), limit=50):
            target = r.event.dagster_event.event_specific_data.target_materialization_data
            mat = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("pay_bills"), asset_partitions=[r.partition]), limit=1)
            assert target is not None and target.run_id == r.run_id
            assert target.storage_id == mat.records[0].storage_id
