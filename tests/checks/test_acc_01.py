"""ACC-01 an account used after its employee's leave date: one finding per account, first day."""

from datetime import date

import polars as pl

from .chat_frames import DAY, evidence, messages, msg, roster, run, subjects
from .frames import ts


def history(*rows):
    return pl.DataFrame([{"sender": s, "sent_at": ts(t), "msgid": m} for s, t, m in rows],
                        schema={"sender": pl.String, "sent_at": pl.Datetime("us", "Asia/Shanghai"), "msgid": pl.String})


def test_first_message_after_leaving_is_one_finding_per_account():
    out = run("ACC-01", messages(msg("你好，还记得我吗", "2026-10-12 09:00:00", sender="zhaolei", room=None, msgid="A1"),
                                 msg("在吗", "2026-10-12 11:00:00", sender="zhaolei", msgid="A2")))
    assert subjects(out) == ["zhaolei"]
    row = out.row(0, named=True)
    assert (row["employee_id"], row["partition_date"], row["group_id"]) == ("E0024", DAY, None)
    ev = evidence(out)
    assert (ev["leave_date"], ev["first_msgid"], ev["records_today"], ev["days_after_leave"]) == (
        "2026-09-25", "A1", 2, 17)
    assert "2026-09-25 离职" in row["summary"] or "已于 2026-09-25 离职" in row["summary"]


def test_not_repeated_once_reported_on_an_earlier_day():
    today = messages(msg("在吗", sender="zhaolei", room=None))
    assert run("ACC-01", today, history=history(("zhaolei", "2026-10-05 10:00:00", "H1"))).height == 0
    # a message from before the leave date is no earlier breach
    assert subjects(run("ACC-01", today, history=history(("zhaolei", "2026-09-24 10:00:00", "H0")))) == ["zhaolei"]


def test_near_misses():
    leave_day = messages(msg("交接完毕，再见", "2026-09-25 17:00:00", sender="zhaolei"))
    assert run("ACC-01", leave_day, day=date(2026, 9, 25)).height == 0  # still active on the leave date
    switch = messages(msg(None, sender="zhaolei", action="switch", msgtype="switch", room=None))
    assert run("ACC-01", switch).height == 0  # a log-in switch is not a message
    assert run("ACC-01", messages(msg("早", sender="zhangwei"))).height == 0
    rehired = roster(("E0077", "赵磊", "zhaolei", False, "2026-10-08", None))
    assert run("ACC-01", messages(msg("我回来了", sender="zhaolei")), people=rehired).height == 0


def test_first_record_groups_and_types_follow_time_then_msgid():
    """The first record, the first 10 groups and the message types, each by first appearance in
    (sent_at, msgid) order, are those of sorting every record of the day (many records at one
    time, more than 10 groups, one-to-one records, two departed accounts)."""
    import random

    rng = random.Random(16)
    people = roster(("E0090", "钱多", "qianduo", False, "2020-01-01", "2026-10-01"))
    rooms = [f"wr{i:02d}" for i in range(14)] + [None]
    rows = [msg("在吗", f"2026-10-12 {rng.choice(['09', '10', '11'])}:00:0{rng.randint(0, 2)}",
                sender=rng.choice(["zhaolei", "qianduo", "zhangwei"]), room=rng.choice(rooms),
                msgid=f"{rng.randint(0, 10**6):07d}", msgtype=rng.choice(["text", "image", "file", "link"]))
            for _ in range(400)]
    # a message type first seen after each of the account's groups had its earliest record
    rows.append(msg("语音", "2026-10-12 12:00:00", sender="qianduo", room="wr00", msgid="9999999", msgtype="voice"))
    out = run("ACC-01", messages(*rows), people=people)
    expected = (
        messages(*rows).filter(pl.col("sender").is_in(["zhaolei", "qianduo"])).sort("sent_at", "msgid")
        .group_by("sender", maintain_order=True).agg(
            pl.col("msgid").first(), pl.len(), pl.col("roomid").drop_nulls().unique(maintain_order=True).head(10),
            pl.col("roomid").is_null().sum().alias("one_to_one"), pl.col("msgtype").unique(maintain_order=True))
    )
    got = {s: evidence(out, i) for i, s in enumerate(subjects(out))}
    assert set(got) == {"zhaolei", "qianduo"}
    for sender, first, n, groups, one_to_one, types in expected.iter_rows():
        ev = got[sender]
        assert (ev["first_msgid"], ev["records_today"], ev["groups"], ev["one_to_one"], ev["msgtypes"]) == (
            first, n, groups, one_to_one, types)
        assert len(groups) == 10
    assert "voice" in got["qianduo"]["msgtypes"]
