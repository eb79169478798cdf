"""Parsers for the real export formats (no Dagster imports): each returns a `ParseResult`."""

from .common import ExportFormatError, ParseResult, Reject
from .ledger import parse_ledger
from .reference import (
    parse_group_registry,
    parse_pay_accounts,
    parse_pay_approvals,
    parse_roster,
)
from .wechat_pay import parse_wechat_pay_bill

__all__ = [
    "ExportFormatError",
    "ParseResult",
    "Reject",
    "parse_group_registry",
    "parse_ledger",
    "parse_pay_accounts",
    "parse_pay_approvals",
    "parse_roster",
    "parse_wechat_pay_bill",
]
