"""GRP-04 no outsiders in groups that do not allow externals, reported on the day the stay is first
evidenced (its add_member event or the first snapshot showing it)."""

from .grp_frames import G, OPEN, event, events, members, run, stay, subjects, evidence

DAY = "2026-10-13"


def judge(*rows, evs=(), day=DAY):
    return run("GRP-04", day, members=members(*rows), events=events(*evs))


def test_external_contact_added_today():
    s = stay("wmCustomer01", day=DAY, joined="2026-10-13 10:02:00", member_type=2, first_seen="2026-10-13 23:30:00")
    out = judge(s, evs=[event("2026-10-13 10:02:00", "update", "add_member", "wmCustomer01")])
    assert subjects(out) == [f"{G}/wmCustomer01"]
    ev = evidence(out)
    assert ev["member_type"] == 2 and ev["first_evidence_at"] == "2026-10-13 10:02:00" and not ev["in_roster"]


def test_account_missing_from_the_roster():
    s = stay("zhangming_temp", day=DAY, joined="2026-10-13 10:02:00", first_seen="2026-10-13 23:30:00")
    out = judge(s)
    assert subjects(out) == [f"{G}/zhangming_temp"] and "非在册人员" in out["summary"][0]


def test_not_an_outsider_or_externals_allowed():
    assert judge(stay("zhangwei", day=DAY, first_seen="2026-10-13 23:30:00")).height == 0
    s = stay("wmCustomer01", day=DAY, member_type=2, group=OPEN, first_seen="2026-10-13 23:30:00")
    assert judge(s).height == 0


def test_once_per_stay_on_its_first_evidence():
    known = stay("wmCustomer01", day=DAY, member_type=2, first_seen="2026-10-12 23:30:00")
    assert judge(known).height == 0  # the previous snapshot showed it already
    # already there when monitoring began: the first snapshot is the evidence
    assert judge(stay("wmCustomer01", day=DAY, member_type=2, first_seen="2026-10-13 23:30:00")).height == 1
    # added at 23:50 the evening before: reported that evening's day, not again today
    late = stay("wmCustomer01", day=DAY, joined="2026-10-12 23:50:00", member_type=2, first_seen="2026-10-13 23:30:00")
    add = event("2026-10-12 23:50:00", "update", "add_member", "wmCustomer01")
    assert judge(late, evs=[add]).height == 0
    assert judge({**late, "day": late["day"].replace(day=12)}, evs=[add], day="2026-10-12").height == 1
    # the add event was lost: the first snapshot showing the stay is today's
    assert judge(late).height == 1
