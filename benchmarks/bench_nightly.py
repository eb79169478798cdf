"""Cost of nightly operation on the demo exports (never a timed assertion; numbers go in the notes).

1. the first night (every file new: the folder is staged and judged as a backfill would);
2. a night on which nothing changed (`nightly` re-judges only that day; planning = inventory of the
   folder from the parse cache + diff against the last state);
3. a night on which one file touching 30 days arrived (a bill export covering the whole demo
   period, for an account not in the reference files, so no reference file changes): its 30
   days are re-staged and exactly the payments days whose PAY-04 window holds one of them are
   re-judged (payments findings + report only).

    .venv/bin/python benchmarks/bench_nightly.py [--home /tmp/bench-nightly] [--reuse]

`--reuse` skips the demo and the first night (an existing home from an earlier run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path



def timed(label: str, fn) -> float:
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        rc = fn()
    dt = time.perf_counter() - t0
    lines = out.getvalue().splitlines()
    judged = sum(1 for line in lines if line.startswith("judge ") and "because of" not in line)
    staged = sum(1 for line in lines if line.startswith("stage "))
    print(f"{label:<44} {dt:7.1f} s   exit {rc}   {staged} day(s) staged, {judged} day(s) judged", flush=True)
    return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default="/tmp/bench-nightly")
    ap.add_argument("--end", default="2026-10-17")
    ap.add_argument("--reuse", action="store_true", help="keep the home of an earlier run (skip the first night)")
    args = ap.parse_args()
    home = Path(args.home)
    if not args.reuse:
        shutil.rmtree(home, ignore_errors=True)
    os.environ.update(WXPIPELINE_HOME=str(home), WXPIPELINE_EXPORTS_DIR=str(home / "exports"),
                      WXPIPELINE_PARTITIONS_START="2026-09-01", DAGSTER_HOME=str(home / "dagster"))
    from wxpipeline.cli import main as cli
    from wxpipeline import arrival
    from wxpipeline.resources import exports_folder

    end = date.fromisoformat(args.end)
    night = ["nightly", "--date", end.isoformat()]
    if not args.reuse:
        with contextlib.redirect_stdout(io.StringIO()):
            cli(["demo", "--end", end.isoformat()])
        timed("first night (every file new)", lambda: cli(night))
    t0 = time.perf_counter()
    arrival.diff(arrival.manifest(arrival.inventory(exports_folder())), {})
    print(f"{'  planning alone (inventory + diff)':<44} {time.perf_counter() - t0:7.2f} s", flush=True)
    timed("night with no changed file", lambda: cli(night))

    # one bill export touching 30 days (its account is unregistered: PAY-03 findings, no reference change)
    exports = home / "exports"
    name = f"wechat_pay/bench_month_{time.time_ns()}.csv"
    start = end - timedelta(days=29)
    rows = "".join(
        f"{start + timedelta(days=i)} 10:{i:02d}:00,商户消费,京东,\"办公用品\",支出,¥{10 + i}.00,零钱,支付成功,"
        f"B{name[-12:-4]}{i:04d}\t,MB{i:04d}\t,/\n" for i in range(30))
    (exports / name).write_text(
        "微信支付账单明细,,,,,,,,,,\n微信昵称：[基准-测试],,,,,,,,,,\n"
        f"起始时间：[{start} 00:00:00] 终止时间：[{end} 23:59:59],,,,,,,,,,\n,,,,,,,,,,\n"
        "----------------------微信支付账单明细列表--------------------,,,,,,,,,,\n"
        "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注\n" + rows, "utf-8")
    timed("night on which one 30-day file arrived", lambda: cli(night))
    print(f"(machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at {datetime.now():%H:%M})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
