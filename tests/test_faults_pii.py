"""Issue 12 #10 (the parts of the pipeline, not CLI output): quarantine and previews are masked,
what the pipeline writes is private to its user."""

import os
import stat

import polars as pl
from sqlalchemy import select

from wxpipeline.resources.staged_io import StagedStore, preview
from wxpipeline.formats.common import Reject
from wxpipeline.store.tables import QuarantineRecord
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.settings import secure_process
from wxpipeline.store import quarantine as quarantine_store

RESIDENT_ID = "110105199003071234"


def test_quarantine_raw_line_is_masked_and_concurrent_inserts_do_not_collide(tmp_path):
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'f.db'}")
    raw = f'{{"msgid": "m1", "text": {{"content": "我的身份证 {RESIDENT_ID} 手机 13800138000"}}, "msgtime": "x"}}'
    bad = [Reject("/x/archive.jsonl", 7, "msgtime: cannot parse", raw)]
    assert quarantine_store.record(wh, "wecom_archive", bad, "run1") == 1
    assert quarantine_store.record(wh, "wecom_archive", bad, "run2") == 0  # a second process finding it new: no error
    with wh.session() as s:
        (row,) = s.exec(select(QuarantineRecord)).scalars().all()
    assert RESIDENT_ID not in row.raw and "13800138000" not in row.raw
    assert "1234" in row.raw and "8000" in row.raw and '"msgid": "m1"' in row.raw  # the rest stays readable


def test_preview_metadata_masks_and_drops_free_text():
    df = pl.DataFrame({"employee_id": ["E1"], "name": ["张三"], "phone": ["13800138000"],
                       "sender": ["zhangsan"], "text": [f"身份证 {RESIDENT_ID}"], "note": ["13900001111"]})
    shown = preview(df)
    assert "13800138000" not in shown and RESIDENT_ID not in shown and "text" not in shown.split("\n")[0]
    assert "zhangsan" in shown


def test_files_and_folders_written_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("WXPIPELINE_UMASK", raising=False)
    old = os.umask(0o022)
    try:
        secure_process()
        p = StagedStore(tmp_path / "home" / "staged").write("roster", None, pl.DataFrame({"a": [1]}))
        db = Warehouse(database_url=f"sqlite:///{tmp_path / 'home' / 'findings.db'}")
        quarantine_store.record(db, "ledger", [Reject("f", 1, "r", "x")], None)
        for path in (tmp_path / "home", p.parent, p, tmp_path / "home" / "findings.db"):
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} {oct(path.stat().st_mode)}"
    finally:
        os.umask(old)


def test_preview_masks_kept_text_columns_cell_by_cell_and_keeps_nulls():
    df = pl.DataFrame({"sender": ["13800138000", None, "zhangsan", ""], "amount": [1, 2, 3, 4],
                       "memo": [f"卡 {RESIDENT_ID}", "ok", None, "x"]})
    shown = preview(df)
    assert "13800138000" not in shown and "8000" in shown and RESIDENT_ID not in shown
    # the same table as masking every cell with polars' map_elements (skipping nulls)
    from wxpipeline.reports.markdown import markdown_table
    from wxpipeline.reports.masking import mask_text

    by_udf = df.select(pl.col(c).map_elements(mask_text, return_dtype=pl.String) if df.schema[c] == pl.String
                       else pl.col(c) for c in df.columns)
    assert shown == markdown_table(by_udf)
