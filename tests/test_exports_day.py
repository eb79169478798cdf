"""`ExportsFolder.day_lazy`, the query a staged day is written from: the day's records once per
natural key, the later file's copy winning, in file order; streamed straight through when no key
repeats."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from wxpipeline.resources.exports import ExportsFolder

HEADER = "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
DAY = date(2026, 9, 22)


def _folder(tmp_path: Path, files: dict[str, str]) -> ExportsFolder:
    for name, rows in files.items():
        p = tmp_path / "exports" / "ledger" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(HEADER + rows, "utf-8")
    return ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))


def _day(folder: ExportsFolder) -> pl.DataFrame:
    lazy, _ = folder.day_lazy("ledger", DAY)
    return lazy.collect()


def test_a_later_copy_of_a_record_wins_and_other_days_stay_out(tmp_path):
    folder = _folder(tmp_path, {
        "a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                 "L2,E0001,2026-09-22 10:00:00,20.00,T2,京东,文具\n"
                 "L9,E0001,2026-09-23 10:00:00,90.00,T9,京东,次日\n",
        "b.csv": "L1,E0001,2026-09-22 09:00:00,11.00,T1,京东,更正\n"
                 "L3,E0001,2026-09-22 11:00:00,30.00,T3,京东,文具\n",
    })
    day = _day(folder)
    assert day["entry_id"].to_list() == ["L2", "L1", "L3"]  # file order, the corrected L1 where it was read
    assert day.filter(pl.col("entry_id") == "L1")["purpose"].item() == "更正"
    # the same rows as deduplicating the whole day in memory
    whole = folder.scan("ledger").raw.collect().filter(pl.col("paid_at").dt.date() == DAY)
    assert day.equals(whole.unique("entry_id", keep="last", maintain_order=True))


def test_a_day_without_repeated_keys_is_every_record_of_the_day(tmp_path):
    folder = _folder(tmp_path, {
        "a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                 "L9,E0001,2026-09-21 23:59:59,90.00,T9,京东,前日\n",
        "b.csv": "L2,E0001,2026-09-22 23:59:59,20.00,T2,京东,文具\n",
    })
    day = _day(folder)
    assert day["entry_id"].to_list() == ["L1", "L2"]
    assert day.columns == folder.scan("ledger").raw.collect_schema().names()
