"""CHAT-06 a leader's @ answered in the same group within 30 minutes (midnight crossing included)."""

from datetime import date

from .chat_frames import DAY, ROOM, evidence, members, messages, msg, roster, run, stay, subjects

D0 = date(2026, 10, 11)
STAYS = [stay("chenjing", "陈静-经理"), stay("zhangwei", "张伟-出纳"), stay("wujing", None), stay("lina", "李娜-主管")]


def judge(*rows, day=DAY, earlier=(), stays=STAYS, people=None):
    return run("CHAT-06", messages(*rows), day=day, earlier=messages(*earlier), stays=members(*stays),
               people=people)


def mention(text="@张伟-出纳\u2005请把九月报表发我", at="2026-10-12 10:00:00", sender="chenjing", msgid="I1", room=ROOM):
    return msg(text, at, sender=sender, msgid=msgid, room=room)


def reply(at, sender="zhangwei", room=ROOM):
    return msg("收到", at, sender=sender, room=room)


def test_answered_after_29_minutes_does_not_fire_after_31_fires():
    assert judge(mention(), reply("2026-10-12 10:29:00")).height == 0
    assert judge(mention(), reply("2026-10-12 10:30:00")).height == 0  # exactly 30 minutes is in time
    out = judge(mention(), reply("2026-10-12 10:31:00"))
    assert subjects(out) == ["I1/zhangwei"]
    row = out.row(0, named=True)
    assert (row["employee_id"], row["group_id"], row["partition_date"]) == ("E0004", ROOM, DAY)
    ev = evidence(out)
    assert (ev["fine_yuan"], ev["deadline"], ev["first_post_after"], ev["leader"]) == (
        "100", "2026-10-12 10:30:00", "2026-10-12 10:31:00", "chenjing")
    assert (ev["mentioned_as"], ev["label_kind"]) == ("张伟-出纳", "group_nickname")
    assert "罚款 100 元" in row["summary"] and "财务部工作群" in row["summary"]


def test_unanswered_and_answers_that_do_not_count():
    assert subjects(judge(mention())) == ["I1/zhangwei"]
    # a post before the mention, in another group, or by someone else is no answer
    out = judge(msg("早", "2026-10-12 09:59:00"), mention(), reply("2026-10-12 10:05:00", room="wrOther"),
                reply("2026-10-12 10:05:00", sender="lina"))
    assert subjects(out) == ["I1/zhangwei"]


def test_by_roster_name_prefix_and_several_members():
    out = judge(mention("@吴静 @李娜-主管\u2005下午三点开会", msgid="I2"), reply("2026-10-12 10:10:00", sender="lina"))
    assert subjects(out) == ["I2/wujing"]  # no nickname: the roster name
    assert evidence(out)["label_kind"] == "roster_name"
    out = judge(mention("@张伟-出纳请尽快回复", msgid="I3"))  # no space after the mention: longest label
    assert subjects(out) == ["I3/zhangwei"]


def test_ambiguous_name_and_who_is_not_obliged():
    stays = [*STAYS, stay("zhangwei2", "张伟-会计")]
    assert judge(mention("@张伟 看一下", msgid="I4"), stays=stays).height == 0  # two 张伟
    assert subjects(judge(mention("@张伟-会计 看一下", msgid="I5"), stays=stays)) == ["I5/zhangwei2"]
    # not a leader; the leader themself; not in the group; the window has not ended yet
    assert judge(mention(sender="lina")).height == 0
    assert judge(mention("@陈静-经理 提醒自己")).height == 0
    assert judge(mention("@王建国 请审批")).height == 0
    assert judge(mention(at="2026-10-12 23:50:00")).height == 0
    # departed (roster) or external members are not bound
    gone = [stay("zhaolei", "赵磊-会计"), *STAYS]
    assert judge(mention("@赵磊-会计 交接一下"), stays=gone).height == 0
    ext = [stay("wmExternal01", "王总（客户）"), *STAYS]
    assert judge(mention("@王总（客户） 您好"), stays=ext).height == 0


def test_member_joined_after_or_left_before_the_deadline():
    late = [stay("chenjing", "陈静-经理"), stay("zhangwei", "张伟-出纳", joined="2026-10-12 10:05:00")]
    assert judge(mention(), stays=late).height == 0
    left = [stay("chenjing", "陈静-经理"), stay("zhangwei", "张伟-出纳", left="2026-10-12 10:20:00")]
    assert judge(mention(), stays=left).height == 0


def test_recalled_instruction_obliges_nobody():
    recall = msg(None, "2026-10-12 10:01:00", sender="chenjing", action="recall", revoked="I1")
    assert judge(mention(), recall).height == 0


def test_midnight_crossing_lands_on_the_day_the_window_ends():
    stays = [*STAYS, *[{**s, "day": D0} for s in STAYS]]
    evening = mention(at="2026-10-11 23:50:00", msgid="N1")
    # answered at 00:10: acknowledged
    assert judge(reply("2026-10-12 00:10:00"), earlier=[evening], stays=stays).height == 0
    # unanswered: not a finding of the mention's day, a finding of the next day
    assert judge(evening, day=D0, stays=stays).height == 0
    out = judge(reply("2026-10-12 00:21:00"), earlier=[evening], stays=stays)
    assert subjects(out) == ["N1/zhangwei"] and out["partition_date"].to_list() == [DAY]
    assert evidence(out)["deadline"] == "2026-10-12 00:20:00"
    # the nickname is resolved against the mention's own day
    renamed = [*STAYS, stay("zhangwei", "张伟-会计", day=D0), stay("zhangwei2", "张伟-出纳", day=D0),
               stay("chenjing", "陈静-经理", day=D0)]
    assert subjects(judge(earlier=[evening], stays=renamed)) == ["N1/zhangwei2"]


def test_leader_who_has_left_is_no_longer_a_leader():
    people = roster(("E0099", "钱多", "qianduo", True, "2010-01-01", "2026-10-01"))
    stays = [*STAYS, stay("qianduo", "钱多-经理")]
    assert judge(mention(sender="qianduo"), stays=stays, people=people).height == 0


def test_last_of_each_is_is_last_distinct():
    import random

    import polars as pl

    from wxpipeline.checks.chat_06_07_replies import last_of_each

    rng = random.Random(3)
    keys = pl.Series("msgid", [rng.choice(["a", "b", "c", None, *map(str, range(50))]) for _ in range(400)])
    assert last_of_each(keys).equals(keys.is_last_distinct())
    unique = pl.Series("msgid", ["x", "y", "z"])
    assert last_of_each(unique).to_list() == [True, True, True]
    assert last_of_each(unique.clear()).len() == 0


def test_group_records_of_a_slice_keep_their_columns_chunked_alike():
    """A slice read a row group at a time whose group records hold no `@`: `_at_only` left `text`
    one all-null chunk while the other columns kept theirs, and `with_earlier_records` then copied
    the whole day's records into one chunk (the 10M bench day: 6.2M rows)."""
    from datetime import datetime

    import polars as pl

    from wxpipeline.checks.chat_06_07_replies import today_group_records, with_earlier_records

    def chunk(room, texts):
        n = len(texts)
        return pl.DataFrame({"msgid": [f"{room}-{i}" for i in range(n)], "action": ["send"] * n, "sender": ["u"] * n,
                             "roomid": [room] * n, "sent_at": [datetime(2026, 1, 1)] * n, "text": texts,
                             "revoked_msgid": [None] * n}, schema_overrides={"roomid": pl.String, "revoked_msgid": pl.String})

    part = pl.concat([chunk("r1", ["a", "x"]), chunk(None, ["c@", "d"]), chunk("r2", ["y", "z"])], rechunk=False)
    out = today_group_records(part)
    assert len(set(out.n_chunks("all"))) == 1
    assert out.to_dict(as_series=False) == today_group_records(part.rechunk()).to_dict(as_series=False)
    assert with_earlier_records(out, out.clear())["text"].to_list() == [None] * 4
