"""When each demo export would have arrived in a real deployment, so the nightly path can be
replayed on the demo: the WeCom archive and group snapshots are pulled nightly except on public
holidays (the National Day days arrive as a batch on the first working day after); bill exports
arrive the day after the period they cover (the employee exports them); the finance ledger and
the sign-off sheets of a month arrive with the last day they cover (booked / collected days after
the events); reference files are there from the start.

`write_arrival_plan` records it in `arrival_plan.json` at the folder root (outside every export
folder, so the pipeline never reads it) and sets each file's mtime to its arrival night.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from wxpipeline.times import TZ

SH = TZ
_DATES = re.compile(r"(20\d{6})")


def _dates(name: str) -> list[date]:
    return [date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in _DATES.findall(name)]


def arrival_day(rel: str, start: date, end: date, is_workday) -> date:
    """The night (a partition day) from which `rel` is in the folder."""
    folder, name = rel.split("/", 1)
    found = _dates(name)
    if folder == "reference":
        return start
    if folder in ("wecom_archive", "wecom_groups") and found:
        day = found[0]
        while not is_workday(day) and day < end:  # the pull skips holidays and weekends' batch comes later
            day += timedelta(days=1)
        return min(day, end)
    if folder == "wechat_pay" and found:
        return min(found[-1] + timedelta(days=1), end)  # exported after the period it covers
    month = re.search(r"(20\d\d)-(\d\d)", name)
    if folder in ("ledger", "mp_reviews") and month:
        y, m = int(month.group(1)), int(month.group(2))
        last = (date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1))
        return min(last, end)  # booked / collected through the month
    return min(found[-1], end) if found else end


def write_arrival_plan(root: Path, files: list[str], start: date, end: date) -> dict[str, str]:
    from wxpipeline.demo import is_workday

    plan = {}
    for rel in sorted(files):
        day = arrival_day(rel, start, end, is_workday)
        plan[rel] = day.isoformat()
        at = datetime.combine(day + timedelta(days=1), time(1), SH).timestamp()  # before the 02:00 schedule
        p = root / rel
        if p.exists():
            os.utime(p, (at, at))
    (root / "arrival_plan.json").write_text(json.dumps(plan, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return plan
