from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.ledger import parse_ledger

SH = ZoneInfo("Asia/Shanghai")
HEADER = "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose"


def write(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False) -> Path:
    data = (newline.join(lines) + newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def test_ledger_formats_and_types(tmp_path):
    lines = [
        HEADER,
        'L1,E001,2024-03-04 10:00:00,¥120.50,"4200000001\t",某超市,文具',
        "L2,E001,2024-03-05T11:30:00,\"￥1,280.00\",4200000002 ,同事,",
        "L3,E002,2024-03-06 12:00,99,,餐厅,午餐",
        "L4,E002,2024-03-07,5.5,/,,",  # bare date -> 00:00
        "L5,E003,2024/03/08 09:15:00,0.01,4200000005,x,y",
    ]
    res = parse_ledger(write(tmp_path / "ledger.csv", lines))
    df = res.frame
    assert res.rejects == []
    assert df.columns == [
        "entry_id", "employee_id", "paid_at", "amount", "transaction_id",
        "counterparty", "purpose", "source_file", "source_line",
    ]
    assert df.schema["paid_at"] == pl.Datetime("us", "Asia/Shanghai")
    assert df.schema["amount"] == pl.Decimal(18, 2)
    assert df.schema["source_line"] == pl.Int64
    assert df["paid_at"].to_list() == [
        dt.datetime(2024, 3, 4, 10, 0, 0, tzinfo=SH),
        dt.datetime(2024, 3, 5, 11, 30, 0, tzinfo=SH),
        dt.datetime(2024, 3, 6, 12, 0, 0, tzinfo=SH),
        dt.datetime(2024, 3, 7, 0, 0, 0, tzinfo=SH),
        dt.datetime(2024, 3, 8, 9, 15, 0, tzinfo=SH),
    ]
    assert df["amount"].to_list() == [
        Decimal("120.50"), Decimal("1280.00"), Decimal("99.00"), Decimal("5.50"), Decimal("0.01")
    ]
    assert df["transaction_id"].to_list() == ["4200000001", "4200000002", None, None, "4200000005"]
    assert df["purpose"].to_list() == ["文具", None, "午餐", None, "y"]
    assert df["source_line"].to_list() == [2, 3, 4, 5, 6]
    assert df["source_file"].unique().to_list() == [str(tmp_path / "ledger.csv")]


def test_ledger_bad_rows(tmp_path):
    lines = [
        HEADER,
        "L1,E001,2024-03-04 10:00:00,10.00,T1,a,b",
        ",E001,2024-03-04 10:00:00,10.00,T2,a,b",  # no entry_id
        "L3,E001,yesterday,10.00,T3,a,b",  # bad date
        "L4,E001,2024-03-04 10:00:00,1.234,T4,a,b",  # would silently truncate
        "",
        "L6,E001,2024-03-04 10:00:00,12,T6,a,b",
        "L7,E001,2024-03-04,12",  # too few fields
    ]
    path = write(tmp_path / "ledger.csv", lines)
    res = parse_ledger(path)
    assert res.frame["entry_id"].to_list() == ["L1", "L6"]
    assert res.frame["source_line"].to_list() == [2, 7]
    by_line = {r.line: r.reason for r in res.rejects}
    assert sorted(by_line) == [3, 4, 5, 8]
    assert by_line[3] == "entry_id: missing"
    assert "paid_at" in by_line[4] and "yesterday" in by_line[4]
    assert "amount" in by_line[5] and "1.234" in by_line[5]
    assert "expected 7 fields, got 4" in by_line[8]
    assert all(r.file == str(path) for r in res.rejects)


def test_ledger_bom_crlf_identical(tmp_path):
    lines = [HEADER, "L1,E001,2024-03-04,10,T1,a,b", "L2,E002,2024-03-05 08:00,20,T2,c,d"]
    a = parse_ledger(write(tmp_path / "a.csv", lines)).frame.drop("source_file")
    b = parse_ledger(write(tmp_path / "b.csv", lines, newline="\r\n", bom=True)).frame.drop("source_file")
    assert a.equals(b)
    assert a.height == 2


def test_ledger_missing_column(tmp_path):
    path = write(tmp_path / "l.csv", ["entry_id,employee_id,paid_at,transaction_id,counterparty,purpose"])
    with pytest.raises(ExportFormatError, match="amount") as err:
        parse_ledger(path)
    assert str(path) in str(err.value)


def test_ledger_schema_matches_staged_contract(tmp_path):
    from wxpipeline.formats.schemas import SCHEMAS

    for lines in ([HEADER], [HEADER, "L1,E001,2024-03-04,10,T1,a,b"]):
        res = parse_ledger(write(tmp_path / "l.csv", lines))
        assert dict(res.frame.schema) == SCHEMAS["ledger_entries"]
