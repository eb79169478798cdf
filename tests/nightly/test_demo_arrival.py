"""The demo's files carry realistic arrival nights (arrival_plan.json and mtimes): the holiday's
archive arrives as a batch after it, bills after their period, the month's ledger at its end."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from wxpipeline.demo import write_demo


def test_arrival_plan(tmp_path):
    summary = write_demo(tmp_path)
    plan = summary["arrival"]
    assert (tmp_path / "arrival_plan.json").is_file()
    holiday = [plan[f"wecom_archive/archive_202610{d:02d}.jsonl"] for d in range(1, 8)]
    assert set(holiday) == {"2026-10-08"}  # National Day: one batch on the first working day
    assert plan["wecom_archive/archive_20260929.jsonl"] == "2026-09-29"
    assert plan["wechat_pay/wxpay_sunli_20260918-20260927.csv"] == "2026-09-28"
    assert plan["ledger/ledger_2026-09.csv"] == "2026-09-30"
    assert plan["reference/roster.csv"] == summary["start"]
    for rel, night in plan.items():  # the mtime is the arrival night, before the 02:00 schedule
        at = datetime.fromtimestamp((tmp_path / rel).stat().st_mtime, ZoneInfo("Asia/Shanghai"))
        assert at.date() - timedelta(days=1) == datetime.fromisoformat(night).date(), rel
