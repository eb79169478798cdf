"""GRP-01 real-name nicknames: the format per group type, separators and spaces, reported on the
first day a snapshot shows a non-compliant nickname."""

from .grp_frames import G, OPEN, member, reg, registry, run, snapshot_members, subjects, evidence

DAY = "2026-10-12"
TONIGHT = "2026-10-12 23:30:00"
LAST_NIGHT = "2026-10-11 23:30:00"
TEMP = "wrOgQhDgAAgrptemp00000000AAAA"
COMPANY = "wrOgQhDgAAgrpcomp00000000AAAA"
GROUPS = registry(reg(TEMP, "国庆值班临时群", "temporary", work_item_end="2026-10-20"),
                  reg(COMPANY, "公司全员通知群", "company"))


def judge(*rows, day=DAY):
    return run("GRP-01", day, snapshot_members=snapshot_members(*rows), group_registry=GROUPS)


def test_wrong_nickname_with_the_nickname_found_and_expected():
    out = judge(member("zhangwei", "小张", TONIGHT))
    assert subjects(out) == [f"{G}/zhangwei"]
    ev = evidence(out)
    assert ev["nickname"] == "小张" and ev["expected"] == ["张伟-出纳"] and ev["group_type"] == "department"
    assert out["employee_id"][0] == "E0004" and "张伟-出纳" in out["summary"][0]


def test_separators_and_spaces_are_equivalent():
    for nick in (" 张伟 － 出纳 ", "张伟—出纳", "张伟 - 出纳", "张伟－出纳\u3000", "张伟-出纳"):
        assert judge(member("zhangwei", nick, TONIGHT)).height == 0, nick


def test_format_per_group_type():
    # company groups want the department, department/special groups the position, temporary either
    assert subjects(judge(member("zhangwei", "张伟-出纳", TONIGHT, group=COMPANY))) == [f"{COMPANY}/zhangwei"]
    assert judge(member("zhangwei", "张伟-财务部", TONIGHT, group=COMPANY)).height == 0
    assert subjects(judge(member("zhangwei", "张伟-财务部", TONIGHT))) == [f"{G}/zhangwei"]
    assert judge(member("zhangwei", "张伟-出纳", TONIGHT, group=OPEN)).height == 0
    for nick in ("张伟-财务部", "张伟－出纳"):
        assert judge(member("zhangwei", nick, TONIGHT, group=TEMP)).height == 0
    out = judge(member("zhangwei", "张伟", TONIGHT, group=TEMP))
    assert evidence(out)["expected"] == ["张伟-财务部", "张伟-出纳"]


def test_not_judged_outside_the_clause():
    assert judge(member("wmCustomer01", "王总（客户）", TONIGHT, member_type=2)).height == 0  # not an employee
    assert judge(member("songjiayi", "小宋", TONIGHT)).height == 0  # departed (GRP-02's business)
    assert judge(member("zhangwei", None, TONIGHT)).height == 0  # 会话存档 snapshots carry no nickname
    assert judge(member("zhangwei", "小张", TONIGHT, group="wrUnregistered0000AAAA")).height == 0


def test_reported_once_on_the_first_day_a_snapshot_shows_it():
    today, before = member("zhangwei", "小张", TONIGHT), member("zhangwei", "小张", LAST_NIGHT)
    assert judge(before, today).height == 0  # already shown by the previous snapshot
    assert judge(member("zhangwei", "张伟-出纳", LAST_NIGHT), today).height == 1  # renamed today
    rejoined = member("zhangwei", "小张", TONIGHT, joined="2026-10-12 15:00:00")
    assert judge(before, rejoined).height == 1  # a new stay
    # the previous snapshot is the group's last one before the day, however old
    older = member("zhangwei", "小张", "2026-10-09 23:30:00")
    other = member("chenjing", "陈静-经理", LAST_NIGHT)
    assert judge(older, other, today).height == 1  # last night's snapshot no longer had the bad name
    assert judge(older, today).height == 0
    # a snapshot taken after the judged day is not evidence of it
    assert judge(member("zhangwei", "小张", "2026-10-13 23:30:00")).height == 0
