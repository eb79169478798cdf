"""The demo's finance ledger entries for the bill transactions, with the planted PAY-04 cases
(no entry, a duplicate, a mismatch) and near-misses (an entry booked days later)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from wxpipeline.demo.payments import Tx, PayBook, at_time, pick_ordinary


def ledger_entries(book: PayBook) -> list[dict[str, Any]]:
    from . import is_workday

    ctx, rng = book.ctx, book.rng
    # PAY-04 plants on ordinary transactions
    marks = [
        ("none", "E0012", date(2026, 10, 14), 0.87),
        ("dup", "E0009", date(2026, 9, 30), 0.45),
        ("mismatch", "E0006", date(2026, 10, 12), 0.8),
    ]
    for mark, eid, preferred, frac in marks:
        tx = pick_ordinary(book, eid, preferred, frac)
        if tx:
            tx.ledger = mark
            ctx.plant("PAY-04", f"bill:{tx.tid}")
    tx = pick_ordinary(book, "E0013", date(2026, 10, 9), 0.6, ok=lambda t: t.ts.date() + timedelta(days=3) <= ctx.end)
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
            paid = at_time(day + timedelta(days=lag), s // 3600, s // 60 % 60, s % 60)
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
        entries.append(dict(employee_id="E0012", paid_at=at_time(day, 11, 20, 0), cents=45600,
                            tid=book.ids.tx("商户消费", at_time(day, 11, 20, 0)), counterparty="京东商城平台商户",
                            purpose="办公用品", plant="PAY-04"))
    day = ctx.pick_workday(date(2026, 9, 28), 0.4)
    if day:  # booked without a transaction id
        entries.append(dict(employee_id="E0004", paid_at=at_time(day, 16, 5, 0), cents=8500, tid="",
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
