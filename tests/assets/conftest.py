"""Shared set-up for in-process materialization tests: an isolated WXPIPELINE_HOME per test."""

import dagster as dg

from wxpipeline.assets.common import pipeline_resources


def materialize_day(definitions: list, day: str, **kwargs):
    """Materialize assets and checks for one partition with resources from the current env."""
    return dg.materialize(definitions, partition_key=day, resources=pipeline_resources(),
                          raise_on_error=False, **kwargs)


def stage(definitions: list, *days: str) -> None:
    """Stage the given days' partitions of the staged tables among `definitions` (what `run` and
    the exports sensor do before judging): a day's rules read its neighbours from the staged store."""
    from wxpipeline.lineage import STAGED

    names = [k.path[-1] for a in definitions if isinstance(a, dg.AssetsDefinition) for k in a.keys
             if k.path[-1] in STAGED]
    for day in days:
        result = dg.materialize(definitions, partition_key=day, resources=pipeline_resources(),
                                selection=dg.AssetSelection.assets(*names), raise_on_error=False)
        assert result.success, day
