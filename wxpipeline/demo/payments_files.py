"""Writing the demo's WeChat Pay bills and ledger sheets as the vendor tools do (see
`payments.py` for what they contain): the bill preamble, CSV quoting styles, the .xlsx export,
deterministic zip timestamps for the xlsx, one ledger sheet per month."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from wxpipeline.demo.payments import OVERLAP_ACCOUNT, OVERLAP_DAYS, SPAN_DAYS, Tx, XLSX_ACCOUNT, PayBook, at_time, yuan

BILL_HEADER = ["交易时间", "交易类型", "交易对方", "商品", "收/支", "金额(元)", "支付方式", "当前状态", "交易单号", "商户单号", "备注"]
LEDGER_HEADER = ["entry_id", "employee_id", "paid_at", "amount", "transaction_id", "counterparty", "purpose"]
MARKER = "----------------------微信支付账单明细列表--------------------"
CSV_NOTES = [
    "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易",
    "2. 本明细仅展示当前账单中的交易，不包括已删除的记录",
    "3. 本明细仅供个人对账使用",
]
XLSX_NOTES = [  # the newer app version, as in the real .xlsx sample
    "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易",
    "2. 若交易记录明细无有效内容，则代表该时间段内此微信号无交易。",
    "3. 本明细仅供个人对账使用",
    "4. 本账单中所有时间均为UTC+08:00时间",
]
YEN = "\u00a5"  # ¥ in amounts

if TYPE_CHECKING:
    from . import DemoContext


def _csv_field(value: str, quote: bool = False) -> str:
    if quote or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _preamble(nick: str, s: date, e: date, exported: datetime, rows: list[Tx], notes: list[str]) -> list[str]:
    income = [t for t in rows if t.direction == "收入"]
    spent = [t for t in rows if t.direction == "支出" and t.status != "支付失败"]
    return [
        "微信支付账单明细",
        f"微信昵称：[{nick}]",
        f"起始时间：[{s} 00:00:00] 终止时间：[{e} 23:59:59]",
        "导出类型：[全部]",
        f"导出时间：[{exported:%Y-%m-%d %H:%M:%S}]",
        "",
        f"共{len(rows)}笔记录",
        f"收入：{len(income)}笔 {yuan(sum(t.cents for t in income))}元",
        f"支出：{len(spent)}笔 {yuan(sum(t.cents for t in spent))}元",
        "中性交易：0笔 0.00元",
        "注：",
        *notes,
        "",
        MARKER,
    ]


def _bill_csv(nick: str, s: date, e: date, exported: datetime, rows: list[Tx], style: str) -> bytes:
    pad = "," * (len(BILL_HEADER) - 1)
    lines = [line + pad for line in _preamble(nick, s, e, exported, rows, CSV_NOTES)]
    lines.append(",".join(BILL_HEADER))
    for t in rows:
        text = [t.kind, t.counterparty, t.goods, t.direction]
        if style == "trim21":  # BOM + CRLF, IDs quoted with the TAB inside the quotes
            ids = [_csv_field(t.tid + "\t", True), _csv_field(t.mid + "\t", True)]
            quoted = False
        else:  # deb-sig: LF, bare IDs followed by a TAB, text quoted on merchant rows only
            ids = [t.tid + "\t", t.mid + "\t"]
            quoted = t.kind == "商户消费"
        fields = [f"{t.ts:%Y-%m-%d %H:%M:%S}"] + [_csv_field(v, quoted) for v in text]
        fields += [YEN + yuan(t.cents), _csv_field(t.method, quoted), _csv_field(t.status, quoted)]
        fields += ids + [_csv_field(t.note, quoted)]
        lines.append(",".join(fields))
    if style == "trim21":
        return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _bill_xlsx(nick: str, s: date, e: date, exported: datetime, rows: list[Tx]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for line in _preamble(nick, s, e, exported, rows, XLSX_NOTES):
        ws.append([line or None])
    ws.append(BILL_HEADER)
    for t in rows:
        amount: float | int = t.cents // 100 if t.cents % 100 == 0 else t.cents / 100
        ws.append([f"{t.ts:%Y-%m-%d %H:%M:%S}", t.kind, t.counterparty, t.goods, t.direction, amount,
                   t.method, t.status, t.tid + "\t", t.mid + "\t", t.note])
    fixed = datetime(exported.year, exported.month, exported.day, exported.hour, exported.minute, exported.second)
    wb.properties.creator = "微信支付"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue(), fixed)


def _deterministic_zip(data: bytes, stamp: datetime) -> bytes:
    """openpyxl stamps the save time into docProps/core.xml and the zip entries: pin both."""
    iso = f"{stamp:%Y-%m-%dT%H:%M:%SZ}"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + iso.encode() + rb"\g<2>", payload)
            zi = zipfile.ZipInfo(info.filename, date_time=(stamp.year, stamp.month, stamp.day,
                                                             stamp.hour, stamp.minute, stamp.second))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, payload)
    return out.getvalue()


def _spans(ctx: DemoContext) -> list[tuple[date, date]]:
    spans = []
    s = ctx.start
    while s <= ctx.end:
        e = min(s + timedelta(days=SPAN_DAYS - 1), ctx.end)
        spans.append((s, e))
        s = e + timedelta(days=1)
    return spans


def write_bills(book: PayBook) -> None:
    ctx, rng = book.ctx, book.rng
    spans = _spans(ctx)
    with_bills = [a for a in book.accounts if any(t.nickname == a["nickname"] for t in book.txs)]
    for i, acct in enumerate(with_bills):
        nick = acct["nickname"]
        mine = sorted((t for t in book.txs if t.nickname == nick), key=lambda t: (t.ts, t.tid), reverse=True)
        style = "trim21" if i % 2 == 0 else "deg"
        for k, (s, e) in enumerate(spans):
            if nick == OVERLAP_ACCOUNT and k == 1:
                # start the 2nd export on the last OVERLAP_DAYS active days of the 1st one
                p_s, p_e = spans[0]
                active = sorted({t.ts.date() for t in mine if p_s <= t.ts.date() <= p_e})
                if active:
                    s = active[-min(OVERLAP_DAYS, len(active))]
            rows = [t for t in mine if s <= t.ts.date() <= e]
            if not rows:
                continue
            exported = at_time(e + timedelta(days=1), rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
            rel = f"wechat_pay/wxpay_{acct['slug']}_{s:%Y%m%d}-{e:%Y%m%d}.csv"
            ctx.write_bytes(rel, _bill_csv(nick, s, e, exported, rows, style), len(rows))
        if nick == XLSX_ACCOUNT:
            exported = at_time(ctx.end + timedelta(days=1), 9, 30, 12)
            rel = f"wechat_pay/wxpay_{acct['slug']}_{ctx.start:%Y%m%d}-{ctx.end:%Y%m%d}.xlsx"
            ctx.write_bytes(rel, _bill_xlsx(nick, ctx.start, ctx.end, exported, mine), len(mine))


def write_ledger(ctx: DemoContext, entries: list[dict[str, Any]]) -> None:
    months: dict[str, list[list[str]]] = {}
    for e in entries:
        months.setdefault(f"{e['paid_at']:%Y-%m}", []).append([
            e["entry_id"], e["employee_id"], f"{e['paid_at']:%Y-%m-%d %H:%M:%S}", yuan(e["cents"]),
            e["tid"], e["counterparty"], e["purpose"],
        ])
    for month, rows in sorted(months.items()):
        ctx.write_csv(f"ledger/ledger_{month}.csv", LEDGER_HEADER, rows)
