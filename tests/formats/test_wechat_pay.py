from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import polars as pl
import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.wechat_pay import SCHEMA, parse_wechat_pay_bill

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-exports"
PAY = REAL / "wechat_pay"
SH = ZoneInfo("Asia/Shanghai")


def real(name: str) -> Path:
    if not REAL.exists():
        pytest.skip(f"real export samples not present at {REAL}")
    return PAY / name


HEADER = "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注"
PREAMBLE = [
    "微信支付账单明细,,,,,,,,,,",
    "微信昵称：[张三],,,,,,,,,,",
    "起始时间：[2024-03-01 00:00:00] 终止时间：[2024-03-31 23:59:59],,,,,,,,,,",
    "导出类型：[全部],,,,,,,,,,",
    "导出时间：[2024-04-01 09:00:00],,,,,,,,,,",
    ",,,,,,,,,,",
    "共3笔记录,,,,,,,,,,",
    ",,,,,,,,,,",
    "----------------------微信支付账单明细列表--------------------,,,,,,,,,,",
    HEADER,
]
ROWS = [
    '2024-03-04 10:00:00,商户消费,"某超市",文具,支出,¥120.50,零钱,支付成功,"4200000001"\t,"m-1"\t,"/"',
    "2024-03-05 11:30:00,转账,同事,/,支出,￥80.00,零钱,已全额退款,4200000002\t,/\t,/",
    '2024-03-06 12:00:00,商户消费,餐厅,午餐,支出,¥99.00,招商银行(1111),已退款(￥20.00),"4200000003\t","m-3\t",/',
]


def write_bill(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False) -> Path:
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


# --- real samples ------------------------------------------------------------------------------


def test_deg_csv_values():
    res = parse_wechat_pay_bill(real("deg_example-wechat-records.csv"))
    df = res.frame
    assert res.rejects == []
    assert df.schema == SCHEMA
    assert res.meta["account_nickname"] == "测试"
    assert res.meta["header_line"] == 17
    assert df.height == 27  # data lines 18..44
    assert df["account_nickname"].unique().to_list() == ["测试"]
    first = df.row(0, named=True)
    assert first["transaction_id"] == "3985734"  # `"3985734"<TAB>` in the file
    assert first["merchant_order_id"] == "129847129"
    assert first["amount"] == Decimal("28.16")
    assert first["traded_at"] == dt.datetime(2019, 9, 26, 12, 45, 27, tzinfo=SH)
    assert first["traded_at"].utcoffset() == dt.timedelta(hours=8)
    assert first["direction"] == "支出"
    assert first["status"] == "支付成功"
    assert first["note"] is None  # "/"
    assert first["source_line"] == 18
    # `/` in 收/支 and 交易对方 -> null; `/<TAB>` 商户单号 -> null
    row = df.filter(pl.col("source_line") == 23).row(0, named=True)
    assert row["direction"] is None and row["counterparty"] is None
    row = df.filter(pl.col("source_line") == 22).row(0, named=True)
    assert row["merchant_order_id"] is None
    # trailing spaces after ids, unquoted field with quotes inside
    row = df.filter(pl.col("source_line") == 37).row(0, named=True)
    assert row["transaction_id"] == "160572459521071810106004542906137497131422937"
    assert row["counterparty"] == '打开拼多多，点击底部"多多视频"'
    # `¥50.0` -> 50.00
    assert df.filter(pl.col("source_line") == 42)["amount"].item() == Decimal("50.00")
    assert df["transaction_id"].null_count() == 0
    assert not df["transaction_id"].str.contains(r"\s").any()


def test_trim21_csv_bom_crlf_refund():
    res = parse_wechat_pay_bill(real("trim21_wechat_20200830-20200906.csv"))
    df = res.frame
    assert res.rejects == []
    assert df.schema == SCHEMA
    assert res.meta["account_nickname"] == "微"
    assert df.height == 7
    assert df["transaction_id"][0] == "100004990120090600090332461714765274"
    refund = df.filter(pl.col("status") == "已退款￥742.00").row(0, named=True)
    assert refund["refunded_amount"] == Decimal("742.00")
    assert refund["amount"] == Decimal("742.00")
    assert refund["merchant_order_id"] is None  # `"<TAB>"`
    assert refund["source_line"] == 24
    assert df.filter(pl.col("status") != "已退款￥742.00")["refunded_amount"].null_count() == 6
    # `"/<TAB>"` quoted placeholder
    assert df.filter(pl.col("source_line") == 20)["merchant_order_id"].item() is None


def test_xlsx_matches_csv():
    csv = parse_wechat_pay_bill(real("deg_example-wechat-records.csv"))
    xlsx = parse_wechat_pay_bill(real("deg_example-wechat-records.xlsx"))
    assert xlsx.rejects == []
    # the real export sheet is picked, not the Power Query copy that comes first in the book
    assert xlsx.meta["sheet"] == "Sheet1"
    assert xlsx.meta["header_line"] == 18
    assert xlsx.frame.schema == SCHEMA
    assert xlsx.frame.height == csv.frame.height == 27
    # one extra preamble row in the sheet: sheet row = CSV line + 1
    assert (xlsx.frame["source_line"] - csv.frame["source_line"]).unique().to_list() == [1]
    cols = [c for c in SCHEMA.names() if c not in ("source_file", "source_line")]
    assert xlsx.frame.select(cols).equals(csv.frame.select(cols))
    assert xlsx.frame["amount"][0] == Decimal("28.16")  # numeric cell


@pytest.mark.parametrize(
    "name", ["gunsluo_merchant_tradebill_ALL.csv", "gunsluo_merchant_fundflowbill_BASIC.csv"]
)
def test_merchant_platform_bills_rejected(name):
    with pytest.raises(ExportFormatError) as err:
        parse_wechat_pay_bill(real(name))
    assert "merchant-platform" in str(err.value)
    assert "not the WeChat app export" in str(err.value)
    assert name in str(err.value)


# --- synthetic ---------------------------------------------------------------------------------


def test_synthetic_values_and_refunds(tmp_path):
    res = parse_wechat_pay_bill(write_bill(tmp_path / "b.csv", PREAMBLE + ROWS))
    df = res.frame
    assert res.rejects == []
    assert df["transaction_id"].to_list() == ["4200000001", "4200000002", "4200000003"]
    assert df["merchant_order_id"].to_list() == ["m-1", None, "m-3"]
    assert df["amount"].to_list() == [Decimal("120.50"), Decimal("80.00"), Decimal("99.00")]
    # full refund = the whole amount; partial refund text carries the figure
    assert df["refunded_amount"].to_list() == [None, Decimal("80.00"), Decimal("20.00")]
    assert df["source_line"].to_list() == [11, 12, 13]
    assert res.meta["period_start"] == "2024-03-01 00:00:00"
    assert res.meta["declared_records"] == 3


def test_malformed_rows_become_rejects(tmp_path):
    rows = [
        ROWS[0],
        "2024-03-05 11:30:00,转账,同事,/,支出,¥abc,零钱,支付成功,4200000009,/,/",  # bad amount
        ROWS[2],
        "2024-03-32 08:00:00,转账,同事,/,支出,¥1.00,零钱,支付成功,4200000010,/,/",  # bad time
        "2024-03-07 08:00:00,转账,同事,/,支出,¥1.00,零钱,支付成功,\t,/,/",  # empty 交易单号
        "2024-03-07 08:00:00,转账,同事,/,支出,¥1.00,零钱,支付成功",  # too few fields
        "2024-03-07 09:00:00,转账,同事,/,支出,¥2.00,零钱,支付成功,4200000011,/,/,,",  # padding ok
    ]
    path = write_bill(tmp_path / "bad.csv", PREAMBLE + rows)
    res = parse_wechat_pay_bill(path)
    assert res.frame["transaction_id"].to_list() == ["4200000001", "4200000003", "4200000011"]
    assert res.frame["source_line"].to_list() == [11, 13, 17]
    by_line = {r.line: r for r in res.rejects}
    assert sorted(by_line) == [12, 14, 15, 16]
    assert "金额(元)" in by_line[12].reason and "¥abc" in by_line[12].reason
    assert by_line[12].raw == rows[1]
    assert by_line[12].file == str(path)
    assert "交易时间" in by_line[14].reason and "2024-03-32 08:00:00" in by_line[14].reason
    assert "交易单号" in by_line[15].reason
    assert "expected 11 fields, got 8" in by_line[16].reason


@pytest.mark.parametrize(
    "variant", [dict(newline="\r\n"), dict(bom=True), dict(newline="\r\n", bom=True)]
)
def test_line_endings_and_bom_give_identical_frames(tmp_path, variant):
    plain = parse_wechat_pay_bill(write_bill(tmp_path / "lf.csv", PREAMBLE + ROWS))
    other = parse_wechat_pay_bill(write_bill(tmp_path / "v.csv", PREAMBLE + ROWS, **variant))
    assert other.rejects == []
    assert other.frame.drop("source_file").equals(plain.frame.drop("source_file"))


def test_header_found_after_marker_not_by_line_number(tmp_path):
    # a longer preamble (newer app versions add notes) and spaces around header names
    preamble = PREAMBLE[:8] + ["4. 本账单中所有时间均为UTC+08:00时间,,,,,,,,,,", ",,,,,,,,,,"] + PREAMBLE[8:9]
    header = " , ".join(HEADER.split(",")) + ",,"
    res = parse_wechat_pay_bill(write_bill(tmp_path / "b.csv", preamble + [header] + ROWS))
    assert res.meta["header_line"] == 12
    assert res.frame["source_line"].to_list() == [13, 14, 15]


def test_missing_marker_or_bad_header(tmp_path):
    with pytest.raises(ExportFormatError, match="微信支付账单明细列表"):
        parse_wechat_pay_bill(write_bill(tmp_path / "x.csv", [HEADER] + ROWS))
    bad = PREAMBLE[:-1] + [HEADER.replace("金额(元)", "金额")] + ROWS
    with pytest.raises(ExportFormatError, match="unexpected bill header") as err:
        parse_wechat_pay_bill(write_bill(tmp_path / "h.csv", bad))
    assert err.value.line == 10
    no_nick = [PREAMBLE[0]] + PREAMBLE[2:] + ROWS
    with pytest.raises(ExportFormatError, match="微信昵称"):
        parse_wechat_pay_bill(write_bill(tmp_path / "n.csv", no_nick))


def test_empty_bill_has_schema(tmp_path):
    res = parse_wechat_pay_bill(write_bill(tmp_path / "e.csv", PREAMBLE))
    assert res.frame.height == 0
    assert res.frame.schema == SCHEMA


def test_xlsx_synthetic_power_query_first_and_typed_cells(tmp_path):
    wb = openpyxl.Workbook()
    pq = wb.active
    pq.title = "query"
    pq.append([f"Column{i}" for i in range(1, 12)])
    for line in PREAMBLE:
        pq.append([line.split(",")[0]] + [""] * 10)
    pq.append(["2024-03-04 10:00:00", "x", "y", "z", "支出", "¥1.00", "/", "支付成功", "WRONG", "/", "/"])
    ws = wb.create_sheet("bill")
    for line in PREAMBLE[:-1]:
        ws.append([line.split(",")[0]])
    ws.append(HEADER.split(","))
    # a real datetime cell, a numeric amount, and a short row (empty trailing cells not stored)
    ws.append([dt.datetime(2024, 3, 4, 10, 0), "商户消费", "某超市", "文具", "支出", 120.5, "零钱",
               "支付成功", "4200000001\t", "m-1\t", "/"])
    ws.append(["2024-03-05 11:30:00", "转账", "同事", "/", "支出", 80, "零钱", "已全额退款", "4200000002"])
    ws.append(["2024-03-06 12:00:00", "转账", "同事", "/", "支出", "oops", "零钱", "支付成功", "4200000004"])
    path = tmp_path / "bill.xlsx"
    wb.save(path)

    res = parse_wechat_pay_bill(path)
    assert res.meta["sheet"] == "bill"
    assert res.meta["account_nickname"] == "张三"
    df = res.frame
    assert df.schema == SCHEMA
    assert df["transaction_id"].to_list() == ["4200000001", "4200000002"]
    assert df["traded_at"][0] == dt.datetime(2024, 3, 4, 10, 0, tzinfo=SH)
    assert df["amount"].to_list() == [Decimal("120.50"), Decimal("80.00")]
    assert df["refunded_amount"].to_list() == [None, Decimal("80.00")]
    assert df["note"].to_list() == [None, None]
    assert df["source_line"].to_list() == [11, 12]
    assert [(r.line, "金额(元)" in r.reason) for r in res.rejects] == [(13, True)]


def test_unsupported_suffix(tmp_path):
    p = tmp_path / "bill.txt"
    p.write_text("x")
    with pytest.raises(ExportFormatError, match="unsupported file type"):
        parse_wechat_pay_bill(p)


def test_schema_matches_staged_contract():
    from wxpipeline.formats.schemas import SCHEMAS

    assert dict(SCHEMA) == SCHEMAS["pay_bills"]
