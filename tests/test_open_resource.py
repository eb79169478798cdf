"""Resources opened outside a run (the CLI): environment variables resolved as in a run, one
in-memory Dagster instance per process rather than one per call."""

import dagster as dg
import pytest

from wxpipeline import resources


def test_open_resource_resolves_environment_and_reuses_one_instance(isolated_home, monkeypatch):
    made = []
    ephemeral = dg.DagsterInstance.ephemeral

    def counting_ephemeral(*a, **k):
        made.append(1)
        return ephemeral(*a, **k)

    monkeypatch.setattr(resources, "_INSTANCE", [])
    monkeypatch.setattr(dg.DagsterInstance, "ephemeral", staticmethod(counting_ephemeral))
    elsewhere = isolated_home / "elsewhere"
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(elsewhere))
    assert resources.exports_folder().exports_dir == str(elsewhere)  # dg.EnvVar resolved
    assert resources.warehouse().database_url.endswith("findings.db")
    assert resources.open_resource("wecom").enabled is False
    assert len(made) == 1


def test_open_resource_default_path_and_unknown_key(isolated_home, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", "")  # unset: the default under the home
    assert resources.exports_folder().exports_dir.endswith("exports")
    with pytest.raises(KeyError):
        resources.open_resource("no_such_resource")
