"""`wxpipeline run` (explicit backfill of a period) and `wxpipeline nightly` (what the schedule and
the exports sensor do in the daemon, synchronously), sharing one executor (nightly.py)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from datetime import date, datetime

from wxpipeline.settings import open_dagster_instance, settings

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# the process ends with this command (the console script's `run`/`nightly`, the stage helper):
# what it has imported and built lives until then (`_defs` freezes it), never a caller's process
OWN_PROCESS: list[bool] = []


def _defs():
    with long_lived():  # no collection while importing and building (see `long_lived`)
        from wxpipeline.stage_pool import import_for_runs

        import_for_runs()  # Dagster, and GE for the contracts of the runs to come (idempotent)
        fresh = "wxpipeline.definitions" not in sys.modules
        from wxpipeline import definitions

        # importing the module built them just now, from the same settings: not built twice (~0.15 s);
        # imported before (in-process tests, other homes): built afresh
        return definitions.defs if fresh else definitions.build_defs()


@contextmanager
def long_lived():
    """Python's cyclic collector paused while modules are imported and the definitions built, and,
    in a process that ends with its command (`OWN_PROCESS`), what exists then frozen: Dagster,
    Great Expectations, pandas, polars and the definitions (~340k objects) live as long as the
    process. While they were imported, the growing heap set off full collections that walked
    all of it again and again (one-day run, one process: 6 of them, ~0.7 CPU s, before the
    first run); once frozen, later collections skip them. Refcounting still frees each object
    when it is dropped; only a cycle among the frozen would wait for the process's end."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if OWN_PROCESS:
            gc.freeze()
            gc.set_threshold(*OWN_PROCESS_GC_THRESHOLDS)
        if enabled:
            gc.enable()


# A process that ends with its command collects its young objects every 20,000 net allocations
# instead of Python's 700: a run's events, contexts and GE validations allocate in bursts whose
# objects mostly die young. An empty one-day `run` in one process (2026-12-02, load 14-15, 2
# alternated pairs), with these and its imports under `long_lived`: 763 young, 69 middle and 5
# full collections, 0.58-0.62 CPU s -> 106, 10 and 0, 0.20-0.26 s. Cycles made meanwhile (few:
# the frozen heap is never walked) wait a little longer for their collection.
OWN_PROCESS_GC_THRESHOLDS = (20_000, 10, 10)


def prepare_dagster() -> None:
    """Dagster imported and adjusted for executing many runs in this process (idempotent). Nothing
    here reads the partitions' start: the stage helper does it while it waits for its runs."""
    from wxpipeline.settings import relax_sqlite_wal_fsync

    relax_sqlite_wal_fsync()  # one run per day writes thousands of events: no fsync per event
    from wxpipeline.dagster_engines import reuse_sqlite_engines

    reuse_sqlite_engines()  # and no engine (empty statement cache) per event either
    from wxpipeline.compute_logs import capture_without_tail_processes

    capture_without_tail_processes()  # no `tail` and watcher processes per run
    from wxpipeline.dagster_jobs import reuse_ephemeral_jobs

    reuse_ephemeral_jobs()  # no job snapshot serialised and hashed again per run
    from wxpipeline.ge_imports import defer_unused_ge_imports

    # Great Expectations without scipy.stats, altair (~1.5 s a process), the fluent datasources and
    # expectations our contracts do not use (~0.8 s; each imported on first use)
    defer_unused_ge_imports()
    from wxpipeline.dagster_jobs import skip_component_library_metadata

    skip_component_library_metadata()  # the UI's catalogue of component types: not shown here
    import dagster.components  # noqa: F401  (what loading the definitions needs besides our modules)


def _open_instance():
    """The persistent instance (created under a lock on a fresh home), after marking runs that a
    kill, crash or reboot left in progress as failed, so they never hold the run queue."""
    from wxpipeline.stale_runs import sweep_stale_runs

    instance = open_dagster_instance()
    for run_id in sweep_stale_runs(instance, "wxpipeline"):
        print(f"run {run_id[:8]} was left in progress by a process that is gone: marked failed", flush=True)
    return instance


def _reference_blocked(ex) -> bool:
    """Every day reads the reference data: judging on data that failed its contract would be wrong, not late."""
    if ex.blocked:
        print(f"\nreference data failed its contract ({', '.join(ex.blocked[0][1])}): no day judged. "
              "Fix the files under reference/ (see the check's failures in the UI) and re-run.", file=sys.stderr)
        return True
    return False


def _require_exports() -> int:
    from wxpipeline.arrival import ExportsFolderError, require_exports

    try:
        require_exports(settings().exports_dir)
    except ExportsFolderError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _finish(ex, start: date, end: date) -> int:
    from wxpipeline.cli import print_summary

    print_summary(start, end)
    print_coverage(start, end)
    if ex.failed or ex.blocked:
        print(f"\n{len(ex.failed)} failed run(s), {len(ex.blocked)} run(s) blocked by input contracts; "
              "see the Dagster UI (make ui) and `quarantine` table", file=sys.stderr)
        return 1
    return 0


def cmd_run(args) -> int:
    if rc := _require_exports():
        return rc
    from wxpipeline.cli import _days

    days = _days(args.date_from, args.date_to)  # a reversed range is a usage error
    from wxpipeline.stage_pool import StagePool

    pool = StagePool()  # a helper process for the stage runs, importing while the exports are read
    try:
        return _run_period(args, days, pool)
    finally:
        pool.close()


def _run_period(args, days: list[date], pool) -> int:
    with long_lived():  # polars, Dagster and the reports' modules: 3 full collections otherwise (~0.15 s)
        from wxpipeline import arrival
        from wxpipeline.nightly import (AS_OF_TAG, Executor, last_partition, longest_first, record_days,
                                        stage_assets_holding_records, stage_days_for_period)
        from wxpipeline.resources import exports_folder
        from wxpipeline.resources.staged_io import staged_store
        from wxpipeline.settings import record_partitions_start

    t_read = time.monotonic()
    inv = pool.read_exports(exports_folder())  # parses every new or changed file (parse cache), in both processes
    print(f"exports read in {time.monotonic() - t_read:.1f}s (files parsed once, then cached"
          f"{getattr(pool, 'read_note', '')})", flush=True)
    # the period and the days before/after it that its rules read (sign-offs before a publish day,
    # membership history ...): the daily partitions must reach back to the first of those days
    # holding records, or an early day would be judged without them. Before the definitions are built.
    wanted = stage_days_for_period(inv, args.date_from, args.date_to, last_partition())
    first = date.fromisoformat(record_partitions_start(min([args.date_from, *wanted])))
    if args.date_from < first:
        print(f"error: --from {args.date_from} is before the first daily partition {first} "
              "(WXPIPELINE_PARTITIONS_START)", file=sys.stderr)
        return 2
    stage = [d for d in wanted if d >= first]
    kind_days, store = record_days(inv), staged_store()
    t_all = time.monotonic()
    width = len(str(len(days)))
    as_of = datetime.now(arrival.TZ).isoformat()
    from wxpipeline.dagster_engines import kept_connections

    runs = []
    for day in stage:
        # a day around the period: only the tables the period's rules read of it that hold
        # records there (fewer steps; an absent partition reads as empty)
        assets = stage_assets_holding_records(day, args.date_from, args.date_to, kind_days, store)
        if assets != []:
            runs.append((f"stage {day}{'':<{2 * width + 3}}", day.isoformat(), assets))
    runs = longest_first(runs, inv)  # the busiest day first: no process idle while it ends
    # given before this process builds its definitions: the helper builds its own meanwhile (its
    # core was idle during that ~2 s) and then starts staging while the reference data is refreshed here
    pool.start(runs)
    defs = _defs()

    with _open_instance() as instance, kept_connections():  # connections kept while runs execute
        ex = Executor(defs, instance, QUIET)
        ex.execute("refresh_reference", f"{'reference':<{2 * width + 14}}")
        if _reference_blocked(ex):
            pool.stop()
            return 1
        pool.execute_all(ex)  # every stage run has ended (here or in the helper) before any day is judged
        for i, day in enumerate(days, 1):
            ex.execute("judge_day", f"[{i:>{width}}/{len(days)}] {day}", day.isoformat(), {AS_OF_TAG: as_of})
        if ex.has_job("period_summaries"):
            ex.execute("period_summaries", f"{'summaries':<{2 * width + 14}}")
    print(f"\n{len(days)} partition(s) judged, {len(stage)} staged, in {time.monotonic() - t_all:.0f}s; "
          f"Dagster instance: {settings().dagster_home}")
    return _finish(ex, args.date_from, args.date_to)


def cmd_nightly(args) -> int:
    """Judge `--date` (default yesterday) and every day whose inputs changed since last judged."""
    if rc := _require_exports():
        return rc
    from wxpipeline import nightly

    day = args.date or nightly.last_partition()
    if day > nightly.last_partition():
        print(f"error: --date {day} has not ended yet (last complete day {nightly.last_partition()})", file=sys.stderr)
        return 2
    from wxpipeline.stage_pool import StagePool

    pool = StagePool()  # a helper process for the stage runs, importing while the exports are read
    try:
        return _night(args, day, pool)
    finally:
        pool.close()


def _night(args, day: date, pool) -> int:
    with long_lived():  # as in `_run_period`
        from wxpipeline import arrival, nightly
        from wxpipeline.policy import load_policy
        from wxpipeline.resources import exports_folder, warehouse
        from wxpipeline.store import findings as findings_store

    first = date.fromisoformat(settings().partitions_start)
    old = nightly.load_state()
    inv = pool.read_exports(exports_folder())  # the changed files parsed in both processes
    new = arrival.manifest(inv)
    changes = arrival.diff(old, new)
    policy = load_policy(settings().policy or None)
    plan = nightly.plan_changes(changes, first, day, policy.for_day(day).windows.reference_rejudge_days)
    as_of_at = nightly.night_as_of(day) if args.date else datetime.now(arrival.TZ)
    # days judged while awaiting data whose tolerated delay passed since: re-judged to say overdue
    nightly.plan_overdue(plan, findings_store.coverage_rows(warehouse(), first, day), policy.for_day, as_of_at)
    plan.judge.setdefault(day, set()).add(f"nightly {day}")
    plan.assets.setdefault(day, set()).add("*")  # the night's own day: everything
    from wxpipeline.resources.staged_io import staged_store

    nightly.stage_missing(plan, staged_store())  # the night's own day too, when not staged yet
    as_of = as_of_at.isoformat()
    print(f"nightly {day}: {len(changes)} changed file(s)")
    for ch in changes:
        print(f"  {ch.what:<8} {ch.path}")
    t_all = time.monotonic()
    from wxpipeline.notify import NIGHTLY_TAG

    from wxpipeline.dagster_engines import kept_connections

    pool.start(nightly.longest_first([(f"stage {d}", d.isoformat(), None) for d in sorted(plan.stage)], inv))
    defs = _defs()  # after the helper was given its runs: both build their definitions at once
    with _open_instance() as instance, kept_connections():  # connections kept while runs execute
        ex = nightly.Executor(defs, instance, QUIET)
        if plan.reference or not old:
            ex.execute("refresh_reference", "reference        ")
            if _reference_blocked(ex):
                pool.stop()
                return 1
        pool.execute_all(ex)  # every stage run has ended (here or in the helper) before any day is judged
        for d in sorted(plan.judge):
            why = sorted(plan.judge[d])
            selection = nightly.judge_selection(plan.assets.get(d))
            print(f"judge {d} because of: {', '.join(why)}" + (f" [{', '.join(selection)}]" if selection else ""))
            tags = {nightly.CAUSE_TAG: nightly.cause_tag(why), nightly.AS_OF_TAG: as_of}
            if d == day:  # the night's own day posts its summary to the WeCom robot, as the schedule's run does
                tags[NIGHTLY_TAG] = "true"
            ex.execute("judge_day", f"judge {d}", d.isoformat(), tags, selection)
    if not ex.failed:
        nightly.save_state(new)  # a failed night is planned again from the same files
    judged = sorted(plan.judge)
    print(f"\nnightly {day}: {len(judged)} day(s) judged, {len(plan.stage)} staged, in {time.monotonic() - t_all:.0f}s")
    return _finish(ex, min(judged), max(judged))


def print_coverage(start: date, end: date) -> None:
    """Days whose inputs have not all arrived: never shown as passed."""
    from wxpipeline.store import findings as findings_store

    from wxpipeline.cli import _warehouse

    rows = findings_store.coverage_rows(_warehouse(), start, end)
    pending = [r for r in rows if r["coverage_status"] not in (None, "complete")]
    if not pending:
        print(f"\ninputs complete for every judged domain-day {start} .. {end}")
        return
    print(f"\ndomain-days awaiting data {start} .. {end} (not passed; findings so far are provisional):")
    for r in pending:
        print(f"  {r['partition_date']} {r['domain']:<11} {r['coverage_status']:<14} {r['missing']}")


def add_parsers(sub, day_type) -> None:
    r = sub.add_parser("run", help="materialize every asset and check for each day, through Dagster")
    r.add_argument("--from", dest="date_from", type=day_type, required=True, help="first day to judge, YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", type=day_type, required=True, help="last day to judge, YYYY-MM-DD")
    r.set_defaults(fn=cmd_run, ends_process=True)  # see cli.end_process

    n = sub.add_parser("nightly", help="judge yesterday and every day whose exports changed since last judged")
    n.add_argument("--date", type=day_type, default=None, help="the night's day (default yesterday, Asia/Shanghai)")
    n.set_defaults(fn=cmd_nightly, ends_process=True)
