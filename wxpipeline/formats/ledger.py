"""Finance ledger `ledger/*.csv`:
`entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose`.

`paid_at` is Asia/Shanghai wall time; finance tools write it with or without seconds, with a
`T`, or as a bare date (booked without a time), which means 00:00.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .common import ParseResult, strip_id
from .csvtools import Field, parse_local_datetime, parse_money, read_table

LEDGER_FIELDS = (
    Field("entry_id", required=True),
    Field("employee_id"),
    Field(
        "paid_at",
        partial(parse_local_datetime, allow_bare_date=True),
        required=True,
        what="date/time",
    ),
    Field("amount", parse_money, required=True, what="amount"),
    # the id is copied from the bill, tabs included; strip it the same way so that they match
    Field("transaction_id", strip_id, present=strip_id),
    Field("counterparty"),
    Field("purpose"),
)


def parse_ledger(path: Path | str) -> ParseResult:
    """Parse one ledger CSV.

    Columns: entry_id String, employee_id String, paid_at Datetime(us, Asia/Shanghai),
    amount Decimal(18,2), transaction_id String|null, counterparty String|null,
    purpose String|null, source_file String, source_line Int64.
    """
    return read_table(path, LEDGER_FIELDS, kind="ledger")
