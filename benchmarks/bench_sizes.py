"""Cost per million messages across day sizes, sizes interleaved round by round (not a test).

    .venv/bin/python benchmarks/bench_sizes.py [--sizes 0,1000000,4000000,10000000] [--rounds 3]

`bench_day.py` runs one size at a time, and its `--baseline` runs the empty day once, after the
size's runs: on this 2-core machine whose speed drifts by 10-40 % within an hour, a 1M set and a
10M set taken 20 minutes apart (each against its own empty day) differ by the minute as much as
by the size, and one empty-day run sets the marginal cost of a whole set (at 1M a second of its
noise is a second per million). Here every size is generated once into the same demo folder and
each round runs every size once (`wxpipeline run` of the judged day, a fresh home, cold: the same
child process as `bench_day.run_day`), the order rotated each round so that no size always runs
first or last; the sizes of a round are minutes apart. Each round gives each size's marginal
cost per million against that round's empty day, (wall(N) - wall(0)) / N, in wall and CPU
seconds; the summary prints, per size, the rounds' values and their median, and how far the
medians spread around their mean (the issue's "seconds per million within ±20 % from 1M to 10M"),
and wall ÷ floor per run (the floor taken right before and after it, as in `bench_day.py`).

The generated files take ~0.47 GB per million messages (7.1 GB for 1M, 4M and 10M), in the
workdir, deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench_day import DAY, demo_lines, demo_workdir, fresh_home, parse_floor, run_day, write_day


def rotated(sizes: list[int], i: int) -> list[int]:
    """Round i's order: the sizes rotated by i (each size takes each position once in len(sizes) rounds)."""
    k = i % len(sizes)
    return sizes[k:] + sizes[:k]


def spread(values: list[float]) -> float:
    """How far the extremes lie from the mean, as a share of it (0.2: within ±20 %)."""
    mean = statistics.fmean(values)
    return max(abs(v - mean) for v in values) / mean if mean else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,1000000,4000000,10000000",
                    help="messages in the judged day, comma-separated; 0 (the empty day) is added if missing")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/wxpipeline-bench-sizes")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    sizes = sorted({0, *(int(s) for s in args.sizes.split(","))})
    work = Path(args.workdir)
    exports, home, exe, env, seed = demo_workdir(work)
    archive = exports / "wecom_archive"
    day_file = archive / f"archive_{DAY:%Y%m%d}.jsonl"
    base = demo_lines(archive)
    day_file.unlink(missing_ok=True)
    files: dict[int, Path] = {}
    for n in sizes:  # kept beside the folder, moved into place for its run
        t0 = time.monotonic()
        files[n] = work / f"day-{n}.jsonl"
        if n:
            write_day(base, n, files[n])
        else:
            files[n].write_bytes(b"")
        print(f"generated {n:,} messages ({files[n].stat().st_size / 1e9:.2f} GB) in {time.monotonic() - t0:.0f}s",
              flush=True)
    os.sync()  # written back now, not by the kernel's flusher threads during the runs

    walls: dict[int, list[float]] = {n: [] for n in sizes}
    cpus: dict[int, list[float]] = {n: [] for n in sizes}
    ratios: dict[int, list[float]] = {n: [] for n in sizes}
    for r in range(args.rounds):
        for n in rotated(sizes, r):
            files[n].rename(day_file)
            try:
                fresh_home(home, seed)
                before = parse_floor(day_file) if n else 0.0
                run = run_day(exe, env)
                after = parse_floor(day_file) if n else 0.0
            finally:
                day_file.rename(files[n])
            if run.rc != 0:
                sys.exit(f"round {r + 1}, {n:,} messages: wxpipeline run exited {run.rc} "
                         f"(its output above; the generated files and home kept in {work})")
            walls[n].append(run.wall)
            cpus[n].append(run.cpu)
            note = ""
            if n:
                ratios[n].append(run.wall / ((before + after) / 2))
                note = f"  floor before {before:.2f}s, after {after:.2f}s: wall / floor {ratios[n][-1]:.2f}x"
            print(f"round {r + 1}: {n:>11,} messages  wall {run.wall:5.1f}s  CPU {run.cpu:5.1f}s  "
                  f"peak RSS {run.peak_rss / 1e9:.2f} GB  load before {run.load_before:.2f}{note}", flush=True)

    print(f"\n{args.rounds} rounds; marginal cost per million against the same round's empty day "
          "(wall(N) - wall(0)) / N:")
    med_wall, med_cpu = {}, {}
    for n in sizes:
        if not n:
            print(f"  {'empty day':>13}  wall {', '.join(f'{w:.1f}' for w in walls[0])} s  "
                  f"CPU {', '.join(f'{c:.1f}' for c in cpus[0])} s")
            continue
        per_m = n / 1e6
        mw = [(w - w0) / per_m for w, w0 in zip(walls[n], walls[0])]
        mc = [(c - c0) / per_m for c, c0 in zip(cpus[n], cpus[0])]
        med_wall[n], med_cpu[n] = statistics.median(mw), statistics.median(mc)
        print(f"  {n:>13,}  wall {', '.join(f'{v:.2f}' for v in mw)} s (median {med_wall[n]:.2f})  "
              f"CPU {', '.join(f'{v:.2f}' for v in mc)} s (median {med_cpu[n]:.2f})  "
              f"wall / floor {', '.join(f'{v:.2f}' for v in ratios[n])}x")
    if len(med_wall) > 1:
        print(f"medians' spread around their mean: wall ±{100 * spread(list(med_wall.values())):.0f} %, "
              f"CPU ±{100 * spread(list(med_cpu.values())):.0f} %")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
