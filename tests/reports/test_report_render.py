"""The daily report from a known findings store: HTML content, masking, self-containment, the
workbook's sheets and rows, and a real headless Chromium rendering the file offline."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from wxpipeline.reports import collect_report, write_daily_report
from wxpipeline.reports.build import summary_markdown
from wxpipeline.resources.warehouse import Warehouse

from .store_fixture import CARD, DAY, ID_NO, PHONE, REGISTRY, ROSTER, fill
from wxpipeline.store import cases as case_store
from wxpipeline.store import findings as findings_store
from wxpipeline.store import triage as triage_store

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture()
def wh(tmp_path):
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'findings.db'}")
    fill(wh)
    return wh


@pytest.fixture()
def report(wh, tmp_path):
    fp = next(r for r in triage_store.findings_status(wh) if r["subject_id"] == "wrG2/u0")["fingerprint"]
    case_store.set_case_status(wh, fp, "false_positive", "昵称已核实", "auditor")
    case_store.add_waiver(wh, "GRP-01", "项目群过渡期", "王芳", DAY + timedelta(days=3), pattern="wrG2/u1")
    case_store.add_waiver(wh, "PAY-02", "已过期", "王芳", DAY, subject_id="T-late")  # stops on DAY: not applied
    data = collect_report(wh, DAY, ["payments", "groups"], roster=ROSTER, group_registry=REGISTRY,
                          calendar_known=False)
    return data, write_daily_report(data, tmp_path / "reports")


def test_report_counts_changes_and_rankings(report):
    data, files = report
    assert files.html == files.folder / "report.html" and files.folder.name == DAY.isoformat()
    t = data.totals
    assert (t["findings"], t["failing"], t["suppressed"]) == (6, 4, 2)  # u0 false positive, u1 waived
    assert sorted(r["subject_id"] for r in data.new) == ["T-anon"]
    assert [r["subject_id"] for r in data.resolved] == ["T-gone"]
    by_clause = {c.clause_id: c for c in data.clauses}
    assert by_clause["GRP-01"].findings == 3 and by_clause["GRP-01"].failing == 1
    assert by_clause["PAY-02"].failing == 1  # the waiver expiring on DAY no longer applies
    assert by_clause["PAY-01"].outcome == "通过" and by_clause["PAY-03"].outcome == "未通过"
    assert data.departments[0] == {"department": "市场部", "today": 1, "window": 2}  # u2, and T-gone the day before
    assert {g["group_id"]: g["today"] for g in data.groups} == {"wrG2": 1, "wrG1": 1}
    assert data.unattributed_open == 2  # T-anon and the outsider have no employee
    assert [w["days_left"] for w in data.expiring_waivers] == [3]
    trend = {t.domain: t for t in data.trends}
    assert len(trend["groups"].dates) == 30 and trend["groups"].dates[-1] == DAY
    assert trend["payments"].by_clause["PAY-02"][-3:] == [1, 1, 1]
    assert "| 微信支付 | PAY-02 |" in summary_markdown(data)


def test_html_is_chinese_masked_and_self_contained(report):
    data, files = report
    html = files.html.read_text("utf-8")
    assert '<html lang="zh-CN">' in html and "合规日报" in html
    for c in data.clauses:  # every clause with its text and source
        assert c.clause_id in html and c.title in html and c.source.split(";")[0] in html
    assert "日历说明" in html and "按周一至周五为工作日" in html
    assert "项目群过渡期" in html  # the waiver expiring within 7 days
    assert html.count('<img alt=') == 2 and html.count("data:image/svg+xml;base64,") == 2
    # nothing to fetch: no scripts, no external stylesheets/images/fonts
    assert "<script" not in html.lower()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url\(([^)]+)\)", html)
    assert all(r.startswith(("data:", "#")) or r == "findings.xlsx" for r in refs), refs
    # personal numbers never appear beyond their last 4 digits
    for secret in (PHONE, ID_NO, CARD, "139-1234-5678", PHONE[:7], ID_NO[:14], CARD[:12]):
        assert secret not in html
    assert "*******5678" in html and "002X" in html


def test_workbook_sheets_rows_and_layout(report):
    data, files = report
    wb = load_workbook(files.xlsx)
    assert wb.sheetnames == ["汇总", "微信支付", "工作群"]
    summary, pay, grp = wb["汇总"], wb["微信支付"], wb["工作群"]
    assert summary.max_row == 1 + len(data.clauses)
    assert pay.max_row == 1 + 2 and grp.max_row == 1 + 4
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert all((ws.column_dimensions[c].width or 0) >= 6 for c in "ABC")
    headers = [c.value for c in grp[1]]
    assert headers[:5] == ["日期", "领域", "条款", "条款名称", "对象"]
    evidence = [row[headers.index("证据（已脱敏）")] for row in grp.iter_rows(min_row=2, values_only=True)]
    assert all(PHONE not in e and ID_NO not in e for e in evidence)
    assert isinstance(grp.cell(row=2, column=1).value, __import__("datetime").datetime)  # a real date


def test_new_domain_needs_no_change(wh, tmp_path):
    """A domain with no registered clauses and no labels still gets its section and sheet."""
    from .store_fixture import frame

    findings_store.replace_partition(wh, "newdomain", DAY, frame([dict(
        clause_id="NEW-01", subject_id="x", partition_date=DAY, summary="新领域发现", evidence="{}")]),
        {"NEW-01": "low"}, "2026.1", "run-x")
    data = collect_report(wh, DAY, ["payments", "groups", "newdomain"])
    files = write_daily_report(data, tmp_path / "r2")
    assert load_workbook(files.xlsx).sheetnames == ["汇总", "微信支付", "工作群", "newdomain"]
    assert "新领域发现" in files.html.read_text("utf-8")


def test_renders_in_headless_chromium(report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium; .ci/run does this): report screenshot test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    data, files = report
    shot = tmp_path / "report.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        fetched = []

        def guard(route):
            url = route.request.url
            if url.startswith(("file:", "data:")):
                return route.continue_()
            fetched.append(url)  # anything else would need a network: the report must not
            return route.abort()

        page.route("**/*", guard)
        page.goto(files.html.as_uri(), wait_until="load")
        assert page.title() == f"微信合规日报 {DAY}"
        assert page.locator("h1").inner_text() == "企业微信 / 微信使用合规日报"
        charts = page.locator("#trend img")
        assert charts.count() == 2
        for i in range(2):  # the SVG charts decoded and laid out with a real size
            size = charts.nth(i).evaluate("img => [img.complete, img.naturalWidth, img.getBoundingClientRect().height]")
            assert size[0] and size[1] > 300 and size[2] > 100, size
        assert page.locator("#calendar-note").is_visible()
        assert page.locator("#findings tbody tr").count() == 6
        page.screenshot(path=str(shot), full_page=True)
        height = page.evaluate("document.body.scrollHeight")
        browser.close()
    assert fetched == []
    assert shot.stat().st_size > 50_000 and height > 1500


def test_workbook_prints_on_a4_landscape_with_status_colours(report):
    _, files = report
    wb = load_workbook(files.xlsx)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and int(ps.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        # fitToWidth absent = 1 (its default in the OOXML schema; the writer leaves defaults out)
        assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ps.fitToWidth or 1) == 1 and int(ps.fitToHeight) == 0
        assert ws.print_title_rows and "1" in ws.print_title_rows  # header row on every page
        assert ws.print_area
        assert all(c.alignment.wrap_text for c in ws[2]) if ws.max_row > 1 else True
    summary = wb["汇总"]
    headers = [c.value for c in summary[1]]
    col = headers.index("检查结果") + 1
    fills = {summary.cell(row=r, column=col).value: summary.cell(row=r, column=col).fill.fgColor.rgb
             for r in range(2, summary.max_row + 1)}
    assert fills["未通过"].endswith("FFCDD2") and fills["通过"].endswith("C8E6C9")
    grp = wb["工作群"]
    status = [c.value for c in grp[1]].index("状态") + 1
    assert all(grp.cell(row=r, column=status).fill.fgColor.rgb.endswith(("FFCDD2", "C8E6C9", "FFF3C4", "FFE0B2"))
               for r in range(2, grp.max_row + 1))


def test_free_text_cannot_become_a_formula(tmp_path):
    from wxpipeline.reports.cells import neutralise
    from wxpipeline.reports.xlsx import Column, Sheet, write_workbook

    bad = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    assert [neutralise(v)[0] for v in bad] == ["'"] * len(bad)
    assert neutralise("正常文本") == "正常文本" and neutralise(-3) == -3
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("汇总", [Column("摘要", lambda r: r["v"])], [{"v": v} for v in bad])])
    ws = load_workbook(path)["汇总"]
    for r in range(2, 2 + len(bad)):
        cell = ws.cell(row=r, column=1)
        assert cell.data_type == "s" and cell.value.startswith("'")


def test_report_says_when_charts_lack_a_cjk_font(report, monkeypatch):
    from wxpipeline.reports import build

    data, _ = report
    assert ('id="font-note"' in build.render_html(data)) == (build.cjk_font() is None)
    monkeypatch.setattr(build, "cjk_font", lambda: None)
    assert 'id="font-note"' in build.render_html(data)


def test_workbook_cells_read_back_as_written(tmp_path):
    """What `write_workbook` stores per value type, read back with openpyxl: text (cut at Excel's
    32,767 characters, control characters dropped), blanks, numbers, yes/no, dates and UTC
    timestamps as dates, widths in whole characters, tall rows for wrapped text (at most 409 pt)."""
    from datetime import date, datetime, timezone

    from wxpipeline.reports.xlsx import STATUS_FILLS, Column, Sheet, write_workbook

    values = [None, "", "a\x01b", True, 7, 2.5, date(2026, 1, 2), datetime(2026, 10, 12, 8, 30, 1, tzinfo=timezone.utc),
              "x" * 40000, "第一行\n第二行", "待处理"]
    cols = [Column("值", lambda r: r["v"], 12, fill=lambda v: STATUS_FILLS.get(v) if isinstance(v, str) else None)]
    ws = load_workbook(write_workbook(tmp_path / "w.xlsx", [Sheet("汇总", cols, [{"v": v} for v in values])]))["汇总"]
    got = [ws.cell(row=r, column=1) for r in range(2, 2 + len(values))]
    assert [c.value for c in got[:8]] == [None, None, "ab", "是", 7, 2.5, datetime(2026, 1, 2),
                                          datetime(2026, 10, 12, 8, 30, 1)]
    assert len(got[8].value) == 32767 and got[9].value == "第一行\n第二行"
    assert [c.number_format for c in got[6:8]] == ["yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"]
    assert got[4].alignment.horizontal == "center" and all(c.alignment.wrap_text for c in got)
    assert got[10].fill.fgColor.rgb.endswith("FFCDD2") and ws["A1"].font.b
    assert ws.column_dimensions["A"].width == 12
    assert ws.row_dimensions[10].height == 409 and ws.row_dimensions[11].height == 30
    assert ws.row_dimensions[2].height is None and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:A12"


def test_workbook_cells_written_directly_are_the_public_calls(tmp_path, monkeypatch):
    """`write_workbook` stores text and blank cells through XlsxWriter's methods behind its public
    `write_string`/`write_blank` (`xlsx._cell_writers`): the workbook is part for part the one
    the public methods write (but its creation time)."""
    import zipfile

    from wxpipeline.reports import xlsx

    values = [None, "", "a\x01b", True, 7, 2.5, date(2026, 1, 2), "=1+1", "第一行\n第二行", "待处理", "已确认"]
    status = xlsx.Column("值", lambda r: r["v"], 12, fill=lambda v: xlsx.STATUS_FILLS.get(v) if isinstance(v, str) else None)
    cols = [status, xlsx.Column("文", lambda r: str(r["v"]) * 3, 9)]
    sheets = [xlsx.Sheet("汇总", cols, [{"v": v} for v in values]), xlsx.Sheet("群", [status], [{"v": "x"}])]
    direct = xlsx.write_workbook(tmp_path / "direct.xlsx", sheets)
    monkeypatch.setattr(xlsx, "_cell_writers", lambda ws: (ws.write_string, ws.write_blank))
    public = xlsx.write_workbook(tmp_path / "public.xlsx", sheets)
    a, b = zipfile.ZipFile(direct), zipfile.ZipFile(public)
    assert a.namelist() == b.namelist()
    assert all(a.read(n) == b.read(n) for n in a.namelist() if n != "docProps/core.xml")
