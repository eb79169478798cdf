"""`wxpipeline policy show|diff` and `wxpipeline revision-report`: policy versions for ops."""

import json
import sys
from datetime import date

from wxpipeline.cli_table import render

from wxpipeline.settings import settings


def _policies():
    from wxpipeline.policy import load_policy

    return load_policy(settings().policy or None)


def cmd_policy_show(args) -> int:
    from wxpipeline.policy.diff import effective_parameters

    policies = _policies()
    day = args.date or date.today()
    pv = policies.for_day(day)
    print(f"policy in effect on {day}: version {pv.version} (effective_from {pv.effective_from}) from {pv.source_file}")
    others = [f"{v.version} from {v.effective_from}" for v in policies.versions if v is not pv]
    if others:
        print(f"other versions: {'; '.join(others)}")
    rows = [
        [cid, "yes" if p.pop("enabled") else "NO", p.pop("severity"), ", ".join(f"{k}={v}" for k, v in p.items())]
        for cid, p in effective_parameters(pv).items()
    ]
    print(render(rows, ["clause", "enabled", "severity", "parameters"]))
    cal = pv.calendar
    print(f"calendar overrides: workdays {[str(d) for d in cal.extra_workdays]}, "
          f"holidays {[str(d) for d in cal.extra_holidays]}")
    if pv.word_lists:
        print("word lists: " + ", ".join(f"{k}={v}" for k, v in sorted(pv.word_lists.items())))
    return 0


def cmd_policy_diff(args) -> int:
    from wxpipeline.policy.diff import diff_versions

    policies = _policies()
    a, b = policies.by_version(args.v1), policies.by_version(args.v2)
    rows = diff_versions(a, b)
    print(f"{a.version} (from {a.effective_from}) -> {b.version} (from {b.effective_from}): {len(rows)} change(s)")
    if rows:
        print(render([[r["scope"], r["key"], r["old"], r["new"]] for r in rows],
                     ["clause/scope", "key", a.version, b.version]))
    return 0


def cmd_revision_report(args) -> int:
    from wxpipeline.revision import revision_report

    from wxpipeline.cli_args import date_range, existing_store

    date_range(args.date_from, args.date_to)
    report = revision_report(existing_store(), _policies(), args.date_from, args.date_to)
    if args.format == "json":
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"revision effect {report['from']} .. {report['to']}: "
          f"{report['partitions_rejudged']} partition(s) re-judged under a revised policy "
          f"({', '.join(report['transitions']) or 'none'})")
    if report["clauses"]:
        print(render(
            [[c["clause_id"], c["before"], c["after"], c["new"], c["resolved"], "; ".join(c["examples"])]
             for c in report["clauses"]],
            ["clause", "before", "after", "new", "resolved", "examples"],
        ))
    waiting = report["partitions_awaiting_backfill"]
    if waiting:
        print(f"\n{len(waiting)} partition(s) were judged by another policy than the one now in effect; "
              f"backfill them: {', '.join(waiting[:10])}{' ...' if len(waiting) > 10 else ''}")
    return 0


def add_parsers(sub, day_type) -> None:
    p = sub.add_parser("policy", help="policy versions: show effective parameters, diff two versions")
    psub = p.add_subparsers(dest="policy_command", required=True)
    show = psub.add_parser("show", help="the parameters in effect on a day")
    show.add_argument("--date", type=day_type, help="the day whose policy version to show (default: today)")
    show.set_defaults(fn=cmd_policy_show)
    diff = psub.add_parser("diff", help="changed clauses and parameters between two versions")
    diff.add_argument("v1", help="older policy version, e.g. 2026.1")
    diff.add_argument("v2", help="newer policy version, e.g. 2026.2")
    diff.set_defaults(fn=cmd_policy_diff)

    r = sub.add_parser("revision-report", help="effect of the last policy revision per clause")
    r.add_argument("--from", dest="date_from", type=day_type, required=True, help="first day, YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", type=day_type, required=True, help="last day, YYYY-MM-DD")
    r.add_argument("--format", choices=["table", "json"], default="table", help="table or json (default table)")
    r.set_defaults(fn=cmd_revision_report)
