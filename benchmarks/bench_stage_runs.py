"""CPU of small `stage_day` runs as `wxpipeline run` executes them, in process (not a test).

    .venv/bin/python benchmarks/bench_stage_runs.py --home /tmp/copy-of-a-home --exports DIR \
        [--from 2026-09-20 --to 2026-10-05] [--period 2026-10-12] [--reps 4] [--profile out.prof]

Opens the home (a copy: the runs are recorded in its Dagster instance and re-stage its tables),
builds the definitions and opens the instance as `_run_period` does (connections kept, the
process's own collector settings), then executes the `stage_day` run of each day of
[--from, --to] with the tables `run --from P --to P` stages there (P: --period), --reps rounds
after one warm-up round. Prints the CPU seconds (process_time: every thread) and wall of each
run after the warm-up: min, median, max, and the load average. --profile: cProfile of the
measured rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--exports", required=True)
    ap.add_argument("--from", dest="first", default="2026-09-20")
    ap.add_argument("--to", dest="last", default="2026-10-05")
    ap.add_argument("--period", default="2026-10-12", help="the day `run` judges (decides the tables staged)")
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args()
    os.environ["WXPIPELINE_HOME"] = args.home
    os.environ["WXPIPELINE_EXPORTS_DIR"] = args.exports

    from wxpipeline import cli, cli_nightly

    cli.secure_process()
    cli._quiet_dagster()
    cli_nightly.OWN_PROCESS.append(True)  # as the console script's `run`
    with cli_nightly.long_lived():
        from wxpipeline import arrival
        from wxpipeline.nightly import Executor, record_days, stage_assets_holding_records
        from wxpipeline.resources import exports_folder
        from wxpipeline.resources.staged_io import staged_store

    period = date.fromisoformat(args.period)
    inv = arrival.inventory(exports_folder())
    kind_days, store = record_days(inv), staged_store()
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    runs = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        assets = stage_assets_holding_records(day, period, period, kind_days, store)
        if assets != []:
            runs.append((f"stage {day}", day.isoformat(), assets))
    defs = cli_nightly._defs()
    from wxpipeline.dagster_engines import kept_connections

    cpu: list[float] = []
    wall: list[float] = []
    with cli_nightly._open_instance() as instance, kept_connections():
        ex = Executor(defs, instance, cli_nightly.QUIET)
        for label, day, assets in runs:  # warm-up: first runs of each selection
            ex.execute("stage_day", label, day, assets=assets)
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile(time.process_time)  # CPU of every thread, not wall
            prof.enable()
        for _ in range(args.reps):
            for label, day, assets in runs:
                c0, t0 = time.process_time(), time.monotonic()
                ex.execute("stage_day", label, day, assets=assets)
                cpu.append(time.process_time() - c0)
                wall.append(time.monotonic() - t0)
        if prof is not None:
            prof.disable()
            prof.dump_stats(args.profile)
    if ex.failed or ex.blocked:
        print(f"failed {ex.failed} blocked {ex.blocked}", file=sys.stderr)
    print(f"{len(cpu)} runs ({len(runs)} days x {args.reps}): CPU s min {min(cpu):.3f} median "
          f"{statistics.median(cpu):.3f} max {max(cpu):.3f} sum {sum(cpu):.2f}; wall median "
          f"{statistics.median(wall):.3f}; load {os.getloadavg()[0]:.2f}", flush=True)
    from wxpipeline.cli import end_process

    end_process(0)


if __name__ == "__main__":
    main()
