"""`exports_sensor` evaluated in process: a new file covering several days requests one
`stage_day` run per day it touches; a second evaluation with no change requests nothing; once
the staging runs are done the dependent days are judged, tagged with the file."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import dagster as dg
from dagster._core.utils import make_new_run_id
import pytest

from tests.assets.exports_fixture import write_exports
from wxpipeline.resources import build_resources


@pytest.fixture()
def env(isolated_home):
    write_exports(isolated_home / "exports")
    return isolated_home


def evaluate(defs, instance, cursor):
    sensor = defs.resolve_sensor_def("exports_sensor")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                      resources=build_resources())
        return sensor.evaluate_tick(ctx)


def test_new_file_restages_its_days_then_judges_dependents(env):
    from wxpipeline.definitions import build_defs
    from wxpipeline.lineage import reads

    defs = build_defs()
    # a deployment whose days were staged by the backfill that set it up (empty days here)
    from wxpipeline.resources.staged_io import empty_staged, staged_store
    from wxpipeline.lineage import STAGED

    for i in range(45):
        for asset in STAGED:
            staged_store().write(asset, (date(2026, 9, 1) + timedelta(days=i)).isoformat(), empty_staged(asset, None))
    with dg.instance_for_test() as instance:
        first = evaluate(defs, instance, None)  # baseline: the folder as the backfill judged it
        assert first.run_requests == [] and first.cursor

        (env / "exports/ledger/late.csv").write_text(
            "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
            "L7,E0001,2026-09-25 12:00:00,6.00,T900,京东,文具\n"
            "L8,E0001,2026-09-26 12:00:00,7.00,T901,京东,文具\n"
            "L9,E0001,2026-09-28 12:00:00,8.00,T902,京东,文具\n", "utf-8")
        second = evaluate(defs, instance, first.cursor)
        staged = sorted((r.job_name, r.partition_key) for r in second.run_requests)
        assert staged == [("stage_day", "2026-09-25"), ("stage_day", "2026-09-26"), ("stage_day", "2026-09-28")]
        assert all(r.tags["wxpipeline/cause"] == "ledger/late.csv (new)" for r in second.run_requests)

        third = evaluate(defs, instance, second.cursor)  # no change, staging runs not done yet
        assert third.run_requests == []

        # the staging runs finished: every payments day whose PAY-04 window holds one of those days
        pending = json.loads(second.cursor)["pending"]
        for r in second.run_requests:
            instance.add_run(dg.DagsterRun(job_name="stage_day", run_id=make_new_run_id(),
                                           status=dg.DagsterRunStatus.SUCCESS, tags=r.tags))
        fourth = evaluate(defs, instance, second.cursor)
        lo, hi = reads()["payments_findings"]["ledger_entries"]
        touched = [date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 28)]
        want = sorted({(d - timedelta(days=k)).isoformat() for d in touched for k in range(lo, hi + 1)})
        assert sorted(r.partition_key for r in fourth.run_requests) == want == sorted(pending["judge"])
        assert {r.job_name for r in fourth.run_requests} == {"judge_day"}
        # only the payments findings (and the day's report) are re-judged for a ledger file
        assert {tuple(k.path[-1] for k in r.asset_selection) for r in fourth.run_requests} == {
            ("daily_report", "payments_findings")}

        fifth = evaluate(defs, instance, fourth.cursor)
        assert fifth.run_requests == []
