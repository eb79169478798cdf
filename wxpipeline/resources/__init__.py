"""Every resource, configured in one place and used alike by the definitions, the CLI and the tests.

A setting that is in the environment is passed as `dg.EnvVar`: Dagster resolves it when a run
starts and the UI shows the variable's name, never its value (a PostgreSQL URL's password, the
robot's webhook key). A setting left unset gets its default (paths under WXPIPELINE_HOME)."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from wxpipeline.resources.calendar import CalendarResource
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.staged_io import StagedParquetIOManager
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import secure_process, settings


def _env(name: str, default: str) -> str:
    """`dg.EnvVar(name)` when the variable is set, else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, Any]:
    """The resources under the keys the assets, checks and sensors ask for."""
    from wxpipeline.notify import WeComRobot

    secure_process()  # also on a code-location load by `dg dev` / the daemon
    s = settings()
    s.home.mkdir(parents=True, exist_ok=True)
    return {
        "exports": ExportsFolder(exports_dir=_env("WXPIPELINE_EXPORTS_DIR", str(s.exports_dir)),
                                 cache_dir=str(s.cache_dir)),
        "warehouse": Warehouse(database_url=_env("WXPIPELINE_DATABASE_URL", s.database_url)),
        "policy": PolicyResource(location=_env("WXPIPELINE_POLICY", "")),
        "calendar": CalendarResource(),
        "wecom": WeComRobot(webhook=_env("WXPIPELINE_WECOM_WEBHOOK", "")),  # off when unset
        "staged_io": StagedParquetIOManager(base_dir=str(s.staged_dir)),
    }


def resource_defs() -> dg.Definitions:
    """The resources as a Definitions object, merged into the code location."""
    return dg.Definitions(resources=build_resources())


def open_resource(key: str):
    """One resource with its environment variables resolved, for use outside a Dagster run (the
    CLI, the exports read of `wxpipeline run` and `nightly`, tests). None of ours has nested
    resources or setup/teardown hooks, so it is built from its resolved configuration alone:
    Dagster's init context would build an in-memory Dagster instance that nothing reads. Its
    first one in a process imports Dagster's SQLite storages and Alembic (~0.5 CPU s): a CLI
    command that executes no run never needs them, and `wxpipeline run` no longer pays them
    before its exports read but with the imports for its runs (the instance itself: ~0.05 s)."""
    from dagster._config.post_process import post_process_config

    resource = build_resources()[key]
    config = post_process_config(resource._config_schema.config_type, resource._convert_to_config_dictionary())
    if not config.success:  # the same error process_config_and_initialize raises
        raise dg.DagsterInvalidConfigError("Errors while initializing resource", config.errors, config)
    if resource.nested_resources or type(resource)._is_cm_resource_cls() or _has_setup(resource):
        context = dg.build_init_resource_context(config=config.value, instance=_resource_instance())
        return resource.from_resource_context(context, nested_resources=resource.nested_resources)
    return type(resource)(**config.value)


def _has_setup(resource) -> bool:
    """Whether the resource's class overrides a hook Dagster calls when it initialises one (a
    plain resource or IO manager is its own value)."""
    cls = type(resource)
    return (cls.setup_for_execution is not dg.ConfigurableResource.setup_for_execution
            or cls.create_resource not in (dg.ConfigurableResource.create_resource,
                                           dg.ConfigurableIOManager.create_resource))


_INSTANCE: list = []


def _resource_instance() -> dg.DagsterInstance:
    """The in-memory instance a resource with hooks or nested resources is initialised with
    outside a run (one per process: Dagster's own `process_config_and_initialize` builds one
    per call, ~60 ms each)."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.ephemeral())
    return _INSTANCE[0]


def warehouse() -> Warehouse:
    return open_resource("warehouse")


def exports_folder() -> ExportsFolder:
    return open_resource("exports")
