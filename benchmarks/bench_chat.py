"""Time the message clauses CHAT-01..CHAT-07 and ACC-01 on generated chat (not a test).

    .venv/bin/python benchmarks/bench_chat.py --messages 1000000

Generates one judged day of N archive messages (plus the evening before, for the CHAT-06/07
windows): ~70 % in groups of 5-200 members, short workplace lines, a share in traditional script,
links, numbers, leaders' @mentions and @所有人, and a sprinkle of planted violations. Prints the
seconds of the shared preparation (`prepare_messages`, `term_candidates`, `group_records`: once per
day in the asset) and of each clause, and the total as seconds per million messages.
"""

import argparse
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from wxpipeline.checks.chat_01_03_05_content import prepare_messages, term_candidates
from wxpipeline.checks.chat_06_07_replies import EARLIER_COLUMNS, group_records
from wxpipeline.checks.registry import CLAUSES, clauses_for
from wxpipeline.checks.textnorm import traditional_chars
from wxpipeline.checks.wordlists import load_word_lists
from wxpipeline.derive.membership import SCHEMA as TIMELINE_SCHEMA
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.policy import load_policy

DAY = date(2026, 10, 12)
SH = ZoneInfo("Asia/Shanghai")
PLAIN = ["收到，谢谢！", "好的，我这边马上处理。", "今天下午三点在三楼会议室开周会，请准时参加。", "报销单据请按月整理好交到财务部。",
         "客户那边确认了，下周二去杭州拜访。", "这个方案可以，按这个执行吧。", "稍等，我查一下。", "中午一起吃饭吗？",
         "数据已经导出，放在共享目录的周报文件夹。", "系统今晚十点到十一点例行维护，期间暂停使用。", "项目复盘：遇到了不少大麻烦",
         "周报见 https://mp.weixin.qq.com/s/AbCdEfGh", "订单号 2026101200012345，明天发货", "我的电话 13812345678"]
TRADITIONAL = ["這個問題我們下週再討論", "請把會議紀錄發給我", "收到，馬上處理"]
BAD = ["有人在群里发百家乐链接", "賭 博网站别点", "宝妈兼职日结300加微信 abc12345", "下载 http://1.2.3.4/setup.exe",
       "身份证号 110105199003071233", "这是内部资料别外传", "你个蠢货", "短链 t.cn/A6xYz"]


def generate(n: int, seed: int = 1) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    users = max(50, n // 500)
    groups = max(10, n // 2000)
    uid = np.array([f"u{i}" for i in range(users)])
    leaders = set(uid[: users // 20])
    start = datetime.combine(DAY - timedelta(days=1), datetime.min.time(), SH)
    secs = np.sort(rng.integers(0, 2 * 86400, n))
    senders = uid[rng.integers(0, users, n)]
    in_group = rng.random(n) < 0.7
    room = np.where(in_group, np.array([f"wr{g}" for g in range(groups)])[rng.integers(0, groups, n)], None)
    r = rng.random(n)
    plain = np.array(PLAIN)[rng.integers(0, len(PLAIN), n)]
    trad = np.array(TRADITIONAL)[rng.integers(0, len(TRADITIONAL), n)]
    bad = np.array(BAD)[rng.integers(0, len(BAD), n)]
    text = np.where(r < 0.001, bad, np.where(r < 0.05, trad, plain))
    is_leader = np.isin(senders, list(leaders))
    mention = in_group & is_leader & (rng.random(n) < 0.2)
    notice = in_group & is_leader & (rng.random(n) < 0.01)
    text = pl.select(
        pl.when(pl.Series(notice)).then(pl.lit("@所有人 明天上午九点全员大会"))
        .when(pl.Series(mention)).then(pl.format("@{}\u2005请尽快处理", pl.Series(uid[rng.integers(0, users, n)])))
        .otherwise(pl.Series(text, dtype=pl.String))
    ).to_series()
    ts = (pl.from_epoch(pl.Series(int(start.timestamp()) + secs), time_unit="s").dt.replace_time_zone("UTC")
          .dt.convert_time_zone("Asia/Shanghai").cast(SCHEMAS["wecom_messages"]["sent_at"]))
    msgs = pl.DataFrame({
        "msgid": [f"m{i}" for i in range(n)], "action": "send", "sender": senders,
        "roomid": pl.Series(room, dtype=pl.String), "sent_at": ts, "msgtype": "text",
        "text": text, "urls": [[]] * n, "revoked_msgid": None,
    }, schema_overrides={"urls": pl.List(pl.String), "revoked_msgid": pl.String})
    lo = datetime.combine(DAY, datetime.min.time(), SH)
    today, earlier = msgs.filter(pl.col("sent_at") >= lo), msgs.filter(pl.col("sent_at") < lo)
    earlier = earlier.filter(pl.col("roomid").is_not_null()).with_columns(
        pl.when(pl.col("text").str.contains("@", literal=True)).then("text").alias("text"))
    # every user in 8 groups (and the mentioned users are found by their userid as nickname)
    member_rows = pl.DataFrame({
        "userid": np.repeat(uid, 8), "group_id": [f"wr{g}" for g in rng.integers(0, groups, users * 8)],
    }).unique()
    stays = pl.concat([
        member_rows.with_columns(pl.lit(d).alias("day")) for d in (DAY - timedelta(days=1), DAY)
    ]).with_columns(
        pl.lit(datetime(2026, 1, 1, tzinfo=SH)).cast(TIMELINE_SCHEMA["joined_at"]).alias("joined_at"),
        pl.lit(None, dtype=TIMELINE_SCHEMA["left_at"]).alias("left_at"),
        pl.col("userid").alias("group_nickname"), pl.lit("群").alias("group_name"),
    )
    roster = pl.DataFrame({
        "employee_id": [f"E{i:06d}" for i in range(users)], "name": [f"员工{i}" for i in range(users)],
        "hire_date": date(2020, 1, 1), "leave_date": [date(2026, 9, 1) if i % 97 == 5 else None for i in range(users)],
        "wecom_userid": uid, "is_leader": np.isin(uid, list(leaders)),
    }, schema_overrides={"leave_date": pl.Date})
    return {"messages": today, "earlier_messages": earlier.select(EARLIER_COLUMNS), "members": stays,
            "roster": roster,
            "leaver_history": pl.DataFrame(schema={"sender": pl.String, "sent_at": ts.dtype, "msgid": pl.String})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000, help="messages over the judged day and the one before")
    a = ap.parse_args()
    policy = load_policy().for_day(DAY)
    t = time.perf_counter()
    frames = generate(a.messages)
    print(f"generated {a.messages} messages ({frames['messages'].height} on {DAY}) in {time.perf_counter() - t:.1f}s")
    frames["word_lists"] = load_word_lists(policy)
    traditional_chars()  # one-off table build, not per run
    day_n = frames["messages"].height
    t = time.perf_counter()
    frames["messages"] = prepare_messages(frames["messages"])
    timings = {"normalise (once per day)": time.perf_counter() - t}
    t = time.perf_counter()
    frames["term_candidates"] = term_candidates(frames["messages"], frames["word_lists"])
    timings["word-list scan (once per day)"] = time.perf_counter() - t
    t = time.perf_counter()
    frames["group_messages"] = group_records(frames["messages"], frames["earlier_messages"])
    timings["group records (once per day)"] = time.perf_counter() - t
    for c in clauses_for("chat"):
        t = time.perf_counter()
        out = CLAUSES[c.id].run(frames, policy.params(c.id), DAY)
        timings[f"{c.id} ({out.height} findings)"] = time.perf_counter() - t
    total = sum(timings.values())
    per_m = 1e6 / day_n
    for k, v in timings.items():
        print(f"  {k:32s} {v:7.2f}s  {v * per_m:6.2f} s per million")
    print(f"total {total:.2f}s for {day_n} messages of the judged day: {total * per_m:.2f} s per million messages")


if __name__ == "__main__":
    main()
