"""`reuse_ephemeral_jobs`: one in-process job definition per (job, selection), runs still separate."""

import dagster as dg

from wxpipeline.dagster_jobs import reuse_ephemeral_jobs

DAYS = dg.DailyPartitionsDefinition(start_date="2026-10-01")
SEEN: list[tuple[str, str]] = []


@dg.asset(partitions_def=DAYS)
def left(context: dg.AssetExecutionContext) -> None:
    SEEN.append(("left", context.partition_key))


@dg.asset(partitions_def=DAYS)
def right(context: dg.AssetExecutionContext) -> None:
    SEEN.append(("right", context.partition_key))


def test_same_selection_same_definition_each_run_its_own():
    reuse_ephemeral_jobs()
    job = dg.Definitions(assets=[left, right], jobs=[dg.define_asset_job("j", partitions_def=DAYS)]).resolve_job_def("j")
    one = job.as_ephemeral_job(resource_defs={}, input_values={}, asset_selection=[left.key])
    assert job.as_ephemeral_job(resource_defs={}, input_values={}, asset_selection=[left.key]) is one
    # near miss: another selection is another job
    assert job.as_ephemeral_job(resource_defs={}, input_values={}, asset_selection=[right.key]) is not one
    SEEN.clear()
    with dg.instance_for_test() as instance:
        runs = [job.execute_in_process(partition_key=day, instance=instance, asset_selection=keys)
                for day, keys in (("2026-10-02", [left.key]), ("2026-10-03", [left.key]), ("2026-10-03", None))]
        assert all(r.success for r in runs)
        assert len({r.run_id for r in runs}) == 3
        assert [instance.get_run_by_id(r.run_id).tags["dagster/partition"] for r in runs] == [
            "2026-10-02", "2026-10-03", "2026-10-03"]
    assert SEEN == [("left", "2026-10-02"), ("left", "2026-10-03"), ("left", "2026-10-03"), ("right", "2026-10-03")]


def test_definitions_without_the_component_catalogue_keep_every_asset_and_job():
    from pathlib import Path

    from dagster.components.core import load_defs

    import wxpipeline
    from wxpipeline.dagster_jobs import skip_component_library_metadata

    root = Path(wxpipeline.__file__).parent
    full = dg.load_from_defs_folder(path_within_project=root) if not _skipping(load_defs) else None
    skip_component_library_metadata()
    lean = dg.load_from_defs_folder(path_within_project=root)
    assert load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY not in (lean.metadata or {})
    assert lean.component_tree is not None
    keys = lambda defs: sorted(str(a.key) for a in defs.assets)  # noqa: E731
    assert len(keys(lean)) > 10
    if full is not None:  # near miss: with the catalogue, the same assets, and the catalogue
        assert keys(full) == keys(lean)
        assert load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY in full.metadata


def _skipping(load_defs) -> bool:
    return load_defs.get_library_json_enriched_defs.__name__ == "component_tree_only"
