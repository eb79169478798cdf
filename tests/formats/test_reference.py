from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.reference import (
    parse_group_registry,
    parse_pay_accounts,
    parse_pay_approvals,
    parse_roster,
)

ROSTER_HEADER = "employee_id,name,department,position,phone,hire_date,leave_date,wecom_userid,is_leader"


def write(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def test_roster(tmp_path):
    lines = [
        ROSTER_HEADER,
        "E001, 张三 ,行政部,主任,13800000000,2020-01-06,,zhangsan,是",
        "E002,李四,财务部,会计,,2019/07/01,2024/02/29,lisi,false",
        "E003,王五,技术部,工程师,,2021-03-15,,,YES",
        "E004,赵六,技术部,工程师,,2021-13-15,,,1",  # bad hire_date
        "E005,钱七,技术部,工程师,,2021-03-15,,,maybe",  # bad is_leader
    ]
    res = parse_roster(write(tmp_path / "roster.csv", lines, bom=True))
    df = res.frame
    assert df.columns == ROSTER_HEADER.split(",") + ["source_file", "source_line"]
    assert df.schema["hire_date"] == pl.Date and df.schema["leave_date"] == pl.Date
    assert df.schema["is_leader"] == pl.Boolean
    assert df["employee_id"].to_list() == ["E001", "E002", "E003"]
    assert df["name"][0] == "张三"  # stripped
    assert df["hire_date"].to_list() == [dt.date(2020, 1, 6), dt.date(2019, 7, 1), dt.date(2021, 3, 15)]
    assert df["leave_date"].to_list() == [None, dt.date(2024, 2, 29), None]
    assert df["is_leader"].to_list() == [True, False, True]
    assert df["wecom_userid"].to_list() == ["zhangsan", "lisi", None]
    assert df["source_line"].to_list() == [2, 3, 4]
    by_line = {r.line: r.reason for r in res.rejects}
    assert sorted(by_line) == [5, 6]
    assert "hire_date" in by_line[5] and "2021-13-15" in by_line[5]
    assert "is_leader" in by_line[6] and "maybe" in by_line[6]


def test_roster_missing_column_names_it(tmp_path):
    header = ROSTER_HEADER.replace(",wecom_userid", "").replace(",hire_date", "")
    path = write(tmp_path / "roster.csv", [header, "E001,张三,行政部,主任,1,,否"])
    with pytest.raises(ExportFormatError) as err:
        parse_roster(path)
    msg = str(err.value)
    assert "hire_date" in msg and "wecom_userid" in msg
    assert str(path) in msg
    assert err.value.line == 1


def test_group_registry(tmp_path):
    lines = [
        # column order is free; extra columns are ignored
        "group_id,group_name,group_type,owner_employee_id,registered_on,work_item_end,allows_external,extra",
        "G1,行政通知群,company,E001,2023-01-01,,否,x",
        "G2,项目群,temporary,E002,2023/05/01,2023/12/31,1,",
        ",无编号群,special,E003,2023-01-01,,0,",
    ]
    res = parse_group_registry(write(tmp_path / "g.csv", lines))
    df = res.frame
    assert df.columns == [
        "group_id", "group_name", "group_type", "owner_employee_id", "registered_on",
        "work_item_end", "allows_external", "source_file", "source_line",
    ]
    assert df["allows_external"].to_list() == [False, True]
    assert df["work_item_end"].to_list() == [None, dt.date(2023, 12, 31)]
    assert df["registered_on"].to_list() == [dt.date(2023, 1, 1), dt.date(2023, 5, 1)]
    assert [(r.line, r.reason) for r in res.rejects] == [(4, "group_id: missing")]


def test_pay_accounts(tmp_path):
    lines = [
        "account_nickname,employee_id,approved_on,revoked_on",
        "测试,E001,2019-01-01,",
        "微,E002,2020-01-01,2020-09-01",
        "坏,E003,someday,",
    ]
    res = parse_pay_accounts(write(tmp_path / "p.csv", lines))
    df = res.frame
    assert df["account_nickname"].to_list() == ["测试", "微"]
    assert df["approved_on"].to_list() == [dt.date(2019, 1, 1), dt.date(2020, 1, 1)]
    assert df["revoked_on"].to_list() == [None, dt.date(2020, 9, 1)]
    assert [r.line for r in res.rejects] == [4]
    assert "approved_on" in res.rejects[0].reason


def test_pay_approvals(tmp_path):
    lines = [
        "approval_id,employee_id,valid_from,valid_to,approved_limit,reason,approver_employee_id",
        "A1,E001,2024-03-01,2024-03-31,\"8,000.00\",出差,E009",
        "A2,E002,2024-03-01,2024-03-01,¥6000,,E009",
        "A3,E002,2024-03-01,2024-03-01,lots,,E009",
    ]
    res = parse_pay_approvals(write(tmp_path / "a.csv", lines))
    df = res.frame
    assert df.schema["approved_limit"] == pl.Decimal(18, 2)
    assert df["approved_limit"].to_list() == [Decimal("8000.00"), Decimal("6000.00")]
    assert df["reason"].to_list() == ["出差", None]
    assert df["valid_to"].to_list() == [dt.date(2024, 3, 31), dt.date(2024, 3, 1)]
    assert [r.line for r in res.rejects] == [4]
    assert "approved_limit" in res.rejects[0].reason and "lots" in res.rejects[0].reason


def test_header_only_file_gives_empty_typed_frame(tmp_path):
    res = parse_pay_accounts(write(tmp_path / "p.csv", ["account_nickname,employee_id,approved_on,revoked_on"]))
    assert res.frame.height == 0
    assert res.frame.schema["approved_on"] == pl.Date
    assert res.frame.schema["source_line"] == pl.Int64


def test_empty_file_raises(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_bytes(b"")
    with pytest.raises(ExportFormatError, match="no header"):
        parse_roster(p)


def test_gbk_roster_is_read_not_refused(tmp_path):
    # issue 12 #2: Excel on Chinese Windows saves GBK; the file is read in its own encoding
    p = tmp_path / "roster.csv"
    p.write_bytes((ROSTER_HEADER + "\nE001,张三,行政部,主任,,2020-01-06,,,否\n").encode("gbk"))
    result = parse_roster(p)
    assert result.frame["name"].to_list() == ["张三"] and result.meta["encoding"] == "gb18030"


@pytest.mark.parametrize(
    "kind, parser",
    [
        ("roster", parse_roster),
        ("group_registry", parse_group_registry),
        ("pay_accounts", parse_pay_accounts),
        ("pay_approvals", parse_pay_approvals),
    ],
)
def test_schemas_match_staged_contract(tmp_path, kind, parser):
    from wxpipeline.formats.schemas import SCHEMAS

    header = ",".join(c for c in SCHEMAS[kind] if c not in ("source_file", "source_line"))
    res = parser(write(tmp_path / f"{kind}.csv", [header]))
    assert dict(res.frame.schema) == SCHEMAS[kind]
