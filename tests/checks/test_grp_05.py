"""GRP-05 every group seen in a snapshot or in chat is registered no later than the day it is first
seen; reported once, on that day."""

from .grp_frames import G, reg, registry, run, sighting, sightings, subjects, evidence

NEW = "wrBadminton000000000000AAAA"
LATE = "wrOgQhDgAAgrplate00000000AAAA"


def judge(day, *rows, groups=None):
    return run("GRP-05", day, sightings=sightings(*rows), group_registry=registry() if groups is None else groups)


def test_unregistered_group_first_seen_in_chat():
    out = judge("2026-10-10", sighting(NEW, "2026-10-10 10:06:56", seen_in="chat", name="周末羽毛球群"))
    assert subjects(out) == [NEW] and out["group_id"][0] == NEW
    ev = evidence(out)
    assert ev == {"first_seen_at": "2026-10-10 10:06:56", "seen_in": "chat", "group_name": "周末羽毛球群",
                  "registered": False, "registered_on": None}


def test_registered_after_first_seen():
    groups = registry(reg(LATE, "双十一备战群", "special", registered_on="2026-10-14"))
    out = judge("2026-10-12", sighting(LATE, "2026-10-12 23:30:00"), groups=groups)
    assert evidence(out)["registered_on"] == "2026-10-14" and "晚于" in out["summary"][0]
    same_day = registry(reg(LATE, "双十一备战群", "special", registered_on="2026-10-12"))
    assert judge("2026-10-12", sighting(LATE, "2026-10-12 23:30:00"), groups=same_day).height == 0


def test_only_on_the_day_first_seen():
    assert judge("2026-10-11", sighting(NEW, "2026-10-10 10:06:56", seen_in="chat")).height == 0
    assert judge("2026-10-11", sighting(G, "2026-10-11 23:30:00")).height == 0  # registered
