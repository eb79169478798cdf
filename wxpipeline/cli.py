"""`wxpipeline` command line: demo data, runs through Dagster, findings and cases for compliance staff."""

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from wxpipeline.settings import record_partitions_start, secure_process, settings
from wxpipeline.store.statuses import CASE_STATUSES


def _day(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {s!r}") from None


def _days(start: date, end: date) -> list[date]:
    from wxpipeline.cli_args import date_range

    date_range(start, end)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _warehouse():
    from wxpipeline.cli_cases import _warehouse as warehouse

    return warehouse()


# ---- demo -----------------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from wxpipeline.demo import write_demo

    root = Path(args.out) if args.out else settings().exports_dir
    end = args.end
    summary = write_demo(root, end=end, days=args.days, seed=args.seed)
    start = end - timedelta(days=args.days - 1)
    record_partitions_start(start)  # the demo's data begins here: so do the daily partitions
    print(f"demo exports written to {root} ({start} .. {end}, seed {args.seed})")
    for clause_id, subjects in sorted(summary.get("planted", {}).items()):
        print(f"  planted {clause_id}: {len(subjects)} subject(s)")
    print(f"next: wxpipeline run --from {start} --to {end}")
    return 0


# ---- run and nightly: cli_nightly.py --------------------------------------------------------


def refused_files() -> list[tuple[str, str]]:
    """(file, reason) of the export files refused whole as the folder is now (parse cache)."""
    from wxpipeline.formats.registry import EXPORT_KINDS
    from wxpipeline.resources import exports_folder

    exports = exports_folder()
    found = {}
    for kind in EXPORT_KINDS:
        for r in exports.scan(kind).rejects:
            if r.reason.startswith("file rejected"):
                found[r.file] = r.reason
    return sorted(found.items())


def print_summary(start: date, end: date) -> None:
    from wxpipeline.store import findings as findings_store
    from wxpipeline.store import quarantine as quarantine_store

    from wxpipeline.cli_table import render

    from wxpipeline.checks.registry import CLAUSES, load_all
    from wxpipeline.store.tables import Finding

    load_all()
    df = findings_store.findings_frame(_warehouse(), [Finding.partition_date >= start, Finding.partition_date <= end])
    counts = {}
    if df.height:
        for row in df.group_by("clause_id").len().iter_rows(named=True):
            counts[row["clause_id"]] = row["len"]
    rows = [
        [cid, CLAUSES[cid].title, counts.get(cid, 0)]
        for cid in sorted(CLAUSES)
    ]
    print(f"\nfindings per clause, {start} .. {end}:")
    print(render(rows, ["clause", "title", "findings"]))
    quarantined = quarantine_store.counts(_warehouse())
    if quarantined:
        print("\nquarantined input records (table `quarantine`): "
              + ", ".join(f"{src} {n}" for src, n in sorted(quarantined.items())))
    refused = refused_files()
    if refused:  # a whole file not read is never an "ok" to pass over
        print(f"\n{len(refused)} file(s) refused whole (nothing in them was judged):", file=sys.stderr)
        for file, reason in refused[:20]:
            print(f"  {file}: {reason}", file=sys.stderr)


# ---- findings and cases ---------------------------------------------------------------------


def cmd_case_set(args) -> int:
    from wxpipeline.store import cases as case_store

    try:
        from wxpipeline.cli_args import fingerprint

        case = case_store.set_case_status(_warehouse(), fingerprint(args.fingerprint), args.status, args.note, args.by, owner=args.owner)
    except (KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"case {case.fingerprint} ({case.clause_id} {case.subject_id}) is now {case.status}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wxpipeline", description=__doc__, epilog=ENV_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(name, **kw):  # every subcommand's --help names the environment variables too
        return _add(name, epilog=ENV_HELP, formatter_class=argparse.RawDescriptionHelpFormatter, **kw)

    sub.add_parser = add_parser

    d = sub.add_parser("demo", help="write a realistic demo exports folder")
    d.add_argument("--days", type=int, default=30, help="number of days of exports (default 30)")
    d.add_argument("--end", type=_day, default=date(2026, 10, 17), help="last demo day (default 2026-10-17)")
    d.add_argument("--seed", type=int, default=7, help="random seed: the same seed writes the same exports")
    d.add_argument("--out", help="folder (default WXPIPELINE_EXPORTS_DIR)")
    d.set_defaults(fn=cmd_demo)

    from wxpipeline import cli_nightly

    cli_nightly.add_parsers(sub, _day)  # run, nightly

    from wxpipeline import cli_cases

    cli_cases.add_findings_parser(sub, _day)

    c = sub.add_parser("case", help="triage cases")
    csub = c.add_subparsers(dest="case_command", required=True)
    cs = csub.add_parser("set", help="set a case's status")
    cs.add_argument("fingerprint", help="the case's fingerprint or a unique prefix of it (at least 4 digits)")
    cs.add_argument("--status", required=True, choices=CASE_STATUSES,
                    help="new status; false_positive stays suppressed while the evidence is unchanged")
    cs.add_argument("--note", help="why (kept in case_events)")
    cs.add_argument("--by", required=True, help="who decides")
    cs.add_argument("--owner", help="who follows the case up")
    cs.set_defaults(fn=cmd_case_set)
    cli_cases.add_case_parsers(csub, _day)

    from wxpipeline import cli_policy

    cli_policy.add_parsers(sub, _day)
    cli_cases.add_parsers(sub, _day)

    from wxpipeline import cli_db

    cli_db.add_parsers(sub)  # db upgrade, db current
    return p


def _env_help() -> str:
    from wxpipeline.settings import ENVIRONMENT

    return "environment variables:\n" + "\n".join(f"  {name:<28} {what}" for name, what in ENVIRONMENT)


ENV_HELP = _env_help()


def _quiet_dagster() -> None:
    """Nothing Dagster warns about (beta/preview APIs, deprecations) reaches the terminal: those
    warnings concern wxpipeline's code, not what the person at the terminal asked."""
    import warnings

    default_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        origin = f"{getattr(category, '__module__', '')} {filename}"
        if "dagster" in origin or "dagster" in str(message).lower():
            return
        default_show(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secure_process()
    from wxpipeline.cli_args import UsageError
    from wxpipeline.policy import PolicyError

    _quiet_dagster()
    if argv is None and getattr(args, "ends_process", False):
        from wxpipeline.cli_nightly import OWN_PROCESS

        OWN_PROCESS.append(True)  # the command ends this process (`end_process` below)
    try:
        rc = args.fn(args)
        if argv is None and getattr(args, "ends_process", False):
            end_process(rc)  # the command line's own process (the console script), never a caller's
        return rc
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except PolicyError as e:
        print(f"policy error:\n{e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly; stdout is pointed at /dev/null so the
        # interpreter's final flush does not complain either
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def end_process(rc: int) -> None:
    """End `wxpipeline run` / `nightly` once their work is done and said: output flushed, exit
    handlers run (logging, multiprocessing), the SQLite databases closed (checkpointed), then
    the process ends without the interpreter tearing down, one object at a time, the modules
    and objects of Dagster, Great Expectations, pandas and polars that a run loaded: that took
    1-2.5 s after the summary was printed (measured at load 7), for nothing anyone reads."""
    import atexit
    import os

    from wxpipeline.settings import close_kept_sqlite_connections

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    close_kept_sqlite_connections()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())
