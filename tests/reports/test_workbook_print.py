"""The daily workbook printed through LibreOffice (headless, as a compliance officer would print
it): one sheet's handful of findings fits on its page, no blank pages. Skips when LibreOffice is
not installed (Debian packages libreoffice-calc and poppler-utils; `.ci/run` installs them)."""

import shutil
import subprocess

import pytest

from wxpipeline.reports import collect_report, write_daily_report
from wxpipeline.resources.warehouse import Warehouse

from .store_fixture import DAY, REGISTRY, ROSTER, fill

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(not SOFFICE or not shutil.which("pdftotext"),
                    reason="LibreOffice / pdftotext not installed (apt-get install libreoffice-calc poppler-utils)")
def test_workbook_prints_one_page_per_small_sheet(tmp_path):
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'findings.db'}")
    fill(wh)
    data = collect_report(wh, DAY, ["payments", "groups"], roster=ROSTER, group_registry=REGISTRY)
    files = write_daily_report(data, tmp_path / "reports")
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(files.xlsx)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "findings.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip() or p is not pages[-1]]
    assert all(p.strip() for p in pages), "a blank page"
    # summary (its clauses may take two pages), then one page per domain sheet with its findings
    assert len(pages) <= 4, len(pages)
    assert "第 1 页" in pages[0] and "检查结果" in pages[0]
    text = "\f".join(pages)
    assert "微信支付" in text and "工作群" in text and "付款时间" in text


def test_cells_drop_the_control_characters_openpyxl_drops_without_importing_it():
    import ast
    import inspect

    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as theirs

    from wxpipeline.reports import xlsx

    assert (xlsx.ILLEGAL_CHARACTERS_RE.pattern, xlsx.ILLEGAL_CHARACTERS_RE.flags) == (theirs.pattern, theirs.flags)
    text = "a\x00b\x08c\tn\nv\x0bf\x0cr\rs\x0e\x1fz"
    assert xlsx._cell_value(text) == theirs.sub("", text)
    # the module itself does not import openpyxl (every run's definitions import it)
    tree = ast.parse(inspect.getsource(xlsx))
    imported = [n.module if isinstance(n, ast.ImportFrom) else a.name
                for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names]
    assert not [m for m in imported if m and m.split(".")[0] == "openpyxl"]
