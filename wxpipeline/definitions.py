"""The code location: every asset and check under `wxpipeline/assets/` (dg autoloading, see
`[tool.dg]` in pyproject.toml), the jobs, schedule and sensors over them, and the resources."""

from pathlib import Path

import dagster as dg

from wxpipeline.automation import build_automation
from wxpipeline.resources import resource_defs


def build_defs() -> dg.Definitions:
    assets = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions.merge(assets, build_automation(assets.assets or []), resource_defs())


defs = build_defs()
