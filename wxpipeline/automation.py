"""Jobs, the nightly schedule and the sensors, built over whatever assets the defs folder holds
(`wxpipeline/assets/`): a new domain's assets join every job without a change here."""

from __future__ import annotations

from typing import Sequence

import dagster as dg

from wxpipeline.lineage import STAGED
from wxpipeline.notify import NIGHTLY_TAG, wecom_run_failure_alert
from wxpipeline.partitions import DAILY
from wxpipeline.stale_runs import stale_run_sweeper

REFERENCE = dg.AssetSelection.groups("reference")
STAGED_SELECTION = dg.AssetSelection.assets(*STAGED)


def build_automation(assets: Sequence) -> dg.Definitions:
    """The five jobs, `nightly_audit` and the sensors for `assets` (the loaded defs folder)."""
    from wxpipeline.sensors import build_exports_sensor
    from wxpipeline.settings import run_executor

    partitioned = dg.AssetSelection.assets(
        *[a for a in assets if isinstance(a, dg.AssetsDefinition) and a.partitions_def is not None]
    )
    daily_audit = dg.define_asset_job(
        "daily_audit",
        selection=dg.AssetSelection.all(),
        partitions_def=DAILY,
        description="Refresh reference data, stage one day's exports and judge every clause for that day.",
    )
    # `wxpipeline run` over a period: reference data once, then one run per day, then the
    # unpartitioned summaries once (the nightly job does all three for one day).
    refresh_reference = dg.define_asset_job(
        "refresh_reference", selection=REFERENCE, description="Re-read roster, group registry, pay accounts and approvals."
    )
    stage_day = dg.define_asset_job(
        "stage_day",
        selection=STAGED_SELECTION,
        partitions_def=DAILY,
        description="Re-stage one day's records from the exports (with the blocking input contracts).",
    )
    judge_day = dg.define_asset_job(
        "judge_day",
        selection=partitioned - STAGED_SELECTION,
        partitions_def=DAILY,
        description=(
            "Judge every clause for one day from the staged tables (its own day and the days its rules read, "
            "staged beforehand by `stage_day`), and write its report."
        ),
    )
    period_summaries = dg.define_asset_job(
        "period_summaries",
        selection=dg.AssetSelection.all() - partitioned - REFERENCE,
        description="Unpartitioned summaries over all judged days (e.g. the quarterly publishing review).",
    )
    nightly = dg.build_schedule_from_partitioned_job(
        daily_audit,
        hour_of_day=2,
        minute_of_hour=0,
        name="nightly_audit",
        description="02:00 Asia/Shanghai: judge yesterday's exports (and post the day's summary to the WeCom robot).",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={NIGHTLY_TAG: "true"},  # daily_report posts the summary only from nightly runs
    )
    return dg.Definitions(
        jobs=[daily_audit, refresh_reference, stage_day, judge_day, period_summaries],
        schedules=[nightly],
        sensors=[build_exports_sensor([refresh_reference, stage_day, judge_day]), wecom_run_failure_alert,
                 stale_run_sweeper],
        # how runs the daemon or the UI launch execute (settings.run_executor: why in-process by default)
        executor=dg.in_process_executor if run_executor() == "in_process" else dg.multiprocess_executor,
    )
