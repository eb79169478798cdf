"""`exports_sensor`: notices files that are new, changed or removed in the exports folder and
gets exactly the affected days re-staged and re-judged.

Run requests, not declarative automation: a re-judgement must read its neighbours' staged
partitions *after* they were re-staged, and Dagster's eager automation condition only targets the
latest partition, so older days (a holiday batch, a corrected export) would need a hand-built
condition the daemon evaluates per asset. The sensor instead works in two phases, kept in its
cursor: (1) one `stage_day` run per touched day (plus `refresh_reference` when a reference file
changed); (2) once those runs have finished, one `judge_day` run per dependent day (lineage.py),
tagged with the files that caused it. One run per partition, as everywhere else.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import dagster as dg

from wxpipeline import arrival, nightly
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import exports_sensor_interval
from wxpipeline.store import findings as findings_store

BATCH_TAG = "wxpipeline/batch"
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _first_partition() -> date:
    from wxpipeline.settings import settings

    return date.fromisoformat(settings().partitions_start)


def evaluate(context: dg.SensorEvaluationContext, exports: ExportsFolder, reference_days: int,
             last: date | None = None, overdue=None) -> dg.SensorResult | dg.SkipReason:
    """`overdue(plan)`, when given, adds the days judged while awaiting data whose tolerated delay
    has passed (nightly.plan_overdue); they are re-judged once (run key per domain-day)."""
    state = json.loads(context.cursor) if context.cursor else {}
    pending = state.get("pending")
    if pending:  # phase 2: judge once the staging runs of the batch are done
        runs = context.instance.get_runs(dg.RunsFilter(tags={BATCH_TAG: pending["batch"]}))
        done = [r for r in runs if r.status in DONE]
        if len(done) < pending["expected"]:
            return dg.SkipReason(f"batch {pending['batch']}: {len(done)}/{pending['expected']} staging run(s) done")
        requests = []
        for d, files in sorted(pending["judge"].items()):
            selection = nightly.judge_selection(set(pending.get("assets", {}).get(d, [])))
            requests.append(dg.RunRequest(
                job_name="judge_day", partition_key=d, run_key=f"{pending['batch']}:judge:{d}",
                tags={nightly.CAUSE_TAG: nightly.cause_tag(files)},
                asset_selection=[dg.AssetKey(a) for a in selection] if selection else None))
        state["pending"] = None
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(state, ensure_ascii=False))

    new = arrival.manifest(arrival.inventory(exports))
    if "manifest" not in state:
        # first evaluation: the nightly state (what `wxpipeline nightly` last judged with) or the
        # folder as it is (judged by the backfill that set the deployment up)
        old = nightly.load_state()
        if not old:
            state["manifest"] = new
            return dg.SensorResult(run_requests=[], cursor=json.dumps(state, ensure_ascii=False),
                                   skip_reason=f"baseline: {len(new)} export file(s) recorded")
        state["manifest"] = old
    changes = arrival.diff(state["manifest"], new)
    plan = nightly.plan_changes(changes, _first_partition(), last or nightly.last_partition(), reference_days)
    if not changes:
        if overdue is not None:
            overdue(plan)
        if not plan.judge:
            return dg.SkipReason("no export file new, changed or removed")
        return dg.SensorResult(run_requests=[
            dg.RunRequest(job_name="judge_day", partition_key=d.isoformat(),
                          run_key=f"overdue:{d}:{','.join(sorted(plan.assets.get(d, [])))}",
                          tags={nightly.CAUSE_TAG: nightly.cause_tag(why)},
                          asset_selection=[dg.AssetKey(a) for a in nightly.judge_selection(plan.assets.get(d))])
            for d, why in sorted(plan.judge.items())
        ], cursor=json.dumps(state, ensure_ascii=False))
    from wxpipeline.resources.staged_io import staged_store

    nightly.stage_missing(plan, staged_store())
    batch = uuid.uuid4().hex[:12]
    requests = []
    if plan.reference:
        requests.append(dg.RunRequest(job_name="refresh_reference", run_key=f"{batch}:reference",
                                      tags={BATCH_TAG: batch, nightly.CAUSE_TAG: nightly.cause_tag(plan.reference)}))
    for d, files in sorted(plan.stage.items()):
        requests.append(dg.RunRequest(job_name="stage_day", partition_key=d.isoformat(), run_key=f"{batch}:stage:{d}",
                                      tags={BATCH_TAG: batch, nightly.CAUSE_TAG: nightly.cause_tag(files)}))
    for ch in changes:
        context.log.info(f"{ch.what} {ch.path}: " + ", ".join(
            f"{k} {min(ds)}..{max(ds)} ({len(ds)} day(s))" if ds else k for k, ds in ch.kinds.items()))
    state["manifest"] = new
    state["pending"] = {"batch": batch, "expected": len(requests),
                        "judge": {d.isoformat(): sorted(f) for d, f in plan.judge.items()},
                        "assets": {d.isoformat(): sorted(a) for d, a in plan.assets.items()}}
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(state, ensure_ascii=False))


def build_exports_sensor(jobs: list) -> dg.SensorDefinition:
    @dg.sensor(
        name="exports_sensor",
        jobs=jobs,
        minimum_interval_seconds=exports_sensor_interval(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches WXPIPELINE_EXPORTS_DIR (reference files too). For files new, changed or removed since its "
            "last evaluation it requests one `stage_day` run per day their records fall on, then, once those "
            "finished, one `judge_day` run per day whose rules read those days (the findings assets' partition "
            "mappings), tagged `wxpipeline/cause` with the files. A night with no change requests nothing; "
            "`nightly_audit` judges yesterday."
        ),
    )
    def exports_sensor(context: dg.SensorEvaluationContext, exports: ExportsFolder, policy: PolicyResource,
                       warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
        last = nightly.last_partition()
        reference_days = policy.for_day(last).windows.reference_rejudge_days

        def overdue(plan) -> None:
            rows = findings_store.coverage_rows(warehouse, _first_partition(), last)
            nightly.plan_overdue(plan, rows, policy.for_day, datetime.now(nightly.TZ))

        return evaluate(context, exports, reference_days, overdue=overdue)

    return exports_sensor
