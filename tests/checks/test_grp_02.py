"""GRP-02 departed members out within 48 hours of the end of the leave day; the finding lands on the
day that holds the first moment after the deadline."""

from .grp_frames import G, members, run, sighting, sightings, stay, subjects, evidence

LEFT = "2026-09-25"  # songjiayi's leave day: deadline 2026-09-27 23:59:59, breach day 2026-09-28


def judge(day, *rows, **frames):
    return run("GRP-02", day, members=members(*rows), **frames)


def test_removed_47_hours_after_the_leave_day_is_in_time():
    s = stay("songjiayi", day="2026-09-27", left="2026-09-27 23:00:00")
    for day in ("2026-09-27", "2026-09-28"):
        assert judge(day, s).height == 0


def test_removed_late_lands_on_the_day_after_the_deadline_only():
    s = stay("songjiayi", day="2026-09-28", left="2026-09-28 01:00:00")
    out = judge("2026-09-28", s)
    assert subjects(out) == [f"{G}/songjiayi"] and out["employee_id"][0] == "E0024"
    ev = evidence(out)
    assert ev["deadline"] == "2026-09-27 23:59:59" and ev["hours_after_leave_day"] == 49.0
    assert ev["leave_date"] == LEFT and not ev["carried_in"]
    assert judge("2026-09-27", s).height == 0 and judge("2026-09-29", s).height == 0


def test_still_present():
    out = judge("2026-09-28", stay("songjiayi", day="2026-09-28"))
    assert evidence(out)["left_at"] is None and "仍在群中" in out["summary"][0]


def test_absent_from_the_first_snapshot_after_the_deadline_counts_as_out():
    # 会话存档 groups have no events: the member was last seen before the deadline
    gone = stay("songjiayi", day="2026-09-28", left="2026-09-28 23:35:00", left_source="snapshot",
                last_seen="2026-09-27 23:35:00")
    assert judge("2026-09-28", gone).height == 0
    seen_after = stay("songjiayi", day="2026-09-28", left="2026-09-29 23:35:00", left_source="snapshot",
                      last_seen="2026-09-28 23:35:00")
    assert judge("2026-09-28", seen_after).height == 1


def test_active_members_and_later_joins_are_not_judged():
    assert judge("2026-09-28", stay("zhangwei", day="2026-09-28")).height == 0
    assert judge("2026-09-28", stay("songjiayi", day="2026-09-28", joined="2026-09-28 10:00:00")).height == 0


def test_departed_before_monitoring_began_lands_on_the_first_snapshot_day():
    old = stay("songjiayi", day="2026-10-20", first_seen="2026-10-20 23:30:00")
    first = sightings(sighting(G, "2026-10-20 23:30:00", first_snapshot="2026-10-20 23:30:00"))
    out = judge("2026-10-20", old, sightings=first)
    assert subjects(out) == [f"{G}/songjiayi"] and evidence(out)["carried_in"]
    later = sightings(sighting(G, "2026-10-20 23:30:00", first_snapshot="2026-10-19 23:30:00"))
    assert judge("2026-10-20", old, sightings=later).height == 0


def test_hours_come_from_the_policy():
    from .grp_frames import POLICY

    p = POLICY.params("GRP-02").model_copy(update={"removal_hours": 24})
    s = stay("songjiayi", day="2026-09-27", left="2026-09-27 01:00:00")
    assert run("GRP-02", "2026-09-27", members=members(s), params=p).height == 1
