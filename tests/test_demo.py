"""The demo exports folder: deterministic, in the DESIGN.md layout, vendor-format bills, and the
planted payment violations are exactly what a naive reading of CLAUSES.md finds (no more)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from wxpipeline.demo import is_workday, write_demo

DESIGN_FOLDERS = {
    "wecom_archive", "wecom_groups", "wecom_group_events", "wechat_pay", "ledger",
    "mp_published", "mp_reviews", "reference",
}
MARKER = "----------------------微信支付账单明细列表--------------------"
BILL_HEADER = ["交易时间", "交易类型", "交易对方", "商品", "收/支", "金额(元)", "支付方式", "当前状态", "交易单号", "商户单号", "备注"]
PAY_CLAUSES = ["PAY-01", "PAY-02", "PAY-03", "PAY-04"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    return root, write_demo(root)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _bill_rows(path: Path) -> tuple[str, list[dict[str, str]]]:
    """(nickname, rows) of one bill file, .csv or .xlsx; ids and amounts cleaned."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        lines = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    else:
        text = path.read_bytes().decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
    first = [line[0] if line else "" for line in lines]
    nick = re.fullmatch(r"微信昵称：\[(.*)\]", first[1]).group(1)
    m = first.index(MARKER)
    assert lines[m + 1] == BILL_HEADER, path
    rows = []
    for line in lines[m + 2:]:
        row = dict(zip(BILL_HEADER, line))
        row["交易单号"] = row["交易单号"].strip(" \t")
        row["amount"] = Decimal(row["金额(元)"].lstrip("¥￥"))
        rows.append(row)
    return nick, rows


def _bills(root: Path) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for p in sorted((root / "wechat_pay").iterdir()):
        nick, rows = _bill_rows(p)
        out += [(p.name, nick, r) for r in rows]
    return out


def _d(s: str) -> date | None:
    return date.fromisoformat(s) if s else None


# --------------------------------------------------------------------------------------------


def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    sa, sb = write_demo(a), write_demo(b)
    assert sa["files"] == sb["files"] and sa["planted"] == sb["planted"]
    assert _tree(a) == _tree(b)
    write_demo(c, seed=8)
    assert _tree(c) != _tree(a)


def test_files_in_design_layout(demo):
    root, summary = demo
    assert summary["files"] and summary["start"] == "2026-09-18" and summary["end"] == "2026-10-17"
    for rel in summary["files"]:
        path = root / rel
        assert path.is_file(), rel
        assert rel.split("/")[0] in DESIGN_FOLDERS, rel
    for name in ("roster", "group_registry", "pay_accounts", "pay_approvals"):
        assert f"reference/{name}.csv" in summary["files"]
    assert any(f.startswith("wechat_pay/") and f.endswith(".xlsx") for f in summary["files"])
    assert len([f for f in summary["files"] if f.startswith("ledger/")]) >= 2
    for rel, n in summary["rows"].items():  # row counts are true
        path = root / rel
        if rel.startswith("wechat_pay/"):
            assert len(_bill_rows(path)[1]) == n, rel
        elif rel.endswith(".csv"):
            assert len(_read_csv(path)) == n, rel
        # JSON / JSONL exports: each domain's own demo test checks its row counts


def test_every_pay_clause_planted(demo):
    _, summary = demo
    for clause in PAY_CLAUSES:
        assert summary["planted"].get(clause), clause
    assert "E0004/2026-09-22" in summary["planted"]["PAY-01"]


def test_reference_data(demo):
    root, _ = demo
    roster = _read_csv(root / "reference/roster.csv")
    assert len(roster) == 60
    assert list(roster[0]) == ["employee_id", "name", "department", "position", "phone", "hire_date",
                               "leave_date", "wecom_userid", "is_leader"]
    for col in ("employee_id", "wecom_userid", "phone", "name"):
        assert len({r[col] for r in roster}) == 60, col
    assert all(re.fullmatch(r"1[358]\d{9}", r["phone"]) for r in roster)
    assert all(re.fullmatch(r"[a-z]+\d*", r["wecom_userid"]) for r in roster)
    assert sum(r["is_leader"] == "true" for r in roster) == 8
    start, end = date(2026, 9, 18), date(2026, 10, 17)
    leavers = [r for r in roster if r["leave_date"]]
    assert 3 <= len(leavers) <= 4 and all(start <= _d(r["leave_date"]) <= end for r in leavers)
    assert "2026-09-29" in {r["hire_date"] for r in roster}
    groups = _read_csv(root / "reference/group_registry.csv")
    assert {g["group_type"] for g in groups} == {"company", "department", "special", "temporary"}
    assert all(g["group_id"].startswith("wrOgQhDgAA") for g in groups)


def test_bill_files_look_like_the_app_export(demo):
    root, _ = demo
    boms = crlfs = lfs = 0
    for p in sorted((root / "wechat_pay").glob("*.csv")):
        raw = p.read_bytes()
        boms += raw.startswith(b"\xef\xbb\xbf")
        crlfs += b"\r\n" in raw
        lfs += b"\r\n" not in raw
        lines = raw.decode("utf-8-sig").splitlines()
        assert lines[0] == "微信支付账单明细" + "," * 10
        assert lines[15] == MARKER + "," * 10 and lines[16] == ",".join(BILL_HEADER), p.name
        assert "\t" in lines[17] and "¥" in lines[17]
    assert boms >= 1 and crlfs >= 1 and lfs >= 1
    statuses = {r["当前状态"] for _, _, r in _bills(root)}
    assert {"支付失败", "已全额退款", "已退款(￥20.00)"} <= statuses
    assert any(r["收/支"] == "收入" for _, _, r in _bills(root))
    seen = defaultdict(set)
    for name, _, r in _bills(root):
        seen[r["交易单号"]].add(name)
    overlap = [t for t, names in seen.items() if len(names) > 1 and not any(n.endswith(".xlsx") for n in names)]
    assert overlap, "two csv bill files should repeat some transactions"


def test_ledger_references_bill_transactions(demo):
    root, summary = demo
    bill_ids = {r["交易单号"] for _, _, r in _bills(root)}
    ledger_only = {s.split(":", 1)[1] for s in summary["planted"]["PAY-04"] if s.startswith("ledger:")}
    rows = [r for p in sorted((root / "ledger").glob("*.csv")) for r in _read_csv(p)]
    assert rows and list(rows[0]) == ["entry_id", "employee_id", "paid_at", "amount", "transaction_id",
                                      "counterparty", "purpose"]
    for r in rows:
        if r["entry_id"] in ledger_only:
            assert r["transaction_id"] not in bill_ids
        else:
            assert r["transaction_id"] in bill_ids, r


def _naive_findings(root: Path) -> dict[str, set[str]]:
    """CLAUSES.md PAY-01..04 read literally, default parameters, plain Python."""
    accounts = {r["account_nickname"]: r for r in _read_csv(root / "reference/pay_accounts.csv")}
    approvals = _read_csv(root / "reference/pay_approvals.csv")
    spending: dict[str, tuple[str, dict[str, str]]] = {}
    for _, nick, r in _bills(root):
        if r["收/支"] == "支出" and r["当前状态"] not in ("支付失败", "已全额退款"):
            spending.setdefault(r["交易单号"], (nick, r))
    found: dict[str, set[str]] = {c: set() for c in PAY_CLAUSES}
    per_day: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for tid, (nick, r) in spending.items():
        ts = datetime.strptime(r["交易时间"], "%Y-%m-%d %H:%M:%S")
        day = ts.date()
        if not is_workday(day) or not time(9) <= ts.time() <= time(18):
            found["PAY-02"].add(tid)
        acct = accounts.get(nick)
        if (acct is None or _d(acct["approved_on"]) > day
                or (acct["revoked_on"] and _d(acct["revoked_on"]) <= day)):
            found["PAY-03"].add(tid)
        if acct is not None:
            per_day[(acct["employee_id"], day)] += r["amount"]
    for (eid, day), total in per_day.items():
        if total > 5000 and not any(
            a["employee_id"] == eid and _d(a["valid_from"]) <= day <= _d(a["valid_to"])
            and Decimal(a["approved_limit"]) >= total for a in approvals
        ):
            found["PAY-01"].add(f"{eid}/{day}")
    ledger = [r for p in sorted((root / "ledger").glob("*.csv")) for r in _read_csv(p)]
    by_tid = defaultdict(list)
    for e in ledger:
        by_tid[e["transaction_id"]].append(e)
        if not e["transaction_id"] or e["transaction_id"] not in spending:
            found["PAY-04"].add(f"ledger:{e['entry_id']}")
    for tid, (_, r) in spending.items():
        entries = by_tid.get(tid, [])
        if len(entries) != 1 or Decimal(entries[0]["amount"]) != r["amount"]:
            found["PAY-04"].add(f"bill:{tid}")
    return found


def test_planted_is_exactly_what_the_clauses_find(demo):
    root, summary = demo
    found = _naive_findings(root)
    for clause in PAY_CLAUSES:
        assert found[clause] == set(summary["planted"][clause]), clause


@pytest.mark.parametrize("days,end", [(7, date(2026, 10, 17)), (45, date(2026, 10, 31)), (30, date(2031, 3, 20))])
def test_other_periods_still_consistent(tmp_path, days, end):
    """Other spans (and a year the calendar may not know) plant only what they report."""
    summary = write_demo(tmp_path, end=end, days=days)
    found = _naive_findings(tmp_path)
    for clause in PAY_CLAUSES:
        assert found[clause] == set(summary["planted"].get(clause, [])), clause
