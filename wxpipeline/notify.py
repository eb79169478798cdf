"""The compliance WeCom group robot: a short daily summary after each nightly judgement and an
alert when a run fails (`WXPIPELINE_WECOM_WEBHOOK`; nothing is posted when it is unset).

WeCom group robots take `POST {"msgtype": "markdown", "markdown": {"content": ...}}` with at most
4,096 bytes of UTF-8 content and answer `{"errcode": 0, "errmsg": "ok"}`. A post is retried
with exponential backoff on a network error, an HTTP error or `errcode != 0`; it never raises, so
the robot being down never fails a run (the failure is logged).

Who posts: the `daily_report` asset when its run carries `NIGHTLY_TAG` (set by the
`nightly_audit` schedule — backfills and `wxpipeline run` do not post), the
`wecom_run_failure_alert` sensor, and anyone calling `post_daily_summary(day)` (e.g. a
`wxpipeline nightly` command after judging a day).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import dagster as dg

from wxpipeline.reports.labels import domain_label

if TYPE_CHECKING:
    from wxpipeline.reports.data import ReportData
    from wxpipeline.resources.warehouse import Warehouse

MAX_BYTES = 4096  # WeCom's limit for markdown content
NIGHTLY_TAG = "wxpipeline/nightly"  # a run with this tag posts the day's summary
MAX_CLAUSE_LINES = 15
_log = logging.getLogger("wxpipeline.notify")


def truncate_utf8(content: str, limit: int = MAX_BYTES) -> str:
    """`content` within `limit` UTF-8 bytes: whole lines dropped from the end, then a note."""
    if len(content.encode("utf-8")) <= limit:
        return content
    note = "\n…（内容过长已截断，完整内容见日报）"
    budget = limit - len(note.encode("utf-8"))
    lines, out, used = content.split("\n"), [], 0
    for line in lines:
        size = len(line.encode("utf-8")) + (1 if out else 0)
        if used + size > budget:
            if not out:  # a single huge line: cut inside it at a character boundary
                out.append(line.encode("utf-8")[:budget].decode("utf-8", "ignore"))
            break
        out.append(line)
        used += size
    return "\n".join(out) + note


def post_markdown(webhook: str, content: str, *, retries: int = 3, backoff_s: float = 2.0,
                  timeout_s: float = 10.0, log=None) -> bool:
    """Post markdown to a WeCom robot; True when it answered errcode 0. Never raises."""
    log = log or _log
    body = json.dumps({"msgtype": "markdown", "markdown": {"content": truncate_utf8(content)}},
                      ensure_ascii=False).encode("utf-8")
    problem = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            req = urllib.request.Request(webhook, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - the configured robot URL
                answer = json.loads(resp.read().decode("utf-8") or "{}")
            if answer.get("errcode") == 0:
                return True
            problem = f"errcode {answer.get('errcode')}: {answer.get('errmsg')}"
        except urllib.error.HTTPError as e:
            problem = f"HTTP {e.code}"
        except (OSError, ValueError) as e:  # connection refused, timeout, not JSON
            problem = f"{type(e).__name__}: {e}"
    log.warning(f"WeCom robot: message not delivered after {retries + 1} attempt(s) ({problem})")
    return False


class WeComRobot(dg.ConfigurableResource):
    """The compliance group's WeCom robot webhook (WXPIPELINE_WECOM_WEBHOOK, passed as dg.EnvVar
    so the key never shows in the UI); empty = notifications off."""

    webhook: str = ""
    retries: int = 3
    backoff_s: float = 2.0

    @property
    def enabled(self) -> bool:
        return bool(self.webhook)

    def post(self, content: str, log=None) -> bool:
        if not self.enabled:
            return False
        return post_markdown(self.webhook, content, retries=self.retries, backoff_s=self.backoff_s, log=log)


# ---- messages ---------------------------------------------------------------------------------


def daily_summary_markdown(data: "ReportData", report_path: str | Path | None = None,
                           awaiting_data: Sequence[str] | None = None) -> str:
    """Day, failing clauses with counts, new and resolved, awaiting-data domains, report path."""
    t = data.totals
    failing = [c for c in data.clauses if c.enabled and not c.passed]
    head = "未通过" if failing else "全部通过"
    lines = [
        f"## 微信合规日报 {data.day}",
        f"> 条款检查：<font color=\"{'warning' if failing else 'info'}\">{head}</font> "
        f"{t['clauses_failed']}/{t['clauses']}　未关闭发现 **{t['failing']}** 条"
        f"（较昨日新增 {t['new']}，消除 {t['resolved']}）",
    ]
    if failing:
        lines.append("**未通过的条款**")
        for c in sorted(failing, key=lambda c: (-c.failing, c.clause_id))[:MAX_CLAUSE_LINES]:
            extra = f"，新增 {c.new}" if c.new else ""
            lines.append(f"- {c.clause_id} {c.title}：{c.failing} 条{extra}")
        if len(failing) > MAX_CLAUSE_LINES:
            lines.append(f"- 另有 {len(failing) - MAX_CLAUSE_LINES} 个条款未列出")
    if awaiting_data:
        lines.append("**待数据**：" + "、".join(domain_label(d) for d in awaiting_data) + "（未判定，不是通过）")
    if report_path:
        lines.append(f"日报：{report_path}")
    return truncate_utf8("\n".join(lines))


def failure_alert_markdown(job_name: str, run_id: str, partition: str | None, error: str | None) -> str:
    lines = [
        "## <font color=\"warning\">wxpipeline 运行失败</font>",
        f"> 作业 {job_name}　分区 {partition or '（无）'}",
        f"> 运行 {run_id}",
    ]
    if error:
        lines.append("错误：" + " ".join(error.split())[:600])
    lines.append("请在 Dagster 界面查看该运行的日志；当日的条款检查结果未更新。")
    return truncate_utf8("\n".join(lines))


def post_daily_summary(day: date, *, robot: WeComRobot | None = None, warehouse: "Warehouse | None" = None,
                       data: "ReportData | None" = None, report_path: str | Path | None = None,
                       awaiting_data: Sequence[str] | None = None, log=None) -> bool:
    """Post `day`'s summary to the compliance group (no-op returning False when no webhook).

    For the nightly path only (schedule, sensor, `wxpipeline nightly`): a backfill must not
    post one message per day. `data` defaults to the report read from the findings store;
    `report_path` to the day's report.html under WXPIPELINE_HOME; `awaiting_data` lists the
    domains whose inputs have not arrived (shown as such, never as passed).
    """
    if robot is None:
        from wxpipeline.resources import open_resource

        robot = open_resource("wecom")
    if not robot.enabled:
        return False
    from wxpipeline.settings import settings

    if data is None:
        from wxpipeline.reports import collect_report
        from wxpipeline.resources import warehouse as open_warehouse

        data = collect_report(warehouse or open_warehouse(), day)
    if report_path is None:
        candidate = settings().reports_dir / day.isoformat() / "report.html"
        report_path = candidate if candidate.exists() else None
    return robot.post(daily_summary_markdown(data, report_path, awaiting_data), log=log)


@dg.run_failure_sensor(
    name="wecom_run_failure_alert",
    description="Posts a failed run (job, partition, error) to the compliance WeCom group robot "
                "(WXPIPELINE_WECOM_WEBHOOK); does nothing when the webhook is not set.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
)
def wecom_run_failure_alert(context: dg.RunFailureSensorContext, wecom: WeComRobot) -> None:
    if not wecom.enabled:
        return
    run = context.dagster_run
    wecom.post(failure_alert_markdown(run.job_name, run.run_id, run.tags.get("dagster/partition"),
                                      context.failure_event.message), log=context.log)
