"""`wxpipeline run` and `nightly` stage their days in two processes on a machine with two or more cores.

A one-day run stages ~35 days (the judged day and the days around it that its rules read): one
Dagster run each, 0.1-1 s apiece, nearly all of it Python in Dagster, polars and Great
Expectations, i.e. one core. Those runs are independent of each other (each reads the parse
cache and writes its own partitions), so a helper process executes some of them while this one
executes the others; every day still has its own `stage_day` run in the same Dagster instance
(SQLite in WAL mode takes writers from several processes, as with the daemon and the UI), and
nothing is judged before every stage run of the period has ended.

The helper is started first thing (`StagePool()`) and shares the exports read (`read_exports`):
this process, which has polars and Dagster imported by then, parses the export files from the
largest down at once, while the helper imports Great Expectations and Dagster (~3.3 CPU s, at
load 8) and then parses them from the smallest up, then creates the Dagster instance of a fresh
home (~2 s of fsyncs). A busy day's archive file, whose parse is most of the read, thus starts
as the read starts, not after the helper's imports (10M day at load 19: 0.5 s instead of 9.7 s
after the read began; the imports and small files then share the cores with the big parse, which
leaves part of one idle). Once the read has ended, this
process records the partitions' start, works out the stage runs (the busiest day first) and
gives them to the helper (`start`), which builds its definitions and starts the first run while
this process imports the rest of Dagster and Great Expectations, builds its definitions and
executes the reference run. Both processes then take the next run from a shared counter until
none is left. A run the helper took and did not report (it died) is executed here afterwards;
the failures and blocked contracts of its runs count as this process's own; a file the helper
did not parse (it failed or died) is parsed here again and its errors reported as without the
helper. With one core or a machine already busy (the other processes keep more than the cores
less `BUSY_MARGIN` busy: no core free for the helper), no helper: the files are parsed and the
runs executed here, one after the other, as before. With fewer than `MIN_RUNS` runs the helper
(started before the runs are known) shares the exports read but executes no run: they are all
executed here.

How busy the machine is is measured over `SAMPLE_SECONDS` when the run starts (`/proc/stat`),
not read from the 1-minute load average: that average lags by a minute, so whatever ran just
before (`bench_day.py` generating its day, a previous run) kept it above 1.5 on a 2-core machine
whose cores were free by then; the 4M and 10M benchmark days of round 3 (load 2.1 and 1.8 at
their start) were staged without the helper.
"""

from __future__ import annotations

import os
import queue
import sys
import time
from pathlib import Path

MIN_RUNS = 6  # fewer stage runs than this do not repay the helper's start (~4.5 CPU s: imports, definitions)
BUSY_MARGIN = 0.5  # no helper when the other processes keep more busy than the cores less this
SAMPLE_SECONDS = 0.2  # how long the machine's busy cores are measured (100 ticks a second per core)


def busy_cores(cores: int, seconds: float = SAMPLE_SECONDS) -> float:
    """Cores kept busy by the other processes now: the non-idle share of the CPU time `/proc/stat`
    counts over `seconds` (this process sleeps meanwhile), times the cores. Where `/proc/stat`
    cannot be read, the 1-minute load average."""
    import time

    try:
        idle0, all0 = cpu_ticks()
        time.sleep(seconds)
        idle1, all1 = cpu_ticks()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]
    if all1 <= all0:
        return os.getloadavg()[0]
    return cores * (1 - (idle1 - idle0) / (all1 - all0))


def cpu_ticks() -> tuple[int, int]:
    """(idle, all) CPU ticks of the machine since boot, every core summed (`/proc/stat`)."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]  # user..steal (guest is within user)
    return fields[3] + fields[4], sum(fields)  # idle + iowait, all


def _claim(counter, total: int) -> int | None:
    with counter.get_lock():
        i = counter.value
        if i >= total:
            return None
        counter.value = i + 1
        return i


def import_for_runs() -> None:
    """Great Expectations and Dagster imported and adjusted for executing runs (~3.3 CPU s; idempotent)."""
    from wxpipeline import cli_nightly

    with cli_nightly.long_lived():  # no collection while importing (see `long_lived`)
        from wxpipeline.ge_imports import defer_unused_ge_imports

        defer_unused_ge_imports()
        from wxpipeline.checks import contract_ge

        contract_ge.batch_definition()  # imports Great Expectations (~1-1.4 CPU s, less what it defers)
        cli_nightly.prepare_dagster()  # and Dagster: only our definitions are left for when the runs come


def _create_instance() -> None:
    """The persistent Dagster instance opened once and closed: on a fresh home its SQLite storages
    are created now (~0.4 CPU s, ~2 s of fsyncs), not when both processes open it before their
    first run; on an existing home this costs ~0.1 s."""
    from wxpipeline.settings import open_dagster_instance

    with open_dagster_instance():
        pass


def _claim_file(claims, from_top: bool) -> int | None:
    """The next export file to parse, of the files sorted smallest first: `claims` is [next from
    the bottom, end of the unclaimed files, index the helper is parsing or -1]. This process takes
    them largest first (`from_top`), the helper smallest first."""
    with claims.get_lock():
        lo, hi = claims[0], claims[1]
        if lo >= hi:
            return None
        if from_top:
            claims[1] = hi - 1
            return hi - 1
        claims[0], claims[2] = lo + 1, lo
        return lo


def _parse_files(files_queue, claims) -> None:
    """The helper's share of the exports read: the smallest files first, into the parse cache
    (the parent then reads the folder's inventory from the cache). A file that fails here is
    left to the parent, which parses it again and reports what is wrong with it."""
    files = files_queue.get()
    if not files:
        return
    from wxpipeline import arrival
    from wxpipeline.resources import exports_folder

    exports = exports_folder()
    listed = {rel: [(kind, Path(path)) for kind, path in pairs] for rel, pairs in files}
    arrival.expect(exports, listed, [rel for rel, _ in files])  # small files of one kind: parsed together
    while (i := _claim_file(claims, from_top=False)) is not None:
        try:
            for kind, path in listed[files[i][0]]:
                arrival.file_info(exports, kind, path)
        except Exception:  # noqa: BLE001 - the parent parses it again and raises or reports it
            pass
        finally:
            with claims.get_lock():
                claims[2] = -1


def _helper(runs_queue, done, counter, files_queue=None, claims=None) -> None:
    """The helper process: imports, takes its share of the exports read, creates the Dagster
    instance, waits for the runs, executes those it claims."""
    from wxpipeline import cli_nightly

    cli_nightly.OWN_PROCESS.append(True)  # it ends with the runs (`end_process` below, or returns)
    import_for_runs()  # while the parent parses the largest export file(s)
    if files_queue is not None:
        _parse_files(files_queue, claims)
    _create_instance()  # while the parent still parses (an existing home: ~0.1 s)
    runs = runs_queue.get()
    if not runs:
        return
    from wxpipeline.dagster_engines import kept_connections
    from wxpipeline.nightly import Executor

    defs = cli_nightly._defs()  # after the parent recorded the partitions' start
    with cli_nightly._open_instance() as instance, kept_connections():
        ex = Executor(defs, instance, cli_nightly.QUIET)
        while (i := _claim(counter, len(runs))) is not None:
            label, day, assets = runs[i]
            ex.execute("stage_day", label, day, assets=assets)
            done.put((i, label in ex.failed, [b for b in ex.blocked if b[0] == label]))
    done.put(None)
    done.close()
    done.join_thread()  # the last word is in the pipe
    from wxpipeline.cli import end_process

    end_process(0)  # no interpreter teardown (~1 s of CPU while the parent judges)


class StagePool:
    """One helper process for the stage runs of `wxpipeline run` (none on a single core)."""

    def __init__(self):
        self.proc = None
        self.runs: list[tuple[str, str, list[str] | None]] = []
        self._sent = self._files_sent = False
        self.busy: float | None = None  # cores the other processes kept busy at the start
        self.read_note = ""  # how `read_exports` shared the read, for its progress line
        cores = os.cpu_count() or 1
        # a second process pays ~4.5 CPU s of imports and helps only on a free core: measured at
        # load 7-8 on 2 cores, the same one-day run took as long with it and 6 CPU s more
        if cores < 2:
            return
        self.busy = busy_cores(cores)
        if self.busy > cores - BUSY_MARGIN:
            print(f"stage runs: in this process only ({self.busy:.1f} of {cores} cores busy)", flush=True)
            return
        print(f"stage runs: in two processes ({self.busy:.1f} of {cores} cores busy)", flush=True)
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # a fresh interpreter: no copy of this one's threads or connections
        self._runs_queue, self._done, self._counter = ctx.Queue(), ctx.Queue(), ctx.Value("i", 0)
        # the exports read shared with the helper (`read_exports`): [bottom, top, helper's file]
        self._files_queue, self._claims = ctx.Queue(), ctx.Array("i", [0, 0, -1])
        # daemonic: ended with this process, never left behind
        self.proc = ctx.Process(target=_helper, args=(self._runs_queue, self._done, self._counter,
                                                      self._files_queue, self._claims),
                                name="wxpipeline-stage-helper", daemon=True)
        self.proc.start()

    def read_exports(self, exports) -> dict:
        """`arrival.inventory` of the exports folder, its files parsed into the cache by both
        processes: this one from the largest file down, at once, the helper (once imported) from
        the smallest up, so that a big archive file's parse, most of the read, starts first and
        the helper's imports and the small files' parse overlap it. The inventory is then read
        from the cache as before (a file the helper could not parse is parsed here again, and
        its errors are reported as without the helper)."""
        from wxpipeline import arrival

        files_queue = getattr(self, "_files_queue", None)
        if self.proc is None or files_queue is None:
            return arrival.inventory(exports)
        listed = arrival.list_files(exports)
        smallest = arrival.smallest_first(listed)
        order = [(rel, [(kind, str(path)) for kind, path in listed[rel]]) for rel in smallest]
        with self._claims.get_lock():
            self._claims[0], self._claims[1], self._claims[2] = 0, len(order), -1
        self._send_files(order)
        arrival.expect(exports, listed, smallest[::-1])  # small files of one kind, should this process reach them
        mine = 0
        while (i := _claim_file(self._claims, from_top=True)) is not None:
            for kind, path in listed[smallest[i]]:
                arrival.file_info(exports, kind, path)
            mine += 1
        if self._claims[2] != -1 and self.proc.is_alive():  # the helper parses a file: imports meanwhile
            import_for_runs()  # needed for this process's runs anyway
        while self._claims[2] != -1 and self.proc.is_alive():
            time.sleep(0.02)
        self.read_note = f"; {mine} of {len(order)} here, largest first, the others in the helper"
        return arrival.inventory(exports)  # from the cache; a file left unparsed is parsed now

    def _send_files(self, files) -> None:
        """The helper's share of the exports read, or None: no read shared (sent once)."""
        if self.proc is not None and getattr(self, "_files_queue", None) is not None and not self._files_sent:
            self._files_queue.put(files)
            self._files_sent = True

    def _send(self, runs) -> None:
        self._send_files(None)  # the helper waits for the files before the runs
        if self.proc is not None and not self._sent:
            self._runs_queue.put(runs)
            self._sent = True

    def start(self, runs: list[tuple[str, str, list[str] | None]]) -> None:
        """Give the helper the stage runs (label, day, assets): it starts executing them."""
        self.runs = list(runs)
        self._send(self.runs if len(self.runs) >= MIN_RUNS else None)

    def execute_all(self, ex) -> None:
        """Execute the runs not taken by the helper, then wait for it; afterwards every run was
        executed once, here or there (a run the helper took and never reported: here)."""
        if not self._sent or self.proc is None or len(self.runs) < MIN_RUNS:
            for label, day, assets in self.runs:
                ex.execute("stage_day", label, day, assets=assets)
            self.close()
            return
        mine: set[int] = set()
        while (i := _claim(self._counter, len(self.runs))) is not None:
            label, day, assets = self.runs[i]
            ex.execute("stage_day", label, day, assets=assets)
            mine.add(i)
        reported = self._collect(ex)
        with self._counter.get_lock():
            taken = self._counter.value
        lost = [i for i in range(min(taken, len(self.runs))) if i not in mine and i not in reported]
        if lost:
            print(f"stage helper process ended (exit code {self.proc.exitcode}) without reporting "
                  f"{len(lost)} run(s): executing them here", file=sys.stderr, flush=True)
        for i in lost:
            label, day, assets = self.runs[i]
            ex.execute("stage_day", label, day, assets=assets)

    def _collect(self, ex) -> set[int]:
        reported: set[int] = set()
        finished = False
        while not finished:
            try:
                msg = self._done.get(timeout=0.5)
            except queue.Empty:
                if self.proc.is_alive():
                    continue
                try:  # it ended: what it put before ending is still in the pipe
                    msg = self._done.get(timeout=0.5)
                except queue.Empty:
                    break
            if msg is None:
                finished = True
                continue
            i, failed, blocked = msg
            reported.add(i)
            label = self.runs[i][0]
            if failed:
                ex.failed.append(label)
            ex.blocked.extend((lab, list(checks)) for lab, checks in blocked)
        if not finished:
            self.proc.join()
        # else every run it took has ended and been reported: it closes its instance and shuts its
        # interpreter down (1-1.7 s, measured) while this process goes on judging; joined at `close`
        return reported

    def stop(self) -> None:
        """No further run for the helper (the reference data failed its contract): it ends
        after the run it is executing."""
        if self.proc is not None and self._sent:
            with self._counter.get_lock():
                self._counter.value = len(self.runs)
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        self._send(None)
        self.proc.join(timeout=600)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        self.proc = None
