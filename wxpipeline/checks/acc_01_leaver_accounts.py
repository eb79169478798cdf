"""ACC-01: a WeCom account used after its employee left (公司企业微信管理制度 第八条).

Frames: `messages` (the judged day's archive records), `roster`, and `leaver_history`: earlier
records (sender, sent_at, msgid) of today's departed senders, sent after their leave date and
before the judged day; the asset looks back only as far as it must (see `assets/chat.py`), and
any one such record is enough.

A departed account is a `wecom_userid` none of whose roster rows is active on the day and one of
whose rows has a `leave_date` before it (a re-hired employee's account is not departed). Every
archive record the account sent counts (send and recall), but `switch` (a log-in switch) is not a
message. One finding per account: it lands on the day of the first post-departure message (the
day the breach becomes certain); later days with such messages find an earlier one in
`leaver_history` and report nothing, so re-running any day gives the same single finding. If a
later export reveals an earlier message, re-running that earlier day moves the finding there.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from wxpipeline.checks.chat_01_03_05_content import active_on
from wxpipeline.times import TS, day_bounds, fmt_ts
from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.registry import clause

HISTORY_SCHEMA = {"sender": pl.String, "sent_at": TS, "msgid": pl.String}
NOT_A_MESSAGE = ["switch"]


def departed_accounts(roster: pl.DataFrame, day: date) -> pl.DataFrame:
    """(userid, employee_id, name, leave_date): accounts whose employee had left before `day`."""
    rows = roster.filter(pl.col("wecom_userid").is_not_null()).with_columns(active_on(day).alias("_active"))
    return (
        rows.sort("leave_date", descending=True, nulls_last=True)
        .group_by("wecom_userid", maintain_order=True)
        .agg(pl.col("_active").any(), pl.col("employee_id").first(), pl.col("name").first(),
             pl.col("leave_date").first(), pl.col("leave_date").is_null().any().alias("_open"))
        .filter(~pl.col("_active") & ~pl.col("_open") & (pl.col("leave_date") < day))
        .select(pl.col("wecom_userid").alias("userid"), "employee_id", "name", "leave_date")
    )


def sent_records(messages: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    return messages.filter(~pl.col("action").is_in(NOT_A_MESSAGE) & pl.col("sender").is_not_null())


@clause(
    "ACC-01",
    domain="chat",
    title="离职后账号仍在使用",
    text="员工在花名册登记的离职日之后，其企业微信账号不得再发送消息。每个账号一条发现，计入离职后首次发消息的那一天。",
    source="公司企业微信管理制度 第八条; 公司微信内部管理制度 第八条",
    subject="{userid}",
)
def acc_01_used_after_departure(messages: pl.DataFrame, leaver_history: pl.DataFrame, roster: pl.DataFrame,
                                params, day: date) -> pl.DataFrame:
    lo, hi = day_bounds(day)
    gone = departed_accounts(roster, day)
    # lazily: only the departed accounts' records of the day are ever materialised; the accounts
    # first (a test on the sender column of the kept rows, ~1M on the 10M bench day, before the
    # other tests and the join: the join keeps exactly those rows)
    today = sent_records(messages.lazy().filter(pl.col("sender").is_in(gone["userid"].implode()))).filter(
        pl.col("sent_at").is_between(lo, hi, closed="left"))
    rows = today.join(gone.lazy(), left_on="sender", right_on="userid", how="inner")
    # what is read in (sent_at, msgid) order below (each account's first record, its first 10
    # groups and its message types, by first appearance) is read from the rows that can come first
    # for their account and group or account and message type (those at the group's earliest
    # time) only: sorting all of them on the tie-broken key cost ~0.15 CPU s of the 10M bench day
    # (258k records of three departed accounts); counts come from every row
    earliest = [pl.col("sent_at") == pl.col("sent_at").min().over("sender", by) for by in ("roomid", "msgtype")]
    counts = rows.group_by("sender").agg(pl.len().alias("records_today"),
                                         pl.col("roomid").is_null().sum().alias("one_to_one"))
    used = (
        rows.filter(earliest[0] | earliest[1])
        .sort("sent_at", "msgid")
        .group_by("sender", maintain_order=True)
        .agg(
            pl.col("employee_id", "name", "leave_date").first(),
            pl.col("sent_at").first().alias("first_at"), pl.col("msgid").first().alias("first_msgid"),
            pl.col("roomid").drop_nulls().unique(maintain_order=True).head(10).alias("groups"),
            pl.col("msgtype").unique(maintain_order=True).alias("msgtypes"),
        )
        .join(counts, on="sender", how="left", maintain_order="left")
        .select("sender", "employee_id", "name", "leave_date", "first_at", "first_msgid", "records_today", "groups",
                "one_to_one", "msgtypes")
        .collect()
    )
    earlier = (
        leaver_history.join(gone, left_on="sender", right_on="userid", how="inner")
        .filter((pl.col("sent_at").dt.date() > pl.col("leave_date")) & (pl.col("sent_at") < lo))
        .select("sender").unique()
    )
    first = used.join(earlier, on="sender", how="anti").sort("first_at")
    return first.select(
        pl.col("sender").alias("subject_id"), pl.lit(day).alias("partition_date"), "employee_id",
        pl.lit(None, dtype=pl.String).alias("group_id"),
        pl.format("{}（{}）已于 {} 离职，其企业微信账号 {} 于 {} 仍在发送消息（当日 {} 条）", "name", "employee_id",
                  pl.col("leave_date").cast(pl.String), "sender", fmt_ts("first_at"), "records_today").alias("summary"),
        evidence_json(
            userid=pl.col("sender"), leave_date=pl.col("leave_date").cast(pl.String), first_message_at=fmt_ts("first_at"),
            first_msgid=pl.col("first_msgid"), days_after_leave=(pl.lit(day) - pl.col("leave_date")).dt.total_days(),
            records_today=pl.col("records_today"), groups=pl.col("groups"), one_to_one=pl.col("one_to_one"),
            msgtypes=pl.col("msgtypes"),
        ),
    )
