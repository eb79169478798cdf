"""CHAT-07 a leader's @所有人 answered by every active employee of the group within 24 hours."""

from datetime import date

from .chat_frames import DAY, evidence, members, messages, msg, run, stay, subjects

D0 = date(2026, 10, 11)
PEOPLE = [("chenjing", "陈静-经理"), ("zhangwei", "张伟-出纳"), ("wujing", "吴静-会计"), ("lina", "李娜-主管"),
          ("wmExternal01", "王总（客户）"), ("zhaolei", "赵磊-会计")]
STAYS = [stay(u, n, day=d) for d in (D0, DAY) for u, n in PEOPLE]


def judge(*rows, earlier=(), day=DAY, stays=STAYS):
    return run("CHAT-07", messages(*rows), day=day, earlier=messages(*earlier), stays=members(*stays))


def notice(text="@所有人 明天上午九点全员大会", at="2026-10-11 10:00:00", sender="chenjing", msgid="G1"):
    return msg(text, at, sender=sender, msgid=msgid)


def post(user, at):
    return msg("收到", at, sender=user)


def test_every_active_employee_but_the_sender_must_post_within_24_hours():
    earlier = [notice(), post("zhangwei", "2026-10-11 10:05:00")]
    out = judge(post("wujing", "2026-10-12 09:59:59"), earlier=earlier)
    assert subjects(out) == ["G1/lina"]  # not the sender, the external customer or the departed 赵磊
    ev = evidence(out)
    assert (ev["deadline"], ev["first_post_after"], ev["window_hours"]) == ("2026-10-12 10:00:00", None, 24.0)
    assert out["employee_id"].to_list() == ["E0007"] and out["partition_date"].to_list() == [DAY]
    out = judge(post("wujing", "2026-10-12 10:00:01"), post("lina", "2026-10-12 10:00:00"), earlier=earlier)
    assert subjects(out) == ["G1/wujing"]
    assert evidence(out)["first_post_after"] == "2026-10-12 10:00:01"


def test_judged_on_the_day_the_24_hours_end():
    assert judge(notice(at="2026-10-12 10:00:00")).height == 0  # its window ends tomorrow
    assert judge(notice(), day=D0).height == 0


def test_at_all_variants_and_near_misses():
    assert subjects(judge(earlier=[notice("@All 请查收通知")])) == ["G1/lina", "G1/wujing", "G1/zhangwei"]
    assert judge(earlier=[notice("@allen 请查收")]).height == 0  # a person called allen
    assert judge(earlier=[notice(sender="lina")]).height == 0  # not a leader
    assert judge(earlier=[notice("明天全员大会，所有人参加")]).height == 0  # no @


def test_members_who_joined_after_the_notice_are_not_obliged():
    stays = [stay("chenjing", "陈静-经理", day=D0), stay("chenjing", "陈静-经理"),
             stay("lina", "李娜-主管", day=D0, joined="2026-10-11 12:00:00"),
             stay("lina", "李娜-主管", joined="2026-10-11 12:00:00")]
    assert judge(earlier=[notice()], stays=stays).height == 0
