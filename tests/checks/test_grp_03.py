"""GRP-03 new hires join only after 3 completed PRC working days (调休 included)."""

from .grp_frames import G, calendar, event, events, members, roster, run, stay, subjects, evidence

HIRES = [
    ("E0058", "周洋", "技术部", "工程师", "zhouyang", "2026-09-29", None),  # Tue: 09-29, 09-30, 10-08 -> 10-09
    ("E0061", "林晨", "技术部", "工程师", "linchen", "2026-09-30", None),  # Wed: 09-30, 10-08, 10-09 -> Sat 10-10
    ("E0062", "何亮", "技术部", "工程师", "heliang", "2026-10-01", None),  # holiday: 10-08, 10-09, Sat 10-10 -> 10-12
]
CAL = calendar("2026-09-01", "2026-11-15")


def judge(userid, joined, cal=CAL):
    """A join seen by its add_member event (no snapshot yet)."""
    day = joined[:10]
    s = stay(userid, day=day, joined=joined, first_seen=None, join_source="event")
    return run("GRP-03", day, members=members(s),
               roster=roster(*HIRES), calendar=cal)


def test_joined_before_completing_three_working_days():
    out = judge("zhouyang", "2026-10-08 10:00:00")
    assert subjects(out) == [f"{G}/zhouyang"] and out["partition_date"][0].isoformat() == "2026-10-08"
    ev = evidence(out)
    assert ev["allowed_from"] == "2026-10-09" and ev["working_days_completed"] == 2 and ev["calendar_known"]
    assert judge("zhouyang", "2026-10-09 00:00:00").height == 0


def test_wait_across_the_national_day_holiday_and_the_makeup_saturday():
    # hired 09-30: the holiday does not count, the make-up Saturday 10-10 is the first allowed day
    assert judge("linchen", "2026-10-10 09:00:00").height == 0
    assert evidence(judge("linchen", "2026-10-09 17:00:00"))["allowed_from"] == "2026-10-10"
    # hired on a holiday: day 1 is 10-08, the make-up Saturday is the 3rd working day
    assert judge("heliang", "2026-10-12 00:00:00").height == 0
    out = judge("heliang", "2026-10-11 20:00:00")
    assert evidence(out)["allowed_from"] == "2026-10-12" and evidence(out)["working_days_completed"] == 3


def test_joined_before_the_hire_date():
    out = judge("zhouyang", "2026-09-28 10:00:00")
    assert evidence(out)["working_days_completed"] == 0


def test_unknown_year_falls_back_to_monday_to_friday():
    hire = ("E0063", "高峰", "技术部", "工程师", "gaofeng", "2040-01-02", None)  # a Monday
    cal = calendar("2039-12-01", "2040-02-15")
    out = run("GRP-03", "2040-01-04", members=members(stay("gaofeng", day="2040-01-04", joined="2040-01-04 10:00:00",
                                                        first_seen="2040-01-04 23:30:00")),
              roster=roster(hire), calendar=cal)
    assert evidence(out)["allowed_from"] == "2040-01-05" and evidence(out)["calendar_known"] is False
    ok = run("GRP-03", "2040-01-05", members=members(stay("gaofeng", day="2040-01-05", joined="2040-01-05 09:00:00",
                                                       first_seen="2040-01-05 23:30:00")),
             roster=roster(hire), calendar=cal)
    assert ok.height == 0


def test_only_joins_of_the_day_by_employees():
    assert judge("zhangwei", "2026-10-08 10:00:00").height == 0  # hired long ago
    assert judge("wmCustomer01", "2026-10-08 10:00:00").height == 0  # not an employee (GRP-04's business)
    early = stay("zhouyang", day="2026-10-09", joined="2026-10-08 10:00:00", join_source="event", first_seen=None)
    assert run("GRP-03", "2026-10-09", members=members(early), roster=roster(*HIRES), calendar=CAL).height == 0


def test_join_after_the_days_snapshot_with_its_event_lost_lands_when_first_seen():
    late = dict(joined="2026-10-08 23:45:00", first_seen="2026-10-09 23:30:00")
    for day, n in (("2026-10-08", 0), ("2026-10-09", 1)):
        out = run("GRP-03", day, members=members(stay("zhouyang", day=day, **late)), roster=roster(*HIRES),
                  calendar=CAL)
        assert out.height == n, day
    # with its add_member event, the join day itself
    add = events(event("2026-10-08 23:45:00", "update", "add_member", "zhouyang"))
    out = run("GRP-03", "2026-10-08", members=members(stay("zhouyang", day="2026-10-08", **late)), events=add,
              roster=roster(*HIRES), calendar=CAL)
    assert subjects(out) == [f"{G}/zhouyang"]
