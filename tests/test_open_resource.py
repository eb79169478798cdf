"""Resources opened outside a run (the CLI): environment variables resolved as in a run, built
from their configuration without an in-memory Dagster instance (none of ours has init hooks)."""

import dagster as dg
import pytest

from wxpipeline import resources


def test_open_resource_resolves_environment_without_an_instance(isolated_home, monkeypatch):
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
    assert isinstance(resources.open_resource("staged_io"), dg.ConfigurableIOManager)
    assert made == []


def test_open_resource_default_path_and_unknown_key(isolated_home, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", "")  # unset: the default under the home
    assert resources.exports_folder().exports_dir.endswith("exports")
    with pytest.raises(KeyError):
        resources.open_resource("no_such_resource")


class _WithSetup(dg.ConfigurableResource):
    name: str

    def setup_for_execution(self, context) -> None:
        self._ready = context.resource_config["name"]


def test_a_resource_with_an_init_hook_is_still_initialised_by_dagster(isolated_home, monkeypatch):
    monkeypatch.setattr(resources, "build_resources", lambda: {"x": _WithSetup(name="n")})
    assert resources.open_resource("x")._ready == "n"
