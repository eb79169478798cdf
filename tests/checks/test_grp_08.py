"""GRP-08 a dismissal needs a notice in the group within the 7 days before it: 解散, a date and
操作人; the evidence names the missing parts."""

from .grp_frames import G, event, events, messages, msg, run, subjects, evidence

DAY = "2026-10-09"
DISMISS = event("2026-10-09 15:00:00", "dismiss", group=G)


def judge(*rows, evs=(DISMISS,)):
    return run("GRP-08", DAY, events=events(*evs), notice_messages=messages(*rows))


def test_complete_notice_with_reason_date_and_operator():
    for text in ("因项目已结束，本群将于10月9日解散，请提前保存资料。操作人：陈静",
                 "因Q4预算编制工作完成，本群将于2026-10-09解散。操作人：陈静",
                 "本群将于１０月９日解散（操作人：陈静）", "本群将于十月九日解散，操作人：陈静"):
        assert judge(msg(text, "2026-10-08 10:00:00")).height == 0, text


def test_no_notice():
    out = judge(msg("收到，谢谢！", "2026-10-08 10:00:00"))
    assert subjects(out) == [G]
    ev = evidence(out)
    assert ev["missing"] == ["解散", "日期", "操作人"] and ev["notice_msgid"] is None
    assert "无解散通知" in out["summary"][0]


def test_incomplete_notice_names_the_missing_parts():
    out = judge(msg("本群将于10月9日解散，请大家及时保存资料。", "2026-10-08 10:00:00", msgid="n1"))
    assert evidence(out)["missing"] == ["操作人"] and evidence(out)["notice_msgid"] == "n1"
    assert evidence(judge(msg("本群近期解散。操作人：陈静", "2026-10-08 10:00:00")))["missing"] == ["日期"]
    assert evidence(judge(msg("10月9日关闭本群。操作人：陈静", "2026-10-08 10:00:00")))["missing"] == ["解散"]
    # the most complete announcement counts
    out = judge(msg("本群近期解散", "2026-10-07 10:00:00"), msg("本群将于10月9日解散", "2026-10-08 10:00:00"))
    assert evidence(out)["missing"] == ["操作人"]


def test_notice_outside_the_window_or_elsewhere_does_not_count():
    full = "本群将于10月9日解散，操作人：陈静"
    assert judge(msg(full, "2026-10-02 14:59:00")).height == 1  # more than 7 days before
    assert judge(msg(full, "2026-10-02 15:00:00")).height == 0  # exactly 7 days before
    assert judge(msg(full, "2026-10-09 15:30:00")).height == 1  # after the dismissal
    assert judge(msg(full, "2026-10-08 10:00:00", room="wrOgQhDgAAelsewhere000AAAA")).height == 1
    recalled = [msg(full, "2026-10-08 10:00:00", msgid="n1"),
                msg(None, "2026-10-08 10:01:00", msgid="r1", action="recall", revoked="n1")]
    assert judge(*recalled).height == 1


def test_only_dismissals_of_the_day():
    assert judge(evs=[event("2026-10-08 15:00:00", "dismiss", group=G)]).height == 0
    assert judge(evs=[]).height == 0
