"""Shared set-up for in-process materialization tests: an isolated WXPIPELINE_HOME per test."""

import dagster as dg

import shutil

import pytest

from wxpipeline.resources import build_resources
from wxpipeline.policy import PACKAGED_POLICY_DIR


@pytest.fixture()
def policy_folder(isolated_home, monkeypatch):
    """An isolated home whose WXPIPELINE_POLICY is a copy of the packaged policy folder (word lists
    included), for tests that add or edit policy versions. Returns the folder."""
    folder = isolated_home / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("WXPIPELINE_POLICY", str(folder))
    return folder


def materialize_day(definitions: list, day: str, **kwargs):
    """Materialize assets and checks for one partition with resources from the current env."""
    return dg.materialize(definitions, partition_key=day, resources=build_resources(),
                          raise_on_error=False, **kwargs)


def stage(definitions: list, *days: str) -> None:
    """Stage the given days' partitions of the staged tables among `definitions` (what `run` and
    the exports sensor do before judging): a day's rules read its neighbours from the staged store."""
    from wxpipeline.lineage import STAGED

    names = [k.path[-1] for a in definitions if isinstance(a, dg.AssetsDefinition) for k in a.keys
             if k.path[-1] in STAGED]
    for day in days:
        result = dg.materialize(definitions, partition_key=day, resources=build_resources(),
                                selection=dg.AssetSelection.assets(*names), raise_on_error=False)
        assert result.success, day
