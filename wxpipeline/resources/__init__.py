"""Resources, configured from the environment in one place (`build_resources`)."""

from __future__ import annotations

from wxpipeline.resources.calendar import CalendarResource
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import secure_process, settings


def build_resources() -> dict:
    secure_process()  # also on a code-location load by `dagster dev` / the daemon
    from wxpipeline.notify import robot_from_env

    s = settings()
    s.home.mkdir(parents=True, exist_ok=True)
    return {
        "exports": ExportsFolder(exports_dir=str(s.exports_dir), cache_dir=str(s.cache_dir)),
        "warehouse": Warehouse(database_url=s.database_url),
        "policy": PolicyResource(location=s.policy),
        "calendar": CalendarResource(),
        "wecom": robot_from_env(),  # off when WXPIPELINE_WECOM_WEBHOOK is unset
    }


def resource_defs():
    """The resources as a Definitions object (merged into the code location)."""
    import dagster as dg

    from wxpipeline.assets.common import pipeline_resources

    return dg.Definitions(resources=pipeline_resources())
