"""Time the PAY rules and the WeChat Pay bill parser on generated data (not a test).

    .venv/bin/python benchmarks/bench_payments.py --transactions 1000000

Prints seconds per clause for one judged day holding N transactions, and the parser's rows/s on a
generated app-export CSV of --parse-rows rows.
"""

import argparse
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from wxpipeline.checks.registry import CLAUSES, load_all
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.formats.wechat_pay import parse_wechat_pay_bill
from wxpipeline.policy import load_policy
from wxpipeline.resources.calendar import PrcCalendar

DAY = date(2026, 9, 22)


def generate(n: int, accounts: int, seed: int = 1) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 22, tzinfo=ZoneInfo("Asia/Shanghai"))
    secs = rng.integers(0, 86400, n)
    bills = pl.DataFrame({
        "transaction_id": [f"42000{i:023d}" for i in range(n)],
        "traded_at": pl.Series([start + timedelta(seconds=int(s)) for s in secs]).cast(SCHEMAS["pay_bills"]["traded_at"]),
        "amount": pl.Series(rng.integers(100, 200000, n) / 100).cast(pl.Decimal(18, 2)),
        "account_nickname": [f"acct{i % accounts}" for i in range(n)],
        "direction": "支出",
        "status": "支付成功",
    })
    bills = pl.DataFrame(schema=SCHEMAS["pay_bills"]).vstack(
        bills.select([pl.col(c) if c in bills.columns else pl.lit(None, dtype=t).alias(c)
                      for c, t in SCHEMAS["pay_bills"].items()])
    )
    pay_accounts = pl.DataFrame({
        "account_nickname": [f"acct{i}" for i in range(accounts - 5)],
        "employee_id": [f"E{i // 2:05d}" for i in range(accounts - 5)],
        "approved_on": date(2026, 1, 1), "revoked_on": None,
    }, schema_overrides={"revoked_on": pl.Date})
    ledger = bills.sample(fraction=0.98, seed=seed).select(
        pl.col("transaction_id").alias("entry_id"), pl.lit("E00001").alias("employee_id"),
        pl.col("traded_at").alias("paid_at"), "amount", "transaction_id",
        pl.lit("京东").alias("counterparty"), pl.lit("办公").alias("purpose"),
    )
    approvals = pl.DataFrame(schema=SCHEMAS["pay_approvals"])
    return {"bills": bills, "ledger": ledger, "pay_accounts": pay_accounts, "pay_approvals": approvals,
            "calendar": PrcCalendar().frame(DAY, DAY)}


def write_bill_csv(path: Path, rows: int) -> None:
    head = (Path(__file__).resolve().parents[1] / "tests/assets/exports_fixture.py")  # reuse the preamble
    ns: dict = {}
    exec(head.read_text("utf-8"), ns)
    body = "".join(
        f"2026-09-22 {9 + i % 9:02d}:{i % 60:02d}:00,商户消费,京东,\"办公用品\",支出,¥{(i % 900) + 1}.50,零钱,支付成功,T{i:012d}\t,M{i}\t,/\n"
        for i in range(rows)
    )
    path.write_text(ns["PREAMBLE"].format(nick="bench", n=rows) + body, "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=2_000)
    ap.add_argument("--parse-rows", type=int, default=300_000)
    args = ap.parse_args()
    load_all()
    pv = load_policy().for_day(DAY)
    frames = generate(args.transactions, args.accounts)
    print(f"{args.transactions:,} transactions, {args.accounts:,} accounts, one day")
    for cid in ("PAY-01", "PAY-02", "PAY-03", "PAY-04"):
        t0 = time.perf_counter()
        out = CLAUSES[cid].run(frames, pv.params(cid), DAY)
        print(f"  {cid}: {time.perf_counter() - t0:6.2f} s, {out.height:,} findings")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "bill.csv"
        write_bill_csv(p, args.parse_rows)
        t0 = time.perf_counter()
        res = parse_wechat_pay_bill(p)
        dt = time.perf_counter() - t0
        print(f"  parse {args.parse_rows:,}-row app-export CSV: {dt:.2f} s ({res.frame.height / dt:,.0f} rows/s)")


if __name__ == "__main__":
    main()
