"""Excel workbooks for compliance staff: frozen header row, auto-filter, widths fitted to the
content (CJK characters count double, long text wraps), dates as real dates, a result column
coloured by status, and a print setup on every sheet (A4 landscape, fit to one page wide, the
header row repeated on every page, the reading columns only, page numbers in the footer). Used by the daily report and by
`wxpipeline findings --format xlsx`."""

from __future__ import annotations

import os
import re
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.page import PageMargins
from openpyxl.utils import get_column_letter

from wxpipeline.reports.cells import neutralise
from wxpipeline.reports.labels import domain_label, severity_label, status_label

MIN_WIDTH, MAX_WIDTH = 6, 40
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
WRAP = Alignment(wrap_text=True, vertical="top")
WRAP_LEFT = Alignment(wrap_text=True, vertical="top", horizontal="left")
WRAP_CENTER = Alignment(wrap_text=True, vertical="top", horizontal="center")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# counting characters by class with a regex substitution instead of a Python loop per character
_NARROW_RUNS = re.compile("[\x00-\u2e7f]+")
_ASCII_RUNS = re.compile("[\x00-\x7f]+")


@dataclass
class Column:
    header: str
    value: Callable[[dict], Any]
    max_width: int = MAX_WIDTH  # wider text wraps inside the cell
    printed: bool = True  # False: on screen only (identifiers for triage), left out of the print area
    fill: Callable[[Any], str | None] | None = None  # cell value -> background colour


# status colours: red = fails its check, amber = confirmed/waived, green = passed or suppressed
OUTCOME_FILLS = {"通过": "C8E6C9", "未通过": "FFCDD2", "未启用": "E0E0E0"}
STATUS_FILLS = {"待处理": "FFCDD2", "已确认": "FFE0B2", "已豁免": "FFF3C4", "误报": "C8E6C9", "已解决": "C8E6C9"}


LINE_HEIGHT = 15  # points per line of 11-point text


def _fit_row_heights(ws, widths: list[float]) -> None:
    """Wrapped text needs its rows tall enough: spreadsheet programs do not grow a row written
    by openpyxl, so a long evidence cell would print cut at the cell edge."""
    for row in ws.iter_rows():
        lines = 1
        for cell, width in zip(row, widths):
            if cell.value is None:
                continue
            text = cell.value if isinstance(cell.value, str) else ""
            # Chinese wraps at any character; long ASCII ids wrap at word edges and waste a line's end
            ascii_share = (len(text) - len(_ASCII_RUNS.sub("", text))) / len(text) if text else 0
            usable = max(1.0, (width - 1) * (0.9 - 0.25 * ascii_share))
            lines = max(lines, sum(max(1, -(-display_width(part) // usable)) for part in text.split("\n")) if text else 1)
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409, LINE_HEIGHT * lines)


def _print_setup(ws, printed_columns: int, rows: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{get_column_letter(printed_columns)}{max(1, rows + 1)}"
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddHeader.left.text = "&A"


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
    return len(text) + len(_NARROW_RUNS.sub("", text))  # characters above U+2E7F count twice


def _cell_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones; stored timestamps are UTC
    if isinstance(v, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", v))
    return v


def sheet_title(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name)[:31] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _style(cell, kind: str, colour: str | None, styles: dict) -> None:
    """Alignment, number format and fill of a data cell. Each distinct style is set once through
    openpyxl's attributes (which hash the style objects on every assignment: a third of a large
    workbook's time); later cells of that style get a copy of its style indices."""
    key = (kind, colour)
    known = styles.get(key)
    if known is not None:
        cell._style = copy(known)
        return
    cell.alignment = WRAP
    if colour:
        cell.fill = PatternFill("solid", fgColor=colour)
    if kind == "number":
        cell.alignment = WRAP_CENTER  # a right-aligned count reads into the next column's text
    elif kind == "datetime":
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        cell.alignment = WRAP_LEFT  # right-aligned dates run into the next column
    elif kind == "date":
        cell.number_format = "yyyy-mm-dd"
        cell.alignment = WRAP_LEFT
    styles[key] = copy(cell._style)


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    styles: dict = {}  # (kind, fill colour) -> style indices in this workbook
    for sh in sheets:
        ws = wb.create_sheet(sheet_title(sh.title, taken))
        headers = [c.header for c in sh.columns]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        widths = [display_width(h) for h in headers]
        for r_i, row in enumerate(sh.rows, start=2):
            for c_i, col in enumerate(sh.columns, start=1):
                v = _cell_value(col.value(row))
                cell = ws.cell(row=r_i, column=c_i, value=v)
                colour = col.fill(v) if col.fill else None
                if isinstance(v, str):
                    cell.data_type = "s"  # text from exports is never a formula
                    kind = "text"
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    kind = "number"
                elif isinstance(v, datetime):
                    kind = "datetime"
                elif isinstance(v, date):
                    kind = "date"
                else:
                    kind = "other"
                _style(cell, kind, colour, styles)
                if r_i <= 1000:  # widths from the first thousand rows are plenty
                    widths[c_i - 1] = max(widths[c_i - 1], display_width(v))
        final = [max(MIN_WIDTH, min(col.max_width, w + 2)) for col, w in zip(sh.columns, widths)]
        for c_i, w in enumerate(final, start=1):
            ws.column_dimensions[get_column_letter(c_i)].width = w
        _fit_row_heights(ws, final)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(sh.rows) + 1)}"
        printed = [c for c in sh.columns if c.printed]
        _print_setup(ws, len(printed), len(sh.rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two runs of one day may overlap
    wb.save(tmp)
    tmp.replace(path)
    return path


# ---- the columns compliance staff see ---------------------------------------------------------

FINDING_COLUMNS = [
    Column("日期", lambda r: r["partition_date"], 13),
    Column("领域", lambda r: domain_label(r["domain"]), 10),
    Column("条款", lambda r: r["clause_id"], 9),
    Column("条款名称", lambda r: r.get("clause_title"), 16),
    Column("对象", lambda r: r["subject_id"], 20),
    Column("姓名", lambda r: r.get("employee_name") or r.get("employee_id"), 10),
    Column("部门", lambda r: r.get("department"), 12),
    Column("群", lambda r: r.get("group_name") or r.get("group_id"), 16),
    Column("严重程度", lambda r: severity_label(r.get("severity")), 9),
    Column("状态", lambda r: status_label(r.get("case_status")), 8, fill=STATUS_FILLS.get),
    Column("计入检查", lambda r: bool(r.get("counted")), 9),
    Column("较昨日", lambda r: r.get("since_yesterday"), 8),
    Column("摘要", lambda r: r["summary"], 36),
    Column("证据（已脱敏）", lambda r: r.get("evidence_text"), 44),
    # identifiers for triage: on screen, not printed
    Column("员工编号", lambda r: r.get("employee_id"), printed=False),
    Column("首次发现", lambda r: r.get("first_seen"), printed=False),
    Column("豁免编号", lambda r: r.get("waiver_id"), printed=False),
    Column("政策版本", lambda r: r.get("policy_version"), printed=False),
    Column("指纹", lambda r: r["fingerprint"], 22, printed=False),
]

SUMMARY_COLUMNS = [
    Column("领域", lambda r: domain_label(r["domain"]), 10),
    Column("条款", lambda r: r["clause_id"], 9),
    Column("名称", lambda r: r["title"], 16),
    Column("严重程度", lambda r: severity_label(r.get("severity")), 9),
    Column("检查结果", lambda r: r["outcome"], 9, fill=OUTCOME_FILLS.get),
    Column("发现", lambda r: r["findings"], 7),
    Column("未关闭", lambda r: r["failing"], 7),
    Column("已抑制", lambda r: r["suppressed"], 7),
    Column("较昨日新增", lambda r: r["new"], 7),
    Column("较昨日消除", lambda r: r["resolved"], 7),
    Column("条款内容", lambda r: r["text"], 60),
    Column("来源", lambda r: r["source"], 24),
]


def findings_sheets(rows: Sequence[dict], domains: Sequence[str], summary: Sequence[dict],
                    summary_columns: Sequence[Column] = SUMMARY_COLUMNS) -> list[Sheet]:
    """A summary sheet ("汇总") and one sheet per domain (every domain given, empty or not)."""
    sheets = [Sheet("汇总", summary_columns, summary)]
    for d in domains:
        sheets.append(Sheet(domain_label(d), FINDING_COLUMNS, [r for r in rows if r["domain"] == d]))
    return sheets
