"""The one schema source: each staged (and reference) table's columns, keyed by the table's name,
and which export kind (folder, fixed by DESIGN.md) each table is cut from. Parsers return these
schemas; contracts, the IO manager and the UI's column schemas read them here."""

import polars as pl

from wxpipeline.times import TS  # noqa: E402 - the staged timestamp dtype
MONEY = pl.Decimal(18, 2)
SOURCE = {"source_file": pl.String, "source_line": pl.Int64}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "pay_bills": {
        "transaction_id": pl.String, "merchant_order_id": pl.String, "traded_at": TS, "trade_type": pl.String,
        "counterparty": pl.String, "goods": pl.String, "direction": pl.String, "amount": MONEY,
        "payment_method": pl.String, "status": pl.String, "refunded_amount": MONEY, "note": pl.String,
        "account_nickname": pl.String, **SOURCE,
    },
    "ledger_entries": {
        "entry_id": pl.String, "employee_id": pl.String, "paid_at": TS, "amount": MONEY,
        "transaction_id": pl.String, "counterparty": pl.String, "purpose": pl.String, **SOURCE,
    },
    "roster": {
        "employee_id": pl.String, "name": pl.String, "department": pl.String, "position": pl.String,
        "phone": pl.String, "hire_date": pl.Date, "leave_date": pl.Date, "wecom_userid": pl.String,
        "is_leader": pl.Boolean, **SOURCE,
    },
    "group_registry": {
        "group_id": pl.String, "group_name": pl.String, "group_type": pl.String, "owner_employee_id": pl.String,
        "registered_on": pl.Date, "work_item_end": pl.Date, "allows_external": pl.Boolean, **SOURCE,
    },
    "pay_accounts": {
        "account_nickname": pl.String, "employee_id": pl.String, "approved_on": pl.Date, "revoked_on": pl.Date,
        **SOURCE,
    },
    "pay_approvals": {
        "approval_id": pl.String, "employee_id": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
        "approved_limit": MONEY, "reason": pl.String, "approver_employee_id": pl.String, **SOURCE,
    },
    "mp_articles": {
        "article_id": pl.String, "idx": pl.Int64, "title": pl.String, "author": pl.String, "digest": pl.String,
        "content": pl.String, "content_text": pl.String, "content_source_url": pl.String, "url": pl.String,
        "is_deleted": pl.Boolean, "created_at": TS, "published_at": TS, **SOURCE,
    },
    "mp_signoffs": {
        "article_id": pl.String, "stage": pl.String, "signer_employee_id": pl.String, "signed_at": TS,
        "flags": pl.String, "important": pl.Boolean, "expedited": pl.Boolean, "repost": pl.Boolean, **SOURCE,
    },
    # WeCom. `recipients`: the recipient list as one canonical JSON array text (`["a","b"]`, `[]`
    # for none; formats/wecom_recipients.py): lists repeat (684 distinct texts in a generated day of
    # a million messages), so the column is dictionary-encoded
    "wecom_messages": {
        "msgid": pl.String, "action": pl.String, "sender": pl.String, "recipients": pl.String,
        "roomid": pl.String, "sent_at": TS, "msgtype": pl.String, "text": pl.String, "urls": pl.List(pl.String),
        "revoked_msgid": pl.String, **SOURCE,
    },
    "wecom_groups": {
        "snapshot_time": TS, "group_id": pl.String, "group_name": pl.String, "owner": pl.String,
        "create_time": TS, "notice": pl.String, "member_count": pl.Int64, "admins": pl.List(pl.String),
        "source_format": pl.String, **SOURCE,
    },
    "wecom_group_members": {
        "snapshot_time": TS, "group_id": pl.String, "group_name": pl.String, "owner": pl.String,
        "userid": pl.String, "member_type": pl.Int64, "join_time": TS, "join_scene": pl.Int64,
        "join_method": pl.String, "invitor": pl.String, "group_nickname": pl.String, "member_name": pl.String,
        "source_format": pl.String, **SOURCE,
    },
    "wecom_group_events": {
        "event_time": TS, "group_id": pl.String, "change_type": pl.String, "update_detail": pl.String,
        "join_scene": pl.Int64, "join_method": pl.String, "quit_scene": pl.Int64, "quit_method": pl.String,
        "members": pl.List(pl.String), "member_change_count": pl.Int64, "last_mem_ver": pl.String,
        "cur_mem_ver": pl.String, **SOURCE,
    },
}

# table -> the export kind (folder) it is cut from, where the two names differ
_EXPORT_NAMES = {"pay_bills": "wechat_pay", "ledger_entries": "ledger", "mp_articles": "mp_published",
                 "mp_signoffs": "mp_reviews", "wecom_messages": "wecom_archive"}
EXPORT_OF_TABLE: dict[str, str] = {table: _EXPORT_NAMES.get(table, table) for table in SCHEMAS}
TABLE_OF_EXPORT: dict[str, str] = {kind: table for table, kind in EXPORT_OF_TABLE.items()}


def export_schema(kind: str) -> dict[str, pl.DataType]:
    """The columns a parser of export `kind` returns: its table's schema."""
    return SCHEMAS[TABLE_OF_EXPORT[kind]]
