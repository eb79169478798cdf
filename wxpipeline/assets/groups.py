"""Groups domain: work-group governance GRP-01..GRP-08 over the staged WeCom tables.

What judging day D reads (see `checks/grp_01_04_members.py` and `checks/grp_05_08_groups.py` for the frames):

* the staged partitions of D: `wecom_membership_timeline`, `wecom_groups`, `wecom_group_members`,
  `wecom_group_events`, `wecom_messages` (group ids and times only);
* the staged partitions of the days before D that it declares upstream (wxpipeline/lineage.py):
  the group snapshots and events of the membership look-back (`windows.membership_days`) before D,
  the member rows of each group's last snapshot before D (GRP-01's "already reported" test), the
  earliest sighting of the groups seen on D (GRP-05: snapshots and group messages back to
  `windows.first_seen_days` before D, in widening windows, only for groups not already found: a
  group unseen that long counts as first seen again), and the messages of the notice window
  before each of D's dismissals (GRP-08);
* `roster`, `group_registry`, and the PRC calendar from 60 days before D (a hire older than that
  has long completed 3 working days) to a month after D.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from wxpipeline.factories.findings import JudgeContext, build_findings_asset
from wxpipeline.assets.reference import group_registry, roster
from wxpipeline.assets.wecom import (
    wecom_group_events,
    wecom_group_members,
    wecom_groups,
    wecom_membership_timeline,
    wecom_messages,
)
from wxpipeline.checks.grp_people import SIGHTING_SCHEMA
from wxpipeline.times import day_bounds
from wxpipeline.derive import membership
from wxpipeline.formats.schemas import SCHEMAS

LOOKBACK = membership.LOOKBACK
HIRE_LOOKBACK = timedelta(days=60)  # a hire this old has completed any plausible working-day wait
CALENDAR_AHEAD = timedelta(days=30)
MESSAGE_WINDOWS = (timedelta(days=1), timedelta(days=7), timedelta(days=30), None)  # None: windows.first_seen_days
SNAPSHOT_COLUMNS = ["group_id", "snapshot_time", "group_name", "owner", "source_format"]
MEMBER_COLUMNS = ["group_id", "userid", "snapshot_time", "join_time", "member_type", "group_nickname", "group_name"]
EVENT_COLUMNS = ["group_id", "event_time", "change_type", "update_detail", "members"]
NOTICE_COLUMNS = ["msgid", "action", "sender", "roomid", "sent_at", "text", "revoked_msgid"]


def _today(jc: JudgeContext, asset: str, columns: list[str]) -> pl.DataFrame:
    path = jc.staged.path(asset, jc.partition_key)
    if not path.exists():
        raise FileNotFoundError(f"staged table {asset} {jc.partition_key} not materialized yet: {path}")
    return pl.read_parquet(path, columns=columns)


def snapshot_members(jc: JudgeContext, snapshots: pl.DataFrame, start: datetime) -> pl.DataFrame:
    """The day's member rows plus those of each group's last snapshot before the day."""
    today = _today(jc, "wecom_group_members", MEMBER_COLUMNS)
    last = snapshots.filter(pl.col("snapshot_time") < start).group_by("group_id").agg(pl.col("snapshot_time").max())
    if last.height == 0:
        return today
    lo, hi = last["snapshot_time"].min(), last["snapshot_time"].max() + timedelta(microseconds=1)
    before = (
        jc.upstream.window("wecom_group_members", lo, hi)
        .join(last.lazy(), on=["group_id", "snapshot_time"], how="semi")
        .select(MEMBER_COLUMNS).collect()
    )
    return pl.concat([before, today], how="vertical_relaxed")


def group_sightings(jc: JudgeContext, snapshots_today: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """The groups seen on the day (snapshot or group message) with their earliest sighting."""
    path = jc.staged.path("wecom_messages", jc.partition_key)
    if not path.exists():
        raise FileNotFoundError(f"staged table wecom_messages {jc.partition_key} not materialized yet: {path}")
    # each group's earliest message of the day is the only one that can be its first sighting: one
    # row per group, streamed, instead of every group message of the day (10M at scale) held and sorted
    msgs = (
        pl.scan_parquet(path).select("roomid", "sent_at").filter(pl.col("roomid").is_not_null())
        .group_by("roomid").agg(pl.col("sent_at").min()).collect(engine="streaming")
    )
    seen = pl.concat([
        snapshots_today.select("group_id", pl.col("snapshot_time").alias("at"), "group_name",
                               pl.lit("snapshot").alias("seen_in")),
        msgs.select(pl.col("roomid").alias("group_id"), pl.col("sent_at").alias("at"),
                    pl.lit(None, pl.String).alias("group_name"), pl.lit("chat").alias("seen_in")),
    ])
    if seen.height == 0:
        return pl.DataFrame(schema=SIGHTING_SCHEMA)
    ids = seen["group_id"].unique()
    names = snapshots_today.sort("snapshot_time").group_by("group_id").agg(pl.col("group_name").last())
    # every snapshot of these groups in the declared look-back (the groups table is small)
    first_snap = (
        jc.upstream.window("wecom_groups", None, end).filter(pl.col("group_id").is_in(ids.implode()))
        .group_by("group_id").agg(pl.col("snapshot_time").min().alias("first_snapshot_at")).collect()
    )
    earlier = [first_snap.filter(pl.col("first_snapshot_at") < start)
               .select("group_id", pl.col("first_snapshot_at").alias("at"), pl.lit("snapshot").alias("seen_in"))]
    pending = ids.filter(~ids.is_in(earlier[0]["group_id"].implode()))
    hi = start
    bound = start - timedelta(days=jc.policy.windows.first_seen_days)
    for span in MESSAGE_WINDOWS:  # group messages before the day, nearest days first
        if pending.len() == 0 or hi <= bound:
            break
        lo = bound if span is None else max(bound, start - span)
        found = (
            jc.upstream.window("wecom_messages", lo, hi).filter(pl.col("roomid").is_in(pending.implode()))
            .group_by("roomid").agg(pl.col("sent_at").min().alias("at")).collect()
            .select(pl.col("roomid").alias("group_id"), "at", pl.lit("chat").alias("seen_in"))
        )
        earlier.append(found)
        pending = pending.filter(~pending.is_in(found["group_id"].implode()))
        hi = lo
    first = (
        pl.concat([seen.select("group_id", "at", "seen_in"), *earlier], how="vertical_relaxed")
        .sort("at").unique("group_id", keep="first")
    )
    return (
        first.join(names, on="group_id", how="left").join(first_snap, on="group_id", how="left")
        .select(pl.col("group_id"), "group_name", pl.col("at").alias("first_seen_at"), "seen_in", "first_snapshot_at")
        .match_to_schema(SIGHTING_SCHEMA).sort("group_id")
    )


def notice_messages(jc: JudgeContext, events_today: pl.DataFrame) -> pl.DataFrame:
    """Archive records of the groups dismissed on the day, in the notice window before."""
    dismissals = events_today.filter(pl.col("change_type") == "dismiss")
    if dismissals.height == 0:
        return pl.DataFrame(schema={c: SCHEMAS["wecom_messages"][c] for c in NOTICE_COLUMNS})
    window = timedelta(days=jc.policy.params("GRP-08").notice_window_days)
    lo, hi = dismissals["event_time"].min() - window, dismissals["event_time"].max()
    return (
        jc.upstream.window("wecom_messages", lo, hi)
        .filter(pl.col("roomid").is_in(dismissals["group_id"].unique().implode()))
        .select(NOTICE_COLUMNS).collect(engine="streaming")  # the day's text is not read whole to keep a few groups'
    )


def hire_calendar(jc: JudgeContext) -> pl.DataFrame:
    """The PRC calendar around the day: back as far as a hire date can matter to GRP-03 and a month
    ahead (a join before the hire date waits past the day)."""
    return jc.calendar.frame(jc.day - HIRE_LOOKBACK, jc.day + CALENDAR_AHEAD)


def groups_frames(jc: JudgeContext) -> dict[str, pl.DataFrame]:
    start, end = day_bounds(jc.day)
    lo = start - timedelta(days=jc.policy.windows.membership_days)
    timeline = jc.staged.read("wecom_membership_timeline", jc.partition_key)
    roster_df = jc.staged.read("roster")
    snapshots_today = _today(jc, "wecom_groups", SNAPSHOT_COLUMNS)
    snapshots = pl.concat([jc.upstream.window("wecom_groups", lo, start).select(SNAPSHOT_COLUMNS).collect(),
                           snapshots_today], how="vertical_relaxed")
    events_today = _today(jc, "wecom_group_events", EVENT_COLUMNS)
    events = pl.concat([jc.upstream.window("wecom_group_events", lo, start).select(EVENT_COLUMNS).collect(),
                        events_today], how="vertical_relaxed")
    return {
        "members": timeline,
        "snapshot_members": snapshot_members(jc, snapshots, start),
        "snapshots": snapshots,
        "events": events,
        "sightings": group_sightings(jc, snapshots_today, start, end),
        "notice_messages": notice_messages(jc, events_today),
        "roster": roster_df,
        "group_registry": jc.staged.read("group_registry"),
        "calendar": hire_calendar(jc),
    }


groups_findings = build_findings_asset(
    "groups",
    deps=[wecom_groups, wecom_group_members, wecom_group_events, wecom_messages, wecom_membership_timeline,
          roster, group_registry],
    build_frames=groups_frames,
    uses_calendar=True,
    description=(
        "工作群治理发现 (GRP-01 实名群昵称, GRP-02 离职 48 小时内移出, GRP-03 新员工满 3 个工作日入群, GRP-04 外部人员, "
        "GRP-05 群登记, GRP-06 群主在职, GRP-07 临时群 5 日内解散, GRP-08 解散通知) for the partition day. Each breach "
        "is reported once: nickname, owner and outsider findings on the first day the exports show them, deadline "
        "findings (GRP-02, GRP-07) on the day after the deadline, GRP-03 on the join day, GRP-05 on the day a group "
        "is first seen, GRP-08 on the dismissal day. Written to the `findings` table; one asset check per clause: "
        "WARN when unwaived findings remain."
    ),
)

groups_assets = [groups_findings]
groups_checks: list = []
