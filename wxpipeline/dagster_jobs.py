"""One in-process job definition per (job, asset selection) for the whole process.

`JobDefinition.execute_in_process` builds a new "ephemeral" job definition (the job with the
in-process executor, subset to the selected assets) on every call, and a new definition has no
cached snapshot: each run then serialises and hashes the whole job twice (the subset and the
job it was cut from, ~50 ms for a day's staging run, more for `judge_day`) to store a snapshot
that is already stored under the same id. `wxpipeline run` executes dozens of runs of the same
four jobs, most with one of a few asset selections: here the ephemeral definition is built once
per (job, selection) and reused. A job definition is immutable and holds no run state (the
daemon and the webserver launch every run of a code location from one definition object);
each run still gets its own execution plan, run record, resources and context.

Installed only by `wxpipeline run` and `nightly` (cli_nightly.py).
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_INSTALLED: list[bool] = []
# (id of the job definition, op selection, asset selection) -> (job definition, ephemeral job),
# and the same for the subsets cut of a job definition;
# the job definition is held so that its id is not reused while the entry lives
_EPHEMERAL: dict[tuple, tuple] = {}


def reuse_ephemeral_jobs() -> None:
    """Patch `JobDefinition.as_ephemeral_job` to memoise the common case (idempotent): no
    resources and no input values passed to `execute_in_process`, which is how `Executor` calls it."""
    if _INSTALLED:
        return
    from dagster._core.definitions.job_definition import JobDefinition

    build = JobDefinition.as_ephemeral_job

    def as_ephemeral_job(self, resource_defs, input_values, op_selection=None, asset_selection=None):
        if resource_defs or input_values:
            return build(self, resource_defs, input_values, op_selection, asset_selection)
        key = (id(self), tuple(op_selection) if op_selection else None,
               frozenset(asset_selection) if asset_selection else None)
        with _LOCK:
            hit = _EPHEMERAL.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        job = build(self, resource_defs, input_values, op_selection, asset_selection)
        with _LOCK:
            _EPHEMERAL[key] = (self, job)
        return job

    subset = JobDefinition.get_subset

    def get_subset(self, *, op_selection=None, asset_selection=None, asset_check_selection=None):
        # the run's record cuts the ephemeral job to the selection once more (a definition,
        # hence a snapshot, per run): the same cut is the same definition
        key = ("subset", id(self), frozenset(op_selection) if op_selection else None,
               frozenset(asset_selection) if asset_selection else None,
               frozenset(asset_check_selection) if asset_check_selection else None)
        with _LOCK:
            hit = _EPHEMERAL.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        job = subset(self, op_selection=op_selection, asset_selection=asset_selection,
                     asset_check_selection=asset_check_selection)
        with _LOCK:
            _EPHEMERAL[key] = (self, job)
        return job

    JobDefinition.as_ephemeral_job = as_ephemeral_job
    JobDefinition.get_subset = get_subset
    _INSTALLED.append(True)


_LIBRARY: list[bool] = []


def skip_component_library_metadata() -> None:
    """Load the definitions without the catalogue of every installed Dagster component type
    (idempotent). `load_from_defs_folder` attaches to the code location, for the UI's component
    browser, the JSON schema and a sample YAML of each component type installed (~0.1 of the
    ~0.6 CPU s that building our definitions takes, measured). A process that only executes runs in
    process never shows them; the webserver and daemon load the code location themselves, with it."""
    if _LIBRARY:
        return
    from dagster.components.core import load_defs

    def component_tree_only(tree):
        import dagster as dg

        return dg.Definitions(component_tree=tree)

    load_defs.get_library_json_enriched_defs = component_tree_only
    _LIBRARY.append(True)
