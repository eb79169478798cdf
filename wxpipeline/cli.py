"""`wxpipeline` command line: demo data, runs through Dagster, findings and cases for compliance staff."""

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from wxpipeline.settings import ensure_dagster_home, settings


def _day(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {s!r}") from None


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise SystemExit(f"--to {end} is before --from {start}")
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
    print(f"demo exports written to {root} ({start} .. {end}, seed {args.seed})")
    for clause_id, subjects in sorted(summary.get("planted", {}).items()):
        print(f"  planted {clause_id}: {len(subjects)} subject(s)")
    print(f"next: wxpipeline run --from {start} --to {end}")
    return 0


# ---- run ------------------------------------------------------------------------------------


def _check_outcomes(result) -> list:
    evals = []
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_CHECK_EVALUATION":
            evals.append(ev.event_specific_data)
    return evals


# The per-day progress line is the console output; step logs stay in the Dagster UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def cmd_run(args) -> int:
    ensure_dagster_home()
    from wxpipeline.settings import relax_sqlite_wal_fsync

    relax_sqlite_wal_fsync()  # one run per day writes thousands of events: no fsync per event
    import warnings

    import dagster as dg

    # Deliberate uses (partitioned contract checks, backfill policy); README explains them.
    for category in (dg.BetaWarning, dg.PreviewWarning):
        warnings.simplefilter("ignore", category)
    from wxpipeline.definitions import build_defs

    defs = build_defs()
    days = _days(args.date_from, args.date_to)
    failed, blocked = [], []
    t_all = time.monotonic()
    width = len(str(len(days)))

    def execute(job_name: str, label: str, partition_key: str | None = None) -> None:
        t0 = time.monotonic()
        result = defs.resolve_job_def(job_name).execute_in_process(
            partition_key=partition_key, instance=instance, raise_on_error=False, run_config=QUIET
        )
        evals = _check_outcomes(result)
        contract_fail = [e.check_name for e in evals if not e.passed and e.check_name.endswith("_contract")]
        warn = sum(1 for e in evals if not e.passed and not e.check_name.endswith("_contract"))
        state = "ok" if result.success and not contract_fail else "FAILED"
        if not result.success:
            failed.append(label)
        if contract_fail:
            blocked.append((label, contract_fail))
        extra = f" contract failed: {', '.join(contract_fail)}" if contract_fail else ""
        print(f"{label}  {state:<6} checks warning: {warn:<3} ({time.monotonic() - t0:.1f}s) "
              f"run {result.run_id[:8]}{extra}", flush=True)

    with dg.DagsterInstance.get() as instance:
        execute("refresh_reference", f"{'reference':<{2 * width + 14}}")
        for i, day in enumerate(days, 1):
            execute("judge_day", f"[{i:>{width}}/{len(days)}] {day}", day.isoformat())
        if defs.resolve_job_def("period_summaries").asset_layer.executable_asset_keys:
            execute("period_summaries", f"{'summaries':<{2 * width + 14}}")
    print(f"\n{len(days)} partition(s) in {time.monotonic() - t_all:.0f}s; Dagster instance: {settings().dagster_home}")
    print_summary(args.date_from, args.date_to)
    if failed or blocked:
        print(f"\n{len(failed)} failed run(s), {len(blocked)} run(s) blocked by input contracts; "
              "see the Dagster UI (make ui) and `quarantine` table", file=sys.stderr)
        return 1
    return 0


def print_summary(start: date, end: date) -> None:
    from tabulate import tabulate

    from wxpipeline.checks.registry import CLAUSES, load_all
    from wxpipeline.resources.tables import Finding

    load_all()
    df = _warehouse().findings_frame([Finding.partition_date >= start, Finding.partition_date <= end])
    counts = {}
    if df.height:
        for row in df.group_by("clause_id").len().iter_rows(named=True):
            counts[row["clause_id"]] = row["len"]
    rows = [
        [cid, CLAUSES[cid].title, counts.get(cid, 0)]
        for cid in sorted(CLAUSES)
    ]
    print(f"\nfindings per clause, {start} .. {end}:")
    print(tabulate(rows, headers=["clause", "title", "findings"], tablefmt="simple"))
    quarantined = _warehouse().quarantine_counts()
    if quarantined:
        print("\nquarantined input records (table `quarantine`): "
              + ", ".join(f"{src} {n}" for src, n in sorted(quarantined.items())))


# ---- findings and cases ---------------------------------------------------------------------


def cmd_case_set(args) -> int:
    try:
        case = _warehouse().set_case_status(args.fingerprint, args.status, args.note, args.by, owner=args.owner)
    except (KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"case {case.fingerprint} ({case.clause_id} {case.subject_id}) is now {case.status}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wxpipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="write a realistic demo exports folder")
    d.add_argument("--days", type=int, default=30)
    d.add_argument("--end", type=_day, default=date(2026, 10, 17), help="last demo day (default 2026-10-17)")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--out", help="folder (default WXPIPELINE_EXPORTS_DIR)")
    d.set_defaults(fn=cmd_demo)

    r = sub.add_parser("run", help="materialize every asset and check for each day, through Dagster")
    r.add_argument("--from", dest="date_from", type=_day, required=True)
    r.add_argument("--to", dest="date_to", type=_day, required=True)
    r.set_defaults(fn=cmd_run)

    from wxpipeline import cli_cases

    cli_cases.add_findings_parser(sub, _day)

    c = sub.add_parser("case", help="triage cases")
    csub = c.add_subparsers(dest="case_command", required=True)
    cs = csub.add_parser("set", help="set a case's status")
    cs.add_argument("fingerprint")
    cs.add_argument("--status", required=True, choices=["open", "confirmed", "false_positive", "resolved"])
    cs.add_argument("--note")
    cs.add_argument("--by", required=True)
    cs.add_argument("--owner")
    cs.set_defaults(fn=cmd_case_set)
    cli_cases.add_case_parsers(csub, _day)

    from wxpipeline import cli_policy

    cli_policy.add_parsers(sub, _day)
    cli_cases.add_parsers(sub, _day)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from wxpipeline.policy import PolicyError

    try:
        return args.fn(args)
    except PolicyError as e:
        print(f"policy error:\n{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
