"""GRP-06 the group's owner is an active employee; one finding per episode, on the first day a
snapshot shows the owner inactive."""

from .grp_frames import G, run, snap, snapshots, subjects, evidence


def judge(day, *rows):
    return run("GRP-06", day, snapshots=snapshots(*rows))


def nights(*owners_by_day):
    """Snapshots of G: (day, owner) pairs, taken at 23:30."""
    return [snap(G, f"{d} 23:30:00", owner) for d, owner in owners_by_day]


def test_owner_left_without_handing_over():
    out = judge("2026-10-15", snap(G, "2026-10-14 23:30:00", "wuxue"), snap(G, "2026-10-15 23:30:00", "wuxue"))
    assert subjects(out) == [G] and out["employee_id"][0] == "E0051"
    assert evidence(out)["status"] == "已于 2026-10-14 离职"
    assert judge("2026-10-14", snap(G, "2026-10-14 23:30:00", "wuxue")).height == 0  # still active on the leave day
    # the next day the previous snapshot shows the same inactive owner: not reported again
    assert judge("2026-10-16", *nights(("2026-10-15", "wuxue"), ("2026-10-16", "wuxue"))).height == 0


def test_handed_over_in_time():
    assert judge("2026-10-15", *nights(("2026-10-14", "wuxue"), ("2026-10-15", "chenjing"))).height == 0


def test_owner_not_on_the_roster_and_a_new_inactive_owner():
    out = judge("2026-10-15", snap(G, "2026-10-15 23:30:00", "wmStranger01"))
    assert evidence(out)["status"] == "非在册员工" and out["employee_id"][0] is None
    out = judge("2026-10-16", snap(G, "2026-10-15 23:30:00", "wuxue"), snap(G, "2026-10-16 23:30:00", "songjiayi"))
    assert subjects(out) == [G]  # another inactive owner: a new episode


def test_missed_snapshot_night():
    # no snapshot on 10-15: nothing seen that day; 10-16's snapshot shows it first
    assert judge("2026-10-15", snap(G, "2026-10-14 23:30:00", "wuxue")).height == 0
    assert judge("2026-10-16", *nights(("2026-10-14", "wuxue"), ("2026-10-16", "wuxue"))).height == 1
