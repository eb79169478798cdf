"""The one `Definitions` object: assets, checks, resources, jobs, schedules."""

from __future__ import annotations

import dagster as dg

from wxpipeline.assets.chat import chat_assets, chat_checks
from wxpipeline.assets.common import DAILY, pipeline_resources
from wxpipeline.assets.groups import groups_assets, groups_checks
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.publishing import publishing_assets, publishing_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.assets.wecom import wecom_assets, wecom_checks
from wxpipeline.assets.reports import build_daily_report
from wxpipeline.notify import NIGHTLY_TAG, wecom_run_failure_alert
from wxpipeline.stale_runs import stale_run_sweeper

ALL_ASSETS = [*reference_assets, *payments_assets, *publishing_assets, *wecom_assets, *chat_assets, *groups_assets]
ALL_CHECKS = [*reference_checks, *payments_checks, *publishing_checks, *wecom_checks, *chat_checks, *groups_checks]
# The daily report depends on every `*_findings` asset listed above, whatever the domain.
ALL_ASSETS.append(build_daily_report(ALL_ASSETS))

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
judge_day_job = dg.define_asset_job(
    "judge_day",
    selection=PARTITIONED,
    partitions_def=DAILY,
    description="Stage one day's exports and judge every clause for that day (reference data as last refreshed).",
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
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[daily_audit_job, refresh_reference_job, judge_day_job, period_summaries_job],
        schedules=[nightly_schedule],
        sensors=[wecom_run_failure_alert, stale_run_sweeper],
        resources=pipeline_resources(),
    )


defs = build_defs()
