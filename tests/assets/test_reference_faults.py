"""Issue 12 #6: bad reference data is caught by its blocking contract, before deduplication, and
stops judging (the payments findings are not written) instead of silently changing findings."""

import dagster as dg
import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.resources import build_resources
from wxpipeline.factories.findings import reference_blockers
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.store.tables import Finding

from .exports_fixture import write_exports


def _edit(path, old, new):
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


DEFECTS = {
    # a duplicate employee_id: deduplicating first would let the last row win silently
    "duplicate_employee": ("roster.csv", "E0002,李娜", "E0001,李娜", "roster_contract"),
    # leave before hire would make ACC-01 see a leaver who never worked
    "leave_before_hire": ("roster.csv", "2020-01-01,,zhangwei", "2020-01-01,2019-06-30,zhangwei", "roster_contract"),
    "valid_to_before_from": ("pay_approvals.csv", "2026-09-22,2026-09-22", "2026-09-22,2026-09-21",
                             "pay_approvals_contract"),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_bad_reference_data_blocks_judging(isolated_home, defect):
    exports = write_exports(isolated_home / "exports")
    file, old, new, contract = DEFECTS[defect]
    _edit(exports / "reference" / file, old, new)
    resources = build_resources()
    with dg.DagsterInstance.ephemeral() as instance:
        ref = dg.materialize([*reference_assets, *reference_checks], resources=resources, instance=instance,
                             raise_on_error=False)
        evals = {e.check_name: e.passed for e in ref.get_asset_check_evaluations()}
        assert evals[contract] is False
        assert all(passed for name, passed in evals.items() if name != contract)
        day = dg.materialize([*payments_assets, *payments_checks], partition_key="2026-09-22", resources=resources,
                             instance=instance, raise_on_error=False, selection=dg.AssetSelection.all())
    assert not day.success
    failure = next(e for e in day.all_events if e.event_type_value == "STEP_FAILURE")
    assert contract in str(failure.event_specific_data.error)
    with warehouse().session() as s:
        assert list(s.exec(select(Finding)).scalars()) == []


def test_unknown_group_type_blocks_the_domains_reading_the_registry(isolated_home):
    exports = write_exports(isolated_home / "exports")
    _edit(exports / "reference/group_registry.csv", ",department,", ",committee,")
    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([*reference_assets, *reference_checks], resources=build_resources(), instance=instance,
                       raise_on_error=False)
        by_name = {a.key.path[-1]: a for a in reference_assets}
        assert reference_blockers(instance, [by_name["group_registry"], by_name["roster"]]) == ["group_registry_contract"]
        # payments do not read the registry: they are judged
        assert reference_blockers(instance, [by_name["pay_accounts"], by_name["roster"]]) == []
