"""`wxpipeline findings`, `case list|show`, `waiver add|list|revoke` and `report`: what compliance
staff use to read findings, triage cases and grant waivers (no Dagster needed)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

from wxpipeline import cli_args
from wxpipeline.cli_args import UsageError
from wxpipeline.settings import settings
from wxpipeline.store.statuses import FINDING_STATUSES

OUTPUT_FORMATS = ("table", "csv", "json")


def _warehouse(create: bool = False):
    """The findings store; commands that only read refuse a SQLite file that does not exist."""
    from wxpipeline.resources import warehouse

    # the resources module creates WXPIPELINE_HOME, where the default SQLite store lives
    return warehouse() if create else cli_args.existing_store()


def _emit(rows: list[dict], columns: list[str], fmt: str, what: str) -> None:
    """Print rows as a table (chosen columns), CSV or JSON (every column)."""
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
    elif fmt == "csv":
        from wxpipeline.reports.cells import neutralise

        buf = io.StringIO()
        if rows:
            w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows({k: "" if v is None else neutralise(v) for k, v in r.items()} for r in rows)
        sys.stdout.write(buf.getvalue())
    else:
        from wxpipeline.cli_table import render

        # a 12-digit fingerprint prefix is unique in practice and accepted by `case show|set`
        print(render([[(r.get(c) or "")[:12] if c == "fingerprint" else r.get(c) for c in columns] for r in rows],
                     columns))
        print(f"{len(rows)} {what}" + ("; full values: --format json or csv" if rows else ""))


def _error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


# ---- findings ---------------------------------------------------------------------------------


def cmd_findings(args) -> int:
    from wxpipeline.store import triage as triage_store

    from wxpipeline.reports.masking import evidence_text, mask_text, masked_evidence
    from wxpipeline.store.tables import Finding

    args.clause, args.domain = cli_args.clause_id(args.clause), cli_args.domain(args.domain)
    cli_args.date_range(args.date_from, args.date_to)
    if args.date and (args.date_from or args.date_to):
        raise UsageError("give either --date or --from/--to, not both")
    where = []
    if args.date:
        where.append(Finding.partition_date == args.date)
    if args.date_from:
        where.append(Finding.partition_date >= args.date_from)
    if args.date_to:
        where.append(Finding.partition_date <= args.date_to)
    for col, val in ((Finding.clause_id, args.clause), (Finding.domain, args.domain),
                     (Finding.employee_id, args.employee), (Finding.group_id, args.group)):
        if val:
            where.append(col == val)
    rows = triage_store.findings_status(_warehouse(), where or None)
    if args.status:
        rows = [r for r in rows if r["case_status"] in args.status]
    rows.sort(key=lambda r: (r["partition_date"], r["domain"], r["clause_id"], r["subject_id"]))
    order = ["partition_date", "domain", "clause_id", "subject_id", "employee_id", "group_id", "severity",
             "case_status", "counted", "waiver_id", "summary", "evidence_text", "evidence", "fingerprint", "finding_id",
             "first_seen", "case_owner", "case_note", "policy_version", "run_id", "detected_at"]
    rows = [{k: r.get(k) for k in order} for r in rows]
    for r in rows:  # the store's evidence is masked by the rules; mask again, as the report does
        r["summary"] = mask_text(r["summary"])
        r["evidence_text"] = evidence_text(r["evidence"], r["clause_id"])  # Chinese, for people
        r["evidence"] = json.dumps(masked_evidence(r["evidence"]), ensure_ascii=False)  # keys, for tools
    if args.format == "xlsx":
        return _findings_xlsx(rows, args)
    _emit(rows, ["partition_date", "clause_id", "subject_id", "severity", "case_status", "summary", "fingerprint"],
          args.format, "finding(s)")
    return 0


def _findings_xlsx(rows: list[dict], args) -> int:
    from collections import Counter

    from wxpipeline.checks.registry import CLAUSES, load_all
    from wxpipeline.reports.labels import domain_label
    from wxpipeline.reports.xlsx import Column, findings_sheets, write_workbook

    load_all()
    for r in rows:
        c = CLAUSES.get(r["clause_id"])
        r["clause_title"] = c.title if c else r["clause_id"]
    domains = sorted({r["domain"] for r in rows} | ({args.domain} if args.domain else set()))
    total, failing = Counter(), Counter()
    for r in rows:
        total[(r["domain"], r["clause_id"])] += 1
        failing[(r["domain"], r["clause_id"])] += bool(r["counted"])
    summary = [
        {"domain": d, "clause_id": cid, "title": CLAUSES[cid].title if cid in CLAUSES else cid,
         "findings": n, "failing": failing[(d, cid)], "suppressed": n - failing[(d, cid)],
         "text": CLAUSES[cid].text if cid in CLAUSES else "", "source": CLAUSES[cid].source if cid in CLAUSES else ""}
        for (d, cid), n in sorted(total.items())
    ]
    cols = [
        Column("领域", lambda r: domain_label(r["domain"])), Column("条款", lambda r: r["clause_id"]),
        Column("名称", lambda r: r["title"], 16), Column("发现", lambda r: r["findings"], 7),
        Column("未关闭", lambda r: r["failing"], 7), Column("已抑制", lambda r: r["suppressed"], 7),
        Column("条款内容", lambda r: r["text"], 60), Column("来源", lambda r: r["source"], 24),
    ]
    out = Path(args.out or "findings.xlsx")
    write_workbook(out, findings_sheets(rows, domains, summary, cols))

    print(f"{len(rows)} finding(s) written to {out} (sheets: 汇总, {'、'.join(map(domain_label, domains)) or '-'})")
    return 0


# ---- cases ------------------------------------------------------------------------------------


def cmd_case_list(args) -> int:
    from wxpipeline.store import cases as case_store

    args.clause, args.domain = cli_args.clause_id(args.clause), cli_args.domain(args.domain)
    rows = case_store.list_cases(_warehouse(), status=args.status, clause_id=args.clause, domain=args.domain, on=args.on)
    _emit(rows, ["fingerprint", "clause_id", "subject_id", "status", "first_seen", "last_seen", "owner",
                 "updated_by", "waiver_id", "note"], args.format, "case(s)")
    return 0


def cmd_case_show(args) -> int:
    from wxpipeline.store import cases as case_store

    try:
        case, events = case_store.case_history(_warehouse(), cli_args.fingerprint(args.fingerprint))
    except KeyError as e:
        return _error(e.args[0])
    from wxpipeline.cli_table import render

    print(f"case {case.fingerprint}: {case.clause_id} {case.subject_id} ({case.domain})")
    print(f"  status {case.status}, owner {case.owner or '-'}, seen {case.first_seen} .. {case.last_seen}")
    if case.note:
        print(f"  note: {case.note}")
    print(render(
        [[e.at.strftime("%Y-%m-%d %H:%M:%S"), e.event, e.partition_date or "", e.who,
          f"{e.old_status} -> {e.new_status}" if e.event == "status" else "", e.policy_version or "", e.note or ""]
         for e in events],
        ["at (UTC)", "event", "day", "who", "status", "policy", "note"],
    ))
    return 0


# ---- waivers ----------------------------------------------------------------------------------


def cmd_waiver_add(args) -> int:
    from wxpipeline.store import cases as case_store

    from wxpipeline.checks.registry import CLAUSES, load_all

    load_all()
    args.clause = cli_args.clause_id(args.clause)
    try:
        w = case_store.add_waiver(_warehouse(create=True), 
            args.clause, args.reason, args.approver, args.expires, subject_id=args.subject, pattern=args.pattern,
            by=args.by,
        )
    except ValueError as e:
        return _error(str(e))
    what = f"subject {args.subject}" if args.subject is not None else f"subjects matching {args.pattern!r}"
    print(f"waiver #{w.id}: {args.clause} {what}, approved by {w.approver}; "
          f"applies to findings on days before {w.expires_on} (stops on its expiry day)")
    if args.expires <= date.today():
        print(f"note: {args.expires} is not in the future; the waiver only covers earlier days", file=sys.stderr)
    if not _waiver_covers_any_case(args.clause, args.subject, args.pattern):
        cli_args.warn(f"the waiver matches no {args.clause} case recorded so far ({what}); "
                      "check the subject id (`wxpipeline case list --clause " + args.clause + "`)")
    return 0


def _waiver_covers_any_case(clause_id: str, subject: str | None, pattern: str | None) -> bool:
    from wxpipeline.store import cases as case_store

    import fnmatch

    subjects = case_store.case_subjects(_warehouse(create=True), clause_id)
    if subject is not None:
        return subject in subjects
    return any(fnmatch.fnmatchcase(x, pattern) for x in subjects)


def cmd_waiver_list(args) -> int:
    from wxpipeline.store import cases as case_store

    today = args.on or date.today()
    rows = []
    for w in case_store.list_waivers(_warehouse(), include_revoked=args.all):
        state = "revoked" if w.revoked_at else ("active" if w.expires_on > today else "expired")
        rows.append({
            "id": w.id, "clause_id": w.clause_id,
            "subject": "" if not w.fingerprint else _unescape(w.subject_pattern),
            "pattern": w.subject_pattern if not w.fingerprint else "", "fingerprint": w.fingerprint,
            "reason": w.reason, "approver": w.approver, "expires_on": w.expires_on, "state": state,
            "created_at": w.created_at, "revoked_at": w.revoked_at, "revoked_by": w.revoked_by,
        })
    _emit(rows, ["id", "clause_id", "subject", "pattern", "approver", "expires_on", "state", "reason"],
          args.format, "waiver(s)")
    return 0


def _unescape(pattern: str | None) -> str:
    return (pattern or "").replace("[*]", "*").replace("[?]", "?").replace("[[]", "[")


def cmd_waiver_revoke(args) -> int:
    from wxpipeline.store import cases as case_store

    try:
        w = case_store.revoke_waiver(_warehouse(), args.id, args.by, args.note)
    except (KeyError, ValueError) as e:
        return _error(e.args[0])
    print(f"waiver #{w.id} revoked by {w.revoked_by}; it no longer applies to any day (re-run days to update checks)")
    return 0


# ---- report -----------------------------------------------------------------------------------


def cmd_report(args) -> int:
    """Re-render days' reports from the findings store (e.g. after triage) without re-judging."""
    from datetime import timedelta

    from wxpipeline.resources.staged_io import staged_store
    from wxpipeline.checks.registry import domains as clause_domains
    from wxpipeline.policy import load_policy
    from wxpipeline.reports import collect_report, write_daily_report
    from wxpipeline.resources.calendar import PrcCalendar

    def optional(name):
        try:
            return staged_store().read(name)
        except FileNotFoundError:
            return None

    end = args.date_to or args.date
    cli_args.date_range(args.date, end, "--date")
    _warehouse()  # the store must exist
    domains = clause_domains()
    policies = load_policy(settings().policy or None)
    roster, registry = optional("roster"), optional("group_registry")
    day = args.date
    while day <= end:
        pv = policies.for_day(day)
        known = PrcCalendar(pv.calendar.extra_workdays, pv.calendar.extra_holidays).is_workday(day)[1]
        data = collect_report(_warehouse(), day, domains, roster=roster, group_registry=registry, policy=pv,
                              calendar_known=known)
        files = write_daily_report(data, settings().reports_dir)
        t = data.totals
        print(f"{day}: {t['findings']} finding(s), {t['failing']} open -> {files.html}")
        day += timedelta(days=1)
    return 0


# ---- parsers ----------------------------------------------------------------------------------


def add_findings_parser(sub, day_type) -> None:
    f = sub.add_parser("findings", help="list findings (filters combine with AND)",
                       description="List findings from the findings store. Filters combine with AND.")
    f.add_argument("--date", type=day_type, help="one partition day, YYYY-MM-DD")
    f.add_argument("--from", dest="date_from", type=day_type, help="first day, YYYY-MM-DD")
    f.add_argument("--to", dest="date_to", type=day_type, help="last day, YYYY-MM-DD (not before --from)")
    f.add_argument("--clause", help="clause id: PAY-02, PAY_02 (the UI's check name) or pay-02")
    f.add_argument("--domain", help="groups, chat, publishing or payments (or the Chinese label)")
    f.add_argument("--employee", help="employee_id")
    f.add_argument("--group", help="group_id")
    f.add_argument("--status", action="append", choices=FINDING_STATUSES,
                   help="effective status on the finding's day (repeatable); open+confirmed fail their check")
    f.add_argument("--format", choices=[*OUTPUT_FORMATS, "xlsx"], default="table",
                   help="table (fits the terminal, long text cut), csv/json (every column, full values), xlsx")
    f.add_argument("--out", help="xlsx file to write (default ./findings.xlsx)")
    f.set_defaults(fn=cmd_findings)


def add_case_parsers(csub, day_type) -> None:
    cl = csub.add_parser("list", help="list cases (one per clause and subject)")
    cl.add_argument("--status", choices=FINDING_STATUSES,
                    help="stored status; `waived` = covered by a waiver in force on --on")
    cl.add_argument("--clause", help="clause id, e.g. PAY-04 (PAY_04 and pay-04 work too)")
    cl.add_argument("--domain", help="groups, chat, publishing or payments")
    cl.add_argument("--on", type=day_type, help="day for the waiver column (default today)")
    cl.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="table, csv or json (default table)")
    cl.set_defaults(fn=cmd_case_list)

    sh = csub.add_parser("show", help="a case and its full history from case_events")
    sh.add_argument("fingerprint", help="the case's fingerprint or a unique prefix of it (at least 4 digits)")
    sh.set_defaults(fn=cmd_case_show)


def add_parsers(sub, day_type) -> None:
    w = sub.add_parser("waiver", help="waive a clause for a subject or a pattern of subjects until a date")
    wsub = w.add_subparsers(dest="waiver_command", required=True)
    wa = wsub.add_parser("add", help="add a waiver (applies to findings on days before --expires)")
    wa.add_argument("--clause", required=True, help="clause id, e.g. PAY-02")
    who = wa.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject", help="exact subject_id")
    who.add_argument("--pattern", help="glob over subject_id, e.g. 'wrOgQhDgAA*/*'")
    wa.add_argument("--reason", required=True, help="why the clause does not apply (shown in reports)")
    wa.add_argument("--approver", required=True, help="who approved the waiver")
    wa.add_argument("--expires", type=day_type, required=True, help="YYYY-MM-DD: first day it no longer applies")
    wa.add_argument("--by", help="who records it (default: the approver)")
    wa.set_defaults(fn=cmd_waiver_add)

    wl = wsub.add_parser("list", help="list waivers")
    wl.add_argument("--all", action="store_true", help="include revoked waivers")
    wl.add_argument("--on", type=day_type, help="day for the active/expired state (default today)")
    wl.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="table, csv or json (default table)")
    wl.set_defaults(fn=cmd_waiver_list)

    wr = wsub.add_parser("revoke", help="revoke a waiver")
    wr.add_argument("id", type=int, help="waiver number (see `waiver list`)")
    wr.add_argument("--by", required=True, help="who revokes it")
    wr.add_argument("--note", help="why (recorded in case_events)")
    wr.set_defaults(fn=cmd_waiver_revoke)

    r = sub.add_parser("report", help="re-render daily reports from the findings store (after triage)")
    r.add_argument("--date", type=day_type, required=True, help="the (first) report day, YYYY-MM-DD")
    r.add_argument("--to", dest="date_to", type=day_type, help="last day (default --date)")
    r.set_defaults(fn=cmd_report)
