"""Work-group clauses about members, GRP-01..GRP-04 (工作微信群管理); GRP-05..08 are in `grp_05_08_groups.py`.

Frames (built by `assets/groups.py` for the judged day D; Asia/Shanghai):

* `members`: the `wecom_membership_timeline` partition of D (stays overlapping D, see
  `wxpipeline.derive.membership`).
* `snapshot_members`: `wecom_group_members` rows (group_id, userid, snapshot_time, join_time,
  member_type, group_nickname, group_name) of the snapshots taken on D and of each group's last
  snapshot before D.
* `events`: `wecom_group_events` rows of D and the membership look-back before it.
* `sightings`: the groups seen on D with the first time the exports show them (see `grp_05_08_groups.py`).
* `roster`, `group_registry`, `calendar` (date, is_workday, calendar_known; from 60 days before D
  to a month after it).

When a finding lands (one finding per day, clause and subject, each breach once):

* GRP-01 (nickname) and GRP-06 (owner) are judged on the day's snapshots, the only evidence of
  nicknames and owners. A breach is reported on the first day a snapshot shows it: a member of
  the group whose previous snapshot already showed the same stay with a non-compliant nickname
  is not reported again, so a wrong nickname held for a month is one finding, and one fixed and
  broken again is a new one. A breach already present when the exports begin lands on the first
  snapshot day.
* GRP-02 (departed member, 48 h) lands on the day that holds the first moment after the
  deadline (leave day L: L + 3); a departed member still in a group whose first snapshot is
  later than that (monitoring began after the deadline) lands on that first snapshot day.
* GRP-03 (new hire) lands on the join day: the day of the add_member event, or of the first snapshot
  that shows the stay when the event was lost (a join at 23:45 after the day's snapshot then lands
  on the next day, the day it becomes certain, in a nightly run and a backfill alike).
* GRP-04 (outsider) lands on the day the stay is first evidenced: its add_member event or the
  first snapshot that shows it (the join day, or the first snapshot day for a stay older than
  the exports).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
from pydantic import field_validator

from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.grp_people import subject, with_person
from wxpipeline.checks.registry import Params, clause
from wxpipeline.times import day_bounds, fmt_ts, midnight

SAME_JOIN = timedelta(seconds=60)  # an add_member event and the snapshot's join_time of the same join
SOURCE_NICK = "工作微信(群)管理办法 四(一)3; 公司微信群管理办法 第五条(二); 公司微信工作群管理规定 3"
SOURCE_LEAVE = "公司微信群管理办法 第五条(一); 工作微信(群)管理办法 三3"
SOURCE_HIRE = "公司微信工作群管理规定 2"
SOURCE_OUTSIDER = "公司微信工作群管理规定 2; 公司微信群管理制度 2.1"
def _first_per(df: pl.DataFrame, keys: list[str], order: str) -> pl.DataFrame:
    return df.sort(order).unique(keys, keep="first", maintain_order=True)


# ---- GRP-01 real-name nicknames ------------------------------------------------------------------------

_FIELD = re.compile(r"\{(\w+)\}")
NICKNAME_FIELDS = ("name", "department", "position")


class NicknameFormats(Params):
    # group_type -> the allowed nickname formats; fields {name}, {department}, {position} from the roster
    formats: dict[str, list[str]]
    # equivalent separators; the first is the one the formats are written with
    separators: list[str]

    @field_validator("formats")
    @classmethod
    def _known_fields(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for gtype, fmts in v.items():
            if not fmts:
                raise ValueError(f"{gtype}: at least one format is needed")
            for f in fmts:
                unknown = set(_FIELD.findall(f)) - set(NICKNAME_FIELDS)
                if unknown:
                    raise ValueError(f"{gtype}: {f!r} uses unknown field(s) {sorted(unknown)}; "
                                     f"known: {', '.join(NICKNAME_FIELDS)}")
        return v

    @field_validator("separators")
    @classmethod
    def _some_separator(cls, v: list[str]) -> list[str]:
        if not v or any(not s for s in v):
            raise ValueError("list one or more non-empty separators")
        return v


def render(fmt: str) -> pl.Expr:
    """The nickname a format asks for, from the roster columns of the row (null if one is null)."""
    parts, pos = [], 0
    for m in _FIELD.finditer(fmt):
        if m.start() > pos:
            parts.append(pl.lit(fmt[pos:m.start()]))
        parts.append(pl.col(m.group(1)))
        pos = m.end()
    if pos < len(fmt):
        parts.append(pl.lit(fmt[pos:]))
    return pl.concat_str(parts)


def canonical(expr: pl.Expr, separators: list[str]) -> pl.Expr:
    """Spaces ignored (any whitespace, full-width too), every listed separator made the first."""
    out = expr.str.replace_all(r"\s+", "")
    for s in separators[1:]:
        out = out.str.replace_all(s, separators[0], literal=True)
    return out


def nickname_verdicts(rows: pl.DataFrame, params: NicknameFormats) -> pl.DataFrame:
    """Rows with `group_type`, `group_nickname` and the roster columns -> `expected` (the allowed
    nicknames), `judged` and `compliant`."""
    templates = sorted({f for fmts in params.formats.values() for f in fmts})
    col = {f: f"_t{i}" for i, f in enumerate(templates)}
    expected = pl.lit(None, dtype=pl.List(pl.String))
    for gtype, fmts in params.formats.items():
        expected = pl.when(pl.col("group_type") == gtype).then(pl.concat_list([pl.col(col[f]) for f in fmts])) \
            .otherwise(expected)
    out = rows.with_columns(*[render(f).alias(c) for f, c in col.items()]).with_columns(
        expected.list.drop_nulls().alias("expected")).drop(list(col.values()))
    judged = (pl.col("group_nickname").is_not_null() & pl.col("active")
              & (pl.col("expected").list.len() > 0).fill_null(False))
    same = pl.col("expected").list.eval(canonical(pl.element(), params.separators)).list.contains(
        canonical(pl.col("group_nickname"), params.separators))
    return out.with_columns(judged.alias("judged"), (judged & same).alias("compliant"))


@clause(
    "GRP-01",
    domain="groups",
    title="群昵称实名",
    text="在册员工在已登记工作群中的群昵称须为实名格式：公司群为「姓名-部门」，部门群与专项群为「姓名-岗位」，"
         "临时群两者皆可；分隔符 -、－、— 等同，空格忽略。",
    source=SOURCE_NICK,
    subject="{group_id}/{userid}",
    params=NicknameFormats,
)
def grp_01_nickname(snapshot_members: pl.DataFrame, roster: pl.DataFrame, group_registry: pl.DataFrame,
                    params: NicknameFormats, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    rows = snapshot_members.filter(pl.col("snapshot_time") < end).join(
        group_registry.select("group_id", "group_type", pl.col("group_name").alias("registered_name")),
        on="group_id", how="inner")
    rows = nickname_verdicts(with_person(rows, roster, pl.col("snapshot_time").dt.date()), params)
    bad = rows.filter(pl.col("judged") & ~pl.col("compliant"))
    today = _first_per(bad.filter(pl.col("snapshot_time") >= start), ["group_id", "userid"], "snapshot_time")
    before = rows.filter(pl.col("snapshot_time") < start)
    last = before.group_by("group_id").agg(pl.col("snapshot_time").max())
    known = bad.join(last, on=["group_id", "snapshot_time"], how="semi").select("group_id", "userid", "join_time")
    new = today.join(known, on=["group_id", "userid", "join_time"], how="anti", nulls_equal=True)
    shown = pl.col("expected").list.join("」或「")
    return new.select(
        subject("group_id", "userid"),
        pl.lit(day).alias("partition_date"),
        "employee_id",
        "group_id",
        pl.format("群「{}」中 {}（{}）的群昵称「{}」不是实名格式，应为「{}」",
                  pl.coalesce("group_name", "registered_name"), "name", "employee_id", "group_nickname", shown)
        .alias("summary"),
        evidence_json(
            nickname=pl.col("group_nickname"),
            expected=pl.col("expected"),
            group_type=pl.col("group_type"),
            group_name=pl.coalesce("group_name", "registered_name"),
            seen_at=fmt_ts("snapshot_time"),
            joined_at=fmt_ts("join_time"),
        ),
    )


# ---- GRP-02 departed members removed within 48 hours ---------------------------------------------------


class DepartedRemoval(Params):
    removal_hours: int  # counted from the end of the leave day


def departed(roster: pl.DataFrame, hours: int) -> pl.DataFrame:
    """One row per userid whose latest roster row has a leave date: `_due`, the first moment after
    the deadline (leave day 23:59:59 + hours), and `due_day`, its date (the breach day)."""
    return (
        roster.filter(pl.col("wecom_userid").is_not_null())
        .sort("hire_date", descending=True, nulls_last=True)
        .unique("wecom_userid", keep="first")
        .filter(pl.col("leave_date").is_not_null())
        .select(pl.col("wecom_userid").alias("userid"), "employee_id", "name", "leave_date")
        .with_columns((midnight("leave_date") + pl.duration(days=1, hours=hours)).alias("_due"))
        .with_columns(pl.col("_due").dt.date().alias("due_day"))
    )


@clause(
    "GRP-02",
    domain="groups",
    title="离职人员 48 小时内移出",
    text="花名册离职日为 D 的成员须在 D 23:59:59 后 48 小时内移出群（以企业微信的成员退群事件为准，没有事件时以截止后第一次群快照中已不在群内为准）；"
         "在截止时刻之后的第一天报告。",
    source=SOURCE_LEAVE,
    subject="{group_id}/{userid}",
    params=DepartedRemoval,
)
def grp_02_departed(members: pl.DataFrame, roster: pl.DataFrame, sightings: pl.DataFrame,
                    params: DepartedRemoval, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    leavers = departed(roster, params.removal_hours).filter(pl.col("due_day") <= day)
    stays = members.join(leavers, on="userid", how="inner").filter(pl.col("joined_at") < pl.col("_due"))
    # out in time: left before the deadline, or absent from the first snapshot after it
    gone = (pl.col("left_at") < pl.col("_due")).fill_null(False) | (
        (pl.col("left_source") == "snapshot")
        & (pl.col("last_seen_at").is_null() | (pl.col("last_seen_at") < pl.col("_due")))).fill_null(False)
    first_day = sightings.filter(pl.col("first_snapshot_at").is_between(start, end, closed="left")).select("group_id")
    carried = (pl.col("due_day") < day) & pl.col("group_id").is_in(first_day["group_id"].implode()) \
        & pl.col("first_seen_at").is_between(start, end, closed="left")
    found = stays.filter(((pl.col("due_day") == day) & ~gone) | carried).sort("joined_at")
    day_end = midnight(pl.col("leave_date") + pl.duration(days=1))
    after = ((pl.col("left_at") - day_end).dt.total_seconds() / 3600).round(1)
    return found.select(
        subject("group_id", "userid"),
        pl.lit(day).alias("partition_date"),
        "employee_id",
        "group_id",
        pl.format("离职员工 {}（{}，离职日 {}）未在离职日结束后 {} 小时内移出群「{}」：{}",
                  "name", "employee_id", pl.col("leave_date").cast(pl.String), pl.lit(params.removal_hours),
                  "group_name",
                  pl.when(pl.col("left_at").is_null()).then(pl.format("截至 {} 仍在群中", pl.lit(day.isoformat())))
                  .otherwise(pl.format("{} 才移出", fmt_ts("left_at")))).alias("summary"),
        evidence_json(
            leave_date=pl.col("leave_date").cast(pl.String),
            deadline=(pl.col("_due") - pl.duration(seconds=1)).dt.strftime("%Y-%m-%d %H:%M:%S"),
            left_at=fmt_ts("left_at"),
            left_source=pl.col("left_source"),
            hours_after_leave_day=after,
            last_seen_at=fmt_ts("last_seen_at"),
            joined_at=fmt_ts("joined_at"),
            carried_in=pl.col("due_day") < day,
        ),
    )


def add_events(events: pl.DataFrame) -> pl.DataFrame:
    """(group_id, userid, event_time) of every add_member event."""
    return (
        events.filter((pl.col("change_type") == "update") & (pl.col("update_detail") == "add_member"))
        .select("group_id", "event_time", "members").explode("members")
        .filter(pl.col("members").is_not_null()).rename({"members": "userid"})
    )


def first_evidence(stays: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Stays plus `first_evidence_at`: the earliest of their first snapshot and their add_member event
    (one within `SAME_JOIN` of `joined_at` among `events`, or the join itself when only an event saw
    the stay)."""
    key = ["group_id", "userid", "joined_at"]
    adds = (
        stays.select(key).unique().join(add_events(events), on=["group_id", "userid"], how="inner")
        .filter((pl.col("event_time") - pl.col("joined_at")).abs() <= SAME_JOIN)
        .group_by(key).agg(pl.col("event_time").min().alias("_add_at"))
    )
    event_only = pl.when(pl.col("join_source") == "event").then(pl.col("joined_at"))
    return stays.join(adds, on=key, how="left", nulls_equal=True).with_columns(
        pl.min_horizontal("first_seen_at", "_add_at", event_only).alias("first_evidence_at"))


# ---- GRP-03 new hires wait 3 working days -------------------------------------------------------------


class NewHireWait(Params):
    wait_working_days: int  # completed working days, the hire day counting as the first if it is one


def allowed_join_dates(hire_dates: pl.Series, calendar: pl.DataFrame, wait: int) -> pl.DataFrame:
    """(hire_date, allowed_on, completed_by, calendar_known): the day from whose 00:00 joining is
    allowed, i.e. the working day after the `wait`-th working day counted from the hire day. Hire
    dates before the calendar frame are left out (long past); `allowed_on` is null when the frame
    ends first (not allowed within it)."""
    cal = calendar.sort("date")
    hires = pl.DataFrame({"hire_date": hire_dates.unique()}, schema={"hire_date": pl.Date}).filter(
        pl.col("hire_date") >= cal["date"].min() if cal.height else pl.lit(False))
    days = (
        hires.join(cal, how="cross").filter(pl.col("date") >= pl.col("hire_date"))
        .sort("hire_date", "date")
        .with_columns(pl.col("is_workday").cast(pl.Int32).cum_sum().over("hire_date").alias("_n"))
    )
    allowed = days.filter(pl.col("is_workday") & (pl.col("_n") == wait + 1)).group_by("hire_date").agg(
        pl.col("date").min().alias("allowed_on"))
    out = hires.join(allowed, on="hire_date", how="left")
    known = days.join(out, on="hire_date").filter(
        pl.col("allowed_on").is_null() | (pl.col("date") <= pl.col("allowed_on"))
    ).group_by("hire_date").agg(pl.col("calendar_known").all())
    return out.join(known, on="hire_date", how="left")


@clause(
    "GRP-03",
    domain="groups",
    title="新员工满 3 个工作日方可入群",
    text="员工须在入职满 3 个工作日后方可加入工作群：入职日为工作日则计为第 1 天，最早入群时间为第 3 个工作日之后的下一个工作日 00:00"
         "（中国法定工作日历，含调休）。在入群当天报告。",
    source=SOURCE_HIRE,
    subject="{group_id}/{userid}",
    params=NewHireWait,
)
def grp_03_new_hire(members: pl.DataFrame, events: pl.DataFrame, roster: pl.DataFrame, calendar: pl.DataFrame,
                    params: NewHireWait, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    # the joins the exports show on the day: their event, or the day's snapshot when the event was lost
    seen = first_evidence(members, events).filter(pl.col("first_evidence_at").is_between(start, end, closed="left"))
    joins = with_person(seen, roster, pl.col("joined_at").dt.date()).filter(pl.col("is_employee"))
    allowed = allowed_join_dates(joins["hire_date"], calendar, params.wait_working_days)
    judged = joins.join(allowed, on="hire_date", how="inner").with_columns(
        midnight("allowed_on").alias("_allowed_at"))
    early = judged.filter(pl.col("_allowed_at").is_null() | (pl.col("joined_at") < pl.col("_allowed_at")))
    # working days completed before the join day (for the evidence)
    cal = calendar.select("date", "is_workday")
    done = (
        early.select("hire_date", pl.col("joined_at").dt.date().alias("_jd")).unique()
        .join(cal, how="cross").filter((pl.col("date") >= pl.col("hire_date")) & (pl.col("date") < pl.col("_jd")))
        .group_by("hire_date", "_jd").agg(pl.col("is_workday").sum().alias("completed"))
    )
    early = early.with_columns(pl.col("joined_at").dt.date().alias("_jd")).join(
        done, on=["hire_date", "_jd"], how="left").sort("joined_at")
    allowed_txt = pl.when(pl.col("allowed_on").is_null()).then(pl.lit("日历范围之后")) \
        .otherwise(pl.format("{} 00:00", pl.col("allowed_on").cast(pl.String)))
    return early.select(
        subject("group_id", "userid"),
        pl.lit(day).alias("partition_date"),
        "employee_id",
        "group_id",
        pl.format("新员工 {}（{}，入职 {}）于 {} 加入群「{}」，入职仅满 {} 个工作日（最早 {} 可入群）",
                  "name", "employee_id", pl.col("hire_date").cast(pl.String), fmt_ts("joined_at"), "group_name",
                  pl.col("completed").fill_null(0), allowed_txt).alias("summary"),
        evidence_json(
            hire_date=pl.col("hire_date").cast(pl.String),
            joined_at=fmt_ts("joined_at"),
            allowed_from=pl.col("allowed_on").cast(pl.String),
            working_days_completed=pl.col("completed").fill_null(0),
            required_working_days=pl.lit(params.wait_working_days),
            calendar_known=pl.col("calendar_known"),
            join_source=pl.col("join_source"),
            first_evidence_at=fmt_ts("first_evidence_at"),
            invitor=pl.col("invitor"),
        ),
    )


# ---- GRP-04 no outsiders ---------------------------------------------------------------------------------


@clause(
    "GRP-04",
    domain="groups",
    title="禁止外部人员入群",
    text="登记为不允许外部成员的群中不得有非员工成员（花名册中没有该企业微信账号，或企业微信标记为外部联系人）。"
         "在该成员首次有证据（入群事件或快照）的当天报告。",
    source=SOURCE_OUTSIDER,
    subject="{group_id}/{userid}",
)
def grp_04_outsider(members: pl.DataFrame, events: pl.DataFrame, roster: pl.DataFrame,
                    group_registry: pl.DataFrame, params, day: date) -> pl.DataFrame:
    start, end = day_bounds(day)
    closed = group_registry.filter(~pl.col("allows_external").fill_null(False)).select(
        "group_id", "group_type", pl.col("group_name").alias("registered_name"))
    employees = roster["wecom_userid"].drop_nulls().implode()
    stays = members.join(closed, on="group_id", how="inner").with_columns(
        pl.col("userid").is_in(employees).alias("in_roster"))
    outsiders = stays.filter(~pl.col("in_roster") | (pl.col("member_type") == 2).fill_null(False))
    new = first_evidence(outsiders, events).filter(
        pl.col("first_evidence_at").is_between(start, end, closed="left")).sort("first_evidence_at")
    person = with_person(new, roster, None)
    who = pl.when(pl.col("member_type") == 2).then(pl.lit("外部联系人")).otherwise(pl.lit("非在册人员"))
    return person.select(
        subject("group_id", "userid"),
        pl.lit(day).alias("partition_date"),
        "employee_id",
        "group_id",
        pl.format("{} {} 在不允许外部成员的群「{}」中（{} 入群）", who, "userid",
                  pl.coalesce("group_name", "registered_name"), fmt_ts("joined_at")).alias("summary"),
        evidence_json(
            member_type=pl.col("member_type"),
            in_roster=pl.col("in_roster"),
            joined_at=fmt_ts("joined_at"),
            first_evidence_at=fmt_ts("first_evidence_at"),
            left_at=fmt_ts("left_at"),
            invitor=pl.col("invitor"),
            join_method=pl.col("join_method"),
            group_type=pl.col("group_type"),
            allows_external=pl.lit(False),
        ),
    )
