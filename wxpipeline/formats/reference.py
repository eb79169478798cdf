"""Reference CSVs under `reference/`: roster, group registry, pay accounts, pay approvals.

All columns named in the design are required in the header; rows with a missing key, an
unparseable date/boolean/amount become Rejects.
"""

from __future__ import annotations

from pathlib import Path

from .common import ParseResult
from .csvtools import Field, parse_bool, parse_date, parse_money, read_table


def _date(name: str, *, required: bool = True) -> Field:
    return Field(name, parse_date, required=required, what="date (YYYY-MM-DD)")


def _flag(name: str) -> Field:
    return Field(name, parse_bool, required=True, what="boolean (true/false/1/0/是/否/yes/no)")


ROSTER_FIELDS = (
    Field("employee_id", required=True),
    Field("name"),
    Field("department"),
    Field("position"),
    Field("phone"),
    _date("hire_date"),
    _date("leave_date", required=False),
    Field("wecom_userid"),
    _flag("is_leader"),
)

GROUP_REGISTRY_FIELDS = (
    Field("group_id", required=True),
    Field("group_name"),
    Field("group_type", required=True),
    Field("owner_employee_id"),
    _date("registered_on"),
    _date("work_item_end", required=False),
    _flag("allows_external"),
)

PAY_ACCOUNTS_FIELDS = (
    # the bill's 微信昵称, matched verbatim after stripping
    Field("account_nickname", required=True),
    Field("employee_id", required=True),
    _date("approved_on"),
    _date("revoked_on", required=False),
)

PAY_APPROVALS_FIELDS = (
    Field("approval_id", required=True),
    Field("employee_id", required=True),
    _date("valid_from"),
    _date("valid_to"),
    Field("approved_limit", parse_money, required=True, what="amount"),
    Field("reason"),
    Field("approver_employee_id"),
)


def parse_roster(path: Path | str) -> ParseResult:
    """employee_id, name, department, position, phone: String; hire_date Date;
    leave_date Date|null; wecom_userid String|null; is_leader Boolean; source_file, source_line."""
    return read_table(path, ROSTER_FIELDS, kind="roster")


def parse_group_registry(path: Path | str) -> ParseResult:
    """group_id, group_name, group_type, owner_employee_id: String; registered_on Date;
    work_item_end Date|null; allows_external Boolean; source_file, source_line."""
    return read_table(path, GROUP_REGISTRY_FIELDS, kind="group registry")


def parse_pay_accounts(path: Path | str) -> ParseResult:
    """account_nickname, employee_id: String; approved_on Date; revoked_on Date|null;
    source_file, source_line."""
    return read_table(path, PAY_ACCOUNTS_FIELDS, kind="pay accounts")


def parse_pay_approvals(path: Path | str) -> ParseResult:
    """approval_id, employee_id: String; valid_from, valid_to: Date; approved_limit
    Decimal(18,2); reason, approver_employee_id: String|null; source_file, source_line."""
    return read_table(path, PAY_APPROVALS_FIELDS, kind="pay approvals")
