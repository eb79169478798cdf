"""`Warehouse.findings_frame` at volume: a schema fixed in code, never inferred from the first rows."""

from datetime import date

import polars as pl

from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store.findings import FINDINGS_FRAME_SCHEMA
from wxpipeline.store import findings as findings_store

DAY = date(2026, 9, 23)


def test_a_busy_day_whose_first_findings_have_no_group(tmp_path, capsys, monkeypatch):
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'f.db'}")
    # 150 one-to-one findings (no group id) sort before the group findings
    rows = [("CHAT-01", f"a{i:04d}", DAY, f"u{i}", None, "s", "{}") for i in range(150)]
    rows += [("CHAT-01", f"z{i}", DAY, f"u{i}", f"wr{i}", "s", "{}") for i in range(3)]
    findings = pl.DataFrame(rows, schema=FINDING_SCHEMA, orient="row")
    findings_store.replace_partition(wh, "chat", DAY, findings, {"CHAT-01": "high"}, "2026.1", "run1")

    df = findings_store.findings_frame(wh)
    assert df.schema == FINDINGS_FRAME_SCHEMA and df.height == 153
    assert sorted(df["group_id"].drop_nulls().to_list()) == ["wr0", "wr1", "wr2"]
    assert findings_store.findings_frame(wh, [False]).schema == FINDINGS_FRAME_SCHEMA  # no rows: same schema

    # the run summary reads the same frame
    from wxpipeline import cli

    monkeypatch.setattr(cli, "_warehouse", lambda: wh)
    cli.print_summary(DAY, DAY)
    assert "CHAT-01" in capsys.readouterr().out
