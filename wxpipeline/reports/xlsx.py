"""Excel workbooks for compliance staff: frozen header row, auto-filter, widths fitted to the
content (CJK characters count double, long text wraps), dates as real dates, a result column
coloured by status, and a print setup on every sheet (A4 landscape, fit to one page wide, the
header row repeated on every page, the reading columns only, page numbers in the footer). Used by the daily report and by
`wxpipeline findings --format xlsx`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl

from wxpipeline.reports.cells import neutralise
from wxpipeline.reports.labels import domain_label, severity_label, status_label

MIN_WIDTH, MAX_WIDTH = 6, 40
HEADER_FILL = "DDE4EE"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# counting characters by class with a regex substitution instead of a Python loop per character
_NARROW_RUNS = re.compile("[\x00-\u2e7f]+")
_ASCII_RUNS = re.compile("[\x00-\x7f]+")
# the same classes for polars' regex engine (one character each)
_ASCII_CLASS = r"[\x00-\x7f]"
_WIDE_CLASS = r"[^\x00-\x{2e7f}]"


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
MAX_CELL_CHARS = 32767  # Excel's limit for one cell's text (longer text is cut)
_DIGIT_PIXELS = 7  # a column `width` characters wide is 7 x width pixels (Calibri 11's digit)


def _row_height(values: Sequence[Any], widths: list[float]) -> float | None:
    """The height a row of wrapped text needs (None: one line), as written: spreadsheet programs
    do not grow a row a library wrote, so a long evidence cell would print cut at the cell edge."""
    lines = 1
    for value, width in zip(values, widths):
        if not isinstance(value, str) or not value:
            continue  # one line
        text = value
        if 2 * len(text) <= (width - 1) * 0.6 and "\n" not in text:
            continue  # fits one line whatever its characters (the widest case of `usable` below)
        # Chinese wraps at any character; long ASCII ids wrap at word edges and waste a line's end
        # (an all-ASCII text, most ids and numbers, without the regex: ~4,000 findings' cells)
        ascii_share = 1.0 if text.isascii() else (len(text) - len(_ASCII_RUNS.sub("", text))) / len(text)
        usable = max(1.0, (width - 1) * (0.9 - 0.25 * ascii_share))
        lines = max(lines, sum(max(1, -(-display_width(part) // usable)) for part in text.split("\n")) if text else 1)
    return min(409, LINE_HEIGHT * lines) if lines > 1 else None


def _row_heights(grid: Sequence[Sequence[Any]], widths: list[float]) -> list[float | None]:
    """`_row_height` of every row of `grid`: the lines of each distinct (text, column width) that
    may wrap worked out once, all of a sheet's together in polars and numpy, then each row's
    tallest cell taken in Python (per row in Python it cost ~0.15-0.2 CPU s of a 4,000-finding
    day's workbook; a column at a time in polars 0.15-0.3, ~90 small frames; the columns repeat
    their texts: clause ids, labels, dates). The same lines (numpy's float floor division is
    Python's, every other step the same IEEE operation in the same order, and the sums are of
    whole numbers), so the same heights."""
    lines = [1.0] * len(grid)
    cells: dict[tuple[str, float], list[int]] = {}  # (text, width) -> the rows holding it there
    for c, width in enumerate(widths):
        limit = (width - 1) * 0.6
        for r, row in enumerate(grid):
            v = row[c]
            # a text that fits one line whatever its characters (the widest case of `usable`) is left out
            if isinstance(v, str) and v and (2 * len(v) > limit or "\n" in v):
                cells.setdefault((v, width), []).append(r)
    if cells:
        keys = list(cells)
        wrap = pl.DataFrame({"t": [t for t, _ in keys], "w": [float(w) for _, w in keys]},
                            schema={"t": pl.String, "w": pl.Float64}).with_row_index("key")
        # Chinese wraps at any character; long ASCII ids wrap at word edges and waste a line's end
        share = wrap.select(pl.col("t").str.count_matches(_ASCII_CLASS) / pl.col("t").str.len_chars()).to_series()
        usable = np.maximum(1.0, (wrap["w"].to_numpy() - 1) * (0.9 - 0.25 * share.to_numpy()))
        parts = wrap.select("key", pl.Series("usable", usable), pl.col("t").str.split("\n").alias("part")).explode("part")
        # `display_width` of each line: characters above U+2E7F count twice
        width_of = (pl.col("part").str.len_chars() + pl.col("part").str.count_matches(_WIDE_CLASS)).cast(pl.Float64)
        per_part = np.maximum(1.0, -np.floor_divide(-parts.select(width_of).to_series().to_numpy(),
                                                    parts["usable"].to_numpy()))
        needed = pl.DataFrame({"key": parts["key"], "n": per_part}).group_by("key").agg(pl.col("n").sum()).sort("key")
        for rows, n in zip(cells.values(), needed["n"].to_list()):
            if n > 1:
                for r in rows:
                    if n > lines[r]:
                        lines[r] = n
    return [min(409, LINE_HEIGHT * n) if n > 1 else None for n in lines]


def _print_setup(ws, printed_columns: int, rows: int) -> None:
    """A4 landscape, one page wide and as many down as needed, the header row on every page, the
    printed columns only, centred, the sheet name on top and page numbers at the bottom."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.print_area(0, 0, max(1, rows + 1) - 1, printed_columns - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.center_horizontally()
    ws.set_header("&L&A", {"margin": 0.3})
    ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})


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
    if text.isascii():  # no wide character: spares the substitution
        return len(text)
    return len(text) + len(_NARROW_RUNS.sub("", text))  # characters above U+2E7F count twice


# openpyxl's own pattern (`openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE`, the same text; a test
# compares them), not imported from it: importing openpyxl costs ~0.25-0.45 CPU s, and the
# definitions of every `run`/`nightly` process import this module, which writes with XlsxWriter
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _cell_value(v: Any) -> Any:
    if isinstance(v, str):
        if not v.isprintable():  # every character the regex removes is a control character
            v = ILLEGAL_CHARACTERS_RE.sub("", v)
        return neutralise(v)[:MAX_CELL_CHARS]
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones; stored timestamps are UTC
    return v


def sheet_title(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name)[:31] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


_KIND_FORMAT = {
    "text": {}, "other": {},
    "number": {"align": "center"},  # a right-aligned count reads into the next column's text
    "datetime": {"align": "left", "num_format": "yyyy-mm-dd hh:mm:ss"},  # right-aligned dates run on
    "date": {"align": "left", "num_format": "yyyy-mm-dd"},
}


def _kind(v: Any) -> str:
    if isinstance(v, str):
        return "text"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "number"
    if isinstance(v, datetime):
        return "datetime"
    if isinstance(v, date):
        return "date"
    return "other"


def _write_cell(ws, r: int, c: int, v: Any, kind: str, fmt) -> None:
    if v is None or v == "":  # a styled empty cell (an empty text is no value either)
        ws.write_blank(r, c, None, fmt)
    elif kind == "text":
        ws.write_string(r, c, v, fmt)  # text from exports is never a formula
    elif kind == "number":
        ws.write_number(r, c, v, fmt)
    elif kind in ("datetime", "date"):
        ws.write_datetime(r, c, v, fmt)
    else:
        ws.write(r, c, v, fmt)


def _cell_writers(ws):
    """(write_string, write_blank) of `ws` with row and column numbers only: XlsxWriter's public
    `write_string`/`write_blank` pass every call through a wrapper that accepts A1 notation and
    then call these methods with the same arguments (3.x); the wrapper was ~0.25 of the ~1.2 CPU s
    a 4,014-finding day's workbook took. The public methods where a version lacks them."""
    string, blank = getattr(ws, "_write_string", None), getattr(ws, "_write_blank", None)
    if callable(string) and callable(blank):
        return string, blank
    return ws.write_string, ws.write_blank


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """The sheets as one workbook at `path` (replaced whole). Written with XlsxWriter, which
    streams cells to XML several times faster than building openpyxl cells (a busy day's
    findings sheet has tens of thousands of cells)."""
    import xlsxwriter  # only needed when a workbook is written

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two runs of one day may overlap
    wb = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True})
    header_format = wb.add_format({"bold": True, "bg_color": "#" + HEADER_FILL, "pattern": 1,
                                   "valign": "vcenter", "text_wrap": True})
    formats: dict = {}  # (kind, fill colour) -> format

    def fmt(kind: str, colour: str | None):
        key = (kind, colour)
        if key not in formats:
            props = {"text_wrap": True, "valign": "top", **_KIND_FORMAT[kind]}
            if colour:
                props.update(bg_color="#" + colour, pattern=1)
            formats[key] = wb.add_format(props)
        return formats[key]

    taken: set[str] = set()
    try:
        for sh in sheets:
            ws = wb.add_worksheet(sheet_title(sh.title, taken))
            headers = [c.header for c in sh.columns]
            grid = [headers] + [[_cell_value(col.value(row)) for col in sh.columns] for row in sh.rows]
            widths = [display_width(h) for h in headers]
            for values in grid[1:1000]:  # widths from the first thousand rows are plenty
                widths = [max(w, display_width(v)) for w, v in zip(widths, values)]
            final = [max(MIN_WIDTH, min(col.max_width, w + 2)) for col, w in zip(sh.columns, widths)]
            for c_i, w in enumerate(final):
                ws.set_column_pixels(c_i, c_i, _DIGIT_PIXELS * w)  # stored as exactly `w` characters
            for c_i, h in enumerate(headers):
                ws.write_string(0, c_i, h, header_format)
            fills = [(c_i, col.fill) for c_i, col in enumerate(sh.columns)]
            write_string, write_blank = _cell_writers(ws)
            for r_i, values in enumerate(grid[1:], start=1):
                for (c_i, fill), v in zip(fills, values):
                    # the common cells without the generic dispatch (a busy day: ~80k cells)
                    if v is None or v == "":
                        write_blank(r_i, c_i, None, fmt("other" if v is None else "text", fill(v) if fill else None))
                    elif type(v) is str:
                        write_string(r_i, c_i, v, fmt("text", fill(v) if fill else None))
                    else:
                        kind = _kind(v)
                        _write_cell(ws, r_i, c_i, v, kind, fmt(kind, fill(v) if fill else None))
            for r_i, height in enumerate(_row_heights(grid, final)):
                if height is not None:
                    ws.set_row_pixels(r_i, height * 4 / 3)  # set_row would round 409 pt to whole pixels
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(1, len(sh.rows) + 1) - 1, len(headers) - 1)
            _print_setup(ws, len([c for c in sh.columns if c.printed]), len(sh.rows))
        wb.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
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
