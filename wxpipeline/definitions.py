"""The one `Definitions` object: assets, checks, resources, jobs, schedules, sensors."""

from __future__ import annotations

import dagster as dg

from wxpipeline.assets.chat import chat_assets, chat_checks
from wxpipeline.assets.common import DAILY, pipeline_resources
from wxpipeline.assets.groups import groups_assets, groups_checks
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.publishing import publishing_assets, publishing_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.assets.wecom import wecom_assets, wecom_checks
from wxpipeline.assets.exports_specs import export_specs
from wxpipeline.assets.reports import build_daily_report
from wxpipeline.lineage import STAGED
from wxpipeline.notify import NIGHTLY_TAG, wecom_run_failure_alert
from wxpipeline.stale_runs import stale_run_sweeper

ALL_ASSETS = [*reference_assets, *payments_assets, *publishing_assets, *wecom_assets, *chat_assets, *groups_assets]
ALL_CHECKS = [*reference_checks, *payments_checks, *publishing_checks, *wecom_checks, *chat_checks, *groups_checks]
# The daily report depends on every `*_findings` asset listed above, whatever the domain.
ALL_ASSETS.append(build_daily_report(ALL_ASSETS))
# the exports folder, one external asset per export (upstream of the staged tables)
EXPORT_SPECS = export_specs

daily_audit_job = dg.define_asset_job(
    "daily_audit",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    description="Refresh reference data, stage one day's exports and judge every clause for that day.",
)

# `wxpipeline run` over a period: reference data once, then one run per day, then the
# unpartitioned summaries once (the nightly job does all three for one day).
REFERENCE = dg.AssetSelection.groups("reference")
PARTITIONED = dg.AssetSelection.assets(*[a for a in ALL_ASSETS if a.partitions_def is not None])
refresh_reference_job = dg.define_asset_job(
    "refresh_reference", selection=REFERENCE, description="Re-read roster, group registry, pay accounts and approvals."
)
STAGED_SELECTION = dg.AssetSelection.assets(*STAGED)
stage_day_job = dg.define_asset_job(
    "stage_day",
    selection=STAGED_SELECTION,
    partitions_def=DAILY,
    description="Re-stage one day's records from the exports (with the blocking input contracts).",
)
judge_day_job = dg.define_asset_job(
    "judge_day",
    selection=PARTITIONED - STAGED_SELECTION,
    partitions_def=DAILY,
    description=(
        "Judge every clause for one day from the staged tables (its own day and the days its rules read, "
        "staged beforehand by `stage_day`), and write its report."
    ),
)
period_summaries_job = dg.define_asset_job(
    "period_summaries",
    selection=dg.AssetSelection.all() - PARTITIONED - REFERENCE,
    description="Unpartitioned summaries over all judged days (e.g. the quarterly publishing review).",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    daily_audit_job,
    hour_of_day=2,
    minute_of_hour=0,
    name="nightly_audit",
    description="02:00 Asia/Shanghai: judge yesterday's exports (and post the day's summary to the WeCom robot).",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={NIGHTLY_TAG: "true"},  # daily_report posts the summary only from nightly runs
)


def build_defs() -> dg.Definitions:
    """The Definitions with resources configured from the environment as it is now."""
    from wxpipeline.sensors import build_exports_sensor
    from wxpipeline.settings import run_executor

    return dg.Definitions(
        assets=[*EXPORT_SPECS, *ALL_ASSETS],
        asset_checks=ALL_CHECKS,
        jobs=[daily_audit_job, refresh_reference_job, stage_day_job, judge_day_job, period_summaries_job],
        schedules=[nightly_schedule],
        sensors=[
            build_exports_sensor([refresh_reference_job, stage_day_job, judge_day_job]),
            wecom_run_failure_alert,
            stale_run_sweeper,
        ],
        resources=pipeline_resources(),
        # runs the daemon or the UI launch (settings.run_executor: why in-process by default)
        executor=dg.in_process_executor if run_executor() == "in_process" else dg.multiprocess_executor,
    )


defs = build_defs()
