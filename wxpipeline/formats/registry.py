"""Which files in the exports folder hold which records, read by which parser.

Every export kind names its globs (relative to WXPIPELINE_EXPORTS_DIR), its parser, its natural
key (a record seen again in a re-sent or overlapping file counts once) and, for partitioned
kinds, the timestamp column whose Asia/Shanghai day is the record's partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from wxpipeline.formats.common import ParseResult


@dataclass(frozen=True)
class ExportKind:
    name: str
    globs: tuple[str, ...]
    parser_path: str  # "module:function", imported on first use
    natural_key: tuple[str, ...]
    time_column: str | None  # None = reference data, not partitioned
    version: str = "1"  # bump when the parser's output changes, to invalidate the parse cache
    # optional "module:function(path, rejects, meta) -> Iterator[DataFrame]": the parser block by
    # block, so the parse cache is written without holding a whole file's records in memory
    stream_path: str | None = None
    # optional "module:function(paths)": the exports read announces the kind's files to its parser,
    # which parses those not in the parse cache together (many small files: one pass, not one each)
    expect_path: str | None = None

    @property
    def parser(self) -> Callable[[Path], ParseResult]:
        mod, fn = self.parser_path.split(":")
        return getattr(import_module(mod), fn)

    @property
    def stream_parser(self) -> Callable[[Path, list, dict], Iterator[pl.DataFrame]] | None:
        if self.stream_path is None:
            return None
        mod, fn = self.stream_path.split(":")
        return getattr(import_module(mod), fn)

    def expect(self, paths: list[Path]) -> None:
        """Announce the files of this kind the exports read is about to parse (an announcement
        replaces the previous one; kinds sharing a parser share its announcement)."""
        if self.expect_path is not None:
            mod, fn = self.expect_path.split(":")
            getattr(import_module(mod), fn)(paths)


EXPORT_KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    EXPORT_KINDS[kind.name] = kind
    return kind


_F = "wxpipeline.formats"
register(ExportKind("wechat_pay", ("wechat_pay/*.csv", "wechat_pay/*.xlsx"), f"{_F}.wechat_pay:parse_wechat_pay_bill",
                    ("transaction_id",), "traded_at"))
register(ExportKind("ledger", ("ledger/*.csv",), f"{_F}.ledger:parse_ledger", ("entry_id",), "paid_at"))
register(ExportKind("roster", ("reference/roster.csv",), f"{_F}.reference:parse_roster", ("employee_id",), None))
register(ExportKind("group_registry", ("reference/group_registry.csv",), f"{_F}.reference:parse_group_registry",
                    ("group_id",), None))
register(ExportKind("pay_accounts", ("reference/pay_accounts.csv",), f"{_F}.reference:parse_pay_accounts",
                    ("account_nickname",), None))
register(ExportKind("pay_approvals", ("reference/pay_approvals.csv",), f"{_F}.reference:parse_pay_approvals",
                    ("approval_id",), None))
# a publication (article_id) holds up to 8 articles, told apart by their position idx
register(ExportKind("mp_published", ("mp_published/*.json",), f"{_F}.mp_publish:parse_mp_published",
                    ("article_id", "idx"), "published_at"))
register(ExportKind("mp_reviews", ("mp_reviews/*.csv",), f"{_F}.mp_reviews:parse_mp_reviews",
                    ("article_id", "stage"), "signed_at"))
# WeCom: archive messages; group snapshots give two tables (groups, members) from one file;
# group events come as JSON lines or as the raw XML callbacks.
# wecom_archive v3: `recipients` is one JSON array text a message (was List[String]): every cache
# entry of v2 is parsed again, never read beside v3 ones
register(ExportKind("wecom_archive", ("wecom_archive/*.jsonl",), f"{_F}.wecom_archive:parse_wecom_archive",
                    ("msgid",), "sent_at", version="3", stream_path=f"{_F}.wecom_archive:iter_wecom_archive"))
register(ExportKind("wecom_groups", ("wecom_groups/*.json",), f"{_F}.wecom_groups:parse_wecom_groups",
                    ("snapshot_time", "group_id"), "snapshot_time", expect_path=f"{_F}.wecom_groups:expect"))
register(ExportKind("wecom_group_members", ("wecom_groups/*.json",), f"{_F}.wecom_groups:parse_wecom_group_members",
                    ("snapshot_time", "group_id", "userid"), "snapshot_time", expect_path=f"{_F}.wecom_groups:expect"))
register(ExportKind("wecom_group_events", ("wecom_group_events/*.jsonl", "wecom_group_events/*.xml"),
                    f"{_F}.wecom_events:parse_wecom_group_events",
                    ("group_id", "event_time", "change_type", "update_detail"), "event_time"))
