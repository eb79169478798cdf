"""Writing a day's report folder: `report.html` (self-contained: inline CSS, charts as SVG data
URIs, no script, no network) and `findings.xlsx` (summary sheet + one sheet per domain)."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wxpipeline.gcpause import gc_paused
from wxpipeline.reports.charts import cjk_font, trend_svg
from wxpipeline.reports.data import ReportData
from wxpipeline.reports.labels import domain_label, severity_label, status_label
from wxpipeline.reports.xlsx import findings_sheets, write_workbook

TEMPLATES = Path(__file__).parent / "templates"
MAX_HTML_ROWS = 300  # per domain; the workbook has every row
MAX_CHANGE_ROWS = 100


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path


@lru_cache(maxsize=1)
def _env() -> Environment:
    """One environment per process: it caches the compiled template (compiling it took ~60 ms of
    every day's report); the loader still reloads a template whose file changed."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        domain_label=domain_label, status_label=status_label, severity_label=severity_label,
        max_rows=MAX_HTML_ROWS, max_change_rows=MAX_CHANGE_ROWS,
    )
    return env


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def render_html(data: ReportData) -> str:
    charts = {
        t.domain: _data_uri(trend_svg(t.dates, t.by_clause, t.failing, data.clause_titles)) for t in data.trends
    }
    return _env().get_template("report.html.j2").render(r=data, charts=charts, charts_cjk=cjk_font() is not None)


def write_workbook_for(data: ReportData, path: Path) -> Path:
    return write_workbook(path, findings_sheets(data.findings, data.domains, data.summary_rows()))


@gc_paused  # tens of thousands of workbook cells on a busy day (gcpause.py)
def write_daily_report(data: ReportData, reports_dir: Path) -> ReportFiles:
    """Write `reports_dir/YYYY-MM-DD/report.html` and `findings.xlsx` (replacing earlier ones)."""
    folder = Path(reports_dir) / data.day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = write_workbook_for(data, folder / "findings.xlsx")
    html = folder / "report.html"
    tmp = html.with_name(f".{html.name}.{os.getpid()}.tmp")  # two runs of one day may overlap
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(html)
    return ReportFiles(folder, html, xlsx)


def summary_markdown(data: ReportData) -> str:
    """The per-clause summary as a markdown table (the report asset's metadata in the UI)."""
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| 领域 | 条款 | 名称 | 检查 | 发现 | 未关闭 | 已抑制 | 新增 | 消除 | 来源 |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in data.clauses:
        lines.append("| " + " | ".join(cell(v) for v in (
            domain_label(c.domain), c.clause_id, c.title, c.outcome, c.findings, c.failing, c.suppressed,
            c.new, c.resolved, c.source,
        )) + " |")
    return "\n".join(lines)
