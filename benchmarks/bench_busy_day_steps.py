"""The busy judged day's own steps, in process, on a home `bench_day.py --keep` left (not a test).

    .venv/bin/python benchmarks/bench_busy_day_steps.py --workdir /tmp/bench-day [--reps 3] [--out DIR]

Reads the parse cache and staged tables of WORKDIR/home (exports in WORKDIR/exports) and times,
REPS times each: the staging plan of the judged day's `wecom_messages` (`day_rows`), writing its
staged file (`StagedStore.write`, into a copy of the staged folder at --out, so the home is left
as it is), the messages contract (`contracts.validate`, given staging's proof of distinct keys as
the step gives it; its first call also builds the GE context), the chat asset's frames
(`chat_frames`, reading the file just written) and its clauses (`run_clauses`). Prints CPU
seconds (getrusage: every thread) and wall seconds per step (min and median), the findings' count
and a digest of them (identical before and after a change means no clause result moved), the
staged file's size and the load average: run before and after a change, alternately, at the
same load.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import time
from datetime import date
from pathlib import Path

DAY = date(2026, 10, 12)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/wxpipeline-bench-day")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=None, help="staged folder copy (default WORKDIR/staged-steps)")
    args = ap.parse_args()
    work = Path(args.workdir)
    os.environ["WXPIPELINE_HOME"] = str(work / "home")
    os.environ["WXPIPELINE_EXPORTS_DIR"] = str(work / "exports")

    import polars as pl

    from wxpipeline.assets import chat as chat_mod
    from wxpipeline.checks import contracts
    from wxpipeline.checks.registry import clauses_for
    from wxpipeline.factories.findings import JudgeContext, run_clauses
    from wxpipeline.lineage import Upstream
    from wxpipeline.policy import load_policy
    from wxpipeline.resources.exports import ExportsFolder
    from wxpipeline.resources.staged_io import StagedStore
    from wxpipeline.settings import settings

    s = settings()
    exports = ExportsFolder(exports_dir=str(s.exports_dir), cache_dir=str(s.cache_dir))
    pv = load_policy(s.policy or None).for_day(DAY)
    out = Path(args.out) if args.out else work / "staged-steps"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(s.staged_dir, out)
    store = StagedStore(out)
    jc = JudgeContext(DAY, DAY.isoformat(), pv, None, exports, store, Upstream("chat_findings", DAY, store))
    clauses = [c for c in clauses_for("chat") if pv.clause(c.id).enabled]
    staged = store.path("wecom_messages", DAY.isoformat())
    times: dict[str, list[tuple[float, float]]] = {}

    def timed(step: str, fn):
        t0, c0 = time.monotonic(), cpu()
        result = fn()
        times.setdefault(step, []).append((time.monotonic() - t0, cpu() - c0))
        return result

    found: list = []
    for _ in range(args.reps):
        rows, _scan = timed("plan", lambda: exports.day_rows("wecom_archive", DAY))
        timed("write", lambda: store.write("wecom_messages", DAY.isoformat(), rows))
        # with staging's proof of distinct keys, as the step passes it (`factories.staged`)
        timed("contract", lambda: contracts.validate("wecom_messages", pl.scan_parquet(staged), rows.key_proof()))
        frames = timed("chat_frames", lambda: chat_mod.chat_frames(jc))
        found = timed("clauses", lambda: run_clauses(clauses, frames, pv, DAY))
    findings = pl.concat(found)
    digest = hashlib.sha256(findings.sort(pl.all()).write_json().encode()).hexdigest()[:12]
    print(f"findings {findings.height} (digest {digest}), staged file {staged.stat().st_size / 1e6:.0f} MB, "
          f"load {os.getloadavg()[0]:.2f}")
    for step, runs in times.items():
        walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
        print(f"  {step:12s} CPU s min {cpus[0]:.2f} median {cpus[len(cpus) // 2]:.2f}   "
              f"wall s min {walls[0]:.2f} median {walls[len(walls) // 2]:.2f}")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
