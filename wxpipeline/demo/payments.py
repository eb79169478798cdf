"""WeChat Pay bills (`wechat_pay/*.csv`, `*.xlsx`) and the finance ledger (`ledger/*.csv`).

Bills are written exactly as the WeChat app exports them (see `real-exports/wechat_pay/`):
a 16-line preamble (`微信支付账单明细`, `微信昵称：[...]`, the time range, the counts, the notes,
the `微信支付账单明细列表` marker), the 11-column header, rows padded to 11 columns, IDs with a
trailing TAB, amounts as `¥12.00`. Some files are UTF-8 BOM + CRLF with quoted IDs (the
trim21 sample), the others LF with bare IDs and mixed quoting (the deb-sig sample); one account
is also exported as `.xlsx` (numeric amounts); two files of one account overlap in time.

Ordinary activity is compliant by construction (registered and active account, working day,
09:05-17:55, at most 3000 yuan a day per employee, one ledger entry with the same id and
amount); the planted cases and near-misses are added on top and recorded on `ctx`.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from . import DemoContext

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
FULLWIDTH_YEN = "\uffe5"  # ￥ in refund statuses
DAILY_CAP_CENTS = 300_000  # ordinary spending per employee-day stays far below the 5000 limit
SPAN_DAYS = 10
OVERLAP_ACCOUNT = "张伟-财务"  # its 2nd export repeats its last 2 active days of the 1st one
OVERLAP_DAYS = 2
XLSX_ACCOUNT = "吴静-财务"  # also exported as one .xlsx over the whole period

# (交易类型, 交易对方, 商品 template, min yuan, max yuan, ledger purpose, weight)
CATALOG: dict[str, tuple[str, str, str, int, int, str, int]] = {
    "didi": ("商户消费", "滴滴出行", "滴滴快车-{n8}", 15, 120, "市内交通", 5),
    "jd": ("商户消费", "京东商城平台商户", "京东-订单编号{n12}", 30, 800, "办公用品", 4),
    "sf": ("商户消费", "顺丰速运", "顺丰速运-寄件运费", 12, 80, "快递费", 3),
    "meituan": ("商户消费", "美团平台商户", "美团订单-{n10}", 18, 300, "工作餐", 4),
    "canteen": ("扫二维码付款", "老王家常菜", "收款方备注:二维码收款", 25, 260, "工作餐", 2),
    "print": ("扫二维码付款", "快印图文店", "收款方备注:二维码收款", 8, 120, "打印复印", 2),
    "coffee": ("商户消费", "瑞幸咖啡", "瑞幸咖啡-订单{n8}", 15, 60, "会议茶歇", 2),
    "fuel": ("商户消费", "中国石化加油站", "加油-92号汽油", 200, 500, "车辆燃油", 1),
    "hotel": ("商户消费", "携程旅行网", "携程-酒店预订", 200, 800, "差旅住宿", 1),
}
STATUS_BY_KIND = {"商户消费": "支付成功", "扫二维码付款": "已转账", "转账": "对方已收钱"}


@dataclass
class Tx:
    tid: str
    mid: str
    nickname: str
    employee_id: str  # who actually paid (also for an unregistered account)
    ts: datetime
    kind: str
    counterparty: str
    goods: str
    direction: str  # 支出 / 收入
    cents: int
    method: str
    status: str
    purpose: str = ""
    note: str = "/"
    origin: str = "ordinary"  # ordinary | planted | special | income
    ledger: str = "normal"  # normal | none | dup | mismatch | lag3

    @property
    def spending(self) -> bool:
        return self.direction == "支出" and self.status not in ("支付失败", "已全额退款")


class _Ids:
    """Vendor-looking, unique transaction and merchant order numbers."""

    def __init__(self, rng):
        self.rng, self.seen = rng, set()

    def _d(self, n: int) -> str:
        return f"{self.rng.randrange(10 ** n):0{n}d}"

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.seen:
                self.seen.add(value)
                return value

    def tx(self, kind: str, ts: datetime) -> str:
        if kind == "商户消费":  # 28 digits, 4200000686202009066696686773
            return self._unique(lambda: f"42000{self._d(5)}{ts:%Y%m%d}{self._d(10)}")
        if kind.endswith("-退款"):  # 29 digits, 50300605572020090402502430637
            return self._unique(lambda: f"503{self._d(5)}{ts:%Y%m%d}{self._d(13)}")
        # transfers, QR payments, red packets: 36 digits, 100004990120090600090332461714765274
        return self._unique(lambda: f"10000{self._d(5)}{ts:%y%m%d}{self._d(20)}")

    def order(self, kind: str, ts: datetime) -> str:
        if kind == "商户消费":
            return self._unique(lambda: self._d(23))
        if kind.endswith("-退款") or kind in ("微信红包",):
            return "/"
        return self._unique(lambda: f"10000{self._d(5)}{ts:%Y%m%d}{self._d(14)}")


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------

class _Book:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.rng = ctx.rng
        self.ids = _Ids(ctx.rng)
        self.accounts: list[dict[str, Any]] = ctx.shared["pay_accounts"]
        self.by_nick = {a["nickname"]: a for a in self.accounts}
        self.txs: list[Tx] = []

    def goods(self, template: str) -> str:
        return template.format(n8=self.ids._d(8), n10=self.ids._d(10), n12=self.ids._d(12))

    def add(self, nick: str, ts: datetime, key: str | None = None, cents: int = 0, *,
            kind: str | None = None, counterparty: str | None = None, goods: str | None = None,
            purpose: str | None = None, direction: str = "支出", status: str | None = None,
            method: str | None = None, origin: str = "planted") -> Tx:
        acct = self.by_nick[nick]
        if key:
            c_kind, c_cp, c_goods, _, _, c_purpose, _ = CATALOG[key]
            kind = kind or c_kind
            counterparty = counterparty or c_cp
            goods = goods or self.goods(c_goods)
            purpose = purpose or c_purpose
        assert kind and counterparty
        tx = Tx(
            tid=self.ids.tx(kind, ts), mid=self.ids.order(kind, ts), nickname=nick,
            employee_id=acct["employee_id"], ts=ts, kind=kind, counterparty=counterparty,
            goods=goods or "/", direction=direction, cents=cents,
            method=method or acct["method"], status=status or STATUS_BY_KIND.get(kind, "支付成功"),
            purpose=purpose or "", origin=origin,
        )
        self.txs.append(tx)
        return tx

    def amount(self, lo: int, hi: int) -> int:
        cents = self.rng.randint(lo * 100, hi * 100)
        r = self.rng.random()
        if r < 0.5:
            cents -= cents % 100
        elif r < 0.7:
            cents -= cents % 10
        return max(cents, lo * 100)

    def active_accounts(self, employee_id: str, day: date) -> list[dict[str, Any]]:
        return [
            a for a in self.accounts
            if a["registered"] and a["employee_id"] == employee_id
            and a["approved_on"] <= day and (a["revoked_on"] is None or day < a["revoked_on"])
        ]


def _at(day: date, hh: int, mm: int, ss: int) -> datetime:
    return datetime.combine(day, time(hh, mm, ss))


def _ordinary(book: _Book, designed: dict[str, set[date]]) -> None:
    ctx, rng = book.ctx, book.rng
    payers = sorted({a["employee_id"] for a in book.accounts if a["registered"]})
    keys = list(CATALOG)
    weights = [CATALOG[k][6] for k in keys]
    lo_s, hi_s = 9 * 3600 + 5 * 60, 17 * 3600 + 55 * 60
    for eid in payers:
        for day in ctx.workdays():
            accts = book.active_accounts(eid, day)
            if not accts or day in designed.get(eid, set()):
                continue
            n = rng.randint(2, 6)
            items = []
            for _ in range(n):
                key = rng.choices(keys, weights)[0]
                items.append((key, book.amount(CATALOG[key][3], CATALOG[key][4])))
            while sum(c for _, c in items) > DAILY_CAP_CENTS and len(items) > 2:
                items.remove(max(items, key=lambda it: it[1]))
            secs = sorted(rng.sample(range(lo_s, hi_s + 1), len(items)))
            for (key, cents), s in zip(items, secs):
                acct = rng.choice(accts)
                book.add(acct["nickname"], _at(day, s // 3600, s // 60 % 60, s % 60), key, cents,
                         origin="ordinary")


def _pure_weekend(ctx: DemoContext, preferred: date) -> date | None:
    from . import is_named_holiday, is_workday

    days = [d for d in ctx.period() if d.weekday() >= 5 and not is_workday(d) and not is_named_holiday(d)]
    return preferred if preferred in days else (days[-1] if days else None)


def _weekday_holiday(ctx: DemoContext, preferred: date) -> date | None:
    from . import is_workday

    days = [d for d in ctx.period() if d.weekday() < 5 and not is_workday(d)]
    return preferred if preferred in days else (days[len(days) // 2] if days else None)


def _makeup_workday(ctx: DemoContext, preferred: date) -> date | None:
    days = [d for d in ctx.workdays() if d.weekday() >= 5]
    return preferred if preferred in days else (days[0] if days else None)


def _plant_limits(book: _Book) -> None:
    ctx, plan = book.ctx, book.ctx.shared["pay_plan"]

    eid, day = plan["limit_two_accounts"]
    if day:
        book.add("张伟-财务", _at(day, 10, 12, 31), "jd", 268000, goods="京东-订单编号" + book.ids._d(12) + "(激光打印机)", purpose="办公设备")
        book.add("小张", _at(day, 11, 5, 47), "hotel", 235000, goods="携程-酒店预订(3间3晚)")
        book.add("张伟-财务", _at(day, 14, 36, 5), "sf", 4600)
        book.add("小张", _at(day, 16, 20, 13), "didi", 24040, purpose="市内交通(接送客户)")
        ctx.plant("PAY-01", f"{eid}/{day.isoformat()}")  # 5316.40 over two accounts, each < 5000

    eid, day = plan["limit_approved"]
    if day:
        book.add("李娜-行政", _at(day, 9, 48, 10), "jd", 482000, goods="京东-订单编号" + book.ids._d(12) + "(国庆活动物资)", purpose="活动物资")
        book.add("李娜-行政", _at(day, 13, 15, 42), "sf", 18000)
        book.add("李娜-行政", _at(day, 15, 2, 9), None, 100000, kind="扫二维码付款", counterparty="宏达广告制作",
                 goods="收款方备注:二维码收款", purpose="活动横幅制作")
        ctx.near_miss("PAY-01", f"{eid}/{day.isoformat()}: 6000.00 covered by an approval of 8000")

    eid, day = plan["limit_exact"]
    if day:
        book.add("王芳-市场", _at(day, 10, 20, 0), "jd", 360000, goods="京东-订单编号" + book.ids._d(12) + "(宣传物料)", purpose="宣传物料")
        hotel = book.add("王芳-市场", _at(day, 11, 20, 5), "hotel", 180000, status="已全额退款", origin="special")
        book.add("王芳-市场", _at(day, 12, 31, 18), "meituan", 131350, purpose="团队工作餐")
        book.add("王芳-市场", _at(day, 15, 10, 44), None, 180000, kind="携程旅行网-退款", counterparty="携程旅行网",
                 goods=hotel.goods, direction="收入", status=f"已退款{FULLWIDTH_YEN}1800.00", origin="income")
        book.add("王芳-市场", _at(day, 16, 45, 2), "didi", 8650)
        ctx.near_miss("PAY-01", f"{eid}/{day.isoformat()}: exactly 5000.00 (plus a 1800.00 已全额退款 row that is not spending)")
        ctx.near_miss("PAY-04", f"bill:{hotel.tid}: 已全额退款, no ledger entry needed")

    eid, day = plan["limit_over_approval"]
    if day:
        book.add("陈刚-销售", _at(day, 12, 10, 26), None, 238000, kind="扫二维码付款", counterparty="粤海酒家",
                 goods="收款方备注:二维码收款", purpose="业务招待")
        book.add("陈刚-销售", _at(day, 15, 33, 40), "jd", 462000, goods="京东-订单编号" + book.ids._d(12) + "(客户礼品)", purpose="客户礼品")
        ctx.plant("PAY-01", f"{eid}/{day.isoformat()}")  # 7000.00, approval only 6000


def _plant_hours(book: _Book, designed: dict[str, set[date]]) -> None:
    ctx = book.ctx
    day = ctx.pick_workday(date(2026, 9, 23), 0.25, avoid=designed.get("E0003", ()))
    if day:
        tx = book.add("周杰-总经办", _at(day, 20, 15, 37), None, 46800, kind="扫二维码付款", counterparty="湘味轩",
                      goods="收款方备注:二维码收款", purpose="业务招待")
        ctx.plant("PAY-02", tx.tid)
    day = _pure_weekend(ctx, date(2026, 10, 11))
    if day:
        ctx.plant("PAY-02", book.add("黄磊-市场", _at(day, 15, 22, 10), "didi", 5800).tid)
    day = _weekday_holiday(ctx, date(2026, 10, 5))
    if day:
        ctx.plant("PAY-02", book.add("行政采购-孙丽", _at(day, 10, 0, 0), "jd", 32600).tid)
    day = _makeup_workday(ctx, date(2026, 9, 20))
    if day:
        tx = book.add("吴静-财务", _at(day, 10, 0, 0), "sf", 2300)
        ctx.near_miss("PAY-02", f"{tx.tid}: 10:00 on {day} (weekend make-up working day)")
    day = ctx.pick_workday(date(2026, 10, 15), 0.9, avoid=designed.get("E0007", ()))
    if day:
        tx = book.add("李娜-行政", _at(day, 18, 0, 0), "sf", 3800)
        ctx.near_miss("PAY-02", f"{tx.tid}: exactly 18:00:00 on a working day")
    day = ctx.pick_workday(date(2026, 10, 14), 0.85, avoid=designed.get("E0010", ()))
    if day:
        tx = book.add("王芳-市场", _at(day, 9, 0, 0), "coffee", 3200)
        ctx.near_miss("PAY-02", f"{tx.tid}: exactly 09:00:00 on a working day")
    day = ctx.pick_workday(date(2026, 9, 29), 0.45, avoid=designed.get("E0004", ()))
    if day:
        tx = book.add("张伟-财务", _at(day, 19, 40, 12), "jd", 12000, status="支付失败", origin="special")
        ctx.near_miss("PAY-02", f"{tx.tid}: 19:40 but 支付失败 (not spending)")


def _plant_payers(book: _Book) -> None:
    ctx, plan = book.ctx, book.ctx.shared["pay_plan"]
    for preferred, frac, hms, key, cents in [
        (date(2026, 9, 21), 0.1, (11, 32, 8), "didi", 3500),
        (date(2026, 10, 12), 0.83, (14, 8, 51), "jd", 26800),
    ]:
        day = ctx.pick_workday(preferred, frac)
        if day:
            ctx.plant("PAY-03", book.add("阿强", _at(day, *hms), key, cents).tid)  # unregistered
    nick, revoked_on, day = plan["revoked_mid_period"]
    if day:
        ctx.plant("PAY-03", book.add(nick, _at(day, 15, 40, 22), "jd", 19900).tid)
        ctx.near_miss("PAY-03", f"{nick}: ordinary spending up to the day before revoked_on {revoked_on}")
    nick, approved_on, day = plan["approved_mid_period"]
    if day:
        ctx.plant("PAY-03", book.add(nick, _at(day, 10, 47, 35), "sf", 2300).tid)
        ctx.near_miss("PAY-03", f"{nick}: ordinary spending from approved_on {approved_on} on")


def _specials_and_income(book: _Book, designed: dict[str, set[date]]) -> None:
    ctx, rng = book.ctx, book.rng
    day = ctx.pick_workday(date(2026, 9, 24), 0.3, avoid=designed.get("E0012", ()))
    if day:
        tx = book.add("黄磊-市场", _at(day, 10, 5, 33), "jd", 15900, status=f"已退款({FULLWIDTH_YEN}20.00)", origin="special")
        book.add("黄磊-市场", _at(day, 14, 12, 9), None, 2000, kind="京东-退款", counterparty="京东商城平台商户",
                 goods=tx.goods, direction="收入", status=f"已退款{FULLWIDTH_YEN}20.00", origin="income")
        ctx.near_miss("PAY-04", f"bill:{tx.tid}: partial refund 已退款(￥20.00), ledger books the bill amount")

    period = ctx.period()
    for acct in book.accounts:
        if acct["approved_on"] and acct["revoked_on"] and acct["revoked_on"] < ctx.start:
            continue  # long-revoked account: no bills at all
        names = [r["name"] for r in ctx.roster if r["employee_id"] != acct["employee_id"]]
        for _ in range(rng.randint(1, 2)):
            day = rng.choice(period)
            s = rng.randrange(8 * 3600, 23 * 3600)
            ts = _at(day, s // 3600, s // 60 % 60, s % 60)
            if rng.random() < 0.6:
                book.add(acct["nickname"], ts, None, rng.choice([666, 888, 1680, 5200, 6600, 8800]),
                         kind="微信红包", counterparty=rng.choice(names), goods="/", direction="收入",
                         status="已存入零钱", method="/", origin="income")
            else:
                book.add(acct["nickname"], ts, None, rng.randint(300, 1500) * 100, kind="转账",
                         counterparty="陈静", goods="转账备注:费用报销", direction="收入",
                         status="已收钱", method="/", origin="income")


def _pick_ordinary(book: _Book, eid: str, preferred: date, frac: float,
                   ok: Callable[[Tx], bool] = lambda tx: True) -> Tx | None:
    ctx = book.ctx
    pool = [t for t in book.txs if t.origin == "ordinary" and t.ledger == "normal" and t.spending and ok(t)]
    day = ctx.pick_workday(preferred, frac)
    for t in sorted(pool, key=lambda t: (t.ts, t.tid)):
        if t.employee_id == eid and t.ts.date() == day:
            return t
    return book.rng.choice(pool) if pool else None


def _ledger(book: _Book) -> list[dict[str, Any]]:
    from . import is_workday

    ctx, rng = book.ctx, book.rng
    # PAY-04 plants on ordinary transactions
    marks = [
        ("none", "E0012", date(2026, 10, 14), 0.87),
        ("dup", "E0009", date(2026, 9, 30), 0.45),
        ("mismatch", "E0006", date(2026, 10, 12), 0.8),
    ]
    for mark, eid, preferred, frac in marks:
        tx = _pick_ordinary(book, eid, preferred, frac)
        if tx:
            tx.ledger = mark
            ctx.plant("PAY-04", f"bill:{tx.tid}")
    tx = _pick_ordinary(book, "E0013", date(2026, 10, 9), 0.6, ok=lambda t: t.ts.date() + timedelta(days=3) <= ctx.end)
    if tx:
        tx.ledger = "lag3"
        ctx.near_miss("PAY-04", f"bill:{tx.tid}: ledger entry booked 3 days later (matches)")

    entries: list[dict[str, Any]] = []
    unique: dict[str, Tx] = {}
    for t in book.txs:
        unique.setdefault(t.tid, t)
    for t in sorted(unique.values(), key=lambda t: (t.ts, t.tid)):
        if not t.spending or t.ledger == "none":
            continue
        day = t.ts.date()
        if t.ledger == "lag3":
            lag = 3
        else:
            lags = [n for n in range(4) if day + timedelta(days=n) <= ctx.end and is_workday(day + timedelta(days=n))]
            lag = rng.choices(lags, [4, 3, 2, 1][: len(lags)])[0] if lags else 0
        if lag == 0:
            paid = t.ts + timedelta(minutes=rng.randint(10, 90))
        else:
            s = rng.randrange(9 * 3600 + 1800, 17 * 3600 + 1800)
            paid = _at(day + timedelta(days=lag), s // 3600, s // 60 % 60, s % 60)
        cents = t.cents
        if t.ledger == "mismatch":
            y, c = divmod(cents, 100)
            swapped = int(str(y)[:-2] + str(y)[-1] + str(y)[-2]) if y >= 10 else y
            cents = (swapped if swapped != y else y + 10) * 100 + c
        entry = dict(employee_id=t.employee_id, paid_at=paid, cents=cents, tid=t.tid,
                     counterparty=t.counterparty, purpose=t.purpose, plant=None)
        entries.append(entry)
        if t.ledger == "dup":  # booked again on the next working day
            later = next((paid + timedelta(days=n) for n in range(1, 8)
                          if (paid + timedelta(days=n)).date() <= ctx.end and is_workday((paid + timedelta(days=n)).date())),
                         paid + timedelta(hours=1))
            entries.append({**entry, "paid_at": later})

    day = ctx.pick_workday(date(2026, 10, 15), 0.9)
    if day:  # no such transaction in any bill
        entries.append(dict(employee_id="E0012", paid_at=_at(day, 11, 20, 0), cents=45600,
                            tid=book.ids.tx("商户消费", _at(day, 11, 20, 0)), counterparty="京东商城平台商户",
                            purpose="办公用品", plant="PAY-04"))
    day = ctx.pick_workday(date(2026, 9, 28), 0.4)
    if day:  # booked without a transaction id
        entries.append(dict(employee_id="E0004", paid_at=_at(day, 16, 5, 0), cents=8500, tid="",
                            counterparty="顺丰速运", purpose="快递费(现金垫付)", plant="PAY-04"))

    entries.sort(key=lambda e: (e["paid_at"], e["tid"], e["cents"]))
    seq: dict[str, int] = {}
    for e in entries:
        month = f"{e['paid_at']:%Y%m}"
        seq[month] = seq.get(month, 0) + 1
        e["entry_id"] = f"JZ{month}-{seq[month]:04d}"
        if e["plant"]:
            ctx.plant(e["plant"], f"ledger:{e['entry_id']}")
    return entries


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------

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
        f"收入：{len(income)}笔 {_yuan(sum(t.cents for t in income))}元",
        f"支出：{len(spent)}笔 {_yuan(sum(t.cents for t in spent))}元",
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
        fields += [YEN + _yuan(t.cents), _csv_field(t.method, quoted), _csv_field(t.status, quoted)]
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


def _write_bills(book: _Book) -> None:
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
            exported = _at(e + timedelta(days=1), rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
            rel = f"wechat_pay/wxpay_{acct['slug']}_{s:%Y%m%d}-{e:%Y%m%d}.csv"
            ctx.write_bytes(rel, _bill_csv(nick, s, e, exported, rows, style), len(rows))
        if nick == XLSX_ACCOUNT:
            exported = _at(ctx.end + timedelta(days=1), 9, 30, 12)
            rel = f"wechat_pay/wxpay_{acct['slug']}_{ctx.start:%Y%m%d}-{ctx.end:%Y%m%d}.xlsx"
            ctx.write_bytes(rel, _bill_xlsx(nick, ctx.start, ctx.end, exported, mine), len(mine))


def _write_ledger(ctx: DemoContext, entries: list[dict[str, Any]]) -> None:
    months: dict[str, list[list[str]]] = {}
    for e in entries:
        months.setdefault(f"{e['paid_at']:%Y-%m}", []).append([
            e["entry_id"], e["employee_id"], f"{e['paid_at']:%Y-%m-%d %H:%M:%S}", _yuan(e["cents"]),
            e["tid"], e["counterparty"], e["purpose"],
        ])
    for month, rows in sorted(months.items()):
        ctx.write_csv(f"ledger/ledger_{month}.csv", LEDGER_HEADER, rows)


def generate(ctx: DemoContext) -> None:
    book = _Book(ctx)
    plan = ctx.shared["pay_plan"]
    designed: dict[str, set[date]] = {}
    for key in ("limit_two_accounts", "limit_approved", "limit_exact", "limit_over_approval"):
        eid, day = plan[key]
        if day:
            designed.setdefault(eid, set()).add(day)
    _ordinary(book, designed)
    _plant_limits(book)
    _plant_hours(book, designed)
    _plant_payers(book)
    _specials_and_income(book, designed)
    entries = _ledger(book)
    _write_bills(book)
    _write_ledger(ctx, entries)
    ctx.shared["pay_transactions"] = book.txs
    ctx.shared["ledger_entries"] = entries
