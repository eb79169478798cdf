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

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from . import DemoContext

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


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --------------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------------

class PayBook:
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


def at_time(day: date, hh: int, mm: int, ss: int) -> datetime:
    return datetime.combine(day, time(hh, mm, ss))


def _ordinary(book: PayBook, designed: dict[str, set[date]]) -> None:
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
                book.add(acct["nickname"], at_time(day, s // 3600, s // 60 % 60, s % 60), key, cents,
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


def _plant_limits(book: PayBook) -> None:
    ctx, plan = book.ctx, book.ctx.shared["pay_plan"]

    eid, day = plan["limit_two_accounts"]
    if day:
        book.add("张伟-财务", at_time(day, 10, 12, 31), "jd", 268000, goods="京东-订单编号" + book.ids._d(12) + "(激光打印机)", purpose="办公设备")
        book.add("小张", at_time(day, 11, 5, 47), "hotel", 235000, goods="携程-酒店预订(3间3晚)")
        book.add("张伟-财务", at_time(day, 14, 36, 5), "sf", 4600)
        book.add("小张", at_time(day, 16, 20, 13), "didi", 24040, purpose="市内交通(接送客户)")
        ctx.plant("PAY-01", f"{eid}/{day.isoformat()}")  # 5316.40 over two accounts, each < 5000

    eid, day = plan["limit_approved"]
    if day:
        book.add("李娜-行政", at_time(day, 9, 48, 10), "jd", 482000, goods="京东-订单编号" + book.ids._d(12) + "(国庆活动物资)", purpose="活动物资")
        book.add("李娜-行政", at_time(day, 13, 15, 42), "sf", 18000)
        book.add("李娜-行政", at_time(day, 15, 2, 9), None, 100000, kind="扫二维码付款", counterparty="宏达广告制作",
                 goods="收款方备注:二维码收款", purpose="活动横幅制作")
        ctx.near_miss("PAY-01", f"{eid}/{day.isoformat()}: 6000.00 covered by an approval of 8000")

    eid, day = plan["limit_exact"]
    if day:
        book.add("王芳-市场", at_time(day, 10, 20, 0), "jd", 360000, goods="京东-订单编号" + book.ids._d(12) + "(宣传物料)", purpose="宣传物料")
        hotel = book.add("王芳-市场", at_time(day, 11, 20, 5), "hotel", 180000, status="已全额退款", origin="special")
        book.add("王芳-市场", at_time(day, 12, 31, 18), "meituan", 131350, purpose="团队工作餐")
        book.add("王芳-市场", at_time(day, 15, 10, 44), None, 180000, kind="携程旅行网-退款", counterparty="携程旅行网",
                 goods=hotel.goods, direction="收入", status=f"已退款{FULLWIDTH_YEN}1800.00", origin="income")
        book.add("王芳-市场", at_time(day, 16, 45, 2), "didi", 8650)
        ctx.near_miss("PAY-01", f"{eid}/{day.isoformat()}: exactly 5000.00 (plus a 1800.00 已全额退款 row that is not spending)")
        ctx.near_miss("PAY-04", f"bill:{hotel.tid}: 已全额退款, no ledger entry needed")

    eid, day = plan["limit_over_approval"]
    if day:
        book.add("陈刚-销售", at_time(day, 12, 10, 26), None, 238000, kind="扫二维码付款", counterparty="粤海酒家",
                 goods="收款方备注:二维码收款", purpose="业务招待")
        book.add("陈刚-销售", at_time(day, 15, 33, 40), "jd", 462000, goods="京东-订单编号" + book.ids._d(12) + "(客户礼品)", purpose="客户礼品")
        ctx.plant("PAY-01", f"{eid}/{day.isoformat()}")  # 7000.00, approval only 6000


def _plant_hours(book: PayBook, designed: dict[str, set[date]]) -> None:
    ctx = book.ctx
    day = ctx.pick_workday(date(2026, 9, 23), 0.25, avoid=designed.get("E0003", ()))
    if day:
        tx = book.add("周杰-总经办", at_time(day, 20, 15, 37), None, 46800, kind="扫二维码付款", counterparty="湘味轩",
                      goods="收款方备注:二维码收款", purpose="业务招待")
        ctx.plant("PAY-02", tx.tid)
    day = _pure_weekend(ctx, date(2026, 10, 11))
    if day:
        ctx.plant("PAY-02", book.add("黄磊-市场", at_time(day, 15, 22, 10), "didi", 5800).tid)
    day = _weekday_holiday(ctx, date(2026, 10, 5))
    if day:
        ctx.plant("PAY-02", book.add("行政采购-孙丽", at_time(day, 10, 0, 0), "jd", 32600).tid)
    day = _makeup_workday(ctx, date(2026, 9, 20))
    if day:
        tx = book.add("吴静-财务", at_time(day, 10, 0, 0), "sf", 2300)
        ctx.near_miss("PAY-02", f"{tx.tid}: 10:00 on {day} (weekend make-up working day)")
    day = ctx.pick_workday(date(2026, 10, 15), 0.9, avoid=designed.get("E0007", ()))
    if day:
        tx = book.add("李娜-行政", at_time(day, 18, 0, 0), "sf", 3800)
        ctx.near_miss("PAY-02", f"{tx.tid}: exactly 18:00:00 on a working day")
    day = ctx.pick_workday(date(2026, 10, 14), 0.85, avoid=designed.get("E0010", ()))
    if day:
        tx = book.add("王芳-市场", at_time(day, 9, 0, 0), "coffee", 3200)
        ctx.near_miss("PAY-02", f"{tx.tid}: exactly 09:00:00 on a working day")
    day = ctx.pick_workday(date(2026, 9, 29), 0.45, avoid=designed.get("E0004", ()))
    if day:
        tx = book.add("张伟-财务", at_time(day, 19, 40, 12), "jd", 12000, status="支付失败", origin="special")
        ctx.near_miss("PAY-02", f"{tx.tid}: 19:40 but 支付失败 (not spending)")


def _plant_payers(book: PayBook) -> None:
    ctx, plan = book.ctx, book.ctx.shared["pay_plan"]
    for preferred, frac, hms, key, cents in [
        (date(2026, 9, 21), 0.1, (11, 32, 8), "didi", 3500),
        (date(2026, 10, 12), 0.83, (14, 8, 51), "jd", 26800),
    ]:
        day = ctx.pick_workday(preferred, frac)
        if day:
            ctx.plant("PAY-03", book.add("阿强", at_time(day, *hms), key, cents).tid)  # unregistered
    nick, revoked_on, day = plan["revoked_mid_period"]
    if day:
        ctx.plant("PAY-03", book.add(nick, at_time(day, 15, 40, 22), "jd", 19900).tid)
        ctx.near_miss("PAY-03", f"{nick}: ordinary spending up to the day before revoked_on {revoked_on}")
    nick, approved_on, day = plan["approved_mid_period"]
    if day:
        ctx.plant("PAY-03", book.add(nick, at_time(day, 10, 47, 35), "sf", 2300).tid)
        ctx.near_miss("PAY-03", f"{nick}: ordinary spending from approved_on {approved_on} on")


def _specials_and_income(book: PayBook, designed: dict[str, set[date]]) -> None:
    ctx, rng = book.ctx, book.rng
    day = ctx.pick_workday(date(2026, 9, 24), 0.3, avoid=designed.get("E0012", ()))
    if day:
        tx = book.add("黄磊-市场", at_time(day, 10, 5, 33), "jd", 15900, status=f"已退款({FULLWIDTH_YEN}20.00)", origin="special")
        book.add("黄磊-市场", at_time(day, 14, 12, 9), None, 2000, kind="京东-退款", counterparty="京东商城平台商户",
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
            ts = at_time(day, s // 3600, s // 60 % 60, s % 60)
            if rng.random() < 0.6:
                book.add(acct["nickname"], ts, None, rng.choice([666, 888, 1680, 5200, 6600, 8800]),
                         kind="微信红包", counterparty=rng.choice(names), goods="/", direction="收入",
                         status="已存入零钱", method="/", origin="income")
            else:
                book.add(acct["nickname"], ts, None, rng.randint(300, 1500) * 100, kind="转账",
                         counterparty="陈静", goods="转账备注:费用报销", direction="收入",
                         status="已收钱", method="/", origin="income")


def pick_ordinary(book: PayBook, eid: str, preferred: date, frac: float,
                   ok: Callable[[Tx], bool] = lambda tx: True) -> Tx | None:
    ctx = book.ctx
    pool = [t for t in book.txs if t.origin == "ordinary" and t.ledger == "normal" and t.spending and ok(t)]
    day = ctx.pick_workday(preferred, frac)
    for t in sorted(pool, key=lambda t: (t.ts, t.tid)):
        if t.employee_id == eid and t.ts.date() == day:
            return t
    return book.rng.choice(pool) if pool else None


def generate(ctx: DemoContext) -> None:
    book = PayBook(ctx)
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
    from wxpipeline.demo.ledger import ledger_entries

    entries = ledger_entries(book)
    from wxpipeline.demo.payments_files import write_bills, write_ledger

    write_bills(book)
    write_ledger(ctx, entries)
    ctx.shared["pay_transactions"] = book.txs
    ctx.shared["ledger_entries"] = entries
