"""The compliance WeCom robot, against a local HTTP server that records what it receives: the
nightly summary (under 4,096 bytes), the run-failure alert, retries, and a robot that is down
or answers errcode != 0 never failing the run."""

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from wxpipeline.notify import (MAX_BYTES, NIGHTLY_TAG, WeComRobot, daily_summary_markdown, post_markdown,
                               truncate_utf8, wecom_run_failure_alert)
from wxpipeline.reports.data import ClauseSummary, ReportData


class Robot:
    """A WeCom robot stand-in: answers each POST with the next (status, body) of `answers`."""

    def __init__(self, answers=None):
        self.received: list[dict] = []
        self.answers = list(answers or [])
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.received.append({"path": self.path, "bytes": body, "json": json.loads(body)})
                status, answer = robot.answers.pop(0) if robot.answers else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def contents(self) -> list[str]:
        return [r["json"]["markdown"]["content"] for r in self.received]


def report_data(failing_clauses: int, title_repeat: int = 1) -> ReportData:
    clauses = [ClauseSummary("chat", f"CHAT-{i:02d}", "广告及招揽" * title_repeat, "条款内容", "来源", "medium", True,
                             findings=3, failing=3 if i < failing_clauses else 0, new=1)
               for i in range(max(failing_clauses, 3))]
    return ReportData(day=date(2026, 10, 12), generated_at=None, domains=["chat"], clauses=clauses, findings=[],
                      new=[], resolved=[], trends=[], departments=[], groups=[], expiring_waivers=[])


def test_summary_is_received_under_the_limit():
    with Robot() as robot:
        huge = daily_summary_markdown(report_data(200, title_repeat=60), "/srv/wx/reports/2026-10-12/report.html")
        assert post_markdown(robot.url, huge, retries=0)
        small = daily_summary_markdown(report_data(20), "/srv/wx/reports/2026-10-12/report.html",
                                       awaiting_data=["publishing"])
        assert post_markdown(robot.url, small, retries=0)
    assert [r["json"]["msgtype"] for r in robot.received] == ["markdown", "markdown"]
    first, second = robot.contents()
    assert len(first.encode("utf-8")) <= MAX_BYTES and len(huge.encode("utf-8")) <= MAX_BYTES
    assert "2026-10-12" in first and "CHAT-00" in first and first.endswith("完整内容见日报）")
    assert "**待数据**：公众号发布" in second and "report.html" in second and "另有 5 个条款未列出" in second


def test_truncation_keeps_whole_lines_and_characters():
    text = "\n".join(f"- 第 {i} 行：未通过的条款说明" for i in range(1000))
    cut = truncate_utf8(text)
    assert len(cut.encode("utf-8")) <= MAX_BYTES and cut.endswith("完整内容见日报）")
    assert truncate_utf8("短") == "短"
    assert len(truncate_utf8("长" * 5000).encode("utf-8")) <= MAX_BYTES


def test_retries_then_gives_up_without_raising():
    answers = [(500, {"errcode": -1}), (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
               (200, {"errcode": 0, "errmsg": "ok"})]
    with Robot(answers) as robot:
        assert post_markdown(robot.url, "x", retries=2, backoff_s=0)
        assert len(robot.received) == 3
    with Robot([(200, {"errcode": 45009, "errmsg": "api freq out of limit"})] * 3) as robot:
        assert not post_markdown(robot.url, "x", retries=2, backoff_s=0)
    assert not post_markdown("http://127.0.0.1:9/nothing-listens", "x", retries=1, backoff_s=0, timeout_s=2)


def _report_defs():
    from wxpipeline.assets.reports import daily_report

    return [daily_report]


@pytest.mark.parametrize("answers", [[], [(500, {})] * 2, [(200, {"errcode": 93000, "errmsg": "bad"})] * 2])
def test_nightly_report_run_posts_and_never_fails(isolated_home, answers):
    from wxpipeline.resources import build_resources

    with Robot(answers) as robot:
        resources = {**build_resources(), "wecom": WeComRobot(webhook=robot.url, retries=1, backoff_s=0)}
        result = dg.materialize(_report_defs(), partition_key="2026-10-12", resources=resources,
                                tags={NIGHTLY_TAG: "true"})
        assert result.success
        assert len(robot.received) == (1 if not answers else 2)
        assert "微信合规日报 2026-10-12" in robot.contents()[0]
        posted = result.asset_materializations_for_node("daily_report")[0].metadata["wecom_summary_posted"].value
        assert posted == (not answers)
        # a backfill (no nightly tag) does not post
        dg.materialize(_report_defs(), partition_key="2026-10-11", resources=resources)
        assert len(robot.received) == (1 if not answers else 2)




def test_failure_alert_is_received(tmp_path):
    @dg.op
    def explode():
        raise RuntimeError("exports folder unreadable: /data/wechat-exports")

    @dg.job(tags={"dagster/partition": "2026-10-12"})
    def nightly_like():
        explode()

    with dg.DagsterInstance.ephemeral() as instance, Robot() as robot:
        result = nightly_like.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        ctx = dg.build_run_status_sensor_context(
            sensor_name="wecom_run_failure_alert", dagster_event=failure, dagster_instance=instance,
            dagster_run=result.dagster_run, resources={"wecom": WeComRobot(webhook=robot.url, backoff_s=0)},
        ).for_run_failure()
        wecom_run_failure_alert(ctx)
    (content,) = robot.contents()
    assert "运行失败" in content and "nightly_like" in content and "2026-10-12" in content
    assert len(content.encode("utf-8")) <= MAX_BYTES


def test_off_when_unset(monkeypatch):
    from wxpipeline.notify import post_daily_summary
    from wxpipeline.resources import open_resource

    monkeypatch.delenv("WXPIPELINE_WECOM_WEBHOOK", raising=False)
    assert not open_resource("wecom").enabled
    assert post_daily_summary(date(2026, 10, 12)) is False
