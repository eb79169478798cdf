"""Work-group clauses about groups themselves, GRP-05..GRP-08 (frames: see `grp_01_04_members.py`).

* `sightings`: one row per group seen on D (in a snapshot or a group message): `first_seen_at`
  the earliest sighting the exports hold (snapshot or chat; when it is before D only that matters),
  `seen_in` (snapshot|chat), `first_snapshot_at` (the group's earliest snapshot, null if none).
* `snapshots`: `wecom_groups` rows (group_id, snapshot_time, group_name, owner, source_format) of
  D and the membership look-back (14 days) before it.
* `notice_messages`: archive records (msgid, action, sender, roomid, sent_at, text, revoked_msgid)
  of the groups dismissed on D, in the notice window before each dismissal.

When a finding lands:

* GRP-05 once per group, on the day the exports first show it.
* GRP-06 like GRP-01: on the first day a snapshot shows the group owned by someone who is not an
  active employee that day (a departed owner: the day after the leave date); a group whose
  previous snapshot showed the same owner already inactive is not reported again. One finding
  per episode rather than one a day: the case stays open until someone resolves it.
* GRP-07 on the day that holds the first moment after the deadline (work_item_end + 6); a group
  first snapshotted after its deadline (monitoring began later) on its first snapshot day.
* GRP-08 on the dismissal day. Dismissals are the `dismiss` events (groups of the 会话存档 API
  have no events; their disappearance from snapshots has no reliable time and is not judged).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.grp_people import subject, with_person
from wxpipeline.times import day_bounds, fmt_ts, midnight
from wxpipeline.checks.registry import Params, clause
from wxpipeline.checks.textnorm import fold_width

SOURCE_REGISTER = "工作微信(群)管理办法 四(一)2; 公司微信群管理制度 2.1.1; 公司微信群管理办法 第四条"


# ---- GRP-05 group registered ---------------------------------------------------------------------------


@clause(
    "GRP-05",
    domain="groups",
    title="工作群须登记",
    text="快照或聊天记录中出现的每个群都须在工作群登记表中登记，且登记日期不晚于其首次出现之日。在首次出现当天报告。",
    source=SOURCE_REGISTER,
    subject="{group_id}",
)
def grp_05_registered(sightings: pl.DataFrame, group_registry: pl.DataFrame, params, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    first = sightings.filter(pl.col("first_seen_at").is_between(start, end, closed="left"))
    reg = group_registry.sort("registered_on").unique("group_id", keep="first").select(
        "group_id", "registered_on", "group_type", pl.col("group_name").alias("registered_name"))
    judged = first.join(reg, on="group_id", how="left").with_columns(
        pl.col("registered_on").is_not_null().alias("_listed"))
    found = judged.filter(~pl.col("_listed") | (pl.col("registered_on") > day))
    where = pl.when(pl.col("seen_in") == "chat").then(pl.lit("聊天记录")).otherwise(pl.lit("群快照"))
    return found.select(
        subject("group_id"),
        pl.lit(day).alias("partition_date"),
        "group_id",
        pl.format("群「{}」（{}）于 {} 首次出现在{}中，{}", pl.coalesce("group_name", "registered_name", "group_id"),
                  "group_id", fmt_ts("first_seen_at"), where,
                  pl.when(~pl.col("_listed")).then(pl.lit("未在工作群登记表中"))
                  .otherwise(pl.format("登记日期 {} 晚于首次出现", pl.col("registered_on").cast(pl.String))))
        .alias("summary"),
        evidence_json(
            first_seen_at=fmt_ts("first_seen_at"),
            seen_in=pl.col("seen_in"),
            group_name=pl.col("group_name"),
            registered=pl.col("_listed"),
            registered_on=pl.col("registered_on").cast(pl.String),
        ),
    )


# ---- GRP-06 owner is an active employee ------------------------------------------------------------------


@clause(
    "GRP-06",
    domain="groups",
    title="群主须为在职员工",
    text="群当前的群主须为在职员工（花名册在册且当日在职）。在快照首次显示该群主不在职的当天报告，同一群主持续不在职不重复报告。",
    source="公司微信群管理制度 2.4.1",
    subject="{group_id}",
)
def grp_06_owner(snapshots: pl.DataFrame, roster: pl.DataFrame, params, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    snaps = with_person(
        snapshots.filter((pl.col("snapshot_time") < end) & pl.col("owner").is_not_null()),
        roster, pl.col("snapshot_time").dt.date(), userid="owner")
    bad = snaps.filter(~pl.col("active"))
    today = bad.filter(pl.col("snapshot_time") >= start).sort("snapshot_time").unique("group_id", keep="first")
    last = snaps.filter(pl.col("snapshot_time") < start).group_by("group_id").agg(pl.col("snapshot_time").max())
    known = bad.join(last, on=["group_id", "snapshot_time"], how="semi").select("group_id", "owner")
    new = today.join(known, on=["group_id", "owner"], how="anti").sort("group_id")
    d = pl.lit(day)
    status = (
        pl.when(~pl.col("is_employee")).then(pl.lit("非在册员工"))
        .when(pl.col("hire_date") > d).then(pl.lit("尚未入职"))
        .otherwise(pl.format("已于 {} 离职", pl.col("leave_date").cast(pl.String)))
    )
    return new.select(
        subject("group_id"),
        pl.lit(day).alias("partition_date"),
        "employee_id",
        "group_id",
        pl.format("群「{}」的群主 {}{}{}，不是在职员工", "group_name", pl.coalesce("name", "owner"),
                  pl.when(pl.col("employee_id").is_not_null()).then(pl.format("（{}）", "employee_id"))
                  .otherwise(pl.lit(" ")), status).alias("summary"),
        evidence_json(
            owner=pl.col("owner"),
            status=status,
            hire_date=pl.col("hire_date").cast(pl.String),
            leave_date=pl.col("leave_date").cast(pl.String),
            seen_at=fmt_ts("snapshot_time"),
            source_format=pl.col("source_format"),
        ),
    )


# ---- GRP-07 temporary groups dismissed within 5 days ------------------------------------------------------


class TemporaryDismissal(Params):
    group_types: list[str]  # registry types that must be dismissed after their work item
    dismiss_within_days: int  # calendar days after work_item_end


@clause(
    "GRP-07",
    domain="groups",
    title="临时群 5 日内解散",
    text="工作事项结束日为 D 的临时群须在 D + 5 日结束前解散（以企业微信的解散事件为准；没有事件时以截止后当天的群快照中已无该群为准），"
         "在 D + 6 日报告。",
    source="工作微信(群)管理办法 四(二)1",
    subject="{group_id}",
    params=TemporaryDismissal,
)
def grp_07_temporary(group_registry: pl.DataFrame, snapshots: pl.DataFrame, events: pl.DataFrame,
                     sightings: pl.DataFrame, params: TemporaryDismissal, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    n = params.dismiss_within_days
    reg = group_registry.filter(
        pl.col("group_type").is_in(params.group_types) & pl.col("work_item_end").is_not_null()
    ).select("group_id", "group_name", "group_type", "work_item_end").with_columns(
        (pl.col("work_item_end") + pl.duration(days=n + 1)).alias("due_day"))
    first_today = sightings.filter(pl.col("first_snapshot_at").is_between(start, end, closed="left"))["group_id"]
    cands = reg.filter((pl.col("due_day") == day)
                       | ((pl.col("due_day") < day) & pl.col("group_id").is_in(first_today.implode())))
    if cands.height == 0:
        return pl.DataFrame(schema={"subject_id": pl.String, "partition_date": pl.Date, "group_id": pl.String,
                                    "summary": pl.String, "evidence": pl.String})
    cands = cands.with_columns(midnight("due_day").alias("_due"))
    ids = cands["group_id"].implode()
    snaps = snapshots.filter(pl.col("group_id").is_in(ids) & (pl.col("snapshot_time") < end))
    seen = snaps.sort("snapshot_time").group_by("group_id").agg(
        pl.col("snapshot_time").last().alias("last_seen_at"), pl.col("source_format").last(),
        pl.col("snapshot_time").is_between(start, end, closed="left").any().alias("_seen_today"))
    evs = events.filter(pl.col("group_id").is_in(ids) & (pl.col("event_time") < end))
    dismiss = evs.filter(pl.col("change_type") == "dismiss").select("group_id", "event_time")
    other = evs.group_by("group_id").agg(pl.len().alias("_events"))
    formats_today = snapshots.filter(pl.col("snapshot_time").is_between(start, end, closed="left"))[
        "source_format"].unique().implode()
    j = (
        cands.join(seen, on="group_id", how="left").join(other, on="group_id", how="left")
        .join(dismiss.join(cands.select("group_id", "_due"), on="group_id")
              .group_by("group_id").agg(
                  (pl.col("event_time") < pl.col("_due")).any().alias("_in_time"),
                  pl.col("event_time").filter(pl.col("event_time") >= pl.col("_due")).min().alias("dismissed_at")),
              on="group_id", how="left")
    )
    existed = pl.col("last_seen_at").is_not_null() | pl.col("_events").is_not_null()
    # no dismiss event: gone if the day's snapshots (of the group's API) no longer list it
    absent = (pl.col("source_format").is_in(formats_today) & ~pl.col("_seen_today").fill_null(False)).fill_null(False)
    found = j.filter(existed & ~pl.col("_in_time").fill_null(False)
                     & (pl.col("dismissed_at").is_not_null() | ~absent)).sort("group_id")
    deadline = (pl.col("_due") - pl.duration(seconds=1)).dt.strftime("%Y-%m-%d %H:%M:%S")
    return found.select(
        subject("group_id"),
        pl.lit(day).alias("partition_date"),
        "group_id",
        pl.format("临时群「{}」的工作事项 {} 结束，应于 {} 前解散：{}", "group_name",
                  pl.col("work_item_end").cast(pl.String), deadline,
                  pl.when(pl.col("dismissed_at").is_not_null()).then(pl.format("{} 才解散", fmt_ts("dismissed_at")))
                  .otherwise(pl.format("截至 {} 未解散", pl.lit(day.isoformat())))).alias("summary"),
        evidence_json(
            work_item_end=pl.col("work_item_end").cast(pl.String),
            deadline=deadline,
            dismissed_at=fmt_ts("dismissed_at"),
            last_seen_at=fmt_ts("last_seen_at"),
            group_type=pl.col("group_type"),
            carried_in=pl.col("due_day") < day,
        ),
    )


# ---- GRP-08 dismissal notice -------------------------------------------------------------------------------


class DismissalNotice(Params):
    notice_window_days: int  # the notice must come within this many days before the dismissal
    dismiss_keywords: list[str]  # the announcement (解散); the first names the part in the evidence
    operator_keywords: list[str]  # the operator (操作人)
    date_patterns: list[str]  # regular expressions (polars/Rust syntax) over the text, full-width folded


@clause(
    "GRP-08",
    domain="groups",
    title="解散前发布解散通知",
    text="群解散前 7 天内须在该群发布解散通知：含「解散」、写明日期（X月X日 或 YYYY-MM-DD）并含「操作人」。"
         "无通知或通知缺项均为发现，证据列出所缺部分；在解散当天报告。",
    source="工作微信(群)管理办法 四(二)2",
    subject="{group_id}",
    params=DismissalNotice,
)
def grp_08_notice(events: pl.DataFrame, notice_messages: pl.DataFrame, snapshots: pl.DataFrame,
                  group_registry: pl.DataFrame, params: DismissalNotice, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    dismissed = events.filter(
        (pl.col("change_type") == "dismiss") & pl.col("event_time").is_between(start, end, closed="left")
    ).group_by("group_id").agg(pl.col("event_time").min().alias("dismissed_at"))
    window = timedelta(days=params.notice_window_days)
    recalled = notice_messages.filter(pl.col("action") == "recall")["revoked_msgid"].drop_nulls().implode()
    text = fold_width(pl.col("text"))
    has = lambda words: pl.any_horizontal([text.str.contains(w, literal=True) for w in words])  # noqa: E731
    label_kw, label_date, label_op = params.dismiss_keywords[0], "日期", params.operator_keywords[0]
    msgs = (
        notice_messages.filter((pl.col("action") == "send") & pl.col("text").is_not_null()
                               & ~pl.col("msgid").is_in(recalled))
        .join(dismissed, left_on="roomid", right_on="group_id", how="inner")
        .filter((pl.col("sent_at") < pl.col("dismissed_at")) & (pl.col("sent_at") >= pl.col("dismissed_at") - window))
        .with_columns(has(params.dismiss_keywords).alias("_kw"), has(params.operator_keywords).alias("_op"),
                      pl.any_horizontal([text.str.contains(p) for p in params.date_patterns]).alias("_date"))
        .filter(pl.col("_kw") | pl.col("_op"))  # an announcement: names the dismissal or an operator
        .with_columns(pl.sum_horizontal(pl.col("_kw", "_op", "_date").cast(pl.Int8)).alias("_parts"))
        .sort(["_parts", "sent_at"], descending=[True, True])
        .unique("roomid", keep="first", maintain_order=True)
        .rename({"roomid": "group_id"}).drop("dismissed_at")
    )
    names = pl.concat([
        snapshots.sort("snapshot_time").group_by("group_id").agg(pl.col("group_name").last()),
        group_registry.select("group_id", "group_name"),
    ]).unique("group_id", keep="first")
    j = dismissed.join(msgs, on="group_id", how="left").join(names, on="group_id", how="left")
    missing = pl.concat_list([
        pl.when(~pl.col("_kw").fill_null(False)).then(pl.lit(label_kw)),
        pl.when(~pl.col("_date").fill_null(False)).then(pl.lit(label_date)),
        pl.when(~pl.col("_op").fill_null(False)).then(pl.lit(label_op)),
    ]).list.drop_nulls()
    found = j.with_columns(missing.alias("missing")).filter(pl.col("missing").list.len() > 0).sort("group_id")
    days = params.notice_window_days
    return found.select(
        subject("group_id"),
        pl.lit(day).alias("partition_date"),
        "group_id",
        pl.format("群「{}」于 {} 解散，{}", pl.coalesce("group_name", "group_id"), fmt_ts("dismissed_at"),
                  pl.when(pl.col("msgid").is_null()).then(pl.lit(f"解散前 {days} 天内无解散通知"))
                  .otherwise(pl.format("解散通知缺少：{}", pl.col("missing").list.join("、")))).alias("summary"),
        evidence_json(
            dismissed_at=fmt_ts("dismissed_at"),
            missing=pl.col("missing"),
            notice_msgid=pl.col("msgid"),
            notice_sent_at=fmt_ts("sent_at"),
            notice_sender=pl.col("sender"),
            notice_text=pl.col("text").str.slice(0, 120),
            window_days=pl.lit(days),
        ),
    )
