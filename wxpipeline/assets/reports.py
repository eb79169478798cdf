"""The daily report asset: one partition per day, downstream of every `{domain}_findings` asset.

It depends on the findings asset of every domain with a clause in the registry (`domains()`), so a
new domain's findings asset joins the report — as a dependency, a section, a trend chart and a
workbook sheet — without any change here. Rendering lives in `wxpipeline.reports` (no Dagster).
"""


from typing import Iterable

import dagster as dg

from wxpipeline.checks.registry import domains
from wxpipeline.partitions import DAILY, ONE_RUN_PER_DAY, partition_day
from wxpipeline.factories import OWNERS
from wxpipeline.resources.staged_io import staged_store
from wxpipeline.notify import NIGHTLY_TAG, WeComRobot, post_daily_summary
from wxpipeline.reports import collect_report, write_daily_report
from wxpipeline.reports.build import summary_markdown
from wxpipeline.resources.calendar import CalendarResource
from wxpipeline.resources.policy import PolicyResource
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import settings

REFERENCE_INPUTS = ("roster", "group_registry")  # for department and group names


def _read_optional(name: str):
    try:
        return staged_store().read(name)
    except FileNotFoundError:
        return None


def build_daily_report(domains: Iterable[str]) -> dg.AssetsDefinition:
    """`daily_report`, depending on the `{domain}_findings` asset of every domain in `domains` (and
    the roster and group registry, which give department and group names)."""
    domains = list(domains)

    @dg.asset(
        name="daily_report",
        group_name="reports",
        partitions_def=DAILY,
        backfill_policy=ONE_RUN_PER_DAY,
        deps=[dg.AssetKey(f"{d}_findings") for d in domains] + [dg.AssetKey(r) for r in REFERENCE_INPUTS],
        kinds={"html", "excel"},
        owners=OWNERS,
        description=(
            "合规日报：writes reports/YYYY-MM-DD/report.html (Chinese, self-contained, opens offline) and "
            "findings.xlsx under WXPIPELINE_HOME for the partition day — per-clause results with clause text "
            "and source, new/resolved since the day before, 30-day trend chart per domain, departments and "
            "groups with most open findings, masked findings list, waivers expiring within 7 days. "
            f"Covers every *_findings asset: {', '.join(domains) or '(none yet)'}. In a nightly run (tag "
            f"{NIGHTLY_TAG}) it also posts a short summary to the compliance WeCom group robot when "
            "WXPIPELINE_WECOM_WEBHOOK is set; backfills do not post."
        ),
    )
    def daily_report(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        policy: PolicyResource,
        calendar: CalendarResource,
        wecom: WeComRobot,
    ) -> dg.MaterializeResult:
        day = partition_day(context)
        pv = policy.for_day(day)
        calendar_known = calendar.for_policy(pv).is_workday(day)[1]
        data = collect_report(
            warehouse, day, domains,
            roster=_read_optional("roster"), group_registry=_read_optional("group_registry"),
            policy=pv, calendar_known=calendar_known,
        )
        files = write_daily_report(data, settings().reports_dir)
        t = data.totals
        context.log.info(
            f"report {day}: {t['findings']} finding(s), {t['failing']} open, {t['new']} new, "
            f"{t['resolved']} resolved since the day before -> {files.html}"
        )
        posted = False
        if context.run.tags.get(NIGHTLY_TAG) and wecom.enabled:
            # never fails the run: a robot that is down is logged by post_markdown
            posted = post_daily_summary(day, robot=wecom, data=data, report_path=files.html, log=context.log)
        return dg.MaterializeResult(
            metadata={
                "wecom_summary_posted": dg.MetadataValue.bool(posted),
                "summary": dg.MetadataValue.md(summary_markdown(data)),
                "report_html": dg.MetadataValue.path(str(files.html)),
                "report_xlsx": dg.MetadataValue.path(str(files.xlsx)),
                "open_report": dg.MetadataValue.url(files.html.as_uri()),
                "findings": dg.MetadataValue.int(t["findings"]),
                "open": dg.MetadataValue.int(t["failing"]),
                "suppressed": dg.MetadataValue.int(t["suppressed"]),
                "new": dg.MetadataValue.int(t["new"]),
                "resolved": dg.MetadataValue.int(t["resolved"]),
                "clauses_failed": dg.MetadataValue.int(t["clauses_failed"]),
                "waivers_expiring_7d": dg.MetadataValue.int(len(data.expiring_waivers)),
                "calendar_known": dg.MetadataValue.bool(calendar_known),
                "domains": dg.MetadataValue.json(domains),
                "policy_version": dg.MetadataValue.text(pv.version),
            }
        )

    return daily_report


daily_report = build_daily_report(domains())
