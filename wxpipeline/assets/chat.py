"""Chat domain: the WeCom message archive judged against CHAT-01..CHAT-07 and ACC-01.

What a partition day D reads (built for ~10 million messages a day: columns pruned, one
normalisation of the day's text shared by every word-list rule, no per-message Python):

* `messages`: the rows of the staged `wecom_messages` partition D (contract-checked) that a
  message rule can report or must read (`checks/chat_prefilter.py`: word-list and pattern
  candidates, link-like and number-holding texts, every record of a departed account), the
  columns the rules read plus `text_norm`. The day is read and normalised 500k rows at a time and
  only these rows are kept (a few percent of a busy day).
* `group_messages`: the group records of the CHAT-06/07 look-back before D (the longest
  enabled window, 24 h by default; from the staged partitions declared upstream, so a 23:50
  mention of D-1 is judged on D) and of D, as CHAT-06/07 read them (`group_records`, built once
  for both). `text` is kept only where it holds an `@`.
* `members`: the membership timeline of D (the staged partition) and of each earlier day of the
  look-back on which a group had an `@` message (derived from the staged snapshots and events
  around that day, for those groups only: the same function the `wecom_membership_timeline` asset runs), so a mention is resolved
  against the nicknames and members of its own day.
* `leaver_history`: for today's senders whose employee had left, one earlier post-departure
  record if there is one (ACC-01 reports an account on its first such day only). Searched
  backwards in widening windows (1, 7, 30 days, then back to the leave date but no further than
  the policy's `windows.leaver_history_days`, the declared look-back), for those accounts only.
* `term_candidates`: (msgid, category) of the messages whose normalised text holds a term of a
  word list: one scan of the day's text for all lists, CHAT-01/02/05 then search their own
  candidates only.
* `roster`, `word_lists`.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import polars as pl

from wxpipeline.factories.findings import JudgeContext, build_findings_asset
from wxpipeline.assets.reference import roster
from wxpipeline.assets.wecom import (
    wecom_group_events,
    wecom_group_members,
    wecom_groups,
    wecom_membership_timeline,
    wecom_messages,
)
from wxpipeline.checks.acc_01_leaver_accounts import HISTORY_SCHEMA, NOT_A_MESSAGE, departed_accounts
from wxpipeline.checks.chat_01_03_05_content import MESSAGE_COLUMNS, term_candidates
from wxpipeline.times import day_bounds
from wxpipeline.checks.chat_06_07_replies import (EARLIER_COLUMNS, MEMBER_COLUMNS, ack_lookback, today_group_records,
                                                  with_earlier_records)
from wxpipeline.checks.chat_prefilter import (TextVerdicts, kept_messages, record_may_be_read, term_patterns,
                                              text_may_be_read)
from wxpipeline.checks.wordlists import load_word_lists
from wxpipeline.assets.wecom import derive_timeline
from wxpipeline.lineage import Upstream
from wxpipeline.reports.charts import look_up_fonts_soon

SLICE_ROWS = 500_000  # messages read and normalised at a time
SLICE_WORKERS = 2  # slices in flight (the machine this runs on has two cores)
HISTORY_WINDOWS = (timedelta(days=1), timedelta(days=7), timedelta(days=30), None)  # None: the policy's bound


def earlier_group_messages(up: Upstream, lo: datetime, hi: datetime) -> pl.DataFrame:
    return (
        up.window("wecom_messages", lo, hi)
        .filter(pl.col("roomid").is_not_null())
        .with_columns(pl.when(pl.col("text").str.contains("@", literal=True)).then(pl.col("text")).alias("text"))
        .select(EARLIER_COLUMNS)
        .collect()
    )


def member_frames(jc: JudgeContext, earlier: pl.DataFrame) -> pl.DataFrame:
    today = jc.staged.read("wecom_membership_timeline", jc.partition_key).select(MEMBER_COLUMNS)
    frames = [today]
    mentions = earlier.filter(pl.col("text").is_not_null()).with_columns(pl.col("sent_at").dt.date().alias("_d"))
    for d in sorted(set(mentions["_d"].to_list())):
        if d < jc.day:
            groups = mentions.filter(pl.col("_d") == d)["roomid"].unique().to_list()
            timeline = derive_timeline(jc.upstream, d, jc.policy.windows.membership_days, groups)
            frames.append(timeline.select(MEMBER_COLUMNS))
    return pl.concat(frames, how="vertical_relaxed")


def leaver_history(up: Upstream, messages: pl.DataFrame, roster_df: pl.DataFrame, day: date,
                   history_days: int) -> pl.DataFrame:
    """One earlier post-departure record (sender, sent_at, msgid) per departed account that sent
    today, if any, looking back in widening windows, no further than the account's leave date and
    the policy's `windows.leaver_history_days` (an account silent that long counts as new again)."""
    senders = messages.select(pl.col("sender").filter(~pl.col("action").is_in(NOT_A_MESSAGE)).unique()).to_series()
    senders = senders.implode()
    pending = departed_accounts(roster_df, day).filter(pl.col("userid").is_in(senders))
    found = [pl.DataFrame(schema=HISTORY_SCHEMA)]
    hi, _ = day_bounds(day)
    bound = hi - timedelta(days=history_days)
    for span in HISTORY_WINDOWS:
        if pending.height == 0:
            break
        earliest, _ = day_bounds(pending["leave_date"].min() + timedelta(days=1))
        earliest = max(earliest, bound)
        lo = earliest if span is None else max(earliest, hi - span)
        if lo >= hi:
            break
        rows = (
            up.window("wecom_messages", lo, hi)
            .filter(pl.col("sender").is_in(pending["userid"].implode()) & ~pl.col("action").is_in(NOT_A_MESSAGE))
            .select("sender", "sent_at", "msgid")
            .collect()
            .join(pending.select("userid", "leave_date"), left_on="sender", right_on="userid")
            .filter(pl.col("sent_at").dt.date() > pl.col("leave_date"))
            .sort("sent_at")
            .unique("sender", keep="first")
            .select(list(HISTORY_SCHEMA))
        )
        found.append(rows)
        pending = pending.join(rows.select(userid="sender"), on="userid", how="anti")
        hi = lo
    return pl.concat(found, how="vertical_relaxed")


def _enabled_params(policy, clause_id: str):
    if clause_id in policy.clauses and policy.clause(clause_id).enabled:
        return policy.params(clause_id)
    return None


def day_messages(jc: JudgeContext, roster_df: pl.DataFrame,
                 word_lists: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the day's messages the message rules can report or read, normalised; the day's group
    records as `group_records` takes them). Read and normalised a slice at a time: only the kept
    rows (`chat_prefilter.rules_may_read`, a few percent of a day) and the group records' narrow
    columns outlive a slice, so a 10M-message day is never held whole with its text twice. Each
    distinct text of a slice is normalised once when the slice's texts repeat, and a text an
    earlier slice normalised is not normalised again (`chat_prefilter.kept_messages`)."""
    path = jc.staged.path("wecom_messages", jc.partition_key)
    if not path.exists():
        raise FileNotFoundError(f"staged table wecom_messages {jc.partition_key} not materialized yet: {path}")
    scan = pl.scan_parquet(path).select(MESSAGE_COLUMNS)
    rows = scan.select(pl.len()).collect().item()
    chat02 = _enabled_params(jc.policy, "CHAT-02")
    text_test = text_may_be_read(terms=term_patterns(word_lists),
                                 patterns=chat02.patterns if chat02 is not None else None,
                                 sensitive=_enabled_params(jc.policy, "CHAT-04"))
    record_test = record_may_be_read(MESSAGE_COLUMNS, departed=departed_accounts(roster_df, jc.day)["userid"])
    known = TextVerdicts()

    def take(offset: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        part = scan.slice(offset, SLICE_ROWS).collect()
        return (kept_messages(part, text_test=text_test, record_test=record_test, known=known),
                today_group_records(part))

    if rows <= SLICE_ROWS:  # one slice: no pool
        return take(0)
    # two slices at a time: polars releases the GIL, and normalising a slice is mostly
    # one-threaded string kernels, so the second core works on the next slice (results in order)
    with ThreadPoolExecutor(max_workers=SLICE_WORKERS) as pool:
        done = list(pool.map(take, range(0, rows, SLICE_ROWS)))
    return pl.concat([k for k, _ in done]), pl.concat([g for _, g in done])


def chat_frames(jc: JudgeContext) -> dict[str, pl.DataFrame]:
    # the day's report (after the findings in `judge_day`) looks its chart fonts up in Python
    # (~0.3 CPU s): in a thread while the day's messages are read, mostly polars work without the GIL
    look_up_fonts_soon()
    roster_df = jc.staged.read("roster")
    word_lists = load_word_lists(jc.policy)
    messages, today_groups = day_messages(jc, roster_df, word_lists)
    start, _ = day_bounds(jc.day)
    earlier = earlier_group_messages(jc.upstream, start - ack_lookback(jc.policy), start)
    # the frames built from the day's are independent of each other (pure functions of frames
    # nobody mutates): two at a time, as the slices (polars releases the GIL). One after another
    # they kept one core busy for ~0.5 s of a 10M-message day (term candidates and the group
    # records' dedupe ~0.2 s each)
    with ThreadPoolExecutor(max_workers=SLICE_WORKERS) as pool:
        built = {
            "group_messages": pool.submit(with_earlier_records, today_groups, earlier),
            "term_candidates": pool.submit(term_candidates, messages, word_lists),
            "members": pool.submit(member_frames, jc, earlier),
            "leaver_history": pool.submit(leaver_history, jc.upstream, messages, roster_df, jc.day,
                                          jc.policy.windows.leaver_history_days),
        }
        return {
            "messages": messages,
            "term_candidates": built["term_candidates"].result(),
            "group_messages": built["group_messages"].result(),
            "members": built["members"].result(),
            "leaver_history": built["leaver_history"].result(),
            "roster": roster_df,
            "word_lists": word_lists,
        }


chat_findings = build_findings_asset(
    "chat",
    deps=[wecom_messages, wecom_membership_timeline, wecom_groups, wecom_group_members, wecom_group_events, roster],
    build_frames=chat_frames,
    description=(
        "会话内容合规发现 (CHAT-01 违禁内容, CHAT-02 广告招揽, CHAT-03 可疑链接, CHAT-04 敏感信息, CHAT-05 辱骂, "
        "CHAT-06 领导 @ 30 分钟回复, CHAT-07 @所有人 24 小时回复, ACC-01 离职账号仍在使用) for the partition day: "
        "content findings on the day a message was sent, CHAT-06/07 on the day the reply window ends (a 23:50 "
        "mention is judged with the next day's messages), ACC-01 once per account on its first post-departure day. "
        "Written to the `findings` table; one asset check per clause: WARN when unwaived findings remain."
    ),
)

chat_assets = [chat_findings]
chat_checks: list = []
