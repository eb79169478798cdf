"""Excel workbooks for compliance staff: frozen header row, auto-filter, widths fitted to the
content (CJK characters count double), dates as real dates. Used by the daily report and by
`wxpipeline findings --format xlsx`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from wxpipeline.reports.labels import domain_label, severity_label, status_label

MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Column:
    header: str
    value: Callable[[dict], Any]
    max_width: int = MAX_WIDTH


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict]


def display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (date, datetime)):
        return 10 if isinstance(value, date) and not isinstance(value, datetime) else 19
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _cell_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones; stored timestamps are UTC
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("", v)
    return v


def sheet_title(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name)[:31] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for sh in sheets:
        ws = wb.create_sheet(sheet_title(sh.title, taken))
        headers = [c.header for c in sh.columns]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="center")
        widths = [display_width(h) for h in headers]
        for r_i, row in enumerate(sh.rows, start=2):
            for c_i, col in enumerate(sh.columns, start=1):
                v = _cell_value(col.value(row))
                cell = ws.cell(row=r_i, column=c_i, value=v)
                if isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"  # text from exports is never a formula
                elif isinstance(v, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(v, date):
                    cell.number_format = "yyyy-mm-dd"
                if r_i <= 1000:  # widths from the first thousand rows are plenty
                    widths[c_i - 1] = max(widths[c_i - 1], display_width(v))
        for c_i, (col, w) in enumerate(zip(sh.columns, widths), start=1):
            ws.column_dimensions[get_column_letter(c_i)].width = max(MIN_WIDTH, min(col.max_width, w + 2))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(sh.rows) + 1)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two runs of one day may overlap
    wb.save(tmp)
    tmp.replace(path)
    return path


# ---- the columns compliance staff see ---------------------------------------------------------

FINDING_COLUMNS = [
    Column("日期", lambda r: r["partition_date"]),
    Column("领域", lambda r: domain_label(r["domain"])),
    Column("条款", lambda r: r["clause_id"]),
    Column("条款名称", lambda r: r.get("clause_title"), 24),
    Column("对象", lambda r: r["subject_id"], 40),
    Column("员工编号", lambda r: r.get("employee_id")),
    Column("姓名", lambda r: r.get("employee_name")),
    Column("部门", lambda r: r.get("department"), 24),
    Column("群", lambda r: r.get("group_name") or r.get("group_id"), 30),
    Column("严重程度", lambda r: severity_label(r.get("severity"))),
    Column("状态", lambda r: status_label(r.get("case_status"))),
    Column("计入检查", lambda r: bool(r.get("counted"))),
    Column("较昨日", lambda r: r.get("since_yesterday")),
    Column("摘要", lambda r: r["summary"], 60),
    Column("证据（已脱敏）", lambda r: r.get("evidence_text"), 80),
    Column("首次发现", lambda r: r.get("first_seen")),
    Column("豁免编号", lambda r: r.get("waiver_id")),
    Column("政策版本", lambda r: r.get("policy_version")),
    Column("指纹", lambda r: r["fingerprint"], 22),
]

SUMMARY_COLUMNS = [
    Column("领域", lambda r: domain_label(r["domain"])),
    Column("条款", lambda r: r["clause_id"]),
    Column("名称", lambda r: r["title"], 24),
    Column("严重程度", lambda r: severity_label(r.get("severity"))),
    Column("检查结果", lambda r: r["outcome"]),
    Column("发现", lambda r: r["findings"]),
    Column("未关闭", lambda r: r["failing"]),
    Column("已抑制", lambda r: r["suppressed"]),
    Column("较昨日新增", lambda r: r["new"]),
    Column("较昨日消除", lambda r: r["resolved"]),
    Column("条款内容", lambda r: r["text"], 80),
    Column("来源", lambda r: r["source"], 60),
]


def findings_sheets(rows: Sequence[dict], domains: Sequence[str], summary: Sequence[dict],
                    summary_columns: Sequence[Column] = SUMMARY_COLUMNS) -> list[Sheet]:
    """A summary sheet ("汇总") and one sheet per domain (every domain given, empty or not)."""
    sheets = [Sheet("汇总", summary_columns, summary)]
    for d in domains:
        sheets.append(Sheet(domain_label(d), FINDING_COLUMNS, [r for r in rows if r["domain"] == d]))
    return sheets
