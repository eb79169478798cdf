"""WeCom ingestion: archive messages, group snapshots, group events, and the membership timeline.

The staged tables are what the group (GRP) and message (CHAT, ACC) clauses read; the timeline
turns snapshots and events into stays of members in groups, as of each day.
"""

import inspect
from datetime import timedelta

import dagster as dg
import polars as pl

from wxpipeline.partitions import DAILY, ONE_RUN_PER_DAY, partition_day
from wxpipeline.factories import OWNERS
from wxpipeline.factories.staged import column_schema, build_staged_asset
from wxpipeline.resources.staged_io import staged_store
from wxpipeline.derive import membership
from wxpipeline.lineage import Upstream, asset_dep
from wxpipeline.resources.policy import PolicyResource

wecom_messages = build_staged_asset(
    "wecom_messages", "wecom_archive", "wecom",
    "企业微信会话内容存档 from wecom_archive/*.jsonl (decrypted messages), one row per message whose msgtime "
    "falls on the partition day, deduplicated on msgid. Columns: msgid, action (send|recall|switch), sender, "
    "recipients, roomid (null = one-to-one), sent_at, msgtype, text (every human-readable text the message "
    "carries: text, link title/description, markdown, news, mixed and chatrecord parts, file names...), urls, "
    "revoked_msgid. Unreadable lines go to the quarantine table. recipients is text, not a list: the tolist "
    'ids (trimmed) as one compact JSON array, e.g. ["zhangsan","lisi"], [] for none. Recipient lists repeat '
    "(a generated day of a million messages holds 684 distinct ones), so the text is dictionary-encoded, each "
    "distinct text stored once per row group (unless the distinct texts outgrow the writer's dictionary page); a list "
    "column stored every id of every message (~15 a message in the demo's mix) and made most of the cost of "
    'writing this table. No rule reads it. To get the lists: pl.col("recipients").str.json_decode(pl.List(pl.String)).',
)
wecom_groups = build_staged_asset(
    "wecom_groups", "wecom_groups", "wecom",
    "群快照 from wecom_groups/*.json (groupchat/get objects, either API), one row per group per snapshot taken "
    "on the partition day: snapshot_time, group_id, group_name, owner, create_time, notice, member_count, "
    "admins, source_format.",
)
wecom_group_members = build_staged_asset(
    "wecom_group_members", "wecom_group_members", "wecom",
    "群成员快照 from wecom_groups/*.json, one row per (snapshot, group, member) for snapshots taken on the "
    "partition day: userid, member_type (1 internal, 2 external), join_time, join_scene, join_method, invitor, "
    "group_nickname, member_name.",
)
wecom_group_events = build_staged_asset(
    "wecom_group_events", "wecom_group_events", "wecom",
    "客户群变更事件 change_external_chat from wecom_group_events/*.jsonl|*.xml, one row per event on the "
    "partition day, deduplicated on (ChatId, CreateTime, ChangeType, UpdateDetail): event_time, group_id, "
    "change_type, update_detail, join/quit scene and method, members.",
)


@dg.asset(
    name="wecom_membership_timeline",
    group_name="wecom",
    partitions_def=DAILY,
    backfill_policy=ONE_RUN_PER_DAY,  # like the staged assets: one run per day
    # the snapshots and events `windows.membership_days` either side of the day (lineage.py)
    deps=[asset_dep(a, "wecom_membership_timeline") for a in (wecom_groups, wecom_group_members, wecom_group_events)],
    io_manager_key="staged_io",
    kinds={"polars", "parquet"},
    owners=OWNERS,
    code_version=f"derive-v{membership.VERSION}",
    metadata={"dagster/column_schema": column_schema(dict(membership.SCHEMA))},
    description="群成员时间线: " + inspect.cleandoc(membership.membership_timeline.__doc__ or ""),
)
def wecom_membership_timeline(context: dg.AssetExecutionContext, policy: PolicyResource) -> dg.Output:
    """Stays of members in groups overlapping the partition day, from the staged snapshots and
    events around it (see `wxpipeline.derive.membership`); the group clauses read this table."""
    day = partition_day(context)
    df = derive_timeline(Upstream("wecom_membership_timeline", day, staged_store()), day,
                         policy.for_day(day).windows.membership_days)
    return dg.Output(df, metadata={
        "dagster/row_count": dg.MetadataValue.int(df.height),
        "groups": dg.MetadataValue.int(df["group_id"].n_unique()),
        "joined_today": dg.MetadataValue.int(df.filter(pl.col("joined_at").dt.date() == day).height),
        "left_today": dg.MetadataValue.int(df.filter(pl.col("left_at").dt.date() == day).height),
        "stays_without_snapshot": dg.MetadataValue.int(df.filter(pl.col("first_seen_at").is_null()).height),
    })


def derive_timeline(up: Upstream, day, membership_days: int, groups: list[str] | None = None) -> pl.DataFrame:
    """The membership timeline of `day` (for `groups` only, if given) from the staged partitions
    `up` declared."""
    lookback = timedelta(days=membership_days)
    lo, hi = membership.window(day, lookback)
    ours = pl.col("group_id").is_in(groups) if groups is not None else pl.lit(True)
    return membership.membership_timeline(
        up.window("wecom_group_members", lo, hi).filter(ours),
        up.window("wecom_groups", lo, hi).filter(ours),
        up.window("wecom_group_events", lo, hi).filter(ours),
        day,
        lookback,
    )


wecom_assets = [wecom_messages, wecom_groups, wecom_group_members, wecom_group_events, wecom_membership_timeline]
wecom_checks: list = []  # the tables' contracts are checks of the tables themselves (factories/staged.py)
