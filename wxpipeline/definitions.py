"""The code location: every asset and check under `wxpipeline/assets/` (dg autoloading, see
`[tool.dg]` in pyproject.toml), the jobs, schedule and sensors over them, and the resources."""

from pathlib import Path

import dagster as dg

from wxpipeline.automation import build_automation
from wxpipeline.ge_imports import defer_unused_ge_imports
from wxpipeline.resources import resource_defs

# A run the daemon or the UI launches executes in a fresh process that imports this module, not
# the CLI: give it the Great Expectations import `wxpipeline run` has (ge_imports.py, ~1.8 CPU s
# less per run). Nothing has imported GE yet here; the code servers never do.
defer_unused_ge_imports()


def build_defs() -> dg.Definitions:
    assets = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions.merge(assets, build_automation(assets.assets or []), resource_defs())


defs = build_defs()
