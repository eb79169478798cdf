"""微信支付账单明细: the bill a user exports from the WeChat app, as CSV or XLSX.

Layout: a preamble (`微信支付账单明细`, `微信昵称：[nick]`, period, counts, notes), a line
containing `微信支付账单明细列表`, then the header
`交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注` and
one record per line. The preamble length varies between app versions, so the header is found
after the marker, never by line number. Times are Asia/Shanghai wall time.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from .common import ExportFormatError, ParseResult, strip_id
from .csvtools import (
    MONEY,
    Field,
    blank_fields,
    field_count_reason,
    parse_local_datetime,
    parse_money,
    read_text,
    split_fields,
    text,
    text_lines,
    text_or_slash,
    type_fields,
)
from .schemas import SCHEMAS

MARKER = "微信支付账单明细列表"
HEADER = (
    "交易时间",
    "交易类型",
    "交易对方",
    "商品",
    "收/支",
    "金额(元)",
    "支付方式",
    "当前状态",
    "交易单号",
    "商户单号",
    "备注",
)


def _optional_text(name: str, label: str) -> Field:
    # `/` is the export's "nothing here", not a bad value
    return Field(name, text_or_slash, label=label, present=text_or_slash)


# header cell -> output column, with its parser; the label in reasons is the header cell
_FIELDS = (
    Field("traded_at", parse_local_datetime, required=True, label="交易时间", what="date/time"),
    Field("trade_type", text, label="交易类型"),
    _optional_text("counterparty", "交易对方"),
    _optional_text("goods", "商品"),
    _optional_text("direction", "收/支"),
    Field("amount", parse_money, required=True, label="金额(元)", what="amount"),
    _optional_text("payment_method", "支付方式"),
    Field("status", text, label="当前状态"),
    Field("transaction_id", strip_id, required=True, label="交易单号", present=strip_id),
    Field("merchant_order_id", strip_id, label="商户单号", present=strip_id),
    _optional_text("note", "备注"),
)

SCHEMA = pl.Schema(SCHEMAS["pay_bills"])  # the staged table's columns (formats/schemas.py)

# column names of the merchant-platform (商户平台 / API) trade and fund-flow bills, which share
# the 交易时间 vocabulary but are a different export with backtick-prefixed values
_MERCHANT_HINTS = ("公众账号ID", "微信订单号", "商户订单号", "资金流水单号", "记账时间", "业务凭证号")

_NICKNAME = re.compile(r"^\s*微信昵称[：:]\s*\[(.*)\]\s*$")
_PERIOD = re.compile(r"起始时间[：:]\s*\[(.*?)\]\s*终止时间[：:]\s*\[(.*?)\]")
_EXPORT_TYPE = re.compile(r"导出类型[：:]\s*\[(.*?)\]")
_EXPORTED_AT = re.compile(r"导出时间[：:]\s*\[(.*?)\]")
_DECLARED = re.compile(r"共\s*(\d+)\s*笔记录")

# 当前状态 carries partial refunds as `已退款￥742.00` / `已退款(￥742.00)`
_REFUND_AMOUNT = r"退款[^0-9]*?([0-9][0-9,]*(?:\.[0-9]+)?)"


def parse_wechat_pay_bill(path: Path | str) -> ParseResult:
    """Parse one WeChat app bill export (`.csv` or `.xlsx`).

    Output columns (in order): transaction_id, merchant_order_id, traded_at, trade_type,
    counterparty, goods, direction, amount, payment_method, status, refunded_amount, note,
    account_nickname, source_file, source_line; see `SCHEMA`. `meta` holds account_nickname,
    period_start/period_end/export_type/exported_at (as written), declared_records (the
    preamble's 共N笔记录, not checked: app exports do not always agree with their rows),
    header_line and, for XLSX, sheet.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    meta: dict = {}
    bad_lines: list = []
    if suffix == ".csv":
        decoded = read_text(path, "bill CSV")
        bad_lines, meta["encoding"] = decoded.rejects, decoded.encoding
        rows = text_lines(decoded.text)
        rows = rows.with_columns(split_fields(pl.col("raw")).alias("_fields"))
    elif suffix in (".xlsx", ".xlsm"):
        rows, meta["sheet"] = _xlsx_rows(path)
    else:
        raise ExportFormatError(
            path, f"unsupported file type {suffix or '(none)'}: expected .csv or .xlsx"
        )
    result = _parse_rows(path, rows, meta)
    if bad_lines:  # lines that did not decode: after the header they are records, quarantined
        header = result.meta["header_line"]
        after = [r for r in bad_lines if r.line > header]
        result.rejects = sorted(result.rejects + after, key=lambda r: r.line)
        result.meta["records"] += len(after)
        result.meta["undecodable_lines"] = len(bad_lines)
    return result


# ---------------------------------------------------------------------------------------------
# XLSX -> the same (source_line, raw, _fields) rows as a CSV


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        # the app writes 金额 as a number (28.16, 12); print it as the 2-decimal amount it is,
        # but leave a float that is not one visibly wrong so that it is rejected
        rounded = round(value, 2)
        return f"{rounded:.2f}" if abs(value - rounded) < 1e-9 else repr(value)
    return str(value)


def _is_power_query_table(rows: list[list[str]]) -> bool:
    # a Power Query load of the CSV puts a generated Column1..ColumnN header above the export
    first = rows[0] if rows else []
    named = [c for c in first if c.strip()]
    return bool(named) and all(re.fullmatch(r"Column\d+", c.strip()) for c in named)


def _xlsx_rows(path: Path) -> tuple[pl.DataFrame, str]:
    import openpyxl  # only needed for XLSX bills

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise ExportFormatError(path, f"cannot read the file: {exc.strerror or exc}", transient=True) from None
    except Exception as exc:  # zipfile/XML errors: the file is not a readable workbook
        raise ExportFormatError(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    sheets: list[tuple[str, list[list[str]]]] = []
    title = "(workbook)"
    try:
        for ws in wb.worksheets:
            title = ws.title
            # the sheet row loop is unavoidable: openpyxl hands out Python cell values
            cells = ws.iter_rows(min_row=1, values_only=True)
            rows = [[_cell_text(v) for v in row] for row in cells]
            sheets.append((ws.title, rows))
    except Exception as exc:  # read-only mode parses sheet XML lazily: damage surfaces here
        raise ExportFormatError(path, f"damaged XLSX, sheet {title!r} ({type(exc).__name__}: {exc})") from None
    finally:
        wb.close()

    with_marker = [(t, r) for t, r in sheets if any(MARKER in c for row in r for c in row)]
    # prefer the export itself over a derived Power Query copy of it in the same workbook
    chosen = next(((t, r) for t, r in with_marker if not _is_power_query_table(r)), None)
    chosen = chosen or (with_marker[0] if with_marker else None)
    if chosen is None:
        first_rows = [row for _, r in sheets for row in r[:3]]
        raise _not_an_app_bill(path, [",".join(row) for row in first_rows])
    title, rows = chosen
    width = max([len(HEADER), *(len(r) for r in rows)])
    # empty trailing cells are not stored in XLSX: pad so that short rows are not "ragged"
    padded = [r + [""] * (width - len(r)) for r in rows]
    frame = pl.DataFrame(
        {
            "source_line": pl.Series(range(1, len(rows) + 1), dtype=pl.Int64),
            "raw": pl.Series([",".join(r).rstrip(",") for r in rows], dtype=pl.String),
            "_fields": pl.Series(padded, dtype=pl.List(pl.String)),
        }
    )
    return frame, title


# ---------------------------------------------------------------------------------------------


def _not_an_app_bill(path: Path, first_lines: list[str]) -> ExportFormatError:
    head = "\n".join(first_lines[:3])
    if any(h in head for h in _MERCHANT_HINTS) or any(l.startswith("`") for l in first_lines[1:3]):
        return ExportFormatError(
            path,
            "looks like a WeChat Pay merchant-platform bill (商户平台 交易账单/资金账单, "
            "backtick-prefixed values), not the WeChat app export 微信支付账单明细: "
            f"no '{MARKER}' line",
        )
    return ExportFormatError(
        path, f"not a WeChat app bill export (微信支付账单明细): no '{MARKER}' line"
    )


def _preamble_meta(path: Path, preamble: list[str]) -> dict:
    meta: dict = {}
    for cell in preamble:
        if "account_nickname" not in meta and (m := _NICKNAME.match(cell)):
            meta["account_nickname"] = m.group(1).strip()
        elif m := _PERIOD.search(cell):
            meta["period_start"], meta["period_end"] = m.group(1), m.group(2)
        elif m := _EXPORT_TYPE.search(cell):
            meta["export_type"] = m.group(1)
        elif m := _EXPORTED_AT.search(cell):
            meta["exported_at"] = m.group(1)
        elif m := _DECLARED.search(cell):
            meta["declared_records"] = int(m.group(1))
    if not meta.get("account_nickname"):
        # without the nickname the payments cannot be attributed to an employee
        raise ExportFormatError(
            path, "no '微信昵称：[...]' line (account nickname) before the bill list"
        )
    return meta


def _parse_rows(path: Path, rows: pl.DataFrame, meta: dict) -> ParseResult:
    file = str(path)
    rows = rows.with_columns(blank_fields(pl.col("_fields")).alias("_blank"))
    marker_lines = rows.filter(pl.col("raw").str.contains(MARKER, literal=True))["source_line"]
    if marker_lines.len() == 0:
        raise _not_an_app_bill(path, rows.filter(~pl.col("_blank"))["raw"].head(3).to_list())
    marker_line = marker_lines[0]

    # the preamble is a dozen lines; its first cells are read in Python
    preamble = (
        rows.filter(pl.col("source_line") < marker_line)
        .select(pl.col("_fields").list.first().fill_null(""))
        .to_series()
        .to_list()
    )
    meta.update(_preamble_meta(path, preamble))

    after = rows.filter((pl.col("source_line") > marker_line) & ~pl.col("_blank"))
    if after.height == 0:
        raise ExportFormatError(path, f"no header line after the '{MARKER}' line", marker_line)
    header_row = after.row(0, named=True)
    header_line = header_row["source_line"]
    found = [c.strip().strip("\ufeff").strip() for c in header_row["_fields"]]
    while found and found[-1] == "":
        found.pop()  # trailing empty columns are padding
    if tuple(found) != HEADER:
        raise ExportFormatError(
            path,
            f"unexpected bill header: expected {','.join(HEADER)}; found {','.join(found)}",
            header_line,
        )
    meta["header_line"] = header_line

    records = after.filter(pl.col("source_line") > header_line).with_columns(
        pl.col("_fields").list.get(i, null_on_oob=True).alias(f.name) for i, f in enumerate(_FIELDS)
    )
    good, rejects = type_fields(
        records,
        _FIELDS,
        file,
        extra_reasons=[field_count_reason(pl.col("_fields"), len(HEADER))],
    )
    status = pl.col("status").fill_null("")
    refunded = (
        pl.when(status.str.contains("全额退款"))
        .then(pl.col("amount"))  # a full refund names no figure: it is the whole amount
        .otherwise(parse_money(status.str.extract(_REFUND_AMOUNT, 1)))
    )
    frame = good.with_columns(
        refunded.cast(MONEY).alias("refunded_amount"),
        pl.lit(meta["account_nickname"]).alias("account_nickname"),
        pl.lit(file).alias("source_file"),
    ).select(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items())
    meta["records"] = records.height
    return ParseResult(frame=frame, rejects=rejects, meta=meta)
