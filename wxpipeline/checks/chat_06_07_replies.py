"""CHAT-06 / CHAT-07: a leader's @ in a group must be answered in that group within a window.

Frames:

* `group_messages`: `group_records(messages, earlier_messages)`, built once by the asset for both
  clauses (as `with_earlier_records` of the day's records it took a slice at a time): the group
  records (msgid, action, sender, roomid, sent_at, text, revoked_msgid) of the `ack_lookback(policy)`
  before the judged day (`earlier_messages`) and of the judged day (`messages`, see
  `chat_01_03_05_content.py`), `text` kept only where it holds an `@`. A
  mention made the evening before is judged on the day its window ends.
* `members`: `wecom_membership_timeline` rows (day, group_id, userid, joined_at, left_at,
  group_nickname, group_name) of every day a judged mention was made on.
* `roster`.

Who is mentioned: the text after each `@` up to whitespace (WeCom puts U+2005 after a mention),
another `@` or punctuation that no name contains is a token. It names the member whose label is the
longest prefix of the token, a label being the member's group nickname (surrounding spaces
stripped) as of the mention's day or their roster name; candidates are the members present in the
group at the mention time. A token whose longest label belongs to two people is ambiguous and
names nobody (two `张伟` without nicknames). A leader is a roster row with `is_leader` active on
the mention's day; the obligation falls on active employees (externals are not bound) other than
the sender who are still in the group when the window ends. A leader's message that is recalled
before its window ends obliges nobody.

Acknowledged: the member posts (any `send` record) in the same group strictly after the mention
and no later than mention + window (a reply at exactly 30 min is in time). The finding lands on
the day that holds the first moment after the deadline, i.e. the deadline's date: a 23:50 mention
answered at 00:10 is acknowledged; an unanswered one is a finding of the next day.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from wxpipeline.checks.chat_01_03_05_content import active_on
from wxpipeline.times import day_bounds, fmt_ts
from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.registry import Params, clause
from wxpipeline.hashes import repeated_hashes

SOURCE = "关于公司微信使用管理规定"
# A mention token ends at whitespace (incl. U+2005), another @, or punctuation no name holds.
MENTION = r"@[^\s@,，。.;；:：!！?？、()（）\[\]【】<>《》\"“”'‘’]+"
MAX_LABEL_CHARS = 40  # prefixes of a token tried as labels (group nicknames are far shorter)
EARLIER_COLUMNS = ["msgid", "action", "sender", "roomid", "sent_at", "text", "revoked_msgid"]
MEMBER_COLUMNS = ["day", "group_id", "userid", "joined_at", "left_at", "group_nickname", "group_name"]


class LeaderMention(Params):
    window_minutes: int
    fine_yuan: Decimal


class GroupNotice(Params):
    window_hours: float
    all_mentions: list[str]  # the @ tokens that address everyone (@所有人, @all); letters compare case-blind


def ack_lookback(policy) -> timedelta:
    """How far before the judged day a mention may have been made and still end its window on it:
    the longest enabled window of CHAT-06 / CHAT-07."""
    windows = [timedelta(0)]
    if "CHAT-06" in policy.clauses and policy.clause("CHAT-06").enabled:
        windows.append(timedelta(minutes=policy.params("CHAT-06").window_minutes))
    if "CHAT-07" in policy.clauses and policy.clause("CHAT-07").enabled:
        windows.append(timedelta(hours=policy.params("CHAT-07").window_hours))
    return max(windows)


def lookback_days(policy) -> int:
    return math.ceil(ack_lookback(policy) / timedelta(days=1))


# ---- shared -------------------------------------------------------------------------------------


def _at_only() -> pl.Expr:
    return pl.when(pl.col("text").str.contains("@", literal=True)).then(pl.col("text")).alias("text")


def today_group_records(messages: pl.DataFrame) -> pl.DataFrame:
    """The group records of `messages` in `group_records`' columns, `text` only where it holds an
    `@` (taking them again changes nothing, so a day can be taken a slice at a time)."""
    # the columns first: a filter copies every column it is given (a busy day's slice: 12 -> 6 ms)
    out = messages.select(EARLIER_COLUMNS).filter(pl.col("roomid").is_not_null()).with_columns(_at_only())
    # where no record of the slice holds an `@`, `_at_only` gives an all-null `text` in one chunk
    # while the other columns keep theirs; one such slice made `with_earlier_records` copy the
    # whole busy day's records into one chunk (10M bench day: 6.2M rows x 7 columns, ~0.3-0.5 CPU
    # s): this slice alone instead
    return out.rechunk() if len(set(out.n_chunks("all"))) > 1 else out


def group_records(messages: pl.DataFrame, earlier_messages: pl.DataFrame) -> pl.DataFrame:
    """The group records of the look-back and the day, once per msgid (the later copy wins). Only
    a text with an `@` is kept (the rules read no other; the asset hands `earlier_messages` so
    already): the frame then holds a fraction of the day's text."""
    return with_earlier_records(today_group_records(messages), earlier_messages)


def with_earlier_records(today: pl.DataFrame, earlier_messages: pl.DataFrame) -> pl.DataFrame:
    """`group_records` from the day's records as `today_group_records` gave them (the asset takes
    them a slice at a time; taking them again cost a pass over a busy day's group text and a copy
    of its text column: ~0.05 CPU s per 4M messages)."""
    # the look-back's records (a day or two, small) in one chunk per column, and an eager concat
    # (the lazy one re-chunked one column): the frame keeps its columns chunked alike without
    # copying the judged day's records
    earlier = earlier_messages.select(EARLIER_COLUMNS).with_columns(_at_only()).rechunk()
    both = pl.concat([earlier, today], how="vertical_relaxed", rechunk=False)
    out = both.filter(last_of_each(both["msgid"]))
    # columns chunked alike: polars copies a frame whose columns are not, at every filter of it
    return out.rechunk() if len(set(out.n_chunks("all"))) > 1 else out


def last_of_each(keys: pl.Series) -> pl.Series:
    """`keys.is_last_distinct()` (the mask of `unique(keep="last", maintain_order=True)`, without a
    second copy of the frame), decided on 64-bit hashes first: only the rows whose hash repeats
    (the real repeats, and a collision now and then) are compared as strings. A hash table of
    millions of ids grows past the CPU caches (superlinear: 0.24 s at 1M, 1.4 s at 4M); one of
    integers stays several times cheaper; the repeated hashes are found by sorting them
    (`hashes.repeated_hashes`: at 4M group records ~0.1 CPU s, against 0.3-0.65 for `is_duplicated`)."""
    hashes = keys.hash(seed=0)
    repeated = repeated_hashes(hashes)
    maybe = hashes.is_in(repeated.implode()) if repeated.len() else pl.repeat(
        False, hashes.len(), dtype=pl.Boolean, eager=True)
    idx = maybe.arg_true()
    if idx.len() == 0:
        return ~maybe
    return (~maybe).scatter(idx, keys.gather(idx).is_last_distinct())


def leader_messages(records: pl.DataFrame, roster: pl.DataFrame, window: timedelta, day: date) -> pl.DataFrame:
    """A leader's group messages with an @ whose window ends on `day`, not recalled before then."""
    lo, hi = day_bounds(day)
    deadline = pl.col("sent_at") + window
    # the records with a text first (a null test on the validity bits): the asset's frame keeps a text
    # only where it holds an `@`, and a substring search over millions of null rows still costs
    # ~0.05 CPU s per 2.5M records (CHAT-06 and CHAT-07 each)
    cand = records.filter(pl.col("text").is_not_null()).filter(
        (pl.col("action") == "send") & pl.col("text").str.contains("@", literal=True).fill_null(False)
        & (deadline >= lo) & (deadline < hi)
    ).with_columns(deadline.alias("deadline"), pl.col("sent_at").dt.date().alias("_day"))
    leaders = roster.filter(pl.col("is_leader").fill_null(False) & pl.col("wecom_userid").is_not_null()).select(
        pl.col("wecom_userid").alias("sender"), pl.col("employee_id").alias("leader_employee_id"),
        pl.col("name").alias("leader_name"), "hire_date", "leave_date")
    cand = (cand.join(leaders, on="sender", how="inner").filter(active_on(pl.col("_day")))
            .drop("hire_date", "leave_date"))
    cand = cand.unique("msgid", keep="first", maintain_order=True)
    recalls = records.select("revoked_msgid", "sent_at").filter(pl.col("revoked_msgid").is_not_null()).select(
        pl.col("revoked_msgid").alias("msgid"), pl.col("sent_at").alias("_recalled_at"))
    return (
        cand.join(recalls, on="msgid", how="left")
        .filter(pl.col("_recalled_at").is_null() | (pl.col("_recalled_at") > pl.col("deadline")))
        .drop("_recalled_at")
    )


def present() -> pl.Expr:
    """The stay covers the mention (`sent_at`) and is on the mention's day's timeline."""
    return (
        (pl.col("day") == pl.col("_day")) & (pl.col("joined_at") <= pl.col("sent_at"))
        & (pl.col("left_at").is_null() | (pl.col("left_at") > pl.col("sent_at")))
    )


def resolve_mentions(cand: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame) -> pl.DataFrame:
    """(msgid, token, userid, label, label_kind): each @ token of `cand` resolved to one member."""
    tokens = (
        cand.select("msgid", "roomid", "sent_at", "_day", pl.col("text").str.extract_all(MENTION).alias("token"))
        .explode("token")
        .drop_nulls("token")
        .with_columns(pl.col("token").str.slice(1))
        .filter(pl.col("token") != "")
        .unique(["msgid", "token"], maintain_order=True)
    )
    if tokens.height == 0:
        return pl.DataFrame(schema={"msgid": pl.String, "token": pl.String, "userid": pl.String,
                                    "label": pl.String, "label_kind": pl.String})
    prefixes = tokens.with_columns(
        pl.int_ranges(1, pl.min_horizontal(pl.col("token").str.len_chars(), MAX_LABEL_CHARS) + 1).alias("_n")
    ).explode("_n").with_columns(pl.col("token").str.slice(0, pl.col("_n")).alias("label"))
    names = roster.filter(pl.col("wecom_userid").is_not_null()).select(
        pl.col("wecom_userid").alias("userid"), pl.col("name").str.strip_chars().alias("roster_name")).unique()
    stays = members.select(MEMBER_COLUMNS).join(names, on="userid", how="left")
    labels = pl.concat([
        stays.select(*MEMBER_COLUMNS, pl.col("group_nickname").str.strip_chars().alias("label"),
                     pl.lit("group_nickname").alias("label_kind")),
        stays.select(*MEMBER_COLUMNS, pl.col("roster_name").alias("label"), pl.lit("roster_name").alias("label_kind")),
    ]).filter(pl.col("label").is_not_null() & (pl.col("label") != ""))
    matched = (
        prefixes.join(labels, left_on=["roomid", "label"], right_on=["group_id", "label"], how="inner")
        .filter(present())
        .with_columns(pl.col("label").str.len_chars().alias("_len"))
    )
    best = matched.filter(pl.col("_len") == pl.col("_len").max().over("msgid", "token"))
    resolved = best.group_by("msgid", "token", maintain_order=True).agg(
        pl.col("userid").n_unique().alias("_people"),
        pl.col("userid").first(), pl.col("label").first(),
        pl.col("label_kind").sort_by(pl.col("label_kind") != "group_nickname").first(),
    )
    return resolved.filter(pl.col("_people") == 1).drop("_people")


def obligations(cand: pl.DataFrame, who: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame,
                day: date) -> pl.DataFrame:
    """`cand` x the members of `who` (msgid, userid, ...) who must answer: present at the mention,
    still in the group at the deadline, active employees other than the sender."""
    staff = roster.filter(pl.col("wecom_userid").is_not_null()).select(
        pl.col("wecom_userid").alias("userid"), "employee_id", pl.col("name").alias("member_name"),
        "hire_date", "leave_date")
    stays = members.select(MEMBER_COLUMNS)
    out = (
        cand.join(who, on="msgid", how="inner")
        .filter(pl.col("userid") != pl.col("sender"))
        .join(stays, left_on=["roomid", "userid"], right_on=["group_id", "userid"], how="inner")
        .filter(present() & (pl.col("left_at").is_null() | (pl.col("left_at") > pl.col("deadline"))))
        .join(staff, on="userid", how="inner")
        .filter(active_on(pl.col("_day")))
        .drop("hire_date", "leave_date")
    )
    return out.unique(["msgid", "userid"], keep="first", maintain_order=True)


def unanswered(owed: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The obligations with no post of the member in the group in (mention, deadline]; adds
    `first_post_at`, the member's first post after the mention (a late answer), if any."""
    # only the posts of an obliged member in that group can answer (a few of the day's): those
    # records are picked first, eagerly, so the day's send records are never copied out whole
    obliged = owed.select("roomid", pl.col("userid").alias("sender")).unique()
    # the four columns read first: a filter copies every column it is given (the 10M bench day's
    # 6.2M group records, 345k of them an obliged member's: 0.29 -> 0.19 CPU s)
    posts = (
        records.select("roomid", "sender", "sent_at", "action")
        .filter(pl.col("sender").is_in(obliged["sender"].implode()))
        .join(obliged, on=["roomid", "sender"], how="semi")
        .filter(pl.col("action") == "send")
        .select("roomid", pl.col("sender").alias("userid"), pl.col("sent_at").alias("first_post_at"))
        .sort("first_post_at")
    )
    answered = owed.sort("sent_at").join_asof(
        posts, left_on="sent_at", right_on="first_post_at", by=["roomid", "userid"], strategy="forward",
        allow_exact_matches=False, check_sortedness=False,  # both sorted on the time; `by` hides it from polars
    )
    return answered.filter(pl.col("first_post_at").is_null() | (pl.col("first_post_at") > pl.col("deadline")))


def _group_label() -> pl.Expr:
    return pl.coalesce(pl.format("「{}」", "group_name"), pl.col("roomid"))


def _late() -> pl.Expr:
    return pl.when(pl.col("first_post_at").is_null()).then(pl.lit("至今未在群内发言")).otherwise(
        pl.format("直到 {} 才在群内发言", fmt_ts("first_post_at")))


def _findings(rows: pl.DataFrame, day: date, summary: pl.Expr, evidence: pl.Expr) -> pl.DataFrame:
    return rows.sort("sent_at", "msgid", "userid").select(
        pl.format("{}/{}", "msgid", "userid").alias("subject_id"), pl.lit(day).alias("partition_date"),
        "employee_id", pl.col("roomid").alias("group_id"), summary.alias("summary"), evidence,
    )


# ---- CHAT-06 ------------------------------------------------------------------------------------------


@clause(
    "CHAT-06",
    domain="chat",
    title="领导指示 30 分钟内回复",
    text="领导在工作群中 @ 某成员（按群昵称或姓名）发布指示后，该成员须在 30 分钟内在同一群内发言回复；"
         "未按时回复按制度处罚（默认 100 元）。跨午夜的时限照常计算，违规计入时限届满的那一天。",
    source=f"{SOURCE} 四2",
    subject="{msgid}/{userid}",
    params=LeaderMention,
)
def chat_06_leader_mention(group_messages: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame,
                           params: LeaderMention, day: date) -> pl.DataFrame:
    window = timedelta(minutes=params.window_minutes)
    records = group_messages
    cand = leader_messages(records, roster, window, day)
    who = resolve_mentions(cand, members, roster)
    owed = obligations(cand, who, members, roster, day)
    bad = unanswered(owed, records)
    return _findings(
        bad, day,
        pl.format("{}于 {} 在群{}@{} 发布指示，{}（{}）未在 {} 分钟内回复，{}；按制度罚款 {} 元",
                  "leader_name", fmt_ts("sent_at"), _group_label(), "token", "member_name", "userid",
                  pl.lit(params.window_minutes), _late(), pl.lit(str(params.fine_yuan))),
        evidence_json(
            mention_msgid=pl.col("msgid"), group_name=pl.col("group_name"), leader=pl.col("sender"),
            leader_employee_id=pl.col("leader_employee_id"), mentioned_at=fmt_ts("sent_at"),
            mentioned_as=pl.col("token"), matched_label=pl.col("label"), label_kind=pl.col("label_kind"),
            member=pl.col("userid"), deadline=fmt_ts("deadline"), window_minutes=pl.lit(params.window_minutes),
            first_post_after=fmt_ts("first_post_at"), fine_yuan=pl.lit(str(params.fine_yuan)),
        ),
    )


# ---- CHAT-07 ------------------------------------------------------------------------------------------


def all_mention_regex(tokens: list[str]) -> str:
    """`@所有人`, or `@all` not followed by a letter or digit (`@allen` is a person)."""
    parts = []
    for t in tokens:
        esc = re.escape(t)
        parts.append(esc + r"(?:$|[^a-z0-9_])" if t[-1:].isascii() and t[-1:].isalnum() else esc)
    return "(?i)(?:" + "|".join(parts) + ")"


@clause(
    "CHAT-07",
    domain="chat",
    title="群通知 24 小时内回复",
    text="领导在工作群中发布 @所有人（或 @all）通知后，群内除发布者外的每位在职员工须在 24 小时内在该群发言回复；"
         "违规计入 24 小时届满的那一天。",
    source=f"{SOURCE} 四3; 公司微信工作群管理规定 11",
    subject="{msgid}/{userid}",
    params=GroupNotice,
)
def chat_07_group_notice(group_messages: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame,
                         params: GroupNotice, day: date) -> pl.DataFrame:
    window = timedelta(hours=params.window_hours)
    records = group_messages
    cand = leader_messages(records, roster, window, day)
    if params.all_mentions:
        cand = cand.filter(pl.col("text").str.contains(all_mention_regex(params.all_mentions)))
    else:
        cand = cand.clear()
    everyone = cand.select("msgid", "roomid", "_day").join(
        members.select(pl.col("group_id").alias("roomid"), "userid", pl.col("day").alias("_day")).unique(),
        on=["roomid", "_day"], how="inner",
    ).select("msgid", "userid")
    owed = obligations(cand, everyone, members, roster, day)
    bad = unanswered(owed, records)
    return _findings(
        bad, day,
        pl.format("{}于 {} 在群{}发布 @所有人 通知，{}（{}）未在 {} 小时内回复，{}",
                  "leader_name", fmt_ts("sent_at"), _group_label(), "member_name", "userid",
                  pl.lit(f"{params.window_hours:g}"), _late()),
        evidence_json(
            notice_msgid=pl.col("msgid"), group_name=pl.col("group_name"), leader=pl.col("sender"),
            leader_employee_id=pl.col("leader_employee_id"), notified_at=fmt_ts("sent_at"), member=pl.col("userid"),
            deadline=fmt_ts("deadline"), window_hours=pl.lit(params.window_hours),
            first_post_after=fmt_ts("first_post_at"),
        ),
    )

