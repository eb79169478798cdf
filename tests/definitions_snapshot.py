"""A text snapshot of the code location: every asset, check, job, schedule and sensor with what ops
see of it (group, kinds, owners, partitions), one line each, sorted, so a structural change shows
up as a diff of tests/snapshots/definitions.txt in review.

    WXPIPELINE_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/test_definitions.py
rewrites the file after an intended change."""

from __future__ import annotations

import dagster as dg


def _partitions(pd) -> str:
    if pd is None:
        return "-"
    if isinstance(pd, dg.TimeWindowPartitionsDefinition):
        return f"{pd.cron_schedule} {pd.timezone}"
    return type(pd).__name__


def snapshot(defs: dg.Definitions) -> str:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    lines = ["# assets: key | group | kinds | owners | partitions | code_version"]
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        kinds = ",".join(sorted(node.kinds)) or "-"
        owners = ",".join(node.owners) or "-"
        executable = "" if node.is_executable else " (external)"
        version = "policy+rules" if key.path[-1].endswith("_findings") else (node.code_version or "-")
        lines.append(f"{key.to_user_string()}{executable} | {node.group_name} | {kinds} | {owners} | "
                     f"{_partitions(node.partitions_def)} | {version}")
    lines.append("# checks: asset:check | blocking | partitions")
    for ck in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        spec = graph.get_check_spec(ck)
        lines.append(f"{ck.asset_key.to_user_string()}:{ck.name} | {'blocking' if spec.blocking else '-'} | "
                     f"{_partitions(spec.partitions_def)}")
    lines.append("# jobs: name | partitions | assets")
    for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        keys = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        lines.append(f"{job.name} | {_partitions(job.partitions_def)} | {len(keys)}: {' '.join(keys)}")
    lines.append("# schedules: name | cron | timezone | job | default status")
    for s in sorted(repo.schedule_defs, key=lambda s: s.name):
        lines.append(f"{s.name} | {s.cron_schedule} | {s.execution_timezone} | {s.job_name} | "
                     f"{s.default_status.value}")
    lines.append("# sensors: name | type | jobs | default status")
    for s in sorted(repo.sensor_defs, key=lambda s: s.name):
        jobs = " ".join(sorted(t.job_name for t in s.targets)) or "-"
        lines.append(f"{s.name} | {s.sensor_type.value} | {jobs} | {s.default_status.value}")
    return "\n".join(lines) + "\n"
