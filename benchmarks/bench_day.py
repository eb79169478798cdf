"""One busy day through `wxpipeline run`, against the polars parse floor (not a test).

    .venv/bin/python benchmarks/bench_day.py --messages 1000000 [--workdir /tmp/bench-day] [--keep] [--runs K]

Writes the demo exports folder (30 days, every format), then replaces the archive file of the
judged day with N messages: the demo's whole message mix (every msgtype, groups and one-to-one
chats, planted violations) replicated with fresh msgids and each message's time of day kept on
the judged day. Then runs `wxpipeline run --from DAY --to DAY` in a child process with a fresh
WXPIPELINE_HOME (cold parse cache, new Dagster instance), exactly as ops would, and prints:

* wall seconds of the command and the child's peak RSS and CPU (`wait4` of that child alone, its
  helper process included),
* seconds per Dagster step of the day's run (from the instance's step stats),
* the parse floor: polars `scan_ndjson` with an explicit schema reading msgid, from, roomid,
  msgtime, msgtype and the text body from the same file, measured in this process right before
  and right after each run (file in the page cache, as it was for the run), and wall ÷ floor
  against the mean of the two floors that bracket the run (and against each): the machine's
  speed drifts within minutes (the same file's floor measured 11.4-17.4 s within an hour), and
  a floor taken only after the run can fall in a faster or slower minute than the run itself,
* for context, the same read with `tolist` (the recipients' arrays, which staging keeps and the
  floor leaves out) next to a six-field floor taken right after it, and the run against it,
* the child's CPU seconds (user+sys, all threads): less sensitive than wall time to other load,
* the archive's cold parse + cache write on its own (`iter_wecom_archive` into `_write_blocks`, as
  the exports folder does it), in this process after the run: wall, CPU seconds and CPUs used,
* the machine load (`os.getloadavg`) before and after: the 2-core machine is often shared.

With `--baseline` the same day is also run with the archive file EMPTY (0 messages, the rest of
the folder as it was, cold), after the other runs: the fixed cost of a day, wall(0), and the
marginal cost, (wall(N) - wall(0)) / N per million messages (and the same for CPU seconds),
printed next to wall / N.

With `--runs K` the same generated file is run K times, each cold (the home deleted between
runs): this 2-core machine's speed varies by 10-30 % over an hour (the parse floor of the same
10M file measured 11.8-15.6 s), so one run says little about a change of a few percent.

Deletes the generated files afterwards unless --keep (10M messages are ~4.7 GB).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

DAY = date(2026, 10, 12)
DEMO_END = date(2026, 10, 17)
SH = ZoneInfo("Asia/Shanghai")
FLOOR_SCHEMA = {
    "msgid": pl.String, "from": pl.String, "roomid": pl.String, "msgtime": pl.String, "msgtype": pl.String,
    "text": pl.Struct({"content": pl.String}),
}
# The same read with the recipients' arrays too: staging must keep them (the staged `recipients`)
# and they are most of a line's values. Printed for context only: wall / floor is against the
# six fields above, as the issue defines the floor.
FLOOR_TOLIST_SCHEMA = {**FLOOR_SCHEMA, "tolist": pl.List(pl.String)}
REP_LINES = 50_000  # lines written per write call: bounds the generator's memory


def demo_lines(archive: Path) -> pl.DataFrame:
    """Every line of the demo archive, with its time of day in ms and its msgid."""
    files = sorted(archive.glob("*.jsonl"))
    lines = pl.concat([
        pl.DataFrame({"line": f.read_text("utf-8").splitlines()}) for f in files
    ]).filter(pl.col("line").str.strip_chars() != "")
    ts = pl.col("line").str.extract(r'"(?:msgtime|time)": (\d+)').cast(pl.Int64)
    return lines.with_columns(ts.alias("ms")).filter(pl.col("ms").is_not_null())


def write_day(base: pl.DataFrame, n: int, path: Path) -> None:
    """N messages on DAY: replica k of the demo lines gets msgid suffix `_k`, times moved to DAY."""
    day_ms = int(datetime.combine(DAY, datetime.min.time(), SH).timestamp() * 1000)
    tod = (pl.col("ms") + 8 * 3600_000) % 86_400_000  # time of day in Shanghai
    new_ms = (day_ms + tod).cast(pl.String)
    with open(path, "wb") as fh:
        written, k = 0, 0
        while written < n:
            take = min(base.height, n - written)
            part = base.head(take).select(
                pl.col("line")
                .str.replace(r'"msgid": "([^"]*)"', f'"msgid": "${{1}}_r{k}"')
                .str.replace(r'"msgtime": \d+', pl.format('"msgtime": {}', new_ms))
                .str.replace(r'"time": \d+', pl.format('"time": {}', new_ms))
            )
            for i in range(0, part.height, REP_LINES):
                fh.write(part["line"].slice(i, REP_LINES).str.join("\n").item().encode() + b"\n")
            written += take
            k += 1


def sample_rss(proc: subprocess.Popen, samples: list[tuple[float, int]], ended: threading.Event,
               every: float = 0.1) -> None:
    """(wall clock, RSS bytes) of the child every `every` seconds until it exits (`ended`: the
    child is reaped by `run_day`'s `wait4`, never by a poll here)."""
    status = Path(f"/proc/{proc.pid}/status")
    while not ended.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append((time.time(), int(line.split()[1]) * 1024))
        except OSError:
            break
        ended.wait(every)


def step_stats(dagster_home: Path) -> dict[str, tuple[float, float]]:
    """(start, end) wall clock of each step of the judged day's `stage_day` and `judge_day` runs."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    out: dict[str, tuple[float, float]] = {}
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs():
            if run.job_name in ("stage_day", "judge_day") and run.tags.get("dagster/partition") == DAY.isoformat():
                for s in instance.get_run_step_stats(run.run_id):
                    out[f"{run.job_name}: {s.step_key}"] = (s.start_time or 0, s.end_time or 0)
    return out


def archive_parse(day_file: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU seconds of this process, all threads) of the archive file's cold parse into a
    parse-cache file, the exports folder's code path without Dagster."""
    from wxpipeline.formats.registry import EXPORT_KINDS
    from wxpipeline.formats.wecom_archive import iter_wecom_archive
    from wxpipeline.resources.exports import _write_blocks

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    t0, c0 = time.monotonic(), cpu()
    _write_blocks(iter_wecom_archive(day_file, [], {}), out, EXPORT_KINDS["wecom_archive"])
    wall, used = time.monotonic() - t0, cpu() - c0
    out.unlink()
    return wall, used


FLOOR_ROWS: list[int] = []


def parse_floor(day_file: Path, schema: str = "FLOOR_SCHEMA") -> float:
    """Wall seconds of polars' `scan_ndjson` of the six fields over the whole file (the floor; or
    with `schema="FLOOR_TOLIST_SCHEMA"` of those and `tolist`), in a child process of its own: its
    memory (several GB at 10M) would otherwise become this process's high-water mark, which Linux
    hands to a child started by vfork + exec (the next run) as that child's own peak RSS."""
    code = (f"import sys, time, polars as pl; from bench_day import {schema}; t0 = time.monotonic(); "
            f"rows = pl.scan_ndjson(sys.argv[1], schema={schema}).collect().height; "
            "print(time.monotonic() - t0, rows)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code, str(day_file)], env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    FLOOR_ROWS.append(int(out[1]))  # printed: the floor read the whole file
    return float(out[0])


def floor_note(wall: float, before: float, after: float) -> str:
    """The floors bracketing a run and the run's wall against their mean (and against each)."""
    mean = (before + after) / 2
    return (f"floor before {before:.2f}s, after {after:.2f}s: wall / floor {wall / mean:.2f}x "
            f"(against the floor before {wall / before:.2f}x, after {wall / after:.2f}x)")


@dataclass
class DayRun:
    wall: float
    cpu: float
    rc: int
    out: str
    samples: list[tuple[float, int]]
    load_before: float
    load_after: float
    peak_rss: int  # bytes: the run's own high-water mark and its helper process's (wait4)


def demo_workdir(work: Path) -> tuple[Path, Path, Path, dict, dict[str, bytes]]:
    """`work` emptied and given the demo exports folder: (exports, home, the `wxpipeline`
    executable, the runs' environment, what `demo` left in the home, i.e. the partitions' start,
    to put back into each run's fresh home)."""
    exports, home = work / "exports", work / "home"
    shutil.rmtree(work, ignore_errors=True)
    exe = Path(sys.executable).with_name("wxpipeline")
    env = {**os.environ, "WXPIPELINE_HOME": str(home), "WXPIPELINE_EXPORTS_DIR": str(exports)}
    env.pop("DAGSTER_HOME", None)
    subprocess.run([str(exe), "demo", "--out", str(exports), "--end", DEMO_END.isoformat()], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    seed = {f.name: f.read_bytes() for f in home.iterdir() if f.is_file()} if home.is_dir() else {}
    return exports, home, exe, env, seed


def fresh_home(home: Path, seed: dict[str, bytes]) -> None:
    """Every run cold: a fresh home (no parse cache, a new Dagster instance) holding `seed`."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(mode=0o700, parents=True)
    for name, data in seed.items():
        (home / name).write_bytes(data)


def run_day(exe: Path, env: dict) -> DayRun:
    """One `wxpipeline run` of the judged day in a child process: wall, the child's CPU seconds
    and peak RSS (user+sys, all threads and its helper process, from `wait4` of that child alone:
    `RUSAGE_CHILDREN` would also hold the floor's child), its RSS sampled every 0.1 s."""
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    samples: list[tuple[float, int]] = []
    ended = threading.Event()
    texts: dict[str, str] = {}
    proc = subprocess.Popen([str(exe), "run", "--from", DAY.isoformat(), "--to", DAY.isoformat()], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = [threading.Thread(target=sample_rss, args=(proc, samples, ended), daemon=True)]
    for name, stream in (("out", proc.stdout), ("err", proc.stderr)):
        threads.append(threading.Thread(target=lambda n=name, f=stream: texts.__setitem__(n, f.read()), daemon=True))
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    ended.set()
    for t in threads:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    out, err = texts.get("out", ""), texts.get("err", "")
    cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        print(out[-3000:], err[-3000:], sep="\n")
    return DayRun(wall, cpu, proc.returncode, out, samples, load_before, os.getloadavg()[0], usage.ru_maxrss * 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="/tmp/wxpipeline-bench-day")
    ap.add_argument("--keep", action="store_true", help="keep the generated exports and home")
    ap.add_argument("--runs", type=int, default=1,
                    help="run the day this many times on the same generated file, each cold (fresh home): "
                         "the machine's noise, without generating again")
    ap.add_argument("--baseline", action="store_true",
                    help="also run the day with an empty archive file (cold): fixed and marginal cost per million")
    args = ap.parse_args()
    work = Path(args.workdir)
    t0 = time.monotonic()
    exports, home, exe, env, seed = demo_workdir(work)
    archive = exports / "wecom_archive"
    base = demo_lines(archive)
    day_file = archive / f"archive_{DAY:%Y%m%d}.jsonl"
    day_file.unlink(missing_ok=True)
    write_day(base, args.messages, day_file)
    # the generated file written back to disk now, not by the kernel's flusher threads during the
    # floor and the run (4.7 GB at 10M: their CPU on a 2-core machine would be charged to the run)
    os.sync()
    size = day_file.stat().st_size
    print(f"generated {args.messages:,} messages ({size / 1e9:.2f} GB) for {DAY} in {time.monotonic() - t0:.0f}s "
          f"(demo mix of {base.height:,} lines replicated)")

    floors = [parse_floor(day_file)]  # before the first run; then one after each run
    runs = []
    for i in range(args.runs):
        if i:
            fresh_home(home, seed)
        runs.append(run_day(exe, env))
        floors.append(parse_floor(day_file))
        r = runs[-1]
        if args.runs > 1:
            print(f"run {i + 1}: wall {r.wall:.1f}s  CPU {r.cpu:.1f}s  load before {r.load_before:.2f}  "
                  f"{floor_note(r.wall, floors[i], floors[i + 1])}", flush=True)
    last = runs[-1]
    wall, cpu, out, proc_rc, samples = last.wall, last.cpu, last.out, last.rc, last.samples
    peak_gb = max(r.peak_rss for r in runs) / 1e9  # max over runs
    load_before, load_after = (runs[0].load_before,), (last.load_after,)
    steps = step_stats(home / "dagster")


    parse_wall, parse_cpu = archive_parse(day_file, work / "archive.parquet")
    # a six-field floor right after it: the two compare within the same minute
    with_tolist = parse_floor(day_file, "FLOOR_TOLIST_SCHEMA")
    floor_after = parse_floor(day_file)

    base_run = None
    if args.baseline:  # the same folder with the day's archive file empty; the full file put back after
        full = work / day_file.name
        day_file.rename(full)
        day_file.write_bytes(b"")
        step_home = work / "home-n"  # the N run's home: its step stats were read above
        shutil.rmtree(step_home, ignore_errors=True)
        home.rename(step_home)
        fresh_home(home, seed)
        base_run = run_day(exe, env)
        day_file.unlink()
        full.rename(day_file)
        shutil.rmtree(home, ignore_errors=True)
        step_home.rename(home)

    if args.runs > 1:
        print(f"\n{args.runs} runs: wall {', '.join(f'{r.wall:.1f}' for r in runs)} s "
              f"(median {statistics.median(r.wall for r in runs):.1f}), "
              f"CPU {', '.join(f'{r.cpu:.1f}' for r in runs)} s; the figures below are the last run's")
    print(f"\nmessages {args.messages:,}  wall {wall:.1f}s  CPU {cpu:.1f}s (user+sys, all threads)  "
          f"peak RSS {peak_gb:.2f} GB  exit {proc_rc}")
    print(f"parse floor ({FLOOR_ROWS[-1]:,} rows): {floor_note(wall, floors[-2], floors[-1])}  "
          f"seconds per million {wall / (args.messages / 1e6):.1f}")
    print(f"the same read with `tolist` too (the arrays staging keeps): {with_tolist:.2f}s, "
          f"{with_tolist / floor_after:.2f}x a six-field floor taken right after ({floor_after:.2f}s); "
          f"the run against it {wall / with_tolist:.2f}x")
    print(f"archive parse + cache write alone {parse_wall:.2f}s wall, {parse_cpu:.2f} CPU s "
          f"({parse_cpu / parse_wall:.2f} CPUs; {parse_wall / (args.messages / 1e6):.2f}s wall per million)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    if base_run is not None:
        per_m = args.messages / 1e6
        print(f"baseline, the day's archive file empty: wall {base_run.wall:.1f}s  CPU {base_run.cpu:.1f}s  "
              f"exit {base_run.rc}  load before {base_run.load_before:.2f}, after {base_run.load_after:.2f}")
        print(f"marginal per million (N run - baseline) / N: wall {(wall - base_run.wall) / per_m:.1f}s  "
              f"CPU {(cpu - base_run.cpu) / per_m:.1f}s  (wall / N {wall / per_m:.1f}s, CPU / N {cpu / per_m:.1f}s)")
    print("\nthe run's own lines (one per Dagster run):")
    print("\n".join("  " + ln for ln in out.splitlines() if ("run " in ln and "(" in ln) or ln.startswith(("exports read", "stage runs:"))))
    print("\nstep seconds and peak RSS sampled during the step (the judged day's runs):")
    for key, (start, end) in sorted(steps.items(), key=lambda kv: kv[1][0] - kv[1][1]):
        rss = max((b for t, b in samples if start <= t <= end), default=0)
        print(f"  {end - start:7.2f}s  {rss / 1e9:5.2f} GB  {key}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
